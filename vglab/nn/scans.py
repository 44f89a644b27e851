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
Everything that does not depend on the recurrence (the gates' derivatives) is computed for all
steps at once before the loop; the loop does a handful of array operations (in place where it
can: fewer fresh arrays is faster at these sizes) and one product with a contiguous $W_{hh}^\top$.

Shapes: T steps, N batch, H hidden, G gates (1, 4, 3). The functions work in *processing order*
(the caller flips time for a reverse direction). ``xg`` (T, N, G*H), which a float32 forward scales in
place (callers pass a fresh array); states (N, H).
In float32 the sigmoid is $\frac12 \tanh(x/2) + \frac12$ (one tanh for all gates, the halving folded
into the weights: faster); in float64 it is ``activations.sigmoid``, exact to the last bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from .activations import sigmoid

__all__ = ["rnn_forward", "rnn_backward", "lstm_forward", "lstm_backward", "gru_forward", "gru_backward",
           "GATES"]

#: gates per cell kind: the row blocks of weight_ih and weight_hh
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _fast(x) -> bool:
    r"""float32: use $\sigma(a) = \frac12\tanh(a/2) + \frac12$."""
    return backend.dtype_name(x.dtype) == "float32"


def _row_scale(xp, like, scales, hidden):
    """(G*H,) vector repeating ``scales[k]`` over gate k's H rows."""
    return xp.asarray(np.repeat(np.asarray(scales, dtype=float), hidden), dtype=like.dtype,
                      device=backend.device_of(like))


def _transposed(xp, w, scale=None):
    r"""$W^\top$ (rows scaled first) as a C-contiguous array: a faster product with a small batch."""
    out = xp.zeros((w.shape[1], w.shape[0]), dtype=w.dtype, device=backend.device_of(w))
    out[...] = (w if scale is None else w * scale[:, None]).T
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
    gates: object   # (T, N, 4, H) activated i, f, g, o
    tanh_c: object  # (T, N, H) tanh(c_t)


def lstm_forward(xg, h, c, w_hh):
    """One LSTM layer and direction; both biases folded into ``xg``. Returns (hs, h_T, c_T, cache)."""
    xp = backend.namespace(xg, h, c, w_hh)
    N, H = h.shape
    fast = _fast(xg)
    if fast:  # sigma(a) = tanh(a/2)/2 + 1/2: halve the i, f, o rows of both projections once
        scale = _row_scale(xp, xg, (0.5, 0.5, 1.0, 0.5), H)          # (4H,)
        xg *= scale                                                   # in place: xg is ours
        w = _transposed(xp, w_hh, scale)
        # s = tanh(a) * scale + shift, full size (N, 4, H): a broadcast (4, 1) operand is slower
        g_scale = xp.reshape(scale, (1, 4, H)) + xp.zeros((N, 4, H), dtype=xg.dtype, device=backend.device_of(xg))
        g_shift = xp.where(g_scale < 1, g_scale, xp.zeros_like(g_scale))       # 1/2 for i, f, o; 0 for g
    else:
        w = _transposed(xp, w_hh)                                     # (H, 4H)
    hs, cs, gs, tcs = [h], [c], [], []
    for t in range(xg.shape[0]):
        a = h @ w
        a += xg[t]
        a = xp.reshape(a, (N, 4, H))
        if fast:
            g = xp.tanh(a)                           # sigma, sigma, tanh, sigma in one tanh
            g *= g_scale
            g += g_shift
        else:
            g = sigmoid(a)                           # (N, 4, H)
            g[:, 2] = xp.tanh(a[:, 2])
        c = g[:, 1] * c
        c += g[:, 0] * g[:, 2]                       # f*c + i*g
        tc = xp.tanh(c)
        h = g[:, 3] * tc                             # o*tanh(c)
        hs.append(h)
        cs.append(c)
        gs.append(g)
        tcs.append(tc)
    (hs, h_prev), (_, c_prev) = _states(xp, hs), _states(xp, cs)   # (T, N, H)
    return hs, h, c, LSTMScan(h_prev, c_prev, xp.stack(gs), xp.stack(tcs))


def lstm_backward(dhs, dh, dc, scan, w_hh):
    """BPTT through one LSTM layer; ``dh``, ``dc`` (N, H) are the gradients of the last state."""
    xp = backend.namespace(dhs, dh, dc, w_hh)
    T, N, H = dhs.shape
    g, tc = scan.gates, scan.tanh_c
    i, f, gg, o = g[:, :, 0], g[:, :, 1], g[:, :, 2], g[:, :, 3]
    # d(pre-activation)/d(c_t) for i, f, g and d(pre-activation)/d(h_t) for o, all steps at once;
    # the loop multiplies it in place by dL/dc_t and dL/dh_t, so it becomes the gates' gradient
    da_all = 1 - g
    da_all *= g                                      # (T, N, 4, H): s(1 - s), right for i, f, o
    da_all[:, :, 2] = 1 - gg * gg                    # tanh' for g
    da_all[:, :, 0] *= gg
    da_all[:, :, 1] *= scan.c_prev
    da_all[:, :, 2] *= i
    da_all[:, :, 3] *= tc                            # (in place: fewer fresh (T, N, H) arrays)
    through = tc * tc
    through *= -1
    through += 1
    through *= o                                     # (T, N, H): o (1 - tanh^2 c), dc_t/dh_t
    dh_total, dc_total = [], []
    for t in reversed(range(T)):
        dh = dh + dhs[t]                             # total dL/dh_t
        dc = dc + dh * through[t]                    # total dL/dc_t
        da = da_all[t]                               # (N, 4, H)
        da[:, :3] *= dc[:, None, :]
        da[:, 3] *= dh
        dh_total.append(dh)
        dc_total.append(dc)
        dc = dc * f[t]                               # to c_{t-1}
        dh = xp.reshape(da, (N, 4 * H)) @ w_hh       # to h_{t-1}
    da_all = xp.reshape(da_all, (T, N, 4 * H))
    return Grads(da_all, da_all, dh, dc, _reversed_stack(xp, dh_total), _reversed_stack(xp, dc_total))


# ----------------------------------------------------------------- GRU

class GRUScan(NamedTuple):
    h_prev: object  # (T, N, H)
    rz: object      # (T, N, 2, H) reset and update gates
    n: object       # (T, N, H) candidate state
    hn: object      # (T, N, H) h_{t-1} W_hn^T + b_hn, the part the reset gate scales


def gru_forward(xg, h, w_hh, b_hh):
    r"""One GRU layer and direction; ``xg`` holds $x W_{ih}^\top + b_{ih}$ only. Returns (hs, h_T, cache)."""
    xp = backend.namespace(xg, h, w_hh, b_hh)
    N, H = h.shape
    fast = _fast(xg)
    if fast:  # sigma(a) = tanh(a/2)/2 + 1/2: halve the r, z rows of both projections once
        scale = _row_scale(xp, xg, (0.5, 0.5, 1.0), H)                # (3H,)
        xg *= scale                                                   # in place: xg is ours
        w = _transposed(xp, w_hh, scale)
        b_hh = None if b_hh is None else b_hh * scale
    else:
        w = _transposed(xp, w_hh)                                     # (H, 3H)
    hs, rzs, ns, hns = [h], [], [], []
    for t in range(xg.shape[0]):
        hg = h @ w
        if b_hh is not None:
            hg += b_hh
        hg, x3 = xp.reshape(hg, (N, 3, H)), xp.reshape(xg[t], (N, 3, H))
        rz = x3[:, :2] + hg[:, :2]                   # (N, 2, H)
        if fast:
            rz = xp.tanh(rz)
            rz *= 0.5
            rz += 0.5
        else:
            rz = sigmoid(rz)
        n = rz[:, 0] * hg[:, 2]
        n += x3[:, 2]
        n = xp.tanh(n)                               # tanh(x W_in + b_in + r (h W_hn + b_hn))
        h = h - n
        h *= rz[:, 1]
        h += n                                       # (1 - z) n + z h
        hs.append(h)
        rzs.append(rz)
        ns.append(n)
        hns.append(hg[:, 2])
    hs, h_prev = _states(xp, hs)
    return hs, h, GRUScan(h_prev, xp.stack(rzs), xp.stack(ns), xp.stack(hns))


def gru_backward(dhs, dh, scan, w_hh):
    r"""BPTT through one GRU layer: $\partial L/\partial h_{t-1} = \delta_{hg} W_{hh} + (\partial L/\partial h_t) \odot z$."""
    xp = backend.namespace(dhs, dh, w_hh)
    T, N, H = dhs.shape
    r, z, n = scan.rz[:, :, 0], scan.rz[:, :, 1], scan.n
    # d(pre-activations)/d(h_t) for r, z, n, all steps at once
    one_z = 1 - z
    a_n = 1 - n * n
    a_n *= one_z                                     # (1 - z)(1 - n^2)
    a_z = scan.h_prev - n
    a_z *= z
    a_z *= one_z                                     # (h_{t-1} - n) z (1 - z)
    a_r = a_n * scan.hn
    a_r *= r
    a_r *= 1 - r                                     # (1 - z)(1 - n^2) hn r (1 - r)
    dhg_all = xp.stack([a_r, a_z, a_n * r], axis=2)  # (T, N, 3, H): the reset gate scales hn
    dh_total = []
    for t in reversed(range(T)):
        dh = dh + dhs[t]                             # total dL/dh_t
        dhg = dhg_all[t]
        dhg *= dh[:, None, :]                        # (N, 3, H): now the gradient of h W_hh^T + b_hh
        dh_total.append(dh)
        dh_prev = xp.reshape(dhg, (N, 3 * H)) @ w_hh
        dh_prev += dh * z[t]
        dh = dh_prev
    dh_all = _reversed_stack(xp, dh_total)           # (T, N, H)
    dxg = xp.asarray(dhg_all, copy=True)             # r and z: the same gradient for both projections
    dxg[:, :, 2] = a_n * dh_all                      # n: the input projection is not scaled by r
    return Grads(xp.reshape(dxg, (T, N, 3 * H)), xp.reshape(dhg_all, (T, N, 3 * H)), dh, None, dh_all, None)
