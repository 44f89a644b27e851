r"""Checks for the exercises of chapter 0: why gradients vanish (and explode).

All three are about the chapter-0 network (``vg.models.chapter0_network()``) on its first
training batch, the first ``CHAPTER0.batch_size`` = 64 rows of ``vg.data.digits()``:

* ``ch00-sigmoid-bound``: the worst-case bound
  $\|\delta_1\| / \|\delta_L\| \le (1/4)^{L-1} \prod_{l=2}^{L} \|W_l\|_2$ (a float).
* ``ch00-tanh-deltas``: the $\delta$ recursion by hand for the tanh version of the network:
  the list $[\delta_1, \dots, \delta_L]$, $\delta_l = \partial L/\partial z_l$ of shape (N, n_l).
* ``ch00-depth-1e-6``: the smallest depth at which the first layer's weight-gradient norm
  falls below $10^{-6}$ (an int).

Each reference is computed here with NumPy from the network's weights, independently of
vglab's backward passes; the reader's global random generator is left as it was.
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np

from .. import backend
from ..diagnostics import weight_layers
from ..models import CHAPTER0, chapter0_network
from ..gradcheck import rel_error
from . import ExerciseError, close, exercise

__all__ = ["sigmoid_bound", "tanh_deltas", "first_layer_norm", "THRESHOLD"]

THRESHOLD = 1e-6   # ch00-depth-1e-6: "below 1e-6"
_MAX_DEPTH = 40    # where the search for that depth gives up


@contextmanager
def _untouched_rng():
    """Build networks (which reseed vglab's generator) without changing the reader's random stream."""
    state = backend.rng().bit_generator.state
    try:
        with backend.using("numpy"):
            yield
    finally:
        backend.rng().bit_generator.state = state


def _network(**changes):
    """(weights, biases) of the chapter-0 network with ``changes``, as NumPy arrays, input side first."""
    with _untouched_rng():
        model = chapter0_network(**changes)
    layers = [m for _, m in weight_layers(model)]
    return ([backend.to_numpy(m.weight.data).copy() for m in layers],
            [backend.to_numpy(m.bias.data).copy() for m in layers])


def _batch():
    """The first training batch of the chapter-0 experiment: X (64, 64), y (64,)."""
    from ..data import digits
    with backend.using("numpy"):
        data = digits(seed=0)
    n = CHAPTER0.batch_size
    return backend.to_numpy(data.X_train)[:n], backend.to_numpy(data.y_train)[:n]


def _forward(weights, biases, x, f):
    """Pre-activations z_1..z_L and activations a_0..a_{L-1} of Linear -> f -> ... -> Linear."""
    zs, acts = [], [x]
    for l, (W, b) in enumerate(zip(weights, biases)):
        z = acts[-1] @ W.T + b                               # (N, n_l)
        zs.append(z)
        if l < len(weights) - 1:
            acts.append(f(z))
    return zs, acts


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _sigmoid_prime(z):
    s = _sigmoid(z)
    return s * (1 - s)


def _output_delta(z_out, y):
    """dL/dz_L for the mean cross-entropy: (softmax(z_L) - onehot(y)) / N."""
    p = np.exp(z_out - z_out.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    return p / len(y)


def _deltas(weights, zs, delta_out, fprime):
    """The delta recursion delta_l = (delta_{l+1} W_{l+1}) * f'(z_l) (rows are examples)."""
    deltas = [delta_out]
    for l in range(len(weights) - 2, -1, -1):
        deltas.insert(0, (deltas[0] @ weights[l + 1]) * fprime(zs[l]))
    return deltas


def _number(name, answer):
    if isinstance(answer, bool) or answer is None:
        raise ExerciseError(f"{name} should be a number, got {answer!r}")
    if isinstance(answer, (str, bytes)):
        raise ExerciseError(f"{name} should be a single number, got the string {answer!r}")
    try:
        value = float(backend.to_numpy(answer)) if not isinstance(answer, numbers.Real) else float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"{name} should be a single number, got {type(answer).__name__}") from None
    if not np.isfinite(value):
        raise ExerciseError(f"{name} is {value}: expected a finite number")
    return value


# ------------------------------------------------------------------ ch00-sigmoid-bound

