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
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.stats

from unit_init import distributions as d

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
    var_tol = Z * var * math.sqrt((kurtosis - 1) / n) + 4 * rounding * var
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


def two_sample_ok(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two samples pass a two-sample KS test at ``KS_ALPHA``."""
    return bool(scipy.stats.ks_2samp(np.ravel(a), np.ravel(b)).pvalue > KS_ALPHA)
