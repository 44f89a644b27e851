"""nn.Sigmoid, nn.Tanh, nn.ReLU: gradient checks, agreement with torch.nn, properties, bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from vglab import nn
from vglab.gradcheck import check_module, rel_error
from conftest import assert_linear_in_upstream, backends, on, randn

NAMES = ["Sigmoid", "Tanh", "ReLU"]


def away_from_zero(backend, *shape, seed=0):
    """O(1) draws with |x| >= 0.1, so central differences never straddle ReLU's kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return on(backend, np.sign(x) * (0.1 + np.abs(x)))


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_gradcheck(backend, name):
    report = check_module(getattr(nn, name)(), away_from_zero(backend, 6, 5, seed=1))
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_matches_torch(backend, name, torch):
    x_np = 3 * np.random.default_rng(1).standard_normal((7, 4))
    g_np = np.random.default_rng(2).standard_normal((7, 4))
    act = getattr(nn, name)()
    y = act(on(backend, x_np))
    dx = act.backward(on(backend, g_np))
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = getattr(torch.nn, name)()(x_t)
    y_t.backward(torch.tensor(g_np))
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    assert repr(act) == repr(getattr(torch.nn, name)())


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_derivative_at_zero_follows_torch(backend, name, torch):
    x_np = np.array([[-1.0, 0.0, 1.0], [0.0, -0.0, 2.0]])
    act = getattr(nn, name)()
    act(on(backend, x_np))
    dx = act.backward(on(backend, np.ones_like(x_np)))
    x_t = torch.tensor(x_np, requires_grad=True)
    getattr(torch.nn, name)()(x_t).backward(torch.ones(2, 3, dtype=torch.float64))
    assert np.array_equal(np.asarray(dx), x_t.grad.numpy())


@pytest.mark.parametrize("backend", backends)
def test_relu_derivative_is_zero_at_zero(backend):
    relu = nn.ReLU()
    y = relu(on(backend, np.array([0.0, -0.0, 1e-300, -1e-300])))
    dx = relu.backward(on(backend, np.full(4, 5.0)))
    assert np.array_equal(np.asarray(y), [0.0, 0.0, 1e-300, 0.0])
    assert np.array_equal(np.asarray(dx), [0.0, 0.0, 5.0, 0.0])


@pytest.mark.parametrize("backend", backends)
def test_sigmoid_large_inputs_do_not_overflow(backend, torch):
    x_np = np.array([-1e3, -800.0, -745.0, -40.0, 0.0, 40.0, 800.0, 1e3])
    sig = nn.Sigmoid()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = sig(on(backend, x_np))
        dx = sig.backward(on(backend, np.ones(8)))
    y, dx = np.asarray(y), np.asarray(dx)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[4] == 0.5
    np.testing.assert_allclose(y, torch.sigmoid(torch.tensor(x_np)).numpy(), rtol=1e-14, atol=1e-300)
    assert y[3] == pytest.approx(np.exp(-40.0), rel=1e-13)  # no cancellation in 1 - sigma for x < 0
    assert dx[0] == 0.0 and dx[-1] == 0.0 and dx[4] == 0.25


@pytest.mark.parametrize("backend", backends)
def test_tanh_large_inputs(backend):
    tanh = nn.Tanh()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = np.asarray(tanh(on(backend, np.array([-1e3, 0.0, 1e3]))))
        dx = np.asarray(tanh.backward(on(backend, np.ones(3))))
    assert np.array_equal(y, [-1.0, 0.0, 1.0]) and np.array_equal(dx, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=30)
@given(x=arrays(np.float64, (3, 4), elements=st.floats(-1e3, 1e3)))
def test_sigmoid_range_and_slope_bound(backend, x):
    """0 <= sigma <= 1, 0 <= sigma' <= 1/4 and sigma is non-decreasing, for |x| up to 1e3."""
    sig = nn.Sigmoid()
    y = np.asarray(sig(on(backend, x)))
    dx = np.asarray(sig.backward(on(backend, np.ones((3, 4)))))
    assert np.all((0 <= y) & (y <= 1))
    assert np.all((0 <= dx) & (dx <= 0.25))
    order = np.argsort(x.ravel(), kind="stable")
    assert np.all(np.diff(y.ravel()[order]) >= 0)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=30)
@given(x=arrays(np.float64, (3, 4), elements=st.floats(-50, 50)))
def test_tanh_and_relu_slope_bounds(backend, x):
    tanh, relu = nn.Tanh(), nn.ReLU()
    tanh(on(backend, x))
    relu(on(backend, x))
    dt = np.asarray(tanh.backward(on(backend, np.ones((3, 4)))))
    dr = np.asarray(relu.backward(on(backend, np.ones((3, 4)))))
    assert np.all((0 <= dt) & (dt <= 1))
    assert np.array_equal(dr, (x > 0).astype(float))


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=20)
@given(a=st.floats(-10, 10), b=st.floats(-10, 10), seed=st.integers(0, 2**16))
def test_backward_is_linear_in_upstream(backend, name, a, b, seed):
    act = getattr(nn, name)()
    x = randn(backend, 4, 3, seed=seed)

    def grads_of(g):
        act(x)
        return [act.backward(g)]

    assert_linear_in_upstream(grads_of, randn(backend, 4, 3, seed=seed + 1), randn(backend, 4, 3, seed=seed + 2), a, b)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_keeps_float32(backend, name):
    """No parameters, so like torch an activation computes in its input's dtype."""
    y = getattr(nn, name)()(on(backend, np.ones((2, 2)), dtype="float32"))
    assert "float32" in str(y.dtype)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_bad_input(backend, name):
    other = "torch" if backend == "numpy" else "numpy"
    act = getattr(nn, name)()
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        act.backward(randn(backend, 2, 3))
    with pytest.raises(TypeError, match=rf"{name} expected z to be a NumPy array or torch tensor, got list"):
        act([1.0, 2.0])
    with pytest.raises(TypeError, match=rf"{name} expected z of a floating dtype, got int64"):
        act(on(backend, np.arange(3)))
    act(randn(backend, 2, 3))
    with pytest.raises(ValueError, match=rf"{name}.backward expected grad_output of shape \(2, 3\), got \(3, 2\)"):
        act.backward(randn(backend, 3, 2))
    with pytest.raises(TypeError, match=rf"{name}.backward expected grad_output of dtype float64.*got float32"):
        act.backward(on(backend, np.ones((2, 3)), dtype="float32"))
    with pytest.raises(TypeError, match=rf"{name}.backward: grad_output, output must be on one backend.*numpy, torch"):
        act.backward(randn(other, 2, 3))
