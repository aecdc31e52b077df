"""The portable stream: counter-based draws that are a pure function of (seed, stream, global index).

A :class:`PortableStream` is the stream a law is sampled from when a call
passes ``rng="portable"`` (a :class:`unit_init.sampling.streams.Stream`,
like a backend's native generator), so every law samples through it with
the same sampler. For element ``i`` (global row-major flat index) of the
``d``-th draw of a stream::

    key    = Threefry((seed >> 32, seed mod 2³²), stream id)       (on the host, once)
    x0, x1 = Threefry(key, (i, d))                                  (float64, on the device)
    x0, x1 = Threefry(key, (r·⌈n/2⌉ + ⌊j/2⌋, d)),  x = x_(j mod 2)   (float32: element j of row r, last axis n)

float32 needs one word per element, so two neighbours along the last axis
share a counter (:func:`_paired`). The stream id is the first 8 bytes of
SHA-256 of :data:`VERSION`, the initializer's class name and the global shape.
Bits become floats in the same exact way everywhere:

* uniform ``[0, 1)``: float32 ``(x >> 8) · 2⁻²⁴``; float64
  ``((x0 >> 5) · 2²⁶ + (x1 >> 6)) · 2⁻⁵³`` — bit-identical on every backend;
* normal: the top bit of ``x`` (``x0``) picks the side, the next 23 (float32) or 52
  (float64) bits ``m`` give ``t = (m + ½) · 2⁻²⁴`` (or ``2⁻⁵³``) in ``(0, ½)``,
  exactly; ``z = ∓Φ⁻¹(t)`` (:func:`~unit_init.portable.ndtri.ndtri`);
* truncated normal on ``[a, b]``: the same ``t`` mapped into the kept mass,
  ``t' = Φ(a) + t·(Φ(b) − Φ(a))`` on the lower side and ``Φ(−b) + t·(…)`` on
  the upper side, ``z = ±Φ⁻¹(t')``: inverse-CDF sampling, no rejection, so
  each element stays a pure function of its index. An interval on one side
  of 0 (``[2, 3]``, ``[30, ∞)``) takes both halves from its outer tail, in
  log space (:func:`_one_sided`), so no probability rounds to 1 or underflows.

Blocks (``region=``) index the same counters, so any block equals the same
block of the whole draw. A draw of some other shape than the block (the
Gaussian matrix behind an orthogonal initializer) is indexed over its own
shape, which is only possible when the block is the whole array (see
:mod:`unit_init.sampling.region`).
"""

from __future__ import annotations

import fractions
import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final

import numpy as np

from unit_init.errors import ParameterError, SeedError, abbreviate
from unit_init.portable.blocks import Block, check_addressable
from unit_init.portable.ndtri import CENTRAL, Elementwise, central_ndtri, ndtri, quantile
from unit_init.portable.threefry import threefry2x32
from unit_init.portable.words import MASK, Words
from unit_init.spec.distributions import centred_cdf, normal_mass, normal_tail
from unit_init.threads import cpu_count, for_each

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["CHUNK_WORDS", "VERSION", "WORDS", "PortableStream", "chunk_size", "stream_key"]

VERSION: Final = "unit_init.portable.v3"
"""Part of every stream id; changing it changes every portable value (a breaking change)."""


