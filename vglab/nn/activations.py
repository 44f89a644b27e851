r"""Elementwise activations $a = f(z)$ and their derivatives; backward is $\delta_z = \delta_a \odot f'(z)$.

| module | $f(z)$ | $f'(z)$ | $\max f'$ |
| --- | --- | --- | --- |
| ``Sigmoid`` | $\sigma(z) = 1/(1+e^{-z})$ | $\sigma(z)(1-\sigma(z))$ | 1/4 at 0 |
| ``Tanh`` | $\tanh z$ | $1 - \tanh^2 z$ | 1 at 0 |
| ``ReLU`` | $\max(0, z)$ | 1 if $z > 0$ else 0 (0 at $z = 0$, as torch) | 1 |

Only the sigmoid's and tanh's derivatives are below 1 almost everywhere: a chain of
them shrinks the backward signal (Hochreiter 1991; Glorot & Bengio 2010).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import backend
from .._checks import check_array
from .module import Module

__all__ = ["Sigmoid", "Tanh", "ReLU", "sigmoid"]


def sigmoid(z):
    """$1/(1+e^{-z})$ without overflow for large $|z|$: uses $e^{-|z|} \\le 1$ only."""
    xp = backend.namespace(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


class _OutputCache(NamedTuple):
    out: object   # f(z), from which f'(z) follows


class _InputCache(NamedTuple):
    z: object


class Sigmoid(Module):
    """$\\sigma(z) = 1/(1+e^{-z})$; $\\sigma' = \\sigma(1-\\sigma) \\le 1/4$."""

    def forward(self, z):
        check_array("Sigmoid", "z", z)
        out = sigmoid(z)
        self._cache = _OutputCache(out)
        return out

    def backward(self, grad_output):
        s = self._cache.out
        self._check_grad(grad_output, s)
        return grad_output * s * (1 - s)


class Tanh(Module):
    """$\\tanh z$; $\\tanh' = 1 - \\tanh^2 \\le 1$."""

    def forward(self, z):
        check_array("Tanh", "z", z)
        out = backend.namespace(z).tanh(z)
        self._cache = _OutputCache(out)
        return out

    def backward(self, grad_output):
        t = self._cache.out
        self._check_grad(grad_output, t)
        return grad_output * (1 - t * t)


class ReLU(Module):
    """$\\max(0, z)$; derivative 1 where $z > 0$, else 0 (torch's choice at exactly 0)."""

    def forward(self, z):
        check_array("ReLU", "z", z)
        xp = backend.namespace(z)
        self._cache = _InputCache(z)
        return xp.where(z > 0, z, xp.zeros_like(z))

    def backward(self, grad_output):
        self._check_grad(grad_output, self._cache.z)
        xp = backend.namespace(grad_output)
        return xp.where(self._cache.z > 0, grad_output, xp.zeros_like(grad_output))
