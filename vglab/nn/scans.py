r"""The step maths of the Elman RNN, the LSTM and the GRU, run over a whole sequence.

Each cell maps the previous state and the input projection $x_t W_{ih}^\top + b_{ih}$ (computed
for all steps at once by the caller, one matrix product) to the next state; the recurrent part
$h_{t-1} W_{hh}^\top$ is one product per step for all gates together. Gate layouts are torch's.

* RNN (Elman 1990): $h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})$, $\phi$ = tanh or ReLU.
* LSTM (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000), gates i, f, g, o:
  $c_t = f \odot c_{t-1} + i \odot g$, $h_t = o \odot \tanh c_t$, with $i, f, o = \sigma(\cdot)$, $g = \tanh(\cdot)$.
* GRU (Cho et al. 2014), gates r, z, n; the reset gate multiplies $W_{hn} h_{t-1} + b_{hn}$:
  $n = \tanh(x W_{in}^\top + b_{in} + r \odot (h_{t-1} W_{hn}^\top + b_{hn}))$, $h_t = (1 - z) \odot n + z \odot h_{t-1}$.

Backward (backpropagation through time, Werbos 1990) walks the steps in reverse. The total
gradient $\partial L/\partial h_t$ is the direct one (``dhs[t]``) plus the one from step $t+1$;
the LSTM's cell path adds $\partial L/\partial c_t = \partial L/\partial c_{t+1} \odot f_{t+1} +
\partial L/\partial h_t \odot o_t \odot (1 - \tanh^2 c_t)$: no squashing derivative, hence its long memory.
The LSTM and GRU keep each step's gates gate-major, (G, N, H) with every gate's (N, H) contiguous
(one product ``h @ w`` with ``w`` (G, H, H) writes them so), and write their results into arrays
allocated once per sequence: NumPy's per-call overhead and fresh arrays, not the arithmetic, are
what a step of these sizes costs. The gates' gradients are written in torch's layout (T, N, G*H),
for one product per weight after the loop.

Shapes: T steps, N batch, H hidden, G gates (1, 4, 3). The functions work in *processing order*
(the caller flips time for a reverse direction); ``xg`` (T, N, G*H) is read, not changed; states (N, H).
In float32 the sigmoid is $\frac12 \tanh(a/2) + \frac12$ (one tanh for all of a step's gates: faster);
in float64 it is ``activations.sigmoid``, exact to the last bit.
"""

from __future__ import annotations

from typing import NamedTuple

from .. import backend
from ._spare import empty as _empty
from ._windows import matmul
from .activations import sigmoid

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
           "GATES"]

#: gates per cell kind: the row blocks of weight_ih and weight_hh
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _fast(x) -> bool:
    r"""float32: use $\sigma(a) = \frac12\tanh(a/2) + \frac12$."""
    return backend.dtype_name(x.dtype) == "float32"


def _transposed(xp, w):
    r"""$W^\top$ as a C-contiguous array: a faster product with a small batch."""
    out = xp.zeros((w.shape[1], w.shape[0]), dtype=w.dtype, device=backend.device_of(w))
    out[...] = w.T
    return out


def _per_gate(xp, w, gates):
    r"""(G*H, H) -> (G, H, H) holding each gate's $W^\top$, C-contiguous: ``h @ w`` is then (G, N, H)."""
    H = w.shape[1]
    out = xp.zeros((gates, H, H), dtype=w.dtype, device=backend.device_of(w))
    out[...] = xp.permute_dims(xp.reshape(w, (gates, H, H)), (0, 2, 1))
    return out


def _gate_constant(xp, values, shape, like):
    """(G, *shape): ``values[k]`` everywhere in gate k."""
    out = xp.zeros((len(values), *shape), dtype=like.dtype, device=backend.device_of(like))
    for k, v in enumerate(values):
        out[k] = v
    return out


class Grads(NamedTuple):
    """What a backward scan returns (processing order)."""
    dxg: object   # (T, N, G*H) gradient of the input projection x W_ih^T + b_ih
    dhg: object   # (T, N, G*H) gradient of the recurrent projection h W_hh^T + b_hh
    dh0: object   # (N, H)
    dc0: object   # (N, H) or None
    dh: object    # (T, N, H) total gradient dL/dh_t
    dc: object    # (T, N, H) total gradient dL/dc_t, or None


