"""vglab._checks: one shape of message, "<owner> expected <what>, got <value>", exactly."""

import re

import numpy as np
import pytest

from conftest import backends, on
from vglab import _checks as C


def raises_exactly(exc, message):
    """pytest.raises that demands the whole message, not a substring."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


# --------------------------------------------------------------------------- the module docstring's examples

def test_docstring_examples():
    with raises_exactly(ValueError, "Linear expected x of shape (*, 64), got (32, 10)"):
        C.check_array("Linear", "x", np.zeros((32, 10)), shape=("*", 64))
    with raises_exactly(TypeError, "Linear expected x of dtype float64 (the parameters' dtype), got float32"):
        C.check_array("Linear", "x", np.zeros((32, 64), dtype=np.float32), dtype="float64",
                      dtype_source="the parameters' dtype")
    with raises_exactly(ValueError, "SGD expected lr >= 0, got -0.1"):
        C.check_number("SGD", "lr", -0.1, low=0)


def test_docstring_examples_from_the_layers_and_optimisers():
    from vglab import nn, optim
    linear = nn.Linear(64, 8)
    with raises_exactly(ValueError, "Linear expected x of shape (*, 64), got (32, 10)"):
        linear(np.zeros((32, 10)))
    with raises_exactly(TypeError, "Linear expected x of dtype float64 (the parameters' dtype), got float32"):
        linear(np.zeros((32, 64), dtype=np.float32))
    with raises_exactly(ValueError, "SGD expected lr >= 0, got -0.1"):
        optim.SGD(linear.parameters(), lr=-0.1)


def test_docstring_examples_appear_in_the_docstring():
    for line in ["ValueError: Linear expected x of shape (*, 64), got (32, 10)",
                 "TypeError: Linear expected x of dtype float64 (the parameters' dtype), got float32",
                 "ValueError: SGD expected lr >= 0, got -0.1"]:
        assert line in C.__doc__


# --------------------------------------------------------------------------- fmt_shape

@pytest.mark.parametrize("shape, text", [((32, 64), "(32, 64)"), ((5,), "(5,)"), ((), "()"),
                                         (("*", 64), "(*, 64)"), ((None, 3), "(?, 3)"), (("T", "N", 8), "(T, N, 8)")])
def test_fmt_shape(shape, text):
    assert C.fmt_shape(shape) == text


# --------------------------------------------------------------------------- check_array

def test_check_array_returns_its_input():
    x = np.zeros((2, 3))
    assert C.check_array("M", "x", x, shape=(2, 3), ndim=2, dtype="float64") is x


def test_check_array_returns_its_torch_input(torch):
    t = torch.zeros(4, 3, dtype=torch.float64)
    assert C.check_array("M", "x", t, shape=("*", 3), dtype=torch.float64) is t


def test_check_array_not_an_array():
    with raises_exactly(TypeError, "LSTM expected x to be a NumPy array or torch tensor, got list"):
        C.check_array("LSTM", "x", [[1.0]])


def test_check_array_ndim():
    with raises_exactly(ValueError, "LSTM expected x with 2 or 3 dimensions, got shape (32,)"):
        C.check_array("LSTM", "x", np.zeros(32), ndim=(2, 3))
    with raises_exactly(ValueError, "Conv2d expected x with 4 dimensions, got shape (2, 3)"):
        C.check_array("Conv2d", "x", np.zeros((2, 3)), ndim=4)


@pytest.mark.parametrize("shape, want, ok", [
    ((32, 64), ("*", 64), True), ((2, 5, 64), ("*", 64), True), ((64,), ("*", 64), True),
    ((32, 10), ("*", 64), False), ((), ("*", 64), False),
    ((7, 3), (None, 3), True), ((7, 3), (None, 4), False), ((7, 3, 1), (None, 3), False),
])
def test_check_array_shape(shape, want, ok):
    x = np.zeros(shape)
    if ok:
        C.check_array("M", "x", x, shape=want)
    else:
        with raises_exactly(ValueError, f"M expected x of shape {C.fmt_shape(want)}, got {C.fmt_shape(shape)}"):
            C.check_array("M", "x", x, shape=want)


def test_check_array_shape_any_size_entries():
    with raises_exactly(ValueError, "LSTM expected x of shape (?, ?, 64), got (32, 64)"):
        C.check_array("LSTM", "x", np.zeros((32, 64)), shape=(None, None, 64))


def test_check_array_kind():
    with raises_exactly(TypeError, "MSELoss expected target of a floating dtype, got int64"):
        C.check_array("MSELoss", "target", np.zeros(3, dtype=np.int64))
    with raises_exactly(TypeError, "CrossEntropyLoss expected target of an integer dtype (class indices), got float64"):
        C.check_array("CrossEntropyLoss", "target", np.zeros(3), kind="int")


def test_check_array_kind_torch(torch):
    with raises_exactly(TypeError, "CrossEntropyLoss expected target of an integer dtype (class indices), got float32"):
        C.check_array("CrossEntropyLoss", "target", torch.zeros(3), kind="int")
    C.check_array("CrossEntropyLoss", "target", torch.zeros(3, dtype=torch.int64), kind="int")


def test_check_array_dtype():
    with raises_exactly(TypeError, "MSELoss expected target of dtype float64, got float32"):
        C.check_array("MSELoss", "target", np.zeros(3, dtype=np.float32), dtype=np.float64)


def test_check_array_dtype_torch(torch):
    with raises_exactly(TypeError, "Linear expected x of dtype float64 (the parameters' dtype), got float32"):
        C.check_array("Linear", "x", torch.zeros(2, 3), dtype=torch.float64, dtype_source="the parameters' dtype")


# --------------------------------------------------------------------------- check_number

@pytest.mark.parametrize("kwargs, value, message", [
    (dict(low=0), -0.1, "SGD expected lr >= 0, got -0.1"),
    (dict(low=0, low_open=True), 0.0, "SGD expected lr > 0, got 0.0"),
    (dict(high=1), 1.5, "SGD expected lr <= 1, got 1.5"),
    (dict(high=1, high_open=True), 1.0, "SGD expected lr < 1, got 1.0"),
    (dict(low=0), float("nan"), "SGD expected a finite lr, got nan"),
    (dict(), float("inf"), "SGD expected a finite lr, got inf"),
])
def test_check_number_value_errors(kwargs, value, message):
    with raises_exactly(ValueError, message):
        C.check_number("SGD", "lr", value, **kwargs)


@pytest.mark.parametrize("value, kwargs, message", [
    ("0.1", {}, "SGD expected lr to be a number, got str"),
    (True, {}, "SGD expected lr to be a number, got bool"),
    (None, {}, "SGD expected lr to be a number, got NoneType"),
    (2.5, dict(integer=True), "SGD expected lr to be an integer, got 2.5"),
])
def test_check_number_type_errors(value, kwargs, message):
    with raises_exactly(TypeError, message):
        C.check_number("SGD", "lr", value, **kwargs)


def test_check_number_accepts_and_returns():
    assert C.check_number("M", "x", 0, low=0) == 0
    assert C.check_number("M", "x", np.float32(0.5), low=0, high=1, high_open=True) == np.float32(0.5)
    assert C.check_number("M", "n", np.int64(3), low=1, integer=True) == 3
    assert C.check_number("M", "n", 4.0, integer=True) == 4.0


# --------------------------------------------------------------------------- check_choice, check_finite, same_backend

def test_check_choice():
    assert C.check_choice("MSELoss", "reduction", "sum", ("mean", "sum")) == "sum"
    with raises_exactly(ValueError, "MSELoss expected reduction to be one of 'mean', 'sum', 'none', got 'avg'"):
        C.check_choice("MSELoss", "reduction", "avg", ("mean", "sum", "none"))


@pytest.mark.parametrize("backend", backends)
def test_check_finite(backend):
    x = on(backend, [1.0, float("nan"), float("inf"), 2.0, -float("inf"), 0.0])
    with raises_exactly(C.NonFiniteError, "MSELoss got non-finite values in pred: 3 of 6 entries are NaN or infinite"):
        C.check_finite("MSELoss", "pred", x)
    with raises_exactly(ValueError, "M got non-finite values in x: 3 of 6 entries are NaN or infinite; a hint"):
        C.check_finite("M", "x", x, hint="; a hint")
    ok = on(backend, [1.0, 2.0])
    assert C.check_finite("M", "x", ok) is ok


def test_non_finite_error_is_a_value_error_of_its_own():
    """train() tells divergence from a reader's mistake by this type, so it must be distinct."""
    assert issubclass(C.NonFiniteError, ValueError) and C.NonFiniteError is not ValueError
    with pytest.raises(C.NonFiniteError):
        C.check_finite("M", "x", np.array([np.nan]))
    with pytest.raises(ValueError) as info:
        C.check_array("M", "x", np.zeros(2), shape=(3,))
    assert not isinstance(info.value, C.NonFiniteError)


def test_same_backend():
    xp = C.same_backend("Linear", x=np.zeros(2), weight=np.zeros(3))
    assert xp.__name__.endswith("numpy")


def test_same_backend_refuses_numpy_with_torch(torch):
    with raises_exactly(TypeError, "Linear: x, weight must be on one backend and device; arrays from different "
                                   "backends cannot be mixed: got numpy, torch; move them to one backend first "
                                   "(Module.to(backend=...) or vglab.backend.asarray)"):
        C.same_backend("Linear", x=np.zeros(2), weight=torch.zeros(2))


def test_check_nonempty():
    x = np.zeros((2, 3))
    assert C.check_nonempty("M", "x", x) is x
    with raises_exactly(ValueError, "MSELoss expected pred with at least one entry, got shape (0, 3)"):
        C.check_nonempty("MSELoss", "pred", np.zeros((0, 3)))
    with raises_exactly(ValueError, "CrossEntropyLoss expected logits with at least one class (why), got shape (4, 0)"):
        C.check_nonempty("CrossEntropyLoss", "logits", np.zeros((4, 0)), axis=1, what="class", reason=" (why)")
    assert C.check_nonempty("M", "x", np.zeros((0, 3)), axis=1) is not None   # only the axis asked about
