"""The checks of chapter 4's exercises: right answers pass, typical wrong ones get a specific hint.

The reference answers here come from PyTorch (autograd, torch.nn.init, torch.nn.Linear), not
from vglab or from the check module's own formulas.
"""

import math

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError

try:
    import torch     # for the helpers; a test that needs torch asks for the `torch` fixture, which skips without it
except ImportError:
    torch = None


# ----------------------------------------------------------------------------- ch04-zero-init

def torch_zero_init_names():
    """Parameters with a non-zero gradient in a zero-initialised torch 64-32-10 tanh network."""
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    X = torch.as_tensor(vg.data.digits().X_train[:64])
    y = torch.as_tensor(vg.data.digits().y_train[:64])
    torch.nn.functional.cross_entropy(net(X), y).backward()
    return [name for name, p in net.named_parameters() if bool(torch.any(p.grad != 0))]


def test_zero_init_accepts_the_torch_answer(capsys, torch):
    names = torch_zero_init_names()
    assert names == ["2.bias"]
    assert vg.exercises.check("ch04-zero-init", names).startswith("Correct")
    assert vg.exercises.check("ch04-zero-init", tuple(names)).startswith("Correct")
    assert "[ch04-zero-init] Correct" in capsys.readouterr().out


@pytest.mark.parametrize("answer, hint", [
    (["2.weight", "2.bias"], "a_1 = tanh\\(0\\) = 0"),
    (["0.weight", "2.bias"], "W_2 = 0"),
    (["0.bias", "2.bias"], "W_2 = 0"),
    ([], "one parameter does get a gradient"),
    (["fc1.weight"], "not parameter names of this network"),
    ("2.bias", "give a list of parameter names"),
])
def test_zero_init_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch04-zero-init", answer)


# ----------------------------------------------------------------------------- ch04-default-factor

def torch_default_factor(n=2000):
    """1/2 (ReLU) times n Var(w) of torch.nn.Linear's default weights, from a large sample."""
    torch.manual_seed(0)
    w = torch.nn.Linear(n, n, dtype=torch.float64).weight.detach().numpy()
    return 0.5 * n * np.var(w)


def test_default_factor_accepts_one_sixth(torch):
    measured = torch_default_factor()
    assert measured == pytest.approx(1 / 6, rel=0.01)
    assert vg.exercises.check("ch04-default-factor", 1 / 6).startswith("Correct")
    assert vg.exercises.check("ch04-default-factor", np.float64(1) / 6).startswith("Correct")
    with pytest.raises(ExerciseError):                     # the sample is not the exact factor
        vg.exercises.check("ch04-default-factor", measured * 1.001)


@pytest.mark.parametrize("answer, hint", [
    (6.0, "shrinks"),
    (math.sqrt(1 / 6), "standard deviation"),
    (1 / 3, "only half"),
    (0.5, "Xavier"),
    (1.0, "He"),
    (0.2, "is not it"),
    ("one sixth", "give a number"),
])
def test_default_factor_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch04-default-factor", answer)


# ----------------------------------------------------------------------------- ch04-kaiming-std

def torch_kaiming_std(shape=(32, 16, 3, 3), a=0.1):
    fan = torch.nn.init._calculate_correct_fan(torch.empty(shape), "fan_out")
    return torch.nn.init.calculate_gain("leaky_relu", a) / math.sqrt(fan)


def test_kaiming_std_accepts_torchs_std(torch):
    std = torch_kaiming_std()
    torch.manual_seed(0)
    sample = torch.nn.init.kaiming_normal_(torch.empty(32, 16, 3, 3, dtype=torch.float64), a=0.1,
                                           mode="fan_out", nonlinearity="leaky_relu")
    assert float(sample.std()) == pytest.approx(std, rel=0.03)
    assert vg.exercises.check("ch04-kaiming-std", std).startswith("Correct")


@pytest.mark.parametrize("answer, hint", [
    (math.sqrt(2 / 1.01) / math.sqrt(16 * 9), "fan-in"),
    (math.sqrt(2 / 1.01) / math.sqrt(32), "kernel's 3 \\* 3 positions"),
    (math.sqrt(2) / math.sqrt(288), "leaky ReLU of slope a"),
    ((2 / 1.01) / 288, "variance"),
    (0.1, "is not it"),
    (None, "give a number"),
])
def test_kaiming_std_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch04-kaiming-std", answer)


def test_the_checks_are_registered():
    assert {"ch04-zero-init", "ch04-default-factor", "ch04-kaiming-std"} <= set(vg.exercises.registered())
