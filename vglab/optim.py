r"""Optimisers with ``torch.optim``'s names, defaults and update rules, step for step.

Every optimiser reads ``p.grad`` and updates ``p.data``. The learning rate ``lr`` is a
number or a schedule: a callable ``lr(k)`` where ``k`` counts completed ``step()``
calls, so step ``k`` uses ``lr(k)``, exactly as torch's ``opt.step(); sched.step()``
loop. The current value is always in ``group["lr"]`` (a float, as in torch) and the
schedule in ``group["lr_schedule"]``.

Update rules (g the gradient, $\eta$ the learning rate, t = 1, 2, ... the step):

* ``SGD``: $g \leftarrow g + \lambda\theta$; with momentum $\mu$: $b \leftarrow g$ at the
  first step, then $b \leftarrow \mu b + (1 - \tau) g$; Nesterov uses $g + \mu b$,
  otherwise $b$; $\theta \leftarrow \theta - \eta\,(\cdot)$.
* ``Adam`` (Kingma & Ba 2015): $m \leftarrow \beta_1 m + (1-\beta_1) g$,
  $v \leftarrow \beta_2 v + (1-\beta_2) g^2$,
  $\theta \leftarrow \theta - \frac{\eta}{1-\beta_1^t}\,\frac{m}{\sqrt{v}/\sqrt{1-\beta_2^t} + \epsilon}$
  (torch's placement of $\epsilon$: after the bias correction of $\sqrt v$).
"""

from __future__ import annotations

import copy

from . import backend
from ._checks import check_number, same_backend

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Parameter groups, per-parameter state, learning-rate schedules, ``zero_grad``, state dicts."""

    def __init__(self, params, defaults: dict):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        self.defaults = defaults
        self.param_groups: list[dict] = []
        self.state: dict = {}        # Parameter -> dict of arrays and step counts
        self.steps_done = 0          # completed step() calls: the k of lr(k)
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if not isinstance(params, (list, tuple)) else list(params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        if callable(group["lr"]):
            group["lr_schedule"] = group["lr"]
            group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)
        else:
            group.setdefault("lr_schedule", None)
        self._check_group(group)
        self.param_groups.append(group)

    def _lr_value(self, schedule, k: int) -> float:
        value = float(schedule(k))
        return check_number(type(self).__name__, f"lr (the schedule's value at step {k})", value, low=0)

    def _check_group(self, group: dict) -> None:
        check_number(type(self).__name__, "lr", group["lr"], low=0)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none or p.grad is None else p.grad * 0

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        for group in self.param_groups:
            if group["lr_schedule"] is not None:
                group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)
            for p in group["params"]:
                if p.grad is None:
                    continue
                same_backend(type(self).__name__, parameter=p.data, gradient=p.grad)
                state = self.state.setdefault(p, {})
                p.data = self._update(p.data, p.grad, state, group)
        self.steps_done += 1
        for group in self.param_groups:
            if group["lr_schedule"] is not None:
                group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)

    def _update(self, theta, g, state: dict, group: dict):
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Like torch's: parameters referred to by their index across groups."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(p, len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[p]: copy.copy(s) for p, s in self.state.items()}
        return {"state": state, "param_groups": groups, "steps_done": self.steps_done}

    def load_state_dict(self, state_dict: dict) -> None:
        params = [p for g in self.param_groups for p in g["params"]]
        if len(state_dict["param_groups"]) != len(self.param_groups):
            raise ValueError(f"{type(self).__name__}.load_state_dict expected {len(self.param_groups)} "
                             f"parameter groups, got {len(state_dict['param_groups'])}")
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {params[i]: copy.copy(s) for i, s in state_dict["state"].items()}
        self.steps_done = state_dict.get("steps_done", 0)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (torch's rule)."""

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
            buf = g if buf is None else mu * buf + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buf
            g = g + mu * buf if group["nesterov"] else buf
        return theta - group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with torch's defaults and eps placement; optional AMSGrad."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check_group(self, group):
        super()._check_group(group)
        if len(group["betas"]) != 2:
            raise ValueError(f"Adam expected betas to be a pair (beta1, beta2), got {group['betas']!r}")
        check_number("Adam", "betas[0]", group["betas"][0], low=0, high=1, high_open=True)
        check_number("Adam", "betas[1]", group["betas"][1], low=0, high=1, high_open=True)
        check_number("Adam", "eps", group["eps"], low=0)
        check_number("Adam", "weight_decay", group["weight_decay"], low=0)

    def _update(self, theta, g, state, group):
        xp = backend.namespace(theta)
        beta1, beta2 = group["betas"]
        if group["maximize"]:
            g = -g
        if group["weight_decay"]:
            g = g + group["weight_decay"] * theta
        if not state:
            state.update(step=0, exp_avg=xp.zeros_like(theta), exp_avg_sq=xp.zeros_like(theta))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(theta)
        state["step"] += 1
        t = state["step"]
        m = state["exp_avg"] = state["exp_avg"] + (1 - beta1) * (g - state["exp_avg"])   # torch's lerp
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)
        step_size = group["lr"] / (1 - beta1 ** t)
        denom = xp.sqrt(v) / (1 - beta2 ** t) ** 0.5 + group["eps"]
        return theta - step_size * m / denom
