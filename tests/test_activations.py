"""Every activation (nn/activations.py and nn/rectifiers.py): gradient checks, agreement with
torch.nn, behaviour at 0 and at |z| = 1e3, properties, bad input, interop and models.ACTIVATIONS."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import vglab as vg
from vglab import nn
from vglab.gradcheck import check_module, rel_error
from conftest import assert_linear_in_upstream, backends, on, randn

NAMES = ["Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "ELU", "GELU", "Softplus"]
# Constructor calls, evaluated with ``nn`` bound to vglab.nn or to torch.nn: defaults and other values.
SPECS = NAMES + ["LeakyReLU(negative_slope=0.2)", "LeakyReLU(-0.5)", "PReLU(num_parameters=4, init=-0.3)",
                 "ELU(alpha=0.5)", "ELU(2.0)", "GELU(approximate='tanh')", "Softplus(beta=2, threshold=5)",
                 "Softplus(beta=-0.5)"]
PARAMETER_FREE = [n for n in NAMES if n != "PReLU"]


def make(spec, namespace, backend="numpy"):
    """The module that ``spec`` ("ELU(alpha=0.5)" or just "ELU") builds from ``namespace`` (vglab.nn or
    torch.nn); a vglab module's parameters (PReLU's slopes) go to ``backend``."""
    call = spec if "(" in spec else spec + "()"
    module = eval("nn." + call, {"nn": namespace})  # the specs are the literals above
    if namespace is nn:
        if backend == "torch":
            pytest.importorskip("torch")
        return module.to(backend)
    module.double()
    if isinstance(module, namespace.PReLU):   # its float32 weight, widened, is not init in float64
        module.weight.data.fill_(module.init)
    return module


def away_from_zero(backend, *shape, seed=0):
    """O(1) draws with |x| >= 0.1, so central differences never straddle ReLU's kink."""
    x = np.random.default_rng(seed).standard_normal(shape)
    return on(backend, np.sign(x) * (0.1 + np.abs(x)))


def run_torch(torch, module, x_np, g_np):
    """(output, dL/dx, {parameter name: grad}) of a torch module for upstream gradient g."""
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = module(x_t)
    y_t.backward(torch.tensor(g_np))
    return y_t.detach(), x_t.grad, {n: p.grad for n, p in module.named_parameters()}


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec", SPECS)
def test_gradcheck(backend, spec):
    """Every activation and hyper-parameter; PReLU's slopes are checked as a parameter."""
    module = make(spec.replace("num_parameters=4", "num_parameters=5"), nn, backend)
    report = check_module(module, away_from_zero(backend, 6, 5, seed=1))
    assert report.max_error < 1e-7, report
    assert set(report.errors) == {"input0"} | ({"weight"} if isinstance(module, nn.PReLU) else set())


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_gradcheck_per_channel(backend, shape, num_parameters):
    prelu = nn.PReLU(num_parameters)
    prelu.weight.data = on(backend, np.array([0.3, -0.2, 1.5][:num_parameters]))
    report = check_module(prelu, away_from_zero(backend, *shape, seed=3))
    assert report.max_error < 1e-7, report


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec", SPECS)
def test_matches_torch(backend, spec, torch):
    x_np = 3 * np.random.default_rng(1).standard_normal((7, 4))
    g_np = np.random.default_rng(2).standard_normal((7, 4))
    act, ref = make(spec, nn, backend), make(spec, torch.nn)
    y = act(on(backend, x_np))
    dx = act.backward(on(backend, g_np))
    y_t, dx_t, grads_t = run_torch(torch, ref, x_np, g_np)
    assert rel_error(y, y_t) < 1e-10
    assert rel_error(dx, dx_t) < 1e-10
    assert repr(act) == repr(ref)
    assert list(dict(act.named_parameters())) == list(grads_t)
    for name, p in act.named_parameters():
        assert rel_error(p.grad, grads_t[name]) < 1e-10, name


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 2)])
@pytest.mark.parametrize("num_parameters", [1, 3])
def test_prelu_matches_torch_per_channel(backend, shape, num_parameters, torch):
    """Values, input gradients and slope gradients for (N, C), (N, C, L) and (N, C, H, W) inputs."""
    slopes = np.array([0.25, -0.7, 2.0][:num_parameters])
    x_np = 2 * np.random.default_rng(4).standard_normal(shape)
    g_np = np.random.default_rng(5).standard_normal(shape)
    prelu = nn.PReLU(num_parameters)
    prelu.weight.data = on(backend, slopes)
    ref = torch.nn.PReLU(num_parameters, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(slopes))
    y = prelu(on(backend, x_np))
    dx = prelu.backward(on(backend, g_np))
    y_t, dx_t, grads_t = run_torch(torch, ref, x_np, g_np)
    assert tuple(prelu.weight.grad.shape) == (num_parameters,)
    assert rel_error(y, y_t) < 1e-10
    assert rel_error(dx, dx_t) < 1e-10
    assert rel_error(prelu.weight.grad, grads_t["weight"]) < 1e-10


