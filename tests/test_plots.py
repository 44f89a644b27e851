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


# --------------------------------------------------------------------------- Recorder plots

from types import SimpleNamespace  # noqa: E402

import matplotlib.colors  # noqa: E402


def fake_recorder(n_layers=3, n_steps=4):
    """What the plots read from a Recorder: steps, names, (steps, L) arrays and snapshots."""
    steps = [0, 10, 20, 30][:n_steps]
    grid = np.arange(1.0, n_steps * n_layers + 1).reshape(n_steps, n_layers)
    rng = np.random.default_rng(0)
    return SimpleNamespace(
        steps=steps, names=[str(2 * l) for l in range(n_layers)],
        grad_norm=10.0 ** -grid, update_ratio=1e-3 * grid, act_std=grid, act_mean=grid - 5,
        saturation=np.where(np.arange(n_layers) == n_layers - 1, np.nan, 0.1 * grid),
        dead=np.full((n_steps, n_layers), np.nan), bias_grad_norm=grid,
        snapshots=[(0, [rng.normal(size=100) * (l + 1) for l in range(n_layers)]),
                   (30, [rng.normal(size=50) for _ in range(n_layers - 1)] + [np.array([])])])


def test_layer_stat_lines_one_line_per_layer():
    rec = fake_recorder()
    ax = plots.layer_stat_lines(rec, "grad_norm", title="gradients")
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_title() == "gradients"
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["layer 1", "layer 2", "layer 3"]   # not "layer 2 (2)"
    for l, line in enumerate(lines):
        np.testing.assert_array_equal(line.get_xdata(), rec.steps)
        np.testing.assert_array_equal(line.get_ydata(), rec.grad_norm[:, l])
    # the input side is darker than the output side (viridis runs from dark to light)
    lum = [np.mean(matplotlib.colors.to_rgb(line.get_color())) for line in lines]
    assert lum[0] < lum[1] < lum[2]
    assert ax.get_legend() is not None


def test_layer_stat_lines_scales_and_nan_layers():
    rec = fake_recorder()
    assert plots.layer_stat_lines(rec, "act_mean").get_yscale() == "linear"
    assert plots.layer_stat_lines(rec, "update_ratio").get_yscale() == "log"
    assert plots.layer_stat_lines(rec, "act_std", log=False).get_yscale() == "linear"
    sat = plots.layer_stat_lines(rec, "saturation", layers=[0, 2])
    assert len(sat.get_lines()) == 1                     # layer 3 is all NaN, layer 2 not asked for
    dead = plots.layer_stat_lines(rec, "dead")
    assert dead.get_lines() == [] and dead.get_legend() is None
    with pytest.raises(ValueError, match="layer_stat_lines expected stat to be one of .*'grad_norm'.*got 'loss'"):
        plots.layer_stat_lines(rec, "loss")


def test_layer_stat_lines_colour_bar_for_many_layers():
    rec = fake_recorder(n_layers=12)
    ax = plots.layer_stat_lines(rec, "act_std")
    assert len(ax.get_lines()) == 12 and ax.get_legend() is None
    bars = [a for a in ax.figure.axes if a is not ax]
    assert len(bars) == 1 and "layer" in bars[0].get_ylabel()


def test_layer_histograms():
    rec = fake_recorder()
    ax = plots.layer_histograms(rec, step=0, bins=20)
    assert ax.get_title() == "activations at step 0"
    assert len(ax.patches) == 3                          # one outline per layer
    peaks = [p.get_xy()[:, 1].max() for p in ax.patches]
    assert peaks[0] > 2 * peaks[2]                        # densities: layer 1's samples are 3 times narrower
    lo, hi = min(s.min() for s in rec.snapshots[0][1]), max(s.max() for s in rec.snapshots[0][1])
    np.testing.assert_allclose([ax.patches[0].get_xy()[:, 0].min(), ax.patches[0].get_xy()[:, 0].max()], [lo, hi])
    last = plots.layer_histograms(rec)                    # default: the last snapshot, empty layers left out
    assert last.get_title() == "activations at step 30" and len(last.patches) == 2
    fixed = plots.layer_histograms(rec, step=0, layers=[1], value_range=(-1, 1), title="one")
    assert len(fixed.patches) == 1 and fixed.get_title() == "one"
    np.testing.assert_allclose([fixed.patches[0].get_xy()[:, 0].min(), fixed.patches[0].get_xy()[:, 0].max()], [-1, 1])
    with pytest.raises(ValueError, match=r"layer_histograms expected step to be one of \[0, 30\], got 5"):
        plots.layer_histograms(rec, step=5)
    rec.snapshots = []
    with pytest.raises(ValueError, match="layer_histograms expected a recorder with activation snapshots"):
        plots.layer_histograms(rec)


