"""vglab.widgets: the static fallback of ``explore`` and its argument checks."""

import sys

import matplotlib

matplotlib.use("Agg")   # this module only

import matplotlib.pyplot as plt
import pytest

from vglab import widgets
from vglab.plots import BOOK_WIDTH


@pytest.fixture(autouse=True)
def _static(monkeypatch):
    monkeypatch.setenv("VGLAB_STATIC", "1")
    yield
    plt.close("all")


class Draw:
    """A draw function that remembers its calls and marks each panel."""

    def __init__(self):
        self.calls = []

    def __call__(self, ax, **values):
        self.calls.append(values)
        ax.plot([0, 1], [0, len(self.calls)])


def visible(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_static_grid_one_panel_per_combination():
    draw = Draw()
    fig = widgets.explore(draw, depth=[2, 5, 10, 20], activation=["sigmoid", "tanh", "relu"])
    depths, acts = [2, 10, 20], ["sigmoid", "tanh", "relu"]      # default: first, middle and last value
    expected = [{"depth": d, "activation": a} for d in depths for a in acts]
    assert draw.calls == expected
    axes = visible(fig)
    assert len(axes) == 9
    assert [ax.get_title() for ax in axes] == [f"depth={d}, activation={a}" for d in depths for a in acts]
    # three values of the last control: the nine panels fill rows of two, in order
    assert axes[0].get_subplotspec().get_geometry()[:2] == (5, 2)
    assert all(len(ax.get_lines()) == 1 for ax in axes)


def test_static_values_override_the_default():
    draw = Draw()
    fig = widgets.explore(draw, static={"depth": [5, 20]}, depth=[2, 5, 10, 20], activation=["sigmoid", "relu"])
    assert draw.calls == [{"depth": 5, "activation": "sigmoid"}, {"depth": 5, "activation": "relu"},
                          {"depth": 20, "activation": "sigmoid"}, {"depth": 20, "activation": "relu"}]
    assert [ax.get_title() for ax in visible(fig)] == ["depth=5, activation=sigmoid", "depth=5, activation=relu",
                                                      "depth=20, activation=sigmoid", "depth=20, activation=relu"]
    # two values of the last control: they are the columns, rows follow the first control
    assert visible(fig)[0].get_subplotspec().get_geometry()[:2] == (2, 2)


def test_one_control_wraps_and_hides_spare_axes():
    draw = Draw()
    fig = widgets.explore(draw, static={"lr": [0.001, 0.01, 0.1, 1.0, 10.0]}, lr=[0.001, 0.01, 0.1, 1.0, 10.0])
    assert [c["lr"] for c in draw.calls] == [0.001, 0.01, 0.1, 1.0, 10.0]
    assert len(fig.axes) == 6 and len(visible(fig)) == 5          # 3 rows of 2, 1 spare hidden
    assert [ax.get_title() for ax in visible(fig)] == ["lr=0.001", "lr=0.01", "lr=0.1", "lr=1.0", "lr=10.0"]
    short = Draw()
    widgets.explore(short, gain=[0.9, 1.1])
    assert short.calls == [{"gain": 0.9}, {"gain": 1.1}]         # three or fewer values: all of them


def test_figsize():
    fig = widgets.explore(Draw(), figsize=(5, 2), a=[1, 2])
    assert tuple(fig.get_size_inches()) == (5, 2)
    fig = widgets.explore(Draw(), a=[1, 2], b=["x", "y", "z"])       # 6 panels: 3 rows of 2
    assert tuple(fig.get_size_inches()) == pytest.approx((BOOK_WIDTH, 2.7 * 3 + 0.4))


def test_static_grid_fits_the_book_column_at_its_design_size():
    """At 100 dpi a figure at most BOOK_WIDTH (7.5 in) wide is not shrunk by the ~757-px column,
    so its text keeps its size: at least 9 pt everywhere."""
    def draw(ax, depth, activation):
        ax.plot([1, 2], [1, depth], label="forward")
        ax.plot([1, 2], [depth, 1], label="backward")
        ax.set(xlabel="layer", ylabel="norm")
        ax.legend(fontsize=9)
        ax.text(0.1, 0.1, "note", fontsize=9, transform=ax.transAxes)
    fig = widgets.explore(draw, depth=[2, 5, 10, 20], activation=["sigmoid", "tanh", "relu"])
    assert fig.get_size_inches()[0] * fig.dpi <= 757
    fig.canvas.draw()
    texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]
    assert texts and min(t.get_fontsize() for t in texts) >= 9
    axes = visible(fig)
    assert max(ax.get_subplotspec().get_geometry()[1] for ax in axes) == 2  # two panels to a row
    # one legend for the figure, none in the panels
    assert [ax.get_legend() for ax in axes] == [None] * 9 and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["forward", "backward"]
    # axis labels on the outer panels only: the left column's y label, the lowest panel's x label
    assert [ax.get_ylabel() for ax in axes] == ["norm", ""] * 4 + ["norm"]
    assert [ax.get_xlabel() for ax in axes] == [""] * 7 + ["layer", "layer"]


@pytest.mark.parametrize("controls, error, message", [
    ({}, ValueError, "explore expected at least one control, got none"),
    ({"depth": 5}, TypeError, "explore expected control depth to be a non-empty list of values, got 5"),
    ({"depth": []}, TypeError, r"explore expected control depth to be a non-empty list of values, got \[\]"),
    ({"depth": [2, 5], "act": "relu"}, TypeError, "explore expected control act to be a non-empty list"),
    ({"depth": range(3)}, TypeError, r"control depth .* got range\(0, 3\)"),
])
def test_bad_controls(controls, error, message):
    draw = Draw()
    with pytest.raises(error, match=message):
        widgets.explore(draw, **controls)
    assert draw.calls == []


def test_is_static(monkeypatch):
    assert widgets.is_static()                                    # VGLAB_STATIC=1
    monkeypatch.setenv("VGLAB_STATIC", "0")
    monkeypatch.setitem(sys.modules, "ipywidgets", None)          # as if ipywidgets were not installed
    assert widgets.is_static()


def test_live_when_not_static_and_ipywidgets_present(monkeypatch):
    pytest.importorskip("ipywidgets")
    monkeypatch.setenv("VGLAB_STATIC", "0")
    assert not widgets.is_static()