def _states(xp, states):
    """[s_0, ..., s_T] -> (s_1..s_T, s_0..s_{T-1}): two (T, N, H) views of one stacked array."""
    stacked = xp.stack(states)                   # (T+1, N, H)
    return stacked[1:], stacked[:-1]


def _reversed_stack(xp, items):
    return xp.stack(items[::-1])


# ----------------------------------------------------------------- Elman RNN

class RNNScan(NamedTuple):
    h_prev: object  # (T, N, H) h_{t-1}
    h: object       # (T, N, H) h_t, from which phi' follows
    relu: bool


def rnn_forward(xg, h, w_hh, relu=False):
    r"""$h_t = \phi(xg_t + h_{t-1} W_{hh}^\top)$, both biases folded into ``xg``. Returns (hs, h_T, cache)."""
    xp = backend.namespace(xg, h, w_hh)
    w, hs = _transposed(xp, w_hh), [h]           # w (H, H)
    for t in range(xg.shape[0]):
        a = h @ w
        a += xg[t]                               # (N, H)
        h = xp.where(a > 0, a, xp.zeros_like(a)) if relu else xp.tanh(a)
        hs.append(h)
    hs, h_prev = _states(xp, hs)                 # (T, N, H)
    return hs, h, RNNScan(h_prev, hs, relu)


def rnn_backward(dhs, dh, scan, w_hh):
    r"""$\delta_t = (\partial L/\partial h_t) \odot \phi'$, $\partial L/\partial h_{t-1} \mathrel{+}= \delta_t W_{hh}$."""
    xp = backend.namespace(dhs, dh, w_hh)
    h = scan.h
    da_all = xp.astype(h > 0, h.dtype) if scan.relu else 1 - h * h   # (T, N, H): phi'(a_t), becomes delta
    dh_total = []
    for t in reversed(range(dhs.shape[0])):
        dh = dh + dhs[t]                         # total dL/dh_t
        da = da_all[t]
        da *= dh                                 # (N, H)
        dh_total.append(dh)
        dh = da @ w_hh                           # (N, H): to h_{t-1}
    return Grads(da_all, da_all, dh, None, _reversed_stack(xp, dh_total), None)


# ----------------------------------------------------------------- LSTM

class LSTMScan(NamedTuple):
    h_prev: object  # (T, N, H)
    c_prev: object  # (T, N, H)
    gates: object   # (T, 4, N, H) activated i, f, g, o: each step's (4, N, H) is contiguous
    tanh_c: object  # (T, N, H) tanh(c_t)


def lstm_forward(xg, h, c, w_hh):
    """One LSTM layer and direction; both biases folded into ``xg``. Returns (hs, h_T, c_T, cache)."""
    xp = backend.namespace(xg, h, c, w_hh)
    T, (N, H) = xg.shape[0], h.shape
    w = _per_gate(xp, w_hh, 4)                                  # (4, H, H): W_hh^T of each gate
    xg = xp.permute_dims(xp.reshape(xg, (T, N, 4, H)), (0, 2, 1, 3))   # (T, 4, N, H), a view
    gates = _empty(xp, (T, 4, N, H), xg, "lstm gates")
    hs, cs = _empty(xp, (T + 1, N, H), xg, "lstm h"), _empty(xp, (T + 1, N, H), xg, "lstm c")
    tcs = _empty(xp, (T, N, H), xg, "lstm tanh c")
    hs[0], cs[0] = h, c
    fast = _fast(xg)
    if fast:  # sigma(a) = tanh(a/2)/2 + 1/2 for i, f, o; full-size factors: a broadcast one is slower
        half = _gate_constant(xp, (0.5, 0.5, 1.0, 0.5), (N, H), xg)   # (4, N, H)
        shift = _gate_constant(xp, (0.5, 0.5, 0.0, 0.5), (N, H), xg)
    for t in range(T):
        s = gates[t]                                 # (4, N, H): pre-activations, then gates
        matmul(hs[t], w, out=s)
        s += xg[t]                                   # h_{t-1} W_hh^T + x_t W_ih^T + b
        if fast:
            s *= half
            xp.tanh(s, out=s)                        # sigma, sigma, tanh, sigma in one tanh
            s *= half
            s += shift
        else:
            s[:2] = sigmoid(s[:2])
            s[3] = sigmoid(s[3])
            xp.tanh(s[2], out=s[2])
        i, f, g, o = s
        c = xp.multiply(f, cs[t], out=cs[t + 1])
        c += i * g                                   # c_t = f c_{t-1} + i g
        xp.tanh(c, out=tcs[t])
        xp.multiply(o, tcs[t], out=hs[t + 1])        # h_t = o tanh(c_t)
    return hs[1:], hs[T], cs[T], LSTMScan(hs[:-1], cs[:-1], gates, tcs)


