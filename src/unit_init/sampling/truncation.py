"""Truncated normals from a native stream: the method comes from one table keyed by the backend's capability.

``mean + std·Z`` with ``Z`` the standard normal conditioned on ``[low, high]``
(bounds in units of ``std``; either may be infinite; any interval whose
law float64 holds, :func:`~unit_init.spec.distributions.keeps_mass`). Every method samples the conditioned law — none
clamps raw draws:

========================  ===================================  ===============================================
``Backend.truncation``    finite bounds on either side of 0    every other interval
========================  ===================================  ===============================================
``"inverse_cdf"``         :func:`by_inverse_cdf` (``erfinv``)  :func:`by_quantile` (log-space inverse CDF)
(TensorFlow)              where :func:`erf_resolves` them
``"inverse_cdf_or_``      :func:`by_inverse_cdf` where         :func:`by_quantile`
``rejection"`` (torch)    :func:`erf_resolves` them, else
                          :func:`by_rejection` when the
                          interval keeps ≥ 25 % of the mass
``"native"`` (JAX)        the backend's ``truncated_normal``   :func:`by_quantile`
                          where :func:`erf_resolves` them
``"rejection"`` (NumPy,   :func:`by_rejection` when the        :func:`by_quantile`
plugins: the default)     interval keeps ≥ 25 % of the mass
``"host"`` (Array-API     the host backend's row of this table, drawn on the host and moved once
namespaces)
========================  ===================================  ===============================================

Both bounds infinite is a plain normal draw on every backend. The portable
stream samples its own way (:mod:`unit_init.portable.stream`): by the inverse
CDF of its exact uniforms, the same on every backend.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from unit_init.dtypes import grid_bounds, largest_below, largest_finite, work_dtype
from unit_init.errors import BackendError, DTypeError
from unit_init.portable.ndtri import quantile
from unit_init.spec.distributions import NORMAL_REACH, centred_cdf, normal_mass, normal_tail, scaled_interval

if TYPE_CHECKING:
    from unit_init.backends.base import Backend
    from unit_init.sampling.streams import GeneratorStream
    from unit_init.spec.distributions import TruncatedGaussian

__all__ = [
    "METHODS",
    "MIN_REDRAW_MASS",
    "OVERSAMPLE_MAX",
    "QUANTILE_CHUNK",
    "Method",
    "by_inverse_cdf",
    "by_quantile",
    "by_quantiles",
    "by_rejection",
    "erf_resolves",
    "inverts",
    "method",
    "outside",
    "past_resolution",
    "redraw_rejected",
    "redraws",
    "rejects_outside_grid",
    "straddles_zero",
    "truncated_normal",
    "widest_work",
]

QUANTILE_CHUNK: Final = 1 << 16
"""Values :func:`by_quantile` transforms at a time on a mutable backend (its temporaries stay in the CPU cache)."""
OVERSAMPLE_MAX: Final = 1 << 16
"""Truncated draws up to this many elements take one oversampled draw instead of a re-draw loop."""
MIN_REDRAW_MASS: Final = 0.25
"""Re-drawing rejected values is used only for intervals keeping at least this much of the normal's mass."""
MAX_REDRAW_ROUNDS: Final = 320
"""Re-draw rounds after which a rejection draw stops: a value is kept with probability at least
:data:`MIN_REDRAW_MASS` a round, so 2⁶³ values are all kept within 320 rounds but with probability below 10⁻¹⁹
(2⁶³·0.75³²⁰); more rounds mean a generator that gives the same values again, or values that are not normal (a
plugin backend's bug), which would otherwise loop for ever."""
ERF_CELLS: Final = 16
"""Grid steps (of the uniform's dtype, next to ±1) each tail beyond an ``erf`` method's bounds must hold."""
ERF_MIN_STEPS: Final = 1 << 16
"""Grid steps (of the uniform's dtype, next to ±1) the interval ``[erf(low/√2), erf(high/√2)]`` must span for an ``erf`` method."""
_CENTRAL: Final = 0.425
"""``|Φ(z) − ½|`` up to which ``Φ⁻¹`` needs no tail probability (AS 241's central range)."""
_SMALLEST_TAIL: Final = 2.0**-126
"""Tail probabilities are kept at or above float32's smallest normal number (``Φ⁻¹`` of it is −13.1)."""

