"""Hooks on a Flax ``nnx.Module``: :func:`lsuv` and :func:`diagnose` (linen: :func:`lsuv` on ``(module, variables)``).

The framework-free parts are :mod:`unit_init.adapters.lsuv` (the LSUV loop),
:mod:`unit_init.adapters.hooks` (NNX modules have no forward hooks: each
weight layer's class is swapped, during a call, for a recording subclass
that adds a zero perturbation ``ε_l``, so ``∂ℓ/∂ε_l = ∂ℓ/∂z_l`` under
``nnx.grad``) and :mod:`unit_init.diagnostics.model` (the report). A linen
module is hooked in :mod:`unit_init.jax._linen`.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np
from flax import nnx

from unit_init.adapters.hooks import Session, forward, hooked
from unit_init.adapters.lsuv import DEFAULT_SPEC, Layers, Rescaled, check_options, rules_for, run, select, std_of
from unit_init.diagnostics.model import LayerTrace, ModelReport, activation_name, model_report, probe
from unit_init.errors import ParameterError
from unit_init.jax._params import initialize
from unit_init.spec.initializer import Initializer

__all__ = ["diagnose", "lsuv"]

_SUPPORTED = (nnx.Linear, nnx.Conv, nnx.ConvTranspose)
_KINDS = "nnx.Linear, nnx.Conv, nnx.ConvTranspose"


def _name(path: tuple[Any, ...], model: Any) -> str:
    return "/".join(map(str, path)) or type(model).__name__


def _layers(model: Any, layers: Layers) -> dict[str, Any]:
    if not isinstance(model, nnx.Module):
        msg = f"model={type(model).__name__} is not a flax nnx.Module (for linen, pass (module, variables, batch))."
        raise ParameterError(msg)
    named = ((_name(path, model), node) for path, node in nnx.iter_graph(model) if isinstance(node, nnx.Module))
    return dict(select(named, layers, lambda layer: isinstance(layer, _SUPPORTED), _KINDS))


def _activations(model: Any, layers: dict[str, Any]) -> dict[str, str | None]:
    """The function that follows each layer in an ``nnx.Sequential`` (``nnx.relu``, ``jnp.tanh`` …), where there is one."""
    after: dict[int, str | None] = {}
    for _, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Sequential):
            for layer, following in zip(node.layers, node.layers[1:], strict=False):
                after[id(layer)] = None if isinstance(following, nnx.Module) else activation_name(following)
    return {name: after.get(id(layer)) for name, layer in layers.items()}


def _order(model: Any, batch: Any, layers: dict[str, Any]) -> tuple[list[str], Any]:
    """The layers in the order the forward pass calls them, and the model's output."""
    session = Session()
    with hooked(layers, "__call__"):
        output = forward(model, batch, session)
    missing = sorted(set(layers) - set(session.record))
    if missing:
        msg = f"layers {missing} are not called by model(batch); pass layers= to pick the ones that run."
        raise ParameterError(msg)
    return list(session.record), output


def _positional(function: str, args: tuple[Any, ...]) -> None:
    if len(args) != 1:
        msg = f"{function} takes (model, batch) for nnx or (module, variables, batch) for linen, not {1 + len(args)} positional arguments."
        raise ParameterError(msg)


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
    if len(args) == 2:
        from unit_init.jax._linen import lsuv_linen

        return lsuv_linen(model, *args, **options)
    _positional("lsuv", args)
    check_options(target_std, tol, max_iter)
    chosen = _layers(model, layers)
    initialize(model, rules_for(chosen.values(), spec, biases=any(layer.bias is not None for layer in chosen.values())),
               seed=seed, progress=progress)
    batch = args[0]
    with hooked(chosen, "__call__"):
        order, _ = _order(model, batch, chosen)

        def measure(name: str) -> float:
            session = Session(stop=name)
            forward(model, batch, session)
            return std_of(session.record[name])

        def rescale(name: str, factor: float) -> None:
            kernel = chosen[name].kernel
            kernel.set_value(kernel.get_value() * factor)

        report = run(order, measure, rescale, target_std=target_std, tol=tol, max_iter=max_iter, progress=progress)
    return Rescaled(model, report)


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
    if len(args) == 2:
        from unit_init.jax._linen import diagnose_linen

        return diagnose_linen(model, *args, layers=layers, seed=seed)
    _positional("diagnose", args)
    batch = args[0]
    chosen = _layers(model, layers)
    paths = {id(node): path for path, node in nnx.iter_graph(model)}
    with hooked(chosen, "__call__"):
        order, output = _order(model, batch, chosen)
        g = jnp.asarray(probe(tuple(output.shape), seed), dtype=output.dtype)
        def loss(module: Any, eps: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
            session = Session(eps=eps)
            y = forward(module, batch, session)
            return jnp.sum(g * y), session.record

        first = Session()
        forward(model, batch, first)
        zeros = {name: jnp.zeros_like(first.record[name]) for name in order}
        (weight_grads, grads), outputs = nnx.grad(loss, argnums=(0, 1), has_aux=True)(model, zeros)
    flat = {tuple(map(str, path)): value for path, value in nnx.to_flat_state(weight_grads)}
    rows = output.shape[0] if output.ndim else 1
    activations = _activations(model, chosen)

    def kernel_grad(name: str) -> Any:
        key = (*map(str, paths[id(chosen[name])]), "kernel")
        value = flat[key]
        return np.asarray(value.get_value() if hasattr(value, "get_value") else value, dtype=np.float64) / rows

    def identical(name: str) -> bool:
        kernel = chosen[name].kernel.get_value()
        return bool(jnp.all(kernel == kernel[..., :1]))

    traces = [
        LayerTrace(name, np.asarray(outputs[name], dtype=np.float64), np.asarray(grads[name], dtype=np.float64),
                   kernel_grad(name), identical(name), activations[name])
        for name in order
    ]
    first_kernel = chosen[order[0]].kernel.get_value()
    return model_report(
        traces, model=type(model).__name__, backend="flax.nnx", device=str(next(iter(first_kernel.devices()))),
        dtype=str(first_kernel.dtype), batch=rows, width=max(int(outputs[name].shape[-1]) for name in order),
        bias=any(chosen[name].bias is not None for name in order), seed=seed,
    )
