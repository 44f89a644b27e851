"""The book's standard figures, so every chapter draws them the same way.

``grad_norm_figure`` is the figure the whole book returns to: the norm of each layer's
weight gradient against the layer index (1 = nearest the input), on a log axis.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grad_norm_figure", "loss_curves", "new_axes"]


def new_axes(ax=None, figsize=(6, 3.6)):
    """``ax`` if given, else a fresh figure's axes."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def grad_norm_figure(norms: dict, ax=None, title: str | None = None, ylabel: str | None = None):
    """Per-layer gradient norms on a log axis, one line per entry of ``norms``.

    Args:
        norms: {label: sequence of L norms, layer 1 (input side) first}.
    Returns:
        the matplotlib Axes.
    """
    ax = new_axes(ax)
    for label, values in norms.items():
        values = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(1, len(values) + 1), values, marker="o", ms=4, label=label)
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel(ylabel or r"$\|\partial L / \partial W_l\|_F$")
    if title:
        ax.set_title(title)
    if len(norms) > 1:
        ax.legend(fontsize="small")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def loss_curves(curves: dict, ax=None, title: str | None = None, log: bool = True, xlabel: str = "step"):
    """Training-loss curves, one per entry of ``curves`` ({label: sequence of losses})."""
    ax = new_axes(ax)
    for label, values in curves.items():
        ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax
