"""vglab.data: shapes, standardisation, determinism, and the maths of the synthetic problems."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import vglab as vg
from vglab import data


def _np(x):
    return vg.to_numpy(x)


# --------------------------------------------------------------------------- digits

def test_digits_shapes_and_split():
    d = data.digits()
    assert d.X_train.shape == (1348, 64) and d.X_test.shape == (449, 64)
    assert d.y_train.shape == (1348,) and d.y_test.shape == (449,)
    assert d.X_train.dtype == np.float64 and d.y_train.dtype == np.int64
    assert d.n_classes == 10
    assert set(np.unique(d.y_train)) == set(range(10)) and set(np.unique(d.y_test)) <= set(range(10))
    from sklearn.datasets import load_digits
    counts = np.bincount(load_digits().target, minlength=10)
    np.testing.assert_array_equal(np.bincount(d.y_train, minlength=10) + np.bincount(d.y_test, minlength=10),
                                  counts)
    assert "X_train (1348, 64)" in repr(d)


def test_digits_other_test_fraction():
    d = data.digits(test_fraction=0.5)
    assert d.X_train.shape[0] + d.X_test.shape[0] == 1797
    assert d.X_test.shape[0] == round(0.5 * 1797)
    for bad in (0.0, 1.0, -0.1):
        with pytest.raises(ValueError, match="test_fraction"):
            data.digits(test_fraction=bad)


def test_digits_standardised_with_training_statistics():
    d = data.digits()
    mean, std = d.X_train.mean(axis=0), d.X_train.std(axis=0)
    np.testing.assert_allclose(mean, 0, atol=1e-12)
    varying = std > 0
    np.testing.assert_allclose(std[varying], 1, rtol=1e-12)
    assert np.all(d.X_train[:, ~varying] == 0)                  # constant pixels: only centred
    assert abs(d.X_test.mean()) < 0.1 and abs(d.X_test.std() - 1) < 0.2   # close, not exact: test statistics
    assert np.abs(d.X_test.mean(axis=0)).max() > 1e-6


def test_digits_images():
    flat, img = data.digits(), data.digits(images=True)
    assert img.X_train.shape == (1348, 1, 8, 8) and img.X_test.shape == (449, 1, 8, 8)
    np.testing.assert_array_equal(img.X_train.reshape(1348, 64), flat.X_train)
    np.testing.assert_array_equal(img.y_test, flat.y_test)


def test_digits_seeds():
    a, b, c = data.digits(seed=0), data.digits(seed=0), data.digits(seed=1)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_train, c.y_train)
    assert a.X_train.shape == c.X_train.shape


def test_digits_on_torch():
    torch = pytest.importorskip("torch")
    with vg.backend.using("torch"):
        d = data.digits()
    assert isinstance(d.X_train, torch.Tensor) and d.X_train.dtype == torch.float64
    assert d.y_train.dtype == torch.int64
    np.testing.assert_array_equal(_np(d.X_train), data.digits().X_train)


# --------------------------------------------------------------------------- spirals

def test_spirals():
    d = data.spirals()
    assert d.X_train.shape == (450, 2) and d.X_test.shape == (150, 2)
    assert d.y_train.dtype == np.int64 and d.n_classes == 3
    y = np.concatenate([d.y_train, d.y_test])
    np.testing.assert_array_equal(np.bincount(y), [200, 200, 200])
    r = np.linalg.norm(np.concatenate([d.X_train, d.X_test]), axis=1)
    assert r.min() >= 0.05 - 1e-12 and r.max() <= 1 + 1e-12
    d4 = data.spirals(n_per_class=50, n_classes=4, test_fraction=0.2)
    assert d4.X_train.shape == (160, 2) and d4.n_classes == 4
    assert set(np.unique(d4.y_train)) == {0, 1, 2, 3}


def test_spirals_seeds_and_noise():
    np.testing.assert_array_equal(data.spirals(seed=3).X_train, data.spirals(seed=3).X_train)
    assert not np.array_equal(data.spirals(seed=3).X_train, data.spirals(seed=4).X_train)
    clean = data.spirals(noise=0.0)
    X = np.concatenate([clean.X_train, clean.X_test])
    y = np.concatenate([clean.y_train, clean.y_test])
    r = np.linalg.norm(X, axis=1)
    angle = np.arctan2(X[:, 0], X[:, 1])                     # x = r sin(angle), y = r cos(angle)
    expected = 4 * r + 2 * np.pi * y / 3
    np.testing.assert_allclose(np.angle(np.exp(1j * (angle - expected))), 0, atol=1e-9)


def test_spirals_bad_arguments():
    with pytest.raises(ValueError, match="spirals expected n_classes >= 2, got 1"):
        data.spirals(n_classes=1)
    with pytest.raises(ValueError, match="spirals expected noise >= 0, got -1"):
        data.spirals(noise=-1)


# --------------------------------------------------------------------------- linear regression

def test_linear_regression_recovers_w_and_b():
    X, y = data.linear_regression(n=2000, w=-3.0, b=0.5, noise=0.1, seed=0)
    assert X.shape == (2000, 1) and y.shape == (2000, 1)
    assert X.min() >= 0 and X.max() < 1
    A = np.hstack([X, np.ones_like(X)])
    (w, b), *_ = np.linalg.lstsq(A, y[:, 0], rcond=None)
    assert w == pytest.approx(-3.0, abs=0.03) and b == pytest.approx(0.5, abs=0.02)
    residual = y[:, 0] - A @ np.array([w, b])
    assert residual.std() == pytest.approx(0.1, rel=0.05)
    X0, y0 = data.linear_regression(n=5, noise=0.0)
    np.testing.assert_allclose(y0, 2.0 * X0 + 1.0, rtol=1e-15)


# --------------------------------------------------------------------------- test functions

def fd_grad(f, theta, h=1e-6):
    theta = np.asarray(theta, dtype=float)
    g = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


@given(x=st.floats(-3, 3), y=st.floats(-3, 3), condition=st.floats(1, 100), angle=st.floats(0, 3.2))
def test_quadratic_grad_by_finite_differences(x, y, condition, angle):
    q = data.Quadratic(condition=condition, angle=angle)
    theta = np.array([x, y])
    np.testing.assert_allclose(q.grad(theta), fd_grad(q, theta), rtol=1e-6, atol=1e-6)
    assert q(theta) == pytest.approx(0.5 * theta @ q.A @ theta, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("condition, angle", [(10.0, 0.0), (25.0, 0.7), (1.0, 1.0), (0.2, 0.3)])
def test_quadratic_curvature(condition, angle):
    q = data.Quadratic(condition, angle)
    eig = np.linalg.eigvalsh(q.A)
    assert q.L == pytest.approx(eig.max(), rel=1e-12)
    np.testing.assert_allclose(sorted(eig), sorted([1.0, condition]), rtol=1e-12)
    # gradient descent converges for a step size just below 2/L and diverges just above
    for factor, converges in [(0.95, True), (1.05, False)]:
        theta = np.array([1.0, 1.0])
        for _ in range(500):
            theta = theta - factor * 2 / q.L * q.grad(theta)
        assert (np.linalg.norm(theta) < 1e-3) == converges


def test_quadratic_on_a_batch_of_points():
    q = data.Quadratic(10.0, 0.3)
    pts = np.random.default_rng(0).standard_normal((5, 7, 2))
    values = q(pts)
    assert values.shape == (5, 7)
    assert values[2, 3] == pytest.approx(q(pts[2, 3]), rel=1e-14)


@given(x=st.floats(-2, 2), y=st.floats(-1, 3), a=st.floats(0.5, 2), b=st.sampled_from([1.0, 100.0]))
def test_rosenbrock_grad_by_finite_differences(x, y, a, b):
    f = data.Rosenbrock(a, b)
    theta = np.array([x, y])
    np.testing.assert_allclose(f.grad(theta), fd_grad(f, theta), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("a, b", [(1.0, 100.0), (2.0, 5.0), (-0.5, 10.0)])
def test_rosenbrock_minimum(a, b):
    f = data.Rosenbrock(a, b)
    best = np.array([a, a * a])
    assert f(best) == 0
    np.testing.assert_array_equal(f.grad(best), [0.0, 0.0])
    others = best + np.random.default_rng(0).standard_normal((1000, 2))
    assert np.all(f(others) > 0)
    assert f.grad(others).shape == (1000, 2)


# --------------------------------------------------------------------------- adding problem

@pytest.mark.parametrize("T, n", [(2, 1), (7, 5), (50, 64)])
def test_adding_problem(T, n):
    X, y = data.adding_problem(T, n, seed=1)
    assert X.shape == (T, n, 2) and y.shape == (n, 1)
    values, marks = X[..., 0], X[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(marks)) <= {0.0, 1.0}
    np.testing.assert_array_equal(marks.sum(axis=0), 2)
    np.testing.assert_array_equal(marks[: T // 2].sum(axis=0), 1)     # one mark in each half
    np.testing.assert_array_equal(marks[T // 2:].sum(axis=0), 1)
    for j in range(n):
        t1, t2 = np.flatnonzero(marks[:, j])
        assert y[j, 0] == pytest.approx(values[t1, j] + values[t2, j], rel=1e-15)


def test_adding_problem_seeds_and_baseline():
    X1, y1 = data.adding_problem(20, 10, seed=0)
    X2, y2 = data.adding_problem(20, 10, seed=0)
    np.testing.assert_array_equal(X1, X2)
    assert not np.array_equal(X1, data.adding_problem(20, 10, seed=1)[0])
    _, y = data.adding_problem(10, 20000, seed=0)
    assert np.mean((y - 1) ** 2) == pytest.approx(1 / 6, rel=0.03)     # the docstring's 0.167 baseline
    with pytest.raises(ValueError, match="adding_problem expected T >= 2, got 1"):
        data.adding_problem(1, 5)


# --------------------------------------------------------------------------- batches

@given(n=st.integers(1, 300), batch_size=st.integers(1, 64), seed=st.integers(0, 100))
def test_batches_cover_every_index_once(n, batch_size, seed):
    parts = list(data.batches(n, batch_size, np.random.default_rng(seed)))
    np.testing.assert_array_equal(np.sort(np.concatenate(parts)), np.arange(n))
    assert all(len(p) == batch_size for p in parts[:-1])
    assert 1 <= len(parts[-1]) <= batch_size
    assert len(parts) == -(-n // batch_size)


def test_batches_shuffle_and_validate():
    first = np.concatenate(list(data.batches(100, 10, np.random.default_rng(0))))
    assert not np.array_equal(first, np.arange(100))
    with pytest.raises(ValueError, match="batches expected batch_size >= 1, got 0"):
        list(data.batches(10, 0, np.random.default_rng(0)))
