"""vglab.exercises.ch06: each check accepts the right answer and rejects typical wrong ones with a specific hint.

The right answers are computed here independently of the checks: the block's Jacobian with
PyTorch's autograd (and with vglab's own backward pass), the channel counts by concatenating
arrays, the variance growth by iterating the recursion.
"""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check
from vglab.exercises.ch06 import JACOBIAN_X, block_for_exercise


# ------------------------------------------------------------------ ch06-block-jacobian

@pytest.fixture(scope="module")
def jacobians(torch):
    """(the Jacobian by torch's autograd, the branch's Jacobian, its transpose, without the ReLU mask)."""
    block = block_for_exercise()
    t_block = vg.interop.to_torch(block)
    x = torch.tensor(JACOBIAN_X, dtype=torch.float64)
    full = torch.autograd.functional.jacobian(t_block, x).numpy()
    branch = torch.autograd.functional.jacobian(t_block.block, x).numpy()
    W1 = vg.to_numpy(block.block[0].weight.data)
    W2 = vg.to_numpy(block.block[2].weight.data)
    return full, branch, W1, W2


def test_block_jacobian_accepts_the_right_answer(jacobians, torch):
    full, branch, _, _ = jacobians
    assert np.allclose(full - branch, np.eye(4), atol=1e-12)          # the identity path, by autograd
    block = block_for_exercise()
    block(np.tile(np.array(JACOBIAN_X), (4, 1)))
    by_vglab = vg.to_numpy(block.backward(np.eye(4)))                 # row i: d y_i / d x
    assert np.allclose(by_vglab, full, atol=1e-12)
    assert "Correct" in check("ch06-block-jacobian", full)
    assert "Correct" in check("ch06-block-jacobian", torch.tensor(full))
    assert "Correct" in check("ch06-block-jacobian", full.tolist())


def test_block_jacobian_rejects_typical_mistakes(jacobians):
    full, branch, W1, W2 = jacobians
    with pytest.raises(ExerciseError, match="identity path is missing"):
        check("ch06-block-jacobian", branch)
    with pytest.raises(ExerciseError, match="transpose"):
        check("ch06-block-jacobian", full.T)
    with pytest.raises(ExerciseError, match="ReLU's derivative is missing"):
        check("ch06-block-jacobian", np.eye(4) + W2 @ W1)
    x_mask = np.diag((np.array(JACOBIAN_X) > 0).astype(float))
    with pytest.raises(ExerciseError, match="taken at the block's input x"):
        check("ch06-block-jacobian", np.eye(4) + W2 @ x_mask @ W1)
    with pytest.raises(ExerciseError, match="shape \\(3, 3\\), expected \\(4, 4\\)"):
        check("ch06-block-jacobian", full[:3, :3])
    with pytest.raises(ExerciseError, match="relative error"):
        check("ch06-block-jacobian", full + 0.01)
    with pytest.raises(ExerciseError, match="expected a 4 x 4 array, got float"):
        check("ch06-block-jacobian", 1.0)


def test_block_jacobian_leaves_the_readers_generator_alone(jacobians):
    vg.manual_seed(123)
    expected = np.random.default_rng(123).standard_normal(3)
    check("ch06-block-jacobian", jacobians[0])
    assert np.array_equal(vg.backend.rng().standard_normal(3), expected)


# ------------------------------------------------------------------ ch06-dense-channels

def concatenated_channels(c0, k, L):
    """Build the concatenation with arrays of the right widths and count."""
    features = [np.zeros((1, c0, 2, 2))]
    for _ in range(L):
        new = np.zeros((1, k, 2, 2))                   # what layer l adds, from all earlier features
        features.append(new)
    return np.concatenate(features, axis=1).shape[1]


def test_dense_channels_accepts_the_right_answer():
    assert concatenated_channels(8, 4, 3) == 20
    assert "Correct" in check("ch06-dense-channels", concatenated_channels)
    assert "Correct" in check("ch06-dense-channels", lambda c0, k, L: np.int64(c0 + L * k))


@pytest.mark.parametrize("wrong, hint", [
    (lambda c0, k, L: L * k, "block's input is part of its output"),
    (lambda c0, k, L: c0 + (L - 1) * k, "one growth step short"),
    (lambda c0, k, L: c0, "what a residual block outputs"),
    (lambda c0, k, L: c0 * 2 ** L, "doubles the channels"),
    (lambda c0, k, L: c0 + L * k + (c0 == 3), "channels\\(3, 5, 10\\) = 54, expected 53"),
])
def test_dense_channels_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch06-dense-channels", wrong)


def test_dense_channels_rejects_non_functions_and_broken_ones():
    with pytest.raises(ExerciseError, match="expected a function channels\\(c0, k, L\\), got int"):
        check("ch06-dense-channels", 20)
    with pytest.raises(ExerciseError, match="raised ZeroDivisionError"):
        check("ch06-dense-channels", lambda c0, k, L: 1 / 0)


# ------------------------------------------------------------------ ch06-variance-growth

def iterated_growth(alpha, L):
    """Var(x_{l+1}) = Var(x_l) + alpha Var(x_l), iterated L times from 1."""
    v = 1.0
    for _ in range(L):
        v = v + alpha * v
    return v


def test_variance_growth_accepts_the_right_answer():
    assert "Correct" in check("ch06-variance-growth", iterated_growth)
    assert "Correct" in check("ch06-variance-growth", lambda a, L: np.float64(1 + a) ** L)


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, L: 1 + a * L, "grows linearly"),
    (lambda a, L: a ** L, "no identity term"),
    (lambda a, L: (1 + a) ** (L - 1), "one block short"),
    (lambda a, L: (1 + a) ** (L / 2), "standard deviation"),
    (lambda a, L: (1 + a) ** L * (1.1 if L == 10 else 1), "growth\\(0.5, 10\\)"),
])
def test_variance_growth_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch06-variance-growth", wrong)


def test_variance_growth_rejects_non_functions():
    with pytest.raises(ExerciseError, match="expected a function growth\\(alpha, L\\), got float"):
        check("ch06-variance-growth", 3.0)
    with pytest.raises(ExerciseError, match="should be a number, got None"):
        check("ch06-variance-growth", lambda a, L: None)
