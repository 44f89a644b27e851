r"""Per-parameter adaptive optimisers: Adagrad, RMSprop, Adam, AdamW, with torch's rules.

Each divides the step of every parameter *element* by a running root-mean-square of that
element's own gradients, so the step size no longer scales with the gradient's size. All
operations are element-wise; $g_t$ is the gradient at step $t = 1, 2, \dots$ (negated
first when ``maximize=True``), $\eta$ the learning rate, $\lambda$ the weight decay, which
adds $\lambda\theta_{t-1}$ to $g_t$ except in AdamW. $\epsilon$ sits *outside* the root.

* **Adagrad** (Duchi, Hazan & Singer 2011, diagonal version), with learning-rate decay $\delta$:

  $$G_t = G_{t-1} + g_t^2, \qquad G_0 = \text{initial\_accumulator\_value}, \qquad
  \theta_t = \theta_{t-1} - \frac{\eta}{1 + (t - 1)\delta}\, \frac{g_t}{\sqrt{G_t} + \epsilon}.$$

* **RMSprop** (Tieleman & Hinton 2012), with $\rho$ = ``alpha``:

  $$v_t = \rho v_{t-1} + (1 - \rho)\, g_t^2, \qquad
  \theta_t = \theta_{t-1} - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}.$$

  ``centered=True`` also keeps $\bar g_t = \rho \bar g_{t-1} + (1 - \rho) g_t$ and divides by
  $\sqrt{v_t - \bar g_t^2} + \epsilon$ (an estimate of the standard deviation, Graves 2013);
  ``momentum`` $\mu > 0$ keeps $b_t = \mu b_{t-1} + g_t / (\cdot)$ and steps $-\eta b_t$.

* **Adam** (Kingma & Ba 2015, Algorithm 1), with ``betas`` $= (\beta_1, \beta_2)$:

  $$m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2, \quad
  \theta_t = \theta_{t-1} - \frac{\eta}{1 - \beta_1^t}\, \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon},$$

  that is $\eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$ with $\hat m_t = m_t / (1 - \beta_1^t)$ and
  $\hat v_t = v_t / (1 - \beta_2^t)$. ``amsgrad=True`` (Reddi et al. 2018) uses the running
  maximum of $v_t$ instead of $v_t$.

* **AdamW** (Loshchilov & Hutter 2019): Adam whose weight decay is *decoupled* from the
  gradient: first $\theta \leftarrow (1 - \eta\lambda)\,\theta$, then the Adam step with the
  undecayed $g_t$ (so the decay never passes through $m_t$ and $v_t$).
"""

from __future__ import annotations

from .. import backend
from .._checks import check_number
from .optimizer import Optimizer, blocks, lerp, lerp_

__all__ = ["Adagrad", "RMSprop", "Adam", "AdamW"]


