r"""Checks for the exercise of chapter 10: diagnose four recorded runs.

* ``ch10-diagnose``: ``recorded_runs()`` returns four ``Recorder``\ s, ``"A"`` to ``"D"``, each of a
  small network trained for 30 steps on the digits; the answer is a dict that names the cause of
  each run's trouble, one of ``CAUSES``: ``"vanishing"`` (layer 1's gradient orders of magnitude
  below the last layer's, no saturated or dead units), ``"saturated"`` (tanh outputs beyond
  $\pm 0.97$), ``"dead"`` (ReLU units off for every example) or ``"learning_rate"`` (healthy
  gradients, update-to-weight ratios far below $10^{-3}$ in every layer).
"""

from __future__ import annotations

import numpy as np

from .. import backend, data as vgdata, init, models, nn, optim, train
from ..recorder import Recorder
from . import ExerciseError, exercise, reference_settings

__all__ = ["recorded_runs", "CAUSES", "summary"]

CAUSES = ("vanishing", "saturated", "dead", "learning_rate")

_ANSWER = {"A": "saturated", "B": "learning_rate", "C": "vanishing", "D": "dead"}


def _run(model, lr: float, dataset) -> Recorder:
    rec = Recorder(model, every=5, samples=0)
    opt = optim.SGD(model.parameters(), lr=lr)
    train.train(model, nn.CrossEntropyLoss(), opt, dataset, steps=30, callbacks=[rec], progress=False)
    rec.detach()
    return rec


def recorded_runs() -> dict:
    """Four recorded runs ``{"A": Recorder, ..., "D": Recorder}``: 30 SGD steps each on the digits.

    Every recorder has recorded every 5th step; read ``rec.grad_norm``, ``rec.update_ratio``,
    ``rec.saturation``, ``rec.dead`` and ``rec.kinds``. Deterministic (vglab's generator is saved
    and restored, and each network is drawn from its own seed).
    """
    with reference_settings():                         # NumPy, float64; vglab's generator restored after
        dataset = vgdata.digits()
        backend.manual_seed(2)
        a = models.deep_mlp(6, 64, "tanh", init="xavier_normal", gain=4.0)
        backend.manual_seed(4)
        b = models.deep_mlp(6, 64, "relu", init="kaiming_normal", zero_bias=True)
        backend.manual_seed(1)
        c = models.deep_mlp(10, 64, "sigmoid")
        backend.manual_seed(3)
        d = models.deep_mlp(6, 64, "relu", init="kaiming_normal")
        for m in d:
            if isinstance(m, nn.Linear):
                init.constant_(m.bias, -1.0)
        return {"A": _run(a, 0.01, dataset), "B": _run(b, 1e-5, dataset),
                "C": _run(c, 0.1, dataset), "D": _run(d, 0.01, dataset)}


def summary(rec: Recorder) -> dict:
    """The four numbers that tell the causes apart, over all recorded steps (NaN where not measured)."""
    def nanmax(x):
        x = np.asarray(x, dtype=float)
        return float(np.nanmax(x)) if np.any(np.isfinite(x)) else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = rec.grad_norm[:, 0] / rec.grad_norm[:, -1]
    return {"grad_ratio_max": nanmax(ratio), "saturation_max": nanmax(rec.saturation),
            "dead_max": nanmax(rec.dead), "update_ratio_max": nanmax(rec.update_ratio)}


_HINTS = {
    "saturated": "look at rec.saturation: more than half of its tanh outputs are beyond +-0.97",
    "learning_rate": ("its gradients are of the same size in every layer and nothing is saturated or dead, "
                      "but look at rec.update_ratio: every layer moves by about 1e-6 of its weights per step"),
    "vanishing": ("look at rec.grad_norm: layer 1's gradient is about 1e-7 of the last layer's, while almost no "
                  "unit is saturated"),
    "dead": "look at rec.dead: in some layers most ReLU units are off for every example of the batch",
}


@exercise("ch10-diagnose")
def _check_diagnose(answer):
    if not isinstance(answer, dict):
        raise ExerciseError(f"answer with a dict such as {{'A': 'vanishing', ...}}, got {type(answer).__name__}")
    keys = sorted(str(k).strip().upper() for k in answer)
    if keys != sorted(_ANSWER):
        raise ExerciseError(f"name the cause of each of the runs A, B, C and D; got the keys {sorted(answer)}")
    given = {str(k).strip().upper(): v for k, v in answer.items()}
    for run, cause in given.items():
        if not isinstance(cause, str) or cause.strip().lower().replace(" ", "_") not in CAUSES:
            raise ExerciseError(f"the cause of run {run} should be one of {', '.join(map(repr, CAUSES))}, "
                                f"got {cause!r}")
    wrong = [run for run in sorted(_ANSWER) if given[run].strip().lower().replace(" ", "_") != _ANSWER[run]]
    if wrong:
        run = wrong[0]
        verb = "is" if len(wrong) == 1 else "are"
        raise ExerciseError(f"{len(wrong)} of the four {verb} wrong. Run {run} is not "
                            f"{given[run]!r}: {_HINTS[_ANSWER[run]]}")
    return ("Correct: A's tanh units saturate, B's learning rate is far too small, C's gradient vanishes "
            "towards the input, and D's ReLUs are dead.")
