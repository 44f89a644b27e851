"""Copy networks between vglab and PyTorch, weights included.

    tm = vg.interop.to_torch(model)        # a torch.nn.Module with the same weights
    model = vg.interop.from_torch(tm)      # and back (float64 NumPy by default)

Supported: Sequential, Linear, Flatten, Sigmoid, Tanh, ReLU, LeakyReLU, PReLU (its slopes
copied), ELU, GELU, Softplus (hyper-parameters copied); Conv2d, BatchNorm1d, BatchNorm2d
(state_dict copied, running statistics included), MaxPool2d, AvgPool2d, AdaptiveAvgPool2d,
RNN, LSTM, GRU and their cells (weights copied by name);
Residual, whose torch twin is ``TorchResidual`` below. Anything else raises a
``TypeError`` naming the module type, so nothing is skipped silently.
"""

from __future__ import annotations

import functools

import numpy as np

from . import backend, nn

__all__ = ["to_torch", "from_torch"]

_SIMPLE = ("Sigmoid", "Tanh", "ReLU")
#: Parameter-free activations and the hyper-parameters that travel with them (same names in torch).
_HYPER = {"LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "GELU": ("approximate",),
          "Softplus": ("beta", "threshold")}
_BN = ("num_features", "eps", "momentum", "affine", "track_running_stats")
#: Layers rebuilt from these hyper-parameters (same names in torch), then their state_dict copied.
_LAYERS = {"Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                      "padding_mode"),
           "BatchNorm1d": _BN, "BatchNorm2d": _BN,
           "MaxPool2d": ("kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"),
           "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
           "AdaptiveAvgPool2d": ("output_size",)}
_RNN = ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional")
_LAYERS.update({"RNN": _RNN + ("nonlinearity",), "LSTM": _RNN + ("proj_size",), "GRU": _RNN,
                "RNNCell": ("input_size", "hidden_size", "bias", "nonlinearity"),
                "LSTMCell": ("input_size", "hidden_size", "bias"), "GRUCell": ("input_size", "hidden_size", "bias")})


def _layer_args(module, name) -> dict:
    args = {k: getattr(module, k) for k in _LAYERS[name]}
    if name == "Conv2d":
        args["bias"] = module.bias is not None
    elif name.startswith("BatchNorm") and module.affine and module.bias is None:
        args["bias"] = False
    return args


@functools.cache
def torch_residual():
    """``TorchResidual(block, shortcut=None)``: $y = x + F(x)$ (or $S(x) + F(x)$) as a torch.nn.Module."""
    torch = backend._torch()

    class TorchResidual(torch.nn.Module):
        def __init__(self, block, shortcut=None):
            super().__init__()
            self.block, self.shortcut = block, shortcut

        def forward(self, x):
            return (x if self.shortcut is None else self.shortcut(x)) + self.block(x)
    return TorchResidual


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
    if name in _LAYERS and type(module).__module__.startswith("vglab"):
        out = getattr(torch.nn, name)(**_layer_args(module, name)).to(dtype)  # num_batches_tracked stays int64
        out.load_state_dict({k: torch.as_tensor(backend.to_numpy(v)) for k, v in module.state_dict().items()})
        return out
    if isinstance(module, nn.Residual):
        shortcut = None if module.shortcut is None else to_torch(module.shortcut, dtype)
        return torch_residual()(to_torch(module.block, dtype), shortcut)
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
    if name in _LAYERS and isinstance(module, getattr(torch.nn, name)):
        out = getattr(nn, name)(**_layer_args(module, name))
        out.load_state_dict(module.state_dict())
        return out
    if isinstance(module, torch_residual()):
        return nn.Residual(from_torch(module.block), None if module.shortcut is None else from_torch(module.shortcut))
    raise TypeError(f"from_torch does not support torch.nn.{name} modules yet")
