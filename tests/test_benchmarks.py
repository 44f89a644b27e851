"""make bench's workloads all run, for vglab and for torch (a smoke test: nothing about time is asserted).

The measurements themselves are `make bench`'s job (each variant in its own process on a quiet
machine); here every workload is built and stepped twice through the same runner.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import workloads  # noqa: E402


def test_every_workload_runs_in_its_own_process(tmp_path, torch):
    out = tmp_path / "bench.json"
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--threads", "1",
                             "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    table = json.loads(out.read_text())
    assert [row["workload"] for row in table["rows"]] == list(workloads.WORKLOADS)
    for row in table["rows"]:
        assert row["ms"]["vglab"] > 0 and row["ms"]["torch"] > 0
        assert row["ratio"]["vglab/torch"] == pytest.approx(row["ms"]["vglab"] / row["ms"]["torch"])
    for name in workloads.WORKLOADS:   # the printed table names every workload
        assert workloads.WORKLOADS[name][0] in result.stdout


@pytest.mark.parametrize("name", list(workloads.GROWTH)[:2])
def test_growth_workloads_build_for_both(name, torch):
    _, build, size = workloads.GROWTH[name]
    for variant in ("vglab", "torch"):
        build(variant, None, **size)()


@pytest.mark.parametrize("name", ["mlp", "lstm", "conv", "adam"])
def test_vglab_on_torch_tensors_runs_the_same_workloads(name, torch):
    import vglab as vg
    _, build, size = workloads.WORKLOADS[name]
    try:
        build("vglab-torch", "cpu", **size)()
    finally:
        vg.backend.use("numpy")
        vg.set_default_dtype("float64")
