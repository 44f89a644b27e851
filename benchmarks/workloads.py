"""The workloads of ``make bench``: what the book trains, built the same way for vglab and for torch.

Each workload is a function ``build(variant, device, **size) -> step``; ``step()`` runs one
forward and backward (or one optimiser step) and returns nothing. ``variant`` is

- ``"vglab"``: vglab on NumPy arrays (the library as the book uses it),
- ``"vglab-torch"``: vglab's own code on torch tensors (``vg.backend.use("torch", device)``),
- ``"torch"``: PyTorch itself (``torch.nn`` and autograd, or ``torch.optim``).

Float32 on every side; the same sizes, the same loss (a fixed upstream gradient or
cross-entropy), inputs drawn once outside the timed step.
"""

from __future__ import annotations

import numpy as np

VARIANTS = ("vglab", "vglab-torch", "torch")


def _vglab(variant, device):
    """vglab set up for ``variant``: float32, new arrays on NumPy or on torch's ``device``."""
    import vglab as vg
    vg.set_default_dtype("float32")
    if variant == "vglab-torch":
        vg.backend.use("torch", device=device)
    return vg


def _array(variant, device, a):
    """``a`` (a NumPy array) as the variant's array: NumPy, or a torch tensor on ``device``."""
    if variant == "vglab":
        return a
    import torch
    return torch.as_tensor(a, device=device)


def _sync(variant, device):
    """A function that waits for the GPU (CUDA work is asynchronous); nothing on the CPU."""
    if variant != "vglab" and device and str(device).startswith("cuda"):
        import torch
        return torch.cuda.synchronize
    return lambda: None


def mlp(variant, device=None, depth=20, width=128, batch=256, activation="tanh"):
    """``depth`` Linear layers of ``width`` with ``activation`` between them, 10 classes, cross-entropy."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, width)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    sync = _sync(variant, device)
    if variant == "torch":
        import torch
        act = {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}[activation]
        layers = []
        for i in range(depth):
            layers.append(torch.nn.Linear(width, width if i < depth - 1 else 10))
            if i < depth - 1:
                layers.append(act())
        model = torch.nn.Sequential(*layers).to(device or "cpu")
        Xt, yt = torch.as_tensor(X, device=device), torch.as_tensor(y, device=device)

        def step():
            torch.nn.functional.cross_entropy(model(Xt), yt).backward()
            model.zero_grad(set_to_none=True)
            sync()
        return step
    vg = _vglab(variant, device)
    model = vg.models.deep_mlp(depth, width, activation, in_features=width, out_features=10)
    loss_fn = vg.nn.CrossEntropyLoss()
    Xv, yv = _array(variant, device, X), _array(variant, device, y)

    def step():
        loss_fn(model(Xv), yv)
        model.backward(loss_fn.backward())
        model.zero_grad()
        sync()
    return step


def chapter0(variant, device=None):
    """The chapter-0 network's sizes: 10 sigmoid layers of 64, batch 64."""
    return mlp(variant, device, depth=10, width=64, batch=64, activation="sigmoid")


def _first(output):
    """A layer's output; for a recurrent layer's ``(out, h_n)``, ``out``."""
    return output[0] if isinstance(output, tuple) else output


def _layer(variant, device, make_vglab, make_torch, x_shape, train=True):
    """Forward and backward of one layer with a fixed upstream gradient of its (first) output.

    Both sides compute the gradient with respect to the input too (vglab's backward always does).
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal(x_shape).astype(np.float32)
    sync = _sync(variant, device)
    if variant == "torch":
        import torch
        layer = make_torch(torch).to(device or "cpu").train(train)
        Xt = torch.as_tensor(X, device=device).requires_grad_()
        shape = tuple(_first(layer(Xt)).shape)
        g = torch.as_tensor(rng.standard_normal(shape).astype(np.float32), device=device)

        def step():
            _first(layer(Xt)).backward(g)
            layer.zero_grad(set_to_none=True)
            Xt.grad = None
            sync()
        return step
    vg = _vglab(variant, device)
    layer = make_vglab(vg).train(train)
    Xv = _array(variant, device, X)
    with vg.no_grad():
        shape = tuple(_first(layer(Xv)).shape)
    g = _array(variant, device, rng.standard_normal(shape).astype(np.float32))

    def step():
        layer(Xv)
        layer.backward(g)
        layer.zero_grad()
        sync()
    return step


def conv(variant, device=None):
    """Conv2d 3x3, 16 -> 32 channels, padding 1, 8x8 images, batch 64."""
    return _layer(variant, device, lambda vg: vg.nn.Conv2d(16, 32, 3, padding=1),
                  lambda torch: torch.nn.Conv2d(16, 32, 3, padding=1), (64, 16, 8, 8))


def batchnorm(variant, device=None):
    """BatchNorm1d over (256, 512) in training mode."""
    return _layer(variant, device, lambda vg: vg.nn.BatchNorm1d(512),
                  lambda torch: torch.nn.BatchNorm1d(512), (256, 512))


def lstm(variant, device=None):
    """One LSTM layer, T=50, N=32, I=H=64, the outputs' gradient given."""
    return _layer(variant, device, lambda vg: vg.nn.LSTM(64, 64), lambda torch: torch.nn.LSTM(64, 64), (50, 32, 64))


def gru(variant, device=None):
    """One GRU layer, T=50, N=32, I=H=64, the outputs' gradient given."""
    return _layer(variant, device, lambda vg: vg.nn.GRU(64, 64), lambda torch: torch.nn.GRU(64, 64), (50, 32, 64))


def adam(variant, device=None, sizes=((1000, 500), (500,), (500, 1000), (1000,))):
    """One Adam step over ~1M parameters (four arrays) with fixed gradients; torch uses foreach."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s).astype(np.float32) for s in sizes]
    grads = [rng.standard_normal(s).astype(np.float32) for s in sizes]
    sync = _sync(variant, device)
    if variant == "torch":
        import torch
        params = [torch.nn.Parameter(torch.as_tensor(v, device=device)) for v in values]
        for p, g in zip(params, grads):
            p.grad = torch.as_tensor(g, device=device)
        opt = torch.optim.Adam(params, lr=1e-3, foreach=True)

        def step():
            opt.step()
            sync()
        return step
    vg = _vglab(variant, device)
    params = [vg.nn.Parameter(_array(variant, device, v)) for v in values]
    for p, g in zip(params, grads):
        p.grad = _array(variant, device, g)
    opt = vg.optim.Adam(params, lr=1e-3)

    def step():
        opt.step()
        sync()
    return step


# name: (description, builder, keyword sizes)
WORKLOADS = {
    "mlp": ("20-layer tanh MLP, width 128, batch 256, cross-entropy", mlp, {}),
    "chapter0": ("the chapter-0 network: 10 sigmoid layers of 64, batch 64", chapter0, {}),
    "lstm": ("LSTM, T=50, N=32, I=H=64", lstm, {}),
    "gru": ("GRU, T=50, N=32, I=H=64", gru, {}),
    "conv": ("Conv2d 3x3, 16 -> 32 channels, 8x8 images, batch 64", conv, {}),
    "batchnorm": ("BatchNorm1d (256, 512), training", batchnorm, {}),
    "adam": ("Adam step over 1M parameters (torch: foreach)", adam, {}),
}

# How the MLP's ratio changes with size: where the fixed per-call overhead stops mattering.
GROWTH = {f"mlp-w{w}-b{b}": (f"8-layer tanh MLP, width {w}, batch {b}", mlp, dict(depth=8, width=w, batch=b))
          for w in (64, 256, 1024) for b in (64, 1024)}
