"""vg.interop.to_torch / from_torch: same weights, same outputs, same gradients; unsupported modules named."""

import numpy as np
import pytest

import vglab as vg
from vglab import nn
from vglab.gradcheck import rel_error
from vglab.interop import from_torch, to_torch
from conftest import backends, on


def model(backend, seed=0):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Sequential(nn.Flatten(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4, bias=False),
                             nn.ReLU(), nn.Sequential(nn.Linear(4, 3), nn.Sigmoid()))


@pytest.mark.parametrize("backend", backends)
def test_to_torch_same_structure_weights_outputs_and_gradients(backend, torch):
    m = model(backend)
    t = to_torch(m)
    assert isinstance(t, torch.nn.Sequential)
    assert repr(t) == repr(m)
    assert list(t.state_dict()) == list(m.state_dict())
    for (name, a), b in zip(m.state_dict().items(), t.state_dict().values(), strict=True):
        assert b.dtype == torch.float64 and np.array_equal(vg.to_numpy(a), b.numpy()), name

    x_np = np.random.default_rng(1).standard_normal((7, 2, 3))
    g_np = np.random.default_rng(2).standard_normal((7, 3))
    y = m(on(backend, x_np))
    dx = m.backward(on(backend, g_np))
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = t(x_t)
    y_t.backward(torch.tensor(g_np))
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    for (name, p), q in zip(m.named_parameters(), t.parameters(), strict=True):
        assert rel_error(p.grad, q.grad) < 1e-10, name


def test_to_torch_copies_the_weights(torch):
    m = model("numpy")
    t = to_torch(m)
    m[1].weight.data[...] = 0.0
    assert torch.count_nonzero(t[1].weight) == 30
    assert to_torch(m, dtype="float32")[1].weight.dtype == torch.float32


@pytest.mark.parametrize("backend", backends)
def test_from_torch_weights_and_outputs(backend, torch):
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 2), torch.nn.Sigmoid())
    with vg.backend.using(backend):
        m = from_torch(t)
    assert repr(m) == repr(t)
    for (name, p), q in zip(m.named_parameters(), t.parameters(), strict=True):
        assert vg.backend.is_torch(p.data) == (backend == "torch"), name
        assert vg.backend.dtype_name(p.dtype) == "float64", name  # torch's float32 weights, widened
        assert np.array_equal(vg.to_numpy(p.data), q.detach().double().numpy()), name
    x_np = np.random.default_rng(3).standard_normal((5, 4))
    assert rel_error(m(on(backend, x_np)), t.double()(torch.tensor(x_np)).detach()) < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_round_trip_is_exact(backend, torch):
    m = model(backend, seed=4)
    with vg.backend.using(backend):
        back = from_torch(to_torch(m))
    assert repr(back) == repr(m)
    assert list(back.state_dict()) == list(m.state_dict())
    for (name, a), b in zip(m.state_dict().items(), back.state_dict().values(), strict=True):
        assert np.array_equal(vg.to_numpy(a), vg.to_numpy(b)), name
        assert vg.backend.is_torch(b) == (backend == "torch"), name
    x = on(backend, np.random.default_rng(5).standard_normal((3, 6)))
    assert rel_error(back(x), m(x)) == 0


class Doubler(nn.Module):
    def forward(self, x):
        return 2 * x


def test_unsupported_modules_are_named(torch):
    with pytest.raises(TypeError, match=r"to_torch does not support Doubler modules"):
        to_torch(Doubler())
    with pytest.raises(TypeError, match=r"to_torch does not support Doubler modules"):
        to_torch(nn.Sequential(nn.Linear(2, 2), Doubler()))  # nothing inside is skipped silently
    with pytest.raises(TypeError, match=r"from_torch does not support torch\.nn\.SELU modules"):
        from_torch(torch.nn.SELU())
    with pytest.raises(TypeError, match=r"from_torch does not support torch\.nn\.Conv3d modules"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv3d(1, 1, 3)))


# --------------------------------------------------------------------------- dtypes, the generator, the torch import

@pytest.mark.parametrize("module_dtype, default", [("float32", "float64"), ("float64", "float32")])
def test_to_torch_keeps_the_modules_dtype(torch, module_dtype, default):
    """The module's own dtype, not the default dtype at the time of the call."""
    with vg.backend.using(dtype=module_dtype):
        m = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.PReLU())
    with vg.backend.using(dtype=default):
        t = to_torch(m)
        assert to_torch(nn.Tanh()) is not None                  # no parameters: nothing to keep
    assert {str(p.dtype) for p in t.parameters()} == {f"torch.{module_dtype}"}
    np.testing.assert_array_equal(t[0].weight.detach().numpy(), vg.to_numpy(m[0].weight.data))
    assert to_torch(m, dtype="float64")[0].weight.dtype == torch.float64   # unless asked


def test_from_torch_draws_nothing_from_vglabs_generator(torch):
    tm = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.PReLU(), torch.nn.Linear(3, 2))
    vg.manual_seed(5)
    before = vg.backend.rng().bit_generator.state
    m = from_torch(tm)
    assert vg.backend.rng().bit_generator.state == before
    np.testing.assert_array_equal(vg.to_numpy(m[2].weight.data), tm[2].weight.detach().double().numpy())


def test_interop_imports_torch_through_the_backend_helper(monkeypatch, torch):
    """So a missing torch gets vglab's one message, how to install it."""
    def no_torch():
        raise ImportError("the torch backend needs PyTorch: pip install torch")
    monkeypatch.setattr(vg.backend, "_torch", no_torch)
    with pytest.raises(ImportError, match=r"needs PyTorch: pip install torch"):
        to_torch(nn.Linear(2, 2))
    with pytest.raises(ImportError, match=r"needs PyTorch: pip install torch"):
        from_torch(torch.nn.Linear(2, 2))
