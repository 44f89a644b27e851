"""vglab.exercises.ch09: each check accepts the right answer and rejects typical wrong ones with a specific hint.

The right clipping is torch's own ``clip_grad_norm_``; the planted bug is found with ``vg.gradcheck``.
"""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check
from vglab.exercises.ch09 import mystery_layer


# ------------------------------------------------------------------ ch09-clip-norm

def torch_clip(torch):
    def clip(grads, max_norm):
        params = []
        for g in grads:
            p = torch.zeros(g.shape, dtype=torch.float64)
            p.grad = torch.tensor(g, dtype=torch.float64)
            params.append(p)
        torch.nn.utils.clip_grad_norm_(params, max_norm)
        return [p.grad.numpy() for p in params]
    return clip


def test_clip_accepts_torch_and_a_numpy_answer(torch):
    assert "Correct" in check("ch09-clip-norm", torch_clip(torch))

    def mine(grads, max_norm):
        total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
        return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]
    assert "Correct" in check("ch09-clip-norm", mine)


def no_eps(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * min(1.0, max_norm / total) for g in grads]


def separately(grads, max_norm):
    return [g * min(1.0, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]


def always(grads, max_norm):
    total = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    return [g * max_norm / (total + 1e-6) for g in grads]


def by_value(grads, max_norm):
    return [np.clip(g, -max_norm, max_norm) for g in grads]


def returns_none(grads, max_norm):
    vg.clip_grad_norm_  # noqa: B018 - a reader who forgot the return
    return None


@pytest.mark.parametrize("wrong, hint", [
    (no_eps, "norm \\+ 1e-6"),
    (separately, "each array by its own norm"),
    (always, "never enlarges"),
    (by_value, "clipping by value"),
    (returns_none, "returned None"),
    (lambda grads, max_norm: [g * 0.5 for g in grads], "relative error"),
    (lambda grads, max_norm: grads[:1], "returned 1 arrays for 2"),
    (1.0, "should be a function"),
])
def test_clip_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch09-clip-norm", wrong)


# ------------------------------------------------------------------ ch09-find-bug

def test_find_bug_the_gradcheck_finds_the_bias():
    x = np.random.default_rng(0).standard_normal((8, 5))
    report = vg.gradcheck.check_module(mystery_layer(), x)
    assert report.errors["bias"] > 0.5
    assert report.errors["weight"] < 1e-7 and report.errors["input0"] < 1e-7
    assert "Correct" in check("ch09-find-bug", "bias")
    assert "Correct" in check("ch09-find-bug", " Bias ")


def test_find_bug_agrees_with_torch_except_the_bias(torch):
    layer = mystery_layer()
    x = np.random.default_rng(1).standard_normal((8, 5))
    dy = np.random.default_rng(2).standard_normal((8, 3))
    dx = layer.backward(dy) if layer(x) is not None else None
    t = vg.interop.to_torch(vg.nn.Sequential(layer))[0]
    tx = torch.tensor(x, requires_grad=True)
    t(tx).backward(torch.tensor(dy))
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad * 8, t.bias.grad.numpy(), rtol=1e-12)   # averaged: 1/N too small


@pytest.mark.parametrize("wrong, hint", [
    ("weight", "weight gradient passes"),
    ("input", "input gradient passes"),
    ("input0", "input gradient passes"),
    ("everything", "answer 'input', 'weight' or 'bias'"),
    (2, "answer with a string"),
])
def test_find_bug_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch09-find-bug", wrong)
