"""One rules engine for every framework: which spec, seed, layout and fans each parameter gets.

Imports no framework. A framework's walker (``unit_init.torch``, ``unit_init.jax``,
``unit_init.keras``) describes each parameter as a :class:`Param`; :func:`plan`
matches them against the rules and returns one :class:`Entry` per parameter to
fill plus a :class:`Report`; :func:`draw` turns an entry into a native array.
:func:`unit_init.adapters.pytree.initialize` (``ui.initialize``) is the walker
for plain pytrees of NumPy arrays.

**Rules** are ``(key, value)`` pairs (a dict or a list), tried in order; the
**first** key that matches a parameter and whose value covers it wins:

* ``"glob"``: ``fnmatch`` (case-sensitive) on the parameter's own qualified name
  (``"0.weight"``, ``"fc1/kernel"``) *or* its canonical name (``"0.kernel"``); a glob
  starting with ``*.`` or ``*/`` also matches a parameter of the root layer itself,
  whose name has no owner (``"*.kernel"`` matches ``"kernel"``);
* a layer type (``torch.nn.Linear``, ``keras.layers.Dense``, ``flax.nnx.Linear``)
  or a tuple of types: every parameter of a layer of that type, or of its sublayers;
* :class:`Where` (name, type, rank, role and shape tests together), or any
  callable taking a :class:`Param` and returning a bool.

A value is a spec (or a name/config), a :class:`Gated` spec, or a
:class:`~unit_init.presets.LayerPreset`. A preset sets a layer's ``kernel``
(its ``weight``) and ``bias`` only; a spec under a **type** key sets every
parameter of the layer except its biases (so ``{nn.Linear: Orthogonal()}``
never reaches the bias). Parameters a value does not cover go on to the later rules.

**Canonical form** (:mod:`unit_init.adapters.canonical`). Each parameter is
drawn in one layout whatever the framework: ``(*window, in, out)`` (Keras/Flax's),
with the fans that layout gives, then permuted into the framework's own
(PyTorch's ``(out, in, *window)``).
Its seed is ``derive_seed(seed, name)`` with its canonical name: the owner's
path joined by ``.`` and the leaf named as Flax names it (``kernel``, ``bias``,
``embedding``, ``scale``). So a torch, Flax and Keras twin whose layers carry
the same names, given the same rules, seed and ``rng="portable"``, start from
the same weights (see docs/adapters/porting.md).
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import warnings
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple, TypeAlias, cast

import numpy as np

from unit_init.adapters._spec import spec_of
from unit_init.adapters.canonical import canonical_shape
from unit_init.backends.registry import get_backend
from unit_init.drawing import RNG_MODES, Kept, check_shards
from unit_init.drawing import check as check_draw
from unit_init.errors import (
    ParameterError,
    SeedError,
    ShapeError,
    UnitInitError,
    abbreviate,
    closest,
    keywords_checked,
    outside_stacklevel,
)
from unit_init.presets import LayerPreset
from unit_init.progress import bar, wanted
from unit_init.seeds import derive_seed, normalize_seed, tentative_seed
from unit_init.spec._checks import listed, plain_number, plain_sequence, plain_text
from unit_init.spec.catalogue import Ones, Orthogonal, Zeros
from unit_init.spec.distributions import PointMass
from unit_init.spec.fans import Fans, LayoutLike, compute_fans
from unit_init.spec.initializer import Initializer
from unit_init.spec.options import Options

__all__ = [
    "Entry",
    "Gated",
    "Initialized",
    "Param",
    "Report",
    "Where",
    "check",
    "check_rng",
    "draw",
    "fill",
    "per_gate_orthogonal",
    "plan",
    "root_seed",
    "transposed_fans",
    "unit_forget_bias",
]

Rules: TypeAlias = "Mapping[Any, Any] | Iterable[tuple[Any, Any]]"
"""Rules as ``{key: value}`` or ``[(key, value), …]`` (keys: a glob, a layer type, a ``Where`` or a callable)."""


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter as the engine sees it, whatever the framework.

    Parameters
    ----------
    name:
        The framework's qualified name (``"encoder.0.weight"``, ``"Dense_0/kernel"``).
    path, leaf:
        The owner's path and the canonical leaf (:func:`~unit_init.adapters.canonical.canonical_leaf`): the
        canonical name is ``".".join((*path, leaf))``.
    shape:
        The framework's shape.
    layout:
        The framework's layout of this parameter (a name of ``ui.LAYOUTS`` is
        mapped to the canonical ``(*window, in, out)``; a ``ui.Layout`` is drawn as it is).
    owners:
        The layers containing it, innermost (its owner) first, for type keys
        (empty where unknown); a tensor shared by several layers lists them all.
    aliases:
        The other names of the same tensor (a tied or shared parameter's further
        names, a parametrized weight's stored originals): name globs of rules
        and of ``skip=`` match them too.
    torch_fans:
        The fans torch's own initialization reads off this kernel where they
        are not its layout's: a transposed convolution's, of any framework
        (:func:`transposed_fans`); torch's presets take them.
    """

    name: str
    path: tuple[str, ...]
    leaf: str
    shape: tuple[int, ...]
    layout: LayoutLike = "keras"
    owners: tuple[Any, ...] = ()
    aliases: tuple[str, ...] = ()
    torch_fans: Fans | None = None

    @property
    def owner(self) -> Any:
        """The innermost layer owning it, or ``None``."""
        return self.owners[0] if self.owners else None

    @property
    def canonical(self) -> str:
        """``".".join((*path, leaf))``: the name globs match and seeds derive from."""
        return ".".join((*self.path, self.leaf))

    @property
    def rank(self) -> int:
        """``len(shape)``."""
        return len(self.shape)

    @property
    def is_bias(self) -> bool:
        """Whether the leaf is a bias (``bias``, ``bias_ih_l0``, ``in_proj_bias`` …)."""
        return "bias" in self.leaf


