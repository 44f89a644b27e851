r"""Multi-layer recurrent networks ``RNN``, ``LSTM``, ``GRU`` with backpropagation through time; ``LastStep``.

Names, shapes, defaults and initialisation are torch's: layer $l$ and direction $d$ own
``weight_ih_l{l}`` (G*H, I_l), ``weight_hh_l{l}`` (G*H, H), ``bias_ih_l{l}``, ``bias_hh_l{l}`` (G*H,)
(suffix ``_reverse`` for the backward direction), G = 1 (RNN), 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n),
every one drawn from $U(-1/\sqrt H, 1/\sqrt H)$. Layer $l > 0$ reads the outputs of layer $l-1$,
both directions concatenated (I_l = D*H). The step maths are in ``scans``.

    out, h_n = rnn(x, h_0)                 # x (T, N, I) or unbatched (T, I); batch_first: (N, T, I)
    out, (h_n, c_n) = lstm(x, (h_0, c_0))  # out (T, N, D*H), h_n and c_n (num_layers*D, N, H)
    dx, dh_0 = rnn.backward(dout, dh_n)    # dh_n may be omitted (zeros)
    dx, (dh_0, dc_0) = lstm.backward(dout, (dh_n, dc_n))
    rnn.grad_norms["h"]                    # (num_layers, T): ||dL/dh_t||_F, the total gradient

Backward is backpropagation through time (Werbos 1990): layers top to bottom, steps last to first.
``grad_norms["h"][l, t]`` is $\|\partial L/\partial h_t\|_F$ over (N, H) for layer $l$, the direct gradient
(from ``dout`` or the layer above) plus the one through $h_{t+1}$; its decay towards small t is the
vanishing gradient (Bengio et al. 1994; Pascanu et al. 2013). For a bidirectional layer it holds
$\sqrt{\|\partial L/\partial h^\rightarrow_t\|^2 + \|\partial L/\partial h^\leftarrow_t\|^2}$: the norm of
the gradient of the layer's output at step t, both directions together. The LSTM adds ``"c"``.
The weight gradients are one matrix product per weight after the backward loop (all steps stacked).
Not supported (a clear error): ``dropout > 0`` between layers, the LSTM's ``proj_size``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_array, check_choice, check_number, fmt_shape, same_backend
from .cells import (accumulate, check_ndim_like, check_sizes, check_state, make_weights, project,
                    reset_uniform, scan_backward, scan_forward, weights_of)
from .linear import check_input
from .module import Module
from .scans import GATES

__all__ = ["RNN", "LSTM", "GRU", "LastStep"]


# ----------------------------------------------------------------- the multi-layer modules

class _Layer(NamedTuple):
    x: object        # (T, N, I_l) the layer's input, time order
    scans: tuple     # one scan cache per direction (processing order)


class _RecurrentCache(NamedTuple):
    layers: tuple    # a _Layer per layer
    out: object      # the output as returned, for the upstream gradient's checks
    h_n: object      # h_n as returned
    batched: bool


class _RecurrentBase(Module):
    """Sizes, parameters, validation and the multi-layer, bidirectional driver of RNN, LSTM and GRU."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0):
        super().__init__()
        owner = type(self).__name__
        self.input_size, self.hidden_size = check_sizes(owner, input_size, hidden_size, bias)
        self.num_layers = int(check_number(owner, "num_layers", num_layers, low=1, integer=True))
        check_number(owner, "dropout", dropout, low=0, high=1)
        if dropout != 0:
            raise NotImplementedError(f"{owner} does not support dropout between layers; got dropout={dropout} "
                                      "(use dropout=0)")
        if proj_size != 0:
            raise NotImplementedError(f"{owner} does not support proj_size; got proj_size={proj_size}")
        self.mode, self.bias, self.dropout = mode, bias, float(dropout)
        self.batch_first = check_choice(owner, "batch_first", batch_first, (True, False))
        self.bidirectional = check_choice(owner, "bidirectional", bidirectional, (True, False))
        self.proj_size = 0
        self.grad_norms = {}
        D = 2 if bidirectional else 1
        for layer in range(self.num_layers):
            for suffix in ("", "_reverse")[:D]:
                size = self.input_size if layer == 0 else D * self.hidden_size
                make_weights(self, f"_l{layer}{suffix}", GATES[mode], size, self.hidden_size, bias)
        self.reset_parameters()

    def reset_parameters(self):
        reset_uniform(self)

    @property
    def _directions(self):
        return 2 if self.bidirectional else 1

    def _suffix(self, layer, direction):
        return f"_l{layer}" + ("_reverse" if direction else "")

    def _inputs(self, x, hx):
        """Validated (x (T, N, I) time-major, h_0, c_0 (L*D, N, H) or None, batched)."""
        owner = type(self).__name__
        check_input(self, "x", x, ndim=(2, 3))
        batched = x.ndim == 3
        if x.shape[-1] != self.input_size:
            want = ("N", "T", self.input_size) if self.batch_first else ("T", "N", self.input_size)
            want = want if batched else ("T", self.input_size)
            raise ValueError(f"{owner} expected x of shape {fmt_shape(want)}, got {fmt_shape(x.shape)}")
        xp = backend.namespace(x)
        N = x.shape[1] if batched and not self.batch_first else (x.shape[0] if batched else 1)
        LD, H = self.num_layers * self._directions, self.hidden_size
        out = []
        for name, h in self._split_states(owner, hx, "hx"):
            if h is not None:
                check_ndim_like(owner, name, h, x, batched)
                check_state(self, name, h, (LD, N, H) if batched else (LD, H))
                h = h if batched else h[:, None, :]
            out.append(h)
        if not batched:
            x = x[:, None, :]
        elif self.batch_first:
            x = xp.permute_dims(x, (1, 0, 2))
        zeros = xp.zeros((LD, N, H), dtype=x.dtype, device=backend.device_of(x))
        h0 = zeros if out[0] is None else out[0]
        c0 = None if self.mode != "LSTM" else (zeros if out[1] is None else out[1])
        return x, h0, c0, batched

    def _split_states(self, owner, hx, name):
        """[(name, h)] or, for the LSTM, [(h name, h), (c name, c)] from hx (None: zeros)."""
        if self.mode != "LSTM":
            return [(name, hx)]
        names = ("h_0", "c_0") if name == "hx" else ("dh_n", "dc_n")
        if hx is None:
            return [(names[0], None), (names[1], None)]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(f"{owner} expected {name} to be a tuple ({', '.join(names)}), got {type(hx).__name__}")
        return list(zip(names, hx))

    def forward(self, x, hx=None):
        x, h0, c0, batched = self._inputs(x, hx)
        xp = backend.namespace(x)
        layers, h_n, c_n = [], [], []
        for layer in range(self.num_layers):
            outs, scans = [], []
            for d in range(self._directions):
                k, weights = layer * self._directions + d, weights_of(self, self._suffix(layer, d))
                xg = project(xp, x, weights, self.mode)          # (T, N, G*H)
                xg = xp.flip(xg, axis=0) if d else xg
                hs, h, c, scan = scan_forward(self.mode, xg, h0[k], None if c0 is None else c0[k], weights)
                outs.append(xp.flip(hs, axis=0) if d else hs)   # (T, N, H), time order
                h_n.append(h)
                c_n.append(c)
                scans.append(scan)
            layers.append(_Layer(x, tuple(scans)))
            x = outs[0] if len(outs) == 1 else xp.concat(outs, axis=2)   # (T, N, D*H)
        h_n = xp.stack(h_n)                                      # (L*D, N, H)
        c_n = xp.stack(c_n) if self.mode == "LSTM" else None
        if not batched:
            x, h_n, c_n = x[:, 0], h_n[:, 0], (None if c_n is None else c_n[:, 0])
        elif self.batch_first:
            x = xp.permute_dims(x, (1, 0, 2))
        self._cache = _RecurrentCache(tuple(layers), x, h_n, batched)
        return (x, (h_n, c_n)) if self.mode == "LSTM" else (x, h_n)

    def backward(self, grad_output, dh_n=None):
        cache = self._cache
        owner = f"{type(self).__name__}.backward"
        check_array(owner, "grad_output", grad_output, shape=tuple(cache.out.shape), dtype=cache.out.dtype)
        same_backend(owner, grad_output=grad_output, output=cache.out)
        xp = backend.namespace(grad_output)
        states = []
        for name, g in self._split_states(owner, dh_n, "dh_n"):
            if g is not None:
                check_array(owner, name, g, shape=tuple(cache.h_n.shape), dtype=cache.h_n.dtype)
                same_backend(owner, **{name: g, "output": cache.out})
                g = g if cache.batched else g[:, None, :]
            states.append(g)
        dout = grad_output if cache.batched else grad_output[:, None, :]
        if cache.batched and self.batch_first:
            dout = xp.permute_dims(dout, (1, 0, 2))
        dx, dh0, dc0 = self._backward_layers(xp, dout, states, cache.layers)
        if not cache.batched:
            dx, dh0, dc0 = dx[:, 0], dh0[:, 0], (None if dc0 is None else dc0[:, 0])
        elif self.batch_first:
            dx = xp.permute_dims(dx, (1, 0, 2))
        return (dx, (dh0, dc0)) if self.mode == "LSTM" else (dx, dh0)

    def _backward_layers(self, xp, dout, states, layers):
        """BPTT through every layer and direction, top layer first; fills ``grad_norms``."""
        T, N, H, D = dout.shape[0], dout.shape[1], self.hidden_size, self._directions
        zeros = xp.zeros((N, H), dtype=dout.dtype, device=backend.device_of(dout))
        dh0, dc0 = [None] * (self.num_layers * D), [None] * (self.num_layers * D)
        norms_h, norms_c = [None] * self.num_layers, [None] * self.num_layers
        for layer in reversed(range(self.num_layers)):
            x, dx, sq_h, sq_c = layers[layer].x, None, 0, 0
            for d in range(D):
                k, weights = layer * D + d, weights_of(self, self._suffix(layer, d))
                scan = layers[layer].scans[d]
                dhs = dout[:, :, d * H:(d + 1) * H] if D > 1 else dout   # (T, N, H)
                flip = (lambda a: xp.flip(a, axis=0)) if d else (lambda a: a)
                dh = zeros if states[0] is None else states[0][k]
                dc = None if self.mode != "LSTM" else (zeros if states[1] is None else states[1][k])
                grads = scan_backward(self.mode, flip(dhs), dh, dc, scan, weights)
                dx_d = flip(accumulate(xp, weights, flip(x), scan.h_prev, grads.dxg, grads.dhg, self.mode))
                dx = dx_d if dx is None else dx + dx_d
                dh0[k], dc0[k] = grads.dh0, grads.dc0
                sq_h = sq_h + flip(xp.sum(grads.dh * grads.dh, axis=(1, 2)))   # (T,)
                if grads.dc is not None:
                    sq_c = sq_c + flip(xp.sum(grads.dc * grads.dc, axis=(1, 2)))
            norms_h[layer] = backend.to_numpy(xp.sqrt(sq_h))
            if self.mode == "LSTM":
                norms_c[layer] = backend.to_numpy(xp.sqrt(sq_c))
            dout = dx                                                     # (T, N, I_l)
        self.grad_norms = {"h": np.stack(norms_h)}
        if self.mode == "LSTM":
            self.grad_norms["c"] = np.stack(norms_c)
        return dout, xp.stack(dh0), (xp.stack(dc0) if self.mode == "LSTM" else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0), ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(_RecurrentBase):
    """Elman RNN, $h_t = \\phi(x_t W_{ih}^\\top + b_{ih} + h_{t-1} W_{hh}^\\top + b_{hh})$, $\\phi$ tanh or ReLU (Elman 1990)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False):
        check_choice("RNN", "nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity


class LSTM(_RecurrentBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), gates i, f, g, o; ``forward(x, (h_0, c_0))``."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size)


class GRU(_RecurrentBase):
    """Gated recurrent unit (Cho et al. 2014), gates r, z, n, the reset gate applied to $W_{hn} h + b_{hn}$."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class _LastStepCache(NamedTuple):
    out: object      # the sequence it picked from, (T, N, H) or (N, T, H) or (T, H)


