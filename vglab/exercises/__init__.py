"""Immediate, specific feedback on the book's exercises.

    vg.exercises.check("ch01-backprop", grads)

Each chapter's checks live in their own module (``ch00``, ``ch01``, ...) and register
under an id with ``@exercise("ch01-backprop")``. A check compares the reader's answer
with an independent reference and raises ``ExerciseError`` with a hint that says *what*
is wrong (which array, which shape, how far off); a right answer prints a short message.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..gradcheck import rel_error

__all__ = ["check", "exercise", "ExerciseError", "close", "registered"]

_REGISTRY: dict = {}


class ExerciseError(AssertionError):
    """A wrong answer, with a hint."""


def exercise(exercise_id: str):
    """Register ``fn(answer, **kwargs)`` as the check of ``exercise_id``."""
    def register(fn):
        _REGISTRY[exercise_id] = fn
        return fn
    return register


def registered() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def _load_all():
    from . import ch00, ch01, ch02, ch03, ch04, ch08  # noqa: F401  (importing registers their checks)


def check(exercise_id: str, answer, **kwargs) -> str:
    """Check ``answer`` for ``exercise_id``; print and return a message, or raise ``ExerciseError``."""
    _load_all()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"no exercise named {exercise_id!r}; known: {', '.join(sorted(_REGISTRY))}")
    message = _REGISTRY[exercise_id](answer, **kwargs) or "Correct."
    print(f"[{exercise_id}] {message}")
    return message


def close(name: str, got, expected, tol: float = 1e-6) -> None:
    """Raise a specific ``ExerciseError`` unless ``got`` matches ``expected`` in shape and value."""
    got_np = np.asarray(backend.to_numpy(got), dtype=float) if got is not None else None
    exp_np = np.asarray(backend.to_numpy(expected), dtype=float)
    if got_np is None:
        raise ExerciseError(f"{name} is None: did you return it?")
    if got_np.shape != exp_np.shape:
        raise ExerciseError(f"{name} has shape {got_np.shape}, expected {exp_np.shape}")
    if not np.all(np.isfinite(got_np)):
        raise ExerciseError(f"{name} contains NaN or infinity")
    err = rel_error(got_np, exp_np)
    if err > tol:
        raise ExerciseError(f"{name} is off by a relative error of {err:.2e} (tolerance {tol:.0e})")
