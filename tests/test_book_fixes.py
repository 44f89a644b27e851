"""book/_ext/book_fixes.py: the docstring maths of the API reference, and the duplicate-script fix."""

import importlib.util
import sys
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


# ----------------------------------------------------------------- book/_ext/bib_style.py

def _load_bib_style():
    """book/_ext/bib_style.py as Sphinx loads it (a module in sys.modules: it defines dataclasses)."""
    if "bib_style" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bib_style", ROOT / "book" / "_ext" / "bib_style.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["bib_style"] = module
        spec.loader.exec_module(module)
        module.setup(None)                            # registers the pybtex and bibtex plugins
    return sys.modules["bib_style"]


BIB = r"""
@article{smith2016x, author = {Smith, Ann and Jones, Bo and Lee, Cy}, title = {First}, journal = {J}, year = {2016}}
@article{smith2016y, author = {Smith, Ann and Park, Di and Kim, Ed}, title = {Second}, journal = {J}, year = {2016}}
@article{smith2017, author = {Smith, Ann and Jones, Bo and Lee, Cy}, title = {Third}, journal = {J}, year = {2017}}
@article{hoch1991, author = {Hochreiter, Sepp}, title = {Alone}, journal = {J}, year = {1991}}
"""


def _cite(bib_style, role, keys):
    """The in-text citation the book's style writes for ``keys``, as plain text."""
    from pybtex.database import parse_string
    from pybtex.plugin import find_plugin
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    data = parse_string(BIB, "bibtex")
    formatted = {e.key: e for e in find_plugin("pybtex.style.formatting", "vglab")().format_entries(
        data.entries.values())}
    info = SphinxReferenceInfo(None, "chapter", "references", "id1", None, "", "")
    refs = [(data.entries[k], formatted[k], info) for k in keys]
    return str(format_references(bib_style.RoundAuthorYearReferenceStyle(), role, refs)), formatted


def test_same_author_same_year_citations_carry_the_bibliography_letter():
    """Two papers of "Smith et al." in 2016 read 2016a and 2016b in the text, as in the bibliography."""
    bib_style = _load_bib_style()
    text, formatted = _cite(bib_style, "p", ["smith2016x", "smith2016y", "smith2017", "hoch1991"])
    assert [formatted[k].label for k in ("smith2016x", "smith2016y", "smith2017", "hoch1991")] == [
        "Smith et al. 2016a", "Smith et al. 2016b", "Smith et al. 2017", "Hochreiter 1991"]
    assert text == "(Smith et al., 2016a, Smith et al., 2016b, Smith et al., 2017, Hochreiter, 1991)"
    assert _cite(bib_style, "t", ["smith2016y"])[0] == "Smith et al. (2016b)"
    assert _cite(bib_style, "t", ["hoch1991"])[0] == "Hochreiter (1991)"
    assert _cite(bib_style, "yearpar", ["smith2016x"])[0] == "(2016a)"
