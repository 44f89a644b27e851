"""vglab.optim against torch.optim, step for step, plus properties and input validation."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import backends
import vglab as vg
from vglab import optim
from vglab.nn import Parameter

try:
    import torch     # for the helpers; a test that needs torch asks for the `torch` fixture, which skips without it
except ImportError:
    torch = None


SHAPES = [(3, 4), (5,)]
STEPS = 200
NAMES = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


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


def max_error(ours, theirs):
    return max(relerr(vg.to_numpy(p.data), t.detach().numpy()) for p, t in zip(ours, theirs))


def assert_same(ours, theirs, tol=1e-12):
    for p, t in zip(ours, theirs):
        err = relerr(vg.to_numpy(p.data), t.detach().numpy())
        assert err < tol, f"parameter of shape {p.shape} differs from torch by {err:.2e}"


def assert_same_state(ours_opt, torch_opt, ours, theirs, tol=1e-12):
    """The per-parameter state has torch's names (exp_avg_sq, square_avg, sum, ...) and values."""
    for p, t in zip(ours, theirs):
        mine, reference = ours_opt.state.get(p, {}), torch_opt.state[t]
        assert set(mine) == set(reference), (sorted(mine), sorted(reference))
        for key, value in reference.items():
            if key == "step":
                assert mine[key] == int(value.item())
            else:
                assert relerr(vg.to_numpy(mine[key]), value.numpy()) < tol, key


def run_pair(ours_opt, torch_opt, ours, theirs, grads):
    for g in grads:
        feed(ours, theirs, g)
        ours_opt.step()
        torch_opt.step()
    assert_same(ours, theirs)
    assert_same_state(ours_opt, torch_opt, ours, theirs)
    return max_error(ours, theirs)


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


def adagrad_grid():
    return [dict(lr=0.1, lr_decay=decay, weight_decay=wd, initial_accumulator_value=acc, eps=eps, maximize=mx)
            for decay, wd, acc, eps, mx in itertools.product(
                [0.0, 0.01], [0.0, 0.1], [0.0, 0.5], [1e-10, 1e-2], [False, True])]


def rmsprop_grid():
    return [dict(lr=0.01, alpha=alpha, eps=eps, weight_decay=wd, momentum=mom, centered=centered, maximize=mx)
            for (alpha, eps), wd, mom, centered, mx in itertools.product(
                [(0.99, 1e-8), (0.3, 1e-2)], [0.0, 0.1], [0.0, 0.9], [False, True], [False, True])]


def adam_grid():
    return [dict(lr=0.01, betas=betas, eps=eps, weight_decay=wd, amsgrad=ams, maximize=mx)
            for betas, eps, wd, ams, mx in itertools.product(
                [(0.9, 0.999), (0.3, 0.9), (0.0, 0.5)], [1e-8, 1e-2], [0.0, 0.1], [False, True], [False, True])]


def adamw_grid():
    return [dict(lr=0.01, betas=betas, eps=eps, weight_decay=wd, amsgrad=ams, maximize=mx)
            for (betas, eps), wd, ams, mx in itertools.product(
                [((0.9, 0.999), 1e-8), ((0.5, 0.9), 1e-3)], [0.0, 1e-2, 0.5], [False, True], [False, True])]


GRIDS = {"SGD": sgd_grid(), "Adagrad": adagrad_grid(), "RMSprop": rmsprop_grid(), "Adam": adam_grid(),
         "AdamW": adamw_grid()}
CASES = [(name, hp) for name in NAMES for hp in GRIDS[name]]


def _id(case):
    name, hp = case
    return name + ":" + ",".join(f"{k}={v}" for k, v in hp.items() if k != "lr")


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_equals_torch(backend, case, torch):
    """200 steps on the same random gradients: parameters and state agree with torch to < 1e-12."""
    name, hp = case
    ours, theirs = make_params(backend)
    run_pair(getattr(optim, name)(ours, **hp), getattr(torch.optim, name)(theirs, **hp), ours, theirs,
             gradients())
    # the parameters stayed on their backend
    assert all(vg.backend.is_torch(p.data) == (backend == "torch") for p in ours)


