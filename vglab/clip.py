r"""Gradient clipping, equal to ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.

Clipping by global norm rescales all gradients together when their joint norm
$\|g\| = (\sum_p \|g_p\|^2)^{1/2}$ exceeds ``max_norm``:
$g \leftarrow g \cdot \min(1, \text{max\_norm} / (\|g\| + 10^{-6}))$ (Pascanu et al. 2013).
It keeps the direction and bounds the step: a treatment for *exploding* gradients. It
cannot enlarge a vanishing gradient.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from ._checks import check_number

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters):
    from .nn.module import Parameter
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients so their joint ``norm_type``-norm is at most ``max_norm``; return the norm before."""
    check_number("clip_grad_norm_", "max_norm", max_norm, low=0)
    norm_type = float(norm_type)
    if norm_type != math.inf:
        check_number("clip_grad_norm_", "norm_type", norm_type, low=0, low_open=True)
    params = _with_grads(parameters)
    if not params:
        return 0.0
    norms = [float(np.linalg.norm(backend.to_numpy(p.grad).ravel(), ord=norm_type)) for p in params]
    total = max(norms) if norm_type == math.inf else float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total}")
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p in params:
        p.grad = p.grad * coef
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value] (changes the direction)."""
    check_number("clip_grad_value_", "clip_value", clip_value, low=0)
    for p in _with_grads(parameters):
        xp = backend.namespace(p.grad)
        p.grad = xp.clip(p.grad, -clip_value, clip_value)
