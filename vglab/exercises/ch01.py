r"""Checks for the exercises of chapter 1 (gradient descent).

* ``ch01-backprop``: the reader's ``backward(X, T, W1, b1, W2, b2)`` for the two-layer
  network $\hat y = \tanh(X W_1 + b_1) W_2 + b_2$ (tanh hidden layer, *linear* output) with
  $L = \frac1N \sum_n (\hat y_n - t_n)^2$. It returns ``{"W1": dW1, "b1": db1, "W2": dW2,
  "b2": db2}`` with the shapes of the parameters: W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,).
  The reference is vglab's own ``Linear``/``Tanh``/``MSELoss`` backward, not a formula
  written here.
* ``ch01-max-lr``: the largest step size for which gradient descent converges on
  ``vg.data.Quadratic(condition=25, angle=0.3)``: $2/L$ with $L = \lambda_{\max}(A)$.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..data import Quadratic
from . import ExerciseError, exercise

_NAMES = ("W1", "b1", "W2", "b2")


# ----------------------------------------------------------------------------- ch01-backprop

def _problem(seed: int = 0):
    """A small fixed problem: X (7, 3), targets T (7, 1) outside (-1, 1), H = 5 hidden units."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(7, 3))
    T = rng.uniform(1.0, 5.0, size=(7, 1))
    params = {"W1": rng.normal(size=(3, 5)) / np.sqrt(3), "b1": 0.5 * rng.normal(size=5),
              "W2": rng.normal(size=(5, 1)) / np.sqrt(5), "b2": 0.5 * rng.normal(size=1)}
    return X, T, params


