"""Sharded arrays whose shards are generated where they live: JAX ``sharding=``, torch ``device_mesh=``.

Both build on ``region=``: each shard is the portable draw of its block, made
on its own device, so the assembled array equals the unsharded portable draw
and no device ever holds more than its shards (elementwise distributions; see
:mod:`unit_init.sampling.region` for the others).

* **JAX**: for every addressable device, its shard index from
  ``sharding.addressable_devices_indices_map(shape)`` is drawn on that device;
  ``jax.make_array_from_single_device_arrays`` assembles the global array
  (replicated shards are drawn on each of their devices).
* **torch.distributed**: this rank's block follows from its mesh coordinate
  and the placements, with DTensor's chunking (``Shard(d)`` on a mesh axis of
  size ``m`` splits the current extent ``L`` of dim ``d`` into chunks of
  ``⌈L/m⌉``, the last ones shorter or empty); ``Replicate()`` keeps it; the
  local tensor becomes a ``DTensor`` with ``DTensor.from_local``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from unit_init.errors import ParameterError, abbreviate
from unit_init.seeds import normalize_seed

if TYPE_CHECKING:
    from unit_init.spec.initializer import Initializer

__all__ = ["draw_sharded", "mesh_block"]


def _random(spec: Initializer, shape: tuple[int, ...], options: dict[str, Any]) -> bool:
    keys = ("layout", "fan_in", "fan_out")
    return bool(spec.distribution_for(shape, **{k: options[k] for k in keys}).random)


def draw_sharded(
    spec: Initializer,
    shape: tuple[int, ...],
    *,
    sharding: Any,
    device_mesh: Any,
    placements: Any,
    seed: Any,
    rng: str,
    region: Any,
    backend: Any,
    device: Any,
    like: Any,
    **options: Any,
) -> Any:
    """The sharded array for ``sharding=`` (JAX) or ``device_mesh=``/``placements=`` (torch)."""
    from unit_init.drawing import draw

    jax_wanted = sharding is not None
    if jax_wanted and (device_mesh is not None or placements is not None):
        msg = "pass either sharding= (JAX) or device_mesh= and placements= (torch.distributed), not both."
        raise ParameterError(msg)
    if not jax_wanted and (device_mesh is None or placements is None):
        msg = "device_mesh= and placements= go together: pass both (a torch DeviceMesh and e.g. [Shard(0)])."
        raise ParameterError(msg)
    framework = "jax" if jax_wanted else "torch"
    if region is not None or device is not None or like is not None:
        msg = f"sharding a {framework} array: the shard layout decides regions and devices; do not pass region=, device= or like=."
        raise ParameterError(msg)
    if backend is not None and backend != framework and getattr(backend, "name", None) != framework:
        msg = f"{'sharding=' if jax_wanted else 'device_mesh='} builds a {framework} array; backend={abbreviate(backend)} is not {framework!r}."
        raise ParameterError(msg)
    if rng != "portable" and _random(spec, shape, options):
        msg = (
            f"{'sharding=' if jax_wanted else 'device_mesh='} needs rng='portable' for {type(spec).__name__}: "
            "each shard is generated on its own device from a counter-based stream, equal to the unsharded draw."
        )
        raise ParameterError(msg)
    key = normalize_seed(seed) if rng == "portable" else seed  # one seed for every shard

    def shard(on: Any, block: Any) -> Any:
        return draw(spec, shape, backend=framework, device=on, seed=key, rng=rng, region=block, **options)

    if jax_wanted:
        return _jax_array(shard, shape, sharding)
    return _dtensor(shard, shape, device_mesh, placements)


def _jax_array(shard: Any, shape: tuple[int, ...], sharding: Any) -> Any:
    import jax

    if not isinstance(sharding, jax.sharding.Sharding):
        msg = f"sharding={abbreviate(sharding)} is not a jax.sharding.Sharding (e.g. NamedSharding(mesh, PartitionSpec('x')))."
        raise ParameterError(msg)
    indices = sharding.addressable_devices_indices_map(shape)
    arrays = [shard(device, index) for device, index in indices.items()]
    return jax.make_array_from_single_device_arrays(shape, sharding, arrays)


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
        dim = placement.dim % len(shape)
        length = stop[dim] - start[dim]
        chunk = math.ceil(length / mesh_shape[axis]) if length else 0
        begin = start[dim] + min(coordinate[axis] * chunk, length)
        stop[dim] = start[dim] + min((coordinate[axis] + 1) * chunk, length)
        start[dim] = begin
    return tuple(slice(a, b) for a, b in zip(start, stop, strict=True))


def _dtensor(shard: Any, shape: tuple[int, ...], device_mesh: Any, placements: Any) -> Any:
    import torch
    from torch.distributed.tensor import DTensor

    coordinate = device_mesh.get_coordinate()
    if coordinate is None:
        msg = "this rank is not part of device_mesh; call from a rank in the mesh."
        raise ParameterError(msg)
    placements = tuple(placements)
    block = mesh_block(shape, list(coordinate), tuple(device_mesh.shape), placements)
    local = shard(device_mesh.device_type, block)
    strides = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))
    return DTensor.from_local(
        local, device_mesh, placements, run_check=False, shape=torch.Size(shape), stride=strides
    )
