"""Flax linen, functionally: ``lsuv(module, variables, batch)`` returns new variables; ``diagnose(module, variables, batch)``.

Each ``Dense``/``Conv``/``ConvTranspose`` call is seen through
``flax.linen.intercept_methods``, which reports the bound module (its
``path``), lets a measurement stop the pass once it has the output it wanted,
and adds the zero perturbation ``ε_l`` whose ``jax.grad`` is ``∂ℓ/∂z_l``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.core import meta

from unit_init.adapters.lsuv import Rescaled, call, check_batch, check_options, rules_for, run, select, std_of
from unit_init.diagnostics.model import (
    LayerTrace,
    ModelReport,
    batch_rows,
    check_real,
    identical_units,
    model_report,
    probes,
)
from unit_init.errors import ParameterError
from unit_init.jax._params import finite, float_leaves, initialize, probed, rescaled
from unit_init.spec.initializer import Initializer

__all__ = ["diagnose_linen", "lsuv_linen"]

_SUPPORTED = (nn.Dense, nn.Conv, nn.ConvTranspose)
_KINDS = "nn.Dense, nn.Conv, nn.ConvTranspose"


class _Captured(Exception):
    """Raised once the wanted layer's output is recorded: the rest of the pass is not needed."""


@contextlib.contextmanager
def _intercept(record: dict[str, tuple[Any, Any]], stop: str | None = None, eps: Mapping[str, Any] | None = None) -> Iterator[None]:
    """Record ``name → (module, output)`` for each module ``__call__`` (first call), in call order; stop after ``stop``; add ``eps[name]``."""

    def interceptor(next_fun: Callable[..., Any], args: Any, kwargs: Any, context: Any) -> Any:
        output = next_fun(*args, **kwargs)
        if context.method_name == "__call__" and context.module.path:
            name = "/".join(context.module.path)
            record.setdefault(name, (context.module, output))
            if name == stop:
                raise _Captured
            if eps is not None and name in eps:
                output = output + eps[name]
        return output

    with contextlib.suppress(_Captured), nn.intercept_methods(interceptor):
        yield


def _layers(apply: Callable[[dict[str, tuple[Any, Any]]], None], layers: Any) -> dict[str, Any]:
    """The layers ``layers`` picks among those one pass calls, in call order."""
    seen: dict[str, tuple[Any, Any]] = {}
    apply(seen)
    return dict(select(((name, layer) for name, (layer, _) in seen.items()), layers,
                       lambda layer: isinstance(layer, _SUPPORTED), _KINDS))


