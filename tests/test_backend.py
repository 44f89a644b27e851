"""vglab.backend: namespaces, the current backend, default dtype, the RNG, conversions, extras."""

import math

import numpy as np
import pytest

from conftest import backends, on
import vglab as vg
from vglab import backend as B

@pytest.fixture(autouse=True)
def _restore_state():
    """Every test leaves the backend and default dtype as it found them."""
    saved, dtype = B.current(), B.get_default_dtype()
    yield
    B.use(*saved)
    B.set_default_dtype(dtype)


# --------------------------------------------------------------------------- namespaces

def test_namespace_of_numpy_and_torch(torch):
    xp = B.namespace(np.zeros(2), np.ones(3))
    assert xp.__name__.endswith("numpy")
    assert isinstance(xp.zeros(2), np.ndarray)
    tp = B.namespace(torch.zeros(2))
    assert tp.__name__.endswith("torch")
    assert isinstance(tp.zeros(2), torch.Tensor)


def test_namespace_ignores_scalars_and_none(torch):
    xp = B.namespace(None, 1.5, 3, np.zeros(2))
    assert xp.__name__.endswith("numpy")
    with B.using("torch"):
        assert B.namespace(None, 2.0).__name__.endswith("torch")   # nothing else: the current backend
    assert B.namespace().__name__.endswith("numpy")


def test_namespace_refuses_to_mix(torch):
    with pytest.raises(TypeError, match="different backends cannot be mixed: got numpy, torch"):
        B.namespace(np.zeros(2), torch.zeros(2))
    with pytest.raises(TypeError, match="expected a NumPy array or a torch tensor, got list"):
        B.namespace([1.0, 2.0])


def test_is_torch_and_device_of(torch):
    assert B.is_torch(torch.zeros(1)) and not B.is_torch(np.zeros(1)) and not B.is_torch([1])
    assert B.device_of(np.zeros(1)) == "cpu"
    assert str(B.device_of(torch.zeros(1))) == "cpu"


# --------------------------------------------------------------------------- use / using

def test_use_and_current(torch):
    assert B.current() == ("numpy", None)
    B.use("torch")
    assert B.current() == ("torch", None)
    assert B.is_torch(B.zeros(2))
    B.use("torch", device="cpu")
    assert B.current() == ("torch", "cpu")
    B.use("numpy")
    assert B.current() == ("numpy", None)
    assert isinstance(B.zeros(2), np.ndarray)


def test_use_rejects_bad_names_and_devices():
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'torch', got 'jax'"):
        B.use("jax")
    with pytest.raises(ValueError, match="the numpy backend has only device 'cpu', got 'cuda'"):
        B.use("numpy", device="cuda")
    with pytest.raises(Exception):
        B.use("torch", device="no-such-device")
    assert B.current() == ("numpy", None)        # a failed use changes nothing


def test_using_restores_even_on_exceptions(torch):
    with B.using("torch"):
        assert B.current() == ("torch", None)
        with B.using("numpy"):
            assert B.current() == ("numpy", None)
        assert B.current() == ("torch", None)
    assert B.current() == ("numpy", None)
    with pytest.raises(RuntimeError, match="boom"):
        with B.using("torch", device="cpu"):
            raise RuntimeError("boom")
    assert B.current() == ("numpy", None)
    B.use("torch")
    with pytest.raises(ZeroDivisionError):
        with B.using("numpy"):
            1 / 0
    assert B.current() == ("torch", None)


def test_using_in_one_thread_leaves_another_alone():
    """using() is context-local (a ContextVar): another thread keeps the process-wide settings."""
    import threading
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with B.using("numpy", dtype="float32"):
            inside.set()
            outside.wait(10)
            seen["worker"] = (B.current(), B.get_default_dtype(), B.zeros(1).dtype)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(10)
    seen["main"] = (B.current(), B.get_default_dtype(), B.zeros(1).dtype)   # while the worker is inside
    outside.set()
    thread.join(10)
    assert seen["main"] == (("numpy", None), "float64", np.float64)
    assert seen["worker"] == (("numpy", None), "float32", np.float32)


def test_use_is_process_wide_but_undone_by_an_enclosing_using(torch):
    """use() outside any block reaches every thread; inside a block it lasts until the block ends."""
    import threading
    B.use("torch")
    seen = []
    thread = threading.Thread(target=lambda: seen.append(B.current()))
    thread.start()
    thread.join(10)
    assert seen == [("torch", None)]
    B.use("numpy")
    with B.using("numpy"):
        B.use("torch")
        vg.set_default_dtype("float32")
        assert B.current() == ("torch", None) and B.get_default_dtype() == "float32"
    assert B.current() == ("numpy", None) and B.get_default_dtype() == "float64"


def test_using_dtype_only_keeps_the_backend():
    with B.using(dtype="float32"):
        assert B.current() == ("numpy", None) and B.randn(2).dtype == np.float32
        with B.using(dtype=np.float64):
            assert B.get_default_dtype() == "float64"
        assert B.get_default_dtype() == "float32"
    assert B.get_default_dtype() == "float64"
    with pytest.raises(ValueError, match="default dtype must be one of"):
        with B.using(dtype="float16"):
            pass
    assert B.get_default_dtype() == "float64"


