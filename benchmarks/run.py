"""vglab against PyTorch on the book's workloads: the ratio of their times, each in its own process.

Each (workload, variant) runs in a fresh process: after a NumPy call OpenBLAS keeps a worker
thread spinning, which would slow torch in the same process. Each warms up, then reports the
median of ``--repeats`` timed steps. Only ratios are results: absolute times depend on the
machine. Float32 everywhere, ``--threads`` BLAS/torch threads (2 by default).

    python benchmarks/run.py                   # every workload, vglab (NumPy) / torch (CPU)
    python benchmarks/run.py mlp lstm          # some of them
    python benchmarks/run.py --growth          # an 8-layer MLP at widths 64/256/1024, batches 64/1024
    python benchmarks/run.py --quick           # each workload runs (a smoke test); times mean nothing
    python benchmarks/run.py --device cuda     # vglab on NumPy, vglab on torch-CUDA, torch-CUDA

On a machine busy with other work, ``--threads 1 --cpu-time`` (the process's CPU time) is the
steadier comparison. The table is printed and written as JSON to ``_build/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workloads import GROWTH, WORKLOADS  # noqa: E402

OUT = HERE.parent / "_build" / "bench.json"            # --growth writes bench-growth.json beside it


def time_step(step, repeats: int, warmup: int, clock) -> float:
    """The median time of ``repeats`` calls of ``step`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        t0 = clock()
        step()
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2]


def child(name: str, variant: str, device: str | None, repeats: int, warmup: int, cpu_time: bool) -> None:
    """Run in a fresh process: build one workload for one variant and print its median as JSON."""
    if variant != "vglab":
        import torch
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    _, build, size = {**WORKLOADS, **GROWTH}[name]
    step = build(variant, device, **size)
    clock = time.process_time if cpu_time else time.perf_counter
    print(json.dumps({"seconds": time_step(step, repeats, warmup, clock)}))


def measure(name, variant, device, args) -> float:
    threads = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    command = [sys.executable, __file__, "--child", name, variant, "--repeats", str(args.repeats),
               "--warmup", str(args.warmup)] + (["--device", device] if device else []) \
        + (["--cpu-time"] if args.cpu_time else [])
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{name} ({variant}) failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join([*WORKLOADS, *GROWTH])}")
    parser.add_argument("--growth", action="store_true", help="the MLP at six sizes instead")
    parser.add_argument("--quick", action="store_true", help="2 repeats, 1 warm-up: checks that everything runs")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true", help="time with the process's CPU time")
    parser.add_argument("--device", default=None, help="'cuda': compare on the GPU (torch backend)")
    parser.add_argument("--json", type=Path, default=None, help=f"where to write the table (default {OUT})")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child, args.device, args.repeats, args.warmup, args.cpu_time)
    if args.quick:
        args.repeats, args.warmup = 2, 1
    if args.json is None:
        args.json = OUT.with_name("bench-growth.json") if args.growth else OUT
    names = args.workloads or list(GROWTH if args.growth else WORKLOADS)
    unknown = [n for n in names if n not in WORKLOADS and n not in GROWTH]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join([*WORKLOADS, *GROWTH])}")
    if args.device:   # the GPU: is vglab on torch-CUDA faster than vglab on NumPy, and near torch?
        variants, base = ("vglab", "vglab-torch", "torch"), "torch"
    else:
        variants, base = ("vglab", "torch"), "torch"

    clock = "CPU time" if args.cpu_time else "wall clock"
    print(f"{args.threads} threads, {clock}, median of {args.repeats}; device {args.device or 'cpu'}"
          + (" (--quick: the times mean nothing)" if args.quick else ""))
    head = f"{'workload':<58}" + "".join(f"{v + ' ms':>16}" for v in variants)
    pairs = [(v, base) for v in variants if v != base] + ([("vglab", "vglab-torch")] if args.device else [])
    ratios = [f"{a}/{b}" for a, b in pairs]
    print(head + "".join(f"{r:>20}" for r in ratios))
    rows = []
    for name in names:
        seconds = {v: measure(name, v, args.device, args) for v in variants}
        row = {"workload": name, "description": {**WORKLOADS, **GROWTH}[name][0],
               "ms": {v: 1e3 * s for v, s in seconds.items()},
               "ratio": {f"{a}/{b}": seconds[a] / seconds[b] for a, b in pairs}}
        rows.append(row)
        print(f"{row['description']:<58}" + "".join(f"{row['ms'][v]:>16.3f}" for v in variants)
              + "".join(f"{row['ratio'][r]:>20.2f}" for r in ratios))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": {"threads": args.threads, "clock": clock, "repeats": args.repeats,
                     "device": args.device or "cpu", "quick": args.quick},
        "rows": rows}, indent=2))
    print(f"written to {args.json}")


if __name__ == "__main__":
    main()