def lstm_backward(dhs, dh, dc, scan, w_hh):
    """BPTT through one LSTM layer; ``dh``, ``dc`` (N, H) are the gradients of the last state."""
    xp = backend.namespace(dhs, dh, dc, w_hh)
    T, N, H = dhs.shape
    gates, tc, c_prev = scan.gates, scan.tanh_c, scan.c_prev
    f = gates[:, 1]                                  # (T, N, H) forget gates
    through = tc * tc
    xp.negative(through, out=through)
    through += 1
    through *= gates[:, 3]                           # (T, N, H): o (1 - tanh^2 c), dc_t/dh_t
    da_all = _empty(xp, (T, N, 4 * H), dhs, "lstm da")          # the gates' gradient, torch's layout
    da4 = xp.permute_dims(xp.reshape(da_all, (T, N, 4, H)), (0, 2, 1, 3))   # (T, 4, N, H), a view
    dh_total, dc_total = _empty(xp, (T, N, H), dhs, "lstm dh"), _empty(xp, (T, N, H), dhs, "lstm dc")
    d = _empty(xp, (4, N, H), dhs)                   # one step's local derivatives, then more
    one = _gate_constant(xp, (1.0,), (N, H), dhs)[0]
    for t in reversed(range(T)):
        dh = xp.add(dh, dhs[t], out=dh_total[t])    # total dL/dh_t
        dc = dc + dh * through[t]                    # total dL/dc_t
        dc_total[t] = dc
        i, _, g, _ = s = gates[t]                    # (4, N, H) activated gates
        xp.multiply(s, s, out=d)
        xp.subtract(s, d, out=d)                     # s (1 - s): sigma' of i, f, o
        xp.multiply(g, g, out=d[2])
        xp.subtract(one, d[2], out=d[2])             # 1 - g^2: tanh' of g
        d[:3] *= dc                                  # i, f, g act through c_t,
        d[3] *= dh                                   # o through h_t
        da = da4[t]                                  # (4, N, H) view of (N, 4H)
        xp.multiply(d[0], g, out=da[0])              # dc_t/di = g
        xp.multiply(d[1], c_prev[t], out=da[1])      # dc_t/df = c_{t-1}
        xp.multiply(d[2], i, out=da[2])              # dc_t/dg = i
        xp.multiply(d[3], tc[t], out=da[3])          # dh_t/do = tanh c_t
        dc = dc * f[t]                               # to c_{t-1}
        dh = da_all[t] @ w_hh                        # to h_{t-1}
    return Grads(da_all, da_all, dh, dc, dh_total, dc_total)


# ----------------------------------------------------------------- GRU

class GRUScan(NamedTuple):
    h_prev: object  # (T, N, H)
    rz: object      # (T, 2, N, H) reset and update gates
    n: object       # (T, N, H) candidate state
    hg: object      # (T, 3, N, H) h_{t-1} W_hh^T + b_hh per gate; the reset gate scales the last, hn


