"""nn.Parameter, nn.Module, nn.Sequential, vg.no_grad: registration, traversal, state, hooks, moving."""

from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import rel_error
from conftest import backends, on, randn


def mlp(backend="numpy", seed=0):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        return nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Sequential(nn.Linear(5, 3), nn.ReLU()))


def torch_mlp(torch):
    return torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(),
                               torch.nn.Sequential(torch.nn.Linear(5, 3), torch.nn.ReLU()))


class WithBuffer(nn.Module):
    """A module with a parameter, an integer buffer and a float buffer."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(vg.backend.ones(3))
        self.register_buffer("count", vg.backend.asarray(np.zeros((), dtype=np.int64)))
        self.register_buffer("running", vg.backend.zeros(3))

    def forward(self, x):
        self._cache = x
        return x * self.scale.data

    def backward(self, grad_output):
        self.scale.accumulate((grad_output * self._cache).sum(axis=0))
        return grad_output * self.scale.data


# ----------------------------------------------------------------- Parameter

@pytest.mark.parametrize("backend", backends)
def test_parameter_wraps_without_copying(backend):
    a = randn(backend, 2, 3)
    p = nn.Parameter(a)
    assert p.data is a and p.grad is None and p.requires_grad
    assert p.shape == (2, 3) and p.ndim == 2 and p.numel() == 6
    assert vg.backend.dtype_name(p.dtype) == "float64" and str(p.device) == "cpu"
    assert repr(p) == "Parameter(shape=(2, 3), dtype=float64)"


def test_parameter_accumulates_and_freezes():
    p = nn.Parameter(np.zeros(2))
    p.accumulate(np.array([1.0, 2.0]))
    p.accumulate(np.array([10.0, 20.0]))
    assert np.array_equal(p.grad, [11.0, 22.0])
    frozen = nn.Parameter(np.zeros(2), requires_grad=False)
    frozen.accumulate(np.ones(2))
    assert frozen.grad is None


def test_parameter_bad_data():
    with pytest.raises(TypeError, match=r"Parameter expected data to be a NumPy array or torch tensor, got list"):
        nn.Parameter([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Parameter expected data of a floating dtype, got int64"):
        nn.Parameter(np.arange(3))


# ----------------------------------------------------------------- registration and traversal

def test_registration_and_names_match_torch(torch):
    m, t = mlp(), torch_mlp(torch)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in m.named_modules()] == [n for n, _ in t.named_modules()] == ["", "0", "1", "2", "2.0", "2.1"]
    assert list(m.state_dict()) == list(t.state_dict())
    assert [type(c).__name__ for c in m.children()] == ["Linear", "Tanh", "Sequential"]
    assert len(list(m.parameters())) == 4 and len(list(m.modules())) == 6


def test_attribute_assignment_registers_and_unregisters():
    layer = nn.Linear(3, 2)
    layer.extra = nn.Parameter(np.ones(1))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias", "extra"]
    layer.bias = None
    assert [n for n, _ in layer.named_parameters()] == ["weight", "extra"]
    seq = nn.Sequential(nn.Tanh())
    seq.head = nn.Linear(2, 2)
    assert [n for n, _ in seq.named_children()] == ["0", "head"]
    seq.head = "not a module"
    assert [n for n, _ in seq.named_children()] == ["0"]


def test_init_without_super_raises():
    class Forgetful(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    with pytest.raises(RuntimeError, match=r"Forgetful.__init__ must call super\(\).__init__\(\)"):
        Forgetful()


def test_forward_not_defined():
    with pytest.raises(NotImplementedError, match=r"Module does not define forward"):
        nn.Module()(np.ones(2))


def test_buffers_are_state_but_not_parameters():
    m = WithBuffer()
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    assert [n for n, _ in m.named_buffers()] == ["count", "running"]
    assert list(m.state_dict()) == ["scale", "count", "running"]
    seq = nn.Sequential(nn.Linear(3, 3), m)
    assert [n for n, _ in seq.named_buffers()] == ["1.count", "1.running"]
    assert len(list(seq.buffers())) == 2


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert len(seq) == 2 and seq[0] is a and seq[-1] is b and list(seq) == [a, b]
    seq.append(c)
    assert len(seq) == 3 and seq[2] is c
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and list(head) == [a, b]
    with pytest.raises(TypeError, match=r"Sequential expected Module arguments, got int at position 1"):
        nn.Sequential(a, 3)


def test_apply_visits_children_first_and_returns_self():
    m = mlp()
    seen = []
    assert m.apply(lambda mod: seen.append(type(mod).__name__)) is m
    assert seen == ["Linear", "Tanh", "Linear", "ReLU", "Sequential", "Sequential"]

    def constant(mod):
        if isinstance(mod, nn.Linear):
            mod.weight.data = np.full(mod.weight.shape, 0.5)

    m.apply(constant)
    assert np.all(m[0].weight.data == 0.5) and np.all(m[2][0].weight.data == 0.5)


def test_zero_grad():
    m = mlp()
    m(np.ones((2, 4)))
    m.backward(np.ones((2, 3)))
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    for p in m.parameters():
        assert p.grad.shape == p.shape and np.all(p.grad == 0)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_train_and_eval_reach_every_module():
    m = mlp()
    assert all(mod.training for mod in m.modules())
    assert m.eval() is m
    assert not any(mod.training for mod in m.modules())
    assert m.train() is m and all(mod.training for mod in m.modules())
    m[2].train(False)
    assert m.training and not m[2].training and not m[2][0].training


def test_repr_equals_torch(torch):
    m = nn.Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Sequential(nn.ReLU(), nn.Flatten()),
                      nn.Sigmoid(), nn.Linear(128, 10, bias=False))
    t = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.Tanh(),
                            torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Flatten()),
                            torch.nn.Sigmoid(), torch.nn.Linear(128, 10, bias=False))
    assert repr(m) == repr(t)


# ----------------------------------------------------------------- state_dict and load_state_dict

def test_state_dict_holds_the_arrays_themselves():
    m = mlp()
    state = m.state_dict()
    assert isinstance(state, OrderedDict)
    assert state["0.weight"] is m[0].weight.data and state["2.0.bias"] is m[2][0].bias.data


def test_load_state_dict_copies_values():
    m, other = mlp(seed=0), mlp(seed=1)
    source = {k: v.copy() for k, v in other.state_dict().items()}
    assert m.load_state_dict(source) == ([], [])
    for k, v in m.state_dict().items():
        assert np.array_equal(v, source[k]) and v is not source[k], k
    source["0.weight"][...] = 0.0
    assert np.count_nonzero(m[0].weight.data) == 20


def test_load_state_dict_strict_errors_name_the_keys():
    m = mlp()
    state = m.state_dict()
    missing = {k: v for k, v in state.items() if k != "2.0.bias"}
    with pytest.raises(KeyError, match=r"Sequential.load_state_dict: missing keys \['2.0.bias'\], "
                                       r"unexpected keys \[\]"):
        m.load_state_dict(missing)
    extra = dict(state, **{"3.weight": np.zeros(2)})
    with pytest.raises(KeyError, match=r"missing keys \[\], unexpected keys \['3.weight'\]"):
        m.load_state_dict(extra)
    wrong = dict(state, **{"0.weight": np.zeros((4, 5))})
    with pytest.raises(ValueError, match=r"Sequential.load_state_dict expected 0.weight of shape \(5, 4\), "
                                         r"got \(4, 5\)"):
        m.load_state_dict(wrong)


def test_load_state_dict_not_strict_loads_what_matches():
    m, other = mlp(seed=0), mlp(seed=1)
    before = m[2][0].weight.data.copy()
    result = m.load_state_dict({"0.weight": other[0].weight.data, "ghost": np.zeros(1)}, strict=False)
    assert result.missing_keys == ["0.bias", "2.0.weight", "2.0.bias"] and result.unexpected_keys == ["ghost"]
    assert result == (result.missing_keys, result.unexpected_keys)  # unpacks like torch's
    assert np.array_equal(m[0].weight.data, other[0].weight.data)
    assert np.array_equal(m[2][0].weight.data, before)


def test_load_state_dict_across_backends_and_buffers(torch):
    m = WithBuffer()
    state = {"scale": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
             "count": torch.tensor(7), "running": torch.tensor([0.5, 0.5, 0.5], dtype=torch.float64)}
    m.load_state_dict(state)
    assert isinstance(m.scale.data, np.ndarray) and np.array_equal(m.scale.data, [1.0, 2.0, 3.0])
    assert isinstance(m.count, np.ndarray) and m.count.dtype == np.int64 and int(m.count) == 7
    assert m.state_dict()["running"] is m.running and np.all(m.running == 0.5)


def test_load_state_dict_from_torch_module(torch):
    t = torch_mlp(torch).double()
    m = mlp()
    m.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).standard_normal((3, 4))
    assert rel_error(m(x), t(torch.tensor(x)).detach()) < 1e-10


# ----------------------------------------------------------------- hooks

@pytest.mark.parametrize("backend", backends)
def test_forward_hook(backend):
    layer = mlp(backend)[0]
    x = randn(backend, 2, 4)
    calls = []
    handle = layer.register_forward_hook(lambda mod, inputs, output: calls.append((mod, inputs, output)))
    y = layer(x)
    assert len(calls) == 1
    mod, inputs, output = calls[0]
    assert mod is layer and isinstance(inputs, tuple) and inputs[0] is x and output is y
    handle.remove()
    layer(x)
    assert len(calls) == 1
    handle.remove()  # removing twice is harmless


@pytest.mark.parametrize("backend", backends)
def test_forward_hook_can_replace_the_output(backend):
    act = nn.Tanh()
    handle = act.register_forward_hook(lambda mod, inputs, output: 2 * output)
    x = randn(backend, 3)
    assert rel_error(act(x), 2 * np.tanh(vg.to_numpy(x))) < 1e-15
    handle.remove()
    assert rel_error(act(x), np.tanh(vg.to_numpy(x))) < 1e-15


@pytest.mark.parametrize("backend", backends)
def test_backward_hook(backend, torch):
    m = mlp(backend)
    ref = vg.interop.to_torch(m)
    calls, torch_calls = [], []
    handle = m[2][0].register_full_backward_hook(lambda mod, gi, go: calls.append((mod, gi, go)))
    ref[2][0].register_full_backward_hook(lambda mod, gi, go: torch_calls.append((gi, go)))
    x_np, g_np = np.random.default_rng(0).standard_normal((2, 4)), np.random.default_rng(1).standard_normal((2, 3))
    m(on(backend, x_np))
    m.backward(on(backend, g_np))
    ref(torch.tensor(x_np)).backward(torch.tensor(g_np))
    assert len(calls) == 1 and calls[0][0] is m[2][0]
    (gi,), (go,) = calls[0][1], calls[0][2]
    (gi_t,), (go_t,) = torch_calls[0]
    assert rel_error(gi, gi_t) < 1e-10 and rel_error(go, go_t) < 1e-10  # the same tuples torch passes
    handle.remove()
    m(on(backend, x_np))
    m.backward(on(backend, g_np))
    assert len(calls) == 1


@pytest.mark.parametrize("backend", backends)
def test_backward_hook_can_replace_grad_input(backend):
    layer = mlp(backend)[0]
    x, g = randn(backend, 2, 4), randn(backend, 2, 5, seed=1)
    layer(x)
    plain = vg.to_numpy(layer.backward(g)).copy()
    layer.register_full_backward_hook(lambda mod, gi, go: (gi[0] * 0,))
    layer(x)
    assert np.all(vg.to_numpy(layer.backward(g)) == 0)
    assert np.any(plain != 0)


# ----------------------------------------------------------------- forward, backward, no_grad

@pytest.mark.parametrize("backend", backends)
def test_backward_before_forward_raises(backend):
    m = mlp(backend)
    with pytest.raises(RuntimeError, match=r"Sequential.backward called before forward"):
        m.backward(randn(backend, 2, 3))
    with pytest.raises(RuntimeError, match=r"Linear.backward called before forward"):
        m[0].backward(randn(backend, 2, 5))


@pytest.mark.parametrize("backend", backends)
def test_no_grad_keeps_no_cache(backend):
    m = mlp(backend)
    x = randn(backend, 2, 4)
    with vg.no_grad():
        assert not vg.nn.is_grad_enabled()
        y_no_grad = m(x)
    assert vg.nn.is_grad_enabled()
    assert rel_error(y_no_grad, m(x)) == 0
    fresh = mlp(backend)
    with vg.no_grad():
        fresh(x)
    assert all(mod._calls == [] for mod in fresh.modules())
    with pytest.raises(RuntimeError, match=r"Sequential.backward called before forward \(or after a forward "
                                           r"under vg.no_grad\(\), which keeps no cache\)"):
        fresh.backward(randn(backend, 2, 3))


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ValueError):
        with vg.no_grad():
            nn.Linear(3, 2)(np.ones((1, 4)))
    assert vg.nn.is_grad_enabled()


@pytest.mark.parametrize("backend", backends)
def test_backward_twice_accumulates_twice(backend):
    m = mlp(backend)
    x, g = randn(backend, 3, 4), randn(backend, 3, 3, seed=1)
    m(x)
    dx1 = vg.to_numpy(m.backward(g)).copy()
    once = {n: vg.to_numpy(p.grad).copy() for n, p in m.named_parameters()}
    dx2 = vg.to_numpy(m.backward(g))
    assert np.array_equal(dx1, dx2)
    for n, p in m.named_parameters():
        np.testing.assert_allclose(vg.to_numpy(p.grad), 2 * once[n], rtol=1e-15, err_msg=n)


@pytest.mark.parametrize("backend", backends)
def test_frozen_parameter_gets_no_grad(backend):
    layer = mlp(backend)[0]
    layer.weight.requires_grad = False
    layer(randn(backend, 2, 4))
    layer.backward(randn(backend, 2, 5))
    assert layer.weight.grad is None and layer.bias.grad is not None


# ----------------------------------------------------------------- Module.to

def test_to_moves_between_numpy_and_torch(torch):
    m = mlp("numpy")
    x_np = np.random.default_rng(0).standard_normal((3, 4))
    y_np = m(x_np)
    m.backward(np.ones((3, 3)))
    assert m.to("torch") is m
    for name, p in m.named_parameters():
        assert isinstance(p.data, torch.Tensor) and p.data.dtype == torch.float64 and p.grad is None, name
    with pytest.raises(RuntimeError, match=r"Sequential.backward called before forward"):
        m.backward(torch.ones(3, 3, dtype=torch.float64))  # caches were dropped
    with pytest.raises(TypeError, match=r"Linear: x, parameters must be on one backend.*numpy, torch"):
        m(x_np)
    y_t = m(torch.tensor(x_np))
    assert isinstance(y_t, torch.Tensor) and rel_error(y_t, y_np) < 1e-12
    m.to("numpy")
    assert all(isinstance(p.data, np.ndarray) for p in m.parameters())
    assert rel_error(m(x_np), y_np) == 0


@pytest.mark.parametrize("backend", backends)
def test_to_changes_dtype(backend):
    m = mlp(backend)
    weights = vg.to_numpy(m[0].weight.data).copy()
    m.to(dtype="float32")
    assert all(vg.backend.dtype_name(p.dtype) == "float32" for p in m.parameters())
    with pytest.raises(TypeError, match=r"Linear expected x of dtype float32 .*got float64"):
        m(randn(backend, 2, 4))
    y = m(on(backend, np.ones((2, 4)), dtype="float32"))
    assert vg.backend.dtype_name(y.dtype) == "float32"
    m.to(dtype="float64")
    assert np.allclose(vg.to_numpy(m[0].weight.data), weights, rtol=1e-7)
    assert vg.backend.is_torch(m[0].weight.data) == (backend == "torch")


def test_to_keeps_integer_buffers_integer(torch):
    m = WithBuffer().to("torch", dtype="float32")
    assert m.count.dtype == torch.int64 and m.running.dtype == torch.float32
    assert m.scale.data.dtype == torch.float32
    assert m.state_dict()["count"] is m.count


def test_to_rejects_unknown_backend():
    with pytest.raises(ValueError, match=r"backend must be 'numpy' or 'torch', got 'jax'"):
        mlp().to("jax")


# ----------------------------------------------------------------- one module used several times

def _torch_twin(torch, vg_module):
    """A torch module with the same weights; shared vglab modules become shared torch modules."""
    return vg.interop.to_torch(vg_module)


def _grads_vs_torch(torch, model, ref, x_np, g_np, backend):
    """Run one forward and backward in both; return the worst relative error over dx and every gradient."""
    model.zero_grad()
    out = model(on(backend, x_np))
    dx = model.backward(on(backend, g_np))
    xt = torch.tensor(x_np, requires_grad=True)
    ref(xt).backward(torch.tensor(g_np))
    errors = [rel_error(out, ref(torch.tensor(x_np)).detach()), rel_error(dx, xt.grad)]
    for (name, p), (tname, tp) in zip(model.named_parameters(), ref.named_parameters(), strict=True):
        assert name == tname
        errors.append(rel_error(p.grad, tp.grad))
    return max(errors)


@pytest.mark.parametrize("backend", backends)
def test_a_module_used_twice_gives_torchs_gradients(backend, torch):
    vg.manual_seed(0)
    with vg.backend.using(backend):
        lin, act = nn.Linear(4, 4), nn.Tanh()
        model = nn.Sequential(lin, act, lin, act, nn.Linear(4, 3))
    t_lin = torch.nn.Linear(4, 4).double()
    t_lin.load_state_dict({k: torch.tensor(vg.to_numpy(v)) for k, v in lin.state_dict().items()})
    t_out = torch.nn.Linear(4, 3).double()
    t_out.load_state_dict({k: torch.tensor(vg.to_numpy(v)) for k, v in model[4].state_dict().items()})
    t_act = torch.nn.Tanh()
    ref = torch.nn.Sequential(t_lin, t_act, t_lin, t_act, t_out)
    rng = np.random.default_rng(1)
    x_np, g_np = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert _grads_vs_torch(torch, model, ref, x_np, g_np, backend) < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_tied_weights_are_one_parameter_as_in_torch(backend, torch):
    vg.manual_seed(0)
    with vg.backend.using(backend):
        a, b = nn.Linear(3, 3), nn.Linear(3, 3)
        b.weight = a.weight
        model = nn.Sequential(a, nn.Tanh(), b)
    ta, tb = torch.nn.Linear(3, 3).double(), torch.nn.Linear(3, 3).double()
    tb.weight = ta.weight
    ref = torch.nn.Sequential(ta, torch.nn.Tanh(), tb)
    with torch.no_grad():
        ta.weight.copy_(torch.tensor(vg.to_numpy(a.weight.data)))
        ta.bias.copy_(torch.tensor(vg.to_numpy(a.bias.data)))
        tb.bias.copy_(torch.tensor(vg.to_numpy(b.bias.data)))
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in ref.named_parameters()] == ["0.weight", "0.bias", "2.bias"]
    assert list(model.state_dict()) == list(ref.state_dict())  # state_dict keeps every name
    rng = np.random.default_rng(2)
    x_np, g_np = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    assert _grads_vs_torch(torch, model, ref, x_np, g_np, backend) < 1e-10
    opt, t_opt = vg.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(ref.parameters(), lr=0.1)
    opt.step()
    t_opt.step()
    assert rel_error(a.weight.data, ta.weight.detach()) < 1e-12  # moved once, not twice
    assert b.weight.data is a.weight.data


def test_named_modules_lists_a_shared_module_once_as_torch(torch):
    lin, act = nn.Linear(2, 2), nn.Tanh()
    model = nn.Sequential(lin, act, lin, nn.Sequential(act, nn.Linear(2, 1)))
    t_lin, t_act = torch.nn.Linear(2, 2), torch.nn.Tanh()
    ref = torch.nn.Sequential(t_lin, t_act, t_lin, torch.nn.Sequential(t_act, torch.nn.Linear(2, 1)))
    assert [n for n, _ in model.named_modules()] == [n for n, _ in ref.named_modules()]
    assert len(list(model.children())) == len(list(ref.children())) == 3
    assert list(model.state_dict()) == list(ref.state_dict())
    assert len(model) == 4 and [m for m in model][2] is lin
    # modules() and parameters() skip building names (they run every step): same order as torch's
    assert [type(m).__name__ for m in model.modules()] == [type(m).__name__ for m in ref.modules()]
    assert [m for m in model.modules()] == [m for _, m in model.named_modules()]
    assert [p for p in model.parameters()] == [p for _, p in model.named_parameters()]
    assert [tuple(p.shape) for p in model.parameters()] == [tuple(p.shape) for p in ref.parameters()]


@settings(max_examples=25)
@given(st.lists(st.integers(0, 2), min_size=1, max_size=7), st.integers(1, 4))
def test_any_pattern_of_reuse_matches_torch(pattern, batch):
    """A chain drawn from a pool of two Linear layers and one Tanh, each usable many times."""
    torch = pytest.importorskip("torch")
    vg.manual_seed(3)
    pool = [nn.Linear(3, 3), nn.Linear(3, 3), nn.Tanh()]
    t_pool = [vg.interop.to_torch(m) for m in pool]
    model = nn.Sequential(*[pool[i] for i in pattern])
    ref = torch.nn.Sequential(*[t_pool[i] for i in pattern])
    rng = np.random.default_rng(len(pattern))
    x_np, g_np = rng.standard_normal((batch, 3)), rng.standard_normal((batch, 3))
    assert _grads_vs_torch(torch, model, ref, x_np, g_np, "numpy") < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_a_loop_at_the_top_level_is_differentiated_by_the_reverse_loop(backend, torch):
    """The reader's cell loop: ``h = act(lin(h))`` T times, then backward through the steps in reverse."""
    vg.manual_seed(4)
    with vg.backend.using(backend):
        lin, act = nn.Linear(3, 3), nn.Tanh()
    t_lin = vg.interop.to_torch(lin)
    h0 = np.random.default_rng(5).standard_normal((2, 3))
    th0 = torch.tensor(h0, requires_grad=True)
    h, th = on(backend, h0), th0
    t_hs = []
    for _ in range(6):
        h = act(lin(h))
        th = torch.tanh(t_lin(th))
        th.retain_grad()
        t_hs.append(th)
    th.sum().backward()
    dh = on(backend, np.ones((2, 3)))
    for t in reversed(range(6)):
        assert rel_error(dh, t_hs[t].grad) < 1e-10
        dh = lin.backward(act.backward(dh))
    assert rel_error(dh, th0.grad) < 1e-10          # dL/dh_0
    assert rel_error(lin.weight.grad, t_lin.weight.grad) < 1e-10
    assert rel_error(lin.bias.grad, t_lin.bias.grad) < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_an_evaluation_without_no_grad_does_not_leak_or_corrupt(backend):
    m, clean = mlp(backend), mlp(backend)
    x, g = randn(backend, 3, 4), randn(backend, 3, 3, seed=1)
    for seed in range(20):                 # evaluations nobody differentiates
        m(randn(backend, 3, 4, seed=10 + seed))
    m(x)
    m.backward(g)
    clean(x)
    clean.backward(g)
    for (name, p), (_, q) in zip(m.named_parameters(), clean.named_parameters()):
        assert rel_error(p.grad, q.grad) == 0, name
    for step in range(5):                  # a training loop with an evaluation in each step
        m(randn(backend, 3, 4, seed=step))
        m(x)
        m.backward(g)
    assert max(len(mod._calls) for mod in m.modules()) == 2  # one pass kept, not all of them


