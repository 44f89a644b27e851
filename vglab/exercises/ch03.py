r"""Checks for the exercises of chapter 3: activation functions.

* ``ch03-gelu-max``: the largest value of GELU's derivative, $\max_z \Phi(z) + z\varphi(z)$,
  reached at $z = \sqrt 2$ (a float).
* ``ch03-dead-units``: the fraction of dead units (pre-activation $\le 0$ for every example of
  the whole training set) in each of the 9 hidden layers of
  ``chapter0_network(activation="relu")`` at initialisation (9 numbers, layer 1 first).
* ``ch03-ce-floor``: a function ``floor(C)``: the greatest lower bound of the cross-entropy of a
  C-class classifier whose scores lie in (0, 1), $\ln(1 + (C - 1)/e)$.

The references are computed here with the ``math`` module and NumPy, not with vglab's layers;
the reader's global random generator is left as it was.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..diagnostics import weight_layers
from . import ExerciseError, close, exercise
from .ch00 import _number, _untouched_rng

__all__ = ["gelu_slope_max", "dead_units", "ce_floor"]


# ------------------------------------------------------------------ ch03-gelu-max

def gelu_slope_max() -> float:
    """$\\Phi(\\sqrt 2) + \\sqrt 2\\,\\varphi(\\sqrt 2)$: GELU'' $= \\varphi(z)(2 - z^2)$ vanishes at $\\sqrt 2$."""
    return 0.5 * (1 + math.erf(1.0)) + math.sqrt(2) * math.exp(-1.0) / math.sqrt(2 * math.pi)


def _tanh_gelu_slope_max() -> float:
    """The maximum of the derivative of GELU's tanh approximation, on a fine grid."""
    z = np.linspace(1.0, 2.0, 200001)
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (z + 0.044715 * z ** 3))
    return float(np.max(0.5 * (1 + t) + 0.5 * z * (1 - t * t) * k * (1 + 3 * 0.044715 * z ** 2)))


@exercise("ch03-gelu-max")
def _check_gelu_max(answer):
    value = _number("the maximum of GELU'", answer)
    ref = gelu_slope_max()
    if abs(value - ref) <= 1e-6 * ref:
        return (f"Correct: max GELU' = {ref:.6f}, at z = sqrt(2). It is above 1: unlike the sigmoid, tanh "
                "and the ReLU family, GELU can pass a slightly amplified gradient.")
    if abs(value - math.sqrt(2)) < 1e-3:
        raise ExerciseError("that is where the maximum is, z = sqrt(2); the question asks for the value of "
                            "GELU' there")
    if abs(value - 1.0) < 1e-9:
        raise ExerciseError("GELU' tends to 1 for large z, but it overshoots first: look for a value above 1 "
                            "between z = 1 and z = 2")
    if abs(value - 0.5) < 1e-9:
        raise ExerciseError("0.5 is GELU'(0), not the maximum")
    if abs(value - _tanh_gelu_slope_max()) <= 1e-6:
        raise ExerciseError("that is the maximum for GELU's tanh approximation (approximate='tanh'); the "
                            "question is about the exact GELU, z * Phi(z)")
    if abs(value - ref) < 1e-3:
        raise ExerciseError(f"close (off by {abs(value - ref):.1e}), but not to six significant digits: "
                            "refine your grid around the maximum, or solve GELU''(z) = 0 exactly")
    raise ExerciseError(f"the maximum is off by a relative error of {abs(value - ref) / ref:.2e}: "
                        "differentiate Phi(z) + z phi(z) once more and set it to zero")


# ------------------------------------------------------------------ ch03-dead-units

def _relu_layers():
    """(weights, biases) of chapter0_network(activation="relu"), NumPy arrays, input side first."""
    from ..models import chapter0_network
    with _untouched_rng():
        model = chapter0_network(activation="relu")
    layers = [m for _, m in weight_layers(model)]
    return ([backend.to_numpy(m.weight.data).copy() for m in layers],
            [backend.to_numpy(m.bias.data).copy() for m in layers])


def _training_inputs():
    from ..data import digits
    with backend.using("numpy"):
        return backend.to_numpy(digits(seed=0).X_train)


def _hidden_pre_activations(x):
    """z_1 ... z_9 of the ReLU chapter-0 network on inputs x (N, 64)."""
    weights, biases = _relu_layers()
    zs, a = [], x
    for W, b in zip(weights[:-1], biases[:-1]):
        zs.append(a @ W.T + b)                    # (N, 64)
        a = np.maximum(zs[-1], 0)
    return zs


