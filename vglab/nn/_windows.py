r"""Sliding windows over images, shared by ``Conv2d`` and the pooling layers.

A 2-D window operation with kernel $(k_H, k_W)$, stride $s$, dilation $d$ and padding
$p$ reads, for output position $(i, j)$ and kernel offset $(a, b)$, the padded input at
$(s_H i + d_H a,\ s_W j + d_W b)$. The output size per dimension is
$\lfloor (H + p_\text{top} + p_\text{bottom} - d (k - 1) - 1) / s \rfloor + 1$.

``windows`` returns all windows at once as a *view* (N, C, H_out, W_out, k_H, k_W), with no
copy; ``windows_adjoint`` is its adjoint: it scatter-adds window gradients back onto the
padded input with one loop over the $k_H k_W$ kernel offsets (each a strided slice), never
over positions. Padding and the window view are the two places where NumPy and torch need
different calls; everything else here runs on either through the array namespace.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_number, fmt_shape

__all__ = ["Geometry", "pair", "geometry", "pad", "unpad", "windows", "windows_adjoint"]


class Geometry(NamedTuple):
    """Where a window operation reads: kernel, stride, dilation, padding and output size."""
    kernel: tuple    # (kH, kW)
    stride: tuple    # (sH, sW)
    dilation: tuple  # (dH, dW)
    padding: tuple   # (top, bottom, left, right)
    out: tuple       # (H_out, W_out)


def pair(owner: str, name: str, value, low: int = 1) -> tuple:
    """An int or a pair of ints (torch's ``_pair``) as a checked pair."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(values) != 2:
        raise ValueError(f"{owner} expected {name} to be an int or a pair of ints, got {value!r}")
    for v in values:
        check_number(owner, name, v, low=low, integer=True)
    return tuple(int(v) for v in values)


def geometry(owner: str, name: str, x_shape, kernel, stride, dilation, padding) -> Geometry:
    """The window geometry over an input of shape (N, C, H, W); raises if the kernel does not fit."""
    h, w = x_shape[-2:]
    top, bottom, left, right = padding
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))   # the dilated kernel's extent
    padded = (h + top + bottom, w + left + right)
    if padded[0] < reach[0] or padded[1] < reach[1]:
        raise ValueError(f"{owner} expected {name} of spatial size at least {fmt_shape(reach)} after "
                         f"padding {fmt_shape(padding[::2])} (kernel {fmt_shape(kernel)}, dilation "
                         f"{fmt_shape(dilation)}), got {fmt_shape(x_shape)}: the kernel is larger "
                         "than the padded input")
    out = tuple((p - r) // s + 1 for p, r, s in zip(padded, reach, stride))
    return Geometry(tuple(kernel), tuple(stride), tuple(dilation), tuple(padding), out)


def pad(x, padding, value: float = 0.0):
    """``x`` (N, C, H, W) padded by (top, bottom, left, right) with ``value``; ``x`` itself if no padding."""
    top, bottom, left, right = padding
    if not any(padding):
        return x
    if backend.is_torch(x):
        import torch.nn.functional as F
        return F.pad(x, (left, right, top, bottom), value=value)
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=value)


def unpad(x, padding):
    """The inverse of ``pad``: crop (top, bottom, left, right) from the last two dimensions."""
    top, bottom, left, right = padding
    h, w = x.shape[-2:]
    return x[..., top:h - bottom, left:w - right]


def windows(x, geo: Geometry):
    """A view (N, C, H_out, W_out, kH, kW) of every window of the padded ``x`` (N, C, Hp, Wp)."""
    (kh, kw), (sh, sw), (dh, dw) = geo.kernel, geo.stride, geo.dilation
    reach_h, reach_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if backend.is_torch(x):
        view = x.unfold(2, reach_h, sh).unfold(3, reach_w, sw)        # (N, C, Ho, Wo, reach_h, reach_w)
        return view[..., ::dh, ::dw]
    view = np.lib.stride_tricks.sliding_window_view(x, (reach_h, reach_w), axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]                         # (N, C, Ho, Wo, kH, kW)


def windows_adjoint(grad_windows, padded_shape, geo: Geometry):
    r"""Scatter-add window gradients (N, C, H_out, W_out, kH, kW) onto a zero (N, C, Hp, Wp).

    Entry $(a, b)$ of every window came from the strided slice
    $[d_H a : d_H a + s_H H_\text{out} : s_H,\ d_W b : d_W b + s_W W_\text{out} : s_W]$, so one
    slice-add per kernel offset gives the adjoint of ``windows`` (col2im).
    """
    xp = backend.namespace(grad_windows)
    dx = xp.zeros(tuple(padded_shape), dtype=grad_windows.dtype, device=backend.device_of(grad_windows))
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out
    for a in range(kh):
        for b in range(kw):
            dx[:, :, dh * a:dh * a + sh * (ho - 1) + 1:sh,
               dw * b:dw * b + sw * (wo - 1) + 1:sw] += grad_windows[..., a, b]
    return dx