@dataclass(frozen=True, slots=True)
class Where:
    """A rule key testing several things at once (every one given must hold).

    Parameters
    ----------
    name:
        A glob on the qualified or canonical name.
    type:
        A layer type or a tuple of them.
    rank:
        An int or a tuple of accepted ranks.
    role:
        The canonical leaf (``"kernel"``, ``"bias"``, ``"embedding"``, ``"scale"`` …).
    shape:
        A callable on the framework's shape tuple.

    Examples
    --------
    >>> from unit_init.adapters.rules import Param, Where
    >>> Where(rank=2, type=dict, shape=lambda s: s[0] > 8)
    Where(type=dict, rank=2, shape=<lambda>)
    >>> param = Param("fc/kernel", ("fc",), "kernel", (4, 3))
    >>> Where(rank=2, role="kernel")(param), Where(shape=lambda s: s[0] > 8)(param)
    (True, False)
    """

    name: str | None = None
    type: type | tuple[type, ...] | None = None
    rank: int | tuple[int, ...] | None = None
    role: str | None = None
    shape: Callable[[tuple[int, ...]], bool] | None = None

    def __post_init__(self) -> None:
        for label in ("name", "role", "type", "rank"):  # a str, tuple or list subclass as the plain value it holds
            object.__setattr__(self, label, plain_sequence(plain_text(getattr(self, label))))
        if self.type is not None and not _is_types(self.type):
            msg = f"Where(type={abbreviate(self.type)}): must be a layer type or a tuple of layer types."
            raise ParameterError(msg)
        rank = plain_number(self.rank)
        ranks = (rank,) if isinstance(rank, int) else tuple(map(plain_number, rank)) if isinstance(rank, (tuple, list)) else rank
        if ranks is not None and not (isinstance(ranks, tuple) and all(isinstance(r, int) and not isinstance(r, bool) for r in ranks)):
            msg = f"Where(rank={abbreviate(self.rank)}): must be an int or a tuple (or list) of ints."
            raise ParameterError(msg)
        object.__setattr__(self, "rank", rank if isinstance(rank, int) or ranks is None else ranks)  # a list as a tuple: a dict key
        given: dict[str, object] = {"name": self.name, "role": self.role, "shape": self.shape}  # as passed, not as annotated
        for label in ("name", "role"):
            if given[label] is not None and not isinstance(given[label], str):
                msg = f"Where({label}={abbreviate(given[label])}): must be a string."
                raise ParameterError(msg)
        if given["shape"] is not None and not callable(given["shape"]):
            msg = f"Where(shape={abbreviate(given['shape'])}): must be a callable on the shape tuple (lambda s: s[0] > 8)."
            raise ParameterError(msg)

    def __repr__(self) -> str:
        given = {name: getattr(self, name) for name in ("name", "type", "rank", "role", "shape") if getattr(self, name) is not None}
        shown = (f"{k}={_describe(v) if callable(v) else repr(v)}" for k, v in given.items())
        return f"Where({', '.join(shown)})"

    def __call__(self, param: Param) -> bool:
        ranks = (self.rank,) if isinstance(self.rank, int) else self.rank
        return (
            (self.name is None or _name_matches(self.name, param))
            and (self.type is None or _inside(self.type, param))
            and (ranks is None or param.rank in ranks)
            and (self.role is None or param.leaf == self.role)
            and (self.shape is None or _verdict(self.shape, _asked(self.shape, param.shape, param, "shape test"), param))
        )


MAX_GATES: Final = 64
"""The most gates :class:`Gated` splits an axis into (recurrent layers have 3 or 4)."""
WARNED_RULES: Final = 8
"""Rules that set no parameter are warned about one by one up to this many; the rest in one warning."""
MAX_RULES: Final = 1 << 16
"""The most rules an iterator (a generator) of ``(key, spec)`` pairs may yield: an endless one is refused, not read
until memory runs out. A list or a dict holds any number."""
MAX_SKIPPED: Final = 1 << 20
"""The most names and globs an iterator given as ``skip=`` may yield (every parameter name of the largest models);
a list or a set holds any number."""


Where.__init__ = keywords_checked(Where.__init__)  # type: ignore[method-assign]  # a misspelt keyword, an extra argument: ArgumentError


