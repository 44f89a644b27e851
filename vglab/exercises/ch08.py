r"""Checks for the exercises of chapter 8 (optimisers).

* ``ch08-adam-step``: the reader's ``adam_step(theta, g, m, v, t, lr, betas, eps)`` returning
  ``(theta, m, v)`` after one Adam step at step ``t = 1, 2, ...``. It is run for 50 steps on a
  fixed gradient stream whose entries range over many orders of magnitude, with non-default
  hyper-parameters, and compared with ``vg.optim.Adam`` (the reference). Typical mistakes
  (the misstated step size $\alpha / \sqrt{1 - \beta_2^t}$, a missing bias correction,
  $\epsilon$ inside the root, $v$ from $m^2$, ...) get a specific hint.
* ``ch08-eps-half-step``: the pair ``(g_outside, g_inside)``: the gradient size below which
  RMSprop's steady-state step is less than half of $\eta$, with $\epsilon = 10^{-8}$ outside
  the root, $|g| / (|g| + \epsilon) = 1/2$, and inside it, $|g| / \sqrt{g^2 + \epsilon} = 1/2$.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn, optim
from . import ExerciseError, exercise

# ----------------------------------------------------------------------------- ch08-adam-step

_HP = dict(lr=0.01, betas=(0.8, 0.99), eps=1e-8)
_DEFAULTS = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


def _gradients(steps: int = 50, seed: int = 0) -> np.ndarray:
    """(steps, 6) gradients; the columns' sizes range from 1e-10 (below eps) to 10."""
    rng = np.random.default_rng(seed)
    scales = np.array([10.0, 1.0, 1e-3, 1e-6, 1e-9, 1e-10])
    return (rng.standard_normal((steps, 6)) + 0.3) * scales


def _reference(grads, theta0, lr, betas, eps) -> np.ndarray:
    """theta after each step of vg.optim.Adam: (steps, 6)."""
    p = nn.Parameter(theta0.copy())
    opt = optim.Adam([p], lr=lr, betas=betas, eps=eps)
    out = []
    for g in grads:
        p.grad = g.copy()
        opt.step()
        out.append(p.data)
    return np.array(out)


def _variant(grads, theta0, lr, betas, eps, mistake: str) -> np.ndarray:
    """A from-scratch Adam with one typical mistake, to recognise the reader's."""
    b1, b2 = betas
    theta, m, v, out = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0), []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (m * m if mistake == "v from m" else g * g)
        m_hat = m if mistake in ("no correction", "only v corrected") else m / (1 - b1 ** t)
        v_hat = v if mistake in ("no correction", "only m corrected") else v / (1 - b2 ** t)
        if mistake == "misstated":
            theta = theta - lr / math.sqrt(1 - b2 ** t) * m / (np.sqrt(v) + eps)
        elif mistake == "eps inside":
            theta = theta - lr * m_hat / np.sqrt(v_hat + eps)
        else:
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        if mistake == "stores corrected":
            m, v = m_hat, v_hat
        out.append(theta)
    return np.array(out)


_HINTS = {
    "misstated": "your step size is lr / sqrt(1 - beta2**t) applied to m / (sqrt(v) + eps): the misstated "
                 "bias correction. Divide m by (1 - beta1**t) and v by (1 - beta2**t), then step "
                 "lr * m_hat / (sqrt(v_hat) + eps); in the efficient form the root sqrt(1 - beta2**t) multiplies",
    "no correction": "there is no bias correction: m and v start at 0, so divide them by (1 - beta1**t) and "
                     "(1 - beta2**t) before the step",
    "only m corrected": "m is bias-corrected but v is not: use v_hat = v / (1 - beta2**t)",
    "only v corrected": "v is bias-corrected but m is not: use m_hat = m / (1 - beta1**t)",
    "eps inside": "eps is inside the square root (the Keras convention); PyTorch's Adam adds it outside: "
                  "m_hat / (sqrt(v_hat) + eps). The difference shows for the gradient entries below eps",
    "v from m": "v must be the moving average of the squared gradient, g * g, not of m * m",
    "stores corrected": "return the raw moving averages m and v, not the bias-corrected m_hat and v_hat: "
                        "the next step must update the uncorrected ones",
}


def _close(a, b, tol=1e-9) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and \
        float(np.max(np.abs(a - b))) <= tol * max(float(np.max(np.abs(b))), 1e-300)


def _run_reader(adam_step, grads, theta0, hp) -> np.ndarray:
    theta, m, v, out = theta0.copy(), np.zeros_like(theta0), np.zeros_like(theta0), []
    for t, g in enumerate(grads, start=1):
        result = adam_step(theta.copy(), g.copy(), m.copy(), v.copy(), t, **hp)
        if not (isinstance(result, tuple) and len(result) == 3):
            raise ExerciseError("adam_step should return the tuple (theta, m, v), got "
                                f"{type(result).__name__}")
        theta, m, v = (np.asarray(x, dtype=float) for x in result)
        for name, x in (("theta", theta), ("m", m), ("v", v)):
            if x.shape != theta0.shape:
                raise ExerciseError(f"at step {t} the returned {name} has shape {x.shape}, expected "
                                    f"{theta0.shape} (the shape of theta)")
            if not np.all(np.isfinite(x)):
                raise ExerciseError(f"at step {t} the returned {name} contains NaN or infinity"
                                    + (": t starts at 1, so the corrections 1 - beta**t are never 0"
                                       if t == 1 else ""))
        out.append(theta)
    return np.array(out)


