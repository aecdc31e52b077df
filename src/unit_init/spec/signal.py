"""Signal-processing kernels: Keras's ``STFT`` initializer (a windowed Fourier basis for ``Conv1D``).

The windows are those of ``scipy.signal.get_window`` (which Keras calls),
computed here in float64 with SciPy's formulas, so no SciPy is needed:

* ``"boxcar"``: ``w(n) = 1``;
* ``"bartlett"``: ``w(n) = 1 − |2n/(M − 1) − 1|``;
* the cosine sums ``w(n) = Σ_j (−1)^j·a_j·cos(2πjn/(M − 1))``: ``"hann"``
  (``a = ½, ½``), ``"hamming"`` (``0.54, 0.46``), ``"blackman"``
  (``0.42, 0.5, 0.08``), ``"nuttall"`` and ``"blackmanharris"``;

for ``n < M`` (``M = 1``: ``w = 1``). A *periodic* window of length ``M`` is
the first ``M`` values of the symmetric one of length ``M + 1`` (SciPy's
``fftbins=True``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from unit_init.errors import ParameterError, ShapeError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import choice
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape
from unit_init.spec.initializer import Initializer
from unit_init.spec.kernel_laws import FourierKernel, Side
from unit_init.spec.structured import _single_axes

__all__ = ["SCALINGS", "SIDES", "STFT", "WINDOWS", "Scaling", "window_values"]

Scaling = Literal["density", "spectrum"]
SIDES: Final = ("real", "imag")
SCALINGS: Final = ("density", "spectrum")


def _cosine_sum(*coefficients: float) -> Callable[[int], list[float]]:
    """SciPy's ``general_cosine``: ``Σ_j a_j·cos(j·x)`` on ``M`` points ``x`` from −π to π."""

    def window(length: int) -> list[float]:
        step = 2 * math.pi / (length - 1)
        return [sum(a * math.cos(j * (-math.pi + n * step)) for j, a in enumerate(coefficients)) for n in range(length)]

    return window


def _bartlett(length: int) -> list[float]:
    half = (length - 1) / 2
    return [2 * n / (length - 1) if n <= half else 2 - 2 * n / (length - 1) for n in range(length)]


WINDOWS: Final[dict[str, Callable[[int], list[float]]]] = {
    "boxcar": lambda length: [1.0] * length,
    "bartlett": _bartlett,
    "hann": _cosine_sum(0.5, 0.5),
    "hamming": _cosine_sum(0.54, 0.46),
    "blackman": _cosine_sum(0.42, 0.50, 0.08),
    "nuttall": _cosine_sum(0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "blackmanharris": _cosine_sum(0.35875, 0.48829, 0.14128, 0.01168),
}
"""The named windows: name → symmetric window of a length >= 2."""


def window_values(name: str, length: int, *, periodic: bool = False) -> tuple[float, ...]:
    """The window ``name`` of ``length`` points, as ``scipy.signal.get_window(name, length, fftbins=periodic)``.

    Examples
    --------
    >>> [round(v, 6) for v in window_values("hann", 4)], [round(v, 6) for v in window_values("hann", 4, periodic=True)]
    ([0.0, 0.75, 0.75, 0.0], [0.0, 0.5, 1.0, 0.5])
    """
    if length <= 1:
        return (1.0,) * length
    return tuple(WINDOWS[name](length + 1)[:length] if periodic else WINDOWS[name](length))


@dataclass(frozen=True, slots=True)
class STFT(Initializer):
    """The windowed Fourier basis of a short-time Fourier transform as a ``Conv1D`` kernel (Keras's ``STFT``).

    For a kernel of ``T`` taps (the window axis), ``C`` input channels and
    ``F`` output channels (``F = n_fft / 2 + 1`` frequency bins), with
    ``w`` the window and ``s`` its scale::

        W[t, c, f] = cos(−π·t·f / (F − 1)) · w[t] / s     (side="real")
        W[t, c, f] = sin(−π·t·f / (F − 1)) · w[t] / s     (side="imag")

    for every ``c``; ``s = √(Σ w²)`` (``scaling="density"``), ``Σ |w|``
    (``"spectrum"``) or 1 (``None``, or no window). Convolving a signal with
    the real and the imaginary kernel gives the real and imaginary parts of
    its STFT. Deterministic; rank 3 with one window axis (default layout
    ``"keras"``: ``(T, C, F)``; ``"torch"``: ``(F, C, T)``), ``F >= 2``.
    Keras computes the same values in the output dtype; these are computed
    in float64 (phase reduced exactly) and rounded once.

    Parameters
    ----------
    side:
        ``"real"`` (cosines) or ``"imag"`` (sines).
    window:
        A window name (``"hann"``, ``"hamming"``, ``"blackman"``,
        ``"bartlett"``, ``"boxcar"``, ``"nuttall"``, ``"blackmanharris"``;
        see :func:`window_values`) or ``None`` (no window). Keras also takes
        explicit values; a unit_init spec holds a name, so its config stays
        plain JSON.
    scaling:
        ``"density"`` (L2), ``"spectrum"`` (L1) or ``None``.
    periodic:
        Use the periodic form of a named window (SciPy's ``fftbins=True``).

    Examples
    --------
    >>> from unit_init.spec.signal import STFT
    >>> STFT(window=None)((4, 1, 3))[:, 0, :].tolist()  # cos(−π·t·f/2)
    [[1.0, 1.0, 1.0], [1.0, 6.123234262925839e-17, -1.0], [1.0, -1.0, 1.0], [1.0, -1.8369701465288538e-16, -1.0]]
    """

    side: Side = "real"
    window: str | None = "hann"
    scaling: Scaling | None = "density"
    periodic: bool = False
    min_rank: ClassVar[int] = 3
    max_rank: ClassVar[int | None] = 3

    def _validate(self) -> None:
        choice("side", self.side, SIDES)
        if self.scaling is not None:
            choice("scaling", self.scaling, SCALINGS)
        periodic: object = self.periodic  # a config may hold anything
        if not isinstance(periodic, bool):
            msg = f"periodic={abbreviate(self.periodic)} must be True or False."
            raise ParameterError(msg)
        if self.window is not None:
            choice("window", self.window, tuple(WINDOWS))

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        in_axis, out_axis = _single_axes(self, dims, layout)
        (taps,) = (dims[a] for a in range(3) if a not in (in_axis, out_axis))
        if dims[out_axis] < 2:
            msg = f"STFT needs at least 2 output channels (frequency bins), got shape={dims} with {dims[out_axis]} on axis {out_axis}."
            raise ShapeError(msg)
        if self.window is None:
            return FourierKernel(self.side, None, 1.0, in_axis, out_axis)
        values = window_values(self.window, taps, periodic=self.periodic)
        divisor = {"density": math.sqrt(sum(v * v for v in values)), "spectrum": sum(map(abs, values)), None: 1.0}[self.scaling]
        if divisor == 0:
            msg = f"STFT(window={abbreviate(self.window)}, scaling={self.scaling!r}) has an all-zero window for {taps} taps; nothing to scale by."
            raise ParameterError(msg)
        return FourierKernel(self.side, tuple(values), divisor, in_axis, out_axis)
