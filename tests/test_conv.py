"""nn.Conv2d: gradient checks, agreement with torch.nn.Conv2d, linearity and translation equivariance, bad input."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from vglab.interop import from_torch, to_torch
from conftest import backends, on, randn


def conv(backend, *args, seed=0, **kwargs):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Conv2d(*args, **kwargs)


def torch_copy(torch, layer):
    """A float64 torch.nn.Conv2d with ``layer``'s hyper-parameters and weights, copied by hand."""
    t = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                        padding=layer.padding, dilation=layer.dilation, groups=layer.groups,
                        bias=layer.bias is not None, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(vg.to_numpy(layer.weight.data).copy()))
        if layer.bias is not None:
            t.bias.copy_(torch.from_numpy(vg.to_numpy(layer.bias.data).copy()))
    return t


def assert_matches_torch(torch, backend, layer, x_np):
    """Output, input gradient and every parameter gradient of ``layer`` equal torch's (rel. error < 1e-10)."""
    ref = torch_copy(torch, layer)
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = ref(x_t)
    g_np = np.random.default_rng(7).standard_normal(tuple(y_t.shape))
    y_t.backward(torch.tensor(g_np))
    layer.zero_grad()
    y = layer(on(backend, x_np))
    dx = layer.backward(on(backend, g_np))
    assert vg.backend.is_torch(y) == vg.backend.is_torch(dx) == (backend == "torch")
    assert tuple(y.shape) == tuple(y_t.shape)
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    assert rel_error(layer.weight.grad, ref.weight.grad) < 1e-10
    if layer.bias is not None:
        assert rel_error(layer.bias.grad, ref.bias.grad) < 1e-10


# ----------------------------------------------------------------- shapes, init, repr

@pytest.mark.parametrize("backend", backends)
def test_conv_shapes_and_default_init(backend):
    layer = conv(backend, 4, 6, 3, groups=2)
    assert layer.weight.shape == (6, 2, 3, 3) and layer.bias.shape == (6,)
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 3 * 3)  # torch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/g*kH*kW
    w, b = vg.to_numpy(layer.weight.data), vg.to_numpy(layer.bias.data)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.9 * bound
    assert vg.backend.is_torch(layer.weight.data) == (backend == "torch")
    assert conv(backend, 1, 2, (1, 2), bias=False).bias is None


@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"padding": "same", "dilation": 2}, {"padding": "valid"},
    {"groups": 2, "bias": False}, {"kernel_size": (2, 3), "stride": (1, 2), "padding": (0, 1)},
])
def test_conv_repr_and_state_dict_match_torch(kwargs, torch):
    kwargs = {"kernel_size": 3, **kwargs}
    layer, ref = nn.Conv2d(4, 6, **kwargs), torch.nn.Conv2d(4, 6, **kwargs)
    assert repr(layer) == repr(ref)
    assert list(layer.state_dict()) == list(ref.state_dict())


@pytest.mark.parametrize("backend", backends)
def test_state_dict_loads_across(backend, torch):
    layer = conv(backend, 3, 5, 3, padding=1, seed=1)
    ref = torch.nn.Conv2d(3, 5, 3, padding=1, dtype=torch.float64)
    layer.load_state_dict(ref.state_dict())                              # torch -> vglab
    x_np = np.random.default_rng(2).standard_normal((2, 3, 6, 5))
    assert rel_error(layer(on(backend, x_np)), ref(torch.tensor(x_np)).detach()) < 1e-10
    other = conv(backend, 3, 5, 3, padding=1, seed=2)
    ref.load_state_dict({k: torch.tensor(vg.to_numpy(v)) for k, v in other.state_dict().items()})  # vglab -> torch
    assert rel_error(other(on(backend, x_np)), ref(torch.tensor(x_np)).detach()) < 1e-10


# ----------------------------------------------------------------- agreement with torch

@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")
@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1}, {"dilation": (2, 1), "padding": (2, 0)}, {"groups": 2, "bias": False},
    {"padding": "same", "kernel_size": (2, 4)}, {"padding": "same", "dilation": 2},
])
def test_conv_matches_torch(backend, kwargs, torch):
    kwargs = {"kernel_size": 3, **kwargs}
    layer = conv(backend, 4, 6, seed=3, **kwargs)
    assert_matches_torch(torch, backend, layer, np.random.default_rng(4).standard_normal((3, 4, 9, 8)))


