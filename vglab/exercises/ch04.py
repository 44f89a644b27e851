r"""Checks for the exercises of chapter 4 (weight initialisation).

* ``ch04-zero-init``: the names of the parameters of a zero-initialised
  ``Sequential(Linear(64, 32), Tanh(), Linear(32, 10))`` whose gradient is not zero after one
  backward pass of a cross-entropy loss. The reference runs that network on a batch of its own.
* ``ch04-default-factor``: the factor by which one ReLU layer with PyTorch's default ``Linear``
  initialisation, $U(-1/\sqrt n, 1/\sqrt n)$, multiplies $\mathbb{E}[z^2]$:
  $\tfrac12 \cdot n \cdot \tfrac{(1/\sqrt n)^2}{3} = \tfrac16$.
* ``ch04-kaiming-std``: the standard deviation of ``kaiming_normal_(w, a=0.1, mode="fan_out",
  nonlinearity="leaky_relu")`` for a weight of shape (32, 16, 3, 3):
  $\sqrt{2/(1 + a^2)} / \sqrt{32 \cdot 3 \cdot 3}$.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from . import ExerciseError, exercise

_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")


def _raise(message: str):
    raise ExerciseError(message)


def _zero_init_reference() -> list[str]:
    """Which parameters get a gradient, measured on a zero network and a random batch."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 64)), rng.integers(0, 10, size=16)
    net = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    for p in net.parameters():
        p.data = p.data * 0
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(net(X), y)
    net.backward(loss_fn.backward())
    return [name for name, p in net.named_parameters() if np.any(p.grad != 0)]


@exercise("ch04-zero-init")
def _check_zero_init(answer) -> str:
    if isinstance(answer, str) or not hasattr(answer, "__iter__"):
        raise ExerciseError(f"give a list of parameter names such as ['0.weight'], got {answer!r}")
    got = list(answer)
    unknown = [a for a in got if a not in _NAMES]
    if unknown:
        raise ExerciseError(f"{unknown} are not parameter names of this network; "
                            f"named_parameters() gives {list(_NAMES)}")
    expected = set(_zero_init_reference())
    if set(got) == expected:
        return "Correct: only the output bias learns; the hidden layer sends and receives zeros."
    if "2.weight" in got:
        raise ExerciseError("2.weight's gradient is delta_2 a_1^T, and a_1 = tanh(0) = 0 for every input")
    if "0.weight" in got or "0.bias" in got:
        raise ExerciseError("the hidden layer's error signal is W_2^T delta_2 (times tanh'), and W_2 = 0")
    raise ExerciseError(f"one parameter does get a gradient: the loss depends on the logits even when "
                        f"they are all equal; which parameter moves them? (you gave {got})")


@exercise("ch04-default-factor")
def _check_default_factor(answer) -> str:
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"give a number, got {answer!r}") from None
    n = 256
    bound = 1 / math.sqrt(n)
    expected = 0.5 * n * bound ** 2 / 3           # half survives the ReLU; U(-b, b) has variance b^2/3
    if math.isclose(got, expected, rel_tol=1e-6):
        return "Correct: 1/6 per layer, so 29 layers divide E[z^2] by 6^29."
    if math.isclose(got, 1 / expected, rel_tol=1e-6):
        _raise("that is how much E[z^2] *shrinks*: give the factor it is multiplied by")
    if math.isclose(got, math.sqrt(expected), rel_tol=1e-6):
        _raise("that is the factor of the signal's standard deviation, sqrt(1/6); the question asks for E[z^2]")
    if math.isclose(got, 1 / 3, rel_tol=1e-6):
        _raise("n Var(w) = 1/3 is right, but a ReLU passes on only half of E[z^2]")
    if math.isclose(got, 0.5, rel_tol=1e-6) or math.isclose(got, 1.0, rel_tol=1e-6):
        _raise("that would be Xavier's (1/2) or He's (1) variance; the default draws from U(-1/sqrt(n), 1/sqrt(n))")
    _raise(f"{got:.4g} is not it: use Var(U(-b, b)) = b^2/3 with b = 1/sqrt(n), and the ReLU's factor 1/2")


@exercise("ch04-kaiming-std")
def _check_kaiming_std(answer) -> str:
    try:
        got = float(answer)
    except (TypeError, ValueError):
        raise ExerciseError(f"give a number, got {answer!r}") from None
    out_c, in_c, kh, kw = 32, 16, 3, 3
    gain = math.sqrt(2 / (1 + 0.1 ** 2))
    expected = gain / math.sqrt(out_c * kh * kw)
    if math.isclose(got, expected, rel_tol=1e-6):
        return "Correct: the fan-out counts every kernel position, 32 * 3 * 3 = 288."
    if math.isclose(got, gain / math.sqrt(in_c * kh * kw), rel_tol=1e-6):
        _raise("that uses the fan-in (16 * 3 * 3); mode='fan_out' counts the output channels")
    if math.isclose(got, gain / math.sqrt(out_c), rel_tol=1e-6):
        _raise("the fan-out of a convolution also counts the kernel's 3 * 3 positions")
    if math.isclose(got, math.sqrt(2) / math.sqrt(out_c * kh * kw), rel_tol=1e-6):
        _raise("that is ReLU's gain sqrt(2); a leaky ReLU of slope a has gain sqrt(2 / (1 + a^2))")
    if math.isclose(got, expected ** 2, rel_tol=1e-6):
        _raise("that is the variance; give the standard deviation")
    _raise(f"{got:.4g} is not it: std = gain / sqrt(fan), with gain sqrt(2 / (1 + a^2))")
