"""Hooks on a Flax model: :func:`lsuv` and :func:`diagnose`, on an ``nnx.Module`` or a linen ``(module, variables)``.

The framework-free parts are :mod:`unit_init.adapters.lsuv` (the LSUV loop),
:mod:`unit_init.adapters.hooks` (recording layers) and
:mod:`unit_init.diagnostics.model` (the report). An nnx module is hooked in
:mod:`unit_init.jax._nnx`, a linen one in :mod:`unit_init.jax._linen`; each is
imported when such a model is passed, so :mod:`unit_init.jax` needs no Flax
until then (and says so, typed, if it is missing).
"""

from __future__ import annotations

from typing import Any

from unit_init.adapters.lsuv import DEFAULT_SPEC, Layers, Rescaled
from unit_init.diagnostics.model import ModelReport
from unit_init.errors import ParameterError, keywords_checked, require
from unit_init.spec.initializer import Initializer

__all__ = ["diagnose", "lsuv"]


def _positional(function: str, args: tuple[Any, ...]) -> None:
    if len(args) != 1:
        msg = f"{function} takes (model, batch) for nnx or (module, variables, batch) for linen, not {1 + len(args)} positional arguments."
        raise ParameterError(msg)


@keywords_checked
def lsuv(
    model: Any,
    *args: Any,
    spec: Initializer = DEFAULT_SPEC,
    target_std: float = 1.0,
    tol: float = 0.1,
    max_iter: int = 10,
    seed: int | None = None,
    layers: Layers = None,
    progress: bool | None = None,
) -> Rescaled:
    """LSUV (Mishkin & Matas 2015) on a Flax nnx module in place, ``lsuv(model, batch)``; or on linen, ``lsuv(module, variables, batch)``.

    Every selected layer's kernel is drawn from ``spec`` and its bias set to
    zero (:func:`initialize`, seeded by ``seed``); then, in forward order,
    ``W_l ← W_l · τ / std(z_l)`` until ``|std(z_l) − τ| ≤ tol · τ`` (at most
    ``max_iter`` times), ``z_l`` being the layer's output on the batch and
    ``τ = target_std``. See docs/lsuv.md.

    * nnx: ``lsuv(model, batch)`` runs ``model(batch)`` and updates ``model``
      in place; returns ``(model, report)``. ``layers`` picks by the layer's
      path (``"layers/0"``) or type (``nnx.Linear``, ``nnx.Conv``,
      ``nnx.ConvTranspose``: the default set).
    * linen: ``lsuv(module, variables, batch)`` runs
      ``module.apply(variables, batch)`` and returns ``(new_variables, report)``,
      leaving ``variables`` as they were; see :func:`unit_init.jax._linen.lsuv_linen`.

    Examples
    --------
    >>> import jax, unit_init as ui
    >>> import unit_init.jax
    >>> from flax import nnx
    >>> model = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
    >>> model, report = unit_init.jax.lsuv(model, jax.random.normal(jax.random.key(0), (256, 16)), seed=0)
    >>> [round(layer.std, 3) for layer in report.layers], report.converged
    ([1.0, 1.0], True)
    """
    options: dict[str, Any] = {"spec": spec, "target_std": target_std, "tol": tol, "max_iter": max_iter,
                               "seed": seed, "layers": layers, "progress": progress}
    require("flax", "flax", "flax", "unit_init.jax.lsuv")
    if len(args) == 2:
        from unit_init.jax._linen import lsuv_linen

        return lsuv_linen(model, *args, **options)
    _positional("lsuv", args)
    from unit_init.jax._nnx import lsuv_nnx

    return lsuv_nnx(model, args[0], **options)


@keywords_checked
def diagnose(model: Any, *args: Any, layers: Layers = None, seed: int = 0) -> ModelReport:
    """Per-layer output and gradient stds of a Flax model, judged as :func:`unit_init.diagnose` judges its MLP.

    * nnx: ``diagnose(model, batch)`` (what ``ui.diagnose(model, batch)``
      calls). Hooked layers record ``z_l`` and add a zero ``ε_l``; ``nnx.grad``
      of ``ℓ = ⟨g, y⟩`` (``g`` a standard-normal probe drawn from ``seed``)
      with respect to the ``ε_l`` and the model gives ``∂ℓ/∂z_l`` and ``∂L/∂W_l``.
    * linen: ``diagnose(module, variables, batch)``, the same through
      ``nn.intercept_methods`` and ``jax.grad``.

    See :mod:`unit_init.diagnostics.model`; ``layers`` is as in :func:`lsuv`.

    Examples
    --------
    >>> import jax, unit_init as ui
    >>> from flax import nnx
    >>> model = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
    >>> ui.diagnose(model, jax.random.normal(jax.random.key(0), (64, 16))).suggested
    ('he_normal', '?')
    """
    require("flax", "flax", "flax", "unit_init.jax.diagnose")
    if len(args) == 2:
        from unit_init.jax._linen import diagnose_linen

        return diagnose_linen(model, *args, layers=layers, seed=seed)
    _positional("diagnose", args)
    from unit_init.jax._nnx import diagnose_nnx

    return diagnose_nnx(model, args[0], layers=layers, seed=seed)
