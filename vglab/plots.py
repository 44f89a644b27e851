"""The book's standard figures, so every chapter draws them the same way.

``grad_norm_figure`` is the figure the whole book returns to: the norm of each layer's
weight gradient against the layer index (1 = nearest the input), on a log axis.
``layer_stat_lines``, ``layer_histograms`` and ``diagnostics_figure`` draw what a
``vg.diagnostics.Recorder`` recorded: one line per layer over training, and the
activations' histograms layer by layer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["grad_norm_figure", "loss_curves", "new_axes", "layer_stat_lines", "layer_histograms",
           "diagnostics_figure", "layer_key", "STAT_LABELS", "BOOK_WIDTH"]

#: Width in inches of a full-width figure in the book. The text column is about 757 CSS pixels
#: wide at a 1366-pixel screen, and matplotlib draws at 100 dpi (a retina PNG has twice the pixels
#: and is shown at half its size): a figure this wide is shown at its design size, so its 10-point
#: text stays 10-point on the page. Multi-panel figures put at most two panels to a row.
BOOK_WIDTH = 7.5


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
    ax.set_ylabel(ylabel or r"$\|\partial \mathcal{L} / \partial W_l\|_F$")
    if title:
        ax.set_title(title)
    if len(norms) > 1:
        ax.legend(fontsize=9)
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
        ax.legend(fontsize=9)
    ax.grid(True, alpha=0.3)
    return ax


#: Axis labels of the Recorder's statistics, and whether they are drawn on a log axis.
STAT_LABELS = {
    "grad_norm": (r"$\|\partial \mathcal{L} / \partial W_l\|_F$", True),
    "bias_grad_norm": (r"$\|\partial \mathcal{L} / \partial b_l\|$", True),
    "update_ratio": (r"$\|\Delta W_l\|_F / \|W_l\|_F$", True),
    "act_mean": ("activation mean", False),
    "act_std": ("activation std", True),
    "saturation": ("saturated fraction", False),
    "dead": ("dead-unit fraction", False),
}


def _layer_colours(n: int, cmap: str = "viridis"):
    import matplotlib
    colours = matplotlib.colormaps[cmap]
    return [colours(0.9 * i / max(n - 1, 1)) for i in range(n)]


def _layer_label(l: int) -> str:
    """A layer by its position in the network, 1 = nearest the input (not by its module's name)."""
    return f"layer {l + 1}"


def _layer_key(ax, layers, names, cmap="viridis"):
    """A legend for a few layers, a colour bar of the layer index for many."""
    if len(layers) <= 6:
        ax.legend(fontsize=9)
        return
    import matplotlib
    norm = matplotlib.colors.Normalize(1, len(names))
    cm = matplotlib.colors.ListedColormap(_layer_colours(len(names), cmap))
    bar = ax.figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cm), ax=ax, pad=0.01)
    bar.set_label("layer (1 = nearest the input)", fontsize=9)


def layer_stat_lines(recorder, stat: str, ax=None, layers=None, log: bool | None = None,
                     title: str | None = None, key: bool = True):
    """One line per layer: ``recorder``'s statistic ``stat`` against the recorded step.

    Args:
        recorder: a ``vg.diagnostics.Recorder`` (or anything with ``steps``, ``names`` and
            a (steps, L) array attribute ``stat``).
        stat: one of ``STAT_LABELS`` ("grad_norm", "update_ratio", "act_std", "dead", ...).
        layers: indices of the layers to draw (0 = nearest the input; default: all). Layers
            whose values are all NaN (e.g. "saturation" of a ReLU layer) are left out.
        log: a log y axis (default: as ``STAT_LABELS`` says).
        key: add a legend ("layer 1" = nearest the input, up to 6 layers) or a colour bar of the
            layer index (more).
    Returns:
        the matplotlib Axes; lines go from dark (input side) to light (output side).
    """
    if stat not in STAT_LABELS:
        raise ValueError(f"layer_stat_lines expected stat to be one of {', '.join(map(repr, STAT_LABELS))}, "
                         f"got {stat!r}")
    ax = new_axes(ax)
    values = np.asarray(getattr(recorder, stat), dtype=float)          # (steps, L)
    names = list(recorder.names)
    colours = _layer_colours(len(names))
    layers = range(len(names)) if layers is None else layers
    layers = [l for l in layers if np.any(np.isfinite(values[:, l]))]
    for l in layers:
        ax.plot(recorder.steps, values[:, l], color=colours[l], lw=1.2, label=_layer_label(l))
    label, default_log = STAT_LABELS[stat]
    if default_log if log is None else log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if key and layers:
        _layer_key(ax, layers, names)
    return ax


