"""Whole-module initialization by rules: :func:`initialize`, the torch walker of :mod:`unit_init.adapters.rules`."""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import fnmatch
import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import torch

from unit_init.adapters.canonical import canonical_leaf
from unit_init.adapters.rules import MAX_SKIPPED, Entry, Initialized, Param, Rules, check_rng, draw, fill, plan
from unit_init.backends.torch_backend import PLAIN_TENSORS, drawing_into
from unit_init.errors import DeviceError, ParameterError, abbreviate, keywords_checked, outside_stacklevel
from unit_init.spec._checks import listed, plain_number
from unit_init.spec.fans import LayoutLike, compute_fans
from unit_init.torch._fill import is_dtensor, local_block, refuse_unwritable

__all__ = ["describe", "initialize", "legacy_weight_norm", "submodules", "write_parametrized"]

_TRANSPOSED = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d, torch.nn.ConvTranspose3d)
_EMBEDDINGS = (torch.nn.Embedding, torch.nn.EmbeddingBag)


def submodules(module: torch.nn.Module, *, every_path: bool = True) -> list[tuple[str, torch.nn.Module, bool]]:
    """Every submodule of ``module`` with whether it is a leaf (no submodule but its ``parametrizations``, and not
    inside those), in ``named_modules()`` order: by every path to it (``remove_duplicate=False``), or, without
    ``every_path``, once by its first (a shared submodule's own submodules not walked again).

    A path that comes back to a module above it (``self.fc.owner = self``) stops there, where torch's own walk
    recurses without end; such a back reference does not make its holder less of a leaf.
    """
    found: list[tuple[str, torch.nn.Module, bool]] = []
    seen: set[int] = set()
    stack: list[tuple[str, torch.nn.Module, frozenset[int]]] = [("", module, frozenset())]
    while stack:
        name, node, above = stack.pop()
        if not every_path:
            if id(node) in seen:
                continue
            seen.add(id(node))
        inner = above | {id(node)}
        children = [(key, child) for key, child in node._modules.items() if child is not None and id(child) not in inner]
        inside = "parametrizations" in name.split(".")
        found.append((name, node, not inside and all(key == "parametrizations" for key, _ in children)))
        stack.extend((f"{name}.{key}" if name else key, child, inner) for key, child in reversed(children))
    return found


@dataclasses.dataclass(frozen=True)
class _Tensor:
    """One tensor rules reach: a parameter, or a parametrized attribute written through its parametrization.

    ``value`` is the parameter itself, or the parametrized tensor as computed
    now (its shape, dtype and device); ``stored`` holds the values (the
    parameter; the parametrization's originals); ``owner`` is the parametrized
    module (``None`` for a parameter), written as ``setattr(owner, leaf, values)``.
    """

    value: torch.Tensor
    stored: tuple[torch.Tensor, ...]
    owner: torch.nn.Module | None = None
    leaf: str = ""
    aliases: tuple[str, ...] = ()
    unassignable: str | None = None  # why its right_inverse cannot take values (raised only where a rule reaches it)


