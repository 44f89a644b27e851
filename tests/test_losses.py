"""nn.MSELoss, nn.CrossEntropyLoss, softmax, log_softmax: against torch.nn.functional and by central differences."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from vglab import nn
from vglab.gradcheck import numerical_gradient, rel_error
from conftest import backends, on, randn

REDUCTIONS = ["mean", "sum", "none"]


def probabilities(n, c, seed):
    q = np.random.default_rng(seed).random((n, c)) + 0.05
    return q / q.sum(axis=1, keepdims=True)


def upstream(reduction, n, seed=9):
    """A random upstream gradient for a loss: a number, or one per item for reduction='none'."""
    g = np.random.default_rng(seed).standard_normal(n)
    return g if reduction == "none" else np.array(g[0])


def torch_loss_and_grad(torch, fn, pred_np, target_t, reduction, g_np):
    pred_t = torch.tensor(pred_np, requires_grad=True)
    loss_t = fn(pred_t, target_t, reduction=reduction)
    loss_t.backward(torch.tensor(g_np))
    return loss_t.detach(), pred_t.grad


def vglab_loss_and_grad(backend, loss_fn, pred_np, target, g_np):
    loss = loss_fn(on(backend, pred_np), target)
    return loss, loss_fn.backward(on(backend, g_np))


def check_by_central_differences(loss_fn, pred, target, g):
    """dL/dpred from backward against central differences of sum(loss * g)."""
    loss_fn(pred, target)
    analytic = loss_fn.backward(g)
    num = numerical_gradient(lambda: float((loss_fn(pred, target) * g).sum()), pred)
    return rel_error(analytic, num)


# ----------------------------------------------------------------- MSELoss

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_matches_torch(backend, reduction, torch):
    pred_np = np.random.default_rng(0).standard_normal((5, 3))
    target_np = np.random.default_rng(1).standard_normal((5, 3))
    g_np = np.random.default_rng(2).standard_normal((5, 3) if reduction == "none" else ())
    loss_fn = nn.MSELoss(reduction=reduction)
    loss, grad = vglab_loss_and_grad(backend, loss_fn, pred_np, on(backend, target_np), g_np)
    loss_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.mse_loss, pred_np,
                                         torch.tensor(target_np), reduction, g_np)
    assert tuple(loss.shape) == tuple(loss_t.shape)
    assert rel_error(loss, loss_t) < 1e-10
    assert rel_error(grad, grad_t) < 1e-10


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradcheck(backend, reduction):
    pred, target = randn(backend, 4, 3, seed=0), randn(backend, 4, 3, seed=1)
    g = randn(backend, 4, 3, seed=2) if reduction == "none" else on(backend, np.array(0.7))
    assert check_by_central_differences(nn.MSELoss(reduction=reduction), pred, target, g) < 1e-7


def test_mse_default_upstream_is_one():
    loss_fn = nn.MSELoss()
    pred, target = np.array([1.0, 2.0, 4.0, 0.0]), np.array([0.0, 2.0, 1.0, 0.0])
    assert float(loss_fn(pred, target)) == pytest.approx((1 + 0 + 9 + 0) / 4)
    assert np.allclose(loss_fn.backward(), [0.5, 0.0, 1.5, 0.0])  # 2 (p - t) / 4
    assert np.allclose(loss_fn.backward(2.0), [1.0, 0.0, 3.0, 0.0])


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=40)
@given(pred=arrays(np.int64, (3, 2), elements=st.integers(-800, 800)),
       other=arrays(np.int64, (3, 2), elements=st.integers(-800, 800)),
       equal=st.booleans())
def test_mse_is_zero_iff_equal(backend, pred, other, equal):
    """On a grid of step 1/8 (so no difference squares to an underflow), MSE = 0 exactly when pred == target."""
    target = pred if equal else other
    loss = float(nn.MSELoss()(on(backend, pred / 8.0), on(backend, target / 8.0)))
    assert loss >= 0
    assert (loss == 0) == np.array_equal(pred, target)


@pytest.mark.parametrize("backend", backends)
def test_mse_shape_mismatch_is_not_broadcast(backend, torch):
    pred, target = randn(backend, 4, 1), randn(backend, 4)
    with pytest.raises(ValueError, match=r"MSELoss expected target of shape \(4, 1\) \(the shape of pred\), "
                                         r"got \(4,\); torch would broadcast"):
        nn.MSELoss()(pred, target)
    with pytest.warns(UserWarning, match="broadcast"):  # what torch does with the same shapes
        torch.nn.functional.mse_loss(torch.zeros(4, 1), torch.zeros(4))


@pytest.mark.parametrize("backend", backends)
def test_mse_bad_input(backend):
    other = "torch" if backend == "numpy" else "numpy"
    pred = randn(backend, 2, 2)
    with pytest.raises(RuntimeError, match=r"MSELoss.backward called before the loss was computed"):
        nn.MSELoss().backward()
    with pytest.raises(ValueError, match=r"MSELoss expected reduction to be one of 'mean', 'sum', 'none', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(TypeError, match=r"MSELoss expected target of dtype float64 .*got float32"):
        nn.MSELoss()(pred, on(backend, np.zeros((2, 2)), dtype="float32"))
    with pytest.raises(TypeError, match=r"MSELoss: pred, target must be on one backend.*got numpy, torch"):
        nn.MSELoss()(pred, randn(other, 2, 2))
    loss_fn = nn.MSELoss(reduction="none")
    loss_fn(pred, pred)
    with pytest.raises(ValueError, match=r"MSELoss.backward with reduction='none' expected grad of shape \(2, 2\), "
                                         r"got a number"):
        loss_fn.backward(1.0)
    with pytest.raises(ValueError, match=r"MSELoss.backward expected grad of shape \(2, 2\), got \(2,\)"):
        loss_fn.backward(randn(backend, 2))
    with pytest.raises(TypeError, match=r"MSELoss.backward: grad, pred must be on one backend.*numpy, torch"):
        loss_fn.backward(randn(other, 2, 2))


@pytest.mark.parametrize("backend", backends)
def test_empty_batch_is_refused_for_the_mean(backend):
    """A mean over no entries is undefined (NumPy warned "Mean of empty slice" and gave NaN): a clear error."""
    empty = "the mean over an empty batch is undefined; reduction='sum' gives 0"
    with pytest.raises(ValueError, match=rf"^MSELoss expected pred with at least one entry \({empty}\), "
                                         rf"got shape \(0, 3\)$"):
        nn.MSELoss()(randn(backend, 0, 3), randn(backend, 0, 3))
    with pytest.raises(ValueError, match=rf"^CrossEntropyLoss expected logits with at least one example \({empty}\), "
                                         rf"got shape \(0, 3\)$"):
        nn.CrossEntropyLoss()(randn(backend, 0, 3), on(backend, np.zeros(0, dtype=np.int64)))
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss expected logits with at least one class, "
                                         r"got shape \(4, 0\)$"):
        nn.CrossEntropyLoss(reduction="sum")(randn(backend, 4, 0), on(backend, np.zeros(4, dtype=np.int64)))


@pytest.mark.parametrize("backend", backends)
def test_empty_batch_sums_to_zero(backend):
    """reduction='sum' over an empty batch is 0, and 'none' is empty, as in torch; backward gives an empty gradient."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss_fn, target in ((nn.MSELoss(reduction="sum"), randn(backend, 0, 3)),
                                (nn.CrossEntropyLoss(reduction="sum"), on(backend, np.zeros(0, dtype=np.int64))),
                                (nn.CrossEntropyLoss(reduction="sum"), randn(backend, 0, 3))):
            assert float(loss_fn(randn(backend, 0, 3), target)) == 0.0
            assert tuple(loss_fn.backward().shape) == (0, 3)
        none = nn.CrossEntropyLoss(reduction="none")(randn(backend, 0, 3), on(backend, np.zeros(0, dtype=np.int64)))
        assert tuple(none.shape) == (0,)