@pytest.mark.parametrize("backend", backends)
def test_prelu_shared_slope_any_shape(backend, torch):
    """One slope: 0-d and 1-D inputs too, like torch; the slope's gradient sums every negative entry."""
    for x_np in (np.array(-2.0), np.array([-1.0, 3.0, -0.5])):
        prelu = nn.PReLU().to(backend)
        y = prelu(on(backend, x_np))
        dx = prelu.backward(on(backend, np.ones_like(x_np)))
        y_t, dx_t, grads_t = run_torch(torch, torch.nn.PReLU(dtype=torch.float64), x_np, np.ones_like(x_np))
        assert tuple(y.shape) == tuple(x_np.shape) and np.array_equal(vg.to_numpy(y), y_t.numpy())
        assert np.array_equal(vg.to_numpy(dx), dx_t.numpy())
        assert np.array_equal(vg.to_numpy(prelu.weight.grad), grads_t["weight"].numpy())
    assert np.array_equal(vg.to_numpy(prelu.weight.grad), [-1.5])   # -1 + -0.5 with upstream 1


def test_prelu_weight_is_a_parameter_like_torchs(torch):
    prelu = nn.PReLU(num_parameters=3, init=0.1)
    ref = torch.nn.PReLU(num_parameters=3, init=0.1)
    assert [(n, p.shape) for n, p in prelu.named_parameters()] == [("weight", (3,))]
    assert list(prelu.state_dict()) == list(ref.state_dict())
    assert np.array_equal(vg.to_numpy(prelu.weight.data), [0.1, 0.1, 0.1])
    assert vg.backend.dtype_name(prelu.weight.dtype) == "float64"