def stream_key(seed: int, name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """The Threefry key of the stream ``(name, shape)`` under ``seed``, computed on the host.

    Examples
    --------
    >>> stream_key(0, "HeNormal", (3, 4)) != stream_key(1, "HeNormal", (3, 4))
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"rng='portable' needs an int seed or None, not {abbreviate(seed)}; native generators and keys belong to rng='native'."
        raise SeedError(msg)
    digest = hashlib.sha256(f"{VERSION}|{name}|{','.join(map(str, shape))}".encode()).digest()
    words = Words(np, "uint32", "cpu")  # NumPy's own namespace is an Array-API one
    key = (words.constant(seed >> 32), words.constant(seed & MASK))
    counter = (words.constant(int.from_bytes(digest[:4], "little")), words.constant(int.from_bytes(digest[4:8], "little")))
    x0, x1 = threefry2x32(words, key, counter)
    return int(x0), int(x1)


@dataclass(slots=True)
class PortableStream:
    """A portable stream on ``backend`` and ``device``: a key, the block of the global array being drawn, and a draw count.

    It implements :class:`unit_init.sampling.streams.Stream`: scaled draws
    are the standard ones scaled by ``backend.affine``.
    """

    key: tuple[int, int]
    block: Block
    backend: Backend
    device: Any
    draws: int = field(default=0)
    positional: ClassVar[bool] = True  # each value a function of its position: a block of the array is that block of the whole

    @classmethod
    def open(cls, seed: int, name: str, block: Block, backend: Backend, device: Any) -> PortableStream:
        check_addressable(block.shape)  # before the output is allocated
        return cls(stream_key(seed, name, block.shape), block, backend, device)

    def next_block(self, shape: tuple[int, ...]) -> tuple[Block, int]:
        """The counters of the next draw of ``shape`` values: its block and draw number."""
        if shape == self.block.block_shape:
            block = self.block
        elif self.block.is_whole:
            block = Block.whole(shape)
        else:
            msg = f"a draw of shape {shape} cannot be indexed inside the block {self.block.slices}; draw the whole array."
            raise ParameterError(msg)
        self.draws += 1
        return block, self.draws - 1

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        """``low + (high − low)·U`` with ``U ~ U[0, 1)`` bit-identical on every backend."""
        return _sample(self, "uniform", shape, dtype, scaling=(high - low, low))

    def normal(self, shape: tuple[int, ...], dtype: str, mean: float = 0.0, std: float = 1.0) -> Any:
        """``mean + std·Z`` with ``Z ~ N(0, 1)`` by the inverse CDF of the exact uniform."""
        return _sample(self, "normal", shape, dtype, scaling=(std, mean))

    def rounds_once(self, dtype: str) -> bool:
        """``False``: the portable stream computes in its work dtype, the same on every backend."""
        return False

    def truncated_normal(
        self, shape: tuple[int, ...], dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0
    ) -> Any:
        """``mean + std·Z``, ``Z ~ N(0, 1)`` conditioned on ``[low, high]`` by the inverse CDF on ``[Φ(low), Φ(high)]``."""
        check_resolved(float(low), float(high), dtype)
        return _sample(self, "truncated_normal", shape, dtype, (float(low), float(high)), (std, mean))


Kernel = Callable[..., Any]


def _unit(words: Words, ops: Elementwise, x0: Any, x1: Any, float_dtype: Any, double: bool) -> Any:
    """Uniform ``[0, 1)`` from the bits, exactly: 24 bits of one word (float32) or 53 bits of both (float64)."""
    if not double:
        unit = words.to_float(words.ishr(x0, 8), float_dtype)
        unit *= ops.number(2.0**-24, unit)  # in place where arrays are mutable
        return unit
    high = words.to_float(words.shr(x0, 5), float_dtype)
    return (high * 2.0**26 + words.to_float(words.shr(x1, 6), float_dtype)) * 2.0**-53


def _lower(words: Words, x0: Any, float_dtype: Any) -> Any:
    """The top bit of each word as a float, 1 on the lower side and 0 on the upper.

    It stays a float 0 or 1, so every use of it is an exact product or sum (a
    boolean mask would take a ``where``, several times slower on random masks
    in NumPy and torch).
    """
    return words.to_float(words.shr(x0, 31), float_dtype)


def _probability(words: Words, ops: Elementwise, x0: Any, x1: Any, float_dtype: Any, double: bool, scale: float = 1.0) -> Any:
    """``t·scale``, ``t = (m + ½)·2⁻²⁴`` in ``(0, ½)`` from the 23 bits of ``x0`` after the top one (float64: 52 bits of both words).

    ``(m + ½)`` and its product with a power of two are exact, so the one
    multiply by ``2⁻²⁴·scale`` (a float of the dtype times a power of two,
    still a normal float: ``scale`` is 1 or an interval's mass, at least 2⁻¹⁰¹
    in float32 and 2⁻⁹⁶⁸ in float64 by :func:`check_resolved`) rounds as ``t·scale`` would, one pass fewer. ``x0`` is overwritten where
    words are in place: read its top bit first.
    """
    if not double:
        t = words.to_float(words.ifield(x0, 8, 23), float_dtype)
        t += ops.number(0.5, t)
        t *= ops.number(2.0**-24 * scale, t)
        return t
    high = words.to_float(words.mask(x0, 31), float_dtype) * 2.0**21
    return (high + words.to_float(words.shr(x1, 11), float_dtype) + 0.5) * (2.0**-53 * scale)


def _one_sided(xp: Any, lower: Any, t: Any, low: float, high: float) -> Any:
    """A truncated normal on ``[low, high]`` not containing 0 inside, in log space (far tails such as ``[30, ∞)`` included).

    Mirrored to ``low >= 0`` if needed. ``s = t`` (lower half of the mass,
    ``lower`` 1) or ``1 − t`` (upper half); with ``Q = 1 − Φ``,
    ``m = Q(low) − Q(high)`` and ``Q(z) = Q(low)·(1 − s·m/Q(low))``, the
    factor ``1 − s·m/Q(low)`` formed from ``t`` (``(1 − m/Q(low)) + t·m/Q(low)``
    on the upper half, never ``log 0``),
    ``z = Φ⁻¹`` of it from ``Φ(z) − ½ = ½ − Q(low) + s·m`` and
    ``log Q(z) = log Q(low) + log(1 − s·m/Q(low))``
    (:func:`~unit_init.portable.ndtri.quantile`): no probability near 1, none
    that underflows.
    """
    if high <= 0:
        return -_one_sided(xp, lower, t, -high, -low)
    tail_low, mass, start = normal_tail(low), normal_mass(low, high), centred_cdf(low)  # start = ½ − Q(low), accurately
    s = (1.0 - lower) + (2.0 * lower - 1.0) * t  # t, or 1 − t rounded once
    centered = s * mass + start
    ratio = mass / tail_low
    # 1 − s·ratio from t itself: 1 − t·ratio on the lower side, (1 − ratio) + t·ratio on the upper one, where 1 − t
    # rounds to 1 for the smallest t (2⁻²⁵ in float32) and 1 − ratio is 0 for an unbounded interval: log 0, a NaN
    # once in 2²⁴ values
    factor = (1.0 - lower) * (1.0 - ratio) + lower + (1.0 - 2.0 * lower) * (t * ratio)
    log_tail = xp.log(factor) + math.log(tail_low)
    return quantile(xp, centered, log_tail, span=(start, start + mass), smallest=normal_tail(high))


RESOLVED_MASS: Final = {"float32": 2.0**-101, "float64": 2.0**-968}
"""The least mass of an interval across 0 the portable stream draws in each work dtype (:func:`check_resolved`)."""


@functools.lru_cache(maxsize=256)
def check_resolved(low: float, high: float, dtype: str) -> None:
    """:class:`ParameterError` for an interval across 0 too narrow for the portable stream's probabilities in ``dtype``.

    An interval across 0 keeping little mass lies inside AS 241's central
    range, and is drawn as ``Φ⁻¹(½ + q)`` with ``q = (Φ(low) − ½) + t·kept``,
    ``kept = Φ(high) − Φ(low)``, formed around 0 in ``dtype`` (float32 for
    float16 and bfloat16), ``t = (m + ½)·2⁻²⁴`` (2⁻⁵³ in float64): its values
    take 2²³ levels a side (2⁵²) while ``t·kept`` is a normal float, that is
    for ``kept`` of at least :data:`RESOLVED_MASS` (about ±5e-31 std in
    float32). An interval of less mass is refused, naming ``rng="native"``,
    which draws it at full resolution. Intervals on one side of 0 are drawn in
    log space and need no check.
    """
    if not low < 0 < high:
        return
    if normal_mass(low, high) < RESOLVED_MASS["float64" if dtype == "float64" else "float32"]:
        msg = (
            f"rng='portable' cannot resolve a truncated normal on [{low:.3g}, {high:.3g}] std in {dtype}: its mass "
            f"is below the {dtype if dtype == 'float64' else 'float32'} probabilities' resolution; use rng='native' (or a wider interval)."
        )
        raise ParameterError(msg)


WORDS: Final = {"uniform": 6, "normal": 13, "truncated_normal": 13}
"""Work-dtype values a portable draw of each kind holds per value while it runs, besides its output: a uniform's
Threefry words and their floats; any other's words, probabilities and ``Φ⁻¹``'s terms. Measured on NumPy: a uniform
2.5 (float32) and 4–5 (float64), a normal 7.7 and 7.6–9.6, a truncated normal on one side of 0 11.8 and 11.6."""

CHUNK_WORDS: Final = 13 * 2**18
"""Mutable backends (NumPy, torch) fill large blocks chunk by chunk, each chunk's temporaries (:data:`WORDS` a
value) about this many work-dtype values, so the ~110 word ops per counter run in cache and each op's dispatch is
paid once per chunk; NumPy's chunks are filled in parallel. A normal's chunk is 2¹⁸ values, a uniform's 567,978.
Measured round-robin at 2048², best of 12 in each of three processes: NumPy's normal is fastest at 2¹⁸ values
(27.7–28.4 ms against 28.2–29.3 at 2¹⁹ and 35.5–36.1 at 2²⁰), its uniform at 2¹⁹ (13.7–14.2 ms against 15.7–16.2
at 2¹⁸); torch's uniform gains from larger chunks too."""


