"""nn.Linear and nn.Flatten: gradient checks, agreement with torch.nn, properties, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from conftest import assert_linear_in_upstream, backends, on, randn


def linear(backend, n_in, n_out, bias=True, seed=0):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Linear(n_in, n_out, bias=bias)


def torch_copy(torch, layer):
    """A float64 torch.nn.Linear with ``layer``'s weights, copied by hand (not through vg.interop)."""
    t = torch.nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(vg.to_numpy(layer.weight.data).copy()))
        if layer.bias is not None:
            t.bias.copy_(torch.from_numpy(vg.to_numpy(layer.bias.data).copy()))
    return t


# ----------------------------------------------------------------- Linear

@pytest.mark.parametrize("backend", backends)
def test_linear_shapes_and_default_init(backend):
    layer = linear(backend, 50, 7)
    assert layer.weight.shape == (7, 50) and layer.bias.shape == (7,)
    assert vg.backend.dtype_name(layer.weight.dtype) == "float64"
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(50)  # torch's default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias
    w, b = vg.to_numpy(layer.weight.data), vg.to_numpy(layer.bias.data)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound  # 350 uniform draws fill the interval
    assert vg.backend.is_torch(layer.weight.data) == (backend == "torch")
    assert linear(backend, 3, 2, bias=False).bias is None


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 5), (5,)])
def test_linear_gradcheck(backend, bias, shape):
    layer = linear(backend, 5, 4, bias=bias)
    report = check_module(layer, randn(backend, *shape, seed=1))
    assert set(report.errors) == {"input0", "weight"} | ({"bias"} if bias else set())
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 6), (2, 4, 6)])
def test_linear_matches_torch(backend, bias, shape, torch):
    layer = linear(backend, 6, 3, bias=bias, seed=2)
    ref = torch_copy(torch, layer)
    x_np = np.random.default_rng(3).standard_normal(shape)
    g_np = np.random.default_rng(4).standard_normal(shape[:-1] + (3,))

    y = layer(on(backend, x_np))
    dx = layer.backward(on(backend, g_np))

    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = ref(x_t)
    y_t.backward(torch.tensor(g_np))
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    assert rel_error(layer.weight.grad, ref.weight.grad) < 1e-10
    if bias:
        assert rel_error(layer.bias.grad, ref.bias.grad) < 1e-10


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=25)
@given(a=st.floats(-10, 10), b=st.floats(-10, 10), seed=st.integers(0, 2**16))
def test_linear_backward_is_linear_in_upstream(backend, a, b, seed):
    layer = linear(backend, 4, 3, seed=seed)
    x = randn(backend, 5, 4, seed=seed)

    def grads_of(g):
        layer.zero_grad()
        layer(x)
        dx = layer.backward(g)
        return [dx, layer.weight.grad, layer.bias.grad]

    g1, g2 = randn(backend, 5, 3, seed=seed + 1), randn(backend, 5, 3, seed=seed + 2)
    assert_linear_in_upstream(grads_of, g1, g2, a, b)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**32 - 1), n_in=st.integers(1, 20), n_out=st.integers(1, 20))
def test_same_seed_gives_same_weights_on_both_backends(seed, n_in, n_out):
    pytest.importorskip("torch")
    a, b = linear("numpy", n_in, n_out, seed=seed), linear("torch", n_in, n_out, seed=seed)
    assert vg.backend.is_torch(b.weight.data) and not vg.backend.is_torch(a.weight.data)
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert np.array_equal(vg.to_numpy(p.data), vg.to_numpy(q.data)), name


def test_different_seeds_give_different_weights():
    a, b = linear("numpy", 4, 3, seed=0), linear("numpy", 4, 3, seed=1)
    assert not np.array_equal(a.weight.data, b.weight.data)


def test_linear_repr_matches_torch(torch):
    assert repr(nn.Linear(64, 10)) == repr(torch.nn.Linear(64, 10))
    assert repr(nn.Linear(3, 2, bias=False)) == repr(torch.nn.Linear(3, 2, bias=False))


# ----------------------------------------------------------------- Linear: bad input

@pytest.mark.parametrize("backend", backends)
def test_linear_wrong_input_shape(backend):
    layer = linear(backend, 64, 10)
    with pytest.raises(ValueError, match=r"Linear expected x of shape \(\*, 64\), got \(32, 10\)"):
        layer(randn(backend, 32, 10))


