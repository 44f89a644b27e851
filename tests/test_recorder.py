"""vglab.recorder: weight_layers, the saturation thresholds, and the Recorder's numbers against hand
computations and torch autograd, in float64 and float32, for vglab models and (by hooks) torch.nn ones."""

import math
import warnings

import numpy as np
import pytest
from conftest import backends, on

import vglab as vg
from vglab import data, models, nn, optim
from vglab import recorder as R
from vglab.data import batches
from vglab.interop import to_torch
from vglab.recorder import STATS, Recorder, dead_fraction, saturation_fraction, weight_layers
from vglab.train import Callback, train


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


def torch_grad_norms(torch, model, X, y, which="weight"):
    """Per-layer gradient norms from torch autograd on a copy of the vglab ``model``."""
    tm = to_torch(model)
    loss = torch.nn.functional.cross_entropy(tm(torch.as_tensor(X)), torch.as_tensor(y))
    loss.backward()
    return [float(torch.linalg.vector_norm(getattr(m, which).grad)) for m in tm if isinstance(m, torch.nn.Linear)]


def one_step(model, rec, opt, X, y):
    """Forward, backward, then the recorder around ``opt.step()`` (a reader's own loop)."""
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    rec.step(opt)
    opt.zero_grad()


def on_backend(backend, digits):
    return data.Dataset(*(on(backend, a) for a in (digits.X_train, digits.y_train, digits.X_test, digits.y_test)))


# --------------------------------------------------------------------------- weight_layers

def test_weight_layers_names_and_order():
    model = models.deep_mlp(4, 8, "tanh")
    assert [name for name, _ in weight_layers(model)] == ["0", "2", "4", "6"]
    assert [m for _, m in weight_layers(model)] == linears(model)
    assert [name for name, _ in weight_layers(models.deep_mlp(3, 8, "linear"))] == ["0", "1", "2"]
    nested = nn.Sequential(nn.Sequential(nn.Linear(3, 4), nn.ReLU()), nn.Linear(4, 2))
    assert [name for name, _ in weight_layers(nested)] == ["0.0", "1"]
    assert weight_layers(nn.Sequential(nn.Tanh())) == []
    assert vg.diagnostics.weight_layers is weight_layers and not hasattr(models, "weight_layers")


@pytest.mark.parametrize("activation", ["relu", "prelu", "gelu"])
def test_weight_layers_leave_prelu_out_and_it_is_measured_as_an_activation(activation, torch):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 6, activation)
    assert [n for n, _ in weight_layers(model)] == ["0", "2", "4"]
    rec = forward_once(model, np.random.default_rng(0).normal(size=(5, 64)))
    assert rec.names == ["0", "2", "4"]
    assert rec.kinds == [type(model[1]).__name__] * 2 + [None]
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.PReLU(), torch.nn.Linear(3, 2))
    assert [n for n, _ in weight_layers(tm)] == ["0", "2"]
    assert Recorder(tm).names == ["0", "2"]


# --------------------------------------------------------------------------- saturation thresholds

def derivative(torch, fn, z):
    """f'(z) by torch autograd, in float64: independent of the formulas in terms of the output a."""
    z = torch.as_tensor(np.asarray(z, dtype=np.float64)).requires_grad_(True)
    fn(z).sum().backward()
    return z.grad.numpy()


def test_saturation_thresholds_are_where_the_derivative_drops_below_the_stated_bound(torch):
    tanh_d = derivative(torch, torch.tanh, [math.atanh(0.97), -math.atanh(0.97)])
    logit = lambda p: math.log(p / (1 - p))
    sigmoid_d = derivative(torch, torch.sigmoid, [logit(0.03), logit(0.97)])
    # the numbers the docstring states: 1 - 0.97^2 = 0.0591 and 0.03 * 0.97 = 0.0291 (not 0.06 for both)
    np.testing.assert_allclose(tanh_d, [0.0591, 0.0591], rtol=1e-12)
    np.testing.assert_allclose(sigmoid_d, [0.0291, 0.0291], rtol=1e-12)
    assert R.SATURATION["Tanh"].max_derivative == pytest.approx(tanh_d[0], rel=1e-12)
    assert R.SATURATION["Sigmoid"].max_derivative == pytest.approx(sigmoid_d[0], rel=1e-12)
    for kind in ("Tanh", "Sigmoid"):
        assert f"{R.SATURATION[kind].max_derivative:.4f}" in R.__doc__
    assert "0.06" not in R.__doc__
    # on a fine grid of z, an entry counts as saturated exactly where the derivative is below the bound
    z = np.linspace(-9, 9, 20001)
    for kind, fn in (("Tanh", torch.tanh), ("Sigmoid", torch.sigmoid)):
        a = fn(torch.as_tensor(z)).numpy()
        small = derivative(torch, fn, z) < R.SATURATION[kind].max_derivative
        assert 0.2 < small.mean() < 0.9
        for i in range(0, len(z), 1000):                     # entry by entry ...
            assert saturation_fraction(a[i:i + 1], kind) == small[i], (kind, z[i])
        assert saturation_fraction(a, kind) == small.mean()  # ... and as a fraction
    # a sigmoid output of 0.05 has sigma' = 0.0475 < 0.06, yet it is not saturated
    assert saturation_fraction(np.array([0.05]), "Sigmoid") == 0.0