@pytest.mark.parametrize("backend", backends)
def test_prelu_slope_learns(backend):
    """One SGD step on the loss sum(f(z)) moves the slope by -lr * sum of the negative inputs."""
    if backend == "torch":
        pytest.importorskip("torch")
    with vg.backend.using(backend):
        prelu = nn.PReLU()
    z = on(backend, np.array([[-2.0, 1.0], [-1.0, 3.0]]))
    y = prelu(z)
    prelu.backward(on(backend, np.ones((2, 2))))
    vg.optim.SGD(prelu.parameters(), lr=0.1).step()
    assert float(vg.to_numpy(prelu.weight.data)[0]) == pytest.approx(0.25 + 0.1 * 3.0, abs=1e-15)
    assert np.array_equal(vg.to_numpy(y), [[-0.5, 1.0], [-0.25, 3.0]])


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec", SPECS)
def test_derivative_at_zero_follows_torch(backend, spec, torch):
    x_np = np.array([[-1.0, 0.0, 1.0], [0.0, -0.0, 2.0]])
    act = make(spec.replace("num_parameters=4", "num_parameters=3"), nn, backend)
    y = act(on(backend, x_np))
    dx = act.backward(on(backend, np.ones_like(x_np)))
    ref = make(spec.replace("num_parameters=4", "num_parameters=3"), torch.nn)
    y_t, dx_t, grads_t = run_torch(torch, ref, x_np, np.ones_like(x_np))
    zero = x_np == 0
    assert np.array_equal(vg.to_numpy(dx)[zero], dx_t.numpy()[zero])              # exactly, at +0 and -0
    assert np.array_equal(vg.to_numpy(y)[zero], y_t.numpy()[zero])
    assert np.allclose(vg.to_numpy(dx), dx_t.numpy(), rtol=1e-15, atol=0)
    assert np.allclose(vg.to_numpy(y), y_t.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec, expected", [
    ("ReLU()", 0.0), ("LeakyReLU()", 0.01), ("LeakyReLU(0.2)", 0.2), ("PReLU()", 0.25),
    ("PReLU(init=-0.4)", -0.4), ("ELU()", 1.0), ("ELU(alpha=0.3)", 0.3), ("GELU()", 0.5),
    ("GELU(approximate='tanh')", 0.5), ("Softplus()", 0.5), ("Softplus(beta=3)", 0.5),
    ("Sigmoid()", 0.25), ("Tanh()", 1.0),
])
def test_derivative_at_exactly_zero(backend, spec, expected):
    """ReLU'(0) = 0, LeakyReLU'(0) = slope, PReLU'(0) = weight, ELU'(0) = alpha, GELU'(0) = 1/2 (torch's choices)."""
    act = make(spec, nn, backend)
    act(on(backend, np.array([0.0, -0.0])))
    dx = vg.to_numpy(act.backward(on(backend, np.ones(2))))
    assert np.array_equal(dx, [expected, expected])


@pytest.mark.parametrize("backend", backends)
def test_relu_derivative_is_zero_at_zero(backend):
    relu = nn.ReLU()
    y = relu(on(backend, np.array([0.0, -0.0, 1e-300, -1e-300])))
    dx = relu.backward(on(backend, np.full(4, 5.0)))
    assert np.array_equal(np.asarray(y), [0.0, 0.0, 1e-300, 0.0])
    assert np.array_equal(np.asarray(dx), [0.0, 0.0, 5.0, 0.0])


LARGE = np.array([-1e3, -800.0, -745.0, -40.0, -8.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 8.0, 19.9, 20.1,
                  40.0, 745.0, 800.0, 1e3])


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec", SPECS)
def test_large_inputs_no_warnings_and_match_torch(backend, spec, torch):
    """|z| up to 1e3: no overflow or invalid-value warning, every value finite and equal to torch's."""
    spec = spec.replace("num_parameters=4", "num_parameters=1")
    act = make(spec, nn, backend)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = vg.to_numpy(act(on(backend, LARGE)))
        dx = vg.to_numpy(act.backward(on(backend, np.ones_like(LARGE))))
    y_t, dx_t, _ = run_torch(torch, make(spec, torch.nn), LARGE, np.ones_like(LARGE))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert rel_error(y, y_t) < 1e-12 and rel_error(dx, dx_t) < 1e-12
    # far from 0, each function is exactly its asymptote, in value and slope
    assert y[-1] == pytest.approx(y_t[-1].item(), rel=1e-15) and dx[-1] == pytest.approx(dx_t[-1].item(), rel=1e-15)
    assert y[0] == pytest.approx(y_t[0].item(), rel=1e-15) and dx[0] == pytest.approx(dx_t[0].item(), rel=1e-15)