def dead_units(x=None) -> np.ndarray:
    """The reference: per hidden layer, the fraction of units with z <= 0 for every row of ``x``
    (default: the whole training set of the digits)."""
    zs = _hidden_pre_activations(_training_inputs() if x is None else x)
    return np.array([np.mean(np.all(z <= 0, axis=0)) for z in zs])


@exercise("ch03-dead-units")
def _check_dead_units(answer):
    if answer is None or isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        raise ExerciseError(f"expected 9 fractions, one per hidden layer, got {type(answer).__name__}")
    got = np.asarray(backend.to_numpy(answer) if backend.is_torch(answer) else answer, dtype=float).ravel()
    x = _training_inputs()
    ref = dead_units(x)
    if got.size == ref.size + 1:
        raise ExerciseError(f"expected {ref.size} numbers, got {got.size}: the output layer has no ReLU after it, "
                            "so only the 9 hidden layers count")
    if got.size == ref.size and np.allclose(got, 100 * ref, rtol=0, atol=1e-9) and ref.max() > 0:
        raise ExerciseError("these look like percentages: give fractions between 0 and 1")
    if got.size == ref.size and not np.allclose(got, ref, rtol=0, atol=1e-12):
        zs = _hidden_pre_activations(x)
        if np.allclose(got, [np.mean(z <= 0) for z in zs], rtol=0, atol=1e-12):
            raise ExerciseError("that is the fraction of *entries* z <= 0; a unit is dead only if its "
                                "pre-activation is <= 0 for every example (all rows of its column)")
        if np.allclose(got, dead_units(x[:64]), rtol=0, atol=1e-12):
            raise ExerciseError("that is right for the first batch of 64 examples; use the whole training set "
                                "data.X_train: a unit alive for one example is not dead")
    close("the dead fractions", got, ref, tol=1e-12)
    return (f"Correct: {100 * ref.mean():.0f} % of the hidden units are dead on average at initialisation, "
            f"from {100 * ref[0]:.0f} % in layer 1 to {100 * ref[-1]:.0f} % in layer {ref.size}.")


# ------------------------------------------------------------------ ch03-ce-floor

def ce_floor(C: int) -> float:
    """$\\ln(1 + (C - 1)/e)$: every score difference $s_j - s_y$ is above $-1$."""
    return math.log(1 + (C - 1) / math.e)


_CLASSES = (2, 3, 10, 100, 1000)


@exercise("ch03-ce-floor")
def _check_ce_floor(answer):
    if not callable(answer):
        raise ExerciseError(f"expected a function floor(C), got {type(answer).__name__}")
    values = {}
    for C in _CLASSES:
        try:
            values[C] = _number(f"floor({C})", answer(C))
        except ExerciseError:
            raise
        except Exception as err:  # noqa: BLE001 - the reader's function, any error
            raise ExerciseError(f"floor({C}) raised {type(err).__name__}: {err}") from None
    wrong = {
        "that is ln C, the loss of a uniform guess; the squashed scores can do a little better than that":
            lambda C: math.log(C),
        "that is ln(1 + (C - 1) e), the loss with the true class's score at 0 and the others at 1, the "
        "worst case; the floor has the true score at 1 and the others at 0":
            lambda C: math.log(1 + (C - 1) * math.e),
        "that is the floor for 10 classes, whatever C is; the bound depends on C":
            lambda C: ce_floor(10),
        "the true class's term is missing: the loss is ln(1 + sum over the other classes of e^(s_j - s_y))":
            lambda C: math.log((C - 1) / math.e),
    }
    for hint, fn in wrong.items():
        if all(abs(values[C] - fn(C)) <= 1e-9 * max(1.0, abs(fn(C))) for C in _CLASSES):
            raise ExerciseError(f"Not quite: {hint}.")
    for C in _CLASSES:
        ref = ce_floor(C)
        if abs(values[C] - ref) > 1e-9 * ref:
            raise ExerciseError(f"floor({C}) = {values[C]:.6g}, expected {ref:.6g}: with scores in (0, 1) each "
                                "difference s_j - s_y is above -1")
    return (f"Correct: floor(10) = {ce_floor(10):.4f}, and floor(C) grows like ln C - 1 "
            f"(floor(1000) = {ce_floor(1000):.3f}, ln 1000 - 1 = {math.log(1000) - 1:.3f}).")
