"""Shared by the unit tests: the backends to run on, arrays on a backend, hypothesis's profile.

    from conftest import backends, on

    @pytest.mark.parametrize("backend", backends)
    def test_something(backend, torch):
        x = on(backend, np.ones((2, 3)))      # a float64 NumPy array or torch tensor

Backends are parametrised (not a fixture) because hypothesis refuses function-scoped fixtures.
Helpers switch backends only through ``vg.backend.using``, so no global state leaks between tests.
"""

import os

import numpy as np
import pytest
from hypothesis import settings

import vglab as vg

settings.register_profile("vglab", deadline=None, derandomize=True)
settings.load_profile("vglab")

# `pytest --backend torch --device cuda` (or VGLAB_TEST_BACKENDS=torch VGLAB_TEST_DEVICE=cuda) runs every
# backend-parametrised test on torch tensors on the GPU; the default is both backends, torch on the CPU.
# The list is filled in place by pytest_configure, before any test module imports it.
backends = ["numpy", "torch"]
DEVICE = None
NO_DEVICE = None   # why the requested device cannot be used, if it cannot


def pytest_configure(config):
    global DEVICE, NO_DEVICE
    chosen = config.getoption("backend", None) or os.environ.get("VGLAB_TEST_BACKENDS", "both")
    backends[:] = ["numpy", "torch"] if chosen in ("both", "numpy,torch") else chosen.split(",")
    DEVICE = config.getoption("device", None) or os.environ.get("VGLAB_TEST_DEVICE") or None
    if DEVICE and DEVICE != "cpu":
        try:
            vg.backend.set_torch_device(DEVICE)
        except Exception as err:  # no torch, no CUDA build, no GPU
            NO_DEVICE = f"device {DEVICE} was asked for, but this machine cannot use it ({type(err).__name__}: {err})"


def pytest_collection_modifyitems(config, items):
    if NO_DEVICE:   # skipped with a message, never failing
        skip = pytest.mark.skip(reason=NO_DEVICE)
        for item in items:
            item.add_marker(skip)


def pytest_report_header(config):
    return f"vglab tests: backends {', '.join(backends)}; torch device {DEVICE or 'cpu'}" + (
        f" (skipped: {NO_DEVICE})" if NO_DEVICE else "")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or a skip where it is not installed."""
    return pytest.importorskip("torch")


def on(backend, x, dtype=None):
    """``x`` (anything ``np.asarray`` takes) as an array of ``backend``; floats become float64.

    Integer data stay integer unless ``dtype`` says otherwise.
    """
    if backend == "torch":
        pytest.importorskip("torch")
    with vg.backend.using(backend):
        return vg.backend.asarray(np.asarray(x), dtype=dtype)


def randn(backend, *shape, seed=0):
    """Standard normal draws of ``shape`` (float64) on ``backend``, from a NumPy generator seeded ``seed``."""
    return on(backend, np.random.default_rng(seed).standard_normal(shape))


def assert_linear_in_upstream(grads_of, g1, g2, a, b):
    """Backward is linear in the upstream gradient: ``grads_of(a*g1 + b*g2) == a*grads_of(g1) + b*grads_of(g2)``.

    ``grads_of(g)`` runs one backward with upstream ``g`` and returns the gradients (a list of
    arrays). Equality holds up to rounding relative to the size of the two terms.
    """
    combined = [vg.to_numpy(r) for r in grads_of(a * g1 + b * g2)]
    first = [vg.to_numpy(r) for r in grads_of(g1)]
    second = [vg.to_numpy(r) for r in grads_of(g2)]
    for c, r1, r2 in zip(combined, first, second, strict=True):
        scale = abs(a) * np.max(np.abs(r1)) + abs(b) * np.max(np.abs(r2))
        np.testing.assert_allclose(c, a * r1 + b * r2, rtol=0, atol=1e-13 * scale + 1e-300)


# One torch thread per test process. pytest-xdist's workers already share the machine's cores, and
# torch's intra-op threads then spin and wait for each other: a 300-step training run on the spirals
# took 21 s with 2 threads and 0.34 s with 1 on the 2-core machine. (Read when torch initialises.)
import os as _os
import sys as _sys

_os.environ.setdefault("OMP_NUM_THREADS", "1")
if "torch" in _sys.modules:
    _sys.modules["torch"].set_num_threads(int(_os.environ["OMP_NUM_THREADS"]))
