"""vglab.optim against torch.optim, step for step, plus properties and input validation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import backends
import vglab as vg
from vglab import optim
from vglab.nn import Parameter

torch = pytest.importorskip("torch")


SHAPES = [(3, 4), (5,)]
STEPS = 200


def relerr(a, b):
    """max|a - b| / max|b|, computed here so the test does not trust vglab.rel_error."""
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def make_params(backend, seed=0, shapes=SHAPES):
    """The same starting weights as vglab Parameters (on ``backend``) and as torch leaf tensors."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(s) for s in shapes]
    with vg.backend.using(backend):
        ours = [Parameter(vg.backend.asarray(w.copy())) for w in start]
    theirs = [torch.tensor(w.copy(), dtype=torch.float64, requires_grad=True) for w in start]
    return ours, theirs


def gradients(steps=STEPS, seed=1, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]


def feed(ours, theirs, grads):
    """Give both optimisers' parameters the same gradient."""
    for p, t, g in zip(ours, theirs, grads):
        p.grad = vg.backend.asarray(g.copy(), like=p.data)
        t.grad = torch.tensor(g.copy(), dtype=torch.float64)


def assert_same(ours, theirs, tol=1e-12):
    for p, t in zip(ours, theirs):
        err = relerr(vg.to_numpy(p.data), t.detach().numpy())
        assert err < tol, f"parameter of shape {p.shape} differs from torch by {err:.2e}"


def run_pair(ours_opt, torch_opt, ours, theirs, grads):
    for g in grads:
        feed(ours, theirs, g)
        ours_opt.step()
        torch_opt.step()
    assert_same(ours, theirs)


# --------------------------------------------------------------------------- hyper-parameter grids

def sgd_grid():
    grid = []
    for momentum, dampening, nesterov, weight_decay, maximize in itertools.product(
            [0.0, 0.9], [0.0, 0.5], [False, True], [0.0, 0.01], [False, True]):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        grid.append(dict(lr=0.05, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay, maximize=maximize))
    return grid


def adam_grid():
    return [dict(lr=0.01, betas=betas, eps=eps, weight_decay=wd, amsgrad=ams, maximize=mx)
            for betas, eps, wd, ams, mx in itertools.product(
                [(0.9, 0.999), (0.3, 0.9), (0.0, 0.5)], [1e-8, 1e-2], [0.0, 0.1], [False, True], [False, True])]


def _id(h):
    return ",".join(f"{k}={v}" for k, v in h.items() if k != "lr")


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("hp", sgd_grid(), ids=_id)
def test_sgd_equals_torch(backend, hp):
    ours, theirs = make_params(backend)
    run_pair(optim.SGD(ours, **hp), torch.optim.SGD(theirs, **hp), ours, theirs, gradients())
    # the parameters stayed on their backend
    assert all(vg.backend.is_torch(p.data) == (backend == "torch") for p in ours)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("hp", adam_grid(), ids=_id)
def test_adam_equals_torch(backend, hp):
    ours, theirs = make_params(backend)
    run_pair(optim.Adam(ours, **hp), torch.optim.Adam(theirs, **hp), ours, theirs, gradients())
    assert all(vg.backend.is_torch(p.data) == (backend == "torch") for p in ours)


def test_defaults_equal_torch():
    ours, _ = make_params("numpy")
    for name in ("SGD", "Adam"):
        ours_opt = getattr(optim, name)(ours)
        t = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        torch_opt = getattr(torch.optim, name)([t])
        for key, value in ours_opt.param_groups[0].items():
            if key in ("params", "lr_schedule"):
                continue
            assert torch_opt.param_groups[0][key] == value, f"{name} default {key}"


# --------------------------------------------------------------------------- schedules

def warmup_then_decay(k):
    """Not monotone: rises for 10 steps, then decays (a real test of the step count k)."""
    return 0.1 * min(1.0, (k + 1) / 10) * 0.98 ** k


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, hp", [("SGD", dict(momentum=0.9)), ("Adam", dict(amsgrad=True))])
def test_schedule_equals_lambda_lr(backend, name, hp):
    ours, theirs = make_params(backend)
    ours_opt = getattr(optim, name)(ours, lr=warmup_then_decay, **hp)
    torch_opt = getattr(torch.optim, name)(theirs, lr=0.1, **hp)
    sched = torch.optim.lr_scheduler.LambdaLR(torch_opt, lambda k: warmup_then_decay(k) / 0.1)
    for k, g in enumerate(gradients()):
        ours_lr, torch_lr = ours_opt.param_groups[0]["lr"], torch_opt.param_groups[0]["lr"]
        assert isinstance(ours_lr, float)
        assert ours_lr == pytest.approx(torch_lr, rel=1e-14)
        assert ours_lr == pytest.approx(warmup_then_decay(k), rel=1e-15)
        feed(ours, theirs, g)
        ours_opt.step()
        torch_opt.step()
        sched.step()
    assert ours_opt.param_groups[0]["lr_schedule"] is warmup_then_decay
    assert_same(ours, theirs)


