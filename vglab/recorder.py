r"""``Recorder``: per-layer statistics during training, for vglab and PyTorch models alike.

    rec = vg.diagnostics.Recorder(model)                   # a vglab or a torch.nn.Module
    vg.train.train(model, loss_fn, opt, data, steps=500, callbacks=[rec])   # vglab's loop
    # ... or in your own loop, torch or vglab:
    #     loss.backward(); rec.before_step(); opt.step(); rec.after_step()   # or rec.step(opt)
    rec.grad_norm          # (steps, L) array, one column per layer named rec.names[l]
    rec.detach()           # removes the hooks (``with Recorder(model) as rec:`` does it too)

The layers are the leaf modules holding a ``weight``, named as ``named_modules()`` names
them (``weight_layers(model)``, below). At every ``every``-th step each layer $l$ gets:

* ``grad_norm``, ``bias_grad_norm``: $\|\partial L/\partial W_l\|_F$ and $\|\partial L/\partial b_l\|$,
  read from ``.grad`` after the backward pass (NaN where there is none);
* ``update_ratio``: $\|W_l^\text{after} - W_l^\text{before}\|_F / \|W_l^\text{before}\|_F$, from
  copies taken around ``opt.step()``. Where $W_l^\text{before} = 0$ the ratio is ``inf`` if the
  step moved the weights and NaN if it did not ($0/0$), without a warning;
* ``act_mean``, ``act_std``: over all entries of the layer's *activation* $a_l$ (below);
* ``saturation`` (where $a_l$ is a tanh or sigmoid): the fraction of saturated entries
  (``SATURATION``). The derivative is a function of the output $a$, so a threshold on $a$ is a
  threshold on the derivative, and the two activations' thresholds differ:
  tanh, $|a| > 0.97$, where $\tanh' = 1 - a^2 < 1 - 0.97^2 = 0.0591$;
  sigmoid, $a \notin [0.03, 0.97]$, where $\sigma' = a(1 - a) < 0.03 \cdot 0.97 = 0.0291$;
* ``dead`` (everywhere else): the fraction of units whose pre-activation $z_l$, the layer's own
  output, is $\le 0$ for every example of the batch (a ReLU after it passes them no gradient).
  Units are the last axis of a 2-D weight's output (Linear) and axis 1 otherwise (Conv channels).
  NaN for the layer whose output is the model's output (logits feed no activation).

Which tensor is $a_l$: forward hooks on every leaf module see each call. If the module called
right after the weight layer is an activation (a class named in ``ACTIVATIONS``: vglab's and
``torch.nn``'s) and takes that layer's output as its input (``Linear -> Tanh`` in a ``Sequential``),
$a_l$ is the activation's output and ``kinds[l]`` its class name. Otherwise $a_l$ is the weight
layer's own output $z_l$ and ``kinds[l]`` is None. Hooks cannot see a function
called inside ``forward`` (``torch.relu(self.fc(x))``, ``F.relu``): there the recorder measures
after each Linear, as it does for the output layer. An in-place module (``nn.ReLU(inplace=True)``)
overwrites the Linear's output; the statistics of $z_l$ are computed inside the Linear's hook,
before it runs, so they stay right. Only training-mode forwards are measured (evaluation passes
in ``eval()`` mode are not), and only on recorded steps.

Activation samples for histograms: at most ``samples`` entries per layer and recorded step,
and at most ``max_snapshots`` snapshots (thinned by halves, the first kept), so memory is bounded.

Every statistic is computed in float64 from the arrays' values, whatever their dtype (a float32
model's norms, means and weight differences carry no float32 rounding of their own).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import backend
from ._checks import check_number
from .train import Callback, StepInfo

__all__ = ["Recorder", "STATS", "ACTIVATIONS", "SATURATION", "Saturation", "weight_layers",
           "saturation_fraction", "dead_fraction", "frobenius_norm", "relative_change"]

STATS = ("grad_norm", "bias_grad_norm", "update_ratio", "act_mean", "act_std", "saturation", "dead")

#: Class names of the element-wise activation modules the recorder measures after a weight layer.
ACTIVATIONS = frozenset({
    "Sigmoid", "Tanh", "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU",
    "SiLU", "Mish", "Softplus", "Softsign", "Hardtanh", "Hardswish", "Hardsigmoid", "LogSigmoid",
    "Tanhshrink", "Softshrink", "Hardshrink", "Threshold",
})


class Saturation(NamedTuple):
    r"""An output $a$ of the activation is saturated where $a < \text{low}$ or $a > \text{high}$;
    there, and only there, the derivative $f'$ (a function of $a$) is below ``max_derivative``."""
    low: float
    high: float
    max_derivative: float


#: tanh: $|a| > 0.97$, where $\tanh' = 1 - a^2 < 1 - 0.97^2 = 0.0591$.
#: sigmoid: $a \notin [0.03, 0.97]$, where $\sigma' = a(1 - a) < 0.03 \cdot 0.97 = 0.0291$.
SATURATION = {
    "Tanh": Saturation(low=-0.97, high=0.97, max_derivative=1 - 0.97 ** 2),
    "Sigmoid": Saturation(low=0.03, high=0.97, max_derivative=0.03 * 0.97),
}


