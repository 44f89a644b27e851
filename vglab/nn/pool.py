r"""Pooling over 2-D windows: torch's ``MaxPool2d``, ``AvgPool2d`` and ``AdaptiveAvgPool2d``.

With the windows $\Omega_{ij}$ of the (padded) input (``_windows.windows``),

* max pooling: $y_{ij} = \max_{(a,b) \in \Omega_{ij}} x_{ab}$; the gradient flows only to the
  maximum, $\partial L/\partial x_{ab} = \sum_{ij:\ (a,b) = \arg\max \Omega_{ij}} \delta_{ij}$
  (the first maximum on a tie, as torch on the CPU). Padding is $-\infty$.
* average pooling: $y_{ij} = \frac{1}{k_H k_W} \sum_{(a,b) \in \Omega_{ij}} x_{ab}$; every entry
  of a window receives $\delta_{ij}/(k_H k_W)$. Padding is 0 and counts in the divisor
  (``count_include_pad=True``, torch's default).
* adaptive average pooling to (H_out, W_out): average pooling whose windows tile the input;
  vglab supports output sizes that divide the input size (torch's overlapping bins otherwise).

Max pooling passes a gradient to one entry per window, average pooling spreads it thinly: both
shrink the total gradient reaching the input by the window size compared with the output.

Shapes: input (N, C, H, W) or unbatched (C, H, W); output (N, C, H_out, W_out).
"""

from __future__ import annotations

from typing import NamedTuple

from .. import backend
from .._checks import check_array, fmt_shape
from ._windows import Geometry, geometry, pad, pair, unpad, windows, windows_adjoint
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]


class _PoolCache(NamedTuple):
    padded_shape: tuple  # (N, C, Hp, Wp)
    geo: Geometry
    unbatched: bool      # the input was (C, H, W)
    argmax: object       # MaxPool2d: (N, C, Ho, Wo) flat index of the maximum within each window; else None
    like: object         # the output, for checking grad_output


def _batched(owner, x):
    check_array(owner, "x", x, ndim=(3, 4))
    return (x[None], True) if x.ndim == 3 else (x, False)


def _unsupported(owner, **options):
    """Raise for every option that differs from torch's default; vglab implements only the default."""
    for name, (value, default) in options.items():
        if value != default:
            raise NotImplementedError(f"{owner}: {name}={value!r} is not supported by vglab "
                                      f"(only {name}={default!r})")


