r"""Leaky rectifiers: ReLU with a slope $a$ for $z \le 0$, fixed (``LeakyReLU``) or learned (``PReLU``).

$$
f(z) = \begin{cases} z & z > 0 \\ a z & z \le 0 \end{cases},
\qquad
f'(z) = \begin{cases} 1 & z > 0 \\ a & z \le 0 \end{cases}
$$

The slope keeps a unit whose input is negative for every example from going silent:
ReLU's derivative there is exactly 0, so such a *dead* unit never learns again. It does
nothing for a gradient that is small for other reasons (small weights, depth): the
derivative is still 1 on the positive side and $a < 1$ on the negative one
(Maas, Hannun & Ng 2013; He et al. 2015). As torch, the derivative at exactly 0 is $a$.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_array, check_number, fmt_shape
from .linear import check_input
from .module import Module, Parameter

__all__ = ["LeakyReLU", "PReLU"]


class _InputCache(NamedTuple):
    z: object


class LeakyReLU(Module):
    """$z$ for $z > 0$, else $a z$ with a fixed ``negative_slope`` $a$ (default 0.01)."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = check_number("LeakyReLU", "negative_slope", negative_slope)

    def forward(self, z):
        check_array("LeakyReLU", "z", z)
        self._cache = _InputCache(z)
        return backend.namespace(z).where(z > 0, z, self.negative_slope * z)

    def backward(self, grad_output):
        z = self._cache.z
        self._check_grad(grad_output, z)
        return backend.namespace(z).where(z > 0, grad_output, self.negative_slope * grad_output)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class _PReLUCache(NamedTuple):
    z: object       # the input, (N, C, *)
    slope: object   # the weight shaped to broadcast against z: (1, C, 1, ...)


class PReLU(Module):
    r"""$z$ for $z > 0$, else $a_c z$, with a learned slope per channel (He et al. 2015).

    ``weight`` has shape (num_parameters,) and starts at ``init``. With one parameter the
    slope is shared by every entry; with C parameters, entry ``z[n, c, ...]`` uses
    ``weight[c]`` (channels on dimension 1, as torch). Backward:
    $\partial L/\partial a_c = \sum_{z \le 0,\ \text{channel } c} \delta \cdot z$.

    Shapes: input ``(N, C, *)`` (any shape when num_parameters = 1), output the same.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25):
        super().__init__()
        check_number("PReLU", "num_parameters", num_parameters, low=1, integer=True)
        check_number("PReLU", "init", init)
        self.num_parameters = int(num_parameters)
        self.weight = Parameter(backend.asarray(np.full(self.num_parameters, float(init))))   # (C,)

    def _slope_shape(self, z) -> tuple:
        shape = [1] * z.ndim
        if self.num_parameters > 1:
            if z.ndim < 2 or z.shape[1] != self.num_parameters:
                raise ValueError(f"PReLU expected z of shape (N, {self.num_parameters}, *) (num_parameters="
                                 f"{self.num_parameters} slopes, one per channel on dimension 1), "
                                 f"got {fmt_shape(z.shape)}")
            shape[1] = self.num_parameters
        return tuple(shape)

    def forward(self, z):
        check_input(self, "z", z)
        xp = backend.namespace(z)
        slope = xp.reshape(self.weight.data, self._slope_shape(z))   # (1, C, 1, ...)
        self._cache = _PReLUCache(z, slope)
        return xp.where(z > 0, z, slope * z)

    def backward(self, grad_output):
        z, slope = self._cache
        self._check_grad(grad_output, z)
        xp = backend.namespace(z)
        negative = xp.where(z > 0, xp.zeros_like(z), z * grad_output)    # dL/da, entry by entry
        if self.num_parameters > 1:
            axes = tuple(i for i in range(z.ndim) if i != 1)
            self.weight.accumulate(xp.sum(negative, axis=axes))           # (C,)
        else:
            self.weight.accumulate(xp.reshape(xp.sum(negative), (1,)))    # (1,)
        return xp.where(z > 0, grad_output, slope * grad_output)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