def sigmoid_bound():
    """(bound, measured ratio, dict of tell-tale wrong answers) for the chapter-0 network."""
    weights, biases = _network()
    L = len(weights)
    spectral = [np.linalg.norm(W, 2) for W in weights]
    frobenius = [np.linalg.norm(W) for W in weights]
    bound = 0.25 ** (L - 1) * np.prod(spectral[1:])
    x, y = _batch()
    zs, _ = _forward(weights, biases, x, _sigmoid)
    deltas = _deltas(weights, zs, _output_delta(zs[-1], y), _sigmoid_prime)
    ratio = np.linalg.norm(deltas[0]) / np.linalg.norm(deltas[-1])
    wrong = {
        f"one factor 1/4 too many: between delta_L and delta_1 there are L - 1 = {L - 1} activation "
        f"derivatives (the output layer has none), so the bound has (1/4)^{L - 1}":
            0.25 ** L * np.prod(spectral[1:]),
        "the product includes ||W_1||: delta_1 = dL/dz_1 is reached before W_1 is applied, so the "
        "product runs over W_2, ..., W_L":
            0.25 ** (L - 1) * np.prod(spectral),
        "it includes ||W_1|| and one factor 1/4 too many":
            0.25 ** L * np.prod(spectral),
        "these are Frobenius norms: the bound needs the spectral norm (the largest singular value), "
        "np.linalg.norm(W, 2); the Frobenius norm is larger, so its bound is looser":
            0.25 ** (L - 1) * np.prod(frobenius[1:]),
        "the factors (1/4)^(L-1) are missing: sigmoid' <= 1/4 at every hidden layer":
            np.prod(spectral[1:]),
    }
    return float(bound), float(ratio), {k: float(v) for k, v in wrong.items()}


@exercise("ch00-sigmoid-bound")
def _check_sigmoid_bound(answer):
    value = _number("the bound", answer)
    bound, ratio, wrong = sigmoid_bound()
    if abs(value - bound) <= 1e-8 * bound:
        return (f"Correct: the bound is {bound:.2e}, while the measured ratio ||delta_1|| / ||delta_L|| "
                f"is {ratio:.2e}, {bound / ratio:.0f} times smaller: the worst case is far from typical.")
    for hint, w in wrong.items():
        if abs(value - w) <= 1e-6 * abs(w):
            raise ExerciseError(f"Not quite: {hint}.")
    if abs(value - ratio) <= 1e-6 * ratio:
        raise ExerciseError("That is the measured ratio ||delta_1|| / ||delta_L||, not the bound: the bound "
                            "uses only max sigmoid' = 1/4 and the weights' spectral norms.")
    raise ExerciseError(f"The bound is off by a relative error of {abs(value - bound) / bound:.2e}: "
                        "multiply (1/4)^(L-1) by the spectral norms ||W_l||_2 of layers 2..L.")


# ------------------------------------------------------------------ ch00-tanh-deltas

def tanh_deltas():
    """The reference [delta_1, ..., delta_L] of the tanh chapter-0 network on its first batch."""
    weights, biases = _network(activation="tanh")
    x, y = _batch()
    zs, _ = _forward(weights, biases, x, np.tanh)
    deltas = _deltas(weights, zs, _output_delta(zs[-1], y), lambda z: 1 - np.tanh(z) ** 2)
    return deltas, (weights, zs, y)


def _as_arrays(answer, n):
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise ExerciseError(f"expected a list of L = {n} arrays [delta_1, ..., delta_{n}], "
                            f"got {type(answer).__name__}")
    if len(answer) != n:
        raise ExerciseError(f"expected L = {n} arrays [delta_1, ..., delta_{n}], one per Linear layer, "
                            f"got {len(answer)}")
    out = []
    for i, d in enumerate(answer, start=1):
        if d is None:
            raise ExerciseError(f"delta_{i} is None: did you fill in every layer?")
        out.append(np.asarray(backend.to_numpy(d), dtype=float))
    return out


def _all_close(got, expected, tol=1e-8):
    return all(g.shape == e.shape and rel_error(g, e) <= tol for g, e in zip(got, expected))