def _tensors(module: torch.nn.Module, walked: list[tuple[str, torch.nn.Module, bool]], modules: Mapping[str, torch.nn.Module]) -> dict[str, _Tensor]:
    """Every tensor of ``module`` rules reach, by name, in ``named_parameters()`` order.

    A parametrized attribute (``torch.nn.utils.parametrize``: ``weight_norm``,
    ``orthogonal``, ``spectral_norm``) whose parametrizations all have a
    ``right_inverse`` is one tensor named as users read it, ``"0.weight"``:
    drawn for its own shape and written as ``module.weight = values``, so torch
    turns it into the originals (``weight_norm``'s ``g`` and ``v``). One without
    ``right_inverse`` keeps its originals (``"0.parametrizations.weight.original"``),
    each drawn for its own shape.
    """
    names: dict[int, list[str]] = {}  # a tied or shared tensor has several
    for prefix, node, _ in walked:  # named_parameters(remove_duplicate=False), without its endless walk of a cycle
        for key, tensor in node._parameters.items():
            if tensor is not None:
                names.setdefault(id(tensor), []).append(f"{prefix}.{key}" if prefix else key)
    found: dict[str, _Tensor] = {}
    for name, tensor in module.named_parameters():
        if isinstance(tensor, torch.nn.parameter.UninitializedParameter):  # no shape yet: refused or skipped by the caller
            continue
        parts = name.split(".")  # a parametrization's original: <owner path>.parametrizations.<leaf>.original[N]
        stored = len(parts) >= 3 and parts[-3] == "parametrizations" and parts[-1].startswith("original")
        path, leaf = parts[:-3], parts[-2] if stored else ""
        owner = modules.get(".".join(path)) if stored else None
        chain = _parametrizations(owner, leaf) if owner is not None else None
        seen = found.get(shown := ".".join((*path, leaf)))
        if seen is not None and seen.owner is owner:  # weight_norm's second original
            found[shown] = dataclasses.replace(seen, stored=(*seen.stored, tensor), aliases=(*seen.aliases, *names[id(tensor)]))
        elif owner is not None and chain is not None and (assignable := _assignable(owner, leaf, chain)) is not None:
            value, unassignable = assignable
            found[shown] = _Tensor(value, (tensor,), owner, leaf, tuple(names[id(tensor)]), unassignable)
        else:
            found[name] = _Tensor(tensor, (tensor,), aliases=tuple(names[id(tensor)][1:]))
    return found


def _parametrizations(owner: torch.nn.Module, leaf: str) -> torch.nn.ModuleList | None:
    """The parametrizations of ``owner.<leaf>`` (a ``ParametrizationList``), or ``None``."""
    parametrizations = getattr(owner, "parametrizations", None)
    if not isinstance(parametrizations, torch.nn.ModuleDict) or leaf not in parametrizations:
        return None
    return cast("torch.nn.ModuleList", parametrizations[leaf])


def _assignable(owner: torch.nn.Module, leaf: str, chain: torch.nn.ModuleList) -> tuple[torch.Tensor, str | None] | None:
    """``owner.<leaf>`` as computed now, if its parametrizations all have a ``right_inverse``, and why that chain cannot
    take it (``None`` where every ``right_inverse`` works on it); ``None`` where one has none.

    Computed with the parametrizations in eval mode (``spectral_norm`` would
    otherwise take a power-iteration step, moving its vectors); the
    ``right_inverse`` chain is tried as :func:`_inverted` tries it, so nothing
    of the module changes. ``orthogonal(..., use_trivialization=False)`` with the Cayley or matrix
    exponential map has none that works (its ``NotImplementedError``); one that raises anything else on the
    weight's own value is refused with a :class:`~unit_init.ParameterError` where a rule reaches the weight
    (:func:`_refuse_unassignable`).

    A chain whose forward raises on what is stored (``orthogonal`` after ``to_empty``, which leaves whatever
    memory was there) stands in its first original for the weight (the shape, dtype and device every ``torch``
    parametrization keeps but ``weight_norm``'s, whose forward does not raise): where its ``right_inverse`` takes
    that, a drawn value is written as any other; else the weight is refused only where a rule reaches it.
    """
    if not all(hasattr(parametrization, "right_inverse") for parametrization in chain):
        return None
    modes = {module: module.training for module in chain.modules()}
    chain.eval()
    read: Exception | None = None
    try:
        with torch.no_grad():
            value = cast("torch.Tensor", getattr(owner, leaf))
    except Exception as error:  # the forward on what is stored: read only where a rule reaches the weight
        read, value = error, _originals(chain)[0]
    finally:
        for module, training in modes.items():
            module.training = training
    try:
        _inverted(chain, value)
    except NotImplementedError:  # torch's way of saying there is none (the Cayley map's)
        return None
    except Exception as error:  # a right_inverse that cannot take the weight's own value
        name = type(chain[0]).__name__ if len(chain) == 1 else "one of its parametrizations"
        failed = (
            f"forward of its parametrizations raised {type(read).__name__} ({str(read)[:200]}) on what is stored"
            if read is not None else f"right_inverse of {name} raised {type(error).__name__} ({str(error)[:200]}) on its own current value"
        )
        return value, (
            f"the {failed}, so no drawn value can be assigned; fix the parametrization, or remove it before "
            "initialize and register it after (or leave the weight out with skip=)."
        )
    return value, None


