"""nn.BatchNorm1d, nn.BatchNorm2d: agreement with torch over train/eval steps, gradient checks, properties, bad input."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from vglab.interop import from_torch, to_torch
from conftest import backends, on, randn

SHAPES = {"BatchNorm1d": [(8, 3), (4, 3, 5)], "BatchNorm2d": [(4, 3, 5, 2)]}
CASES = [(name, shape) for name, shapes in SHAPES.items() for shape in shapes]


def bn(backend, name, num_features=3, seed=0, **kwargs):
    """A vglab batch norm whose gamma and beta are random (not 1 and 0), so their gradients matter."""
    with vg.backend.using(backend):
        layer = getattr(nn, name)(num_features, **kwargs)
    rng = np.random.default_rng(seed)
    for p in layer.parameters():
        p.data = vg.backend.asarray(rng.standard_normal(p.shape), like=p.data)
    return layer


def torch_copy(torch, layer):
    """A float64 torch batch norm with ``layer``'s hyper-parameters, weights and buffers, copied by hand."""
    kwargs = dict(eps=layer.eps, momentum=layer.momentum, affine=layer.affine,
                  track_running_stats=layer.track_running_stats, dtype=torch.float64)
    if layer.affine and layer.bias is None:
        kwargs["bias"] = False
    ref = getattr(torch.nn, type(layer).__name__)(layer.num_features, **kwargs)
    with torch.no_grad():
        for key, value in ref.state_dict().items():
            value.copy_(torch.from_numpy(np.array(vg.to_numpy(layer.state_dict()[key]))))
    return ref


def run_steps(torch, backend, layer, shape, modes, seed=0):
    """Forward and backward on fresh data once per mode ("train"/"eval"), in vglab and torch; the worst error."""
    ref = torch_copy(torch, layer)
    rng = np.random.default_rng(seed)
    worst = 0.0
    for mode in modes:
        layer.train(mode == "train"), ref.train(mode == "train")
        x_np = 2 * rng.standard_normal(shape) + 1
        g_np = rng.standard_normal(shape)
        x_t = torch.tensor(x_np, requires_grad=True)
        y_t = ref(x_t)
        y_t.backward(torch.tensor(g_np))
        y = layer(on(backend, x_np))
        dx = layer.backward(on(backend, g_np))
        errors = [rel_error(y, y_t.detach()), rel_error(dx, x_t.grad)]
        errors += [rel_error(p.grad, q.grad) for p, q in zip(layer.parameters(), ref.parameters(), strict=True)]
        ours = layer.state_dict()
        assert list(ours) == list(ref.state_dict())
        for key, value in ref.state_dict().items():
            if key == "num_batches_tracked":
                assert int(ours[key]) == int(value) and vg.backend.dtype_name(ours[key].dtype) == "int64"
            else:
                errors.append(rel_error(ours[key], value))
        worst = max(worst, *errors)
    return worst


# ----------------------------------------------------------------- agreement with torch

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, shape", CASES)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"momentum": 0.5, "eps": 1e-3}, {"affine": False},
                                    {"bias": False}, {"track_running_stats": False}])
def test_batch_norm_matches_torch_over_train_and_eval_steps(backend, name, shape, kwargs, torch):
    layer = bn(backend, name, seed=1, **kwargs)
    worst = run_steps(torch, backend, layer, shape, ["train", "train", "train", "eval", "train", "eval"], seed=2)
    assert worst < 1e-10


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=20)
@given(name=st.sampled_from(["BatchNorm1d", "BatchNorm2d"]), n=st.integers(2, 6), c=st.integers(1, 4),
       spatial=st.lists(st.integers(1, 4), min_size=0, max_size=2), momentum=st.sampled_from([0.1, 0.9, None]),
       seed=st.integers(0, 2**16))