# --------------------------------------------------------------------------- parameter groups

@pytest.mark.parametrize("backend", backends)
def test_sgd_parameter_groups(backend):
    ours, theirs = make_params(backend)
    groups = lambda ps: [{"params": [ps[0]], "lr": 0.2, "momentum": 0.9, "nesterov": True},
                         {"params": [ps[1]], "weight_decay": 0.1}]
    ours_opt = optim.SGD(groups(ours), lr=0.01, momentum=0.5)
    torch_opt = torch.optim.SGD(groups(theirs), lr=0.01, momentum=0.5)
    assert ours_opt.param_groups[0]["lr"] == 0.2 and ours_opt.param_groups[1]["lr"] == 0.01
    assert ours_opt.param_groups[1]["momentum"] == 0.5
    run_pair(ours_opt, torch_opt, ours, theirs, gradients())


@pytest.mark.parametrize("backend", backends)
def test_adam_parameter_groups(backend):
    ours, theirs = make_params(backend)
    groups = lambda ps: [{"params": [ps[0]], "betas": (0.5, 0.9), "amsgrad": True},
                         {"params": ps[1], "lr": 0.05, "eps": 1e-3}]   # a bare tensor, as torch allows
    run_pair(optim.Adam(groups(ours), lr=0.01), torch.optim.Adam(groups(theirs), lr=0.01),
             ours, theirs, gradients())


def test_schedule_in_one_group_only():
    ours, theirs = make_params("numpy")
    ours_opt = optim.SGD([{"params": [ours[0]], "lr": warmup_then_decay}, {"params": [ours[1]]}], lr=0.03)
    assert ours_opt.param_groups[1]["lr_schedule"] is None
    for k, g in enumerate(gradients(20)):
        assert ours_opt.param_groups[0]["lr"] == pytest.approx(warmup_then_decay(k), rel=1e-15)
        assert ours_opt.param_groups[1]["lr"] == 0.03
        feed(ours, theirs, g)
        ours_opt.step()


# --------------------------------------------------------------------------- state dicts

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, hp", [("SGD", dict(lr=warmup_then_decay, momentum=0.9)),
                                      ("Adam", dict(lr=warmup_then_decay, amsgrad=True))])
def test_state_dict_round_trip(backend, name, hp):
    """Save after 100 steps, load into a fresh optimiser over copied weights: the next 100 steps agree."""
    grads = gradients()
    ours, theirs = make_params(backend)
    ours_opt = getattr(optim, name)(ours, **hp)
    torch_hp = {**hp, "lr": 0.1}
    torch_opt = getattr(torch.optim, name)(theirs, **torch_hp)
    sched = torch.optim.lr_scheduler.LambdaLR(torch_opt, lambda k: warmup_then_decay(k) / 0.1)
    for g in grads[:100]:
        feed(ours, theirs, g)
        ours_opt.step()
        torch_opt.step()
        sched.step()
    saved = ours_opt.state_dict()
    with vg.backend.using(backend):
        copies = [Parameter(vg.backend.asarray(vg.to_numpy(p.data).copy())) for p in ours]
    restored = getattr(optim, name)(copies, **{**hp, "lr": 1.0})
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == ours_opt.param_groups[0]["lr"]
    for g in grads[100:]:
        feed(ours, theirs, g)
        feed(copies, theirs, g)
        ours_opt.step()
        restored.step()
        torch_opt.step()
        sched.step()
    for p, c in zip(ours, copies):
        np.testing.assert_array_equal(vg.to_numpy(c.data), vg.to_numpy(p.data))
    assert_same(copies, theirs)


def test_state_dict_refers_to_parameters_by_index():
    ours, _ = make_params("numpy")
    opt = optim.Adam([{"params": [ours[0]]}, {"params": [ours[1]], "lr": 0.1}])
    for p in ours:
        p.grad = vg.backend.zeros(*p.shape)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sorted(sd["state"]) == [0, 1]
    assert sd["state"][1]["step"] == 1
    with pytest.raises(ValueError, match="2 parameter groups, got 1"):
        opt.load_state_dict({**sd, "param_groups": sd["param_groups"][:1]})


# --------------------------------------------------------------------------- properties

shapes = st.sampled_from([(1,), (4,), (2, 3)])
floats = st.floats(-1e3, 1e3, allow_nan=False)


@given(shape=shapes, seed=st.integers(0, 2**16), lr=st.floats(0, 10), momentum=st.sampled_from([0.0, 0.9]))
def test_zero_gradient_leaves_sgd_unchanged(shape, seed, lr, momentum):
    w = np.random.default_rng(seed).standard_normal(shape) * 100
    p = Parameter(w.copy())
    opt = optim.SGD([p], lr=lr, momentum=momentum)
    for _ in range(3):
        p.grad = np.zeros(shape)
        opt.step()
    np.testing.assert_array_equal(p.data, w)


magnitudes = st.one_of(st.just(0.0), st.floats(1e-6, 1e6))


