r"""The fully connected layer $y = x W^\top + b$, PyTorch's ``nn.Linear``.

Shapes: ``weight`` (out_features, in_features), ``bias`` (out_features,), input
``(*, in_features)`` with any leading dimensions, output ``(*, out_features)``.

Backward, with $\delta = \partial L/\partial y$ flattened to (M, out):
$\partial L/\partial W = \delta^\top x$, $\partial L/\partial b = \sum_m \delta_m$,
$\partial L/\partial x = \delta W$.

Default initialisation as torch's: $W, b \sim U(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})$
(``kaiming_uniform_(a=sqrt(5))`` for the weight).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import backend, init
from .._checks import _check_shape, alike, check_array, check_number, same_backend
from .module import Module, Parameter

__all__ = ["Linear", "Flatten", "check_input"]


def check_input(module: Module, name: str, x, shape=None, ndim=None):
    """Check a module's input against its parameters: shape, dtype, backend and device."""
    owner = type(module).__name__
    for p in module._parameters.values():  # the module's first parameter (a loop: this runs every call)
        if p is not None:
            break
    else:
        return check_array(owner, name, x, shape=shape, ndim=ndim)
    w = p.data
    if ndim is None and type(x) is type(w) and alike(x, w, shape=x.shape):  # fast path: an array like the parameters
        if shape is not None:
            _check_shape(owner, name, tuple(x.shape), tuple(shape))
        return x
    check_array(owner, name, x, shape=shape, ndim=ndim)  # the full checks, with their messages
    if not alike(x, w, shape=x.shape):
        same_backend(owner, **{name: x, "parameters": w})
        check_array(owner, name, x, dtype=w.dtype, dtype_source="the parameters' dtype")
    return x


class _LinearCache(NamedTuple):
    x: object  # (*, in)


class Linear(Module):
    """Fully connected layer with torch's names, shapes and default initialisation."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        check_number("Linear", "in_features", in_features, low=1, integer=True)
        check_number("Linear", "out_features", out_features, low=1, integer=True)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(backend.zeros(out_features, in_features))    # (out, in)
        self.bias = Parameter(backend.zeros(out_features)) if bias else None  # (out,)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        check_input(self, "x", x, shape=("*", self.in_features))
        self._cache = _LinearCache(x)
        y = x @ self.weight.data.T                          # (*, out), a new array we own
        if self.bias is not None:
            y += self.bias.data                             # in place: no second (*, out) array
        return y

    def backward(self, grad_output):
        x = self._cache.x
        self._check_grad(grad_output, x, shape=tuple(x.shape[:-1]) + (self.out_features,), like_name="x")
        dy = grad_output.reshape(-1, self.out_features)      # (M, out)
        self.weight.accumulate(dy.T @ x.reshape(-1, self.in_features))  # (out, in)
        if self.bias is not None:
            self.bias.accumulate(dy.sum(axis=0))              # (out,)
        return grad_output @ self.weight.data                 # (*, in)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class _FlattenCache(NamedTuple):
    shape: tuple      # the input's shape
    out_shape: tuple  # the output's shape


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` into one, like ``torch.nn.Flatten`` (default 1..-1)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        check_array("Flatten", "x", x)
        shape = tuple(x.shape)
        start = self.start_dim % len(shape)
        end = self.end_dim % len(shape)
        y = x.reshape(shape[:start] + (-1,) + shape[end + 1:])
        self._cache = _FlattenCache(shape, tuple(y.shape))
        return y

    def backward(self, grad_output):
        check_array("Flatten.backward", "grad_output", grad_output, shape=self._cache.out_shape)
        return grad_output.reshape(self._cache.shape)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
