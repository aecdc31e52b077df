"""Which block of a global array a torch ``DeviceMesh`` coordinate holds, with DTensor's chunking.

``Shard(d)`` on a mesh axis of size ``m`` splits the current extent ``L`` of
dim ``d`` into chunks of ``⌈L/m⌉``, the last ones shorter or empty;
``Replicate()`` keeps it. The sharded draw itself (each shard the portable
draw of its block, made where it lives) is the sharded path of
:mod:`unit_init.drawing`; the backends assemble the shards
(:meth:`~unit_init.backends.base.Backend.sharded`).
"""

from __future__ import annotations

import math
from typing import Any

from unit_init.errors import ParameterError, abbreviate

__all__ = ["mesh_block"]


def mesh_block(shape: tuple[int, ...], coordinate: list[int], mesh_shape: tuple[int, ...], placements: Any) -> tuple[slice, ...]:
    """The block of ``shape`` held at ``coordinate`` of a mesh of ``mesh_shape`` under ``placements``.

    Placements are read by kind: ``Shard`` (with ``.dim``) and ``Replicate``.

    Examples
    --------
    >>> from types import SimpleNamespace as Shard
    >>> mesh_block((10, 4), [3], (4,), [Shard(dim=0)])  # chunks of ⌈10/4⌉ = 3: rows 9..9
    (slice(9, 10, None), slice(0, 4, None))
    """
    start, stop = [0] * len(shape), list(shape)
    if len(placements) != len(mesh_shape):
        msg = f"placements={abbreviate(placements)} has {len(placements)} entries for a {len(mesh_shape)}-d device mesh."
        raise ParameterError(msg)
    for axis, placement in enumerate(placements):
        kind = type(placement).__name__
        if kind == "Replicate":
            continue
        if not hasattr(placement, "dim") or kind not in ("Shard", "SimpleNamespace"):
            msg = f"placement {abbreviate(placement)} cannot initialize a tensor; use Shard(dim) or Replicate()."
            raise ParameterError(msg)
        if not isinstance(placement.dim, int) or not -len(shape) <= placement.dim < len(shape):
            msg = f"placement {abbreviate(placement)} shards dim {abbreviate(placement.dim)}, which a rank-{len(shape)} shape {shape} does not have."
            raise ParameterError(msg)
        dim = placement.dim % len(shape)
        length = stop[dim] - start[dim]
        chunk = math.ceil(length / mesh_shape[axis]) if length else 0
        begin = start[dim] + min(coordinate[axis] * chunk, length)
        stop[dim] = start[dim] + min((coordinate[axis] + 1) * chunk, length)
        start[dim] = begin
    return tuple(slice(a, b) for a, b in zip(start, stop, strict=True))
