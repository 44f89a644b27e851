"""vglab.init: gains, fans, bounds and variances of the schemes, orthogonality, in-place fills."""

import math

import numpy as np
import pytest

import vglab as vg
from vglab import init
from vglab.nn import Parameter

try:
    import torch     # for the helpers; a test that needs torch asks for the `torch` fixture, which skips without it
except ImportError:
    torch = None

GAINS = {
    "linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0,
    "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1 + 0.01 ** 2)), "selu": 0.75,
}


@pytest.mark.parametrize("name", sorted(GAINS))
def test_calculate_gain(name, torch):
    assert init.calculate_gain(name) == pytest.approx(GAINS[name], rel=1e-15)
    assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-15)


@pytest.mark.parametrize("slope", [0.0, 0.2, 1.0, 3.0])
def test_leaky_relu_gain_with_param(slope, torch):
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(math.sqrt(2 / (1 + slope ** 2)), rel=1e-15)
    assert init.calculate_gain("leaky_relu", slope) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", slope), rel=1e-15)


def test_unknown_gain_raises():
    with pytest.raises(ValueError, match="calculate_gain expected nonlinearity to be one of .*'tanh'.*got 'swish'"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(10, 3), (3, 10), (1, 1), (16, 3, 5), (8, 4, 3, 3), (6, 2, 3, 3, 3)])
def test_fans_equal_torch(shape, torch):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.fan_in_and_fan_out(shape) == tuple(expected)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match=r"at least 2 dimensions, got shape \(5,\)"):
        init.fan_in_and_fan_out((5,))


# --------------------------------------------------------------------------- distributions

SHAPE = (400, 400)      # 160,000 draws: the sample variance is within ~1.5% (4 standard errors)


def _draw(fn, shape=SHAPE, **kw):
    vg.manual_seed(0)
    return fn(np.empty(shape), **kw)


def _torch_draw(fn, shape=SHAPE, **kw):
    torch.manual_seed(0)
    return fn(torch.empty(shape, dtype=torch.float64), **kw).numpy()


UNIFORM = [  # (function, kwargs, bound computed here from the paper's formula)
    (init.xavier_uniform_, {}, math.sqrt(6 / 800)),
    (init.xavier_uniform_, {"gain": 5 / 3}, 5 / 3 * math.sqrt(6 / 800)),
    (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(3) * math.sqrt(2) / 20),
    (init.kaiming_uniform_, {"a": math.sqrt(5)}, math.sqrt(3) * math.sqrt(2 / 6) / 20),
]


@pytest.mark.parametrize("fn, kw, bound", UNIFORM, ids=lambda x: getattr(x, "__name__", None))
def test_uniform_bounds_and_variance(fn, kw, bound, torch):
    w = _draw(fn, **kw)
    assert np.max(np.abs(w)) <= bound
    assert np.max(np.abs(w)) > 0.999 * bound
    assert np.var(w) == pytest.approx(bound ** 2 / 3, rel=0.02)
    assert np.mean(w) == pytest.approx(0, abs=0.02 * bound)
    tw = _torch_draw(getattr(torch.nn.init, fn.__name__), **kw)
    assert np.max(np.abs(tw)) <= bound and np.max(np.abs(tw)) > 0.999 * bound
    assert np.var(w) == pytest.approx(np.var(tw), rel=0.03)


def test_kaiming_fan_out_mode_on_a_rectangular_matrix():
    shape = (200, 800)                    # fan_in 800, fan_out 200
    w = _draw(init.kaiming_uniform_, shape, mode="fan_out", nonlinearity="relu")
    bound = math.sqrt(3) * math.sqrt(2) / math.sqrt(200)
    assert np.max(np.abs(w)) <= bound and np.max(np.abs(w)) > 0.999 * bound
    w = _draw(init.kaiming_normal_, shape, mode="fan_in", nonlinearity="tanh")
    assert np.var(w) == pytest.approx((5 / 3) ** 2 / 800, rel=0.02)


NORMAL = [  # (function, kwargs, variance from the paper's formula)
    (init.xavier_normal_, {}, 2 / 800),
    (init.xavier_normal_, {"gain": 3.0}, 9 * 2 / 800),
    (init.kaiming_normal_, {"nonlinearity": "relu"}, 2 / 400),
    (init.kaiming_normal_, {"nonlinearity": "relu", "mode": "fan_out"}, 2 / 400),
    (init.kaiming_normal_, {"a": 0.2}, 2 / (1 + 0.04) / 400),
]