def weight_layers(model) -> list[tuple[str, object]]:
    """The leaf modules that hold a ``weight``, in forward order, named as ``named_modules`` names them.

    Works on a vglab ``Module`` and on a ``torch.nn.Module`` alike. ``PReLU`` is left out: its
    ``weight`` is the activation's learned slope, not a layer's weights.
    Returns: [(name, module)], e.g. ``[("0", Linear), ("2", Linear), ...]`` for a ``Sequential``.
    """
    return [(name, m) for name, m in model.named_modules()
            if next(iter(m.children()), None) is None and m._parameters.get("weight") is not None
            and type(m).__name__ != "PReLU"]


def _float64(x) -> np.ndarray:
    """``x`` (a NumPy array or torch tensor) as a NumPy float64 array."""
    return np.asarray(backend.to_numpy(x), dtype=np.float64)


def saturation_fraction(a, kind: str) -> float:
    """Fraction of the entries of a tanh or sigmoid output ``a`` (any shape) that are saturated.

    Args:
        kind: "Tanh" or "Sigmoid", whose thresholds ``SATURATION[kind]`` apply.
    """
    if kind not in SATURATION:
        raise ValueError(f"saturation_fraction expected kind to be one of 'Tanh', 'Sigmoid', got {kind!r}")
    low, high, _ = SATURATION[kind]
    a = _float64(a)
    return float(np.mean((a < low) | (a > high)))


def dead_fraction(z, unit_axis: int = -1) -> float:
    """Fraction of units whose pre-activation ``z`` is <= 0 for every example (and position).

    Args:
        z: (N, H) for a Linear, (N, C, ...) for a convolution (then ``unit_axis=1``).
    """
    z = np.moveaxis(backend.to_numpy(z), unit_axis, -1)
    return float(np.mean(np.all(z.reshape(-1, z.shape[-1]) <= 0, axis=0)))


def frobenius_norm(x) -> float:
    r"""$\|x\|_F$ (any shape), computed in float64; NaN for None (no gradient)."""
    return math.nan if x is None else float(np.linalg.norm(_float64(x)))


def relative_change(before, after) -> float:
    r"""$\|W^\text{after} - W^\text{before}\|_F / \|W^\text{before}\|_F$, computed in float64.

    For a zero ``before``: ``inf`` if the weights moved, NaN if they did not ($0/0$); no warning.
    """
    change, size = _float64(after) - _float64(before), frobenius_norm(before)
    if size == 0:
        return math.inf if np.any(change != 0) else math.nan
    return frobenius_norm(change) / size


def _copy(x) -> np.ndarray:
    return np.array(backend.to_numpy(x), dtype=np.float64, copy=True)


def _stat(name):
    return property(lambda self: self._array(name), doc=f"``{name}`` per recorded step and layer, (steps, L).")