# --------------------------------------------------------------------------- dtypes

def test_default_dtype_set_get_invalid(torch):
    assert vg.get_default_dtype() == "float64"
    assert B.asarray([1.5]).dtype == np.float64
    vg.set_default_dtype("float32")
    assert vg.get_default_dtype() == "float32"
    assert B.asarray([1.5]).dtype == np.float32
    assert B.randn(3).dtype == np.float32
    with B.using("torch"):
        assert B.asarray([1.5]).dtype == torch.float32
    vg.set_default_dtype(torch.float64)
    assert vg.get_default_dtype() == "float64"
    vg.set_default_dtype(np.float32)
    assert vg.get_default_dtype() == "float32"
    for bad in ("float16", "int64", torch.bfloat16):
        with pytest.raises(ValueError, match="default dtype must be one of"):
            vg.set_default_dtype(bad)
    assert vg.get_default_dtype() == "float32"   # unchanged by the failures


@pytest.mark.parametrize("dtype, name", [(np.float64, "float64"), (np.float32, "float32"),
                                         ("float32", "float32"), (np.dtype("float64"), "float64"),
                                         (np.zeros(1, dtype=np.float32).dtype, "float32"),
                                         (float, "float64"), (int, "int64"), (np.int32, "int32")])
def test_dtype_name(dtype, name):
    """Python's float reads as NumPy reads it (it once read "<class 'float")."""
    assert B.dtype_name(dtype) == name


@pytest.mark.parametrize("dtype, name", [("float64", "float64"), ("float32", "float32"), ("int64", "int64"),
                                         ("bfloat16", "bfloat16")])
def test_dtype_name_of_torch_dtypes(torch, dtype, name):
    assert B.dtype_name(getattr(torch, dtype)) == name
    assert B.dtype_name(torch.zeros(1, dtype=getattr(torch, dtype)).dtype) == name


def test_set_default_dtype_accepts_python_float():
    vg.set_default_dtype("float32")
    vg.set_default_dtype(float)
    assert vg.get_default_dtype() == "float64"


# --------------------------------------------------------------------------- random numbers

def test_manual_seed_same_draws_on_every_backend(torch):
    vg.manual_seed(3)
    a = B.randn(4, 5, scale=2.0)
    b = B.uniform(3, low=-1.0, high=1.0)
    with B.using("torch"):
        vg.manual_seed(3)
        ta = B.randn(4, 5, scale=2.0)
        tb = B.uniform(3, low=-1.0, high=1.0)
    assert isinstance(a, np.ndarray) and B.is_torch(ta)
    assert ta.dtype == torch.float64
    np.testing.assert_array_equal(a, ta.numpy())
    np.testing.assert_array_equal(b, tb.numpy())
    assert np.all((b >= -1) & (b < 1))
    expected = 2.0 * np.random.default_rng(3).standard_normal((4, 5))
    np.testing.assert_array_equal(a, expected)


def test_manual_seed_returns_the_generator_and_different_seeds_differ():
    g = vg.manual_seed(1)
    assert g is B.rng()
    x = B.randn(10)
    vg.manual_seed(2)
    assert np.max(np.abs(B.randn(10) - x)) > 0.1


def test_manual_seed_reseeds_the_generator_in_place():
    """A reader's ``g = vg.backend.rng()`` stays the generator vglab draws from after a reseed."""
    g = B.rng()
    vg.manual_seed(7)
    assert B.rng() is g
    np.testing.assert_array_equal(g.standard_normal(3), np.random.default_rng(7).standard_normal(3))
    vg.manual_seed(7)
    first = B.randn(3)                        # vglab's draw...
    vg.manual_seed(7)
    np.testing.assert_array_equal(g.standard_normal(3), first)   # ...is the reader's generator's draw


def test_manual_seed_reproduces_a_model(torch):
    vg.manual_seed(0)
    w1 = vg.nn.Linear(5, 3).weight.data
    with B.using("torch"):
        vg.manual_seed(0)
        w2 = vg.nn.Linear(5, 3).weight.data
    np.testing.assert_array_equal(w1, w2.numpy())


# --------------------------------------------------------------------------- asarray / convert / to_numpy

def test_asarray_dtype_rules(torch):
    assert B.asarray([1.0, 2.0]).dtype == np.float64
    assert B.asarray(np.zeros(2, dtype=np.float32)).dtype == np.float64      # floats get the default dtype
    assert B.asarray(np.zeros(2, dtype=np.float32), dtype="float32").dtype == np.float32
    ints = B.asarray([1, 2, 3])
    assert ints.dtype == np.int64                                              # ints stay ints
    np.testing.assert_array_equal(ints, [1, 2, 3])
    assert B.asarray([1, 2], dtype="float64").dtype == np.float64              # unless asked
    with B.using("torch"):
        t = B.asarray([1, 2, 3])
        assert B.is_torch(t) and t.dtype == torch.int64
        assert B.asarray([0.5]).dtype == torch.float64


