"""vglab.diagnostics: gradient norms against torch autograd, the chapter-0 network's vanishing
gradient, and the recorders against hand computations."""

import math

import numpy as np
import pytest

import vglab as vg
from vglab import data, diagnostics as D, models, nn, optim
from vglab.interop import to_torch
from vglab.train import Callback, train

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def torch_grad_norms(model, X, y, which="weight"):
    """Per-layer gradient norms from torch autograd on a copy of ``model``."""
    tm = to_torch(model)
    loss = torch.nn.functional.cross_entropy(tm(torch.as_tensor(X)), torch.as_tensor(y))
    loss.backward()
    return [float(torch.linalg.vector_norm(getattr(m, which).grad)) for m in tm if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("which", ["weight", "bias"])
def test_grad_norms_equal_torch_autograd(digits, activation, which):
    vg.manual_seed(0)
    model = models.deep_mlp(6, 24, activation)
    X, y = digits.X_train[:50], digits.y_train[:50]
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    norms = D.grad_norms(model, which=which)
    assert list(norms) == ["0", "2", "4", "6", "8", "10"]
    expected = torch_grad_norms(model, X, y, which)
    np.testing.assert_allclose(list(norms.values()), expected, rtol=1e-10)


def test_grad_norms_nan_without_gradient():
    model = models.deep_mlp(3, 8)
    norms = D.grad_norms(model)
    assert len(norms) == 3 and all(math.isnan(v) for v in norms.values())
    model[0].weight.grad = np.full((8, 64), 0.5)
    assert D.grad_norms(model)["0"] == pytest.approx(0.5 * math.sqrt(8 * 64), rel=1e-15)


def test_layer_grad_norms_on_the_chapter0_network(digits):
    """The book's opening claim: in the chapter-0 network the first layer's gradient is
    orders of magnitude below the last layer's."""
    model = models.chapter0_network()
    X, y = digits.X_train[:models.CHAPTER0.batch_size], digits.y_train[:models.CHAPTER0.batch_size]
    norms = D.layer_grad_norms(model, nn.CrossEntropyLoss(), X, y)
    assert norms.shape == (models.CHAPTER0.depth,)
    assert norms[0] / norms[-1] < 1e-4
    np.testing.assert_allclose(norms, torch_grad_norms(model, X, y), rtol=1e-10)
    # the gradients are left in place, and a second call does not accumulate onto them
    np.testing.assert_array_equal(norms, list(D.grad_norms(model).values()))
    np.testing.assert_allclose(D.layer_grad_norms(model, nn.CrossEntropyLoss(), X, y), norms, rtol=1e-15)


class HandRecorder(Callback):
    """Weights and gradients as the loop sees them, to recompute the recorders' numbers by hand."""

    def __init__(self):
        self.weights, self.grads, self.after = [], [], []

    def on_before_step(self, info):
        layers = [m for m in info.model if isinstance(m, nn.Linear)]
        self.weights.append([m.weight.data.copy() for m in layers])
        self.grads.append([m.weight.grad.copy() for m in layers])

    def on_step_end(self, info):
        self.after.append([m.weight.data.copy() for m in info.model if isinstance(m, nn.Linear)])


def test_update_ratio_recorder_for_plain_sgd(digits):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, "tanh")
    lr = 0.1
    hand, ratios, norms = HandRecorder(), D.UpdateRatioRecorder(), D.GradNormRecorder()
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), digits, steps=6,
          callbacks=[hand, ratios, norms], progress=False)
    assert ratios.history.shape == (6, 4) and ratios.steps == list(range(6))
    assert ratios.names == ["0", "2", "4", "6"] == norms.names
    expected = [[np.linalg.norm(-lr * g) / np.linalg.norm(w) for w, g in zip(ws, gs)]
                for ws, gs in zip(hand.weights, hand.grads)]
    np.testing.assert_allclose(ratios.history, expected, rtol=1e-12)
    # the update of plain SGD is exactly -lr * grad
    for ws, gs, after in zip(hand.weights, hand.grads, hand.after):
        for w, g, a in zip(ws, gs, after):
            np.testing.assert_allclose(a - w, -lr * g, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(norms.history, [[np.linalg.norm(g) for g in gs] for gs in hand.grads], rtol=1e-14)


def test_recorders_every(digits):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 8, "relu")
    ratios, norms = D.UpdateRatioRecorder(every=2), D.GradNormRecorder(every=3)
    train(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), digits, steps=7,
          callbacks=[ratios, norms], progress=False)
    assert ratios.steps == [0, 2, 4, 6] and ratios.history.shape == (4, 3)
    assert norms.steps == [0, 3, 6] and norms.history.shape == (3, 3)
    assert np.all(np.isfinite(ratios.history)) and np.all(ratios.history > 0)


