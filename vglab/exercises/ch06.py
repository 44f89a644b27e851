r"""Checks for the exercises of chapter 6: residual connections.

* ``ch06-block-jacobian``: the Jacobian $\partial y/\partial x$ (4, 4) of the residual block
  ``block_for_exercise()``, $y = x + W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2$, at the input
  ``JACOBIAN_X``: $I + W_2 \operatorname{diag}(\mathbb 1[W_1 x + b_1 > 0])\, W_1$.
* ``ch06-dense-channels``: a function ``channels(c0, k, L)``: the number of channels that a dense
  block of ``L`` layers with growth rate ``k`` outputs for an input of ``c0`` channels,
  $c_0 + L k$.
* ``ch06-variance-growth``: a function ``growth(alpha, L)``: the factor by which
  $\mathrm{Var}(x)$ grows over ``L`` residual blocks whose branch adds an independent, zero-mean
  term of variance $\alpha\,\mathrm{Var}(x_l)$, $(1 + \alpha)^L$.

The references are computed here with NumPy from the block's weights and from the formulas; the
reader's global random generator is left as it was.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from . import ExerciseError, close, exercise
from .ch00 import _number, _untouched_rng

__all__ = ["block_for_exercise", "JACOBIAN_X", "JACOBIAN_SEED", "block_jacobian", "dense_channels",
           "variance_growth"]

JACOBIAN_SEED = 6
JACOBIAN_X = (0.5, -1.0, 1.5, -0.2)


# ------------------------------------------------------------------ ch06-block-jacobian

def block_for_exercise():
    """The block of ``ch06-block-jacobian``: ``Residual(Sequential(Linear(4, 4), ReLU(), Linear(4, 4)))``
    drawn after ``vg.manual_seed(JACOBIAN_SEED)``."""
    from .. import nn
    backend.manual_seed(JACOBIAN_SEED)
    return nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4)))


def _block_arrays():
    """(W1, b1, W2) of the exercise's block as NumPy arrays; the reader's generator untouched."""
    with _untouched_rng():
        block = block_for_exercise()
    first, second = block.block[0], block.block[2]
    return (backend.to_numpy(first.weight.data).copy(), backend.to_numpy(first.bias.data).copy(),
            backend.to_numpy(second.weight.data).copy())


def block_jacobian() -> np.ndarray:
    """$I + W_2 \\operatorname{diag}(\\mathbb 1[z > 0]) W_1$ at ``JACOBIAN_X``, with $z = W_1 x + b_1$."""
    W1, b1, W2 = _block_arrays()
    z = W1 @ np.array(JACOBIAN_X) + b1
    return np.eye(4) + W2 @ np.diag((z > 0).astype(float)) @ W1


@exercise("ch06-block-jacobian")
def _check_block_jacobian(answer):
    if answer is None or isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise ExerciseError(f"expected a 4 x 4 array, got {type(answer).__name__}")
    got = np.asarray(answer, dtype=float)
    ref = block_jacobian()
    W1, b1, W2 = _block_arrays()
    mask = np.diag((W1 @ np.array(JACOBIAN_X) + b1 > 0).astype(float))
    if got.shape == ref.shape and np.all(np.isfinite(got)):
        wrong = {
            "that is the Jacobian of the branch F alone, W2 diag(1[z > 0]) W1: the identity path is missing "
            "(y = x + F(x), so dy/dx = I + dF/dx)": ref - np.eye(4),
            "that is the transpose: the row index is the output, J[i, j] = dy_i / dx_j": ref.T,
            "the ReLU's derivative is missing: between W2 and W1 goes diag(1[z > 0]) with z = W1 x + b1, "
            "which zeroes the columns of the units that are off": np.eye(4) + W2 @ W1,
            "the ReLU's derivative is taken at the block's input x; it belongs at the ReLU's own input, "
            "z = W1 x + b1": np.eye(4) + W2 @ np.diag((np.array(JACOBIAN_X) > 0).astype(float)) @ W1,
            "the weights are multiplied in the wrong order: the input meets W1 first, so the product is "
            "W2 diag(1[z > 0]) W1": np.eye(4) + W1 @ mask @ W2,
        }
        for hint, value in wrong.items():
            if np.allclose(got, value, rtol=1e-9, atol=1e-12) and not np.allclose(value, ref, rtol=1e-9, atol=1e-12):
                raise ExerciseError(f"Not quite: {hint}.")
    close("the Jacobian", got, ref, tol=1e-8)
    off = int(np.sum(np.diag(mask) == 0))
    return (f"Correct: I + W2 diag(1[z > 0]) W1, with {off} of the 4 hidden units off at this input. Whatever "
            "the weights do, the identity is there.")


# ------------------------------------------------------------------ ch06-dense-channels

def dense_channels(c0: int, k: int, L: int) -> int:
    """$c_0 + L k$: every layer of a dense block concatenates its ``k`` new channels to its input."""
    return c0 + L * k


_DENSE_CASES = ((8, 4, 3), (16, 12, 6), (64, 32, 1), (3, 5, 10))


def _call(fn, name, *args):
    try:
        return fn(*args)
    except Exception as err:  # noqa: BLE001 - the reader's function, any error
        raise ExerciseError(f"{name}{args} raised {type(err).__name__}: {err}") from None


@exercise("ch06-dense-channels")
def _check_dense_channels(answer):
    if not callable(answer):
        raise ExerciseError(f"expected a function channels(c0, k, L), got {type(answer).__name__}")
    got = {case: _number(f"channels{case}", _call(answer, "channels", *case)) for case in _DENSE_CASES}
    wrong = {
        "that is L k: the block's input is part of its output too (the first entry of the concatenation)":
            lambda c0, k, L: L * k,
        "one growth step short: each of the L layers adds k channels": lambda c0, k, L: c0 + (L - 1) * k,
        "that is what a residual block outputs: addition keeps the width, concatenation grows it":
            lambda c0, k, L: c0,
        "that doubles the channels at every layer; each layer adds only its own k new channels, not a copy "
        "of everything before": lambda c0, k, L: c0 * 2 ** L,
    }
    for hint, fn in wrong.items():
        if all(got[case] == fn(*case) for case in _DENSE_CASES):
            raise ExerciseError(f"Not quite: {hint}.")
    for case in _DENSE_CASES:
        if got[case] != dense_channels(*case):
            raise ExerciseError(f"channels{case} = {got[case]:g}, expected {dense_channels(*case)}")
    return ("Correct: c0 + L k. A dense block's width grows linearly with its depth, which is why DenseNets "
            "put transition layers (1x1 convolutions) between their blocks.")


# ------------------------------------------------------------------ ch06-variance-growth

def variance_growth(alpha: float, L: int) -> float:
    """$(1 + \\alpha)^L$: each block adds an independent term of variance $\\alpha\\,\\mathrm{Var}(x_l)$."""
    return (1 + alpha) ** L


_GROWTH_CASES = ((2.0, 30), (0.5, 10), (1 / 6, 50), (0.0, 20), (1.0, 1))


@exercise("ch06-variance-growth")
def _check_variance_growth(answer):
    if not callable(answer):
        raise ExerciseError(f"expected a function growth(alpha, L), got {type(answer).__name__}")
    got = {case: _number(f"growth{case}", _call(answer, "growth", *case)) for case in _GROWTH_CASES}
    wrong = {
        "that grows linearly, 1 + alpha L: that is what happens when every branch adds a *fixed* variance "
        "(a branch ending in BatchNorm, say); here the branch's variance is proportional to its input's, so "
        "the factors multiply": lambda a, L: 1 + a * L,
        "that is alpha^L, a product with no identity term: the plain network; the shortcut keeps x_l itself "
        "in x_{l+1}": lambda a, L: a ** L,
        "one block short: each of the L blocks multiplies the variance by 1 + alpha":
            lambda a, L: (1 + a) ** (L - 1),
        "that is the growth of the standard deviation; the question asks for the variance":
            lambda a, L: (1 + a) ** (L / 2),
    }
    for hint, fn in wrong.items():
        if all(math.isclose(got[c], fn(*c), rel_tol=1e-9, abs_tol=1e-12) for c in _GROWTH_CASES):
            raise ExerciseError(f"Not quite: {hint}.")
    for case in _GROWTH_CASES:
        ref = variance_growth(*case)
        if not math.isclose(got[case], ref, rel_tol=1e-9):
            raise ExerciseError(f"growth{case} = {got[case]:.6g}, expected {ref:.6g}")
    return (f"Correct: (1 + alpha)^L. With alpha = 2 (He-initialised branches) 30 blocks multiply the "
            f"variance by {variance_growth(2.0, 30):.1e}.")
