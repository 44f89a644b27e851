"""vg.show_source: the book's listings of library code, without LaTeX docstrings a listing cannot render."""

import ast
import inspect

import vglab as vg


def text(code) -> str:
    return code if isinstance(code, str) else code.data


def test_docstrings_are_left_out_and_the_code_is_whole():
    shown = text(vg.show_source(vg.schedules.CosineDecay))
    full = inspect.getsource(vg.schedules.CosineDecay)
    assert "$" in full and "$" not in shown          # the class docstring holds LaTeX; the listing does not
    assert "def value(self, k):" in shown and "math.cos" in shown
    ast.parse(shown)                                  # still valid Python
    kept = [line for line in full.splitlines() if line.strip() and '"""' not in line]
    assert sum(line in shown for line in kept) >= 10


def test_method_docstrings_go_too_and_can_be_kept():
    method = vg.nn.Linear.backward
    assert text(vg.show_source(method)).count('"""') == 0
    with_doc = text(vg.show_source(vg.nn.PReLU, docstrings=True))
    assert with_doc.count('"""') >= 2 and "He et al. 2015" in with_doc