HUGE = {"float64": [1e300, 1e200, 1e155, 1e100, 1e10, 1e3, 30.0, 10.0, 9.0, 5.0, 1.0, 0.5, 0.0],
        "float32": [3e38, 1e20, 2e19, 1e15, 1e10, 1e3, 30.0, 10.0, 9.0, 5.0, 1.0, 0.5, 0.0]}


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tanh_gelu_never_overflows(backend, dtype, torch):
    """Tanh-GELU for any finite z: no warning; f = z or 0 and f' = 1 or 0 far out; torch's values where torch's
    are finite (its z^3 overflows: from |z| = 2e19 in float32 and 1e155 in float64 its gradient is NaN).

    Once vglab's z*z*z overflowed too: a warning at |z| = 1e200 in float64, a NaN gradient at 1e20 in float32.
    The tolerance is float32's rounding (2^-24 = 6e-8) on a few operations, and float64's likewise.
    """
    z_np = np.array([s * v for v in HUGE[dtype] for s in (1.0, -1.0)], dtype=dtype)
    gelu = nn.GELU(approximate="tanh")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = vg.to_numpy(gelu(on(backend, z_np, dtype=dtype))).astype(np.float64)
        dy = vg.to_numpy(gelu.backward(on(backend, np.ones_like(z_np), dtype=dtype))).astype(np.float64)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dy))
    far = np.abs(z_np) > 10
    np.testing.assert_array_equal(y[far], np.where(z_np[far] > 0, z_np[far], 0.0))
    np.testing.assert_array_equal(dy[far], np.where(z_np[far] > 0, 1.0, 0.0))
    x_t = torch.tensor(z_np, requires_grad=True)
    y_t = torch.nn.functional.gelu(x_t, approximate="tanh")
    y_t.backward(torch.ones_like(y_t))
    y_t, dy_t = y_t.detach().double().numpy(), x_t.grad.double().numpy()
    assert not np.all(np.isfinite(dy_t))                   # torch does overflow on these inputs
    tol = 1e-6 if dtype == "float32" else 1e-14
    ok = np.isfinite(y_t)
    np.testing.assert_allclose(y[ok], y_t[ok], rtol=tol, atol=tol)
    ok = np.isfinite(dy_t)
    assert np.all(ok[np.abs(z_np) <= 1e15])               # so the comparison covers every |z| up to 1e15
    np.testing.assert_allclose(dy[ok], dy_t[ok], rtol=tol, atol=tol)


@pytest.mark.parametrize("backend", backends)
def test_sigmoid_large_inputs_do_not_overflow(backend, torch):
    x_np = np.array([-1e3, -800.0, -745.0, -40.0, 0.0, 40.0, 800.0, 1e3])
    sig = nn.Sigmoid()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = sig(on(backend, x_np))
        dx = sig.backward(on(backend, np.ones(8)))
    y, dx = np.asarray(y), np.asarray(dx)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    assert y[0] == 0.0 and y[-1] == 1.0 and y[4] == 0.5
    np.testing.assert_allclose(y, torch.sigmoid(torch.tensor(x_np)).numpy(), rtol=1e-14, atol=1e-300)
    assert y[3] == pytest.approx(np.exp(-40.0), rel=1e-13)  # no cancellation in 1 - sigma for x < 0
    assert dx[0] == 0.0 and dx[-1] == 0.0 and dx[4] == 0.25


@pytest.mark.parametrize("backend", backends)
def test_tanh_large_inputs(backend):
    tanh = nn.Tanh()
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = np.asarray(tanh(on(backend, np.array([-1e3, 0.0, 1e3]))))
        dx = np.asarray(tanh.backward(on(backend, np.ones(3))))
    assert np.array_equal(y, [-1.0, 0.0, 1.0]) and np.array_equal(dx, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("backend", backends)
def test_softplus_threshold_as_torch(backend):
    """Above beta * z > threshold the output is z itself and the slope exactly 1; below, ln(1 + e^(beta z)) / beta."""
    sp = nn.Softplus(beta=2, threshold=5)
    z = np.array([2.4, 2.5, 2.6])
    y = vg.to_numpy(sp(on(backend, z)))
    dx = vg.to_numpy(sp.backward(on(backend, np.ones(3))))
    assert y[2] == 2.6 and dx[2] == 1.0
    assert y[1] == pytest.approx(math.log1p(math.exp(5.0)) / 2, rel=1e-15)
    assert dx[1] == pytest.approx(1 / (1 + math.exp(-5.0)), rel=1e-15)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=30)
