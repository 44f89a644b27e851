"""Fixes for the book's HTML that configuration alone cannot make (Jupyter Book 1, Sphinx 7.4).

Sphinx 7.4 registers an inline script added after the builder has started twice, once with
``filename=None`` and once with ``filename=""``, so sphinx-thebe's ``THEBE_JS_URL`` declaration is
written into every page twice and the second one is a JavaScript error ("Identifier
'THEBE_JS_URL' has already been declared"). Fixed upstream in Sphinx 8.2 (PR 13402), which Jupyter
Book 1 cannot use. Passing ``filename or ""`` makes the second registration a duplicate that
Sphinx drops.
"""

from __future__ import annotations

from sphinx.builders.html import StandaloneHTMLBuilder

_original_add_js_file = StandaloneHTMLBuilder.add_js_file


def _add_js_file(self, filename, **kwargs):
    return _original_add_js_file(self, filename or "", **kwargs)


def setup(app):
    if StandaloneHTMLBuilder.add_js_file is not _add_js_file:
        StandaloneHTMLBuilder.add_js_file = _add_js_file
    return {"parallel_read_safe": True, "parallel_write_safe": True}