def test_at_most_max_pending_calls_are_kept(monkeypatch):
    monkeypatch.setattr(nn.Module, "max_pending", 4)
    act = nn.Tanh()
    xs = [np.full(2, float(i)) for i in range(10)]
    for x in xs:
        act(x)
    assert len(act._calls) == 4
    for x in reversed(xs[-4:]):            # the four most recent calls, most recent first
        assert rel_error(act.backward(np.ones(2)), 1 - np.tanh(x) ** 2) < 1e-15
    with pytest.raises(RuntimeError, match=r"Tanh.backward: the forward call it needs was dropped: at most "
                                           r"Module.max_pending = 4 calls"):
        act.backward(np.ones(2))


def test_backward_again_after_every_call_starts_over():
    act = nn.Tanh()
    a, b = np.array([0.5]), np.array([-1.5])
    act(a)
    act(b)
    got = [act.backward(np.ones(1))[0] for _ in range(4)]
    want = [1 - np.tanh(v[0]) ** 2 for v in (b, a, b, a)]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_a_failed_backward_leaves_its_call_pending():
    lin = nn.Linear(3, 2)
    x = np.ones((4, 3))
    lin(x)
    with pytest.raises(ValueError, match=r"Linear.backward expected grad_output of shape \(4, 2\), got \(4, 3\)"):
        lin.backward(np.ones((4, 3)))
    assert lin.backward(np.ones((4, 2))).shape == (4, 3)


