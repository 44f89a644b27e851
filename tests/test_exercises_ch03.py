"""vglab.exercises.ch03: each check accepts the right answer and rejects typical wrong ones with a specific hint.

The right answers are computed here independently of the checks: with PyTorch's autograd for
GELU's derivative, a torch forward pass for the dead units, and torch's cross-entropy for the floor.
"""

import math

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check


# ------------------------------------------------------------------ ch03-gelu-max

def torch_gelu_slope(torch, z, approximate="none"):
    z = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.gelu(z, approximate=approximate).sum().backward()
    return z.grad.numpy()


def test_gelu_max_accepts_the_right_answer(torch):
    grid = np.linspace(1.0, 2.0, 100001)
    slopes = torch_gelu_slope(torch, grid)
    assert abs(grid[np.argmax(slopes)] - math.sqrt(2)) < 1e-4
    right = float(torch_gelu_slope(torch, [math.sqrt(2)])[0])
    assert "Correct" in check("ch03-gelu-max", right)
    assert "Correct" in check("ch03-gelu-max", np.float64(slopes.max()))


@pytest.mark.parametrize("wrong, hint", [
    (lambda torch: math.sqrt(2), "where the maximum is"),
    (lambda torch: 1.0, "tends to 1 for large z"),
    (lambda torch: 0.5, "GELU'\\(0\\)"),
    (lambda torch: float(torch_gelu_slope(torch, np.linspace(1.0, 2.0, 200001), "tanh").max()), "tanh approximation"),
    (lambda torch: 1.1289, "not to six significant digits"),
    (lambda torch: 1.25, "relative error of 1.07e-01"),
])
def test_gelu_max_rejects_typical_mistakes(torch, wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch03-gelu-max", wrong(torch))


@pytest.mark.parametrize("answer, hint", [("1.13", "string"), (None, "should be a number"),
                                          (float("nan"), "finite number"), ([1.0, 2.0], "single number")])
def test_gelu_max_rejects_non_numbers(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch03-gelu-max", answer)


# ------------------------------------------------------------------ ch03-dead-units

@pytest.fixture(scope="module")
def dead_reference(torch):
    """(dead fractions per hidden layer on the whole training set, on the first 64 rows, the fraction
    of negative entries), from a torch forward pass with the ReLU chapter-0 network's weights."""
    model = vg.models.chapter0_network(activation="relu")
    layers = [m for _, m in vg.diagnostics.weight_layers(model)]
    x = torch.tensor(vg.to_numpy(vg.data.digits().X_train))
    whole, batch, entries = [], [], []
    for m in layers[:-1]:
        z = x @ torch.tensor(vg.to_numpy(m.weight.data)).T + torch.tensor(vg.to_numpy(m.bias.data))
        whole.append(float((z.max(dim=0).values <= 0).double().mean()))
        batch.append(float((z[:64].max(dim=0).values <= 0).double().mean()))
        entries.append(float((z <= 0).double().mean()))
        x = torch.relu(z)
    return np.array(whole), np.array(batch), np.array(entries)


def test_dead_units_accepts_the_right_answer(dead_reference, torch):
    whole, _, _ = dead_reference
    assert whole[0] == 0 and whole.max() > 0.3        # the answer is not trivial
    assert "Correct" in check("ch03-dead-units", whole)
    assert "Correct" in check("ch03-dead-units", list(whole))
    assert "Correct" in check("ch03-dead-units", torch.tensor(whole))


def test_dead_units_rejects_typical_mistakes(dead_reference):
    whole, batch, entries = dead_reference
    assert not np.allclose(batch, whole)
    with pytest.raises(ExerciseError, match="first batch of 64 examples"):
        check("ch03-dead-units", batch)
    with pytest.raises(ExerciseError, match="fraction of \\*entries\\*"):
        check("ch03-dead-units", entries)
    with pytest.raises(ExerciseError, match="percentages"):
        check("ch03-dead-units", 100 * whole)
    with pytest.raises(ExerciseError, match="only the 9 hidden layers count"):
        check("ch03-dead-units", np.append(whole, 0.0))
    with pytest.raises(ExerciseError, match="shape \\(8,\\), expected \\(9,\\)"):
        check("ch03-dead-units", whole[:8])
    with pytest.raises(ExerciseError, match="relative error"):
        check("ch03-dead-units", whole + 0.01)
    with pytest.raises(ExerciseError, match="expected 9 fractions"):
        check("ch03-dead-units", 0.26)


def test_dead_units_leaves_the_readers_generator_alone(dead_reference):
    vg.manual_seed(123)
    expected = np.random.default_rng(123).standard_normal(3)
    check("ch03-dead-units", dead_reference[0])
    assert np.array_equal(vg.backend.rng().standard_normal(3), expected)


# ------------------------------------------------------------------ ch03-ce-floor

def test_ce_floor_accepts_the_right_answer(torch):
    def floor(C):
        """The infimum: true class's score 1, the others 0, through torch's cross-entropy."""
        logits = torch.zeros(1, C, dtype=torch.float64)
        logits[0, 0] = 1.0
        return float(torch.nn.functional.cross_entropy(logits, torch.tensor([0])))

    assert abs(floor(10) - 1.4611501717) < 1e-9
    assert "Correct" in check("ch03-ce-floor", floor)


@pytest.mark.parametrize("wrong, hint", [
    (lambda C: math.log(C), "uniform guess"),
    (lambda C: math.log(1 + (C - 1) * math.e), "worst case"),
    (lambda C: math.log(1 + 9 / math.e), "whatever C is"),
    (lambda C: math.log((C - 1) / math.e), "true class's term is missing"),
    (lambda C: math.log(1 + (C - 1) / math.e) * (1.01 if C == 100 else 1), "floor\\(100\\)"),
])
def test_ce_floor_rejects_typical_mistakes(wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch03-ce-floor", wrong)


def test_ce_floor_rejects_non_functions_and_broken_ones():
    with pytest.raises(ExerciseError, match="expected a function floor\\(C\\), got float"):
        check("ch03-ce-floor", 1.4611)
    with pytest.raises(ExerciseError, match="floor\\(2\\) raised ZeroDivisionError"):
        check("ch03-ce-floor", lambda C: 1 / 0)
    with pytest.raises(ExerciseError, match="floor\\(2\\) should be a number, got None"):
        check("ch03-ce-floor", lambda C: None)