def _gradient(theta, g, group, decoupled: bool = False):
    """$g$ (or $-g$ with maximize), plus $\\lambda\\theta$ unless the weight decay is decoupled."""
    if group["maximize"]:
        g = -g
    if group["weight_decay"] and not decoupled:
        g = g + group["weight_decay"] * theta
    return g


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): each element's step divided by $\\sqrt{\\sum g^2} + \\epsilon$.

    Args:
        lr: $\\eta$ (torch's default 1e-2), a number or a schedule.
        lr_decay: $\\delta \\ge 0$: step $t$ uses $\\eta / (1 + (t - 1)\\delta)$.
        weight_decay: $\\lambda \\ge 0$ (added to the gradient).
        initial_accumulator_value: $G_0 \\ge 0$, the starting sum of squares.
        eps: $\\epsilon$ added to $\\sqrt{G_t}$ (torch's default 1e-10).
    """

    def __init__(self, params, lr=1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            check_number("Adagrad", name, group[name], low=0)

    def _update(self, theta, g, state, group):
        xp = backend.namespace(theta)
        g = _gradient(theta, g, group)
        if not state:
            state.update(step=0, sum=xp.full_like(theta, float(group["initial_accumulator_value"])))
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        G = state["sum"] = state["sum"] + g * g
        return theta - clr * (g / (xp.sqrt(G) + group["eps"]))


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012): each element's step divided by an EMA's root, $\\sqrt{v_t} + \\epsilon$.

    Args:
        lr: $\\eta$ (torch's default 1e-2), a number or a schedule.
        alpha: $\\rho \\in [0, 1]$, the EMA's smoothing constant (Keras calls it ``rho``).
        eps: $\\epsilon$ added to $\\sqrt{v_t}$ (torch's default 1e-8; Keras puts it inside the root).
        weight_decay: $\\lambda \\ge 0$ (added to the gradient).
        momentum: $\\mu \\ge 0$, momentum on the rescaled step.
        centered: divide by the root of $v_t - \\bar g_t^2$ (the gradient's variance) instead.
    """

    def __init__(self, params, lr=1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        check_number("RMSprop", "alpha", group["alpha"], low=0, high=1)
        for name in ("eps", "weight_decay", "momentum"):
            check_number("RMSprop", name, group[name], low=0)

    def _update(self, theta, g, state, group):
        xp = backend.namespace(theta)
        alpha = group["alpha"]
        g = _gradient(theta, g, group)
        if not state:
            state.update(step=0, square_avg=xp.zeros_like(theta))
            if group["momentum"] > 0:
                state["momentum_buffer"] = xp.zeros_like(theta)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(theta)
        state["step"] += 1
        v = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
        if group["centered"]:
            g_avg = state["grad_avg"] = lerp(state["grad_avg"], g, 1 - alpha)
            avg = xp.sqrt(v - g_avg * g_avg) + group["eps"]
        else:
            avg = xp.sqrt(v) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"] = group["momentum"] * state["momentum_buffer"] + g / avg
            return theta - group["lr"] * buf
        return theta - group["lr"] * (g / avg)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with torch's defaults and eps placement; optional AMSGrad.

    Args:
        lr: $\\eta$ (torch's default 1e-3), a number or a schedule.
        betas: $(\\beta_1, \\beta_2)$, each in $[0, 1)$: the EMAs of $g$ and of $g^2$.
        eps: $\\epsilon$ added to $\\sqrt{\\hat v_t}$ (outside the root).
        weight_decay: $\\lambda \\ge 0$: added to the gradient (L2), or decoupled (AdamW).
        amsgrad: divide by the running maximum of $v_t$ (Reddi et al. 2018).
        decoupled_weight_decay: shrink $\\theta$ by $1 - \\eta\\lambda$ before the step (AdamW).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _check_group(self, group):
        super()._check_group(group)
        owner = type(self).__name__
        if len(group["betas"]) != 2:
            raise ValueError(f"{owner} expected betas to be a pair (beta1, beta2), got {group['betas']!r}")
        check_number(owner, "betas[0]", group["betas"][0], low=0, high=1, high_open=True)
        check_number(owner, "betas[1]", group["betas"][1], low=0, high=1, high_open=True)
        check_number(owner, "eps", group["eps"], low=0)
        check_number(owner, "weight_decay", group["weight_decay"], low=0)

    def _update(self, theta, g, state, group):
        xp = backend.namespace(theta)
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        g = _gradient(theta, g, group, decoupled)
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(theta), exp_avg_sq=xp.zeros_like(theta))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(theta)
        state["step"] += 1
        t = state["step"]
        shrink = 1 - group["lr"] * group["weight_decay"] if decoupled else 1   # AdamW: decay, then step
        step_size = group["lr"] / (1 - beta1 ** t)
        root_bc2 = (1 - beta2 ** t) ** 0.5
        m, v, v_max = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")
        if backend.is_torch(theta):  # the same formulas in torch's fused in-place kernels (as torch's foreach Adam)
            m.lerp_(g, 1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            if v_max is not None:
                v = xp.maximum(v_max, v, out=v_max)
            denom = xp.sqrt(v).div_(root_bc2).add_(group["eps"])       # the one new tensor of the step
            return xp.addcdiv(theta * shrink if shrink != 1 else theta, m, denom, value=-step_size, out=denom)
        new = xp.empty_like(theta)
        parts = blocks(theta)
        scratch = xp.empty_like(theta[parts[0]])
        for b in parts:  # the same passes block by block, each block staying in the cache (see blocks)
            tmp = scratch if b is Ellipsis else scratch[:new[b].shape[0]]   # the last block may be shorter
            lerp_(m[b], g[b], 1 - beta1, tmp)                  # m <- beta1 m + (1 - beta1) g, as torch.lerp
            v[b] *= beta2                                      # v <- beta2 v + (1 - beta2) g^2
            xp.multiply(g[b], g[b], out=tmp)
            tmp *= 1 - beta2
            v[b] += tmp
            if v_max is not None:                              # AMSGrad: the running maximum of v
                xp.maximum(v_max[b], v[b], out=v_max[b])
            xp.sqrt((v if v_max is None else v_max)[b], out=tmp)
            tmp /= root_bc2
            tmp += group["eps"]                                # sqrt(v_hat) + eps
            xp.divide(m[b], tmp, out=tmp)
            tmp *= -step_size                                  # -lr m_hat / (sqrt(v_hat) + eps)
            if shrink == 1:
                xp.add(theta[b], tmp, out=new[b])
            else:
                xp.multiply(theta[b], shrink, out=new[b])
                new[b] += tmp
        return new


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay, default $\\lambda = 10^{-2}$.

    Each step first shrinks $\\theta \\leftarrow (1 - \\eta\\lambda)\\,\\theta$, then takes the Adam step
    with the plain gradient. Arguments as ``Adam``.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
