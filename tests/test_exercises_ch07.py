"""vglab.exercises.ch07: each check accepts the right answer and rejects typical wrong ones with a specific hint.

The right answers are computed here independently of the checks: with PyTorch's autograd through
``torch.nn.functional.batch_norm`` for the backward pass, with ``torch.nn.BatchNorm1d`` for the
running statistics, and with vglab's ``nn.BatchNorm1d`` for the train/eval difference.
"""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check


# ------------------------------------------------------------------ ch07-backward

def torch_backward(torch):
    """A function bn_backward(dy, x, gamma, eps) computed with torch's autograd."""
    def bn_backward(dy, x, gamma, eps=1e-5):
        xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        g = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        y = torch.nn.functional.batch_norm(xt, None, None, g, b, training=True, eps=eps)
        (y * torch.tensor(dy)).sum().backward()
        return xt.grad.numpy(), g.grad.numpy(), b.grad.numpy()
    return bn_backward


def closed_form(dy, x, gamma, eps=1e-5):
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    inv_std = 1 / np.sqrt(x.var(0) + eps)
    return (gamma * inv_std * (dy - dy.mean(0) - xhat * (dy * xhat).mean(0)),
            (dy * xhat).sum(0), dy.sum(0))


def test_backward_accepts_the_right_answer(torch):
    assert "Correct" in check("ch07-backward", torch_backward(torch))
    assert "Correct" in check("ch07-backward", closed_form)


def _no_stats(dy, x, gamma, eps=1e-5):
    dx, dg, db = closed_form(dy, x, gamma, eps)
    return gamma * dy / np.sqrt(x.var(0) + eps), dg, db


def _mean_only(dy, x, gamma, eps=1e-5):
    dx, dg, db = closed_form(dy, x, gamma, eps)
    return gamma * (dy - dy.mean(0)) / np.sqrt(x.var(0) + eps), dg, db


def _var_only(dy, x, gamma, eps=1e-5):
    dx, dg, db = closed_form(dy, x, gamma, eps)
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return gamma * (dy - xhat * (dy * xhat).mean(0)) / np.sqrt(x.var(0) + eps), dg, db


def _no_gamma(dy, x, gamma, eps=1e-5):
    return closed_form(dy, x, np.ones_like(gamma), eps)[0], *closed_form(dy, x, gamma, eps)[1:]


def _unbiased(dy, x, gamma, eps=1e-5):
    xhat = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps)
    inv_std = 1 / np.sqrt(x.var(0, ddof=1) + eps)
    return (gamma * inv_std * (dy - dy.mean(0) - xhat * (dy * xhat).mean(0)),
            (dy * xhat).sum(0), dy.sum(0))


def _mean_dbeta(dy, x, gamma, eps=1e-5):
    dx, dg, db = closed_form(dy, x, gamma, eps)
    return dx, dg, dy.mean(0)


@pytest.mark.parametrize("wrong, hint", [
    (_no_stats, "treats the batch mean and variance as constants"),
    (_mean_only, "not the one through the variance"),
    (_var_only, "not the one through the mean"),
    (_no_gamma, "missing the factor gamma"),
    (_unbiased, "unbiased variance"),
    (_mean_dbeta, "dbeta is the mean"),
    (lambda dy, x, gamma, eps=1e-5: closed_form(dy, x, gamma, eps)[:2], "should return 3 arrays"),
    (lambda dy, x, gamma, eps=1e-5: 1 / 0, "raised ZeroDivisionError"),
])
def test_backward_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch07-backward", wrong)


def test_backward_rejects_a_non_function():
    with pytest.raises(ExerciseError, match="expected a function"):
        check("ch07-backward", np.zeros(3))


# ------------------------------------------------------------------ ch07-running-stats

def torch_running_stats(torch):
    def running_stats(batches, momentum=0.1):
        bn = torch.nn.BatchNorm1d(batches[0].shape[1], momentum=momentum, dtype=torch.float64)
        for b in batches:
            bn(torch.tensor(b))
        return bn.running_mean.numpy().copy(), bn.running_var.numpy().copy()
    return running_stats


def vglab_running_stats(batches, momentum=0.1):
    bn = vg.nn.BatchNorm1d(batches[0].shape[1], momentum=momentum)
    for b in batches:
        bn(b)
    return vg.to_numpy(bn.running_mean), vg.to_numpy(bn.running_var)


def test_running_stats_accepts_the_right_answer(torch):
    assert "Correct" in check("ch07-running-stats", torch_running_stats(torch))
    assert "Correct" in check("ch07-running-stats", vglab_running_stats)


def _update(batches, momentum, keep, ddof, start):
    mean = var = None
    if start:
        mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for b in batches:
        if mean is None:
            mean, var = b.mean(0), b.var(0, ddof=ddof)
            continue
        k = keep(momentum)
        mean, var = k * mean + (1 - k) * b.mean(0), k * var + (1 - k) * b.var(0, ddof=ddof)
    return mean, var


@pytest.mark.parametrize("wrong, hint", [
    (lambda bs, momentum=0.1: _update(bs, momentum, lambda m: m, 1, True), "weights the \\*new\\* batch"),
    (lambda bs, momentum=0.1: _update(bs, momentum, lambda m: 1 - m, 0, True), "unbiased variance"),
    (lambda bs, momentum=0.1: _update(bs, momentum, lambda m: 1 - m, 1, False), "starts from running_mean = 0"),
    (lambda bs, momentum=0.1: _update(bs, momentum, lambda m: m, 0, True), "two things"),
    (lambda bs, momentum=0.1: _update(bs, 0.1, lambda m: 1 - m, 1, True), "momentum=0.3"),
    (lambda bs, momentum=0.1: (bs[-1].mean(0), bs[-1].var(0)), "running_mean"),
])
def test_running_stats_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch07-running-stats", wrong)


# ------------------------------------------------------------------ ch07-train-eval

def vglab_difference(updated=True):
    with vg.backend.using("numpy", dtype="float64"):
        X = vg.data.digits().X_train[:60]
        bn = vg.nn.BatchNorm1d(64)
        train_out = bn(X)[0]
        if not updated:
            bn = vg.nn.BatchNorm1d(64)
        bn.eval()
        with vg.no_grad():
            eval_out = bn(X)[0]
    return float(np.abs(train_out - eval_out).max())


def test_train_eval_accepts_the_right_answer():
    right = vglab_difference()
    assert 0.1 < right < 5
    assert "Correct" in check("ch07-train-eval", right)
    assert "Correct" in check("ch07-train-eval", np.float64(right))


def test_train_eval_rejects_typical_mistakes():
    with pytest.raises(ExerciseError, match="never updated"):
        check("ch07-train-eval", vglab_difference(updated=False))
    with pytest.raises(ExerciseError, match="uses the running"):
        check("ch07-train-eval", 0.0)
    with pytest.raises(ExerciseError, match="off by"):
        check("ch07-train-eval", vglab_difference() + 0.01)
    with pytest.raises(ExerciseError, match="should be a single number"):
        check("ch07-train-eval", "0.65")


def test_train_eval_hints_at_the_biased_running_variance():
    X = vg.to_numpy(vg.data.digits().X_train[:60])
    mu, var = X.mean(0), X.var(0)
    train_out = (X[0] - mu) / np.sqrt(var + 1e-5)
    eval_out = (X[0] - 0.1 * mu) / np.sqrt(0.9 + 0.1 * var + 1e-5)      # biased: the mistake
    with pytest.raises(ExerciseError, match="unbiased variance"):
        check("ch07-train-eval", float(np.abs(train_out - eval_out).max()))
