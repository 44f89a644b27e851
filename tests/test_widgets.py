"""vglab.widgets: the static fallback of ``explore`` and its argument checks."""

import sys

import matplotlib

matplotlib.use("Agg")   # this module only

import matplotlib.pyplot as plt
import pytest

from vglab import widgets


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
    # rows follow the first control, columns the last
    assert axes[0].get_subplotspec().get_geometry()[:2] == (3, 3)
    assert all(len(ax.get_lines()) == 1 for ax in axes)


def test_static_values_override_the_default():
    draw = Draw()
    fig = widgets.explore(draw, static={"depth": [5, 20]}, depth=[2, 5, 10, 20], activation=["sigmoid", "relu"])
    assert draw.calls == [{"depth": 5, "activation": "sigmoid"}, {"depth": 5, "activation": "relu"},
                          {"depth": 20, "activation": "sigmoid"}, {"depth": 20, "activation": "relu"}]
    assert [ax.get_title() for ax in visible(fig)] == ["depth=5, activation=sigmoid", "depth=5, activation=relu",
                                                      "depth=20, activation=sigmoid", "depth=20, activation=relu"]


def test_one_control_wraps_and_hides_spare_axes():
    draw = Draw()
    fig = widgets.explore(draw, static={"lr": [0.001, 0.01, 0.1, 1.0, 10.0]}, lr=[0.001, 0.01, 0.1, 1.0, 10.0])
    assert [c["lr"] for c in draw.calls] == [0.001, 0.01, 0.1, 1.0, 10.0]
    assert len(fig.axes) == 8 and len(visible(fig)) == 5          # 2 rows of 4, 3 spare hidden
    assert [ax.get_title() for ax in visible(fig)] == ["lr=0.001", "lr=0.01", "lr=0.1", "lr=1.0", "lr=10.0"]
    short = Draw()
    widgets.explore(short, gain=[0.9, 1.1])
    assert short.calls == [{"gain": 0.9}, {"gain": 1.1}]         # three or fewer values: all of them


def test_figsize():
    fig = widgets.explore(Draw(), figsize=(5, 2), a=[1, 2])
    assert tuple(fig.get_size_inches()) == (5, 2)
    fig = widgets.explore(Draw(), a=[1, 2], b=["x", "y", "z"])
    assert tuple(fig.get_size_inches()) == pytest.approx((3.4 * 3, 2.8 * 2))


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