# shapes around the block size of optim.blocks: several blocks, a short last block, rows longer
# than a block, a 0-d parameter and a transposed (not C-contiguous) one
BLOCK_SHAPES = [(optim.optimizer.BLOCK + 7,), (3 * optim.optimizer.BLOCK // 40 + 1, 40),
                (2, optim.optimizer.BLOCK + 3), (), (4, 5)]


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, hp", [("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True)),
                                      ("AdamW", dict(lr=0.01, weight_decay=0.1))])
def test_blocked_updates_equal_torch(backend, name, hp, torch):
    """Adam updates NumPy arrays block by block: any shape and layout still gives torch's numbers."""
    ours, theirs = make_params(backend, shapes=BLOCK_SHAPES)
    w = ours[-1].data                                        # the same values in column-major layout
    ours[-1].data = w.T.contiguous().T if backend == "torch" else np.asfortranarray(w)
    run_pair(getattr(optim, name)(ours, **hp), getattr(torch.optim, name)(theirs, **hp), ours, theirs,
             gradients(steps=3, shapes=BLOCK_SHAPES))


def test_grids_cover_every_option(torch):
    """Every hyper-parameter of every optimiser takes a non-default value somewhere in its grid."""
    for name in NAMES:
        t = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        defaults = getattr(optim, name)([Parameter(np.zeros(2))]).defaults
        for key, default in defaults.items():
            if key in ("lr", "decoupled_weight_decay"):
                continue
            assert any(hp[key] != default for hp in GRIDS[name]), (name, key)
        assert torch.optim.__dict__[name]([t]).defaults["lr"] == defaults["lr"]


@pytest.mark.parametrize("name", NAMES)
def test_defaults_equal_torch(name, torch):
    ours, _ = make_params("numpy")
    ours_opt = getattr(optim, name)(ours)
    t = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    torch_opt = getattr(torch.optim, name)([t])
    for key, value in ours_opt.param_groups[0].items():
        if key in ("params", "lr_schedule"):
            continue
        assert torch_opt.param_groups[0][key] == value, f"{name} default {key}"
    assert ours_opt.param_groups[0]["lr"] == {"SGD": 1e-3, "Adagrad": 1e-2, "RMSprop": 1e-2, "Adam": 1e-3,
                                               "AdamW": 1e-3}[name]


@pytest.mark.parametrize("name", NAMES)
def test_default_hyper_parameters_run_like_torch(name, torch):
    ours, theirs = make_params("numpy")
    run_pair(getattr(optim, name)(ours), getattr(torch.optim, name)(theirs), ours, theirs, gradients(50))


# --------------------------------------------------------------------------- schedules

def warmup_then_decay(k):
    """Not monotone: rises for 10 steps, then decays (a real test of the step count k)."""
    return 0.1 * min(1.0, (k + 1) / 10) * 0.98 ** k


SCHEDULED = [("SGD", dict(momentum=0.9)), ("Adagrad", dict(lr_decay=0.01)), ("RMSprop", dict(centered=True)),
             ("Adam", dict(amsgrad=True)), ("AdamW", dict(weight_decay=0.1))]


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, hp", SCHEDULED)
def test_schedule_equals_lambda_lr(backend, name, hp, torch):
    """A schedule's value is what param_groups[0]["lr"] reports before each step, as with LambdaLR."""
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


def test_schedule_in_one_group_only(torch):
    ours, theirs = make_params("numpy")
    ours_opt = optim.SGD([{"params": [ours[0]], "lr": warmup_then_decay}, {"params": [ours[1]]}], lr=0.03)
    assert ours_opt.param_groups[1]["lr_schedule"] is None
    for k, g in enumerate(gradients(20)):
        assert ours_opt.param_groups[0]["lr"] == pytest.approx(warmup_then_decay(k), rel=1e-15)
        assert ours_opt.param_groups[1]["lr"] == 0.03
        feed(ours, theirs, g)
        ours_opt.step()


# --------------------------------------------------------------------------- parameter groups

