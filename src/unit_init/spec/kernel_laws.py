"""Laws of convolution kernels: a matrix at the centre tap, block-orthogonal kernels, a Fourier basis.

Each law receives resolved, non-negative ``in_axis`` and ``out_axis``; every
other axis of the shape is a window (tap) axis. Their samplers are in
:mod:`unit_init.sampling.kernels`.

* :class:`CentreTap` — any matrix law (here: :class:`~unit_init.spec.distributions.HaarOrthogonal`)
  at the tap ``((k₁ − 1) // 2, …)``, zero elsewhere: the delta-orthogonal kernel.
* :class:`BlockOrthogonal` — Xiao et al. 2018, Algorithm 1: an orthogonal
  convolution built from random symmetric projections.
* :class:`FourierKernel` — the deterministic STFT basis of Keras's ``STFT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from unit_init.spec.distributions import Distribution, as_floats

__all__ = ["BlockOrthogonal", "CentreTap", "FourierKernel", "Side"]

Side = Literal["real", "imag"]


@dataclass(frozen=True, slots=True)
class CentreTap(Distribution):
    """``matrix`` drawn for the ``(in, out)`` shape, placed at the centre tap; every other tap is 0.

    The centre of a window axis of size ``k`` is ``(k − 1) // 2`` (JAX's
    ``delta_orthogonal`` and TensorFlow's ``ConvolutionDeltaOrthogonal``; for
    odd ``k`` the middle tap). ``matrix`` is a random law (it draws from the
    call's stream, in the work dtype).
    """

    matrix: Distribution
    in_axis: int
    out_axis: int

    def reach(self) -> tuple[float, float]:
        return self.matrix.reach()


@dataclass(frozen=True, slots=True)
class BlockOrthogonal(Distribution):
    """A random orthogonal convolution kernel (Xiao et al. 2018, Algorithm 1), times ``gain``.

    With ``n = out`` channels, each window axis ``a`` of size ``kₐ`` takes
    ``kₐ − 1`` two-tap factors ``[P, I − P]``, ``P = Q·diag(m)·Qᵀ`` a random
    symmetric projection (``Q`` Haar-orthogonal ``n × n``, ``m`` i.i.d.
    Bernoulli(½)). Starting from ``I`` at tap 0, the factors multiply on the
    right by matrix convolution, one per axis in turn (TensorFlow's
    ``ConvolutionOrthogonal{1,2,3}D`` order for equal sizes)::

        K'[t] = K[t]·P + K[t − eₐ]·(I − P)

    and the kernel is ``W[t] = gain · R·K[t]`` with ``R`` the ``in × out``
    Haar row-orthonormal matrix. Each factor is paraunitary, so for ``in ≤ out``
    the circular convolution with ``W`` is ``gain`` times an isometry:
    ``Σ_t W[t]·W[t]ᵀ = gain²·I`` and, per frequency, ``Ŵ(ω)·Ŵ(ω)ᴴ = gain²·I``.
    """

    gain: float
    in_axis: int
    out_axis: int

    def __post_init__(self) -> None:
        as_floats(self, "gain")

    def reach(self) -> tuple[float, float]:
        """The taps of an isometry have entries of magnitude at most ``|gain|`` (``1`` before scaling)."""
        return (1.001 * abs(self.gain), 1.001 * max(abs(self.gain), 1.0))


@dataclass(frozen=True, slots=True)
class FourierKernel(Distribution):
    """The real or imaginary part of the DFT basis, windowed: ``W[t, c, f] = trig(−π·t·f / (F − 1)) · w[t] / divisor``.

    ``trig`` is ``cos`` (``side="real"``) or ``sin`` (``"imag"``), ``t`` the
    tap (the one window axis, of size ``T``), ``f < F`` the out channel, the
    same for every in channel ``c``; ``window`` holds ``w`` (``None``: 1). The
    phase ``t·f`` is reduced modulo ``2(F − 1)`` in integers and evaluated in
    float64, so each value is the correctly rounded one up to a float64 ulp.
    """

    side: Side
    window: tuple[float, ...] | None
    divisor: float
    in_axis: int
    out_axis: int
    random: ClassVar[bool] = False

    def reach(self) -> tuple[float, float]:
        largest = 1.0 if self.window is None else max(map(abs, self.window), default=0.0) / self.divisor
        return (largest, largest)
