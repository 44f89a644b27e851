"""Helpers for the book's pages: numbers typeset for prose, errors shown without the machinery.

    glue("ratio", vg.book.number(2.6e-8, 2), display=False)   # prose: {glue:text}`ratio` -> 2.6 × 10⁻⁸
    vg.book.glue_figure("ch00-norms", fig)                     # page: a {glue:figure} ch00-norms

    with vg.book.shows_error():                                # prints "ValueError: shapes ..." only
        np.dot(np.ones((3, 1)), np.ones(2))

``number`` is the one place that decides how a computed number reads in the text: scientific
notation as a reader writes it (a times sign and a superscript exponent, never ``2.6e-08``), a
true minus sign, and non-breaking spaces so the number never breaks across two lines.
``glue_figure`` shows a figure in the notebook and hands it to the book, which places it once,
numbered and captioned, where a ``{glue:figure}`` directive names it (the cell that draws it is
tagged ``remove-output`` so the page does not show it twice). It also hands the book a phone
version of the same figure, its panels in one column a phone's width wide (``phone_layout``): a
7.5-inch figure squeezed into a phone's column would show its 10-point text at 5 points. ``shows_error`` shows a demonstrated error as its type and message, the way a reader quotes it,
without a traceback that would print the paths of the machine that built the page.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys

__all__ = ["number", "shows_error", "error_text", "glue_figure", "phone_layout", "PHONE_WIDTH_PX",
           "PHONE_SUFFIX"]

NBSP = "\u00a0"          # no line break inside a number
MINUS = "\u2212"         # a true minus sign, not a hyphen
TIMES = "\u00d7"
#: Width of a figure's phone version in CSS pixels (1 px = 1/100 inch of the figure, the book's
#: 100 dpi). A 390-px phone has room for a 342-px figure (a 358-px column less the figure's
#: margins); the page fits the phone figure to that room, so its text shows at 0.98 of its size.
PHONE_WIDTH_PX = 350
#: The glue key of a figure's phone version: "ch01-batch:phone" (book/_ext/phone_figures.py reads it).
PHONE_SUFFIX = ":phone"
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def number(x, digits: int = 2, *, scientific: bool | None = None) -> str:
    r"""``x`` as text for the prose: ``2.6 × 10⁻⁸``, ``0.031``, ``−1.5``, ``12,000``.

    Args:
        x: a real number (Python or NumPy scalar; a 0-d array).
        digits: significant digits shown (at least 1).
        scientific: force ($m \times 10^{e}$) or forbid scientific notation; by default it is
            used when $|x| < 10^{-3}$ or $|x| \ge 10^{5}$.
    Returns:
        the text, with a true minus sign, superscript exponent digits and non-breaking spaces
        around the times sign; integers are written out in full, with thousands separators.
    """
    if digits < 1:
        raise ValueError(f"number expected digits to be at least 1, got {digits!r}")
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        try:
            x = x.item()                              # a NumPy scalar or 0-d array
        except (AttributeError, ValueError):
            raise TypeError(f"number expected x to be a real number, got {x!r}") from None
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"number expected x to be a real number, got {x!r}")
    if isinstance(x, numbers.Integral):
        text = f"{abs(int(x)):,}"
        return (MINUS + text) if x < 0 else text
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return (MINUS if x < 0 else "") + "\u221e"
    sign = MINUS if x < 0 else ""
    x = abs(x)
    if x == 0:
        return "0"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    exponent = int(exponent)                          # after rounding: 9.96e-5 -> 1.0e-4
    if scientific is None:
        scientific = exponent < -3 or exponent >= 5
    if scientific:
        power = "10" + str(exponent).translate(_SUPERSCRIPT)
        if exponent == 0:
            return sign + mantissa
        if float(mantissa) == 1 and digits == 1:
            return sign + power
        return f"{sign}{mantissa}{NBSP}{TIMES}{NBSP}{power}"
    decimals = max(digits - 1 - exponent, 0)
    text = f"{x:,.{decimals}f}"
    return sign + text


def error_text(err: BaseException) -> str:
    """``err`` as its type and message, ``ValueError: shapes (3,1) and (2,) not aligned``.

    A ``SyntaxError`` gives its message and line number, not the file it was compiled from.
    """
    name = type(err).__name__
    if isinstance(err, SyntaxError):
        where = f" (line {err.lineno})" if err.lineno else ""
        return f"{name}: {err.msg}{where}"
    message = str(err)
    return f"{name}: {message}" if message else name


@contextlib.contextmanager
def shows_error(expected: type[BaseException] | tuple = Exception):
    """Run the ``with`` block, which is meant to fail, and show its error as type and message.

    The page shows what a reader would quote (``IndentationError: expected an indented block
    ...``), never a traceback with the build machine's paths. A block that does not raise is
    itself an error: the demonstration no longer shows what the text says.

    Args:
        expected: the exception type(s) the block must raise (default: any ``Exception``);
            anything else propagates unchanged.
    """
    try:
        yield
    except expected as err:
        print(error_text(err), file=sys.stderr)
    else:
        raise AssertionError("shows_error expected the block to raise an error, and it did not")


def glue_figure(name: str, fig, phone=None) -> None:
    """Show ``fig`` as the cell's output and glue it under ``name`` for a ``{glue:figure}``; close it.

    In the book (myst-nb present) the figure is glued: the page shows it where the directive
    ``{glue:figure} name`` stands, with its number and caption. Its phone version is glued as
    well, under ``name + PHONE_SUFFIX`` and without being displayed; the page shows it instead on
    a screen narrower than 600 px. Without myst-nb (Colab, say) the figure is simply displayed.
    Either way the figures are closed afterwards, so the inline backend does not show them a
    second time. Anything but a matplotlib Figure (the live controls that ``vg.widgets.explore``
    returns in a running notebook) is left alone: it shows itself.

    Args:
        name: the glue key the ``{glue:figure}`` directive names.
        fig: the figure, drawn for the book's column (``vg.plots.BOOK_WIDTH``).
        phone: the phone version, drawn ``PHONE_WIDTH_PX`` wide by the caller (for a figure
            that a new layout cannot make legible, such as a diagram); by default ``fig`` itself
            laid out again by ``phone_layout`` after it has been glued.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    if not isinstance(fig, Figure):
        return                                        # a live explorer (ipywidgets) shows itself
    try:
        from myst_nb import glue
    except ImportError:
        from IPython.display import display
        display(fig)
    else:
        glue(name, fig, display=True)                 # rendered now: the layout below changes it
        phone = phone_layout(fig) if phone is None else phone
        glue(name + PHONE_SUFFIX, _retina_png(phone), display=False)
    for figure in (fig, phone):
        if figure is not None:
            plt.close(figure)