GROUPS = {
    "SGD": (dict(lr=0.01, momentum=0.5), [dict(lr=0.2, momentum=0.9, nesterov=True), dict(weight_decay=0.1)]),
    "Adagrad": (dict(lr=0.05), [dict(lr_decay=0.05, eps=1e-3), dict(lr=0.2, weight_decay=0.1, maximize=True)]),
    "RMSprop": (dict(lr=0.01, momentum=0.5), [dict(alpha=0.5, centered=True), dict(momentum=0.0, eps=1e-3)]),
    "Adam": (dict(lr=0.01), [dict(betas=(0.5, 0.9), amsgrad=True), dict(lr=0.05, eps=1e-3)]),
    "AdamW": (dict(lr=0.01), [dict(weight_decay=0.3), dict(lr=0.05, betas=(0.0, 0.5), amsgrad=True)]),
}


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_parameter_groups(backend, name, torch):
    """Each group keeps its own hyper-parameters; missing ones come from the constructor's."""
    defaults, own = GROUPS[name]
    ours, theirs = make_params(backend)

    def groups(ps):   # the second group's params a bare tensor, as torch allows
        return [{"params": [ps[0]], **own[0]}, {"params": ps[1], **own[1]}]

    ours_opt = getattr(optim, name)(groups(ours), **defaults)
    torch_opt = getattr(torch.optim, name)(groups(theirs), **defaults)
    for i in (0, 1):
        for key, value in {**defaults, **own[i]}.items():
            assert ours_opt.param_groups[i][key] == (tuple(value) if key == "betas" else value), (i, key)
    run_pair(ours_opt, torch_opt, ours, theirs, gradients())


def test_adagrad_group_initial_accumulator_value_is_the_groups():
    """vglab reads G_0 from each group (torch 2.13 uses the constructor's value for every group)."""
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 3.0}], lr=1.0,
                        initial_accumulator_value=1.0)
    a.grad, b.grad = np.full(2, 2.0), np.full(2, 2.0)
    opt.step()
    np.testing.assert_array_equal(opt.state[a]["sum"], [5.0, 5.0])
    np.testing.assert_array_equal(opt.state[b]["sum"], [7.0, 7.0])
    np.testing.assert_allclose(b.data, 1 - 2 / (np.sqrt(7.0) + 1e-10), rtol=1e-15)


# --------------------------------------------------------------------------- state dicts

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name, hp", [("SGD", dict(momentum=0.9)),
                                      ("Adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1)),
                                      ("RMSprop", dict(centered=True, momentum=0.5)),
                                      ("Adam", dict(amsgrad=True)),
                                      ("AdamW", dict(amsgrad=True, weight_decay=0.1))])
def test_state_dict_round_trip(backend, name, hp, torch):
    """Save after 100 steps, load into a fresh optimiser over copied weights: the next 100 steps agree."""
    grads = gradients()
    ours, theirs = make_params(backend)
    ours_opt = getattr(optim, name)(ours, lr=warmup_then_decay, **hp)
    torch_opt = getattr(torch.optim, name)(theirs, lr=0.1, **hp)
    sched = torch.optim.lr_scheduler.LambdaLR(torch_opt, lambda k: warmup_then_decay(k) / 0.1)
    for g in grads[:100]:
        feed(ours, theirs, g)
        ours_opt.step()
        torch_opt.step()
        sched.step()
    saved = ours_opt.state_dict()
    with vg.backend.using(backend):
        copies = [Parameter(vg.backend.asarray(vg.to_numpy(p.data).copy())) for p in ours]
    restored = getattr(optim, name)(copies, lr=1.0)          # other hyper-parameters: the defaults
    restored.load_state_dict(saved)
    assert restored.param_groups[0]["lr"] == ours_opt.param_groups[0]["lr"]
    for key, value in hp.items():
        assert restored.param_groups[0][key] == value
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


