"""PyTorch adapter: ``import unit_init.torch as init`` in place of ``import torch.nn.init as init``.

* every ``torch.nn.init`` function (``uniform_`` … ``sparse_``, ``calculate_gain``,
  the deprecated names without the underscore), with torch's names, signatures,
  defaults and errors, drawn by unit_init specs (see ``docs/adapters/torch.md``);
* :func:`init_` — one tensor from one spec, in place (torch layout);
* :func:`initialize` — every parameter of an ``nn.Module`` from rules keyed by
  name patterns or module types, each parameter with its own derived seed.
* :func:`lsuv` — data-dependent LSUV initialization on a batch (docs/lsuv.md);
  :func:`diagnose` — ``ui.diagnose(module, batch)`` through forward hooks;
* any other name ``torch.nn.init`` has (its private helpers, ``_no_grad_trunc_normal_``
  and the like, which some codebases import) is torch's own.

>>> import torch
>>> import unit_init.torch as init
>>> w = init.kaiming_normal_(torch.empty(64, 32), nonlinearity="relu")
>>> w.shape
torch.Size([64, 32])
"""

from __future__ import annotations

from unit_init.errors import require

require("torch", "torch", "torch", "unit_init.torch")  # a typed BackendUnavailableError, naming what to install, if it is missing

from unit_init.torch import _nn_init  # noqa: E402
from unit_init.torch._fill import init_  # noqa: E402
from unit_init.torch._hooks import diagnose, lsuv  # noqa: E402
from unit_init.torch._module import initialize  # noqa: E402
from unit_init.torch._nn_init import *  # noqa: E402, F403 (torch.nn.init's names, listed once in _nn_init.__all__)

__all__ = ["diagnose", "init_", "initialize", "lsuv"]
__all__ += _nn_init.__all__


def __getattr__(name: str) -> object:
    """A function of ``torch.nn.init`` this module does not rebuild (a private helper): torch's own, so the one-import
    switch also keeps ``init._no_grad_trunc_normal_`` working; anything else (the modules torch.nn.init imports
    among them) is an ``AttributeError``, as for any module."""
    import torch.nn.init

    found = getattr(torch.nn.init, name, None)
    if not callable(found):
        msg = f"module 'unit_init.torch' has no attribute {name!r} (and torch.nn.init has no function of that name)"
        raise AttributeError(msg)
    return found


def __dir__() -> list[str]:
    return sorted(__all__)
