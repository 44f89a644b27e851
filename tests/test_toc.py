"""The course map in book/intro.md links every chapter the table of contents publishes.

The map once kept listing published chapters as "not yet published"; this keeps it in step with
_toc.yml, which decides what the book builds.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f for f in files if f.startswith("chapters/")]


def test_every_published_chapter_is_linked_from_the_map():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\{doc\}`/?(chapters/[\w-]+)`", intro))
    chapters = toc_chapters()
    assert len(chapters) >= 10
    missing = [c for c in chapters if c not in linked]
    assert not missing, f"book/intro.md does not link {missing}"


def test_the_map_links_no_chapter_the_book_does_not_build():
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\{doc\}`/?(chapters/[\w-]+)`", intro))
    assert linked <= set(toc_chapters())
    for chapter in linked:
        assert (ROOT / f"{chapter}.md").is_file(), chapter
