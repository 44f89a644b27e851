"""nn.RNNCell, nn.LSTMCell, nn.GRUCell: a cell stepped in a loop and differentiated by a reverse loop equals
torch's cells stepped the same way; gradient checks; one step equals the sequence module; errors."""

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
            return nn.RNNCell(*args, nonlinearity="relu" if kind == "RNN_RELU" else "tanh", **kwargs)
        return getattr(nn, kind + "Cell")(*args, **kwargs)


def torch_copy(torch, cell):
    extra = {"nonlinearity": cell.nonlinearity} if isinstance(cell, nn.RNNCell) else {}
    t = getattr(torch.nn, type(cell).__name__)(cell.input_size, cell.hidden_size, bias=cell.bias,
                                               dtype=torch.float64, **extra)
    with torch.no_grad():
        for name, p in cell.named_parameters():
            getattr(t, name).copy_(torch.from_numpy(vg.to_numpy(p.data).copy()))
    return t


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=15)
@given(T=st.integers(1, 6), N=st.integers(1, 3), I=st.integers(1, 4), H=st.integers(1, 4), batched=st.booleans(),
       given_h=st.booleans(), bias=st.booleans(), seed=st.integers(0, 2**16))
def test_cell_loop_matches_torch(backend, kind, T, N, I, H, batched, given_h, bias, seed):
    torch = pytest.importorskip("torch")
    lstm = kind == "LSTM"
    cell = make(kind, backend, I, H, bias=bias, seed=seed)
    ref = torch_copy(torch, cell)
    rng = np.random.default_rng(seed)
    lead = (N,) if batched else ()
    x, dout = rng.standard_normal((T,) + lead + (I,)), rng.standard_normal((T,) + lead + (H,))
    h0 = [rng.standard_normal(lead + (H,)) for _ in range(2 if lstm else 1)]
    dc_last = rng.standard_normal(lead + (H,))

    state = (tuple(on(backend, a) for a in h0) if lstm else on(backend, h0[0])) if given_h else None
    for t in range(T):                                        # the reader's forward loop
        state = cell(on(backend, x[t]), state)
    dh, dc = on(backend, np.zeros(lead + (H,))), on(backend, dc_last)
    dx = [None] * T
    for t in reversed(range(T)):                              # ... and its reverse loop
        if lstm:
            dx[t], (dh, dc) = cell.backward((dh + on(backend, dout[t]), dc))
        else:
            dx[t], dh = cell.backward(dh + on(backend, dout[t]))

    x_t = torch.tensor(x, requires_grad=True)
    h0_t = [torch.tensor(a, requires_grad=True) for a in h0]
    state_t = (tuple(h0_t) if lstm else h0_t[0]) if given_h else None
    loss = 0
    for t in range(T):
        state_t = ref(x_t[t], state_t)
        loss = loss + ((state_t[0] if lstm else state_t) * torch.tensor(dout[t])).sum()
    if lstm:
        loss = loss + (state_t[1] * torch.tensor(dc_last)).sum()
    loss.backward()

    assert rel_error(state[0] if lstm else state, (state_t[0] if lstm else state_t).detach()) < 1e-10
    assert rel_error(np.stack([vg.to_numpy(d) for d in dx]), x_t.grad) < 1e-10
    if given_h:
        assert rel_error(dh, h0_t[0].grad) < 1e-10
        if lstm:
            assert rel_error(dc, h0_t[1].grad) < 1e-10
    for name, p in cell.named_parameters():
        assert vg.backend.is_torch(p.grad) == (backend == "torch")
        assert rel_error(p.grad, getattr(ref, name).grad) < 1e-10, name


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
def test_omitted_state_still_gets_its_gradient(backend, kind, torch):
    """h omitted means zeros; the returned dh is the gradient of that zero initial state."""
    lstm = kind == "LSTM"
    cell = make(kind, backend, 3, 4, seed=1)
    ref = torch_copy(torch, cell)
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((2, 3)), [rng.standard_normal((2, 4)) for _ in range(2)]
    cell(on(backend, x))
    dx, d0 = cell.backward((on(backend, g[0]), on(backend, g[1])) if lstm else on(backend, g[0]))
    zeros = [torch.zeros(2, 4, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    out = ref(torch.tensor(x), tuple(zeros) if lstm else zeros[0])
    loss = sum((o * torch.tensor(a)).sum() for o, a in zip(out if lstm else (out,), g))
    loss.backward()
    for mine, theirs in zip(d0 if lstm else (d0,), zeros):
        assert tuple(mine.shape) == (2, 4)
        assert rel_error(mine, theirs.grad) < 1e-10
    assert np.any(vg.to_numpy(d0[0] if lstm else d0) != 0)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", KINDS)
def test_gradcheck(backend, kind):
    lstm = kind == "LSTM"
    cell = make(kind, backend, 3, 4, seed=2)
    rng = np.random.default_rng(3)
    x = on(backend, rng.standard_normal((2, 3)))
    states = [on(backend, rng.standard_normal((2, 4))) for _ in range(2 if lstm else 1)]
    r = [on(backend, rng.standard_normal((2, 4))) for _ in states]
    xp = vg.backend.namespace(x)

    def loss():
        with vg.no_grad():
            out = cell(x, tuple(states) if lstm else states[0])
        return sum(xp.sum(o * a) for o, a in zip(out if lstm else (out,), r))

    cell(x, tuple(states) if lstm else states[0])
    dx, d0 = cell.backward(tuple(r) if lstm else r[0])
    analytic = {"x": dx, **{f"state{i}": d for i, d in enumerate(d0 if lstm else (d0,))},
                **{name: p.grad for name, p in cell.named_parameters()}}
    arrays = {"x": x, **{f"state{i}": a for i, a in enumerate(states)},
              **{name: p.data for name, p in cell.named_parameters()}}
    for name, a in arrays.items():
        num = numerical_gradient(loss, a, h=1e-6)
        assert rel_error(analytic[name], num) < 1e-7, name


@pytest.mark.parametrize("kind", KINDS)
def test_one_step_equals_the_sequence_module(kind):
    """A cell is one step of its sequence module: same weights, same h, same gradients."""
    lstm = kind == "LSTM"
    cell = make(kind, "numpy", 3, 4)
    seq = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(kind, nn.RNN)(3, 4, **({} if not kind.startswith("RNN") else
                                                                    {"nonlinearity": cell.nonlinearity}))
    for name, p in cell.named_parameters():
        getattr(seq, name + "_l0").data = p.data.copy()
    rng = np.random.default_rng(0)
    x, h0, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    state = (h0, h0 + 1) if lstm else h0
    h = cell(x, state)
    out, _ = seq(x[None], (h0[None], h0[None] + 1) if lstm else h0[None])
    assert np.array_equal(h[0] if lstm else h, out[0])
    dx, _ = cell.backward((g, None) if lstm else g)
    dx_seq, _ = seq.backward(g[None])
    assert np.allclose(dx, dx_seq[0], rtol=1e-14, atol=1e-15)
    for name, p in cell.named_parameters():
        assert np.allclose(p.grad, getattr(seq, name + "_l0").grad, rtol=1e-14, atol=1e-15), name


def test_names_shapes_init_and_repr(torch):
    for kind, t in [("LSTM", torch.nn.LSTMCell(3, 5)), ("GRU", torch.nn.GRUCell(3, 5, bias=False)),
                    ("RNN_RELU", torch.nn.RNNCell(3, 5, nonlinearity="relu"))]:
        cell = make(kind, "numpy", 3, 5, **({"bias": False} if kind == "GRU" else {}))
        assert [(n, p.shape) for n, p in cell.named_parameters()] == [(n, tuple(p.shape)) for n, p in t.named_parameters()]
        assert repr(cell) == repr(t)
        values = np.concatenate([vg.to_numpy(p.data).ravel() for p in cell.parameters()])
        assert np.abs(values).max() <= 1 / math.sqrt(5) and np.abs(values).max() > 0.95 / math.sqrt(5)


def test_bad_arguments():
    rnn, lstm = make("RNN_TANH", "numpy", 3, 5), make("LSTM", "numpy", 3, 5)
    with pytest.raises(ValueError, match=r"RNNCell expected x of shape \(N, 3\), got \(2, 4\)"):
        rnn(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"RNNCell expected x with 1 or 2 dimensions, got shape \(1, 2, 3\)"):
        rnn(np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match=r"RNNCell expected hx of shape \(2, 5\), got \(3, 5\)"):
        rnn(np.zeros((2, 3)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"RNNCell expected hx with 1 dimensions for an unbatched x of shape \(3,\), "
                                         r"got shape \(1, 5\)"):
        rnn(np.zeros(3), np.zeros((1, 5)))
    with pytest.raises(TypeError, match=r"LSTMCell expected hx to be a tuple \(h, c\), got ndarray"):
        lstm(np.zeros((2, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"LSTMCell expected hx\[1\] of shape \(2, 5\), got \(2, 4\)"):
        lstm(np.zeros((2, 3)), (np.zeros((2, 5)), np.zeros((2, 4))))
    lstm(np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"LSTMCell.backward expected grad_output to be a tuple \(h, c\), got ndarray"):
        lstm.backward(np.zeros((2, 5)))
    rnn(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"RNNCell.backward expected grad_output of shape \(2, 5\), got \(5,\)"):
        rnn.backward(np.zeros(5))
    with pytest.raises(ValueError, match=r"GRUCell expected hidden_size >= 1, got 0"):
        nn.GRUCell(3, 0)
