"""The PyTorch backend: draws with a ``torch.Generator`` on the target device.

* Devices: ``None`` is torch's default device (``torch.get_default_device()``);
  ``"cpu"``, ``"cuda"``, ``"cuda:N"``, the portable ``"gpu"``/``"gpu:N"``
  (≡ ``cuda:N``, also on ROCm builds), ``"mps"``, ``"xpu"``, ``"meta"`` and
  ``torch.device`` objects. A device is resolved to an explicit index
  (``"cuda"`` → ``cuda:<current>``), so ``device_of(result) == device``.
* An int seed builds ``torch.Generator(device=device).manual_seed(seed)`` *on
  the target device*: CUDA draws run on the GPU with its Philox generator, no
  host round-trip. A user ``torch.Generator`` is used as is (it advances) and
  must live on the same kind of device.
* Truncated normals are drawn by inverse-CDF sampling (``erfinv`` of a
  uniform), in place: no rejection mask, no ``nonzero``, no host
  synchronization on accelerators. An interval across 0 whose tails ``erf``
  cannot resolve (a bound beyond 4.9σ in float32; ``trunc_normal_(std=0.02)``'s
  ±100σ) is re-drawn instead: one mask and one ``nonzero`` (a synchronization
  on an accelerator), about 1.1 normal draws.
* ``"meta"`` has no generator and no data: every draw returns an empty meta
  tensor of the right shape and dtype, and consumes no randomness.
* Every primitive makes fresh tensors from tensors that do not require grad,
  so results have ``requires_grad=False`` and no autograd history, whatever
  the grad mode. The one exception is :func:`drawing_into`, under which the
  adapter's fills (``init_``, the drop-ins, ``initialize``) hand a draw the
  tensor it writes, under ``torch.no_grad()``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from contextvars import ContextVar, Token
from fractions import Fraction
from typing import Any, Final, cast

import array_api_compat.torch
import numpy as np
import torch

from unit_init.backends.base import Backend
from unit_init.backends.devices import absent_device, accepted_forms, device_request, unknown_device
from unit_init.backends.mesh import mesh_block
from unit_init.dtypes import COMPLEX_DTYPES, FLOAT_DTYPES, INTEGER_DTYPES, largest_below, smallest_at_or_above
from unit_init.errors import DeviceError, DTypeError, ParameterError, SeedError, abbreviate

__all__ = ["PLAIN_TENSORS", "TorchBackend", "drawing_into", "functorch_wrapped"]

_PLATFORMS: Final = ("cpu", "gpu", "mps", "xpu", "meta")  # portable platforms torch has ("gpu" is "cuda", also on ROCm)
_ACCEPTED: Final = accepted_forms(_PLATFORMS, "a torch.device")
_ACCELERATORS = ("cuda", "xpu")  # device types with torch.<type>.is_available / device_count / current_device


def _present() -> list[torch.device]:
    """The devices this process can allocate on, with explicit indices."""
    present = [torch.device("cpu"), torch.device("meta")]
    for kind in _ACCELERATORS:
        module = getattr(torch, kind, None)
        if module is not None and module.is_available():
            present += [torch.device(kind, index) for index in range(module.device_count())]
    if torch.backends.mps.is_available():
        present.append(torch.device("mps", 0))
    return present


def _with_index(device: torch.device) -> torch.device:
    """``device`` with the index torch would use filled in; cpu and meta carry none (and are the module's own objects,
    which the draw compares by identity)."""
    if device.type == "cpu":
        return _CPU
    if device.type == "meta":
        return _META
    if cast("int | None", device.index) is not None:  # torch's stubs type index as int, but it is None for "cuda"
        return device
    module = getattr(torch, device.type, None)
    if device.type in _ACCELERATORS and module is not None and module.is_available():
        return torch.device(device.type, module.current_device())
    return torch.device(device.type, 0)


def _names(devices: list[torch.device]) -> str:
    return ", ".join(repr(str(device)) for device in devices)


def _why_absent(device: torch.device) -> str:
    if device.type == "cuda":
        if torch.version.cuda is None and torch.version.hip is None:
            return " (this torch build has no CUDA/ROCm support)"
        if not torch.cuda.is_available():
            return " (torch.cuda.is_available() is False)"
        return f" (torch.cuda.device_count() is {torch.cuda.device_count()})"
    if device.type == "mps":
        return " (torch.backends.mps.is_available() is False)"
    return ""


_CPU: Final = torch.device("cpu")
_function_modes: Callable[[], int] | None = getattr(torch._C, "_len_torch_function_stack", None)
_device_context: Any = getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None)


def _no_default_device() -> bool:
    """Whether no default device is set, so ``torch.get_default_device()`` is the CPU (checked in a fraction of its time).

    ``torch.get_default_device()`` looks for a ``DeviceContext`` on the
    torch-function mode stack (``with torch.device(...)``) and in
    ``torch._GLOBAL_DEVICE_CONTEXT`` (``torch.set_default_device``): with an
    empty stack and no global context it returns the CPU. ``False`` where
    this torch lacks either (then the full look-up runs).
    """
    return (
        _function_modes is not None
        and _device_context is not None
        and _function_modes() == 0
        and _device_context.__dict__.get("device_context") is None  # this thread's attributes: a getattr of a missing one costs ~0.4 µs
    )
_NATIVE_DTYPES: Final[dict[str, torch.dtype]] = {
    name: native for name in FLOAT_DTYPES + INTEGER_DTYPES + COMPLEX_DTYPES if isinstance(native := getattr(torch, name, None), torch.dtype)
}


_MASK64: Final = (1 << 64) - 1
_FROM_WORDS: Final = 1 << 16
"""The fewest values :meth:`TorchBackend.uniform_to_transform` draws from 64-bit words: below, its four passes cost more than they save."""
_META: Final = torch.device("meta")  # resolved devices compare equal to it in ~25 ns; ``device.type`` costs ~250 ns a call
_DESTINATION: Final[ContextVar[torch.Tensor | None]] = ContextVar("unit_init_torch_destination", default=None)


PLAIN_TENSORS: Final = (torch.Tensor, torch.nn.Parameter)
"""The exact types of a tensor with no subclass semantics: neither a ``DTensor`` (``nn.Parameter`` of one keeps the type
``DTensor``), a lazy module's uninitialized parameter, nor any other subclass (``type(t) in PLAIN_TENSORS``)."""