Shape = tuple[int, ...]


def straddles_zero(low: float, high: float) -> bool:
    """Finite bounds on either side of 0: ``erf`` resolves both, so ``erfinv`` and re-drawing serve."""
    return -math.inf < low < 0 < high < math.inf


@functools.lru_cache(maxsize=1024)
def erf_resolves(low: float, high: float, dtype: str) -> bool:
    """Whether the ``erf`` methods (:func:`by_inverse_cdf`, JAX's own) serve ``[low, high]`` drawn in ``dtype``.

    They draw ``u`` in ``dtype`` between ``erf(low/√2)`` and ``erf(high/√2)``
    and return ``√2·erfinv(u)``; next to ±1 the grid of ``u`` steps by
    ``2⁻²⁴`` (float32). Where a bound's tail ``erfc(|b|/√2)`` holds only a
    few steps, ``u`` rounds to ±1, whose ``erfinv`` is infinite and lands on
    the bound, and the tail is cut at the grid's last step (measured on [−10, 2]
    in float32: 4 to 7 of 2²⁶ values at the bound −10 on torch, TensorFlow
    and JAX, where 0.07 fall below −6). So they serve finite bounds on either
    side of 0 whose tails each hold :data:`ERF_CELLS` steps (``|b| <= 4.9`` in
    float32, ``7.9`` in float64); :func:`by_quantile` the rest (cached: every draw asks).

    The interval itself must also span :data:`ERF_MIN_STEPS` steps of that
    grid: a narrower one (``[−1e-6, 1e-6]`` in float32) would be drawn from a
    few dozen values of ``u`` where ``erfinv`` is computed through ``(1 + u)/2``
    (TensorFlow: 271 of 20,000 values landed on the bound), and
    :func:`by_quantile` draws it at full resolution.

    Examples
    --------
    >>> erf_resolves(-2.0, 2.0, "float32"), erf_resolves(-10.0, 2.0, "float32"), erf_resolves(-7.5, 2.0, "float64")
    (True, False, True)
    >>> erf_resolves(-1e-6, 1e-6, "float32"), erf_resolves(-1e-6, 1e-6, "float64")
    (False, True)
    """
    spacing = 1.0 - largest_below(1.0, dtype)
    return (
        straddles_zero(low, high)
        and 2 * normal_tail(max(-low, high)) >= ERF_CELLS * spacing
        and 2 * normal_mass(low, high) >= ERF_MIN_STEPS * spacing
    )


def past_resolution(low: float, high: float, dtype: str) -> bool:
    """Whether neither tail of ``[low, high]`` (across 0, in units of std) holds :data:`ERF_CELLS` steps of ``dtype``'s
    grid next to ±1, infinite bounds included (``|b| > 4.9`` in float32, ``7.9`` in float64): a normal draw falls
    outside about once in 10⁶ values (float32) or never, so drawing the normal and re-drawing what falls outside costs
    one normal draw, whatever the method :func:`erf_resolves` would pick.

    Examples
    --------
    >>> past_resolution(-100.0, 100.0, "float32"), past_resolution(-math.inf, 10.0, "float32"), past_resolution(-2.0, 100.0, "float32")
    (True, True, False)
    >>> past_resolution(-6.0, 6.0, "float32"), past_resolution(-6.0, 6.0, "float64")
    (True, False)
    """
    spacing = 1.0 - largest_below(1.0, dtype)
    return low < 0 < high and 2 * normal_tail(min(-low, high)) < ERF_CELLS * spacing


Method = Callable[["GeneratorStream", Shape], Any]
"""A truncated normal's draw, decided for one dtype, interval, mean and std: ``(stream, shape) -> mean + std·Z``."""


