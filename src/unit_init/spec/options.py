"""The options of an initializer call, defined once: their names, types and defaults.

:class:`CallOptions` types them as keywords (``**options: Unpack[CallOptions]``
in the function forms); :class:`Options` holds one call's options as given,
not yet validated, in the order and with the defaults of
:meth:`unit_init.Initializer.__call__` (tests/test_request.py checks that the
three agree). :func:`unit_init.request.request` validates them into a
request; nothing here checks a value.

Examples
--------
>>> options = Options(seed=0, backend="torch")
>>> options.rng, options.seed, options._replace(seed=1).seed
('native', 0, 1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, TypeAlias, TypedDict

if TYPE_CHECKING:
    from unit_init.spec.fans import LayoutLike

__all__ = ["BackendLike", "CallOptions", "Options"]

BackendLike: TypeAlias = Any
"""What ``backend=`` takes: a backend's name, an Array-API namespace or its module, a
:class:`~unit_init.backends.base.Backend`, or ``None`` (the spec layer names no backend class, so: ``Any``)."""


class CallOptions(TypedDict, total=False):
    """The keyword arguments every initializer call accepts (see :meth:`unit_init.Initializer.__call__`)."""

    backend: BackendLike
    device: Any
    dtype: Any
    seed: Any
    layout: LayoutLike
    like: Any
    fan_in: float | None
    fan_out: float | None
    rng: str
    region: Any
    sharding: Any
    device_mesh: Any
    placements: Any


class Options(NamedTuple):
    """One call's options as given (immutable, built in a fraction of a microsecond); the fields of :class:`CallOptions`."""

    backend: BackendLike = None
    device: Any = None
    dtype: Any = None
    seed: Any = None
    layout: LayoutLike = None
    like: Any = None
    fan_in: float | None = None
    fan_out: float | None = None
    rng: str = "native"
    region: Any = None
    sharding: Any = None
    device_mesh: Any = None
    placements: Any = None

    @property
    def sharded(self) -> bool:
        """Whether the call asks for a sharded array (``sharding=``, ``device_mesh=`` or ``placements=``)."""
        return self.sharding is not None or self.device_mesh is not None or self.placements is not None