@exercise("ch08-adam-step")
def check_adam_step(adam_step, seed: int = 0):
    """Run the reader's adam_step for 50 steps next to vg.optim.Adam."""
    if not callable(adam_step):
        raise ExerciseError(f"pass your function itself, adam_step, not {type(adam_step).__name__}")
    grads = _gradients(seed=seed)
    theta0 = np.random.default_rng(seed + 1).standard_normal(grads.shape[1])
    ref = _reference(grads, theta0, **_HP)
    got = _run_reader(adam_step, grads, theta0, _HP)
    if _close(got, ref):
        return "Correct: 50 steps agree with vg.optim.Adam (and so with torch.optim.Adam)."
    for mistake, hint in _HINTS.items():
        if _close(got, _variant(grads, theta0, **_HP, mistake=mistake)):
            raise ExerciseError(hint)
    if _close(got, _reference(grads, theta0, **_DEFAULTS)):
        raise ExerciseError("your function ignores its lr, betas or eps arguments: the check passes "
                            f"{_HP}, and your steps match Adam's defaults instead")
    b1, b2 = _HP["betas"]
    if _close(got, _reference(grads, theta0, _HP["lr"], (b2, b1), _HP["eps"])):
        raise ExerciseError("beta1 and beta2 are swapped: beta1 (0.8 here) is for m, beta2 (0.99) for v")
    first = int(np.argmax([not _close(got[k], ref[k]) for k in range(len(ref))]))
    raise ExerciseError(f"theta differs from vg.optim.Adam from step {first + 1} on (relative error "
                        f"{float(np.max(np.abs(got[first] - ref[first])) / np.max(np.abs(ref[first]))):.1e} "
                        "there): m = beta1 m + (1 - beta1) g, v = beta2 v + (1 - beta2) g*g, "
                        "theta -= lr * m_hat / (sqrt(v_hat) + eps)")


# ----------------------------------------------------------------------------- ch08-eps-half-step

def _half_step_sizes(eps: float) -> tuple[float, float]:
    """|g| with |g| / (|g| + eps) = 1/2, and with |g| / sqrt(g^2 + eps) = 1/2."""
    return eps, math.sqrt(eps / 3)


@exercise("ch08-eps-half-step")
def check_eps_half_step(answer, eps: float = 1e-8, rtol: float = 1e-2):
    """The pair (g_outside, g_inside) where RMSprop's steady-state step is half the learning rate."""
    try:
        g_out, g_in = (float(x) for x in answer)
    except (TypeError, ValueError):
        raise ExerciseError("the answer should be a pair of numbers (g_outside, g_inside)") from None
    if not all(math.isfinite(x) and x > 0 for x in (g_out, g_in)):
        raise ExerciseError(f"both gradient sizes should be positive and finite, got {(g_out, g_in)}")
    want_out, want_in = _half_step_sizes(eps)
    ok_out, ok_in = abs(g_out / want_out - 1) <= rtol, abs(g_in / want_in - 1) <= rtol
    if ok_out and ok_in:
        return (f"Correct: {g_out:.3g} outside and {g_in:.3g} inside, {g_in / g_out:.0f} times larger. "
                "Inside the root eps acts like sqrt(eps) outside it.")
    if abs(g_in / want_out - 1) <= rtol and abs(g_out / want_in - 1) <= rtol:
        raise ExerciseError("the two sizes are swapped: the pair is (g_outside, g_inside), and eps inside "
                            "the root affects much larger gradients")
    if not ok_out:
        ratio = g_out / (g_out + eps)
        raise ExerciseError(f"with eps outside the root, |g| = {g_out:.3g} gives a steady-state step of "
                            f"{ratio:.3g} lr, not 0.5 lr: solve |g| / (|g| + eps) = 1/2")
    ratio = g_in / math.sqrt(g_in ** 2 + eps)
    if abs(g_in / math.sqrt(eps) - 1) <= rtol:
        raise ExerciseError(f"at |g| = sqrt(eps) the step with eps inside the root is {ratio:.3f} lr, not "
                            "0.5 lr: solve |g| / sqrt(g**2 + eps) = 1/2 (square both sides)")
    raise ExerciseError(f"with eps inside the root, |g| = {g_in:.3g} gives a steady-state step of "
                        f"{ratio:.3g} lr, not 0.5 lr: solve |g| / sqrt(g**2 + eps) = 1/2")


__all__ = ["check_adam_step", "check_eps_half_step"]