@pytest.mark.parametrize("backend", backends)
def test_mse_non_finite_pred(backend):
    pred, target = on(backend, np.array([1.0, np.inf, 0.0, np.nan])), on(backend, np.zeros(4))
    with pytest.raises(ValueError, match=r"MSELoss got non-finite values in pred: 2 of 4 entries are NaN or "
                                         r"infinite; pass check_finite=False"):
        nn.MSELoss()(pred, target)
    loss = nn.MSELoss(reduction="none", check_finite=False)(pred, target)
    assert np.array_equal(np.asarray(loss), [1.0, np.inf, 0.0, np.nan], equal_nan=True)


# ----------------------------------------------------------------- CrossEntropyLoss

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["indices", "probabilities"])
def test_cross_entropy_matches_torch(backend, reduction, target_kind, torch):
    logits_np = 2 * np.random.default_rng(0).standard_normal((6, 4))
    if target_kind == "indices":
        target_np = np.array([0, 3, 1, 1, 2, 3])
    else:
        target_np = probabilities(6, 4, seed=1)
    g_np = upstream(reduction, 6)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    loss, grad = vglab_loss_and_grad(backend, loss_fn, logits_np, on(backend, target_np), g_np)
    loss_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.cross_entropy, logits_np,
                                         torch.tensor(target_np), reduction, g_np)
    assert tuple(loss.shape) == tuple(loss_t.shape)
    assert rel_error(loss, loss_t) < 1e-10
    assert rel_error(grad, grad_t) < 1e-10


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target_kind", ["indices", "probabilities"])
def test_cross_entropy_gradcheck(backend, reduction, target_kind):
    logits = randn(backend, 5, 3, seed=3)
    target = on(backend, np.array([2, 0, 1, 1, 0]) if target_kind == "indices" else probabilities(5, 3, seed=4))
    g = on(backend, upstream(reduction, 5))
    assert check_by_central_differences(nn.CrossEntropyLoss(reduction=reduction), logits, target, g) < 1e-7


