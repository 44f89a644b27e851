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
tagged ``remove-output`` so the page does not show it twice). ``shows_error`` shows a demonstrated error as its type and message, the way a reader quotes it,
without a traceback that would print the paths of the machine that built the page.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys

__all__ = ["number", "shows_error", "error_text", "glue_figure"]

NBSP = "\u00a0"          # no line break inside a number
MINUS = "\u2212"         # a true minus sign, not a hyphen
TIMES = "\u00d7"
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


def glue_figure(name: str, fig) -> None:
    """Show ``fig`` as the cell's output and glue it under ``name`` for a ``{glue:figure}``; close it.

    In the book (myst-nb present) the figure is glued: the page shows it where the directive
    ``{glue:figure} name`` stands, with its number and caption. Without myst-nb (Colab, say) it is
    simply displayed. Either way the figure is closed afterwards, so the inline backend does not
    show it a second time. Anything but a matplotlib Figure (the live controls that
    ``vg.widgets.explore`` returns in a running notebook) is left alone: it shows itself.
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
        glue(name, fig, display=True)
    plt.close(fig)
