"""Figures and exercises numbered per chapter: "Fig. 3.2" is the second figure of chapter 3.

Without a numbered table of contents Sphinx numbers figures (and sphinx-exercise its exercises)
through the whole book, so chapter 8's first figure would be "Fig. 40". This renumbers each
chapter's figures, tables, code blocks and exercises from 1, prefixed with the chapter's number
taken from its file name (``chapters/03_activations`` -> 3); pages outside ``chapters/`` count
from 1 without a prefix. The order within a page is Sphinx's, the order of the page.
"""

from __future__ import annotations

import re

CHAPTER = re.compile(r"chapters/(\d+)_")


def renumber(app, env):
    for docname, figtypes in env.toc_fignumbers.items():
        match = CHAPTER.match(docname)
        for numbers in figtypes.values():
            for k, node_id in enumerate(sorted(numbers, key=numbers.get), start=1):
                numbers[node_id] = (int(match.group(1)), k) if match else (k,)
    return []


def setup(app):
    app.connect("env-get-updated", renumber, priority=900)   # after Sphinx numbers them (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