@pytest.mark.parametrize("backend", backends)
def test_cross_entropy_gradient_is_softmax_minus_one_hot(backend):
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    loss_fn(on(backend, logits), on(backend, np.array([2, 0])))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = p - np.array([[0, 0, 1], [1, 0, 0]])
    assert rel_error(loss_fn.backward(), expected) < 1e-14


@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("target_kind", ["indices", "probabilities"])
def test_cross_entropy_is_stable_for_huge_logits(backend, target_kind, torch):
    logits_np = np.array([[1e4, 0.0, -1e4], [1e4, 1e4 - 1.0, 0.0], [-1e4, -1e4, -1e4]])
    target_np = np.array([1, 1, 2]) if target_kind == "indices" else probabilities(3, 3, seed=5)
    loss_fn = nn.CrossEntropyLoss(reduction="none")
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        loss, grad = vglab_loss_and_grad(backend, loss_fn, logits_np, on(backend, target_np), np.ones(3))
    assert np.all(np.isfinite(np.asarray(loss))) and np.all(np.isfinite(np.asarray(grad)))
    if target_kind == "indices":  # -log softmax by hand: z_max - z_y + log(sum exp(z - z_max))
        expected = [1e4 + np.log1p(np.exp(-1e4) + np.exp(-2e4)), 1.0 + np.log1p(np.exp(-1.0)), np.log(3.0)]
        assert rel_error(loss, np.array(expected)) < 1e-14
    loss_t, grad_t = torch_loss_and_grad(torch, torch.nn.functional.cross_entropy, logits_np,
                                         torch.tensor(target_np), "none", np.ones(3))
    assert rel_error(loss, loss_t) < 1e-10
    assert rel_error(grad, grad_t) < 1e-10


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=40)
@given(logits=arrays(np.float64, (4, 5), elements=st.floats(-1e3, 1e3)),
       index=arrays(np.int64, (4,), elements=st.integers(0, 4)),
       raw=arrays(np.float64, (4, 5), elements=st.floats(0, 1)))
def test_cross_entropy_is_non_negative(backend, logits, index, raw):
    raw[:, 0] += 1e-3  # every row has some mass
    q = raw / raw.sum(axis=1, keepdims=True)
    for target in (on(backend, index), on(backend, q)):
        loss = np.asarray(nn.CrossEntropyLoss(reduction="none")(on(backend, logits), target))
        assert np.all(np.isfinite(loss)) and np.all(loss >= 0)


