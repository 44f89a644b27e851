r"""Elementwise activations $a = f(z)$ and their derivatives; backward is $\delta_z = \delta_a \odot f'(z)$.

| module | $f(z)$ | $f'(z)$ | $\max f'$ |
| --- | --- | --- | --- |
| ``Sigmoid`` | $\sigma(z) = 1/(1+e^{-z})$ | $\sigma(z)(1-\sigma(z))$ | 1/4 at 0 |
| ``Tanh`` | $\tanh z$ | $1 - \tanh^2 z$ | 1 at 0 |
| ``ReLU`` | $\max(0, z)$ | 1 if $z > 0$ else 0 (0 at $z = 0$, as torch) | 1 |
| ``ELU`` | $z$ if $z > 0$ else $\alpha(e^z - 1)$ | 1 if $z > 0$ else $\alpha e^z$ ($\alpha$ at 0) | $\max(1, \alpha)$ |
| ``GELU`` | $z\,\Phi(z)$ | $\Phi(z) + z\,\varphi(z)$ (1/2 at 0) | about 1.13 at $z = \sqrt 2$ |
| ``Softplus`` | $\frac1\beta \ln(1 + e^{\beta z})$ | $\sigma(\beta z)$ | 1 |

``LeakyReLU`` and ``PReLU`` (a fixed or learned slope for $z \le 0$) are in ``rectifiers``.
Only the sigmoid's and tanh's derivatives are below 1 almost everywhere: a chain of
them shrinks the backward signal (Hochreiter 1991; Glorot & Bengio 2010).
Every formula here is evaluated without overflow for any finite $z$.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_array, check_choice, check_number
from .module import Module

__all__ = ["Sigmoid", "Tanh", "ReLU", "ELU", "GELU", "Softplus", "sigmoid"]


def sigmoid(z):
    """$1/(1+e^{-z})$ as torch computes it, in four passes over memory.

    For $z$ below about $-88$ (float32) or $-709$ (float64) $e^{-z}$ overflows to infinity and
    the result is $1/(1+\\infty) = 0$, as torch's (the true value is at most a subnormal
    number there): the overflow is expected, so it is not reported.
    """
    xp = backend.namespace(z)
    with np.errstate(over="ignore"):
        e = xp.exp(-z)           # a new array we own: the rest is in place
    e += 1
    return xp.reciprocal(e, out=e)


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
        d = 1 - s                  # sigma' = s (1 - s), built in one new array
        d *= s
        d *= grad_output
        return d


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
        d = grad_output * t        # g (1 - t^2) = g - (g t) t: three passes, one new array
        d *= t
        return backend.namespace(d).subtract(grad_output, d, out=d)


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


class ELU(Module):
    """$z$ for $z > 0$, else $\\alpha(e^z - 1)$ (Clevert et al. 2016); $f' = \\alpha e^z$ for $z \\le 0$.

    Negative outputs down to $-\\alpha$ push the mean activation towards 0. As torch, the
    derivative at exactly 0 is the left one, $\\alpha$ (1 when $\\alpha = 1$: then $f$ is $C^1$).
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = check_number("ELU", "alpha", alpha)

    def forward(self, z):
        check_array("ELU", "z", z)
        xp = backend.namespace(z)
        self._cache = _InputCache(z)
        negative = self.alpha * xp.expm1(xp.minimum(z, xp.zeros_like(z)))   # no e^z for large z
        return xp.where(z > 0, z, negative)

    def backward(self, grad_output):
        z = self._cache.z
        self._check_grad(grad_output, z)
        xp = backend.namespace(z)
        slope = self.alpha * xp.exp(xp.minimum(z, xp.zeros_like(z)))
        return xp.where(z > 0, grad_output, grad_output * slope)

    def extra_repr(self):
        return f"alpha={self.alpha}"


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_KAPPA = 0.044715
#: Beyond |z| = 10 tanh's argument exceeds 43 and 1 - tanh^2 < 1e-37: tanh is +-1 in float64 and float32.
_GELU_TANH_CLIP = 10.0


