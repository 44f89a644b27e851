r"""Weight initialisation, with ``torch.nn.init``'s names, fan computation and distributions.

The aim of every scheme is to keep the scale of the signal constant from layer to
layer, forward and backward. For a layer $z = W a$ with $n$ inputs, independent
zero-mean weights and inputs independent of the weights,
$\mathrm{Var}(z) = n\,\mathrm{Var}(w)\,\mathbb{E}[a^2]$ (He et al. 2015, eq. 7), so

* Xavier/Glorot (Glorot & Bengio 2010): $\mathrm{Var}(w) = \mathrm{gain}^2 \cdot 2/(n_\text{in} + n_\text{out})$;
* He/Kaiming (He et al. 2015): $\mathrm{Var}(w) = \mathrm{gain}^2 / n_\text{fan}$, gain $\sqrt 2$ for ReLU;
* orthogonal (Saxe et al. 2014): $W$ with orthonormal rows or columns, times a gain.

Every function fills its argument *in place* (a ``Parameter``'s ``.data`` or a writable
array) from vglab's seeded generator and returns it.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from ._checks import check_number, check_choice

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_", "fan_in_and_fan_out"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The gain torch recommends for ``nonlinearity``: 1 (linear, conv*, sigmoid), 5/3 (tanh),
    $\\sqrt 2$ (relu), $\\sqrt{2/(1+a^2)}$ (leaky_relu, slope ``param``, default 0.01), 3/4 (selu)."""
    if nonlinearity in _LINEAR:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        check_number("calculate_gain", "param (negative slope)", slope)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    check_choice("calculate_gain", "nonlinearity", nonlinearity, _LINEAR + ("tanh", "relu", "leaky_relu", "selu"))


def fan_in_and_fan_out(shape) -> tuple[int, int]:
    """(fan_in, fan_out) as torch computes them: Linear (out, in) -> (in, out);
    Conv (C_out, C_in, kh, kw) -> (C_in*kh*kw, C_out*kh*kw)."""
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor with at least 2 dimensions, got shape {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fill(tensor, values: np.ndarray):
    """Write ``values`` into ``tensor`` (a Parameter or array) in place; return ``tensor``."""
    from .nn.module import Parameter
    target = tensor.data if isinstance(tensor, Parameter) else tensor
    new = backend.asarray(values, like=target, dtype=backend.dtype_name(target.dtype))
    if isinstance(tensor, Parameter):
        tensor.data = new
    elif backend.is_torch(target):
        target.copy_(new)
    else:
        target[...] = new
    return tensor


def _shape(tensor):
    return tuple(tensor.shape)


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with $U(a, b)$."""
    return _fill(tensor, backend.rng().uniform(a, b, size=_shape(tensor)))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with $N(\\text{mean}, \\text{std}^2)$."""
    check_number("normal_", "std", std, low=0)
    return _fill(tensor, backend.rng().normal(mean, std, size=_shape(tensor)))


def constant_(tensor, val: float):
    return _fill(tensor, np.full(_shape(tensor), float(val)))


def zeros_(tensor):
    return constant_(tensor, 0.0)


def ones_(tensor):
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor, gain: float = 1.0):
    """$U(-a, a)$ with $a = \\mathrm{gain}\\sqrt{6/(n_\\text{in}+n_\\text{out})}$ (Glorot & Bengio 2010)."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(tensor))
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a)


def xavier_normal_(tensor, gain: float = 1.0):
    """$N(0, \\sigma^2)$ with $\\sigma = \\mathrm{gain}\\sqrt{2/(n_\\text{in}+n_\\text{out})}$."""
    fan_in, fan_out = fan_in_and_fan_out(_shape(tensor))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(tensor, a, mode, nonlinearity, owner):
    check_choice(owner, "mode", mode, ("fan_in", "fan_out"))
    fan_in, fan_out = fan_in_and_fan_out(_shape(tensor))
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """$U(-b, b)$ with $b = \\sqrt 3\\,\\mathrm{gain}/\\sqrt{\\mathrm{fan}}$ (He et al. 2015)."""
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """$N(0, \\sigma^2)$ with $\\sigma = \\mathrm{gain}/\\sqrt{\\mathrm{fan}}$ (He et al. 2015)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_"))


def orthogonal_(tensor, gain: float = 1.0):
    """A (semi-)orthogonal matrix times ``gain`` (Saxe et al. 2014): QR of a Gaussian matrix,
    signs fixed by $\\mathrm{diag}(R)$ so the distribution is uniform (Haar)."""
    shape = _shape(tensor)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_ needs a tensor with at least 2 dimensions, got shape {shape}")
    rows, cols = shape[0], math.prod(shape[1:])
    flat = backend.rng().standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape))
