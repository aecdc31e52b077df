"""In-place filling of a ``torch.Tensor`` from a spec: the one primitive the PyTorch adapter builds on."""

from __future__ import annotations

from typing import Any, cast

import torch

from unit_init.adapters._spec import spec_of
from unit_init.adapters.frameworks import loaded
from unit_init.backends.mesh import mesh_block
from unit_init.backends.torch_backend import PLAIN_TENSORS, drawing_into
from unit_init.drawing import check
from unit_init.errors import ParameterError, SeedError, abbreviate, keywords_checked
from unit_init.spec.fans import LayoutLike
from unit_init.spec.options import Options
from unit_init.torch._errors import TorchNotImplementedError, TorchRuntimeError

__all__ = ["default_generator", "init_", "is_dtensor", "local_block", "refuse_unwritable"]


def default_generator(tensor: torch.Tensor) -> torch.Generator | int | None:
    """What ``torch.nn.init`` draws with when given ``generator=None``: torch's global RNG of the tensor's device.

    CPU: ``torch.default_generator``; CUDA: ``torch.cuda.default_generators[index]``.
    Any other device gets an int seed drawn from ``torch.default_generator``, so
    ``torch.manual_seed`` governs it too. ``None`` on ``"meta"`` (nothing is drawn).
    """
    if tensor.is_meta:  # the tensor's flags: ~35 ns, where device.type costs ~200
        return None
    if tensor.is_cpu:
        return torch.default_generator
    device = tensor.device
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        generator: torch.Generator = torch.cuda.default_generators[index]
        return generator
    return int(torch.randint(0, 2**62, (), generator=torch.default_generator))


def is_dtensor(tensor: object) -> bool:
    """Whether ``tensor`` is a ``torch.distributed`` ``DTensor`` (what FSDP2's ``fully_shard`` and ``distribute_module``
    make parameters): its values are spread over the ranks of a device mesh. None is while ``torch.distributed.tensor``
    is not imported."""
    if type(tensor) in PLAIN_TENSORS:
        return False
    dtensor = loaded("torch.distributed.tensor", "DTensor")
    return dtensor is not None and isinstance(tensor, dtensor)


def local_block(tensor: Any, name: str) -> tuple[torch.Tensor, tuple[slice, ...]]:
    """A ``DTensor``'s local tensor on this rank and the block of the whole tensor it holds, by DTensor's chunking
    (:func:`~unit_init.backends.mesh.mesh_block`; a ``Partial`` placement is a :class:`ParameterError`)."""
    coordinate = tensor.device_mesh.get_coordinate()
    if coordinate is None:
        msg = f"{name} is a DTensor over a device mesh this rank is not part of; initialize it from a rank in the mesh."
        raise ParameterError(msg)
    try:
        block = mesh_block(tuple(tensor.shape), list(coordinate), tuple(tensor.device_mesh.shape), tuple(tensor.placements))
    except ParameterError as error:  # a Partial, or FSDP2's _StridedShard (2-D FSDP with tensor parallelism)
        msg = f"{name} is a DTensor laid out as {abbreviate(tuple(tensor.placements))}: {error} Initialize the module before applying that layout."
        raise ParameterError(msg) from None
    local = tensor.to_local()
    if tuple(local.shape) != tuple(b.stop - b.start for b in block):
        msg = f"{name} is a DTensor whose local shard {tuple(local.shape)} is not the block {block} of DTensor's even chunking; unit_init writes those only."
        raise ParameterError(msg)
    return local, block


