r"""The 2-D convolution (cross-correlation, as in every deep-learning library), torch's ``nn.Conv2d``.

$$
y_{n,o,i,j} = b_o + \sum_{c,a,b} W_{o,c,a,b}\; x^\text{pad}_{n,\,c,\; s_H i + d_H a,\; s_W j + d_W b}
$$

*im2col*: every window of the padded input becomes one column of a matrix
$X_\text{col}$ (k_H·k_W·C, M) with M = H_out·W_out·N, so the convolution is one matrix product
$Y = W_\text{col} X_\text{col} + b$ with $W_\text{col}$ = ``weight`` reordered to
(C_out, k_H·k_W·C). The bias is the weight of an input that is always 1: with a row of ones
appended to $X_\text{col}$ and $b$ appended as a column to $W_\text{col}$, the forward is that
one product, with no separate pass to add $b$. Backward, with $\delta = \partial L/\partial Y$ (C_out, M):

* $\partial L/\partial W_\text{col} = \delta X_\text{col}^\top$ (one GEMM); the column it gives for
  the ones row is $\partial L/\partial b = \sum_m \delta_{:,m}$;
* $\partial L/\partial X_\text{col} = W_\text{col}^\top \delta$ (one GEMM), added back onto the
  input by *col2im* (``_windows.col2im``: one strided add per kernel offset, of the part of the
  window inside the image).

The columns are ordered (H_out, W_out, N), batch last, because that makes the copies of
im2col and col2im long and contiguous (see ``_windows``); the output is returned as a
(N, C_out, H_out, W_out) view of that storage. Three GEMMs of the same size do the work;
backward reuses the weight matrix of its forward (cached, as torch saves its tensors), and
its large scratch matrix from call to call.

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
from .._checks import check_array, check_choice, check_number
from ._windows import Geometry, Workspace, col2im, geometry, im2col, matmul, pair
from .linear import check_input
from .module import Module, Parameter

__all__ = ["Conv2d"]


class _ConvCache(NamedTuple):
    cols: object         # (g, kH*kW*C/g [+1], Ho*Wo*N): the im2col matrix per group (+1: the ones row of the bias)
    w: object            # (g, C_out/g, kH*kW*C/g [+1]): the weight matrix it was multiplied by (+1: the bias)
    x_shape: tuple       # (N, C, H, W) of the (batched) input
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
        self._workspace = Workspace()  # backward's scratch arrays, reused from call to call
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
        (ho, wo), (kh, kw), cg = geo.out, geo.kernel, self.in_channels // g
        rows = kh * kw * cg                                               # one window of C/g channels
        biased = self.bias is not None
        cols = xp.empty((g, rows + int(biased), ho * wo * n), dtype=x.dtype, device=backend.device_of(x))
        if biased:
            cols[:, rows] = 1                                             # the input the bias multiplies
        if g == 1:                                                        # im2col writes into the matrix
            im2col(x, geo, out=xp.reshape(cols[0, :rows], (kh, kw, cg, ho, wo, n), copy=False))
        else:                                                             # rows group by group: a copy
            windows = xp.reshape(im2col(x, geo), (kh, kw, g, cg, -1))
            cols[:, :rows] = xp.reshape(xp.permute_dims(windows, (2, 0, 1, 3, 4)), (g, rows, -1))
        w = self._weight_matrix(with_bias=biased)                         # (g, C_out/g, kH*kW*C/g [+1])
        y = w @ cols                                                      # (g, C_out/g, M)
        y = xp.permute_dims(xp.reshape(y, (self.out_channels, ho, wo, n)), (3, 0, 1, 2))  # (N, C_out, Ho, Wo)
        self._cache = _ConvCache(cols, w, tuple(x.shape), geo, unbatched)
        return y[0] if unbatched else y

    def _weight_matrix(self, with_bias: bool = False):
        """``weight`` (C_out, C/g, kH, kW) as (g, C_out/g, kH*kW*C/g), the row order of ``im2col``;
        ``with_bias``: the bias appended as one more column (g, C_out/g, kH*kW*C/g + 1)."""
        xp = backend.namespace(self.weight.data)
        g = self.groups
        w = xp.reshape(self.weight.data, (g, self.out_channels // g) + self.weight.shape[1:])
        w = xp.reshape(xp.permute_dims(w, (0, 1, 3, 4, 2)), (g, self.out_channels // g, -1))
        if with_bias:
            w = xp.concat([w, xp.reshape(self.bias.data, (g, -1, 1))], axis=-1)
        return w

    def backward(self, grad_output):
        cols, w, x_shape, geo, unbatched = self._cache
        n, (ho, wo), g = x_shape[0], geo.out, self.groups
        out_shape = (self.out_channels, ho, wo) if unbatched else (n, self.out_channels, ho, wo)
        self._check_grad(grad_output, cols, shape=out_shape, like_name="x")
        xp = backend.namespace(grad_output)
        dy = self._workspace.get("dy", (self.out_channels, ho, wo, n), like=grad_output)
        dy[...] = xp.permute_dims(xp.reshape(grad_output, (n, self.out_channels, ho, wo)), (1, 2, 3, 0))
        dy = xp.reshape(dy, (g, self.out_channels // g, -1))              # (g, C_out/g, M)
        (kh, kw), cg = geo.kernel, self.in_channels // g
        rows = kh * kw * cg
        dw = cols @ xp.permute_dims(dy, (0, 2, 1))                        # (g, kH*kW*C/g [+1], C_out/g)
        if self.bias is not None:                                         # the ones row's gradient: sum of dy
            self.bias.accumulate(xp.reshape(dw[:, rows], (self.out_channels,)))
        dw = xp.reshape(dw[:, :rows], (g, kh, kw, cg, -1))                 # (g, kH, kW, C/g, C_out/g)
        self.weight.accumulate(xp.reshape(xp.permute_dims(dw, (0, 4, 3, 1, 2)), self.weight.shape))
        dcols = matmul(xp.permute_dims(w[..., :rows], (0, 2, 1)), dy,
                       out=self._workspace.get("dcols", (g, rows, ho * wo * n), like=cols))  # (g, kH*kW*C/g, M)
        dcols = xp.permute_dims(xp.reshape(dcols, (g, kh, kw, cg, ho, wo, n)), (1, 2, 0, 3, 4, 5, 6))
        dx = col2im(xp.reshape(dcols, (kh, kw, self.in_channels, ho, wo, n)), x_shape, geo)  # (N, C, H, W)
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
