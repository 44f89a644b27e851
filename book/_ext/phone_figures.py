"""A glued figure shows its phone version on a phone: ``<picture>`` with a ``<source>`` per width.

A 7.5-inch figure in a phone's 358-pixel column is shown at 0.45 of its size, its 10-point text at
5 points. ``vg.book.glue_figure`` therefore glues two versions of each figure: the wide one under
its name and a one-column, phone-wide one under ``name + PHONE_SUFFIX`` (``vg.book.phone_layout``).
This extension replaces myst-nb's ``{glue:figure}`` directive with one that, when the phone version
exists, writes the image as

    <a href="wide.png"><picture>
      <source media="(max-width: 600px)" srcset="phone.png" width="350" height="580">
      <img src="wide.png" alt="..." width="761" height="341">
    </picture></a>

so the browser downloads and shows the phone version on a narrow screen and the wide one
elsewhere; the figure's number, caption, target and ``alt`` text are the directive's as before.
Both images stay image nodes in the document, so Sphinx copies both to ``_images/``. The width
of 600 px is also in book/_static/custom.css, which fits the phone version to the column.
"""

from __future__ import annotations

import posixpath
from html import escape
from urllib.parse import quote

from docutils import nodes
from myst_nb.core.variables import RetrievalError, render_variable_outputs
from myst_nb.ext.glue.directives import PasteFigureDirective
from myst_nb.ext.glue.utils import retrieve_glue_data

from vglab.book import PHONE_SUFFIX

PHONE_MEDIA = "(max-width: 600px)"


class picture(nodes.General, nodes.Element):
    """A figure's image in two versions: children [wide output, phone image]."""


class PhoneFigureDirective(PasteFigureDirective):
    """``{glue:figure}`` that also places the figure's phone version, when one was glued."""

    def run(self):
        result = super().run()
        figure = result[0]
        try:
            data = retrieve_glue_data(self.document, self.arguments[0] + PHONE_SUFFIX)
        except RetrievalError:
            return result                              # no phone version: the figure as it was
        if not isinstance(figure, nodes.figure) or not figure.children:
            return result
        phone = [n for out in render_variable_outputs([data], self.document, self.line, self.source)
                 for n in out.findall(nodes.image)]
        wide = figure.children[0]                       # myst-nb's output (a mime bundle)
        if len(phone) != 1 or not list(wide.findall(nodes.image)):
            return result
        figure.replace(wide, picture("", wide, phone[0]))
        return result


def _src(translator, image) -> str:
    """The image's address in the built page (Sphinx copies it to _images/)."""
    name = translator.builder.images.get(image["uri"])
    return posixpath.join(translator.builder.imgpath, quote(name)) if name else image["uri"]


def _size(image) -> str:
    """``width`` and ``height`` attributes in CSS pixels (myst-nb gives '761' or '761px')."""
    return "".join(f' {key}="{image[key].removesuffix("px")}"' for key in ("width", "height")
                   if key in image)


def visit_picture(translator, node):
    wide, phone = list(node.findall(nodes.image))
    translator.body.append(
        f'<a class="reference internal image-reference" href="{_src(translator, wide)}">'
        f'<picture class="vg-picture">'
        f'<source media="{PHONE_MEDIA}" srcset="{_src(translator, phone)}"{_size(phone)}>'
        f'<img src="{_src(translator, wide)}" alt="{escape(wide.get("alt", ""))}"{_size(wide)}>'
        f"</picture></a>\n"
    )
    raise nodes.SkipNode


def setup(app):
    app.add_node(picture, html=(visit_picture, None))
    app.add_directive_to_domain("glue", "figure", PhoneFigureDirective, override=True)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
