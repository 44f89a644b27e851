r"""Sliding windows over images, shared by ``Conv2d`` and the pooling layers.

A 2-D window operation with kernel $(k_H, k_W)$, stride $s$, dilation $d$ and padding
$p$ reads, for output position $(i, j)$ and kernel offset $(a, b)$, the padded input at
$(s_H i + d_H a,\ s_W j + d_W b)$. The output size per dimension is
$\lfloor (H + p_\text{top} + p_\text{bottom} - d (k - 1) - 1) / s \rfloor + 1$.

``windows`` returns all windows at once as a *view* (N, C, H_out, W_out, k_H, k_W), with no
copy; ``windows_adjoint`` is its adjoint: it scatter-adds window gradients back onto the
padded input with one loop over the $k_H k_W$ kernel offsets (each a strided slice), never
over positions. ``im2col``/``col2im`` are the same pair for convolutions, in a batch-last
layout (k_H, k_W, C, H_out, W_out, N) whose columns are the windows: each kernel offset then
copies or adds image rows of W_out·N contiguous numbers, several times faster in NumPy
than the (N, C, ...) layout whose innermost runs are k_W numbers long.

Where NumPy and torch need different calls, the helpers here choose by ``backend.is_torch``:
``pad``, ``windows``, ``matmul`` (into a reused output) and ``channel_dot`` (for batch norm);
everything else runs on either through the array namespace.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from .. import backend
from .._checks import check_number, fmt_shape

__all__ = ["Geometry", "Workspace", "pair", "geometry", "pad", "unpad", "windows", "windows_adjoint", "im2col",
           "col2im", "matmul", "channel_dot"]


class Geometry(NamedTuple):
    """Where a window operation reads: kernel, stride, dilation, padding and output size."""
    kernel: tuple    # (kH, kW)
    stride: tuple    # (sH, sW)
    dilation: tuple  # (dH, dW)
    padding: tuple   # (top, bottom, left, right)
    out: tuple       # (H_out, W_out)


class Workspace:
    """Arrays a layer reuses from call to call for its temporaries, never for what it returns or caches.

    A fresh array of a few megabytes costs about as much in page faults as the arithmetic that
    fills it, so the large scratch arrays of a convolution's backward are kept here.
    """

    def __init__(self):
        self._arrays = {}

    def get(self, name: str, shape: tuple, like):
        """An array of ``shape`` with ``like``'s dtype, backend and device (contents undefined)."""
        a = self._arrays.get(name)
        if (a is None or backend.is_torch(a) != backend.is_torch(like) or tuple(a.shape) != tuple(shape)
                or a.dtype != like.dtype or str(backend.device_of(a)) != str(backend.device_of(like))):
            a = backend.namespace(like).empty(tuple(shape), dtype=like.dtype, device=backend.device_of(like))
            self._arrays[name] = a
        return a


def matmul(a, b, out=None):
    """``a @ b``, written into ``out`` when it is given (``np.matmul`` or ``torch.matmul``)."""
    if out is None:
        return a @ b
    if backend.is_torch(a):
        import torch
        return torch.matmul(a, b, out=out)
    return np.matmul(a, b, out=out)


def channel_dot(a, b):
    r"""$\sum_{n, \ldots} a_{n,c,\ldots}\, b_{n,c,\ldots}$ per channel c of (N, C, *) arrays, without a temporary."""
    n, c = a.shape[:2]
    a, b = a.reshape((n, c, -1)), b.reshape((n, c, -1))              # (N, C, L)
    if backend.is_torch(a):
        import torch
        return torch.einsum("ncl,ncl->c", a, b)
    return np.einsum("ncl,ncl->c", a, b)


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
    kh, kw = geo.kernel
    for a in range(kh):
        for b in range(kw):
            rows, columns = _offset(geo, a, b)
            dx[:, :, rows, columns] += grad_windows[..., a, b]
    return dx


def _offset(geo: Geometry, a: int, b: int) -> tuple:
    """The slices of the padded (Hp, Wp) grid that kernel offset (a, b) reads for every output position."""
    (sh, sw), (dh, dw), (ho, wo) = geo.stride, geo.dilation, geo.out
    return slice(dh * a, dh * a + sh * (ho - 1) + 1, sh), slice(dw * b, dw * b + sw * (wo - 1) + 1, sw)


@lru_cache(maxsize=4096)  # the same few geometries every step: computed once each
def _inside(geo: Geometry, a: int, b: int, size: tuple) -> tuple:
    """For kernel offset (a, b): the output positions whose input pixel lies inside the unpadded
    image of ``size`` (H, W), and those pixels, as slices ((rows_out, columns_out), (rows_in, columns_in)).

    The other output positions read padding (zeros), which has no gradient to receive.
    """
    top, _, left, _ = geo.padding
    rows = _inside_1d(geo.dilation[0] * a - top, geo.stride[0], geo.out[0], size[0])
    columns = _inside_1d(geo.dilation[1] * b - left, geo.stride[1], geo.out[1], size[1])
    return (rows[0], columns[0]), (rows[1], columns[1])


def _inside_1d(first: int, stride: int, n_out: int, n_in: int) -> tuple:
    r"""Output $i$ reads input $\text{first} + s\, i$; the slices of outputs and inputs with that in $[0, n_\text{in})$."""
    lo = max(0, -(first // stride))                      # ceil(-first / s): the first output inside
    hi = min(n_out, (n_in - 1 - first) // stride + 1)    # one past the last
    if hi <= lo:
        return slice(0, 0), slice(0, 0)
    return slice(lo, hi), slice(first + stride * lo, first + stride * (hi - 1) + 1, stride)


def im2col(x, geo: Geometry, out=None):
    """The windows of ``x`` (N, C, H, W) as columns: (kH, kW, C, H_out, W_out, N), zero padding included.

    Written into ``out`` (that shape) when it is given, so that a caller can place the columns
    inside a larger matrix without a copy.
    """
    xp = backend.namespace(x)
    n, c, h, w = x.shape
    top, bottom, left, right = geo.padding
    (kh, kw), (ho, wo) = geo.kernel, geo.out
    padded = xp.zeros((c, h + top + bottom, w + left + right, n), dtype=x.dtype, device=backend.device_of(x))
    padded[:, top:top + h, left:left + w] = xp.permute_dims(x, (1, 2, 3, 0))  # (C, Hp, Wp, N)
    if out is None:
        out = xp.empty((kh, kw, c, ho, wo, n), dtype=x.dtype, device=backend.device_of(x))
    for a in range(kh):
        for b in range(kw):
            rows, columns = _offset(geo, a, b)
            out[a, b] = padded[:, rows, columns]                              # (C, Ho, Wo, N)
    return out


def col2im(grad_cols, x_shape, geo: Geometry):
    """The adjoint of ``im2col``: window gradients (kH, kW, C, H_out, W_out, N) added up into (N, C, H, W).

    Each kernel offset adds only its part inside the image (``_inside``) straight onto the
    unpadded gradient: the padding's share would be thrown away, so it is never added.
    """
    xp = backend.namespace(grad_cols)
    n, c, h, w = x_shape
    kh, kw = geo.kernel
    grad = xp.zeros((c, h, w, n), dtype=grad_cols.dtype, device=backend.device_of(grad_cols))  # (C, H, W, N)
    for a in range(kh):
        for b in range(kw):
            (rows_out, columns_out), (rows_in, columns_in) = _inside(geo, a, b, (h, w))
            grad[:, rows_in, columns_in] += grad_cols[a, b, :, rows_out, columns_out]
    return xp.permute_dims(grad, (3, 0, 1, 2))                                 # (N, C, H, W)
