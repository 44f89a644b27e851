r"""The small networks the chapters share, above all *the chapter-0 network*.

``deep_mlp(depth, width, activation)`` is a stack of ``depth`` Linear layers with an
activation between consecutive ones (none after the last: it outputs logits):

    Linear(in, width) -> f -> Linear(width, width) -> f -> ... -> Linear(width, out)

The chapter-0 network is one pinned configuration (``CHAPTER0``), built by
``chapter0_network()``: every chapter that says "the chapter-0 network" means exactly
this one, so their numbers can be compared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import backend, nn
from . import init as vginit
from ._checks import check_choice, check_number

__all__ = ["ACTIVATIONS", "INITS", "deep_mlp", "MLPConfig", "CHAPTER0", "chapter0_network"]

#: Activations by name (torch.nn.functional's names); "linear" puts none between the layers.
ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
               "prelu": nn.PReLU, "elu": nn.ELU, "gelu": nn.GELU, "softplus": nn.Softplus, "linear": None}


#: Weight initialisations by name; each takes (weight, gain). "default" keeps torch's Linear init.
INITS = {
    "default": None,
    "xavier_uniform": lambda w, gain: vginit.xavier_uniform_(w, gain=gain),
    "xavier_normal": lambda w, gain: vginit.xavier_normal_(w, gain=gain),
    "kaiming_uniform": lambda w, gain: vginit.kaiming_uniform_(w, nonlinearity="relu"),
    "kaiming_normal": lambda w, gain: vginit.kaiming_normal_(w, nonlinearity="relu"),
    "orthogonal": lambda w, gain: vginit.orthogonal_(w, gain=gain),
}


def deep_mlp(depth: int, width: int, activation: str = "sigmoid", init: str = "default",
             in_features: int = 64, out_features: int = 10, gain: float = 1.0,
             zero_bias: bool = False) -> nn.Sequential:
    """A plain deep MLP: ``depth`` Linear layers of ``width`` units, ``activation`` between them.

    Args:
        depth: number of Linear layers L (so L - 1 hidden activations).
        width: units per hidden layer.
        activation: a name in ``ACTIVATIONS`` ("sigmoid", "tanh", "relu", "leaky_relu", "prelu",
            "elu", "gelu", "softplus"), each with torch's defaults, or "linear" (no activation:
            a deep linear net).
        init: a name in ``INITS``; "default" is PyTorch's Linear initialisation.
        gain: the gain of "xavier_*" and "orthogonal" (for "orthogonal": the
            singular values, so 1.1 or 0.9 make every layer expand or shrink the signal).
        zero_bias: set every bias to 0 (for the exact deep-linear demonstrations).
    Returns:
        ``nn.Sequential``, input (N, in_features), output logits (N, out_features).
    """
    check_number("deep_mlp", "depth", depth, low=1, integer=True)
    check_number("deep_mlp", "width", width, low=1, integer=True)
    check_choice("deep_mlp", "activation", activation, tuple(ACTIVATIONS))
    check_choice("deep_mlp", "init", init, tuple(INITS))
    sizes = [in_features] + [width] * (depth - 1) + [out_features]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        if INITS[init] is not None:
            INITS[init](linear.weight, gain)
        if zero_bias:
            vginit.zeros_(linear.bias)
        layers.append(linear)
        if i < depth - 1 and ACTIVATIONS[activation] is not None:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class MLPConfig:
    """A deep MLP experiment, pinned: architecture, data, batch size, learning rate, seed."""
    depth: int = 10
    width: int = 64
    activation: str = "sigmoid"
    init: str = "default"
    data: str = "digits"
    batch_size: int = 64
    lr: float = 0.1
    seed: int = 0

    def build(self) -> nn.Sequential:
        """The network, with weights drawn after ``vg.manual_seed(self.seed)``."""
        backend.manual_seed(self.seed)
        return deep_mlp(self.depth, self.width, self.activation, self.init)


#: The chapter-0 network: 10 sigmoid layers of 64 units on the digits, PyTorch's default init.
CHAPTER0 = MLPConfig()


def chapter0_network(**changes) -> nn.Sequential:
    """The chapter-0 network (``CHAPTER0``), optionally with fields changed:
    ``chapter0_network(activation="relu")``."""
    return replace(CHAPTER0, **changes).build()
