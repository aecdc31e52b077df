"""``keras.initializers`` as Keras's own tests use it, backed by ``unit_init.keras``.

Each name takes the arguments of the Keras class of that name (bound against
that class's own signature, so the defaults, the positional order and the
``TypeError`` for an unknown argument are Keras's) and returns what a user
porting that line gets: ``unit_init.keras.initializer(<the Keras config>,
seed=..., input_axes=..., output_axes=...)`` — the documented way to read a
Keras initializer's config with Keras's meaning (docs/adapters/keras.md). The
seed and the axes go in as the adapter's own arguments, as a user passes a
``keras.random.SeedGenerator``.

``isinstance(x, Name)`` holds for a unit_init initializer drawing the spec of
that name, and ``Name.from_config`` is the adapter's ``from_config``, so the
tests' class-level checks read the adapter. ``get`` is ``unit_init.keras.initializer``
(``None`` passes through, as in ``keras.initializers.get``).

``compute_fans(shape, input_axes, output_axes)`` is the adapter's
``initializer(...).fans(shape)``: the fans it draws with, given the axes a
Keras layer hands it.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import keras
import pytest

import unit_init as ui
import unit_init.keras
from unit_init.keras import KerasConstant, KerasInitializer

_ADAPTER_ARGUMENTS = ("seed", "input_axes", "output_axes")


def skip_if_backend(given_backend: str, reason: str) -> Any:
    """Keras's own helper from its root conftest.py: skip on that Keras backend."""
    return pytest.mark.skipif(keras.backend.backend() == given_backend, reason=reason)


class _Shim(type):
    """A stand-in for one Keras initializer class: calling it builds the unit_init initializer."""

    keras_name: str
    spec: type[Any]

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(getattr(keras.initializers, cls.keras_name)).bind(*args, **kwargs)
        bound.apply_defaults()
        config = dict(bound.arguments)
        adapter = {name: config.pop(name) for name in _ADAPTER_ARGUMENTS if name in config}
        return unit_init.keras.initializer({"class_name": cls.keras_name, "config": config}, **adapter)

    def __instancecheck__(cls, instance: Any) -> bool:
        if isinstance(instance, KerasConstant):
            return cls.spec is ui.Constant
        return isinstance(instance, KerasInitializer) and type(instance.spec) is cls.spec

    def from_config(cls, config: Any) -> Any:
        if isinstance(config, dict) and set(config) <= {"value", "dtype", "broadcast"}:
            return KerasConstant.from_config(config)
        return KerasInitializer.from_config(config)


class _Initializer(metaclass=_Shim):
    keras_name: ClassVar[str]
    spec: ClassVar[type[Any]]


def _shim(keras_name: str, spec: type[Any]) -> type[Any]:
    return _Shim(keras_name, (_Initializer,), {"keras_name": keras_name, "spec": spec, "__module__": __name__})


RandomNormal = _shim("RandomNormal", ui.RandomNormal)
RandomUniform = _shim("RandomUniform", ui.RandomUniform)
TruncatedNormal = _shim("TruncatedNormal", ui.TruncatedNormal)
VarianceScaling = _shim("VarianceScaling", ui.VarianceScaling)
GlorotNormal = _shim("GlorotNormal", ui.GlorotNormal)
GlorotUniform = _shim("GlorotUniform", ui.GlorotUniform)
HeNormal = _shim("HeNormal", ui.HeNormal)
HeUniform = _shim("HeUniform", ui.HeUniform)
LecunNormal = _shim("LecunNormal", ui.LecunNormal)
LecunUniform = _shim("LecunUniform", ui.LecunUniform)
Orthogonal = _shim("Orthogonal", ui.Orthogonal)
Identity = _shim("Identity", ui.Identity)
Constant = _shim("Constant", ui.Constant)
Zeros = _shim("Zeros", ui.Zeros)
Ones = _shim("Ones", ui.Ones)
STFT = _shim("STFT", ui.STFT)


def get(identifier: Any) -> Any:
    """``keras.initializers.get``: a name, a config, an array or a tensor; ``None`` passes through."""
    return None if identifier is None else unit_init.keras.initializer(identifier)


def compute_fans(shape: Any, input_axes: Any = None, output_axes: Any = None) -> tuple[float, float]:
    """The fans the adapter draws ``shape`` with, given a layer's ``input_axes``/``output_axes``."""
    fans = unit_init.keras.initializer(ui.VarianceScaling(seed=0), input_axes=input_axes, output_axes=output_axes).fans(shape)
    return fans.fan_in, fans.fan_out