def test_saturation_and_dead_fraction_functions():
    assert saturation_fraction(np.array([0.98, -0.99, 0.5, 0.97]), "Tanh") == 0.5
    assert saturation_fraction(np.array([[0.01, 0.03], [0.97, 0.99]]), "Sigmoid") == 0.5
    z = np.zeros((2, 3, 2, 2))
    z[0, 1, 1, 0] = 0.1              # channel 1 is active at one position of one example
    z[:, 2] = -1.0
    assert dead_fraction(z, unit_axis=1) == 2 / 3
    assert dead_fraction(np.array([[1.0, -1.0], [-1.0, -1.0]])) == 0.5
    with pytest.raises(ValueError, match="saturation_fraction expected kind to be one of 'Tanh', 'Sigmoid', got 'ReLU'"):
        saturation_fraction(np.zeros(3), "ReLU")


# --------------------------------------------------------------------------- gradient norms and update ratios

class HandRecorder(Callback):
    """Weights and gradients as the loop sees them (NumPy copies), to recompute the recorder's numbers."""

    def __init__(self):
        self.weights, self.grads, self.after = [], [], []

    def on_before_step(self, info):
        self.weights.append([vg.to_numpy(m.weight.data).copy() for m in linears(info.model)])
        self.grads.append([vg.to_numpy(m.weight.grad).copy() for m in linears(info.model)])

    def on_step_end(self, info):
        self.after.append([vg.to_numpy(m.weight.data).copy() for m in linears(info.model)])


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
def test_grad_norms_equal_torch_autograd(digits, backend, activation, torch):
    vg.manual_seed(1)
    model = models.deep_mlp(5, 12, activation)
    X, y = digits.X_train[:40], digits.y_train[:40]
    expected_w, expected_b = torch_grad_norms(torch, model, X, y), torch_grad_norms(torch, model, X, y, "bias")
    model.to(backend)
    rec = Recorder(model)
    one_step(model, rec, optim.SGD(model.parameters(), lr=0.1), on(backend, X), on(backend, y))
    assert rec.names == ["0", "2", "4", "6", "8"] and rec.steps == [0]
    assert rec.grad_norm.shape == (1, 5)
    np.testing.assert_allclose(rec.grad_norm[0], expected_w, rtol=1e-10)
    np.testing.assert_allclose(rec.bias_grad_norm[0], expected_b, rtol=1e-10)


@pytest.mark.parametrize("backend", backends)
def test_update_ratio_for_plain_sgd_by_hand(digits, backend):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, "tanh").to(backend)
    lr = 0.1
    hand, rec = HandRecorder(), Recorder(model)
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr), on_backend(backend, digits), steps=5,
          callbacks=[hand, rec], progress=False)
    assert rec.steps == list(range(5)) and rec.update_ratio.shape == (5, 4)
    # plain SGD moves W by -lr * grad, so the ratio is lr ||grad|| / ||W||
    expected = [[lr * np.linalg.norm(g) / np.linalg.norm(w) for w, g in zip(ws, gs)]
                for ws, gs in zip(hand.weights, hand.grads)]
    np.testing.assert_allclose(rec.update_ratio, expected, rtol=1e-12)
    np.testing.assert_allclose(rec.grad_norm, [[np.linalg.norm(g) for g in gs] for gs in hand.grads], rtol=1e-13)


def test_update_ratio_with_momentum_from_the_weights():
    """Whatever the optimiser does, the ratio is the relative change of the weights around step()."""
    vg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    rec = Recorder(model)
    w0 = model[0].weight.data.copy()
    X, y = np.ones((4, 3)), np.array([0, 1, 0, 1])
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    one_step(model, rec, opt, X, y)
    w1 = model[0].weight.data.copy()
    one_step(model, rec, opt, X, y)
    w2 = model[0].weight.data
    np.testing.assert_allclose(rec.update_ratio[:, 0], [np.linalg.norm(w1 - w0) / np.linalg.norm(w0),
                                                      np.linalg.norm(w2 - w1) / np.linalg.norm(w1)], rtol=1e-13)


