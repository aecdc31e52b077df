"""The one entry from a law to an array: work dtype, sampler, confinement to the output grid, single cast.

:func:`sample` draws from a backend's native generator: a large i.i.d. draw
block by block (:mod:`unit_init.sampling.blocks`), else compiled into one
kernel where the backend compiles (:meth:`Backend.compile_sampler`: JAX,
TensorFlow), else op by op. Each way runs the law's sampler over a
:class:`NativeStream` and confines its values with bounds planned once per
call (:func:`native_confinement`, :func:`confine`'s policy); :func:`sample_from`
applies :func:`confine` to any other stream, the portable one included, so
every value goes through the same policy.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from unit_init.backends.base import Backend, quietly
from unit_init.dtypes import grid_bounds, is_float, largest_below, smallest_normal, work_dtype
from unit_init.sampling import blocks, truncation
from unit_init.sampling.laws import Draw, check_integer_dtype, dispatch, scaling, truncated_gaussian
from unit_init.sampling.native import NativeStream
from unit_init.sampling.streams import Stream
from unit_init.spec._checks import hashable
from unit_init.spec.distributions import TruncatedGaussian, Uniform

if TYPE_CHECKING:
    from unit_init.spec.distributions import Distribution

__all__ = ["confine", "confinement", "native_confinement", "planned", "sample", "sample_from"]


def sample(backend: Backend, law: Distribution, shape: tuple[int, ...], dtype: str, device: Any, generator: Any) -> Any:
    """``law`` drawn for ``shape`` in ``dtype`` on ``device`` from the backend's native ``generator`` (``None`` for a deterministic law).

    Examples
    --------
    >>> from unit_init.backends.registry import get_backend
    >>> from unit_init.spec.distributions import Uniform
    >>> numpy = get_backend("numpy")
    >>> x = sample(numpy, Uniform(-1.0, 1.0), (2, 3), "bfloat16", "cpu", numpy.generator(0, "cpu"))
    >>> x.shape, str(x.dtype), bool((x < 1).all())
    ((2, 3), 'bfloat16', True)
    """
    return planned(backend, law, shape, dtype, device)(generator)


def planned(backend: Backend, law: Distribution, shape: tuple[int, ...], dtype: str, device: Any) -> Callable[[Any], Any]:
    """:func:`sample` as a function of the generator alone, everything that depends only on these arguments decided once.

    A large i.i.d. draw is filled block by block (:mod:`unit_init.sampling.blocks`)
    where the backend gives block streams; a random law on a backend that
    compiles runs its compiled sampler (one per generator type,
    :meth:`Backend.compile_sampler`); everything else runs op by op through
    the law's sampler, the confinement bounds looked up here, not per call.
    A request caches the result with its plan (:mod:`unit_init.request`), so a
    warm call is the generator, this function and the backend's kernels.
    """
    if not is_float(dtype):
        check_integer_dtype(law, dtype)
    bounds = native_confinement(backend, law, dtype, device)  # first: a support no value of dtype lies in is named by dtype
    sampled = _native_sampler(backend, law, shape, dtype, device)
    blocked = law.iid and math.prod(shape) >= blocks.PARALLEL_MIN
    compiling = law.random and backend.compiles and hashable((backend, law, shape, dtype, device))
    compiled_for: dict[type, Callable[[Any], Any] | None] = {}

    def op_by_op(generator: Any) -> Any:
        values = sampled(generator)
        return _clipped_and_cast(backend, values, bounds, dtype) if law.random else values

    if not blocked and not compiling:
        return _quietly_where_needed(backend, law, dtype, op_by_op)

    def run(generator: Any) -> Any:
        if blocked:
            streams = backend.block_streams(generator, blocks.block_count(math.prod(shape)), device)
            if streams is not None:
                return _by_block(backend, law, shape, dtype, device, streams, bounds)
        if compiling:
            kind = type(generator)
            if kind not in compiled_for:
                compiled_for[kind] = _compiled(backend, law, shape, dtype, device, kind)  # type: ignore[arg-type]  # hashable() checked the rest; a type is hashable
            compiled = compiled_for[kind]
            if compiled is not None:  # None: a sampler that cannot be compiled (eager control flow) runs op by op
                return compiled(generator)
        return op_by_op(generator)

    return _quietly_where_needed(backend, law, dtype, run)


def _quietly_where_needed(backend: Backend, law: Distribution, dtype: str, draw: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``draw`` run inside ``backend.quiet_underflow`` (:func:`~unit_init.backends.base.quietly`), unless no value or
    intermediate of it can be subnormal.

    That is so where the draw's only multiplication scales the generator's
    ``U[0, 1)`` or ``N(0, 1)`` by a factor ``s ≥ 2⁶⁴·tiny`` (``tiny``: the
    dtype's smallest normal number), in the dtype itself (float32, float64:
    no narrowing cast): a uniform, a normal, a re-drawn truncated normal
    (:func:`~unit_init.sampling.laws.scaling`,
    :func:`~unit_init.sampling.truncation.redraws`: comparisons and masks compute nothing). The backends that
    quiet draw from NumPy's generators, whose values are 0 or at least 2⁻⁶⁴
    in magnitude (a uniform's are multiples of 2⁻²⁴ or 2⁻⁵³, the ziggurat
    normal's whole multiples of layer widths near 2⁻²⁵ or 2⁻⁵⁴), so the
    product is 0 or at least ``tiny``; a sum whose result is subnormal is
    exact (both terms are multiples of the smallest subnormal), and exact
    results signal nothing; comparisons, masks and clips compute nothing.
    Entering NumPy's ``errstate`` costs ~1.6 µs, a seventh of what a 64²
    draw costs over its native call.
    """
    if backend.quiet_underflow() is None:
        return draw
    scale = None
    if work_dtype(dtype) == dtype:
        if isinstance(law, TruncatedGaussian):
            scale = law.std if dispatch(law) is truncated_gaussian and truncation.redraws(backend.truncation, dtype, law.low, law.high) else None
        else:
            scale = scaling(law)
    if scale is not None and scale >= smallest_normal(dtype) * 2.0**64:
        return draw
    return lambda generator: quietly(backend, draw, generator)


