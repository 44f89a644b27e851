r"""Checks for the exercises of chapter 2 (learning-rate decay schedules).

* ``ch02-cosine-below``: the first step $k$ at which ``cosine_decay(lr0, T)`` falls below a
  fraction $f$ of $\eta_0$: the smallest integer $k > T \arccos(2f - 1) / \pi$ (default
  $T = 1000$, $f = 0.01$).
* ``ch02-epochs-to-steps``: the ``step_size`` (in optimiser steps) of a step decay that drops
  every ``epochs`` epochs, when ``vg.train.train`` makes shuffled passes of
  $\lceil N / B \rceil$ mini-batches (the last one smaller) over $N$ examples.
* ``ch02-layer-ratio``: at the first SGD step on the chapter-0 network and the batch
  ``data.X_train[:64]``, the update-to-weight ratio of layer 1 divided by that of layer 10,
  for ``lr = 0.01`` and for ``lr = 1.0``: a pair of equal numbers, because the step
  $-\eta\, g_l$ scales every layer by the same $\eta$.
"""

from __future__ import annotations

import math

import numpy as np

from . import ExerciseError, exercise


def _integer(answer, what: str) -> int:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"the answer should be {what} (an integer), got {type(answer).__name__}") from None
    if not math.isfinite(value):
        raise ExerciseError(f"the answer should be {what} (an integer), got {value}")
    if value != int(value):
        raise ExerciseError(f"{value} is not a whole number: {what} is an integer, so round "
                            f"(up or down? check the rate on both sides)")
    return int(value)


# ----------------------------------------------------------------------------- ch02-cosine-below

def _cosine(lr0: float, total: int, k: int) -> float:
    return lr0 * (1 + math.cos(math.pi * min(k, total) / total)) / 2


@exercise("ch02-cosine-below")
def check_cosine_below(answer, lr0: float = 0.1, total_steps: int = 1000, fraction: float = 0.01):
    """The first k with cosine_decay(lr0, total_steps)(k) < fraction * lr0, found by walking the formula."""
    k = _integer(answer, "a step number")
    threshold = fraction * lr0
    first = next(j for j in range(total_steps + 1) if _cosine(lr0, total_steps, j) < threshold)
    if k == first:
        return (f"Correct: step {k}. The rate spends its last {total_steps - k} of {total_steps} steps "
                f"below {fraction:g} of lr0: the quiet finish of a cosine schedule.")
    if not 0 <= k <= total_steps:
        raise ExerciseError(f"a step of this schedule lies between 0 and T = {total_steps}, got {k}")
    if k == first - 1:
        raise ExerciseError(f"at step {k} the rate is {_cosine(lr0, total_steps, k):.4g}, not yet below "
                            f"{threshold:g}: solving cos(pi k / T) < 2f - 1 gives a bound k > "
                            f"{first - 1}.x, so round up")
    if k in (total_steps - first, total_steps - first + 1):
        raise ExerciseError(f"{k} is how many steps remain below the threshold (T - k), not the step where "
                            "the rate first falls below it")
    if abs(k - total_steps * math.acos(fraction) / math.pi) < 2:
        raise ExerciseError("the rate is lr0 (1 + cos(pi k / T)) / 2, so the condition is "
                            "1 + cos(pi k / T) < 2f, i.e. cos(pi k / T) < 2f - 1, not cos(pi k / T) < f")
    bound = total_steps * math.acos(2 * fraction - 1) / math.pi
    if k < first:
        raise ExerciseError(f"too early: at step {k} the rate is still {_cosine(lr0, total_steps, k):.4g} >= "
                            f"{threshold:g}; solve cos(pi k / T) < 2f - 1 for k (the bound is about {bound:.1f})")
    raise ExerciseError(f"too late: the rate is below {threshold:g} at step {k}, but it already was at step {k - 1} "
                        f"({_cosine(lr0, total_steps, k - 1):.4g}); solve cos(pi k / T) < 2f - 1 for k "
                        f"(the bound is about {bound:.1f})")


# ----------------------------------------------------------------------------- ch02-epochs-to-steps

