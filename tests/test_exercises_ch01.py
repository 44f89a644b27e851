"""The checks of chapter 1's exercises: right answers pass, typical wrong ones get a specific hint."""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError


# ----------------------------------------------------------------------------- ch01-backprop
# The reference answer is written out here from the chain rule (not taken from vglab), for the
# network y_hat = tanh(X W1 + b1) W2 + b2 with L = mean((y_hat - T)**2).

def backward_right(X, T, W1, b1, W2, b2):
    N = X.shape[0]
    a1 = np.tanh(X @ W1 + b1)                       # (N, H)
    y_hat = a1 @ W2 + b2                            # (N, 1)
    delta2 = 2 * (y_hat - T) / N                    # (N, 1)
    delta1 = (delta2 @ W2.T) * (1 - a1 ** 2)        # (N, H)
    return {"W1": X.T @ delta1, "b1": delta1.sum(axis=0), "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}


def variant(**changes):
    """backward_right with one gradient (or the whole result) replaced."""
    def backward(X, T, W1, b1, W2, b2):
        grads = backward_right(X, T, W1, b1, W2, b2)
        for key, fn in changes.items():
            grads[key] = fn(X, T, W1, b1, W2, b2, grads)
        return grads
    return backward


def test_backprop_accepts_the_right_answer(capsys):
    message = vg.exercises.check("ch01-backprop", backward_right)
    assert message.startswith("Correct")
    assert "[ch01-backprop] Correct" in capsys.readouterr().out


def test_backprop_accepts_loss_and_grads_like_the_chapter():
    def backward(X, T, W1, b1, W2, b2):
        return 0.0, backward_right(X, T, W1, b1, W2, b2)
    assert vg.exercises.check("ch01-backprop", backward).startswith("Correct")


def test_backprop_is_not_fooled_by_in_place_updates():
    def backward(X, T, W1, b1, W2, b2):
        grads = backward_right(X, T, W1, b1, W2, b2)
        W1 -= 0.1 * grads["W1"]                       # a reader who also takes a step
        return grads
    assert vg.exercises.check("ch01-backprop", backward).startswith("Correct")
    assert vg.exercises.check("ch01-backprop", backward).startswith("Correct")


def test_backprop_rejects_the_output_tanh_prime():
    def backward(X, T, W1, b1, W2, b2):
        N = X.shape[0]
        a1 = np.tanh(X @ W1 + b1)
        y_hat = a1 @ W2 + b2
        delta2 = 2 * (y_hat - T) / N * (1 - y_hat ** 2)   # as if the output had a tanh
        delta1 = (delta2 @ W2.T) * (1 - a1 ** 2)
        return {"W1": X.T @ delta1, "b1": delta1.sum(0), "W2": a1.T @ delta2, "b2": delta2.sum(0)}
    with pytest.raises(ExerciseError, match=r"output layer is linear"):
        vg.exercises.check("ch01-backprop", backward)


def test_backprop_rejects_a_missing_hidden_tanh_prime():
    def dW1(X, T, W1, b1, W2, b2, g):
        delta2 = 2 * (np.tanh(X @ W1 + b1) @ W2 + b2 - T) / X.shape[0]
        return X.T @ (delta2 @ W2.T)
    with pytest.raises(ExerciseError, match=r"misses the hidden layer's tanh'"):
        vg.exercises.check("ch01-backprop", variant(W1=dW1))


def test_backprop_rejects_a_dW1_that_ignores_the_target():
    # The common mistake: the hidden layer's "chain rule" set to 1, so dW1 = X.T @ ones.
    def dW1(X, T, W1, b1, W2, b2, g):
        return X.T @ np.ones((X.shape[0], W1.shape[1]))
    with pytest.raises(ExerciseError, match=r"does not change when the targets change"):
        vg.exercises.check("ch01-backprop", variant(W1=dW1))


def test_backprop_rejects_a_transposed_weight_gradient():
    with pytest.raises(ExerciseError, match=r"dW1 has shape \(5, 3\), expected \(3, 5\).*transposed"):
        vg.exercises.check("ch01-backprop", variant(W1=lambda *a: a[-1]["W1"].T))


def test_backprop_rejects_a_bias_gradient_with_keepdims():
    with pytest.raises(ExerciseError, match=r"db1 has shape \(1, 5\), expected \(5,\).*without keepdims"):
        vg.exercises.check("ch01-backprop", variant(b1=lambda *a: a[-1]["b1"][None, :]))


def test_backprop_rejects_a_missing_mean():
    def backward(X, T, W1, b1, W2, b2):            # the sum of squares instead of the mean
        grads = backward_right(X, T, W1, b1, W2, b2)
        return {k: v * X.shape[0] for k, v in grads.items()}
    with pytest.raises(ExerciseError, match=r"every gradient is 7 times the right one"):
        vg.exercises.check("ch01-backprop", backward)


def test_backprop_rejects_the_wrong_sign():
    def backward(X, T, W1, b1, W2, b2):
        return {k: -v for k, v in backward_right(X, T, W1, b1, W2, b2).items()}
    with pytest.raises(ExerciseError, match=r"wrong sign"):
        vg.exercises.check("ch01-backprop", backward)


def test_backprop_rejects_a_wrong_output_bias_gradient():
    with pytest.raises(ExerciseError, match=r"db2 is wrong"):
        vg.exercises.check("ch01-backprop", variant(b2=lambda *a: a[-1]["b2"] + 1.0))


def test_backprop_rejects_a_wrong_hidden_bias_gradient():
    with pytest.raises(ExerciseError, match=r"db1 is wrong .* while dW2 and db2 are right"):
        vg.exercises.check("ch01-backprop", variant(b1=lambda *a: 0 * a[-1]["b1"]))


def test_backprop_rejects_missing_keys_and_non_functions():
    with pytest.raises(ExerciseError, match=r"keys W1, b1, W2, b2; got \['W1', 'W2'\]"):
        vg.exercises.check("ch01-backprop", lambda *a: {"W1": 0, "W2": 0})
    with pytest.raises(ExerciseError, match=r"pass your function itself"):
        vg.exercises.check("ch01-backprop", backward_right(*[np.ones((2, 2))] * 6))


def test_backprop_rejects_nan():
    with pytest.raises(ExerciseError, match=r"dW2 contains NaN"):
        vg.exercises.check("ch01-backprop", variant(W2=lambda *a: a[-1]["W2"] * np.nan))


# ----------------------------------------------------------------------------- ch01-max-lr
# Quadratic(condition=25): eigenvalues 1 and 25 whatever the rotation, so 2/L = 0.08.

def test_max_lr_accepts_two_over_L():
    assert vg.exercises.check("ch01-max-lr", 0.08).startswith("Correct")
    assert vg.exercises.check("ch01-max-lr", np.float64(0.0799)).startswith("Correct")


def test_max_lr_rejects_one_over_L():
    with pytest.raises(ExerciseError, match=r"is 1/L"):
        vg.exercises.check("ch01-max-lr", 1 / 25)


def test_max_lr_rejects_two_over_the_smallest_eigenvalue():
    with pytest.raises(ExerciseError, match=r"smallest eigenvalue.*diverges"):
        vg.exercises.check("ch01-max-lr", 2.0)


def test_max_lr_rejects_a_diverging_step():
    with pytest.raises(ExerciseError, match=r"diverges.*\|1 - alpha \* L\| = 1.5 > 1"):
        vg.exercises.check("ch01-max-lr", 0.1)


def test_max_lr_rejects_a_step_that_is_stable_but_not_the_largest():
    with pytest.raises(ExerciseError, match=r"converges \(\|1 - alpha \* L\| = 0.25 < 1"):
        vg.exercises.check("ch01-max-lr", 0.03)


@pytest.mark.parametrize("answer", [float("nan"), -0.08, 0.0, "fast"])
def test_max_lr_rejects_non_step_sizes(answer):
    with pytest.raises(ExerciseError, match=r"positive finite step size|should be a number"):
        vg.exercises.check("ch01-max-lr", answer)


def test_max_lr_answer_really_is_the_stability_limit():
    # Independent of the check: gradient descent just below 2/L converges, just above diverges.
    Q = vg.data.Quadratic(condition=25, angle=0.3)
    for alpha, converges in [(0.079, True), (0.081, False)]:
        theta = np.array([1.0, 1.0])
        for _ in range(3000):
            theta = theta - alpha * Q.grad(theta)
        assert (np.linalg.norm(theta) < 1e-6) == converges