def _native_sampler(backend: Backend, law: Distribution, shape: tuple[int, ...], dtype: str, device: Any) -> Callable[[Any], Any]:
    """``generator -> values`` (work dtype, not yet confined): ``law``'s sampler over a :class:`NativeStream` of the generator.

    A truncated normal's method is taken from the truncation table here, once
    (:func:`~unit_init.sampling.truncation.method`), not on every draw: its
    built-in sampler (:func:`~unit_init.sampling.laws.truncated_gaussian`)
    would only ask the stream, which asks the table. A sampler registered in
    its place is run as it is.
    """
    work, sampler = work_dtype(dtype), dispatch(law)
    if sampler is truncated_gaussian and isinstance(law, TruncatedGaussian):
        truncated = truncation.method(backend.truncation, work, law.low, law.high, law.mean, law.std)
        return lambda generator: truncated(NativeStream(backend, generator, device), shape)
    return lambda generator: sampler(law, Draw(backend, shape, dtype, work, device, NativeStream(backend, generator, device)))


def sample_from(stream: Stream, law: Distribution, shape: tuple[int, ...], dtype: str) -> Any:
    """``law`` drawn for ``shape`` from ``stream``: its sampler in the work dtype, then :func:`confine` (random laws only)."""
    values = _sampled(stream, law, shape, dtype)
    return confine(stream.backend, values, law, dtype) if law.random else values


def _sampled(stream: Stream, law: Distribution, shape: tuple[int, ...], dtype: str) -> Any:
    """``law``'s sampler run for ``shape`` on ``stream``: a random law's values in the work dtype, not yet confined."""
    return dispatch(law)(law, Draw(stream.backend, shape, dtype, work_dtype(dtype), stream.device, stream))


def confine(backend: Backend, values: Any, law: Distribution, dtype: str) -> Any:
    """``values`` (work dtype) clipped to ``law``'s support on ``dtype``'s grid, then cast once to ``dtype``.

    The bounds are values of ``dtype`` (so also exact in the wider work
    dtype), and rounding is monotonic, so every value inside them stays
    inside after the cast: a uniform never returns its upper bound (the
    largest grid value below it), a truncated normal never leaves its bounds,
    also in bfloat16. A law without a support (``None``: the complex laws
    among others), one over the whole line, or a single point (which the cast
    rounds) is only cast, and so are complex values (a support is an interval
    of the real line). A uniform scaled from ``U[0, 1)`` by the backend's
    :meth:`~unit_init.backends.base.Backend.affine` (the portable stream's
    way) whose extremes provably stay inside the bounds is not clipped
    (:func:`_affine_extremes`).
    """
    bounds = confinement(law, dtype)
    if bounds is not None and type(law) is Uniform:
        bounds = _unless_inside(bounds, _affine_extremes(backend, law.low, law.high, dtype))
    return _clipped_and_cast(backend, values, bounds, dtype)


def _clipped_and_cast(backend: Backend, values: Any, bounds: tuple[float, float] | None, dtype: str) -> Any:
    """``values`` clipped to ``bounds`` (none: not clipped), then cast once to ``dtype``: the end of every random draw."""
    return backend.cast(values if bounds is None else backend.clip(values, *bounds), dtype)


def confinement(law: Distribution, dtype: str) -> tuple[float, float] | None:
    """The bounds :func:`confine` clips ``law``'s values to in ``dtype`` (``None``: only cast): :func:`~unit_init.dtypes.grid_bounds` of its support."""
    support = law.support
    return (grid_bounds if type(support) is tuple else grid_bounds.__wrapped__)(support, law.upper_open, dtype)


