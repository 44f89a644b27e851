r"""The residual connection $y = x + F(x)$ of He et al. (2016), "Deep Residual Learning".

With a block $F$ and an optional shortcut $S$ (identity by default; a 1x1 convolution or a
linear map where the shapes change):

$$
y = S(x) + F(x), \qquad
\frac{\partial L}{\partial x} = \frac{\partial L}{\partial y}\,\frac{\partial S}{\partial x}
                              + \frac{\partial L}{\partial y}\,\frac{\partial F}{\partial x}.
$$

With the identity shortcut the first term is $\partial L/\partial y$ itself: every block
adds to the gradient instead of multiplying it, so a stack of residual blocks has a path on
which the gradient reaches the input unattenuated, however deep the stack.

Shapes: ``block(x)`` and ``shortcut(x)`` (or ``x``) must have the same shape, the output's.
"""

from __future__ import annotations

from typing import NamedTuple

from .._checks import check_array, fmt_shape
from .module import Module

__all__ = ["Residual"]


class _ResidualCache(NamedTuple):
    like: object  # the output, for checking grad_output


class Residual(Module):
    """``y = x + block(x)``, or ``shortcut(x) + block(x)``; backward adds the two paths' gradients."""

    def __init__(self, block: Module, shortcut: Module | None = None):
        super().__init__()
        for name, m in (("block", block), ("shortcut", shortcut)):
            if m is not None and not isinstance(m, Module):
                raise TypeError(f"Residual expected {name} to be a Module, got {type(m).__name__}")
        self.block = block
        self.shortcut = shortcut

    def forward(self, x):
        check_array("Residual", "x", x)
        fx = self.block(x)
        skip = x if self.shortcut is None else self.shortcut(x)
        if tuple(fx.shape) != tuple(skip.shape):
            which = "x" if self.shortcut is None else "shortcut(x)"
            raise ValueError(f"Residual expected block(x) of shape {fmt_shape(skip.shape)} (that of {which}), "
                             f"got {fmt_shape(fx.shape)}; give a shortcut that maps x to the block's shape")
        check_array("Residual", "block(x)", fx, dtype=skip.dtype)
        y = skip + fx
        self._cache = _ResidualCache(y)
        return y

    def backward(self, grad_output):
        self._check_grad(grad_output, self._cache.like)
        # the shortcut ran last, so it is differentiated first (a module shared by both paths
        # then pops its pending calls in the right order)
        skip = grad_output if self.shortcut is None else self.shortcut.backward(grad_output)
        return skip + self.block.backward(grad_output)
