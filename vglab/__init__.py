"""Vanishing Gradients Lab: small networks in NumPy with explicit backward passes.

    import vglab as vg
    from vglab import nn, optim, schedules

Every component mirrors PyTorch (names, shapes, defaults) and runs unchanged on
torch tensors: ``vg.backend.use("torch")`` or ``model.to("torch")``.
"""

from . import backend, init, nn, optim, schedules, gradcheck, clip, data, models, train, diagnostics, plots, widgets
from . import interop, exercises, book
from .backend import manual_seed, set_default_dtype, get_default_dtype, to_numpy
from .nn.grad_mode import no_grad
from .gradcheck import rel_error
from .clip import clip_grad_norm_, clip_grad_value_

__version__ = "0.1.0"

__all__ = ["backend", "init", "nn", "optim", "schedules", "gradcheck", "clip", "data", "models", "train",
           "diagnostics", "plots", "widgets", "interop", "exercises", "book", "manual_seed", "set_default_dtype",
           "get_default_dtype", "to_numpy", "no_grad", "rel_error", "clip_grad_norm_", "clip_grad_value_",
           "show_source", "__version__"]


def show_source(obj, docstrings: bool = False):
    """Show the source code of a vglab function, class or method, highlighted, in a notebook.

    The book shows library code this way, so the page and the package cannot drift apart.
    Docstrings are left out unless ``docstrings=True``: their maths is LaTeX source, which a
    code listing cannot render (the chapter's prose states it). Outside IPython it returns the
    source as a string.
    """
    import inspect
    import textwrap
    source = textwrap.dedent(inspect.getsource(obj))
    if not docstrings:
        source = _without_docstrings(source)
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - IPython comes with the book extra
        return source
    return Code(source, language="python")


def _without_docstrings(source: str) -> str:
    """``source`` with the docstring of every function and class in it removed (lines dropped)."""
    import ast
    drop = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                drop.update(range(first.lineno, first.end_lineno + 1))
    return "".join(line for i, line in enumerate(source.splitlines(True), start=1) if i not in drop)