def _originals(chain: torch.nn.ModuleList) -> list[torch.Tensor]:
    """The tensors a parametrization chain stores: ``original``, or ``original0``, ``original1``, … (``weight_norm``)."""
    if hasattr(chain, "original"):
        return [cast("torch.Tensor", chain.original)]
    return [cast("torch.Tensor", getattr(chain, f"original{index}")) for index in itertools.takewhile(lambda i: hasattr(chain, f"original{i}"), itertools.count())]


def _inverted(chain: torch.nn.ModuleList, values: torch.Tensor) -> Any:
    """What torch would store for ``values``: each ``right_inverse`` of ``chain``, last first, run on a copy of it with
    torch's RNG restored after (``orthogonal``'s may draw), so nothing of the module changes; raises what they raise."""
    with torch.no_grad(), torch.random.fork_rng(devices=[values.device] if values.device.type == "cuda" else []):
        inverse: Any = values
        for parametrization in reversed(list(copy.deepcopy(chain))):
            inverse = cast("Any", parametrization).right_inverse(inverse)
    return inverse


def _read_back(chain: torch.nn.ModuleList, stored: tuple[Any, ...] | list[Any]) -> torch.Tensor:
    """What the forward of ``chain`` makes of the ``stored`` tensors (on a copy, in eval mode, torch's RNG restored
    after), ``spectral_norm``'s division by its estimate of the largest singular value taken as the identity: that
    estimate is made again for the written weight (:func:`_refresh`)."""
    with torch.no_grad(), torch.random.fork_rng(devices=[stored[0].device] if stored[0].device.type == "cuda" else []):
        copied = copy.deepcopy(chain).eval()
        value: Any = None
        for index, parametrization in enumerate(copied):
            if _is_spectral(parametrization):
                value = stored[0] if index == 0 else value
            else:
                value = parametrization(*stored) if index == 0 else parametrization(value)
    return torch.as_tensor(value)


def _is_spectral(parametrization: Any) -> bool:
    """Whether ``parametrization`` is ``spectral_norm``'s: a power iteration on its vectors ``_u`` and ``_v``."""
    return hasattr(parametrization, "_power_method") and hasattr(parametrization, "_u") and hasattr(parametrization, "_v")


def write_parametrized(owner: torch.nn.Module, leaf: str, values: torch.Tensor) -> None:
    """``owner.<leaf> = values``: torch's ``right_inverse`` turns them into the stored tensors, torch's RNG restored
    after (``orthogonal``'s may draw; initializing leaves the global generator as it was); then :func:`_refresh`."""
    with torch.no_grad(), torch.random.fork_rng(devices=[values.device] if values.device.type == "cuda" else []):
        setattr(owner, leaf, values)
        _refresh(cast("torch.nn.ModuleList", _parametrizations(owner, leaf)))


def _refresh(chain: torch.nn.ModuleList) -> None:
    """After a write: each ``spectral_norm``'s power-iteration vectors re-estimated for the new weight it sees (the
    original, or what the parametrizations before it in the chain make of it), as torch does when it registers the
    parametrization (15 iterations); otherwise they belong to the old one and eval mode divides by its norm. Vectors
    that are not finite, or zero (``to_empty`` leaves whatever memory was there), are first drawn again as torch
    draws them at registration (normal, normalized), from a generator of their own: the same on every run."""
    seen: Any = None  # the weight the next parametrization sees
    with torch.no_grad():
        parametrization: Any
        for index, parametrization in enumerate(list(chain)):
            weight = _originals(chain)[0] if index == 0 else seen
            if _is_spectral(parametrization):
                matrix = parametrization._reshape_weight_to_matrix(weight)
                _redraw_unusable(parametrization, matrix)
                parametrization._power_method(matrix, 15)
            if index < len(chain) - 1:
                seen = parametrization(*_originals(chain)) if index == 0 else parametrization(seen)