@pytest.mark.parametrize("backend", backends)
def test_float32_numbers_equal_a_float64_computation_from_the_float32_values(digits, backend, torch):
    """A float32 model: the recorder reports the float64 norms of its float32 gradients and weight
    changes, to 1e-13, not float32 sums (which are off by about 1e-7)."""
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, "tanh")
    X, y = digits.X_train[:32], digits.y_train[:32]
    torch_norms = torch_grad_norms(torch, model, X, y)           # float64 autograd on the same weights
    model.to(backend, dtype="float32")
    X32 = on(backend, X.astype(np.float32), dtype="float32")
    rec = Recorder(model, samples=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    copy = lambda arrays: [vg.to_numpy(a).copy() for a in arrays]
    grads, before, after = [], [], []
    for _ in range(3):
        loss_fn(model(X32), on(backend, y))
        model.backward(loss_fn.backward())
        grads.append(copy(m.weight.grad for m in linears(model)))
        before.append(copy(m.weight.data for m in linears(model)))
        rec.step(opt)
        after.append(copy(m.weight.data for m in linears(model)))
        opt.zero_grad()
    assert grads[0][0].dtype == before[0][0].dtype == np.float32
    f64 = lambda arrays: [a.astype(np.float64) for a in arrays]
    grad = [[np.linalg.norm(g) for g in f64(gs)] for gs in grads]
    ratio = [[np.linalg.norm(a - w) / np.linalg.norm(w) for w, a in zip(f64(ws), f64(ws_after))]
             for ws, ws_after in zip(before, after)]
    np.testing.assert_allclose(rec.grad_norm, grad, rtol=1e-13)
    np.testing.assert_allclose(rec.update_ratio, ratio, rtol=1e-13)
    np.testing.assert_allclose(rec.grad_norm[0], torch_norms, rtol=1e-4)   # float32 forward and backward
    ratio32 = [[np.linalg.norm(a - w) / np.linalg.norm(w) for w, a in zip(ws, ws_after)]
               for ws, ws_after in zip(before, after)]
    assert np.max(np.abs(np.array(ratio32) / ratio - 1)) > 1e-10     # float32 sums would have failed above


@pytest.mark.parametrize("backend", backends)
def test_update_ratio_of_a_zero_weight_is_inf_or_nan_without_a_warning(backend):
    vg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    for lin in linears(model):
        lin.weight.data = lin.weight.data * 0
    model.to(backend)
    rec = Recorder(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one_step(model, rec, optim.SGD(model.parameters(), lr=0.1), on(backend, np.ones((5, 3))),
                 on(backend, np.array([0, 1, 0, 1, 1])))
    # W2 = 0 sends no gradient to layer 1, which stays 0 (0/0: NaN); layer 2 moves away from 0 (inf)
    assert np.all(vg.to_numpy(model[0].weight.data) == 0) and np.any(vg.to_numpy(model[2].weight.data) != 0)
    assert np.isnan(rec.update_ratio[0, 0]) and rec.update_ratio[0, 1] == math.inf
    assert rec.grad_norm[0, 0] == 0 and rec.grad_norm[0, 1] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(R.relative_change(np.zeros((2, 2)), np.zeros((2, 2))))
        assert R.relative_change(np.zeros(3), np.array([0.0, 1e-300, 0.0])) == math.inf
    assert R.relative_change(np.array([[3.0, 4.0]]), np.array([[3.0, 5.0]])) == pytest.approx(0.2, rel=1e-15)


# --------------------------------------------------------------------------- activation statistics

def single_layer(activation, weight, bias=None):
    """Linear(D, H) with given weights, followed by ``activation`` (a module or None)."""
    weight = np.asarray(weight, dtype=float)
    lin = nn.Linear(weight.shape[1], weight.shape[0])
    lin.weight.data = weight.copy()
    lin.bias.data = np.zeros(weight.shape[0]) if bias is None else np.asarray(bias, dtype=float)
    return nn.Sequential(lin, activation) if activation is not None else nn.Sequential(lin)


def forward_once(model, X):
    rec = Recorder(model, samples=0)
    model(X)
    rec.before_step()
    return rec


@pytest.mark.parametrize("backend", backends)
def test_saturation_and_activation_stats_on_constructed_inputs(backend):
    # identity weights, so z = X; arctanh(0.97) = 2.092: entries beyond it saturate a tanh
    X = np.array([[0.0, 2.5, -3.0, 1.0], [2.0, -2.2, 0.5, 5.0], [-0.1, 0.2, 2.09, -2.1]])
    rec = forward_once(single_layer(nn.Tanh(), np.eye(4)).to(backend), on(backend, X))
    a = np.tanh(X)
    assert rec.kinds == ["Tanh"]
    assert rec.saturation[0, 0] == 5 / 12      # 2.5, -3.0, -2.2, 5.0 and -2.1
    assert np.isnan(rec.dead[0, 0])             # a tanh has no dead units
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [a.mean(), a.std()], rtol=1e-13)
    # sigmoid: saturated outside [0.03, 0.97], i.e. |z| > log(0.97 / 0.03) = 3.476
    X = np.array([[3.5, -3.4, 0.0], [-4.0, 3.47, 10.0]])
    rec = forward_once(single_layer(nn.Sigmoid(), np.eye(3)).to(backend), on(backend, X))
    assert rec.kinds == ["Sigmoid"] and rec.saturation[0, 0] == 3 / 6
    s = 1 / (1 + np.exp(-X))
    np.testing.assert_allclose([rec.act_mean[0, 0], rec.act_std[0, 0]], [s.mean(), s.std()], rtol=1e-13)


@pytest.mark.parametrize("backend", backends)
def test_dead_units_on_constructed_inputs(backend):
    # units: 0 always negative (dead), 1 positive once (alive), 2 exactly 0 (dead: <= 0), 3 always positive
    Z = np.array([[-1.0, -2.0, 0.0, 1.0], [-0.5, 3.0, 0.0, 2.0], [-2.0, -1.0, 0.0, 0.5]])
    rec = forward_once(single_layer(nn.ReLU(), np.eye(4)).to(backend), on(backend, Z))
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


# --------------------------------------------------------------------------- torch.nn models, by hooks

def test_torch_module_in_float32_against_torch(digits, torch):
    """Hooks on a float32 torch.nn model: every statistic against torch's own float32 tensors."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 16),
                                torch.nn.Sigmoid(), torch.nn.Linear(16, 10))          # float32
    lins = [model[0], model[2], model[4]]
    X, y = torch.as_tensor(digits.X_train[:50], dtype=torch.float32), torch.as_tensor(digits.y_train[:50])
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    with torch.no_grad():                                           # the forward, by hand
        a1 = torch.tanh(model[0](X))
        a2 = torch.sigmoid(model[2](a1))
        z3 = model[4](a2)
    with Recorder(model, samples=0) as rec:
        torch.nn.functional.cross_entropy(model(X), y).backward()
        before = [m.weight.detach().clone() for m in lins]
        rec.step(opt)
    assert rec.names == ["0", "2", "4"] and rec.kinds == ["Tanh", "Sigmoid", None]
    d = lambda t: t.double()
    np.testing.assert_allclose(rec.grad_norm[0], [float(torch.linalg.vector_norm(d(m.weight.grad))) for m in lins],
                               rtol=1e-13)
    np.testing.assert_allclose(rec.bias_grad_norm[0], [float(torch.linalg.vector_norm(d(m.bias.grad))) for m in lins],
                               rtol=1e-13)
    expected = [float(torch.linalg.vector_norm(d(m.weight.detach()) - d(w)) / torch.linalg.vector_norm(d(w)))
                for m, w in zip(lins, before)]
    np.testing.assert_allclose(rec.update_ratio[0], expected, rtol=1e-13)
    np.testing.assert_allclose(rec.act_mean[0], [float(d(a).mean()) for a in (a1, a2, z3)], rtol=1e-12)
    np.testing.assert_allclose(rec.act_std[0], [float(d(a).std(correction=0)) for a in (a1, a2, z3)], rtol=1e-12)
    np.testing.assert_array_equal(rec.saturation[0, :2], [float((a1.abs() > 0.97).double().mean()),
                                                         float(((a2 < 0.03) | (a2 > 0.97)).double().mean())])
    assert np.all(np.isnan(rec.dead[0])) and np.isnan(rec.saturation[0, 2])


def torch_loop(torch, tm, digits, steps, every, lr=0.05, seed=0, batch_size=32, **kw):
    """train()'s batches, with torch: forward, backward, rec.step(opt)."""
    rec = Recorder(tm, every=every, **kw)
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
def test_torch_hooks_give_the_vglab_numbers(digits, backend, activation, torch):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 16, activation)
    tm = to_torch(model)
    model.to(backend)
    rec = Recorder(model, every=2, samples=50)
    train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
          on_backend(backend, digits), steps=7, batch_size=32, eval_every=3, callbacks=[rec], progress=False)
    trec = torch_loop(torch, tm, digits, steps=7, every=2, samples=50)
    assert trec.names == rec.names == ["0", "2", "4", "6"]
    assert trec.kinds == rec.kinds == [activation.capitalize().replace("Relu", "ReLU")] * 3 + [None]
    assert trec.steps == rec.steps == [0, 2, 4, 6]
    for stat in STATS:
        np.testing.assert_allclose(getattr(trec, stat), getattr(rec, stat), rtol=1e-9, equal_nan=True, err_msg=stat)
    for (s1, a1), (s2, a2) in zip(rec.snapshots, trec.snapshots, strict=True):
        assert s1 == s2
        for x, z in zip(a1, a2, strict=True):
            np.testing.assert_allclose(x, z, rtol=1e-9)