class LastStep(Module):
    """The last step of a sequence: ``out[-1]`` ((T, N, H) -> (N, H)), ``out[:, -1]`` with ``batch_first``.

    Accepts a recurrent module's ``(out, h_n)`` tuple, so ``Sequential(nn.LSTM(I, H), nn.LastStep(),
    nn.Linear(H, C))`` works; its backward returns dL/dout, zero except at the last step.
    """

    def __init__(self, batch_first: bool = False):
        super().__init__()
        self.batch_first = check_choice("LastStep", "batch_first", batch_first, (True, False))

    def forward(self, x):
        out = x[0] if isinstance(x, tuple) else x
        check_array("LastStep", "x", out, ndim=(2, 3))
        self._cache = _LastStepCache(out)
        return out[:, -1] if self.batch_first and out.ndim == 3 else out[-1]

    def backward(self, grad_output):
        out = self._cache.out
        last = out[:, -1] if self.batch_first and out.ndim == 3 else out[-1]
        self._check_grad(grad_output, last)
        xp = backend.namespace(grad_output)
        dout = xp.zeros(tuple(out.shape), dtype=out.dtype, device=backend.device_of(out))
        if self.batch_first and out.ndim == 3:
            dout[:, -1] = grad_output
        else:
            dout[-1] = grad_output
        return dout

    def extra_repr(self):
        return "batch_first=True" if self.batch_first else ""