def test_batch_norm_matches_torch_on_random_sizes(backend, name, n, c, spatial, momentum, seed):
    """With exactly two values per channel, x_hat = +-1 and the true dx is O(eps): a difference of
    O(1) terms that rounding dominates in both libraries, so relative error says nothing there."""
    torch = pytest.importorskip("torch")
    shape = (n, c) + tuple(spatial[:1] if name == "BatchNorm1d" else (spatial + [2, 3])[:2])
    assume(math.prod(shape) // c >= 3)
    layer = bn(backend, name, c, seed=seed, momentum=momentum)
    assert run_steps(torch, backend, layer, shape, ["train", "train", "eval"], seed=seed) < 1e-10


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d"])
def test_state_dict_keys_and_loading_across(backend, name, torch):
    layer = bn(backend, name, 4)
    ref = getattr(torch.nn, name)(4, dtype=torch.float64)
    assert list(layer.state_dict()) == list(ref.state_dict()) == [
        "weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(bn(backend, name, 4, affine=False, track_running_stats=False).state_dict()) == []
    ref.train()
    ref(torch.randn((6, 4, 3, 3) if name == "BatchNorm2d" else (6, 4), dtype=torch.float64))  # running stats move
    layer.load_state_dict(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert np.array_equal(np.array(vg.to_numpy(layer.state_dict()[key])), value.numpy()), key
    assert vg.backend.is_torch(layer.running_mean) == (backend == "torch")
    assert vg.backend.dtype_name(layer.num_batches_tracked.dtype) == "int64"


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, shape", CASES)
def test_interop_round_trip(backend, name, shape, torch):
    layer = bn(backend, name, seed=3)
    layer(randn(backend, *shape, seed=4))                       # running statistics away from 0 and 1
    ref = to_torch(layer)
    assert repr(ref) == repr(layer) and type(ref).__name__ == name
    with vg.backend.using(backend):
        back = from_torch(ref)
    for key, value in layer.state_dict().items():
        assert np.array_equal(np.array(vg.to_numpy(back.state_dict()[key])), np.array(vg.to_numpy(value))), key
        assert ref.state_dict()[key].dtype == (torch.int64 if key == "num_batches_tracked" else torch.float64)


@pytest.mark.parametrize("kwargs", [{}, {"momentum": None, "eps": 1e-3}, {"affine": False}, {"bias": False},
                                    {"track_running_stats": False}])
def test_batch_norm_repr_matches_torch(kwargs, torch):
    assert repr(nn.BatchNorm2d(16, **kwargs)) == repr(torch.nn.BatchNorm2d(16, **kwargs))


# ----------------------------------------------------------------- gradient checks

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, shape", CASES)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batch_norm_gradcheck(backend, name, shape, mode):
    layer = bn(backend, name, seed=5)
    layer(randn(backend, *shape, seed=6))                      # running statistics away from 0 and 1
    layer.train(mode == "train")
    report = check_module(layer, randn(backend, *shape, seed=7), h=1e-6)
    assert set(report.errors) == {"input0", "weight", "bias"}
    assert report.max_error < 1e-7, report


# ----------------------------------------------------------------- properties

@pytest.mark.parametrize("backend", backends)
@settings(max_examples=20)
@given(name=st.sampled_from(["BatchNorm1d", "BatchNorm2d"]), n=st.integers(2, 8), scale=st.floats(0.1, 100),
       shift=st.floats(-100, 100), seed=st.integers(0, 2**16))
def test_training_output_is_standardised_per_channel(backend, name, n, scale, shift, seed):
    """With gamma = 1 and beta = 0, every channel of the output has mean 0 and variance var/(var + eps)."""
    with vg.backend.using(backend):
        layer = getattr(nn, name)(3)
    x_np = shift + scale * np.random.default_rng(seed).standard_normal((n, 3, 4) + ((2,) if name == "BatchNorm2d" else ()))
    y = vg.to_numpy(layer(on(backend, x_np)))
    axes = tuple(i for i in range(y.ndim) if i != 1)
    var = x_np.var(axis=axes)
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=axes), var / (var + layer.eps), rtol=1e-10)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16))
def test_training_gradient_is_orthogonal_to_constants_and_to_xhat(backend, seed):
    """y is invariant to shifting a channel of x, so dL/dx sums to 0 per channel; with eps -> 0 also to
    scaling it, so dL/dx is orthogonal to x per channel (eps = 1e-300 here, legal and negligible)."""
    layer = bn(backend, "BatchNorm2d", seed=seed, eps=1e-300)
    x = randn(backend, 4, 3, 3, 2, seed=seed)
    layer(x)
    dx = vg.to_numpy(layer.backward(randn(backend, 4, 3, 3, 2, seed=seed + 1)))
    x_np = vg.to_numpy(x)
    scale = np.abs(dx).max() * x_np[:, 0].size
    np.testing.assert_allclose(dx.sum(axis=(0, 2, 3)), 0, atol=1e-13 * scale)
    np.testing.assert_allclose((dx * x_np).sum(axis=(0, 2, 3)), 0, atol=1e-12 * scale)


@pytest.mark.parametrize("backend", backends)
def test_eval_mode_is_the_affine_map_of_the_running_statistics(backend):
    layer = bn(backend, "BatchNorm1d", 3, seed=8)
    layer(randn(backend, 6, 3, seed=9) * 3 + 2)
    layer.eval()
    rm, rv = vg.to_numpy(layer.running_mean), vg.to_numpy(layer.running_var)
    gamma, beta = vg.to_numpy(layer.weight.data), vg.to_numpy(layer.bias.data)
    x, g = randn(backend, 5, 3, seed=10), randn(backend, 5, 3, seed=11)
    y = vg.to_numpy(layer(x))
    dx = vg.to_numpy(layer.backward(g))
    np.testing.assert_allclose(y, gamma * (vg.to_numpy(x) - rm) / np.sqrt(rv + 1e-5) + beta, rtol=1e-13)
    np.testing.assert_allclose(dx, gamma / np.sqrt(rv + 1e-5) * vg.to_numpy(g), rtol=1e-13)
    layer(randn(backend, 1, 3))  # one example is fine in evaluation mode


