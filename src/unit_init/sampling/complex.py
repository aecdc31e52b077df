"""Samplers of the complex laws (:mod:`unit_init.spec.complex_laws`).

A random complex law draws its real and imaginary parts (or a modulus and a
phase) from the stream in the work dtype — float32 for complex64, float64 for
complex128 — and combines them once with
:meth:`~unit_init.backends.base.Backend.to_complex` into the complex dtype
whose parts are the work dtype: the output dtype itself. Complex laws have no
support, so the entry's confinement is the single cast, which changes nothing
(:func:`unit_init.sampling.entry.confine`). Every sampler draws from the
stream only, so the portable stream (``rng="portable"``) serves them too.

Examples
--------
>>> import numpy as np, unit_init as ui
>>> w = ui.he_uniform((64, 64), dtype="complex64", seed=0)
>>> w.dtype, bool((np.abs(w) < np.sqrt(2 * 2 / 64)).all())
(dtype('complex64'), True)
"""

from __future__ import annotations

import math
from typing import Any

from unit_init.dtypes import real_dtype
from unit_init.sampling.laws import Draw, dispatch, haar, sampler
from unit_init.sampling.truncation import widest_work
from unit_init.spec.complex_laws import (
    ComplexNormal,
    ModulusTruncatedNormal,
    RealValued,
    UniformDisk,
    Unitary,
    kept_over_square,
)

__all__: list[str] = []


def _complex(draw: Draw, real: Any, imag: Any) -> Any:
    """``real + i·imag`` (work dtype parts) in the complex dtype of the output."""
    return draw.backend.to_complex(real, imag, draw.dtype)


def _math_dtype(draw: Draw) -> str:
    """The dtype ``log1p``, ``cos`` and ``sin`` are evaluated in: the work dtype, or float64 for a positional stream.

    A framework's vectorized ``log1p``/``sin``/``cos`` may round an element
    by an ulp differently in the SIMD body and in the scalar tail of a loop
    (TensorFlow's float32 kernels do), so a block drawn alone (``region=``)
    could differ from that block of the whole draw; in float64 such a
    difference is below float32's rounding (none in 10⁶ measured).
    """
    return widest_work(draw.backend, draw.work, draw.device) if draw.stream.positional else draw.work


def _polar(draw: Draw, radius: Any, mean: float) -> Any:
    """``mean + radius·e^{iθ}`` with ``θ ~ U[0, 2π)``, from the moduli ``radius`` (work dtype or :func:`_math_dtype`)."""
    backend, wide = draw.backend, _math_dtype(draw)
    theta = backend.cast(draw.stream.uniform(draw.shape, draw.work, 0.0, 2 * math.pi), wide)
    radius = backend.cast(radius, wide)
    with backend.placement(draw.device):
        real, imag = radius * backend.xp.cos(theta), radius * backend.xp.sin(theta)
    return _complex(draw, backend.affine(real, 1.0, mean), imag)


@sampler(ComplexNormal)
def _complex_normal(law: ComplexNormal, draw: Draw) -> Any:
    """Parts ``N(mean, std²/2)`` and ``N(0, std²/2)``, independent."""
    part = law.std / math.sqrt(2.0)
    real = draw.stream.normal(draw.shape, draw.work, law.mean, part)
    return _complex(draw, real, draw.stream.normal(draw.shape, draw.work, 0.0, part))


@sampler(UniformDisk)
def _uniform_disk(law: UniformDisk, draw: Draw) -> Any:
    """Modulus ``radius·√u``, ``u ~ U[0, 1)``: uniform on the disk."""
    backend = draw.backend
    u = draw.stream.uniform(draw.shape, draw.work)
    with backend.placement(draw.device):
        radius = backend.affine(backend.xp.sqrt(u), law.radius, 0.0)
    return _polar(draw, radius, law.mean)


@sampler(ModulusTruncatedNormal)
def _modulus_truncated_normal(law: ModulusTruncatedNormal, draw: Draw) -> Any:
    """Modulus ``scale·√(−log(1 − t))``, ``t = u·c``, ``c = 1 − e^{−bound²}``: the inverse CDF of the truncated ``ρ²``.

    A narrow cut (``c < 10⁻⁴``: a huge ``scale`` with bounds of a few units)
    is computed as ``R·√k·√(u·(1 + x/2 + x²/3 + x³/4))`` with ``x = u·c``,
    ``R = bound·scale`` and ``k = c/bound²`` taken on the host (the series of
    ``−log1p(−x)/x``, exact to 2e-17): ``c`` itself, and ``t``, may underflow
    the work dtype, which turned every modulus into 0.
    """
    backend, xp = draw.backend, draw.backend.xp
    u = draw.stream.uniform(draw.shape, draw.work)
    kept = -math.expm1(-law.bound * law.bound)
    with backend.placement(draw.device):
        if kept >= 1e-4:
            minus_t = backend.affine(backend.cast(u, _math_dtype(draw)), -kept, 0.0)  # −t = −u·(1 − e^{−b²})
            radius = backend.affine(xp.sqrt(-xp.log1p(minus_t)), law.scale, 0.0)
        else:
            x = u * kept  # new arrays throughout: ``u`` is used again
            series = ((x * 0.25 + 1 / 3) * x + 0.5) * x + 1.0
            radius = backend.affine(xp.sqrt(u * series), law.radius * math.sqrt(kept_over_square(law.bound)), 0.0)
    return _polar(draw, radius, law.mean)


@sampler(Unitary)
def _unitary(law: Unitary, draw: Draw) -> Any:
    """``Q·diag(r_ii/|r_ii|)`` of a complex Gaussian matrix's QR, times the gain (:func:`~unit_init.sampling.laws.haar`)."""
    backend, stream = draw.backend, draw.stream

    def gaussian(shape: tuple[int, ...]) -> Any:
        return _complex(draw, stream.normal(shape, draw.work), stream.normal(shape, draw.work))

    def phases(diagonal: Any) -> Any:  # r/|r|, 1 where r = 0 (a zero column: see laws.signs)
        xp = backend.xp
        magnitude = backend.cast(xp.abs(diagonal), draw.dtype)
        zero = magnitude == 0
        return xp.where(zero, magnitude + 1, diagonal / xp.where(zero, magnitude + 1, magnitude))

    return haar(draw, law.gain, law.out_axes, law.batch_axes, gaussian, phases)


@sampler(RealValued)
def _real_valued(law: RealValued, draw: Draw) -> Any:
    """The real law's values in the complex dtype's part dtype, cast (exactly) to the complex dtype."""
    values = dispatch(law.law)(law.law, draw._replace(dtype=real_dtype(draw.dtype)))
    return draw.backend.cast(values, draw.dtype)
