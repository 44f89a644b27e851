"""vglab.schedules against torch.optim.lr_scheduler step for step, plus properties and input validation.

PyTorch computes most schedulers recursively (the previous rate times a factor), vglab from the
closed form, so they agree to rounding: every comparison runs 3 * T steps (T the schedule's time
scale) and asserts a relative difference below 1e-13 at every single step.
"""

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from conftest import backends
import vglab as vg
from vglab import schedules as S
from vglab.nn import Parameter

T = 100
TOL = 1e-13


def torch_rates(torch, make_scheduler, lr, steps):
    """The rate torch's SGD uses at each of ``steps`` steps of an ``opt.step(); sched.step()`` loop."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make_scheduler(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(rates)


def relerr_per_step(ours, ref):
    """max over steps of |ours - ref| / |ref| (where ref is 0, ours must be exactly 0)."""
    ours, ref = np.asarray(ours, dtype=float), np.asarray(ref, dtype=float)
    zero = ref == 0
    assert np.all(ours[zero] == 0), f"torch's rate is 0 at steps {np.flatnonzero(zero)}, ours is not"
    return float(np.max(np.abs(ours - ref)[~zero] / np.abs(ref[~zero])))


def cosine_ref(t, T, lr0, eta_min=0.0):
    return eta_min + (lr0 - eta_min) * (1 + math.cos(math.pi * min(t, T) / T)) / 2


# (id, vglab schedule, torch scheduler factory, base lr of the torch optimiser, steps compared)
def torch_cases():
    L = pytest.importorskip("torch").optim.lr_scheduler
    return [
        ("StepLR", S.step_decay(0.1, 30), lambda o: L.StepLR(o, step_size=30), 0.1, 3 * T),
        ("StepLR-gamma0.5", S.step_decay(0.1, 7, gamma=0.5), lambda o: L.StepLR(o, 7, gamma=0.5), 0.1, 3 * T),
        ("ExponentialLR", S.exponential_decay(0.1, 0.97), lambda o: L.ExponentialLR(o, 0.97), 0.1, 3 * T),
        ("PolynomialLR-p1", S.polynomial_decay(0.1, T), lambda o: L.PolynomialLR(o, T), 0.1, 3 * T),
        ("PolynomialLR-p2", S.polynomial_decay(0.1, T, power=2.0),
         lambda o: L.PolynomialLR(o, T, power=2.0), 0.1, 3 * T),
        ("PolynomialLR-p0.5", S.polynomial_decay(0.1, T, power=0.5),
         lambda o: L.PolynomialLR(o, T, power=0.5), 0.1, 3 * T),
        ("LinearLR-decay", S.linear_decay(0.1, T), lambda o: L.LinearLR(o, 1.0, 0.0, T), 0.1, 3 * T),
        ("LinearLR-0.25-0.5", S.linear_decay(0.1, T, start_factor=0.25, end_factor=0.5),
         lambda o: L.LinearLR(o, 0.25, 0.5, T), 0.1, 3 * T),
        ("LinearLR-warm", S.linear_decay(0.1, T, start_factor=0.1, end_factor=1.0),
         lambda o: L.LinearLR(o, 0.1, 1.0, T), 0.1, 3 * T),
        ("CosineAnnealingLR", S.cosine_decay(0.1, T), lambda o: L.CosineAnnealingLR(o, T), 0.1, T + 1),
        ("CosineAnnealingLR-eta_min", S.cosine_decay(0.1, T, eta_min=0.01),
         lambda o: L.CosineAnnealingLR(o, T, eta_min=0.01), 0.1, T + 1),
        ("InverseTime-LambdaLR", S.inverse_time_decay(0.1, 20),
         lambda o: L.LambdaLR(o, lambda t: 1 / (1 + t / 20)), 0.1, 3 * T),
        ("InverseTime-rate0.5", S.inverse_time_decay(0.1, 20, decay_rate=0.5),
         lambda o: L.LambdaLR(o, lambda t: 1 / (1 + 0.5 * t / 20)), 0.1, 3 * T),
        ("ExponentialDecay-T20-LambdaLR", S.exponential_decay(0.1, 0.5, decay_steps=20),
         lambda o: L.LambdaLR(o, lambda t: 0.5 ** (t / 20)), 0.1, 3 * T),
        ("OneCycleLR", S.one_cycle(0.1, T),
         lambda o: L.OneCycleLR(o, 0.1, total_steps=T, cycle_momentum=False), 0.1, T),
        ("OneCycleLR-linear", S.one_cycle(0.1, T, anneal_strategy="linear"),
         lambda o: L.OneCycleLR(o, 0.1, total_steps=T, anneal_strategy="linear", cycle_momentum=False), 0.1, T),
        ("OneCycleLR-three_phase", S.one_cycle(0.1, T, three_phase=True),
         lambda o: L.OneCycleLR(o, 0.1, total_steps=T, three_phase=True, cycle_momentum=False), 0.1, T),
        ("OneCycleLR-three_phase-linear", S.one_cycle(0.3, 57, pct_start=0.25, anneal_strategy="linear",
                                                      div_factor=10.0, final_div_factor=100.0, three_phase=True),
         lambda o: L.OneCycleLR(o, 0.3, total_steps=57, pct_start=0.25, anneal_strategy="linear",
                                div_factor=10.0, final_div_factor=100.0, three_phase=True,
                                cycle_momentum=False), 0.3, 57),
        ("Warmup0-cosine-LambdaLR", S.warmup(S.cosine_decay(0.1, T), 10),
         lambda o: L.LambdaLR(o, lambda t: min(t / 10, 1.0) * cosine_ref(t, T, 1.0)), 0.1, 3 * T),
        ("Warmup0-step-LambdaLR", S.warmup(S.step_decay(0.1, 30), 5),
         lambda o: L.LambdaLR(o, lambda t: min(t / 5, 1.0) * 0.1 ** (t // 30)), 0.1, 3 * T),
        ("Warmup0.1-exponential-Chained", S.warmup(S.exponential_decay(0.1, 0.97), 10, start_factor=0.1),
         lambda o: L.ChainedScheduler([L.LinearLR(o, 0.1, 1.0, 10), L.ExponentialLR(o, 0.97)]), 0.1, 3 * T),
    ]


CASE_IDS = ["StepLR", "StepLR-gamma0.5", "ExponentialLR", "PolynomialLR-p1", "PolynomialLR-p2", "PolynomialLR-p0.5",
            "LinearLR-decay", "LinearLR-0.25-0.5", "LinearLR-warm", "CosineAnnealingLR", "CosineAnnealingLR-eta_min",
            "InverseTime-LambdaLR", "InverseTime-rate0.5", "ExponentialDecay-T20-LambdaLR", "OneCycleLR",
            "OneCycleLR-linear", "OneCycleLR-three_phase", "OneCycleLR-three_phase-linear",
            "Warmup0-cosine-LambdaLR", "Warmup0-step-LambdaLR", "Warmup0.1-exponential-Chained"]


def case(case_id):
    return next(c for c in torch_cases() if c[0] == case_id)


# --------------------------------------------------------------------------- agreement with torch

def test_every_case_is_listed():
    assert [c[0] for c in torch_cases()] == CASE_IDS


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_equals_torch_scheduler_step_for_step(case_id, torch):
    _, schedule, make, lr, steps = case(case_id)
    ref = torch_rates(torch, make, lr, steps)
    ours = np.array([schedule(k) for k in range(steps)])
    assert len(set(ref.tolist())) > 2, "the torch schedule should actually change the rate"
    err = relerr_per_step(ours, ref)
    assert err < TOL, f"{case_id}: largest relative difference from torch {err:.2e}"


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("case_id", ["StepLR", "ExponentialLR", "PolynomialLR-p2", "LinearLR-warm",
                                     "CosineAnnealingLR-eta_min", "OneCycleLR-three_phase",
                                     "Warmup0-cosine-LambdaLR", "Warmup0.1-exponential-Chained"])
def test_as_lr_of_sgd_matches_torch_sgd_with_scheduler(case_id, backend, torch):
    """vg.optim.SGD(lr=schedule) reports and uses the same rate as torch's opt.step(); sched.step() loop."""
    _, schedule, make, lr, steps = case(case_id)
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2))
    with vg.backend.using(backend):
        p = Parameter(vg.backend.asarray(w0.copy()))
    t = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    ours = vg.optim.SGD([p], lr=schedule, momentum=0.9)
    theirs = torch.optim.SGD([t], lr=lr, momentum=0.9)
    sched = make(theirs)
    for k in range(steps):
        got, want = ours.param_groups[0]["lr"], theirs.param_groups[0]["lr"]
        assert isinstance(got, float)
        assert abs(got - want) <= TOL * abs(want), f"step {k}: lr {got!r} != torch's {want!r}"
        g = rng.standard_normal((3, 2))
        p.grad = vg.backend.asarray(g.copy(), like=p.data)
        t.grad = torch.tensor(g.copy(), dtype=torch.float64)
        ours.step()
        theirs.step()
        sched.step()
    assert ours.param_groups[0]["lr_schedule"] is schedule
    err = np.max(np.abs(vg.to_numpy(p.data) - t.detach().numpy())) / np.max(np.abs(t.detach().numpy()))
    assert err < 1e-12


