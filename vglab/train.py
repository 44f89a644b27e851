r"""A small training loop: mini-batch steps, a progress bar, a history, callbacks.

    history = vg.train.train(model, nn.CrossEntropyLoss(), opt, data, steps=500)

Each step: forward on a mini-batch, loss, ``model.backward(loss_fn.backward())``, then
the callbacks' ``on_before_step`` (gradients are ready, weights not yet changed),
``opt.step()``, ``opt.zero_grad()`` and the callbacks' ``on_step_end``. Diagnostics
(``vglab.diagnostics``) plug in there. A non-finite loss does not crash the loop: it is
recorded as ``history.diverged_at`` and training stops.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .data import Dataset, batches
from .nn.grad_mode import no_grad
from .nn.module import Module
from ._checks import NonFiniteError, check_number

__all__ = ["train", "History", "StepInfo", "Callback", "accuracy", "progress_bar"]


@dataclass
class StepInfo:
    """What a callback sees: the step index (0-based), model, optimiser and the batch loss."""
    step: int
    model: Module
    optimizer: object
    loss: float = math.nan


class Callback:
    """Override either method; both receive a ``StepInfo``."""

    def on_before_step(self, info: StepInfo) -> None:
        pass

    def on_step_end(self, info: StepInfo) -> None:
        pass


@dataclass
class History:
    """Per-step training loss, test accuracy every ``eval_every`` steps, and divergence."""
    loss: list = field(default_factory=list)            # one float per completed step
    eval_steps: list = field(default_factory=list)      # steps at which test accuracy was measured
    test_accuracy: list = field(default_factory=list)
    diverged_at: int | None = None                      # the step whose loss was not finite

    @property
    def final_loss(self) -> float:
        return self.loss[-1] if self.loss else math.nan

    def __repr__(self):
        status = f"diverged at step {self.diverged_at}" if self.diverged_at is not None else "finite"
        acc = f", test accuracy {self.test_accuracy[-1]:.3f}" if self.test_accuracy else ""
        return f"History({len(self.loss)} steps, final loss {self.final_loss:.4g}{acc}, {status})"


def progress_bar(iterable, total: int | None = None, desc: str | None = None, enabled: bool | None = None):
    """tqdm's notebook-aware bar; off when ``VGLAB_STATIC=1`` (book builds and tests)."""
    from tqdm.auto import tqdm
    if enabled is None:
        enabled = os.environ.get("VGLAB_STATIC", "0") != "1"
    return tqdm(iterable, total=total, desc=desc, disable=not enabled, leave=False)


def accuracy(model: Module, X, y) -> float:
    """Fraction of rows whose largest logit is the true class (in eval mode, no cache)."""
    was_training = model.training
    model.eval()
    with no_grad():
        logits = model(X)
    model.train(was_training)
    xp = backend.namespace(logits)
    return float(xp.mean(xp.astype(xp.argmax(logits, axis=1) == y, logits.dtype)))


def train(model: Module, loss_fn, optimizer, data: Dataset, steps: int, batch_size: int = 64,
          eval_every: int | None = None, callbacks=(), seed: int = 0, progress: bool | None = None,
          desc: str | None = None) -> History:
    """Train for ``steps`` mini-batch steps (shuffled passes over ``data.X_train``).

    Args:
        data: a ``Dataset``; ``y_train`` class indices (N,) or regression targets (N, k).
        eval_every: measure test accuracy every so many steps (classification only).
        callbacks: objects with ``on_before_step(info)`` / ``on_step_end(info)``.
        seed: the order of the mini-batches.
        progress: show a progress bar (default: unless ``VGLAB_STATIC=1``).
    Returns:
        a ``History``.
    """
    check_number("train", "steps", steps, low=0, integer=True)
    check_number("train", "batch_size", batch_size, low=1, integer=True)
    rng = np.random.default_rng(seed)
    n = data.X_train.shape[0]
    history = History()

    def index_stream():
        while True:
            yield from batches(n, batch_size, rng)

    model.train()
    stream = index_stream()
    # A diverging run overflows on its way to a non-finite loss; that is recorded in the
    # history (diverged_at), so NumPy's overflow warnings would only repeat it.
    with np.errstate(over="ignore", invalid="ignore"):
        for step in progress_bar(range(steps), total=steps, desc=desc, enabled=progress):
            idx = next(stream)
            X, y = data.X_train[idx], data.y_train[idx]
            try:
                loss = float(loss_fn(model(X), y))
            except NonFiniteError:                 # the loss refused non-finite logits
                loss = math.nan
            if not math.isfinite(loss):
                history.diverged_at = step
                break
            model.backward(loss_fn.backward())
            info = StepInfo(step, model, optimizer, loss)
            for cb in callbacks:
                cb.on_before_step(info)
            optimizer.step()
            optimizer.zero_grad()
            for cb in callbacks:
                cb.on_step_end(info)
            history.loss.append(loss)
            if eval_every and ((step + 1) % eval_every == 0 or step + 1 == steps):
                history.eval_steps.append(step + 1)
                history.test_accuracy.append(accuracy(model, data.X_test, data.y_test))
    return history
