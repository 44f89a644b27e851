"""nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d: agreement with torch, gradient checks, properties, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from vglab.interop import from_torch, to_torch
from conftest import backends, on, randn


def assert_matches_torch(torch, backend, layer, ref, x_np):
    """Output and input gradient of ``layer`` equal those of the torch module ``ref`` (rel. error < 1e-10)."""
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = ref(x_t)
    g_np = np.random.default_rng(7).standard_normal(tuple(y_t.shape))
    y_t.backward(torch.tensor(g_np))
    y = layer(on(backend, x_np))
    dx = layer.backward(on(backend, g_np))
    assert vg.backend.is_torch(y) == vg.backend.is_torch(dx) == (backend == "torch")
    assert tuple(y.shape) == tuple(y_t.shape)
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10


@st.composite
def pool_configs(draw):
    """Random kernels, strides (None: the kernel), paddings up to half the kernel, and input sizes that fit."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(max(1, k - 2 * p + draw(st.integers(0, 6))) for k, p in zip(kernel, padding))
    return kernel, stride, padding, (draw(st.integers(1, 3)), draw(st.integers(1, 3))) + size


# ----------------------------------------------------------------- agreement with torch

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool2d"])
@settings(max_examples=20)
@given(config=pool_configs(), seed=st.integers(0, 2**16))
def test_pool_matches_torch_on_random_geometry(backend, name, config, seed):
    torch = pytest.importorskip("torch")
    kernel, stride, padding, shape = config
    layer, ref = getattr(nn, name)(kernel, stride, padding), getattr(torch.nn, name)(kernel, stride, padding)
    # continuous random inputs: no ties within a window, so the maximum is unique
    assert_matches_torch(torch, backend, layer, ref, np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("output_size, shape", [
    ((1, 1), (2, 3, 6, 4)), (1, (2, 3, 5, 7)), (2, (3, 6, 4)), ((3, None), (2, 1, 6, 5)), ((2, 4), (1, 2, 8, 8)),
])
def test_adaptive_avg_pool_matches_torch(backend, output_size, shape, torch):
    layer, ref = nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size)
    assert_matches_torch(torch, backend, layer, ref, np.random.default_rng(0).standard_normal(shape))


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool2d"])
def test_pool_unbatched_input(backend, name, torch):
    layer, ref = getattr(nn, name)(3, 2, 1), getattr(torch.nn, name)(3, 2, 1)
    assert_matches_torch(torch, backend, layer, ref, np.random.default_rng(1).standard_normal((2, 7, 6)))


@pytest.mark.parametrize("make", [
    lambda m: m.MaxPool2d(2), lambda m: m.MaxPool2d((3, 2), stride=(1, 2), padding=(1, 0)),
    lambda m: m.AvgPool2d(3, 2, 1), lambda m: m.AdaptiveAvgPool2d((1, 1)), lambda m: m.AdaptiveAvgPool2d(2),
    lambda m: m.AdaptiveAvgPool2d((None, 3)),
])
def test_pool_repr_and_interop_match_torch(make, torch):
    assert repr(make(nn)) == repr(make(torch.nn))
    there = to_torch(make(nn))
    assert type(there) is type(make(torch.nn)) and repr(there) == repr(make(torch.nn))
    back = from_torch(make(torch.nn))
    assert type(back) is type(make(nn)) and repr(back) == repr(make(nn))


# ----------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1),
                                   nn.AvgPool2d((2, 3)), nn.AdaptiveAvgPool2d(1), nn.AdaptiveAvgPool2d((2, 3))],
                         ids=repr)
def test_pool_gradcheck(backend, layer):
    # standard normal draws are far apart compared with h = 1e-6: no tie within a window changes order
    report = check_module(layer, randn(backend, 2, 3, 6, 6, seed=2), h=1e-6)
    assert set(report.errors) == {"input0"}
    assert report.max_error < 1e-7, report


# ----------------------------------------------------------------- properties

@pytest.mark.parametrize("backend", backends)
@settings(max_examples=20)
@given(kernel=st.integers(1, 3), stride=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_max_pool_is_at_least_the_average(backend, kernel, stride, seed):
    x = randn(backend, 2, 3, 7, 8, seed=seed)
    y_max = vg.to_numpy(nn.MaxPool2d(kernel, stride)(x))
    y_avg = vg.to_numpy(nn.AvgPool2d(kernel, stride)(x))
    assert np.all(y_max >= y_avg - 1e-12)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=20)
