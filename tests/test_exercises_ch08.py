"""The checks of chapter 8's exercises: right answers pass, typical wrong ones get a specific hint."""

import math

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError
from vglab.exercises import ch08

try:
    import torch     # for the helpers; a test that needs torch asks for the `torch` fixture, which skips without it
except ImportError:
    torch = None


# ----------------------------------------------------------------------------- ch08-adam-step
# The right answer is written out here from Kingma & Ba's Algorithm 1, not taken from vglab.

def adam_right(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    return theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), m, v


def test_the_reference_is_torch_adam(torch):
    """The check's reference trajectory equals torch.optim.Adam on the same gradients."""
    grads = ch08._gradients()
    theta0 = np.random.default_rng(1).standard_normal(grads.shape[1])
    ref = ch08._reference(grads, theta0, **ch08._HP)
    t = torch.tensor(theta0.copy(), requires_grad=True)
    opt = torch.optim.Adam([t], **ch08._HP)
    for k, g in enumerate(grads):
        t.grad = torch.tensor(g)
        opt.step()
        assert np.max(np.abs(t.detach().numpy() - ref[k])) <= 1e-13 * np.max(np.abs(ref[k]))
    assert np.abs(grads[:, -1]).max() < 1e-8 < np.abs(grads[:, 0]).min()   # entries below and above eps


def test_adam_step_accepts_the_right_answer(capsys):
    assert vg.exercises.check("ch08-adam-step", adam_right).startswith("Correct")
    assert "[ch08-adam-step] Correct" in capsys.readouterr().out


