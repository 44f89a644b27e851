"""The README's `vglab` example runs, and is as short as the README says."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no ```python block"
    return blocks[0]


def test_readme_example_is_about_ten_lines():
    lines = [l for l in _example().splitlines() if l.strip()]
    assert len(lines) <= 12


def test_readme_example_runs_and_learns(capsys):
    exec(compile(_example(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    match = re.search(r"loss ([\d.]+), test accuracy ([\d.]+)", out)
    assert match, out
    loss, acc = map(float, match.groups())
    assert loss < 0.5 and acc > 0.9, out
