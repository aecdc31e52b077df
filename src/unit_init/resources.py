"""The memory guard: a draw that would need more memory than the limit is refused before anything is allocated.

Every draw asks :func:`check_allocation` once its shape, dtype, device and
distribution are known, before the backend allocates anything. The estimate,
with ``n`` the number of elements, ``s`` the output dtype's item size and
``w`` the work dtype's (float32, or float64 for float64 outputs; ``s`` for
integer outputs)::

    bytes = n·s + t·m·w + e·m        (output + the sampler's temporaries)

where ``t`` work-dtype arrays and ``e`` extra bytes per element are live at
the sampler's peak (:data:`TEMPORARIES`): 1 array for a uniform or normal;
2 and 1 byte for a truncated normal across 0 (the draw and, at most, as much
again for ``erfinv``'s work or a re-draw's masks and candidates; a re-draw in
place on a mutable backend adds :func:`redraw_bytes`, and ``erfinv`` in place
there holds only the draw: :data:`INVERTED`), none but 88
bytes for one drawn by its quantile, on one side of 0 or across it but too
narrow to re-draw (:data:`ONE_SIDED`; on a backend with mutable
arrays its float64 uniforms, 8 bytes, and 88 bytes a value of one chunk a
thread); 5 for an orthogonal matrix (the Gaussian, LAPACK's copies, Q and
the sign fix), of float64 (complex128) on NumPy, whose QR computes in it
whatever ``w`` (``Backend.qr_dtype``); 3 and 16 bytes of ``argsort``
indices for a sparse one; 1 for an
identity times a gain; 0 for a constant. A complex dtype counts arrays of its
own size (``w = s``: two work-dtype parts make one), and a block-orthogonal
kernel's ``t`` is multiplied by ``⌈out/in⌉`` (:func:`_growth`). ``m`` is how many elements are drawn
at once: ``n``, or at most ``threads × BLOCK`` for a draw filled block by
block (:mod:`unit_init.sampling.blocks`, whose blocks also hold their cast:
``+ s`` per element). For a random draw, a backend that scales in place
(NumPy, torch) turns one work array into the output when ``w = s``
(``t − 1``); one that does not (JAX, TensorFlow, Array-API namespaces) holds
one more array while scaling (``t + 1``). A float16 or bfloat16 uniform or
normal that the backend draws through one reused float32 chunk (torch's CPU:
:attr:`~unit_init.backends.base.Backend.narrow_chunk`) holds that chunk,
``n·s + min(n, chunk)·w``. A portable draw (:data:`unit_init.portable.stream.WORDS`) holds its chunks' words and
``Φ⁻¹`` terms in flight; a law it draws whole from a normal draw (an orthogonal
matrix) needs the larger of its own estimate and that draw's
(:func:`_portable_in_flight`). The estimate lies between 0.95
and 3 times NumPy's measured peak (tests/test_resources.py, with
:mod:`tracemalloc`): it errs towards refusing a draw at the edge of the
limit, never towards an allocation that fails.

The limit is, in this order:

* ``UNIT_INIT_MAX_BYTES`` where it is set (on every device, torch's
  ``"meta"`` included): bytes, as an integer or with a binary suffix ``K``,
  ``M``, ``G``, ``T``, ``P`` (optionally followed by ``B`` or ``iB``): ``8G``
  is ``8·2³⁰``;
* else the memory free where the array goes, as
  :meth:`~unit_init.backends.base.Backend.free_bytes` reports it: the host's
  for host arrays (:func:`~unit_init.backends.host.host_free_bytes`), the device's free memory for
  accelerators (torch ``cuda.mem_get_info``, JAX ``memory_stats()``); no limit
  on torch's ``"meta"`` device, where nothing is allocated, nor on a
  TensorFlow GPU (TensorFlow reports no total). Requests under
  :data:`QUERY_MIN` bytes are not checked against free memory (the query
  costs more than such a draw).

Whatever the limit, a shape of ``2⁶³`` or more elements is refused with a
:class:`~unit_init.errors.ShapeError`: no framework indexes it (TensorFlow
and JAX abort the process).

Examples
--------
>>> import os
>>> from unittest import mock
>>> import unit_init as ui
>>> with mock.patch.dict(os.environ, {"UNIT_INIT_MAX_BYTES": "1M"}):
...     ui.zeros((1024, 1024))  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
unit_init.errors.ResourceError: shape=(1024, 1024), dtype='float32' needs about 4.0 MiB ..., more than the 1.0 MiB limit set by UNIT_INIT_MAX_BYTES='1M'; ...
"""

