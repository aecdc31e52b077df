"""Keras 3 adapter: any unit_init spec as a serializable ``keras.initializers.Initializer``.

* **Backends**: each call draws with unit_init on the Keras backend in use
  (``"tensorflow"``, ``"jax"``, ``"torch"`` or ``"numpy"``), in the dtype Keras
  asks for (``keras.config.floatx()`` when it asks for none), and returns that
  backend's native tensor.
* **Recognized as Keras's own**: a fan-scaled spec (``VarianceScaling``, the He,
  Glorot and LeCun presets, a ``Composed`` with a ``FanScaled`` rule) becomes a
  :class:`KerasVarianceScaling`, a subclass of ``keras.initializers.VarianceScaling``.
  ``EinsumDense`` (and so ``MultiHeadAttention``, ``GroupQueryAttention``)
  checks exactly that ``isinstance`` at build time and, when ``input_axes`` or
  ``output_axes`` is ``None``, clones the initializer with
  ``from_config({**get_config(), "seed": init.seed, "input_axes": …, "output_axes": …})``;
  the clone draws with Keras's fans (below). Any other spec is a plain
  :class:`KerasInitializer`, which Keras hands no axes.
* **Fans**: with ``input_axes`` and ``output_axes`` both given (by the layer or
  by the user) and the default layout ``"keras"``, the fans are Keras's
  ``fan_in = max(1, prod(shape[input_axes]))``, ``fan_out = max(1, prod(shape[output_axes]))``
  and the layout is ``ui.Layout(in_axis=input_axes, out_axis=output_axes, batch_axis=<every other axis>)``.
  One of them ``None`` means the default fans (as in Keras). An explicit
  ``layout`` other than ``"keras"`` or explicit ``fan_in``/``fan_out`` win over
  the layer's axes (each override replaces its own fan only), as a Keras
  initializer built with explicit axes keeps them.
* **Attributes**: the spec's parameters under Keras's names (``.mean``,
  ``.stddev``, ``.minval``, ``.maxval``, ``.value``, ``.gain``, and ``.scale``,
  ``.mode``, ``.distribution`` also for the presets), read off the spec, its
  preset and its variance rule; ``.seed``, ``.input_axes``, ``.output_axes``.
* **Seeds**, as Keras's random initializers: ``.seed`` is an int or a
  ``keras.random.SeedGenerator``. An int (the spec's own, or ``seed=``) gives
  the same values on every call; an unseeded spec gets an int at construction
  from Python's ``random`` (``keras.utils.set_random_seed`` makes it
  reproducible) that is not written to the config. A ``SeedGenerator`` advances
  once per call, so every call draws new values, and is saved in the config.
* **Saving**: registered as ``"unit_init>Initializer"`` and
  ``"unit_init>VarianceScaling"``, with ``"module": "unit_init.keras"``; the
  config is :func:`unit_init.serialization.adapter_config` (plus ``seed``,
  ``input_axes``, ``output_axes`` where set) and is read back with unit_init's
  closed-registry checks, never by importing anything named in it. Import
  ``unit_init.keras`` before ``keras.saving.load_model``.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Final

import keras

from unit_init.adapters._spec import spec_of
from unit_init.errors import ParameterError, SeedError, abbreviate, keywords_checked
from unit_init.keras._call import call_arguments, keras_backend, keras_device
from unit_init.keras._constant import KerasConstant, is_array_constant, plain_constant_config
from unit_init.serialization import (
    AdapterConfig,
    KerasAxes,
    adapter_config,
    plain_config,
    read_adapter_config,
    split_keras_axes,
)
from unit_init.spec._checks import hashable, plain_number
from unit_init.spec.fans import Fans, Layout, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer, run_by_autograph_as_written
from unit_init.spec.rules import FanScaled
from unit_init.spec.torch_style import as_variance_scaling

__all__ = ["KerasInitializer", "KerasVarianceScaling", "initializer", "is_fan_scaled"]

_SEED_GENERATOR_KEYS: Final = {"seed", "name"}
_KERAS_MODES: Final = ("fan_in", "fan_out", "fan_avg")  # keras.initializers.VarianceScaling's


def _sources(spec: Initializer) -> tuple[Any, ...]:
    """The dataclasses that describe ``spec``: its variance rule, the ``VarianceScaling`` a torch spelling draws
    (``XavierUniform``: its ``scale``, ``mode``, ``distribution``), itself (a preset's fixed fields included)."""
    scaling = as_variance_scaling(spec)
    return getattr(scaling, "rule", None), scaling, spec


def is_fan_scaled(spec: Initializer) -> bool:
    """Whether the variance of ``spec`` is ``scale / fan`` with a fan Keras knows: the specs Keras would treat as ``VarianceScaling``.

    JAX's ``"fan_geo_avg"`` is not one of Keras's modes, so such a spec stays a plain :class:`KerasInitializer`.
    """
    rule = _sources(spec)[0]
    return isinstance(rule, FanScaled) and rule.mode in _KERAS_MODES


def _keras_attributes(spec: Initializer) -> dict[str, Any]:
    """The spec's parameters by name (later sources win), without ``seed``, which the adapter owns."""
    fields: dict[str, Any] = {}
    for source in _sources(spec):
        if dataclasses.is_dataclass(source) and not isinstance(source, type):
            fields.update((f.name, getattr(source, f.name)) for f in dataclasses.fields(source))
    fields.pop("seed", None)
    if isinstance(fields.get("family"), str):  # a Composed's family is what Keras calls the distribution
        fields.setdefault("distribution", fields["family"])
    return fields


def _seed_generator(value: Mapping[str, Any]) -> Any:
    """A ``SeedGenerator`` from the config Keras writes for one, checked; nothing named in it is imported."""
    value = plain_config("the SeedGenerator config", value)
    fields = value.get("config", value)
    if value.get("class_name", "SeedGenerator") != "SeedGenerator" or not isinstance(fields, Mapping) or set(fields) - _SEED_GENERATOR_KEYS:
        msg = f"seed={abbreviate(value)} is not a SeedGenerator config; accepted: an int, null or a SeedGenerator config."
        raise SeedError(msg)
    seed, name = fields.get("seed"), fields.get("name")
    if (seed is not None and (isinstance(seed, bool) or not isinstance(seed, int))) or (name is not None and not isinstance(name, str)):
        msg = f"the SeedGenerator config {abbreviate(fields)} needs an int or null 'seed' and a string 'name'."
        raise SeedError(msg)
    try:
        return keras.random.SeedGenerator(seed=seed, name=name)
    except (OverflowError, ValueError, TypeError, RuntimeError) as error:  # a seed the backend's state cannot hold (JAX: uint32; TF: int64; torch: int32)
        msg = f"the SeedGenerator config's seed={abbreviate(seed)} is refused by Keras's {keras.backend.backend()} backend ({error}); use an int in [0, 2**32)."
        raise SeedError(msg) from None


def _resolve_seed(spec: Initializer, seed: Any) -> tuple[Initializer, Any]:
    """``(spec, .seed)``: an int ``seed`` goes into the spec; a SeedGenerator is kept beside it; ``None`` draws a default."""
    if isinstance(seed, Mapping):
        seed = _seed_generator(seed)
    if isinstance(seed, keras.random.SeedGenerator):
        if spec.seed is not None:
            msg = f"seed=<SeedGenerator> conflicts with the spec's own seed={spec.seed}; give one of them."
            raise SeedError(msg)
        return spec, seed
    if seed is None and not spec.random:  # Keras's Zeros, Constant … take no seed (and draw none from Python's random)
        return spec, spec.seed
    if isinstance(seed, _KerasDefault) and spec.seed is None:  # a converted built-in's own default: drawn with, unsaved
        return spec, int(seed)
    if seed is None:
        return spec, spec.seed if spec.seed is not None else random.randint(1, 10**9)  # as keras.random.make_default_seed
    try:
        seeded = dataclasses.replace(spec, seed=seed)  # the spec validates the int (an array is refused before any comparison)
    except SeedError:  # the spec's message names the spec; the bad seed was given to the Keras initializer
        msg = f"seed={abbreviate(seed)} is not a seed for a Keras initializer; pass None, an int in [0, 2**63 - 1] or a keras.random.SeedGenerator."
        raise SeedError(msg) from None
    if spec.seed is not None and seeded.seed != spec.seed:
        msg = f"seed={abbreviate(seed)} conflicts with the spec's own seed={spec.seed}; give one of them."
        raise SeedError(msg)
    return seeded, seeded.seed


def _read(spec: Any, seed: Any, input_axes: Sequence[int] | None, output_axes: Sequence[int] | None) -> tuple[Initializer, Any, KerasAxes]:
    """``(spec, seed, axes)`` from the arguments, a Keras config's axes and SeedGenerator seed filling what they leave out."""
    _, given = split_keras_axes({"config": {"input_axes": input_axes, "output_axes": output_axes}})
    if not isinstance(spec, Mapping):
        _refuse_repeated_axes(given)
        return spec_of(spec), seed, given
    spec, from_config = split_keras_axes(spec)
    fields = spec.get("config")
    if isinstance(fields, Mapping) and isinstance(fields.get("seed"), Mapping):  # Keras writes a SeedGenerator seed as its config
        if seed is not None:
            msg = f"seed={abbreviate(seed)} conflicts with the config's SeedGenerator seed; give one of them."
            raise SeedError(msg)
        seed = fields["seed"]
        spec = {**spec, "config": {key: value for key, value in fields.items() if key != "seed"}}
    axes = KerasAxes(*(mine if mine is not None else theirs for mine, theirs in zip(given, from_config, strict=True)))
    _refuse_repeated_axes(axes)
    return spec_of(spec), seed, axes


def _refuse_repeated_axes(axes: KerasAxes) -> None:
    """A :class:`ParameterError` for an axis named twice in ``input_axes`` and ``output_axes``, here rather than at the
    first call (where the layout they make refuses it). Keras's own reads such axes' fans; no Keras layer passes them."""
    named = [*(axes.input_axes or ()), *(axes.output_axes or ())]
    repeated = sorted({axis for axis in named if named.count(axis) > 1})
    if repeated:
        msg = (f"input_axes={list(axes.input_axes or ())} and output_axes={list(axes.output_axes or ())} name axis "
               f"{', '.join(map(str, repeated))} more than once; unit_init draws with distinct input and output axes.")
        raise ParameterError(msg)


def _round_trip(spec: Initializer, layout: str | Layout, fan_in: float | None, fan_out: float | None) -> AdapterConfig:
    """``(spec, layout, fan_in, fan_out)`` read back from their adapter config (a spec that cannot be saved fails
    here); cached for hashable arguments: Keras clones a layer's initializers through their configs (``EinsumDense``,
    ``MultiHeadAttention``, every loaded model), where the round trip was most of a 50–85 µs construction.

    The cache is keyed by the arguments' types too, and by the spec's ``repr`` (its numbers' types, nested ones
    included): ``True``, ``1`` and ``1.0`` compare equal, and a ``Constant(1)`` built first made ``Constant(1.0)``
    save ``"value": 1``, and a ``fan_in=1.0`` made ``fan_in=True`` pass."""
    arguments = (spec, repr(spec), layout, fan_in, fan_out)
    if hashable(arguments):
        return _cached_round_trip(*arguments)
    return read_adapter_config(adapter_config(spec, layout, fan_in, fan_out))


@functools.lru_cache(maxsize=512, typed=True)
def _cached_round_trip(spec: Initializer, _shown: str, layout: str | Layout, fan_in: float | None, fan_out: float | None) -> AdapterConfig:
    return read_adapter_config(adapter_config(spec, layout, fan_in, fan_out))


@run_by_autograph_as_written
@keras.saving.register_keras_serializable(package="unit_init", name="Initializer")
class KerasInitializer(keras.initializers.Initializer):  # type: ignore[misc]  # keras ships no type information
    """A unit_init spec as a Keras initializer (see the module docstring).

    Constructing this class with a fan-scaled spec returns a :class:`KerasVarianceScaling`.

    Parameters
    ----------
    spec:
        A unit_init spec, a name (``"he_normal"``), a unit_init config or a
        Keras initializer config (its ``input_axes``/``output_axes`` honoured).
    layout:
        A layout name or a :class:`unit_init.Layout` (default ``"keras"``).
    fan_in, fan_out:
        Fixed fans that override what the shape implies.
    seed:
        An int, a ``keras.random.SeedGenerator`` (or its config), or ``None``.
    input_axes, output_axes:
        Keras's axes of the weight's input and output units (``None``: not given).
    """

    def __new__(cls, spec: Any = None, *args: Any, **kwargs: Any) -> KerasInitializer:
        if cls is KerasInitializer and spec is not None and is_fan_scaled(_read(spec, None, None, None)[0]):
            cls = KerasVarianceScaling
        instance: KerasInitializer = super().__new__(cls)
        return instance

    @keywords_checked
    def __init__(
        self,
        spec: Any,
        layout: str | Layout = "keras",
        *,
        fan_in: float | None = None,
        fan_out: float | None = None,
        seed: Any = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        resolve_layout(layout)  # a layout that is not one is named as the argument it is (the config round trip below would call it a config's)
        spec, seed, given = _read(spec, seed, input_axes, output_axes)
        spec, self.seed = _resolve_seed(spec, seed)
        # a round trip through the config: a spec that cannot be saved (a rule of your own) fails here, not at model.save
        self.spec, self.layout, self.fan_in, self.fan_out = _round_trip(spec, layout, fan_in, fan_out)
        self.input_axes, self.output_axes = given
        for name, value in _keras_attributes(self.spec).items():
            if not hasattr(self, name):
                setattr(self, name, value)

    def _options(self, shape: tuple[int, ...]) -> dict[str, Any]:
        """The layout and fans of one call: Keras's from the axes where they apply, else the given ones."""
        if self.layout != "keras" or self.input_axes is None or self.output_axes is None:
            return {"layout": self.layout, "fan_in": self.fan_in, "fan_out": self.fan_out}
        in_axes, out_axes, _ = Layout(self.input_axes, self.output_axes).axes(len(shape))
        batch = tuple(a for a in range(len(shape)) if a not in {*in_axes, *out_axes})
        return {
            "layout": Layout(in_axes, out_axes, batch),
            "fan_in": self.fan_in if self.fan_in is not None else max(1, math.prod(shape[a] for a in in_axes)),
            "fan_out": self.fan_out if self.fan_out is not None else max(1, math.prod(shape[a] for a in out_axes)),
        }

    def fans(self, shape: Sequence[int]) -> Fans:
        """The fans a call for ``shape`` uses (Keras's from ``input_axes``/``output_axes`` where they apply).

        Examples
        --------
        >>> import unit_init as ui, unit_init.keras
        >>> unit_init.keras.initializer(ui.GlorotUniform(), input_axes=[0], output_axes=[1, 2]).fans((512, 8, 64))
        Fans(fan_in=512.0, fan_out=512.0)
        """
        dims = normalize_shape(shape)  # as a call reads it: (2.5, 3) is a ShapeError, not (2, 3)
        return self.spec.fans(dims, **self._options(dims))

    @keywords_checked
    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        """Draw ``shape`` on the Keras backend in use, in ``dtype`` (default ``keras.config.floatx()``), on the device
        Keras puts its tensors on (:func:`~unit_init.keras._call.keras_device`)."""
        dims, dtype = call_arguments(shape, dtype)
        backend = keras_backend()
        device = keras_device(backend)
        seed = 0 if str(device) == "meta" else self.seed  # Keras's symbolic build on torch: no values, so no seed to read
        return self.spec(dims, backend=backend, device=device, dtype=dtype, seed=seed, **self._options(dims))

    def get_config(self) -> dict[str, Any]:
        """:func:`~unit_init.serialization.adapter_config`, plus a SeedGenerator ``seed`` and the axes where set."""
        config = adapter_config(self.spec, self.layout, self.fan_in, self.fan_out)
        if isinstance(self.seed, keras.random.SeedGenerator):
            config["seed"] = keras.saving.serialize_keras_object(self.seed)
        for name in ("input_axes", "output_axes"):
            if getattr(self, name) is not None:
                config[name] = list(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config: Any) -> KerasInitializer:
        """Rebuild from :meth:`get_config` (or a layer's clone of it); hostile configs raise :class:`~unit_init.UnitInitError`."""
        if not isinstance(config, Mapping):
            msg = f"a KerasInitializer config must be a dict, not {type(config).__name__}."
            raise ParameterError(msg)
        config = plain_config("the KerasInitializer config", config, keep=lambda value: isinstance(value, keras.random.SeedGenerator))
        keras_keys = {key: config[key] for key in ("seed", "input_axes", "output_axes") if key in config}
        spec, layout, fan_in, fan_out = read_adapter_config({key: v for key, v in config.items() if key not in keras_keys})
        made = KerasInitializer if cls is KerasVarianceScaling else cls  # whose __new__ picks by the spec; a user's subclass stays itself, as Keras's cls(**config)
        try:
            return made(spec, layout, fan_in=fan_in, fan_out=fan_out, **keras_keys)
        except TypeError as error:  # a bad seed (SeedError): Keras's loader re-raises any TypeError as a plain one of its own
            msg = f"the {cls.__name__} config is invalid: {error}"
            raise ParameterError(msg) from None

    def __repr__(self) -> str:
        extras = [f"{name}={getattr(self, name)!r}" for name in ("fan_in", "fan_out", "input_axes", "output_axes") if getattr(self, name) is not None]
        return f"unit_init.keras.{type(self).__name__}({', '.join([repr(self.spec), f'layout={self.layout!r}', *extras])})"


@keras.saving.register_keras_serializable(package="unit_init", name="VarianceScaling")
class KerasVarianceScaling(KerasInitializer, keras.initializers.VarianceScaling):  # type: ignore[misc]
    """A fan-scaled unit_init spec, recognized by Keras as one of its ``VarianceScaling`` family.

    Keras layers that know the weight's axes (``EinsumDense``,
    ``MultiHeadAttention``) hand them to it; it then draws with Keras's fans.
    Everything else is :class:`KerasInitializer`.
    """


for _cls in (KerasInitializer, KerasVarianceScaling):
    _cls.__module__ = "unit_init.keras"  # what a saved config names: the public module


_OWN_CLASSES: Final[dict[str, Any]] = {
    "unit_init>Initializer": KerasInitializer, "unit_init>VarianceScaling": KerasVarianceScaling, "unit_init>Constant": KerasConstant,
}
"""The adapter's initializers by the ``registered_name`` Keras writes in their configs (``package>name``)."""


def _own_class(config: Mapping[str, Any]) -> tuple[str, Any] | None:
    """``(registered name, class)`` of this adapter's initializer a config names in the short form Keras also reads
    (``{"class_name": "unit_init>VarianceScaling", "config": …}``, no module, its ``registered_name`` the same if
    given); ``None`` for any other config."""
    name, registered = config.get("class_name"), config.get("registered_name", config.get("class_name"))
    if not (isinstance(name, str) and isinstance(registered, str)) or "module" in config or set(config) - {"class_name", "config", "registered_name"}:
        return None  # an array class_name is no name (compared, it would be an array): the hostile config goes on to be refused
    return (name, _OWN_CLASSES[name]) if registered == name and name in _OWN_CLASSES else None


def _own(config: Mapping[str, Any], bare: bool) -> Any:
    """The initializer that ``keras.initializers.serialize`` of one of this adapter's wrote ``config`` for (a layer's
    ``from_config`` hands it back): rebuilt by that class's ``from_config``, with the layout, fans, seed and axes the
    config holds (``bare``: the call gives none of its own)."""
    name = config.get("registered_name")
    cls = _OWN_CLASSES.get(name) if isinstance(name, str) else None
    if cls is None or config.get("class_name") != cls.__name__ or set(config) != {"module", "class_name", "config", "registered_name"}:
        msg = (f"{abbreviate(dict(config))} names module='unit_init.keras' but is not the config of one of its initializers "
               f"({', '.join(sorted(c.__name__ for c in _OWN_CLASSES.values()))}, with registered_name 'unit_init>…').")
        raise ParameterError(msg)
    if not bare:
        msg = "the config of a unit_init.keras initializer holds its layout, fans, seed and axes; pass none of them beside it."
        raise ParameterError(msg)
    return cls.from_config(config["config"])


def _keras_config(keras_initializer: Any) -> dict[str, Any]:
    """A Keras built-in's config, completed with the constructor arguments its ``get_config`` leaves out or writes as a
    tensor's config.

    Keras 3's ``Identity.get_config()`` is ``{}``: its ``gain`` would be lost (the identity drawn with gain 1).
    ``RandomNormal(mean=keras.ops.convert_to_tensor(0.5))`` (Keras: "a python scalar or a scalar keras tensor")
    writes ``{"class_name": "__tensor__", …}`` for the mean: it is read as its number.
    """
    kind = type(keras_initializer).__name__
    try:
        config: dict[str, Any] = keras.initializers.serialize(keras_initializer)
    except (TypeError, ValueError) as error:  # a value Keras cannot write: Constant(1+1j), an object array
        msg = f"keras.initializers.{kind}: Keras cannot write its config ({error}); unit_init reads real numbers and arrays of them."
        raise ParameterError(msg) from None
    fields = config.setdefault("config", {})
    for name in inspect.signature(type(keras_initializer).__init__).parameters:
        if name in ("self", "seed") or not (name not in fields or isinstance(fields[name], dict)) or (kind, name) == ("Constant", "value"):
            continue  # written by get_config as a plain value; a Constant's value may be an array (a KerasConstant)
        given = getattr(keras_initializer, name, None)
        value = plain_number(given)  # np.float32(2.0), a 0-d tensor: its number
        if type(value) in (int, float):
            fields[name] = float(value)
        elif given is not None:  # Identity(gain=[[0.5]]), a bool or complex tensor: not drawn with the default instead
            msg = f"keras.initializers.{kind}({name}={abbreviate(given)}): {name} must be a real number (a Python scalar or a 0-d tensor)."
            raise ParameterError(msg)
    return config


class _KerasDefault(int):
    """The int a Keras built-in drew for itself unseeded (``keras.random.make_default_seed``), taken over by
    :func:`initializer` as the converted initializer's default: drawn with, never saved (Keras saves ``None``)."""


def _with_live_seed(config: dict[str, Any], keras_initializer: Any) -> tuple[dict[str, Any], Any]:
    """``(config, seed)`` drawing with the seed ``keras_initializer`` draws with, where its config would make another: its
    ``SeedGenerator`` itself (the config would build a fresh one from its first state), or, unseeded, the default int it
    drew at construction (:class:`_KerasDefault`; a new one would take another number from Python's ``random``)."""
    live, fields = getattr(keras_initializer, "seed", None), config.get("config", {})
    if isinstance(live, keras.random.SeedGenerator):
        return {**config, "config": {key: value for key, value in fields.items() if key != "seed"}}, live
    if fields.get("seed") is None and isinstance(live, int) and not isinstance(live, bool):
        return config, _KerasDefault(live)
    return config, None


@run_by_autograph_as_written
@keywords_checked
def initializer(
    spec: Any,
    *,
    layout: str | Layout = "keras",
    fan_in: float | None = None,
    fan_out: float | None = None,
    seed: Any = None,
    input_axes: Sequence[int] | None = None,
    output_axes: Sequence[int] | None = None,
) -> Any:
    """A Keras initializer that draws ``spec`` (see the module docstring for fans, seeds and saving).

    ``spec`` may also be an array or a backend tensor (Keras's "tensor as an
    initializer": the weight must have its shape) or a ``Constant`` config with
    an array value (broadcast, as ``keras.initializers.Constant``): both give a
    :class:`~unit_init.keras.KerasConstant`. A Keras built-in initializer
    (``keras.initializers.HeNormal(seed=1)``) is read through its config, with
    Keras's meaning, as :func:`unit_init.get` reads it.

    Examples
    --------
    >>> import keras, unit_init as ui, unit_init.keras
    >>> init = unit_init.keras.initializer(ui.GlorotUniform(seed=0))
    >>> init.scale, init.mode, init.distribution, init.seed
    (1.0, 'fan_avg', 'uniform', 0)
    >>> tuple(keras.layers.Dense(8, kernel_initializer=init)(keras.ops.ones((1, 4))).shape)
    (1, 8)
    """
    if isinstance(spec, keras.initializers.Initializer) and not isinstance(spec, (KerasInitializer, KerasConstant)):
        if not type(spec).__module__.startswith("keras."):
            msg = (f"{type(spec).__name__} is not one of Keras's built-in initializers, the only ones unit_init reads "
                   "(through their config); give a unit_init spec instead.")
            raise ParameterError(msg)
        spec, live_seed = _keras_config(spec), spec
    else:
        live_seed = None
    bare = isinstance(layout, str) and layout == "keras" and all(v is None for v in (fan_in, fan_out, seed, input_axes, output_axes))
    if live_seed is not None and seed is None:
        spec, seed = _with_live_seed(spec, live_seed)
    if isinstance(spec, Mapping):
        spec = plain_constant_config("the initializer config", spec, seeds=True)  # read on as plain JSON (and arrays, seeds)
    if isinstance(spec, dict) and (own := _own_class(spec)) is not None:  # Keras's short form names the class alone
        spec = {"module": "unit_init.keras", "class_name": own[1].__name__, "config": spec.get("config"), "registered_name": own[0]}
    if isinstance(spec, dict) and isinstance(module := spec.get("module"), str) and module == "unit_init.keras":
        return _own(spec, bare)
    if is_array_constant(spec):
        if not bare:
            raise ParameterError("an array constant takes no layout, fans, seed or axes.")
        return KerasConstant._from_plain_config(spec) if isinstance(spec, dict) else KerasConstant(spec, broadcast=False)
    return KerasInitializer(spec, layout, fan_in=fan_in, fan_out=fan_out, seed=seed, input_axes=input_axes, output_axes=output_axes)
