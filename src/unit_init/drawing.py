"""From a call's arguments to a native array: the one path every initializer takes.

1. validate every argument into one :class:`~unit_init.request.Request`
   (:func:`unit_init.request.request`): the shape and the initializer's
   rank, backend, device and dtype (explicit argument, else ``like=``, else
   the framework of a native seed object, else the innermost
   :func:`unit_init.use_backend`, else the defaults), the seed, layout, fans,
   rng and region, and the concrete distribution with its values finite in
   the dtype (cached per spec, shape, layout, fans and dtype);
2. build the backend's generator from the seed and sample the distribution
   from it (:func:`unit_init.sampling.sample`) — or, for ``rng="portable"``
   and ``region=``, from a portable stream for the block
   (:mod:`unit_init.sampling.region`); ``sharding=``
   and ``device_mesh=`` draw each shard that way where it lives.
"""

from __future__ import annotations

import math
import types
from typing import TYPE_CHECKING, Any

from unit_init.backends.base import Backend
from unit_init.request import RNG_MODES, Request, Target, check_geometry, request, resolve_target
from unit_init.resources import check_allocation
from unit_init.sampling import sample
from unit_init.sampling.region import draw_block
from unit_init.spec.fans import LayoutLike, ShapeLike

if TYPE_CHECKING:
    from unit_init.spec.initializer import Initializer

__all__ = ["RNG_MODES", "Target", "draw", "resolve_target"]


def draw(
    spec: Initializer,
    shape: ShapeLike,
    *,
    backend: str | types.ModuleType | Backend | None = None,
    device: Any = None,
    dtype: Any = None,
    seed: Any = None,
    layout: LayoutLike = None,
    like: Any = None,
    fan_in: float | None = None,
    fan_out: float | None = None,
    rng: str = "native",
    region: Any = None,
    sharding: Any = None,
    device_mesh: Any = None,
    placements: Any = None,
    finite: bool = True,
) -> Any:
    """Draw ``spec`` for ``shape`` as a native array (see :meth:`Initializer.__call__`).

    ``finite=False`` skips the representability check (see
    :func:`unit_init.request.request`); unit_init's own API never passes it.
    """
    if sharding is not None or device_mesh is not None or placements is not None:
        from unit_init.portable.sharding import draw_sharded

        return draw_sharded(
            spec, check_geometry(spec, shape, layout=layout, fan_in=fan_in, fan_out=fan_out, rng=rng),
            backend=backend, device=device, dtype=dtype, seed=spec.seed if seed is None else seed,
            layout=layout, like=like, fan_in=fan_in, fan_out=fan_out, rng=rng, region=region,
            sharding=sharding, device_mesh=device_mesh, placements=placements,
        )
    return _sample(
        request(
            spec, shape, backend=backend, device=device, dtype=dtype, seed=seed, layout=layout, like=like,
            fan_in=fan_in, fan_out=fan_out, rng=rng, region=region, finite=finite,
        )
    )


def _sample(call: Request) -> Any:
    """Allocate and fill the array of a validated request."""
    target, distribution, dims = call.target, call.distribution, call.shape
    if call.rng == "portable" or call.region is not None:
        return draw_block(
            target.backend, distribution, type(call.spec).__name__, dims, call.region,
            seed=call.seed, rng=call.rng, dtype=target.dtype, device=target.device,
        )
    check_allocation(target.backend, target.device, dims, target.dtype, distribution)  # draw_block checks its block
    if math.prod(dims) == 0:
        return target.backend.full(dims, 0, target.dtype, target.device)
    generator = target.backend.generator(call.seed, target.device) if distribution.random else None
    return sample(target.backend, distribution, dims, target.dtype, target.device, generator)
