"""Forward and backward hooks on a ``torch.nn.Module``: :func:`lsuv` and :func:`diagnose`.

The framework-free parts are :mod:`unit_init.adapters.lsuv` (the LSUV loop)
and :mod:`unit_init.diagnostics.model` (the report); this module only finds
the weight layers, runs the batch with ``register_forward_hook`` on them and
takes ``torch.autograd.grad`` with respect to their outputs.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, cast

import torch
from torch.nn.utils import parametrize

from unit_init.adapters.lsuv import (
    DEFAULT_SPEC,
    Layers,
    Rescaled,
    call,
    check_batch,
    check_options,
    rescaled,
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
from unit_init.errors import DeviceError, ParameterError, abbreviate, keywords_checked
from unit_init.spec.initializer import Initializer
from unit_init.torch._module import initialize, is_frozen, legacy_weight_norm, submodules, write_parametrized

__all__ = ["diagnose", "lsuv"]

_TRANSPOSED = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)
_SUPPORTED = (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d, *_TRANSPOSED)
_KINDS = "Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d"


class _Captured(Exception):
    """Raised by a hook once it has the output it wanted: the rest of the forward pass is not needed."""


def _layers(module: torch.nn.Module, layers: Layers) -> dict[str, torch.nn.Module]:
    if not isinstance(cast("object", module), torch.nn.Module):
        msg = f"module={type(module).__name__} is not a torch.nn.Module."
        raise ParameterError(msg)
    meta = [name for name, tensor in module.named_parameters() if tensor.device.type == "meta"]
    if meta:
        msg = f"parameter {abbreviate(meta[0])} is on the 'meta' device, which holds no values; materialize the module with module.to_empty(device=...) first."
        raise DeviceError(msg)
    named = ((name or type(module).__name__, layer) for name, layer in module.named_modules())
    return dict(select(named, layers, lambda layer: isinstance(layer, _SUPPORTED), _KINDS))


@contextlib.contextmanager
def _hooked(modules: Iterable[tuple[str, torch.nn.Module]], seen: dict[str, Any], stop: bool = False) -> Iterator[None]:
    """Record each module's first output in ``seen`` (in call order); with ``stop``, end the forward pass there."""

    def hook(name: str) -> Any:
        def record(_: torch.nn.Module, __: Any, output: Any) -> None:
            seen.setdefault(name, output)
            if stop:
                raise _Captured

        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in modules]
    try:
        yield
    except _Captured:
        pass
    finally:
        for handle in handles:
            handle.remove()


def _order(
    module: torch.nn.Module, batch: Any, layers: dict[str, torch.nn.Module], *, picked: bool
) -> tuple[list[str], dict[str, str | None]]:
    """The layers in the order the forward pass calls them, and the activation module called right after each, if any.

    Layers the pass never calls are an error where ``picked`` (``layers=``
    named them); otherwise they are left out (``MultiheadAttention``'s
    ``out_proj``, whose weight it uses without calling it). A layer whose
    only submodules are its ``parametrizations`` counts as a leaf.
    """
    leaves = [(name, child) for name, child, leaf in submodules(module, every_path=False) if leaf]
    names = {id(layer): name for name, layer in layers.items()}
    calls: dict[str, Any] = {}
    with torch.no_grad(), _hooked([(f"{index}", child) for index, (_, child) in enumerate(leaves)], calls):
        call(module, batch)
    sequence = [leaves[int(index)][1] for index in calls]
    order = [names[id(child)] for child in sequence if id(child) in names]
    missing = sorted(set(layers) - set(order))
    if missing and (picked or not order):
        msg = f"layers {missing} are not called by module(batch); pass layers= to pick the ones that run."
        raise ParameterError(msg)
    return order, {names[id(child)]: _activation_after(sequence[index + 1 :]) for index, child in enumerate(sequence) if id(child) in names}


def _saved(tensors: Iterable[torch.Tensor]) -> Callable[[], None]:
    """What copies each of ``tensors`` back to its value now (a copy of each is kept until then)."""
    saved = [(tensor, tensor.detach().clone()) for tensor in tensors]

    def restore() -> None:
        with torch.no_grad():
            for tensor, value in saved:
                tensor.copy_(value)

    return restore