def test_adam_step_accepts_the_efficient_form():
    def efficient(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        b1, b2 = betas
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        step = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        eps_hat = eps * math.sqrt(1 - b2 ** t)                  # Kingma & Ba's eps-hat, same rule
        return theta - step * m / (np.sqrt(v) + eps_hat), m, v
    assert vg.exercises.check("ch08-adam-step", efficient).startswith("Correct")


def variant(change):
    def adam_step(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        return change(theta, g, m, v, t, lr, betas, eps)
    return adam_step


def misstated(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    return theta - lr / np.sqrt(1 - b2 ** t) * m / (np.sqrt(v) + eps), m, v


def no_correction(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    return theta - lr * m / (np.sqrt(v) + eps), m, v


def eps_inside(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    return theta - lr * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t) + eps), m, v


def v_from_m(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * m ** 2
    return theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), m, v


def only_m_corrected(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    return theta - lr * (m / (1 - b1 ** t)) / (np.sqrt(v) + eps), m, v


def stores_corrected(theta, g, m, v, t, lr, betas, eps):
    b1, b2 = betas
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g ** 2
    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


@pytest.mark.parametrize("wrong, pattern", [
    (misstated, r"misstated bias correction"),
    (no_correction, r"there is no bias correction"),
    (eps_inside, r"eps is inside the square root"),
    (v_from_m, r"squared gradient, g \* g, not of m \* m"),
    (only_m_corrected, r"m is bias-corrected but v is not"),
    (stores_corrected, r"not the bias-corrected m_hat and v_hat"),
])
def test_adam_step_recognises_typical_mistakes(wrong, pattern):
    with pytest.raises(ExerciseError, match=pattern):
        vg.exercises.check("ch08-adam-step", variant(wrong))


def test_adam_step_rejects_ignored_arguments():
    def hard_coded(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        return adam_right(theta, g, m, v, t)                # always the defaults
    with pytest.raises(ExerciseError, match=r"ignores its lr, betas or eps arguments"):
        vg.exercises.check("ch08-adam-step", hard_coded)


def test_adam_step_rejects_swapped_betas():
    def swapped(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        return adam_right(theta, g, m, v, t, lr, betas[::-1], eps)
    with pytest.raises(ExerciseError, match=r"beta1 and beta2 are swapped"):
        vg.exercises.check("ch08-adam-step", swapped)


def test_adam_step_rejects_t_from_zero():
    def from_zero(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        with np.errstate(divide="ignore", invalid="ignore"):
            return adam_right(theta, g, m, v, t - 1, lr, betas, eps)
    with pytest.raises(ExerciseError, match=r"at step 1 the returned theta contains NaN.*t starts at 1"):
        vg.exercises.check("ch08-adam-step", from_zero)


def test_adam_step_rejects_a_wrong_return_value_and_shapes():
    with pytest.raises(ExerciseError, match=r"should return the tuple \(theta, m, v\), got ndarray"):
        vg.exercises.check("ch08-adam-step", lambda *a, **k: adam_right(*a, **k)[0])
    with pytest.raises(ExerciseError, match=r"the returned m has shape \(\), expected \(6,\)"):
        vg.exercises.check("ch08-adam-step", lambda *a, **k: (adam_right(*a, **k)[0], 0.0, adam_right(*a, **k)[2]))
    with pytest.raises(ExerciseError, match=r"pass your function itself"):
        vg.exercises.check("ch08-adam-step", 3.0)


def test_adam_step_reports_where_an_unknown_mistake_starts():
    def late_bug(theta, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        theta, m, v = adam_right(theta, g, m, v, t, lr, betas, eps)
        return (theta + 1e-3 if t == 7 else theta), m, v
    with pytest.raises(ExerciseError, match=r"differs from vg.optim.Adam from step 7 on"):
        vg.exercises.check("ch08-adam-step", late_bug)


# ----------------------------------------------------------------------------- ch08-eps-half-step

def steady_step_torch(g, eps, steps=200):
    """step / lr of torch.optim.RMSprop after `steps` steps of the constant gradient g (eps outside).

    The steady state v = g^2 does not depend on alpha; alpha = 0.5 reaches it within 200 steps.
    """
    t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.RMSprop([t], lr=1.0, alpha=0.5, eps=eps)
    for _ in range(steps):
        before = t.item()
        t.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
    return before - t.item()


def steady_step_inside(g, eps, rho=0.99, steps=3000):
    v = 0.0
    for _ in range(steps):
        v = rho * v + (1 - rho) * g * g
    return g / math.sqrt(v + eps)


def bisect(f, lo, hi, target=0.5, iters=80):
    """The x in [lo, hi] (log scale) with f(x) = target, f increasing."""
    for _ in range(iters):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if f(mid) < target else (lo, mid)
    return math.sqrt(lo * hi)


def test_eps_half_step_reference_is_what_the_optimisers_do(torch):
    g_out = bisect(lambda g: steady_step_torch(g, 1e-8), 1e-12, 1e-4, iters=50)
    g_in = bisect(lambda g: steady_step_inside(g, 1e-8), 1e-12, 1.0)
    want_out, want_in = ch08._half_step_sizes(1e-8)
    assert g_out == pytest.approx(want_out, rel=1e-9)
    assert g_in == pytest.approx(want_in, rel=1e-6)


def test_eps_half_step_accepts_the_right_answer():
    assert vg.exercises.check("ch08-eps-half-step", (1e-8, 5.7735e-5)).startswith("Correct")
    assert vg.exercises.check("ch08-eps-half-step", np.array([1.004e-8, 5.75e-5])).startswith("Correct")


@pytest.mark.parametrize("answer, pattern", [
    ((5.7735e-5, 1e-8), r"swapped"),
    ((1e-8, 1e-4), r"at \|g\| = sqrt\(eps\) the step .* is 0.707 lr"),
    ((2e-8, 5.7735e-5), r"eps outside the root, \|g\| = 2e-08 gives a steady-state step of 0.667 lr"),
    ((1e-8, 1e-5), r"eps inside the root, \|g\| = 1e-05 gives a steady-state step of 0.0995 lr"),
    ((1e-8,), r"pair of numbers"),
    ("small", r"pair of numbers"),
    ((0.0, 1e-4), r"positive and finite"),
    ((float("nan"), 1e-4), r"positive and finite"),
])
def test_eps_half_step_hints(answer, pattern):
    with pytest.raises(ExerciseError, match=pattern):
        vg.exercises.check("ch08-eps-half-step", answer)