@given(mags=st.lists(magnitudes, min_size=1, max_size=6), signs=st.lists(st.sampled_from([-1.0, 1.0]), min_size=6,
       max_size=6), lr=st.floats(1e-4, 1.0), eps=st.sampled_from([1e-8, 1e-3, 1.0]),
       betas=st.sampled_from([(0.9, 0.999), (0.0, 0.0), (0.5, 0.99)]), w0=st.floats(-10, 10))
def test_adam_first_step_size(mags, signs, lr, eps, betas, w0):
    """After one Adam step |Δθ_i| = lr |g_i| / (|g_i| + eps), against the sign of g_i."""
    g = np.array(mags) * np.array(signs[:len(mags)])
    p = Parameter(np.full(g.shape, w0))
    opt = optim.Adam([p], lr=lr, eps=eps, betas=betas)
    p.grad = g.copy()
    opt.step()
    delta = p.data - w0
    expected = lr * np.abs(g) / (np.abs(g) + eps)
    np.testing.assert_allclose(np.abs(delta), expected, rtol=1e-9, atol=1e-12 * (1 + abs(w0)))
    moved = np.abs(delta) > 1e-12 * (1 + abs(w0))
    assert np.all(np.sign(delta[moved]) == -np.sign(g[moved]))


# --------------------------------------------------------------------------- validation

def _params():
    return [Parameter(np.zeros(3))]


@pytest.mark.parametrize("make, words", [
    (lambda: optim.SGD(_params(), lr=-0.1), ["lr", "-0.1"]),
    (lambda: optim.Adam(_params(), lr=-0.5), ["lr", "-0.5"]),
    (lambda: optim.SGD(_params(), lr=0.1, momentum=-0.9), ["momentum", "-0.9"]),
    (lambda: optim.SGD(_params(), lr=0.1, weight_decay=-1.0), ["weight_decay", "-1.0"]),
    (lambda: optim.Adam(_params(), betas=(1.0, 0.999)), ["betas[0]", "1.0"]),
    (lambda: optim.Adam(_params(), betas=(0.9, 1.5)), ["betas[1]", "1.5"]),
    (lambda: optim.Adam(_params(), betas=(-0.1, 0.999)), ["betas[0]", "-0.1"]),
    (lambda: optim.Adam(_params(), betas=(0.9,)), ["betas", "(0.9,)"]),
    (lambda: optim.Adam(_params(), eps=-1e-8), ["eps", "-1e-08"]),
    (lambda: optim.SGD(_params(), lr=0.1, nesterov=True), ["nesterov", "momentum=0.0"]),
    (lambda: optim.SGD(_params(), lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
     ["nesterov", "dampening=0.1"]),
    (lambda: optim.SGD([], lr=0.1), ["SGD", "empty parameter list"]),
    (lambda: optim.Adam(iter([])), ["Adam", "empty parameter list"]),
    (lambda: optim.SGD(_params(), lr=lambda k: -0.1), ["lr", "step 0", "-0.1"]),
])
def test_bad_hyper_parameters(make, words):
    with pytest.raises(ValueError) as info:
        make()
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


def test_schedule_turning_negative_raises_at_that_step():
    p = Parameter(np.zeros(2))
    opt = optim.SGD([p], lr=lambda k: 0.5 - 0.25 * k)      # 0.5, 0.25, 0.0, -0.25
    for _ in range(2):
        p.grad = np.ones(2)
        opt.step()
    p.grad = np.ones(2)
    with pytest.raises(ValueError, match=r"lr \(the schedule's value at step 3\) >= 0, got -0.25"):
        opt.step()


def test_non_number_hyper_parameter_is_a_type_error():
    with pytest.raises(TypeError, match="SGD expected momentum to be a number, got str"):
        optim.SGD(_params(), lr=0.1, momentum="0.9")


def test_zero_grad_and_parameters_without_gradient():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.SGD([a, b], lr=0.5)
    a.grad = np.ones(2)
    opt.step()                       # b has no gradient: untouched, no error
    np.testing.assert_array_equal(a.data, [0.5, 0.5])
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])
    assert b.grad is None
    opt.zero_grad()
    assert a.grad is None


def test_mixed_backends_raise():
    p = Parameter(np.zeros(2))
    p.grad = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(TypeError, match="SGD: parameter, gradient must be on one backend"):
        optim.SGD([p], lr=0.1).step()


def test_sgd_momentum_first_step_is_the_gradient():
    """torch's rule: the momentum buffer starts as g itself (not (1 - dampening) g)."""
    p = Parameter(np.zeros(3))
    opt = optim.SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    g = np.array([1.0, -2.0, 3.0])
    p.grad = g.copy()
    opt.step()
    np.testing.assert_array_equal(p.data, -g)
    p.grad = g.copy()
    opt.step()
    np.testing.assert_allclose(p.data, -g - (0.9 * g + 0.5 * g), rtol=1e-15)
    assert math.isclose(opt.param_groups[0]["lr"], 1.0)