PAD = 0.04   # inches of margin around a saved figure


def _retina_png(fig):
    """``fig`` as a PNG with twice its pixels, shown at half size (as the inline backend's retina)."""
    import io

    from IPython.display import Image
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=2 * fig.dpi, bbox_inches="tight", pad_inches=PAD)
    return Image(data=buffer.getvalue(), format="png", retina=True)


def phone_layout(fig, width_px: int = PHONE_WIDTH_PX):
    """Lay ``fig`` out again for a phone: its panels in one column, ``width_px`` pixels wide.

    The panels keep their fonts, so the text reads at the size it was drawn. What changes:

    - every panel (with its twin axes and colour bar) gets a row of its own, in reading order,
      as wide as the figure and, for its shape, about as tall as it was (2.2 to 3 inches);
    - panels that shared an axis with a neighbour show their own tick labels;
    - in a grid of up to 2 x 2 panels, each title starts with where its panel was, "(left)" or
      "(bottom right)", so a caption that says "Left: the loss" still says where to look;
    - titles and axis labels wrap instead of running off the figure;
    - a legend wider than its panel (or, for a figure legend, than the figure) is made again
      below the panels, in as many columns as fit;
    - last, the figure is narrowed by whatever still sticks out (a long tick label, say), so the
      saved image is never wider than ``width_px``.

    Changes ``fig`` in place (save or glue its wide version first) and returns it.
    """
    from matplotlib.gridspec import GridSpec
    width = width_px / fig.dpi                        # inches
    old_width, old_height = fig.get_size_inches()
    panels = {}                                       # grid cell -> the axes drawn in it
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None:                              # a colour bar or inset: follows its parent
            continue
        if not ax.get_visible():                      # an unused cell of a grid
            ax.remove()
            continue
        cell = (spec.rowspan.start, spec.colspan.start, id(spec.get_gridspec()))
        panels.setdefault(cell, []).append(ax)
    cells = sorted(panels)
    heights = []
    for cell in cells:
        spec = panels[cell][0].get_subplotspec()
        rows, cols = spec.get_gridspec().get_geometry()
        panel_width = old_width * len(spec.colspan) / cols
        panel_height = old_height * len(spec.rowspan) / rows
        heights.append(min(max(panel_height * width / panel_width, 2.2), 3.0))
        where = _position(spec, rows, cols)
        if where:                                     # the caption's "left", "bottom right" still hold
            title = panels[cell][0].get_title()
            panels[cell][0].set_title(f"({where}) {title}" if title else f"({where})")
    column = GridSpec(len(cells), 1, figure=fig, height_ratios=heights)
    for row, cell in enumerate(cells):
        for ax in panels[cell]:
            ax.set_subplotspec(column[row])
            if len(ax.get_shared_x_axes().get_siblings(ax)) > 1:
                ax.tick_params(axis="x", labelbottom=True)
            if len(ax.get_shared_y_axes().get_siblings(ax)) > 1:
                ax.tick_params(axis="y", labelleft=True)
            for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
                text.set_wrap(True)
    suptitle = 0.3 if fig.get_suptitle() else 0.0        # inches above the panels
    fig.set_size_inches(width, sum(heights) + suptitle + 0.35 * len(fig.legends))
    for legend in list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        _fit_legend(fig, legend)
    fig.draw_without_rendering()                      # room for the legends below, as laid out
    below = sum(legend.get_window_extent().height for legend in fig.legends) / fig.dpi
    fig.set_size_inches(width, sum(heights) + suptitle + below)
    for _ in range(3):                                # narrow the figure by what sticks out
        fig.draw_without_rendering()
        excess = fig.get_tightbbox().width + 2 * PAD - width
        if excess <= 0.005:
            break
        fig.set_size_inches(fig.get_size_inches()[0] - excess, fig.get_size_inches()[1])
    return fig