@pytest.mark.parametrize("fn, kw, var", NORMAL, ids=lambda x: getattr(x, "__name__", None))
def test_normal_variance(fn, kw, var, torch):
    w = _draw(fn, **kw)
    assert np.var(w) == pytest.approx(var, rel=0.02)
    assert np.mean(w) == pytest.approx(0, abs=0.02 * math.sqrt(var))
    # a normal, not a uniform: about 31.7% of draws lie beyond one standard deviation
    assert np.mean(np.abs(w) > math.sqrt(var)) == pytest.approx(0.3173, abs=0.01)
    tw = _torch_draw(getattr(torch.nn.init, fn.__name__), **kw)
    assert np.var(w) == pytest.approx(np.var(tw), rel=0.03)


def test_bad_mode_raises():
    with pytest.raises(ValueError, match="kaiming_normal_ expected mode to be one of 'fan_in', 'fan_out', got 'fan'"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan")


# --------------------------------------------------------------------------- orthogonal

@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (40, 40), (8, 3, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 1.1, 0.5])
def test_orthogonal(shape, gain):
    vg.manual_seed(1)
    w = init.orthogonal_(np.empty(shape), gain=gain).reshape(shape[0], -1)
    rows, cols = w.shape
    if rows <= cols:
        np.testing.assert_allclose(w @ w.T, gain ** 2 * np.eye(rows), atol=1e-12)
    else:
        np.testing.assert_allclose(w.T @ w, gain ** 2 * np.eye(cols), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(w, compute_uv=False), gain, rtol=1e-12)


def test_orthogonal_draws_differ_and_need_two_dimensions():
    vg.manual_seed(0)
    a = init.orthogonal_(np.empty((5, 5)))
    b = init.orthogonal_(np.empty((5, 5)))
    assert np.max(np.abs(a - b)) > 0.1
    with pytest.raises(ValueError, match=r"orthogonal_ needs a tensor with at least 2 dimensions, got shape \(4,\)"):
        init.orthogonal_(np.empty(4))


# --------------------------------------------------------------------------- in place

FILLS = [init.xavier_uniform_, init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
         init.orthogonal_, lambda t: init.constant_(t, 0.5), init.ones_]


@pytest.mark.parametrize("fn", FILLS)
def test_fills_numpy_array_in_place(fn):
    a = np.zeros((6, 4))
    buffer = a.ctypes.data
    assert fn(a) is a
    assert a.ctypes.data == buffer and np.all(a != 0)


@pytest.mark.parametrize("fn", FILLS)
def test_fills_torch_tensor_in_place(fn, torch):
    t = torch.zeros(6, 4, dtype=torch.float64)
    ptr = t.data_ptr()
    assert fn(t) is t
    assert t.data_ptr() == ptr and bool(torch.all(t != 0))
    assert t.dtype == torch.float64


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("fn", FILLS)
def test_fills_parameter(backend, fn):
    if backend == "torch":
        pytest.importorskip("torch")
    with vg.backend.using(backend):
        p = Parameter(vg.backend.zeros(6, 4))
    assert fn(p) is p
    assert vg.backend.is_torch(p.data) == (backend == "torch")
    assert vg.backend.dtype_name(p.dtype) == "float64"
    assert np.all(vg.to_numpy(p.data) != 0)


def test_keeps_float32():
    a = np.zeros((5, 5), dtype=np.float32)
    init.xavier_normal_(a)
    assert a.dtype == np.float32 and np.all(a != 0)


def test_zeros_and_uniform_range():
    a = np.ones((3, 3))
    init.zeros_(a)
    assert np.all(a == 0)
    init.uniform_(a, 2.0, 3.0)
    assert np.all((a >= 2.0) & (a < 3.0))


def test_same_seed_same_weights_on_both_backends(torch):
    vg.manual_seed(7)
    a = init.xavier_normal_(np.empty((5, 4)))
    vg.manual_seed(7)
    t = init.xavier_normal_(torch.empty(5, 4, dtype=torch.float64))
    np.testing.assert_array_equal(a, t.numpy())


def test_normal_with_mean_and_std_against_torch(torch):
    w = _draw(init.normal_, mean=3.0, std=0.5)
    assert np.mean(w) == pytest.approx(3.0, abs=0.01) and np.std(w) == pytest.approx(0.5, rel=0.02)
    tw = _torch_draw(torch.nn.init.normal_, mean=3.0, std=0.5)
    assert np.var(w) == pytest.approx(np.var(tw), rel=0.03)
    with pytest.raises(ValueError, match="normal_ expected std >= 0, got -1"):
        init.normal_(np.empty(3), std=-1.0)