@given(x=arrays(np.float64, (3, 4), elements=st.floats(-1e3, 1e3)))
def test_sigmoid_range_and_slope_bound(backend, x):
    """0 <= sigma <= 1, 0 <= sigma' <= 1/4 and sigma is non-decreasing, for |x| up to 1e3."""
    sig = nn.Sigmoid()
    y = np.asarray(sig(on(backend, x)))
    dx = np.asarray(sig.backward(on(backend, np.ones((3, 4)))))
    assert np.all((0 <= y) & (y <= 1))
    assert np.all((0 <= dx) & (dx <= 0.25))
    order = np.argsort(x.ravel(), kind="stable")
    assert np.all(np.diff(y.ravel()[order]) >= 0)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=30)
@given(x=arrays(np.float64, (3, 4), elements=st.floats(-50, 50)))
def test_tanh_and_relu_slope_bounds(backend, x):
    tanh, relu = nn.Tanh(), nn.ReLU()
    tanh(on(backend, x))
    relu(on(backend, x))
    dt = np.asarray(tanh.backward(on(backend, np.ones((3, 4)))))
    dr = np.asarray(relu.backward(on(backend, np.ones((3, 4)))))
    assert np.all((0 <= dt) & (dt <= 1))
    assert np.array_equal(dr, (x > 0).astype(float))


# GELU'(z) = Phi(z) + z phi(z) has its extremes where GELU'' = phi(z) (2 - z^2) = 0, at z = -sqrt 2 and +sqrt 2
GELU_MAX = 0.5 * (1 + math.erf(1.0)) + math.sqrt(2) * math.exp(-1.0) / math.sqrt(2 * math.pi)
GELU_MIN = 0.5 * (1 - math.erf(1.0)) - math.sqrt(2) * math.exp(-1.0) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=30)
@given(x=arrays(np.float64, (3, 4), elements=st.floats(-1e3, 1e3)))
def test_smooth_activations_bounds(backend, x):
    """ELU >= -alpha with 0 < ELU' <= 1; max(z, 0) <= Softplus <= max(z, 0) + ln2 with 0 <= Softplus' <= 1;
    GELU' within [GELU'(-sqrt 2), GELU'(sqrt 2)] = [-0.129, 1.129]; the leaky rectifiers are z or a z."""
    z = on(backend, x)
    elu, sp, gelu, leaky = nn.ELU(), nn.Softplus(), nn.GELU(), nn.LeakyReLU(0.1)
    outs = [vg.to_numpy(m(z)) for m in (elu, sp, gelu, leaky)]
    ones = on(backend, np.ones((3, 4)))
    d_elu, d_sp, d_gelu, d_leaky = [vg.to_numpy(m.backward(ones)) for m in (elu, sp, gelu, leaky)]
    relu = np.maximum(x, 0)
    assert np.all(outs[0] >= -1) and np.all((0 <= d_elu) & (d_elu <= 1))
    assert np.all(relu <= outs[1]) and np.all(outs[1] <= relu + math.log(2) + 1e-15)
    assert np.all((0 <= d_sp) & (d_sp <= 1))
    assert np.all((GELU_MIN - 1e-15 <= d_gelu) & (d_gelu <= GELU_MAX + 1e-15))
    assert np.array_equal(outs[3], np.where(x > 0, x, 0.1 * x)) and np.array_equal(d_leaky, np.where(x > 0, 1.0, 0.1))


def test_gelu_derivative_extremes():
    """The bounds above are attained: about 1.129 at sqrt 2 and -0.129 at -sqrt 2."""
    gelu = nn.GELU()
    gelu(np.array([-math.sqrt(2), math.sqrt(2)]))
    d = gelu.backward(np.ones(2))
    assert d[0] == pytest.approx(GELU_MIN, rel=1e-14) and d[1] == pytest.approx(GELU_MAX, rel=1e-14)
    assert 1.1289 < GELU_MAX < 1.1290 and -0.1290 < GELU_MIN < -0.1289


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("spec", SPECS)
@settings(max_examples=15)
@given(a=st.floats(-10, 10), b=st.floats(-10, 10), seed=st.integers(0, 2**16))
def test_backward_is_linear_in_upstream(backend, spec, a, b, seed):
    """For the input gradient and for PReLU's slope gradient."""
    act = make(spec, nn, backend)
    x = randn(backend, 5, 4, seed=seed)

    def grads_of(g):
        act.zero_grad()
        act(x)
        return [act.backward(g)] + [p.grad for p in act.parameters()]

    assert_linear_in_upstream(grads_of, randn(backend, 5, 4, seed=seed + 1), randn(backend, 5, 4, seed=seed + 2), a, b)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", PARAMETER_FREE)
