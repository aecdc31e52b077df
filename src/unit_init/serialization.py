"""``get``, ``serialize`` and ``deserialize`` over a closed registry (docs/design.md#closed-registry-configs).

A config is plain JSON: ``{"class_name": "HeNormal", "config": {"seed": 1}}``.
Deserialization only ever builds classes registered here (the catalogue,
:func:`register`-ed user specs, and the variance rules); it never imports a
module, evaluates code or unpickles anything named in a config. Containers
that nest spec configs are read by the same checks: the adapters' wrappers
(:func:`read_adapter_config`) here, layer presets in :mod:`unit_init.presets`
(which registers them with :func:`serialize` and reads them with
:func:`config_fields`; this module never imports it). Keras configs
(with ``"module"`` and ``"registered_name"`` keys) are accepted and read with
Keras's meaning: in a Keras ``VarianceScaling`` config ``"normal"`` means the
*truncated* normal; its explicit ``input_axes``/``output_axes`` are read by the
Keras adapter (:func:`split_keras_axes`), as a bare spec has no place for them.

Every entry point first bounds the whole config and reads on from a plain
copy of it (:func:`plain_config`): at most :data:`MAX_DEPTH` nested
containers, :data:`MAX_VALUES` values in all, strings (keys too) of at most
:data:`MAX_STRING` characters, ints below ``2**64``, finite floats, string keys
and JSON types only, so a hostile config (nested 10⁵ deep, 10 MB strings,
5000-digit ints, cycles, subclasses whose methods raise) costs microseconds
and raises :class:`~unit_init.ParameterError`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Set
from types import MappingProxyType
from typing import Any, Final, NamedTuple

from unit_init.errors import ParameterError, abbreviate, closest, keywords_checked
from unit_init.spec._checks import CONFIG_INT_BITS
from unit_init.spec.catalogue import CATALOGUE, Composed, Identity, Orthogonal, VarianceScaling
from unit_init.spec.constant_array import ConstantArray
from unit_init.spec.fans import LAYOUTS, Layout, fan_override
from unit_init.spec.initializer import Initializer, numeric_fields
from unit_init.spec.peers import PEERS
from unit_init.spec.rules import FanScaled, FixedVariance
from unit_init.spec.scaled import SCALED
from unit_init.spec.structured import EXTRAS
from unit_init.spec.torch_style import TORCH_STYLE

__all__ = [
    "MAX_DEPTH", "MAX_STRING", "MAX_VALUES", "NAMED", "AdapterConfig", "KerasAxes", "adapter_config", "adapter_parts", "check_envelope", "config_fields", "deserialize", "get", "plain_config", "read_adapter_config", "register", "serialize", "spec_class", "split_keras_axes",
]

_NAMED: Final[dict[str, type[Initializer]]] = {**CATALOGUE, **EXTRAS, **SCALED, **TORCH_STYLE, **PEERS}
NAMED: Final[Mapping[str, type[Initializer]]] = MappingProxyType(_NAMED)
"""Every snake_case name :func:`get` accepts, with its spec class (the catalogue's first)."""
_SPECS: dict[str, type[Initializer]] = {cls.__name__: cls for cls in _NAMED.values()}
_SPECS["Composed"] = Composed
_SPECS["ConstantArray"] = ConstantArray
_ALIASES: Final[dict[str, type[Initializer]]] = {  # Keras's other names (keras.initializers.get takes them)
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity, "STFTInitializer": PEERS["stft"],
    "normal": CATALOGUE["random_normal"], "uniform": CATALOGUE["random_uniform"], "zero": CATALOGUE["zeros"], "one": CATALOGUE["ones"],
}
_RULES: Final[dict[str, type[Any]]] = {"FanScaled": FanScaled, "FixedVariance": FixedVariance}
# Keys Keras writes beside class_name/config; their values are checked, never used to import.
_KERAS_MODULES: Final = (None, "keras.initializers", "keras.src.initializers", "keras.src.initializers.random_initializers", "keras.src.initializers.constant_initializers")
_KERAS_AXES: Final = ("input_axes", "output_axes")
_TOP_KEYS: Final = {"class_name", "config", "module", "registered_name"}
MAX_DEPTH: Final = 16
"""Most containers (objects, lists) nested in one config; the deepest real one (a Keras wrapper of a Composed spec) has 6."""
MAX_VALUES: Final = 1024
"""Most values (containers, keys' values and list items) in one config."""
MAX_STRING: Final = 256
"""Longest string, key or value, in a config."""
_MAX_AXES: Final = 64
_LAYOUT_FIELDS: Final = ("in_axis", "out_axis", "batch_axis")


def _is_spec_class(cls: object) -> bool:
    return isinstance(cls, type) and issubclass(cls, Initializer) and dataclasses.is_dataclass(cls)


@keywords_checked
def register(cls: type[Initializer]) -> type[Initializer]:
    """Make a user-defined spec class deserializable by its class name (usable as a decorator)."""
    if not _is_spec_class(cls):
        msg = f"register() takes an Initializer dataclass, got {abbreviate(cls)}."
        raise ParameterError(msg)
    if cls.__name__ in _SPECS and _SPECS[cls.__name__] is not cls:
        msg = f"a spec named {cls.__name__!r} is already registered."
        raise ParameterError(msg)
    _SPECS[cls.__name__] = cls
    return cls


_INFINITIES: Final = ("-inf", "inf")
"""How an infinite number field is written in a config (indexed by ``value > 0``)."""


def _encode(value: Any) -> Any:
    if isinstance(value, (FanScaled, FixedVariance)):
        return {"class_name": type(value).__name__, "config": dataclasses.asdict(value)}
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, tuple):  # an array field's value (Initializer.array_fields), as nested lists
        return [_encode(item) for item in value]
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, float) and math.isinf(value):  # a one-sided bound (BoundedNormal(maxval=inf)): JSON has no infinity
        return _INFINITIES[value > 0]
    msg = (
        f"{abbreviate(value)} cannot be written to a JSON config: a config holds numbers, strings and the built-in rules "
        "(FanScaled, FixedVariance). To save a law of your own, write it as a spec class and ui.register it "
        "(docs/architecture.md, 'How to add an initializer')."
    )
    raise ParameterError(msg)


