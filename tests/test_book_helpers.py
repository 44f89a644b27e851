"""vg.book: numbers typeset for the prose, errors shown as type and message."""

from __future__ import annotations

import numpy as np
import pytest

import vglab as vg
from vglab.book import MINUS, NBSP, error_text, number, shows_error


@pytest.mark.parametrize("x, digits, text", [
    (2.6e-8, 2, f"2.6{NBSP}×{NBSP}10⁻⁸"),
    (2.649e-8, 3, f"2.65{NBSP}×{NBSP}10⁻⁸"),
    (1e-5, 1, "10⁻⁵"),
    (1e-5, 2, f"1.0{NBSP}×{NBSP}10⁻⁵"),
    (9.96e-5, 2, f"1.0{NBSP}×{NBSP}10⁻⁴"),         # rounding carries into the exponent
    (3.2e12, 2, f"3.2{NBSP}×{NBSP}10¹²"),
    (-4.0e-7, 1, f"{MINUS}4{NBSP}×{NBSP}10⁻⁷"),
    (0.03123, 2, "0.031"),
    (0.25, 1, "0.2"),
    (1.5, 2, "1.5"),
    (-1.5, 2, f"{MINUS}1.5"),
    (12345.6, 2, "12,346"),
    (0.0, 2, "0"),
    (12000, 2, "12,000"),                             # integers are written out in full
    (-7, 1, f"{MINUS}7"),
    (np.float32(0.5), 2, "0.50"),
    (np.array(3e-9), 1, "3{}×{}10⁻⁹".format(NBSP, NBSP)),
    (np.int64(64), 2, "64"),
    (float("inf"), 2, "∞"),
    (float("nan"), 2, "NaN"),
])
def test_number_typesets_like_a_reader_writes(x, digits, text):
    assert number(x, digits) == text


def test_number_never_writes_e_notation_nor_breakable_spaces():
    for x in np.geomspace(1e-12, 1e12, 97):
        for sign in (1, -1):
            text = number(sign * x, 3)
            assert "e" not in text and " " not in text and "-" not in text, text


def test_number_scientific_can_be_forced_either_way():
    assert number(0.03, 1, scientific=True) == f"3{NBSP}×{NBSP}10⁻²"
    assert number(2.5e-5, 2, scientific=False) == "0.000025"
    assert number(4.2, 2, scientific=True) == "4.2"            # 10^0 is left out


def test_number_rejects_what_is_not_a_real_number():
    with pytest.raises(ValueError, match="digits to be at least 1, got 0"):
        number(1.0, 0)
    with pytest.raises(TypeError, match="x to be a real number, got 'abc'"):
        number("abc")
    with pytest.raises(TypeError, match="real number, got True"):
        number(True)


def test_number_is_reached_from_the_package():
    assert vg.book.number is number


def test_shows_error_prints_type_and_message_only(capsys):
    with shows_error():
        np.dot(np.ones((3, 1)), np.ones(2))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "ValueError: shapes (3,1) and (2,) not aligned: 1 (dim 1) != 2 (dim 0)\n"


def test_shows_error_gives_a_syntax_error_without_its_file(capsys):
    source = "if x:\n    pass\nelif y:\n    # nothing\n\nz = 1\n"
    with shows_error(IndentationError):
        exec(compile(source, "/some/build/machine/path.py", "exec"))
    err = capsys.readouterr().err
    assert err == "IndentationError: expected an indented block after 'elif' statement on line 3 (line 6)\n"
    assert "/" not in err


def test_shows_error_fails_when_nothing_is_raised_and_passes_other_errors_on():
    with pytest.raises(AssertionError, match="expected the block to raise"):
        with shows_error():
            pass
    with pytest.raises(KeyError):
        with shows_error(ValueError):
            {}["missing"]


def test_error_text_of_an_error_without_message():
    assert error_text(KeyboardInterrupt()) == "KeyboardInterrupt"
    assert error_text(TypeError("'numpy.ndarray' object is not callable")) == \
        "TypeError: 'numpy.ndarray' object is not callable"


def test_glue_figure_displays_once_and_closes(monkeypatch):
    import sys
    import types

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    glued = []
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: glued.append((name, value, display))
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    fig, ax = plt.subplots()
    vg.book.glue_figure("ch00-norms", fig)
    assert [(name, display) for name, _, display in glued] == [("ch00-norms", True), ("ch00-norms:phone", False)]
    assert glued[0][1] is fig                                 # shown once; the phone version only glued
    assert not plt.fignum_exists(fig.number)                  # closed: the inline backend will not show it again


def test_glue_figure_glues_a_sharp_phone_wide_version(monkeypatch):
    import base64
    import struct
    import sys
    import types

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    glued = {}
    fake = types.ModuleType("myst_nb")
    fake.glue = lambda name, value, display=True: glued.update({name: value})
    monkeypatch.setitem(sys.modules, "myst_nb", fake)
    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.3), layout="constrained")
    vg.book.glue_figure("ch01-batch", fig)
    from IPython.core.formatters import format_display_data
    bundle, metadata = format_display_data(glued["ch01-batch" + vg.book.PHONE_SUFFIX])   # as myst-nb's glue
    pixels = struct.unpack(">II", base64.b64decode(bundle["image/png"])[16:24])   # the PNG's width, height
    meta = metadata["image/png"]
    assert abs(meta["width"] - vg.book.PHONE_WIDTH_PX) <= 2    # shown at the phone column's width
    assert pixels[0] - 2 * meta["width"] in (0, 1)            # twice the pixels (sharp); odd ones round down
    assert meta["height"] > 1.5 * meta["width"]               # two panels, one above the other