@exercise("ch00-tanh-deltas")
def _check_tanh_deltas(answer):
    ref, (weights, zs, y) = tanh_deltas()
    L, N = len(ref), len(y)
    got = _as_arrays(answer, L)
    if got[0].shape == ref[-1].shape and ref[0].shape != ref[-1].shape:
        raise ExerciseError(f"the list starts with an array of shape {got[0].shape}, the shape of delta_L: "
                            "put delta_1 (the layer nearest the input) first")
    if all(g.shape == r.shape for g, r in zip(got, ref)):
        if _all_close(got, [N * r for r in ref]):
            raise ExerciseError(f"every delta is N = {N} times too large: the loss is the mean over the "
                                f"batch, so delta_L = (softmax(z_L) - onehot(y)) / {N}")
        suspects = {
            "it looks like you used the sigmoid's derivative sigma(z)(1 - sigma(z)): this network uses tanh, "
            "whose derivative is 1 - tanh(z)^2":
                _sigmoid_prime,
            "it looks like you applied a(1 - a), the sigmoid's derivative written with its output, to the "
            "tanh outputs a = tanh(z): tanh' = 1 - a^2":
                lambda z: np.tanh(z) * (1 - np.tanh(z)),
            "the factor f'(z_l) is missing: delta_l = (W_{l+1}^T delta_{l+1}) * f'(z_l), element-wise":
                lambda z: np.ones_like(z),
        }
        for hint, fprime in suspects.items():
            if _all_close(got, _deltas(weights, zs, ref[-1], fprime)):
                raise ExerciseError(f"Not quite: {hint}.")
    close(f"delta_{L}", got[-1], ref[-1], tol=1e-8)   # raises with the shape or the size of the error
    for l in range(L - 2, -1, -1):
        try:
            close(f"delta_{l + 1}", got[l], ref[l], tol=1e-8)
        except ExerciseError as err:
            raise ExerciseError(f"delta_{L} ... delta_{l + 2} are right, but {err}: check the step from "
                                f"layer {l + 2} back to layer {l + 1}") from None
    ratio = np.linalg.norm(ref[0]) / np.linalg.norm(ref[-1])
    return (f"Correct: all {L} deltas match. In the tanh network ||delta_1|| / ||delta_L|| = {ratio:.1e}: "
            "the backward signal still shrinks, only more slowly than with the sigmoid.")


# ------------------------------------------------------------------ ch00-depth-1e-6

def first_layer_norm(depth: int) -> float:
    """||dL/dW_1||_F of ``chapter0_network(depth=depth)`` on the first batch, computed with NumPy."""
    weights, biases = _network(depth=depth)
    x, y = _batch()
    zs, acts = _forward(weights, biases, x, _sigmoid)
    deltas = _deltas(weights, zs, _output_delta(zs[-1], y), _sigmoid_prime)
    return float(np.linalg.norm(deltas[0].T @ acts[0]))


def smallest_depth():
    """(smallest depth whose first-layer norm is below THRESHOLD, {depth: norm} up to it)."""
    norms = {}
    for depth in range(1, _MAX_DEPTH + 1):
        norms[depth] = first_layer_norm(depth)
        if norms[depth] < THRESHOLD:
            return depth, norms
    raise RuntimeError(f"no depth up to {_MAX_DEPTH} has a first-layer gradient below {THRESHOLD:g}")


@exercise("ch00-depth-1e-6")
def _check_depth(answer):
    if isinstance(answer, bool):
        raise ExerciseError(f"the depth should be a whole number of layers, got {answer!r}")
    if not isinstance(answer, (numbers.Integral, np.integer)):
        if isinstance(answer, numbers.Real) and float(answer).is_integer():
            answer = int(answer)
        else:
            raise ExerciseError(f"the depth should be a whole number of layers, got {answer!r}")
    answer = int(answer)
    if answer < 1:
        raise ExerciseError(f"a network has at least one layer, got depth {answer}")
    depth, norms = smallest_depth()
    if answer == depth:
        return (f"Correct: at depth {depth} the first layer's gradient norm is {norms[depth]:.1e}; "
                f"at depth {depth - 1} it was {norms[depth - 1]:.1e}.")
    if answer < depth:
        raise ExerciseError(f"at depth {answer} the first layer's gradient norm is {norms[answer]:.1e}, still "
                            f"above {THRESHOLD:g}: go deeper")
    raise ExerciseError(f"at depth {answer} the norm is below {THRESHOLD:g}, but it already is at a smaller "
                        f"depth ({norms[depth]:.1e} at depth {depth}): the question asks for the smallest one")