def test_asarray_like_follows_the_other_array(torch):
    t = B.asarray(np.array([1.0, 2.0]), like=torch.zeros(1))
    assert B.is_torch(t) and t.dtype == torch.float64
    a = B.asarray(torch.tensor([1.0, 2.0]), like=np.zeros(1))
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    np.testing.assert_array_equal(a, [1.0, 2.0])


def test_convert(torch):
    x = np.arange(6.0).reshape(2, 3)
    t = B.convert(x, "torch")
    assert B.is_torch(t) and t.dtype == torch.float64 and tuple(t.shape) == (2, 3)
    np.testing.assert_array_equal(t.numpy(), x)
    assert B.convert(x, "torch", dtype="float32").dtype == torch.float32
    assert B.convert(t, "numpy").dtype == np.float64
    assert B.convert(t, dtype="float32").dtype == torch.float32           # stays on its backend
    ints = np.arange(3)
    assert B.convert(ints, "torch", dtype="float32").dtype == torch.int64  # ints stay ints
    assert B.convert(torch.arange(3), "numpy", dtype="float64").dtype == np.int64
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'torch', got 'jax'"):
        B.convert(x, "jax")
    with pytest.raises(ValueError, match="only device 'cpu', got 'cuda'"):
        B.convert(x, "numpy", device="cuda")


def test_convert_detaches_torch_tensors(torch):
    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    assert not B.convert(t, "torch").requires_grad


def test_to_numpy(torch):
    t = torch.arange(4.0, dtype=torch.float64, requires_grad=True)
    a = B.to_numpy(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float64
    np.testing.assert_array_equal(a, [0, 1, 2, 3])
    x = np.arange(3.0)
    assert B.to_numpy(x) is x                           # a NumPy input is returned as it is
    cpu = torch.zeros(3, dtype=torch.float64)
    shared = B.to_numpy(cpu)
    shared[1] = 5.0                                     # a CPU tensor shares memory with its array
    assert float(cpu[1]) == 5.0
    assert "shares memory" in " ".join(B.to_numpy.__doc__.split())
    assert vg.to_numpy is B.to_numpy


def test_zeros_ones_like(torch):
    z = B.zeros(2, 3, like=torch.zeros(1, dtype=torch.float64))
    assert B.is_torch(z) and tuple(z.shape) == (2, 3) and float(z.sum()) == 0
    o = B.ones(4)
    assert isinstance(o, np.ndarray) and o.dtype == np.float64 and o.sum() == 4


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zeros_ones_follow_like_dtype(backend, dtype):
    """``like`` decides backend, device *and* dtype, whatever the default dtype is."""
    like = on(backend, np.zeros(1), dtype=dtype)
    for other in ("float64", "float32"):
        with B.using(dtype=other):
            for made in (B.zeros(2, like=like), B.ones(2, like=like)):
                assert B.dtype_name(made.dtype) == dtype and B.is_torch(made) == (backend == "torch")


# --------------------------------------------------------------------------- beyond the standard

@pytest.mark.parametrize("backend", backends)
def test_erf_against_math(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    xs = np.linspace(-5, 5, 201)
    with B.using(backend):
        got = B.to_numpy(B.erf(B.asarray(xs)))
    expected = np.array([math.erf(x) for x in xs])
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("backend", backends)
def test_pick(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, index = rng.standard_normal((6, 4)), rng.integers(0, 4, size=6)
    with B.using(backend):
        got = B.to_numpy(B.pick(B.asarray(x), B.asarray(index)))
    np.testing.assert_array_equal(got, [x[n, index[n]] for n in range(6)])


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_hot(backend, dtype):
    if backend == "torch":
        pytest.importorskip("torch")
    index = np.array([2, 0, 3, 3, 1])
    with B.using(backend):
        like = B.asarray(np.zeros(1), dtype=dtype)
        got = B.one_hot(B.asarray(index), 4, like=like)
    assert B.dtype_name(got.dtype) == dtype
    assert B.is_torch(got) == (backend == "torch")
    np.testing.assert_array_equal(B.to_numpy(got), np.eye(4)[index])


def test_set_torch_device_moves_new_tensors_and_refuses_a_missing_device(torch):
    try:
        vg.backend.set_torch_device("cpu")
        with vg.backend.using("torch"):
            assert vg.backend.zeros(2).device.type == "cpu"
        if not torch.cuda.is_available():
            with pytest.raises((AssertionError, RuntimeError), match="CUDA|cuda"):
                vg.backend.set_torch_device("cuda")
        else:  # pragma: no cover - on a GPU machine
            vg.backend.set_torch_device("cuda")
            with vg.backend.using("torch"):
                assert vg.backend.zeros(2).device.type == "cuda"
    finally:
        vg.backend.set_torch_device("cpu")
