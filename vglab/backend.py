r"""Where arrays live: the array namespace, default dtype, device and random numbers.

Everything in ``vglab`` computes with the namespace of its array arguments
(``xp = namespace(x, w)``), so the same code runs on NumPy arrays and on PyTorch
tensors (CPU or GPU) through `array-api-compat`. This module decides only where
*new* arrays go (parameters, data, random draws) and holds the few functions that
the array-API standard lacks (``erf``, gather-style indexing, ``to_numpy``).

The random number generator is one NumPy ``Generator``: draws are made in NumPy and
then moved, so ``manual_seed(0)`` gives the same weights on every backend.

Where new arrays go is a process-wide setting (``use``, ``set_default_dtype``) that a
``with using(...)`` block overrides in its own context only: the override lives in a
``contextvars.ContextVar``, so a ``using`` block in one thread (or asyncio task) never
changes what another sees. The process-wide part is a plain global on purpose: a
notebook's ``use("torch")`` must hold in its later cells and in helper threads, and
some kernels give each cell a fresh context (ipykernel 7.0 dropped ContextVar values
between cells).
"""

from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, replace

import numpy as np
import array_api_compat
from array_api_compat import array_namespace

__all__ = [
    "namespace", "use", "using", "current", "set_default_dtype", "get_default_dtype",
    "set_torch_device", "manual_seed", "rng", "asarray", "convert", "to_numpy", "erf", "pick", "one_hot", "is_torch", "device_of",
    "dtype_name", "randn", "uniform", "zeros", "ones",
]

_DTYPES = ("float64", "float32")


@dataclass(frozen=True)
class _State:
    name: str = "numpy"          # "numpy" or "torch"
    device: str | None = None    # torch only: "cpu", "cuda", "cuda:1", ...
    dtype: str = "float64"


_global = _State()   # set by use() / set_default_dtype() outside any using() block
_scoped: contextvars.ContextVar[_State | None] = contextvars.ContextVar("vglab_backend_state", default=None)
_rng = np.random.default_rng(0)


def _state() -> _State:
    """The settings in force here: the innermost ``using`` block's, else the process-wide ones."""
    scoped = _scoped.get()
    return _global if scoped is None else scoped


def _update(**changes) -> None:
    """Change the settings in force here: the ``using`` block's if inside one, else the process-wide ones."""
    global _global
    if _scoped.get() is None:
        _global = replace(_global, **changes)
    else:
        _scoped.set(replace(_scoped.get(), **changes))


# ----------------------------------------------------------------- namespaces

def namespace(*arrays):
    """The array namespace shared by ``arrays`` (Python scalars and None are ignored).

    Raises ``TypeError`` when NumPy arrays and torch tensors are mixed, naming both.
    """
    if len(arrays) == 1 and type(arrays[0]) is np.ndarray:  # the commonest call, answered first
        return _NUMPY_NAMESPACE
    arrays = [a for a in arrays if a is not None and not isinstance(a, (int, float, bool))]
    if not arrays:
        return _current_namespace()
    if all(type(a) is np.ndarray for a in arrays):  # the common case, answered without a lookup
        return _NUMPY_NAMESPACE
    kinds = {_kind(a) for a in arrays}
    if len(kinds) > 1:
        raise TypeError(
            f"arrays from different backends cannot be mixed: got {', '.join(sorted(kinds))}; "
            "move them to one backend first (Module.to(backend=...) or vglab.backend.asarray)")
    devices = {str(device_of(a)) for a in arrays}
    if len(devices) > 1:
        raise TypeError(f"arrays on different devices cannot be mixed: got {', '.join(sorted(devices))}")
    return array_namespace(*arrays)


_NUMPY_NAMESPACE = array_namespace(np.empty(0))


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
        raise ImportError("the torch backend needs PyTorch: pip install torch "
                          "(or, in a clone of vglab, pip install -e '.[torch]')") from err
    return torch


def _current_namespace():
    if _state().name == "torch":
        return array_namespace(_torch().empty(0))
    return _NUMPY_NAMESPACE


def current() -> tuple[str, str | None]:
    """The backend and device where new arrays go, e.g. ``("torch", "cuda")``."""
    state = _state()
    return state.name, state.device


def _checked_backend(name: str, device: str | None) -> None:
    if name not in ("numpy", "torch"):
        raise ValueError(f"backend must be 'numpy' or 'torch', got {name!r}")
    if name == "numpy" and device not in (None, "cpu"):
        raise ValueError(f"the numpy backend has only device 'cpu', got {device!r}")
    if name == "torch":
        _torch().empty(0, device=device)  # fails early and clearly for an unknown device


