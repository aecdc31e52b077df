"""Truncated normals on any interval with positive mass, on every backend: narrow, one-sided, far in a tail.

Each cell draws 2**16 values with a fixed seed and checks them against
scipy.stats.truncnorm (mean, variance, full support, one-sample KS; see
tests/stats.py). The last tests show the check has power: samplers that are
wrong in the ways a tail sampler goes wrong (erf of both bounds rounding to 1,
clamping, a slightly wrong scale) fail it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.special
import scipy.stats

import unit_init as ui
from stats import check_sample
from targets import DATA_TARGETS, load
from unit_init import distributions as d
from unit_init import request
from unit_init.backends.registry import get_backend
from unit_init.dtypes import largest_below
from unit_init.sampling import entry, truncation
from unit_init.sampling.laws import SAMPLERS
from unit_init.sampling.native import NativeStream

N = 1 << 16
# (low, high) in units of std: narrow, one-sided, far tail, lower tail, torch's own test [2, 3], across 0, very far
INTERVALS = [
    (0.0, 0.01), (3.0, math.inf), (6.0, 7.0), (-math.inf, -5.0), (2.0, 3.0), (-0.001, 0.002), (30.0, math.inf), (-31.0, -30.0),
    (37.4, math.inf),  # the farthest a mass float64 holds in full
]


def _ids(interval: tuple[float, float]) -> str:
    return f"[{interval[0]},{interval[1]}]"


@pytest.mark.parametrize("interval", INTERVALS, ids=_ids)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_every_interval_has_the_truncated_law(target_id: str, dtype: str, interval: tuple[float, float]) -> None:
    target = load(target_id)
    if dtype == "float64" and target.backend == "jax":
        pytest.skip("JAX's 64-bit mode is off in this process (float64 would be refused)")
    low, high = interval
    spec = ui.BoundedNormal(mean=0.5, stddev=2.0, minval=0.5 + 2.0 * low, maxval=0.5 + 2.0 * high, seed=7)
    values = target.values(target.draw(spec, (N,), dtype=dtype))
    assert np.isfinite(values).all()
    check_sample(values, d.TruncatedGaussian(0.5, 2.0, low, high), dtype)


@pytest.mark.parametrize("interval", INTERVALS, ids=_ids)
def test_portable_stream_draws_every_interval_alike_on_every_backend(interval: tuple[float, float]) -> None:
    low, high = interval
    spec = ui.BoundedNormal(minval=low, maxval=high, seed=11)
    reference = np.asarray(spec((N,), rng="portable"), dtype=np.float64)
    check_sample(reference, d.TruncatedGaussian(0.0, 1.0, low, high))
    for target_id in DATA_TARGETS[1:]:
        try:
            target = load(target_id)
        except pytest.skip.Exception:
            continue
        values = target.values(target.draw(spec, (N,), rng="portable"))
        # 16 float32 ulp, or the float32 resolution of Φ near ½ (intervals across 0 map t linearly onto it)
        np.testing.assert_allclose(values, reference, rtol=2.0**-20, atol=2.0**-22, err_msg=target_id)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_far_tail_values_stay_inside_the_bounds_without_piling_on_them(dtype: str) -> None:
    x = ui.BoundedNormal(minval=6.0, maxval=7.0)((N,), dtype=dtype, seed=3)
    values = np.asarray(x, dtype=np.float64)
    assert values.min() >= 6.0
    assert values.max() <= 7.0
    # the density at 6 is 6× the mean density: a bound holds about 6 · (grid step at 6) of the mass, no more
    step = {"float16": 2.0**-8, "bfloat16": 2.0**-5, "float32": 2.0**-21, "float64": 2.0**-50}[dtype]
    assert (values == 6.0).mean() <= 8 * step + 5 / math.sqrt(N) * math.sqrt(8 * step)
    assert (values == 7.0).mean() <= 8 * step


GRID_POINTS = 16


def _grid_counts(values: np.ndarray, bound: float, inward: float, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts of ``values`` on the GRID_POINTS float32 values from ``bound`` inward, and the truncated law's due counts."""
    points = [np.float32(bound)]
    for _ in range(GRID_POINTS - 1):
        points.append(np.nextafter(points[-1], np.float32(inward)))
    grid = np.array(points, dtype=np.float64)
    below = np.nextafter(np.float32(grid), np.float32(-np.inf)).astype(np.float64)
    above = np.nextafter(np.float32(grid), np.float32(np.inf)).astype(np.float64)
    cells = np.clip(np.stack([(grid + below) / 2, (grid + above) / 2]), low, high)  # the values that round to each point
    law = scipy.stats.truncnorm(low, high)
    due = len(values) * (law.cdf(cells[1]) - law.cdf(cells[0]))
    return np.array([(values == p).sum() for p in grid], dtype=np.float64), due


