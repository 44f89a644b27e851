r"""The 2-D convolution (cross-correlation, as in every deep-learning library), torch's ``nn.Conv2d``.

$$
y_{n,o,i,j} = b_o + \sum_{c,a,b} W_{o,c,a,b}\; x^\text{pad}_{n,\,c,\; s_H i + d_H a,\; s_W j + d_W b}
$$

*im2col*: every window of the padded input becomes one row of a matrix
$X_\text{col}$ (N·H_out·W_out, C·k_H·k_W), so the convolution is one matrix product
$Y = X_\text{col} W_\text{col}^\top + b$ with $W_\text{col}$ = ``weight`` reshaped to
(C_out, C·k_H·k_W). Backward, with $\delta = \partial L/\partial Y$ (N·H_out·W_out, C_out):

* $\partial L/\partial W_\text{col} = \delta^\top X_\text{col}$ (one GEMM),
  $\partial L/\partial b = \sum \delta$;
* $\partial L/\partial X_\text{col} = \delta W_\text{col}$, scattered back onto the input by
  *col2im* (``_windows.windows_adjoint``: one strided add per kernel offset).

With ``groups`` $g$, channels split into $g$ independent convolutions (C/g inputs to C_out/g
outputs each): the same products, batched over groups.

Shapes: input (N, C_in, H, W) or unbatched (C_in, H, W); ``weight`` (C_out, C_in/groups, kH, kW);
``bias`` (C_out,); output (N, C_out, H_out, W_out). Default initialisation as torch's:
``kaiming_uniform_(a=sqrt(5))`` and $b \sim U(-1/\sqrt{\text{fan}_\text{in}}, 1/\sqrt{\text{fan}_\text{in}})$
with $\text{fan}_\text{in} = (C_\text{in}/g)\,k_H k_W$ (LeCun et al. 1998 for convolutional networks).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from .. import backend, init
from .._checks import check_array, check_choice, check_number, same_backend
from ._windows import Geometry, geometry, pad, pair, unpad, windows, windows_adjoint
from .linear import check_input
from .module import Module, Parameter

__all__ = ["Conv2d"]


class _ConvCache(NamedTuple):
    cols: object         # (g, N*Ho*Wo, C/g*kH*kW): the im2col matrix, one per group
    x_shape: tuple       # (N, C, H, W) of the (batched) input
    padded_shape: tuple  # (N, C, Hp, Wp)
    geo: Geometry
    unbatched: bool      # the input was (C, H, W)


class Conv2d(Module):
    """2-D convolution by im2col with torch's arguments, weight layout and initialisation."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros"):
        super().__init__()
        name = "Conv2d"
        check_number(name, "in_channels", in_channels, low=1, integer=True)
        check_number(name, "out_channels", out_channels, low=1, integer=True)
        check_number(name, "groups", groups, low=1, integer=True)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"Conv2d expected in_channels and out_channels divisible by groups={groups}, "
                             f"got {in_channels} and {out_channels}")
        if padding_mode != "zeros":
            check_choice(name, "padding_mode", padding_mode, ("zeros", "reflect", "replicate", "circular"))
            raise NotImplementedError(f"Conv2d: padding_mode={padding_mode!r} is not supported by vglab "
                                      "(only 'zeros')")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = pair(name, "kernel_size", kernel_size)
        self.stride = pair(name, "stride", stride)
        self.dilation = pair(name, "dilation", dilation)
        self.padding_mode = padding_mode
        if isinstance(padding, str):
            check_choice(name, "padding", padding, ("same", "valid"))
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d expected stride 1 with padding='same' (torch refuses strided "
                                 f"'same' convolutions too), got stride {self.stride}")
            self.padding = padding
        else:
            self.padding = pair(name, "padding", padding, low=0)
        self._pad = self._pad_amounts()
        kh, kw = self.kernel_size
        self.weight = Parameter(backend.zeros(out_channels, in_channels // groups, kh, kw))  # (C_out, C_in/g, kH, kW)
        self.bias = Parameter(backend.zeros(out_channels)) if bias else None                 # (C_out,)
        self.reset_parameters()

    def _pad_amounts(self) -> tuple:
        """(top, bottom, left, right); 'same' puts the odd pixel at the bottom/right, as torch."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            amounts = []
            for k, d in zip(self.kernel_size, self.dilation):
                total = d * (k - 1)
                amounts += [total // 2, total - total // 2]
            return tuple(amounts)
        ph, pw = self.padding
        return (ph, ph, pw, pw)

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight.shape)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        check_input(self, "x", x, ndim=(3, 4))
        check_array("Conv2d", "x", x, shape=(None,) * (x.ndim - 3) + (self.in_channels, None, None))
        geo = geometry("Conv2d", "x", tuple(x.shape), self.kernel_size, self.stride, self.dilation, self._pad)
        unbatched = x.ndim == 3
        if unbatched:
            x = x[None]                                                   # (1, C, H, W)
        xp = backend.namespace(x)
        n, g = x.shape[0], self.groups
        (ho, wo), (kh, kw) = geo.out, geo.kernel
        xpad = pad(x, geo.padding)                                        # (N, C, Hp, Wp)
        win = windows(xpad, geo)                                          # (N, C, Ho, Wo, kH, kW), a view
        win = xp.reshape(win, (n, g, self.in_channels // g, ho, wo, kh, kw))
        cols = xp.reshape(xp.permute_dims(win, (1, 0, 3, 4, 2, 5, 6)),
                          (g, n * ho * wo, -1))                           # (g, N*Ho*Wo, C/g*kH*kW), a copy
        w = xp.reshape(self.weight.data, (g, self.out_channels // g, -1))  # (g, C_out/g, C/g*kH*kW)
        y = cols @ xp.permute_dims(w, (0, 2, 1))                          # (g, N*Ho*Wo, C_out/g)
        if self.bias is not None:
            y = y + xp.reshape(self.bias.data, (g, 1, -1))
        y = xp.reshape(y, (g, n, ho, wo, -1))
        y = xp.reshape(xp.permute_dims(y, (1, 0, 4, 2, 3)), (n, self.out_channels, ho, wo))  # (N, C_out, Ho, Wo)
        self._cache = _ConvCache(cols, tuple(x.shape), tuple(xpad.shape), geo, unbatched)
        return y[0] if unbatched else y

    def backward(self, grad_output):
        cols, x_shape, padded_shape, geo, unbatched = self._cache
        n, (ho, wo), g = x_shape[0], geo.out, self.groups
        out_shape = (self.out_channels, ho, wo) if unbatched else (n, self.out_channels, ho, wo)
        check_array("Conv2d.backward", "grad_output", grad_output, shape=out_shape, dtype=cols.dtype)
        same_backend("Conv2d.backward", grad_output=grad_output, x=cols)
        xp = backend.namespace(grad_output)
        dy = xp.reshape(grad_output, (n, g, self.out_channels // g, ho, wo))
        dy = xp.reshape(xp.permute_dims(dy, (1, 0, 3, 4, 2)), (g, n * ho * wo, -1))  # (g, N*Ho*Wo, C_out/g)
        dw = xp.permute_dims(dy, (0, 2, 1)) @ cols                        # (g, C_out/g, C/g*kH*kW)
        self.weight.accumulate(xp.reshape(dw, self.weight.shape))
        if self.bias is not None:
            self.bias.accumulate(xp.reshape(xp.sum(dy, axis=1), (self.out_channels,)))  # (C_out,)
        w = xp.reshape(self.weight.data, (g, self.out_channels // g, -1))
        dcols = dy @ w                                                    # (g, N*Ho*Wo, C/g*kH*kW)
        kh, kw = geo.kernel
        dcols = xp.reshape(dcols, (g, n, ho, wo, self.in_channels // g, kh, kw))
        dwin = xp.reshape(xp.permute_dims(dcols, (1, 0, 4, 2, 3, 5, 6)),
                          (n, self.in_channels, ho, wo, kh, kw))          # (N, C, Ho, Wo, kH, kW)
        dx = unpad(windows_adjoint(dwin, padded_shape, geo), geo.padding)  # (N, C, H, W)
        return dx[0] if unbatched else dx

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s
