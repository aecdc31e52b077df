"""Statistical checks shared by the test suite.

Every check compares a sample (converted to float64 NumPy) with the *analytic*
distribution the spec layer promises, with tolerances derived from the sample
size and the distribution's kurtosis, so a wrong variance, fan, truncation or
correction fails while a correct draw with a fixed seed passes.

* mean:     |m - μ| <= Z · σ / √n
* variance: |s² - σ²| <= Z · σ² · √((κ - 1) / n)     (κ: kurtosis, normal = 3)
* support:  every value inside the closed support (half-open for uniform)
* KS:       one-sample Kolmogorov-Smirnov against the analytic CDF, with the
            critical value widened by the output dtype's rounding (a bfloat16
            sample is a rounded sample, so its empirical CDF may sit up to one
            grid cell's probability mass away from the continuous CDF).

A complex sample (:func:`check_complex_sample`) is checked through its
modulus and phase: ``|w − μ|²`` against the analytic law of the squared
modulus (its mean is the real law's variance, E|w − μ|² = Var), the phase
uniform on (−π, π], every modulus inside the law's disk.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.stats

from unit_init import distributions as d
from unit_init.dtypes import real_dtype

Z = 5.0  # standard errors allowed for moments
KS_ALPHA = 1e-4


def scipy_distribution(dist: d.Distribution) -> Any:
    """The frozen scipy.stats distribution equal to ``dist``."""
    if isinstance(dist, d.Uniform):
        return scipy.stats.uniform(loc=dist.low, scale=dist.high - dist.low)
    if isinstance(dist, d.Normal):
        return scipy.stats.norm(loc=dist.mean, scale=dist.std)
    if isinstance(dist, d.TruncatedGaussian):
        return scipy.stats.truncnorm(dist.low, dist.high, loc=dist.mean, scale=dist.std)
    raise TypeError(dist)


def relative_spacing(dtype: str) -> float:
    """Half the relative grid spacing of ``dtype`` (its unit roundoff)."""
    return {"bfloat16": 2.0**-8, "float16": 2.0**-11, "float32": 2.0**-24, "float64": 2.0**-53}[dtype]


def check_sample(values: np.ndarray, dist: d.Distribution, dtype: str = "float32") -> None:
    """Assert ``values`` is a plausible sample of ``dist``; the message says which check failed."""
    x = np.asarray(values, dtype=np.float64).ravel()
    n = x.size
    reference = scipy_distribution(dist)
    mu, var = reference.mean(), reference.var()
    kurtosis = reference.stats(moments="k") + 3.0
    rounding = relative_spacing(dtype)
    mean_tol = Z * math.sqrt(var / n) + rounding * (abs(mu) + math.sqrt(var))
    assert abs(x.mean() - mu) <= mean_tol, f"mean {x.mean():.6g} vs {mu:.6g} (tol {mean_tol:.3g})"
    # Rounding to nearest moves the variance by about rounding²/3 (measured on 2^22 bfloat16 draws: below 0.01 %);
    # one ``rounding`` more covers the support's ends moved onto the grid (a truncated law's bounds, a uniform's top).
    var_tol = Z * var * math.sqrt((kurtosis - 1) / n) + rounding * var
    assert abs(x.var() - var) <= var_tol, f"variance {x.var():.6g} vs {var:.6g} (rel err {x.var() / var - 1:+.3%}, tol {var_tol / var:.3%})"
    low, high = dist.support
    assert x.min() >= low, f"value {x.min()!r} below the support's lower end {low!r}"
    if isinstance(dist, d.Uniform):
        assert x.max() < high, f"uniform returned {x.max()!r}, not below its upper bound {high!r}"
    else:
        assert x.max() <= high, f"value {x.max()!r} above the support's upper end {high!r}"
    statistic = scipy.stats.kstest(x, reference.cdf).statistic
    critical = scipy.stats.kstwo.isf(KS_ALPHA, n) + rounding_mass(reference, dist, rounding)
    assert statistic <= critical, f"KS statistic {statistic:.5f} > {critical:.5f} (n={n})"


def rounding_mass(reference: Any, dist: d.Distribution, rounding: float) -> float:
    """The largest probability a rounding cell of relative half-width ``rounding`` can hold."""
    if rounding < 1e-6:
        return 0.0
    low, high = dist.support
    grid = np.linspace(max(low, reference.ppf(1e-9)), min(high, reference.ppf(1 - 1e-9)), 4097)
    return float(np.max(reference.pdf(grid) * 2 * rounding * np.abs(grid)))


def modulus_squared(dist: d.Distribution) -> Any:
    """The frozen scipy.stats law of ``|w − μ|²`` for the complex form of the real law ``dist`` (docs/complex.md).

    * ``N(μ, Var)`` → a circular normal: ``|w − μ|²`` is exponential with mean ``Var``;
    * ``U[μ − a, μ + a)`` → uniform on the disk of radius² ``2·Var = 2a²/3``: ``|w − μ|²`` is uniform on [0, 2·Var);
    * truncated at ``±b·σ`` → a circular normal of scale ``s`` (``E|z|² = s²``) with the modulus cut at ``b·s``:
      ``|w − μ|²`` is exponential of mean ``s²`` cut at ``b²·s²``, where ``s² = Var / m(b)``,
      ``m(b) = 1 − b²/(e^{b²} − 1)``, so that ``E|w − μ|² = Var`` after the cut.
    """
    variance = float(scipy_distribution(dist).var())
    if isinstance(dist, d.Normal):
        return scipy.stats.expon(scale=variance)
    if isinstance(dist, d.Uniform):
        return scipy.stats.uniform(0.0, 2.0 * variance)
    if isinstance(dist, d.TruncatedGaussian) and dist.low == -dist.high:
        bound2 = dist.high**2
        scale2 = variance / (1.0 - bound2 / math.expm1(bound2))
        return scipy.stats.truncexpon(bound2, scale=scale2)
    raise TypeError(dist)


def check_complex_sample(values: np.ndarray, dist: d.Distribution, dtype: str = "complex64") -> None:
    """Assert complex ``values`` are a plausible sample of the complex form of the real law ``dist``.

    The mean of ``w`` within Z standard errors of μ (each part has variance
    ``Var/2``); ``E|w − μ|² = Var`` within Z standard errors of the squared
    modulus; ``|w − μ|²`` inside its support (the dtype's rounding allowed);
    KS of ``|w − μ|²`` against :func:`modulus_squared` and of the phase against
    the uniform law on (−π, π].
    """
    w = np.asarray(values, dtype=np.complex128).ravel()
    n, mu = w.size, float(scipy_distribution(dist).mean())
    squared = modulus_squared(dist)
    variance = float(squared.mean())
    mean_tol = Z * math.sqrt(variance / 2 / n)
    assert abs(w.real.mean() - mu) <= mean_tol, f"mean of the real part {w.real.mean():.4g} vs {mu:.4g} (tol {mean_tol:.3g})"
    assert abs(w.imag.mean()) <= mean_tol, f"mean of the imaginary part {w.imag.mean():.4g} vs 0 (tol {mean_tol:.3g})"
    r2 = np.abs(w - mu) ** 2
    tol = Z * math.sqrt(float(squared.var()) / n)
    assert abs(r2.mean() - variance) <= tol, f"E|w − μ|² = {r2.mean():.6g} vs {variance:.6g} (rel err {r2.mean() / variance - 1:+.3%}, tol {tol / variance:.3%})"
    high = float(squared.support()[1]) * (1 + 8 * relative_spacing(real_dtype(dtype)))
    assert r2.max() <= high, f"|w − μ|² = {r2.max()!r} beyond the support's {high!r}"
    for name, sample, law in (("|w − μ|²", r2, squared), ("phase", np.angle(w - mu), scipy.stats.uniform(-math.pi, 2 * math.pi))):
        statistic = scipy.stats.kstest(sample, law.cdf).statistic
        critical = scipy.stats.kstwo.isf(KS_ALPHA, n)
        assert statistic <= critical, f"KS statistic of the {name} {statistic:.5f} > {critical:.5f} (n={n})"


def two_sample_ok(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two samples pass a two-sample KS test at ``KS_ALPHA``."""
    return bool(scipy.stats.ks_2samp(np.ravel(a), np.ravel(b)).pvalue > KS_ALPHA)