@pytest.mark.parametrize(("low", "high", "bound"), [(-30.0, -29.0, -29.0), (8.0, 9.0, 8.0)])
@pytest.mark.parametrize("target_id", [t for t in DATA_TARGETS if not t.startswith("jax")])
def test_float32_tail_values_fall_on_the_grid_as_the_law_puts_them(target_id: str, low: float, high: float, bound: float) -> None:
    """The tail quantile is computed in float64 where the device holds it: in float32 it was off by an ulp or two, so
    the float32 grid next to a bound held 4x the due count at -29, and none at 8 (chi-square over 16 grid points).

    JAX computes in float32 (its values may not depend on jax_enable_x64) and is left out (docs/backends/jax.md).
    """
    target = load(target_id)
    values = target.values(target.draw(ui.BoundedNormal(0.0, 1.0, low, high, seed=7), (1 << 21,), dtype="float32"))
    counts, due = _grid_counts(values, bound, low if bound == high else high, low, high)
    assert due.min() > 5  # enough per point for the chi-square
    statistic = float((((counts - due) ** 2) / due).sum())
    assert scipy.stats.chi2.sf(statistic, GRID_POINTS) > 1e-4, (counts.tolist(), due.round(1).tolist())


def test_moments_are_finite_for_one_sided_and_far_intervals() -> None:
    for low, high in [(30.0, math.inf), (-math.inf, -5.0), (6.0, 7.0), (-math.inf, math.inf), (37.4, math.inf), (-37.6, -37.4)]:
        mean, variance = d.truncated_standard_normal_moments(low, high)
        reference = scipy.stats.truncnorm(low, high)
        assert mean == pytest.approx(reference.mean(), rel=1e-9)
        assert variance == pytest.approx(reference.var(), rel=1e-6)


def test_mass_is_computed_on_the_intervals_side() -> None:
    assert d.normal_mass(6.0, 7.0) == pytest.approx(scipy.stats.norm.sf(6) - scipy.stats.norm.sf(7), rel=1e-13)
    assert d.normal_mass(-7.0, -6.0) == d.normal_mass(6.0, 7.0)
    assert d.normal_mass(37.0, math.inf) > 0
    assert d.normal_mass(40.0, 41.0) == 0


@pytest.mark.parametrize(
    ("minval", "maxval"),
    [(40.0, 41.0), (-math.inf, -40.0), (2.0, 1.0), (1.0, 1.0), (math.nan, 1.0), (math.inf, math.inf), (38.4, math.inf), (-math.inf, -37.7)],
)
def test_empty_or_massless_intervals_are_parameter_errors(minval: float, maxval: float) -> None:
    """Also where float64 holds the mass and the density only as subnormals (37.6 to 38.5 std): the moments came out negative
    (variance −0.035 at 38.2) and a JAX or TensorFlow draw raised a bare ``ValueError``; 4 % of the values lay on
    the bound (hostile-input campaign)."""
    with pytest.raises(ui.ParameterError, match=r"minval|mass"):
        ui.BoundedNormal(minval=minval, maxval=maxval)
    if minval < maxval:
        with pytest.raises(ui.ParameterError, match="no float64 mass"):
            ui.TruncatedNormal(stddev=1.0, lower=minval, upper=maxval)


