"""vglab.nn.scans, the step maths under RNN/LSTM/GRU and their cells: each backward scan against central
differences of its forward scan, and the float32 gates (tanh(a/2)/2 + 1/2) against the float64 ones."""

import numpy as np
import pytest

import vglab as vg
from vglab.gradcheck import numerical_gradient, rel_error
from vglab.nn import scans
from conftest import backends, on

T, N, H = 4, 2, 3


def forward(kind, xg, h, c, w, b):
    """(hs, h_T, c_T or None, cache) of one scan; the GRU alone takes b_hh (the others' is in xg)."""
    if kind == "LSTM":
        return scans.lstm_forward(xg, h, c, w)
    if kind == "GRU":
        hs, h_T, cache = scans.gru_forward(xg, h, w, b)
    else:
        hs, h_T, cache = scans.rnn_forward(xg, h, w, relu=kind == "RNN_RELU")
    return hs, h_T, None, cache


def backward(kind, dhs, dh, dc, cache, w):
    if kind == "LSTM":
        return scans.lstm_backward(dhs, dh, dc, cache, w)
    if kind == "GRU":
        return scans.gru_backward(dhs, dh, cache, w)
    return scans.rnn_backward(dhs, dh, cache, w)


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("kind", ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
def test_backward_scan_matches_central_differences(backend, kind):
    G = scans.GATES[kind]
    rng = np.random.default_rng(0)
    xg, h0, c0 = (on(backend, rng.standard_normal(s)) for s in [(T, N, G * H), (N, H), (N, H)])
    w, b = on(backend, 0.5 * rng.standard_normal((G * H, H))), on(backend, rng.standard_normal(G * H))
    r, s_h, s_c = (on(backend, rng.standard_normal(s)) for s in [(T, N, H), (N, H), (N, H)])
    xp = vg.backend.namespace(xg)

    def run():  # a copy of xg: the float32 scans scale it in place
        return forward(kind, xp.asarray(xg, copy=True), h0, c0, w, b)

    def loss():
        hs, h_T, c_T, _ = run()
        return xp.sum(hs * r) + xp.sum(h_T * s_h) + (0 if c_T is None else xp.sum(c_T * s_c))

    hs, h_T, c_T, cache = run()
    grads = backward(kind, r, s_h, s_c if kind == "LSTM" else None, cache, w)
    assert rel_error(grads.dxg, numerical_gradient(loss, xg)) < 1e-7
    assert rel_error(grads.dh0, numerical_gradient(loss, h0)) < 1e-7
    if kind == "LSTM":
        assert rel_error(grads.dc0, numerical_gradient(loss, c0)) < 1e-7
    dw = xp.reshape(grads.dhg, (T * N, G * H)).T @ xp.reshape(cache.h_prev, (T * N, H))
    assert rel_error(dw, numerical_gradient(loss, w)) < 1e-7
    if kind == "GRU":
        assert rel_error(xp.sum(xp.reshape(grads.dhg, (T * N, G * H)), axis=0), numerical_gradient(loss, b)) < 1e-7


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_float32_gates_agree_with_float64(kind):
    """float32 uses sigma(a) = tanh(a/2)/2 + 1/2 with the halving folded into the weights."""
    G = scans.GATES[kind]
    rng = np.random.default_rng(1)
    xg, h0, w, b = rng.standard_normal((T, N, G * H)), rng.standard_normal((N, H)), \
        rng.standard_normal((G * H, H)), rng.standard_normal(G * H)
    results = {}
    for dtype in ("float32", "float64"):
        args = [a.astype(dtype) for a in (xg, h0, h0, w, b)]
        hs, h_T, c_T, cache = forward(kind, *args)
        grads = backward(kind, np.ones((T, N, H), dtype), np.zeros((N, H), dtype),
                         np.zeros((N, H), dtype) if kind == "LSTM" else None, cache, args[3])
        results[dtype] = (hs, grads.dxg, grads.dh0)
        assert hs.dtype == dtype and grads.dxg.dtype == dtype
    for a32, a64 in zip(results["float32"], results["float64"], strict=True):
        assert rel_error(a32, a64) < 1e-5