@pytest.mark.parametrize("backend", backends)
def test_cross_entropy_bad_hyperparameters_and_targets(backend):
    logits = randn(backend, 4, 3)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected reduction to be one of 'mean', 'sum', 'none', "
                                         r"got 'avg'"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(NotImplementedError, match=r"label_smoothing .*not supported"):
        nn.CrossEntropyLoss(label_smoothing=0.1)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected target class indices in \[0, 2\], "
                                         r"got values from 0 to 3"):
        nn.CrossEntropyLoss()(logits, on(backend, np.array([0, 1, 3, 2])))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected target class indices in \[0, 2\], "
                                         r"got values from -1 to 2"):
        nn.CrossEntropyLoss()(logits, on(backend, np.array([0, -1, 2, 2])))
    with pytest.raises(ValueError, match=r"^CrossEntropyLoss expected target of shape \(4, 3\), got \(4,\) of dtype "
                                         r"float64: class indices must be integers \(\.astype\(int\) or \.long\(\)\), "
                                         r"and a floating target is read as class probabilities of shape \(N, C\)$"):
        nn.CrossEntropyLoss()(logits, on(backend, np.array([0.0, 1.0, 2.0, 1.0])))  # float class "indices"
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected target of shape \(4,\), got \(4, 1\)"):
        nn.CrossEntropyLoss()(logits, on(backend, np.zeros((4, 1), dtype=np.int64)))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss expected logits with 2 dimensions, got shape \(3,\)"):
        nn.CrossEntropyLoss()(randn(backend, 3), on(backend, np.array([0])))
    with pytest.raises(TypeError, match=r"CrossEntropyLoss expected target of dtype float64 .*got float32"):
        nn.CrossEntropyLoss()(logits, on(backend, probabilities(4, 3, seed=0), dtype="float32"))


@pytest.mark.parametrize("backend", backends)
def test_cross_entropy_bad_input(backend):
    other = "torch" if backend == "numpy" else "numpy"
    logits, target = randn(backend, 4, 3), on(backend, np.array([0, 1, 2, 1]))
    with pytest.raises(RuntimeError, match=r"CrossEntropyLoss.backward called before the loss was computed"):
        nn.CrossEntropyLoss().backward()
    with pytest.raises(TypeError, match=r"CrossEntropyLoss: logits, target must be on one backend.*numpy, torch"):
        nn.CrossEntropyLoss()(logits, on(other, np.array([0, 1, 2, 1])))
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(logits, target)
    with pytest.raises(ValueError, match=r"CrossEntropyLoss.backward expected grad of shape \(\), got \(4,\)"):
        loss_fn.backward(randn(backend, 4))
    with pytest.raises(TypeError, match=r"CrossEntropyLoss.backward: grad, logits must be on one backend"):
        loss_fn.backward(on(other, np.array(1.0)))


@pytest.mark.parametrize("backend", backends)
def test_cross_entropy_non_finite_logits(backend):
    logits = on(backend, np.array([[0.0, np.nan], [1.0, 2.0], [np.inf, 0.0]]))
    target = on(backend, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss got non-finite values in logits: 2 of 6 entries are "
                                         r"NaN or infinite; pass check_finite=False"):
        nn.CrossEntropyLoss()(logits, target)
    nan_logits = on(backend, np.array([[0.0, np.nan], [1.0, 2.0]]))
    loss = np.asarray(nn.CrossEntropyLoss(reduction="none", check_finite=False)(nan_logits, target[:2]))
    assert np.isnan(loss[0]) and loss[1] == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-14)


# ----------------------------------------------------------------- softmax and log_softmax

@pytest.mark.parametrize("backend", backends)
@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_matches_torch(backend, axis, torch):
    z_np = 5 * np.random.default_rng(0).standard_normal((4, 6))
    z_t = torch.tensor(z_np)
    assert rel_error(nn.softmax(on(backend, z_np), axis=axis), torch.softmax(z_t, dim=axis)) < 1e-12
    assert rel_error(nn.log_softmax(on(backend, z_np), axis=axis), torch.log_softmax(z_t, dim=axis)) < 1e-12


@pytest.mark.parametrize("backend", backends)
def test_log_softmax_is_finite_for_huge_logits(backend, torch):
    z_np = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ls = np.asarray(nn.log_softmax(on(backend, z_np)))
    assert np.all(np.isfinite(ls))
    assert np.array_equal(ls[0], [0.0, -1e4, -2e4])
    assert rel_error(ls, torch.log_softmax(torch.tensor(z_np), dim=1)) < 1e-14


@pytest.mark.parametrize("backend", backends)
@settings(max_examples=40)
@given(z=arrays(np.float64, (3, 5), elements=st.floats(-300, 300)))
def test_softmax_rows_are_distributions(backend, z):
    """Rows sum to 1 and every entry is positive (logits within 600 of each other cannot underflow)."""
    p = np.asarray(nn.softmax(on(backend, z)))
    assert np.all(p > 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.exp(np.asarray(nn.log_softmax(on(backend, z)))), p, rtol=1e-13, atol=0)
