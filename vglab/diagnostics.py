r"""Per-layer diagnostics: where does the gradient vanish, and how far does each layer move?

Stateless measurements, each taking a model or arrays as they are now:

* ``weight_layers(model)``: the layers measured, the leaf modules holding a ``weight``, named
  as ``named_modules()`` names them, in forward order (vglab and torch models alike).
* ``grad_norms(model)``: the Frobenius norm $\|\partial L/\partial W_l\|_F$ of every
  weight gradient, layer by layer (biases separately with ``which="bias"``).
* ``layer_grad_norms(model, loss_fn, X, y)``: one forward and backward at the current
  weights, then ``grad_norms``: the book's standard figure plots these on a log axis.
* ``relative_change(before, after)``: the update-to-weight ratio
  $\|W_\text{after} - W_\text{before}\|_F / \|W_\text{before}\|_F$ of one step (a common rule
  of thumb is about $10^{-3}$ per step).
* ``saturation_fraction(a, kind)``, ``dead_fraction(z)``: saturated tanh/sigmoid outputs
  (thresholds in ``SATURATION``) and dead units.

Over training, one object records all of these per layer and step: ``Recorder(model)``, defined
in ``vglab.recorder`` and re-exported here, for a vglab model (as a ``train`` callback or in your
own loop) or a ``torch.nn.Module`` (through forward hooks). Its plots are
``vg.plots.layer_stat_lines``, ``vg.plots.layer_histograms`` and ``vg.plots.diagnostics_figure``.
All norms are computed in float64, whatever the arrays' dtype.
"""

from __future__ import annotations

import numpy as np

from .recorder import (SATURATION, STATS, Recorder, Saturation, dead_fraction, frobenius_norm, relative_change,
                       saturation_fraction, weight_layers)

__all__ = ["weight_layers", "grad_norms", "layer_grad_norms", "relative_change", "frobenius_norm",
           "saturation_fraction", "dead_fraction", "SATURATION", "Saturation", "Recorder", "STATS"]


def grad_norms(model, which: str = "weight") -> dict[str, float]:
    """{layer name: Frobenius norm of that layer's ``weight.grad`` (or ``bias.grad``)}, in forward order.

    A layer whose gradient is None (no backward yet, or frozen) gets NaN.
    """
    out = {}
    for name, m in weight_layers(model):
        p = getattr(m, which, None)
        out[name] = frobenius_norm(None if p is None else p.grad)
    return out


def layer_grad_norms(model, loss_fn, X, y) -> np.ndarray:
    """Per-layer weight-gradient norms (L,) after one forward/backward on (X, y).

    The model's existing gradients are cleared first and the new ones are left in place.
    """
    model.zero_grad()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    return np.array(list(grad_norms(model).values()))
