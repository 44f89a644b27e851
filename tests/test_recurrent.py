"""nn.RNN, nn.LSTM, nn.GRU and nn.LastStep: torch agreement, gradient checks, grad_norms, properties, errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import vglab as vg
from vglab import nn
from vglab.gradcheck import numerical_gradient, rel_error
from conftest import backends, on

KINDS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def make(kind, backend, *args, seed=0, **kwargs):
    vg.manual_seed(seed)
    with vg.backend.using(backend):
        if kind.startswith("RNN"):
            return nn.RNN(*args, nonlinearity="relu" if kind == "RNN_RELU" else "tanh", **kwargs)
        return getattr(nn, kind)(*args, **kwargs)


def torch_copy(torch, m):
    """The torch twin of ``m`` in float64, its weights copied by hand by name (not through vg.interop)."""
    kwargs = dict(num_layers=m.num_layers, bias=m.bias, batch_first=m.batch_first, bidirectional=m.bidirectional,
                  dtype=torch.float64)
    if isinstance(m, nn.RNN):
        kwargs["nonlinearity"] = m.nonlinearity
    t = getattr(torch.nn, type(m).__name__)(m.input_size, m.hidden_size, **kwargs)
    with torch.no_grad():
        for name, p in m.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(vg.to_numpy(p.data).copy()))
    return t


def run_both(torch, m, backend, x, hx, dout, dstate):
    """Forward and backward through ``m`` and its torch twin; [(what, vglab array, torch tensor)]."""
    lstm = m.mode == "LSTM"
    t = torch_copy(torch, m)
    xs = tuple(on(backend, a) for a in (hx if lstm else (hx,))) if hx is not None else None
    out, state = m(on(backend, x), None if xs is None else (xs if lstm else xs[0]))
    ds = tuple(on(backend, a) for a in dstate)
    dx, dstate0 = m.backward(on(backend, dout), ds if lstm else ds[0])

    x_t = torch.tensor(x, requires_grad=True)
    hx_t = None if hx is None else tuple(torch.tensor(a, requires_grad=True) for a in (hx if lstm else (hx,)))
    out_t, state_t = t(x_t, None if hx is None else (hx_t if lstm else hx_t[0]))
    state_t = state_t if lstm else (state_t,)
    loss = (out_t * torch.tensor(dout)).sum() + sum((s * torch.tensor(d)).sum() for s, d in zip(state_t, dstate))
    loss.backward()
    pairs = [("out", out, out_t.detach()), ("dx", dx, x_t.grad)]
    pairs += [(f"state{i}", s, st_.detach()) for i, (s, st_) in enumerate(zip(state if lstm else (state,), state_t))]
    if hx is not None:
        pairs += [(f"dstate{i}", d, h.grad) for i, (d, h) in enumerate(zip(dstate0 if lstm else (dstate0,), hx_t))]
    pairs += [(name, p.grad, getattr(t, name).grad) for name, p in m.named_parameters()]
    return pairs


@st.composite
def configs(draw):
    return dict(T=draw(st.integers(1, 5)), N=draw(st.integers(1, 3)), I=draw(st.integers(1, 4)),
                H=draw(st.integers(1, 4)), num_layers=draw(st.integers(1, 3)), bidirectional=draw(st.booleans()),
                batch_first=draw(st.booleans()), batched=draw(st.booleans()), given_hx=draw(st.booleans()),
                bias=draw(st.booleans()), seed=draw(st.integers(0, 2**16)))


def draw_arrays(kind, c):
    rng = np.random.default_rng(c["seed"])
    T, N, I, H = c["T"], c["N"], c["I"], c["H"]
    D = 2 if c["bidirectional"] else 1
    x_shape = ((N, T, I) if c["batch_first"] else (T, N, I)) if c["batched"] else (T, I)
    out_shape = x_shape[:-1] + (D * H,)
    state_shape = (c["num_layers"] * D, N, H) if c["batched"] else (c["num_layers"] * D, H)
    n_states = 2 if kind == "LSTM" else 1
    hx = tuple(rng.standard_normal(state_shape) for _ in range(n_states)) if c["given_hx"] else None
    dstate = tuple(rng.standard_normal(state_shape) for _ in range(n_states))
    return rng.standard_normal(x_shape), (hx if kind == "LSTM" or hx is None else hx[0]), \
        rng.standard_normal(out_shape), dstate


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=20)
@given(c=configs())
def test_matches_torch(backend, kind, c):
    torch = pytest.importorskip("torch")
    m = make(kind, backend, c["I"], c["H"], num_layers=c["num_layers"], bias=c["bias"],
             batch_first=c["batch_first"], bidirectional=c["bidirectional"], seed=c["seed"])
    x, hx, dout, dstate = draw_arrays(kind, c)
    for what, mine, theirs in run_both(torch, m, backend, x, hx, dout, dstate):
        assert vg.backend.is_torch(mine) == (backend == "torch"), what
        assert tuple(mine.shape) == tuple(theirs.shape), what
        assert rel_error(mine, theirs) < 1e-10, what


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_float32_fast_gates_match_torch(kind, torch):
    """In float32 the sigmoid is tanh(a/2)/2 + 1/2 (faster); it stays within float32 rounding of torch."""
    with vg.backend.using(dtype="float32"):
        m = make(kind, "numpy", 6, 8, num_layers=2)
    t = torch_copy(torch, m).float()
    rng = np.random.default_rng(0)
    x, dout = rng.standard_normal((7, 3, 6)).astype(np.float32), rng.standard_normal((7, 3, 8)).astype(np.float32)
    out, _ = m(x)
    dx, _ = m.backward(dout)
    x_t = torch.tensor(x, requires_grad=True)
    out_t, _ = t(x_t)
    out_t.backward(torch.tensor(dout))
    assert out.dtype == np.float32 and dx.dtype == np.float32
    assert rel_error(out, out_t.detach()) < 1e-5
    assert rel_error(dx, x_t.grad) < 1e-5
    for name, p in m.named_parameters():
        assert rel_error(p.grad, getattr(t, name).grad) < 1e-5, name


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind, layers, bidirectional", [("RNN_TANH", 2, True), ("RNN_RELU", 1, False),
                                                        ("LSTM", 2, True), ("GRU", 2, False)])
def test_gradcheck(backend, kind, layers, bidirectional):
    m = make(kind, backend, 3, 3, num_layers=layers, bidirectional=bidirectional, seed=1)
    rng = np.random.default_rng(2)
    D, lstm = 2 if bidirectional else 1, kind == "LSTM"
    x = on(backend, rng.standard_normal((4, 2, 3)))
    states = [on(backend, rng.standard_normal((layers * D, 2, 3))) for _ in range(2 if lstm else 1)]
    r = on(backend, rng.standard_normal((4, 2, 3 * D)))
    s = [on(backend, rng.standard_normal((layers * D, 2, 3))) for _ in states]
    xp = vg.backend.namespace(x)

    def loss():
        with vg.no_grad():
            out, st_ = m(x, tuple(states) if lstm else states[0])
        st_ = st_ if lstm else (st_,)
        return xp.sum(out * r) + sum(xp.sum(a * b) for a, b in zip(st_, s))

    m(x, tuple(states) if lstm else states[0])
    dx, d0 = m.backward(r, tuple(s) if lstm else s[0])
    analytic = {"x": dx, **{f"state{i}": d for i, d in enumerate(d0 if lstm else (d0,))},
                **{name: p.grad for name, p in m.named_parameters()}}
    arrays = {"x": x, **{f"state{i}": a for i, a in enumerate(states)},
              **{name: p.data for name, p in m.named_parameters()}}
    for name, a in arrays.items():
        num = numerical_gradient(loss, a, h=1e-6, max_coords=20)
        keep = ~np.isnan(num)
        assert rel_error(vg.to_numpy(analytic[name])[keep], num[keep]) < 1e-7, name


def torch_cell_loop_norms(torch, m, x, hx, dout, dstate):
    """The oracle of grad_norms: torch cells stepped by hand, h_t.retain_grad() at every step."""
    lstm, H, L, D = m.mode == "LSTM", m.hidden_size, m.num_layers, 2 if m.bidirectional else 1
    Cell = {"LSTM": torch.nn.LSTMCell, "GRU": torch.nn.GRUCell}.get(m.mode, torch.nn.RNNCell)
    layer_in, states, finals = torch.tensor(x), {}, []
    for layer in range(L):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            extra = {"nonlinearity": m.nonlinearity} if Cell is torch.nn.RNNCell else {}
            cell = Cell(layer_in.shape[-1], H, bias=m.bias, dtype=torch.float64, **extra)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if m.bias else ()):
                    getattr(cell, name).copy_(torch.from_numpy(vg.to_numpy(getattr(m, name + sfx).data).copy()))
            k = layer * D + d
            h = torch.tensor(hx[0][k] if lstm else hx[k])
            c = torch.tensor(hx[1][k]) if lstm else None
            hs = [None] * x.shape[0]
            for t in (reversed(range(x.shape[0])) if d else range(x.shape[0])):
                if lstm:
                    h, c = cell(layer_in[t], (h, c))
                    c.retain_grad()
                else:
                    h = cell(layer_in[t], h)
                h.retain_grad()
                hs[t] = h
                states[layer, d, t] = (h, c)
            outs.append(torch.stack(hs))
            finals.append((h, c))
        layer_in = torch.cat(outs, dim=-1)
    loss = (layer_in * torch.tensor(dout)).sum()
    for k, (h, c) in enumerate(finals):
        loss = loss + (h * torch.tensor(dstate[0][k])).sum()
        if lstm:
            loss = loss + (c * torch.tensor(dstate[1][k])).sum()
    loss.backward()
    norms = {"h": np.zeros((L, x.shape[0])), "c": np.zeros((L, x.shape[0]))}
    for (layer, d, t), (h, c) in states.items():
        norms["h"][layer, t] += float(h.grad.norm()) ** 2
        if lstm:
            norms["c"][layer, t] += float(c.grad.norm()) ** 2
    return {key: np.sqrt(v) for key, v in norms.items()}


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_grad_norms_match_a_torch_cell_loop(backend, kind, bidirectional, torch):
    m = make(kind, backend, 3, 4, num_layers=2, bidirectional=bidirectional, seed=3)
    rng = np.random.default_rng(4)
    D, lstm = 2 if bidirectional else 1, kind == "LSTM"
    x, dout = rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 4 * D))
    hx = tuple(rng.standard_normal((2 * D, 2, 4)) for _ in range(2 if lstm else 1))
    dstate = tuple(rng.standard_normal((2 * D, 2, 4)) for _ in hx)
    m(on(backend, x), tuple(on(backend, a) for a in hx) if lstm else on(backend, hx[0]))
    ds = tuple(on(backend, a) for a in dstate)
    m.backward(on(backend, dout), ds if lstm else ds[0])
    want = torch_cell_loop_norms(torch, m, x, hx if lstm else hx[0], dout, dstate)
    assert isinstance(m.grad_norms["h"], np.ndarray) and m.grad_norms["h"].shape == (2, 6)
    assert rel_error(m.grad_norms["h"], want["h"]) < 1e-12
    assert ("c" in m.grad_norms) == lstm
    if lstm:
        assert rel_error(m.grad_norms["c"], want["c"]) < 1e-12


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
def test_output_does_not_depend_on_future_inputs(backend, kind):
    m = make(kind, backend, 2, 3, num_layers=3)
    x = np.random.default_rng(0).standard_normal((8, 2, 2))
    changed = x.copy()
    changed[5:] = 100 * np.random.default_rng(1).standard_normal((3, 2, 2))
    out, _ = m(on(backend, x))
    out2, _ = m(on(backend, changed))
    assert np.array_equal(vg.to_numpy(out)[:5], vg.to_numpy(out2)[:5])
    assert not np.allclose(vg.to_numpy(out)[5:], vg.to_numpy(out2)[5:])


@pytest.mark.parametrize("backend", backends)
def test_lstm_with_open_forget_gate_and_closed_input_gate_carries_c(backend):
    """f = sigma(100) = 1 and i = sigma(-100) ~ 4e-44: the cell state and its gradient pass unchanged."""
    m = make("LSTM", backend, 3, 4)
    xp = vg.backend.namespace(m.bias_ih_l0.data)
    bias = np.zeros(16)
    bias[:4], bias[4:8] = -100.0, 100.0           # gates i, f, g, o
    m.bias_ih_l0.data = on(backend, bias)
    rng = np.random.default_rng(0)
    h0, c0 = on(backend, rng.standard_normal((1, 2, 4))), on(backend, rng.standard_normal((1, 2, 4)))
    _, (h_n, c_n) = m(on(backend, rng.standard_normal((20, 2, 3))), (h0, c0))
    assert rel_error(c_n, c0) < 1e-14
    dc_n = on(backend, rng.standard_normal((1, 2, 4)))
    _, (dh0, dc0) = m.backward(xp.zeros((20, 2, 4), dtype=xp.float64, device=vg.backend.device_of(h0)),
                               (None, dc_n))
    assert rel_error(dc0, dc_n) < 1e-14                                     # the constant error carousel
    assert np.allclose(m.grad_norms["c"], m.grad_norms["c"][0, -1], rtol=1e-14)


@pytest.mark.parametrize("backend", backends)
def test_gru_with_closed_update_gate_keeps_h(backend):
    m = make("GRU", backend, 3, 4)
    bias = np.zeros(12)
    bias[4:8] = 100.0                              # gates r, z, n: z = 1 keeps h
    m.bias_ih_l0.data = on(backend, bias)
    rng = np.random.default_rng(0)
    h0 = on(backend, rng.standard_normal((1, 2, 4)))
    out, h_n = m(on(backend, rng.standard_normal((10, 2, 3))), h0)
    assert rel_error(h_n, h0) < 1e-14
    assert rel_error(out[3], h0[0]) < 1e-14


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
def test_backward_twice_accumulates_twice_and_none_means_zeros(backend, kind):
    m = make(kind, backend, 3, 4, num_layers=2)
    rng = np.random.default_rng(0)
    x, dout = on(backend, rng.standard_normal((5, 2, 3))), on(backend, rng.standard_normal((5, 2, 4)))
    m(x)
    dx, d0 = m.backward(dout)
    once = {name: vg.to_numpy(p.grad).copy() for name, p in m.named_parameters()}
    zeros = on(backend, np.zeros((2, 2, 4)))
    dx2, _ = m.backward(dout, (zeros, None) if kind == "LSTM" else zeros)
    assert np.array_equal(vg.to_numpy(dx), vg.to_numpy(dx2))
    for name, p in m.named_parameters():
        assert np.allclose(vg.to_numpy(p.grad), 2 * once[name], rtol=1e-14, atol=0), name


@pytest.mark.parametrize("backend", backends)
def test_last_step_in_sequential_matches_torch(backend, torch):
    vg.manual_seed(0)
    with vg.backend.using(backend):
        model = nn.Sequential(nn.LSTM(3, 5, num_layers=2), nn.LastStep(), nn.Linear(5, 2))
    lstm_t = torch_copy(torch, model[0])
    lin_t = torch.nn.Linear(5, 2, dtype=torch.float64)
    with torch.no_grad():
        lin_t.weight.copy_(torch.from_numpy(vg.to_numpy(model[2].weight.data).copy()))
        lin_t.bias.copy_(torch.from_numpy(vg.to_numpy(model[2].bias.data).copy()))
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((7, 4, 3)), rng.standard_normal((4, 2))
    y = model(on(backend, x))
    dx, (dh0, dc0) = model.backward(on(backend, g))
    x_t = torch.tensor(x, requires_grad=True)
    y_t = lin_t(lstm_t(x_t)[0][-1])
    y_t.backward(torch.tensor(g))
    assert rel_error(y, y_t.detach()) < 1e-10
    assert rel_error(dx, x_t.grad) < 1e-10
    assert tuple(dh0.shape) == (2, 4, 5) and tuple(dc0.shape) == (2, 4, 5)
    for name, p in model[0].named_parameters():
        assert rel_error(p.grad, getattr(lstm_t, name).grad) < 1e-10, name


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("batch_first, shape, picked", [(False, (4, 2, 3), np.s_[-1]), (True, (2, 4, 3), np.s_[:, -1]),
                                                        (True, (4, 3), np.s_[-1]), (False, (4, 3), np.s_[-1])])
def test_last_step_forward_and_backward(backend, batch_first, shape, picked):
    step = nn.LastStep(batch_first=batch_first)
    x = np.arange(np.prod(shape), dtype=float).reshape(shape)
    y = step((on(backend, x), "h_n is ignored"))
    assert np.array_equal(vg.to_numpy(y), x[picked])
    g = np.random.default_rng(0).standard_normal(x[picked].shape)
    dx = vg.to_numpy(step.backward(on(backend, g)))
    want = np.zeros(shape)
    want[picked] = g
    assert np.array_equal(dx, want)
    with pytest.raises(ValueError, match=r"LastStep.backward expected grad_output of shape"):
        step.backward(on(backend, np.zeros(x[picked].shape + (1,))))


def test_parameters_names_shapes_init_and_repr(torch):
    m = make("LSTM", "numpy", 3, 5, num_layers=2, bidirectional=True, batch_first=True)
    t = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    assert [(n, p.shape) for n, p in m.named_parameters()] == [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert repr(m) == repr(t)
    for kind, kwargs in [("GRU", dict(bias=False)), ("RNN_RELU", dict(num_layers=3))]:
        mine = make(kind, "numpy", 4, 6, **kwargs)
        theirs = getattr(torch.nn, kind[:3] if kind != "GRU" else "GRU")(4, 6, **kwargs)
        assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
        assert repr(mine) == repr(theirs)
    bound = 1 / math.sqrt(5)   # torch: every weight and bias from U(-1/sqrt(H), 1/sqrt(H))
    values = np.concatenate([vg.to_numpy(p.data).ravel() for p in m.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound


@pytest.mark.parametrize("backend", backends)
def test_interop_round_trip(backend, torch):
    m = make("GRU", backend, 3, 4, num_layers=2, bidirectional=True)
    t = vg.interop.to_torch(m)
    assert isinstance(t, torch.nn.GRU) and repr(t) == repr(m)
    with vg.backend.using(backend):
        back = vg.interop.from_torch(t)
    for (name, p), q in zip(m.named_parameters(), back.parameters(), strict=True):
        assert np.array_equal(vg.to_numpy(p.data), vg.to_numpy(q.data)), name
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    assert rel_error(m(on(backend, x))[0], t(torch.tensor(x))[0].detach()) < 1e-10


def test_from_torch_refuses_what_vglab_does_not_support(torch):
    with pytest.raises(NotImplementedError, match=r"LSTM does not support proj_size; got proj_size=2"):
        vg.interop.from_torch(torch.nn.LSTM(3, 5, proj_size=2))
    with pytest.raises(NotImplementedError, match=r"GRU does not support dropout between layers; got dropout=0.2"):
        vg.interop.from_torch(torch.nn.GRU(3, 5, num_layers=2, dropout=0.2))


def test_bad_arguments():
    rnn, lstm, gru = make("RNN_TANH", "numpy", 3, 5), make("LSTM", "numpy", 3, 5), make("GRU", "numpy", 3, 5,
                                                                                        num_layers=2)
    x = np.zeros((4, 2, 3))
    with pytest.raises(ValueError, match=r"LSTM expected x of shape \(T, N, 3\), got \(4, 2, 7\)"):
        lstm(np.zeros((4, 2, 7)))
    with pytest.raises(ValueError, match=r"RNN expected x of shape \(T, 3\), got \(4, 7\)"):
        rnn(np.zeros((4, 7)))
    with pytest.raises(ValueError, match=r"LSTM expected x with 2 or 3 dimensions, got shape \(4,\)"):
        lstm(np.zeros(4))
    with pytest.raises(ValueError, match=r"RNN expected hx with 2 dimensions for an unbatched x of shape \(4, 3\), "
                                         r"got shape \(1, 2, 5\)"):
        rnn(np.zeros((4, 3)), np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match=r"GRU expected hx of shape \(2, 2, 5\), got \(1, 2, 5\)"):
        gru(x, np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match=r"RNN expected hx of shape \(1, 2, 5\), got \(1, 3, 5\)"):
        rnn(x, np.zeros((1, 3, 5)))
    with pytest.raises(TypeError, match=r"LSTM expected hx to be a tuple \(h_0, c_0\), got ndarray"):
        lstm(x, np.zeros((1, 2, 5)))
    with pytest.raises(ValueError, match=r"LSTM expected c_0 of shape \(1, 2, 5\), got \(1, 3, 5\)"):
        lstm(x, (np.zeros((1, 2, 5)), np.zeros((1, 3, 5))))
    with pytest.raises(TypeError, match=r"RNN expected x of dtype float64 \(the parameters' dtype\), got float32"):
        rnn(x.astype(np.float32))
    out, _ = lstm(x)
    with pytest.raises(ValueError, match=r"LSTM.backward expected grad_output of shape \(4, 2, 5\), got \(4, 2, 3\)"):
        lstm.backward(np.zeros((4, 2, 3)))
    with pytest.raises(TypeError, match=r"LSTM.backward expected dh_n to be a tuple \(dh_n, dc_n\), got ndarray"):
        lstm.backward(np.zeros((4, 2, 5)), np.zeros((1, 2, 5)))
    with pytest.raises(NotImplementedError, match=r"LSTM does not support dropout between layers; got dropout=0.5"):
        nn.LSTM(3, 5, dropout=0.5)
    with pytest.raises(NotImplementedError, match=r"LSTM does not support proj_size; got proj_size=2"):
        nn.LSTM(3, 5, proj_size=2)
    with pytest.raises(ValueError, match=r"RNN expected nonlinearity to be one of 'tanh', 'relu', got 'sigmoid'"):
        nn.RNN(3, 5, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"GRU expected num_layers >= 1, got 0"):
        nn.GRU(3, 5, num_layers=0)
    with pytest.raises(ValueError, match=r"LSTM expected dropout <= 1, got 1.5"):
        nn.LSTM(3, 5, dropout=1.5)


def test_mixed_backends_are_refused(torch):
    m = make("GRU", "numpy", 3, 5)
    with pytest.raises(TypeError, match=r"GRU: x, parameters must be on one backend"):
        m(torch.zeros(4, 2, 3, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"GRU: hx, parameters must be on one backend"):
        m(np.zeros((4, 2, 3)), torch.zeros(1, 2, 5, dtype=torch.float64))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reused_buffers_never_change_what_the_reader_holds(kind, dtype):
    """The scans reuse a large array from call to call only when nothing references it (nn/_spare.py):
    outputs, states and input gradients kept from one call, or only a view of them, and a cache still
    waiting for its backward survive later calls unchanged."""
    vg.set_default_dtype(np.dtype(dtype).name)
    try:
        m, twin = make(kind, "numpy", 8, 64), make(kind, "numpy", 8, 64)
    finally:
        vg.set_default_dtype("float64")
    rng = np.random.default_rng(0)
    xs = [rng.standard_normal((50, 32, 8)).astype(dtype) for _ in range(3)]
    gs = [rng.standard_normal((50, 32, 64)).astype(dtype) for _ in range(3)]
    out0, state0 = m(xs[0])
    dx0, _ = m.backward(gs[0])
    last_only = m(xs[1])[0][-1]                 # only a view of the second output is kept
    m.backward(gs[1])
    kept = [out0, dx0, last_only] + (list(state0) if kind == "LSTM" else [state0])   # (h_n, c_n) or h_n
    copies = [a.copy() for a in kept]
    m.zero_grad()
    out_a, _ = m(xs[1])                         # two calls pending: the first call's cache must survive
    out_b, _ = m(xs[2])
    dx_b, _ = m.backward(gs[2])
    dx_a, _ = m.backward(gs[1])
    for a, c in zip(kept, copies):
        np.testing.assert_array_equal(a, c)
    assert not np.shares_memory(out_a, out_b) and not np.shares_memory(dx_a, dx_b)
    for x, g, out, dx in ((xs[1], gs[1], out_a, dx_a), (xs[2], gs[2], out_b, dx_b)):
        twin.zero_grad()
        np.testing.assert_array_equal(twin(x)[0], out)   # each call on its own gives the same numbers
        np.testing.assert_array_equal(twin.backward(g)[0], dx)
    twin.zero_grad()
    for x, g in ((xs[1], gs[1]), (xs[2], gs[2])):
        twin(x)
        twin.backward(g)
    for (name, p), q in zip(m.named_parameters(), twin.parameters()):
        np.testing.assert_allclose(p.grad, q.grad, rtol=1e-5 if dtype == np.float32 else 1e-12, err_msg=name)
