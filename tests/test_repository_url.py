"""The repository URL is written once, in _config.yml; everything else must agree with it.

README.md (its clone command, badges, links) and the Colab set-up cell of every chapter must
point at the same GitHub repository and branch. Parts that do not exist yet are skipped, with
the reason, but _config.yml must always hold the URL, so the test never passes vacuously.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

# GitHub organisations that README.md may link to without being this project.
THIRD_PARTY_ORGS = {
    "executablebooks", "jupyter-book", "jupyter", "jupyterhub", "pytorch", "numpy", "scipy",
    "matplotlib", "scikit-learn", "mathjax", "data-apis", "mwouts", "computationalmodelling",
}

NAME = r"[A-Za-z0-9_.-]+"
# (org, repo, branch or None) in every form a URL to the repository takes.
PATTERNS = [
    re.compile(rf"github\.com/(?P<org>{NAME})/(?P<repo>{NAME}?)(?:\.git)?(?:/(?:tree|blob)/(?P<branch>{NAME}))?(?=[/\s\"'`)\]>,;:@#?]|$)"),
    re.compile(rf"mybinder\.org/v2/gh/(?P<org>{NAME})/(?P<repo>{NAME})/(?P<branch>{NAME})"),
    re.compile(rf"colab\.research\.google\.com/github/(?P<org>{NAME})/(?P<repo>{NAME})/blob/(?P<branch>{NAME})"),
]
GIT_REF = re.compile(rf"github\.com/{NAME}/{NAME}?(?:\.git)?@(?P<branch>{NAME})")


@pytest.fixture(scope="module")
def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    url = repo.get("url", "")
    match = re.fullmatch(rf"https://github\.com/({NAME})/({NAME})", url)
    assert match, f"_config.yml repository.url must be https://github.com/<org>/<repo>, got {url!r}"
    assert not url.endswith(".git")
    return {"org": match.group(1), "repo": match.group(2), "branch": repo.get("branch", "main"), "url": url}


def references(text):
    """Every (org, repo, branch) that text points at, with the matched snippet."""
    found = []
    for pattern in PATTERNS:
        for m in pattern.finditer(text):
            found.append((m.group("org"), m.group("repo"), m.group("branch"), m.group(0)))
    for m in GIT_REF.finditer(text):
        found.append((None, None, m.group("branch"), m.group(0)))
    return found


def disagreements(text, repository, allow_third_party):
    bad = []
    for org, repo, branch, snippet in references(text):
        if org is not None:
            if allow_third_party and org.lower() in THIRD_PARTY_ORGS:
                continue
            if (org, repo.rstrip(".").removesuffix(".git")) != (repository["org"], repository["repo"]):
                bad.append(f"{snippet} (expected {repository['url']})")
                continue
        if branch is not None and branch != repository["branch"]:
            bad.append(f"{snippet} (expected branch {repository['branch']})")
    return bad


def test_config_holds_the_repository_url(repository):
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["repository"]["branch"] == repository["branch"]
    launch = config.get("launch_buttons", {})
    assert launch.get("binderhub_url") and launch.get("colab_url"), "Binder and Colab buttons"
    # The one place: no other repository URL is written into the configuration.
    assert disagreements((ROOT / "_config.yml").read_text(encoding="utf-8"), repository, False) == []


def test_readme_uses_the_same_url(repository):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    # The README points at the one place instead of repeating the URL; any URL it does
    # write must agree with it.
    assert "_config.yml" in text and "repository: url:" in text
    assert disagreements(text, repository, allow_third_party=True) == []


def colab_cells(text):
    """The code cells of a MyST chapter that set it up on Colab."""
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    return [c for c in cells if "google.colab" in c or "COLAB" in c]


def test_colab_cells_use_the_same_url(repository):
    chapters = sorted((ROOT / "chapters").glob("*.md"))
    cells = {ch.name: colab_cells(ch.read_text(encoding="utf-8")) for ch in chapters}
    cells = {name: c for name, c in cells.items() if c}
    if not cells:
        pytest.skip("no chapter has a Colab set-up cell yet")
    bad = {}
    for name, chapter_cells in cells.items():
        for cell in chapter_cells:
            problems = disagreements(cell, repository, allow_third_party=False)
            if "pip install" in cell and not references(cell):
                problems.append("installs vglab on Colab without the repository URL")
            if problems:
                bad[name] = problems
    assert not bad, f"Colab cells that disagree with _config.yml: {bad}"
