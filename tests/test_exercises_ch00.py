"""vglab.exercises.ch00: each check accepts the right answer and rejects typical wrong ones with a specific hint.

The right answers are computed here independently of the checks: with PyTorch's autograd for
the deltas and the first-layer gradient norms, with an SVD for the spectral norms.
"""

import numpy as np
import pytest

import vglab as vg
from vglab.exercises import ExerciseError, check

N = vg.models.CHAPTER0.batch_size


def weights_and_biases(**changes):
    model = vg.models.chapter0_network(**changes)
    layers = [m for _, m in vg.diagnostics.weight_layers(model)]
    return [vg.to_numpy(m.weight.data) for m in layers], [vg.to_numpy(m.bias.data) for m in layers]


def first_batch():
    data = vg.data.digits()
    return vg.to_numpy(data.X_train)[:N], vg.to_numpy(data.y_train)[:N]


def torch_deltas(torch, activation, depth=10):
    """[dL/dz_1, ..., dL/dz_L] of the chapter-0 network by torch autograd (mean cross-entropy), and dL/dW_1."""
    weights, biases = weights_and_biases(activation=activation, depth=depth)
    x, y = first_batch()
    f = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    Ws = [torch.tensor(W, requires_grad=True) for W in weights]
    a, zs = torch.tensor(x), []
    for l, (W, b) in enumerate(zip(Ws, biases)):
        z = a @ W.T + torch.tensor(b)
        z.retain_grad()
        zs.append(z)
        a = f(z) if l < len(Ws) - 1 else z
    torch.nn.functional.cross_entropy(a, torch.tensor(y)).backward()
    return [z.grad.numpy() for z in zs], Ws[0].grad.numpy()


def spectral(W):
    return np.linalg.svd(W, compute_uv=False)[0]


# ------------------------------------------------------------------ ch00-sigmoid-bound

@pytest.fixture(scope="module")
def bound_parts():
    weights, _ = weights_and_biases()
    return [spectral(W) for W in weights], [np.sqrt(np.sum(W ** 2)) for W in weights]


def test_bound_accepts_the_right_answer(bound_parts):
    s, _ = bound_parts
    right = 0.25 ** 9 * np.prod(s[1:])
    assert "Correct" in check("ch00-sigmoid-bound", right)
    assert "Correct" in check("ch00-sigmoid-bound", np.float64(right))