def _reference(X, T, params) -> dict:
    """The gradients from vglab's modules: Linear(D, H), Tanh, Linear(H, 1), MSELoss."""
    d_in, hidden = params["W1"].shape
    model = nn.Sequential(nn.Linear(d_in, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    model.load_state_dict({"0.weight": params["W1"].T.copy(), "0.bias": params["b1"].copy(),
                           "2.weight": params["W2"].T.copy(), "2.bias": params["b2"].copy()})
    loss_fn = nn.MSELoss()
    loss_fn(model(X), T)
    model.zero_grad()
    model.backward(loss_fn.backward())
    return {"W1": model[0].weight.grad.T, "b1": model[0].bias.grad,
            "W2": model[2].weight.grad.T, "b2": model[2].bias.grad}


def _call(backward, X, T, params) -> dict:
    """Run the reader's function on copies (so an in-place update cannot spoil the check)."""
    out = backward(X.copy(), T.copy(), *(params[k].copy() for k in _NAMES))
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
        out = out[1]                                    # (loss, grads), like the chapter's function
    if not isinstance(out, dict) or set(out) != set(_NAMES):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        raise ExerciseError(f"backward should return a dict with the keys W1, b1, W2, b2; got {got}")
    return {k: np.asarray(out[k], dtype=float) for k in _NAMES}


def _matches(a, b, tol=1e-8) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and \
        np.max(np.abs(a - b)) <= tol * max(np.max(np.abs(b)), 1e-300)


def _diagnose_shapes(got: dict, ref: dict) -> None:
    for k in _NAMES:
        g, r = got[k], ref[k]
        if g.shape == r.shape:
            continue
        if g.shape == r.T.shape and r.ndim == 2:
            raise ExerciseError(f"d{k} has shape {g.shape}, expected {r.shape} (the shape of {k}): it is "
                                f"transposed. With X (N, D) and W1 (D, H), dW1 = X.T @ delta1 and dW2 = a1.T @ delta2")
        if r.ndim == 1 and g.size == r.size:
            raise ExerciseError(f"d{k} has shape {g.shape}, expected {r.shape} (the shape of {k}): sum delta "
                                f"over the batch axis without keepdims, e.g. delta.sum(axis=0)")
        raise ExerciseError(f"d{k} has shape {g.shape}, expected {r.shape} (the shape of {k})")


def _common_factor(got: dict, ref: dict) -> float | None:
    """c if got == c * ref for every gradient (c != 1), else None."""
    g = np.concatenate([got[k].ravel() for k in _NAMES])
    r = np.concatenate([ref[k].ravel() for k in _NAMES])
    c = float(g @ r / (r @ r))
    if abs(c - 1) > 1e-6 and np.max(np.abs(g - c * r)) <= 1e-8 * np.max(np.abs(r)):
        return c
    return None


@exercise("ch01-backprop")
def check_backprop(backward, seed: int = 0):
    """Compare the reader's backward pass of the tanh-hidden, linear-output network with vglab's."""
    if not callable(backward):
        raise ExerciseError(f"pass your function itself, backward, not {type(backward).__name__}")
    X, T, params = _problem(seed)
    ref = _reference(X, T, params)
    got = _call(backward, X, T, params)
    _diagnose_shapes(got, ref)
    for k in _NAMES:
        if not np.all(np.isfinite(got[k])):
            raise ExerciseError(f"d{k} contains NaN or infinity")
    if all(_matches(got[k], ref[k]) for k in _NAMES):
        return "Correct: all four gradients agree with vglab's Linear/Tanh/MSELoss backward."

    factor = _common_factor(got, ref)
    if factor is not None and abs(factor + 1) < 1e-6:
        raise ExerciseError("every gradient has the wrong sign: the loss gradient is 2 (y_hat - T) / N, "
                            "not 2 (T - y_hat) / N")
    if factor is not None:
        raise ExerciseError(f"every gradient is {factor:.4g} times the right one: check the factors of "
                            f"dL/dy_hat = 2 (y_hat - T) / N (the 2 from the square, the 1/N from the mean; "
                            f"here N = {X.shape[0]})")

    # The output layer: delta2 = 2 (y_hat - T) / N, with no tanh' because the output is linear.
    if not (_matches(got["W2"], ref["W2"]) and _matches(got["b2"], ref["b2"])):
        a1 = np.tanh(X @ params["W1"] + params["b1"])
        y_hat = a1 @ params["W2"] + params["b2"]
        delta2_tanh = 2 * (y_hat - T) / X.shape[0] * (1 - y_hat ** 2)
        if _matches(got["W2"], a1.T @ delta2_tanh):
            raise ExerciseError("dW2 includes a factor (1 - y_hat**2): this network's output layer is linear "
                                "(no tanh), so delta2 = 2 (y_hat - T) / N")
        wrong = [f"d{k}" for k in ("W2", "b2") if not _matches(got[k], ref[k])]
        raise ExerciseError(f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong (off by a "
                            f"relative error of {max(_rel(got[k[1:]], ref[k[1:]]) for k in wrong):.2e}): "
                            f"with delta2 = 2 (y_hat - T) / N, dW2 = a1.T @ delta2 and db2 = delta2.sum(axis=0)")

    # The hidden layer: delta1 = (delta2 @ W2.T) * (1 - a1**2).
    X2, T2 = X, T[::-1] - 3.0                           # same inputs, different targets
    got2 = _call(backward, X2, T2, params)
    if _matches(got["W1"], got2["W1"]) and not _matches(ref["W1"], _reference(X2, T2, params)["W1"]):
        raise ExerciseError("your dW1 does not change when the targets change, so it cannot be the gradient "
                            "of the loss: the hidden layer's delta1 must carry delta2 @ W2.T (the chain rule "
                            "through the output layer), not a constant")
    a1 = np.tanh(X @ params["W1"] + params["b1"])
    delta2 = 2 * (a1 @ params["W2"] + params["b2"] - T) / X.shape[0]
    if _matches(got["W1"], X.T @ (delta2 @ params["W2"].T)):
        raise ExerciseError("dW1 misses the hidden layer's tanh' factor: delta1 = (delta2 @ W2.T) * (1 - a1**2), "
                            "where a1 = tanh(X @ W1 + b1)")
    wrong = [f"d{k}" for k in ("W1", "b1") if not _matches(got[k], ref[k])]
    raise ExerciseError(f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong (relative error "
                        f"{max(_rel(got[k[1:]], ref[k[1:]]) for k in wrong):.2e}), while dW2 and db2 are right: "
                        f"delta1 = (delta2 @ W2.T) * (1 - a1**2), dW1 = X.T @ delta1, db1 = delta1.sum(axis=0)")


def _rel(a, b) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


# ----------------------------------------------------------------------------- ch01-max-lr

@exercise("ch01-max-lr")
def check_max_lr(answer, condition: float = 25.0, angle: float = 0.3, rtol: float = 5e-3):
    """The largest stable step size of gradient descent on ``Quadratic(condition, angle)``: 2 / lambda_max."""
    try:
        alpha = float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"the answer should be a number (a step size), got {type(answer).__name__}") from None
    if not math.isfinite(alpha) or alpha <= 0:
        raise ExerciseError(f"the answer should be a positive finite step size, got {alpha}")
    eigenvalues = np.linalg.eigvalsh(Quadratic(condition=condition, angle=angle).A)
    lam_min, lam_max = float(eigenvalues[0]), float(eigenvalues[-1])
    limit = 2.0 / lam_max
    if abs(alpha - limit) <= rtol * limit:
        return (f"Correct: {alpha:.4g}. Below 2/L = {limit:.4g} every step shrinks the error along each "
                f"eigenvector by |1 - alpha * lambda| < 1; at 2/L the steepest direction only oscillates.")
    factor = abs(1 - alpha * lam_max)
    if abs(alpha - 1.0 / lam_max) <= rtol / lam_max:
        raise ExerciseError(f"{alpha:.4g} is 1/L, the step that lands on the minimum along the steepest "
                            "direction in one step. Larger steps overshoot, but they still converge as long "
                            "as the overshoot shrinks: find where |1 - alpha * L| reaches 1")
    if abs(alpha - 2.0 / lam_min) <= rtol * 2.0 / lam_min:
        raise ExerciseError(f"{alpha:.4g} is 2 / (the smallest eigenvalue): along the steepest direction each "
                            f"step multiplies the error by |1 - alpha * L| = {factor:.3g} > 1, so gradient "
                            "descent diverges. The largest eigenvalue L limits the step size")
    if alpha > limit:
        raise ExerciseError(f"with alpha = {alpha:.4g} gradient descent diverges: along the eigenvector of the "
                            f"largest eigenvalue L each step multiplies the error by |1 - alpha * L| = "
                            f"{factor:.3g} > 1")
    raise ExerciseError(f"alpha = {alpha:.4g} converges (|1 - alpha * L| = {factor:.3g} < 1 along the steepest "
                        "direction), but larger steps converge too: find the alpha where |1 - alpha * L| "
                        "reaches 1")


__all__ = ["check_backprop", "check_max_lr"]
