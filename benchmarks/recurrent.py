"""vglab's LSTM and GRU (NumPy) against torch.nn.LSTM / GRU on the CPU: forward + backward.

Same method as ``run.py``: each variant in its own process, float32 on both sides, 2 threads,
a warm-up, the median of ``--repeats`` runs; only the ratio vglab/torch is printed. The
workload is T=50 steps, batch N=32, input and hidden size 64, one layer; the loss is the
sum of the outputs times a fixed random array (the same upstream gradient for both).

    python benchmarks/recurrent.py              # LSTM and GRU
    python benchmarks/recurrent.py --repeats 50 gru
    python benchmarks/recurrent.py --threads 1 --cpu-time   # on a busy shared machine

On a machine shared with other work, two threads that wait for each other spin, and wall-clock
times mostly measure the other work; ``--threads 1 --cpu-time`` (CPU time of the process) is the
steadier comparison there. vglab allocates and frees a few MB per step; where glibc hands freed
memory back to the system, the page faults that follow cost vglab up to a third of its time
(torch keeps its memory). ``MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_MMAP_THRESHOLD_=67108864``
in the environment shows the time without them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

T, N, I, H = 50, 32, 64, 64
WORKLOADS = {"lstm": "LSTM", "gru": "GRU"}


def _time_vglab(kind, repeats, clock):
    import numpy as np
    import vglab as vg
    from vglab import nn
    vg.set_default_dtype("float32")
    model = getattr(nn, kind)(I, H)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((T, N, I)).astype(np.float32)
    dout = rng.standard_normal((T, N, H)).astype(np.float32)

    def step():
        model(X)
        model.backward(dout)
        model.zero_grad()
    return _median(step, repeats, clock)


def _time_torch(kind, repeats, clock):
    import torch
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    model = getattr(torch.nn, kind)(I, H)
    X = torch.randn(T, N, I)
    dout = torch.randn(T, N, H)

    def step():
        out, _ = model(X)
        out.backward(dout)
        model.zero_grad(set_to_none=True)
    return _median(step, repeats, clock)


def _median(fn, repeats, clock):
    for _ in range(5):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    times.sort()
    return times[len(times) // 2]


def _child(variant, name, repeats, cpu_time):
    fn = _time_vglab if variant == "vglab" else _time_torch
    clock = time.process_time if cpu_time else time.perf_counter
    print(json.dumps({"seconds": fn(WORKLOADS[name], repeats, clock)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true", help="time with the process's CPU time, not the wall clock")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.child[0], args.child[1], args.repeats, args.cpu_time)
    threads = str(args.threads)
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    clock = "CPU time" if args.cpu_time else "wall clock"
    print(f"{'workload (T=50, N=32, I=H=64, float32)':<44} {'vglab/torch':>12} {'vglab ms':>9} {'torch ms':>9}"
          f"   ({threads} threads, {clock}, median of {args.repeats})")
    for name in args.workloads:
        seconds = {}
        for variant in ("vglab", "torch"):
            command = [sys.executable, __file__, "--repeats", str(args.repeats), "--child", variant, name]
            out = subprocess.run(command + (["--cpu-time"] if args.cpu_time else []),
                                 check=True, capture_output=True, text=True, env=env).stdout
            seconds[variant] = json.loads(out.strip().splitlines()[-1])["seconds"]
        print(f"{WORKLOADS[name] + ' forward + backward':<44} {seconds['vglab'] / seconds['torch']:>12.2f} "
              f"{1e3 * seconds['vglab']:>9.2f} {1e3 * seconds['torch']:>9.2f}")


if __name__ == "__main__":
    main()
