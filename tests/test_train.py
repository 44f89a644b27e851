"""vglab.train: the loop learns, its history, divergence, callbacks, the progress bar."""

import math
import warnings

import numpy as np
import pytest

from conftest import backends
import vglab as vg
from vglab import data, models, nn, optim
from vglab.train import Callback, History, accuracy, progress_bar, train


def spiral_setup(backend="numpy"):
    with vg.backend.using(backend):
        d = data.spirals()
        vg.manual_seed(0)
        model = models.deep_mlp(3, 32, "tanh", in_features=2, out_features=3)
    return model, d


@pytest.mark.parametrize("backend", backends)
def test_loss_decreases_on_spirals(backend):
    """A 3-layer tanh net with Adam: the loss falls from about ln 3 = 1.10 to below 0.3 in 300 steps."""
    if backend == "torch":
        pytest.importorskip("torch")
    model, d = spiral_setup(backend)
    h = train(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), d, steps=300,
              eval_every=100, progress=False)
    first, last = np.mean(h.loss[:20]), np.mean(h.loss[-20:])
    assert first > 0.7                       # starts near chance
    assert last < 0.3 and last < 0.4 * first
    assert h.test_accuracy[-1] > 0.85        # chance is 1/3
    assert h.diverged_at is None


def test_history_fields():
    model, d = spiral_setup()
    h = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=25,
              eval_every=10, progress=False)
    assert isinstance(h, History)
    assert len(h.loss) == 25 and all(isinstance(v, float) and math.isfinite(v) for v in h.loss)
    assert h.eval_steps == [10, 20, 25]                     # and always the last step
    assert len(h.test_accuracy) == 3 and all(0 <= a <= 1 for a in h.test_accuracy)
    assert h.test_accuracy[-1] == accuracy(model, d.X_test, d.y_test)
    assert h.final_loss == h.loss[-1]
    assert h.diverged_at is None
    assert repr(h).startswith("History(25 steps, final loss") and repr(h).endswith("finite)")
    empty = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=0, progress=False)
    assert empty.loss == [] and math.isnan(empty.final_loss)


def test_batches_follow_the_seed():
    losses = []
    for seed in (0, 0, 1):
        model, d = spiral_setup()
        h = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=5,
                  seed=seed, progress=False)
        losses.append(h.loss)
    assert losses[0] == losses[1] and losses[0] != losses[2]


@pytest.mark.parametrize("backend", backends)
def test_divergence_is_recorded_not_raised(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    with vg.backend.using(backend):
        d = data.digits()
        vg.manual_seed(0)
        model = models.deep_mlp(3, 32, "relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # not even a NumPy overflow warning escapes
        h = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1e6), d, steps=100, progress=False)
    assert h.diverged_at is not None and 1 <= h.diverged_at < 100
    assert len(h.loss) == h.diverged_at                    # the finite losses before it
    assert all(math.isfinite(v) for v in h.loss)
    assert h.loss[-1] > 1e10                               # it blew up on the way
    assert repr(h).endswith(f"diverged at step {h.diverged_at})")


def test_loss_errors_other_than_divergence_still_raise():
    """Only a non-finite loss is recorded as divergence; a reader's mistake still raises."""
    model, d = spiral_setup()
    bad = data.Dataset(d.X_train, d.y_train + 3, d.X_test, d.y_test, 6)   # 6 classes, a 3-class model
    with pytest.raises(ValueError, match="CrossEntropyLoss expected target class indices in \\[0, 2\\]"):
        train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), bad, steps=1, progress=False)


class _RaisingLoss:
    """A loss that raises ``error`` on its second call (the first step is a normal one)."""

    def __init__(self, error):
        self.error, self.calls, self.inner = error, 0, nn.CrossEntropyLoss()

    def __call__(self, logits, y):
        self.calls += 1
        if self.calls == 2:
            raise self.error
        return self.inner(logits, y)

    def backward(self):
        return self.inner.backward()


def test_divergence_is_caught_by_exception_type_not_by_message():
    """NonFiniteError, whatever it says, is divergence; a ValueError that merely mentions "non-finite" is not."""
    from vglab._checks import NonFiniteError
    model, d = spiral_setup()
    h = train(model, _RaisingLoss(NonFiniteError("the logits blew up")), optim.SGD(model.parameters(), lr=0.1), d,
              steps=5, progress=False)
    assert h.diverged_at == 1 and len(h.loss) == 1
    model, d = spiral_setup()
    with pytest.raises(ValueError, match="^a reader's own check: non-finite weights are not allowed$"):
        train(model, _RaisingLoss(ValueError("a reader's own check: non-finite weights are not allowed")),
              optim.SGD(model.parameters(), lr=0.1), d, steps=5, progress=False)


def test_bad_arguments():
    model, d = spiral_setup()
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="train expected steps >= 0, got -1"):
        train(model, nn.CrossEntropyLoss(), opt, d, steps=-1)
    with pytest.raises(ValueError, match="train expected batch_size >= 1, got 0"):
        train(model, nn.CrossEntropyLoss(), opt, d, steps=1, batch_size=0)