def truncated_normal(stream: GeneratorStream, shape: Shape, dtype: str, low: float, high: float, mean: float, std: float) -> Any:
    """``mean + std·Z`` drawn by the method :data:`METHODS` gives ``stream.backend.truncation`` (:func:`method`).

    Examples
    --------
    >>> from unit_init.backends.registry import get_backend
    >>> from unit_init.sampling.native import NativeStream
    >>> numpy = get_backend("numpy")
    >>> z = NativeStream(numpy, numpy.generator(0, "cpu"), "cpu").truncated_normal((1000,), "float64", -2.0, 2.0)
    >>> bool(abs(z).max() <= 2.0)
    True
    """
    return method(stream.backend.truncation, dtype, low, high, mean, std)(stream, shape)


@functools.lru_cache(maxsize=1024)
def method(truncation: str, dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    """The draw of ``mean + std·Z`` on ``[low, high]`` in ``dtype`` by a backend of this ``truncation`` capability:
    its row of :data:`METHODS`, with every constant of the interval computed here, once (cached; a plan keeps its own).
    """
    return METHODS[truncation](dtype, low, high, mean, std)


def _standard(dtype: str, low: float, high: float, across: Callable[..., Any]) -> Method:
    """``Z`` on ``[low, high]``: a normal draw for ``(−∞, ∞)``, else ``across(...)`` (the callers pass :func:`by_quantile`
    for any interval that does not cross 0 with both tails resolved: :func:`erf_resolves`)."""
    if low == -math.inf and high == math.inf:
        return lambda stream, shape: stream.normal(shape, dtype)
    return lambda stream, shape: across(stream, shape, dtype, low, high)


def _scaled(standard: Method, mean: float, std: float) -> Method:
    """``mean + std·Z``, ``Z`` drawn by ``standard`` and scaled by the backend's ``affine`` (in place where it can)."""
    return lambda stream, shape: stream.backend.affine(standard(stream, shape), std, mean)


def _inverse_cdf(dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    if erf_resolves(low, high, dtype):
        return by_inverse_cdf(dtype, low, high, mean, std)
    return _scaled(_standard(dtype, low, high, by_quantile), mean, std)


def _native(dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    def framework(stream: GeneratorStream, shape: Shape, dtype: str, low: float, high: float) -> Any:
        return stream.backend.truncated_normal(stream.generator, shape, low, high, dtype, stream.device)

    return _scaled(_standard(dtype, low, high, framework if erf_resolves(low, high, dtype) else by_quantile), mean, std)


def _rejection(dtype: str, low: float, high: float, mean: float, std: float, *, oversample: bool = True) -> Method:
    if _redraws(low, high):
        return by_rejection(dtype, low, high, mean, std, oversample=oversample)
    return _scaled(_standard(dtype, low, high, by_quantile), mean, std)


def _inverse_cdf_or_rejection(dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    """:func:`by_inverse_cdf` where ``erf`` resolves the interval, else the ``"rejection"`` row, never oversampling.

    The intervals ``erf`` leaves to this row are mostly wide ones whose tails
    hold almost nothing: ``trunc_normal_(std=0.02)``'s ``[−2, 2]`` is ±100 σ,
    where a re-draw costs about 1.1 normal draws and :func:`by_quantile`
    (float64, a few dozen full-size passes) about 40 on torch's CPU. It
    re-draws in place at every size (no oversampled draw): then no value
    outside means one ``normal_(mean, std)`` of the tensor, the very call
    torch 2.13's ``trunc_normal_`` makes there (the same values, the
    generator left where torch leaves it).
    """
    if erf_resolves(low, high, dtype):
        return by_inverse_cdf(dtype, low, high, mean, std)
    return _rejection(dtype, low, high, mean, std, oversample=False)  # torch's masked indexing costs more than the re-draw


def _redraws(low: float, high: float) -> bool:
    """Whether the ``"rejection"`` row re-draws ``[low, high]``: finite bounds across 0 keeping :data:`MIN_REDRAW_MASS`."""
    return straddles_zero(low, high) and _mass(low, high) >= MIN_REDRAW_MASS


def redraws(truncation: str, dtype: str, low: float, high: float) -> bool:
    """Whether the method of this ``truncation`` capability draws ``[low, high]`` in ``dtype`` (the work dtype) by
    re-drawing rejected values (:func:`by_rejection`)."""
    if truncation == "inverse_cdf_or_rejection":
        return _redraws(low, high) and not erf_resolves(low, high, dtype)
    return truncation == "rejection" and _redraws(low, high)


def by_quantiles(truncation: str, dtype: str, low: float, high: float) -> bool:
    """Whether the method of this ``truncation`` capability draws ``[low, high]`` in ``dtype`` (the work dtype) by
    :func:`by_quantile`: an interval on one side of 0, or across it where neither ``erfinv`` (:func:`erf_resolves`)
    nor a re-draw (:data:`MIN_REDRAW_MASS`) serves, as ``[−0.1, 0.1]``. ``"host"`` is its host's ``"rejection"`` row.

    Examples
    --------
    >>> by_quantiles("rejection", "float32", -0.1, 0.1), by_quantiles("rejection", "float32", -2.0, 2.0)
    (True, False)
    >>> by_quantiles("inverse_cdf", "float32", 2.0, 3.0), by_quantiles("inverse_cdf", "float32", -0.1, 0.1)
    (True, False)
    """
    if low == -math.inf and high == math.inf:
        return False
    if truncation in ("inverse_cdf", "native"):
        return not erf_resolves(low, high, dtype)
    if truncation == "inverse_cdf_or_rejection":
        return not erf_resolves(low, high, dtype) and not _redraws(low, high)
    return not _redraws(low, high)


def inverts(truncation: str, dtype: str, low: float, high: float) -> bool:
    """Whether the method of this ``truncation`` capability draws ``[low, high]`` in ``dtype`` (the work dtype) by
    ``erfinv`` (:func:`by_inverse_cdf`): a uniform draw transformed where it lies, nothing beside it on a backend
    whose arrays are mutable."""
    return truncation in ("inverse_cdf", "inverse_cdf_or_rejection") and erf_resolves(low, high, dtype)


def rejects_outside_grid(backend: Backend, law: TruncatedGaussian, dtype: str) -> bool:
    """Whether ``backend``'s native draw of ``law`` in ``dtype`` keeps only values inside its support's grid bounds.

    True where it re-draws (:func:`redraws`, :func:`by_rejection`) scaled
    values (:func:`_scaled_bounds`) in ``dtype`` itself (float32, float64):
    every kept value lies in the bounds the sampling entry would clip to, so
    it does not clip.
    """
    return (
        work_dtype(dtype) == dtype
        and redraws(backend.truncation, dtype, law.low, law.high)
        and _scaled_bounds(law.low, law.high, law.mean, law.std, dtype) is not None
    )


@functools.lru_cache(maxsize=1024)
def _scaled_bounds(low: float, high: float, mean: float, std: float, dtype: str) -> tuple[float, float] | None:
    """The grid bounds of the support ``[mean + low·std, mean + high·std]`` (:func:`~unit_init.spec.distributions.scaled_interval`)
    in ``dtype``, where scaled candidates stay finite; else ``None`` (cached).

    A re-drawn candidate may lie far outside the bounds: scaled, it must not
    overflow (``|mean| + std·NORMAL_REACH`` within the finite range), or it
    is rejected in units of ``std`` and scaled after.
    """
    if abs(mean) + std * NORMAL_REACH > largest_finite(dtype):
        return None
    return grid_bounds(scaled_interval(mean, std, low, high), False, dtype)


def _host(dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    """``mean + std·Z`` drawn on the host backend (``backend.host``) by its own row of the table, moved to the device
    once: the host backend's very values (re-drawn where it re-draws on the scaled grid)."""

    def draw(stream: GeneratorStream, shape: Shape) -> Any:
        backend: Any = stream.backend  # an Array-API backend: its ``host`` backend and ``on_device`` transfer
        native: Any = type(stream)  # the native stream class, here without importing it
        host = native(backend.host, stream.generator, "cpu")
        return backend.on_device(lambda: truncated_normal(host, shape, dtype, low, high, mean, std), dtype, stream.device)

    return draw


METHODS: Final[dict[str, Callable[[str, float, float, float, float], Method]]] = {
    "inverse_cdf": _inverse_cdf,
    "inverse_cdf_or_rejection": _inverse_cdf_or_rejection,
    "native": _native,
    "rejection": _rejection,
    "host": _host,
}
"""The truncation method of each backend capability (``Backend.truncation``), as a function of
``(dtype, low, high, mean, std)`` giving the draw (:data:`Method`); see the module docstring's table."""


def by_inverse_cdf(dtype: str, low: float, high: float, mean: float, std: float) -> Method:
    """Inverse-CDF sampling by ``erfinv``: ``mean + std·√2·erfinv(u)`` with ``u ~ U[erf(low/√2), erf(high/√2))``.

    For finite bounds on either side of 0 whose tails ``erf`` resolves
    (:func:`erf_resolves`). The same law as re-drawing the rejected
    values, with no mask, no ``nonzero`` (so no host synchronization on
    an accelerator) and no loop (so it compiles into one graph); with a
    vectorized ``erfinv`` it costs about one normal draw. Values may
    overshoot the bounds by rounding (the sampling entry confines them).
    The ``erf`` bounds and the scale are computed here, once per interval.
    """
    root2 = math.sqrt(2.0)
    start, stop, scale = math.erf(low / root2), math.erf(high / root2), root2 * std

    def draw(stream: GeneratorStream, shape: Shape) -> Any:
        backend = stream.backend
        uniform = backend.uniform_to_transform(stream.generator, shape, start, stop, dtype, stream.device)
        return backend.affine(backend.erfinv(uniform), scale, mean)

    return draw


def by_quantile(stream: GeneratorStream, shape: Shape, dtype: str, low: float, high: float) -> Any:
    """Inverse-CDF sampling of ``Z`` on any interval float64 holds, accurate in the far tails.

    The interval is flipped, if needed, so that its centre is ``>= 0``
    (``Z → −Z``). With ``Q(x) = P(Z > x)``, ``m = Q(low) − Q(high)`` and
    ``u ~ U[0, 1)``, the value is ``Φ⁻¹(p)`` with ``p = Φ(low) + u·m``,
    computed by :func:`unit_init.portable.ndtri.quantile` from two forms
    of ``p``, each accurate where it is used:

    * ``p − ½ = (Φ(low) − ½) + u·m`` near the centre;
    * the tail probability by its logarithm: for ``low >= 0``,
      ``log Q(z) = log Q(low) + log(1 − u·m/Q(low))``, with ``log Q(low)``
      computed once in float64 — no underflow however far the tail
      (``[30, ∞)``: ``Q ≈ 5e-198``); for an interval across 0, ``log p``
      on the lower side and ``log(Q(high) + (1 − u)·m)`` on the upper one.

    Every term is finite for ``u ∈ [0, 1)`` (``1 − u·m/Q(low) >= 2⁻²⁴``;
    the tail probability across 0 is kept ``>= 2⁻¹²⁶``), so infinite
    bounds give finite values. The ranges of ``Φ⁻¹`` the interval cannot
    reach are not computed (``[0, 0.01]`` needs only the central one).

    On a mutable backend a draw of more than :data:`QUANTILE_CHUNK` values
    is transformed chunk by chunk, in place in its uniforms, so each chunk's
    few dozen temporaries stay in the CPU cache (torch, 4096² on ``[0, ∞)``:
    0.3 s against 1.4 s for whole-array passes); every operation is
    elementwise, so the values are those of one pass over the whole array.
    """
    if low + high < 0:
        return stream.backend.affine(by_quantile(stream, shape, dtype, -high, -low), -1.0, 0.0)  # in place where the backend can: NumPy's unary minus makes a 0-d array a scalar
    backend = stream.backend
    u = stream.uniform(shape, widest_work(backend, dtype, stream.device))
    transform, size = _quantile_of_uniform(backend, low, high), math.prod(shape)
    flat = backend.xp.reshape(u, (size,))  # elementwise: flat, so no op meets a rank the framework lacks (TensorFlow's where: 8)
    if not backend.mutable or size <= QUANTILE_CHUNK:
        return backend.xp.reshape(transform(flat), shape)
    for start in range(0, size, QUANTILE_CHUNK):
        chunk = slice(start, start + QUANTILE_CHUNK)
        flat[chunk] = transform(flat[chunk])
    return backend.xp.reshape(flat, shape)  # whether or not the backend's reshape made a view


def _quantile_of_uniform(backend: Backend, low: float, high: float) -> Callable[[Any], Any]:
    """``u ↦ Φ⁻¹(Φ(low) + u·m)`` for ``low + high >= 0``, its constants computed once (:func:`by_quantile`)."""
    mass, tail_low, below, above = normal_mass(low, high), normal_tail(low), normal_tail(-low), normal_tail(high)  # m, Q(low), Φ(low), Q(high)
    start = centred_cdf(low)  # Φ(low) − ½, accurate however near 0 (an interval of 1e-17 std keeps its place)
    span = (start, start + mass)
    xp = backend.xp

    def transform(u: Any) -> Any:
        centered, log_tail = u * mass + start, None
        if span[1] > _CENTRAL:  # some values in the tail ranges of Φ⁻¹
            if low >= 0:
                log_tail = xp.log(1.0 - u * (mass / tail_low)) + math.log(tail_low)
            else:
                sides = xp.where(centered < 0, u * mass + below, (1.0 - u) * mass + above)
                log_tail = xp.log(backend.clip(sides, _SMALLEST_TAIL, 1.0))
        return quantile(xp, centered, log_tail, span=span, smallest=min(below, above))

    return transform


def widest_work(backend: Backend, dtype: str, device: Any) -> str:
    """float64 where ``device`` holds it, else ``dtype``: the dtype :func:`by_quantile` computes in (and the complex
    samplers' ``log1p``, ``cos`` and ``sin`` for the portable stream).

    In float32 its log-space quantile is off by an ulp or two in the tails
    (measured with 4·10⁶ draws on [8, 9]: none at 8 and at its third grid
    value, 34–86 at the two between, where 15.5 and 31 are due; on
    [−30, −29], 4× the due count at −29), which the final cast to float32
    does not: computed in float64, the values land on float32's grid as the
    law puts them. Only the intervals this method serves (one-sided, far
    or narrow ones) pay for it. A backend whose float64 comes and goes
    (JAX's ``jax_enable_x64``) keeps ``dtype``, so its values do not depend
    on the switch.
    """
    if dtype == "float64" or backend.switchable_float64:
        return dtype
    try:
        backend.dtype_on("float64", device)
    except DTypeError:
        return dtype
    return "float64"


def by_rejection(dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0, *, oversample: bool = True) -> Method:
    """``mean + std·Z`` on ``[low, high]`` (in units of ``std``) by re-drawing rejected values, never clamping.

    For intervals across 0 keeping at least :data:`MIN_REDRAW_MASS` of the
    mass. Values are drawn scaled and kept where they lie within the
    support's grid bounds in ``dtype`` (:func:`~unit_init.dtypes.grid_bounds`
    of ``[mean + low·std, mean + high·std]``), so a kept value never lies
    outside by rounding and needs no clip. Backends with mutable arrays
    (``mutable = True``) draw small arrays (up to :data:`OVERSAMPLE_MAX`
    elements; unless ``oversample`` is false) in one oversampled draw whose
    first accepted values are kept — a handful of operations, where a
    re-draw would cost several more on NumPy — and large ones by re-drawing
    only the rejected elements, in place
    (:func:`redraw_rejected`: about 1.05 normal draws for ±2σ, no extra
    memory). Others replace rejected values with ``where`` from fresh
    full-size draws. The bounds are computed here, once per interval.
    """
    bounds = _scaled_bounds(low, high, mean, std, dtype)
    if bounds is None:  # rejected in units of std (bounds beyond the finite range are met by every value), scaled after
        top = largest_finite(dtype)
        return _scaled(by_rejection(dtype, max(low, -top), min(high, top), oversample=oversample), mean, std)
    first, last = bounds

    def draw(stream: GeneratorStream, shape: Shape) -> Any:
        xp = stream.backend.xp
        size = math.prod(shape)
        if not stream.backend.holds_values(stream.device):  # torch's "meta": nothing to test or re-draw
            return stream.normal(shape, dtype, mean, std)
        if oversample and stream.backend.mutable and size <= OVERSAMPLE_MAX:
            candidates = stream.normal((_oversampled(size, low, high),), dtype, mean, std)
            kept = candidates[_inside(candidates, first, last)]
            if kept.shape[0] >= size:  # rarely short (< 1e-9 for ±2σ); then re-drawn below
                return kept[:size].reshape(shape)  # a mutable backend's method: np.reshape's dispatch costs ~0.8 µs
        x = stream.normal(shape, dtype, mean, std)
        if stream.backend.mutable:
            redraw_rejected(stream.backend, xp.reshape(x, (-1,)), low, high, first, last, lambda n: stream.normal((n,), dtype, mean, std))
            return x
        for _ in range(MAX_REDRAW_ROUNDS):
            rejected = outside(x, first, last)
            if not bool(xp.any(rejected)):
                return x
            x = xp.where(rejected, stream.normal(shape, dtype, mean, std), x)
        raise _not_redrawn(stream.backend.name, low, high)

    return draw


def outside(x: Any, low: float, high: float) -> Any:
    """The mask of values outside ``[low, high]``, for whole draws: two comparisons, never ``abs(x) > high``, whose
    float temporary is four times a mask's bytes (on NumPy's 2¹⁸-value blocks it came as fresh pages every time: a
    4096² truncated normal took 128–131 ms on two threads that way, 94–102 ms this way; the same mask)."""
    return (x < low) | (x > high)


def _inside(x: Any, low: float, high: float) -> Any:
    """The mask of values inside ``[low, high]``, for the few candidates of an oversampled draw: one comparison for
    symmetric bounds (0.7 µs less than two at 64², where the temporary is small)."""
    return abs(x) <= high if low == -high else (x >= low) & (x <= high)


_mass: Final = functools.lru_cache(maxsize=256)(normal_mass)
"""``normal_mass``, cached: every small rejection draw asks for the mass of the same few intervals."""


@functools.lru_cache(maxsize=1024)
def _oversampled(wanted: int, low: float, high: float) -> int:
    """How many normal draws hold ``wanted`` values inside ``[low, high]`` (short with probability < 1e-9 for ±2σ)."""
    rejected_share = 1 - _mass(low, high)
    expected = wanted * rejected_share / (1 - rejected_share)
    return wanted + int(expected + 7 * math.sqrt(expected / (1 - rejected_share)) + 16)


def redraw_rejected(backend: Backend, flat: Any, low: float, high: float, first: float, last: float, draw: Callable[[int], Any]) -> None:
    """Re-draw, in place, the elements of the 1-D array ``flat`` of ``backend`` outside ``[first, last]``; ``draw(n)``
    gives n fresh values.

    ``[first, last]`` are the values ``[low, high]`` (in units of std) keep,
    which size the over-sampling.

    Only the rejected elements are drawn again (4.55 % of them for ±2σ), from
    one oversampled draw whose accepted values replace them in order (a
    second round is needed with probability < 1e-9 for ±2σ), so the cost is about
    1.05 normal draws plus one pass to find the rejected (:func:`outside`).
    """
    rejected = backend.xp.nonzero(outside(flat, first, last))[0]
    for _ in range(MAX_REDRAW_ROUNDS):
        if not rejected.shape[0]:
            return
        wanted = int(rejected.shape[0])
        candidates = draw(_oversampled(wanted, low, high))
        fresh = candidates[_inside(candidates, first, last)][:wanted]
        flat[rejected[: fresh.shape[0]]] = fresh
        rejected = rejected[fresh.shape[0] :]
    raise _not_redrawn(backend.name, low, high)


def _not_redrawn(backend: str, low: float, high: float) -> BackendError:
    return BackendError(
        f"backend {backend!r}: {MAX_REDRAW_ROUNDS} rounds of re-drawing the normal values outside [{low:g}, {high:g}] std left some "
        "outside, which happens with probability below 1e-19: its normal() gives the same values again (a generator "
        "that does not advance) or values that are not normal."
    )