def test_bound_holds_for_the_measured_ratio(bound_parts, torch):
    s, _ = bound_parts
    deltas, _ = torch_deltas(torch, "sigmoid")
    ratio = np.linalg.norm(deltas[0]) / np.linalg.norm(deltas[-1])
    assert ratio < 0.25 ** 9 * np.prod(s[1:])


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, F: 0.25 ** 10 * np.prod(s[1:]), "one factor 1/4 too many"),
    (lambda s, F: 0.25 ** 9 * np.prod(s), "includes \\|\\|W_1\\|\\|"),
    (lambda s, F: 0.25 ** 10 * np.prod(s), "includes \\|\\|W_1\\|\\| and one factor"),
    (lambda s, F: 0.25 ** 9 * np.prod(F[1:]), "Frobenius"),
    (lambda s, F: np.prod(s[1:]), "are missing"),
    (lambda s, F: 2 * 0.25 ** 9 * np.prod(s[1:]), "relative error of 1.00e\\+00"),
])
def test_bound_rejects_typical_mistakes(bound_parts, wrong, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch00-sigmoid-bound", wrong(*bound_parts))


def test_bound_rejects_the_measured_ratio(torch):
    deltas, _ = torch_deltas(torch, "sigmoid")
    with pytest.raises(ExerciseError, match="measured ratio"):
        check("ch00-sigmoid-bound", np.linalg.norm(deltas[0]) / np.linalg.norm(deltas[-1]))


@pytest.mark.parametrize("answer, hint", [("5e-6", "single number"), (None, "should be a number"),
                                          (float("nan"), "finite"), (True, "should be a number")])
def test_bound_rejects_non_numbers(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch00-sigmoid-bound", answer)


# ------------------------------------------------------------------ ch00-tanh-deltas

@pytest.fixture(scope="module")
def tanh_reference():
    torch = pytest.importorskip("torch")
    return torch_deltas(torch, "tanh")[0]


def pre_activations():
    """Weights and pre-activations z_1..z_L of the tanh chapter-0 network on the first batch."""
    weights, biases = weights_and_biases(activation="tanh")
    x, _ = first_batch()
    zs, a = [], x
    for W, b in zip(weights, biases):
        zs.append(a @ W.T + b)
        a = np.tanh(zs[-1])
    return weights, zs


def wrong_deltas(reference, fprime):
    """The delta recursion with a wrong derivative, started from the right delta_L."""
    weights, zs = pre_activations()
    deltas = [reference[-1]]
    for l in range(len(weights) - 2, -1, -1):
        deltas.insert(0, (deltas[0] @ weights[l + 1]) * fprime(zs[l]))
    return deltas


def test_deltas_accept_the_right_answer(tanh_reference):
    assert "Correct" in check("ch00-tanh-deltas", tanh_reference)
    assert "Correct" in check("ch00-tanh-deltas", tuple(vg.backend.asarray(d) for d in tanh_reference))


def test_deltas_reject_a_reversed_list(tanh_reference):
    with pytest.raises(ExerciseError, match="put delta_1 .* first"):
        check("ch00-tanh-deltas", tanh_reference[::-1])


def test_deltas_reject_the_sum_instead_of_the_mean(tanh_reference):
    with pytest.raises(ExerciseError, match=f"N = {N} times too large"):
        check("ch00-tanh-deltas", [N * d for d in tanh_reference])


@pytest.mark.parametrize("fprime, hint", [
    (lambda z: 1 / (1 + np.exp(-z)) * (1 - 1 / (1 + np.exp(-z))), "sigmoid's derivative sigma"),
    (lambda z: np.tanh(z) * (1 - np.tanh(z)), "a\\(1 - a\\)"),
    (lambda z: np.ones_like(z), "f'\\(z_l\\) is missing"),
])
def test_deltas_reject_a_wrong_derivative(tanh_reference, fprime, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch00-tanh-deltas", wrong_deltas(tanh_reference, fprime))


def test_deltas_name_the_first_wrong_step(tanh_reference):
    answer = [d.copy() for d in tanh_reference]
    answer[6] *= 1.01                               # delta_7 wrong; delta_8..delta_10 right
    with pytest.raises(ExerciseError, match="delta_10 ... delta_8 are right, but delta_7 .* from layer 8 back to layer 7"):
        check("ch00-tanh-deltas", answer)


def test_deltas_reject_a_wrong_output_delta(tanh_reference):
    answer = [d.copy() for d in tanh_reference]
    answer[-1] += 1e-3
    with pytest.raises(ExerciseError, match="delta_10 is off by a relative error"):
        check("ch00-tanh-deltas", answer)


@pytest.mark.parametrize("answer, hint", [
    (lambda ref: ref[:-1], "got 9"),
    (lambda ref: 3.0, "got float"),
    (lambda ref: ref[:4] + [None] + ref[5:], "delta_5 is None"),
    (lambda ref: ref[:4] + [ref[4][:10]] + ref[5:], "delta_5 has shape \\(10, 64\\), expected \\(64, 64\\)"),
])
def test_deltas_reject_malformed_answers(tanh_reference, answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch00-tanh-deltas", answer(list(tanh_reference)))


# ------------------------------------------------------------------ ch00-depth-1e-6

def test_depth_accepts_the_smallest_depth_below_threshold(torch):
    norms = {depth: np.linalg.norm(torch_deltas(torch, "sigmoid", depth)[1]) for depth in (8, 9)}
    assert norms[8] >= 1e-6 > norms[9]            # the independent oracle: 9 is the answer
    assert "Correct" in check("ch00-depth-1e-6", 9)
    assert "Correct" in check("ch00-depth-1e-6", np.int64(9))
    assert "Correct" in check("ch00-depth-1e-6", 9.0)


@pytest.mark.parametrize("answer, hint", [
    (8, "at depth 8 the first layer's gradient norm is 1.3e-06, still above 1e-06: go deeper"),
    (10, "already is at a smaller depth \\(2.0e-07 at depth 9\\)"),
    (0, "at least one layer"),
    (8.5, "whole number"),
    (True, "whole number"),
    ("9", "whole number"),
])
def test_depth_rejects_wrong_answers(answer, hint):
    with pytest.raises(ExerciseError, match=hint):
        check("ch00-depth-1e-6", answer)


# ------------------------------------------------------------------ all checks

@pytest.mark.parametrize("exercise_id, answer", [("ch00-sigmoid-bound", 1.0), ("ch00-depth-1e-6", 3)])
def test_checks_leave_the_readers_random_stream_alone(exercise_id, answer):
    vg.manual_seed(123)
    expected = np.random.default_rng(123).standard_normal(5)
    with pytest.raises(ExerciseError):
        check(exercise_id, answer)
    np.testing.assert_array_equal(vg.backend.rng().standard_normal(5), expected)


def test_every_chapter0_exercise_is_registered():
    assert {"ch00-sigmoid-bound", "ch00-tanh-deltas", "ch00-depth-1e-6"} <= set(vg.exercises.registered())