def _redraw_unusable(spectral: Any, matrix: torch.Tensor) -> None:
    """``spectral_norm``'s ``_u`` and ``_v`` drawn again where the norm of either is not finite (a value is not, or
    their squares overflow) or is zero: a power iteration from them gives nan or stays at 0."""
    norms = [float(torch.linalg.vector_norm(vector)) for vector in (spectral._u, spectral._v)]  # in their dtype, as the iteration
    usable = all(0 < norm < math.inf for norm in norms)
    if usable:
        return
    generator = torch.Generator(device=matrix.device).manual_seed(0)
    for vector in (spectral._u, spectral._v):
        fresh = torch.randn(vector.shape, generator=generator, dtype=vector.dtype, device=vector.device)
        vector.copy_(torch.nn.functional.normalize(fresh, dim=0, eps=spectral.eps))


def describe(module: torch.nn.Module, layout: LayoutLike) -> list[Param]:
    """The engine's view of every tensor of ``module`` rules reach (``named_parameters()`` order; see :func:`_tensors`).

    Owners are looked up in ``named_modules()``, not by ``get_submodule``,
    which finds a submodule named like a method of ``nn.Module`` (``half``,
    ``float``, ``train``) as that method.
    """
    _refuse_lazy(_lazy(module))
    walked = submodules(module)
    modules = {name: node for name, node, _ in walked}
    return _described(modules, _tensors(module, walked, modules), layout)


def _frozen(tensors: Mapping[str, _Tensor]) -> list[str]:
    """The parameters whose stored tensors are all frozen (:func:`is_frozen`: a pretrained layer kept, a fixed
    sinusoidal table): ``initialize`` leaves them as they are, as the Keras walker leaves non-trainable weights."""
    return [name for name, found in tensors.items() if all(is_frozen(stored) for stored in found.stored)]


def _described(modules: Mapping[str, torch.nn.Module], tensors: Mapping[str, _Tensor], layout: LayoutLike) -> list[Param]:
    return [_param(name, found, modules, layout) for name, found in tensors.items()]


def _param(name: str, found: _Tensor, modules: Mapping[str, torch.nn.Module], layout: LayoutLike) -> Param:
    """The engine's view of one parameter: torch layouts, Flax's leaf names (``weight`` → ``kernel``/``embedding``/``scale``).

    torch's ``(out, in, *window)`` is the layout of weights (every parameter whose name holds ``weight``: a layer's
    ``weight``, an RNN's ``weight_ih_l0``, attention's ``in_proj_weight``) and of ``torch.nn``'s own layers; a raw
    parameter of a user's module (``cls_token``, ``pos_embed``: :func:`_raw`) is drawn as it is, in the canonical
    layout, as its Flax or Keras twin is.

    Its owners are those of its name, then those of its other names (a tied
    ``decoder.weight = embedding.weight`` is inside the ``Embedding`` too).
    """
    *path, leaf = name.split(".")
    owners = _owners(name, modules)
    for alias in found.aliases if found.owner is None else ():  # a parametrized weight's are its own originals
        owners += tuple(layer for layer in _owners(alias, modules) if not any(layer is known for known in owners))
    shape = tuple(found.value.shape)
    if isinstance(owners[0], _EMBEDDINGS) and leaf == "weight":
        return Param(name, tuple(path), "embedding", shape, "keras", owners, found.aliases)
    transposed = isinstance(owners[0], _TRANSPOSED) and leaf == "weight"
    if transposed and layout == "torch":
        layout = "torch_transpose"
    if _stores_in_out(owners[0]) and leaf == "weight" and layout == "torch":
        layout = "keras"
    if layout == "torch" and _raw(name, owners[0]):
        layout = "keras"  # drawn as it is, as a Flax or Keras twin draws the same array
    torch_fans = compute_fans(shape, "torch") if transposed and len(shape) >= 2 else None  # torch's own reading of its weight
    return Param(name, tuple(path), canonical_leaf(leaf, len(shape)), shape, layout, owners, found.aliases, torch_fans)