def test_functional_activations_are_measured_after_each_linear(digits, torch):
    """The activations are functions called inside forward: no module, so no hook sees them."""

    class FunctionalTanh(torch.nn.Module):
        def __init__(self, sizes):
            super().__init__()
            self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b, dtype=torch.float64)
                                              for a, b in zip(sizes[:-1], sizes[1:]))

        def forward(self, x):
            for fc in self.layers[:-1]:
                x = torch.tanh(fc(x))
            return self.layers[-1](x)

    torch.manual_seed(0)
    f = FunctionalTanh([64, 16, 16, 10])
    seq = torch.nn.Sequential(f.layers[0], torch.nn.Tanh(), f.layers[1], torch.nn.Tanh(), f.layers[2])
    X = torch.as_tensor(digits.X_train[:50])
    with Recorder(f, samples=0) as rf, Recorder(seq, samples=0) as rs:
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


def test_inplace_relu_keeps_the_pre_activation_statistics(digits, torch):
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
        with Recorder(model, samples=0) as rec:
            model(X)
            rec.before_step()
        recs.append(rec)
    naive.remove()
    for stat in STATS:
        np.testing.assert_array_equal(getattr(recs[0], stat), getattr(recs[1], stat))
    assert recs[1].kinds == ["ReLU", None]
    with torch.no_grad():
        z = lin[0](X)
    assert recs[1].dead[0, 0] == dead_fraction(z) == 8 / 32
    # what a hook that keeps the Linear's output sees: the plain model's z, but the in-place
    # ReLU overwrote the other one, so its negative entries are gone
    assert torch.equal(kept[0], z) and torch.any(z < 0)
    assert torch.equal(kept[1], torch.relu(z)) and not torch.any(kept[1] < 0)


