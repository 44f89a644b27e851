r"""Checks for the exercises of chapter 7: batch normalisation.

* ``ch07-backward``: a function ``bn_backward(dy, x, gamma, eps=1e-5)`` returning
  ``(dx, dgamma, dbeta)`` for batch normalisation in training mode, x of shape (m, C).
* ``ch07-running-stats``: a function ``running_stats(batches, momentum=0.1)`` returning the
  ``(running_mean, running_var)`` of a fresh ``BatchNorm1d`` after a training-mode pass over each
  (m, C) array of ``batches``: start at 0 and 1, weight ``momentum`` on the new batch, unbiased
  variance.
* ``ch07-train-eval``: the largest absolute difference between the training-mode output of a fresh
  ``BatchNorm1d(64)`` for digit 0 of ``digits().X_train[:60]`` and its evaluation-mode output after
  that one training-mode pass (a float).

The references are written here in NumPy from the formulas, not with vglab's layers.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from . import ExerciseError, close, exercise
from .ch00 import _number

__all__ = ["bn_backward", "running_stats", "train_eval_difference"]

EPS = 1e-5


def _call(name, fn, *args, **kwargs):
    """Call the reader's function; any error it raises becomes a hint."""
    try:
        return fn(*args, **kwargs)
    except ExerciseError:
        raise
    except Exception as err:  # noqa: BLE001 - the reader's function, any error
        raise ExerciseError(f"{name} raised {type(err).__name__}: {err}") from None


def _arrays(name, out, count):
    if not isinstance(out, (tuple, list)) or len(out) != count:
        raise ExerciseError(f"{name} should return {count} arrays, got {type(out).__name__}"
                            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
    return [None if a is None else np.asarray(backend.to_numpy(a) if backend.is_torch(a) else a, dtype=float)
            for a in out]


def _matches(got, ref, tol=1e-8):
    return got is not None and got.shape == ref.shape and np.allclose(got, ref, rtol=tol, atol=tol * np.abs(ref).max())


# ------------------------------------------------------------------ ch07-backward

def bn_backward(dy, x, gamma, eps=EPS):
    """The closed form: dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))."""
    mu, var = x.mean(0), x.var(0)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv_std
    dx = gamma * inv_std * (dy - dy.mean(0) - xhat * (dy * xhat).mean(0))
    return dx, (dy * xhat).sum(0), dy.sum(0)


def _backward_cases():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 5)) * np.array([0.5, 1.0, 2.0, 3.0, 0.1]) + np.array([1.0, -2.0, 0.0, 5.0, 0.3])
    dy = rng.standard_normal((16, 5))
    gamma = np.array([1.0, 2.0, 0.5, -1.5, 3.0])
    return dy, x, gamma


@exercise("ch07-backward")
def _check_backward(answer):
    if not callable(answer):
        raise ExerciseError(f"expected a function bn_backward(dy, x, gamma, eps=1e-5), got {type(answer).__name__}")
    dy, x, gamma = _backward_cases()
    dx, dgamma, dbeta = _arrays("bn_backward", _call("bn_backward", answer, dy.copy(), x.copy(), gamma.copy()), 3)
    ref_dx, ref_dgamma, ref_dbeta = bn_backward(dy, x, gamma)
    if dbeta is not None and _matches(dbeta, dy.mean(0)):
        raise ExerciseError("dbeta is the mean of dy over the batch; it is the sum: beta is added to every example")
    if dgamma is not None and _matches(dgamma, ref_dgamma / x.shape[0]):
        raise ExerciseError("dgamma is the mean of dy * xhat over the batch; it is the sum")
    m = x.shape[0]
    xhat_unb = (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + EPS)
    if dgamma is not None and _matches(dgamma, (dy * xhat_unb).sum(0), tol=1e-6):
        raise ExerciseError("you normalised with the unbiased variance (dividing by m - 1); batch normalisation "
                            "normalises with the biased one, dividing by m (only running_var is unbiased)")
    close("dbeta", dbeta, ref_dbeta, tol=1e-8)
    close("dgamma", dgamma, ref_dgamma, tol=1e-8)
    if dx is None or dx.shape != ref_dx.shape:
        close("dx", dx, ref_dx)
    inv_std = 1.0 / np.sqrt(x.var(0) + EPS)
    xhat = (x - x.mean(0)) * inv_std
    if _matches(dx, gamma * inv_std * dy):
        raise ExerciseError("dx treats the batch mean and variance as constants (gamma * dy / sigma): they depend "
                            "on every x of the column, which adds the terms -mean(dy) and -xhat * mean(dy * xhat)")
    if _matches(dx, gamma * inv_std * (dy - dy.mean(0))):
        raise ExerciseError("dx has the term through the mean but not the one through the variance: "
                            "subtract xhat * mean(dy * xhat) as well")
    if _matches(dx, gamma * inv_std * (dy - xhat * (dy * xhat).mean(0))):
        raise ExerciseError("dx has the term through the variance but not the one through the mean: "
                            "subtract mean(dy) as well")
    if _matches(dx, inv_std * (dy - dy.mean(0) - xhat * (dy * xhat).mean(0))):
        raise ExerciseError("dx is missing the factor gamma: dL/dxhat = gamma * dy")
    if _matches(dx, gamma * inv_std * (dy - dy.mean(0) - xhat * (dy * xhat).sum(0))):
        raise ExerciseError("the term through the variance has a sum where it needs a mean: "
                            "xhat * mean(dy * xhat), a factor 1/m")
    close("dx", dx, ref_dx, tol=1e-8)
    return ("Correct: the gradient through the batch statistics sums to zero over each column "
            f"(here to {np.abs(ref_dx.sum(0)).max():.0e}).")