def _raw(name: str, owner: torch.nn.Module) -> bool:
    """Whether the parameter ``name`` is a raw array of a user's module (a ``cls_token``, a position table), which no
    layer's layout describes: its name holds no ``weight`` (a parametrization's original, ``….parametrizations.weight.
    original``, is its weight's) and its module is not one of ``torch.nn``'s (whose ``bias_k``, ``bias_v`` torch's own
    initializers read in its layout)."""
    parts = name.split(".")
    role = parts[-2] if len(parts) >= 3 and parts[-3] == "parametrizations" else parts[-1]
    return "weight" not in role and not type(owner).__module__.startswith("torch.nn.")


def is_frozen(tensor: torch.Tensor) -> bool:
    """A float or complex tensor that requires no grad (``requires_grad_(False)``); an integer or bool one never can."""
    return (tensor.is_floating_point() or tensor.is_complex()) and not tensor.requires_grad


def _stores_in_out(layer: torch.nn.Module) -> bool:
    """Whether ``layer`` is Hugging Face's ``Conv1D`` (GPT-2, GPT, CTRL, …): a linear layer whose ``weight`` is stored
    ``(in, out) = (nx, nf)``, the transpose of ``nn.Linear``'s, which torch's own fan rules read the wrong way round."""
    hugging_face = (kind.__name__ == "Conv1D" and kind.__module__.split(".")[0] == "transformers" for kind in type(layer).__mro__)
    return any(hugging_face) and hasattr(layer, "nf")  # a subclass of it too


def _owners(name: str, modules: Mapping[str, torch.nn.Module]) -> tuple[torch.nn.Module, ...]:
    """The modules on the path of a parameter's name, innermost first."""
    path = name.split(".")[:-1]
    return tuple(modules[".".join(path[:depth])] for depth in range(len(path), -1, -1))


def _padding_rows(param: Param) -> tuple[int, ...]:
    """The ``padding_idx`` rows of the embedding tables holding ``param``, as rows ``>= 0`` (torch's reading of a
    negative one): zeroed, not drawn. A ``padding_idx`` set outside the table afterwards is a :class:`ParameterError`."""
    rows = set()
    for layer in param.owners:
        if isinstance(layer, _EMBEDDINGS) and layer.padding_idx is not None:
            row, count = plain_number(layer.padding_idx), param.shape[0] if param.shape else 0
            if isinstance(row, bool) or not isinstance(row, int) or not -count <= row < count:
                msg = f"parameter {abbreviate(param.name)}: padding_idx={abbreviate(layer.padding_idx)} is no int row index of its {count} rows."
                raise ParameterError(msg)
            rows.add(row % count)
    return tuple(sorted(rows))


def _rows_in(rows: tuple[int, ...], block: tuple[slice, ...] | None) -> list[int]:
    """The ``padding_idx`` ``rows`` of a table as rows of ``block`` of it (a DTensor's local block), or as they are."""
    if block is None:
        return list(rows)
    first = block[0]
    return [row - first.start for row in rows if first.start <= row < first.stop]


def _check_inverse(owner: torch.nn.Module, leaf: str, values: torch.Tensor) -> None:
    """:class:`ParameterError` unless the parametrizations of ``owner.<leaf>`` take ``values`` back to finite stored
    tensors (:func:`_inverted`), which their forward reads back as finite values: an ``exp`` parametrization's ``log``
    of a negative draw was written as NaN, one that raised had left the parameters before it written, and
    ``weight_norm`` stored a zeroed ``padding_idx`` row as ``g = 0``, ``v = 0``, read back as 0/0."""
    chain = cast("torch.nn.ModuleList", _parametrizations(owner, leaf))
    try:
        inverse = _inverted(chain, values)
    except Exception as error:  # a user's parametrization may raise anything
        msg = f"its parametrization's right_inverse refuses the values drawn for it ({type(error).__name__}: {abbreviate(str(error), 200)})."
        raise ParameterError(msg) from error
    stored = inverse if isinstance(inverse, (tuple, list)) else (inverse,)
    if bool(values.isfinite().all()) and not all(bool(torch.as_tensor(t).isfinite().all()) for t in stored):
        msg = "its parametrization's right_inverse turns the values drawn for it into non-finite ones (a log of a negative value?); choose a spec whose values it takes."
        raise ParameterError(msg)
    try:
        read = _read_back(chain, stored)
    except Exception as error:  # a user's parametrization may raise anything
        msg = f"its parametrizations' forward raises on the values drawn for it ({type(error).__name__}: {abbreviate(str(error), 200)})."
        raise ParameterError(msg) from error
    if bool(values.isfinite().all()) and not bool(read.isfinite().all()):
        msg = (
            "its parametrizations read the values drawn for it back as non-finite ones (weight_norm of a zero row, as an "
            "Embedding's padding_idx row, is 0/0); remove the parametrization, or leave the weight out with skip=."
        )
        raise ParameterError(msg)