@given(kernel=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_non_overlapping_pools_route_every_gradient(backend, kernel, seed):
    """With stride = kernel, max pooling sends each output's gradient to one input, average pooling spreads it."""
    x = randn(backend, 2, 3, 3 * kernel, 2 * kernel, seed=seed)
    g = vg.to_numpy(randn(backend, 2, 3, 3, 2, seed=seed + 1))
    pool = nn.MaxPool2d(kernel)
    pool(x)
    dx = vg.to_numpy(pool.backward(on(backend, g)))
    assert np.count_nonzero(dx) == g.size
    assert np.array_equal(np.sort(dx[dx != 0]), np.sort(g.ravel()))
    avg = nn.AvgPool2d(kernel)
    avg(x)
    dx = vg.to_numpy(avg.backward(on(backend, g)))
    expected = np.repeat(np.repeat(g, kernel, axis=2), kernel, axis=3) / kernel**2
    np.testing.assert_allclose(dx, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("backend", backends)
def test_global_average_pool_is_the_mean(backend):
    x = randn(backend, 3, 4, 5, 6, seed=3)
    y = nn.AdaptiveAvgPool2d(1)(x)
    np.testing.assert_allclose(vg.to_numpy(y)[:, :, 0, 0], vg.to_numpy(x).mean(axis=(2, 3)), rtol=1e-14)


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"])
def test_pool_bad_input(backend, name):
    layer = getattr(nn, name)(2)
    with pytest.raises(ValueError, match=rf"{name} expected x with 3 or 4 dimensions, got shape \(2, 3\)"):
        layer(randn(backend, 2, 3))
    with pytest.raises(TypeError, match=rf"{name} expected x to be a NumPy array or torch tensor, got list"):
        layer([[[[1.0, 2.0]]]])
    with pytest.raises(TypeError, match=rf"{name} expected x of a floating dtype, got int64"):
        layer(on(backend, np.ones((1, 1, 4, 4), dtype=np.int64)))
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        layer.backward(randn(backend, 1, 1, 2, 2))
    layer(randn(backend, 1, 1, 4, 4))
    with pytest.raises(ValueError, match=rf"{name}.backward expected grad_output of shape \(1, 1, 2, 2\), got \(1, 1, 4, 4\)"):
        layer.backward(randn(backend, 1, 1, 4, 4))


@pytest.mark.parametrize("backend", backends)
def test_kernel_larger_than_input(backend):
    with pytest.raises(ValueError, match=r"MaxPool2d expected x of spatial size at least \(3, 3\) after padding "
                                         r"\(1, 1\).*got \(1, 1, 4, 0\): the kernel is larger than the padded input"):
        nn.MaxPool2d(3, padding=1)(randn(backend, 1, 1, 4, 0))
    with pytest.raises(ValueError, match=r"AvgPool2d expected x of spatial size at least \(4, 4\).*got \(2, 3, 3\)"):
        nn.AvgPool2d(4)(randn(backend, 2, 3, 3))


@pytest.mark.parametrize("backend", backends)
def test_adaptive_sizes_that_do_not_divide_are_refused(backend):
    with pytest.raises(NotImplementedError, match=r"AdaptiveAvgPool2d: output size \(2, 2\) that does not divide "
                                                  r"the input size \(5, 4\) is not supported"):
        nn.AdaptiveAvgPool2d(2)(randn(backend, 1, 1, 5, 4))


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.MaxPool2d(2, ceil_mode=True), NotImplementedError, r"MaxPool2d: ceil_mode=True is not supported"),
    (lambda: nn.MaxPool2d(2, dilation=2), NotImplementedError, r"MaxPool2d: dilation=2 is not supported"),
    (lambda: nn.MaxPool2d(2, return_indices=True), NotImplementedError, r"MaxPool2d: return_indices=True"),
    (lambda: nn.AvgPool2d(2, count_include_pad=False), NotImplementedError, r"AvgPool2d: count_include_pad=False"),
    (lambda: nn.AvgPool2d(2, divisor_override=3), NotImplementedError, r"AvgPool2d: divisor_override=3"),
    (lambda: nn.AvgPool2d(2, padding=2), ValueError, r"AvgPool2d expected padding at most half the kernel size"),
    (lambda: nn.MaxPool2d(0), ValueError, r"MaxPool2d expected kernel_size >= 1, got 0"),
    (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), ValueError, r"AdaptiveAvgPool2d expected output_size to be an int or a pair"),
])
def test_pool_invalid_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_from_torch_refuses_unsupported_pool_options(torch):
    with pytest.raises(NotImplementedError, match=r"MaxPool2d: ceil_mode=True is not supported"):
        from_torch(torch.nn.MaxPool2d(2, ceil_mode=True))
