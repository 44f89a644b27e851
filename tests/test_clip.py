"""vg.clip_grad_norm_ and vg.clip_grad_value_ against torch.nn.utils on the same gradients."""

import math

import numpy as np
import pytest

import vglab as vg
from vglab import nn
from vglab.gradcheck import rel_error
from conftest import backends, on

SHAPES = [(3, 4), (4,), (2, 2, 3)]


def grads(scale, seed=0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal(s) for s in SHAPES]


def vglab_params(backend, gs):
    params = []
    for g in gs:
        p = nn.Parameter(on(backend, np.zeros(g.shape)))
        p.grad = on(backend, g)
        params.append(p)
    return params


def torch_params(torch, gs):
    params = []
    for g in gs:
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.tensor(g)
        params.append(p)
    return params


def assert_same(mine, theirs):
    for p, q in zip(mine, theirs, strict=True):
        got, want = vg.to_numpy(p.grad), q.grad.numpy()
        assert np.array_equal(np.isnan(got), np.isnan(want))
        keep = ~np.isnan(want)
        assert np.array_equal(got[keep], want[keep]) or rel_error(got[keep], want[keep]) < 1e-14


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("scale, max_norm", [(10.0, 1.0), (1e-3, 1.0), (1.0, 0.0)])
def test_clip_grad_norm_matches_torch(backend, norm_type, scale, max_norm, torch):
    gs = grads(scale)
    mine, theirs = vglab_params(backend, gs), torch_params(torch, gs)
    total = vg.clip_grad_norm_(mine, max_norm=max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm=max_norm, norm_type=norm_type)
    assert vg.backend.is_torch(total) == (backend == "torch") and tuple(total.shape) == ()
    assert vg.backend.dtype_name(total.dtype) == "float64"
    assert rel_error(total, total_t) < 1e-14
    for p, q in zip(mine, theirs, strict=True):
        assert vg.backend.is_torch(p.grad) == (backend == "torch")
        assert rel_error(p.grad, q.grad) < 1e-14
        if max_norm == 0:
            assert np.all(vg.to_numpy(p.grad) == 0)


@pytest.mark.parametrize("backend", backends)
def test_clip_grad_norm_values_by_hand(backend):
    p, q = vglab_params(backend, [np.array([3.0, 0.0]), np.array([[0.0], [-4.0]])])
    assert float(vg.clip_grad_norm_([p, q], max_norm=1.0)) == 5.0  # sqrt(3^2 + 4^2), before clipping
    coef = 1.0 / (5.0 + 1e-6)
    assert np.allclose(vg.to_numpy(p.grad), [3 * coef, 0.0], rtol=1e-15)
    assert np.allclose(vg.to_numpy(q.grad), [[0.0], [-4 * coef]], rtol=1e-15)
    clipped = math.sqrt(float(np.sum(vg.to_numpy(p.grad) ** 2) + np.sum(vg.to_numpy(q.grad) ** 2)))
    assert clipped == pytest.approx(0.9999998, abs=1e-9) and clipped < 1.0  # the 1e-6: not exactly 1
    p, q = vglab_params(backend, [np.array([3.0, 0.0]), np.array([[0.0], [-4.0]])])
    assert float(vg.clip_grad_norm_([p, q], max_norm=1.0, norm_type="inf")) == 4.0
    assert float(vg.clip_grad_norm_([p, q], max_norm=10.0)) == pytest.approx(1.25, rel=1e-6)  # below max_norm:
    assert np.allclose(vg.to_numpy(p.grad), [0.75, 0.0], rtol=1e-6)                           # left as it was


@pytest.mark.parametrize("backend", backends)
def test_clip_grad_norm_skips_parameters_without_grad(backend, torch):
    gs = grads(5.0, seed=1)
    mine, theirs = vglab_params(backend, gs), torch_params(torch, gs)
    mine[1].grad, theirs[1].grad = None, None
    total = vg.clip_grad_norm_(iter(mine), 0.5)  # a generator, like model.parameters()
    assert rel_error(total, torch.nn.utils.clip_grad_norm_(theirs, 0.5)) < 1e-14
    assert mine[1].grad is None
    assert rel_error(mine[0].grad, theirs[0].grad) < 1e-14
    total = vg.clip_grad_norm_(mine[0], 0.1)  # a single Parameter, as torch accepts a single tensor
    assert rel_error(total, torch.nn.utils.clip_grad_norm_(theirs[0], 0.1)) < 1e-14
    assert rel_error(mine[0].grad, theirs[0].grad) < 1e-14