from __future__ import annotations

import fractions
import functools
import math
import os
import re
import threading
from collections.abc import Callable, Hashable
from typing import Any, Final

from unit_init.backends.base import Backend
from unit_init.backends.host import host_free_bytes
from unit_init.dtypes import is_complex, is_float, work_dtype
from unit_init.environment import variable
from unit_init.errors import ParameterError, ResourceError, ShapeError, abbreviate
from unit_init.portable.stream import CHUNK_WORDS, WORDS
from unit_init.sampling import blocks
from unit_init.sampling.truncation import QUANTILE_CHUNK, by_quantiles, inverts, redraws
from unit_init.spec import complex_laws as c
from unit_init.spec import distributions as d
from unit_init.spec import kernel_laws as k
from unit_init.threads import cpu_count

__all__ = [
    "DRAWN_IN_PLACE",
    "ENV_VAR",
    "INVERTED",
    "MAX_EXTENT",
    "QUERY_MIN",
    "TEMPORARIES",
    "check_allocation",
    "check_bytes",
    "estimate_bytes",
    "host_free_bytes",
    "itemsize",
    "max_bytes",
]

MAX_EXTENT: Final = 2**63 - 1
"""The most bytes an array may span, zero dimensions left out: the frameworks' strides and storage sizes are 64-bit signed ints."""

ENV_VAR: Final = "UNIT_INIT_MAX_BYTES"
"""The environment variable that sets the limit in bytes (``8G``, ``512M``, ``1000000``)."""

QUERY_MIN: Final = 1 << 26
"""Requests under 64 MiB are compared only with ``UNIT_INIT_MAX_BYTES``, never with the free memory (not queried)."""

TEMPORARIES: Final[dict[type[d.Distribution], tuple[int, int]]] = {
    d.PointMass: (0, 0),
    d.Eye: (1, 0),
    d.DiracKernel: (2, 0),
    d.Uniform: (1, 0),
    d.Normal: (1, 0),
    d.TruncatedGaussian: (2, 1),
    d.HaarOrthogonal: (5, 0),
    d.SparseNormal: (3, 16),
    d.ArrayConstant: (1, 0),
    k.CentreTap: (3, 0),
    d.ZerOValues: (3, 0),
    k.BlockOrthogonal: (9, 0),
    k.FourierKernel: (2, 36),
    c.ComplexNormal: (5, 0),
    c.UniformDisk: (6, 0),
    c.ModulusTruncatedNormal: (6, 0),
    c.Unitary: (5, 0),
    c.RealValued: (1, 0),
}
"""Per distribution: ``(t, e)``, the work-dtype arrays and extra bytes per element live at the sampler's peak.

A truncated normal across 0 is drawn in place, by ``erfinv`` or by re-drawing
what a mask rejects; one on one side of 0 by the log-space inverse CDF
(:data:`ONE_SIDED`). An array constant and the batched identity hold the ones
they are broadcast by; a matrix at the centre tap the kernel before its cast;
an orthogonal (or unitary) matrix 5 arrays (the Gaussian, LAPACK's copies, Q and the sign fix), of the
backend's QR dtype (:data:`FACTORED`: NumPy computes a float32 QR in float64);
a block-orthogonal kernel about 6 arrays of its ``(*window, out, out)``
growing kernel and 3 of its projections, per ``⌈out/in⌉`` (:func:`_growth`);
the Fourier basis 36 bytes of float64 and int64 host arrays (its rounding onto the output grid: 12 of them). The complex laws
count complex arrays: the two parts, their complex casts and ``i·imag`` (5),
a modulus and a phase, their cosine and sine (6), or a unitary matrix's as an
orthogonal one's (5, in the QR dtype); a real law's values made complex, the real array (1).
Measured with NumPy (tests/test_resources.py)."""

FACTORED: Final = (d.HaarOrthogonal, c.Unitary)
"""Laws drawn through one QR of the whole matrix, whose temporaries are counted in the backend's
:attr:`~unit_init.backends.base.Backend.qr_dtype` where it declares one: NumPy's ``linalg.qr`` computes in float64
(complex128) whatever the input (a 4096² float32 orthogonal peaked at 585 MiB, 9.1 times the output, where 8
float32 arrays were counted, 512 MiB; a float64 one at 5.1 times its output). Their arrays are not the output
(no in-place scaling turns one into it)."""

