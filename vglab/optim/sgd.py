r"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay: torch's rule.

With gradient $g_t$, learning rate $\eta$, weight decay $\lambda$, momentum $\mu$ and
dampening $\tau$ (``maximize=True`` first replaces $g_t$ by $-g_t$):

$$
\begin{aligned}
g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
b_t &= g_t \ \text{at the first step,} \quad b_t = \mu b_{t-1} + (1 - \tau)\, g_t \ \text{after it} \\
d_t &= g_t + \mu b_t \ \text{(Nesterov)} \quad\text{or}\quad d_t = b_t \\
\theta_t &= \theta_{t-1} - \eta\, d_t
\end{aligned}
$$

Without momentum $d_t = g_t$: plain SGD (Robbins & Monro 1951). The momentum buffer starts
as $g_1$ itself, not $(1 - \tau) g_1$, as in PyTorch (Sutskever et al. 2013 write the same
method with the learning rate inside the buffer; for a constant $\eta$ the two agree).
"""

from __future__ import annotations

from .._checks import check_number
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch's rule).

    Args:
        params: parameters or parameter groups.
        lr: learning rate $\eta$ (torch's default 1e-3), a number or a schedule ``lr(k)``.
        momentum: $\mu \ge 0$; 0 is plain SGD.
        dampening: $\tau$, scales the new gradient in the buffer after the first step.
        weight_decay: $\lambda \ge 0$, adds $\lambda\theta$ to the gradient (L2 penalty $\frac\lambda2\|\theta\|^2$).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
    """

    def __init__(self, params, lr=1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        check_number("SGD", "momentum", group["momentum"], low=0)
        check_number("SGD", "weight_decay", group["weight_decay"], low=0)
        check_number("SGD", "dampening", group["dampening"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD with nesterov=True expected momentum > 0 and dampening = 0, "
                             f"got momentum={group['momentum']}, dampening={group['dampening']}")

    def _update(self, theta, g, state, group):
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * theta
        mu = group["momentum"]
        if mu:
            buf = state.get("momentum_buffer")
            buf = g * 1.0 if buf is None else mu * buf + (1 - group["dampening"]) * g   # a copy of g first
            state["momentum_buffer"] = buf
            g = g + mu * buf if group["nesterov"] else buf
        return theta - group["lr"] * g