def test_saved_state_dict_does_not_change_when_training_goes_on():
    p = Parameter(np.ones(3))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    opt.step()
    saved = opt.state_dict()
    m = saved["state"][0]["exp_avg"].copy()
    for _ in range(5):
        p.grad = np.ones(3)
        opt.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], m)
    assert saved["state"][0]["step"] == 1 and saved["steps_done"] == 1
    other = optim.Adam([p], lr=0.1)            # nor when an optimiser that loaded it goes on
    other.load_state_dict(saved)
    p.grad = np.ones(3)
    other.step()
    np.testing.assert_array_equal(saved["state"][0]["exp_avg"], m)
    assert not np.array_equal(other.state[p]["exp_avg"], m)


def test_state_dict_refers_to_parameters_by_index(torch):
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
    two = optim.Adam([{"params": ours}, {"params": [Parameter(np.zeros(1))]}])
    with pytest.raises(ValueError, match="expected 2 parameters in parameter group 0, got 1"):
        two.load_state_dict(sd)


# --------------------------------------------------------------------------- properties

shapes = st.sampled_from([(1,), (4,), (2, 3)])
magnitudes = st.one_of(st.just(0.0), st.floats(1e-6, 1e6))
signs = st.lists(st.sampled_from([-1.0, 1.0]), min_size=6, max_size=6)


def first_step(opt_class, g, w0, **hp):
    p = Parameter(np.full(g.shape, w0))
    opt = opt_class([p], **hp)
    p.grad = g.copy()
    opt.step()
    return p.data - w0


@given(shape=shapes, seed=st.integers(0, 2**16), lr=st.floats(0, 10), momentum=st.sampled_from([0.0, 0.9]))
def test_zero_gradient_leaves_sgd_unchanged(shape, seed, lr, momentum):
    w = np.random.default_rng(seed).standard_normal(shape) * 100
    p = Parameter(w.copy())
    opt = optim.SGD([p], lr=lr, momentum=momentum)
    for _ in range(3):
        p.grad = np.zeros(shape)
        opt.step()
    np.testing.assert_array_equal(p.data, w)


@given(mags=st.lists(magnitudes, min_size=1, max_size=6), signs=signs, lr=st.floats(1e-4, 1.0),
       eps=st.sampled_from([1e-8, 1e-3, 1.0]), betas=st.sampled_from([(0.9, 0.999), (0.0, 0.0), (0.5, 0.99)]),
       w0=st.floats(-10, 10))
def test_adam_first_step_size(mags, signs, lr, eps, betas, w0):
    """After one Adam step |Δθ_i| = lr |g_i| / (|g_i| + eps), against the sign of g_i."""
    g = np.array(mags) * np.array(signs[:len(mags)])
    delta = first_step(optim.Adam, g, w0, lr=lr, eps=eps, betas=betas)
    expected = lr * np.abs(g) / (np.abs(g) + eps)
    np.testing.assert_allclose(np.abs(delta), expected, rtol=1e-9, atol=1e-12 * (1 + abs(w0)))
    moved = np.abs(delta) > 1e-12 * (1 + abs(w0))
    assert np.all(np.sign(delta[moved]) == -np.sign(g[moved]))


@given(mags=st.lists(magnitudes, min_size=1, max_size=6), signs=signs, lr=st.floats(1e-4, 1.0),
       eps=st.sampled_from([1e-10, 1e-3, 1.0]), w0=st.floats(-10, 10))
def test_adagrad_first_step(mags, signs, lr, eps, w0):
    """Adagrad's first step is -lr g / (|g| + eps): G_1 = g^2 already holds the current gradient."""
    g = np.array(mags) * np.array(signs[:len(mags)])
    delta = first_step(optim.Adagrad, g, w0, lr=lr, eps=eps)
    np.testing.assert_allclose(delta, -lr * g / (np.abs(g) + eps), rtol=1e-9, atol=1e-12 * (1 + abs(w0)))


@given(mags=st.lists(magnitudes, min_size=1, max_size=6), signs=signs, lr=st.floats(1e-4, 1.0),
       alpha=st.sampled_from([0.0, 0.5, 0.9, 0.99]), eps=st.sampled_from([1e-8, 1e-3, 1.0]),
       w0=st.floats(-10, 10))