def native_confinement(backend: Backend, law: Distribution, dtype: str, device: Any) -> tuple[float, float] | None:
    """:func:`confinement` for a draw from ``backend``'s native generator on ``device``: ``None`` also where its sampler keeps only values inside.

    A truncated normal re-drawn by rejection keeps the values that lie inside
    the bounds after scaling, in the output dtype itself
    (:func:`~unit_init.sampling.truncation.rejects_outside_grid`); a uniform
    whose draw provably stays inside the bounds (:func:`_native_extremes`)
    needs no clip either: clipping them would change nothing. The bounds are
    still computed, so a dtype with no value inside the support is refused
    before any work.
    """
    if not law.random:
        return None
    bounds = confinement(law, dtype)
    if isinstance(law, TruncatedGaussian) and truncation.rejects_outside_grid(backend, law, dtype):
        return None
    if bounds is not None and type(law) is Uniform:
        return _unless_inside(bounds, _native_extremes(backend, law.low, law.high, dtype, device))
    return bounds


def _unless_inside(bounds: tuple[float, float], extremes: tuple[float, float] | None) -> tuple[float, float] | None:
    """``bounds``, or ``None`` (no clip) where the draw's least and greatest values ``extremes`` are known and lie inside them."""
    if extremes is not None and bounds[0] <= extremes[0] and extremes[1] <= bounds[1]:
        return None
    return bounds


def _native_extremes(backend: Backend, low: float, high: float, dtype: str, device: Any) -> tuple[float, float] | None:
    """The least and greatest values of ``backend``'s native ``U[low, high)`` in ``dtype``'s work dtype on ``device``; ``None``: not known.

    A backend's own one-kernel :meth:`~unit_init.backends.base.Backend.uniform_between`
    says what its kernel returns (:meth:`~unit_init.backends.base.Backend.uniform_extremes`);
    the generic one is ``affine`` of ``uniform`` (:func:`_affine_extremes`).
    """
    own = backend.uniform_extremes(low, high, work_dtype(dtype), device)
    if own is None and type(backend).uniform_between is Backend.uniform_between:
        return _affine_extremes(backend, low, high, dtype)
    return own


@functools.lru_cache(maxsize=1024)
def _affine_extremes(backend: Backend, low: float, high: float, dtype: str) -> tuple[float, float] | None:
    """The least and greatest of ``low + (high − low)·U`` over the work dtype's ``U ∈ [0, u⁺]`` scaled by ``backend.affine`` (cached);
    ``None`` unless the backend declares ``rounded_affine``.

    ``u⁺`` is the work dtype's largest value below 1 (NumPy's and the
    portable stream's 24 or 53 random bits reach it). With
    ``Backend.rounded_affine`` the scaling is ``fl(fl(U·s) + low)``, each
    rounding monotone, so the values lie in ``[f(0), f(u⁺)]``: the backend's
    own :meth:`~Backend.affine` is run on those two.
    """
    if not backend.rounded_affine:
        return None
    work = work_dtype(dtype)
    ends = backend.xp.asarray([0.0, largest_below(1.0, work)], dtype=backend.native_dtype(work))
    if not (low == 0.0 and high == 1.0):  # the streams' own condition for scaling
        ends = backend.affine(ends, high - low, low)
    first, last = (float(end) for end in backend.to_numpy(ends))
    return first, last


def _by_block(
    backend: Backend, law: Distribution, shape: tuple[int, ...], dtype: str, device: Any, streams: list[Any], bounds: tuple[float, float] | None
) -> Any:
    """Block ``i`` of the flat result is the i.i.d. ``law`` sampled from ``streams[i]`` and clipped to the plan's ``bounds``, written in place, blocks filled in parallel."""
    size = math.prod(shape)
    out = backend.xp.empty((size,), dtype=backend.dtype_on(dtype, device), device=device)

    def fill(index: int, block: slice) -> None:
        values = _sampled(NativeStream(backend, streams[index], device), law, (block.stop - block.start,), dtype)
        out[block] = _clipped_and_cast(backend, values, bounds, dtype)

    blocks.for_each_block(size, fill, blocks.cpu_count())
    return backend.xp.reshape(out, shape)


@functools.lru_cache(maxsize=512)
def _compiled(
    backend: Backend, law: Distribution, shape: tuple[int, ...], dtype: str, device: Any, kind: type
) -> Callable[[Any], Any] | None:
    """The backend's compiled ``generator -> values`` for this random draw (cached: traced once), or ``None``."""
    bounds = native_confinement(backend, law, dtype, device)

    def run(generator: Any) -> Any:
        return _clipped_and_cast(backend, _sampled(NativeStream(backend, generator, device), law, shape, dtype), bounds, dtype)

    return backend.compile_sampler(run, kind, device, size=math.prod(shape))