functorch_wrapped: Final[Callable[[torch.Tensor], bool]] = torch._C._functorch.is_functorch_wrapped_tensor
"""Whether a tensor is a ``torch.func`` transform's wrapper (``vmap``'s batched tensor, ``grad``'s), which has no memory of its own."""


class drawing_into:  # a context manager named as torch names its own (torch.no_grad)
    """Inside it, the first tensor a draw of this thread allocates with ``tensor``'s shape, dtype and device (a draw's
    output, or its cast to a narrower dtype) is ``tensor`` itself; entering it gives what writes the draw's values
    into ``tensor`` afterwards.

    A draw whose kernels fill their output in place (``normal_``, ``uniform_``,
    ``erfinv_``, ``mul_``, ``clamp_``) so leaves its values in ``tensor``, with
    no second tensor and no copy (``unit_init.torch.init_``, the drop-ins,
    ``initialize``); one that makes its values elsewhere (a QR) used it for a
    first step at most, and they are copied in (from a clone where they share
    its memory in another arrangement). Only a plain tensor or ``Parameter`` is
    handed out: a subclass keeps its own in-place semantics, a ``torch.func``
    wrapper has no memory of its own; others get a plain ``copy_``. A random
    draw's kernels take it only where it is contiguous (their values follow
    the memory order); a constant (:meth:`TorchBackend.full`) and an identity
    matrix (:meth:`TorchBackend.eye`) are written into any strides (a
    transposed or stepped view, a complex tensor's ``.real``). An error raised by the draw itself (out of memory, an
    interrupt) may leave ``tensor`` partly written, as torch's in-place
    functions do.

    Run under ``torch.no_grad()``: the fill writes a tensor that may require grad.
    """

    __slots__ = ("tensor", "token")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor
        self.token: Token[torch.Tensor | None] | None = None

    def __enter__(self) -> Callable[[torch.Tensor], object]:
        tensor = self.tensor
        if type(tensor) not in PLAIN_TENSORS or functorch_wrapped(tensor):
            return tensor.copy_
        self.token = _DESTINATION.set(tensor)
        return self._write

    def _write(self, values: torch.Tensor) -> None:
        _written(self.tensor, values)

    def __exit__(self, *_: object) -> None:
        if self.token is not None:
            _DESTINATION.reset(self.token)
            self.token = None