def chunk_size(kind: str) -> int:
    """Values a chunk of a portable draw of ``kind`` holds on a mutable backend: :data:`CHUNK_WORDS` in its temporaries."""
    return CHUNK_WORDS // WORDS[kind]


@functools.lru_cache(maxsize=256)
def _below_median(low: float, high: float, dtype: str) -> bool:
    """Whether every probability ``t·kept + Φ(low or −high)`` of a truncated normal on ``[low, high]`` is at most ½ in ``dtype``.

    ``t < ½`` is the largest half-mass value (:func:`_probability`); the sum is
    checked rounded twice (product, then sum: NumPy and torch) and exactly
    (a fused multiply-add rounds the exact value once), so :func:`ndtri`
    may take every probability from its lower half on every backend. True
    for symmetric bounds, whose halves meet at ½.
    """
    import numpy as np  # a scalar type that rounds as the arrays do

    word = np.float64 if dtype == "float64" else np.float32
    bits = 52 if dtype == "float64" else 23
    largest_t = fractions.Fraction(2 * (1 << bits) - 1, 1 << (bits + 2))  # (2^bits − ½) · 2^−(bits+1)
    kept = word(normal_tail(-high) - normal_tail(-low))  # Φ(high) − Φ(low), Φ(x) = Q(−x)
    for start in (word(normal_tail(-low)), word(normal_tail(high))):  # Φ(low), Φ(−high)
        rounded_twice = word(word(largest_t) * kept) + start
        exact = largest_t * fractions.Fraction(float(kept)) + fractions.Fraction(float(start))
        if rounded_twice > 0.5 or exact > fractions.Fraction(1, 2):
            return False
    return True