def test_rmsprop_first_step(mags, signs, lr, alpha, eps, w0):
    """RMSprop's first step is -lr g / (sqrt(1 - alpha) |g| + eps), since v_1 = (1 - alpha) g^2."""
    g = np.array(mags) * np.array(signs[:len(mags)])
    delta = first_step(optim.RMSprop, g, w0, lr=lr, alpha=alpha, eps=eps)
    expected = -lr * g / (math.sqrt(1 - alpha) * np.abs(g) + eps)
    np.testing.assert_allclose(delta, expected, rtol=1e-9, atol=1e-12 * (1 + abs(w0)))


@given(shape=shapes, seed=st.integers(0, 2**16), lr=st.floats(1e-4, 1.0), wd=st.floats(0, 1),
       eps=st.sampled_from([1e-8, 1e-3]), amsgrad=st.booleans(), steps=st.integers(1, 5))
def test_adamw_zero_gradient_only_decays(shape, seed, lr, wd, eps, amsgrad, steps):
    """With g = 0, AdamW multiplies the parameter by exactly (1 - lr wd) per step and does nothing else."""
    w = np.random.default_rng(seed).standard_normal(shape)
    p = Parameter(w.copy())
    opt = optim.AdamW([p], lr=lr, weight_decay=wd, eps=eps, amsgrad=amsgrad)
    expected = w.copy()
    for _ in range(steps):
        p.grad = np.zeros(shape)
        opt.step()
        expected = expected * (1 - lr * wd)
    np.testing.assert_array_equal(p.data, expected)


@given(power=st.integers(-20, 20), seed=st.integers(0, 2**16),
       name_hp=st.sampled_from([("Adagrad", {}), ("RMSprop", dict(centered=True)), ("RMSprop", dict(momentum=0.9)),
                                ("Adam", {}), ("Adam", dict(amsgrad=True))]))
def test_adaptive_steps_ignore_the_gradient_scale(power, seed, name_hp):
    """With eps = 0, scaling every gradient by 2**k leaves the trajectory bitwise unchanged.

    This is the per-parameter scaling: a layer whose gradients are 2**-20 times smaller moves as far.
    (A power of two keeps the scaling exact in floating point.)
    """
    name, hp = name_hp
    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((10, 4))
    runs = []
    for scale in (1.0, 2.0 ** power):
        p = Parameter(np.zeros(4))
        opt = getattr(optim, name)([p], lr=0.1, eps=0.0, **hp)
        for g in grads:
            p.grad = scale * g
            opt.step()
        runs.append(p.data)
    np.testing.assert_array_equal(runs[0], runs[1])


@given(g=st.floats(1e-4, 1e4), lr=st.floats(1e-3, 1.0), steps=st.integers(2, 40))
def test_adagrad_step_shrinks_like_one_over_sqrt_t(g, lr, steps):
    """A constant gradient: Adagrad's t-th step is lr / sqrt(t) (eps = 0), RMSprop's approaches lr."""
    p, q = Parameter(np.zeros(1)), Parameter(np.zeros(1))
    adagrad, rmsprop = optim.Adagrad([p], lr=lr, eps=0.0), optim.RMSprop([q], lr=lr, alpha=0.5, eps=0.0)
    for t in range(1, steps + 1):
        before_p, before_q = float(p.data[0]), float(q.data[0])
        p.grad, q.grad = np.array([g]), np.array([g])
        adagrad.step()
        rmsprop.step()
        assert before_p - float(p.data[0]) == pytest.approx(lr / math.sqrt(t), rel=1e-12)
        assert before_q - float(q.data[0]) == pytest.approx(lr / math.sqrt(1 - 0.5 ** t), rel=1e-12)


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
    (lambda: optim.Adagrad(_params(), lr=-1.0), ["Adagrad", "lr >= 0", "-1.0"]),
    (lambda: optim.Adagrad(_params(), lr_decay=-0.1), ["Adagrad", "lr_decay >= 0", "-0.1"]),
    (lambda: optim.Adagrad(_params(), weight_decay=-0.1), ["Adagrad", "weight_decay >= 0", "-0.1"]),
    (lambda: optim.Adagrad(_params(), initial_accumulator_value=-1), ["initial_accumulator_value >= 0", "-1"]),
    (lambda: optim.Adagrad(_params(), eps=-1e-10), ["Adagrad", "eps >= 0", "-1e-10"]),
    (lambda: optim.RMSprop(_params(), alpha=1.5), ["RMSprop", "alpha <= 1", "1.5"]),
    (lambda: optim.RMSprop(_params(), alpha=-0.5), ["RMSprop", "alpha >= 0", "-0.5"]),
    (lambda: optim.RMSprop(_params(), eps=-1.0), ["RMSprop", "eps >= 0", "-1.0"]),
    (lambda: optim.RMSprop(_params(), momentum=-0.9), ["RMSprop", "momentum >= 0", "-0.9"]),
    (lambda: optim.RMSprop(_params(), weight_decay=-0.1), ["RMSprop", "weight_decay >= 0", "-0.1"]),
    (lambda: optim.AdamW(_params(), weight_decay=-0.01), ["AdamW", "weight_decay >= 0", "-0.01"]),
    (lambda: optim.AdamW(_params(), betas=(0.9, 1.0)), ["AdamW", "betas[1] < 1", "1.0"]),
    (lambda: optim.AdamW(_params(), lr=float("nan")), ["AdamW", "finite lr", "nan"]),
    (lambda: optim.RMSprop([{"params": _params(), "alpha": 2.0}]), ["RMSprop", "alpha <= 1", "2.0"]),
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


