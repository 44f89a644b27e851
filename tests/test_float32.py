"""Float32 end to end: vglab trains a small MLP in float32 as torch does in float32.

The same initial weights (``to_torch`` copies them, keeping float32), the same mini-batches, a few
hundred steps of SGD with momentum or Adam; then the loss curves and the final weights are compared.

The tolerance is measured, not guessed. Float32's unit roundoff is u = 2^-24 = 6e-8. Each step sums up
to 64 products per entry in an order that differs between NumPy's BLAS and torch's kernels, so one
step's results differ by a few sqrt(64) u ~ 1e-6 at most; at these learning rates training is not
chaotic, so the difference stays at that level over 300 steps instead of growing exponentially. The
size of that rounding noise is measured on the same run by training torch once more in float64:
vglab's distance from torch float32 must be at most 8 times torch float32's own distance from
float64 (the runs below give ratios of 0.5 to 2), and below 1e-4 whatever that noise is. A float64
computation slipped in somewhere would still pass these bounds, so the test also checks that every
array vglab holds stays float32.
"""

import numpy as np
import pytest

import vglab as vg
from vglab import data, models, nn, optim
from vglab.interop import to_torch

STEPS = 300
BATCH = 64
NOISE_FACTOR = 8.0      # vglab vs torch float32, in units of torch float32 vs torch float64
CEILING = 1e-4          # an absolute bound on the relative error of every final weight

RUNS = {  # name: (dataset, vglab optimiser, torch optimiser)
    "spirals-sgd": (lambda: data.spirals(), lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
                    lambda torch, p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "digits-adam": (lambda: data.digits(), lambda p: optim.Adam(p, lr=0.01),
                    lambda torch, p: torch.optim.Adam(p, lr=0.01)),
}


def train_both(torch, backend, run):
    """(vglab model, torch float32 model, torch float64 model, their three loss curves)."""
    make_data, make_opt, make_torch_opt = RUNS[run]
    with vg.backend.using(backend, dtype="float32"):
        d = make_data()
        vg.manual_seed(0)
        model = models.deep_mlp(3, 32, "tanh", in_features=d.X_train.shape[1], out_features=d.n_classes)
    t32, t64 = to_torch(model), to_torch(model, dtype="float64")
    opt, o32, o64 = make_opt(model.parameters()), make_torch_opt(torch, t32.parameters()), \
        make_torch_opt(torch, t64.parameters())
    loss_fn = nn.CrossEntropyLoss()
    X_np, y_np = vg.to_numpy(d.X_train), vg.to_numpy(d.y_train)
    rng = np.random.default_rng(1)
    curves = {"vglab": [], "torch32": [], "torch64": []}
    for _ in range(STEPS):
        idx = rng.choice(X_np.shape[0], BATCH, replace=False)
        loss = loss_fn(model(d.X_train[idx]), d.y_train[idx])
        assert vg.backend.dtype_name(loss.dtype) == "float32"
        model.backward(loss_fn.backward())
        opt.step()
        opt.zero_grad()
        curves["vglab"].append(float(loss))
        for name, tm, o, dtype in (("torch32", t32, o32, torch.float32), ("torch64", t64, o64, torch.float64)):
            o.zero_grad()
            t_loss = torch.nn.functional.cross_entropy(tm(torch.tensor(X_np[idx], dtype=dtype)),
                                                       torch.tensor(y_np[idx]))
            t_loss.backward()
            o.step()
            curves[name].append(t_loss.item())
    return model, t32, t64, {k: np.array(v) for k, v in curves.items()}


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("run", sorted(RUNS))
def test_float32_training_matches_torch_float32(torch, backend, run):
    model, t32, t64, curves = train_both(torch, backend, run)
    assert curves["vglab"][-20:].mean() < 0.25 * curves["vglab"][:20].mean()        # it did learn
    assert {vg.backend.dtype_name(p.dtype) for p in model.parameters()} == {"float32"}
    assert {p.dtype for p in t32.parameters()} == {torch.float32}

    noise = np.max(np.abs(curves["torch32"] - curves["torch64"]))
    gap = np.max(np.abs(curves["vglab"] - curves["torch32"]))
    assert gap <= NOISE_FACTOR * noise and gap < CEILING, (gap, noise)

    ours = [vg.to_numpy(p.data).astype(np.float64) for p in model.parameters()]
    theirs32 = [p.detach().double().numpy() for p in t32.parameters()]
    theirs64 = [p.detach().numpy() for p in t64.parameters()]
    noise = max(vg.rel_error(a, b) for a, b in zip(theirs32, theirs64, strict=True))
    gaps = [vg.rel_error(a, b) for a, b in zip(ours, theirs32, strict=True)]
    assert max(gaps) <= NOISE_FACTOR * noise and max(gaps) < CEILING, (gaps, noise)
    # and float32 rounding really happened: vglab's weights are not those of a float64 run
    assert max(vg.rel_error(a, b) for a, b in zip(ours, theirs64, strict=True)) > 1e-8
