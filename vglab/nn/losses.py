r"""Losses: ``loss = loss_fn(pred, target)`` is a 0-d array, ``loss_fn.backward()`` is dL/dpred.

``MSELoss``: $L = \frac1M\sum_i (p_i - t_i)^2$ over all M entries (reduction "mean"),
$\partial L/\partial p = \frac2M (p - t)$. Unlike torch, shapes must be equal: torch
only warns and broadcasts, which silently computes a different loss.

``CrossEntropyLoss``: logits $z$ (N, C). With log-softmax
$\ell = z - \max z - \log\sum_c e^{z_c - \max z}$ (stable for logits of $10^4$),
class indices $y$ (N,) give $L_n = -\ell_{n, y_n}$ and class probabilities $q$ (N, C)
give $L_n = -\sum_c q_{nc}\ell_{nc}$. The gradient is
$\partial L_n/\partial z = \mathrm{softmax}(z)\sum_c q_c - q$, i.e. $p - \text{onehot}(y)$:
no vanishing factor, unlike a sigmoid output trained with MSE (Glorot & Bengio 2010).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import backend
from .._checks import check_array, check_choice, check_finite, check_nonempty, same_backend, fmt_shape

__all__ = ["MSELoss", "CrossEntropyLoss", "log_softmax", "softmax"]

_HINT = "; pass check_finite=False to study a diverging run"
_EMPTY = " (the mean over an empty batch is undefined; reduction='sum' gives 0)"


def log_softmax(z, axis: int = -1):
    """$z - \\max z - \\log\\sum e^{z - \\max z}$ along ``axis``: finite for any finite z."""
    xp = backend.namespace(z)
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def softmax(z, axis: int = -1):
    """$e^{z_c} / \\sum_k e^{z_k}$ along ``axis``; rows sum to 1."""
    return backend.namespace(z).exp(log_softmax(z, axis))


class _Loss:
    """Shared by the losses: reduction, finiteness check, backward before forward."""

    _input = "pred"  # the name of the first argument, for error messages

    def __init__(self, reduction: str = "mean", check_finite: bool = True):
        self.reduction = check_choice(type(self).__name__, "reduction", reduction, ("mean", "sum", "none"))
        self.check_finite = check_finite
        self._cache = None

    def _reduce(self, xp, per_item):
        if self.reduction == "mean":
            return xp.mean(per_item)
        if self.reduction == "sum":
            return xp.sum(per_item)
        return per_item

    def _scale(self, xp, grad, count):
        """The upstream gradient of the reduction: 1/count (mean), 1 (sum) or per item (none)."""
        if self.reduction == "mean":
            return grad / count
        return grad

    def _need_cache(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before the loss was computed")
        return self._cache

    def _upstream(self, grad, per_item_shape, like):
        """``grad`` (default 1) checked against what the reduction produced."""
        if grad is None:
            return 1.0
        if isinstance(grad, (int, float)):
            if self.reduction == "none":
                raise ValueError(f"{type(self).__name__}.backward with reduction='none' expected grad of "
                                 f"shape {fmt_shape(per_item_shape)}, got a number")
            return float(grad)
        shape = per_item_shape if self.reduction == "none" else ()
        check_array(f"{type(self).__name__}.backward", "grad", grad, shape=shape, dtype=like.dtype)
        same_backend(f"{type(self).__name__}.backward", **{"grad": grad, self._input: like})
        return grad

    def __repr__(self):
        return f"{type(self).__name__}(reduction={self.reduction!r})"


class _MSECache(NamedTuple):
    diff: object  # pred - target, any shape


class MSELoss(_Loss):
    """Mean squared error; ``pred`` and ``target`` must have equal shapes (no broadcasting)."""

    def __call__(self, pred, target):
        name = "MSELoss"
        check_array(name, "pred", pred)
        check_array(name, "target", target, dtype=pred.dtype, dtype_source="the dtype of pred")
        xp = same_backend(name, pred=pred, target=target)
        if tuple(pred.shape) != tuple(target.shape):
            raise ValueError(f"MSELoss expected target of shape {fmt_shape(pred.shape)} (the shape of pred), "
                             f"got {fmt_shape(target.shape)}; torch would broadcast them silently")
        if self.reduction == "mean":
            check_nonempty(name, "pred", pred, reason=_EMPTY)
        if self.check_finite:
            check_finite(name, "pred", pred, _HINT)
        diff = pred - target
        self._cache = _MSECache(diff)
        return self._reduce(xp, diff * diff)

    def backward(self, grad=None):
        diff = self._need_cache().diff
        xp = backend.namespace(diff)
        g = self._upstream(grad, tuple(diff.shape), diff)
        n = 1
        for s in diff.shape:
            n *= s
        return self._scale(xp, 2 * diff * g, n)


class _CECache(NamedTuple):
    log_p: object     # (N, C) log-softmax of the logits
    target_p: object  # (N, C) target distribution (one-hot for class indices)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy on logits (N, C), with class indices (N,) or probabilities (N, C).

    ``weight``, ``ignore_index`` and ``label_smoothing`` are not supported.
    """

    _input = "logits"

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0, check_finite: bool = True):
        if weight is not None or ignore_index != -100 or label_smoothing != 0.0:
            raise NotImplementedError("CrossEntropyLoss: weight, ignore_index and label_smoothing "
                                      "are not supported by vglab")
        super().__init__(reduction, check_finite)

    def __call__(self, logits, target):
        name = "CrossEntropyLoss"
        check_array(name, "logits", logits, ndim=2)
        n, c = logits.shape
        xp = same_backend(name, logits=logits, target=target)
        check_nonempty(name, "logits", logits, axis=1, what="class")
        if self.reduction == "mean":
            check_nonempty(name, "logits", logits, axis=0, what="example", reason=_EMPTY)
        if self.check_finite:
            check_finite(name, "logits", logits, _HINT)
        if "float" in backend.dtype_name(target.dtype) and tuple(target.shape) == (n,):
            raise ValueError(f"CrossEntropyLoss expected target of shape {fmt_shape((n, c))}, got {fmt_shape((n,))} "
                             f"of dtype {backend.dtype_name(target.dtype)}: class indices must be integers "
                             "(.astype(int) or .long()), and a floating target is read as class probabilities "
                             "of shape (N, C)")
        if "float" in backend.dtype_name(target.dtype):      # class probabilities
            check_array(name, "target", target, shape=(n, c), dtype=logits.dtype,
                        dtype_source="the dtype of logits")
            target_p = target
        else:                                               # class indices
            check_array(name, "target", target, shape=(n,), kind="int")
            if n:
                low, high = (int(v) for v in backend.to_numpy(xp.stack([xp.min(target), xp.max(target)])))
                if low < 0 or high >= c:                    # one transfer from the device, not two
                    raise ValueError(f"CrossEntropyLoss expected target class indices in [0, {c - 1}], "
                                     f"got values from {low} to {high}")
            target_p = backend.one_hot(target, c, like=logits)  # (N, C)
        log_p = log_softmax(logits, axis=1)                  # (N, C)
        self._cache = _CECache(log_p, target_p)
        return self._reduce(xp, -xp.sum(target_p * log_p, axis=1))

    def backward(self, grad=None):
        log_p, q = self._need_cache()
        xp = backend.namespace(log_p)
        g = self._upstream(grad, (log_p.shape[0],), log_p)
        if self.reduction == "none" and not isinstance(g, float):
            g = g[:, None]                                   # (N, 1); a 0-d grad broadcasts as it is
        dz = xp.exp(log_p) * xp.sum(q, axis=1, keepdims=True) - q   # (N, C)
        return self._scale(xp, dz * g, log_p.shape[0])