@contextlib.contextmanager
def _state_kept(module: torch.nn.Module) -> Iterator[None]:
    """Leave ``module``'s buffers, and torch's global generators of the devices it is on, as they were: the batches
    LSUV and diagnose run are measurements, not training steps (in train mode ``BatchNorm`` would move its running
    statistics and count the batches, and ``Dropout`` would advance the global generator its training then draws from)."""
    restore = _saved(module.buffers())
    cuda = sorted({tensor.device.index or 0 for tensor in module.parameters() if tensor.device.type == "cuda"})
    try:
        with torch.random.fork_rng(devices=cuda):
            yield
    finally:
        restore()


def _write_weight(layer: torch.nn.Module, values: torch.Tensor) -> None:
    """Set ``layer.weight`` to ``values``: in place, or through torch's ``right_inverse`` for a parametrized weight."""
    if parametrize.is_parametrized(layer, "weight"):
        write_parametrized(layer, "weight", values)
        return
    with torch.no_grad():
        _weight(layer).copy_(values)


_PASSED_THROUGH: Final = (
    "torch.nn.modules.batchnorm", "torch.nn.modules.normalization", "torch.nn.modules.instancenorm", "torch.nn.modules.dropout",
)
"""The modules of the normalizations and dropout, which stand between a layer and its activation (``Conv2d`` →
``BatchNorm2d`` → ``ReLU`` is a ReLU layer), as ``nn.Identity`` does (a normalization switched off, as timm does)."""


def _activation_after(following: Sequence[torch.nn.Module]) -> str | None:
    """The activation an ``nn.ReLU``/``nn.Tanh``/… module computes, the first module called after a layer once
    normalizations and dropout are passed (:data:`_PASSED_THROUGH`); ``None`` where another module comes first."""
    module = next((m for m in following if type(m).__module__ not in _PASSED_THROUGH and type(m) is not torch.nn.Identity), None)
    return activation_name(module) if type(module).__module__ == "torch.nn.modules.activation" else None


@keywords_checked
def lsuv(
    module: torch.nn.Module,
    batch: Any,
    *,
    spec: Initializer = DEFAULT_SPEC,
    target_std: float = 1.0,
    tol: float = 0.1,
    max_iter: int = 10,
    seed: int | None = None,
    layers: Layers = None,
    progress: bool | None = None,
) -> Rescaled:
    """LSUV (Mishkin & Matas 2015) on a torch module, in place; return ``(module, report)``.

    Every selected layer's weight is drawn from ``spec`` and its bias set to
    zero (:func:`initialize`, seeded by ``seed``); then, in forward order,
    ``W_l ← W_l · τ / std(z_l)`` until ``|std(z_l) − τ| ≤ tol · τ`` (at most
    ``max_iter`` times), ``z_l`` being the layer's output on ``batch`` and
    ``τ = target_std``. See :mod:`unit_init.adapters.lsuv` and docs/lsuv.md.

    Parameters
    ----------
    module:
        A ``torch.nn.Module``, run as ``module(batch)`` (``module(*batch)``
        for a tuple, ``module(**batch)`` for a dict) in its current mode.
    batch:
        The data the output stds are measured on.
    spec, seed:
        The initial draw (orthogonal, as in the paper).
    target_std, tol, max_iter:
        ``τ``, the relative tolerance and the most rescalings per layer.
    layers:
        Which layers: globs on module names (``"features.*"``) and module
        types; ``None`` takes every ``Linear``, ``Conv*`` and ``ConvTranspose*``
        but those whose weight another module holds too (a head tied to an
        embedding) and frozen ones (``requires_grad=False``), which ``layers=``
        may not pick either.
    progress:
        Show a bar over the layers (``None``: in a terminal or notebook).

    Returns
    -------
    Rescaled
        ``(module, report)``; the :class:`~unit_init.adapters.lsuv.LSUVReport`
        gives each layer's final std, scale and iterations.

    Raises
    ------
    ParameterError
        No layer to rescale, a picked layer of another type, or one the forward pass never calls.
    DeviceError
        A parameter on the ``meta`` device.

    Examples
    --------
    >>> import torch, unit_init as ui
    >>> net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    >>> net, report = ui.torch.lsuv(net, torch.randn(256, 16), seed=0)
    >>> [round(layer.std, 3) for layer in report.layers], report.converged
    ([1.0, 1.0], True)
    """
    target_std, tol, max_iter = check_options(target_std, tol, max_iter)
    check_batch(batch, _finite)
    chosen = _unfrozen(_untied(module, _layers(module, layers), picked=layers is not None), picked=layers is not None)
    _refuse_legacy(chosen)
    with _state_kept(module):
        order, _ = _order(module, batch, chosen, picked=layers is not None)  # before anything is written
    chosen = {name: chosen[name] for name in order}

    def measure(name: str) -> float:
        seen: dict[str, torch.Tensor] = {}
        with torch.no_grad(), _hooked([(name, chosen[name])], seen, stop=True):
            call(module, batch)
        return std_of(seen[name].detach().cpu().double())

    def rescale(name: str, factor: float) -> bool:
        with torch.no_grad():
            scaled = rescaled(_weight(chosen[name]), factor, torch)
        if scaled is None:
            return False
        _write_weight(chosen[name], scaled)
        return True

    # the layers' parameters and buffers (a parametrization's stored tensors and vectors included), put back if it raises
    with undone_if_raised(_saved(t for layer in chosen.values() for t in (*layer.parameters(), *layer.buffers()))):
        initialize(module, rules_for(chosen.values(), spec, biases=any(layer.bias is not None for layer in chosen.values())),
                   seed=seed, progress=progress)
        with _state_kept(module):
            report = run(order, measure, rescale, target_std=target_std, tol=tol, max_iter=max_iter, progress=progress)
    return Rescaled(module, report)