@exercise("ch02-epochs-to-steps")
def check_epochs_to_steps(answer, n_examples: int = 1348, batch_size: int = 64, epochs: int = 10):
    """step_size = epochs * ceil(N / B): vglab schedules count optimiser steps, not epochs."""
    k = _integer(answer, "a step_size")
    per_epoch = -(-n_examples // batch_size)
    right = epochs * per_epoch
    if k == right:
        return (f"Correct: {per_epoch} mini-batches per epoch (the last one holds "
                f"{n_examples - (per_epoch - 1) * batch_size} examples), so {k} steps per drop.")
    if k == epochs:
        raise ExerciseError(f"{k} is the number of epochs; vglab's schedules count optimiser steps "
                            "(one per mini-batch), so a drop every 10 epochs is a drop every 10 x (steps per epoch)")
    if k == epochs * (n_examples // batch_size):
        raise ExerciseError(f"{k} leaves out the last, smaller mini-batch of each pass: a pass over {n_examples} "
                            f"examples in batches of {batch_size} takes ceil({n_examples} / {batch_size}) steps")
    if k == round(epochs * n_examples / batch_size) or k == math.ceil(epochs * n_examples / batch_size):
        raise ExerciseError(f"{k} counts examples divided by the batch size over all {epochs} epochs; but every "
                            "epoch ends with its own smaller batch: count the steps of one epoch first")
    raise ExerciseError(f"{k} steps is {k / per_epoch:.3g} epochs, not {epochs}: how many optimiser steps does "
                        f"one pass over {n_examples} examples take with batches of {batch_size}?")


# ----------------------------------------------------------------------------- ch02-layer-ratio

def _first_step_ratios() -> tuple[float, float]:
    """(update-to-weight ratio of layer 1 / that of layer 10, gradient-norm ratio) at the first SGD step.

    The SGD step is $-\\eta g_l$, so layer l's update-to-weight ratio is $\\eta \\|g_l\\| / \\|W_l\\|$ and
    $\\eta$ cancels in the ratio between layers. (Measured by subtracting the weights instead, layer 1's
    update, about 1e-10 of its weights at lr = 0.01, keeps only about 7 significant digits.)
    """
    from .. import backend, data, models, nn
    from ..diagnostics import weight_layers
    digits = data.digits()
    model = models.chapter0_network()
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(model(digits.X_train[:64]), digits.y_train[:64])
    model.backward(loss_fn.backward())
    (_, first), *_, (_, last) = weight_layers(model)
    g1, g10 = (float(np.linalg.norm(backend.to_numpy(m.weight.grad))) for m in (first, last))
    w1, w10 = (float(np.linalg.norm(backend.to_numpy(m.weight.data))) for m in (first, last))
    return (g1 / w1) / (g10 / w10), g1 / g10


@exercise("ch02-layer-ratio")
def check_layer_ratio(answer, rtol: float = 1e-5):
    """(ratio at lr = 0.01, ratio at lr = 1.0): layer 1's update-to-weight ratio over layer 10's."""
    try:
        small, large = (float(v) for v in answer)
    except (TypeError, ValueError):
        raise ExerciseError("the answer should be a pair of numbers: (ratio with lr = 0.01, ratio with lr = 1.0)") \
            from None
    if not all(math.isfinite(v) and v > 0 for v in (small, large)):
        raise ExerciseError(f"both ratios should be positive finite numbers, got ({small}, {large})")
    want, grad_ratio = _first_step_ratios()
    if abs(large / small - 100) < 0.1 or abs(small / large - 100) < 0.1:
        raise ExerciseError("your two numbers differ by the factor 100 between the rates, so they are not ratios "
                            "between layers: divide layer 1's update ratio by layer 10's from the same run, "
                            "and the rate cancels")
    for got in (small, large):
        if abs(got / grad_ratio - 1) < 1e-3:
            raise ExerciseError(f"{got:.3e} is the ratio of the gradient norms; the update-to-weight ratio "
                                "divides each layer's update |W_after - W_before| by its own |W_before|")
        if abs(got * want - 1) < 1e-3:
            raise ExerciseError(f"{got:.3e} is layer 10's ratio over layer 1's: the question asks for layer 1 "
                                "over layer 10 (a small number)")
        if abs(got / want - 1) > rtol:
            raise ExerciseError(f"{got:.4e} is off by a relative error of {abs(got / want - 1):.1e}: for each layer "
                                "compute |W_after - W_before| / |W_before| around one opt.step(), then divide "
                                "layer 1's by layer 10's")
    return (f"Correct: {small:.3e} for both rates. The rate multiplies every layer's step alike, so the "
            "ratio between layers, set by the gradients and the weights, is the same for any rate or schedule.")


__all__ = ["check_cosine_below", "check_epochs_to_steps", "check_layer_ratio"]
