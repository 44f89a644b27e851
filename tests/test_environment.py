"""environment.yml (Binder) parses and agrees with pyproject.toml.

No conda channel is reachable on the development and CI machines, so the environment cannot be
solved here; what can be checked is that it is valid YAML of the expected shape and that it
installs this project with the extras pyproject.toml defines, on a Python that it supports.
"""

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def env():
    data = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), "environment.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def conda_specs(env):
    return [d for d in env["dependencies"] if isinstance(d, str)]


def pip_lines(env):
    sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(sections) == 1, "environment.yml needs exactly one pip section"
    return sections[0]


def test_shape(env):
    assert set(env) >= {"name", "channels", "dependencies"}
    assert env["channels"], "no conda channel"
    assert isinstance(env["dependencies"], list)
    names = [re.split(r"[=<>!~ ]", spec, maxsplit=1)[0] for spec in conda_specs(env)]
    assert "python" in names and "pip" in names


def test_python_version_is_supported(env, project):
    (spec,) = [s for s in conda_specs(env) if re.match(r"python\b", s)]
    match = re.fullmatch(r"python\s*=?=\s*(\d+\.\d+)(\.\*|\.\d+)?", spec)
    assert match, f"pin python to a version, e.g. python=3.11 (got {spec!r})"
    version = Version(match.group(1))
    requires = SpecifierSet(project["requires-python"])
    assert version in requires, f"{spec} does not satisfy requires-python {requires}"


def test_installs_the_project_with_the_book_extra(env, project):
    editable = [line for line in pip_lines(env) if re.match(r"-e\s+\.(\[|$)", line)]
    assert len(editable) == 1, f"the pip section must install the project once with -e . ({pip_lines(env)})"
    extras = re.search(r"\[([^\]]*)\]", editable[0])
    extras = {e.strip() for e in extras.group(1).split(",")} if extras else set()
    assert "book" in extras, "install the project with its book extra: -e .[book]"
    unknown = extras - set(project.get("optional-dependencies", {}))
    assert not unknown, f"extras not defined in pyproject.toml: {sorted(unknown)}"


def test_other_packages_agree_with_pyproject(env, project):
    """Any package listed besides the project must be one the project declares."""
    declared = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    for reqs in project.get("optional-dependencies", {}).values():
        declared |= {canonicalize_name(Requirement(r).name) for r in reqs}
    extra = []
    for line in pip_lines(env):
        if line.startswith("-"):  # -e ., --extra-index-url ...
            continue
        name = canonicalize_name(Requirement(line).name)
        if name not in declared:
            extra.append(name)
    assert not extra, f"environment.yml installs packages pyproject.toml does not declare: {extra}"
    # A bare `torch` from PyPI is the multi-GB CUDA build: conda-forge's CPU build only.
    conda_names = {re.split(r"[=<>!~ ]", s, maxsplit=1)[0] for s in conda_specs(env)}
    assert not conda_names & {"pytorch", "torch"}, "use pytorch-cpu, not the CUDA pytorch package"


def test_binder_gets_pytorchs_cpu_build(env, project):
    """Binder readers run the torch cells too: conda-forge's CPU build, as recent as the torch extra asks."""
    (spec,) = [s for s in conda_specs(env) if re.match(r"pytorch-cpu\b", s)]
    (torch_req,) = [Requirement(r) for r in project["optional-dependencies"]["torch"]]
    assert torch_req.name == "torch"
    wanted = SpecifierSet(spec[len("pytorch-cpu"):].replace(" ", ""))
    assert wanted == torch_req.specifier, f"{spec} should ask for what the torch extra asks: torch{torch_req.specifier}"
