"""The bibliography's labels read as the citations do: "Hochreiter and Schmidhuber 1997".

sphinxcontrib-bibtex's ``author_year`` reference style cites by author and year in the text, but
the bibliography keeps the labels of its formatting style, and the default (``alpha``) makes them
from ASCII letters only ("GDollarG+17" for Goyal, Dollár, Girshick et al.). This registers a
pybtex formatting style ``vglab`` (the ``plain`` entries, sorted by author and year) whose labels
are the first author's last name (with "and" for two authors, "et al." for more) and the year,
with a letter when two entries would otherwise share a label (He et al. 2016a, 2016b).
Citations in the text take round brackets: ``author_year_round`` is sphinxcontrib-bibtex's
``author_year`` with ( ) for [ ], and its year carries the same letter as the entry's label, so
the two papers a reader finds as 2016a and 2016b in the bibliography are cited as
"(He et al., 2016a)" and "(He et al., 2016b)", not both as "(He et al., 2016)". Configured in _config.yml: ``bibtex_default_style: vglab``,
``bibtex_reference_style: author_year_round``.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass, field

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.template import Node
from sphinxcontrib.bibtex.plugin import register_plugin as register_bibtex_plugin
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle
from sphinxcontrib.bibtex.style.template import node, year


def _last_name(person) -> str:
    return Text.from_latex(" ".join(person.last_names)).render_as("text")


def _author_year(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    if len(people) > 1 and str(people[-1]) == "others":    # "and others" in BibTeX: et al.
        people = people[:1] * 3
    if not people:
        names = entry.fields.get("title", entry.key)
    elif len(people) == 1:
        names = _last_name(people[0])
    elif len(people) == 2:
        names = f"{_last_name(people[0])} and {_last_name(people[1])}"
    else:
        names = f"{_last_name(people[0])} et al."
    return f"{names} {entry.fields.get('year', '')}".strip()


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [_author_year(e) for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label = label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label


class Style(PlainStyle):
    default_label_style = "vglab_author_year"
    default_sorting_style = "author_year_title"


@node
def year_with_letter(children, data) -> Text:
    """The entry's year and the letter its bibliography label adds: "2016a" for "He et al. 2016a"."""
    assert not children
    text = year.format_data(data)
    label = data["formatted_entry"].label
    letter = re.fullmatch(rf".* {re.escape(str(text))}([a-z])", label)
    return Text(text, letter.group(1)) if letter else text


def with_lettered_years(template):
    """A copy of ``template`` (a pybtex template tree) with each ``year`` node a ``year_with_letter``."""
    if template is year:
        return year_with_letter
    if not isinstance(template, Node):
        return template                               # a plain string or Text
    new = copy.copy(template)                         # the shared nodes themselves stay as they are
    new.children = [with_lettered_years(child) for child in template.children]
    return new


def _round() -> BracketStyle:
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author_year in round brackets: (Hochreiter, 1991), Hochreiter (1991)."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)

    def inner(self, role_name: str) -> Node:
        """The year in every citation form takes the label's letter: (He et al., 2016a)."""
        return with_lettered_years(super().inner(role_name))


def setup(app):
    register_plugin("pybtex.style.labels", "vglab_author_year", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "vglab", Style)
    register_bibtex_plugin("sphinxcontrib.bibtex.style.referencing", "author_year_round",
                           RoundAuthorYearReferenceStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
