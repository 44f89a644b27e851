r"""Where arrays live: the array namespace, default dtype, device and random numbers.

Everything in ``vglab`` computes with the namespace of its array arguments
(``xp = namespace(x, w)``), so the same code runs on NumPy arrays and on PyTorch
tensors (CPU or GPU) through `array-api-compat`. This module decides only where
*new* arrays go (parameters, data, random draws) and holds the few functions that
the array-API standard lacks (``erf``, gather-style indexing, ``to_numpy``).

The random number generator is one NumPy ``Generator``: draws are made in NumPy and
then moved, so ``manual_seed(0)`` gives the same weights on every backend.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import array_api_compat
from array_api_compat import array_namespace

__all__ = [
    "namespace", "use", "using", "current", "set_default_dtype", "get_default_dtype",
    "manual_seed", "rng", "asarray", "convert", "to_numpy", "erf", "pick", "one_hot", "is_torch", "device_of",
    "dtype_name", "randn", "uniform", "zeros", "ones",
]

_DTYPES = ("float64", "float32")


@dataclass
class _State:
    name: str = "numpy"          # "numpy" or "torch"
    device: str | None = None    # torch only: "cpu", "cuda", "cuda:1", ...
    dtype: str = "float64"


_state = _State()
_rng = np.random.default_rng(0)


# ----------------------------------------------------------------- namespaces

def namespace(*arrays):
    """The array namespace shared by ``arrays`` (Python scalars and None are ignored).

    Raises ``TypeError`` when NumPy arrays and torch tensors are mixed, naming both.
    """
    arrays = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if not arrays:
        return _current_namespace()
    kinds = {_kind(a) for a in arrays}
    if len(kinds) > 1:
        raise TypeError(
            f"arrays from different backends cannot be mixed: got {', '.join(sorted(kinds))}; "
            "move them to one backend first (Module.to(backend=...) or vglab.backend.asarray)")
    devices = {str(device_of(a)) for a in arrays}
    if len(devices) > 1:
        raise TypeError(f"arrays on different devices cannot be mixed: got {', '.join(sorted(devices))}")
    return array_namespace(*arrays)


def _kind(a) -> str:
    if isinstance(a, np.ndarray) or np.isscalar(a) or isinstance(a, np.generic):
        return "numpy"
    if is_torch(a):
        return "torch"
    raise TypeError(f"expected a NumPy array or a torch tensor, got {type(a).__name__}")


def is_torch(a) -> bool:
    """True for a torch tensor (without importing torch when it is not installed)."""
    return type(a).__module__.startswith("torch") and array_api_compat.is_torch_array(a)


def device_of(a):
    return a.device if is_torch(a) else "cpu"


def _torch():
    """The torch module, or an ImportError that says how to install it."""
    try:
        import torch
    except ImportError as err:
        raise ImportError("the torch backend needs PyTorch: pip install 'vglab[torch]'") from err
    return torch


def _current_namespace():
    if _state.name == "torch":
        return array_namespace(_torch().empty(0))
    return array_namespace(np.empty(0))


def current() -> tuple[str, str | None]:
    """The backend and device where new arrays go, e.g. ``("torch", "cuda")``."""
    return _state.name, _state.device


def use(name: str, device: str | None = None) -> None:
    """Send new arrays (parameters, data, random draws) to ``name`` ("numpy" or "torch")."""
    if name not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {name!r}")
    if name == "numpy" and device not in (None, "cpu"):
        raise ValueError(f"the numpy backend has only device 'cpu', got {device!r}")
    if name == "torch":
        _torch().empty(0, device=device)  # fails early and clearly for an unknown device
    _state.name, _state.device = name, device


@contextlib.contextmanager
def using(name: str, device: str | None = None):
    """``with using("torch"): ...`` switches the backend and restores the previous one."""
    saved = (_state.name, _state.device)
    use(name, device)
    try:
        yield
    finally:
        _state.name, _state.device = saved


# ----------------------------------------------------------------- dtypes

def set_default_dtype(dtype) -> None:
    """Default dtype of new arrays: "float64" (the default) or "float32"."""
    name = dtype_name(dtype)
    if name not in _DTYPES:
        raise ValueError(f"default dtype must be one of {_DTYPES}, got {dtype!r}")
    _state.dtype = name


def get_default_dtype() -> str:
    return _state.dtype


def dtype_name(dtype) -> str:
    """'float64' for np.float64, torch.float64, 'float64', ..."""
    if isinstance(dtype, str):
        return dtype
    return str(dtype).replace("torch.", "").replace("<class 'numpy.", "").rstrip("'>")


def _dtype(xp, name: str | None):
    return getattr(xp, name or _state.dtype)


# ----------------------------------------------------------------- random numbers

def manual_seed(seed: int) -> np.random.Generator:
    """Reseed vglab's generator: the same seed gives the same weights on every backend."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def rng() -> np.random.Generator:
    return _rng