def _finite(array: Any) -> bool:
    """Whether every value of a batch input is finite: ``True`` for a non-tensor (torch's call refuses it), an integer tensor or one on ``meta``."""
    if not isinstance(array, torch.Tensor) or array.device.type == "meta" or not (array.is_floating_point() or array.is_complex()):
        return True
    return bool(torch.isfinite(array).all())


def _weight(layer: torch.nn.Module) -> torch.Tensor:
    return cast("torch.Tensor", layer.weight)


def _refuse_legacy(chosen: Mapping[str, torch.nn.Module]) -> None:
    """:class:`ParameterError` for a layer of the deprecated ``torch.nn.utils.weight_norm``: its ``weight`` is recomputed
    from ``weight_g`` and ``weight_v`` before each call, so a rescaled weight was lost at the next one."""
    for name, layer in chosen.items():
        if legacy_weight_norm(layer) is not None:
            msg = f"layer {abbreviate(name)} uses the deprecated torch.nn.utils.weight_norm; use torch.nn.utils.parametrizations.weight_norm, or leave it out with layers=."
            raise ParameterError(msg)


def _untied(module: torch.nn.Module, chosen: dict[str, torch.nn.Module], *, picked: bool) -> dict[str, torch.nn.Module]:
    """The ``chosen`` layers whose weight no other module holds too (``b.weight = a.weight``; an output head tied to the
    input embedding): rescaling it rescales the other, whose outputs LSUV fixed before or does not measure (a tied head
    rescaled the embedding table, every output before it moved). Left out unless ``picked`` (``layers=`` named them),
    where such a layer is a :class:`ParameterError`; if every layer is tied so, a :class:`ParameterError` too."""
    holders: dict[int, list[tuple[str, torch.nn.Module]]] = {}
    for name, node, _ in submodules(module):  # every path (a layer registered twice is one layer, not a tie), no cycle
        for tensor in node._parameters.values():
            if tensor is not None:
                holders.setdefault(id(tensor), []).append((name, node))
    kept = {}
    for name, layer in chosen.items():
        weight = layer._parameters.get("weight")  # the stored tensor (a parametrized weight is computed, never tied)
        others = [holder for holder, node in holders.get(id(weight), []) if node is not layer] if weight is not None else []
        if not others:
            kept[name] = layer
        elif picked:
            msg = (f"layer {abbreviate(name)} shares its weight with {abbreviate(others[0])} (a tied weight): rescaling it "
                   "would rescale that one too, so LSUV can fit neither; pass layers= without it.")
            raise ParameterError(msg)
    if not kept:
        msg = f"every weight layer LSUV could rescale ({', '.join(map(abbreviate, chosen))}) shares its weight with another module; none is left."
        raise ParameterError(msg)
    return kept