# --------------------------------------------------------------------------- Recorder

from conftest import backends, on  # noqa: E402

from vglab.data import batches  # noqa: E402


def fixed_batch(digits, n=40):
    return digits.X_train[:n], digits.y_train[:n]


def one_step(model, rec, opt, X, y):
    """Forward, backward, then the recorder around ``opt.step()`` (a reader's own loop)."""
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    rec.step(opt)
    opt.zero_grad()


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_recorder_grad_norms_equal_torch_autograd(digits, backend, activation):
    vg.manual_seed(1)
    model = models.deep_mlp(5, 12, activation)
    X, y = fixed_batch(digits)
    expected_w, expected_b = torch_grad_norms(model, X, y), torch_grad_norms(model, X, y, "bias")
    model.to(backend)
    rec = D.Recorder(model)
    one_step(model, rec, optim.SGD(model.parameters(), lr=0.1), on(backend, X), on(backend, y))
    assert rec.names == ["0", "2", "4", "6", "8"] and rec.steps == [0]
    assert rec.grad_norm.shape == (1, 5)
    np.testing.assert_allclose(rec.grad_norm[0], expected_w, rtol=1e-10)
    np.testing.assert_allclose(rec.bias_grad_norm[0], expected_b, rtol=1e-10)


@pytest.mark.parametrize("backend", backends)
def test_recorder_update_ratio_for_plain_sgd_by_hand(digits, backend):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, "tanh").to(backend)
    data_b = data.Dataset(*(on(backend, a) for a in (digits.X_train, digits.y_train, digits.X_test, digits.y_test)))
    lr = 0.1
    hand, rec = HandRecorder(), D.Recorder(model)
    if backend == "torch":
        hand = TorchHandRecorder()
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), data_b, steps=5,
          callbacks=[hand, rec], progress=False)
    assert rec.steps == list(range(5)) and rec.update_ratio.shape == (5, 4)
    # plain SGD moves W by -lr * grad, so the ratio is lr ||grad|| / ||W||
    expected = [[lr * np.linalg.norm(g) / np.linalg.norm(w) for w, g in zip(ws, gs)]
                for ws, gs in zip(hand.weights, hand.grads)]
    np.testing.assert_allclose(rec.update_ratio, expected, rtol=1e-12)
    np.testing.assert_allclose(rec.grad_norm, [[np.linalg.norm(g) for g in gs] for gs in hand.grads], rtol=1e-13)


class TorchHandRecorder(HandRecorder):
    """HandRecorder for a vglab model on the torch backend: the same copies, as NumPy arrays."""

    def on_before_step(self, info):
        layers = [m for m in info.model if isinstance(m, nn.Linear)]
        self.weights.append([vg.to_numpy(m.weight.data).copy() for m in layers])
        self.grads.append([vg.to_numpy(m.weight.grad).copy() for m in layers])

    def on_step_end(self, info):
        self.after.append([vg.to_numpy(m.weight.data).copy() for m in info.model if isinstance(m, nn.Linear)])


def test_recorder_update_ratio_with_momentum_from_the_weights():
    """Whatever the optimiser does, the ratio is the relative change of the weights around step()."""
    vg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    rec = D.Recorder(model)
    w0 = model[0].weight.data.copy()
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    one_step(model, rec, opt, X, y)
    w1 = model[0].weight.data.copy()
    one_step(model, rec, opt, X, y)
    w2 = model[0].weight.data
    np.testing.assert_allclose(rec.update_ratio[:, 0], [np.linalg.norm(w1 - w0) / np.linalg.norm(w0),
                                                      np.linalg.norm(w2 - w1) / np.linalg.norm(w1)], rtol=1e-13)


def single_layer(activation, weight, bias=None):
    """Linear(D, H) with given weights, followed by ``activation`` (a module or None)."""
    weight = np.asarray(weight, dtype=float)
    lin = nn.Linear(weight.shape[1], weight.shape[0])
    lin.weight.data = weight.copy()
    lin.bias.data = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=float)
    return nn.Sequential(lin, activation) if activation is not None else nn.Sequential(lin)


