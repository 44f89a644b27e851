r"""Checks for the exercises of chapter 5: RNN gates.

* ``ch05-gru-step``: a function ``gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)`` that
  returns one GRU step in PyTorch's convention (gate blocks r, z, n):
  $n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))$, $h' = (1 - z) \odot n + z \odot h$.
* ``ch05-adding-baseline``: the expected MSE of always predicting 1 on the adding problem,
  $\mathrm{Var}(u_1 + u_2) = 2 \cdot \tfrac1{12} = \tfrac16$.
* ``ch05-forget-bias``: the forget-gate bias $b$ with $\sigma(b)^{100} = \tfrac12$,
  $b = \ln(f / (1 - f))$ with $f = 2^{-1/100}$.

The references are computed here with NumPy and ``math``, not with vglab's layers; the random
weights come from a local generator, so the reader's random stream is left as it was.
"""

from __future__ import annotations

import math

import numpy as np

from . import ExerciseError, exercise
from .ch00 import _number

__all__ = ["gru_reference", "adding_baseline", "forget_bias"]


# ------------------------------------------------------------------ ch05-gru-step

def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_reference(x, h, weight_ih, weight_hh, bias_ih, bias_hh, variant="torch"):
    """One GRU step. ``variant``: "torch" (the right answer) or one of the usual mistakes,
    "chung" (z and 1 - z swapped), "reset_before" (r applied to h before the product),
    "bias_outside" (b_hn outside the reset gate), "swapped_gates" (blocks read as z, r, n)."""
    H = h.shape[-1]
    a_i, a_h = x @ weight_ih.T + bias_ih, h @ weight_hh.T + bias_hh
    first, second = slice(0, H), slice(H, 2 * H)
    if variant == "swapped_gates":
        first, second = second, first
    r = _sigmoid(a_i[:, first] + a_h[:, first])
    z = _sigmoid(a_i[:, second] + a_h[:, second])
    W_hn, b_hn = weight_hh[2 * H:], bias_hh[2 * H:]
    if variant == "reset_before":
        n = np.tanh(a_i[:, 2 * H:] + (r * h) @ W_hn.T + b_hn)
    elif variant == "bias_outside":
        n = np.tanh(a_i[:, 2 * H:] + r * (h @ W_hn.T) + b_hn)
    else:
        n = np.tanh(a_i[:, 2 * H:] + r * a_h[:, 2 * H:])
    if variant == "chung":
        return (1 - z) * h + z * n
    return (1 - z) * n + z * h


_GRU_HINTS = {
    "chung": "your step is h' = (1 - z) h + z n, Chung et al.'s convention; PyTorch's is "
             "h' = (1 - z) n + z h (z near 1 keeps the old state)",
    "reset_before": "you applied the reset gate to h before the product, W_hn (r * h); PyTorch applies it "
                    "after: r * (W_hn h + b_hn)",
    "bias_outside": "b_hn must sit inside the reset gate: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))",
    "swapped_gates": "the gate blocks are in the order r, z, n: rows 0..H-1 are the reset gate, H..2H-1 "
                     "the update gate",
}


def _gru_case(seed, N=5, I=3, H=4):
    rng = np.random.default_rng(seed)
    bound = 1 / math.sqrt(H)
    weights = {"weight_ih": rng.uniform(-bound, bound, (3 * H, I)) * 3,
               "weight_hh": rng.uniform(-bound, bound, (3 * H, H)) * 3,
               "bias_ih": rng.uniform(-1, 1, 3 * H), "bias_hh": rng.uniform(-1, 1, 3 * H)}
    return rng.normal(size=(N, I)), np.tanh(rng.normal(size=(N, H))), weights


