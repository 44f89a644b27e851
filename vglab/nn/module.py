r"""Parameters and modules: PyTorch's ``nn.Module`` habits with an explicit backward pass.

A module's ``forward`` computes its output and keeps, in a named cache, what its
``backward`` needs. ``backward(dy)`` receives $\partial L/\partial y$, *adds* the
parameter gradients into ``p.grad`` and returns $\partial L/\partial x$:

    y = m(x)                 # forward, caches x
    dx = m.backward(dy)      # accumulates into m.weight.grad, returns dL/dx

Children and parameters register themselves on attribute assignment, so
``parameters()``, ``state_dict()``, ``to()`` and ``repr`` work like torch's.
"""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict

from .. import backend
from .._checks import check_array, same_backend

__all__ = ["Parameter", "Module", "Sequential", "no_grad", "is_grad_enabled"]

_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """A forward inside ``with vg.no_grad():`` keeps no cache (cheaper; backward is refused)."""
    global _grad_enabled
    saved, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = saved


def is_grad_enabled() -> bool:
    return _grad_enabled


class Parameter:
    """A learnable array. ``.data`` is the array (not copied), ``.grad`` is None until a backward."""

    def __init__(self, data, requires_grad: bool = True):
        check_array("Parameter", "data", data)
        self.data = data
        self.grad = None
        self.requires_grad = requires_grad

    shape = property(lambda self: tuple(self.data.shape))
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: backend.device_of(self.data))
    ndim = property(lambda self: self.data.ndim)

    def accumulate(self, g) -> None:
        """``grad += g`` (the first time ``grad = g``); nothing if frozen."""
        if not self.requires_grad:
            return
        if tuple(g.shape) != self.shape:  # an internal error, never a reader's
            raise RuntimeError(f"gradient of shape {tuple(g.shape)} for a parameter of shape {self.shape}")
        self.grad = g if self.grad is None else self.grad + g

    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def __repr__(self):
        return f"Parameter(shape={self.shape}, dtype={backend.dtype_name(self.dtype)})"


class _Handle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class Module:
    """Base class of every layer, loss-free network and container.

    Subclasses define ``forward(*inputs)`` (caching into ``self._cache``) and
    ``backward(grad_output)``. ``Module`` wraps every subclass's ``backward`` so that
    backward hooks run and a backward before any forward raises a clear error.
    """

    _next_hook = 0

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_cache", None)
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        for store in (self._parameters, self._modules, self._buffers):
            store.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value) -> None:
        """A state array that is saved and moved with the module but not learned."""
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    def _set_buffer(self, name: str, value) -> None:
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------ forward and backward
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__:
            cls.backward = _wrap_backward(cls.__dict__["backward"])

    def __call__(self, *inputs, **kwargs):
        output = self.forward(*inputs, **kwargs)
        if not _grad_enabled:
            object.__setattr__(self, "_cache", None)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, inputs, output)
            if result is not None:
                output = result
        return output

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def _need_cache(self):
        """The cache of the last forward; a clear error if there was none."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward "
                               "(or after a forward under vg.no_grad(), which keeps no cache)")
        return self._cache

    def _check_grad(self, grad_output, like):
        """Check that an upstream gradient has the shape, dtype and backend of the output it belongs to."""
        owner = f"{type(self).__name__}.backward"
        check_array(owner, "grad_output", grad_output, shape=tuple(like.shape), dtype=like.dtype)
        same_backend(owner, grad_output=grad_output, output=like)
        return grad_output

    def register_forward_hook(self, hook) -> _Handle:
        """``hook(module, inputs, output)`` runs after every forward; a non-None return replaces the output."""
        return self._add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook) -> _Handle:
        """``hook(module, grad_input, grad_output)`` runs after every backward (tuples, like torch)."""
        return self._add_hook(self._backward_hooks, hook)

    @classmethod
    def _add_hook(cls, hooks, hook):
        Module._next_hook += 1
        hooks[Module._next_hook] = hook
        return _Handle(hooks, Module._next_hook)

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return iter(self._modules.values())

    def named_parameters(self, prefix: str = ""):
        for mod_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                yield (f"{mod_name}.{name}" if mod_name else name), p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        for mod_name, module in self.named_modules():
            for name, b in module._buffers.items():
                yield (f"{mod_name}.{name}" if mod_name else name), b

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        """Call ``fn(m)`` on every child (recursively), then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = p.grad * 0

    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    # ------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict:
        """Parameter and buffer arrays by their dotted names (the arrays themselves, like torch)."""
        out = OrderedDict((name, p.data) for name, p in self.named_parameters())
        out.update(self.named_buffers())
        return out

    def load_state_dict(self, state: dict, strict: bool = True):
        """Copy arrays into parameters and buffers; ``strict`` demands exactly the same names."""
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        params = dict(self.named_parameters())
        for key, value in state.items():
            if key not in own:
                continue
            if tuple(value.shape) != tuple(own[key].shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict expected {key} of shape "
                                 f"{tuple(own[key].shape)}, got {tuple(value.shape)}")
            new = backend.asarray(backend.to_numpy(value).copy(), like=own[key],
                                  dtype=backend.dtype_name(own[key].dtype))
            if key in params:
                params[key].data = new
            else:
                owner, _, leaf = key.rpartition(".")
                module = dict(self.named_modules())[owner]
                module._set_buffer(leaf, new)
        return self

    def to(self, backend=None, device=None, dtype=None):
        """Move parameters and buffers to another backend ("numpy"/"torch"), device or dtype.

        ``model.to("torch")``, ``model.to("torch", device="cuda")``, ``model.to(dtype="float32")``.
        Gradients and caches are dropped. Integer buffers keep their integer dtype.
        """
        from ..backend import convert
        for m in self.modules():
            for p in m._parameters.values():
                p.data, p.grad = convert(p.data, backend, device, dtype), None
            for name, b in list(m._buffers.items()):
                m._set_buffer(name, convert(b, backend, device, dtype))
            object.__setattr__(m, "_cache", None)
        return self

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _wrap_backward(backward):
    @functools.wraps(backward)
    def wrapped(self, *grad_outputs, **kwargs):
        self._need_cache()
        grad_input = backward(self, *grad_outputs, **kwargs)
        for hook in list(self._backward_hooks.values()):
            as_tuple = grad_input if isinstance(grad_input, tuple) else (grad_input,)
            result = hook(self, as_tuple, grad_outputs)
            if result is not None:
                grad_input = result if isinstance(grad_input, tuple) else result[0]
        return grad_input
    wrapped._vglab_wrapped = True
    return wrapped


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse.

    ``Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 10))``; children are
    named "0", "1", ... and indexable (``model[0]``, ``model[-1]``, ``len(model)``).
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential expected Module arguments, got {type(m).__name__} at position {i}")
            setattr(self, str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        self._cache = True  # backward needs nothing but the children's own caches
        return x

    def backward(self, grad_output):
        for m in reversed(list(self._modules.values())):
            grad_output = m.backward(grad_output)
        return grad_output

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        setattr(self, str(len(self)), module)
        return self
