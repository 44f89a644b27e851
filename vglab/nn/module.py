r"""Parameters and modules: PyTorch's ``nn.Module`` habits with an explicit backward pass.

A module's ``forward`` computes its output and keeps, in a named cache, what its
``backward`` needs. ``backward(dy)`` receives $\partial L/\partial y$, *adds* the
parameter gradients into ``p.grad`` and returns $\partial L/\partial x$:

    y = m(x)                 # forward, caches x
    dx = m.backward(dy)      # accumulates into m.weight.grad, returns dL/dx

Children and parameters register themselves on attribute assignment, so
``parameters()``, ``state_dict()``, ``to()`` and ``repr`` work like torch's.

**A module used several times.** One module may be called more than once before its
backward: a shared activation, a layer applied twice (``Sequential(lin, act, lin, act)``),
an RNN cell stepped in a Python loop (``for t: h = cell(x[t], h)``). Each call's cache is
kept, oldest first, in ``module._calls``, and each ``backward`` differentiates *the most
recent call that no backward has reached yet*. That is exactly the order of reverse-mode
differentiation: the last use is differentiated first, so the gradients add up to torch's.
A cell loop is differentiated by the reverse loop ``dx[t], dh = cell.backward(dh + dout[t])``.

The calls of one pass are kept until the module's next forward *after* a backward, which
starts a new pass and drops them; so a forward that is never differentiated (an
evaluation without ``vg.no_grad()``) leaves at most one pass of caches behind, and the next
pass's backward never sees it. Once every call of a pass has been differentiated, a
further backward starts again from the most recent one: backward twice accumulates twice.
At most ``Module.max_pending`` calls are kept (the oldest are dropped beyond it); a
backward that would need a dropped call, or that has no call at all, raises a clear error
instead of differentiating the wrong one. Evaluate under ``vg.no_grad()``: it keeps nothing.

One rule follows from "most recent first": between a forward and its backward, do not call
the same module on other data unless you differentiate that call too (torch would keep the
two graphs apart; here the later call is differentiated first).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import NamedTuple

from .. import backend
from .._checks import alike, check_array, same_backend
from .grad_mode import _grad_enabled
from .parameter import Parameter

__all__ = ["Parameter", "Module", "IncompatibleKeys"]

class _Handle:
    """Returned by ``register_*_hook``; ``handle.remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as torch does: the keys it missed and those it did not know."""
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class of every layer, loss-free network and container.

    Subclasses define ``forward(*inputs)``, which stores what backward needs in
    ``self._cache``, and ``backward(grad_output)``, which reads ``self._cache``: it then
    holds the cache of the call being differentiated (see the module docstring). ``Module``
    wraps every subclass's ``backward`` so that hooks run once per call and a backward
    without a forward raises a clear error.
    """

    _next_hook = 0
    #: the most calls of one module kept for backward; beyond it the oldest are dropped
    max_pending = 1000

    def __init__(self):
        for name, value in (("_parameters", OrderedDict()), ("_buffers", OrderedDict()),
                            ("_modules", OrderedDict()), ("_forward_hooks", OrderedDict()),
                            ("_backward_hooks", OrderedDict()), ("_cache", None), ("_in_backward", False),
                            ("training", True)):
            object.__setattr__(self, name, value)
        self._new_pass()

    # ------------------------------------------------------------ registration
    def __setattr__(self, name, value):
        if name == "_cache":  # set by every forward: nothing to register
            object.__setattr__(self, name, value)
            return
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        if isinstance(value, Parameter):
            store = self._parameters
        elif isinstance(value, Module):
            store = self._modules
        elif name in self._buffers and value is not None:
            store = self._buffers  # a new array for a buffer stays a buffer, as in torch
        else:
            store = None
        for other in (self._parameters, self._modules, self._buffers):
            if other is not store:
                other.pop(name, None)
        if store is not None:
            store[name] = value  # an existing name keeps its place in the order
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, value) -> None:
        """A state array that is saved and moved with the module but not learned."""
        self._buffers[name] = value
        object.__setattr__(self, name, value)

    # ------------------------------------------------------------ forward and backward
    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "backward" in cls.__dict__:
            cls.backward = _wrap_backward(cls.__dict__["backward"])

    def _new_pass(self) -> None:
        """Forget the calls of the previous pass (their caches)."""
        object.__setattr__(self, "_calls", [])       # caches of this pass's calls, oldest first
        object.__setattr__(self, "_undone", 0)       # _calls[:_undone] still await a backward
        object.__setattr__(self, "_dropped", False)  # whether max_pending dropped any call
        object.__setattr__(self, "_backward_ran", False)

    def __call__(self, *inputs, **kwargs):
        if self._backward_ran:  # a forward after a backward: a new pass begins
            self._new_pass()
        object.__setattr__(self, "_cache", None)
        output = self.forward(*inputs, **kwargs)
        if _grad_enabled.get():
            self._calls.append(self._cache)
            if len(self._calls) > self.max_pending:
                del self._calls[0]
                object.__setattr__(self, "_dropped", True)
            object.__setattr__(self, "_undone", len(self._calls))
        object.__setattr__(self, "_cache", None)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, inputs, output)
                if result is not None:
                    output = result
        return output

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward")

    def backward(self, grad_output):
        raise NotImplementedError(f"{type(self).__name__} does not define backward")

    def _next_call(self) -> int:
        """The index in ``_calls`` of the call the next backward differentiates."""
        owner = f"{type(self).__name__}.backward"
        if not self._calls:
            raise RuntimeError(f"{owner} called before forward (or after a forward under vg.no_grad(), "
                               "which keeps no cache)")
        if self._undone == 0 and self._dropped:
            raise RuntimeError(f"{owner}: the forward call it needs was dropped: at most "
                               f"Module.max_pending = {self.max_pending} calls of one module are kept; "
                               "raise it for longer loops")
        return (self._undone or len(self._calls)) - 1  # all done: start again from the most recent

    def _check_grad(self, grad_output, like, shape=None, like_name: str = "output"):
        """Check that an upstream gradient has the backend, dtype and shape (default: ``like``'s)
        of the output it belongs to.

        Cheap comparisons first; the full checks, with their messages, run only on a mismatch.
        """
        if alike(grad_output, like, shape):
            return grad_output
        owner = f"{type(self).__name__}.backward"
        check_array(owner, "grad_output", grad_output, shape=tuple(like.shape) if shape is None else shape,
                    dtype=like.dtype)
        same_backend(owner, **{"grad_output": grad_output, like_name: like})
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
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True, _seen=None):
        """(name, module) pairs, depth first; a module reachable twice is listed once, as in torch."""
        if remove_duplicate:
            _seen = set() if _seen is None else _seen
            if id(self) in _seen:
                return
            _seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name, remove_duplicate, _seen)

    def modules(self):
        """Every module once, in ``named_modules``' order, without building the names (it runs every step)."""
        seen, stack = set(), [self]
        while stack:
            module = stack.pop()
            if id(module) not in seen:
                seen.add(id(module))
                yield module
                stack.extend(reversed(module._modules.values()))

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        return (m for _, m in self.named_children())

    def _named_members(self, store: str, remove_duplicate: bool = True):
        seen = set()
        for mod_name, module in self.named_modules(remove_duplicate=remove_duplicate):
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(self, prefix: str = ""):
        """(name, parameter) pairs; a shared (tied) parameter is listed once, as in torch."""
        for name, p in self._named_members("_parameters"):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self):
        """Every parameter once, in ``named_parameters``' order (without the names: zero_grad runs every step)."""
        seen = set()
        for module in self.modules():
            for p in module._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self):
        return self._named_members("_buffers")

    def buffers(self):
        return (b for _, b in self.named_buffers())

    def apply(self, fn):
        """Call ``fn(m)`` on every child (recursively), then on self; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (``set_to_none``) or set them to zeros (a NaN gradient becomes 0 too)."""
        for p in self.parameters():
            p.zero_grad(set_to_none)

    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    # ------------------------------------------------------------ state
    def state_dict(self) -> OrderedDict:
        """Parameter and buffer arrays by their dotted names (the arrays themselves, like torch).

        Every name is kept, so a tied parameter appears under each of its names, as in torch;
        each module's parameters come before its buffers, then its children's.
        """
        out = OrderedDict()
        for mod_name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{mod_name}." if mod_name else ""
            out.update((prefix + n, p.data) for n, p in module._parameters.items() if p is not None)
            out.update((prefix + n, b) for n, b in module._buffers.items() if b is not None)
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into parameters and buffers; ``strict`` demands exactly the same names.

        Returns ``(missing_keys, unexpected_keys)`` as torch does (both empty when strict).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        modules = dict(self.named_modules(remove_duplicate=False))
        for key, value in state.items():
            if key not in own:
                continue
            if tuple(value.shape) != tuple(own[key].shape):
                raise ValueError(f"{type(self).__name__}.load_state_dict expected {key} of shape "
                                 f"{tuple(own[key].shape)}, got {tuple(value.shape)}")
            new = backend.asarray(backend.to_numpy(value).copy(), like=own[key],
                                  dtype=backend.dtype_name(own[key].dtype))
            owner, _, leaf = key.rpartition(".")
            module = modules[owner]
            if leaf in module._parameters:
                module._parameters[leaf].data = new
            else:
                module.register_buffer(leaf, new)
        return IncompatibleKeys(missing, unexpected)

    def to(self, backend=None, device=None, dtype=None):
        """Move parameters and buffers to another backend ("numpy"/"torch"), device or dtype.

        ``model.to("torch")``, ``model.to("torch", device="cuda")``, ``model.to(dtype="float32")``.
        Gradients and caches are dropped. Integer buffers keep their integer dtype.
        """
        from ..backend import convert
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.data, p.grad = convert(p.data, backend, device, dtype), None
            for name, b in list(m._buffers.items()):
                if b is not None:
                    m.register_buffer(name, convert(b, backend, device, dtype))
            m._new_pass()
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
    """Run a subclass's backward on the call it differentiates, then the backward hooks.

    The wrapper acts once per call: a subclass whose ``backward`` calls ``super().backward``
    reaches the inner wrapper while the outer one runs, and that one only runs the code.
    """
    @functools.wraps(backward)
    def wrapped(self, *grad_outputs, **kwargs):
        if self._in_backward:  # inside the outer wrapper (a super().backward call)
            return backward(self, *grad_outputs, **kwargs)
        index = self._next_call()
        object.__setattr__(self, "_cache", self._calls[index])
        object.__setattr__(self, "_in_backward", True)
        try:
            grad_input = backward(self, *grad_outputs, **kwargs)
        finally:
            object.__setattr__(self, "_cache", None)
            object.__setattr__(self, "_in_backward", False)
        object.__setattr__(self, "_undone", index)   # this call is done; an error leaves it pending
        object.__setattr__(self, "_backward_ran", True)
        for hook in list(self._backward_hooks.values()) if self._backward_hooks else ():
            as_tuple = grad_input if isinstance(grad_input, tuple) else (grad_input,)
            result = hook(self, as_tuple, grad_outputs)
            if result is not None:
                grad_input = result if isinstance(grad_input, tuple) else result[0]
        return grad_input
    wrapped._vglab_wrapped = True
    return wrapped