def forward_once(model, X):
    rec = D.Recorder(model, samples=0)
    model(X)
    rec.before_step()
    return rec


@pytest.mark.parametrize("backend", backends)
def test_saturation_and_activation_stats_on_constructed_inputs(backend):
    # identity weights, so z = X; arctanh(0.97) = 2.092: entries beyond it saturate a tanh
    X = np.array([[0.0, 2.5, -3.0, 1.0], [2.0, -2.2, 0.5, 5.0], [-0.1, 0.2, 2.09, -2.1]])
    model = single_layer(nn.Tanh(), np.eye(4)).to(backend)
    rec = forward_once(model, on(backend, X))
    a = np.tanh(X)
    assert rec.kinds == ["Tanh"]
    assert rec.saturation[0, 0] == 5 / 12      # 2.5, -3.0, -2.2, 5.0 and -2.1
    assert np.isnan(rec.dead[0, 0])             # a tanh has no dead units
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [a.mean(), a.std()], rtol=1e-13)
    # sigmoid: saturated outside [0.03, 0.97], i.e. |z| > log(0.97 / 0.03) = 3.476
    X = np.array([[3.5, -3.4, 0.0], [-4.0, 3.47, 10.0]])
    model = single_layer(nn.Sigmoid(), np.eye(3)).to(backend)
    rec = forward_once(model, on(backend, X))
    assert rec.kinds == ["Sigmoid"] and rec.saturation[0, 0] == 3 / 6
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [s.mean(), s.std()], rtol=1e-13)


@pytest.mark.parametrize("backend", backends)
def test_dead_units_on_constructed_inputs(backend):
    # units: 0 always negative (dead), 1 positive once (alive), 2 exactly 0 (dead: <= 0), 3 always positive
    Z = np.array([[-1.0, -2.0, 0.0, 1.0], [-0.5, 3.0, 0.0, 2.0], [-2.0, -1.0, 0.0, 0.5]])
    model = single_layer(nn.ReLU(), np.eye(4)).to(backend)
    rec = forward_once(model, on(backend, Z))
    assert rec.kinds == ["ReLU"] and rec.dead[0, 0] == 2 / 4
    assert np.isnan(rec.saturation[0, 0])
    relu = np.maximum(Z, 0)
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [relu.mean(), relu.std()], rtol=1e-13)
    # without an activation module the recorder measures the Linear's output itself
    model = nn.Sequential(single_layer(None, np.eye(4))[0], nn.Flatten()).to(backend)   # Flatten: no activation
    rec = forward_once(model, on(backend, Z))
    assert rec.kinds == [None] and rec.dead[0, 0] == 2 / 4
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [Z.mean(), Z.std()], rtol=1e-13)
    # and the layer whose output is the model's output gives logits, which feed no ReLU
    rec = forward_once(single_layer(None, np.eye(4)).to(backend), on(backend, Z))
    assert rec.kinds == [None] and np.isnan(rec.dead[0, 0]) and np.isnan(rec.saturation[0, 0])
    np.testing.assert_allclose(rec.act_std[0, 0], Z.std(), rtol=1e-13)


def test_saturation_and_dead_fraction_functions():
    assert D.saturation_fraction(np.array([0.98, -0.99, 0.5, 0.97]), "Tanh") == 0.5
    assert D.saturation_fraction(np.array([[0.01, 0.03], [0.97, 0.99]]), "Sigmoid") == 0.5
    z = np.zeros((2, 3, 2, 2))
    z[0, 1, 1, 0] = 0.1              # channel 1 is active at one position of one example
    z[:, 2] = -1.0
    assert D.dead_fraction(z, unit_axis=1) == 2 / 3
    assert D.dead_fraction(np.array([[1.0, -1.0], [-1.0, -1.0]])) == 0.5
    with pytest.raises(ValueError, match="saturation_fraction expected kind to be one of 'Tanh', 'Sigmoid', got 'ReLU'"):
        D.saturation_fraction(np.zeros(3), "ReLU")


