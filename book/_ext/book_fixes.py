"""Fixes for the book's HTML that configuration alone cannot make (Jupyter Book 1, Sphinx 7.4).

**Maths in the API reference.** vglab's docstrings write maths as ``$...$`` (and ``$$...$$``), as the
chapters do; the API reference (sphinx-autoapi) reads docstrings as reStructuredText, where a dollar
is just a dollar. Each docstring line is rewritten to the ``:math:`` role before napoleon and
autoapi render it.

**Duplicate script.**
Sphinx 7.4 registers an inline script added after the builder has started twice, once with
``filename=None`` and once with ``filename=""``, so sphinx-thebe's ``THEBE_JS_URL`` declaration is
written into every page twice and the second one is a JavaScript error ("Identifier
'THEBE_JS_URL' has already been declared"). Fixed upstream in Sphinx 8.2 (PR 13402), which Jupyter
Book 1 cannot use. Passing ``filename or ""`` makes the second registration a duplicate that
Sphinx drops.
"""

from __future__ import annotations

import re

from sphinx.builders.html import StandaloneHTMLBuilder

_original_add_js_file = StandaloneHTMLBuilder.add_js_file


def _add_js_file(self, filename, **kwargs):
    return _original_add_js_file(self, filename or "", **kwargs)


_INLINE = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?!\$)")


def dollars_to_math(lines: list[str]) -> list[str]:
    """``$x$`` -> ``:math:`x```; ``$$ ... $$`` (over one or more lines) -> a ``.. math::`` block.

    Changes ``lines`` in place, as Sphinx's docstring event wants, and returns it.
    """
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip().startswith("$$"):
            indent = line[: len(line) - len(line.lstrip())]
            body = [line.strip()[2:]]
            while not body[-1].rstrip().endswith("$$") and i + 1 < len(lines):
                i += 1
                body.append(lines[i].strip())
            body[-1] = body[-1].rstrip()[:-2] if body[-1].rstrip().endswith("$$") else body[-1]
            out += ["", f"{indent}.. math::", ""] + [f"{indent}   {b}" for b in body if b.strip()] + [""]
        else:
            out.append(_INLINE.sub(lambda m: ":math:`" + m.group(1).replace("`", "\\`") + "`", line))
        i += 1
    lines[:] = out
    return lines


def _process_docstring(app, what, name, obj, options, lines):
    dollars_to_math(lines)


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring, priority=100)
    if StandaloneHTMLBuilder.add_js_file is not _add_js_file:
        StandaloneHTMLBuilder.add_js_file = _add_js_file
    return {"parallel_read_safe": True, "parallel_write_safe": True}