# --------------------------------------------------------------------------- hooks, steps, snapshots, errors

def test_detach_removes_every_hook(digits, torch):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 8, "relu")
    tm = to_torch(model)
    for m in (model, tm):
        rec = Recorder(m)
        assert sum(len(mod._forward_hooks) for mod in m.modules()) == len(list(m.children())) + 1  # leaves, model
        assert "attached" in repr(rec)
        rec.detach()
        assert sum(len(mod._forward_hooks) for mod in m.modules()) == 0
        assert "detached" in repr(rec)
        rec.detach()                                # twice is harmless
    X, y = digits.X_train[:40], digits.y_train[:40]
    with Recorder(model) as rec:
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
        rec = Recorder(model, every=3, samples=0)
        train(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), digits, steps=7,
              eval_every=eval_every, callbacks=[rec], progress=False)
        results.append(rec)
    assert results[0].steps == [0, 3, 6] and results[0].act_std.shape == (3, 3)
    for stat in STATS:
        np.testing.assert_array_equal(getattr(results[0], stat), getattr(results[1], stat))
    assert np.all(np.isfinite(results[0].act_std)) and np.all(np.isfinite(results[0].update_ratio))


def test_snapshots_are_bounded(digits):
    vg.manual_seed(0)
    model = models.deep_mlp(3, 8, "tanh")
    rec = Recorder(model, samples=5, max_snapshots=4)
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
        Recorder([nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="Recorder expected a model with at least one leaf module holding a weight"):
        Recorder(nn.Sequential(nn.Tanh()))
    with pytest.raises(ValueError, match="Recorder expected every >= 1"):
        Recorder(nn.Sequential(nn.Linear(2, 2)), every=0)


def test_diagnostics_re_exports_the_one_recorder():
    assert vg.diagnostics.Recorder is Recorder and vg.diagnostics.STATS is STATS
    assert not hasattr(vg.diagnostics, "GradNormRecorder") and not hasattr(vg.diagnostics, "UpdateRatioRecorder")
