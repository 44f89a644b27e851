"""Large scratch and cache arrays reused from call to call while nothing references them.

A fresh array of a megabyte or more is mapped from the operating system page by page on first
touch (a page fault per 4 KiB) and returned when freed; for the recurrent scans' (T, N, 4H) arrays
that costs more time than the arithmetic that fills them (LSTM, T=50, N=32, H=64: 1670 page faults
and about 2.5 ms per forward and backward, measured). ``empty(..., name)`` instead hands back the
array it gave out under that name last time, provided that nothing holds it any more: CPython
counts references, and every view (a returned ``out``, a cache that is still waiting for its
backward) holds one to its base array. Torch tensors are always new.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

from .. import backend

#: the array handed out last under each name
_spare = {}
_lock = threading.Lock()


def _refs(a) -> int:
    return sys.getrefcount(a)


def _free_refs() -> int:
    """What ``_refs`` counts for an array held only by a dict and one local name, as in ``empty``."""
    held = {"a": np.empty(0)}
    a = held["a"]
    return _refs(a)


_FREE = _free_refs()


def empty(xp, shape, like, name=None):
    """An uninitialised array of ``like``'s dtype and device: every element is written before it is read.

    With a ``name``, the NumPy array last given out under that name is reused if it has this shape
    and dtype and nothing else references it; otherwise a new one is made (and kept for next time).
    """
    if name is None or type(like) is not np.ndarray:
        return xp.empty(shape, dtype=like.dtype, device=backend.device_of(like))
    with _lock:
        a = _spare.get(name)
        if a is None or _refs(a) > _FREE or a.shape != tuple(shape) or a.dtype != like.dtype:
            a = _spare[name] = np.empty(shape, dtype=like.dtype)     # in use (or another size): a new one
    return a
