"""vglab (NumPy) against PyTorch on the CPU: forward + backward of a Conv2d and of a BatchNorm1d.

The same method as ``benchmarks/run.py``: each variant in its own process, float32, 2 threads,
warm-up, the median of ``--repeats`` runs; only the ratio vglab/torch is printed.

    python benchmarks/conv_bn.py                 # both workloads
    python benchmarks/conv_bn.py --repeats 100 conv
    python benchmarks/conv_bn.py --threads 1 --clock cpu

On a shared, loaded machine wall-clock medians are erratic: torch's two threads wait for each
other whenever one is descheduled, and a step longer than a scheduler time slice is interrupted
almost every time. One thread and process CPU time (``--clock cpu``) then measure the work itself.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

WORKLOADS = {
    "conv": "Conv2d 3x3, 16 -> 32 channels, pad 1, 8x8 images, batch 64",
    "bn": "BatchNorm1d, (256, 512), training mode",
}
TARGETS = {"conv": 1.5, "bn": 1.25}


def _data(name):
    import numpy as np
    rng = np.random.default_rng(0)
    if name == "conv":
        return rng.standard_normal((64, 16, 8, 8)).astype(np.float32), rng.standard_normal((64, 32, 8, 8)).astype(np.float32)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    return x, rng.standard_normal((256, 512)).astype(np.float32)


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def _time_vglab(name, repeats):
    import vglab as vg
    from vglab import nn
    vg.set_default_dtype("float32")
    layer = nn.Conv2d(16, 32, 3, padding=1) if name == "conv" else nn.BatchNorm1d(512)
    x, g = _data(name)

    def step():
        layer(x)
        layer.backward(g)
        layer.zero_grad()
    return _median(step, repeats)


def _time_torch(name, repeats):
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    layer = torch.nn.Conv2d(16, 32, 3, padding=1) if name == "conv" else torch.nn.BatchNorm1d(512)
    x, g = (torch.from_numpy(a) for a in _data(name))
    x.requires_grad_(True)  # vglab returns dL/dx, so torch computes it too

    def step():
        layer(x).backward(g)
        layer.zero_grad(set_to_none=True)
        x.grad = None
    return _median(step, repeats)


def _median(fn, repeats):
    clock = CLOCKS[os.environ.get("VGLAB_BENCH_CLOCK", "wall")]
    for _ in range(10):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--clock", choices=list(CLOCKS), default="wall")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant, name = args.child
        fn = _time_vglab if variant == "vglab" else _time_torch
        print(json.dumps({"seconds": fn(name, args.repeats)}))
        return
    threads = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
               VGLAB_BENCH_CLOCK=args.clock)
    print(f"{f'workload ({threads} threads, {args.clock} clock)':<62} {'vglab/torch':>12} {'target':>8}")
    for name in args.workloads:
        seconds = {}
        for variant in ("vglab", "torch"):
            out = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--child", variant, name],
                                 check=True, capture_output=True, text=True, env=env).stdout
            seconds[variant] = json.loads(out.strip().splitlines()[-1])["seconds"]
        print(f"{WORKLOADS[name]:<62} {seconds['vglab'] / seconds['torch']:>12.2f} {TARGETS[name]:>8.2f}")


if __name__ == "__main__":
    main()
