"""book/_ext/book_fixes.py: the docstring maths of the API reference, and the duplicate-script fix."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("book_fixes", ROOT / "book" / "_ext" / "book_fixes.py")
book_fixes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_fixes)


def test_inline_dollars_become_the_math_role_and_prices_stay():
    lines = [r"Each $\sigma(z)$ and $x_1$, for $5 or so.", "no maths here"]
    assert book_fixes.dollars_to_math(lines) is lines   # changed in place, as Sphinx's event wants
    assert lines == [r"Each :math:`\sigma(z)` and :math:`x_1`, for $5 or so.", "no maths here"]


def test_display_maths_over_several_lines_becomes_a_math_block():
    lines = ["  Text:", "", r"  $$G_t = G_{t-1} + g_t^2, \qquad", r"  \theta_t = \theta_{t-1}.$$", "  After."]
    out = book_fixes.dollars_to_math(lines)
    assert out == ["  Text:", "", "", "  .. math::", "", r"     G_t = G_{t-1} + g_t^2, \qquad",
                   r"     \theta_t = \theta_{t-1}.", "", "  After."]


def test_a_script_added_twice_is_written_once():
    from sphinx.builders.html import StandaloneHTMLBuilder

    class Builder:
        _js_files = []

    builder = Builder()
    book_fixes.setup(type("App", (), {"connect": lambda *a, **k: None})())
    assert StandaloneHTMLBuilder.add_js_file is book_fixes._add_js_file
    for filename in (None, ""):   # what Sphinx 7.4 passes for one inline script
        StandaloneHTMLBuilder.add_js_file(builder, filename, body="var THEBE_JS_URL = 1")
    assert len(builder._js_files) == 1