def _warn_overlapping(entries: Sequence[Entry], tensors: Mapping[str, _Tensor]) -> None:
    """A warning for each two parameters the rules write whose memory overlaps (one a view of the other, as
    ``Parameter(a.data[:2])``): the one written later overwrites part of the other, as torch's own initializers would.
    A tied parameter (one tensor under two names) is one entry, written once."""
    spans: list[tuple[str, Any, int, int]] = []
    for entry in entries:
        for stored in tensors[entry.param.name].stored:
            if type(stored) not in PLAIN_TENSORS or stored.numel() == 0 or stored.is_meta:  # a FakeTensor has no address
                continue
            memory = stored.untyped_storage().data_ptr()
            start = int(stored.storage_offset()) * stored.element_size()
            reach = sum((int(size) - 1) * abs(stride) for size, stride in zip(stored.shape, stored.stride(), strict=True)) + 1
            spans.append((entry.param.name, memory, start, start + reach * stored.element_size()))
    spans.sort(key=lambda span: (span[1], span[2]))
    for (first, memory, _, end), (second, other, start, _) in itertools.pairwise(spans):
        if memory == other and start < end and first != second:
            warnings.warn(
                f"initialize: parameters {first!r} and {second!r} share memory (one is a view of the other); the one "
                "written later overwrites part of the other.", UserWarning, stacklevel=outside_stacklevel(),
            )


def _lazy(module: torch.nn.Module) -> list[str]:
    """The names of ``module``'s parameters that a lazy module (``nn.LazyLinear``) has not given a shape yet."""
    return [name for name, tensor in module.named_parameters() if isinstance(tensor, torch.nn.parameter.UninitializedParameter)]


def _refuse_lazy(lazy: Iterable[str], skip: object = None) -> None:
    """:class:`ParameterError` for a lazy parameter, unless ``skip`` is globs on names that leave it out (a skip test or a
    rule would need its shape, which it has none of until a forward pass)."""
    globs = [] if skip is None or callable(skip) or isinstance(skip, str) else listed(skip) or []
    left = [name for name in lazy if not any(isinstance(glob, str) and fnmatch.fnmatchcase(name, glob) for glob in globs)]
    if left:
        modules = sorted({name.rpartition(".")[0] for name in left})  # each lazy module's parameters, by one glob
        skips = ", ".join(repr(f"{module}.*" if module else "*") for module in modules[:8])
        more = f" and {len(modules) - 8} more lazy modules'" if len(modules) > 8 else ""
        msg = (f"parameter {abbreviate(left[0])} of a lazy module has no shape yet ({len(left)} lazy parameters); run one "
               f"forward pass first, then initialize, or leave them out with skip=[{skips}]{more} (names and globs).")
        raise ParameterError(msg)


def legacy_weight_norm(layer: torch.nn.Module) -> str | None:
    """The attribute the deprecated ``torch.nn.utils.weight_norm`` splits in ``layer`` (``"weight"`` into ``weight_g``
    and ``weight_v``, recomputed by a forward pre-hook), else ``None``."""
    for hook in layer._forward_pre_hooks.values():
        if type(hook).__name__ == "WeightNorm" and type(hook).__module__ == "torch.nn.utils.weight_norm":
            return cast("str", cast("Any", hook).name)
    return None


