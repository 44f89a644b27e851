r"""Per-layer diagnostics: where does the gradient vanish, and how far does each layer move?

* ``grad_norms(model)``: the Frobenius norm $\|\partial L/\partial W_l\|_F$ of every
  weight gradient, layer by layer (biases separately with ``which="bias"``).
* ``layer_grad_norms(model, loss_fn, X, y)``: one forward and backward at the current
  weights, then ``grad_norms``: the book's standard figure plots these on a log axis.
* ``GradNormRecorder`` and ``UpdateRatioRecorder``: callbacks for ``vg.train.train``
  recording, per layer and step, the gradient norm and the update-to-weight ratio
  $\|W_\text{after} - W_\text{before}\|_F / \|W_\text{before}\|_F$ (around ``opt.step()``;
  a common rule of thumb is about $10^{-3}$ per step).
* ``Recorder(model)``: all of these and the activations' mean, standard deviation,
  saturation and dead units, per layer and step, for a vglab model (as a ``train``
  callback or in your own loop) or a ``torch.nn.Module`` (through forward hooks); see
  ``vglab.recorder``. Its plots are ``vg.plots.layer_stat_lines`` and ``vg.plots.layer_histograms``.

Layers are the leaf modules holding a ``weight``, named as ``named_modules()`` names them.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .models import weight_layers
from .recorder import STATS, Recorder, dead_fraction, saturation_fraction
from .train import Callback, StepInfo

__all__ = ["weight_layers", "grad_norms", "layer_grad_norms", "GradNormRecorder", "UpdateRatioRecorder",
           "Recorder", "STATS", "saturation_fraction", "dead_fraction"]


def _norm(x) -> float:
    return float(np.linalg.norm(backend.to_numpy(x)))


def grad_norms(model, which: str = "weight") -> dict[str, float]:
    """{layer name: Frobenius norm of that layer's ``weight.grad`` (or ``bias.grad``)}, in forward order.

    A layer whose gradient is None (no backward yet, or frozen) gets NaN.
    """
    out = {}
    for name, m in weight_layers(model):
        p = getattr(m, which, None)
        out[name] = _norm(p.grad) if p is not None and p.grad is not None else float("nan")
    return out


def layer_grad_norms(model, loss_fn, X, y) -> np.ndarray:
    """Per-layer weight-gradient norms (L,) after one forward/backward on (X, y).

    The model's existing gradients are cleared first and the new ones are left in place.
    """
    model.zero_grad()
    loss_fn(model(X), y)
    model.backward(loss_fn.backward())
    return np.array(list(grad_norms(model).values()))


class _PerLayerRecorder(Callback):
    """Rows of per-layer values, one row per recorded step: ``history`` (steps, L)."""

    def __init__(self, every: int = 1):
        self.every = every
        self.steps: list[int] = []
        self.names: list[str] = []
        self.rows: list[list[float]] = []

    def _record(self, step: int, values: dict) -> None:
        self.names = list(values)
        self.steps.append(step)
        self.rows.append(list(values.values()))

    @property
    def history(self) -> np.ndarray:
        return np.array(self.rows)


class GradNormRecorder(_PerLayerRecorder):
    """Records every layer's weight-gradient norm at every ``every``-th step."""

    def on_before_step(self, info: StepInfo) -> None:
        if info.step % self.every == 0:
            self._record(info.step, grad_norms(info.model))


class UpdateRatioRecorder(_PerLayerRecorder):
    """Records $\\|\\Delta W_l\\| / \\|W_l\\|$ per layer at every ``every``-th step."""

    def __init__(self, every: int = 1):
        super().__init__(every)
        self._before: dict = {}

    def on_before_step(self, info: StepInfo) -> None:
        if info.step % self.every == 0:
            self._before = {name: backend.to_numpy(m.weight.data).copy() for name, m in weight_layers(info.model)}

    def on_step_end(self, info: StepInfo) -> None:
        if not self._before:
            return
        ratios = {}
        for name, m in weight_layers(info.model):
            before = self._before[name]
            ratios[name] = _norm(backend.to_numpy(m.weight.data) - before) / _norm(before)
        self._record(info.step, ratios)
        self._before = {}
