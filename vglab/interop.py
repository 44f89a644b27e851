"""Copy networks between vglab and PyTorch, weights included.

    tm = vg.interop.to_torch(model)        # a torch.nn.Module with the same weights
    model = vg.interop.from_torch(tm)      # and back (float64 NumPy by default)

Supported: Sequential, Linear, Flatten, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU (its slopes
copied), ELU, GELU, Softplus (hyper-parameters copied). Anything else raises a
``TypeError`` naming the module type, so nothing is skipped silently.
"""

from __future__ import annotations

import numpy as np

from . import backend, nn

__all__ = ["to_torch", "from_torch"]

_SIMPLE = ("Sigmoid", "Tanh", "ReLU")
#: Parameter-free activations and the hyper-parameters that travel with them (same names in torch).
_HYPER = {"LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "GELU": ("approximate",),
          "Softplus": ("beta", "threshold")}


def to_torch(module: nn.Module, dtype=None):
    """A ``torch.nn.Module`` equal to ``module``, with copies of its weights (CPU; in the module's dtype
    unless ``dtype`` is given, the default dtype for a module without parameters)."""
    torch = backend._torch()
    if dtype is None:
        first = next(iter(module.parameters()), None)
        dtype = backend.get_default_dtype() if first is None else first.dtype
    dtype = getattr(torch, backend.dtype_name(dtype))
    name = type(module).__name__
    if isinstance(module, nn.Sequential):
        return torch.nn.Sequential(*[to_torch(m, dtype) for m in module])
    if isinstance(module, nn.Linear):
        out = torch.nn.Linear(module.in_features, module.out_features, bias=module.bias is not None, dtype=dtype)
        with torch.no_grad():
            out.weight.copy_(torch.as_tensor(backend.to_numpy(module.weight.data)))
            if module.bias is not None:
                out.bias.copy_(torch.as_tensor(backend.to_numpy(module.bias.data)))
        return out
    if isinstance(module, nn.Flatten):
        return torch.nn.Flatten(module.start_dim, module.end_dim)
    if isinstance(module, nn.PReLU):
        out = torch.nn.PReLU(module.num_parameters, dtype=dtype)
        with torch.no_grad():
            out.weight.copy_(torch.as_tensor(backend.to_numpy(module.weight.data)))
        return out
    if name in _SIMPLE + tuple(_HYPER) and type(module).__module__.startswith("vglab"):
        return getattr(torch.nn, name)(**{k: getattr(module, k) for k in _HYPER.get(name, ())})
    raise TypeError(f"to_torch does not support {name} modules yet")


def from_torch(module):
    """A vglab module equal to the ``torch.nn.Module`` ``module``, weights copied to the current backend.

    It draws nothing from vglab's generator: the constructors' random initial weights are overwritten,
    so the generator's state is put back as it was.
    """
    state = backend.rng().bit_generator.state
    try:
        return _from_torch(module)
    finally:
        backend.rng().bit_generator.state = state


def _from_torch(module):
    torch = backend._torch()
    name = type(module).__name__
    if isinstance(module, torch.nn.Sequential):
        return nn.Sequential(*[from_torch(m) for m in module])
    if isinstance(module, torch.nn.Linear):
        out = nn.Linear(module.in_features, module.out_features, bias=module.bias is not None)
        out.weight.data = backend.asarray(module.weight.detach().cpu().numpy().astype(np.float64))
        if module.bias is not None:
            out.bias.data = backend.asarray(module.bias.detach().cpu().numpy().astype(np.float64))
        return out
    if isinstance(module, torch.nn.Flatten):
        return nn.Flatten(module.start_dim, module.end_dim)
    if isinstance(module, torch.nn.PReLU):
        out = nn.PReLU(module.num_parameters)
        out.weight.data = backend.asarray(module.weight.detach().cpu().numpy().astype(np.float64))
        return out
    if name in _SIMPLE + tuple(_HYPER) and isinstance(module, getattr(torch.nn, name)):
        return getattr(nn, name)(**{k: getattr(module, k) for k in _HYPER.get(name, ())})
    raise TypeError(f"from_torch does not support torch.nn.{name} modules yet")
