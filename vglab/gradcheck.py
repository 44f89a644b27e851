r"""Numerical gradient checking: is a hand-written backward pass right?

Central differences, $\frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}$,
have error $O(h^2)$ from truncation and $O(\varepsilon/h)$ from rounding; in float64
($\varepsilon \approx 10^{-16}$) with $h = 10^{-6}$ both are near $10^{-10}$, so an analytic
gradient that agrees to a relative error below $10^{-7}$ is right (Goodfellow et al. 2016, §11.5).
It is a debugging tool for backprop, not a remedy for vanishing gradients.

``rel_error(a, b)`` $= \max|a - b| / \max(\max|b|, \text{tiny})$ is the one error measure used
everywhere in vglab's tests and chapters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import backend
from .nn.grad_mode import no_grad

__all__ = ["rel_error", "numerical_gradient", "check_module", "GradcheckReport"]

_TINY = 1e-300


def rel_error(a, b) -> float:
    """$\\max|a - b| / \\max(\\max|b|, \\text{tiny})$; ``b`` is the reference. Shapes must be equal."""
    a, b = backend.to_numpy(a), backend.to_numpy(b)
    if a.shape != b.shape:
        raise ValueError(f"rel_error expected arrays of equal shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), _TINY))


def _coordinates(shape, max_coords, rng):
    size = int(np.prod(shape))
    flat = np.arange(size) if size <= max_coords else rng.choice(size, max_coords, replace=False)
    return [np.unravel_index(i, shape) for i in flat]


def numerical_gradient(f, x, h: float = 1e-6, max_coords: int | None = None, seed: int = 0):
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` is perturbed in place and restored; ``f`` takes no argument and reads ``x``.
    With ``max_coords``, only that many randomly chosen coordinates are computed; the
    others are NaN. Returns a NumPy array of ``x``'s shape.
    """
    if backend.dtype_name(x.dtype) != "float64":
        raise TypeError(f"numerical_gradient expected x of dtype float64, got {backend.dtype_name(x.dtype)}: "
                        "central differences in float32 are dominated by rounding")
    shape = tuple(x.shape)
    grad = np.full(shape, np.nan)
    coords = _coordinates(shape, max_coords or int(np.prod(shape)), np.random.default_rng(seed))
    for idx in coords:
        old = float(x[idx])
        x[idx] = old + h
        f_plus = float(f())
        x[idx] = old - h
        f_minus = float(f())
        x[idx] = old
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


@dataclass
class GradcheckReport:
    """Relative errors (analytic vs numerical) per input and per parameter."""
    errors: dict = field(default_factory=dict)

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)

    def __repr__(self):
        rows = "\n".join(f"  {name:<24} {err:.2e}" for name, err in self.errors.items())
        return f"GradcheckReport(max relative error {self.max_error:.2e})\n{rows}"


def check_module(module, *inputs, h: float = 1e-6, max_coords: int = 50, seed: int = 0) -> GradcheckReport:
    """Compare ``module.backward`` with central differences for every input and parameter.

    The scalar checked is $L = \\sum y \\odot R$ with a fixed random $R$ of the output's shape,
    so every output coordinate matters. Inputs must be float64 arrays (they are perturbed
    in place and restored). At most ``max_coords`` sampled coordinates per array.
    """
    rng = np.random.default_rng([seed, 1])  # not default_rng(seed): R must differ from inputs drawn with it
    out = module(*inputs)
    r = backend.asarray(rng.standard_normal(tuple(out.shape)), like=out, dtype="float64")
    xp = backend.namespace(out)

    def loss():  # evaluated hundreds of times: no_grad keeps no call pending for backward
        with no_grad():
            return xp.sum(module(*inputs) * r)

    module.zero_grad()
    grads = module.backward(r)  # differentiates the call that produced ``out``
    grads = grads if isinstance(grads, tuple) else (grads,)
    analytic = {f"input{i}": g for i, g in enumerate(grads)}
    analytic.update({name: p.grad for name, p in module.named_parameters() if p.requires_grad})
    arrays = {f"input{i}": x for i, x in enumerate(inputs)}
    arrays.update({name: p.data for name, p in module.named_parameters() if p.requires_grad})

    report = GradcheckReport()
    for name, x in arrays.items():
        num = numerical_gradient(loss, x, h=h, max_coords=max_coords, seed=seed)
        mask = ~np.isnan(num)
        report.errors[name] = rel_error(backend.to_numpy(analytic[name])[mask], num[mask])
    return report