PORTABLE_COMPLEX_WORDS: Final = 16
"""Real-part values per element a complex portable draw holds besides its output: its two real draws are made whole,
then their polar or Cartesian terms (measured on NumPy: 14–15 for complex64, 7–9.6 for complex128)."""
PORTABLE_COMPLEX_WORDS_IMMUTABLE: Final = 22
""":data:`PORTABLE_COMPLEX_WORDS` on a backend whose arrays are immutable and whose ops run one by one (the
Array-API backend), where no term is computed in place (measured on array_api_strict: 20 for a complex64 normal,
13.6 for complex128; 16 let a draw through at 1.18 times the limit)."""

_NARROW_CHUNKED: Final = (d.Uniform, d.Normal)
"""The laws a backend may draw in float16 or bfloat16 through a float32 chunk (:meth:`~unit_init.backends.base.Backend.rounds_narrow`)."""

_PORTABLE_CHUNKED: Final = (d.Uniform, d.Normal, d.TruncatedGaussian)
"""The laws the portable stream draws value by value (:data:`~unit_init.portable.stream.WORDS`); any other is estimated as a native draw."""

ONE_SIDED: Final = (0, 88)
"""``(t, e)`` for a truncated normal drawn by its quantile (:func:`~unit_init.sampling.truncation.by_quantiles`: an
interval on one side of 0, or one across it too narrow to re-draw): the log-space inverse CDF, computed in float64
(:func:`unit_init.sampling.truncation.by_quantile`), holds up to eleven float64 values per element at its peak (``u``,
``p``, ``log q`` and its rational approximations' terms: 88 bytes), whatever the output dtype. On a backend with
mutable arrays only ``u`` is whole (8 bytes), the rest one :data:`~unit_init.sampling.truncation.QUANTILE_CHUNK`
at a time."""

DRAWN_IN_PLACE: Final = (d.Uniform, d.Normal, d.TruncatedGaussian, d.PointMass, d.Eye)
"""The laws whose native draw into an array that exists (:meth:`~unit_init.backends.base.Backend.receives`) leaves
their values there with no new output: their kernels fill it in place, or a cast to a narrower dtype lands in it."""

INVERTED: Final = (1, 0)
"""``(t, e)`` for a truncated normal across 0 drawn by ``erfinv`` on a backend with mutable arrays
(:func:`~unit_init.sampling.truncation.inverts`): the uniform draw is transformed and scaled where it lies (torch:
its random words are the output's own memory), so it holds nothing beside the draw (0 bytes measured filling a
2048² float32 tensor in place, 16 MiB for a new one)."""

_UNKNOWN: Final = (2, 0)
"""``(t, e)`` for a distribution defined outside unit_init."""

_MOST_BYTES_PER_ELEMENT: Final = max(16 + (TEMPORARIES[c.Unitary][0] + 1) * 16, 16 + PORTABLE_COMPLEX_WORDS_IMMUTABLE * 8)
"""An upper bound of :func:`estimate_bytes` per element and per :func:`_growth` over every law, dtype and backend:
the larger of a native complex128 unitary matrix on a backend that does not scale in place (160) and a portable
complex128 draw on an Array-API namespace (192)."""

_UNITS: Final = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}
_AMOUNT: Final = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGTP]?)(?:I?B)?\s*", re.IGNORECASE | re.ASCII)


@functools.cache
def itemsize(dtype: str) -> int:
    """Bytes per element of a canonical dtype name (``"bfloat16"`` → 2, ``"bool"`` → 1)."""
    return 1 if dtype == "bool" else int(re.sub(r"\D", "", dtype)) // 8


def _blocked(backend: Backend, size: int, distribution: d.Distribution | None) -> bool:
    """Whether ``backend`` fills this draw block by block (:func:`unit_init.sampling.sample`)."""
    return (
        distribution is not None
        and distribution.iid
        and size >= blocks.PARALLEL_MIN
        and type(backend).block_streams is not Backend.block_streams
    )


