"""Whole-module initialization by rules: :func:`initialize`, the torch walker of :mod:`unit_init.adapters.rules`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import torch

from unit_init.adapters.canonical import canonical_leaf
from unit_init.adapters.rules import Entry, Initialized, Param, Rules, check_rng, draw, fill, plan
from unit_init.errors import DeviceError, ParameterError, keywords_checked
from unit_init.spec.fans import LayoutLike
from unit_init.torch._fill import refuse_unwritable

__all__ = ["describe", "initialize"]

_TRANSPOSED = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)
_EMBEDDINGS = (torch.nn.Embedding, torch.nn.EmbeddingBag)


def describe(module: torch.nn.Module, layout: LayoutLike) -> list[Param]:
    """The engine's view of every parameter of ``module`` (``named_parameters()`` order and names).

    Owners are looked up in ``named_modules()``, not by ``get_submodule``,
    which finds a submodule named like a method of ``nn.Module`` (``half``,
    ``float``, ``train``) as that method.
    """
    modules = dict(module.named_modules(remove_duplicate=False))
    return [_param(name, tensor, modules, layout) for name, tensor in module.named_parameters()]


def _param(name: str, tensor: torch.Tensor, modules: Mapping[str, torch.nn.Module], layout: LayoutLike) -> Param:
    """The engine's view of one parameter: torch layouts, Flax's leaf names (``weight`` → ``kernel``/``embedding``/``scale``)."""
    *path, leaf = name.split(".")
    owners = tuple(modules[".".join(path[:depth])] for depth in range(len(path), -1, -1))
    shape = tuple(tensor.shape)
    if isinstance(owners[0], _EMBEDDINGS) and leaf == "weight":
        return Param(name, tuple(path), "embedding", shape, "keras", owners)
    if isinstance(owners[0], _TRANSPOSED) and leaf == "weight" and layout == "torch":
        layout = "torch_transpose"
    return Param(name, tuple(path), canonical_leaf(leaf, len(shape)), shape, layout, owners)


def _padding_rows(param: Param) -> tuple[int, ...]:
    """The ``padding_idx`` row of an embedding table (torch normalizes it to >= 0), kept as it is."""
    is_table = isinstance(param.owner, _EMBEDDINGS) and param.name.rpartition(".")[2] == "weight"
    padding = param.owner.padding_idx if is_table else None
    return () if padding is None else (int(padding),)


def _refuse_lazy(tensors: Mapping[str, torch.Tensor]) -> None:
    for name, tensor in tensors.items():
        if isinstance(tensor, torch.nn.parameter.UninitializedParameter):
            msg = f"parameter {name!r} of a lazy module has no shape yet; run one forward pass first, then initialize."
            raise ParameterError(msg)


def _refuse_meta(entries: Iterable[Any], tensors: Mapping[str, torch.Tensor]) -> None:
    for entry in entries:
        if tensors[entry.param.name].device.type == "meta":
            msg = (
                f"parameter {entry.param.name!r} is on the 'meta' device, which holds no values to fill; "
                "materialize the module first with module.to_empty(device=...), then initialize it."
            )
            raise DeviceError(msg)


@keywords_checked
def initialize(
    module: torch.nn.Module,
    rules: Rules,
    *,
    seed: int | None = None,
    rng: str = "native",
    layout: LayoutLike = "torch",
    names: Mapping[str, str] | Callable[[str], str] | None = None,
    skip: Iterable[str] | Callable[[Param], bool] | None = None,
    bias_fan_from_weight: bool = True,
    progress: bool | None = None,
) -> Initialized:
    """Initialize ``module``'s parameters in place by rules; return ``(module, report)``.

    Each parameter of ``module.named_parameters()`` (qualified names such as
    ``"encoder.0.weight"``) takes the **first** rule that matches and covers it
    (see :mod:`unit_init.adapters.rules`): a glob on its name or its canonical
    name (``"encoder.0.kernel"``), a module type (``nn.Linear``: every
    parameter of the module but its biases), a ``Where(...)`` or a callable.
    A :class:`~unit_init.presets.LayerPreset` sets ``weight`` and ``bias``.
    Parameters no rule covers are left as they are and listed in the report;
    a rule that matches nothing raises a ``UserWarning``.

    Each parameter is drawn with ``derive_seed(seed, canonical name)``, so
    adding, removing or reordering others never changes its values, in the
    canonical ``(*window, in, out)`` layout, then permuted to torch's
    ``(out, in, *window)``: with ``rng="portable"`` a Flax or Keras twin gets
    the same values. With ``bias_fan_from_weight`` a bias is drawn with the
    fans of the ``weight`` beside it (PyTorch's ``U(±1/√fan_in)`` rule).
    The rows ``padding_idx`` of an ``Embedding``/``EmbeddingBag`` keep their
    values. Parameters on the ``"meta"`` device raise
    :class:`~unit_init.DeviceError` (materialize with ``module.to_empty(device=...)``
    first), before anything is written.

    Parameters
    ----------
    module:
        Any ``torch.nn.Module``.
    rules, seed, rng, names, skip, bias_fan_from_weight, progress:
        As in :func:`unit_init.initialize`.
    layout:
        The layout of weights of rank >= 2 (``ConvTranspose`` weights are
        ``"torch_transpose"`` when it is ``"torch"``; embedding tables are
        ``(num, dim)`` as everywhere).

    Examples
    --------
    >>> import torch, unit_init as ui
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> net, report = ui.torch.initialize(net, {torch.nn.Linear: ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    >>> net[2].bias.tolist(), report.unmatched
    ([0.0, 0.0], ())
    """
    if not isinstance(cast("object", module), torch.nn.Module):
        msg = f"module={type(module).__name__} is not a torch.nn.Module."
        raise ParameterError(msg)
    check_rng(rng)
    tensors = dict(module.named_parameters())
    _refuse_lazy(tensors)
    described = describe(module, layout)
    entries, report = plan(described, rules, seed=seed, skip=skip, names=names, bias_fan_from_weight=bias_fan_from_weight)
    _refuse_meta(entries, tensors)
    for entry in entries:
        refuse_unwritable(tensors[entry.param.name], f"parameter {entry.param.name!r}")
    kept: dict[str, tuple[int, ...]] = {}

    def target(entry: Entry) -> dict[str, Any]:
        tensor = tensors[entry.param.name]
        return {"backend": "torch", "device": tensor.device, "dtype": tensor.dtype, "rng": rng}

    def write(entry: Entry) -> None:
        tensor = tensors[entry.param.name]
        values = draw(entry, **target(entry))
        rows = _padding_rows(entry.param)
        with torch.no_grad():
            saved = tensor[list(rows)].clone() if rows else None
            tensor.copy_(values)
            if saved is not None:
                tensor[list(rows)] = saved
                kept[entry.param.name] = rows

    fill(entries, write, target=target, progress=progress)  # every parameter checked before the first is written
    return Initialized(module, dataclasses.replace(report, kept_rows=kept))
