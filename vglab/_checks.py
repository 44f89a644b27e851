"""Input validation with one shape of message: who expected what, and what it got.

    ValueError: Linear expected x of shape (*, 64), got (32, 10)
    TypeError: Linear expected x of dtype float64 (the parameters' dtype), got float32
    ValueError: SGD expected lr >= 0, got -0.1

Every public entry point checks its arguments here, so a reader never sees a
broadcasting error from deep inside NumPy, and nothing is silently broadcast.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend

__all__ = ["check_array", "check_number", "check_choice", "check_finite", "same_backend", "alike", "fmt_shape",
           "NonFiniteError", "check_nonempty"]


class NonFiniteError(ValueError):
    """An array that must be finite holds NaN or infinity (a diverging run, usually).

    A ``ValueError``, so code that catches bad values still catches it; ``vg.train.train``
    catches exactly this type to record "diverged at step k".
    """


def fmt_shape(shape) -> str:
    """(32, 64) for shapes; entries may be ints, letters, None (any) or '*' (any leading dims)."""
    parts = ["*" if s == "*" else ("?" if s is None else str(s)) for s in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or backend.is_torch(x)


def check_array(owner: str, name: str, x, shape=None, ndim=None, dtype=None, kind: str = "float",
                dtype_source: str | None = None):
    """Check that ``x`` is an array with the expected shape, number of dimensions and dtype.

    Args:
        owner: who is checking ("Linear", "CrossEntropyLoss"), the first word of the message.
        name: the argument's name as the caller wrote it ("x", "target").
        shape: expected shape; an entry None matches any size; a leading "*" matches any
            number of leading dimensions (``("*", 64)`` is torch's ``(*, in_features)``).
        ndim: an int or a tuple of allowed numbers of dimensions.
        dtype: expected dtype name ("float64"); None accepts any dtype of the right kind.
        kind: "float" or "int": what the entries must be.
        dtype_source: where the expected dtype comes from, for the message ("the parameters' dtype").
    """
    if not _is_array(x):
        raise TypeError(f"{owner} expected {name} to be a NumPy array or torch tensor, "
                        f"got {type(x).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            want = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{owner} expected {name} with {want} dimensions, "
                             f"got shape {fmt_shape(x.shape)}")
    if shape is not None:
        _check_shape(owner, name, tuple(x.shape), tuple(shape))
    got = backend.dtype_name(x.dtype)
    is_float = "float" in got
    is_int = got.startswith(("int", "uint"))
    if kind == "float" and not is_float:
        raise TypeError(f"{owner} expected {name} of a floating dtype, got {got}")
    if kind == "int" and not is_int:
        raise TypeError(f"{owner} expected {name} of an integer dtype (class indices), got {got}")
    if dtype is not None and got != backend.dtype_name(dtype):
        source = f" ({dtype_source})" if dtype_source else ""
        raise TypeError(f"{owner} expected {name} of dtype {backend.dtype_name(dtype)}{source}, got {got}")
    return x


def _matches(want, got) -> bool:
    """Entry by entry, None matching anything (a plain loop: this runs on every call of a layer)."""
    for w, g in zip(want, got):
        if w is not None and w != g:
            return False
    return True


def _check_shape(owner, name, got, want):
    if want and want[0] == "*":
        tail = want[1:]
        ok = len(got) >= len(tail) and _matches(tail, got[len(got) - len(tail):])
    else:
        ok = len(got) == len(want) and _matches(want, got)
    if not ok:
        raise ValueError(f"{owner} expected {name} of shape {fmt_shape(want)}, got {fmt_shape(got)}")


def check_nonempty(owner: str, name: str, x, axis: int | None = None, what: str = "entry", reason: str = ""):
    """Check that ``x`` has at least one entry (or, with ``axis``, a non-zero size along it).

        ValueError: MSELoss expected pred with at least one entry (...), got shape (0, 3)
    """
    empty = (x.shape[axis] == 0) if axis is not None else math.prod(x.shape) == 0
    if empty:
        raise ValueError(f"{owner} expected {name} with at least one {what}{reason}, got shape {fmt_shape(x.shape)}")
    return x


def check_number(owner: str, name: str, value, low=None, high=None,
                 low_open: bool = False, high_open: bool = False, integer: bool = False):
    """Check a hyper-parameter: a real (or integer) number in [low, high] (or open ends)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner} expected {name} to be a number, got {type(value).__name__}")
    if integer and int(value) != value:
        raise TypeError(f"{owner} expected {name} to be an integer, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{owner} expected a finite {name}, got {value!r}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{owner} expected {name} {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{owner} expected {name} {'<' if high_open else '<='} {high}, got {value!r}")
    return value


def check_choice(owner: str, name: str, value, choices):
    if value not in choices:
        raise ValueError(f"{owner} expected {name} to be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
    return value


def check_finite(owner: str, name: str, x, hint: str = ""):
    """Raise ``NonFiniteError`` if ``x`` holds NaN or infinity, saying how many entries are bad."""
    xp = backend.namespace(x)
    bad = int(xp.sum(xp.astype(~xp.isfinite(x), xp.int64)))
    if bad:
        raise NonFiniteError(f"{owner} got non-finite values in {name}: {bad} of {math.prod(x.shape)} "
                         f"entries are NaN or infinite{hint}")
    return x


def alike(x, like, shape=None) -> bool:
    """Whether ``x`` has ``like``'s array type, dtype, device and ``shape`` (default: ``like``'s).

    Only comparisons, no message: the fast path in front of the full checks above, which run
    (and say what is wrong) only when this is False.
    """
    return (type(x) is type(like) and x.dtype == like.dtype
            and tuple(x.shape) == (tuple(like.shape) if shape is None else tuple(shape))
            and (type(like) is np.ndarray or x.device == like.device))


def same_backend(owner: str, **arrays):
    """Check that the named arrays share one backend and device; return their namespace."""
    try:
        return backend.namespace(*arrays.values())
    except TypeError as err:
        names = ", ".join(arrays)
        raise TypeError(f"{owner}: {names} must be on one backend and device; {err}") from None
