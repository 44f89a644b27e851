"""``import vglab`` works, and trains a model, in an environment without PyTorch.

A fresh virtual environment (no system site-packages, so really no torch) gets vglab's declared
dependencies from pyproject.toml and an editable install of this checkout. It is cached under
/tmp, keyed by pyproject.toml, the checkout's path and the Python version, so only the first run
pays for it (about a minute); a failed or interrupted build is thrown away and redone. Where the
environment cannot be built for lack of a network or a package index, the tests skip and say so.

It would collect on Python 3.10 too (below requires-python, 3.11): without ``tomllib`` the
dependencies are read with ``tomli`` where installed, else from the array's literal text.
"""

import ast
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"

NETWORK_SIGNS = ("Could not find a version", "No matching distribution", "NewConnectionError",
                 "ConnectionError", "Temporary failure in name resolution", "Name or service not known",
                 "Network is unreachable", "ReadTimeout", "timed out", "ProxyError", "SSLError")


def _read_dependencies(text: str) -> list[str]:
    """``[project] dependencies`` read without a TOML parser: the array of double-quoted strings, comments dropped."""
    match = re.search(r"^\[project\]\s*$.*?^dependencies\s*=\s*(\[.*?\])", text, re.MULTILINE | re.DOTALL)
    if match is None:
        raise ValueError("pyproject.toml has no [project] dependencies array")
    array = re.sub(r"#[^\"\n]*$", "", match.group(1), flags=re.MULTILINE)
    return ast.literal_eval(array)


def dependencies() -> list[str]:
    """vglab's declared dependencies: with tomllib (3.11+) or tomli where there is one, else read as text."""
    text = PYPROJECT.read_text()
    try:
        import tomllib
    except ImportError:
        try:
            import tomli as tomllib
        except ImportError:
            return _read_dependencies(text)
    return tomllib.loads(text)["project"]["dependencies"]


def _key() -> str:
    h = hashlib.sha256(PYPROJECT.read_bytes())
    h.update(str(ROOT).encode())
    h.update((ROOT / "requirements" / "constraints.txt").read_bytes())
    h.update(sys.version.encode())
    return h.hexdigest()[:16]


def _run(cmd, **kw):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


def _build(venv: Path) -> None:
    """Create the environment in ``venv``, or skip/fail with the reason."""
    made = _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    if made.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        pytest.skip(f"could not create a virtual environment: {made.stderr.strip()[-500:]}")
    python = venv / "bin" / "python"
    deps = dependencies()
    assert not [d for d in deps if d.lower().startswith("torch")], f"torch is a hard dependency: {deps}"
    constraints = ROOT / "requirements" / "constraints.txt"   # the versions `make` installs
    for cmd in ([str(python), "-m", "pip", "install", "--quiet", "-c", str(constraints), *deps],
                [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)]):
        done = _run(cmd, timeout=900)
        if done.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            output = done.stdout + done.stderr
            if any(sign in output for sign in NETWORK_SIGNS):
                pytest.skip(f"cannot install into a fresh environment (network or index unavailable): "
                            f"{' '.join(cmd[3:])}: {output.strip()[-500:]}")
            pytest.fail(f"installing into a fresh environment failed: {' '.join(cmd[3:])}\n{output[-3000:]}")


@pytest.fixture(scope="module")
def venv_python() -> Path:
    """The Python of a cached torch-free environment with vglab installed (editable)."""
    venv = Path("/tmp") / f"vglab-test-venv-{_key()}"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)           # xdist workers wait for one build
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            _build(venv)
            (venv / ".complete").write_text(" ".join(dependencies()))
    return venv / "bin" / "python"


def run_in(python: Path, tmp_path: Path, code: str) -> subprocess.CompletedProcess:
    script = tmp_path / "check.py"
    script.write_text(textwrap.dedent(code))
    # from an empty directory, so the checkout itself is not on sys.path by accident
    return _run([str(python), str(script)], cwd=tmp_path, timeout=300,
                env={"VGLAB_STATIC": "1", "MPLBACKEND": "Agg"})