@st.composite
def conv_configs(draw):
    """Random channel counts, groups, kernels, strides, dilations, paddings and input sizes that fit."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 5)))
                 for k, d, p in zip(kernel, dilation, padding))
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    return c_in, c_out, kernel, kwargs, (draw(st.integers(1, 3)), c_in) + size


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=20)
@given(config=conv_configs(), seed=st.integers(0, 2**16))
def test_conv_matches_torch_on_random_geometry(backend, config, seed):
    torch = pytest.importorskip("torch")
    c_in, c_out, kernel, kwargs, shape = config
    layer = conv(backend, c_in, c_out, kernel, seed=seed, **kwargs)
    assert_matches_torch(torch, backend, layer, np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("backend", backends)
def test_conv_unbatched_input(backend, torch):
    layer = conv(backend, 2, 3, 3, padding=1)
    x_np = np.random.default_rng(0).standard_normal((2, 5, 4))
    assert_matches_torch(torch, backend, layer, x_np)
    assert tuple(layer(on(backend, x_np)).shape) == (3, 5, 4)


# ----------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kwargs", [
    {}, {"stride": 2, "padding": 1, "bias": False}, {"dilation": 2, "padding": "same"}, {"groups": 2},
])
def test_conv_gradcheck(backend, kwargs):
    layer = conv(backend, 2, 4, 3, seed=5, **kwargs)
    report = check_module(layer, randn(backend, 2, 2, 5, 6, seed=6), h=1e-6)
    assert set(report.errors) == {"input0", "weight"} | ({"bias"} if layer.bias is not None else set())
    assert report.max_error < 1e-7, report


# ----------------------------------------------------------------- properties

@pytest.mark.parametrize("backend", backends)
@settings(max_examples=15)
@given(config=conv_configs(), a=st.floats(-3, 3), b=st.floats(-3, 3), seed=st.integers(0, 2**16))
def test_conv_is_linear_in_x(backend, config, a, b, seed):
    c_in, c_out, kernel, kwargs, shape = config
    layer = conv(backend, c_in, c_out, kernel, seed=seed, **{**kwargs, "bias": False})
    x1, x2 = randn(backend, *shape, seed=seed), randn(backend, *shape, seed=seed + 1)
    y1, y2 = vg.to_numpy(layer(x1)), vg.to_numpy(layer(x2))
    combined = vg.to_numpy(layer(a * x1 + b * x2))
    scale = abs(a) * np.abs(y1).max() + abs(b) * np.abs(y2).max()
    np.testing.assert_allclose(combined, a * y1 + b * y2, rtol=0, atol=1e-13 * scale + 1e-300)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=15)
@given(kernel=st.integers(1, 3), dilation=st.integers(1, 2), shift=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       seed=st.integers(0, 2**16))
def test_conv_is_translation_equivariant_with_stride_1(backend, kernel, dilation, shift, seed):
    """Cropping the input by (s, t) pixels crops the output by (s, t): the same kernel slides everywhere."""
    layer = conv(backend, 2, 3, kernel, dilation=dilation, seed=seed)
    x = randn(backend, 2, 2, 9, 8, seed=seed)
    s, t = shift
    whole = vg.to_numpy(layer(x))
    cropped = vg.to_numpy(layer(x[:, :, s:, t:]))
    np.testing.assert_allclose(cropped, whole[:, :, s:, t:], rtol=0, atol=1e-13 * np.abs(whole).max())


@pytest.mark.parametrize("backend", backends)
def test_same_padding_keeps_the_size_and_valid_pads_nothing(backend):
    x = randn(backend, 1, 2, 7, 6)
    for kernel, dilation in [(3, 1), ((2, 4), 1), (3, 2)]:
        assert tuple(conv(backend, 2, 3, kernel, padding="same", dilation=dilation)(x).shape) == (1, 3, 7, 6)
    valid, zero = conv(backend, 2, 3, 3, padding="valid", seed=1), conv(backend, 2, 3, 3, padding=0, seed=1)
    assert np.array_equal(vg.to_numpy(valid(x)), vg.to_numpy(zero(x)))
    assert tuple(valid(x).shape) == (1, 3, 5, 4)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("backend", backends)
def test_conv_bad_input(backend):
    layer = conv(backend, 3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d expected x of shape \(\?, 3, \?, \?\), got \(2, 5, 8, 8\)"):
        layer(randn(backend, 2, 5, 8, 8))
    with pytest.raises(ValueError, match=r"Conv2d expected x with 3 or 4 dimensions, got shape \(2, 3\)"):
        layer(randn(backend, 2, 3))
    with pytest.raises(ValueError, match=r"Conv2d expected x of spatial size at least \(3, 3\) after padding "
                                         r"\(0, 0\).*got \(2, 3, 2, 8\): the kernel is larger than the padded input"):
        layer(randn(backend, 2, 3, 2, 8))
    with pytest.raises(TypeError, match=r"Conv2d expected x of dtype float64 \(the parameters' dtype\), got float32"):
        layer(on(backend, np.ones((1, 3, 4, 4)), dtype="float32"))
    with pytest.raises(RuntimeError, match=r"Conv2d.backward called before forward"):
        layer.backward(randn(backend, 1, 4, 2, 2))
    layer(randn(backend, 1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"Conv2d.backward expected grad_output of shape \(1, 4, 2, 2\), got \(1, 4, 4, 4\)"):
        layer.backward(randn(backend, 1, 4, 4, 4))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"padding": "same", "stride": 2}, ValueError, r"Conv2d expected stride 1 with padding='same'.*got stride \(2, 2\)"),
    ({"padding": "full"}, ValueError, r"Conv2d expected padding to be one of 'same', 'valid', got 'full'"),
    ({"padding": -1}, ValueError, r"Conv2d expected padding >= 0, got -1"),
    ({"stride": 0}, ValueError, r"Conv2d expected stride >= 1, got 0"),
    ({"kernel_size": (3, 3, 3)}, ValueError, r"Conv2d expected kernel_size to be an int or a pair of ints"),
    ({"groups": 4}, ValueError, r"Conv2d expected in_channels and out_channels divisible by groups=4, got 6 and 4"),
    ({"padding_mode": "reflect"}, NotImplementedError, r"Conv2d: padding_mode='reflect' is not supported"),
    ({"padding_mode": "mirror"}, ValueError, r"Conv2d expected padding_mode to be one of"),
])
def test_conv_invalid_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.Conv2d(6, 4, **{"kernel_size": 3, **kwargs})


@pytest.mark.parametrize("backend", backends)
def test_a_conv_used_twice_in_one_forward(backend, torch):
    """``Sequential(conv, ReLU, conv)`` with one shared conv: each call differentiated, gradients summed as torch."""
    layer = conv(backend, 3, 3, 3, padding=1, seed=8)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    ref = torch_copy(torch, layer)
    x_np, g_np = np.random.default_rng(9).standard_normal((2, 3, 5, 4)), np.random.default_rng(10).standard_normal((2, 3, 5, 4))
    x_t = torch.tensor(x_np, requires_grad=True)
    ref(torch.relu(ref(x_t))).backward(torch.tensor(g_np))
    model(on(backend, x_np))
    assert rel_error(model.backward(on(backend, g_np)), x_t.grad) < 1e-10
    assert rel_error(layer.weight.grad, ref.weight.grad) < 1e-10
    assert rel_error(layer.bias.grad, ref.bias.grad) < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_interop_round_trip(backend, torch):
    layer = conv(backend, 4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, seed=11)
    ref = to_torch(layer)
    assert isinstance(ref, torch.nn.Conv2d) and repr(ref) == repr(layer) and ref.weight.dtype == torch.float64
    x_np = np.random.default_rng(12).standard_normal((2, 4, 7, 6))
    assert rel_error(layer(on(backend, x_np)), ref(torch.tensor(x_np)).detach()) < 1e-10
    with vg.backend.using(backend):
        back = from_torch(ref)
    assert repr(back) == repr(layer)
    for (name, p), (_, q) in zip(layer.named_parameters(), back.named_parameters(), strict=True):
        assert np.array_equal(vg.to_numpy(p.data), vg.to_numpy(q.data)), name


def test_moved_to_torch_after_a_numpy_backward(torch):
    """The backward's reused scratch arrays follow the layer to another backend and dtype."""
    layer = conv("numpy", 2, 3, 3, padding=1, seed=13)
    x_np, g_np = np.random.default_rng(14).standard_normal((2, 2, 4, 4)), np.random.default_rng(15).standard_normal((2, 3, 4, 4))
    layer(on("numpy", x_np))
    dx_numpy = vg.to_numpy(layer.backward(on("numpy", g_np)))
    layer.to("torch")
    layer(on("torch", x_np))
    assert rel_error(layer.backward(on("torch", g_np)), dx_numpy) < 1e-12
    layer.to(dtype="float32")
    layer(on("torch", x_np, dtype="float32"))
    assert rel_error(layer.backward(on("torch", g_np, dtype="float32")), dx_numpy) < 1e-5
