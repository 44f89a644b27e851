r"""Batch normalisation (Ioffe & Szegedy 2015), torch's ``nn.BatchNorm1d`` and ``nn.BatchNorm2d``.

Per channel $c$, over the $m$ values of the batch in that channel (all of N, L or N, H, W):

$$
\mu_c = \frac1m \sum x, \quad \sigma_c^2 = \frac1m \sum (x - \mu_c)^2, \quad
\hat x = \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}, \quad y = \gamma_c \hat x + \beta_c .
$$

Training mode normalises with the batch statistics and updates the running estimates
$r \leftarrow (1 - \text{momentum})\, r + \text{momentum}\cdot s$, using the *unbiased* variance
$\frac{m}{m-1}\sigma_c^2$ for ``running_var`` (``momentum=None``: the cumulative average,
momentum $1/k$ at the $k$-th batch). Evaluation mode normalises with the running estimates, so
the layer is a fixed affine map; with ``track_running_stats=False`` it always uses the batch.

Backward in training mode, with $\delta = \partial L/\partial y$ and means over the channel's
$m$ values (the mean and variance depend on every $x$, hence the two correction terms):

$$
\frac{\partial L}{\partial x} = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}
\Big(\delta - \overline{\delta} - \hat x\, \overline{\delta \hat x}\Big), \quad
\frac{\partial L}{\partial \gamma_c} = \sum \delta \hat x, \quad
\frac{\partial L}{\partial \beta_c} = \sum \delta .
$$

In evaluation mode the correction terms vanish: $\partial L/\partial x = \gamma_c \delta / \sqrt{r_\text{var} + \epsilon}$.

The layer keeps the centred input $x - \mu_c$ for backward, never $\hat x$ itself: every
factor that multiplies $\hat x = (x - \mu_c)/\sqrt{\sigma_c^2 + \epsilon}$ is a per-channel number, so it
is folded into the (C,) factors first, and $y = \frac{\gamma_c}{\sqrt{\sigma_c^2 + \epsilon}}(x - \mu_c) + \beta_c$
costs two passes over the batch instead of three.

Shapes: ``weight`` $\gamma$ and ``bias`` $\beta$ (C,), starting at 1 and 0; buffers
``running_mean`` (C,), ``running_var`` (C,), ``num_batches_tracked`` () int64, so
``state_dict()`` has torch's keys. Input (N, C) or (N, C, L) for ``BatchNorm1d``,
(N, C, H, W) for ``BatchNorm2d``; output the same shape.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_array, check_number, fmt_shape, same_backend
from ._windows import channel_dot
from .linear import check_input
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


def _channel_sum(a):
    r"""$\sum_{n, \ldots} a_{n,c,\ldots}$ per channel of (N, C, *): a matrix-vector product, faster than ``sum``."""
    xp = backend.namespace(a)
    n, c = a.shape[:2]
    ones = xp.ones(n, dtype=a.dtype, device=backend.device_of(a))               # (N,)
    sums = ones @ xp.reshape(a, (n, -1))                                        # (C*L,), L the positions per channel
    return sums if a.ndim == 2 else xp.sum(xp.reshape(sums, (c, -1)), axis=-1)  # (C,)


class _BNCache(NamedTuple):
    xc: object            # (N, C, *) the centred input x - mean; xhat = xc * inv_std is never stored
    inv_std: object       # (C,) 1/sqrt(var + eps)
    batch_stats: bool     # normalised with the batch's statistics (else the running ones)


class _BatchNorm(Module):
    """Shared by ``BatchNorm1d`` and ``BatchNorm2d``; they differ only in the input shapes they accept."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, *, bias: bool = True):
        super().__init__()
        owner = type(self).__name__
        check_number(owner, "num_features", num_features, low=1, integer=True)
        check_number(owner, "eps", eps, low=0, low_open=True)
        if momentum is not None:
            check_number(owner, "momentum", momentum, low=0, high=1)
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self._bias = bool(affine and bias)  # torch reports bias=False when affine=False
        c = self.num_features
        self.weight = Parameter(backend.ones(c)) if affine else None   # (C,) gamma
        self.bias = Parameter(backend.zeros(c)) if affine and bias else None  # (C,) beta
        if self.track_running_stats:
            self.register_buffer("running_mean", backend.zeros(c))     # (C,)
            self.register_buffer("running_var", backend.ones(c))       # (C,)
            self.register_buffer("num_batches_tracked", backend.asarray(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self):
        if self.track_running_stats:
            like = self.running_mean
            self.register_buffer("running_mean", backend.zeros(self.num_features, like=like))
            self.register_buffer("running_var", backend.ones(self.num_features, like=like))
            self.register_buffer("num_batches_tracked", backend.asarray(np.array(0, dtype=np.int64), like=like))

    def _check(self, x):
        raise NotImplementedError

    def _check_input(self, x, shape):
        check_input(self, "x", x, shape=shape)
        if not self.affine and self.track_running_stats:
            same_backend(type(self).__name__, x=x, running_mean=self.running_mean)
            check_array(type(self).__name__, "x", x, dtype=self.running_mean.dtype,
                        dtype_source="the running statistics' dtype")

    def forward(self, x):
        owner = type(self).__name__
        self._check(x)
        xp = backend.namespace(x)
        stat_shape = (1, self.num_features) + (1,) * (x.ndim - 2)     # (1, C, 1, ...): broadcasts against x
        batch_stats = self.training or not self.track_running_stats
        if batch_stats:
            m = math.prod(x.shape) // self.num_features
            if m <= 1:
                raise ValueError(f"{owner} expected more than 1 value per channel when training, "
                                 f"got x of shape {fmt_shape(x.shape)}")
            mean = _channel_sum(x) / m                                 # (C,)
            xc = x - xp.reshape(mean, stat_shape)                      # (N, C, *) centred
            var = channel_dot(xc, xc) / m                              # (C,) biased
            if self.training and self.track_running_stats:
                self._update_running_stats(mean, var * (m / (m - 1)))
        else:
            xc = x - xp.reshape(self.running_mean, stat_shape)
            var = self.running_var
        inv_std = 1.0 / xp.sqrt(var + self.eps)                        # (C,)
        self._cache = _BNCache(xc, inv_std, batch_stats)
        # y = gamma * xhat + beta = (gamma * inv_std) * xc + beta: the (C,) factors first, one pass less
        scale = inv_std * self.weight.data if self.affine else inv_std  # (C,)
        y = xc * xp.reshape(scale, stat_shape)                         # (N, C, *)
        if self.bias is not None:
            y += xp.reshape(self.bias.data, stat_shape)
        return y

    def _update_running_stats(self, mean, unbiased_var):
        self.num_batches_tracked += 1                                  # () int64, in place as torch
        factor = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
        self.register_buffer("running_mean", (1 - factor) * self.running_mean + factor * mean)
        self.register_buffer("running_var", (1 - factor) * self.running_var + factor * unbiased_var)

    def backward(self, grad_output):
        xc, inv_std, batch_stats = self._cache
        self._check_grad(grad_output, xc)
        xp = backend.namespace(grad_output)
        dy = grad_output                                               # (N, C, *)
        stat_shape = (1, self.num_features) + (1,) * (dy.ndim - 2)     # (1, C, 1, ...)
        sum_dy = _channel_sum(dy)                                      # (C,)
        sum_dy_xhat = channel_dot(dy, xc) * inv_std                    # (C,), as xhat = xc * inv_std
        if self.bias is not None:
            self.bias.accumulate(sum_dy)
        if self.affine:
            self.weight.accumulate(sum_dy_xhat)
        scale = inv_std * self.weight.data if self.affine else inv_std  # (C,) gamma / sqrt(var + eps)
        if not batch_stats:
            return dy * xp.reshape(scale, stat_shape)
        m = math.prod(dy.shape) // self.num_features
        # scale * (dy - mean(dy) - xhat * mean(dy * xhat)), xhat = xc * inv_std, the (C,) factors folded first
        dx = xc * xp.reshape(-scale * inv_std * (sum_dy_xhat / m), stat_shape)
        dx += xp.reshape(-scale * (sum_dy / m), stat_shape)
        dx += dy * xp.reshape(scale, stat_shape)
        return dx                                                      # (N, C, *)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self._bias}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) features or (N, C, L) sequences, per channel C."""

    def _check(self, x):
        c = self.num_features
        want = (None, c, None) if getattr(x, "ndim", None) == 3 else (None, c)
        try:
            self._check_input(x, want)
        except ValueError:
            hint = "; for (N, C, H, W) input use BatchNorm2d" if x.ndim == 4 else ""
            raise ValueError(f"BatchNorm1d expected x of shape {fmt_shape((None, c))} or "
                             f"{fmt_shape((None, c, None))}, got {fmt_shape(x.shape)}{hint}") from None


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C (statistics over N, H, W)."""

    def _check(self, x):
        try:
            self._check_input(x, (None, self.num_features, None, None))
        except ValueError as err:
            hint = "; for (N, C) or (N, C, L) input use BatchNorm1d" if x.ndim in (2, 3) else ""
            raise ValueError(f"{err}{hint}") from None