def _stored_weight(layer: torch.nn.Module) -> list[torch.Tensor]:
    """The tensors ``layer``'s weight is stored in: itself, or its parametrization's originals."""
    parametrized = getattr(getattr(layer, "parametrizations", None), "weight", None)
    if parametrized is not None:
        return list(parametrized.parameters())
    weight = layer._parameters.get("weight")
    return [weight] if weight is not None else []


def _unfrozen(chosen: dict[str, torch.nn.Module], *, picked: bool) -> dict[str, torch.nn.Module]:
    """The ``chosen`` layers whose weight requires grad: ``initialize`` leaves a frozen one (a pretrained layer kept on
    purpose) as it is, so LSUV would rescale weights it never drew. Left out unless ``picked`` (``layers=`` named
    them), where a frozen one is a :class:`ParameterError`; if every layer is frozen, a :class:`ParameterError` too."""
    frozen = [name for name, layer in chosen.items() if (stored := _stored_weight(layer)) and all(map(is_frozen, stored))]
    if frozen and (picked or len(frozen) == len(chosen)):
        msg = (f"layers {frozen} are frozen (requires_grad=False): lsuv draws a layer's weight before rescaling it, and "
               "initialize leaves frozen parameters as they are; unfreeze them (requires_grad_(True)) or leave them out with layers=.")
        raise ParameterError(msg)
    return {name: layer for name, layer in chosen.items() if name not in frozen}


def _units(layer: torch.nn.Module) -> int:
    """A weight layer's output units (channels): its weight's first axis, a transposed conv's second times its groups
    (read from the weight, not the output, whose axis 1 is a sequence in a batch-first transformer)."""
    weight = _weight(layer)
    if isinstance(layer, _TRANSPOSED):
        return int(weight.shape[1]) * int(getattr(layer, "groups", 1))
    return int(weight.shape[0])


def _identical(layer: torch.nn.Module) -> bool:
    """:func:`~unit_init.diagnostics.model.identical_units` of the output channels (rows of torch's ``(out, in, *window)``;
    columns of a transposed conv's) in each of the layer's ``groups``."""
    weight = _weight(layer).transpose(0, 1) if isinstance(layer, _TRANSPOSED) else _weight(layer)
    return identical_units(weight.detach().cpu(), 0, int(getattr(layer, "groups", 1)))


def _autograd_ready(batch: Any) -> Any:
    """``batch`` with each tensor made under ``torch.inference_mode()`` cloned (autograd refuses to save those), also
    inside nested tuples, lists, named tuples and dicts (``torch.utils._pytree``'s containers)."""
    from torch.utils import _pytree as pytree  # torch's own walk of nested inputs, as its hooks use it

    return pytree.tree_map_only(torch.Tensor, lambda value: value.clone() if value.is_inference() else value, batch)


@contextlib.contextmanager
def _differentiable(layers: Iterable[torch.nn.Module]) -> Iterator[None]:
    """Autograd on, and every floating parameter of ``layers`` requiring grad, for the backward pass; restored after.

    A frozen layer (``requires_grad_(False)``, a fine-tuning setup) or a call
    inside ``torch.no_grad()`` would leave the outputs without a graph to differentiate.
    """
    frozen = [p for layer in layers for p in layer.parameters() if not p.requires_grad and p.is_floating_point()]
    for parameter in frozen:
        parameter.requires_grad_(True)
    try:
        with torch.enable_grad():
            yield
    finally:
        for parameter in frozen:
            parameter.requires_grad_(False)


def _float_leaves(output: Any) -> list[torch.Tensor]:
    """The float (and complex) tensors of a module's output: itself, or the leaves of a tuple, list or dict of them."""
    from torch.utils import _pytree as pytree

    return [leaf for leaf in pytree.tree_leaves(output) if isinstance(leaf, torch.Tensor) and (leaf.is_floating_point() or leaf.is_complex())]


