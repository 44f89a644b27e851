"""Checks on the chapters' MyST sources that need no build: every figure has alt text."""

import re
from pathlib import Path

import pytest

CHAPTERS = sorted((Path(__file__).resolve().parent.parent / "chapters").glob("*.md"))
DIRECTIVE = re.compile(r"^```\{(glue:figure|figure)\}[^\n]*\n((?::[^\n]*\n)*)", re.MULTILINE)


def test_there_are_chapters():
    assert len(CHAPTERS) >= 10


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    """A screen reader (or a broken image) gets what the figure shows, not its file name."""
    missing = []
    for match in DIRECTIVE.finditer(path.read_text(encoding="utf-8")):
        options = dict(re.findall(r"^:(\w+):[ \t]*(.*)$", match.group(2), re.MULTILINE))
        if len(options.get("alt", "").split()) < 5:
            missing.append(match.group(0).splitlines()[0])
    assert not missing, f"figures without a descriptive :alt: in {path.name}: {missing}"
