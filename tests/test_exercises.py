"""vglab.exercises: the framework (registry, check, close). Each chapter tests its own checks."""

import re

import numpy as np
import pytest

import vglab as vg
from vglab import exercises as ex


@pytest.fixture
def registered_check():
    """A throw-away exercise, removed afterwards so other tests see the real registry."""
    calls = []

    @ex.exercise("test-framework-double")
    def check_double(answer, x=1.0):
        calls.append((answer, x))
        ex.close("answer", answer, 2 * x)
        return f"Correct: 2 * {x} = {answer}."

    @ex.exercise("test-framework-silent")
    def check_silent(answer):
        ex.close("answer", answer, 0.0)

    yield calls
    ex._REGISTRY.pop("test-framework-double")
    ex._REGISTRY.pop("test-framework-silent")


def test_unknown_id_lists_the_known_ones(registered_check):
    with pytest.raises(KeyError) as info:
        ex.check("ch99-nothing", 1.0)
    message = info.value.args[0]
    assert message.startswith("no exercise named 'ch99-nothing'; known: ")
    known = ex.registered()
    assert "test-framework-double" in known and known == sorted(known)
    assert message.endswith(", ".join(known))


def test_check_passes_answer_and_kwargs_and_prints(registered_check, capsys):
    message = ex.check("test-framework-double", 6.0, x=3.0)
    assert registered_check == [(6.0, 3.0)]
    assert message == "Correct: 2 * 3.0 = 6.0."
    assert capsys.readouterr().out == "[test-framework-double] Correct: 2 * 3.0 = 6.0.\n"
    assert ex.check("test-framework-silent", 0.0) == "Correct."
    assert capsys.readouterr().out == "[test-framework-silent] Correct.\n"


def test_check_raises_the_hint(registered_check):
    with pytest.raises(ex.ExerciseError, match="answer is off by a relative error of 5.00e-01"):
        ex.check("test-framework-double", 3.0, x=3.0)
    assert issubclass(ex.ExerciseError, AssertionError)


def test_close_accepts_a_right_answer():
    assert ex.close("W", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9])) is None
    assert ex.close("W", [[1.0]], np.array([[1.0]])) is None
    torch = pytest.importorskip("torch")
    assert ex.close("W", torch.tensor([1.0, 2.0], dtype=torch.float64), np.array([1.0, 2.0])) is None


@pytest.mark.parametrize("got, expected, message", [
    (None, np.zeros(2), "dW is None: did you return it?"),
    (np.zeros(3), np.zeros(2), "dW has shape (3,), expected (2,)"),
    (np.zeros((2, 3)), np.zeros((3, 2)), "dW has shape (2, 3), expected (3, 2)"),
    (np.array([1.0, np.nan]), np.ones(2), "dW contains NaN or infinity"),
    (np.array([1.0, np.inf]), np.ones(2), "dW contains NaN or infinity"),
    (np.array([1.0, 3.0]), np.array([1.0, 2.0]), "dW is off by a relative error of 5.00e-01 (tolerance 1e-06)"),
])
def test_close_messages(got, expected, message):
    with pytest.raises(ex.ExerciseError, match="^" + re.escape(message) + "$"):
        ex.close("dW", got, expected)


def test_close_tolerance():
    ex.close("x", np.array([1.001]), np.array([1.0]), tol=1e-2)
    with pytest.raises(ex.ExerciseError, match=re.escape("relative error of 1.00e-03 (tolerance 1e-04)")):
        ex.close("x", np.array([1.001]), np.array([1.0]), tol=1e-4)


# --------------------------------------------------------------------------- duplicate ids

def test_exercise_refuses_a_duplicate_id(registered_check):
    with pytest.raises(ValueError, match=r"^exercise expected a new id, got 'test-framework-double', already "
                                         r"registered by .*check_double$"):
        ex.exercise("test-framework-double")
    ex.registered()                                             # the chapters' ids are taken too
    with pytest.raises(ValueError, match="'ch01-backprop'"):
        ex.exercise("ch01-backprop")


# --------------------------------------------------------------------------- the reader's settings

def _chain_rule_backward(X, T, W1, b1, W2, b2):
    """The right answer to ch01-backprop, written from the chain rule with NumPy."""
    a1 = np.tanh(X @ W1 + b1)
    delta2 = 2 * (a1 @ W2 + b2 - T) / X.shape[0]
    delta1 = (delta2 @ W2.T) * (1 - a1 ** 2)
    return {"W1": X.T @ delta1, "b1": delta1.sum(axis=0), "W2": a1.T @ delta2, "b2": delta2.sum(axis=0)}


def _reader_settings(backend, dtype):
    """Switch to the reader's global settings (use, set_default_dtype, a seeded generator)."""
    if backend == "torch":
        pytest.importorskip("torch")
    vg.backend.use(backend)
    vg.set_default_dtype(dtype)
    vg.manual_seed(123)


@pytest.fixture
def restore_globals():
    saved, dtype = vg.backend.current(), vg.get_default_dtype()
    state = vg.backend.rng().bit_generator.state
    yield
    vg.backend.use(*saved)
    vg.set_default_dtype(dtype)
    vg.backend.rng().bit_generator.state = state