@pytest.mark.parametrize("backend", backends)
def test_clip_grad_norm_without_grads_is_zero(backend, torch):
    (p,) = vglab_params(backend, [np.ones(3)])
    p.grad = None
    with vg.backend.using(backend):
        total = vg.clip_grad_norm_([p], 1.0)
    assert float(total) == 0.0 == float(torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(3))], 1.0))
    assert vg.backend.is_torch(total) == (backend == "torch") and tuple(total.shape) == ()


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("clip_value", [0.5, 100.0, 0.0])
def test_clip_grad_value_matches_torch(backend, clip_value, torch):
    gs = grads(2.0, seed=2)
    mine, theirs = vglab_params(backend, gs), torch_params(torch, gs)
    assert vg.clip_grad_value_(mine, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, q, g in zip(mine, theirs, gs, strict=True):
        assert np.array_equal(vg.to_numpy(p.grad), q.grad.numpy())
        assert np.array_equal(vg.to_numpy(p.grad), np.clip(g, -clip_value, clip_value))


@pytest.mark.parametrize("backend", backends)
def test_clip_grad_norm_of_model_gradients(backend, torch):
    vg.manual_seed(0)
    with vg.backend.using(backend):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ref = vg.interop.to_torch(model)
    x = np.random.default_rng(0).standard_normal((5, 3))
    model(on(backend, x))
    model.backward(on(backend, 100 * np.ones((5, 2))))
    ref(torch.tensor(x)).backward(100 * torch.ones(5, 2, dtype=torch.float64))
    total = vg.clip_grad_norm_(model.parameters(), 1.0, foreach=True)
    assert rel_error(total, torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0, foreach=True)) < 1e-12
    for (name, p), q in zip(model.named_parameters(), ref.parameters(), strict=True):
        assert rel_error(p.grad, q.grad) < 1e-10, name
    norm = math.sqrt(sum(float(np.sum(vg.to_numpy(p.grad) ** 2)) for p in model.parameters()))
    assert norm == pytest.approx(1.0, rel=1e-5)


def test_bad_arguments():
    (p,) = vglab_params("numpy", [np.ones(3)])
    with pytest.raises(ValueError, match=r"clip_grad_norm_ expected max_norm >= 0, got -1"):
        vg.clip_grad_norm_([p], max_norm=-1)
    with pytest.raises(ValueError, match=r"clip_grad_norm_ expected norm_type > 0, got 0\.0"):
        vg.clip_grad_norm_([p], max_norm=1.0, norm_type=0)
    with pytest.raises(ValueError, match=r"clip_grad_value_ expected clip_value >= 0, got -0\.5"):
        vg.clip_grad_value_([p], clip_value=-0.5)
    with pytest.raises(TypeError, match=r"clip_grad_norm_ expected max_norm to be a number, got str"):
        vg.clip_grad_norm_([p], max_norm="1")
    with pytest.raises(ValueError, match=r"clip_grad_norm_ expected foreach to be one of None, True, False"):
        vg.clip_grad_norm_([p], 1.0, foreach="yes")


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_error_if_nonfinite(backend, bad, torch):
    gs = [np.array([1.0, bad]), np.ones(2)]
    mine, theirs = vglab_params(backend, gs), torch_params(torch, gs)
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm of order 2\.0 of the gradients is "
                                           r"(inf|nan), so they cannot be clipped"):
        vg.clip_grad_norm_(mine, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    assert np.array_equal(vg.to_numpy(mine[1].grad), np.ones(2))  # nothing was scaled


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_nonfinite_norm_propagates_as_in_torch(backend, bad, norm_type, torch):
    gs = [np.array([1.0, bad]), np.ones(2)]
    mine, theirs = vglab_params(backend, gs), torch_params(torch, gs)
    total = vg.clip_grad_norm_(mine, 1.0, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    assert np.array_equal(vg.to_numpy(total), total_t.numpy(), equal_nan=True)
    assert_same(mine, theirs)  # an infinite norm zeroes the finite entries; a NaN one makes all NaN