def _check_differentiable(loss: torch.Tensor, outputs: Mapping[str, torch.Tensor]) -> None:
    """:class:`ParameterError` where the model's output, or a layer's output, is outside autograd's graph (detached, or
    computed under ``torch.no_grad()`` inside ``forward``): there is no gradient to report."""
    if not loss.requires_grad:
        msg = "the model's output does not depend differentiably on its layers (detached, or computed under torch.no_grad()); diagnose needs the gradients."
        raise ParameterError(msg)
    for name, output in outputs.items():
        if not output.requires_grad:
            msg = f"layer {abbreviate(name)}'s output is outside autograd's graph (computed under torch.no_grad()?); leave it out: unit_init.torch.diagnose(module, batch, layers=[...])."
            raise ParameterError(msg)


def _check_reached(order: Sequence[str], grads: Sequence[torch.Tensor | None]) -> None:
    """:class:`ParameterError` naming a layer whose output (or weight) does not reach the model's output (an auxiliary
    head ``forward`` computes and drops): its gradient is undefined, not 0."""
    for i, name in enumerate(order):
        if grads[i] is None or grads[len(order) + i] is None:
            msg = f"layer {abbreviate(name)}'s output does not reach the model's output, so it has no gradient; leave it out: unit_init.torch.diagnose(module, batch, layers=[...])."
            raise ParameterError(msg)


@keywords_checked
def diagnose(module: torch.nn.Module, batch: Any, *, layers: Layers = None, seed: int = 0) -> ModelReport:
    """Per-layer output and gradient stds of a torch module on ``batch``, judged as :func:`unit_init.diagnose` judges its MLP.

    Forward hooks take each layer's output ``z_l``; ``torch.autograd.grad``
    of ``ℓ = ⟨g, y⟩`` (``g`` a standard-normal probe drawn from ``seed``,
    ``y = module(batch)``; summed over the tensors of a tuple, list or dict output) gives ``∂ℓ/∂z_l`` and ``∂L/∂W_l``. See
    :mod:`unit_init.diagnostics.model`; ``layers`` is as in :func:`lsuv`.

    Examples
    --------
    >>> import torch, unit_init as ui
    >>> net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    >>> report = ui.diagnose(net, torch.randn(64, 16))
    >>> report.layers, report.suggested
    (('0', '2'), ('he_normal', '?'))
    """
    check_batch(batch, _finite)
    if torch.is_inference_mode_enabled():
        msg = "diagnose differentiates through the module, which torch.inference_mode() forbids; call it outside (torch.no_grad() is fine)."
        raise ParameterError(msg)
    batch = _autograd_ready(batch)
    chosen = _layers(module, layers)
    seen: dict[str, torch.Tensor] = {}
    with _state_kept(module), _differentiable(chosen.values()):  # buffers restored after the backward pass, which may read them
        order, activations = _order(module, batch, chosen, picked=layers is not None)
        chosen = {name: chosen[name] for name in order}
        with parametrize.cached(), _hooked(chosen.items(), seen):  # cached: a parametrized weight is one tensor of the graph
            output = call(module, batch)
            weights = [_weight(chosen[name]) for name in order]
        outputs = _float_leaves(output)
        check_real({**{name: seen[name].is_complex() for name in order}, "output": any(y.is_complex() for y in outputs)})
        terms = [(torch.as_tensor(g, dtype=y.dtype, device=y.device) * y).sum() for g, y in zip(probes(outputs, seed), outputs, strict=True)]
        loss = functools.reduce(operator.add, terms)
        _check_differentiable(loss, {name: seen[name] for name in order})
        grads = torch.autograd.grad(loss, [*(seen[name] for name in order), *weights], allow_unused=True)
        _check_reached(order, grads)
    rows = batch_rows(outputs)

    def numpy(tensor: torch.Tensor) -> Any:
        return tensor.detach().cpu().double().numpy()

    traces = [
        LayerTrace(name, numpy(seen[name]), numpy(grads[i]), numpy(grads[len(order) + i]) / rows,
                   _identical(chosen[name]), activations[name])
        for i, name in enumerate(order)
    ]
    first = weights[0]
    return model_report(
        traces, model=type(module).__name__, backend="torch", device=str(first.device), dtype=str(first.dtype).removeprefix("torch."),
        batch=rows, width=max(_units(chosen[name]) for name in order),
        bias=any(chosen[name].bias is not None for name in order), seed=seed,
    )