def torch_loop(tm, digits, steps, every, lr=0.05, seed=0, batch_size=32, **kw):
    """train()'s batches, with torch: forward, backward, rec.step(opt)."""
    rec = D.Recorder(tm, every=every, **kw)
    opt = torch.optim.SGD(tm.parameters(), lr=lr, momentum=0.9)
    X, y = torch.as_tensor(digits.X_train), torch.as_tensor(digits.y_train)
    rng = np.random.default_rng(seed)
    stream = (idx for _ in range(steps) for idx in batches(len(X), batch_size, rng))
    for _ in range(steps):
        idx = torch.as_tensor(next(stream))
        loss = torch.nn.functional.cross_entropy(tm(X[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        rec.step(opt)
    return rec


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_torch_hooks_give_the_vglab_numbers(digits, backend, activation):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, activation)
    tm = to_torch(model)
    model.to(backend)
    data_b = data.Dataset(*(on(backend, a) for a in (digits.X_train, digits.y_train, digits.X_test, digits.y_test)))
    rec = D.Recorder(model, every=2, samples=50)
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9), data_b, steps=7,
          batch_size=32, eval_every=3, callbacks=[rec], progress=False)
    trec = torch_loop(tm, digits, steps=7, every=2, samples=50)
    assert trec.names == rec.names == ["0", "2", "4", "6"]
    assert trec.kinds == rec.kinds == [activation.capitalize().replace("Relu", "ReLU")] * 3 + [None]
    assert trec.steps == rec.steps == [0, 2, 4, 6]
    for stat in D.STATS:
        np.testing.assert_allclose(getattr(trec, stat), getattr(rec, stat), rtol=1e-9, equal_nan=True, err_msg=stat)
    for (s1, a1), (s2, a2) in zip(rec.snapshots, trec.snapshots, strict=True):
        assert s1 == s2
        for x, z in zip(a1, a2, strict=True):
            np.testing.assert_allclose(x, z, rtol=1e-9)