def test_linear_decay_equals_polynomial_power_one_in_torch_too(torch):
    """LinearLR(1, 0, T) and PolynomialLR(T, power=1) are the same schedule, as are ours."""
    L = torch.optim.lr_scheduler
    lin = torch_rates(torch, lambda o: L.LinearLR(o, 1.0, 0.0, T), 0.1, 2 * T)
    poly = torch_rates(torch, lambda o: L.PolynomialLR(o, T, power=1.0), 0.1, 2 * T)
    assert relerr_per_step(lin, poly) < TOL
    ours_lin = [S.linear_decay(0.1, T)(k) for k in range(2 * T)]
    ours_poly = [S.polynomial_decay(0.1, T)(k) for k in range(2 * T)]
    assert relerr_per_step(ours_lin, ours_poly) < 1e-15


def test_cosine_after_total_steps_stays_at_eta_min_unlike_torch(torch):
    """torch's CosineAnnealingLR follows the cosine back up after T_max; vglab holds eta_min."""
    ref = torch_rates(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T, eta_min=0.01), 0.1, 3 * T)
    ours = np.array([S.cosine_decay(0.1, T, eta_min=0.01)(k) for k in range(3 * T)])
    assert np.all(ours[T:] == 0.01)
    assert ref[T] == pytest.approx(0.01, abs=1e-15)
    assert ref[2 * T] == pytest.approx(0.1, rel=1e-12)          # back at lr0: periodic, period 2T
    assert np.all(np.diff(ref[T:2 * T + 1]) > 0)


