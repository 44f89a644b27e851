"""``Sequential``: modules applied one after another, and a list of them."""

from __future__ import annotations

from .module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Modules applied one after another; backward runs them in reverse.

    ``Sequential(nn.Linear(64, 128), nn.Tanh(), nn.Linear(128, 10))``; children are
    named "0", "1", ... and behave like a list: ``model[0]``, ``model[-1]``, ``model[1:]``
    (a Sequential of the same modules), ``model[0] = nn.Linear(...)``, ``len(model)``,
    ``for m in model``, ``model.append(m)``. A module may appear more than once.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        for i, m in enumerate(modules):
            self._check_module(m, f"position {i}")
            setattr(self, str(i), m)

    @staticmethod
    def _check_module(m, where: str):
        if not isinstance(m, Module):
            raise TypeError(f"Sequential expected Module arguments, got {type(m).__name__} at {where}")

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        self._cache = True  # backward needs nothing but the children's own caches
        return x

    def backward(self, grad_output):
        for m in reversed(list(self._modules.values())):
            grad_output = m.backward(grad_output)
        return grad_output

    def _key(self, i: int) -> str:
        keys = list(self._modules)
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"Sequential indices must be integers or slices, got {type(i).__name__}")
        if not -len(keys) <= i < len(keys):
            raise IndexError(f"Sequential index {i} is out of range for {len(keys)} modules")
        return keys[i]

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Sequential(*list(self._modules.values())[i])
        return self._modules[self._key(i)]

    def __setitem__(self, i, module: Module):
        self._check_module(module, f"index {i}")
        setattr(self, self._key(i), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module):
        self._check_module(module, "append")
        setattr(self, str(len(self)), module)
        return self
