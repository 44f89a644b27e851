"""Each chapter has an output-free .ipynb copy for Colab, with exactly the cells of its .md."""

from pathlib import Path

import jupytext
import nbformat
import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "chapters").glob("*.md"))


def test_there_are_chapters():
    assert len(CHAPTERS) >= 2


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_ipynb_copy_matches_the_chapter(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} is missing: run `make ipynb`"
    copy = nbformat.read(ipynb, as_version=4)
    source = jupytext.read(md)
    got = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in copy.cells]
    want = [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in source.cells]
    assert got == want, f"{ipynb.name} differs from {md.name}: run `make ipynb`"
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in copy.cells if c.cell_type == "code"), f"{ipynb.name} has outputs"