def test_backward_hooks_fire_once_when_a_subclass_calls_super():
    class Doubled(nn.Tanh):
        def backward(self, grad_output):
            return 2 * super().backward(grad_output)

    act = Doubled()
    calls = []
    act.register_full_backward_hook(lambda mod, gi, go: calls.append(gi))
    act(np.array([0.3, -0.2]))
    dx = act.backward(np.ones(2))
    assert len(calls) == 1 and rel_error(dx, 2 * (1 - np.tanh([0.3, -0.2]) ** 2)) < 1e-15


def test_no_grad_in_one_thread_leaves_another_alone():
    import threading
    inside, seen = threading.Event(), []

    def worker():
        with vg.no_grad():
            inside.set()
            release.wait(5)

    release = threading.Event()
    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen.append(vg.nn.is_grad_enabled())
    release.set()
    t.join()
    assert seen == [True]


# ----------------------------------------------------------------- order, Sequential as a list

def test_reassigning_a_parameter_keeps_its_place():
    lin = nn.Linear(3, 2)
    lin.weight = nn.Parameter(np.zeros((2, 3)))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]


def test_replacing_a_child_of_sequential_keeps_the_order(torch):
    seq = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    seq[0] = nn.Linear(2, 3, bias=False)
    setattr(seq, "1", nn.ReLU())
    seq[-1] = nn.Linear(3, 4)
    ref = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    ref[0] = torch.nn.Linear(2, 3, bias=False)
    setattr(ref, "1", torch.nn.ReLU())
    ref[-1] = torch.nn.Linear(3, 4)
    assert [n for n, _ in seq.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in seq.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert isinstance(seq[1], nn.ReLU) and seq(np.ones((1, 2))).shape == (1, 4)
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2 and seq[1:][0] is seq[1]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(list(seq)[-1], nn.Sigmoid)
    with pytest.raises(IndexError, match=r"Sequential index 4 is out of range for 4 modules"):
        seq[4]
    with pytest.raises(TypeError, match=r"Sequential expected Module arguments, got int at index 0"):
        seq[0] = 3


@pytest.mark.parametrize("backend", backends)
def test_zero_grad_without_none_zeroes_even_nan(backend):
    m = mlp(backend)
    for p in m.parameters():
        p.grad = on(backend, np.full(p.shape, np.nan))
    m.zero_grad(set_to_none=False)
    assert all(np.all(vg.to_numpy(p.grad) == 0) for p in m.parameters())
    opt = vg.optim.SGD(m.parameters(), lr=0.1)
    for p in m.parameters():
        p.grad = on(backend, np.full(p.shape, np.inf))
    opt.zero_grad(set_to_none=False)
    assert all(np.all(vg.to_numpy(p.grad) == 0) for p in m.parameters())