@pytest.mark.parametrize("backend", backends)
def test_linear_wrong_dtype_names_both(backend):
    layer = linear(backend, 4, 2)
    x = on(backend, np.ones((3, 4)), dtype="float32")
    with pytest.raises(TypeError, match=r"Linear expected x of dtype float64 .*got float32"):
        layer(x)
    with pytest.raises(TypeError, match=r"Linear expected x of a floating dtype, got int64"):
        layer(on(backend, np.ones((3, 4), dtype=np.int64)))
    with pytest.raises(TypeError, match=r"Linear expected x to be a NumPy array or torch tensor, got list"):
        layer([[1.0, 2.0, 3.0, 4.0]])


@pytest.mark.parametrize("backend", backends)
def test_linear_mixed_backends(backend):
    other = "torch" if backend == "numpy" else "numpy"
    layer = linear(backend, 4, 2)
    with pytest.raises(TypeError, match=r"Linear: x, parameters must be on one backend.*got numpy, torch"):
        layer(randn(other, 3, 4))
    layer(randn(backend, 3, 4))
    with pytest.raises(TypeError, match=r"Linear.backward: grad_output, x must be on one backend.*numpy, torch"):
        layer.backward(randn(other, 3, 2))


@pytest.mark.parametrize("backend", backends)
def test_linear_backward_checks_grad_output(backend):
    layer = linear(backend, 4, 3)
    with pytest.raises(RuntimeError, match=r"Linear.backward called before forward"):
        layer.backward(randn(backend, 5, 3))
    layer(randn(backend, 5, 4))
    with pytest.raises(ValueError, match=r"Linear.backward expected grad_output of shape \(5, 3\), got \(5, 4\)"):
        layer.backward(randn(backend, 5, 4))
    with pytest.raises(TypeError, match=r"Linear.backward expected grad_output of dtype float64.*got float32"):
        layer.backward(on(backend, np.ones((5, 3)), dtype="float32"))


@pytest.mark.parametrize("args, error, message", [
    ((0, 3), ValueError, r"Linear expected in_features >= 1, got 0"),
    ((3, -2), ValueError, r"Linear expected out_features >= 1, got -2"),
    ((2.5, 3), TypeError, r"Linear expected in_features to be an integer, got 2\.5"),
    (("4", 3), TypeError, r"Linear expected in_features to be a number, got str"),
])
def test_linear_invalid_sizes(args, error, message):
    with pytest.raises(error, match=message):
        nn.Linear(*args)


# ----------------------------------------------------------------- Flatten

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("start, end", [(1, -1), (0, -1), (1, 2), (2, 3), (0, 0)])
def test_flatten_matches_torch(backend, start, end, torch):
    x_np = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    layer = nn.Flatten(start, end)
    y = layer(on(backend, x_np))
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = torch.nn.Flatten(start, end)(x_t)
    assert tuple(y.shape) == tuple(y_t.shape)
    assert rel_error(y, y_t.detach()) == 0
    g = np.random.default_rng(1).standard_normal(tuple(y_t.shape))
    y_t.backward(torch.tensor(g))
    dx = layer.backward(on(backend, g))
    assert tuple(dx.shape) == x_np.shape
    assert rel_error(dx, x_t.grad) == 0
    assert repr(layer) == repr(torch.nn.Flatten(start, end))


@pytest.mark.parametrize("backend", backends)
def test_flatten_gradcheck(backend):
    report = check_module(nn.Flatten(), randn(backend, 3, 2, 4, seed=1))
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("backend", backends)
def test_flatten_bad_input(backend):
    layer = nn.Flatten()
    with pytest.raises(RuntimeError, match=r"Flatten.backward called before forward"):
        layer.backward(randn(backend, 2, 12))
    layer(randn(backend, 2, 3, 4))
    with pytest.raises(ValueError, match=r"Flatten.backward expected grad_output of shape \(2, 12\), got \(2, 3, 4\)"):
        layer.backward(randn(backend, 2, 3, 4))
    with pytest.raises(TypeError, match=r"Flatten expected x to be a NumPy array or torch tensor, got tuple"):
        layer((1.0, 2.0))


@pytest.mark.parametrize("backend", backends)
def test_linear_after_flatten_gradcheck(backend):
    vg.manual_seed(5)
    with vg.backend.using(backend):
        model = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    report = check_module(model, randn(backend, 4, 3, 4, seed=6))
    assert report.max_error < 1e-7, report