# ------------------------------------------------------------------ ch07-running-stats

def running_stats(batches, momentum=0.1):
    """running <- (1 - momentum) running + momentum * batch statistic, unbiased variance."""
    mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    for b in batches:
        mean = (1 - momentum) * mean + momentum * b.mean(0)
        var = (1 - momentum) * var + momentum * b.var(0, ddof=1)
    return mean, var


def _variant(batches, momentum, swap=False, biased=False, start_first=False):
    """Typical mistakes: momentum on the old value, the biased variance, starting from the first batch."""
    mean = var = None
    if not start_first:
        mean, var = np.zeros(batches[0].shape[1]), np.ones(batches[0].shape[1])
    keep, new = (momentum, 1 - momentum) if swap else (1 - momentum, momentum)
    for b in batches:
        bm, bv = b.mean(0), b.var(0, ddof=0 if biased else 1)
        if mean is None:
            mean, var = bm, bv
            continue
        mean, var = keep * mean + new * bm, keep * var + new * bv
    return mean, var


def _stats_cases():
    rng = np.random.default_rng(3)
    return [rng.standard_normal((m, 4)) * 2.0 + 1.5 for m in (8, 6, 10, 5)]


@exercise("ch07-running-stats")
def _check_running_stats(answer):
    if not callable(answer):
        raise ExerciseError(f"expected a function running_stats(batches, momentum=0.1), got {type(answer).__name__}")
    batches = _stats_cases()
    for momentum in (0.1, 0.3):
        got = _arrays("running_stats", _call("running_stats", answer, [b.copy() for b in batches],
                                             momentum=momentum), 2)
        ref = running_stats(batches, momentum)
        if all(_matches(g, r) for g, r in zip(got, ref)):
            continue
        hints = (({"swap": True}, "the momentum weights the *new* batch in batch normalisation (PyTorch's "
                  "convention): running = (1 - momentum) * running + momentum * batch"),
                 ({"biased": True}, "running_var uses the unbiased variance of each batch (divide by m - 1, "
                  "ddof=1), although the normalisation itself uses the biased one"),
                 ({"start_first": True}, "a fresh layer starts from running_mean = 0 and running_var = 1, not "
                  "from the first batch's statistics"),
                 ({"swap": True, "biased": True}, "two things: the momentum weights the new batch, and "
                  "running_var uses the unbiased variance (ddof=1)"))
        for kwargs, hint in hints:
            if all(_matches(g, r) for g, r in zip(got, _variant(batches, momentum, **kwargs))):
                raise ExerciseError(f"Not quite: {hint}.")
        close(f"running_mean (momentum={momentum})", got[0], ref[0], tol=1e-8)
        close(f"running_var (momentum={momentum})", got[1], ref[1], tol=1e-8)
    return "Correct: the running estimates match BatchNorm1d's (and PyTorch's) for every batch size and momentum."


# ------------------------------------------------------------------ ch07-train-eval

def _first_batch():
    from ..data import digits
    with backend.using("numpy"):
        return np.asarray(backend.to_numpy(digits(seed=0).X_train[:60]), dtype=float)


def train_eval_difference(x=None, unbiased=True, updated=True):
    """max |train-mode output - eval-mode output| for row 0, gamma = 1, beta = 0, momentum 0.1."""
    x = _first_batch() if x is None else x
    mu, var = x.mean(0), x.var(0)
    train_out = (x[0] - mu) / np.sqrt(var + EPS)
    if updated:
        r_mean = 0.1 * mu
        r_var = 0.9 + 0.1 * (x.var(0, ddof=1) if unbiased else var)
    else:
        r_mean, r_var = np.zeros_like(mu), np.ones_like(var)
    eval_out = (x[0] - r_mean) / np.sqrt(r_var + EPS)
    return float(np.abs(train_out - eval_out).max())


@exercise("ch07-train-eval")
def _check_train_eval(answer):
    value = _number("the largest difference", answer)
    ref = train_eval_difference()
    if abs(value - ref) <= 1e-9 * max(1.0, ref):
        return (f"Correct: {ref:.4f}. After a single batch the running statistics are still 90 % the initial "
                "mean 0 and variance 1, so evaluation mode barely normalises at all.")
    if abs(value) < 1e-12:
        raise ExerciseError("0 would mean that evaluation mode uses the batch's statistics; it uses the running "
                            "estimates, which one batch has moved only 10 % of the way")
    if abs(value - train_eval_difference(updated=False)) <= 1e-9 * max(1.0, ref):
        raise ExerciseError("that is the difference from a layer whose running statistics were never updated "
                            "(mean 0, variance 1): run the training-mode pass first, then switch to eval()")
    if abs(value - train_eval_difference(unbiased=False)) <= 1e-9 * max(1.0, ref):
        raise ExerciseError("the running variance is updated with the unbiased variance of the batch (m - 1)")
    raise ExerciseError(f"off by {abs(value - ref):.2e}: compare layer(batch)[0] in training mode with the "
                        "output for the same digit after layer.eval()")
