"""The GitHub Pages workflow builds the book with the README's own command and publishes _build/html.

It cannot run here (no GitHub runner); what can be checked is that it parses, runs on every push
to main, calls `make book` (so the published book is the one a reader builds) and uploads the
directory `make book` writes.
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def load():
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


def steps(job):
    return job.get("steps", [])


def test_runs_on_every_push_to_main():
    on = load()["on"]
    assert "main" in on["push"]["branches"]


def test_builds_with_the_readme_command_and_uploads_the_html():
    data = load()
    build = data["jobs"]["build"]
    runs = [s.get("run", "") for s in steps(build)]
    assert any(r.strip() == "make book" for r in runs), runs
    assert "make book" in (ROOT / "README.md").read_text(encoding="utf-8")
    uploads = [s for s in steps(build) if str(s.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert len(uploads) == 1 and uploads[0]["with"]["path"] == "_build/html"
    python = [s for s in steps(build) if str(s.get("uses", "")).startswith("actions/setup-python")]
    assert python and python[0]["with"]["python-version"] == "3.11"


def test_deploys_after_the_build_with_pages_permissions():
    data = load()
    deploy = data["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(str(s.get("uses", "")).startswith("actions/deploy-pages") for s in steps(deploy))
    assert data["permissions"]["pages"] == "write" and data["permissions"]["id-token"] == "write"