def _refuse_legacy_weight_norm(entries: Iterable[Any]) -> None:
    """:class:`ParameterError` for a parameter a rule reaches that the deprecated ``weight_norm`` made: its ``g`` was drawn
    as a weight of fan_in 1 and its ``v`` alone, so the weight did not follow the spec's law."""
    for entry in entries:
        owner = entry.param.owners[0] if entry.param.owners else None
        name = legacy_weight_norm(owner) if isinstance(owner, torch.nn.Module) else None
        if name is not None and entry.param.name.rsplit(".", 1)[-1] in (f"{name}_g", f"{name}_v"):
            msg = (
                f"parameter {abbreviate(entry.param.name)} is half of a weight split by the deprecated torch.nn.utils.weight_norm; "
                "use torch.nn.utils.parametrizations.weight_norm, whose weight unit_init draws whole, or skip it."
            )
            raise ParameterError(msg)


def _held_elsewhere(value: Any) -> bool:
    """Whether ``value`` is a ``DTensor`` over a device mesh this rank is not part of (a pipeline stage's): this rank
    holds none of it and writes nothing, as torch's own ops on it do nothing here; the ranks of its mesh write it, and
    every rank reports it alike."""
    return is_dtensor(value) and value.device_mesh.get_coordinate() is None


def _shards(entries: Iterable[Entry], tensors: Mapping[str, _Tensor], seed: int | None) -> dict[str, tuple[torch.Tensor, tuple[slice, ...]]]:
    """The ``DTensor`` parameters among ``entries`` (FSDP2's, ``distribute_module``'s), each as its local tensor and the
    block of the whole parameter it holds (:func:`~unit_init.torch._fill.local_block`), which each rank draws
    (:func:`~unit_init.adapters.rules.draw` with ``region=``: through the portable stream's ``region=``, cut from the
    whole parameter on the native one), so the values are those of the unsharded module for the same ``seed``, which must be an int
    (each rank's global stream is its own). A parametrized one is a :class:`ParameterError`."""
    shards = {}
    for entry in entries:
        found, name = tensors[entry.param.name], f"parameter {abbreviate(entry.param.name)}"
        if not is_dtensor(found.value):
            continue
        if found.owner is not None:
            msg = f"{name} is a parametrized DTensor; initialize the module before sharding it, or skip it."
            raise ParameterError(msg)
        if seed is None:
            msg = (f"{name} is a DTensor: initialize writes each rank's block of the whole parameter, which every rank "
                   "must draw alike; pass seed= (an int), not each rank's own global stream.")
            raise ParameterError(msg)
        local, block = local_block(found.value, name)
        refuse_unwritable(local, name)
        shards[entry.param.name] = (local, block)
    return shards


def _refuse_unassignable(entries: Iterable[Any], tensors: Mapping[str, _Tensor]) -> None:
    """A :class:`ParameterError` for a parametrized weight a rule reaches whose ``right_inverse`` cannot take a value
    (:func:`_assignable`): before anything is written. One no rule reaches is left as it is."""
    for entry in entries:
        reason = tensors[entry.param.name].unassignable
        if reason is not None:
            msg = f"parameter {abbreviate(entry.param.name)}: {reason}"
            raise ParameterError(msg)