def use(name: str, device: str | None = None) -> None:
    """Send new arrays (parameters, data, random draws) to ``name`` ("numpy" or "torch").

    Process-wide (every thread sees it), except inside a ``using`` block, whose end undoes it.
    """
    _checked_backend(name, device)
    _update(name=name, device=device)


_torch_device = "cpu"   # where new torch tensors go when no device is named


def set_torch_device(device: str = "cpu") -> None:
    """The device of new torch tensors when none is named (``"cpu"`` until changed), e.g. ``"cuda"``.

    ``use("torch")`` and ``using("torch")`` without a device then mean that device. The test
    suite sets it to run every test on a GPU (``pytest --device cuda``).
    """
    global _torch_device
    if device != "cpu":
        _checked_backend("torch", device)   # an unknown or absent device fails here, clearly
    _torch_device = device


@contextlib.contextmanager
def using(name: str | None = None, device: str | None = None, dtype=None):
    """``with using("torch"): ...`` switches the backend (and, with ``dtype``, the default dtype)
    for this thread or task only, and restores the previous settings at the end, even on error.

    ``name=None`` keeps the current backend and device: ``using(dtype="float32")``.
    """
    state = _state()
    if name is None:
        name, device = state.name, (state.device if device is None else device)
    _checked_backend(name, device)
    token = _scoped.set(replace(state, name=name, device=device,
                                dtype=state.dtype if dtype is None else _checked_dtype(dtype)))
    try:
        yield
    finally:
        _scoped.reset(token)


# ----------------------------------------------------------------- dtypes

def _checked_dtype(dtype) -> str:
    name = dtype_name(dtype)
    if name not in _DTYPES:
        raise ValueError(f"default dtype must be one of {_DTYPES}, got {dtype!r}")
    return name


def set_default_dtype(dtype) -> None:
    """Default dtype of new arrays: "float64" (the default) or "float32".

    Process-wide, except inside a ``using`` block, whose end undoes it.
    """
    _update(dtype=_checked_dtype(dtype))


def get_default_dtype() -> str:
    return _state().dtype


def dtype_name(dtype) -> str:
    """The dtype's name: 'float64' for np.float64, torch.float64, np.dtype("float64"), "float64".

    Python's ``float`` and ``int`` read as NumPy reads them: 'float64' and 'int64'.
    """
    if isinstance(dtype, str):
        return dtype
    try:
        return _DTYPE_NAMES[dtype]                   # checks ask this thousands of times a second
    except (KeyError, TypeError):                    # TypeError: an unhashable dtype-like
        pass
    if type(dtype).__module__ == "torch":            # torch.float32 -> "float32"
        name = str(dtype).removeprefix("torch.")
    else:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return str(dtype)
    try:
        _DTYPE_NAMES[dtype] = name
    except TypeError:
        pass
    return name


_DTYPE_NAMES: dict = {}


def _dtype(xp, name: str | None):
    return getattr(xp, name or _state().dtype)


# ----------------------------------------------------------------- random numbers

def manual_seed(seed: int) -> np.random.Generator:
    """Reseed vglab's generator in place: the same seed gives the same weights on every backend.

    The generator object stays the same, so a ``g = rng()`` taken earlier keeps drawing the
    numbers vglab draws; its new state is that of ``np.random.default_rng(seed)``.
    """
    _rng.bit_generator.state = np.random.default_rng(seed).bit_generator.state
    return _rng


def rng() -> np.random.Generator:
    """vglab's one NumPy generator (the same object for the whole session)."""
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
        name, device = current()
    if not (isinstance(x, np.ndarray) or is_torch(x)):
        x = np.asarray(x)
    if "float" in dtype_name(x.dtype):
        dtype = dtype or get_default_dtype()
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
            device = x.device if is_torch(x) else _torch_device
        t = x.detach() if is_torch(x) else torch.as_tensor(np.asarray(x))
        return t.to(device=device, dtype=getattr(torch, target) if target else None, copy=False)
    a = to_numpy(x)
    return a.astype(target, copy=False) if target else a


def to_numpy(x) -> np.ndarray:
    """``x`` as a NumPy array, copying only what must be copied.

    A NumPy array is returned as it is (the same object); anything else ``np.asarray`` takes
    becomes an array. A torch tensor is detached and, on a GPU, copied to the CPU; a CPU
    tensor *shares memory* with the array returned, so writing to one changes the other
    (``to_numpy(t).copy()`` for an independent array).
    """
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
    """Zeros of ``shape`` on the current backend in the default dtype, or with ``like``'s backend,
    device and dtype."""
    return asarray(np.zeros(shape), dtype=None if like is None else like.dtype, like=like)


def ones(*shape, like=None):
    """Ones of ``shape``, placed as ``zeros`` places them."""
    return asarray(np.ones(shape), dtype=None if like is None else like.dtype, like=like)


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
