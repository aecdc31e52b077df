"""JAX / Flax adapter (``ui.jax``): any spec as a ``jax.nn.initializers`` function.

``ui.jax.initializer(spec)`` returns an ``init(key, shape, dtype=None,
out_sharding=None) -> jax.Array``, the protocol of ``jax.nn.initializers``
and Flax's ``kernel_init=`` / ``bias_init=`` (``linen`` and ``nnx``).

* **Keys**: the key is the seed, as in JAX: a typed key (``jax.random.key``)
  or a raw ``uint32[2]`` key (``jax.random.PRNGKey``); the spec's own ``seed``
  is ignored. Inside ``jax.jit`` the key is a traced value and the draw is
  traced with it (no host round-trip, no retrace per key).
* **dtype**: ``None`` is JAX's default float dtype (float32 unless
  ``jax_enable_x64``). Asking for float64 without x64 raises
  :class:`~unit_init.DTypeError` instead of silently giving float32.
* **Layout**: ``"keras"`` by default (Flax kernels are ``(in, out)`` and
  ``(*window, in, out)``); pass another for other conventions.
* ``out_sharding``: the values are drawn, then placed with
  ``jax.device_put(values, out_sharding)``.

The result is a frozen, hashable object (Flax ``linen`` modules are
dataclasses and may hash their fields) with a ``get_config()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax

from unit_init.adapters._spec import spec_of
from unit_init.serialization import adapter_config, read_adapter_config
from unit_init.spec.initializer import Initializer

__all__ = ["JaxInitializer", "initializer"]


@dataclass(frozen=True, slots=True)
class JaxInitializer:
    """A spec as a ``(key, shape, dtype=None, out_sharding=None) -> jax.Array`` function.

    Parameters
    ----------
    spec:
        The unit_init spec to draw.
    layout:
        The layout name the fans come from (default ``"keras"``).
    """

    spec: Initializer
    layout: str = "keras"

    def __call__(self, key: Any, shape: Any, dtype: Any = None, out_sharding: Any = None) -> jax.Array:
        """Draw ``shape`` with ``key`` in ``dtype`` (default: JAX's default float dtype)."""
        if dtype is None:
            dtype = jax.dtypes.canonicalize_dtype(jax.numpy.float_)
        dims = tuple(shape) if isinstance(shape, (tuple, list)) else shape
        values: jax.Array = self.spec(dims, backend="jax", dtype=dtype, seed=key, layout=self.layout)
        return values if out_sharding is None else jax.device_put(values, out_sharding)

    def get_config(self) -> dict[str, Any]:
        """``{"spec": ui.serialize(spec), "layout": layout}``."""
        return adapter_config(self.spec, self.layout)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> JaxInitializer:
        """Rebuild from :meth:`get_config`; hostile configs raise :class:`~unit_init.UnitInitError`."""
        spec, layout, _, _ = read_adapter_config(config)
        return cls(spec, layout)


def initializer(spec: Any, *, layout: str = "keras") -> JaxInitializer:
    """The ``jax.nn.initializers`` function that draws ``spec`` (see the module docstring).

    Examples
    --------
    >>> import jax, unit_init as ui
    >>> init = ui.jax.initializer(ui.HeNormal())
    >>> init(jax.random.key(0), (3, 4)).shape
    (3, 4)
    """
    spec, layout, _, _ = read_adapter_config(adapter_config(spec_of(spec), layout))
    return JaxInitializer(spec, layout)