@keywords_checked
@functools.singledispatch
def serialize(spec: object, /) -> dict[str, Any]:
    """The spec as a JSON-ready dict ``{"class_name": ..., "config": {...}}``.

    ``spec`` is passed by position (``functools.singledispatch`` dispatches
    on the first positional argument).

    A container of specs registers its own writer (``@serialize.register``),
    as :class:`~unit_init.LayerPreset` does, so ``ui.serialize(ui.keras_dense)``
    works without this module knowing presets.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.serialize(ui.HeNormal(seed=1))
    {'class_name': 'HeNormal', 'config': {'seed': 1}}
    """
    if not isinstance(spec, Initializer) or _SPECS.get(type(spec).__name__) is not type(spec):
        msg = f"{abbreviate(spec)} is not a registered unit_init spec; register its class with ui.register first."
        raise ParameterError(msg)
    config = {key: _encode(value) for key, value in spec.get_config().items()}
    written = {"class_name": type(spec).__name__, "config": config}
    checked: dict[str, Any] = plain_config(f"the config of {type(spec).__name__}", written)  # what deserialize would refuse is not written
    return checked


def _plain_leaf(where: str, value: object) -> object:
    """A JSON scalar within the limits, as its exact built-in type (a number subclass is its value), or a
    ParameterError quoting it safely."""
    if value is None or isinstance(value, bool):
        return value
    if type(value) is str:
        problem = f"{len(value)} characters, more than the {MAX_STRING} accepted" if len(value) > MAX_STRING else ""
    elif isinstance(value, str):  # its own __hash__ and __eq__ would run wherever the name is looked up
        problem = f"a {type(value).__name__}, a subclass of str; a config holds plain strings (str)"
    elif isinstance(value, int):
        value = int.__int__(value)  # int's own method: a subclass's methods never run again
        problem = f"ints must lie below 2**{CONFIG_INT_BITS} in absolute value" if value.bit_length() > CONFIG_INT_BITS else ""
    elif isinstance(value, float):
        value = float.__float__(value)
        problem = "" if math.isfinite(value) else "a config holds finite numbers only (an infinite bound is written as the string 'inf' or '-inf')"
    else:
        problem = f"a {type(value).__name__}, but a config holds only objects, lists, strings, numbers, booleans and null"
    if problem:
        msg = f"{where} holds {abbreviate(value)}: {problem}."
        raise ParameterError(msg)
    return value