def gru_forward(xg, h, w_hh, b_hh):
    r"""One GRU layer and direction; ``xg`` holds $x W_{ih}^\top + b_{ih}$ only. Returns (hs, h_T, cache)."""
    xp = backend.namespace(xg, h, w_hh, b_hh)
    T, (N, H) = xg.shape[0], h.shape
    w = _per_gate(xp, w_hh, 3)                                  # (3, H, H): W_hh^T of each gate
    xg = xp.permute_dims(xp.reshape(xg, (T, N, 3, H)), (0, 2, 1, 3))   # (T, 3, N, H), a view
    hgs, rzs = _empty(xp, (T, 3, N, H), xg, "gru hg"), _empty(xp, (T, 2, N, H), xg, "gru rz")
    hs, ns = _empty(xp, (T + 1, N, H), xg, "gru h"), _empty(xp, (T, N, H), xg, "gru n")
    hs[0] = h
    if b_hh is not None:  # full size (3, N, H): a broadcast operand is slower
        b = xp.zeros((3, N, H), dtype=xg.dtype, device=backend.device_of(xg))
        b += xp.reshape(b_hh, (3, 1, H))
    fast = _fast(xg)
    for t in range(T):
        hg = hgs[t]                                  # (3, N, H)
        matmul(hs[t], w, out=hg)
        if b_hh is not None:
            hg += b                                  # h_{t-1} W_hh^T + b_hh
        rz = xp.add(xg[t, :2], hg[:2], out=rzs[t])  # (2, N, H) pre-activations of r and z
        if fast:                                     # sigma(a) = tanh(a/2)/2 + 1/2
            rz *= 0.5
            xp.tanh(rz, out=rz)
            rz *= 0.5
            rz += 0.5
        else:
            rz[...] = sigmoid(rz)
        r, z = rz
        n = xp.multiply(r, hg[2], out=ns[t])
        n += xg[t, 2]
        xp.tanh(n, out=n)                            # tanh(x W_in + b_in + r (h W_hn + b_hn))
        h = xp.subtract(hs[t], n, out=hs[t + 1])
        h *= z
        h += n                                       # (1 - z) n + z h
    return hs[1:], hs[T], GRUScan(hs[:-1], rzs, ns, hgs)


def gru_backward(dhs, dh, scan, w_hh):
    r"""BPTT through one GRU layer: $\partial L/\partial h_{t-1} = \delta_{hg} W_{hh} + (\partial L/\partial h_t) \odot z$."""
    xp = backend.namespace(dhs, dh, w_hh)
    T, N, H = dhs.shape
    r, z, n, hn = scan.rz[:, 0], scan.rz[:, 1], scan.n, scan.hg[:, 2]   # (T, N, H)
    # d(pre-activations)/d(h_t) for r, z, n, all steps at once, one (T, N, H) array at a time
    one_z = 1 - z
    a_n = n * n
    xp.negative(a_n, out=a_n)
    a_n += 1
    a_n *= one_z                                     # (1 - z)(1 - n^2)
    a_z = scan.h_prev - n
    a_z *= z
    a_z *= one_z                                     # (h_{t-1} - n) z (1 - z)
    a_r = a_n * hn
    a_r *= r
    a_r *= 1 - r                                     # (1 - z)(1 - n^2) hn r (1 - r)
    a_hn = a_n * r                                   # the reset gate scales h W_hn^T + b_hn
    dxg_all = _empty(xp, (T, N, 3 * H), dhs, "gru dxg")   # gradient of x W_ih^T + b_ih, torch's layout
    dhg_all = _empty(xp, (T, N, 3 * H), dhs, "gru dhg")   # gradient of h W_hh^T + b_hh
    dx4, dg4 = (xp.permute_dims(xp.reshape(a, (T, N, 3, H)), (0, 2, 1, 3)) for a in (dxg_all, dhg_all))
    dh_total = _empty(xp, (T, N, H), dhs, "gru dh")
    for t in reversed(range(T)):
        dh = xp.add(dh, dhs[t], out=dh_total[t])    # total dL/dh_t
        dx, dg = dx4[t], dg4[t]                      # (3, N, H) views of (N, 3H)
        xp.multiply(a_r[t], dh, out=dx[0])
        xp.multiply(a_z[t], dh, out=dx[1])
        xp.multiply(a_n[t], dh, out=dx[2])
        dg[:2] = dx[:2]                              # r and z: the same gradient for both projections
        xp.multiply(a_hn[t], dh, out=dg[2])
        dh_prev = dhg_all[t] @ w_hh
        dh_prev += dh * z[t]
        dh = dh_prev
    return Grads(dxg_all, dhg_all, dh, None, dh_total, None)