def test_diagnostics_figure_with_a_real_recorder():
    import vglab as vg
    vg.manual_seed(0)
    model = vg.models.deep_mlp(3, 8, "relu")
    rec = vg.diagnostics.Recorder(model)
    data = vg.data.digits()
    vg.train.train(model, vg.nn.CrossEntropyLoss(), vg.optim.SGD(model.parameters(), lr=0.1), data, steps=3,
                   callbacks=[rec], progress=False)
    fig = plots.diagnostics_figure(rec, stats=("grad_norm", "update_ratio", "dead"), title="three")
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_ylabel() in
               {label for label, _ in plots.STAT_LABELS.values()}]
    assert [ax.get_ylabel() for ax in visible] == [plots.STAT_LABELS[s][0] for s in ("grad_norm", "update_ratio", "dead")]
    assert sum(not ax.get_visible() for ax in fig.axes) == 1
    np.testing.assert_array_equal(visible[0].get_lines()[0].get_ydata(), rec.grad_norm[:, 0])
    assert fig._suptitle.get_text() == "three"
    assert fig.get_size_inches()[0] == plots.BOOK_WIDTH                # the book's column at design size
    assert all(ax.get_legend() is None for ax in visible)             # one key for the figure
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["layer 1", "layer 2", "layer 3"]


def test_layer_histograms_logx_counts_magnitudes_without_zeros():
    rec = fake_recorder()
    rec.snapshots = [(0, [np.array([0.0, 0.0, 1e-3, -2e-3, 1e-2]), np.array([1.0, 10.0, 0.0]), np.array([])])]
    ax = plots.layer_histograms(rec, logx=True, bins=4, value_range=(1e-4, 100))
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "count" and "zeros left out" in ax.get_xlabel()
    assert len(ax.patches) == 2                           # the empty third layer is left out
    heights = [p.get_xy()[1:9:2, 1] for p in ax.patches]  # a step outline: (edge, 0), (edge, h0), (edge, h0), ...
    # bins (1e-4, 10^-2.5, 0.1, 10^0.5, 100): |1e-3|, |-2e-3| | 1e-2 || 1.0 | 10.0
    np.testing.assert_array_equal(heights[0], [2, 1, 0, 0])
    np.testing.assert_array_equal(heights[1], [0, 0, 1, 1])
    np.testing.assert_allclose(sorted(set(ax.patches[0].get_xy()[:, 0])), np.geomspace(1e-4, 100, 5))


def test_legends_name_layers_by_position_not_by_module_name():
    """A real Recorder on Linear, Tanh, Linear, Tanh, Linear: its layers are the Sequential's
    modules 0, 2 and 4, and the legends call them layers 1, 2 and 3, counted from the input."""
    import vglab as vg
    vg.manual_seed(0)
    model = vg.models.deep_mlp(3, 8, "tanh", in_features=4, out_features=2)
    rec = vg.diagnostics.Recorder(model, samples=20)
    model(np.random.default_rng(0).normal(size=(10, 4)))
    rec.before_step()
    assert rec.names == ["0", "2", "4"]
    lines = plots.layer_stat_lines(rec, "act_std", layers=[1, 2])
    assert [t.get_text() for t in lines.get_legend().get_texts()] == ["layer 2", "layer 3"]
    hist = plots.layer_histograms(rec, layers=[0, 2])
    assert [t.get_text() for t in hist.get_legend().get_texts()] == ["layer 1", "layer 3"]


def test_layer_key_is_one_legend_for_few_layers_and_one_colour_bar_for_many():
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, layout="constrained")
    for ax in axes:
        for l in range(3):
            ax.plot([0, 1], [l, l], label=f"layer {l + 1}")
    legend = plots.layer_key(fig, axes, 3)
    assert fig.legends == [legend] and [t.get_text() for t in legend.get_texts()] == ["layer 1", "layer 2", "layer 3"]
    fig, axes = plt.subplots(2, 2, layout="constrained")
    bar = plots.layer_key(fig, axes, 30)
    assert bar.ax.get_xlabel() == "layer (1 = nearest the input)" and not fig.legends
    assert bar.norm.vmin == 1 and bar.norm.vmax == 30
    plt.close("all")