# ----------------------------------------------------------------- creating and converting

def asarray(x, dtype: str | None = None, like=None):
    """``x`` as an array of the current backend (or of ``like``'s backend and device).

    Floating data get ``dtype`` (default: the default dtype); integer data stay integer
    unless a ``dtype`` is given.
    """
    if like is not None:
        name, device = _kind(like), str(device_of(like))
    else:
        name, device = _state.name, _state.device
    if not (isinstance(x, np.ndarray) or is_torch(x)):
        x = np.asarray(x)
    if "float" in dtype_name(x.dtype):
        dtype = dtype or _state.dtype
    elif dtype is not None:
        x = to_numpy(x).astype(dtype_name(dtype))
    return convert(x, name, device, dtype)


def convert(x, name: str | None = None, device: str | None = None, dtype=None):
    """``x`` moved to backend ``name`` (default: its own), ``device`` and float ``dtype``.

    Torch tensors keep their device unless one is given; new tensors go to the CPU.
    Integer arrays stay integer whatever ``dtype`` says.
    """
    name = name or _kind(x)
    if name not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {name!r}")
    if name == "numpy" and device not in (None, "cpu"):
        raise ValueError(f"the numpy backend has only device 'cpu', got {device!r}")
    is_float = "float" in dtype_name(x.dtype)
    target = (dtype_name(dtype) if dtype is not None else dtype_name(x.dtype)) if is_float else None
    if name == "torch":
        torch = _torch()
        if device is None:
            device = x.device if is_torch(x) else "cpu"
        t = x.detach() if is_torch(x) else torch.as_tensor(np.asarray(x))
        return t.to(device=device, dtype=getattr(torch, target) if target else None, copy=False)
    a = to_numpy(x)
    return a.astype(target, copy=False) if target else a


def to_numpy(x) -> np.ndarray:
    """A NumPy copy (torch) or view (NumPy) of ``x``."""
    if is_torch(x):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def randn(*shape, scale: float = 1.0):
    """Normal draws N(0, scale^2) from vglab's generator, on the current backend."""
    return asarray(scale * _rng.standard_normal(shape))


def uniform(*shape, low: float = 0.0, high: float = 1.0):
    """Uniform draws U(low, high) from vglab's generator, on the current backend."""
    return asarray(_rng.uniform(low, high, size=shape))


def zeros(*shape, like=None):
    return asarray(np.zeros(shape), like=like)


def ones(*shape, like=None):
    return asarray(np.ones(shape), like=like)


# ----------------------------------------------------------------- beyond the standard

def erf(x):
    """The error function, elementwise (scipy.special.erf or torch.special.erf)."""
    if is_torch(x):
        import torch
        return torch.special.erf(x)
    from scipy.special import erf as _erf
    return _erf(x)


def one_hot(index, num_classes: int, like):
    """(N,) integer class indices -> (N, C) one-hot rows with ``like``'s dtype and device."""
    xp = namespace(like)
    classes = xp.arange(num_classes, device=device_of(like))
    return xp.astype(index[:, None] == classes[None, :], like.dtype)


def pick(x, index):
    """``x[n, index[n]]`` for every row n: x (N, C), index (N,) integers -> (N,)."""
    rows = namespace(x).arange(x.shape[0], device=device_of(x))
    return x[rows, index]
