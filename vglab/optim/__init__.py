r"""Optimisers with ``torch.optim``'s names, defaults and update rules, step for step.

    opt = vg.optim.Adam(model.parameters(), lr=1e-3)
    opt.step(); opt.zero_grad()

| optimiser | update of each element (``maximize`` negates $g$ first) | paper |
| --- | --- | --- |
| ``SGD`` | $\theta \leftarrow \theta - \eta\, d_t$, $d_t$ the gradient or a momentum buffer | Robbins & Monro 1951 |
| ``Adagrad`` | $\theta \leftarrow \theta - \eta_t\, g_t / (\sqrt{G_t} + \epsilon)$, $G_t = \sum_{s \le t} g_s^2$ | Duchi et al. 2011 |
| ``RMSprop`` | $\theta \leftarrow \theta - \eta\, g_t / (\sqrt{v_t} + \epsilon)$, $v_t$ an EMA of $g^2$ | Tieleman & Hinton 2012 |
| ``Adam`` | $\theta \leftarrow \theta - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)$, bias-corrected EMAs | Kingma & Ba 2015 |
| ``AdamW`` | $\theta \leftarrow (1 - \eta\lambda)\,\theta$, then the Adam step | Loshchilov & Hutter 2019 |

The exact rules, with every option, are in ``vglab.optim.sgd`` and ``vglab.optim.adaptive``;
the shared machinery (parameter groups, schedules as ``lr``, state dicts) in
``vglab.optim.optimizer``. The learning rate ``lr`` is a number or a schedule ``lr(k)``
(``vglab.schedules``), ``k`` counting completed ``step()`` calls.
"""

from .optimizer import Optimizer
from .sgd import SGD
from .adaptive import Adagrad, RMSprop, Adam, AdamW

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]