SETTINGS = [("numpy", "float32"), ("torch", "float64"), ("torch", "float32")]


@pytest.mark.parametrize("backend, dtype", SETTINGS)
def test_check_judges_alike_whatever_the_readers_settings(restore_globals, backend, dtype):
    """Once a TypeError from inside Linear: the reference network followed the reader's backend and dtype."""
    _reader_settings(backend, dtype)
    expected_draws = np.random.default_rng(123).standard_normal(4)
    assert ex.check("ch01-backprop", _chain_rule_backward).startswith("Correct")
    with pytest.raises(ex.ExerciseError, match="wrong sign"):
        ex.check("ch01-backprop", lambda *args: {k: -v for k, v in _chain_rule_backward(*args).items()})
    assert vg.backend.current() == (backend, None) and vg.get_default_dtype() == dtype   # back in force
    np.testing.assert_array_equal(vg.backend.rng().standard_normal(4), expected_draws)


@pytest.mark.parametrize("backend, dtype", SETTINGS)
def test_checks_that_build_networks_judge_alike(restore_globals, backend, dtype):
    """ch02-layer-ratio builds the chapter-0 network and reseeds vglab's generator on the way."""
    from vglab.exercises.ch02 import _first_step_ratios
    with ex.reference_settings():
        right = _first_step_ratios()[0]
    _reader_settings(backend, dtype)
    expected_draws = np.random.default_rng(123).standard_normal(4)
    assert ex.check("ch02-layer-ratio", (right, right)).startswith("Correct")
    with pytest.raises(ex.ExerciseError, match="off by a relative error"):
        ex.check("ch02-layer-ratio", (1.01 * right, 1.01 * right))
    assert vg.backend.current() == (backend, None) and vg.get_default_dtype() == dtype
    np.testing.assert_array_equal(vg.backend.rng().standard_normal(4), expected_draws)


@pytest.fixture
def spy_check():
    """A throw-away exercise that records the settings it runs in, and then changes them all."""
    seen = []

    @ex.exercise("test-framework-spy")
    def check_spy(answer, fail=False):
        seen.append((vg.backend.current(), vg.get_default_dtype(), answer))
        vg.backend.use("numpy")
        vg.set_default_dtype("float32")
        vg.manual_seed(999)
        if fail:
            raise ex.ExerciseError("wrong")
        return "Correct."

    yield seen
    ex._REGISTRY.pop("test-framework-spy")


@pytest.mark.parametrize("fail", [False, True])
def test_check_runs_in_reference_settings_and_restores_the_readers(restore_globals, spy_check, fail):
    vg.set_default_dtype("float32")
    vg.manual_seed(123)
    expected_draws = np.random.default_rng(123).standard_normal(4)
    if fail:
        with pytest.raises(ex.ExerciseError):
            ex.check("test-framework-spy", 1.0, fail=True)
    else:
        ex.check("test-framework-spy", 1.0)
    assert spy_check[0][:2] == (("numpy", None), "float64")
    assert vg.get_default_dtype() == "float32"
    np.testing.assert_array_equal(vg.backend.rng().standard_normal(4), expected_draws)


def test_check_converts_torch_and_float32_answers(spy_check, torch):
    ex.check("test-framework-spy", [torch.tensor([1.5], dtype=torch.float32), np.float32(2.5),
                                    {"w": np.ones(2, dtype=np.float32)}, torch.tensor(3), "name"])
    tensor, scalar, mapping, integer, name = spy_check[0][2]
    assert isinstance(tensor, np.ndarray) and tensor.dtype == np.float64 and tensor[0] == 1.5
    assert type(scalar) is np.float64 and scalar == 2.5
    assert mapping["w"].dtype == np.float64
    assert isinstance(integer, np.integer) and integer == 3
    assert name == "name"


def test_check_converts_what_a_readers_function_returns(torch):
    """A reader's backward may return torch float64 tensors: the check converts them."""
    def torch_backward(*args):
        return {k: torch.tensor(v) for k, v in _chain_rule_backward(*args).items()}
    assert ex.check("ch01-backprop", torch_backward).startswith("Correct")


def test_a_float32_answer_is_told_why_it_misses(torch):
    from vglab.exercises.ch00 import tanh_deltas
    with ex.reference_settings():
        deltas, _ = tanh_deltas()
    with pytest.raises(ex.ExerciseError, match="your answer holds float32 numbers"):
        ex.check("ch00-tanh-deltas", [torch.tensor(d, dtype=torch.float32) for d in deltas])
    assert ex.check("ch00-tanh-deltas", [torch.tensor(d) for d in deltas]).startswith("Correct")


def test_check_passes_objects_other_than_functions_as_they_are(spy_check):
    """A callable object (a model, say) keeps its attributes; only plain functions get their results converted."""
    model = vg.nn.Linear(2, 3)
    ex.check("test-framework-spy", model)
    assert spy_check[0][2] is model


def test_check_judges_alike_inside_no_grad(restore_globals):
    """A reader's `with vg.no_grad():` once made the reference network refuse its backward."""
    with vg.no_grad():
        assert ex.check("ch01-backprop", _chain_rule_backward).startswith("Correct")
        assert not vg.nn.is_grad_enabled()   # the reader's setting is back in force