def _at(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path``, unboxed where it is boxed (``nn.with_partitioning``'s ``nn.Partitioned``)."""
    for part in path:
        tree = tree[part]
    return tree.unbox() if isinstance(tree, meta.AxisMetadata) else tree


def _replaced(tree: Mapping[str, Any], path: tuple[str, ...], kernel: Any) -> dict[str, Any]:
    """A copy of the nested ``tree`` whose ``path/kernel`` is ``kernel`` (boxed again where it was boxed)."""
    head, *rest = path
    if rest:
        return {**tree, head: _replaced(tree[head], tuple(rest), kernel)}
    boxed = tree[head]["kernel"]
    inner = {**tree[head], "kernel": boxed.replace_boxed(kernel) if isinstance(boxed, meta.AxisMetadata) else kernel}
    return {**tree, head: inner}


def _check_linen(module: Any, variables: Any) -> None:
    """:class:`ParameterError` unless ``(module, variables)`` is a linen module and its variables dict."""
    if not isinstance(module, nn.Module) or not isinstance(variables, Mapping):
        msg = (
            f"(module, variables, batch) is the linen form; got a {type(module).__name__} and a {type(variables).__name__} "
            "(for an nnx module, pass (model, batch))."
        )
        raise ParameterError(msg)
    if isinstance(module, _SUPPORTED):  # linen's interceptor names the layers inside a model, not the model itself
        msg = (
            f"the module is itself a {type(module).__name__}; lsuv and diagnose hook the layers inside a linen model: "
            f"wrap it (nn.Sequential([layer])) and pass that model's variables."
        )
        raise ParameterError(msg)


def lsuv_linen(
    module: nn.Module,
    variables: Mapping[str, Any],
    batch: Any,
    *,
    spec: Initializer,
    target_std: float,
    tol: float,
    max_iter: int,
    seed: int | None,
    layers: Any,
    progress: bool | None,
) -> Rescaled:
    """The linen form of :func:`unit_init.jax.lsuv`: ``(new_variables, report)``; ``layers`` picks by module path (``"Dense_0"``) or type."""
    target_std, tol, max_iter = check_options(target_std, tol, max_iter)
    check_batch(batch, finite)
    _check_linen(module, variables)
    state = {"variables": dict(variables)}

    def apply(record: dict[str, tuple[Any, Any]], stop: str | None = None) -> None:
        with _intercept(record, stop):
            call(lambda *a, **k: module.apply(state["variables"], *a, **k), batch)

    chosen = _layers(apply, layers)
    rules = rules_for(chosen.values(), spec, biases=any(getattr(layer, "use_bias", False) for layer in chosen.values()))
    state["variables"], _ = initialize(state["variables"], rules, seed=seed, modules=chosen, progress=progress)

    def measure(name: str) -> float:
        record: dict[str, tuple[Any, Any]] = {}
        apply(record, stop=name)
        return std_of(record[name][1])

    def rescale(name: str, factor: float) -> bool:
        current = state["variables"]
        path = tuple(name.split("/"))
        kernel = rescaled(_at(current["params"], (*path, "kernel")), factor)
        if kernel is None:
            return False
        state["variables"] = {**current, "params": _replaced(current["params"], path, kernel)}
        return True

    report = run(list(chosen), measure, rescale, target_std=target_std, tol=tol, max_iter=max_iter, progress=progress)
    return Rescaled(state["variables"], report)


def diagnose_linen(module: nn.Module, variables: Mapping[str, Any], batch: Any, *, layers: Any = None, seed: int = 0) -> ModelReport:
    """The linen form of :func:`unit_init.jax.diagnose`: ``jax.grad`` of ``ℓ = ⟨g, y⟩`` w.r.t. the params and the ``ε_l``.

    The activations between layers are plain functions in linen, so none is
    known and no initializer is suggested (``"?"``).
    """
    check_batch(batch, finite)
    _check_linen(module, variables)

    def apply(record: dict[str, tuple[Any, Any]], params: Any = None, eps: Mapping[str, Any] | None = None) -> Any:
        values = dict(variables) if params is None else {**variables, "params": params}
        with _intercept(record, eps=eps):
            return call(lambda *a, **k: module.apply(values, *a, **k), batch)

    chosen = _layers(apply, layers)
    record: dict[str, tuple[Any, Any]] = {}
    output = apply(record)
    leaves = float_leaves(output)
    check_real({**{name: jnp.iscomplexobj(record[name][1]) for name in chosen}, "output": any(jnp.iscomplexobj(y) for y in leaves)})
    gs = [jnp.asarray(g, dtype=y.dtype) for g, y in zip(probes(leaves, seed), leaves, strict=True)]

    def loss(params: Any, eps: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        seen: dict[str, tuple[Any, Any]] = {}
        y = apply(seen, params, eps)
        return probed(gs, y), {name: seen[name][1] for name in eps}

    zeros = {name: jnp.zeros_like(record[name][1]) for name in chosen}
    (param_grads, grads), outputs = jax.grad(loss, argnums=(0, 1), has_aux=True)(variables["params"], zeros)
    rows = batch_rows(leaves)

    def numpy(value: Any) -> Any:
        return np.asarray(value, dtype=np.float64)

    def kernel(tree: Any, name: str) -> Any:
        return numpy(_at(tree, (*name.split("/"), "kernel")))

    traces = [
        LayerTrace(name, numpy(outputs[name]), numpy(grads[name]), kernel(param_grads, name) / rows,
                   identical_units(kernel(variables["params"], name), -1, int(getattr(chosen[name], "feature_group_count", 1))), None)
        for name in chosen
    ]
    first = _at(variables["params"], (*next(iter(chosen)).split("/"), "kernel"))
    return model_report(
        traces, model=type(module).__name__, backend="flax.linen", device=str(next(iter(first.devices()))),
        dtype=str(first.dtype), batch=rows, width=max(int(outputs[name].shape[-1]) for name in chosen),
        bias=any(getattr(layer, "use_bias", False) for layer in chosen.values()), seed=seed,
    )