def refuse_unwritable(tensor: torch.Tensor, name: str) -> None:
    """Refuse, before anything is drawn, a tensor no in-place copy can write (torch's ``copy_`` would raise after the draw).

    * an uninitialized parameter or buffer of a lazy module (``nn.LazyLinear``): :class:`ParameterError`;
    * a ``DTensor`` (:func:`is_dtensor`; ``initialize`` writes its shard with :func:`local_block`), which ``copy_``
      of a local tensor cannot write: :class:`ParameterError`, naming the ways that write each rank's shard;
    * an expanded view, whose elements share memory (one with no element, which torch calls contiguous, is written as torch writes it: not at all): :class:`TorchRuntimeError`;
    * a sparse (or any non-strided) tensor: :class:`TorchNotImplementedError`;
    * an inference tensor outside ``torch.inference_mode()``: :class:`TorchRuntimeError`, as torch.
    """
    plain = type(tensor) in PLAIN_TENSORS  # none of the subclasses below: their checks cost 0.4–0.6 µs
    if not plain and isinstance(tensor, (torch.nn.parameter.UninitializedParameter, torch.nn.parameter.UninitializedBuffer)):
        msg = f"{name} is a parameter or buffer of a lazy module, which has no shape yet; run one forward pass first."
        raise ParameterError(msg)
    if not plain and is_dtensor(tensor):
        msg = (
            f"{name} is a DTensor (sharded over a device mesh: FSDP2, distribute_module); init_ writes local tensors. "
            "Use unit_init.torch.initialize(module, rules, seed=<int>), which writes each rank's shard, or draw it with "
            "spec(shape, backend='torch', device_mesh=t.device_mesh, placements=t.placements, rng='portable') and copy it in."
        )
        raise ParameterError(msg)
    if tensor.layout != torch.strided or tensor.is_nested:  # a nested tensor of torch.strided layout has no sizes either
        kind = "nested" if tensor.is_nested else str(tensor.layout)
        msg = f"{name} is a {kind} tensor; unit_init fills dense (strided) tensors: fill a dense one and convert it."
        raise TorchNotImplementedError(msg)
    if not tensor.is_contiguous() and any(stride == 0 and size > 1 for stride, size in zip(tensor.stride(), tensor.shape, strict=True)):
        msg = f"{name} of shape {tuple(tensor.shape)} has elements that share memory (strides {tensor.stride()}: an expanded view); fill the tensor it views."
        raise TorchRuntimeError(msg)
    if tensor.is_inference() and not torch.is_inference_mode_enabled():
        msg = (f"{name} is an inference tensor (made under torch.inference_mode()); it can be written only inside "
               "inference mode, or clone it first.")
        raise TorchRuntimeError(msg)


@keywords_checked
def init_(
    tensor: torch.Tensor,
    spec: Any,
    *,
    seed: Any = None,
    generator: torch.Generator | None = None,
    layout: LayoutLike = "torch",
    fan_in: float | None = None,
    fan_out: float | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place with ``spec``'s values and return it.

    The values are drawn on the tensor's device, in its dtype, with fans from
    its shape under ``layout`` (default ``"torch"``: ``(out, in, *window)``),
    under ``torch.no_grad()``, so parameters that require gradients can be
    filled and no autograd history is recorded. A contiguous tensor is
    filled in place where the draw's kernels write their output in place
    (a float32 or float64 uniform, normal or truncated normal: no second
    tensor); other draws are copied in. Every refusal comes before anything
    is written; an error of the draw itself (out of memory, an interrupt)
    may leave the tensor partly written, as torch's in-place functions do. A tensor on
    ``"meta"`` or with no elements is left as it is (after the shape check).

    Parameters
    ----------
    tensor:
        The tensor to fill (a ``torch.nn.Parameter`` or any tensor).
    spec:
        A unit_init spec, a name (``"he_normal"``) or a config.
    seed, generator:
        An int seed (or ``None``: the spec's seed, else unit_init's global stream),
        or a ``torch.Generator`` on the tensor's device, which advances. Not both.
    layout, fan_in, fan_out:
        As in :meth:`unit_init.Initializer.__call__`.

    Examples
    --------
    >>> import torch, unit_init as ui
    >>> w = ui.torch.init_(torch.empty(3, 5), ui.Identity())
    >>> w.diagonal().tolist()
    [1.0, 1.0, 1.0]
    """
    if not isinstance(cast("object", tensor), torch.Tensor):
        msg = f"tensor={type(tensor).__name__} is not a torch.Tensor."
        raise ParameterError(msg)
    if seed is not None and generator is not None:
        msg = f"pass seed= or generator=, not both (got seed={abbreviate(seed)} and a generator)."
        raise ParameterError(msg)
    if generator is not None and not isinstance(cast("object", generator), torch.Generator):  # an int belongs to seed=
        msg = f"generator={abbreviate(generator)} is not a torch.Generator; pass an int as seed=, or a torch.Generator as generator=."
        raise SeedError(msg)
    spec = spec_of(spec)
    refuse_unwritable(tensor, "tensor")
    shape = tuple(tensor.shape)
    if tensor.is_meta or tensor.numel() == 0:  # nothing to write, but every argument checked as for a draw
        given = generator if generator is not None else seed if seed is not None else 0  # None: no global-stream seed taken
        check(spec, shape, Options(backend="torch", device=tensor.device, dtype=tensor.dtype, seed=given, layout=layout,
                                   fan_in=fan_in, fan_out=fan_out), guard=False)  # no memory taken: nothing is drawn
        return tensor
    with torch.no_grad(), drawing_into(tensor) as write:
        write(spec(
            shape, backend="torch", device=tensor.device, dtype=tensor.dtype, seed=generator if generator is not None else seed,
            layout=layout, fan_in=fan_in, fan_out=fan_out,
        ))
    return tensor