def layer_histograms(recorder, step: int | None = None, layers=None, ax=None, bins: int = 40,
                     value_range: tuple | None = None, title: str | None = None, key: bool = True,
                     logx: bool = False):
    """Histograms of the activation samples of each layer at one recorded step (densities; counts with ``logx``).

    Args:
        step: a step in ``recorder.snapshots`` (default: the last snapshot).
        layers: indices of the layers to draw (default: all); one outline per layer.
        value_range: (low, high) of the histograms (default: that of all samples drawn).
        key: add a legend ("layer 1" = nearest the input, up to 6 layers) or a colour bar of the
            layer index (more).
        logx: histograms of $|a|$ on log-spaced bins, zeros left out: layers whose scales differ
            by orders of magnitude side by side (half of a ReLU's outputs are exactly 0).
    Returns:
        the matplotlib Axes.
    """
    if not recorder.snapshots:
        raise ValueError("layer_histograms expected a recorder with activation snapshots, got none "
                         "(was it created with samples=0, or has it not recorded a step yet?)")
    snaps = dict(recorder.snapshots)
    if step is None:
        step = recorder.snapshots[-1][0]
    if step not in snaps:
        raise ValueError(f"layer_histograms expected step to be one of {sorted(snaps)}, got {step!r}")
    samples = snaps[step]
    names = list(recorder.names)
    colours = _layer_colours(len(names))
    if logx:
        samples = [np.abs(s[s != 0]) for s in samples]
    layers = [l for l in (range(len(names)) if layers is None else layers) if len(samples[l])]
    if value_range is None and layers:
        everything = np.concatenate([samples[l] for l in layers])
        value_range = (float(everything.min()), float(everything.max()))
    edges = np.geomspace(*value_range, bins + 1) if logx else np.linspace(*value_range, bins + 1)
    ax = new_axes(ax)
    for l in layers:
        ax.hist(samples[l], bins=edges, density=not logx, histtype="step", color=colours[l], lw=1.2,
                label=_layer_label(l))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("|activation| (zeros left out)" if logx else "activation value")
    ax.set_ylabel("count" if logx else "density")
    ax.set_title(title or f"activations at step {step}")
    ax.grid(True, alpha=0.3)
    if key and layers:
        _layer_key(ax, layers, names)
    return ax


def layer_key(fig, axes, n_layers: int, cmap: str = "viridis"):
    """One key for a whole figure whose panels draw one line per layer (``key=False`` in each).

    Up to 6 layers: a legend below the figure, taken from the first panel's lines; more: one colour
    bar of the layer index below the figure, for all ``axes``. Returns the legend or colour bar.
    """
    import matplotlib
    axes = np.atleast_1d(axes)
    if n_layers <= 6:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        return fig.legend(handles, labels, loc="outside lower center", ncols=min(len(handles), 6), fontsize=9)
    norm = matplotlib.colors.Normalize(1, n_layers)
    cm = matplotlib.colors.ListedColormap(_layer_colours(n_layers, cmap))
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cm), ax=axes, location="bottom",
                       shrink=0.6, aspect=40)
    bar.set_label("layer (1 = nearest the input)", fontsize=9)
    return bar


def diagnostics_figure(recorder, stats=("grad_norm", "update_ratio", "act_std", "dead"), title: str | None = None,
                       ncols: int = 2):
    """A grid of ``layer_stat_lines``, one panel per statistic in ``stats``, with one key. Returns the Figure.

    The figure is as wide as the book's column (``BOOK_WIDTH``) with at most ``ncols`` panels to a
    row; the layers' key (a legend for up to 6 layers, a colour bar of the layer index for more) is
    drawn once, for the whole figure.
    """
    import matplotlib.pyplot as plt
    nrows = -(-len(stats) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(BOOK_WIDTH, 2.6 * nrows + 0.5), layout="constrained",
                             squeeze=False, sharex=True)
    for ax, stat in zip(axes.flat, stats):
        layer_stat_lines(recorder, stat, ax=ax, key=False)
    for i, ax in enumerate(list(axes.flat)[:len(stats)]):
        if i + ncols < len(stats):                   # the step axis is labelled on the lowest panels
            ax.set_xlabel("")
    for ax in list(axes.flat)[len(stats):]:
        ax.set_visible(False)
    layer_key(fig, axes, len(recorder.names))
    if title:
        fig.suptitle(title)
    return fig