@pytest.mark.parametrize("make, message", [
    (lambda: optim.SGD(_params(), lr=0.1, momentum="0.9"), "SGD expected momentum to be a number, got str"),
    (lambda: optim.RMSprop(_params(), centered="yes"), "RMSprop expected centered to be True or False, got 'yes'"),
    (lambda: optim.Adam(_params(), amsgrad=1), "Adam expected amsgrad to be True or False, got 1"),
    (lambda: optim.Adagrad(_params(), maximize=None), "Adagrad expected maximize to be True or False, got None"),
])
def test_non_number_hyper_parameter_is_a_type_error(make, message):
    with pytest.raises(TypeError, match=message):
        make()


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


def test_mixed_backends_raise(torch):
    p = Parameter(np.zeros(2))
    p.grad = torch.zeros(2, dtype=torch.float64)
    with pytest.raises(TypeError, match="SGD: parameter, gradient must be on one backend"):
        optim.SGD([p], lr=0.1).step()


def test_gradient_of_the_wrong_shape_or_dtype_raises():
    p = Parameter(np.zeros((2, 3)))
    opt = optim.RMSprop([p])
    p.grad = np.zeros(3)
    with pytest.raises(ValueError, match=r"RMSprop expected the gradient of shape \(2, 3\), got \(3,\)"):
        opt.step()
    p.grad = np.zeros((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match=r"expected the gradient of dtype float64 \(the parameter's dtype\), got float32"):
        opt.step()


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


def test_momentum_buffer_is_not_the_gradient_array():
    """Changing p.grad in place after a step must not change the optimiser's state."""
    p = Parameter(np.zeros(2))
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    p.grad += 5.0
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1.0, 1.0])


# ----------------------------------------------------------------- a parameter twice, loaded groups

def test_the_same_parameter_twice_is_refused():
    lin = vg.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"SGD got the same parameter twice \(shape \(2, 2\), position 2"):
        vg.optim.SGD([lin.weight, lin.bias, lin.weight], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam got the same parameter twice \(shape \(2,\), position 0"):
        vg.optim.Adam([{"params": [lin.weight, lin.bias]}, {"params": [lin.bias], "lr": 0.1}])


def test_load_state_dict_checks_the_groups_it_loads():
    lin = vg.nn.Linear(2, 2)
    opt = vg.optim.SGD(lin.parameters(), lr=0.1, momentum=0.9)
    state = opt.state_dict()
    state["param_groups"][0]["lr"] = -0.5
    with pytest.raises(ValueError, match=r"SGD expected lr >= 0, got -0.5"):
        opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.1  # unchanged by the refused load
    state["param_groups"][0]["lr"] = 0.05
    opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.05
