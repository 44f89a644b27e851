r"""The base class of every optimiser: parameter groups, state, schedules, state dicts.

An optimiser reads each parameter's ``p.grad`` and replaces ``p.data`` by the updated
array (never in place: a copy of the weights taken before the step still holds them). Its own
state (Adam's moments) may change in place; ``state_dict`` returns copies, so a saved state
dict cannot change behind your back. Subclasses
define only ``_update(theta, g, state, group) -> new theta`` for one parameter and
``_check_group(group)`` for their hyper-parameters.

The learning rate ``lr`` is a number or a schedule: a callable ``lr(k)`` where ``k``
counts completed ``step()`` calls, so step ``k`` uses ``lr(k)``, exactly as torch's
``opt.step(); sched.step()`` loop. The current value is always in ``group["lr"]`` (a
float, as in torch) and the schedule in ``group["lr_schedule"]``.
"""

from __future__ import annotations

import copy

from .. import backend
from .._checks import alike, check_array, check_number, same_backend

__all__ = ["Optimizer", "lerp", "lerp_", "blocks"]


def lerp(a, b, weight: float):
    """$a + w (b - a)$, evaluated as ``torch.lerp`` does (the form depends on whether $w < 1/2$)."""
    if weight < 0.5:
        return a + weight * (b - a)
    return b - (b - a) * (1 - weight)


def lerp_(a, b, weight: float, tmp):
    """``lerp`` written into ``a`` (same rounding), using the scratch array ``tmp`` of ``a``'s shape."""
    xp = backend.namespace(a)
    xp.subtract(b, a, out=tmp)                        # b - a
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(b, tmp, out=a)
    return a


#: elements per block in ``blocks``: the half-dozen arrays of an Adam block (128 KB each in float32) fit in L2
BLOCK = 32768


def blocks(a):
    """Slices of a NumPy array ``a`` along its first axis, each about ``BLOCK`` elements (``[...]`` if 0-d).

    An element-wise update of NumPy arrays makes one pass over memory per operation (a dozen for
    Adam); done block by block, every block stays in the cache across its passes, which made Adam
    over 1M float32 parameters 2.5x faster here. (Torch fuses several operations per pass instead.)
    """
    if a.ndim == 0:
        return [Ellipsis]
    row = a.size // max(1, a.shape[0])                  # elements per index of the first axis
    rows = max(1, BLOCK // max(1, row))
    return [slice(i, i + rows) for i in range(0, a.shape[0], rows)]


class Optimizer:
    """Parameter groups, per-parameter state, learning-rate schedules, ``zero_grad``, state dicts.

    Args:
        params: an iterable of ``Parameter``s, or of dicts ``{"params": [...], "lr": ..., ...}``
            (parameter groups, each with its own hyper-parameters; missing ones come from
            ``defaults``).
        defaults: the optimiser's hyper-parameters, by name.
    """

    #: hyper-parameters that must be True or False
    flags = ("maximize", "nesterov", "amsgrad", "centered", "decoupled_weight_decay")

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
        self._check_unique(group["params"])
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        if callable(group["lr"]):
            group["lr_schedule"] = group["lr"]
            group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)
        else:
            group.setdefault("lr_schedule", None)
        self._check_group(group)
        self.param_groups.append(group)

    def _check_unique(self, new_params: list) -> None:
        """Each parameter at most once: updating one twice per step is a silent error (torch refuses too)."""
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(new_params):
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__} got the same parameter twice (shape {tuple(p.shape)}, "
                                 f"position {i} of its group): it would be updated twice per step; pass "
                                 "model.parameters(), which lists a shared parameter once")
            seen.add(id(p))

    def _lr_value(self, schedule, k: int) -> float:
        value = float(schedule(k))
        return check_number(type(self).__name__, f"lr (the schedule's value at step {k})", value, low=0)

    def _check_group(self, group: dict) -> None:
        owner = type(self).__name__
        check_number(owner, "lr", group["lr"], low=0)
        for name in self.flags:
            if name in group and not isinstance(group[name], bool):
                raise TypeError(f"{owner} expected {name} to be True or False, got {group[name]!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.zero_grad(set_to_none)

    def step(self) -> None:
        """One update of every parameter that has a gradient."""
        owner = type(self).__name__
        for group in self.param_groups:
            if group["lr_schedule"] is not None:
                group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._check_gradient(owner, p)
                state = self.state.setdefault(p, {})
                p.data = self._update(p.data, p.grad, state, group)
        self.steps_done += 1
        for group in self.param_groups:
            if group["lr_schedule"] is not None:
                group["lr"] = self._lr_value(group["lr_schedule"], self.steps_done)

    @staticmethod
    def _check_gradient(owner: str, p) -> None:
        """The gradient must match its parameter in backend, device, shape and dtype.

        The comparisons are cheap; the full checks (with their messages) run only on a mismatch.
        """
        g, theta = p.grad, p.data
        if not alike(g, theta):
            same_backend(owner, parameter=theta, gradient=g)
            check_array(owner, "the gradient", g, shape=p.shape, dtype=p.dtype,
                        dtype_source="the parameter's dtype")

    def _update(self, theta, g, state: dict, group: dict):
        """The new value of one parameter ``theta`` with gradient ``g`` (same shape)."""
        raise NotImplementedError

    def state_dict(self) -> dict:
        """Like torch's: parameters referred to by their index across groups."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(p, len(index)) for p in group["params"]]
            groups.append(packed)
        state = {index[p]: copy.deepcopy(s) for p, s in self.state.items()}  # copies: the state changes in place
        return {"state": state, "param_groups": groups, "steps_done": self.steps_done}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyper-parameters, schedules, state and the step count saved by ``state_dict``."""
        owner = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{owner}.load_state_dict expected {len(self.param_groups)} "
                             f"parameter groups, got {len(saved_groups)}")
        for i, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{owner}.load_state_dict expected {len(group['params'])} parameters "
                                 f"in parameter group {i}, got {len(saved['params'])}")
        loaded = []
        for group, saved in zip(self.param_groups, saved_groups):
            candidate = {**group, **{k: v for k, v in saved.items() if k != "params"}}
            self._check_group(candidate)  # a saved group is checked like a new one (e.g. lr >= 0)
            loaded.append(candidate)
        params = [p for g in self.param_groups for p in g["params"]]
        for group, candidate in zip(self.param_groups, loaded):
            group.update(candidate)
        self.state = {params[i]: copy.deepcopy(s) for i, s in state_dict["state"].items()}
        self.steps_done = state_dict.get("steps_done", 0)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"
