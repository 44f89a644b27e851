"""nn.Residual: agreement with the same sum in torch, gradient checks, the identity path, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from vglab.interop import from_torch, to_torch
from conftest import backends, on, randn


def block(backend, seed=0):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 4))


def conv_block(backend, seed=0):
    """A ResNet-style block that changes the channels (3 -> 5) and halves the size, with a 1x1 shortcut."""
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Residual(nn.Sequential(nn.Conv2d(3, 5, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(5, 5, 3, padding=1)),
                           shortcut=nn.Conv2d(3, 5, 1, stride=2, bias=False))


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("with_shortcut", [False, True])
def test_residual_matches_torch(backend, with_shortcut, torch):
    if with_shortcut:
        res = conv_block(backend)
        shape = (2, 3, 6, 5)
    else:
        res = nn.Residual(block(backend))
        shape = (5, 4)
    f = to_torch(res.block)
    s = to_torch(res.shortcut) if with_shortcut else (lambda x: x)
    x_np = np.random.default_rng(1).standard_normal(shape)
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = s(x_t) + f(x_t)                                   # the sum written out in torch
    g_np = np.random.default_rng(2).standard_normal(tuple(y_t.shape))
    y_t.backward(torch.tensor(g_np))
    y = res(on(backend, x_np))
    dx = res.backward(on(backend, g_np))
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    torch_params = list(f.parameters()) + (list(s.parameters()) if with_shortcut else [])
    for (name, p), q in zip(res.named_parameters(), torch_params, strict=True):
        assert rel_error(p.grad, q.grad) < 1e-10, name


@pytest.mark.parametrize("backend", backends)
def test_residual_gradcheck(backend):
    report = check_module(nn.Residual(block(backend, seed=3)), randn(backend, 3, 4, seed=4), h=1e-6)
    assert report.max_error < 1e-7, report
    report = check_module(conv_block(backend, seed=5), randn(backend, 2, 3, 4, 4, seed=6), h=1e-6)
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), depth=st.integers(1, 6))
def test_identity_path_passes_the_gradient_unchanged(backend, seed, depth):
    """With blocks whose output is 0 (last weights zero), a stack of residual blocks is the identity, backward too."""
    blocks = []
    for i in range(depth):
        b = block(backend, seed=seed + i)
        b[2].weight.data = b[2].weight.data * 0
        b[2].bias.data = b[2].bias.data * 0
        blocks.append(nn.Residual(b))
    stack = nn.Sequential(*blocks)
    x, g = randn(backend, 3, 4, seed=seed), randn(backend, 3, 4, seed=seed + 1)
    assert np.array_equal(vg.to_numpy(stack(x)), vg.to_numpy(x))
    assert np.array_equal(vg.to_numpy(stack.backward(g)), vg.to_numpy(g))


@pytest.mark.parametrize("backend", backends)
def test_a_module_shared_by_both_paths(backend, torch):
    """``Residual(lin, shortcut=lin)`` is 2 lin(x): both calls are differentiated, the gradients add up."""
    vg.manual_seed(0)
    with vg.backend.using(backend):
        lin = nn.Linear(3, 3)
    res = nn.Residual(lin, shortcut=lin)
    ref = to_torch(lin)
    x_np, g_np = np.random.default_rng(1).standard_normal((4, 3)), np.random.default_rng(2).standard_normal((4, 3))
    x_t = torch.tensor(x_np, requires_grad=True)
    (ref(x_t) + ref(x_t)).backward(torch.tensor(g_np))
    res(on(backend, x_np))
    assert rel_error(res.backward(on(backend, g_np)), x_t.grad) < 1e-10
    assert rel_error(lin.weight.grad, ref.weight.grad) < 1e-10
    assert len(list(res.parameters())) == 2  # one module: its parameters listed once, as torch


def test_residual_names_and_repr():
    res = conv_block("numpy")
    assert list(res.state_dict()) == ["block.0.weight", "block.0.bias", "block.2.weight", "block.2.bias",
                                      "shortcut.weight"]
    assert repr(res).startswith("Residual(\n  (block): Sequential(")
    assert "(shortcut): Conv2d(3, 5, kernel_size=(1, 1), stride=(2, 2), bias=False)" in repr(res)


@pytest.mark.parametrize("backend", backends)
def test_residual_bad_input(backend):
    res = nn.Residual(block(backend))
    with vg.backend.using(backend):
        wrong = nn.Residual(nn.Linear(5, 4))
    with pytest.raises(ValueError, match=r"Residual expected block\(x\) of shape \(2, 5\) \(that of x\), got \(2, 4\)"):
        wrong(randn(backend, 2, 5))
    with pytest.raises(TypeError, match=r"Residual expected x to be a NumPy array or torch tensor, got list"):
        res([[1.0] * 4])
    with pytest.raises(RuntimeError, match=r"Residual.backward called before forward"):
        res.backward(randn(backend, 2, 4))
    res(randn(backend, 2, 4))
    with pytest.raises(ValueError, match=r"Residual.backward expected grad_output of shape \(2, 4\), got \(2, 3\)"):
        res.backward(randn(backend, 2, 3))
    with pytest.raises(TypeError, match=r"Residual expected block to be a Module, got function"):
        nn.Residual(lambda x: x)



@pytest.mark.parametrize("backend", backends)
def test_interop_round_trip(backend, torch):
    res = conv_block(backend, seed=7)
    ref = to_torch(res)
    assert type(ref).__name__ == "TorchResidual" and list(ref.state_dict()) == list(res.state_dict())
    x_np = np.random.default_rng(8).standard_normal((2, 3, 6, 6))
    assert rel_error(res(on(backend, x_np)), ref(torch.tensor(x_np)).detach()) < 1e-10
    with vg.backend.using(backend):
        back = from_torch(ref)
    assert isinstance(back, nn.Residual) and repr(back) == repr(res)
    assert rel_error(back(on(backend, x_np)), res(on(backend, x_np))) == 0
    assert from_torch(to_torch(nn.Residual(nn.Tanh()))).shortcut is None
