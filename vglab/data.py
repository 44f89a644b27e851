r"""The course's data: real digits and seeded synthetic problems. Nothing is downloaded.

* ``digits``: the 1,797 8x8 handwritten digits that scikit-learn ships (UCI, Alpaydin &
  Kaynak 1998, CC BY 4.0), split and standardised with training statistics.
* ``spirals``: interleaved 2-D spirals, a classic small non-linear problem.
* ``linear_regression``: $y = w x + b + \text{noise}$ for the first optimisation examples.
* ``Quadratic`` and ``Rosenbrock``: 2-D test functions for optimiser trajectories.
* ``adding_problem``: Hochreiter & Schmidhuber (1997), time-major (T, N, 2).

Every function takes a ``seed`` and is deterministic; arrays go to the current backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import backend
from ._checks import check_number

__all__ = ["Dataset", "digits", "spirals", "linear_regression", "Quadratic", "Rosenbrock",
           "adding_problem", "batches"]


@dataclass(frozen=True)
class Dataset:
    """A train/test split. X_* (N, D) or (N, 1, 8, 8); y_* (N,) integer classes or (N, 1) targets."""
    X_train: object
    y_train: object
    X_test: object
    y_test: object
    n_classes: int = 0

    def __repr__(self):
        return (f"Dataset(X_train {tuple(self.X_train.shape)}, y_train {tuple(self.y_train.shape)}, "
                f"X_test {tuple(self.X_test.shape)}, y_test {tuple(self.y_test.shape)}, "
                f"n_classes={self.n_classes})")


def _split(X, y, test_fraction, seed):
    check_number("data", "test_fraction", test_fraction, low=0, high=1, low_open=True, high_open=True)
    perm = np.random.default_rng(seed).permutation(len(X))
    n_test = int(round(test_fraction * len(X)))
    test, train = perm[:n_test], perm[n_test:]
    return X[train], y[train], X[test], y[test]


def _to_backend(X_train, y_train, X_test, y_test, n_classes):
    return Dataset(backend.asarray(X_train), backend.asarray(y_train),
                   backend.asarray(X_test), backend.asarray(y_test), n_classes)


def digits(images: bool = False, test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """The 8x8 digits, 10 classes: X (N, 64), or (N, 1, 8, 8) with ``images=True``.

    Each pixel is standardised with the training split's mean and standard deviation
    (pixels that are constant in training are only centred).
    """
    from sklearn.datasets import load_digits  # the data ship with scikit-learn
    raw = load_digits()
    X, y = raw.data.astype(np.float64), raw.target.astype(np.int64)
    X_tr, y_tr, X_te, y_te = _split(X, y, test_fraction, seed)
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std
    if images:
        X_tr, X_te = X_tr.reshape(-1, 1, 8, 8), X_te.reshape(-1, 1, 8, 8)
    return _to_backend(X_tr, y_tr, X_te, y_te, 10)


def spirals(n_per_class: int = 200, n_classes: int = 3, noise: float = 0.2,
            test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """``n_classes`` interleaved spiral arms in the plane: X (N, 2), y (N,)."""
    check_number("spirals", "n_per_class", n_per_class, low=1, integer=True)
    check_number("spirals", "n_classes", n_classes, low=2, integer=True)
    check_number("spirals", "noise", noise, low=0)
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)               # radius
    k = np.repeat(np.arange(n_classes), n_per_class)
    angle = 4.0 * r + 2 * np.pi * k / n_classes + noise * rng.standard_normal(r.shape)
    X = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    return _to_backend(*_split(X, k.astype(np.int64), test_fraction, seed), n_classes)


def linear_regression(n: int = 100, w: float = 2.0, b: float = 1.0, noise: float = 0.1,
                      seed: int = 0):
    """Points $y = w x + b + \\epsilon$, $x \\sim U(0, 1)$, $\\epsilon \\sim N(0, \\text{noise}^2)$.

    Returns X (n, 1) and y (n, 1).
    """
    check_number("linear_regression", "n", n, low=1, integer=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, 1))
    y = w * x + b + noise * rng.standard_normal((n, 1))
    return backend.asarray(x), backend.asarray(y)


@dataclass(frozen=True)
class Quadratic:
    """$f(\\theta) = \\frac12 \\theta^\\top A \\theta$ with $A = \\mathrm{diag}(1, \\kappa)$ rotated by ``angle``.

    Its largest curvature (eigenvalue) is $M = \\kappa$, the attribute ``L``: gradient descent with a step
    size $\\alpha$ converges iff $\\alpha < 2/M$. NumPy only (2-D trajectories).
    """
    condition: float = 10.0
    angle: float = 0.0

    @property
    def A(self) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        R = np.array([[c, -s], [s, c]])
        return R @ np.diag([1.0, float(self.condition)]) @ R.T

    @property
    def L(self) -> float:
        return float(max(1.0, self.condition))

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", theta, self.A, theta)

    def grad(self, theta):
        return np.asarray(theta, dtype=np.float64) @ self.A


@dataclass(frozen=True)
class Rosenbrock:
    """$f(x, y) = (a - x)^2 + b (y - x^2)^2$, minimum 0 at $(a, a^2)$ in a curved valley."""
    a: float = 1.0
    b: float = 100.0

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        x, y = theta[..., 0], theta[..., 1]
        return (self.a - x) ** 2 + self.b * (y - x * x) ** 2

    def grad(self, theta):
        theta = np.asarray(theta, dtype=np.float64)
        x, y = theta[..., 0], theta[..., 1]
        return np.stack([-2 * (self.a - x) - 4 * self.b * x * (y - x * x), 2 * self.b * (y - x * x)], axis=-1)


def adding_problem(T: int, n: int, seed: int = 0):
    """The adding problem: X (T, N, 2) time-major, y (N, 1).

    Channel 0 holds uniform numbers in [0, 1]; channel 1 marks exactly two time steps,
    one in each half of the sequence. The target is the sum of the two marked numbers.
    Predicting 1 always gives an MSE of about 0.167.
    """
    check_number("adding_problem", "T", T, low=2, integer=True)
    check_number("adding_problem", "n", n, low=1, integer=True)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0, 1, size=(T, n))
    marks = np.zeros((T, n))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    marks[first, np.arange(n)] = 1.0
    marks[second, np.arange(n)] = 1.0
    X = np.stack([values, marks], axis=-1)
    y = (values * marks).sum(axis=0)[:, None]
    return backend.asarray(X), backend.asarray(y)


def batches(n: int, batch_size: int, rng: np.random.Generator):
    """Index arrays of a shuffled pass over ``n`` examples (the last batch may be smaller)."""
    check_number("batches", "batch_size", batch_size, low=1, integer=True)
    perm = rng.permutation(n)
    for start in range(0, n, batch_size):
        yield perm[start:start + batch_size]
