"""Drawing one block (``region=``) of a global array, from a portable stream.

Elementwise distributions (constant, uniform, normal, truncated normal, and
the complex normal, uniform disk and modulus-truncated normal, whose every
draw is of the array's shape) draw exactly the block: every element comes
from its own global counters. Any other
distribution couples elements (orthogonal's QR, identity's and dirac's
positions, sparse's per-column ranks), so its block is cut from the whole
array drawn on the same device: still equal to the same block of the whole
draw, but computed in full on that device.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Final

from unit_init.errors import ParameterError, abbreviate
from unit_init.portable.blocks import Block, RegionLike
from unit_init.portable.stream import PortableStream
from unit_init.resources import check_allocation
from unit_init.sampling.entry import sample_from
from unit_init.sampling.native import NativeStream
from unit_init.sampling.streams import Stream
from unit_init.seeds import normalize_seed
from unit_init.spec import complex_laws as c
from unit_init.spec import distributions as d

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["ELEMENTWISE", "check_fits", "check_region_stream", "draw_block"]

ELEMENTWISE: Final = (d.PointMass, d.Uniform, d.Normal, d.TruncatedGaussian, c.ComplexNormal, c.UniformDisk, c.ModulusTruncatedNormal)
"""Distributions whose elements are independent of each other's positions: drawn block by block."""


def _sampled(distribution: d.Distribution, shape: tuple[int, ...], block: Block) -> tuple[int, ...]:
    """What drawing ``block`` of ``shape`` samples: the block itself for an elementwise law or the whole array, else the whole shape."""
    return block.block_shape if block.is_whole or type(distribution) in ELEMENTWISE else shape


def check_fits(
    backend: Backend,
    distribution: d.Distribution,
    shape: tuple[int, ...],
    region: RegionLike,
    *,
    rng: str,
    dtype: str,
    device: Any,
    reserved: int = 0,
) -> None:
    """The memory guard of a draw (of ``region`` of ``shape``), without holding its bytes: a call that takes the global
    seed stream's next seed asks it first, so a refused draw consumes none. ``reserved``: bytes earlier shards of the
    same draw will hold in the same free memory (:func:`~unit_init.resources.check_bytes`)."""
    sampled = shape if region is None else _sampled(distribution, shape, Block.of(shape, region))
    check_allocation(backend, device, sampled, dtype, distribution, portable=rng == "portable", reserved=reserved, whole=shape)


def check_region_stream(distribution: d.Distribution, region: RegionLike, rng: str) -> None:
    """:class:`ParameterError` for a random law's ``region=`` drawn from a native stream: only a counter-based stream
    draws one block of an array equal to the same block of the whole draw."""
    if region is not None and distribution.random and rng != "portable":
        msg = (
            f"region={abbreviate(region)} needs rng='portable': only a counter-based stream can draw one block of an array "
            "equal to the same block of the whole draw."
        )
        raise ParameterError(msg)


def draw_block(
    backend: Backend,
    distribution: d.Distribution,
    name: str,
    shape: tuple[int, ...],
    region: RegionLike,
    *,
    seed: Any,
    rng: str,
    dtype: str,
    device: Any,
) -> Any:
    """The block ``region`` of ``distribution`` drawn for the global ``shape`` (``name``: the initializer's class name)."""
    block = Block.of(shape, region)
    check_region_stream(distribution, region, rng)
    held = check_allocation(
        backend, device, _sampled(distribution, shape, block), dtype, distribution, portable=rng == "portable", hold=True, whole=shape
    )
    with backend.placement(device):  # the stream's operators, and the scaling and cast after them, on the device
        if held is None:
            return _drawn(backend, distribution, name, shape, block, seed, dtype, device)
        with held:
            return _drawn(backend, distribution, name, shape, block, seed, dtype, device)


def _drawn(
    backend: Backend, distribution: d.Distribution, name: str, shape: tuple[int, ...], block: Block, seed: Any, dtype: str, device: Any
) -> Any:
    """The block of a checked request (:func:`draw_block`) drawn from the portable stream, or a deterministic law's."""
    if math.prod(block.block_shape) == 0:
        return backend.full(block.block_shape, 0, dtype, device)
    key = normalize_seed(seed) if distribution.random else None

    def stream(drawn: Block) -> Stream:
        if key is None:  # a deterministic law draws nothing
            return NativeStream(backend, None, device)
        return PortableStream.open(key, name, drawn, backend, device)

    if block.is_whole or type(distribution) in ELEMENTWISE:
        return sample_from(stream(block), distribution, block.block_shape, dtype)
    whole = sample_from(stream(Block.whole(shape)), distribution, shape, dtype)
    part = _cut(backend, whole, block, device)
    return backend.xp.asarray(part, copy=True) if backend.mutable else part


def _cut(backend: Backend, whole: Any, block: Block, device: Any) -> Any:
    """``whole[block.slices]``; past the backend's :attr:`~unit_init.backends.base.Backend.max_sliced_rank` axes,
    the cut axes one at a time by ``take``."""
    if backend.max_sliced_rank is None or len(block.slices) <= backend.max_sliced_rank:
        return whole[block.slices]
    xp = backend.xp
    for axis, part in enumerate(block.slices):
        if part.stop - part.start != block.shape[axis]:
            index = "int32" if block.shape[axis] <= 2**31 else "int64"  # int32: JAX without its 64-bit mode has no int64
            whole = xp.take(whole, xp.arange(part.start, part.stop, dtype=backend.dtype_on(index, device), device=device), axis=axis)
    return whole
