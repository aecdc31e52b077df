"""Haiku adapter: any spec as an ``hk.initializers.Initializer``, ``(shape, dtype) -> jax.Array``.

Haiku's initializers take no key: they draw one with ``hk.next_rng_key()``
from the ``rng`` given to ``hk.transform(f).init(rng, ...)``, so the result
is reproducible from that ``rng`` and distinct per parameter. Haiku's kernels
are ``(in, out)`` (``hk.Linear``) and ``(*window, in, out)`` (``hk.ConvND``):
the ``"keras"`` layout, the default. Haiku is imported only when the
initializer is called (inside a transformed function).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax

from unit_init.errors import ParameterError, abbreviate, keywords_checked, require
from unit_init.jax._initializer import JaxInitializer, initializer
from unit_init.spec.fans import Layout

__all__ = ["HaikuInitializer", "haiku_initializer"]


@dataclass(frozen=True)
class HaikuInitializer:
    """A :class:`~unit_init.jax.JaxInitializer` keyed by ``hk.next_rng_key()``: ``(shape, dtype) -> jax.Array``.

    Parameters
    ----------
    jax_initializer:
        The keyed initializer that draws (spec, layout, fans).
    """

    jax_initializer: JaxInitializer

    def __post_init__(self) -> None:
        given: object = self.jax_initializer  # whatever a caller passed
        if not isinstance(given, JaxInitializer):
            msg = (
                f"jax_initializer={abbreviate(given)} is not a unit_init.jax.JaxInitializer; "
                "build a Haiku initializer with ui.jax.haiku_initializer(spec)."
            )
            raise ParameterError(msg)

    @keywords_checked
    def __call__(self, shape: Any, dtype: Any = None) -> jax.Array:
        """Draw ``shape`` in ``dtype`` (default: JAX's default float dtype) with the transform's next key.

        A spec that draws nothing (``Zeros``, ``Constant``, ``Identity`` …) takes no key, as Haiku's own ``Constant``
        and ``Identity``: it works outside ``hk.transform`` and with ``init(None, …)``, and the keys of the layers
        after it stay those Haiku's initializers leave them.
        """
        if not self.jax_initializer.spec.random:
            return self.jax_initializer(None, shape, dtype)
        require("haiku", "dm-haiku", "haiku", "a Haiku initializer")  # typed, naming what to install, if Haiku is missing
        import haiku as hk

        try:
            key = hk.next_rng_key()
        except ValueError as error:  # outside hk.transform, or its init given no key: Haiku's own words, typed
            msg = f"{error} (a Haiku initializer that draws takes its key from the rng given to hk.transform's init)"
            raise ParameterError(msg) from error
        return self.jax_initializer(key, shape, dtype)

    def get_config(self) -> dict[str, Any]:
        """The wrapped initializer's config (:meth:`JaxInitializer.get_config`)."""
        return self.jax_initializer.get_config()

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> HaikuInitializer:
        """Rebuild from :meth:`get_config`; hostile configs raise :class:`~unit_init.UnitInitError`."""
        return cls(JaxInitializer.from_config(config))


HaikuInitializer.__init__ = keywords_checked(HaikuInitializer.__init__)  # type: ignore[method-assign]  # a misspelt keyword: ArgumentError


@keywords_checked
def haiku_initializer(
    spec: Any, *, layout: str | Layout = "keras", fan_in: float | None = None, fan_out: float | None = None
) -> HaikuInitializer:
    """The Haiku initializer (``w_init=``, ``b_init=``) that draws ``spec``; arguments as :func:`~unit_init.jax.initializer`.

    Examples
    --------
    >>> import unit_init as ui
    >>> init = ui.jax.haiku_initializer(ui.HeNormal())
    >>> init.jax_initializer.layout
    'keras'
    """
    return HaikuInitializer(initializer(spec, layout=layout, fan_in=fan_in, fan_out=fan_out))