class Recorder(Callback):
    """Per-layer gradient norms, update ratios and activation statistics of ``model`` during training.

    Args:
        model: a vglab ``Module`` or a ``torch.nn.Module``; forward hooks go on its leaf modules now.
        every: record every ``every``-th step (0, every, 2 every, ...).
        samples: activation entries kept per layer and recorded step, for histograms (0: none).
        max_snapshots: at most this many recorded steps keep their samples.
        seed: of the recorder's own generator that picks the samples (vglab's is not touched).
    Attributes:
        names: the L layer names; ``kinds``: the activation module after each layer, or None;
        steps: the recorded steps; ``grad_norm`` ... ``dead`` (see ``STATS``): (steps, L) arrays;
        snapshots: a list of (step, [samples of a_l for each layer]).
    """

    grad_norm, bias_grad_norm, update_ratio = _stat("grad_norm"), _stat("bias_grad_norm"), _stat("update_ratio")
    act_mean, act_std = _stat("act_mean"), _stat("act_std")
    saturation, dead = _stat("saturation"), _stat("dead")

    def __init__(self, model, every: int = 1, samples: int = 1000, max_snapshots: int = 20, seed: int = 0):
        if not (hasattr(model, "named_modules") and hasattr(model, "register_forward_hook")):
            raise TypeError(f"Recorder expected model to be a vglab or torch.nn Module, got {type(model).__name__}")
        check_number("Recorder", "every", every, low=1, integer=True)
        check_number("Recorder", "samples", samples, low=0, integer=True)
        check_number("Recorder", "max_snapshots", max_snapshots, low=1, integer=True)
        self.model, self.every, self.samples, self.max_snapshots = model, every, samples, max_snapshots
        layers = weight_layers(model)
        if not layers:
            raise ValueError(f"Recorder expected a model with at least one leaf module holding a weight, "
                             f"got {type(model).__name__} with none")
        self.names = [name for name, _ in layers]
        self._layers = [m for _, m in layers]
        self._index = {id(m): l for l, m in enumerate(self._layers)}
        self.kinds: list = [None] * len(layers)
        self.steps: list[int] = []
        self.snapshots: list = []
        self._rows = {s: [] for s in STATS}
        self._rng = np.random.default_rng(seed)
        self._step = 0
        self._pending: dict = {}      # layer -> {stat: value} from this step's forward
        self._last = None             # (output, layer) of the weight layer called last
        self._before = None           # weight copies taken by before_step
        leaves = [m for _, m in model.named_modules() if next(iter(m.children()), None) is None]
        self._handles = [m.register_forward_hook(self._hook) for m in leaves]
        self._handles.append(model.register_forward_hook(self._output_hook))

    # ------------------------------------------------------------ forward hooks
    def _recording(self, module) -> bool:
        return self._handles is not None and module.training and self._step % self.every == 0

    def _measure(self, a, kind) -> dict:
        a = _float64(a)
        out = {"act_mean": float(np.mean(a)), "act_std": float(np.std(a)),
               "saturation": saturation_fraction(a, kind) if kind in SATURATION else math.nan}
        if self.samples:
            flat = a.reshape(-1)
            out["samples"] = flat[self._rng.choice(flat.size, min(self.samples, flat.size), replace=False)].copy()
        return out

    def _hook(self, module, inputs, output):
        if not self._recording(module):
            return None
        l = self._index.get(id(module))
        if l is not None:                                   # a weight layer: its output is z_l
            axis = -1 if self._layers[l].weight.ndim == 2 else 1
            self._pending[l] = {**self._measure(output, None), "dead": dead_fraction(output, axis)}
            self._last = (output, l)
            self.kinds[l] = None
        elif (self._last is not None and type(module).__name__ in ACTIVATIONS
              and inputs and inputs[0] is self._last[0]):                    # the activation after it
            l, kind = self._last[1], type(module).__name__
            self._pending[l].update(self._measure(output, kind))
            if kind in SATURATION:
                self._pending[l]["dead"] = math.nan
            self.kinds[l] = kind
            self._last = None
        else:
            self._last = None
        return None

    def _output_hook(self, module, inputs, output):
        """The model's output: if a weight layer produced it, its z are logits, not a ReLU's input."""
        if self._recording(module) and self._last is not None and output is self._last[0]:
            self._pending[self._last[1]]["dead"] = math.nan
        return None

    # ------------------------------------------------------------ around opt.step()
    def before_step(self, step: int | None = None) -> None:
        """Call after the backward pass, before ``opt.step()``: reads gradients, copies weights."""
        if step is not None:
            self._step = step
        if self._step % self.every != 0:
            self._pending, self._last = {}, None
            return
        biases = [getattr(m, "bias", None) for m in self._layers]
        row = {"grad_norm": [frobenius_norm(m.weight.grad) for m in self._layers],
               "bias_grad_norm": [frobenius_norm(getattr(b, "grad", None)) for b in biases],
               "update_ratio": [math.nan] * len(self._layers)}
        for s in ("act_mean", "act_std", "saturation", "dead"):
            row[s] = [self._pending.get(l, {}).get(s, math.nan) for l in range(len(self._layers))]
        for s in STATS:
            self._rows[s].append(row[s])
        self.steps.append(self._step)
        if self.samples and self._pending:
            empty = np.array([])
            self.snapshots.append((self._step, [self._pending.get(l, {}).get("samples", empty)
                                                for l in range(len(self._layers))]))
            if len(self.snapshots) > self.max_snapshots:
                self.snapshots = self.snapshots[::2]
        self._before = [_copy(m.weight.data) for m in self._layers]
        self._pending, self._last = {}, None

    def after_step(self) -> None:
        """Call after ``opt.step()``: the update-to-weight ratios; then counts the step."""
        if self._before is not None:
            self._rows["update_ratio"][-1] = [relative_change(w, m.weight.data)
                                              for m, w in zip(self._layers, self._before)]
            self._before = None
        self._step += 1

    def step(self, optimizer) -> None:
        """``before_step(); optimizer.step(); after_step()``."""
        self.before_step()
        optimizer.step()
        self.after_step()

    # vglab.train.train's callbacks
    def on_before_step(self, info: StepInfo) -> None:
        self.before_step(info.step)

    def on_step_end(self, info: StepInfo) -> None:
        self.after_step()

    # ------------------------------------------------------------ results and hooks
    def _array(self, stat: str) -> np.ndarray:
        return np.array(self._rows[stat], dtype=np.float64).reshape(len(self.steps), len(self.names))

    def as_dict(self) -> dict:
        """{stat: (steps, L) array} for every statistic in ``STATS``."""
        return {s: self._array(s) for s in STATS}

    def detach(self) -> None:
        """Remove the forward hooks (the recorded results stay)."""
        for h in self._handles or ():
            h.remove()
        self._handles = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.detach()
        return False

    def __repr__(self):
        state = "detached" if self._handles is None else "attached"
        return f"Recorder({len(self.names)} layers, {len(self.steps)} steps recorded, every={self.every}, {state})"
