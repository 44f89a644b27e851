r"""Checks for the exercises of chapter 9: clipping and gradient checking.

* ``ch09-clip-norm``: a function ``clip(grads, max_norm)`` that takes a list of NumPy arrays and
  returns them clipped by their *global* norm as ``torch.nn.utils.clip_grad_norm_`` does,
  $g \cdot \min(1, c / (\lVert g\rVert + 10^{-6}))$.
* ``ch09-find-bug``: which gradient of ``mystery_layer()`` is wrong: ``"input"``, ``"weight"`` or
  ``"bias"`` (a string).

The references are computed here with NumPy, not with ``vg.clip_grad_norm_``.
"""

from __future__ import annotations

import numpy as np

from ..nn.linear import Linear
from . import ExerciseError, exercise

__all__ = ["clip_reference", "mystery_layer"]


# ------------------------------------------------------------------ ch09-clip-norm

def clip_reference(grads, max_norm):
    """torch's rule: one norm over all arrays, then one factor min(1, max_norm / (norm + 1e-6))."""
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    coef = min(1.0, max_norm / (total + 1e-6))
    return [np.asarray(g, dtype=float) * coef for g in grads]


def _cases():
    rng = np.random.default_rng(9)
    return [([np.array([3.0, 0.0]), np.array([[0.0, 4.0]])], 1.0),                  # norm 5: clipped
            ([rng.standard_normal((3, 4)) * 10, rng.standard_normal(4)], 2.0),      # large: clipped
            ([np.full(5, 1e-7), np.array([2e-7])], 1.0),                            # tiny: unchanged
            ([rng.standard_normal(6) * 0.1], 1.0)]                                  # below: unchanged


@exercise("ch09-clip-norm")
def _check_clip(answer):
    if not callable(answer):
        raise ExerciseError(f"the answer should be a function clip(grads, max_norm), got {type(answer).__name__}")
    for grads, max_norm in _cases():
        copies = [g.copy() for g in grads]
        got = answer(copies, max_norm)
        if got is None:
            raise ExerciseError("clip returned None: return the list of clipped arrays")
        got = list(got)
        want = clip_reference(grads, max_norm)
        if len(got) != len(want):
            raise ExerciseError(f"clip returned {len(got)} arrays for {len(want)} gradients")
        got = [np.asarray(g, dtype=float) for g in got]
        for g, w in zip(got, want):
            if g.shape != w.shape:
                raise ExerciseError(f"a clipped array has shape {g.shape}, expected {w.shape}")
        if all(np.allclose(g, w, rtol=1e-12, atol=0) for g, w in zip(got, want)):
            continue
        total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
        got_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in got)))
        if total < max_norm and got_norm > total * (1 + 1e-9):
            raise ExerciseError(f"a gradient of norm {total:.3g}, below max_norm = {max_norm}, came back with "
                                f"norm {got_norm:.3g}: clipping never enlarges a gradient (min(1, ...))")
        no_eps = [g * min(1.0, max_norm / total) for g in grads]
        if all(np.allclose(g, w, rtol=1e-12, atol=0) for g, w in zip(got, no_eps)):
            raise ExerciseError("almost: your clipped norm is exactly max_norm; torch divides by norm + 1e-6, "
                                "so a clipped norm of 1 comes out as 0.9999998 for a norm of 5")
        separate = [g * min(1.0, max_norm / (float(np.sqrt(np.sum(g ** 2))) + 1e-6)) for g in grads]
        if all(np.allclose(g, w, rtol=1e-12, atol=0) for g, w in zip(got, separate)):
            raise ExerciseError("you clipped each array by its own norm; clip_grad_norm_ uses one norm over all "
                                "the arrays together (the global norm) and one factor for all of them")
        value = [np.clip(g, -max_norm, max_norm) for g in grads]
        if all(np.allclose(g, w, rtol=1e-12, atol=0) for g, w in zip(got, value)):
            raise ExerciseError("that is clipping by value (clamping each entry); the exercise asks for "
                                "clipping by the global norm")
        err = max(float(np.max(np.abs(g - w))) / max(float(np.max(np.abs(w))), 1e-300) for g, w in zip(got, want))
        raise ExerciseError(f"for gradients of global norm {total:.3g} and max_norm = {max_norm} the result is off "
                            f"by a relative error of {err:.2e}")
    return "Correct: one global norm, one factor min(1, max_norm / (norm + 1e-6)), applied to every array."


# ------------------------------------------------------------------ ch09-find-bug

class _MysteryLinear(Linear):
    """A Linear layer whose backward pass has one planted mistake (the bias gradient is averaged)."""

    def backward(self, grad_output):
        x = self._cache.x
        dy = grad_output.reshape(-1, self.out_features)       # (M, out)
        self.weight.accumulate(dy.T @ x.reshape(-1, self.in_features))
        self.bias.accumulate(dy.mean(axis=0))                  # the mistake: mean instead of sum
        return grad_output @ self.weight.data


def mystery_layer(in_features: int = 5, out_features: int = 3) -> Linear:
    """A ``Linear``-like vglab module with a planted mistake in its backward pass, for ``ch09-find-bug``."""
    return _MysteryLinear(in_features, out_features)


@exercise("ch09-find-bug")
def _check_bug(answer):
    if not isinstance(answer, str):
        raise ExerciseError(f"answer with a string, 'input', 'weight' or 'bias'; got {type(answer).__name__}")
    name = answer.strip().lower()
    if name in ("input0", "x", "dx"):
        name = "input"
    if name not in ("input", "weight", "bias"):
        raise ExerciseError(f"answer 'input', 'weight' or 'bias', got {answer!r}")
    if name != "bias":
        raise ExerciseError(f"the {name} gradient passes the check (its relative error is of order 1e-10); "
                            "look at the errors of all three in the report of check_module")
    return ("Correct: the bias gradient is the mean of dL/dy over the batch instead of its sum, so it is "
            "too small by the batch size; the weight and input gradients are right.")