@pytest.mark.parametrize("backend", backends)
def test_cumulative_average_with_momentum_none(backend):
    with vg.backend.using(backend):
        layer = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((5, 2)) * (i + 1) + i for i in range(4)]
    for b in batches:
        layer(on(backend, b))
    np.testing.assert_allclose(vg.to_numpy(layer.running_mean), np.mean([b.mean(0) for b in batches], axis=0), rtol=1e-13)
    np.testing.assert_allclose(vg.to_numpy(layer.running_var), np.mean([b.var(0, ddof=1) for b in batches], axis=0),
                               rtol=1e-13)
    assert int(layer.num_batches_tracked) == 4
    layer.reset_running_stats()
    assert int(layer.num_batches_tracked) == 0 and vg.backend.dtype_name(layer.num_batches_tracked.dtype) == "int64"
    assert np.array_equal(vg.to_numpy(layer.running_mean), [0, 0]) and np.array_equal(vg.to_numpy(layer.running_var), [1, 1])


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("backend", backends)
def test_batch_norm_bad_input(backend):
    bn2, bn1 = bn(backend, "BatchNorm2d", 3), bn(backend, "BatchNorm1d", 3)
    with pytest.raises(ValueError, match=r"BatchNorm2d expected x of shape \(\?, 3, \?, \?\), got \(8, 3\); "
                                         r"for \(N, C\) or \(N, C, L\) input use BatchNorm1d"):
        bn2(randn(backend, 8, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d expected x of shape \(\?, 3\) or \(\?, 3, \?\), "
                                         r"got \(2, 3, 4, 4\); for \(N, C, H, W\) input use BatchNorm2d"):
        bn1(randn(backend, 2, 3, 4, 4))
    with pytest.raises(ValueError, match=r"BatchNorm2d expected x of shape \(\?, 3, \?, \?\), got \(2, 4, 5, 5\)"):
        bn2(randn(backend, 2, 4, 5, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d expected x of shape \(\?, 3\) or \(\?, 3, \?\), got \(8, 5\)$"):
        bn1(randn(backend, 8, 5))
    with pytest.raises(ValueError, match=r"BatchNorm1d expected more than 1 value per channel when training, "
                                         r"got x of shape \(1, 3\)"):
        bn1(randn(backend, 1, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d expected more than 1 value per channel when training, "
                                         r"got x of shape \(1, 3, 1, 1\)"):
        bn2(randn(backend, 1, 3, 1, 1))
    with pytest.raises(TypeError, match=r"BatchNorm2d expected x of dtype float64 \(the parameters' dtype\), got float32"):
        bn2(on(backend, np.ones((2, 3, 2, 2)), dtype="float32"))
    plain = bn(backend, "BatchNorm1d", 3, affine=False)
    with pytest.raises(TypeError, match=r"BatchNorm1d expected x of dtype float64 \(the running statistics' dtype\)"):
        plain(on(backend, np.ones((2, 3)), dtype="float32"))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d.backward called before forward"):
        bn1.backward(randn(backend, 4, 3))
    bn1(randn(backend, 4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d.backward expected grad_output of shape \(4, 3\), got \(3, 4\)"):
        bn1.backward(randn(backend, 3, 4))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"num_features": 0}, ValueError, r"BatchNorm2d expected num_features >= 1, got 0"),
    ({"momentum": 1.5}, ValueError, r"BatchNorm2d expected momentum <= 1, got 1.5"),
    ({"eps": 0}, ValueError, r"BatchNorm2d expected eps > 0, got 0"),
])
def test_batch_norm_invalid_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        nn.BatchNorm2d(**{"num_features": 3, **kwargs})


def test_to_another_backend_keeps_the_statistics(torch):
    layer = bn("numpy", "BatchNorm2d", 3, seed=12)
    layer(randn("numpy", 4, 3, 2, 2, seed=13))
    before = {k: np.array(vg.to_numpy(v)) for k, v in layer.state_dict().items()}
    layer.to("torch")
    assert vg.backend.is_torch(layer.running_var) and layer.num_batches_tracked.dtype == torch.int64
    for key, value in layer.state_dict().items():
        assert np.array_equal(vg.to_numpy(value), before[key]), key
    layer(randn("torch", 4, 3, 2, 2, seed=14))
    assert int(layer.num_batches_tracked) == 2
