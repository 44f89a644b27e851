"""The checks of chapter 5's exercises: right answers pass, typical wrong ones get a specific hint.

The reference GRU step comes from PyTorch (torch.nn.GRUCell), not from vglab or from the check
module's own formula; the numbers are derived here with ``math``.
"""

import math

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError
from vglab.exercises.ch05 import gru_reference

try:  # the torch-using tests ask for the `torch` fixture, which skips them (and only them) without torch
    import torch
except ImportError:
    torch = None


# ----------------------------------------------------------------------------- ch05-gru-step

def torch_gru_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
    """torch.nn.GRUCell with these weights, in float64."""
    cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
    with torch.no_grad():
        for name, value in (("weight_ih", weight_ih), ("weight_hh", weight_hh), ("bias_ih", bias_ih),
                            ("bias_hh", bias_hh)):
            getattr(cell, name).copy_(torch.as_tensor(value))
        return cell(torch.as_tensor(x), torch.as_tensor(h)).numpy()


def test_the_check_module_reference_equals_torch(torch):
    rng = np.random.default_rng(3)
    args = (rng.normal(size=(5, 3)), np.tanh(rng.normal(size=(5, 4))), rng.normal(size=(12, 3)),
            rng.normal(size=(12, 4)), rng.normal(size=12), rng.normal(size=12))
    np.testing.assert_allclose(gru_reference(*args), torch_gru_step(*args), rtol=0, atol=1e-12)


def test_gru_step_accepts_torchs_step(capsys, torch):
    assert vg.exercises.check("ch05-gru-step", torch_gru_step).startswith("Correct")
    assert "[ch05-gru-step] Correct" in capsys.readouterr().out


def test_gru_step_accepts_a_torch_tensor_answer(torch):
    def tensor_step(*args):
        return torch.as_tensor(torch_gru_step(*args))
    assert vg.exercises.check("ch05-gru-step", tensor_step).startswith("Correct")


def _variant(name):
    def step(x, h, weight_ih, weight_hh, bias_ih, bias_hh):
        return gru_reference(x, h, weight_ih, weight_hh, bias_ih, bias_hh, variant=name)
    return step


@pytest.mark.parametrize("answer, hint", [
    (_variant("chung"), "Chung et al.'s convention"),
    (_variant("reset_before"), "before the product"),
    (_variant("bias_outside"), "b_hn must sit inside"),
    (_variant("swapped_gates"), "order r, z, n"),
    (lambda x, h, *w: np.tanh(h), "differs from PyTorch's GRU step"),
    (lambda x, h, *w: None, "returned None"),
    (lambda x, h, *w: h[:, :2], "shape"),
    (lambda x, h, *w: 1 / 0, "raised ZeroDivisionError"),
    (np.zeros(3), "give a function"),
])
def test_gru_step_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch05-gru-step", answer)


# ----------------------------------------------------------------------------- ch05-adding-baseline

def test_adding_baseline_accepts_one_sixth():
    _, y = vg.data.adding_problem(20, 200_000, seed=7)
    assert float(np.mean((y - 1) ** 2)) == pytest.approx(1 / 6, abs=2e-3)
    assert vg.exercises.check("ch05-adding-baseline", 1 / 6).startswith("Correct")
    assert vg.exercises.check("ch05-adding-baseline", np.float64(2) / 12).startswith("Correct")


@pytest.mark.parametrize("answer, hint", [
    (1 / 12, "one uniform number"),
    (1 / 3, "triangular"),
    (math.sqrt(1 / 6), "root of the mean squared error"),
    (0.1661, "sample estimate"),
    (0.5, "is not it"),
    ("1/6", "single number"),
])
def test_adding_baseline_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch05-adding-baseline", answer)


# ----------------------------------------------------------------------------- ch05-forget-bias

def test_forget_bias_accepts_the_logit(torch):
    f = 0.5 ** (1 / 100)
    b = math.log(f / (1 - f))
    assert float(torch.sigmoid(torch.tensor(b, dtype=torch.float64))) ** 100 == pytest.approx(0.5, rel=1e-12)
    assert vg.exercises.check("ch05-forget-bias", b).startswith("Correct")
    assert vg.exercises.check("ch05-forget-bias", float(torch.logit(torch.tensor(f, dtype=torch.float64))))


@pytest.mark.parametrize("answer, hint", [
    (0.5 ** (1 / 100), "the gate's value f"),
    (-math.log(0.5 ** 0.01 / (1 - 0.5 ** 0.01)), "sign is wrong"),
    (math.log(0.5 ** 0.01), "inverse of the sigmoid"),
    (math.log(0.995 / 0.005), "first-order approximation"),
    (1.0, "is not it"),
    (None, "should be a number"),
])
def test_forget_bias_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch05-forget-bias", answer)


def test_the_checks_are_registered():
    assert {"ch05-gru-step", "ch05-adding-baseline", "ch05-forget-bias"} <= set(vg.exercises.registered())
