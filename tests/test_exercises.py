"""vglab.exercises: the framework (registry, check, close). Each chapter tests its own checks."""

import re

import numpy as np
import pytest

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
