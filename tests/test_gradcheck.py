"""vglab.gradcheck: the error measure, central differences, and that check_module catches broken backwards."""

import numpy as np
import pytest

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, numerical_gradient, rel_error
from conftest import backends, on, randn


# ----------------------------------------------------------------- rel_error

def test_rel_error_definition():
    # max|a - b| / max|b|: the second argument is the reference
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == 0.5
    assert rel_error(np.array([1.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert rel_error(np.array([[3.0, -1.0]]), np.array([[3.0, -2.0]])) == 1 / 3  # max over all entries
    assert rel_error(np.array(7.0), np.array(7.0)) == 0.0


def test_rel_error_with_zero_reference_and_empty_arrays():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(np.array([1e-310]), np.array([0.0])) == pytest.approx(1e-10)  # divided by tiny = 1e-300
    assert rel_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_rel_error_accepts_both_backends(torch):
    a = torch.tensor([1.0, 3.0], dtype=torch.float64)
    assert rel_error(a, np.array([1.0, 2.0])) == 0.5
    assert rel_error(np.array([1.0, 2.0]), a) == pytest.approx(1 / 3)


def test_rel_error_shape_mismatch():
    with pytest.raises(ValueError, match=r"rel_error expected arrays of equal shape, got \(3,\) and \(3, 1\)"):
        rel_error(np.zeros(3), np.zeros((3, 1)))


# ----------------------------------------------------------------- numerical_gradient

@pytest.mark.parametrize("backend", backends)
def test_numerical_gradient_of_known_functions(backend):
    x_np = np.random.default_rng(0).standard_normal((3, 4))
    x = on(backend, x_np)
    xp = vg.backend.namespace(x)
    num = numerical_gradient(lambda: xp.sum(x ** 3), x)
    assert num.shape == (3, 4) and isinstance(num, np.ndarray)
    assert rel_error(num, 3 * x_np ** 2) < 1e-8
    num = numerical_gradient(lambda: xp.sum(xp.sin(x)) + 2 * x[1, 2], x)
    expected = np.cos(x_np)
    expected[1, 2] += 2
    assert rel_error(num, expected) < 1e-8
    assert np.array_equal(vg.to_numpy(x), x_np)  # restored exactly


def test_numerical_gradient_error_is_second_order_in_h():
    x = np.array([0.7])
    err = {h: abs(numerical_gradient(lambda: np.exp(x[0]), x, h=h)[0] - np.exp(0.7)) for h in (1e-2, 1e-3)}
    # central differences: error ~ f'''(x) h^2 / 6, so ten times smaller h is a hundred times smaller error
    assert err[1e-2] == pytest.approx(np.exp(0.7) * 1e-4 / 6, rel=1e-3)
    assert 80 < err[1e-2] / err[1e-3] < 120


def test_numerical_gradient_samples_coordinates():
    x = np.random.default_rng(1).standard_normal((10, 10))
    num = numerical_gradient(lambda: np.sum(x ** 2), x, max_coords=7, seed=3)
    done = ~np.isnan(num)
    assert done.sum() == 7
    assert rel_error(num[done], 2 * x[done]) < 1e-8
    again = numerical_gradient(lambda: np.sum(x ** 2), x, max_coords=7, seed=3)
    assert np.array_equal(np.isnan(again), ~done)


def test_numerical_gradient_refuses_float32():
    x = np.ones(3, dtype=np.float32)
    with pytest.raises(TypeError, match=r"numerical_gradient expected x of dtype float64, got float32"):
        numerical_gradient(lambda: x.sum(), x)


# ----------------------------------------------------------------- check_module

class SigmoidMissingFactor(nn.Sigmoid):
    """A classic slip: sigma' written as sigma instead of sigma (1 - sigma)."""

    def backward(self, grad_output):
        return grad_output * self._cache.out


class LinearTransposedWeightGrad(nn.Linear):
    """Another: dL/dW = x^T delta instead of delta^T x (shapes agree for a square layer)."""

    def backward(self, grad_output):
        x = self._cache.x
        self.weight.accumulate(x.T @ grad_output)
        self.bias.accumulate(grad_output.sum(axis=0))
        return grad_output @ self.weight.data


class TanhSlightlyOff(nn.Tanh):
    """A derivative wrong by one part in 10^5: far above the 1e-7 bound, far below what a plot shows."""

    def backward(self, grad_output):
        return super().backward(grad_output) * (1 + 1e-5)


@pytest.mark.parametrize("backend", backends)
def test_check_module_passes_a_correct_module(backend):
    vg.manual_seed(0)
    with vg.backend.using(backend):
        model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    report = check_module(model, randn(backend, 6, 4, seed=1))
    assert set(report.errors) == {"input0", "0.weight", "0.bias", "2.weight", "2.bias"}
    assert report.max_error < 1e-7
    assert "max relative error" in repr(report) and "2.weight" in repr(report)


@pytest.mark.parametrize("backend", backends)
def test_check_module_catches_a_wrong_activation_derivative(backend):
    report = check_module(SigmoidMissingFactor(), randn(backend, 5, 3, seed=1))
    assert report.errors["input0"] > 0.5


@pytest.mark.parametrize("backend", backends)
def test_check_module_catches_a_transposed_weight_gradient(backend):
    vg.manual_seed(1)
    with vg.backend.using(backend):
        layer = LinearTransposedWeightGrad(4, 4)
    # (not seed 0: check_module's probe R is drawn with seed 0, and x = R would make x^T R symmetric)
    report = check_module(layer, randn(backend, 6, 4, seed=7))
    assert report.errors["weight"] > 0.1
    assert report.errors["bias"] < 1e-7 and report.errors["input0"] < 1e-7  # it points at the culprit


@pytest.mark.parametrize("backend", backends)
def test_check_module_sees_a_relative_error_of_1e_5(backend):
    report = check_module(TanhSlightlyOff(), randn(backend, 5, 3, seed=1))
    assert 0.5e-5 < report.errors["input0"] < 2e-5


def test_check_module_skips_frozen_parameters_and_restores_inputs():
    vg.manual_seed(2)
    layer = nn.Linear(3, 2)
    layer.bias.requires_grad = False
    x = np.random.default_rng(3).standard_normal((4, 3))
    x_before, w_before = x.copy(), layer.weight.data.copy()
    report = check_module(layer, x)
    assert set(report.errors) == {"input0", "weight"} and report.max_error < 1e-7
    assert np.array_equal(x, x_before) and np.array_equal(layer.weight.data, w_before)


def test_check_module_samples_large_arrays():
    vg.manual_seed(3)
    layer = nn.Linear(40, 30)  # 1200 weights, checked at 50 sampled coordinates
    report = check_module(layer, np.random.default_rng(4).standard_normal((2, 40)), max_coords=50)
    assert report.max_error < 1e-7
