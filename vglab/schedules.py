r"""Learning-rate schedules: immutable callables ``lr(k)``, with ``k`` the completed optimiser steps.

    opt = vg.optim.SGD(model.parameters(), lr=vg.schedules.cosine_decay(0.1, total_steps=1000))

Step ``k`` of an optimiser (``k = 0, 1, ...``) uses ``lr(k)``: exactly the rate torch's
``opt.step(); sched.step()`` loop uses. Each factory returns a frozen dataclass, so a
schedule has a readable repr, compares by value and cannot be changed by accident. The
formulas below are closed forms; PyTorch computes most of its schedulers recursively
(multiplying the previous rate by a factor), so the two agree to rounding, not bit for bit.

* ``step_decay(lr0, step_size, gamma)``: $\eta_0\,\gamma^{\lfloor k/s \rfloor}$; ``StepLR``.
* ``exponential_decay(lr0, gamma, decay_steps=1)``: $\eta_0\,\gamma^{k/T}$; ``ExponentialLR`` ($T = 1$).
* ``polynomial_decay(lr0, total_steps, power, end_lr)``:
  $(\eta_0 - \eta_T)(1 - \min(k,T)/T)^p + \eta_T$; ``PolynomialLR`` ($\eta_T = 0$).
* ``inverse_time_decay(lr0, decay_steps, decay_rate)``: $\eta_0 / (1 + r k / T)$; ``LambdaLR``.
* ``linear_decay(lr0, total_steps, start_factor, end_factor)``: $\eta_0\,(a + (b - a)\min(k,T)/T)$;
  ``LinearLR``.
* ``cosine_decay(lr0, total_steps, eta_min)``:
  $\eta_\min + \tfrac12(\eta_0 - \eta_\min)(1 + \cos(\pi \min(k,T)/T))$; ``CosineAnnealingLR`` ($k \le T$).
* ``one_cycle(max_lr, total_steps, ...)``: up to ``max_lr``, then down to ``max_lr / (div * final_div)``;
  ``OneCycleLR`` without momentum cycling.
* ``warmup(schedule, warmup_steps, start_factor)``: $\eta(k)\,(a + (1 - a)\min(k,W)/W)$; ``LambdaLR``,
  or ``ChainedScheduler`` with ``LinearLR``.

A schedule with a length (``total_steps``) holds its last value after it, rather than
continuing periodically or extrapolating: see ``CosineDecay`` and ``OneCycle`` for where
that differs from PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ._checks import check_choice, check_number

__all__ = ["Schedule", "StepDecay", "ExponentialDecay", "PolynomialDecay", "InverseTimeDecay", "LinearDecay",
           "CosineDecay", "OneCycle", "Warmup", "step_decay", "exponential_decay", "polynomial_decay",
           "inverse_time_decay", "linear_decay", "cosine_decay", "one_cycle", "warmup"]


@dataclass(frozen=True)
class Schedule:
    """Base class: ``schedule(k)`` checks that ``k`` is a step count and returns ``value(k)``."""

    #: the factory that builds this schedule: the first word of its error messages
    _factory = "schedule"

    def __call__(self, k) -> float:
        check_number(type(self).__name__, "k (the number of completed steps)", k, low=0, integer=True)
        return float(self.value(int(k)))

    def value(self, k: int) -> float:
        raise NotImplementedError

    def _check(self, name, value, **bounds):
        return check_number(self._factory, name, value, **bounds)

    def _check_lr(self, name="lr0"):
        self._check(name, getattr(self, name), low=0)

    def _check_steps(self, name="total_steps", low=1):
        self._check(name, getattr(self, name), low=low, integer=True)


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Step decay: $\eta_k = \eta_0\,\gamma^{\lfloor k / s \rfloor}$, a drop by $\gamma$ every $s$ steps.

    Piecewise constant. Equals PyTorch's ``StepLR(step_size=s, gamma)``.
    """
    lr0: float
    step_size: int
    gamma: float = 0.1
    _factory = "step_decay"

    def __post_init__(self):
        self._check_lr()
        self._check_steps("step_size")
        self._check("gamma", self.gamma, low=0, high=1, low_open=True)

    def value(self, k):
        return self.lr0 * self.gamma ** (k // self.step_size)


@dataclass(frozen=True)
class ExponentialDecay(Schedule):
    r"""Exponential decay: $\eta_k = \eta_0\,\gamma^{k / T}$, a factor $\gamma$ every $T$ steps, smoothly.

    The ratio of consecutive rates is the constant $\gamma^{1/T}$ and the rate never reaches
    0. With $T = 1$ (``decay_steps=1``, the default) it equals PyTorch's ``ExponentialLR(gamma)``;
    with $T > 1$ it is Keras's ``ExponentialDecay(initial_learning_rate, decay_steps, decay_rate)``.
    """
    lr0: float
    gamma: float
    decay_steps: float = 1
    _factory = "exponential_decay"

    def __post_init__(self):
        self._check_lr()
        self._check("gamma", self.gamma, low=0, high=1, low_open=True)
        self._check("decay_steps", self.decay_steps, low=0, low_open=True)

    def value(self, k):
        return self.lr0 * self.gamma ** (k / self.decay_steps)


@dataclass(frozen=True)
class PolynomialDecay(Schedule):
    r"""Polynomial decay: $\eta_k = (\eta_0 - \eta_T)\,(1 - \min(k, T)/T)^p + \eta_T$.

    Reaches ``end_lr`` $= \eta_T$ exactly at $k = T$ and stays there (the clamp matters: for
    $k > T$ the base $1 - k/T$ is negative). Power 1 is linear decay. With ``end_lr=0`` it
    equals PyTorch's ``PolynomialLR(total_iters=T, power=p)``; it is Keras's ``PolynomialDecay``.
    """
    lr0: float
    total_steps: int
    power: float = 1.0
    end_lr: float = 0.0
    _factory = "polynomial_decay"

    def __post_init__(self):
        self._check_lr()
        self._check_steps()
        self._check("power", self.power, low=0, low_open=True)
        self._check("end_lr", self.end_lr, low=0, high=self.lr0)

    def value(self, k):
        k = min(k, self.total_steps)
        return (self.lr0 - self.end_lr) * (1.0 - k / self.total_steps) ** self.power + self.end_lr


@dataclass(frozen=True)
class InverseTimeDecay(Schedule):
    r"""Inverse-time (hyperbolic) decay: $\eta_k = \eta_0 / (1 + r\,k / T)$.

    Falls monotonically, to $\eta_0 / 2$ at $k = T/r$ and $\eta_0 / 3$ at $2T/r$, and never
    reaches 0; $T$ (``decay_steps``) is a time constant, not the length of training. It is
    Keras's ``InverseTimeDecay``; in PyTorch, ``LambdaLR(lambda k: 1 / (1 + r * k / T))``.
    """
    lr0: float
    decay_steps: float
    decay_rate: float = 1.0
    _factory = "inverse_time_decay"

    def __post_init__(self):
        self._check_lr()
        self._check("decay_steps", self.decay_steps, low=0, low_open=True)
        self._check("decay_rate", self.decay_rate, low=0)

    def value(self, k):
        return self.lr0 / (1.0 + self.decay_rate * k / self.decay_steps)


@dataclass(frozen=True)
class LinearDecay(Schedule):
    r"""Linear decay: $\eta_k = \eta_0\,(a + (b - a)\min(k, T) / T)$, from $a\eta_0$ to $b\eta_0$ in $T$ steps.

    With the defaults $a = 1$, $b = 0$ it is $\eta_0 (1 - k/T)$: polynomial decay of power 1.
    Equals PyTorch's ``LinearLR(start_factor=a, end_factor=b, total_iters=T)`` (which needs
    $a > 0$). Both factors lie in $[0, 1]$, as in PyTorch, so $\eta_0$ is the largest rate.
    """
    lr0: float
    total_steps: int
    start_factor: float = 1.0
    end_factor: float = 0.0
    _factory = "linear_decay"

    def __post_init__(self):
        self._check_lr()
        self._check_steps()
        self._check("start_factor", self.start_factor, low=0, high=1)
        self._check("end_factor", self.end_factor, low=0, high=1)

    def value(self, k):
        a, b = self.start_factor, self.end_factor
        # (k / T) first: at k = T the factor is a + (b - a) * 1.0, exactly 0 when b = 0 (never -5e-17)
        return self.lr0 * (a + (b - a) * (min(k, self.total_steps) / self.total_steps))


@dataclass(frozen=True)
class CosineDecay(Schedule):
    r"""Cosine decay (Loshchilov & Hutter 2017): $\eta_k = \eta_\min + \tfrac12 (\eta_0 - \eta_\min)
    (1 + \cos(\pi \min(k, T) / T))$.

    Starts flat, falls fastest at $k = T/2$ and lands flat on $\eta_\min$ at $k = T$. Up to
    $k = T$ it equals PyTorch's ``CosineAnnealingLR(T_max=T, eta_min)``. After $T$ the two
    differ: this schedule stays at $\eta_\min$, while PyTorch's follows the cosine back up
    (period $2T$, back at $\eta_0$ at $k = 2T$). A restart by design is SGDR, PyTorch's
    ``CosineAnnealingWarmRestarts``.
    """
    lr0: float
    total_steps: int
    eta_min: float = 0.0
    _factory = "cosine_decay"

    def __post_init__(self):
        self._check_lr()
        self._check_steps()
        self._check("eta_min", self.eta_min, low=0, high=self.lr0)

    def value(self, k):
        k = min(k, self.total_steps)
        return self.eta_min + (self.lr0 - self.eta_min) * (1 + math.cos(math.pi * k / self.total_steps)) / 2


@dataclass(frozen=True)
class OneCycle(Schedule):
    r"""The one-cycle policy (Smith 2018; Smith & Topin 2019), PyTorch's ``OneCycleLR`` without momentum cycling.

    With $\eta_\max$ = ``max_lr``, $\eta_\text{start} = \eta_\max / d$ (``div_factor``) and
    $\eta_\text{end} = \eta_\text{start} / f$ (``final_div_factor``), the rate rises from
    $\eta_\text{start}$ to $\eta_\max$ over the first ``pct_start`` of the ``total_steps``,
    then anneals to $\eta_\text{end}$ at step ``total_steps - 1``. Within a phase from step
    $k_0$ to $k_1$ and rate $a$ to $b$, with $p = (k - k_0)/(k_1 - k_0)$:

    * ``anneal_strategy="cos"``: $\eta_k = b + \tfrac12 (a - b)(1 + \cos \pi p)$;
    * ``anneal_strategy="linear"``: $\eta_k = a + (b - a)\,p$.

    The phases end at $k_1 = \text{pct\_start} \cdot T - 1$ and $T - 1$; with ``three_phase=True``
    the rate first goes up to $\eta_\max$ and back down to $\eta_\text{start}$ symmetrically
    (ending at $2\,\text{pct\_start} \cdot T - 2$), then anneals to $\eta_\text{end}$.
    PyTorch refuses to step past ``total_steps`` and extrapolates the last phase at
    ``total_steps`` itself; this schedule holds $\eta_\text{end}$ from step ``total_steps - 1`` on.
    """
    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    anneal_strategy: str = "cos"
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    three_phase: bool = False
    _factory = "one_cycle"

    def __post_init__(self):
        self._check_lr("max_lr")
        self._check_steps()
        self._check("pct_start", self.pct_start, low=0, high=1)
        check_choice(self._factory, "anneal_strategy", self.anneal_strategy, ("cos", "linear"))
        self._check("div_factor", self.div_factor, low=0, low_open=True)
        self._check("final_div_factor", self.final_div_factor, low=0, low_open=True)
        ends = [end for end, _, _ in self._phases()]
        starts = [0.0] + ends[:-1]
        if any(end <= start for start, end in zip(starts, ends)):
            raise ValueError(f"{self._factory} expected every phase to last at least one step, got phases "
                             f"ending at steps {ends} (pct_start={self.pct_start}, total_steps="
                             f"{self.total_steps}); increase pct_start or total_steps")

    def _phases(self):
        """(last step of the phase, start rate, end rate) for each phase, as OneCycleLR computes them."""
        initial = self.max_lr / self.div_factor
        final = initial / self.final_div_factor
        warm_end = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if self.three_phase:
            return [(warm_end, initial, self.max_lr),
                    (float(2 * self.pct_start * self.total_steps) - 2, self.max_lr, initial),
                    (last, initial, final)]
        return [(warm_end, initial, self.max_lr), (last, self.max_lr, final)]

    def value(self, k):
        k = min(k, self.total_steps - 1)
        start = 0.0
        for end, a, b in self._phases():
            if k <= end:
                break
            start = end
        p = (k - start) / (end - start)
        if self.anneal_strategy == "cos":
            return b + (a - b) / 2.0 * (math.cos(math.pi * p) + 1)
        return (b - a) * p + a


@dataclass(frozen=True)
class Warmup(Schedule):
    r"""A linear warm-up in front of any schedule (Goyal et al. 2017): $\eta_k = \eta(k)\, w_k$ with
    $w_k = a + (1 - a)\min(k, W) / W$.

    The factor rises linearly from $a$ (``start_factor``) at $k = 0$ to 1 at $k = W$
    (``warmup_steps``); from then on the rate is the wrapped schedule's, on the same clock
    (the wrapped schedule is not delayed by $W$). In PyTorch: ``LambdaLR`` with the product, or
    ``ChainedScheduler([LinearLR(start_factor=a, total_iters=W), ...])`` for $a > 0$.
    """
    schedule: Callable
    warmup_steps: int
    start_factor: float = 0.0
    _factory = "warmup"

    def __post_init__(self):
        if not callable(self.schedule):
            raise TypeError(f"warmup expected schedule to be a schedule (a callable lr(k)), "
                            f"got {type(self.schedule).__name__}")
        self._check_steps("warmup_steps", low=0)
        self._check("start_factor", self.start_factor, low=0, high=1)

    def value(self, k):
        lr = float(self.schedule(k))
        if k >= self.warmup_steps:
            return lr
        return lr * (self.start_factor + (1.0 - self.start_factor) * k / self.warmup_steps)


def step_decay(lr0: float, step_size: int, gamma: float = 0.1) -> StepDecay:
    r"""$\eta_k = \eta_0\,\gamma^{\lfloor k / s \rfloor}$: PyTorch's ``StepLR``. See ``StepDecay``."""
    return StepDecay(lr0, step_size, gamma)


def exponential_decay(lr0: float, gamma: float, decay_steps: float = 1) -> ExponentialDecay:
    r"""$\eta_k = \eta_0\,\gamma^{k/T}$: PyTorch's ``ExponentialLR`` for $T = 1$. See ``ExponentialDecay``."""
    return ExponentialDecay(lr0, gamma, decay_steps)


def polynomial_decay(lr0: float, total_steps: int, power: float = 1.0, end_lr: float = 0.0) -> PolynomialDecay:
    r"""$\eta_k = (\eta_0 - \eta_T)(1 - \min(k,T)/T)^p + \eta_T$: PyTorch's ``PolynomialLR``.

    See ``PolynomialDecay``.
    """
    return PolynomialDecay(lr0, total_steps, power, end_lr)


def inverse_time_decay(lr0: float, decay_steps: float, decay_rate: float = 1.0) -> InverseTimeDecay:
    r"""$\eta_k = \eta_0 / (1 + r k / T)$: Keras's ``InverseTimeDecay``. See ``InverseTimeDecay``."""
    return InverseTimeDecay(lr0, decay_steps, decay_rate)


def linear_decay(lr0: float, total_steps: int, start_factor: float = 1.0, end_factor: float = 0.0) -> LinearDecay:
    r"""$\eta_k = \eta_0 (a + (b - a)\min(k,T)/T)$: PyTorch's ``LinearLR``. See ``LinearDecay``."""
    return LinearDecay(lr0, total_steps, start_factor, end_factor)


def cosine_decay(lr0: float, total_steps: int, eta_min: float = 0.0) -> CosineDecay:
    r"""$\eta_\min + \frac12(\eta_0 - \eta_\min)(1 + \cos(\pi \min(k,T)/T))$: PyTorch's ``CosineAnnealingLR``
    up to $T$, then held at $\eta_\min$. See ``CosineDecay``."""
    return CosineDecay(lr0, total_steps, eta_min)


def one_cycle(max_lr: float, total_steps: int, pct_start: float = 0.3, anneal_strategy: str = "cos",
              div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False) -> OneCycle:
    """The one-cycle policy: PyTorch's ``OneCycleLR`` with ``cycle_momentum=False``. See ``OneCycle``."""
    return OneCycle(max_lr, total_steps, pct_start, anneal_strategy, div_factor, final_div_factor, three_phase)


def warmup(schedule, warmup_steps: int, start_factor: float = 0.0) -> Warmup:
    r"""``schedule`` times a linear warm-up factor from ``start_factor`` to 1 over ``warmup_steps``. See ``Warmup``."""
    return Warmup(schedule, warmup_steps, start_factor)
