"""The checks of chapter 2's exercises: right answers pass, typical wrong ones get a specific hint.

Reference answers are computed here without the code under test: plain NumPy for the cosine
schedule and the batch count, PyTorch's autograd and torch.optim.SGD for the layer ratio.
"""

import math

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError


# ----------------------------------------------------------------------------- ch02-cosine-below

def first_below(lr0=0.1, T=1000, fraction=0.01):
    k = np.arange(T + 1)
    rates = lr0 * (1 + np.cos(np.pi * k / T)) / 2
    return int(np.argmax(rates < fraction * lr0))


def test_cosine_below_reference_agrees_with_the_closed_form():
    assert first_below() == math.ceil(1000 * math.acos(2 * 0.01 - 1) / math.pi) == 937


def test_cosine_below_accepts_the_first_step(capsys):
    assert vg.exercises.check("ch02-cosine-below", first_below()).startswith("Correct: step 937")
    assert vg.exercises.check("ch02-cosine-below", np.int64(937)).startswith("Correct")
    assert vg.exercises.check("ch02-cosine-below", 937.0).startswith("Correct")
    assert "last 63 of 1000 steps" in capsys.readouterr().out


def test_cosine_below_other_parameters():
    assert vg.exercises.check("ch02-cosine-below", first_below(0.5, 200, 0.1), lr0=0.5, total_steps=200,
                              fraction=0.1).startswith("Correct")


@pytest.mark.parametrize("answer, hint", [
    (936, r"not yet below 0.001.*round up"),
    (63, r"how many steps remain"),
    (497, r"cos\(pi k / T\) < 2f - 1, not cos\(pi k / T\) < f"),
    (900, r"too early: at step 900 the rate is still 0.002447"),
    (950, r"too late: .* already was at step 949"),
    (936.2, r"not a whole number"),
    (-3, r"between 0 and T = 1000"),
    ("soon", r"should be a step number"),
])
def test_cosine_below_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch02-cosine-below", answer)


# ----------------------------------------------------------------------------- ch02-epochs-to-steps

def test_epochs_to_steps_accepts_ten_passes_of_mini_batches():
    n = vg.data.digits().X_train.shape[0]
    assert n == 1348                                  # the check's default
    per_epoch = sum(1 for _ in range(0, n, 64))       # 21 full batches and one of 4
    assert per_epoch == 22
    assert vg.exercises.check("ch02-epochs-to-steps", 10 * per_epoch).startswith("Correct: 22 mini-batches")


def test_epochs_to_steps_agrees_with_what_train_does():
    """Counted by vg.train.train itself: a StepDecay with the answer drops at the start of epoch 10."""
    data = vg.data.digits()
    model = vg.nn.Linear(64, 10)
    rates = []

    class Rate(vg.train.Callback):
        def on_before_step(self, info):
            rates.append(info.optimizer.param_groups[0]["lr"])

    opt = vg.optim.SGD(model.parameters(), lr=vg.schedules.step_decay(0.1, 220, gamma=0.5))
    vg.train.train(model, vg.nn.CrossEntropyLoss(), opt, data, steps=11 * 22, callbacks=[Rate()], progress=False)
    assert rates[:220] == [0.1] * 220 and rates[220:] == [0.05] * 22


@pytest.mark.parametrize("answer, hint", [
    (10, r"number of epochs"),
    (210, r"leaves out the last, smaller mini-batch"),
    (211, r"counts examples divided by the batch size"),
    (100, r"100 steps is 4.55 epochs"),
    (220.5, r"not a whole number"),
])
def test_epochs_to_steps_hints(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        vg.exercises.check("ch02-epochs-to-steps", answer)


# ----------------------------------------------------------------------------- ch02-layer-ratio

@pytest.fixture(scope="module")
def torch_ratios():
    """(layer-1 / layer-10 update-to-weight ratio for lr 0.01 and 1.0, gradient-norm ratio), by torch."""
    torch = pytest.importorskip("torch")
    data = vg.data.digits()
    X = torch.tensor(vg.to_numpy(data.X_train[:64]))
    y = torch.tensor(vg.to_numpy(data.y_train[:64]))
    ratios = []
    for lr in (0.01, 1.0):
        net = vg.interop.to_torch(vg.models.chapter0_network()).double()
        linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
        assert len(linears) == 10
        before = [m.weight.detach().clone() for m in linears]
        torch.nn.functional.cross_entropy(net(X), y).backward()
        grad_ratio = (linears[0].weight.grad.norm() / linears[-1].weight.grad.norm()).item()
        torch.optim.SGD(net.parameters(), lr=lr).step()
        u = [((m.weight.detach() - w).norm() / w.norm()).item() for m, w in zip(linears, before)]
        ratios.append(u[0] / u[-1])
    return ratios[0], ratios[1], grad_ratio


def test_layer_ratio_accepts_the_measured_ratios(torch_ratios):
    small, large, _ = torch_ratios
    assert abs(small / large - 1) < 1e-5                # the rate cancels (up to the subtraction's rounding)
    assert 1e-9 < small < 1e-7
    message = vg.exercises.check("ch02-layer-ratio", (small, large))
    assert message.startswith(f"Correct: {small:.3e} for both rates")


def test_layer_ratio_hints(torch_ratios):
    small, large, grad_ratio = torch_ratios
    with pytest.raises(ExerciseError, match=r"is the ratio of the gradient norms"):
        vg.exercises.check("ch02-layer-ratio", (grad_ratio, grad_ratio))
    with pytest.raises(ExerciseError, match=r"differ by the factor 100"):
        vg.exercises.check("ch02-layer-ratio", (small, 100 * small))
    with pytest.raises(ExerciseError, match=r"layer 10's ratio over layer 1's"):
        vg.exercises.check("ch02-layer-ratio", (1 / small, 1 / large))
    with pytest.raises(ExerciseError, match=r"off by a relative error of 1.0e-01"):
        vg.exercises.check("ch02-layer-ratio", (small, 1.1 * large))


@pytest.mark.parametrize("answer", [0.5, ("a", "b"), (1e-8, float("nan")), (-1e-8, -1e-8)])
def test_layer_ratio_rejects_non_pairs(answer):
    with pytest.raises(ExerciseError, match=r"pair of numbers|positive finite"):
        vg.exercises.check("ch02-layer-ratio", answer)
