r"""Gradient clipping, equal to ``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``.

Clipping by global norm rescales all gradients together when their joint norm
$\|g\| = (\sum_k \|g_k\|_p^p)^{1/p}$ over the parameters' gradients $g_k$ exceeds ``max_norm`` (Pascanu et al. 2013):
$g \leftarrow g \cdot \min\left(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\right)$.
It keeps the direction and bounds the step: a treatment for *exploding* gradients. It
cannot enlarge a vanishing gradient. Because of the $10^{-6}$, a clipped norm is
$\text{max\_norm} \cdot \|g\| / (\|g\| + 10^{-6})$, a little below ``max_norm`` (0.9999998 for
``max_norm=1`` and $\|g\| = 5$), as in torch.

The norm is computed on the gradients' own backend and device and returned as a 0-d array
there (no copy to the host, like torch's 0-d tensor). As in torch, the scaling always runs:
a non-finite norm makes the gradients NaN or 0 unless ``error_if_nonfinite=True`` raises first.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from ._checks import check_choice, check_number

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters):
    from .nn.module import Parameter
    params = [parameters] if isinstance(parameters, Parameter) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None):
    """Scale the gradients so their joint ``norm_type``-norm is at most ``max_norm``.

    Args:
        parameters: Parameters (an iterable, e.g. ``model.parameters()``, or one Parameter);
            those without a gradient are skipped.
        max_norm: the largest allowed norm.
        norm_type: p of the p-norm, or ``math.inf`` (or "inf") for the largest absolute entry.
        error_if_nonfinite: raise ``RuntimeError`` when the norm is NaN or infinite.
        foreach: accepted for torch's signature; vglab has one implementation.

    Returns:
        The total norm *before* clipping, a 0-d array on the gradients' backend and device
        (0 when no parameter has a gradient).
    """
    check_number("clip_grad_norm_", "max_norm", max_norm, low=0)
    norm_type = float(norm_type)
    if norm_type != math.inf:
        check_number("clip_grad_norm_", "norm_type", norm_type, low=0, low_open=True)
    check_choice("clip_grad_norm_", "foreach", foreach, (None, True, False))
    params = _with_grads(parameters)
    if not params:
        return backend.asarray(0.0)
    xp = backend.namespace(*(p.grad for p in params))
    norms = xp.stack([xp.linalg.vector_norm(p.grad, ord=norm_type) for p in params])   # (P,)
    total = xp.linalg.vector_norm(norms, ord=norm_type)                                 # 0-d
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is "
                           f"{float(total)}, so they cannot be clipped; set error_if_nonfinite=False to "
                           "scale them by it anyway")
    coef = xp.clip(max_norm / (total + 1e-6), max=1.0)
    with np.errstate(invalid="ignore"):  # inf * 0 = NaN on purpose, as torch (NumPy would warn)
        for p in params:
            p.grad = p.grad * coef
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value] (changes the direction)."""
    check_number("clip_grad_value_", "clip_value", clip_value, low=0)
    check_choice("clip_grad_value_", "foreach", foreach, (None, True, False))
    for p in _with_grads(parameters):
        xp = backend.namespace(p.grad)
        p.grad = xp.clip(p.grad, -float(clip_value), float(clip_value))
