"""Grad mode: whether a module's forward keeps what its backward needs (``vg.no_grad()``)."""

from __future__ import annotations

import contextlib
import contextvars

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]

# Per thread and per asyncio task, like torch's grad mode: a `with no_grad()` elsewhere cannot leak in.
_grad_enabled = contextvars.ContextVar("vglab_grad_enabled", default=True)


@contextlib.contextmanager
def no_grad():
    """A forward inside ``with vg.no_grad():`` keeps no cache (cheaper; backward is refused)."""
    token = _grad_enabled.set(False)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


@contextlib.contextmanager
def enable_grad():
    """Undo an enclosing ``no_grad`` inside the block (forwards keep their caches again)."""
    token = _grad_enabled.set(True)
    try:
        yield
    finally:
        _grad_enabled.reset(token)


def is_grad_enabled() -> bool:
    return _grad_enabled.get()