@dataclass(frozen=True, slots=True, init=False)
class Gated:
    """A spec per gate: the canonical out axis (the last) is split into equal blocks, one per gate.

    Each block is drawn alone, with its own shape's fans and the seed
    ``derive_seed(seed, f"gate{k}")``: ``Gated(ui.Orthogonal(), gates=4)``
    makes each gate's ``(h, h)`` block of an LSTM recurrent kernel orthogonal.
    The gate order is the framework's (torch LSTM ``i, f, g, o``; Keras LSTM
    ``i, f, c, o``; GRU: torch ``r, z, n``, Keras ``z, r, h``).

    Parameters
    ----------
    specs:
        One spec for every gate (then ``gates=`` says how many), or one per gate.

    Examples
    --------
    >>> from unit_init.adapters.rules import unit_forget_bias
    >>> import unit_init as ui
    >>> unit_forget_bias.specs == (ui.Zeros(), ui.Ones(), ui.Zeros(), ui.Zeros())
    True
    """

    specs: tuple[Initializer, ...]

    @keywords_checked
    def __init__(self, specs: Any, gates: int | None = None) -> None:
        gates = plain_number(gates)
        if gates is not None and (isinstance(gates, bool) or not isinstance(gates, int) or not 1 <= gates <= MAX_GATES):
            msg = f"Gated(gates={abbreviate(gates)}): must be an int from 1 to {MAX_GATES}."
            raise ParameterError(msg)
        many = isinstance(specs, (list, tuple))
        resolved = tuple(spec_of(s) for s in specs) if many else (spec_of(specs),) * (gates or 0)
        if (many and gates not in (None, len(resolved))) or not resolved:
            msg = f"Gated(specs={abbreviate(specs)}, gates={abbreviate(gates)}): give one spec per gate, or one spec and gates >= 1."
            raise ParameterError(msg)
        object.__setattr__(self, "specs", resolved)

    def blocks(self, shape: tuple[int, ...]) -> list[tuple[Initializer, tuple[int, ...]]]:
        """Each gate's spec and block shape for a canonical ``shape`` (gates along its last axis)."""
        count = len(self.specs)
        if not shape or shape[-1] % count:
            msg = f"Gated with {count} gates needs a last (gate) axis divisible by {count}, got shape={shape}."
            raise ShapeError(msg)
        block = (*shape[:-1], shape[-1] // count)
        for spec in self.specs:
            spec.check_shape(block)
        return [(spec, block) for spec in self.specs]


per_gate_orthogonal: Final = Gated(Orthogonal(), gates=4)
"""An LSTM recurrent kernel with each gate's ``(h, h)`` block orthogonal."""
unit_forget_bias: Final = Gated((Zeros(), Ones(), Zeros(), Zeros()))
"""An LSTM bias of zeros but for the forget gate's ones (Keras's ``unit_forget_bias``; in torch, put it on ``bias_ih`` and zeros on ``bias_hh``)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One parameter's plan: the rule (its index), the spec, the seed and the fan overrides (a bias's: its weight's).

    ``seed`` is ``None`` where ``initialize`` was given none: :func:`fill`
    derives it from one root the global stream gives, once every parameter is
    checked, so a refused call takes nothing from the stream.
    """

    param: Param
    rule: int
    spec: Initializer | Gated
    seed: int | None
    fans: Fans | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What ``initialize`` did.

    Attributes
    ----------
    applied:
        Each initialized parameter's name → the index of its rule (its key is ``rules[index]``).
    unmatched:
        The parameters no rule covered (left as they were).
    unused_rules:
        The keys of rules that match no parameter (each also warned about, the first eight by name).
    shadowed_rules:
        The keys of rules that match only parameters an earlier rule took.
    skipped:
        The parameters ``skip=`` left out.
    zeroed_rows:
        Rows set to zero instead of drawn (a torch ``Embedding``'s ``padding_idx``, as its ``reset_parameters``).
    rules:
        The rules' keys, in order.
    """

    applied: Mapping[str, int]
    unmatched: tuple[str, ...]
    unused_rules: tuple[Any, ...]
    shadowed_rules: tuple[Any, ...]
    skipped: tuple[str, ...] = ()
    zeroed_rows: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    rules: tuple[Any, ...] = ()

    def __str__(self) -> str:
        lines = [f"{len(self.applied)} initialized, {len(self.unmatched)} unmatched, {len(self.skipped)} skipped"]
        lines += [f"  {name} <- rule {index} ({_describe(self.rules[index])})" for name, index in self.applied.items()]
        lines += [f"  unmatched: {', '.join(self.unmatched)}"] * bool(self.unmatched)
        lines += [f"  unused rules: {', '.join(map(_describe, self.unused_rules))}"] * bool(self.unused_rules)
        lines += [f"  shadowed rules: {', '.join(map(_describe, self.shadowed_rules))}"] * bool(self.shadowed_rules)
        lines += [f"  zeroed rows: {name} {rows}" for name, rows in self.zeroed_rows.items()]
        return "\n".join(lines)


class Initialized(NamedTuple):
    """What every ``initialize`` returns: the model or new params, and the :class:`Report`."""

    params: Any
    report: Report


def _describe(key: Any) -> str:
    return key if isinstance(key, str) else getattr(key, "__name__", repr(key))


def _name_matches(pattern: str, param: Param) -> bool:
    """Whether ``pattern`` matches one of ``param``'s names; one that starts with ``*.`` or ``*/`` ("of any owner")
    also matches a name without an owner, a parameter of the model's root layer: ``*.kernel`` matches ``kernel``."""
    names = (param.name, param.canonical, *param.aliases)
    bare = pattern[2:] if pattern.startswith(("*.", "*/")) else None
    return any(fnmatch.fnmatchcase(name, pattern) or (bare is not None and _unowned(name) and fnmatch.fnmatchcase(name, bare)) for name in names)


def _unowned(name: str) -> bool:
    """A name without an owner's path (``kernel``, not ``0.kernel`` or ``fc1/kernel``): a root layer's own parameter."""
    return "." not in name and "/" not in name


def _is_types(key: Any) -> bool:
    return isinstance(key, type) or (isinstance(key, tuple) and bool(key) and all(isinstance(k, type) for k in key))


def _checked_rules(rules: Rules) -> list[tuple[Any, Any]]:
    """``rules`` as ``(key, value)`` pairs: a mapping, or an iterable of pairs; anything else a :class:`ParameterError`."""
    accepted = "a dict {pattern, layer type or Where(...): spec} (or a list of such pairs)"
    if isinstance(rules, (set, frozenset)):  # the first rule that matches wins: a set has no first
        msg = f"rules={abbreviate(rules)} is a set, which has no order, and the first rule that matches wins; pass {accepted}."
        raise ParameterError(msg)
    items = list(rules.items()) if isinstance(rules, Mapping) else listed(rules, most=MAX_RULES, name="rules")
    if items is None:
        msg = f"rules={abbreviate(rules)} is not {accepted}."
        raise ParameterError(msg)
    items = [plain_sequence(pair) for pair in items]
    if not all(isinstance(pair, tuple) and len(pair) == 2 for pair in items):
        msg = f"rules={abbreviate(rules)} holds an item that is not a (key, spec) pair; pass {accepted}."
        raise ParameterError(msg)
    pairs: list[tuple[Any, Any]] = [(plain_sequence(plain_text(key)), value) for key, value in items]  # a str or tuple subclass as its value
    for key, value in pairs:
        if not (isinstance(key, str) or _is_types(key) or callable(key)) or isinstance(key, Initializer):
            msg = f"rule key {abbreviate(key)} must be a parameter-name glob pattern (str), a layer type, a Where(...) or a callable on a Param."
            if isinstance(key, Initializer):
                msg += " A spec goes on the right: {key: spec}."
            raise ParameterError(msg)
        if not isinstance(value, (LayerPreset, Gated)):
            spec_of(value)
    return pairs


def _inside(types: type | tuple[type, ...], param: Param) -> bool:
    """Whether a layer of ``types`` contains ``param`` (owns it, or has it in a sublayer)."""
    return any(isinstance(layer, types) for layer in param.owners)


def _key_matches(key: Any, param: Param) -> bool:
    if isinstance(key, str):
        return _name_matches(key, param)
    if _is_types(key):
        return _inside(key, param)
    return _verdict(key, _asked(key, param, param, "rule test"), param)


def _asked(test: Callable[[Any], Any], argument: Any, param: Param, what: str) -> Any:
    """``test(argument)`` for ``param``, ``test`` being the user's callable (a rule test, ``Where(shape=)``, ``skip=``,
    ``names=``): an exception it raises is a :class:`~unit_init.ParameterError` naming it and the parameter, its own
    kept as the cause (raised while the rules are planned, before anything is written)."""
    try:
        return test(argument)
    except UnitInitError:
        raise
    except Exception as error:
        msg = f"the {what} {_describe(test)} raised {type(error).__name__} for parameter {abbreviate(param.name)}: {error}"
        raise ParameterError(msg) from error


def _verdict(test: Callable[..., Any], answer: Any, param: Param, what: str = "rule test") -> bool:
    """A callable key's (or ``Where(shape=)``'s, or ``skip=``'s) ``answer`` for ``param`` as a bool: a bool or a 0-d value (a NumPy bool)."""
    if not isinstance(answer, bool) and getattr(answer, "shape", None) != ():
        msg = f"the {what} {_describe(test)} answered {abbreviate(answer)} for parameter {abbreviate(param.name)}; it must return True or False."
        raise ParameterError(msg)
    return bool(answer)


def _kernel_fans(param: Param, kernels: Mapping[tuple[str, ...], Param]) -> Fans | None:
    """The fans (floored at 1) of the ``kernel`` beside ``param`` in its owner (a separable convolution's
    ``pointwise_kernel``), if it has one of rank >= 2."""
    kernel = kernels.get(param.path)
    if kernel is None or kernel.rank < 2:
        return None
    fans = compute_fans(kernel.shape, kernel.layout)
    return Fans(max(1.0, fans.fan_in), max(1.0, fans.fan_out))


def transposed_fans(in_channels: int, out_channels: int, window: int, groups: int = 1) -> Fans:
    """The fans torch reads off a transposed convolution's weight, of any framework.

    torch's ``_calculate_fan_in_and_fan_out`` reads its ``ConvTranspose``
    weight ``(in, out/groups, *window)`` as a Conv's ``(out, in/groups,
    *window)``: ``fan_in = out/groups · window`` and ``fan_out = in · window``,
    where the layout's own fans are ``in · window`` and ``out/groups · window``.

    >>> from unit_init.adapters.rules import transposed_fans
    >>> transposed_fans(16, 24, 9, groups=4)
    Fans(fan_in=54.0, fan_out=144.0)
    """
    return Fans(float(out_channels // groups * window), float(in_channels * window))


def _preset_fans(preset: LayerPreset, kernel: Param | None) -> Fans | None:
    """The fans (not floored) a preset reads off its kernel: those of the kernel's layout, but for a transposed
    convolution's under torch's presets, which take torch's own (:attr:`Param.torch_fans`). ``None`` without a kernel
    of rank >= 2."""
    if kernel is None or kernel.rank < 2:
        return None
    if preset.layout == "torch" and kernel.torch_fans is not None:
        return kernel.torch_fans
    return compute_fans(kernel.shape, kernel.layout)


def _floored(fans: Fans | None) -> Fans | None:
    return None if fans is None else Fans(max(1.0, fans.fan_in), max(1.0, fans.fan_out))


def _covers(key: Any, value: Any, param: Param, kernels: Mapping[tuple[str, ...], Param], bias_fans: bool) -> tuple[Initializer | Gated, Fans | None] | None:
    """The spec and bias fans ``value`` gives ``param``, or ``None`` where it does not cover it."""
    fans = _kernel_fans(param, kernels) if param.is_bias else None
    if isinstance(value, LayerPreset):
        if param.leaf == "kernel":
            return value.weight, _floored(param.torch_fans) if value.layout == "torch" else None
        if param.leaf == "bias":
            kernel_fans = _preset_fans(value, kernels.get(param.path))
            spec = value.bias if kernel_fans is None else value.bias_for(kernel_fans)
            return spec, _floored(kernel_fans) if value.bias_fan_from_weight else None
        return None
    if _is_types(key) and param.is_bias:
        return None
    return (value if isinstance(value, Gated) else spec_of(value)), fans if bias_fans else None


def _check_fits(spec: Initializer | Gated, entry_param: Param, key: Any) -> None:
    shape, _ = canonical_shape(entry_param.shape, entry_param.layout)
    gates = _gates_of(entry_param)
    if isinstance(spec, Gated) and gates is not None and len(spec.specs) != gates:
        msg = (f"rule {abbreviate(_describe(key))} gives {abbreviate(entry_param.name)} of a {type(entry_param.owners[0]).__name__} "
               f"({gates} gates) a Gated spec of {len(spec.specs)} gates, whose blocks would straddle its gates; give it {gates}.")
        raise ParameterError(msg)
    try:
        if isinstance(spec, Gated):
            spec.blocks(shape)
        else:
            spec.check_shape(shape)
    except ShapeError as error:
        msg = f"rule {abbreviate(_describe(key))} gives {abbreviate(entry_param.name)} (shape {entry_param.shape}) a spec that cannot fill it: {error}"
        raise ShapeError(msg) from None


_GATES: Final = {"LSTM": 4, "LSTMCell": 4, "GRU": 3, "GRUCell": 3, "RNN": 1, "RNNCell": 1, "SimpleRNN": 1, "SimpleRNNCell": 1}
"""The gates of torch's and Keras's recurrent layers, whose weights and biases stack them along the out axis."""


def _gates_of(param: Param) -> int | None:
    """The gates the recurrent layer owning ``param`` stacks (torch's or Keras's own: :data:`_GATES`), else ``None``."""
    owner = param.owners[0] if param.owners else None
    origin = type(owner).__module__
    if owner is None or not origin.startswith(("torch.nn.", "keras.")):
        return None
    return _GATES.get(type(owner).__name__)


def _skipper(skip: Iterable[str] | Callable[[Param], bool] | None) -> Callable[[Param], bool]:
    if skip is None:
        return lambda param: False
    if callable(skip):

        def skipped(param: Param) -> bool:
            answer = _asked(skip, param, param, "skip test")
            if getattr(answer, "shape", None) not in (None, ()):  # an array has no truth value; a match object or None has
                return _verdict(skip, answer, param, "skip test")
            return bool(answer)

        return skipped
    items = listed(skip, most=MAX_SKIPPED, name="skip")
    if items is None:
        msg = f"skip={abbreviate(skip)} must be names or glob patterns (an iterable of str) or a callable on a Param."
        raise ParameterError(msg)
    patterns = tuple(map(plain_text, items))
    if not all(isinstance(p, str) for p in patterns):
        msg = f"skip={abbreviate(skip)} holds something that is not a name or glob pattern (a str)."
        raise ParameterError(msg)
    return lambda param: any(_name_matches(p, param) for p in patterns)


def _renamer(names: Mapping[str, str] | Callable[[str], str] | None) -> Callable[[Param], Param]:
    """``names=`` as a function on params: the new canonical name sets the path and the leaf (so roles and seeds follow)."""
    if names is None:
        return lambda param: param
    given: object = names  # typed for callers; checked for everyone else
    if not (isinstance(given, Mapping) or callable(given)):
        msg = f"names={abbreviate(names)} must be a dict {{old name: new name}} or a callable on a name."
        raise ParameterError(msg)
    lookup = (lambda name: names.get(name, name)) if isinstance(names, Mapping) else names

    def rename(param: Param) -> Param:
        new = _asked(lookup, param.canonical, param, "names= function")
        if not isinstance(new, str) or "" in new.split("."):
            msg = f"names= gave {abbreviate(new)} for {abbreviate(param.canonical)}; it must give a dotted name with no empty part ('fc.weight')."
            raise ParameterError(msg)
        path, _, leaf = new.rpartition(".")
        return replace(param, path=tuple(path.split(".")) if path else (), leaf=leaf)

    return rename


def _warn_unused_names(names: Mapping[str, str], params: Sequence[Param]) -> None:
    """A warning for each ``names=`` key that is no parameter's canonical name (a misspelt one renames nothing, and the
    twins it was meant for keep different seeds), as a rule that matches nothing is warned about."""
    canonical = {param.canonical for param in params}
    unused = [name for name in names if name not in canonical]
    for name in unused[:WARNED_RULES]:
        known = f" (names look like {params[0].canonical!r})" if params else ""
        warnings.warn(f"initialize: names= renames {abbreviate(name)}, which is no parameter's name{known}.", UserWarning, stacklevel=outside_stacklevel())
    if len(unused) > WARNED_RULES:
        msg = f"initialize: {len(unused) - WARNED_RULES} more names= entries rename no parameter."
        warnings.warn(msg, UserWarning, stacklevel=outside_stacklevel())


def root_seed(seed: Any) -> int | None:
    """The int every parameter's seed derives from, checked; ``None`` stays ``None`` (:func:`fill` draws the root later)."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        msg = f"seed={abbreviate(seed)}: initialize derives one seed per parameter name, so it needs an int in [0, 2**63 - 1] or None."
        raise SeedError(msg)
    value: int = normalize_seed(seed)
    return value


def check_rng(rng: str) -> str:
    """``rng`` if it is ``"native"`` or ``"portable"`` (a ``str`` subclass as its text); :class:`~unit_init.ParameterError` otherwise."""
    rng = plain_text(rng)
    if rng not in RNG_MODES:
        msg = f"rng={abbreviate(rng)} is not available; accepted: {', '.join(map(repr, RNG_MODES))}.{closest(rng if isinstance(rng, str) else '', RNG_MODES)}"
        raise ParameterError(msg)
    return rng


def _check_unique(params: Sequence[Param]) -> None:
    """:class:`ParameterError` where two parameters share a name: one would be reported (and filled) for the other, or both get one seed.

    Pytree keys ``{"a/b": …, "a": {"b": …}}`` both read ``a/b``; ``{1: …, "1": …}`` both ``1``.
    """
    names: dict[str, Param] = {}
    canonicals: dict[str, Param] = {}
    for param in params:
        for key, seen in ((param.name, names), (param.canonical, canonicals)):
            other = seen.setdefault(key, param)
            if other is param:
                continue
            if other.name != param.name:  # two framework spellings of one role ("w" and "kernel", "scale" and "weight")
                msg = (
                    f"parameters {abbreviate(other.name)} and {abbreviate(param.name)} both read as {abbreviate(key)} "
                    "(the name unit_init gives each framework's spelling of a role); rename one with names= or skip one."
                )
            else:
                msg = (
                    f"two parameters are both named {abbreviate(key)} (shapes {other.shape} and {param.shape}): "
                    "a key holding '/' or '.', or the int and str forms of one key; rename one (names= or the keys)."
                )
            raise ParameterError(msg)


def _warn_shared_names(params: Sequence[Param]) -> None:
    """A ``UserWarning`` where ``names=`` gives two parameters one canonical name: their seeds are derived from it, so
    they draw equal values (wanted for twins; a slip in a mapping otherwise)."""
    first: dict[str, Param] = {}
    for param in params:
        other = first.setdefault(param.canonical, param)
        if other is not param:
            msg = (f"initialize: names= gives {abbreviate(param.canonical)} to both {abbreviate(other.name)} and "
                   f"{abbreviate(param.name)}; their seeds follow the name, so they draw equal values.")
            warnings.warn(msg, UserWarning, stacklevel=outside_stacklevel())
            return


def plan(
    params: Sequence[Param],
    rules: Rules,
    *,
    seed: Any = None,
    skip: Iterable[str] | Callable[[Param], bool] | None = None,
    names: Mapping[str, str] | Callable[[str], str] | None = None,
    bias_fan_from_weight: bool = True,
    left_out: Collection[str] = (),
) -> tuple[list[Entry], Report]:
    """Match ``params`` against ``rules``: one :class:`Entry` per parameter to fill, and the :class:`Report`.

    Every check happens here, before a walker changes anything: bad keys and
    values, specs that cannot fill their parameter's shape. A rule that
    matches no parameter raises a ``UserWarning`` naming it; one that reaches
    only skipped parameters does not. ``left_out``: the names of parameters
    the walker leaves as they are (frozen ones), skipped as ``skip=`` skips.

    Examples
    --------
    >>> from unit_init.adapters.rules import Param, plan
    >>> import unit_init as ui
    >>> params = [Param("fc/kernel", ("fc",), "kernel", (4, 3)), Param("fc/bias", ("fc",), "bias", (3,))]
    >>> entries, report = plan(params, {"*/kernel": ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    >>> dict(report.applied), entries[0].seed == ui.seeds.derive_seed(0, "fc.kernel")
    ({'fc/kernel': 0, 'fc/bias': 1}, True)
    """
    flag: object = bias_fan_from_weight  # typed for callers; checked for everyone else
    if not isinstance(flag, bool):
        msg = f"bias_fan_from_weight={abbreviate(flag)} must be True or False."
        raise ParameterError(msg)
    pairs = _checked_rules(rules)
    base, skipped, rename, frozen = root_seed(seed), _skipper(skip), _renamer(names), frozenset(left_out)
    _check_unique(params)  # as the model names them (names= may make twins share a canonical name on purpose)
    if isinstance(names, Mapping):
        _warn_unused_names(names, params)
    params = [rename(p) for p in params]
    if names is not None:
        _warn_shared_names(params)
    kernels = {p.path: p for p in params if p.leaf == "pointwise_kernel"}  # a separable conv's bias follows its pointwise step
    kernels.update({p.path: p for p in params if p.leaf == "kernel"})
    matched, covered, used, spared = [False] * len(pairs), [False] * len(pairs), [False] * len(pairs), [False] * len(pairs)
    entries: list[Entry] = []
    report: dict[str, Any] = {"applied": {}, "unmatched": [], "skipped": []}
    for param in params:
        if param.name in frozen or skipped(param):
            report["skipped"].append(param.name)
            spared = [was or _key_matches(key, param) for was, (key, _) in zip(spared, pairs, strict=True)]  # no warning
            continue
        chosen: Entry | None = None
        for index, (key, value) in enumerate(pairs):
            if not _key_matches(key, param):
                continue
            matched[index] = True
            found = _covers(key, value, param, kernels, bias_fan_from_weight)
            if found is None:
                continue
            covered[index] = True
            if chosen is None:
                _check_fits(found[0], param, key)
                chosen = Entry(param, index, found[0], None if base is None else derive_seed(base, param.canonical), found[1])
                used[index] = True
        if chosen is None:
            report["unmatched"].append(param.name)
        else:
            entries.append(chosen)
            report["applied"][param.name] = chosen.rule
    unused = tuple(key for (key, _), hit in zip(pairs, covered, strict=True) if not hit)
    idle = [(key, value, hit_name) for (key, value), hit, hit_name, kept in zip(pairs, covered, matched, spared, strict=True) if not (hit or kept)]
    for key, value, hit_name in idle[:WARNED_RULES]:
        if hit_name:  # a preset or Gated rule on parameters it has no spec for
            why = f"matches parameters but its {type(value).__name__} sets none of them"
        else:
            spellings = dict.fromkeys((params[0].name, params[0].canonical)) if params else {}
            why = "matched no parameter" + (f" (names look like {' or '.join(map(repr, spellings))})" if spellings else "")
        warnings.warn(f"initialize: rule {abbreviate(_describe(key))} {why}.", UserWarning, stacklevel=outside_stacklevel())
    if len(idle) > WARNED_RULES:
        msg = f"initialize: {len(idle) - WARNED_RULES} more rules set no parameter (the report's unused_rules lists them all)."
        warnings.warn(msg, UserWarning, stacklevel=outside_stacklevel())
    shadowed = tuple(key for (key, _), hit, took in zip(pairs, covered, used, strict=True) if hit and not took)
    keys = tuple(key for key, _ in pairs)
    result = Report(report["applied"], tuple(report["unmatched"]), unused, shadowed, tuple(report["skipped"]), rules=keys)
    return entries, result


def _pieces(
    entry: Entry, seed: int, rng: str
) -> tuple[tuple[int, ...], tuple[int, ...] | None, list[tuple[Any, tuple[int, ...], int]]]:
    """``entry``'s drawn shape, its permutation back (``None``: drawn as it is) and its draws.

    A draw is ``(spec, shape, seed)``: one, or one per gate of a :class:`Gated` spec (concatenated along the gate axis).
    The drawn shape is the canonical one, but for a constant, or a native draw of an i.i.d. law (:func:`_elementwise`),
    the parameter's own.
    """
    shape, order = canonical_shape(entry.param.shape, entry.param.layout)
    if isinstance(entry.spec, Gated):
        return shape, order, [(spec, block, derive_seed(seed, f"gate{k}")) for k, (spec, block) in enumerate(entry.spec.blocks(shape))]
    if order is not None and order != tuple(range(len(order))) and _elementwise(entry, shape, rng):
        return entry.param.shape, None, [(entry.spec, entry.param.shape, seed)]
    return shape, order, [(entry.spec, shape, seed)]


def _elementwise(entry: Entry, shape: tuple[int, ...], rng: str) -> bool:
    """Whether ``entry``'s law in its canonical ``shape`` is one constant, or i.i.d. and drawn from the native stream,
    and the very law its spec gives the parameter's own shape and layout: then a draw in the parameter's own layout
    is the canonical draw permuted (a constant: the same array), or has its joint law (no native stream is shared by
    two frameworks, so only the law is promised there), with no permuted copy to write."""
    fans = {"fan_in": entry.fans.fan_in, "fan_out": entry.fans.fan_out} if entry.fans else {}
    spec = cast("Initializer", entry.spec)
    try:
        law = spec.distribution_for(shape, layout="keras", **fans)
        if not (isinstance(law, PointMass) or (law.iid and rng == "native")):
            return False
        return bool(law == spec.distribution_for(entry.param.shape, layout=entry.param.layout, **fans))
    except Exception:  # refused (by the canonical draw, which says why), or a spec of yours that reads only one layout
        return False


def _drawn_as_stored(entry: Entry, rng: str) -> bool:
    """Whether ``entry`` is drawn as one array in its parameter's own layout, which a walker may draw into the stored
    tensor itself (no permutation, no gates stacked after the draw)."""
    _, order, pieces = _pieces(entry, 0, rng)
    return len(pieces) == 1 and (order is None or order == tuple(range(len(order))))


def _options(entry: Entry, order: tuple[int, ...] | None, backend: Any, device: Any, dtype: Any, rng: str) -> dict[str, Any]:
    return {
        "backend": backend, "device": device, "dtype": dtype, "rng": rng,
        "layout": "keras" if order is not None else entry.param.layout,
        "fan_in": entry.fans.fan_in if entry.fans else None, "fan_out": entry.fans.fan_out if entry.fans else None,
    }


Region: TypeAlias = tuple[slice, ...]
"""A block of a parameter in its own layout: one slice of step 1 (bounds set) per axis."""


def _by_region(entry: Entry, rng: str, region: Region | None) -> bool:
    """Whether ``region`` of ``entry`` is drawn through the portable stream's ``region=`` (in the canonical layout; a
    coupled law computes its whole array there) rather than cut here from the whole parameter: a native stream's block
    depends on the draws before it, and a gated spec's gates are stacked along an axis of their own."""
    return region is not None and rng == "portable" and not isinstance(entry.spec, Gated)


def _canonical_region(region: Region, order: tuple[int, ...] | None) -> Region:
    """``region`` of a parameter as the block of its canonical draw: the canonical axis ``c`` is the parameter's axis ``order[c]``."""
    return region if order is None else tuple(region[a] for a in order)


def draw(entry: Entry, *, backend: Any, device: Any = None, dtype: Any = None, rng: str = "native", region: Region | None = None) -> Any:
    """``entry``'s values as a native array in its parameter's own layout; with ``region``, only that block of them.

    Drawn in the canonical layout (``"keras"``: fans as there) and permuted
    back, so every framework draws the same array for the same canonical
    shape, spec and seed; a custom ``Layout`` is drawn as it is, and so is a
    native draw of an i.i.d. or constant law the same in both layouts
    (:func:`_elementwise`: only the law is promised there). A
    ``region`` (a sharded parameter's local block) is drawn with the portable
    stream's ``region=`` — the same values as that block of the whole draw;
    an elementwise law draws only the block, a coupled one (orthogonal,
    identity) computes the whole and cuts it — and is cut from the whole draw
    otherwise (a native stream, a gated spec).
    """
    if entry.seed is None:
        msg = f"parameter {abbreviate(entry.param.name)} has no seed yet: entries are drawn through fill(), which derives their seeds."
        raise SeedError(msg)
    shape, order, pieces = _pieces(entry, entry.seed, rng)
    options = _options(entry, order, backend, device, dtype, rng)
    by_region = _by_region(entry, rng, region)
    if by_region:
        options["region"] = _canonical_region(cast(Region, region), order)
    xp = get_backend(backend).xp
    parts = [spec(block, seed=seed, **options) for spec, block, seed in pieces]
    values = xp.reshape(xp.stack(parts, axis=-2), shape) if isinstance(entry.spec, Gated) else parts[0]  # gates: ops every namespace has
    if order is not None and order != tuple(range(len(order))):
        values = xp.permute_dims(values, tuple(int(a) for a in np.argsort(order)))
    return values if region is None or by_region else values[region]


def check(
    entry: Entry,
    *,
    backend: Any,
    device: Any = None,
    dtype: Any = None,
    rng: str = "native",
    region: Region | None = None,
    reserved: Mapping[Hashable, int] | None = None,
    shards: Iterable[tuple[Any, Region]] | None = None,
) -> list[Kept]:
    """Every check :func:`draw` of ``entry`` would make, without drawing (:func:`unit_init.drawing.check`): the memory
    pool and bytes of each piece it draws (one, or a gated spec's gates; a ``region`` drawn by ``region=`` counts what
    that samples). ``reserved``: per pool, the bytes of the arrays checked before it that the call keeps. ``shards``:
    the ``(device, block)`` pairs of a parameter drawn shard by shard (a JAX leaf over several devices), each block
    checked on its device (:func:`unit_init.drawing.check_shards`) rather than the whole on one.

    An entry whose seed is not derived yet is checked with seed 0: no check depends on the seed's value.
    """
    _, order, pieces = _pieces(entry, 0 if entry.seed is None else entry.seed, rng)
    options = _options(entry, order, backend, device, dtype, rng)
    if shards is not None and len(pieces) == 1:
        spec, block, seed = pieces[0]
        canonical = [(where, _canonical_region(index, order)) for where, index in shards]
        return check_shards(spec, block, Options(seed=seed, **options), canonical, reserved=reserved)
    if _by_region(entry, rng, region):
        options["region"] = _canonical_region(cast(Region, region), order)
    return [check_draw(spec, block, Options(seed=seed, **options), reserved=reserved) for spec, block, seed in pieces]


def fill(
    entries: Sequence[Entry],
    write: Callable[[Entry], object],
    *,
    target: Callable[[Entry], Mapping[str, Any]] | None = None,
    kept: Callable[[Entry], bool] | None = None,
    verify: Callable[[Entry], object] | None = None,
    progress: bool | None = None,
    checked_in: Callable[[Entry], contextlib.AbstractContextManager[object]] | None = None,
) -> None:
    """Call ``write(entry)`` for each entry in order, with a progress bar counting their elements.

    The one place every walker's writes go through, so whole-model
    ``initialize`` reports progress the same way in every framework: shown
    where :func:`unit_init.progress.wanted` says so (``progress=True``/``False``,
    else ``UNIT_INIT_PROGRESS``, else in a terminal or notebook only), in
    parameters (elements) done of ``sum(prod(shape))``.

    ``target(entry)`` — the ``backend``, ``device``, ``dtype`` and ``rng``
    keywords the walker draws ``entry`` with (:func:`draw`) — lets every
    entry be checked first (:func:`check`: dtype, representable values,
    memory, seed), so a walker that writes in place leaves the model
    unchanged when one parameter is refused. ``kept(entry)``: whether the
    array drawn for ``entry`` stays allocated until the call returns (a walker
    that returns a new tree, or makes an abstract leaf concrete) rather than
    being copied into memory the model already holds; the memory check of each
    entry then counts the kept arrays before it (a model of forty 1 GiB
    abstract leaves is refused before the first is drawn, not after 24). The seeds ``initialize`` was not
    given are derived after the checks (one root from the global stream), so
    a refused call also leaves the stream as it was. ``verify(entry)``, run
    for every entry once the seeds are set and before the first write, is a
    walker's own check of what it will write (torch: a parametrization's
    ``right_inverse`` tried on the values drawn for it). ``checked_in(entry)``:
    the context ``write`` draws ``entry`` in, entered around its check too where
    ``entry`` is drawn in its parameter's own layout, so the memory guard sees
    what the draw will (torch: ``drawing_into`` the parameter, whose fill needs
    no new output; a draw permuted afterwards is counted whole).

    Examples
    --------
    >>> from unit_init import Zeros
    >>> from unit_init.adapters.rules import Entry, Param, fill
    >>> params = [Param("a", (), "kernel", (2, 3)), Param("b", (), "bias", (3,))]
    >>> done = []
    >>> fill([Entry(p, 0, Zeros(), 0) for p in params], lambda entry: done.append(entry.param.name), progress=False)
    >>> done
    ['a', 'b']
    """
    wanted(progress)  # a bad progress= or UNIT_INIT_PROGRESS is refused before any check, seed or write
    if target is not None:
        reserved: dict[Hashable, int] = {}
        for entry in entries:
            with _naming(entry):
                drawing = target(entry)
                stored = checked_in is not None and _drawn_as_stored(entry, drawing.get("rng", "native"))
                with checked_in(entry) if checked_in is not None and stored else contextlib.nullcontext():
                    outputs = check(entry, reserved=reserved, **drawing)
            if kept is not None and kept(entry):
                for output in outputs:
                    reserved[output.pool] = reserved.get(output.pool, 0) + output.bytes
    give_back = _nothing
    if any(entry.seed is None for entry in entries):
        root, give_back = tentative_seed()  # given back if the walker's own check refuses: a refused call takes no seed
        entries = [replace(entry, seed=derive_seed(root, entry.param.canonical)) if entry.seed is None else entry for entry in entries]
    if verify is not None:
        try:
            for entry in entries:
                with _naming(entry):
                    verify(entry)
        except BaseException:
            give_back()
            raise
    with bar(sum(math.prod(e.param.shape) for e in entries), "initialize", unit="parameters", progress=progress) as advance:
        for entry in entries:
            with _naming(entry):
                write(entry)
            advance(math.prod(entry.param.shape))


def _nothing() -> None:
    """Nothing to give back: every seed was given."""


@contextlib.contextmanager
def _naming(entry: Entry) -> Iterator[None]:
    """A refusal raised inside, of the same type, its message led by the parameter it refuses (unless it leads with it already)."""
    try:
        yield
    except UnitInitError as refused:
        named = f"parameter {abbreviate(entry.param.name)}"
        if str(refused).startswith(named):
            raise
        raise type(refused)(f"{named} of shape {entry.param.shape}: {refused}") from refused