def _written(tensor: torch.Tensor, values: torch.Tensor) -> None:
    """``values`` written into ``tensor`` after a draw into it: nothing to do where they are already there; copied
    from a clone where they share its memory in another arrangement."""
    if values is tensor or (values.data_ptr() == tensor.data_ptr() and values.dtype == tensor.dtype
                            and values.shape == tensor.shape and values.stride() == tensor.stride()):
        return
    if values.untyped_storage().data_ptr() == tensor.untyped_storage().data_ptr():
        values = values.clone()
    tensor.copy_(values)


NARROW_CHUNK: Final = 1 << 20
"""Values of a float16 or bfloat16 draw made at a time in float32 (:func:`_filled_in_float32`): a 4 MiB buffer, reused
while it is warm; a draw of up to about a million values is one chunk, as the whole float32 draw was (smaller chunks
cost ATen a parallel region each: 2¹⁶ gave the same 4096² time, and no gain below)."""
_NARROW: Final = (torch.float16, torch.bfloat16)


def _filled_in_float32(out: torch.Tensor, fill: Callable[[torch.Tensor], object]) -> None:
    """``out`` (contiguous, float16 or bfloat16) filled with ``fill``'s float32 values rounded once, :data:`NARROW_CHUNK`
    at a time through one buffer. Every chunk but the last holds a multiple of 16 values and the last 16 or more (the
    remainder joins the chunk before it): ATen's CPU ``normal_`` draws 16 values at a time and a whole draw's last 16
    anew where its size is no multiple of 16, so the chunks take the generator's values as the whole draw does."""
    flat, size = out.view(-1), out.numel()
    buffer = torch.empty(min(size, NARROW_CHUNK + 15), dtype=torch.float32, device=out.device)  # not the default device
    start = 0
    while start < size:
        stop = size if size - start < NARROW_CHUNK + 16 else start + NARROW_CHUNK
        part = buffer[: stop - start]
        fill(part)
        flat[start:stop].copy_(part)
        start = stop


def _words_in(out: torch.Tensor | None, size: int) -> torch.Tensor | None:
    """``out``'s memory (float32, contiguous) as the ``size / 2`` int64 words a uniform is computed from in place,
    where ``size`` is even and the words aligned; else ``None``."""
    if out is None or size % 2 or out.storage_offset() % 2:
        return None
    return out.view(-1).view(torch.int64)


def _waiting(shape: tuple[int, ...], native: torch.dtype, device: torch.device, *, strided: bool = False) -> torch.Tensor | None:
    """The tensor of :func:`drawing_into`, if one waits with this shape, dtype and device, and is contiguous unless
    ``strided`` (a fill whose values do not depend on the memory order); else ``None``."""
    tensor = _DESTINATION.get()
    if tensor is None or tensor.dtype != native or tensor.device != device or tuple(tensor.shape) != shape:
        return None
    return tensor if strided or tensor.is_contiguous() else None


def _destination(shape: tuple[int, ...], native: torch.dtype, device: torch.device, *, strided: bool = False) -> torch.Tensor | None:
    """The tensor of :func:`drawing_into`, taken once, if it has this shape, dtype and device (:func:`_waiting`); else ``None``."""
    tensor = _waiting(shape, native, device, strided=strided)
    if tensor is not None:
        _DESTINATION.set(None)  # a later allocation of the same draw is its own
    return tensor