def _growth(shape: tuple[int, ...], distribution: d.Distribution | None) -> int:
    """How many times the output's size a sampler's intermediates take: ``⌈out/in⌉`` for a block-orthogonal kernel, else 1.

    A block-orthogonal kernel grows to ``(*window, out, out)`` before its last
    product makes it ``(*window, in, out)`` (:mod:`unit_init.sampling.kernels`).
    """
    if isinstance(distribution, k.BlockOrthogonal) and shape[distribution.in_axis]:
        return -(-shape[distribution.out_axis] // shape[distribution.in_axis])
    return 1


FUSED_BYTES: Final = 24
"""Bytes per value besides the output that a sampler compiled into one XLA computation (JAX, TensorFlow) holds for a
portable draw or a truncated normal not across 0 (measured: 6–19)."""
def estimate_bytes(
    backend: Backend,
    shape: tuple[int, ...],
    dtype: str,
    distribution: d.Distribution | None,
    *,
    portable: bool = False,
    device: Any = None,
) -> int:
    """The bytes a draw of ``distribution`` (``None``: a plain array) needs at its peak: output + temporaries.

    See the module docstring for the formula; ``portable``: a draw from the
    portable stream (:func:`_in_flight`). A native float16 or bfloat16 uniform
    or normal that ``backend`` draws in float32 chunk by chunk on ``device``
    (:attr:`~unit_init.backends.base.Backend.narrow_chunk`) holds one chunk.

    Examples
    --------
    >>> from unit_init.backends.registry import get_backend
    >>> from unit_init.spec.distributions import Normal
    >>> estimate_bytes(get_backend("numpy"), (500, 500), "float16", Normal(0.0, 1.0))  # 2 + 4 bytes per element
    1500000
    """
    size, item = math.prod(shape), itemsize(dtype)
    if portable and distribution is not None and distribution.random:
        streamed = _streamed_bytes(backend, size, dtype, distribution)
        if streamed is not None:
            return streamed
    work = itemsize(work_dtype(dtype)) if is_float(dtype) else item
    if type(distribution) in FACTORED and backend.qr_dtype is not None:
        work = max(work, (2 if is_complex(dtype) else 1) * itemsize(backend.qr_dtype))
    if not portable and type(distribution) in _NARROW_CHUNKED and work > item and backend.narrow_chunk and backend.rounds_narrow(dtype, device):
        return size * item + min(size, backend.narrow_chunk) * work
    in_flight = _portable_in_flight(backend, shape, distribution, work) if portable else 0
    arrays, extra = (0, 0) if distribution is None else TEMPORARIES.get(type(distribution), _UNKNOWN)
    chunk = 0  # bytes of one chunk's temporaries, a thread
    if isinstance(distribution, d.TruncatedGaussian) and by_quantiles(backend.truncation, work_dtype(dtype), distribution.low, distribution.high):
        arrays, extra = (0, FUSED_BYTES) if backend.compiles else ONE_SIDED
        if backend.mutable and not backend.compiles:
            extra, chunk = 8, ONE_SIDED[1] * min(size, QUANTILE_CHUNK)
    elif isinstance(distribution, d.TruncatedGaussian) and backend.mutable and redraws(backend.truncation, work_dtype(dtype), distribution.low, distribution.high):
        extra += redraw_bytes(distribution.low, distribution.high, work)
    elif isinstance(distribution, d.TruncatedGaussian) and backend.mutable and inverts(backend.truncation, work_dtype(dtype), distribution.low, distribution.high):
        arrays, extra = INVERTED
    arrays *= _growth(shape, distribution)
    if _blocked(backend, size, distribution) and not portable:
        at_once = min(size, cpu_count() * blocks.BLOCK)
        return size * item + at_once * (arrays * work + extra + item) + cpu_count() * chunk
    if arrays and distribution is not None and distribution.random and type(distribution) not in FACTORED:
        # scaled in place, the work array becomes the output; else scaling makes one more
        arrays += -1 if backend.mutable and work == item else 0 if backend.mutable else 1
    return max(size * (item + arrays * work + extra) + chunk, in_flight)


def _streamed_bytes(backend: Backend, size: int, dtype: str, distribution: d.Distribution) -> int | None:
    """The bytes a portable draw of a random law the stream draws value by value holds at its peak, output included:
    a complex one's real draws and their terms (:data:`PORTABLE_COMPLEX_WORDS`), one fused computation's few bytes a
    value (:data:`FUSED_BYTES`), or its chunks' words in flight (:func:`_in_flight`) beside the output and, for
    float16 or bfloat16, the whole draw in float32 before its one cast. ``None`` for a law drawn whole from a normal
    draw (an orthogonal matrix), which :func:`estimate_bytes` estimates as a native draw and that normal draw."""
    item = itemsize(dtype)
    if is_complex(dtype):
        words = PORTABLE_COMPLEX_WORDS if backend.mutable or backend.compiles else PORTABLE_COMPLEX_WORDS_IMMUTABLE
        return size * (item + words * (item // 2))
    if type(distribution) not in _PORTABLE_CHUNKED:
        return None
    if backend.compiles:
        return size * (item + FUSED_BYTES)
    work = itemsize(work_dtype(dtype))
    widened = size * work if work > item else 0
    return size * item + widened + _in_flight(backend, size, "uniform" if type(distribution) is d.Uniform else "normal") * work


def redraw_bytes(low: float, high: float, work: int) -> int:
    """Bytes per element that re-drawing, in place, the values of a truncated normal outside ``[low, high]`` (units of
    std) holds at its peak (:func:`~unit_init.sampling.truncation.redraw_rejected`), besides the draw: with a share
    ``m`` of the normal inside and ``r = 1 − m`` outside, the rejected's int64 indices (``8r``), their oversampled
    candidates and those's comparison masks (``(r/m)·(w + 3)``), the kept candidates' indices and values
    (``r·(8 + w)``), and a tenth more for the oversampling. ``[−0.3, 5]`` in float32: 14 bytes (its draw and these
    took 17 a value on torch at 2048², 68 MiB, where 36 were estimated without them).

    Examples
    --------
    >>> redraw_bytes(-0.3, 5.0, 4), redraw_bytes(-2.0, 2.0, 4)
    (14, 2)
    """
    inside = d.normal_mass(low, high)
    outside = 1.0 - inside
    return math.ceil(1.1 * (8 * outside + outside / inside * (work + 3) + outside * (8 + work)))


def _portable_in_flight(backend: Backend, shape: tuple[int, ...], distribution: d.Distribution | None, work: int) -> int:
    """The bytes a portable draw of a law the stream does not draw value by value (an orthogonal matrix, a sparse
    one) holds in flight besides the law's own temporaries: its largest normal draw's words and ``Φ⁻¹`` terms
    (:func:`_in_flight`), or fused (:data:`FUSED_BYTES`). 0 for a deterministic law."""
    if distribution is None or not distribution.random:
        return 0
    drawn = _largest_draw(shape, distribution)
    if backend.compiles:
        return drawn * FUSED_BYTES
    return (drawn + _in_flight(backend, drawn, "normal")) * work


def _in_flight(backend: Backend, size: int, kind: str) -> int:
    """Work-dtype values a portable draw of ``size`` values of ``kind`` holds besides its output: its chunks'
    temporaries (:data:`~unit_init.portable.stream.WORDS` a value), at most
    :data:`~unit_init.portable.stream.CHUNK_WORDS` a thread on a backend that fills chunk by chunk."""
    whole = size * WORDS[kind]
    return min(whole, cpu_count() * CHUNK_WORDS) if backend.mutable else whole


def _largest_draw(shape: tuple[int, ...], distribution: d.Distribution) -> int:
    """The most values ``distribution`` draws from its stream at once: the ``(in, out)`` matrix of a centre tap, the
    ``out × out`` projections of a block-orthogonal kernel, else as many as the shape has."""
    if isinstance(distribution, k.CentreTap):
        return shape[distribution.in_axis] * shape[distribution.out_axis]
    if isinstance(distribution, k.BlockOrthogonal):
        return shape[distribution.out_axis] * max(shape[distribution.out_axis], shape[distribution.in_axis])
    return math.prod(shape)


def _written_alone(distribution: d.Distribution | None, shape: tuple[int, ...]) -> bool:
    """Whether a draw into an array that exists writes it with nothing beside it: a constant (the backend's ``full``),
    or an identity matrix (its ``eye``); a batched identity is the matrix times a broadcast array of ones, made anew."""
    return isinstance(distribution, d.PointMass) or (isinstance(distribution, d.Eye) and len(shape) == 2)


def max_bytes(backend: Backend, device: Any) -> tuple[int | None, str]:
    """The limit for an array on ``device`` and where it comes from: ``UNIT_INIT_MAX_BYTES``, else the free memory.

    ``None`` where nothing limits it: a draw that allocates nothing as it runs (a draw while JAX traces:
    :meth:`~unit_init.backends.base.Backend.allocates`), or, without ``UNIT_INIT_MAX_BYTES``, a device whose
    free memory its framework does not report (torch ``"meta"``: nothing to free).
    """
    if not backend.allocates(device):
        return None, "nothing is allocated"
    setting = _setting()
    if setting:
        return _parse_bytes(setting), f"limit set by {ENV_VAR}={abbreviate(setting)}"
    where = "default device" if device is None else abbreviate(str(device))
    return backend.free_bytes(device), f"free on the {backend.name} backend's {where}"


def _setting() -> str | None:
    """``UNIT_INIT_MAX_BYTES`` as set now, ``None`` where unset (asked on every draw: :func:`~unit_init.environment.variable`)."""
    return variable(ENV_VAR)


@functools.lru_cache(maxsize=8)
def _parse_bytes(setting: str) -> int:
    match = _AMOUNT.fullmatch(setting)
    if match is None:
        msg = f"{ENV_VAR}={abbreviate(setting)} is not an amount of memory; pass bytes, e.g. 1000000, 512M, 8G or 1.5T."
        raise ParameterError(msg)
    try:
        return int(fractions.Fraction(match[1]) * _UNITS[match[2].upper()])  # exact: 400 digits are a limit, not an OverflowError
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits: 4300)
        msg = f"{ENV_VAR}={abbreviate(setting)} has more digits than an amount of memory needs; pass e.g. 512M, 8G or 1.5T."
        raise ParameterError(msg) from None


def _shown(amount: int) -> str:
    """``amount`` bytes in binary units: ``4.0 MiB``."""
    for unit in ("P", "T", "G", "M", "K"):
        if amount >= _UNITS[unit]:
            return f"{amount / _UNITS[unit]:.1f} {unit}iB"
    return f"{amount} bytes"


class Held:
    """Bytes a draw holds against its device's limit while it runs (:func:`check_bytes` with ``hold=True``).

    They are taken when its ``with`` block is entered — checked again against the limit, with what the draws running
    in other threads hold then, and added under one lock — and given back when it exits, so an exception (an
    interrupt too) anywhere between the check and the block leaves nothing held.
    """

    __slots__ = ("key", "limit", "needed", "refuse")

    def __init__(self, key: Hashable, needed: int, limit: int, refuse: Callable[[int], ResourceError]) -> None:
        self.key, self.needed, self.limit, self.refuse = key, needed, limit, refuse

    def __enter__(self) -> None:
        with _HOLDING_LOCK:
            held = _HOLDING.get(self.key, 0)
            if self.needed > self.limit - held:
                raise self.refuse(held)
            _HOLDING[self.key] = held + self.needed

    def __exit__(self, *_: object) -> None:
        with _HOLDING_LOCK:
            left = _HOLDING.pop(self.key, 0) - self.needed  # 0: a forked child forgot what its parent held
            if left > 0:
                _HOLDING[self.key] = left


_HOLDING: dict[Hashable, int] = {}
"""Bytes held per memory pool (:meth:`~unit_init.backends.base.Backend.memory_pool`: ``"host"`` for the host's memory,
whichever framework draws there) by the draws running now, in every thread (no entry: none)."""
_HOLDING_LOCK = threading.RLock()  # re-entrant: a signal handler that draws runs on the thread that may hold it


def _forget_holdings() -> None:
    """In a forked child: no draw runs there, whatever the parent's threads held (and its lock may be held by one)."""
    global _HOLDING_LOCK  # replaced, not released: the thread holding it does not exist in the child
    _HOLDING.clear()
    _HOLDING_LOCK = threading.RLock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forget_holdings)


def check_bytes(
    backend: Backend, device: Any, needed: int, what: Callable[[], str], smaller: str, *, hold: bool = False, reserved: int = 0
) -> Held | None:
    """Refuse ``needed`` bytes on ``device`` with :class:`ResourceError` where they exceed :func:`max_bytes` less what
    the draws running now in other threads hold; with ``hold``, and a limit set by :data:`ENV_VAR` (a budget the
    draws share; the free memory the system reports already shows what running draws took), return a :class:`Held`
    that holds them while its ``with`` block runs.

    ``what()`` names the request (``"shape=(4, 4), dtype='float32'"``; called
    only for the message), ``smaller`` says what to make smaller. ``None``:
    nothing checked or held (a request under :data:`QUERY_MIN` without a set limit).
    ``reserved``: bytes that arrays checked before this one, and not yet made,
    will take from the same free memory and keep (the shards of one sharded
    draw on devices that share it, the parameters of a whole-model
    ``initialize`` that returns new arrays); a limit set by :data:`ENV_VAR`
    applies to each draw alone and ignores them.
    """
    setting = _setting()
    if not setting and needed + reserved < QUERY_MIN:
        return None
    limit, source = max_bytes(backend, device)
    if limit is None:
        return None
    key = backend.memory_pool(device)  # NumPy's and torch's CPU draws take the same memory: one budget

    if setting:
        reserved = 0

    def refuse(held: int) -> ResourceError:
        others = f" ({_shown(held)} of it held by draws running in other threads)" if held else ""
        if reserved:
            others += f" ({_shown(reserved)} of it for the arrays checked before this one, which the call keeps)"
        return ResourceError(
            f"{what()} needs about {_shown(needed)} (output and temporaries), more than the {_shown(limit)} {source}{others}; "
            f"{smaller}, or set {ENV_VAR} (e.g. 64G) to allow more."
        )

    with _HOLDING_LOCK:
        held = _HOLDING.get(key, 0)
    if needed > limit - held - reserved:
        raise refuse(held)
    return Held(key, needed, limit, refuse) if hold and setting else None  # free memory already shows what running draws took


def check_allocation(
    backend: Backend,
    device: Any,
    shape: tuple[int, ...],
    dtype: str,
    distribution: d.Distribution | None,
    *,
    portable: bool = False,
    hold: bool = False,
    reserved: int = 0,
    whole: tuple[int, ...] | None = None,
) -> Held | None:
    """Refuse, before any allocation, a draw that needs more than the limit (:class:`ResourceError`), or whose extent in bytes
    reaches 2⁶³ (:class:`ShapeError`); with ``hold``, the bytes of a checked draw are held until the returned
    :class:`Held` exits, so draws running at once in several threads count each other's (:func:`check_bytes`).

    A native draw of a law in :data:`DRAWN_IN_PLACE` into an array that exists
    (``unit_init.torch.init_``, the drop-ins, ``initialize``) needs its
    estimate less the output, which it fills (a constant or an identity
    matrix, nothing): a fill of a tensor larger than the free memory left beside it
    goes on.

    The extent is the product of the non-zero dimensions times the item size:
    what the frameworks compute, in 64-bit signed ints, for strides and storage
    also of an array with no element (``(2**62, 0)`` aborted JAX's process,
    ``(2**61,)`` float32 on torch's ``"meta"`` overflowed its storage size).
    ``whole``: the shape of the array ``shape`` is one block of, which a
    refusal names.
    """
    size = math.prod(shape)

    def what() -> str:
        block = "" if whole is None or whole == shape else f", a block of the whole shape={abbreviate(whole)} (a region= or one device's shard),"
        return f"shape={abbreviate(shape)}, dtype={dtype!r}{block}"

    extent = (size or math.prod(dim for dim in shape if dim)) * itemsize(dtype)
    if extent > MAX_EXTENT:
        msg = f"{what()} spans {extent:.3e} bytes; arrays span at most 2**63 - 1 (a 64-bit index), also with a zero dimension; draw a smaller shape."
        raise ShapeError(msg)
    if size * _growth(shape, distribution) * _MOST_BYTES_PER_ELEMENT + reserved < QUERY_MIN and _setting() is None:
        return None  # the common small draw: under QUERY_MIN whatever its law, nothing to estimate or query
    needed = estimate_bytes(backend, shape, dtype, distribution, portable=portable, device=device)
    alone = _written_alone(distribution, shape)
    if not portable and type(distribution) in DRAWN_IN_PLACE and backend.receives(shape, dtype, device, strided=alone):
        # the output exists: filled, not allocated; a constant or a matrix identity is written into it with nothing
        # beside it, whatever its strides
        needed = 0 if alone else needed - size * itemsize(dtype)
    return check_bytes(backend, device, needed, what, "draw a smaller shape or shard it", hold=hold, reserved=reserved)