def test_fresh_environment_has_no_torch(venv_python, tmp_path):
    done = run_in(venv_python, tmp_path, """
        import importlib.util, sys
        assert importlib.util.find_spec("torch") is None, "torch is importable"
        print(sys.prefix)
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("/tmp/vglab-test-venv-")


def test_import_and_train_without_torch(venv_python, tmp_path):
    done = run_in(venv_python, tmp_path, """
        import sys
        import numpy as np
        import vglab as vg
        from vglab import nn, optim, models, data

        assert "torch" not in sys.modules, "importing vglab imported torch"
        d = data.spirals(n_per_class=60)
        vg.manual_seed(0)
        model = models.deep_mlp(3, 16, "tanh", in_features=2, out_features=3)
        assert isinstance(model[0].weight.data, np.ndarray)
        history = vg.train.train(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.02),
                                 d, steps=150, eval_every=150)
        first, last = np.mean(history.loss[:10]), np.mean(history.loss[-10:])
        assert history.diverged_at is None and last < 0.6 * first, (first, last)
        assert "torch" not in sys.modules, "training imported torch"
        print(vg.__file__, first, last, history.test_accuracy[-1])
    """)
    assert done.returncode == 0, done.stdout + done.stderr
    path, first, last, acc = done.stdout.split()
    assert Path(path).resolve() == ROOT / "vglab" / "__init__.py"   # this checkout, installed editable
    assert float(last) < float(first) and float(acc) > 0.5


def test_torch_backend_says_how_to_install_torch(venv_python, tmp_path):
    done = run_in(venv_python, tmp_path, """
        import vglab as vg
        try:
            vg.backend.use("torch")
        except ImportError as err:
            print(err)
        else:
            raise SystemExit("vg.backend.use('torch') did not raise ImportError without torch")
        assert vg.backend.current() == ("numpy", None), vg.backend.current()
        try:
            vg.nn.Linear(2, 3).to("torch")
        except ImportError as err:
            print(err)
        else:
            raise SystemExit("Module.to('torch') did not raise ImportError without torch")
    """)
    assert done.returncode == 0, done.stdout + done.stderr
    messages = done.stdout.strip().splitlines()
    assert len(messages) == 2, messages
    for message in messages:
        assert "the torch backend needs PyTorch: pip install torch" in message, message


def test_collects_and_reads_dependencies_without_tomllib(monkeypatch):
    """Without tomllib (Python 3.10) this module still imports and reads the list."""
    import importlib.util
    expected = dependencies()
    assert expected and all(isinstance(d, str) for d in expected) and any(d.startswith("numpy") for d in expected)
    monkeypatch.setitem(sys.modules, "tomllib", None)    # as on 3.10: import tomllib raises ImportError
    monkeypatch.setitem(sys.modules, "tomli", None)
    spec = importlib.util.spec_from_file_location("test_import_on_py310", __file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.dependencies() == expected


def test_read_dependencies_of_a_commented_array():
    text = textwrap.dedent("""
        [build-system]
        requires = ["hatchling"]

        [project]
        name = "x"
        dependencies = [
            # the array API
            "numpy>=1.26",  # any 2.x too
            "scipy>=1.11",
        ]

        [project.optional-dependencies]
        torch = ["torch>=2.1"]
    """)
    assert _read_dependencies(text) == ["numpy>=1.26", "scipy>=1.11"]


def test_no_test_module_skips_torch_as_a_whole():
    """A module-level ``pytest.importorskip("torch")`` would skip a module's NumPy-only tests too; the tests
    that need torch ask for the ``torch`` fixture (or call ``on(backend, ...)``), which skip one test each."""
    offenders = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for statement in ast.parse(path.read_text()).body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(statement):
                if (isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.importorskip"
                        and node.args and ast.unparse(node.args[0]) == "'torch'"):
                    offenders.append(f"{path.name}:{statement.lineno}")
    assert offenders == []
