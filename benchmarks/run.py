"""vglab (NumPy) against PyTorch on the CPU: forward + backward of the chapters' workloads.

Each variant runs in its own process (after a NumPy call OpenBLAS keeps a worker thread
spinning, which would slow torch in the same process), warms up, and reports the median
of ``--repeats`` runs. Only ratios are printed as results: absolute times depend on the
machine. Float32 on both sides, 2 threads.

    python benchmarks/run.py            # all workloads
    python benchmarks/run.py --repeats 50 mlp
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

WORKLOADS = {
    # name: (description, depth, width, batch)
    "mlp": ("20-layer tanh MLP, width 128, batch 256, cross-entropy", 20, 128, 256),
    "chapter0": ("the chapter-0 network: 10 sigmoid layers of 64, batch 64", 10, 64, 64),
}


def _time_vglab(depth, width, batch, repeats):
    import numpy as np
    import vglab as vg
    from vglab import nn
    vg.set_default_dtype("float32")
    act = "tanh" if width == 128 else "sigmoid"
    model = vg.models.deep_mlp(depth, width, act, in_features=width, out_features=10)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, width)).astype(np.float32)
    y = rng.integers(0, 10, batch)

    def step():
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        model.zero_grad()
    return _median(step, repeats)


def _time_torch(depth, width, batch, repeats):
    import torch
    torch.set_num_threads(2)
    act = torch.nn.Tanh if width == 128 else torch.nn.Sigmoid
    layers = []
    for i in range(depth):
        layers.append(torch.nn.Linear(width, width if i < depth - 1 else 10))
        if i < depth - 1:
            layers.append(act())
    model = torch.nn.Sequential(*layers)
    X = torch.randn(batch, width)
    y = torch.randint(0, 10, (batch,))

    def step():
        torch.nn.functional.cross_entropy(model(X), y).backward()
        model.zero_grad(set_to_none=True)
    return _median(step, repeats)


def _median(fn, repeats):
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def _child(variant, name, repeats):
    _, depth, width, batch = WORKLOADS[name]
    fn = _time_vglab if variant == "vglab" else _time_torch
    print(json.dumps({"seconds": fn(depth, width, batch, repeats)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child[0], args.child[1], args.repeats)
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", MKL_NUM_THREADS="2")
    print(f"{'workload':<60} {'vglab/torch':>12}")
    for name in args.workloads:
        seconds = {}
        for variant in ("vglab", "torch"):
            out = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--child", variant, name],
                                 check=True, capture_output=True, text=True, env=env).stdout
            seconds[variant] = json.loads(out.strip().splitlines()[-1])["seconds"]
        print(f"{WORKLOADS[name][0]:<60} {seconds['vglab'] / seconds['torch']:>12.2f}")


if __name__ == "__main__":
    main()