class _Pool2d(Module):
    """Shared construction, checks and repr of the fixed-window pools."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        owner = type(self).__name__
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self._kernel = pair(owner, "kernel_size", kernel_size)
        self._stride = pair(owner, "stride", self.stride)
        ph, pw = pair(owner, "padding", padding, low=0)
        if ph > self._kernel[0] // 2 or pw > self._kernel[1] // 2:
            raise ValueError(f"{owner} expected padding at most half the kernel size "
                             f"{fmt_shape(self._kernel)}, got padding {fmt_shape((ph, pw))}")
        self._pad = (ph, ph, pw, pw)

    def _window_view(self, x, fill):
        owner = type(self).__name__
        x, unbatched = _batched(owner, x)
        shape = tuple(x.shape[1:]) if unbatched else tuple(x.shape)    # as given, for the message
        geo = geometry(owner, "x", shape, self._kernel, self._stride, (1, 1), self._pad)
        xpad = pad(x, geo.padding, value=fill)                 # (N, C, Hp, Wp)
        return windows(xpad, geo), tuple(xpad.shape), geo, unbatched

    def _grad(self, grad_output):
        padded_shape, geo, unbatched, argmax, like = self._cache
        self._check_grad(grad_output, like)
        dy = grad_output[None] if unbatched else grad_output  # (N, C, Ho, Wo)
        return dy, padded_shape, geo, unbatched, argmax

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window; the gradient goes to the maximum's position."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        _unsupported("MaxPool2d", dilation=(dilation, 1), return_indices=(return_indices, False),
                     ceil_mode=(ceil_mode, False))
        super().__init__(kernel_size, stride, padding)
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, x):
        win, padded_shape, geo, unbatched = self._window_view(x, fill=-float("inf"))
        xp = backend.namespace(win)
        n, c, ho, wo, kh, kw = win.shape
        flat = xp.reshape(win, (n, c, ho, wo, kh * kw))        # (N, C, Ho, Wo, kH*kW), a copy
        argmax = xp.argmax(flat, axis=-1)                       # (N, C, Ho, Wo), the first maximum
        y = xp.max(flat, axis=-1)                               # (N, C, Ho, Wo)
        y = y[0] if unbatched else y
        self._cache = _PoolCache(padded_shape, geo, unbatched, argmax, y)
        return y

    def backward(self, grad_output):
        dy, padded_shape, geo, unbatched, argmax = self._grad(grad_output)
        xp = backend.namespace(dy)
        kh, kw = geo.kernel
        offsets = xp.reshape(xp.arange(kh * kw, device=backend.device_of(dy)), (kh, kw))
        hit = argmax[..., None, None] == offsets                # (N, C, Ho, Wo, kH, kW)
        dwin = xp.where(hit, dy[..., None, None], xp.zeros_like(dy)[..., None, None])
        dx = unpad(windows_adjoint(dwin, padded_shape, geo), geo.padding)  # (N, C, H, W)
        return dx[0] if unbatched else dx

    def extra_repr(self):
        return super().extra_repr() + f", dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class AvgPool2d(_Pool2d):
    """The mean of each window (zero padding counted); the gradient is shared equally."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None):
        _unsupported("AvgPool2d", ceil_mode=(ceil_mode, False), count_include_pad=(count_include_pad, True),
                     divisor_override=(divisor_override, None))
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        win, padded_shape, geo, unbatched = self._window_view(x, fill=0.0)
        xp = backend.namespace(win)
        y = xp.mean(win, axis=(-2, -1))                         # (N, C, Ho, Wo)
        y = y[0] if unbatched else y
        self._cache = _PoolCache(padded_shape, geo, unbatched, None, y)
        return y

    def backward(self, grad_output):
        dy, padded_shape, geo, unbatched, _ = self._grad(grad_output)
        xp = backend.namespace(dy)
        kh, kw = geo.kernel
        dwin = xp.broadcast_to((dy / (kh * kw))[..., None, None], tuple(dy.shape) + (kh, kw))
        dx = unpad(windows_adjoint(dwin, padded_shape, geo), geo.padding)  # (N, C, H, W)
        return dx[0] if unbatched else dx


class _AdaptiveCache(NamedTuple):
    x_shape: tuple   # (N, C, H, W) of the batched input
    unbatched: bool
    like: object     # the output


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (H_out, W_out) that divides the input size.

    ``AdaptiveAvgPool2d(1)`` is global average pooling; ``None`` keeps that input dimension.
    """

    def __init__(self, output_size):
        super().__init__()
        sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        if len(sizes) != 2:
            raise ValueError(f"AdaptiveAvgPool2d expected output_size to be an int or a pair, got {output_size!r}")
        self._sizes = tuple(None if s is None else pair("AdaptiveAvgPool2d", "output_size", s)[0] for s in sizes)
        self.output_size = output_size

    def forward(self, x):
        x, unbatched = _batched("AdaptiveAvgPool2d", x)
        n, c, h, w = x.shape
        oh, ow = (s if s is not None else d for s, d in zip(self._sizes, (h, w)))
        if h % oh or w % ow:
            raise NotImplementedError(f"AdaptiveAvgPool2d: output size {fmt_shape((oh, ow))} that does not "
                                      f"divide the input size {fmt_shape((h, w))} is not supported by vglab "
                                      "(torch's overlapping bins)")
        xp = backend.namespace(x)
        tiles = xp.reshape(x, (n, c, oh, h // oh, ow, w // ow))
        y = xp.mean(tiles, axis=(3, 5))                          # (N, C, H_out, W_out)
        y = y[0] if unbatched else y
        self._cache = _AdaptiveCache(tuple(x.shape), unbatched, y)
        return y

    def backward(self, grad_output):
        (n, c, h, w), unbatched, like = self._cache
        self._check_grad(grad_output, like)
        xp = backend.namespace(grad_output)
        dy = grad_output[None] if unbatched else grad_output   # (N, C, H_out, W_out)
        oh, ow = dy.shape[-2:]
        share = dy / ((h // oh) * (w // ow))
        dx = xp.broadcast_to(share[:, :, :, None, :, None], (n, c, oh, h // oh, ow, w // ow))
        dx = xp.reshape(dx, (n, c, h, w))                        # (N, C, H, W)
        return dx[0] if unbatched else dx

    def extra_repr(self):
        return f"output_size={self.output_size}"