class Recorder(Callback):
    """Logs every call, and checks what the loop promises at each point."""

    def __init__(self, name, log):
        self.name, self.log = name, log
        self.weights_before = None

    def on_before_step(self, info):
        params = list(info.model.parameters())
        assert all(p.grad is not None for p in params), "gradients are ready before the step"
        assert all(p.grad.shape == p.shape for p in params)
        assert info.optimizer.param_groups[0]["params"][0] is params[0]
        self.weights_before = [vg.to_numpy(p.data).copy() for p in params]
        self.log.append((self.name, "before", info.step, info.loss))

    def on_step_end(self, info):
        params = list(info.model.parameters())
        assert all(p.grad is None for p in params), "zero_grad ran before on_step_end"
        assert any(not np.array_equal(vg.to_numpy(p.data), w) for p, w in zip(params, self.weights_before))
        self.log.append((self.name, "end", info.step, info.loss))


def test_callbacks_called_in_order():
    model, d = spiral_setup()
    log = []
    h = train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=3,
              callbacks=[Recorder("a", log), Recorder("b", log)], progress=False)
    expected = []
    for step in range(3):
        expected += [("a", "before", step), ("b", "before", step), ("a", "end", step), ("b", "end", step)]
    assert [entry[:3] for entry in log] == expected
    assert [entry[3] for entry in log if entry[:2] == ("a", "before")] == h.loss


def test_gradients_in_on_before_step_are_the_batch_gradients():
    """What on_before_step sees equals a separate forward/backward on the same batch."""
    model, d = spiral_setup()
    seen = []

    class Grab(Callback):
        def on_before_step(self, info):
            seen.append(vg.to_numpy(info.model[0].weight.grad).copy())

    w0 = model[0].weight.data.copy()
    state = [p.data.copy() for p in model.parameters()]
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=1, batch_size=16,
          callbacks=[Grab()], seed=5, progress=False)
    idx = next(data.batches(d.X_train.shape[0], 16, np.random.default_rng(5)))
    for p, s in zip(model.parameters(), state):
        p.data = s
    loss_fn = nn.CrossEntropyLoss()
    model.zero_grad()
    loss_fn(model(d.X_train[idx]), d.y_train[idx])
    model.backward(loss_fn.backward())
    np.testing.assert_allclose(seen[0], model[0].weight.grad, rtol=1e-12)
    assert not np.array_equal(w0, w0 - 0.1 * seen[0])


# --------------------------------------------------------------------------- progress bar

def test_progress_bar_off_under_vglab_static(monkeypatch, capsys):
    monkeypatch.setenv("VGLAB_STATIC", "1")
    assert progress_bar(range(3)).disable
    model, d = spiral_setup()
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=5)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_bar_on_otherwise(monkeypatch, capsys):
    monkeypatch.setenv("VGLAB_STATIC", "0")
    bar = progress_bar(range(3))
    assert not bar.disable
    assert list(bar) == [0, 1, 2]
    monkeypatch.delenv("VGLAB_STATIC")
    assert not progress_bar(range(3)).disable
    assert progress_bar(range(3), enabled=False).disable
    model, d = spiral_setup()
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), d, steps=5, desc="spirals")
    assert "spirals" in capsys.readouterr().err


def test_accuracy_by_hand_and_mode_restored():
    model, d = spiral_setup()
    logits = model(d.X_test)
    expected = np.mean(np.argmax(logits, axis=1) == d.y_test)
    model.train()
    assert accuracy(model, d.X_test, d.y_test) == pytest.approx(expected, abs=1e-15)
    assert model.training
    model.eval()
    accuracy(model, d.X_test, d.y_test)
    assert not model.training


# ----------------------------------------------------------------- no copies to the host on the torch backend

HOST_READS = ("__int__", "__float__", "__bool__", "item", "tolist", "numpy")


@pytest.fixture
def host_reads(torch, monkeypatch):
    """Counts every read of a tensor's values into Python or NumPy (a device-to-host copy on a GPU)."""
    counts = {name: 0 for name in HOST_READS}

    def counting(name):
        original = getattr(torch.Tensor, name)

        def read(self, *args, **kwargs):
            counts[name] += 1
            return original(self, *args, **kwargs)
        return read

    for name in HOST_READS:
        monkeypatch.setattr(torch.Tensor, name, counting(name))
    return counts


def test_forward_backward_and_optimiser_steps_stay_on_the_device(host_reads, torch):
    with vg.backend.using("torch"):
        vg.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 4))
        x, g = vg.backend.randn(5, 8), vg.backend.randn(5, 4)
        opt = vg.optim.Adam(model.parameters(), lr=1e-2)
        for _ in range(3):
            model(x)
            model.backward(g)
            norm = vg.clip_grad_norm_(model.parameters(), max_norm=1.0)
            opt.step()
            opt.zero_grad()
    assert isinstance(norm, torch.Tensor)
    assert sum(host_reads.values()) == 0, host_reads


def test_the_training_loop_reads_the_host_only_for_the_loss_and_its_checks(host_reads, torch):
    """Per step, three reads: the loss as a float for the history (the one number the reader gets),
    and CrossEntropyLoss's two input checks (non-finite logits; class indices in range, one read
    for both ends). A read added anywhere else (a layer, an optimiser, the loop) fails this test."""
    steps = 6
    with vg.backend.using("torch"):
        vg.manual_seed(0)
        data = vg.data.spirals(n_per_class=20, seed=0)
        model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
        opt = vg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        host_reads.update({name: 0 for name in HOST_READS})
        history = vg.train.train(model, nn.CrossEntropyLoss(), opt, data, steps=steps, batch_size=16,
                                 progress=False)
    assert len(history.loss) == steps
    assert host_reads == {"__int__": steps, "__float__": steps, "__bool__": 0, "item": 0, "tolist": 0,
                          "numpy": steps}, host_reads
