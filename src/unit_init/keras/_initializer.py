"""Keras 3 adapter (``ui.keras``): any unit_init spec as a serializable ``keras.initializers.Initializer``.

>>> layer = keras.layers.Dense(64, kernel_initializer=ui.keras.initializer(ui.HeNormal(seed=0)))  # doctest: +SKIP

* **Backends**: each call draws with unit_init on the Keras backend in use
  (``keras.backend.backend()``: ``"tensorflow"``, ``"jax"``, ``"torch"`` or
  ``"numpy"``), in the dtype Keras asks for (``keras.config.floatx()`` when it
  asks for none), and returns that backend's native tensor.
* **Layout**: ``"keras"`` by default, as Keras's own initializers:
  ``Dense (in, out)``, ``Conv (*window, in, out)``.
* **Seeds**, as Keras's random initializers: a spec with ``seed=n`` gives the
  same values on every call. An unseeded spec gets, at construction, a seed
  from Python's ``random`` (as ``keras.src.random.make_default_seed`` does), so
  ``keras.utils.set_random_seed(n)`` before building makes it reproducible, and
  one instance gives the same values on every call. That seed is not written
  to the config, so a reloaded model's initializer is unseeded again.
* **Saving**: the class is registered as ``"unit_init>Initializer"``; its
  config is ``{"spec": ui.serialize(spec), "layout": ...}`` and is read back
  with unit_init's closed-registry checks, never by importing anything named
  in it. Import ``unit_init.keras`` (or touch ``ui.keras``) before
  ``keras.saving.load_model`` so Keras finds the class.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, Final

import keras

from unit_init.adapters._spec import spec_of
from unit_init.errors import BackendError
from unit_init.serialization import adapter_config, read_adapter_config

__all__ = ["KerasInitializer", "initializer"]

_BACKENDS: Final = ("tensorflow", "jax", "torch", "numpy")


def _keras_backend() -> str:
    name = str(keras.backend.backend())
    if name not in _BACKENDS:
        msg = f"the Keras backend {name!r} has no unit_init backend; accepted Keras backends: {', '.join(_BACKENDS)}."
        raise BackendError(msg)
    return name


@keras.saving.register_keras_serializable(package="unit_init", name="Initializer")
class KerasInitializer(keras.initializers.Initializer):  # type: ignore[misc]  # keras ships no type information
    """A unit_init spec as a Keras initializer.

    Parameters
    ----------
    spec:
        A unit_init spec, a name (``"he_normal"``) or a spec config.
    layout:
        The layout name the fans come from (default ``"keras"``).
    """

    def __init__(self, spec: Any, layout: str = "keras") -> None:
        # a round trip through the config: a spec that cannot be saved fails here, not at model.save
        self.spec, self.layout, _, _ = read_adapter_config(adapter_config(spec_of(spec), layout))
        self._seed = self.spec.seed if self.spec.seed is not None else random.randint(1, 10**9)

    def __call__(self, shape: Any, dtype: Any = None, **_: Any) -> Any:
        """Draw ``shape`` on the Keras backend in use, in ``dtype`` (default ``keras.config.floatx()``)."""
        dtype = keras.backend.standardize_dtype(dtype if dtype is not None else keras.config.floatx())
        return self.spec(tuple(int(n) for n in shape), backend=_keras_backend(), dtype=dtype, seed=self._seed, layout=self.layout)

    def get_config(self) -> dict[str, Any]:
        """``{"spec": ui.serialize(spec), "layout": layout}``."""
        return adapter_config(self.spec, self.layout)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> KerasInitializer:
        """Rebuild from :meth:`get_config`; hostile configs raise :class:`~unit_init.UnitInitError`."""
        spec, layout, _, _ = read_adapter_config(config)
        return cls(spec, layout)

    def __repr__(self) -> str:
        return f"unit_init.keras.KerasInitializer({self.spec!r}, layout={self.layout!r})"


def initializer(spec: Any, *, layout: str = "keras") -> KerasInitializer:
    """A Keras initializer that draws ``spec`` (see the module docstring for seeds and saving).

    Examples
    --------
    >>> import unit_init as ui
    >>> init = ui.keras.initializer(ui.GlorotUniform(seed=0))  # doctest: +SKIP
    >>> keras.layers.Dense(8, kernel_initializer=init)         # doctest: +SKIP
    """
    return KerasInitializer(spec, layout)
