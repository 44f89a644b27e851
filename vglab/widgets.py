"""Interactive explorers that stay honest on a static page.

    vg.widgets.explore(draw, depth=[2, 5, 10, 20], activation=["sigmoid", "tanh", "relu"])

``draw(ax, **values)`` draws one picture for one choice of the controls. Run in a
notebook, ``explore`` shows one ipywidgets control per keyword and redraws on every
change. When ``VGLAB_STATIC=1`` (the book build and the tests) or ipywidgets is missing,
it draws a static grid instead: one panel per combination of the ``static`` values
(default: the first, middle and last value of each control), because a slider that moves
nothing on a static page is worse than a picture. The grid fits the book's column at its
design size (at most two panels to a row, shared axis labels, one legend), so its text is not
shrunk on the page.
"""

from __future__ import annotations

import itertools
import os

__all__ = ["explore", "is_static"]


def is_static() -> bool:
    if os.environ.get("VGLAB_STATIC", "0") == "1":
        return True
    try:
        import ipywidgets  # noqa: F401  (lazy: only explorers need it)
    except ImportError:
        return True
    return False


def _default_static(values):
    values = list(values)
    if len(values) <= 3:
        return values
    return [values[0], values[len(values) // 2], values[-1]]


def explore(draw, static: dict | None = None, figsize=None, **controls):
    """Show ``draw`` with a control per keyword (each a list of allowed values).

    Args:
        draw: ``draw(ax, **values)`` draws into a matplotlib Axes.
        static: {name: values} shown in the static grid (default: first, middle, last).
        figsize: of the static figure (default: the book's column width, ``vg.plots.BOOK_WIDTH``,
            at most two panels to a row, 2.7 inches per row).
        controls: {name: list of values}; numbers give a slider, anything else a dropdown.
    Returns:
        the static matplotlib Figure, or the ipywidgets box when live.
    """
    if not controls:
        raise ValueError("explore expected at least one control, got none")
    for name, values in controls.items():
        if not isinstance(values, (list, tuple)) or not values:
            raise TypeError(f"explore expected control {name} to be a non-empty list of values, got {values!r}")
    if is_static():
        return _static_grid(draw, {**{k: _default_static(v) for k, v in controls.items()}, **(static or {})},
                            figsize)
    return _live(draw, controls)


def _static_grid(draw, grid: dict, figsize, max_cols: int = 2):
    """One panel per combination, at most ``max_cols`` to a row, sized for the book's column.

    When the last control that varies has at most ``max_cols`` values, they are the columns (a true
    grid: rows follow the other controls); otherwise the panels fill rows of ``max_cols`` in order.
    Panels share their axes: tick labels and axis labels are drawn on the outer panels only, and
    the panels' legends are merged into one legend below the grid.
    """
    import matplotlib.pyplot as plt
    from .plots import BOOK_WIDTH
    names = list(grid)
    combos = list(itertools.product(*grid.values()))
    varying = [n for n in names if len(grid[n]) > 1] or names[-1:]
    n_last = len(grid[varying[-1]])
    ncols = n_last if 1 < n_last <= max_cols else min(len(combos), max_cols)
    nrows = -(-len(combos) // ncols)
    if figsize is None:
        figsize = (BOOK_WIDTH, 2.7 * nrows + 0.4) if ncols > 1 else (6.0, 3.6)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained", figsize=figsize,
                             sharex=True, sharey=True)
    for ax, combo in zip(axes.flat, combos):
        values = dict(zip(names, combo))
        draw(ax, **values)
        ax.set_title(", ".join(f"{k}={values[k]}" for k in varying), fontsize=10)
    for ax in list(axes.flat)[len(combos):]:
        ax.set_visible(False)
    _label_outer(axes, len(combos))
    _one_legend(fig, list(axes.flat)[:len(combos)])
    return fig


def _label_outer(axes, n_panels: int):
    """Axis labels and tick labels on the left column and on the lowest panel of each column."""
    nrows, ncols = axes.shape
    for i, ax in enumerate(list(axes.flat)[:n_panels]):
        row, col = divmod(i, ncols)
        if i + ncols < n_panels:                      # another panel below this one
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
        if col > 0:
            ax.set_ylabel("")
            ax.tick_params(labelleft=False)


def _one_legend(fig, axes):
    """The panels' legends as one legend below the figure (each label once)."""
    handles = {}
    for ax in axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
        legend.remove()
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center",
                   ncols=min(len(handles), 3), fontsize=9)


def _live(draw, controls):  # pragma: no cover - needs a live kernel with a front end
    import ipywidgets as w
    import matplotlib.pyplot as plt
    from IPython.display import display

    def widget(name, values):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            return w.SelectionSlider(options=list(values), value=values[0], description=name,
                                     continuous_update=False)
        return w.Dropdown(options=list(values), value=values[0], description=name)

    widgets = {name: widget(name, values) for name, values in controls.items()}
    out = w.Output()

    def redraw(*_):
        with out:
            out.clear_output(wait=True)
            fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
            draw(ax, **{name: wd.value for name, wd in widgets.items()})
            plt.show()

    for wd in widgets.values():
        wd.observe(redraw, names="value")
    box = w.VBox([w.HBox(list(widgets.values())), out])
    display(box)
    redraw()
    return box
