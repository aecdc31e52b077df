"""Portable streams: the same random weights on every framework, device and shard layout (docs/design.md#portable-streams-and-shards).

``rng="portable"`` draws from Threefry-2x32-20, a counter-based generator
(Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11),
implemented once over each backend's own array ops, so values are computed on
the device, and element ``i`` of an array is a pure function of (seed, the
initializer and global shape, ``i``). Hence:

* uniform values are bit-identical on every backend and device; normal-family
  values agree to a few float32 ulp (one formula for Φ⁻¹ everywhere);
* ``region=`` draws one block of the global array, equal to that block of the
  whole draw; JAX ``sharding=`` and torch ``device_mesh=``/``placements=``
  build sharded arrays whose shards are generated where they live.

Modules: :mod:`~unit_init.portable.words` (32-bit word arithmetic),
:mod:`~unit_init.portable.threefry`, :mod:`~unit_init.portable.ndtri`,
:mod:`~unit_init.portable.blocks` (regions and global indices),
:mod:`~unit_init.portable.stream` (bits to floats). A sharded draw is
:mod:`unit_init.drawing`'s sharded path; the block a torch mesh coordinate
holds is :func:`unit_init.backends.mesh.mesh_block`.
"""

from __future__ import annotations

from unit_init.portable.blocks import Block
from unit_init.portable.stream import VERSION, PortableStream

__all__ = ["VERSION", "Block", "PortableStream"]