class FunctionalTanh(torch.nn.Module):
    """The activations are functions called inside forward: no module, so no hook sees them."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b, dtype=torch.float64)
                                          for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for fc in self.layers[:-1]:
            x = torch.tanh(fc(x))
        return self.layers[-1](x)


def test_functional_activations_are_measured_after_each_linear(digits):
    torch.manual_seed(0)
    f = FunctionalTanh([64, 16, 16, 10])
    seq = torch.nn.Sequential(f.layers[0], torch.nn.Tanh(), f.layers[1], torch.nn.Tanh(), f.layers[2])
    X = torch.as_tensor(digits.X_train[:50])
    with D.Recorder(f, samples=0) as rf, D.Recorder(seq, samples=0) as rs:
        f(X)
        rf.before_step()
        seq(X)
        rs.before_step()
    assert rf.names == ["layers.0", "layers.1", "layers.2"] and rs.names == ["0", "2", "4"]
    assert rs.kinds == ["Tanh", "Tanh", None]
    assert rf.kinds == [None, None, None]          # the tanh calls are invisible to hooks
    with torch.no_grad():
        z1 = f.layers[0](X).numpy()
        a1 = np.tanh(z1)
    # the Sequential measures the tanh output, the functional model only the Linear output z
    np.testing.assert_allclose([rs.act_mean[0, 0], rs.act_std[0, 0]], [a1.mean(), a1.std()], rtol=1e-12)
    np.testing.assert_allclose([rf.act_mean[0, 0], rf.act_std[0, 0]], [z1.mean(), z1.std()], rtol=1e-12)
    assert rf.act_std[0, 0] > rs.act_std[0, 0]
    assert np.all(np.isnan(rf.saturation)) and not np.any(np.isnan(rs.saturation[0, :2]))


def test_inplace_relu_keeps_the_pre_activation_statistics(digits):
    torch.manual_seed(0)
    lin = [torch.nn.Linear(64, 32, dtype=torch.float64), torch.nn.Linear(32, 10, dtype=torch.float64)]
    plain = torch.nn.Sequential(lin[0], torch.nn.ReLU(), lin[1])
    inplace = torch.nn.Sequential(lin[0], torch.nn.ReLU(inplace=True), lin[1])
    with torch.no_grad():
        lin[0].bias[:8] = -100.0                     # 8 of the 32 units can never switch on
    X = torch.as_tensor(digits.X_train[:30])
    kept = []
    naive = lin[0].register_forward_hook(lambda m, i, out: kept.append(out))   # keeps a reference
    recs = []
    for model in (plain, inplace):
        with D.Recorder(model, samples=0) as rec:
            model(X)
            rec.before_step()
        recs.append(rec)
    naive.remove()
    for stat in D.STATS:
        np.testing.assert_array_equal(getattr(recs[0], stat), getattr(recs[1], stat))
    assert recs[1].kinds == ["ReLU", None]
    with torch.no_grad():
        z = lin[0](X)
    assert recs[1].dead[0, 0] == D.dead_fraction(z) == 8 / 32
    # what a hook that keeps the Linear's output sees: the plain model's z, but the in-place
    # ReLU overwrote the other one, so its negative entries are gone
    assert torch.equal(kept[0], z) and torch.any(z < 0)
    assert torch.equal(kept[1], torch.relu(z)) and not torch.any(kept[1] < 0)


def test_detach_removes_every_hook(digits):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 8, "relu")
    tm = to_torch(model)
    for m, hooks in ((model, lambda mod: mod._forward_hooks), (tm, lambda mod: mod._forward_hooks)):
        rec = D.Recorder(m)
        assert sum(len(hooks(mod)) for mod in m.modules()) == len(list(m.children())) + 1  # leaves and model
        assert "attached" in repr(rec)
        rec.detach()
        assert sum(len(hooks(mod)) for mod in m.modules()) == 0
        assert "detached" in repr(rec)
        rec.detach()                                # twice is harmless
    X, y = fixed_batch(digits)
    with D.Recorder(model) as rec:
        one_step(model, rec, optim.SGD(model.parameters(), lr=0.1), X, y)
    assert sum(len(mod._forward_hooks) for mod in model.modules()) == 0
    means = rec.act_mean.copy()
    model(X)                                       # no hook left: nothing is pending or recorded
    rec.before_step()
    assert rec.steps == [0, 1] and np.all(np.isnan(rec.act_mean[1])) and np.array_equal(rec.act_mean[:1], means)


def test_every_skips_steps_and_eval_forwards_are_not_measured(digits):
    results = []
    for eval_every in (None, 1):
        vg.manual_seed(0)
        model = models.deep_mlp(3, 8, "sigmoid")
        rec = D.Recorder(model, every=3, samples=0)
        train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), digits, steps=7,
              eval_every=eval_every, callbacks=[rec], progress=False)
        results.append(rec)
    assert results[0].steps == [0, 3, 6] and results[0].act_std.shape == (3, 3)
    for stat in D.STATS:
        np.testing.assert_array_equal(getattr(results[0], stat), getattr(results[1], stat))
    assert np.all(np.isfinite(results[0].act_std)) and np.all(np.isfinite(results[0].update_ratio))


def test_snapshots_are_bounded(digits):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 8, "tanh")
    rec = D.Recorder(model, samples=5, max_snapshots=4)
    layer0 = []
    model[0].register_forward_hook(lambda m, i, out: layer0.append(np.tanh(out)))
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), digits, steps=20,
          callbacks=[rec], progress=False)
    assert 1 <= len(rec.snapshots) <= 4 and rec.snapshots[0][0] == 0
    for step, samples in rec.snapshots:
        assert [len(s) for s in samples] == [5, 5, 5]
        assert np.all(np.isin(samples[0], layer0[step]))   # drawn from that step's tanh output


def test_recorder_rejects_bad_arguments():
    with pytest.raises(TypeError, match="Recorder expected model to be a vglab or torch.nn Module, got list"):
        D.Recorder([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="Recorder expected a model with at least one leaf module holding a weight"):
        D.Recorder(nn.Sequential(nn.Tanh()))
    with pytest.raises(ValueError, match="Recorder expected every >= 1"):
        D.Recorder(nn.Sequential(nn.Linear(2, 2)), every=0)


@pytest.mark.parametrize("activation", ["relu", "prelu", "gelu"])
def test_layers_are_weight_layers_and_prelu_is_an_activation(activation):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 6, activation)
    assert [n for n, _ in models.weight_layers(model)] == ["0", "2", "4"]
    rec = forward_once(model, np.random.default_rng(0).normal(size=(5, 64)))
    assert rec.names == ["0", "2", "4"]
    assert rec.kinds == [type(model[1]).__name__] * 2 + [None]
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.PReLU(), torch.nn.Linear(3, 2))
    assert [n for n, _ in models.weight_layers(tm)] == ["0", "2"]
    assert D.Recorder(tm).names == ["0", "2"]