def test_keeps_float32(backend, name):
    """No parameters, so like torch an activation computes in its input's dtype."""
    act = getattr(nn, name)()
    y = act(on(backend, np.ones((2, 2)), dtype="float32"))
    assert "float32" in str(y.dtype)
    assert "float32" in str(act.backward(on(backend, np.ones((2, 2)), dtype="float32")).dtype)


@pytest.mark.parametrize("backend", backends)
def test_prelu_input_must_match_its_parameters(backend, torch):
    other = "torch" if backend == "numpy" else "numpy"
    prelu = nn.PReLU().to(backend)
    with pytest.raises(TypeError, match=r"PReLU expected z of dtype float64 \(the parameters' dtype\), got float32"):
        prelu(on(backend, np.ones((2, 2)), dtype="float32"))
    with pytest.raises(TypeError, match=r"PReLU: z, parameters must be on one backend"):
        prelu(randn(other, 2, 2))


@pytest.mark.parametrize("backend", backends)
def test_prelu_channel_mismatch(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    prelu = nn.PReLU(num_parameters=3).to(backend)
    for shape in [(2, 4), (2, 4, 3), (3,)]:
        with pytest.raises(ValueError, match=r"PReLU expected z of shape \(N, 3, \*\) \(num_parameters=3 slopes, "
                                             rf"one per channel on dimension 1\), got \({shape[0]},"):
            prelu(randn(backend, *shape))


# ----------------------------------------------------------------- bad input

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("name", NAMES)
def test_bad_input(backend, name):
    if backend == "torch":
        pytest.importorskip("torch")
    other = "torch" if backend == "numpy" else "numpy"
    act = getattr(nn, name)()
    act.to(backend)
    with pytest.raises(RuntimeError, match=rf"{name}.backward called before forward"):
        act.backward(randn(backend, 2, 3))
    with pytest.raises(TypeError, match=rf"{name} expected z to be a NumPy array or torch tensor, got list"):
        act([1.0, 2.0])
    with pytest.raises(TypeError, match=rf"{name} expected z of a floating dtype, got int64"):
        act(on(backend, np.arange(3)))
    act(randn(backend, 2, 3))
    with pytest.raises(ValueError, match=rf"{name}.backward expected grad_output of shape \(2, 3\), got \(3, 2\)"):
        act.backward(randn(backend, 3, 2))
    with pytest.raises(TypeError, match=rf"{name}.backward expected grad_output of dtype float64.*got float32"):
        act.backward(on(backend, np.ones((2, 3)), dtype="float32"))
    with pytest.raises(TypeError, match=rf"{name}.backward: grad_output, output must be on one backend.*numpy, torch"):
        act.backward(randn(other, 2, 3))


@pytest.mark.parametrize("call, error, message", [
    (lambda: nn.GELU(approximate="foo"), ValueError,
     r"GELU expected approximate to be one of 'none', 'tanh', got 'foo'"),
    (lambda: nn.GELU(approximate=None), ValueError, r"GELU expected approximate to be one of 'none', 'tanh', got None"),
    (lambda: nn.Softplus(beta=0), ValueError, r"Softplus expected beta != 0 .*got 0"),
    (lambda: nn.Softplus(beta="1"), TypeError, r"Softplus expected beta to be a number, got str"),
    (lambda: nn.Softplus(threshold=float("inf")), ValueError, r"Softplus expected a finite threshold, got inf"),
    (lambda: nn.ELU(alpha=float("nan")), ValueError, r"ELU expected a finite alpha, got nan"),
    (lambda: nn.ELU(alpha=None), TypeError, r"ELU expected alpha to be a number, got NoneType"),
    (lambda: nn.LeakyReLU(negative_slope="0.1"), TypeError, r"LeakyReLU expected negative_slope to be a number, got str"),
    (lambda: nn.PReLU(num_parameters=0), ValueError, r"PReLU expected num_parameters >= 1, got 0"),
    (lambda: nn.PReLU(num_parameters=2.5), TypeError, r"PReLU expected num_parameters to be an integer, got 2.5"),
    (lambda: nn.PReLU(init=float("nan")), ValueError, r"PReLU expected a finite init, got nan"),
])
def test_bad_hyper_parameters(call, error, message):
    """What torch rejects (GELU's approximate, PReLU's num_parameters) or turns into inf (Softplus's beta = 0)
    is refused when the module is built, with the argument's name; torch's other values are accepted."""
    with pytest.raises(error, match=message):
        call()


def test_hyper_parameters_torch_accepts_are_accepted(torch):
    """Negative ELU alpha, negative or > 1 leaky slopes, negative Softplus beta: torch computes them, so does vglab."""
    x_np = np.linspace(-3, 3, 13)
    for spec in ["ELU(alpha=-1.0)", "LeakyReLU(negative_slope=-0.5)", "LeakyReLU(2.0)", "Softplus(beta=-1)"]:
        y = make(spec, nn)(x_np)
        assert rel_error(y, make(spec, torch.nn)(torch.tensor(x_np))) < 1e-12, spec


# ----------------------------------------------------------------- interop and models

@pytest.mark.parametrize("backend", backends)
def test_to_torch_and_back(backend, torch):
    with vg.backend.using(backend):
        model = nn.Sequential(nn.Linear(3, 4), nn.PReLU(4, init=0.1), nn.Linear(4, 4), nn.ELU(0.5),
                              nn.GELU("tanh"), nn.Softplus(2, 10), nn.LeakyReLU(0.2), nn.PReLU())
        model[1].weight.data = on(backend, np.array([0.1, -0.2, 0.3, 0.4]))
        t = vg.interop.to_torch(model)
        back = vg.interop.from_torch(t)
    assert repr(t) == repr(model) == repr(back)
    assert list(t.state_dict()) == list(model.state_dict()) == list(back.state_dict())
    assert np.array_equal(t[1].weight.detach().numpy(), [0.1, -0.2, 0.3, 0.4])
    assert np.array_equal(vg.to_numpy(back[1].weight.data), [0.1, -0.2, 0.3, 0.4])
    assert vg.backend.is_torch(back[1].weight.data) == (backend == "torch")
    x_np = np.random.default_rng(6).standard_normal((5, 3))
    g_np = np.random.default_rng(7).standard_normal((5, 4))
    y = model(on(backend, x_np))
    model.backward(on(backend, g_np))
    y_t, _, grads_t = run_torch(torch, t, x_np, g_np)
    assert rel_error(y, y_t) < 1e-10 and rel_error(back(on(backend, x_np)), y) == 0
    for name, p in model.named_parameters():
        assert rel_error(p.grad, grads_t[name]) < 1e-10, name


@pytest.mark.parametrize("name, cls", [("leaky_relu", "LeakyReLU"), ("prelu", "PReLU"), ("elu", "ELU"),
                                       ("gelu", "GELU"), ("softplus", "Softplus")])
def test_models_activations(name, cls):
    """deep_mlp takes the new names; PReLU's slope is not one of the weight layers, and drawing it uses no randomness."""
    model = vg.models.deep_mlp(4, 8, name)
    assert [type(m).__name__ for m in model][1::2] == [cls] * 3
    layers = [m for _, m in vg.diagnostics.weight_layers(model)]
    assert layers == [m for m in model if isinstance(m, nn.Linear)]
    same = vg.models.chapter0_network(activation=name)
    for (_, a), (_, b) in zip(vg.diagnostics.weight_layers(same), vg.diagnostics.weight_layers(vg.models.chapter0_network()),
                              strict=True):
        assert np.array_equal(vg.to_numpy(a.weight.data), vg.to_numpy(b.weight.data))