def _paired(block: Block) -> tuple[Block, int]:
    """The block of float32 counters covering ``block``, and the offset of ``block``'s first element in their words.

    Element ``j`` of the last axis (of length ``n``) of row ``r`` takes word
    ``j mod 2`` of counter ``r · ⌈n/2⌉ + ⌊j/2⌋``: the counters form an array of
    shape ``(…, ⌈n/2⌉)``, and a block of it covers any block of elements. A
    rank-0 array is one row of one element.
    """
    shape, start, stop = block.shape or (1,), block.start or (0,), block.stop or (1,)
    pairs = Block(
        (*shape[:-1], (shape[-1] + 1) // 2), (*start[:-1], start[-1] // 2), (*stop[:-1], (stop[-1] + 1) // 2)
    )
    return pairs, start[-1] % 2


def _kernel(backend: Backend, kind: str, block: Block, dtype: str, device: Any, bounds: tuple[float, float]) -> Kernel:
    """``(k0, k1, draw, *start) -> values`` for blocks of ``block``'s shape (its start is an argument).

    float64 takes both words of counter ``(i, draw)`` for element ``i``
    (global flat index); float32 takes one word each, two elements per counter
    (:func:`_paired`), so it hashes half as many counters.
    """
    native = backend.dtype_on(dtype, device)
    double = dtype == "float64"
    low, high = bounds
    across = kind == "truncated_normal" and low < 0 < high
    # Φ(low), Φ(−high) and the mass between (a normal: none, all of it), once per kernel
    below, above, kept = (normal_tail(-low), normal_tail(high), normal_tail(-high) - normal_tail(-low)) if across else (0.0, 0.0, 1.0)
    # an interval inside AS 241's central range (|low|, |high| ≤ 1.44) takes q = p − ½ formed around 0 from Φ(low) − ½
    # and Φ(−high) − ½: its values near 0 keep their own resolution (p next to ½ steps by 2⁻²⁵ in float32)
    central = across and centred_cdf(low) >= -CENTRAL and centred_cdf(high) <= CENTRAL
    if central:  # the mass too without the cancellation of Φ(high) − Φ(low) next to ½
        below, above, kept = centred_cdf(low), -centred_cdf(high), normal_mass(low, high)
    # every probability t' ≤ ½, so Φ⁻¹(t') ≤ 0: the lower side's value, negated on the upper side
    lower_half = kind == "normal" or (across and _below_median(low, high, dtype))
    check_addressable(block.shape)

    def kernel(k0: Any, k1: Any, draw: Any, *start: Any) -> Any:
        xp = backend.xp
        words = Words(xp, backend.word_dtype, device, inplace=backend.mutable, shift_in=backend.shift_in)
        if double:  # flat: elementwise from here, no op meets a rank the framework lacks (TensorFlow's where: 8 axes)
            index = xp.reshape(block.flat_index(words, start), (math.prod(block.block_shape),))  # rank 0: one counter
            x0, x1 = threefry2x32(words, (k0, k1), (index, draw))
            return xp.reshape(_values(words, x0, x1), block.block_shape)
        pairs, offset = _paired(block)
        first = start[-1] if start else words.constant(0)
        counter = pairs.flat_index(words, (*start[:-1], words.shr(first, 1)))
        both = xp.stack(threefry2x32(words, (k0, k1), (counter, draw)), axis=-1)
        # values of whole counter rows first, cut last: every kernel computes them alike (XLA fuses the same way)
        words_row = xp.reshape(both, (*pairs.block_shape[:-1], 2 * pairs.block_shape[-1]))
        rows = _values(words, words_row, words_row)
        width = block.block_shape[-1] if block.shape else 1
        matrix = xp.reshape(rows, (math.prod(pairs.block_shape[:-1]), 2 * pairs.block_shape[-1]))  # TensorFlow slices rank <= 8
        return xp.reshape(matrix[:, offset : offset + width], block.block_shape)

    def _values(words: Words, x0: Any, x1: Any) -> Any:
        ops = Elementwise(backend.xp, backend.mutable)
        if kind == "uniform":
            return _unit(words, ops, x0, x1, native, double)
        if kind == "truncated_normal" and not across:
            side = _lower(words, x0, native)  # before _probability overwrites x0
            return _one_sided(backend.xp, side, _probability(words, ops, x0, x1, native, double), low, high)
        # before _probability overwrites x0: the side's sign, as the int32 word itself where words are signed and
        # Φ⁻¹ is negative (one pass, then one copysign), else the top bit as a 0/1 float (1: the lower side),
        # which each side's own offset needs too
        signs = words.to_float(x0, native) if words.signed and lower_half else None
        lower: Any = _lower(words, x0, native) if signs is None or below != above else None
        t = _probability(words, ops, x0, x1, native, double, kept)
        smallest = 2.0 ** (-54 if double else -25)
        if across:
            # Φ(low) on the lower side, Φ(−high) on the upper (less ½ where central): exact; one number for symmetric bounds
            t += ops.number(below, t) if below == above else below * lower + above * (1.0 - lower)
            smallest = min(below, above) + smallest * kept
        if central:
            z = central_ndtri(backend.xp, t, overwrite=backend.mutable)
        else:
            z = ndtri(backend.xp, t, smallest=smallest, lower_half=lower_half, overwrite=backend.mutable)
        if signs is not None:  # negative exactly on the lower side, where z keeps its sign
            return backend.xp.copysign(z, signs, out=z) if backend.mutable else backend.xp.copysign(z, signs)
        side = lower  # ±1 (2·lower − 1, exact): Φ⁻¹(t') on the lower side, −Φ⁻¹(t') on the upper; not read again
        side *= ops.number(2.0, side)
        side -= ops.number(1.0, side)
        z *= side
        return z

    return kernel


@functools.lru_cache(maxsize=256)
def _compiled(backend: Backend, kind: str, block: Block, dtype: str, device: Any, bounds: tuple[float, float]) -> Kernel:
    """The kernel compiled by the backend where it compiles (JAX), cached so repeated calls never retrace.

    ``block`` is normalized to start at 0 (but for the parity of its last
    axis' start, which decides how float32 counters are paired): blocks of one
    shape share at most two kernels. The backend is told the whole draw's
    size, so every block of a draw is computed alike (TensorFlow: by XLA
    or by eager ops).
    """
    return backend.compiled(_kernel(backend, kind, block, dtype, device, bounds), device, math.prod(block.shape))


def _sample(
    stream: PortableStream, kind: str, shape: tuple[int, ...], dtype: str, bounds: tuple[float, float] = (0.0, 0.0),
    scaling: tuple[float, float] = (1.0, 0.0),
) -> Any:
    """The next draw of ``kind`` (``"uniform"``, ``"normal"``, ``"truncated_normal"`` on ``bounds``) from ``stream``,
    scaled by ``backend.affine`` with ``scaling = (scale, shift)`` (a mutable backend's chunk by chunk, while it is in cache)."""
    backend, device = stream.backend, stream.device
    block, number = stream.next_block(tuple(shape))
    with backend.placement(device):
        if not backend.mutable:
            words = Words(backend.xp, backend.word_dtype, device)
            parity = block.start[-1] % 2 if block.shape else 0
            origin = (0,) * (len(block.shape) - 1) + (parity,) if block.shape else ()
            shaped = Block(block.shape, origin, tuple(a + n for a, n in zip(origin, block.block_shape, strict=True)))
            compiled = _compiled(backend, kind, shaped, dtype, device, bounds)
            return _scaled(backend, compiled(*(words.constant(v) for v in (*stream.key, number, *block.start))), scaling)
        out = backend.xp.empty(block.block_shape, dtype=backend.dtype_on(dtype, device), device=device)
        _fill(out, backend, device, kind, block, number, stream.key, dtype, bounds, scaling)
        return out


def _scaled(backend: Backend, values: Any, scaling: tuple[float, float]) -> Any:
    """``backend.affine(values, *scaling)``, or ``values`` as they are for ``(1, 0)``."""
    return values if scaling == (1.0, 0.0) else backend.affine(values, *scaling)


def _fill(
    out: Any, backend: Backend, device: Any, kind: str, block: Block, number: int, key: tuple[int, int], dtype: str,
    bounds: tuple[float, float], scaling: tuple[float, float],
) -> None:
    """Fill a mutable backend's ``out`` chunk by chunk with its own ops, each chunk scaled before it is written; on
    several threads where the backend declares ``threaded_fill``.

    The chunks are pure functions of their counters, so the values do not
    depend on how many threads compute them. torch's kernels are already
    multi-threaded (OpenMP): its chunks run one after the other (measured:
    filled from two Python threads, a 2048² normal took 140–147 ms, against
    95–103 ms one chunk at a time).
    """
    words = Words(backend.xp, backend.word_dtype, device)
    arguments = [words.constant(v) for v in (*key, number)]

    def fill(chunk: tuple[Block, tuple[slice, ...]]) -> None:
        part, inside = chunk
        values = _kernel(backend, kind, part, dtype, device, bounds)(*arguments, *map(words.constant, part.start))
        out[inside] = _scaled(backend, values, scaling)

    for_each(block.chunks(chunk_size(kind)), fill, cpu_count() if backend.threaded_fill else 1)
