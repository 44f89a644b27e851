r"""One-step recurrent cells ``RNNCell``, ``LSTMCell``, ``GRUCell``, and what they share with ``recurrent``.

A cell is one step of its sequence module, with torch's names (``weight_ih`` (G*H, I),
``weight_hh`` (G*H, H), ``bias_ih``, ``bias_hh``), gate layouts and initialisation
$U(-1/\sqrt H, 1/\sqrt H)$; the maths is in ``scans`` (a cell is a scan of one step).

    h = cell(x, h)                  # x (N, I) or unbatched (I,); h (N, H), optional (zeros)
    h, c = lstm_cell(x, (h, c))
    dx, dh = cell.backward(dh)      # consumes the most recent pending call
    dx, (dh, dc) = lstm_cell.backward((dh, dc))

Backpropagation through time by hand, for a loop ``for t: h = cell(x[t], h)``:
``for t in reversed(range(T)): dx[t], dh = cell.backward(dh + dout[t])`` (``dh`` starting at zeros):
the recurrent gradient from step $t+1$ plus the direct one of step $t$. The returned ``dh`` is
also given when ``h`` was omitted: the gradient of the zero initial state.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import backend, init
from .._checks import check_array, check_choice, check_number, fmt_shape, same_backend
from .linear import check_input
from .module import Module, Parameter
from .scans import GATES, gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_backward, rnn_forward

__all__ = ["RNNCell", "LSTMCell", "GRUCell"]


# ----------------------------------------------------------------- shared with ``recurrent``: parameters,
# checks, and one layer-direction's forward (projection + scan) and backward (scan + weight gradients)

def make_weights(module, suffix, gates, input_size, hidden_size, bias):
    """Register torch's four parameters ``weight_ih{suffix}``, ... (torch's order) on ``module``."""
    setattr(module, "weight_ih" + suffix, Parameter(backend.zeros(gates * hidden_size, input_size)))
    setattr(module, "weight_hh" + suffix, Parameter(backend.zeros(gates * hidden_size, hidden_size)))
    if bias:
        setattr(module, "bias_ih" + suffix, Parameter(backend.zeros(gates * hidden_size)))
        setattr(module, "bias_hh" + suffix, Parameter(backend.zeros(gates * hidden_size)))


def weights_of(module, suffix):
    """(weight_ih, weight_hh, bias_ih, bias_hh) Parameters; the biases None without bias."""
    return tuple(getattr(module, name + suffix, None) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def reset_uniform(module):
    """torch's default: every weight and bias from $U(-1/\\sqrt H, 1/\\sqrt H)$."""
    bound = 1 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


def check_sizes(owner, input_size, hidden_size, bias):
    """Positive integer sizes and a boolean ``bias``; returns (input_size, hidden_size) as ints."""
    check_number(owner, "input_size", input_size, low=1, integer=True)
    check_number(owner, "hidden_size", hidden_size, low=1, integer=True)
    check_choice(owner, "bias", bias, (True, False))
    return int(input_size), int(hidden_size)


def check_state(module, name, h, shape):
    """A state (h_0, c_0, dh_n, ...) of exactly ``shape`` on the parameters' backend and dtype."""
    owner = type(module).__name__
    check_array(owner, name, h, shape=shape)
    w = module.weight_ih_l0 if hasattr(module, "weight_ih_l0") else module.weight_ih
    same_backend(owner, **{name: h, "parameters": w.data})
    return check_array(owner, name, h, dtype=w.dtype, dtype_source="the parameters' dtype")


def check_ndim_like(owner, name, h, x, batched):
    """A batched x takes batched states, an unbatched x unbatched ones (torch: "hx should also be 2-D")."""
    if h is not None and h.ndim != x.ndim:
        kind = "a batched" if batched else "an unbatched"
        raise ValueError(f"{owner} expected {name} with {x.ndim} dimensions for {kind} x of shape "
                         f"{fmt_shape(x.shape)}, got shape {fmt_shape(h.shape)}")


def project(xp, x, weights, mode):
    """$x W_{ih}^\\top + b_{ih}$ (+ $b_{hh}$ except for the GRU) for all steps: one product. (T, N, G*H)."""
    w_ih, _, b_ih, b_hh = weights
    T, N, I = x.shape
    xg = xp.reshape(xp.reshape(x, (T * N, I)) @ w_ih.data.T, (T, N, w_ih.shape[0]))
    if b_ih is not None:
        xg += b_ih.data if mode == "GRU" else b_ih.data + b_hh.data      # in place: no second (T, N, G*H)
    return xg


def scan_forward(mode, xg, h, c, weights):
    """Run one layer and direction; returns (hs, h_T, c_T or None, scan cache)."""
    w_hh, b_hh = weights[1].data, weights[3]
    if mode == "LSTM":
        return lstm_forward(xg, h, c, w_hh)
    if mode == "GRU":
        return _three(gru_forward(xg, h, w_hh, None if b_hh is None else b_hh.data))
    return _three(rnn_forward(xg, h, w_hh, relu=mode == "RNN_RELU"))


def _three(result):
    hs, h, scan = result
    return hs, h, None, scan


def scan_backward(mode, dhs, dh, dc, scan, weights):
    w_hh = weights[1].data
    if mode == "LSTM":
        return lstm_backward(dhs, dh, dc, scan, w_hh)
    if mode == "GRU":
        return gru_backward(dhs, dh, scan, w_hh)
    return rnn_backward(dhs, dh, scan, w_hh)