def _refuse_meta(entries: Iterable[Any], tensors: Mapping[str, _Tensor]) -> None:
    for entry in entries:
        if tensors[entry.param.name].value.device.type == "meta":
            msg = (
                f"parameter {abbreviate(entry.param.name)} is on the 'meta' device, which holds no values to fill; "
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
    a rule that matches nothing raises a ``UserWarning``. A frozen parameter
    (``requires_grad=False``: a pretrained layer kept, a fixed table) is left
    as it is and listed as skipped, as Keras's non-trainable weights are.

    Each parameter is drawn with ``derive_seed(seed, canonical name)``, so
    adding, removing or reordering others never changes its values, in the
    canonical ``(*window, in, out)`` layout, then permuted to torch's
    ``(out, in, *window)``: with ``rng="portable"`` a Flax or Keras twin gets
    the same values. A constant, and with ``rng="native"`` an i.i.d. law that
    is the same in both layouts, is drawn in torch's layout straight into the
    parameter (the same law; no permuted copy). With ``bias_fan_from_weight`` a bias is drawn with the
    fans of the ``weight`` beside it (PyTorch's ``U(±1/√fan_in)`` rule).
    The rows ``padding_idx`` of an ``Embedding``/``EmbeddingBag`` are set to
    zero, as their ``reset_parameters`` sets them (after ``to_empty`` they hold
    whatever memory was there). Parameters on the ``"meta"`` device raise
    :class:`~unit_init.DeviceError` (materialize with ``module.to_empty(device=...)``
    first), before anything is written. A ``DTensor`` parameter (FSDP2) gets its
    rank's block of the unsharded module's values for an int ``seed`` (``None``
    is refused for one): with ``rng="portable"`` each rank draws only its
    block of an elementwise law (a coupled one, orthogonal, is computed whole
    and cut), with the native stream the whole parameter and keeps its block.

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
    rng = check_rng(rng)
    if not callable(skip):
        skip = listed(skip, most=MAX_SKIPPED, name="skip") or skip  # an iterator read once: the lazy check and the plan both read it
    lazy = _lazy(module)
    _refuse_lazy(lazy, skip)
    walked = submodules(module)
    modules = {name: node for name, node, _ in walked}
    tensors = _tensors(module, walked, modules)
    entries, report = plan(
        _described(modules, tensors, layout), rules, seed=seed, skip=skip, names=names, bias_fan_from_weight=bias_fan_from_weight,
        left_out=_frozen(tensors),
    )
    if lazy:  # left out by skip= (_refuse_lazy): reported as skipped
        report = dataclasses.replace(report, skipped=(*report.skipped, *lazy))
    entries = [entry for entry in entries if not _held_elsewhere(tensors[entry.param.name].value)]
    _refuse_meta(entries, tensors)
    _refuse_unassignable(entries, tensors)
    _refuse_legacy_weight_norm(entries)
    shards = _shards(entries, tensors, seed)
    for entry in entries:
        for stored in tensors[entry.param.name].stored if entry.param.name not in shards else ():
            refuse_unwritable(stored, f"parameter {abbreviate(entry.param.name)}")
    padding = {entry.param.name: _padding_rows(entry.param) for entry in entries}  # refused here, before any draw
    _warn_overlapping([entry for entry in entries if entry.param.name not in shards], tensors)  # a DTensor's shard: its own
    zeroed: dict[str, tuple[int, ...]] = {}

    def target(entry: Entry) -> dict[str, Any]:
        tensor = tensors[entry.param.name].value
        return {"backend": "torch", "device": tensor.device, "dtype": tensor.dtype, "rng": rng, "region": block_of(entry)}

    def block_of(entry: Entry) -> tuple[slice, ...] | None:
        """The block of a DTensor parameter this rank holds; ``None`` for a whole tensor."""
        return shards[entry.param.name][1] if entry.param.name in shards else None

    def drawn(entry: Entry) -> torch.Tensor:
        values: torch.Tensor = draw(entry, **target(entry))
        if rows := _rows_in(padding[entry.param.name], block_of(entry)):
            with torch.no_grad():
                values[rows] = 0
        return values

    def verify(entry: Entry) -> None:
        found = tensors[entry.param.name]
        if found.owner is not None:  # torch's right_inverse must take what is drawn (drawn again to be written)
            _check_inverse(found.owner, found.leaf, drawn(entry))

    def filled(entry: Entry) -> contextlib.AbstractContextManager[Any]:
        """Where ``entry`` is drawn: into its tensor itself where its kernels can (:func:`drawing_into`; a DTensor's
        block on this rank), else nowhere (a parametrized weight's values go through its ``right_inverse``)."""
        found = tensors[entry.param.name]
        if found.owner is not None:
            return contextlib.nullcontext(None)
        return drawing_into(shards[entry.param.name][0] if entry.param.name in shards else found.value)

    def write(entry: Entry) -> None:
        found = tensors[entry.param.name]
        if found.owner is None:  # drawn into the tensor itself where its kernels can, else copied in
            with torch.no_grad(), filled(entry) as write_into:
                write_into(drawn(entry))
        else:
            values = drawn(entry)
            with torch.no_grad():
                write_parametrized(found.owner, found.leaf, values)
        if padding[entry.param.name]:
            zeroed[entry.param.name] = padding[entry.param.name]

    fill(entries, write, target=target, verify=verify, progress=progress, checked_in=filled)  # every parameter checked before the first is written
    return Initialized(module, dataclasses.replace(report, zeroed_rows=zeroed))