def _gelu_tanh(xp, z):
    """(tanh(u), z clipped, du/dz) with $u = \\sqrt{2/\\pi}(z + 0.044715 z^3)$, the cubic taken on z clipped to
    [-10, 10]: there tanh is already +-1 to working precision, and $z^3$ cannot overflow."""
    zc = xp.clip(z, -_GELU_TANH_CLIP, _GELU_TANH_CLIP)
    t = xp.tanh(_SQRT_2_OVER_PI * (zc + _GELU_KAPPA * zc * zc * zc))
    return t, zc, _SQRT_2_OVER_PI * (1 + 3 * _GELU_KAPPA * zc * zc)


class GELU(Module):
    """$z\\,\\Phi(z)$, $\\Phi$ the standard normal CDF (Hendrycks & Gimpel 2016).

    $f'(z) = \\Phi(z) + z\\,\\varphi(z)$: 1/2 at 0, a maximum of about 1.13 at $z = \\sqrt 2$
    (above 1, unlike the other activations here), and slightly negative for $z < -\\sqrt 2$.
    ``approximate="tanh"`` uses $\\frac z2\\left(1 + \\tanh\\left(\\sqrt{2/\\pi}\\,(z + 0.044715 z^3)\\right)\\right)$,
    with the cubic evaluated on $z$ clipped to $[-10, 10]$: beyond, tanh is $\\pm1$ to working
    precision, so $f = z$ or $0$ and $f' = 1$ or $0$ exactly, as in the unclipped formula, but
    $z^3$ never overflows (torch's tanh-GELU gives a NaN gradient from $|z| \\approx 2 \\cdot 10^{19}$ in float32).
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, ("none", "tanh"))

    def forward(self, z):
        check_array("GELU", "z", z)
        xp = backend.namespace(z)
        self._cache = _InputCache(z)
        if self.approximate == "tanh":
            t, _, _ = _gelu_tanh(xp, z)
            return 0.5 * z * (1 + t)
        return z * 0.5 * (1 + backend.erf(z * math.sqrt(0.5)))

    def backward(self, grad_output):
        z = self._cache.z
        self._check_grad(grad_output, z)
        xp = backend.namespace(z)
        if self.approximate == "tanh":
            t, zc, inner = _gelu_tanh(xp, z)                        # inner = d/dz of tanh's argument
            return grad_output * (0.5 * (1 + t) + 0.5 * zc * (1 - t * t) * inner)
        cdf = 0.5 * (1 + backend.erf(z * math.sqrt(0.5)))
        pdf = xp.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return grad_output * (cdf + z * pdf)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """$\\frac1\\beta \\ln(1 + e^{\\beta z})$, a smooth ReLU; $f'(z) = \\sigma(\\beta z) < 1$.

    As torch, $f(z) = z$ (derivative 1) where $\\beta z > $ ``threshold``. Computed as
    $\\max(\\beta z, 0) + \\ln(1 + e^{-|\\beta z|})$, so no exponential overflows.
    ``beta = 0`` is refused (torch returns infinity).
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if check_number("Softplus", "beta", beta) == 0:
            raise ValueError("Softplus expected beta != 0 (the output is ln(1 + e^(beta z)) / beta), got 0")
        self.beta = beta
        self.threshold = check_number("Softplus", "threshold", threshold)

    def forward(self, z):
        check_array("Softplus", "z", z)
        xp = backend.namespace(z)
        self._cache = _InputCache(z)
        bz = self.beta * z
        soft = (xp.maximum(bz, xp.zeros_like(bz)) + xp.log1p(xp.exp(-xp.abs(bz)))) / self.beta
        return xp.where(bz > self.threshold, z, soft)

    def backward(self, grad_output):
        z = self._cache.z
        self._check_grad(grad_output, z)
        xp = backend.namespace(z)
        bz = self.beta * z
        return xp.where(bz > self.threshold, grad_output, grad_output * sigmoid(bz))

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"