def test_both_bounds_infinite_is_the_normal() -> None:
    x = ui.BoundedNormal(minval=-math.inf, maxval=math.inf)((N,), seed=0)
    check_sample(np.asarray(x), d.Normal(0.0, 1.0))


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_plan_takes_the_tables_method_once_and_a_sampler_registered_instead_is_run(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A native plan keeps its truncated normal's method (the same values as asking the table per draw); a sampler
    registered in place of the built-in one for the law is still the one that runs."""
    pytest.importorskip(backend)
    law = d.TruncatedGaussian(0.0, 0.5, -2.0, 2.0)
    target = get_backend(backend)

    def by_stream(seed: int) -> np.ndarray:
        stream = NativeStream(target, target.generator(seed, "cpu"), target.resolve_device(None))
        return np.asarray(entry.confine(target, stream.truncated_normal((37, 3), "float32", -2.0, 2.0, 0.0, 0.5), law, "float32"))

    planned = entry.planned(target, law, (37, 3), "float32", target.resolve_device(None))
    np.testing.assert_array_equal(np.asarray(planned(target.generator(5, "cpu"))), by_stream(5))
    monkeypatch.setitem(SAMPLERS, d.TruncatedGaussian, lambda law, draw: draw.backend.full(draw.shape, 0.25, draw.work, draw.device))
    replaced = entry.planned(target, law, (37, 3), "float32", target.resolve_device(None))
    assert (np.asarray(replaced(target.generator(5, "cpu"))) == 0.25).all()


class _GridEnds(NativeStream):
    """A native stream whose uniform draws are the two ends of their grid: ``low`` and the value of ``dtype`` below ``high``."""

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        return self.backend.xp.stack([self.backend.full((), value, dtype, self.device) for value in (low, largest_below(high, dtype))])


@pytest.mark.parametrize("interval", [(0.0, math.inf), (1.0, 3.0), (-3.0, -1.0), (-1e-6, 2e-6)], ids=_ids)
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_quantile_values_do_not_depend_on_its_chunks(backend: str, interval: tuple[float, float], monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutable backend transforms a large draw's uniforms chunk by chunk (in the CPU cache: 4× faster on torch);
    the values are those of one pass over the whole array, chunk edges included (3 chunks and a part)."""
    spec = ui.BoundedNormal(0.0, 1.0, *interval)
    shape = (3 * truncation.QUANTILE_CHUNK + 1000,)
    chunked = get_backend(backend).to_numpy(spec(shape, backend=backend, seed=9))
    monkeypatch.setattr(truncation, "QUANTILE_CHUNK", 1 << 40)
    whole = get_backend(backend).to_numpy(spec(shape, backend=backend, seed=9))
    np.testing.assert_array_equal(chunked, whole)


FAR_ACROSS = [(-10.0, 2.0), (-2.0, 10.0), (-40.0, 40.0), (-8.5, 0.5)]  # across 0, a bound where erf(b/√2) is ±1 in float64


@pytest.mark.parametrize("interval", FAR_ACROSS, ids=_ids)
@pytest.mark.parametrize("target_id", ["torch:cpu", "tensorflow:cpu"])
def test_erfinv_methods_leave_a_far_bound_to_the_quantile(target_id: str, interval: tuple[float, float]) -> None:
    """The extreme uniforms map inside the interval, never onto a far bound (``erfinv(±1) = ±inf`` clamped there).

    With ``erf(−10/√2)`` equal to −1 in float64, ``u`` at the grid's lower end gave −inf: 4 to 7 of 2²⁶
    float32 draws on [−10, 2] sat at −10 on torch, TensorFlow and JAX, where 0.07 fall below −6.
    """
    target = load(target_id)
    backend = get_backend(target.backend)
    low, high = interval
    stream = _GridEnds(backend, None, backend.resolve_device(target.device))
    z = target.values(truncation.truncated_normal(stream, (2,), "float32", low, high, 0.0, 1.0))
    assert np.isfinite(z).all(), z
    assert (z >= low).all(), z
    assert (z <= high).all(), z
    far = low if -low > high else high
    assert (z != far).all(), f"{z} sits on the far bound {far}"


@pytest.mark.parametrize("interval", FAR_ACROSS, ids=_ids)
def test_jax_native_truncation_serves_only_bounds_its_erf_resolves(interval: tuple[float, float], monkeypatch: pytest.MonkeyPatch) -> None:
    """JAX's own truncated_normal is the same erf method: a far bound goes to the quantile method instead."""
    load("jax:cpu")
    jax_backend = get_backend("jax")
    calls: list[tuple[float, float]] = []
    native = jax_backend.truncated_normal

    def recorded(generator: Any, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any) -> Any:
        calls.append((low, high))
        return native(generator, shape, low, high, dtype, device)

    monkeypatch.setattr(jax_backend, "truncated_normal", recorded)
    request._plan_cached.cache_clear()  # plans and compiled samplers made before the patch would not call it
    entry._compiled.cache_clear()
    low, high = interval
    ui.BoundedNormal(minval=-2.0, maxval=2.0)((64,), backend="jax", seed=0)
    assert calls == [(-2.0, 2.0)]
    values = np.asarray(ui.BoundedNormal(minval=low, maxval=high)((N,), backend="jax", seed=0), dtype=np.float64)
    assert calls == [(-2.0, 2.0)], "JAX's erf method drew an interval whose far bound it cannot resolve"
    check_sample(values, d.TruncatedGaussian(0.0, 1.0, low, high))


# --- the check has power: broken tail samplers fail it -----------------------------------------------------


def _erf_sampler(low: float, high: float, u: np.ndarray) -> np.ndarray:
    """The textbook inverse CDF by erf, in float32: in a far tail erf(low/√2) and erf(high/√2) both round to 1."""
    root2 = np.float32(math.sqrt(2.0))
    lo, hi = np.float32(math.erf(low / math.sqrt(2))), np.float32(math.erf(high / math.sqrt(2)))
    x = root2 * scipy.special.erfinv(lo + u.astype(np.float32) * (hi - lo))
    return np.clip(np.nan_to_num(x, posinf=high, neginf=low), low, high)


def _clamped_sampler(low: float, high: float, u: np.ndarray) -> np.ndarray:
    """Clamping raw normal draws onto the bounds."""
    return np.clip(scipy.stats.norm.ppf(u), low, high)


def _scaled_sampler(low: float, high: float, u: np.ndarray) -> np.ndarray:
    """The right method with a 5 % wrong scale."""
    return 1.05 * scipy.stats.truncnorm(low / 1.05, high / 1.05).ppf(u)


BROKEN = [
    (_erf_sampler, (6.0, 7.0)),
    (_erf_sampler, (4.5, 5.0)),
    (_clamped_sampler, (2.0, 3.0)),
    (_clamped_sampler, (3.0, math.inf)),
    (_clamped_sampler, (6.0, 7.0)),
    (_scaled_sampler, (2.0, 3.0)),
    (_scaled_sampler, (3.0, math.inf)),
    (_scaled_sampler, (6.0, 7.0)),
]


@pytest.mark.parametrize(("sampler", "interval"), BROKEN, ids=[f"{s.__name__}-{_ids(i)}" for s, i in BROKEN])
def test_the_check_rejects_broken_tail_samplers(sampler: Callable[..., np.ndarray], interval: tuple[float, float]) -> None:
    u = np.random.default_rng(0).random(N)
    low, high = interval
    with pytest.raises(AssertionError):
        check_sample(sampler(low, high, u), d.TruncatedGaussian(0.0, 1.0, low, high))


@pytest.mark.parametrize("size", [4096, 1 << 20], ids=["oversampled", "redrawn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rejection_keeps_scaled_values_inside_the_grid_bounds_without_a_clip(dtype: str, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """NumPy re-draws values outside the support's grid bounds after scaling: every value lies inside, and none was clipped there."""
    clipped: list[object] = []
    numpy = get_backend("numpy")
    monkeypatch.setattr(type(numpy), "clip", lambda self, x, low, high: clipped.append((low, high)) or x.clip(low, high, out=x))
    for mean, std, low, high in [(0.0, 0.0371, -2.0, 2.0), (0.3, 1.7, -1.0, 2.5), (-5.0, 1e-3, -3.0, 1.5)]:
        law = d.TruncatedGaussian(mean, std, low, high)
        first, last = entry.confinement(law, dtype)
        assert entry.native_confinement(numpy, law, dtype, "cpu") is None
        x = ui.TruncatedNormal(mean=mean, stddev=std, lower=low, upper=high)((size,), seed=11, dtype=dtype, backend="numpy")
        assert x.dtype == np.dtype(dtype)
        assert first <= x.min()
        assert x.max() <= last
    assert clipped == []
    bfloat16 = d.TruncatedGaussian(0.0, 0.0371, -2.0, 2.0)
    assert entry.native_confinement(numpy, bfloat16, "bfloat16", "cpu") == entry.confinement(bfloat16, "bfloat16")  # drawn in float32: clipped


# Intervals tiny in units of std: the law is uniform on them to within float64 (the density varies by e^(-|m|·w) ≤ 1e-12
# across them), so a KS test against the uniform sees a pile-up at a bound or a lost end (both found by a hostile campaign:
# stddev=1e20 on [500, 7000] put half the values on 7000; [-1e-15, 1e-15] piled 5 % on its top).
NARROW = [  # (mean, stddev, minval, maxval, dtype)
    (0.0, 1e20, 500.0, 7000.0, "float32"),
    (0.0, 1e16, 1.0, 3.0, "float64"),
    (0.0, 1.0, -1e-6, 1e-6, "float32"),
    (0.0, 1.0, -1e-15, 1e-15, "float64"),
    (0.0, 1.0, 0.0, 1e-15, "float64"),
]


@pytest.mark.parametrize("case", NARROW, ids=lambda case: f"std={case[1]:g}[{case[2]:g},{case[3]:g}]{case[4]}")
@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_intervals_tiny_in_std_units_are_uniform_without_pile_up(target_id: str, case: tuple[float, float, float, float, str]) -> None:
    mean, std, low, high, dtype = case
    target = load(target_id)
    if dtype == "float64" and target.backend == "jax":
        pytest.skip("JAX's 64-bit mode is off in this process (float64 would be refused)")
    spec = ui.BoundedNormal(mean=mean, stddev=std, minval=low, maxval=high, seed=5)
    for rng in ("native", "portable"):  # the portable stream forms such an interval across 0 around 0 (it refused it)
        values = target.values(target.draw(spec, (N,), dtype=dtype, rng=rng))
        assert values.min() >= low, rng
        assert values.max() <= high, rng
        statistic = scipy.stats.kstest(values, scipy.stats.uniform(low, high - low).cdf).statistic
        assert statistic <= scipy.stats.kstwo.isf(1e-6, N), f"{rng}: KS statistic {statistic:.4f} against U[{low}, {high}]"
        # the variance, (high − low)²/12, to 5 standard errors of its estimate (√(0.8/N) = 0.35 %): a 3 % error fails
        assert abs(values.var() / ((high - low) ** 2 / 12) - 1) <= 5 * math.sqrt(0.8 / N), f"{rng}: variance {values.var():.6g}"


def test_moments_of_narrow_intervals_are_those_of_the_uniform() -> None:
    for low, high in [(-1e-6, 1e-6), (1.0, 1.0 + 1e-9), (-1e-10, 1e-10), (5e-18, 7e-17), (30.0, 30.0 + 1e-6)]:
        mean, variance = d.truncated_standard_normal_moments(low, high)
        assert low <= mean <= high
        assert variance == pytest.approx((high - low) ** 2 / 12, rel=1e-4), (low, high)
    for low, high in [(-0.5, 0.5), (0.0, 1.0), (3.0, 4.0), (-2.0, -1.5)]:  # where quadrature serves, it agrees with scipy
        reference = scipy.stats.truncnorm(low, high)
        mean, variance = d.truncated_standard_normal_moments(low, high)
        assert mean == pytest.approx(reference.mean(), rel=1e-12, abs=1e-15)
        assert variance == pytest.approx(reference.var(), rel=1e-12)
    assert ui.TruncatedNormal(lower=-1e-6, upper=1e-6).variance((4, 4)) > 0
    complex_values = np.asarray(ui.truncated_normal((64, 64), lower=-1e-8, upper=1e-8, dtype="complex64", seed=0))
    assert np.isfinite(complex_values).all()


def test_intervals_narrower_than_the_work_dtype_resolves_are_refused() -> None:
    with pytest.raises(ui.ParameterError, match="narrower than float32 resolves"):  # [−2e-308, 2e-308] std underflows float32
        ui.bounded_normal((4,), stddev=1e308, minval=-2.0, maxval=2.0)
    with pytest.raises(ui.ParameterError, match="narrower than float64 resolves"):
        ui.bounded_normal((4,), minval=0.0, maxval=1e-300, dtype="float64")
    assert np.isfinite(ui.bounded_normal((4,), minval=0.0, maxval=1e-250, dtype="float64", seed=0)).all()


@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_a_support_narrower_than_float64_resolves_at_the_mean_is_drawn_only_where_a_value_lies_in_it(target_id: str) -> None:
    """``mean=3e38, stddev=0.05``: float64 rounds both ends of the support to the mean, and float32 rounded the mean to
    a value 5.5e29 outside it on every backend; a float32 that lies inside is drawn (all of it), none inside is refused."""
    target = load(target_id)
    with pytest.raises(ui.DTypeError, match="no float32 value lies in the support"):
        target.draw(ui.TruncatedNormal(mean=3e38, stddev=0.05, seed=0), (4,))
    inside = float(np.float32(3e38))  # a float32, so a value inside
    values = target.values(target.draw(ui.TruncatedNormal(mean=inside, stddev=0.05, seed=0), (4,)))
    assert values.tolist() == [inside] * 4
    with pytest.raises(ui.ParameterError, match="holds no float64 value"):  # 3e38 + [1.5, 1.55]: no double in it
        d.TruncatedGaussian(3e38, 0.05, 30.0, 31.0)