def _unreadable(where: str, value: object, error: Exception) -> ParameterError:
    return ParameterError(f"{where} holds a {type(value).__name__} that could not be read ({type(error).__name__}); pass plain dicts and lists.")


_SCALARS: Final = frozenset({type(None), bool, int, float, str})


def plain_config(where: str, config: object, *, max_values: int = MAX_VALUES, keep: Callable[[object], bool] | None = None) -> Any:
    """``config`` as plain JSON within the limits: a copy made of ``dict``, ``list``, ``str``, ``int``, ``float``,
    ``bool`` and ``None`` only, so that no method of a caller's subclass runs once it is read. Walked without recursion.
    A value ``keep`` accepts (an array, which a Keras ``Constant`` config holds as data) is kept as it is.

    At most :data:`MAX_DEPTH` nested containers and ``max_values`` (:data:`MAX_VALUES`) values
    in all, string keys, strings of at most :data:`MAX_STRING` characters, ints
    below ``2**64`` in absolute value, finite floats; a mapping becomes a dict, a
    tuple a list, a number subclass its value, and a ``str`` subclass is refused.
    A cycle nests without end, so it fails the depth limit. The work is bounded
    by the limits, whatever ``config`` holds.

    Raises
    ------
    ParameterError
        Naming ``where``, the limit and the offending value, abbreviated.

    Examples
    --------
    >>> from unit_init.serialization import plain_config
    >>> plain_config("the config", {"class_name": "HeNormal", "config": {"seed": True, "axes": (0, 1)}})
    {'class_name': 'HeNormal', 'config': {'seed': True, 'axes': [0, 1]}}
    >>> deep: list[object] = []
    >>> for _ in range(100_000):
    ...     deep = [deep]
    >>> plain_config("the config", {"class_name": deep})
    Traceback (most recent call last):
    ...
    unit_init.errors.ParameterError: the config nests containers more than 16 deep (or contains itself); at most 16 levels are accepted.
    """
    root: list[Any] = [None]
    stack: list[tuple[object, int, Any, Any]] = [(config, 1, root, 0)]  # a value, its depth, and where its copy goes
    count = 0
    while stack:
        value, depth, parent, slot = stack.pop()
        if not isinstance(value, (Mapping, list, tuple)):
            kept = keep is not None and type(value) not in _SCALARS and keep(value)
            parent[slot] = value if kept else _plain_leaf(where, value)
            continue
        try:  # a subclass's own methods may raise anything
            size = len(value)
        except Exception as error:
            raise _unreadable(where, value, error) from error
        count += 1 + size
        if depth > MAX_DEPTH:
            msg = f"{where} nests containers more than {MAX_DEPTH} deep (or contains itself); at most {MAX_DEPTH} levels are accepted."
            raise ParameterError(msg)
        if count > max_values:
            msg = (f"{where} holds more than {max_values} values (containers and their items counted together: {count} "
                   f"so far, with a container of {size}); at most {max_values} are accepted.")
            raise ParameterError(msg)
        try:  # read once the size is known to be within the limits
            items = list(value.items()) if isinstance(value, Mapping) else list(value)
        except Exception as error:
            raise _unreadable(where, value, error) from error
        if isinstance(value, Mapping):
            copy: Any = {}
            for key, item in items:
                if type(key) is not str:  # a str subclass's own __hash__ and __eq__ are never called
                    msg = f"{where} has the key {abbreviate(key)} ({type(key).__name__}); keys must be plain strings (str)."
                    raise ParameterError(msg)
                _plain_leaf(where, key)
                copy[key] = None
                stack.append((item, depth + 1, copy, key))
        else:
            copy = [None] * len(items)
            stack.extend((item, depth + 1, copy, index) for index, item in enumerate(items))
        parent[slot] = copy
    return root[0]


def check_envelope(where: str, config: Mapping[str, Any]) -> None:
    """A config's outer keys: only ``class_name``, ``config``, ``module`` and ``registered_name``, and a module only one
    of Keras's initializer modules (:class:`ParameterError` otherwise: nothing is imported from a config)."""
    _check_keys(where, config, _TOP_KEYS)
    if config.get("module") not in _KERAS_MODULES:
        msg = f"{where} names module={abbreviate(config.get('module'))}; unit_init never imports from a config and accepts only Keras's initializer modules there."
        raise ParameterError(msg)


