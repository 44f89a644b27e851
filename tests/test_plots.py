"""vglab.plots: the book's standard figures, drawn off-screen."""

import matplotlib

matplotlib.use("Agg")   # this module only: no window, no dependence on MPLBACKEND

import matplotlib.pyplot as plt
import numpy as np
import pytest

from vglab import plots


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_grad_norm_figure_one_line_per_label_on_a_log_axis():
    norms = {"sigmoid": 10.0 ** -np.arange(10.0)[::-1], "relu": np.full(10, 0.3), "tanh": np.logspace(-3, 0, 10)}
    ax = plots.grad_norm_figure(norms, title="ten layers")
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["sigmoid", "relu", "tanh"]
    for line, values in zip(lines, norms.values()):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 11))     # layer 1 nearest the input
        np.testing.assert_array_equal(line.get_ydata(), values)
    assert ax.get_title() == "ten layers"
    assert "layer" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sigmoid", "relu", "tanh"]


def test_grad_norm_figure_single_entry_and_given_axes():
    fig, ax = plt.subplots()
    out = plots.grad_norm_figure({"only": [1e-3, 1e-2, 1e-1]}, ax=ax, ylabel="norm")
    assert out is ax
    assert len(ax.get_lines()) == 1
    assert ax.get_legend() is None                        # one line: nothing to tell apart
    assert ax.get_ylabel() == "norm" and ax.get_title() == ""
    assert fig.axes == [ax]


def test_loss_curves():
    curves = {"sgd": [2.0, 1.0, 0.5, 0.25], "adam": [2.0, 0.5, 0.1, 0.05]}
    ax = plots.loss_curves(curves, title="losses")
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.get_lines()] == ["sgd", "adam"]
    np.testing.assert_array_equal(ax.get_lines()[1].get_ydata(), curves["adam"])
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(4))
    assert ax.get_ylabel() == "loss" and ax.get_xlabel() == "step" and ax.get_title() == "losses"
    linear = plots.loss_curves({"a": [1.0, -1.0]}, log=False, xlabel="epoch")
    assert linear.get_yscale() == "linear" and linear.get_xlabel() == "epoch"


def test_new_axes():
    fig, ax = plt.subplots()
    assert plots.new_axes(ax) is ax
    fresh = plots.new_axes(figsize=(4, 2))
    assert fresh is not ax
    np.testing.assert_allclose(fresh.figure.get_size_inches(), [4, 2])
