"""vglab.models: deep_mlp's structure and initialisations, the chapter-0 network.
(weight_layers, which inspects a model, is tested with the recorder in test_recorder.py.)"""

import dataclasses
import math

import numpy as np
import pytest

import vglab as vg
from vglab import models, nn

ACTIVATION_TYPES = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}


def linears(model):
    return [m for m in model if isinstance(m, nn.Linear)]


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "linear"])
@pytest.mark.parametrize("depth", [1, 2, 5])
def test_deep_mlp_structure(depth, activation):
    vg.manual_seed(0)
    model = models.deep_mlp(depth, 32, activation, in_features=20, out_features=7)
    layers = list(model)
    lin = linears(model)
    assert len(lin) == depth
    shapes = [tuple(m.weight.shape) for m in lin]
    expected = [(7, 20)] if depth == 1 else [(32, 20)] + [(32, 32)] * (depth - 2) + [(7, 32)]
    assert shapes == expected
    assert all(tuple(m.bias.shape) == (m.out_features,) for m in lin)
    acts = [m for m in layers if not isinstance(m, nn.Linear)]
    if activation == "linear":
        assert acts == [] and len(layers) == depth
    else:
        assert len(acts) == depth - 1
        assert all(type(a) is ACTIVATION_TYPES[activation] for a in acts)
        # Linear, f, Linear, f, ..., Linear: alternating, ending with a Linear (logits)
        assert all(isinstance(m, nn.Linear) == (i % 2 == 0) for i, m in enumerate(layers))
    out = model(vg.backend.randn(9, 20))
    assert out.shape == (9, 7)


def test_deep_mlp_linear_is_a_product_of_matrices():
    vg.manual_seed(0)
    model = models.deep_mlp(4, 8, "linear", in_features=5, out_features=3, zero_bias=True)
    x = vg.backend.randn(6, 5)
    W = np.eye(5)
    for m in linears(model):
        W = m.weight.data @ W
        assert np.all(m.bias.data == 0)
    np.testing.assert_allclose(model(x), x @ W.T, rtol=1e-12)


WIDE = 256  # hidden weights (256, 256): 65,536 draws, sample variance within ~2%


def hidden_weight(init, **kw):
    vg.manual_seed(0)
    model = models.deep_mlp(3, WIDE, "tanh", init=init, in_features=WIDE, out_features=WIDE, **kw)
    return linears(model)[1].weight.data


@pytest.mark.parametrize("init, var", [
    ("default", 1 / (3 * WIDE)),                 # torch's U(-1/sqrt(in), 1/sqrt(in))
    ("xavier_uniform", 2 / (2 * WIDE)),
    ("xavier_normal", 2 / (2 * WIDE)),
    ("kaiming_uniform", 2 / WIDE),
    ("kaiming_normal", 2 / WIDE),
    ("orthogonal", 1 / WIDE),                   # orthonormal rows: each row has squared norm 1
])
def test_init_option_sets_weight_variance(init, var):
    w = hidden_weight(init)
    assert np.var(w) == pytest.approx(var, rel=0.03)


def test_gain_scales_xavier():
    assert np.var(hidden_weight("xavier_normal", gain=2.0)) == pytest.approx(4 / WIDE, rel=0.03)
    assert np.max(np.abs(hidden_weight("xavier_uniform", gain=0.5))) <= 0.5 * math.sqrt(6 / (2 * WIDE))


def test_default_init_bound():
    w = hidden_weight("default")
    bound = 1 / math.sqrt(WIDE)
    assert np.max(np.abs(w)) <= bound and np.max(np.abs(w)) > 0.99 * bound


@pytest.mark.parametrize("gain", [0.9, 1.0, 1.1])
def test_orthogonal_with_gain_gives_singular_values_equal_to_gain(gain):
    vg.manual_seed(0)
    model = models.deep_mlp(4, 32, "linear", init="orthogonal", gain=gain)
    for m in linears(model):                  # (32, 64), (32, 32), (32, 32), (10, 32)
        s = np.linalg.svd(m.weight.data, compute_uv=False)
        np.testing.assert_allclose(s, gain, rtol=1e-12)


def test_zero_bias():
    vg.manual_seed(0)
    model = models.deep_mlp(3, 16, zero_bias=True)
    assert all(np.all(m.bias.data == 0) for m in linears(model))
    model = models.deep_mlp(3, 16)
    assert all(np.any(m.bias.data != 0) for m in linears(model))


def test_deep_mlp_bad_arguments():
    with pytest.raises(ValueError, match="deep_mlp expected activation to be one of .*got 'swish'"):
        models.deep_mlp(3, 8, "swish")
    with pytest.raises(ValueError, match="deep_mlp expected init to be one of .*got 'he'"):
        models.deep_mlp(3, 8, init="he")
    with pytest.raises(ValueError, match="deep_mlp expected depth >= 1, got 0"):
        models.deep_mlp(0, 8)
    with pytest.raises(TypeError, match="deep_mlp expected width to be an integer, got 2.5"):
        models.deep_mlp(3, 2.5)


# --------------------------------------------------------------------------- the chapter-0 network

def test_chapter0_config():
    c = models.CHAPTER0
    assert (c.depth, c.width, c.activation, c.init, c.data, c.batch_size, c.lr, c.seed) == \
           (10, 64, "sigmoid", "default", "digits", 64, 0.1, 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.depth = 3                                                # frozen: one pinned configuration


def test_chapter0_network_matches_its_config():
    model = models.chapter0_network()
    c = models.CHAPTER0
    lin = linears(model)
    assert len(lin) == c.depth
    assert [tuple(m.weight.shape) for m in lin] == [(64, 64)] * (c.depth - 1) + [(10, 64)]
    acts = [m for m in model if not isinstance(m, nn.Linear)]
    assert len(acts) == c.depth - 1 and all(type(a) is nn.Sigmoid for a in acts)


def test_chapter0_network_is_deterministic():
    a, b = models.chapter0_network(), models.chapter0_network()
    vg.manual_seed(123)                                           # the global RNG state does not matter
    c = models.chapter0_network()
    for (ka, va), (kb, vb), (kc, vc) in zip(a.state_dict().items(), b.state_dict().items(), c.state_dict().items()):
        assert ka == kb == kc
        np.testing.assert_array_equal(va, vb)
        np.testing.assert_array_equal(va, vc)
    # the same draws as seeding by hand and building the pinned configuration
    vg.manual_seed(0)
    d = models.deep_mlp(10, 64, "sigmoid")
    for va, vd in zip(a.state_dict().values(), d.state_dict().values()):
        np.testing.assert_array_equal(va, vd)


def test_chapter0_network_with_changes():
    relu = models.chapter0_network(activation="relu", depth=4)
    assert len(linears(relu)) == 4
    assert all(type(m) is nn.ReLU for m in relu if not isinstance(m, nn.Linear))
    other_seed = models.chapter0_network(seed=1)
    assert not np.array_equal(linears(other_seed)[0].weight.data, linears(models.chapter0_network())[0].weight.data)
    with pytest.raises(TypeError):
        models.chapter0_network(colour="red")


def test_chapter0_network_on_torch():
    torch = pytest.importorskip("torch")
    with vg.backend.using("torch"):
        t = models.chapter0_network()
    n = models.chapter0_network()
    assert isinstance(linears(t)[0].weight.data, torch.Tensor)
    np.testing.assert_array_equal(linears(t)[3].weight.data.numpy(), linears(n)[3].weight.data)