def _check_keys(where: str, given: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = [key for key in given if key not in allowed]
    if unknown:
        first = str(unknown[0])[:MAX_STRING]
        msg = f"{where} has unknown key {abbreviate(first)}; accepted: {', '.join(sorted(allowed))}.{closest(first, allowed)}"
        raise ParameterError(msg)


def _check_value(key: str, value: Any) -> Any:
    """Admit only JSON scalars (a nested rule is decoded separately; :func:`plain_config` has bounded them)."""
    if value is not None and not isinstance(value, (bool, int, float, str)):
        msg = f"config value for {abbreviate(key)} must be a number, a string or null, not {type(value).__name__}."
        raise ParameterError(msg)
    return value


def _decode_field(cls: type[Initializer], key: str, value: Any) -> Any:
    """A Composed's rule, the nested lists of an array field (bounded by :func:`plain_config`, checked by the spec), or a JSON
    scalar; ``"inf"``/``"-inf"`` in a number field is that infinity (the spec's own check refuses it where a bound cannot be one)."""
    if issubclass(cls, Composed) and key == "rule":
        return _decode_rule(value)
    if key in cls.array_fields and isinstance(value, list):
        return value
    if type(value) is str and value in _INFINITIES and key in numeric_fields(cls):  # a str itself: no subclass's __eq__ asked
        return math.inf if value == _INFINITIES[True] else -math.inf
    return _check_value(key, value)


def _class_name(config: Mapping[str, Any]) -> str:
    name = config.get("class_name")
    if not isinstance(name, str):
        msg = "a config needs a 'class_name' string naming a unit_init spec."
        raise ParameterError(msg)
    return name


def _decode_rule(value: Any) -> Any:
    if not isinstance(value, Mapping):
        msg = f"a Composed config's 'rule' must be a rule config, not {type(value).__name__}."
        raise ParameterError(msg)
    _check_keys("a rule config", value, {"class_name", "config"})
    name = _class_name(value)
    if name not in _RULES:
        msg = f"rule class_name={abbreviate(name)} is not known; accepted: {', '.join(_RULES)}."
        raise ParameterError(msg)
    fields = value.get("config", {})
    if not isinstance(fields, Mapping):
        raise ParameterError("a rule's 'config' must be an object.")
    parameters = [f for f in dataclasses.fields(_RULES[name]) if f.init]
    _check_keys(f"the {name} config", fields, {f.name for f in parameters})
    missing = [f.name for f in parameters if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and f.name not in fields]
    if missing:
        msg = f"the {name} config lacks {', '.join(map(repr, missing))}."
        raise ParameterError(msg)
    return _RULES[name](**{key: _check_value(key, v) for key, v in fields.items()})


def _keras_axis_list(key: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or len(value) > _MAX_AXES or not all(isinstance(a, int) and not isinstance(a, bool) for a in value):
        msg = f"{key}={abbreviate(value)} must be null or a list of at most {_MAX_AXES} ints (axes of the weight)."
        raise ParameterError(msg)
    return tuple(value)


class KerasAxes(NamedTuple):
    """The ``input_axes``/``output_axes`` of a Keras ``VarianceScaling`` config (``None``: not given)."""

    input_axes: tuple[int, ...] | None = None
    output_axes: tuple[int, ...] | None = None


def split_keras_axes(config: Mapping[str, Any]) -> tuple[Mapping[str, Any], KerasAxes]:
    """A spec config without Keras's ``input_axes``/``output_axes``, and those axes, checked.

    Keras >= 3.12 writes them (null by default) into its fan-scaled configs;
    explicit axes are the weight's input and output axes, which a unit_init
    spec takes at call time: the Keras adapter (``unit_init.keras.initializer``)
    honours them, with Keras's fans.

    Examples
    --------
    >>> from unit_init.serialization import split_keras_axes
    >>> split_keras_axes({"class_name": "GlorotUniform", "config": {"input_axes": [0], "output_axes": [1, 2]}})
    ({'class_name': 'GlorotUniform', 'config': {}}, KerasAxes(input_axes=(0,), output_axes=(1, 2)))
    """
    config = plain_config("the Keras config", config)
    fields = config.get("config")
    if not isinstance(fields, Mapping):
        return config, KerasAxes()
    axes = KerasAxes(*(_keras_axis_list(key, fields.get(key)) for key in _KERAS_AXES))
    rest = {key: value for key, value in fields.items() if key not in _KERAS_AXES}
    return {**config, "config": rest}, axes


def _drop_keras_axes(name: str, fields: Mapping[str, Any]) -> Mapping[str, Any]:
    """Null ``input_axes``/``output_axes`` mean "the default layout", unit_init's default too: dropped.

    Explicit axes cannot live in a bare spec; they are refused here, with a
    pointer to the Keras adapter, which honours them.
    """
    _, axes = split_keras_axes({"config": fields})
    for key, value in zip(_KERAS_AXES, axes, strict=True):
        if value is not None:
            msg = (
                f"the {name} config sets {key}={list(value)}; a bare spec takes its axes at call time "
                "(layout=ui.Layout(...)): read this config with unit_init.keras.initializer(config), which honours them."
            )
            raise ParameterError(msg)
    return {key: value for key, value in fields.items() if key not in _KERAS_AXES}


@keywords_checked
def deserialize(config: object) -> Initializer:
    """Build a spec from a config made by :func:`serialize` or by Keras.

    Raises
    ------
    ParameterError
        Unknown class, a module path, unknown keys, values of the wrong type
        or out of range, a config beyond the limits of :func:`plain_config`.
        Nothing is ever imported or evaluated.
    """
    if not isinstance(config, Mapping):
        msg = f"a config must be a dict, not {type(config).__name__}."
        raise ParameterError(msg)
    plain: dict[str, Any] = plain_config("the config", config)
    check_envelope("the config", plain)
    name = _class_name(plain)
    cls = _SPECS.get(name) or _ALIASES.get(name)
    if cls is None:
        msg = f"class_name={abbreviate(name)} is not a registered unit_init spec; known: {', '.join(sorted(_SPECS))}.{closest(name, _SPECS)}"
        raise ParameterError(msg)
    if plain.get("registered_name") not in (None, name):
        msg = f"registered_name={abbreviate(plain.get('registered_name'))} does not match class_name={abbreviate(name)}."
        raise ParameterError(msg)
    fields = plain.get("config", {})
    if not isinstance(fields, Mapping):
        raise ParameterError("a config's 'config' must be an object.")
    fields = _drop_keras_axes(name, fields)
    _check_keys(f"the {name} config", fields, {f.name for f in dataclasses.fields(cls) if f.init})
    kwargs = {key: _decode_field(cls, key, v) for key, v in fields.items()}
    if cls is VarianceScaling and kwargs.get("distribution") == "normal":
        kwargs["distribution"] = "truncated_normal"  # Keras meaning; unit_init itself never writes "normal"
    try:
        return cls(**kwargs)
    except TypeError as error:  # e.g. a rule where a number belongs
        raise ParameterError(f"the {name} config is invalid: {error}") from None


@keywords_checked
def get(identifier: str | Mapping[str, Any] | Initializer | None) -> Initializer | None:
    """A spec from a name (``"he_normal"`` or ``"HeNormal"``), a config, a spec, or ``None``.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.get("he_normal")
    HeNormal(seed=None)
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        cls = spec_class(identifier)
        try:
            return cls()
        except TypeError as error:  # a spec with required arguments (Sparse, ScaledResidual, …)
            msg = f"initializer {abbreviate(identifier)} needs arguments ({error}); pass a config {{'class_name': {abbreviate(cls.__name__)}, 'config': {{...}}}} or the spec itself."
            raise ParameterError(msg) from None
    given: object = identifier  # whatever a caller passed
    if not isinstance(given, Mapping):  # another library's initializer (a function, a Keras object): no unit_init spec
        msg = (
            f"{abbreviate(given)} is not a unit_init initializer; pass a spec (ui.HeNormal()), a name "
            "('he_normal') or a config ({'class_name': 'HeNormal', 'config': {...}})."
        )
        raise ParameterError(msg)
    return deserialize(identifier)


def spec_class(name: str) -> type[Initializer]:
    """The spec class :func:`get` builds for ``name`` (``"he_normal"``, ``"HeNormal"``, a Keras alias); :class:`ParameterError` for an unknown one."""
    _plain_leaf("the initializer name", name)
    cls = _NAMED.get(name) or _SPECS.get(name) or _ALIASES.get(name)
    head = name.partition(":")[0]
    named = _NAMED.get(head) or _SPECS.get(head) or _ALIASES.get(head) if cls is None and head != name else None
    if named is not None:
        msg = (
            f"initializer {abbreviate(name)}: the NAME:KEY=VALUE form is read by the command line, ui.diagnose and "
            f"ui.compare; here give the parameters in a config, {{'class_name': {named.__name__!r}, 'config': {{...}}}}, or pass the spec itself."
        )
        raise ParameterError(msg)
    if cls is None:
        known = [*_NAMED, *_SPECS]
        msg = f"initializer {abbreviate(name)} is not known; known: {', '.join(_NAMED)}.{closest(name, known)}"
        raise ParameterError(msg)
    return cls


def _mapping(where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"{where} must be an object (a dict), not {type(value).__name__}."
        raise ParameterError(msg)
    return value


def _layout_name(value: Any) -> str:
    if not isinstance(value, str) or value not in LAYOUTS:
        hint = closest(value[:64], LAYOUTS) if isinstance(value, str) else ""
        msg = f"layout={abbreviate(value)} is not known; accepted: {', '.join(map(repr, LAYOUTS))} or a ui.Layout(...).{hint}"
        raise ParameterError(msg)
    return value


def config_fields(where: str, config: object, class_name: str, allowed: Set[str], required: Set[str] = frozenset()) -> Mapping[str, Any]:
    """The checked ``"config"`` object of a container config ``{"class_name": class_name, "config": {...}}``.

    The whole config is bounded by :func:`plain_config`; it may hold only the
    two keys, its ``class_name`` must be ``class_name``, and its ``"config"``
    an object with keys from ``allowed`` and every key of ``required``. The
    values are left to the caller (nested spec configs to :func:`deserialize`).

    Raises
    ------
    ParameterError
        Naming ``where`` and what is wrong.

    Examples
    --------
    >>> from unit_init.serialization import config_fields
    >>> config_fields("the pair config", {"class_name": "Pair", "config": {"left": 1}}, "Pair", {"left", "right"}, {"left"})
    {'left': 1}
    >>> config_fields("the pair config", {"class_name": "Pair", "config": {}}, "Pair", {"left", "right"}, {"left"})
    Traceback (most recent call last):
    ...
    unit_init.errors.ParameterError: the pair config lacks 'left'.
    """
    plain: dict[str, Any] = plain_config(where, _mapping(where, config))
    _check_keys(where, plain, {"class_name", "config"})
    if _class_name(plain) != class_name:
        msg = f"{where}: class_name={abbreviate(_class_name(plain))} is not {abbreviate(class_name)}."
        raise ParameterError(msg)
    fields = _mapping(f"{where}'s 'config'", plain.get("config"))
    _check_keys(where, fields, set(allowed))
    missing = sorted(set(required) - set(fields))
    if missing:
        msg = f"{where} lacks {', '.join(map(repr, missing))}."
        raise ParameterError(msg)
    return fields


class AdapterConfig(NamedTuple):
    """What a framework adapter's wrapper stores: the spec, its layout and any fan overrides."""

    spec: Initializer
    layout: str | Layout
    fan_in: float | None = None
    fan_out: float | None = None


def _encode_layout(layout: str | Layout) -> str | dict[str, Any]:
    if isinstance(layout, Layout):
        return {name: list(axes) if isinstance(axes := getattr(layout, name), tuple) else axes for name in _LAYOUT_FIELDS}
    return _layout_name(layout)


def _decode_layout(value: Any) -> str | Layout:
    if isinstance(value, str):
        return _layout_name(value)
    fields = _mapping("an adapter config's 'layout'", value)
    _check_keys("the layout config", fields, set(_LAYOUT_FIELDS))
    axes: dict[str, Any] = {}
    for name, given in fields.items():
        items = given if isinstance(given, list) else [given]
        if len(items) > _MAX_AXES or not all(isinstance(a, int) and not isinstance(a, bool) for a in items):
            msg = f"layout {name}={abbreviate(given)} must be an int or a list of at most {_MAX_AXES} ints."
            raise ParameterError(msg)
        axes[name] = tuple(items) if isinstance(given, list) else given
    return Layout(**axes)


def _decode_fan(name: str, value: Any) -> float | None:
    """An adapter config's fan override: ``None``, or what a call's ``fan_in=``/``fan_out=`` takes (finite, at least 1)."""
    return None if value is None else fan_override(name, value)


def adapter_config(
    spec: Initializer, layout: str | Layout = "keras", fan_in: float | None = None, fan_out: float | None = None
) -> dict[str, Any]:
    """The config of a framework adapter's wrapper: ``{"spec": serialize(spec), "layout": …}``.

    A named layout is stored as its name, a :class:`~unit_init.Layout` as its
    axes; ``fan_in``/``fan_out`` overrides are stored only when given.
    """
    config: dict[str, Any] = {"spec": serialize(spec), "layout": _encode_layout(layout)}
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value is not None:
            config[name] = _decode_fan(name, value)
    checked: dict[str, Any] = plain_config("the adapter config", config)  # what read_adapter_config would refuse is not written
    return checked


def adapter_parts(spec: Initializer, layout: str | Layout = "keras", fan_in: float | None = None, fan_out: float | None = None) -> AdapterConfig:
    """A framework adapter's parts checked as its saved config reads them back (:func:`adapter_config`, then
    :func:`read_adapter_config`: a Keras alias read as its spec, a layout by its name or axes, fans as a call takes them).

    A spec that has no config (a ``Composed`` whose rule is a class of the caller's own, a spec class not
    registered) is kept as it is, its layout and fans checked alike: the JAX adapter draws it, and saving the adapter
    (:func:`adapter_config`) is the :class:`ParameterError` that says why it cannot be saved. (The Keras adapter
    refuses such a spec when it is made: a Keras initializer is saved with its model.)

    Examples
    --------
    >>> import unit_init as ui
    >>> from unit_init.serialization import adapter_parts
    >>> class HalfFanIn:
    ...     def variance(self, fans): return 0.5 / fans.fan_in
    >>> adapter_parts(ui.Composed(rule=HalfFanIn(), family="uniform"), "torch", fan_in=8).fan_in
    8.0
    """
    try:
        serialize(spec)
    except ParameterError:
        return AdapterConfig(spec, _decode_layout(_encode_layout(layout)), _decode_fan("fan_in", fan_in), _decode_fan("fan_out", fan_out))
    return read_adapter_config(adapter_config(spec, layout, fan_in, fan_out))


def read_adapter_config(config: Mapping[str, Any]) -> AdapterConfig:
    """:class:`AdapterConfig` from :func:`adapter_config`'s output, checked like any config.

    Examples
    --------
    >>> import unit_init as ui
    >>> from unit_init.serialization import adapter_config, read_adapter_config
    >>> read_adapter_config(adapter_config(ui.HeNormal(seed=3), "keras"))
    AdapterConfig(spec=HeNormal(seed=3), layout='keras', fan_in=None, fan_out=None)
    >>> read_adapter_config(adapter_config(ui.HeNormal(), ui.Layout(in_axis=(0, 1), out_axis=2), fan_in=8)).layout
    Layout(in_axis=(0, 1), out_axis=2, batch_axis=())
    """
    config = plain_config("the adapter config", _mapping("an adapter config", config))
    _check_keys("the adapter config", config, {"spec", "layout", "fan_in", "fan_out"})
    if "spec" not in config:
        raise ParameterError(
            "the adapter config lacks 'spec' (a unit_init spec config); an adapter's initializer is made from a spec "
            "(unit_init.keras.initializer(ui.HeNormal()), unit_init.jax.initializer(ui.HeNormal())), or read back from "
            "the whole config its get_config() gave."
        )
    spec = deserialize(_mapping("an adapter config's 'spec'", config["spec"]))
    return AdapterConfig(
        spec,
        _decode_layout(config.get("layout", "keras")),
        _decode_fan("fan_in", config.get("fan_in")),
        _decode_fan("fan_out", config.get("fan_out")),
    )