def accumulate(xp, weights, x, h_prev, dxg, dhg, mode):
    """Add the weight gradients (one product each, steps stacked) and return dL/dx (T, N, I).

    All arrays in the scan's processing order (reversed in time for a reverse direction).
    $\\partial L/\\partial W_{ih} = \\sum_t \\delta^{x\\top}_t x_t$, $\\partial L/\\partial W_{hh} =
    \\sum_t \\delta^{h\\top}_t h_{t-1}$, biases the sums of the $\\delta$s; all in time order.
    """
    w_ih, w_hh, b_ih, b_hh = weights
    T, N, I = x.shape
    dxg2 = xp.reshape(dxg, (T * N, dxg.shape[-1]))            # (T*N, G*H)
    dhg2 = dxg2 if mode != "GRU" else xp.reshape(dhg, (T * N, dhg.shape[-1]))
    w_ih.accumulate(dxg2.T @ xp.reshape(x, (T * N, I)))
    w_hh.accumulate(dhg2.T @ xp.reshape(h_prev, (T * N, h_prev.shape[-1])))
    if b_ih is not None:
        db = xp.sum(dxg2, axis=0)
        b_ih.accumulate(db)
        b_hh.accumulate(xp.asarray(db, copy=True) if mode != "GRU" else xp.sum(dhg2, axis=0))  # no shared grads
    return xp.reshape(dxg2 @ w_ih.data, (T, N, I))


# ----------------------------------------------------------------- the cells

class _CellCache(NamedTuple):
    x: object        # (1, N, I) the input as a one-step sequence
    scan: object     # the scan cache of the step
    h: object        # the returned h, for the upstream gradient's checks
    batched: bool


class _CellBase(Module):
    """Parameters, validation, forward and backward of the three cells."""

    def __init__(self, mode, input_size, hidden_size, bias=True):
        super().__init__()
        self.input_size, self.hidden_size = check_sizes(type(self).__name__, input_size, hidden_size, bias)
        self.mode, self.bias = mode, bias
        make_weights(self, "", GATES[mode], self.input_size, self.hidden_size, bias)
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self)

    def _states(self, owner, hx, name):
        if self.mode != "LSTM":
            return [(name, hx)]
        if hx is None:
            return [(name + "[0]", None), (name + "[1]", None)]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{owner} expected {name} to be a tuple (h, c), got {type(hx).__name__}")
        return [(name + "[0]", hx[0]), (name + "[1]", hx[1])]

    def forward(self, x, hx=None):
        owner = type(self).__name__
        check_input(self, "x", x, ndim=(1, 2))
        batched = x.ndim == 2
        if x.shape[-1] != self.input_size:
            want = ("N", self.input_size) if batched else (self.input_size,)
            raise ValueError(f"{owner} expected x of shape {fmt_shape(want)}, got {fmt_shape(x.shape)}")
        xp = backend.namespace(x)
        N, H = (x.shape[0] if batched else 1), self.hidden_size
        zeros = xp.zeros((N, H), dtype=x.dtype, device=backend.device_of(x))
        states = []
        for name, h in self._states(owner, hx, "hx"):
            if h is not None:
                check_ndim_like(owner, name, h, x, batched)
                check_state(self, name, h, (N, H) if batched else (H,))
            states.append(zeros if h is None else (h if batched else h[None]))
        x = x[None] if batched else x[None, None]                          # (1, N, I)
        weights = weights_of(self, "")
        xg = project(xp, x, weights, self.mode)                             # (1, N, G*H)
        _, h, c, scan = scan_forward(self.mode, xg, states[0], states[-1], weights)
        if not batched:
            h, c = h[0], (None if c is None else c[0])
        self._cache = _CellCache(x, scan, h, batched)
        return (h, c) if self.mode == "LSTM" else h

    def backward(self, grad_output):
        cache = self._cache
        owner = f"{type(self).__name__}.backward"
        xp = backend.namespace(cache.h)
        N, H = cache.x.shape[1], self.hidden_size
        zeros = xp.zeros((N, H), dtype=cache.h.dtype, device=backend.device_of(cache.h))
        grads = []
        for name, g in self._states(owner, grad_output, "grad_output"):
            if g is not None:
                check_array(owner, name, g, shape=tuple(cache.h.shape), dtype=cache.h.dtype)
                same_backend(owner, **{name: g, "output": cache.h})
            grads.append(zeros if g is None else (g if cache.batched else g[None]))
        weights = weights_of(self, "")
        out = scan_backward(self.mode, grads[0][None], zeros, grads[-1], cache.scan, weights)
        dx = accumulate(xp, weights, cache.x, cache.scan.h_prev, out.dxg, out.dhg, self.mode)[0]   # (N, I)
        dh, dc = out.dh0, out.dc0
        if not cache.batched:
            dx, dh, dc = dx[0], dh[0], (None if dc is None else dc[0])
        return (dx, (dh, dc)) if self.mode == "LSTM" else (dx, dh)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(_CellBase):
    """$h' = \\phi(x W_{ih}^\\top + b_{ih} + h W_{hh}^\\top + b_{hh})$, $\\phi$ = tanh or ReLU (Elman 1990)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh"):
        check_choice("RNNCell", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity


class LSTMCell(_CellBase):
    """One LSTM step (Hochreiter & Schmidhuber 1997): $c' = f c + i g$, $h' = o \\tanh c'$; ``cell(x, (h, c))``."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__("LSTM", input_size, hidden_size, bias)


class GRUCell(_CellBase):
    """One GRU step (Cho et al. 2014): $h' = (1 - z) n + z h$, $n = \\tanh(W_{in} x + b_{in} + r (W_{hn} h + b_{hn}))$."""

    def __init__(self, input_size, hidden_size, bias=True):
        super().__init__("GRU", input_size, hidden_size, bias)