def test_glue_figure_without_myst_nb_only_displays_the_figure(monkeypatch):
    import sys

    import IPython.display
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setitem(sys.modules, "myst_nb", None)         # `import myst_nb` fails, as on Colab
    monkeypatch.setattr(IPython.display, "display", lambda *objs: shown.extend(objs))
    fig, ax = plt.subplots(1, 2, figsize=(7.5, 3.3))
    vg.book.glue_figure("ch01-batch", fig)
    assert shown == [fig]                                     # one figure, the wide one
    assert list(fig.get_size_inches()) == [7.5, 3.3]          # not laid out for a phone
    assert not plt.fignum_exists(fig.number)


def _figure_with_two_panels_and_a_wide_legend():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(7.5, 3.3), sharey=True, layout="constrained")
    for k, ax in enumerate(axes):
        for lr in (0.001, 0.01, 0.1, 1.0):
            ax.plot([0, 1, 2], [1, lr, lr ** 2], label=f"learning rate {lr}")
        ax.set(title=f"A title long enough to run off a phone-wide figure, panel {k}", xlabel="step")
    axes[0].set_ylabel("loss")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4, fontsize=9)
    return fig, axes


def test_phone_layout_puts_the_panels_in_one_phone_wide_column():
    fig, (left, right) = _figure_with_two_panels_and_a_wide_legend()
    assert vg.book.phone_layout(fig) is fig
    assert fig.get_size_inches()[0] == vg.book.PHONE_WIDTH_PX / fig.dpi
    fig.draw_without_rendering()
    a, b = left.get_position(), right.get_position()
    assert abs(a.x0 - b.x0) < 0.05 and abs(a.x1 - b.x1) < 0.05 and b.y1 < a.y0   # one above the other
    assert a.width > 0.6                                      # each as wide as the figure, nearly
    assert all(label.get_visible() for label in right.get_yticklabels())           # sharey hid them
    assert left.title.get_wrap() and left.title.get_fontsize() == 12               # wraps, same size
    assert left.get_title() == "(left) A title long enough to run off a phone-wide figure, panel 0"
    assert right.get_title().startswith("(right) ")          # a caption's "left" and "right" still hold
    (legend,) = fig.legends
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).width <= fig.bbox.width              # fits: fewer columns
    assert [t.get_text() for t in legend.get_texts()] == [f"learning rate {lr}" for lr in (0.001, 0.01, 0.1, 1.0)]
    assert {t.get_fontsize() for t in legend.get_texts()} == {9}
    import io
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.04)
    import struct
    width = struct.unpack(">I", buffer.getvalue()[16:20])[0]
    assert width <= vg.book.PHONE_WIDTH_PX + 2                # nothing sticks out of the column


def test_phone_layout_drops_the_unused_cells_of_a_grid():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(7.5, 5.6), layout="constrained")
    axes[1, 1].set_visible(False)
    twin = axes[0, 1].twinx()
    vg.book.phone_layout(fig)
    fig.draw_without_rendering()
    assert len(fig.axes) == 4                                 # three panels and the twin
    tops = [ax.get_position().y1 for ax in (axes[0, 0], axes[0, 1], axes[1, 0])]
    assert tops == sorted(tops, reverse=True)                 # in reading order, top to bottom
    assert twin.get_position().bounds == axes[0, 1].get_position().bounds
    assert [ax.get_title() for ax in (axes[0, 0], axes[0, 1], axes[1, 0])] == ["(top left)", "(top right)", "(bottom left)"]
    assert twin.get_title() == ""                             # one label per panel


def test_phone_layout_names_no_positions_in_a_larger_grid():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 2, figsize=(7.5, 9.4), layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.set_title(f"optimiser {k}")
    vg.book.phone_layout(fig)
    assert [ax.get_title() for ax in axes.flat] == [f"optimiser {k}" for k in range(8)]


def _png_width(fig) -> int:
    import io
    import struct
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight", pad_inches=0.04)
    return struct.unpack(">I", buffer.getvalue()[16:20])[0]


def test_phone_layout_moves_a_panel_legend_too_wide_for_the_phone_below_it():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    for label in (r"inverse-time $\eta_0 / (1 + k/T)$", r"step decay $\eta_0\, 0.5^{\lfloor k/T \rfloor}$",
                  "cosine with warm restarts (SGDR)"):     # the labels of Fig. 2.3
        ax.plot([0, 1, 2], [3, 2, 1], label=label)
    ax.legend(fontsize=9, loc="upper right", ncols=2)
    vg.book.phone_layout(fig)
    fig.draw_without_rendering()
    assert ax.get_legend() is None                            # moved below the panel, not over its data
    (legend,) = fig.legends
    assert len(legend.get_texts()) == 3 and legend.get_window_extent().width <= fig.bbox.width
    assert ax.get_position().width > 0.6                      # the panel is not squeezed to make room
    assert _png_width(fig) <= vg.book.PHONE_WIDTH_PX + 1


def test_phone_layout_narrows_the_figure_by_what_sticks_out():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    ax.plot([0, 1], [0, 1])
    fig.text(0.8, 0.5, "a note that constrained layout leaves alone")
    assert _png_width(fig) > 700                              # the note sticks out of the wide figure
    vg.book.phone_layout(fig)
    assert _png_width(fig) <= vg.book.PHONE_WIDTH_PX + 1      # the phone image still fits the column
