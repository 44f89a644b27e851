"""Immediate, specific feedback on the book's exercises.

    vg.exercises.check("ch01-backprop", grads)

Each chapter's checks live in their own module (``ch00``, ``ch01``, ...) and register
under an id with ``@exercise("ch01-backprop")``. A check compares the reader's answer
with an independent reference and raises ``ExerciseError`` with a hint that says *what*
is wrong (which array, which shape, how far off); a right answer prints a short message.

A check judges every reader alike, whatever their global settings: it runs in the
reference settings (the NumPy backend, float64, and vglab's generator saved before and
restored after), and the answer is converted first: torch tensors become NumPy arrays and
floating arrays become float64 (also in what a reader's function returns). The reader's
settings are back in force when ``check`` returns or raises.
"""

from __future__ import annotations

import contextlib
import functools
import inspect

import numpy as np

from .. import backend
from ..gradcheck import rel_error

__all__ = ["check", "exercise", "ExerciseError", "close", "registered", "reference_settings"]

_REGISTRY: dict = {}


class ExerciseError(AssertionError):
    """A wrong answer, with a hint."""


def exercise(exercise_id: str):
    """Register ``fn(answer, **kwargs)`` as the check of ``exercise_id``; an id is registered once."""
    if exercise_id in _REGISTRY:
        owner = _REGISTRY[exercise_id]
        raise ValueError(f"exercise expected a new id, got {exercise_id!r}, already registered by "
                         f"{owner.__module__}.{owner.__qualname__}")

    def register(fn):
        _REGISTRY[exercise_id] = fn
        return fn
    return register


def registered() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def _load_all():
    from . import ch00, ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09, ch10  # noqa: F401  (importing registers their checks)


class Verdict(str):
    """The message of a passed check: a ``str`` that a notebook does not display a second time.

    ``check`` has printed it already; a solution cell that ends with the call would otherwise
    show it twice (once printed, once as the cell's value).
    """

    def _ipython_display_(self):
        pass


def check(exercise_id: str, answer, **kwargs) -> str:
    """Check ``answer`` for ``exercise_id``; print and return a message, or raise ``ExerciseError``.

    The message is printed once: the returned ``Verdict`` is not displayed again as a cell's value.
    """
    _load_all()
    if exercise_id not in _REGISTRY:
        raise KeyError(f"no exercise named {exercise_id!r}; known: {', '.join(sorted(_REGISTRY))}")
    answer, had_float32 = _for_reference(answer), _has_float32(answer)
    try:
        with reference_settings():
            message = _REGISTRY[exercise_id](answer, **kwargs) or "Correct."
    except ExerciseError as err:
        if had_float32:
            raise ExerciseError(f"{err} (your answer holds float32 numbers, and the checks compare to float64 "
                                "precision: compute it in float64, the default)") from None
        raise
    print(f"[{exercise_id}] {message}")
    return Verdict(message)


@contextlib.contextmanager
def reference_settings():
    """Run a check as the book does: NumPy backend, float64, gradients on; vglab's generator state
    restored afterwards."""
    from ..nn.grad_mode import enable_grad
    state = backend.rng().bit_generator.state
    try:
        with backend.using("numpy", dtype="float64"), enable_grad():
            yield
    finally:
        backend.rng().bit_generator.state = state


def _for_reference(answer):
    """``answer`` with torch tensors as NumPy arrays, floating arrays as float64 and 0-d arrays as
    NumPy scalars, inside lists, tuples and dicts too; a function's results are converted the same
    way when it is called (other callables, a model say, are passed as they are)."""
    if backend.is_torch(answer) or isinstance(answer, (np.ndarray, np.generic)):
        a = np.asarray(backend.to_numpy(answer))
        if np.issubdtype(a.dtype, np.floating):
            a = a.astype(np.float64)
        return a[()] if a.ndim == 0 else a           # a 0-d answer becomes a NumPy scalar (np.float64 is a float)
    if isinstance(answer, (list, tuple)) and not hasattr(answer, "_fields"):
        return type(answer)(_for_reference(a) for a in answer)
    if isinstance(answer, dict):
        return {k: _for_reference(v) for k, v in answer.items()}
    if inspect.isroutine(answer) or isinstance(answer, functools.partial):   # a function, not a model or a class
        @functools.wraps(answer)
        def converted(*args, **kwargs):
            return _for_reference(answer(*args, **kwargs))
        return converted
    return answer


def _has_float32(answer) -> bool:
    """True if ``answer`` (or an array inside a list, tuple or dict) is float32 or float16."""
    if backend.is_torch(answer) or isinstance(answer, (np.ndarray, np.generic)):
        return backend.dtype_name(answer.dtype) in ("float32", "float16", "bfloat16")
    if isinstance(answer, (list, tuple)):
        return any(_has_float32(a) for a in answer)
    if isinstance(answer, dict):
        return any(_has_float32(a) for a in answer.values())
    return False


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