def _engine_seed(seed: int, device: torch.device) -> int:
    """The seed given to ``manual_seed``: ``seed`` itself, but on the CPU one of 2³² and above folded into 32 bits.

    torch's CPU generator (mt19937) keeps only the low 32 bits of its seed, so
    ``1`` and ``1 + 2**40`` would give the same values. A CPU seed of 2³² or
    more is replaced by the top 32 bits of SplitMix64's finalizer of all its
    bits, so every bit counts; seeds below 2³² (and every seed on devices
    whose generators keep 64 bits, Philox on CUDA) are passed unchanged, so
    ``seed=s`` draws what ``torch.Generator().manual_seed(s)`` draws.

    Examples
    --------
    >>> cpu = torch.device("cpu")
    >>> _engine_seed(7, cpu), _engine_seed(1, cpu) != _engine_seed(1 + 2**40, cpu) < 2**32
    (7, True)
    """
    if seed < 1 << 32 or device.type != "cpu":
        return seed
    z = (seed + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (z ^ (z >> 31)) >> 32


_SCALAR_DTYPES: Final = frozenset({torch.float32, torch.float64})
_MOST_SCALARS: Final = 1024
_scalars: dict[tuple[float, torch.dtype], torch.Tensor] = {}


def _operand(value: float, x: torch.Tensor) -> float | torch.Tensor:
    """``value`` as the scalar operand of an in-place ``mul_``/``add_`` on ``x``: a cached 0-d CPU tensor of ``x``'s dtype
    where that is the same arithmetic and cheaper, else the float itself.

    torch wraps a Python float into a new 0-d tensor on every call (~1.5 µs of
    a 64² ``mul_``'s 2.7). A CPU scalar operand is read in the op's compute
    type either way: ``value`` rounded to float32 for a float32 ``x``,
    ``value`` itself for a float64 one, which is what a 0-d tensor of that
    dtype holds, so the values are the same bits (tests/test_backend_torch.py
    checks). Only plain float32/float64 CPU tensors qualify: a half tensor
    computes in float32 (a 0-d half tensor would round the scalar to half
    first), a ``FakeTensor`` or other subclass may refuse a real operand
    (under ``FakeTensorMode`` every new tensor is one, so no fake operand is
    made or kept), and other devices are left as torch does them. Zero is not
    cached (``0.0`` and ``-0.0`` share a key); the cache is emptied when it
    holds :data:`_MOST_SCALARS` values.
    """
    if value == 0 or type(x) is not torch.Tensor or not x.is_cpu or x.dtype not in _SCALAR_DTYPES:
        return value
    key = (value, x.dtype)
    cached = _scalars.get(key)
    if cached is None:
        if len(_scalars) >= _MOST_SCALARS:
            _scalars.clear()
        cached = _scalars[key] = torch.tensor(value, dtype=x.dtype, device=_CPU)
    return cached


def _shift_in(a: Any, low: Any, r: int) -> Any:
    """``(a << r) | low`` into ``a`` in one ``add``: ``low + a·2**r`` is the same word mod 2³² (the bits do not overlap)
    and ``alpha`` scales in the same pass (int32 words wrap around; ``r <= 29``, so ``2**r`` is an int32)."""
    return torch.add(low, a, alpha=1 << r, out=a)


class TorchBackend(Backend):
    """Native ``torch.Tensor`` results, drawn on the target device."""

    name = "torch"
    xp = array_api_compat.torch
    mutable = True
    truncation = "inverse_cdf_or_rejection"  # erfinv: ≈1.2 normal draws, no device sync; re-drawn (one sync) only past erf's resolution
    word_dtype = "int32"  # torch implements add and shifts only for signed ints; same bits (see unit_init.portable.words)
    shift_in = staticmethod(_shift_in)
    narrow_chunk = NARROW_CHUNK + 15  # the last chunk takes up to 15 more (_filled_in_float32)

    # --- devices and dtypes ---------------------------------------------------------

    def resolve_device(self, device: Any) -> torch.device:
        """The ``torch.device`` (with its index) for ``device``; :class:`DeviceError` if not present."""
        requested = device
        if (type(device) is str and device == "cpu") or (type(device) is torch.device and device == _CPU):  # the common
            return _CPU  # explicit spellings, without parsing them (~2 µs for the string, ~0.7 for the device)
        if device is None:
            if _no_default_device():  # the common case, without torch.get_default_device()'s ~3 µs
                return _CPU
            device = torch.get_default_device()
            if device.type == "cpu":
                return _CPU
        request = device_request(device)
        if request is not None and request.platform in _PLATFORMS:
            kind = "cuda" if request.platform == "gpu" else request.platform
            device = torch.device(kind) if request.index is None else torch.device(kind, request.index)
        if not isinstance(device, torch.device):
            raise unknown_device(requested, "torch", _ACCEPTED, _names(_present()))
        resolved = _with_index(device)
        if resolved.type in ("cpu", "meta"):  # always present
            return resolved
        present = _present()
        if resolved not in present:
            raise absent_device(requested, "torch", _names(present), _why_absent(resolved))
        return resolved

    def native_dtype(self, dtype: str) -> torch.dtype:
        native = _NATIVE_DTYPES.get(dtype)
        if native is None:
            msg = f"dtype={dtype!r} is not available in torch {torch.__version__}; accepted: {', '.join(_NATIVE_DTYPES)}."
            raise DTypeError(msg)
        return native

    def dtype_on(self, dtype: str, device: Any) -> torch.dtype:
        if dtype in ("float64", "complex128") and device.type == "mps":
            msg = f"dtype={dtype!r} is not supported on the 'mps' device; use float32, float16, bfloat16 or complex64 there."
            raise DTypeError(msg)
        return self.native_dtype(dtype)

    # --- random draws ----------------------------------------------------------------

    def generator(self, seed: Any, device: torch.device) -> torch.Generator | None:
        """A generator on ``device`` seeded with an int, or the user's ``torch.Generator`` checked.

        On ``"meta"`` there is nothing to draw: the result is ``None``.
        """
        if type(seed) is not int and isinstance(seed, torch.Generator):  # an int skips the costlier isinstance
            if device.type != "meta" and (
                seed.device.type != device.type
                or (seed.device.index is not None and device.index is not None and seed.device.index != device.index)
            ):
                msg = f"seed is a torch.Generator on {seed.device}, but the draw is on device={str(device)!r}; create it with torch.Generator(device={str(device)!r})."
                raise SeedError(msg)
            return None if device.type == "meta" else seed
        if isinstance(seed, int):
            if device is _CPU:  # torch.Generator() is a CPU one whatever the default device: ~0.1 µs sooner than naming it
                return torch.Generator().manual_seed(_engine_seed(seed, device))
            return None if device == _META else torch.Generator(device=device).manual_seed(_engine_seed(seed, device))
        msg = f"seed={abbreviate(seed)} is not a seed for the torch backend; pass an int, None or a torch.Generator."
        raise SeedError(msg)

    def uniform(self, generator: torch.Generator | None, shape: tuple[int, ...], dtype: str, device: torch.device) -> torch.Tensor:
        return self._drawn(shape, dtype, device, lambda out: out.uniform_(generator=generator))

    def normal(self, generator: torch.Generator | None, shape: tuple[int, ...], dtype: str, device: torch.device) -> torch.Tensor:
        return self._drawn(shape, dtype, device, lambda out: out.normal_(generator=generator))

    def uniform_between(
        self, generator: torch.Generator | None, shape: tuple[int, ...], low: float, high: float, dtype: str, device: torch.device
    ) -> torch.Tensor:
        """``uniform_(low, high)``: the draw and its scaling in one kernel."""
        return self._drawn(shape, dtype, device, lambda out: out.uniform_(low, high, generator=generator))

    def uniform_to_transform(
        self, generator: torch.Generator | None, shape: tuple[int, ...], low: float, high: float, dtype: str, device: torch.device
    ) -> torch.Tensor:
        """``uniform_(low, high)``'s law from 64-bit words, on the CPU in float32 for :data:`_FROM_WORDS` values or more.

        ``random_`` fills ⌈n/2⌉ int64 words with 63 random bits each; each
        32-bit half gives one value from its 24 low bits ``k``, as
        ``k·2⁻²⁴·(t − f) + f`` computed in float32 (``f``, ``t``: the bounds
        in float32), the arithmetic of ATen's ``uniform_``: the same law, other
        values. ATen takes every element's bits from the generator one call at
        a time, on one thread; one word for two values halves those calls,
        and the conversion runs on every thread: about 0.7× the time of
        ``uniform_`` at 2²⁰ values with two threads, 0.8× with one.
        """
        size = math.prod(shape)
        if size < _FROM_WORDS or dtype != "float32" or device != _CPU:
            return self.uniform_between(generator, shape, low, high, dtype, device)
        words = _words_in(_destination(shape, torch.float32, device), size)
        words = (torch.empty((size + 1) // 2, dtype=torch.int64, device=device) if words is None else words).random_(generator=generator)
        halves = words.view(torch.int32)[:size].bitwise_and_(0xFFFFFF)  # [0, 2**63): a high half's bit 31 is 0, never read
        values = halves.view(torch.float32)
        values.copy_(halves)  # in place: each int32 becomes the float32 at its address
        first, last = np.float32(low), np.float32(high)
        return values.mul_(float(last - first) * 2.0**-24).add_(float(first)).view(shape)

    def uniform_extremes(self, low: float, high: float, dtype: str, device: torch.device) -> tuple[float, float] | None:
        """The least and the greatest value ``uniform_(low, high)`` returns in ``dtype`` (float32 or float64) on the CPU; ``None`` elsewhere.

        ATen's CPU kernel (``uniform_real``) rounds ``low`` and ``high`` to the
        dtype (``f`` and ``t``) and returns ``x·(t − f) + f`` computed in the
        dtype, for ``x = k·2⁻ᵖ`` (``0 ≤ k < 2ᵖ``, ``p`` the dtype's significand
        bits), the multiply-add fused or not as the compiler chose; recent
        releases then replace a result equal to ``t`` by ``f``. Either way the
        values lie between ``f`` (``x = 0``) and the larger of the two roundings
        at ``x = 1 − 2⁻ᵖ``: the product and the sum rounded one after the other,
        and the fused result bounded from above (its exact value rounded up).
        Other devices run other kernels (CUDA's ``curand``): not known there.
        """
        if device.type != "cpu":
            return None
        kind = np.dtype(dtype).type
        with np.errstate(over="ignore", invalid="ignore"):
            start, top = kind(low), kind(largest_below(1.0, dtype))
            span = kind(high) - start
            separate = top * span + start
        if not np.isfinite(separate):
            return None
        exact = Fraction(float(top)) * Fraction(float(span)) + Fraction(float(start))
        nearest = float(exact)
        fused = smallest_at_or_above(nearest if Fraction(nearest) >= exact else math.nextafter(nearest, math.inf), dtype)
        return float(start), max(float(separate), fused)

    def normal_scaled(
        self, generator: torch.Generator | None, shape: tuple[int, ...], mean: float, std: float, dtype: str, device: torch.device
    ) -> torch.Tensor:
        """``normal_(mean, std)``: the draw and its scaling in one kernel."""
        return self._drawn(shape, dtype, device, lambda out: out.normal_(mean, std, generator=generator))

    def _drawn(self, shape: tuple[int, ...], dtype: str, device: torch.device, fill: Callable[[torch.Tensor], object]) -> torch.Tensor:
        """A new tensor filled in place by ``fill`` (or :func:`drawing_into`'s); on ``"meta"`` left empty (there is no data to draw).

        The sizes go to ``torch.empty`` one by one where there are any: torch's
        argument parser reads them ~0.5 µs sooner than a tuple (a 0-d shape
        has no sizes to spread).
        """
        native = self.dtype_on(dtype, device)
        out = _destination(shape, native, device)
        if out is None:
            out = torch.empty(*shape, dtype=native, device=device) if shape else torch.empty(shape, dtype=native, device=device)
        if device == _META:
            return out
        if native in _NARROW and self.rounds_narrow(dtype, device):
            _filled_in_float32(out, fill)
        else:
            fill(out)
        return out

    def erfinv(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_meta:  # no data; torch's meta erfinv_ imports torch._dynamo (and triton: a crash after TF)
            return x
        return x.erfinv_()

    def rounds_narrow(self, dtype: str, device: torch.device) -> bool:
        """On the CPU, float16 and bfloat16 draws are float32 draws made :data:`NARROW_CHUNK` values at a time into one
        reused buffer and cast into the output (:meth:`_drawn`): ATen's CPU ``uniform_`` and ``normal_`` take the same
        generator values for a draw cut into such chunks as for the whole, so the values are the float32 draw's,
        rounded once, without its whole float32 array (4096² ``normal_`` in bfloat16: 42 ms, against 68 for the whole
        float32 draw and its cast and 61 for ATen's own bfloat16 kernel)."""
        return device == _CPU and dtype in ("float16", "bfloat16")

    def receives(self, shape: tuple[int, ...], dtype: str, device: torch.device, *, strided: bool = False) -> bool:
        """Whether :func:`drawing_into`'s tensor waits for a draw of this shape, dtype and device (it is not taken)."""
        return _waiting(shape, self.dtype_on(dtype, device), device, strided=strided) is not None

    def holds_values(self, device: torch.device) -> bool:
        return bool(device != _META)

    def memory_pool(self, device: torch.device) -> Hashable:
        """The host's memory on ``"cpu"`` and ``"mps"`` (as :meth:`free_bytes` reads it), each accelerator's own otherwise."""
        return "host" if device.type in ("cpu", "mps") else device

    def free_bytes(self, device: torch.device) -> int | None:
        """The free memory of ``device`` as torch reports it; ``None`` on ``"meta"`` (nothing is allocated there).

        The host's on ``"cpu"`` and ``"mps"`` (unified memory); ``mem_get_info``
        plus the blocks torch's allocator caches unused on CUDA and XPU;
        ``None`` on devices that report nothing.
        """
        if device.type in ("cpu", "mps"):
            return super().free_bytes(device)
        module: Any = getattr(torch, device.type, None)
        if not hasattr(module, "mem_get_info"):
            return None
        free, _ = module.mem_get_info(device)
        return int(free + module.memory_reserved(device) - module.memory_allocated(device))

    # --- arrays ----------------------------------------------------------------------

    def owns(self, array: Any) -> bool:
        return isinstance(array, torch.Tensor)

    def device_of(self, array: Any) -> torch.device:
        device: torch.device = array.device
        return device

    def to_numpy(self, array: Any) -> np.ndarray[Any, Any]:
        """A NumPy copy; bfloat16 goes through float32 (exact) to ``ml_dtypes.bfloat16``, else stays float32."""
        if array.device.type == "meta":
            msg = "a tensor on the 'meta' device holds no data to convert to NumPy."
            raise DeviceError(msg)
        tensor = array.detach().cpu()
        if tensor.dtype != torch.bfloat16:
            return np.array(tensor.numpy())
        values: np.ndarray[Any, Any] = tensor.float().numpy()
        try:
            import ml_dtypes
        except ImportError:
            return values
        return values.astype(ml_dtypes.bfloat16)

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> torch.Tensor:
        """``torch.full``, or :func:`drawing_into`'s tensor filled in place (a bias's zeros in ``initialize``)."""
        native = self.dtype_on(dtype, device)
        out = _destination(shape, native, device, strided=True)
        return torch.full(shape, value, dtype=native, device=device) if out is None else out.fill_(value)

    def eye(self, rows: int, cols: int, value: float, dtype: str, device: Any) -> torch.Tensor:
        """Zeros and a filled diagonal view (exact for any value, and for uint16/32/64, which ``torch.eye`` lacks),
        in :func:`drawing_into`'s tensor where it waits (``eye_``)."""
        native = self.dtype_on(dtype, device)
        out = _destination((rows, cols), native, device, strided=True)
        out = torch.zeros((rows, cols), dtype=native, device=device) if out is None else out.zero_()
        out.diagonal().fill_(value)
        return out

    def affine(self, x: Any, scale: float, shift: float) -> Any:
        if scale != 1:
            x.mul_(_operand(scale, x))
        if shift != 0:
            x.add_(_operand(shift, x))
        return x

    def cast(self, x: Any, dtype: str) -> Any:
        """``x`` in ``dtype``: itself where it is already, else cast (into :func:`drawing_into`'s tensor where it waits)."""
        if x.dtype == _NATIVE_DTYPES.get(dtype):  # already there (the common case): no device check needed
            return x
        native = self.dtype_on(dtype, x.device)
        out = _destination(tuple(x.shape), native, x.device)
        return x.to(native) if out is None else out.copy_(x)  # copy_ rounds as .to does (to nearest, ties to even)

    def clip(self, x: Any, low: float, high: float) -> Any:
        return x.clamp_(low, high)

    def sharded(self, shape: tuple[int, ...], layout: Any, shard: Callable[[Any, Any], Callable[[], Any]]) -> Any:
        """This rank's shard of a ``DTensor`` laid out by ``layout = (device_mesh, placements)``.

        The rank's block follows from its mesh coordinate and the placements
        with DTensor's chunking (:func:`~unit_init.backends.mesh.mesh_block`);
        the local tensor becomes a ``DTensor`` with ``DTensor.from_local``.
        """
        from torch.distributed.device_mesh import DeviceMesh  # torch.distributed loads only for sharded draws
        from torch.distributed.tensor import DTensor

        device_mesh, placements = layout
        if not isinstance(device_mesh, DeviceMesh):
            msg = f"device_mesh={abbreviate(device_mesh)} is not a torch.distributed DeviceMesh (init_device_mesh(...))."
            raise ParameterError(msg)
        if not isinstance(placements, (list, tuple)):
            msg = f"placements={abbreviate(placements)} must be a list with one placement per mesh dimension, e.g. [Shard(0)]."
            raise ParameterError(msg)
        placements = tuple(placements)
        coordinate = device_mesh.get_coordinate()
        if coordinate is None:
            msg = "this rank is not part of device_mesh; call from a rank in the mesh."
            raise ParameterError(msg)
        block = mesh_block(shape, list(coordinate), tuple(device_mesh.shape), placements)
        local = shard(device_mesh.device_type, block)()  # this rank's one shard
        strides = tuple(math.prod(shape[i + 1 :]) for i in range(len(shape)))
        return DTensor.from_local(local, device_mesh, placements, run_check=False, shape=torch.Size(shape), stride=strides)

    def smallest(self, keys: Any, count: int, axis: int) -> Any:
        """The mask of the ``count`` smallest ``keys`` along ``axis`` by ``topk`` (of the fewer side: the complement of
        the largest where ``count`` is more than half), set by ``scatter_``: torch's ``argsort`` of a 2048² matrix
        along its columns takes 0.5 s, twice; this 0.05–0.1 s.

        Ties go to the first by index, as the ranks of every backend give them (a portable draw is the same
        everywhere): float32 keys are ranked as int64 words, the key's bits (non-negative floats order as their
        bit patterns) above its index, so no two are equal. Other keys (float64), and keys on devices other than
        the CPU and CUDA (whose int64 ``topk`` is not known to exist), are ranked by the ranks.
        """
        size = keys.shape[axis]
        if count in (0, size):
            return torch.full(keys.shape, count == size, dtype=torch.bool, device=keys.device)
        if keys.dtype != torch.float32 or keys.device.type not in ("cpu", "cuda"):
            return super().smallest(keys, count, axis)
        index_bits = (size - 1).bit_length()
        index = torch.arange(size, device=keys.device).reshape([-1 if d == axis % keys.ndim else 1 for d in range(keys.ndim)])
        words = keys.view(torch.int32).to(torch.int64).bitwise_left_shift_(index_bits).bitwise_or_(index)
        largest = 2 * count > size
        chosen = torch.topk(words, size - count if largest else count, dim=axis, largest=largest, sorted=False).indices
        mask = torch.zeros(keys.shape, dtype=torch.bool, device=keys.device).scatter_(axis, chosen, True)
        return mask.logical_not_() if largest else mask

    def qr(self, x: Any) -> tuple[Any, Any]:
        """``torch.linalg.qr`` on the tensor's device (also on meta); on the CPU where a device lacks the kernel."""
        try:
            q, r = torch.linalg.qr(x)
        except NotImplementedError:  # e.g. older MPS builds without linalg_qr
            q, r = torch.linalg.qr(x.cpu())
            q, r = q.to(x.device), r.to(x.device)
        return q, r
