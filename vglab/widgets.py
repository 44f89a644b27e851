"""Interactive explorers that stay honest on a static page.

    vg.widgets.explore(draw, depth=[2, 5, 10, 20], activation=["sigmoid", "tanh", "relu"])

``draw(ax, **values)`` draws one picture for one choice of the controls. Run in a
notebook, ``explore`` shows one ipywidgets control per keyword and redraws on every
change. When ``VGLAB_STATIC=1`` (the book build and the tests) or ipywidgets is missing,
it draws a static grid instead: one panel per combination of the ``static`` values
(default: the first, middle and last value of each control), because a slider that moves
nothing on a static page is worse than a picture.
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
        figsize: of the static figure (default: 3.4 x 2.8 inches per panel).
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


def _static_grid(draw, grid: dict, figsize):
    import matplotlib.pyplot as plt
    names = list(grid)
    combos = list(itertools.product(*grid.values()))
    ncols = len(grid[names[-1]]) if len(names) > 1 else min(len(combos), 4)
    nrows = -(-len(combos) // ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=figsize or (3.4 * ncols, 2.8 * nrows))
    for ax, combo in zip(axes.flat, combos):
        values = dict(zip(names, combo))
        draw(ax, **values)
        ax.set_title(", ".join(f"{k}={v}" for k, v in values.items()), fontsize="small")
    for ax in list(axes.flat)[len(combos):]:
        ax.set_visible(False)
    return fig


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