def test_one_cycle_holds_its_final_rate_where_torch_stops(torch):
    """torch refuses to step past total_steps; vglab holds the final rate max_lr / (div * final_div)."""
    schedule = S.one_cycle(0.1, T)
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=T, cycle_momentum=False)
    for _ in range(T):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="Tried to step"):
        sched.step()
    final = 0.1 / 25.0 / 1e4
    assert [schedule(k) for k in (T - 1, T, T + 1, 10 * T)] == [final] * 4


# --------------------------------------------------------------------------- closed forms, no torch

def test_inverse_time_values_of_the_chapter():
    """lr0 / (1 + t/T) with T = 20: 0.1, 0.1/1.95, 0.05, 0.1/2.05, 0.1/3 at t = 0, T-1, T, T+1, 2T."""
    lr = S.inverse_time_decay(0.1, 20)
    got = [lr(t) for t in (0, 19, 20, 21, 40)]
    np.testing.assert_allclose(got, [0.1, 0.1 / 1.95, 0.05, 0.1 / 2.05, 0.1 / 3], rtol=1e-15)


def test_step_decay_equals_the_fixed_epoch_function():
    def step_decay(epoch):                   # the usual hand-written version: 0.1, halved every 10 epochs
        return 0.1 * 0.5 ** (epoch // 10)
    lr = S.step_decay(0.1, 10, gamma=0.5)
    assert [lr(e) for e in range(50)] == [step_decay(e) for e in range(50)]


def test_polynomial_reaches_end_lr_exactly_and_the_unclamped_formula_would_rise_again():
    lr = S.polynomial_decay(0.1, 20, power=2.0)
    assert lr(20) == 0.0 and lr(40) == 0.0
    assert 0.1 * (1 - 40 / 20) ** 2 == pytest.approx(0.1)       # why the clamp is needed
    assert S.polynomial_decay(0.1, 20, power=2.0, end_lr=0.01)(25) == 0.01


def test_one_cycle_shape():
    lr = S.one_cycle(0.1, 100)                                  # warm-up ends at step 0.3 * 100 - 1 = 29
    rates = np.array([lr(k) for k in range(100)])
    assert rates[0] == pytest.approx(0.1 / 25, rel=1e-15)
    assert rates[29] == pytest.approx(0.1, rel=1e-15) and rates.max() == rates[29]
    assert np.all(np.diff(rates[:30]) > 0) and np.all(np.diff(rates[29:]) < 0)
    assert rates[-1] == pytest.approx(0.1 / 25 / 1e4, rel=1e-15)
    three = np.array([S.one_cycle(0.1, 100, three_phase=True)(k) for k in range(100)])
    assert three[58] == pytest.approx(0.1 / 25, rel=1e-12)      # back at the start at 2 * 30 - 2
    np.testing.assert_allclose(three[:30], three[58:28:-1], rtol=1e-12)   # symmetric up and down


def test_warmup_of_zero_steps_is_the_schedule_itself():
    base = S.cosine_decay(0.1, 50)
    assert [S.warmup(base, 0)(k) for k in range(60)] == [base(k) for k in range(60)]


def test_schedules_are_immutable_values_with_readable_reprs():
    lr = S.cosine_decay(0.1, 100)
    with pytest.raises(dataclasses.FrozenInstanceError):
        lr.lr0 = 1.0
    assert repr(lr) == "CosineDecay(lr0=0.1, total_steps=100, eta_min=0.0)"
    assert lr == S.cosine_decay(0.1, 100) and hash(lr) == hash(S.cosine_decay(0.1, 100))
    assert lr != S.cosine_decay(0.1, 101)
    assert repr(S.step_decay(0.1, 10, 0.5)) == "StepDecay(lr0=0.1, step_size=10, gamma=0.5)"
    assert repr(S.warmup(S.step_decay(0.1, 10), 5)) == \
        "Warmup(schedule=StepDecay(lr0=0.1, step_size=10, gamma=0.1), warmup_steps=5, start_factor=0.0)"
    assert repr(S.one_cycle(1.0, 10)) == ("OneCycle(max_lr=1.0, total_steps=10, pct_start=0.3, anneal_strategy='cos', "
                                          "div_factor=25.0, final_div_factor=10000.0, three_phase=False)")
    w = S.warmup(lr, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.warmup_steps = 0


def test_a_schedule_returns_python_floats():
    for k in (0, np.int64(7), 250):
        assert type(S.exponential_decay(0.1, 0.9)(k)) is float
        assert type(S.step_decay(1, 10)(k)) is float


# --------------------------------------------------------------------------- properties

lr0s = st.floats(1e-4, 10.0)
steps = st.integers(1, 300)
fractions = st.floats(0.0, 1.0)


def rates(schedule, n):
    return np.array([schedule(k) for k in range(n)])


def decays():
    return st.one_of(
        st.builds(S.step_decay, lr0s, steps, st.floats(0.01, 1.0)),
        st.builds(S.exponential_decay, lr0s, st.floats(0.5, 1.0), st.floats(0.5, 50.0)),
        st.builds(S.polynomial_decay, lr0s, steps, st.floats(0.01, 5.0)),
        st.builds(S.inverse_time_decay, lr0s, st.floats(0.5, 100.0), st.floats(0.0, 5.0)),
        st.builds(S.linear_decay, lr0s, steps, st.just(1.0), fractions),
        st.builds(S.cosine_decay, lr0s, steps),
    )


@given(decays())
def test_decays_are_monotone_non_increasing_and_within_zero_and_lr0(schedule):
    r = rates(schedule, 400)
    assert np.all(np.diff(r) <= 0)
    assert r[0] == schedule.lr0
    assert np.all(r >= 0) and np.all(r <= schedule.lr0)


@given(lr0s, steps, st.floats(0.01, 5.0), fractions)
def test_polynomial_stays_between_end_lr_and_lr0_and_lands_on_end_lr(lr0, total, power, end_fraction):
    schedule = S.polynomial_decay(lr0, total, power, end_lr=end_fraction * lr0)
    r = rates(schedule, 2 * total + 1)
    assert np.all(r >= schedule.end_lr) and np.all(r <= lr0 * (1 + 1e-15))
    assert np.all(r[total:] == r[total])
    assert r[total] == pytest.approx(schedule.end_lr, rel=1e-15, abs=0)


@given(lr0s, steps, fractions)
def test_cosine_is_symmetric_about_its_midpoint_and_within_eta_min_and_lr0(lr0, total, eta_fraction):
    eta_min = eta_fraction * lr0
    lr = S.cosine_decay(lr0, total, eta_min)
    r = rates(lr, total + 1)
    assert np.all(r >= eta_min) and np.all(r <= lr0 * (1 + 1e-15))     # lr(0) = eta_min + (lr0 - eta_min)
    np.testing.assert_allclose(r + r[::-1], lr0 + eta_min, rtol=1e-14)   # lr(k) + lr(T - k)
    assert lr(total) == pytest.approx(eta_min, rel=1e-15, abs=1e-300) and lr(3 * total) == lr(total)


@given(lr0s, steps, st.floats(0.01, 1.0))
def test_step_decay_is_constant_between_drops_and_drops_by_gamma(lr0, size, gamma):
    lr = S.step_decay(lr0, size, gamma)
    for block in range(3):
        start = block * size
        assert {lr(start + i) for i in range(size)} == {lr(start)}
        assert lr(start + size) == pytest.approx(gamma * lr(start), rel=1e-14)


@given(lr0s, st.floats(0.5, 1.0), st.floats(0.5, 50.0))
def test_exponential_has_a_constant_ratio_and_never_reaches_zero(lr0, gamma, decay_steps):
    r = rates(S.exponential_decay(lr0, gamma, decay_steps), 200)
    np.testing.assert_allclose(r[1:] / r[:-1], gamma ** (1 / decay_steps), rtol=1e-12)
    assert np.all(r > 0)


@given(lr0s, st.floats(0.5, 100.0), st.floats(0.0, 5.0))
def test_inverse_time_reciprocal_grows_linearly(lr0, decay_steps, rate):
    r = rates(S.inverse_time_decay(lr0, decay_steps, rate), 200)
    np.testing.assert_allclose(1 / r, (1 + rate * np.arange(200) / decay_steps) / lr0, rtol=1e-14)


@given(lr0s, steps, fractions, fractions)
def test_linear_decay_moves_by_equal_steps_between_its_factors(lr0, total, a, b):
    r = rates(S.linear_decay(lr0, total, a, b), total + 5)
    assert np.all(r >= 0)                                     # a negative rate would stop the optimiser
    np.testing.assert_allclose(np.diff(r[:total + 1]), lr0 * (b - a) / total, rtol=1e-9, atol=4e-15 * lr0)
    assert r[0] == pytest.approx(a * lr0, rel=1e-15, abs=1e-300)
    assert np.all(r[total:] == r[total]) and r[total] == pytest.approx(b * lr0, rel=1e-14, abs=4e-16 * lr0)


@given(lr0s, st.integers(20, 300), st.floats(0.1, 0.9), st.sampled_from(["cos", "linear"]), st.booleans())
def test_one_cycle_stays_within_its_floor_and_max_lr(max_lr, total, pct, strategy, three):
    if three and 2 * pct * total - 2 >= total - 1:
        pct = 0.4
    lr = S.one_cycle(max_lr, total, pct, strategy, three_phase=three)
    r = rates(lr, total + 3)
    floor = max_lr / 25 / 1e4
    # The linear anneal ends at (b - a) * 1 + a, as torch computes it: b up to rounding relative to max_lr.
    assert np.all(r >= floor - 1e-15 * max_lr) and np.all(r <= max_lr * (1 + 1e-15))
    assert r[0] == pytest.approx(max_lr / 25, rel=1e-14)
    assert np.all(r[total - 1:] == r[total - 1]) and r[-1] == pytest.approx(floor, abs=1e-15 * max_lr)


@given(decays(), st.integers(0, 100), fractions)
def test_warmup_ramps_linearly_then_is_the_wrapped_schedule(schedule, w, a):
    warmed = S.warmup(schedule, w, a)
    for k in range(w, w + 50):
        assert warmed(k) == schedule(k)
    for k in range(w):
        factor = a + (1 - a) * k / w
        assert warmed(k) == pytest.approx(factor * schedule(k), rel=1e-14, abs=1e-300)
        assert warmed(k) <= schedule(k)


# --------------------------------------------------------------------------- bad arguments

BAD = [
    (lambda: S.step_decay(-0.1, 10), ValueError, r"step_decay expected lr0 >= 0, got -0.1"),
    (lambda: S.step_decay(0.1, 0), ValueError, r"step_decay expected step_size >= 1, got 0"),
    (lambda: S.step_decay(0.1, 2.5), TypeError, r"step_decay expected step_size to be an integer, got 2.5"),
    (lambda: S.step_decay(0.1, 10, gamma=0.0), ValueError, r"step_decay expected gamma > 0, got 0.0"),
    (lambda: S.step_decay(0.1, 10, gamma=1.5), ValueError, r"step_decay expected gamma <= 1, got 1.5"),
    (lambda: S.exponential_decay(0.1, gamma=-0.5), ValueError, r"exponential_decay expected gamma > 0"),
    (lambda: S.exponential_decay(0.1, 0.9, decay_steps=0), ValueError,
     r"exponential_decay expected decay_steps > 0, got 0"),
    (lambda: S.polynomial_decay(0.1, 0), ValueError, r"polynomial_decay expected total_steps >= 1, got 0"),
    (lambda: S.polynomial_decay(0.1, 10, power=-1.0), ValueError, r"polynomial_decay expected power > 0, got -1.0"),
    (lambda: S.polynomial_decay(0.1, 10, power=0), ValueError, r"polynomial_decay expected power > 0, got 0"),
    (lambda: S.polynomial_decay(0.1, 10, end_lr=0.2), ValueError, r"polynomial_decay expected end_lr <= 0.1, got 0.2"),
    (lambda: S.inverse_time_decay(0.1, decay_steps=0), ValueError, r"inverse_time_decay expected decay_steps > 0"),
    (lambda: S.inverse_time_decay(0.1, 10, decay_rate=-1), ValueError,
     r"inverse_time_decay expected decay_rate >= 0, got -1"),
    (lambda: S.linear_decay(0.1, 0), ValueError, r"linear_decay expected total_steps >= 1, got 0"),
    (lambda: S.linear_decay(0.1, 10, start_factor=2.0), ValueError, r"linear_decay expected start_factor <= 1"),
    (lambda: S.linear_decay(0.1, 10, end_factor=-0.5), ValueError, r"linear_decay expected end_factor >= 0"),
    (lambda: S.cosine_decay(float("nan"), 10), ValueError, r"cosine_decay expected a finite lr0, got nan"),
    (lambda: S.cosine_decay(0.1, -5), ValueError, r"cosine_decay expected total_steps >= 1, got -5"),
    (lambda: S.cosine_decay(0.1, 10, eta_min=1.0), ValueError, r"cosine_decay expected eta_min <= 0.1, got 1.0"),
    (lambda: S.cosine_decay("0.1", 10), TypeError, r"cosine_decay expected lr0 to be a number, got str"),
    (lambda: S.one_cycle(-1.0, 100), ValueError, r"one_cycle expected max_lr >= 0, got -1.0"),
    (lambda: S.one_cycle(0.1, 0), ValueError, r"one_cycle expected total_steps >= 1, got 0"),
    (lambda: S.one_cycle(0.1, 100, pct_start=1.5), ValueError, r"one_cycle expected pct_start <= 1, got 1.5"),
    (lambda: S.one_cycle(0.1, 100, anneal_strategy="exp"), ValueError,
     r"one_cycle expected anneal_strategy to be one of 'cos', 'linear', got 'exp'"),
    (lambda: S.one_cycle(0.1, 100, div_factor=0), ValueError, r"one_cycle expected div_factor > 0, got 0"),
    (lambda: S.one_cycle(0.1, 5, pct_start=0.1), ValueError,
     r"one_cycle expected every phase to last at least one step, got phases ending at steps \[-0.5, 4\]"),
    (lambda: S.one_cycle(0.1, 100, pct_start=0.6, three_phase=True), ValueError,
     r"one_cycle expected every phase to last at least one step"),
    (lambda: S.warmup(S.cosine_decay(0.1, 10), -1), ValueError, r"warmup expected warmup_steps >= 0, got -1"),
    (lambda: S.warmup(S.cosine_decay(0.1, 10), 5, start_factor=1.5), ValueError,
     r"warmup expected start_factor <= 1, got 1.5"),
    (lambda: S.warmup(0.1, 5), TypeError,
     r"warmup expected schedule to be a schedule \(a callable lr\(k\)\), got float"),
    (lambda: S.cosine_decay(0.1, 10)(-1), ValueError, r"CosineDecay expected k \(the number of completed steps\) >= 0"),
    (lambda: S.cosine_decay(0.1, 10)(1.5), TypeError,
     r"CosineDecay expected k \(the number of completed steps\) to be an integer, got 1.5"),
]


@pytest.mark.parametrize("make, exc, message", BAD, ids=[m[:45] for _, _, m in BAD])
def test_bad_arguments_raise_naming_the_argument(make, exc, message):
    with pytest.raises(exc, match=message):
        make()


def test_boundary_arguments_are_accepted():
    assert S.step_decay(0.0, 1, gamma=1.0)(5) == 0.0          # lr0 = 0 and gamma = 1 are allowed
    assert S.polynomial_decay(0.1, 10, power=1e-3)(10) == 0.0  # any positive power lands on end_lr
    assert S.linear_decay(0.1, 10, 0.0, 1.0)(0) == 0.0        # a warm-up from 0 (LinearLR cannot)
    assert S.one_cycle(0.1, 2, pct_start=0.9)(0) == pytest.approx(0.1 / 25)
