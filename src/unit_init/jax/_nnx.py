"""Flax ``nnx`` models: LSUV and diagnosis through weight layers whose class is swapped, during a call, for a recording one.

NNX modules have no forward hooks: each weight layer's class is swapped for a
recording subclass (:mod:`unit_init.adapters.hooks`) that adds a zero
perturbation ``ε_l``, so ``∂ℓ/∂ε_l = ∂ℓ/∂z_l`` under ``nnx.grad``. Imported
by :mod:`unit_init.jax._hooks` when an nnx model is passed, so plain JAX users
of :mod:`unit_init.jax` need no Flax.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from unit_init.adapters.hooks import Session, forward, hooked
from unit_init.adapters.lsuv import (
    Layers,
    Rescaled,
    check_batch,
    check_options,
    rules_for,
    run,
    select,
    std_of,
    undone_if_raised,
)
from unit_init.diagnostics.model import (
    LayerTrace,
    ModelReport,
    activation_name,
    batch_rows,
    check_real,
    identical_units,
    model_report,
    probes,
)
from unit_init.errors import ParameterError
from unit_init.jax._params import finite, float_leaves, initialize, probed, rescaled
from unit_init.spec.initializer import Initializer

__all__ = ["diagnose_nnx", "lsuv_nnx"]

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


_PASSED_THROUGH: Final = (nnx.BatchNorm, nnx.LayerNorm, nnx.GroupNorm, nnx.InstanceNorm, nnx.RMSNorm, nnx.Dropout)
"""The normalizations and dropout, which stand between a layer and its activation (``Linear`` → ``BatchNorm`` →
``nnx.relu`` is a ReLU layer)."""


def _activations(model: Any, layers: dict[str, Any]) -> dict[str, str | None]:
    """The function that follows each layer in an ``nnx.Sequential`` (``nnx.relu``, ``jnp.tanh`` …) once normalizations
    and dropout are passed, where there is one."""
    after: dict[int, str | None] = {}
    for _, node in nnx.iter_graph(model):
        if isinstance(node, nnx.Sequential):
            for index, layer in enumerate(node.layers):
                following = next((f for f in node.layers[index + 1 :] if not isinstance(f, _PASSED_THROUGH)), None)
                after[id(layer)] = None if following is None or isinstance(following, nnx.Module) else activation_name(following)
    return {name: after.get(id(layer)) for name, layer in layers.items()}


def _saved(nodes: Iterable[Any]) -> Callable[[], None]:
    """What sets every ``nnx.Variable`` among ``nodes`` back to its value now (JAX arrays are immutable: the value is the copy)."""
    saved = [(node, node.get_value()) for node in nodes if isinstance(node, nnx.Variable)]

    def restore() -> None:
        for variable, value in saved:
            variable.set_value(value)

    return restore


def _statistics(model: Any) -> Callable[[], None]:
    """What restores every ``nnx.BatchStat`` and ``nnx.RngState`` of ``model``: called in train mode, a ``BatchNorm``
    moves its statistics and a ``Dropout`` advances its stream's count, which training then draws from."""
    return _saved(node for _, node in nnx.iter_graph(model) if isinstance(node, (nnx.BatchStat, nnx.RngState)))


def _order(model: Any, batch: Any, layers: dict[str, Any], *, picked: bool) -> tuple[list[str], Any]:
    """The layers in the order the forward pass calls them, and the model's output.

    Layers the call never reaches are an error where ``picked`` (``layers=``
    named them), else left out.
    """
    session = Session()
    with hooked(layers, "__call__"):
        output = forward(model, batch, session)
    missing = sorted(set(layers) - set(session.record))
    if missing and (picked or not session.record):
        msg = f"layers {missing} are not called by model(batch); pass layers= to pick the ones that run."
        raise ParameterError(msg)
    traced = [name for name, value in session.record.items() if isinstance(value, jax.core.Tracer)]
    if traced:
        msg = (f"layers {traced} run inside a JAX transformation of model(batch) (nnx.jit, jax.jit, vmap, …): their outputs "
               "are traced values, which lsuv and diagnose cannot read; run them untransformed while measuring.")
        raise ParameterError(msg)
    return list(session.record), output


def lsuv_nnx(
    model: Any, batch: Any, *, spec: Initializer, target_std: float, tol: float, max_iter: int, seed: int | None,
    layers: Layers, progress: bool | None,
) -> Rescaled:
    """:func:`unit_init.jax.lsuv` on an nnx module, in place."""
    target_std, tol, max_iter = check_options(target_std, tol, max_iter)
    check_batch(batch, finite)
    chosen = _layers(model, layers)
    restore_statistics = _statistics(model)  # the batches are measurements: BatchNorm's running statistics stay
    try:
        with hooked(chosen, "__call__"):
            order, _ = _order(model, batch, chosen, picked=layers is not None)  # before anything is written
            chosen = {name: chosen[name] for name in order}

            def measure(name: str) -> float:
                session = Session(stop=name)
                forward(model, batch, session)
                return std_of(session.record[name])

            def rescale(name: str, factor: float) -> bool:
                kernel = chosen[name].kernel
                scaled = rescaled(kernel.get_value(), factor)
                if scaled is None:
                    return False
                kernel.set_value(scaled)
                return True

            with undone_if_raised(_saved(node for layer in chosen.values() for _, node in nnx.iter_graph(layer))):
                initialize(model, rules_for(chosen.values(), spec, biases=any(layer.bias is not None for layer in chosen.values())),
                           seed=seed, progress=progress)
                report = run(order, measure, rescale, target_std=target_std, tol=tol, max_iter=max_iter, progress=progress)
    finally:
        restore_statistics()
    return Rescaled(model, report)


def diagnose_nnx(model: Any, batch: Any, *, layers: Layers, seed: int) -> ModelReport:
    """:func:`unit_init.jax.diagnose` of an nnx module."""
    check_batch(batch, finite)
    chosen = _layers(model, layers)
    paths = {id(node): path for path, node in nnx.iter_graph(model)}
    restore_statistics = _statistics(model)
    try:
        with hooked(chosen, "__call__"):
            order, output = _order(model, batch, chosen, picked=layers is not None)
            chosen = {name: chosen[name] for name in order}
            leaves = float_leaves(output)
            gs = [jnp.asarray(g, dtype=y.dtype) for g, y in zip(probes(leaves, seed), leaves, strict=True)]
            def loss(module: Any, eps: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
                session = Session(eps=eps)
                y = forward(module, batch, session)
                return probed(gs, y), session.record

            first = Session()
            forward(model, batch, first)
            check_real({**{name: jnp.iscomplexobj(first.record[name]) for name in order}, "output": any(jnp.iscomplexobj(y) for y in leaves)})
            zeros = {name: jnp.zeros_like(first.record[name]) for name in order}
            (weight_grads, grads), outputs = nnx.grad(loss, argnums=(0, 1), has_aux=True)(model, zeros)
    finally:
        restore_statistics()
    flat = {tuple(map(str, path)): value for path, value in nnx.to_flat_state(weight_grads)}
    rows = batch_rows(leaves)
    activations = _activations(model, chosen)

    def kernel_grad(name: str) -> Any:
        key = (*map(str, paths[id(chosen[name])]), "kernel")
        value = flat[key]
        return np.asarray(value.get_value() if hasattr(value, "get_value") else value, dtype=np.float64) / rows

    def identical(name: str) -> bool:
        return identical_units(chosen[name].kernel.get_value(), -1, int(getattr(chosen[name], "feature_group_count", 1)))

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
