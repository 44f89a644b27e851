"""``Parameter``: a learnable array and its accumulated gradient."""

from __future__ import annotations

from .. import backend
from .._checks import check_array

__all__ = ["Parameter"]


class Parameter:
    """A learnable array. ``.data`` is the array (not copied), ``.grad`` is None until a backward."""

    def __init__(self, data, requires_grad: bool = True):
        check_array("Parameter", "data", data)
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad

    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: backend.device_of(self.data))
    ndim = property(lambda self: self.data.ndim)

    def accumulate(self, g) -> None:
        """``grad += g`` (the first time ``grad = g``); nothing if frozen."""
        if not self.requires_grad:
            return
        if tuple(g.shape) != tuple(self.data.shape):  # an internal error, never a reader's
            raise RuntimeError(f"gradient of shape {tuple(g.shape)} for a parameter of shape {self.shape}")
        self.grad = g if self.grad is None else self.grad + g

    def zero_grad(self, set_to_none: bool = True) -> None:
        """``grad = None``, or zeros by assignment (so a NaN or infinite gradient becomes 0 too)."""
        if set_to_none or self.grad is None:
            self.grad = None
        else:
            self.grad = backend.namespace(self.grad).zeros_like(self.grad)

    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={backend.dtype_name(self.dtype)})"
