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
    assert glued == [("ch00-norms", fig, True)]
    assert not plt.fignum_exists(fig.number)                  # closed: the inline backend will not show it again
