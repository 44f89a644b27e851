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