def _position(spec, rows: int, cols: int) -> str:
    """Where a panel sits in a grid of at most 2 x 2: "left", "top", "bottom right" ("" if alone)."""
    if rows > 2 or cols > 2:
        return ""
    row = ("top", "bottom")[spec.rowspan.start] if rows == 2 and len(spec.rowspan) == 1 else ""
    col = ("left", "right")[spec.colspan.start] if cols == 2 and len(spec.colspan) == 1 else ""
    return f"{row} {col}".strip()


def _fit_legend(fig, legend):
    """A legend too wide for its panel (or ``fig``) made again below the panels, as wide as fits.

    Matplotlib lays a legend's columns out when it is made, so a narrower one is a new legend,
    with the same entries and font size; a panel's legend squeezed into fewer columns would
    cover its data, so it moves below the panels too.
    """
    import warnings
    with warnings.catch_warnings():                   # a panel squeezed to nothing by its legend
        warnings.filterwarnings("ignore", "constrained_layout not applied")   # is what is fixed here
        fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    ax = legend.axes                                  # None for a figure legend
    if legend.get_window_extent(renderer).width <= (ax or fig).bbox.width:
        return
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    fontsize = legend.get_texts()[0].get_fontsize()
    legend.remove()
    for ncols in range(len(labels), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=ncols, fontsize=fontsize)
        if ncols == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width:
            return
        legend.remove()
