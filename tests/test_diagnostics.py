"""vglab.diagnostics: gradient norms against torch autograd and the chapter-0 network's vanishing
gradient. (The Recorder, which diagnostics re-exports, is tested in test_recorder.py.)"""

import math

import numpy as np
import pytest

import vglab as vg
from vglab import data, diagnostics as D, models, nn
from vglab.interop import to_torch


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def torch_grad_norms(torch, model, X, y, which="weight"):
    """Per-layer gradient norms from torch autograd on a copy of ``model``."""
    tm = to_torch(model)
    loss = torch.nn.functional.cross_entropy(tm(torch.as_tensor(X)), torch.as_tensor(y))
    loss.backward()
    return [float(torch.linalg.vector_norm(getattr(m, which).grad)) for m in tm if isinstance(m, torch.nn.Linear)]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("which", ["weight", "bias"])
def test_grad_norms_equal_torch_autograd(digits, activation, which, torch):
    vg.manual_seed(0)
    model = models.deep_mlp(6, 24, activation)
    X, y = digits.X_train[:50], digits.y_train[:50]
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    norms = D.grad_norms(model, which=which)
    assert list(norms) == ["0", "2", "4", "6", "8", "10"]
    expected = torch_grad_norms(torch, model, X, y, which)
    np.testing.assert_allclose(list(norms.values()), expected, rtol=1e-10)


def test_grad_norms_nan_without_gradient_and_float64_sums():
    model = models.deep_mlp(3, 8)
    norms = D.grad_norms(model)
    assert len(norms) == 3 and all(math.isnan(v) for v in norms.values())
    model[0].weight.grad = np.full((8, 64), 0.5)
    assert D.grad_norms(model)["0"] == pytest.approx(0.5 * math.sqrt(8 * 64), rel=1e-15)
    # a float32 gradient: the norm of its values, summed in float64
    g = np.random.default_rng(0).normal(size=(8, 64)).astype(np.float32)
    model[0].weight.grad = g
    assert D.grad_norms(model)["0"] == pytest.approx(math.sqrt(sum(float(v) ** 2 for v in g.ravel())), rel=1e-14)


def test_layer_grad_norms_on_the_chapter0_network(digits, torch):
    """The book's opening claim: in the chapter-0 network the first layer's gradient is
    orders of magnitude below the last layer's."""
    model = models.chapter0_network()
    X, y = digits.X_train[:models.CHAPTER0.batch_size], digits.y_train[:models.CHAPTER0.batch_size]
    norms = D.layer_grad_norms(model, nn.CrossEntropyLoss(), X, y)
    assert norms.shape == (models.CHAPTER0.depth,)
    assert norms[0] / norms[-1] < 1e-4
    np.testing.assert_allclose(norms, torch_grad_norms(torch, model, X, y), rtol=1e-10)
    # the gradients are left in place, and a second call does not accumulate onto them
    np.testing.assert_array_equal(norms, list(D.grad_norms(model).values()))
    np.testing.assert_allclose(D.layer_grad_norms(model, nn.CrossEntropyLoss(), X, y), norms, rtol=1e-15)