@exercise("ch05-gru-step")
def _check_gru_step(answer):
    if not callable(answer):
        raise ExerciseError(f"give a function gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh), "
                            f"got {type(answer).__name__}")
    for seed in (0, 1, 2):
        x, h, w = _gru_case(seed)
        try:
            got = answer(x.copy(), h.copy(), *(w[k].copy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        except Exception as err:  # noqa: BLE001 - report any error of the reader's function
            raise ExerciseError(f"gru_step raised {type(err).__name__}: {err}") from None
        if got is None:
            raise ExerciseError("gru_step returned None: did you return the new state?")
        got = np.asarray(got, dtype=float)
        if got.shape != h.shape:
            raise ExerciseError(f"gru_step returned shape {got.shape}, expected {h.shape} (N, H)")
        args = (x, h, w["weight_ih"], w["weight_hh"], w["bias_ih"], w["bias_hh"])
        if np.max(np.abs(got - gru_reference(*args))) <= 1e-10:
            continue
        for variant, hint in _GRU_HINTS.items():
            if np.max(np.abs(got - gru_reference(*args, variant=variant))) <= 1e-10:
                raise ExerciseError(hint)
        err = np.max(np.abs(got - gru_reference(*args)))
        raise ExerciseError(f"the new state differs from PyTorch's GRU step by up to {err:.2e}; check the "
                            "gate order (r, z, n), the sigmoids and tanh, and where r and b_hn enter")
    return ("Correct: this is torch.nn.GRUCell's step. The reset gate multiplies W_hn h + b_hn, and "
            "z near 1 keeps the old state.")


# ------------------------------------------------------------------ ch05-adding-baseline

def adding_baseline() -> float:
    """$\\mathbb{E}[(u_1 + u_2 - 1)^2] = \\mathrm{Var}(u_1) + \\mathrm{Var}(u_2) = 1/6$."""
    return 2 / 12


@exercise("ch05-adding-baseline")
def _check_adding_baseline(answer):
    value = _number("the MSE of always predicting 1", answer)
    ref = adding_baseline()
    if abs(value - ref) <= 1e-9:
        return "Correct: 1/6, the variance of the target, since its mean is exactly 1."
    if abs(value - 1 / 12) <= 1e-9:
        raise ExerciseError("1/12 is the variance of one uniform number; the target is the sum of two "
                            "independent ones")
    if abs(value - 1 / 3) <= 1e-9:
        raise ExerciseError("1/3 would be the variance of a number uniform on [0, 2]; the sum of two uniforms "
                            "is triangular, and its variance is the sum of their variances")
    if abs(value - math.sqrt(ref)) <= 1e-6:
        raise ExerciseError("that is the root of the mean squared error; give the MSE itself")
    if abs(value - ref) <= 0.01:
        raise ExerciseError(f"{value:.4f} is close: is it a sample estimate? Derive the exact value, a fraction")
    raise ExerciseError(f"{value:.4g} is not it: the target y = u_1 + u_2 has mean 1, so the MSE of predicting 1 "
                        "is Var(y)")


# ------------------------------------------------------------------ ch05-forget-bias

def forget_bias(steps: int = 100, keep: float = 0.5) -> float:
    """The bias $b$ with $\\sigma(b)^{\\text{steps}} = \\text{keep}$: $\\ln(f / (1 - f))$, $f = \\text{keep}^{1/\\text{steps}}$."""
    f = keep ** (1 / steps)
    return math.log(f / (1 - f))


@exercise("ch05-forget-bias")
def _check_forget_bias(answer):
    value = _number("the forget-gate bias b", answer)
    ref = forget_bias()
    f = 0.5 ** (1 / 100)
    if abs(value - ref) <= 1e-6 * abs(ref):
        return (f"Correct: b = {ref:.3f}, so f = sigma(b) = {f:.4f} and f^100 = 1/2. The default bias is "
                "about 0 (f about 1/2).")
    if abs(value - f) <= 1e-6:
        raise ExerciseError("that is the gate's value f; the question asks for the bias b with sigma(b) = f")
    if abs(value + ref) <= 1e-6 * abs(ref):
        raise ExerciseError("the sign is wrong: sigma(b) near 1 needs a large positive b")
    if abs(value - math.log(f)) <= 1e-9:
        raise ExerciseError("ln(f) is not the inverse of the sigmoid; the inverse is ln(f / (1 - f))")
    if abs(value - math.log(0.995 / 0.005)) <= 1e-6:
        raise ExerciseError("f = 1 - 1/200 is only the first-order approximation of 2^(-1/100); use the exact "
                            "root")
    raise ExerciseError(f"{value:.4g} is not it: solve sigma(b)^100 = 1/2 for f = sigma(b) first, then invert "
                        "the sigmoid")
