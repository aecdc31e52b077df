"""Signal-processing kernels: Keras's ``STFT`` initializer (a windowed Fourier basis for ``Conv1D``).

The window is named as ``scipy.signal.get_window`` (which Keras calls) names
it, and computed without SciPy (:mod:`unit_init.spec.windows`), or given by
its values, as Keras also takes it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from unit_init.errors import ParameterError, ShapeError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import choice, plain_sequence
from unit_init.spec.fans import LayoutLike, ShapeLike, normalize_shape
from unit_init.spec.initializer import Initializer
from unit_init.spec.kernel_laws import FourierKernel, Side
from unit_init.spec.structured import _single_axes
from unit_init.spec.windows import resolve, window_values

__all__ = ["MAX_TAPS", "SCALINGS", "SIDES", "STFT", "Scaling", "window_scale"]

Scaling = Literal["density", "spectrum"]
SIDES: Final = ("real", "imag")
SCALINGS: Final = ("density", "spectrum")
MAX_TAPS: Final = 1 << 20
"""The most taps an STFT kernel has: its window is computed per tap on the host (a million taps take about half a second)."""


def window_scale(values: Sequence[float], scaling: Scaling | None) -> float:
    """``√(Σ w²)`` (``"density"``), ``Σ |w|`` (``"spectrum"``) or 1; for a window whose squares could overflow or
    underflow (its largest magnitude beyond 1e±150), summed over the values divided by that magnitude instead.

    Examples
    --------
    >>> window_scale([1e200] * 4, "density"), window_scale([3.0, -4.0], "spectrum"), window_scale([0.0, 0.0], "density")
    (2e+200, 7.0, 0.0)
    """
    if scaling is None:
        return 1.0
    largest = max((abs(v) for v in values), default=0.0)
    if largest == 0:
        return 0.0
    unit = 1.0 if 1e-150 < largest < 1e150 else largest  # a window of ordinary values is summed as it is
    ratios = [v / unit for v in values]
    total = math.sqrt(sum(r * r for r in ratios)) if scaling == "density" else sum(map(abs, ratios))
    return total * unit


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
        A window name of ``scipy.signal.get_window`` that takes no
        parameter (``"hann"``, ``"hamming"``, ``"tukey"``, …; the list in
        :mod:`unit_init.spec.windows`), the window's ``T`` values (a sequence
        or 1-D array of finite reals, kept as a tuple: a ``kaiser`` window,
        say, from ``scipy.signal.get_window(("kaiser", 8.0), T)``), or
        ``None`` (no window).
    scaling:
        ``"density"`` (L2), ``"spectrum"`` (L1) or ``None``.
    periodic:
        Use the periodic form of a named window (SciPy's ``fftbins=True``);
        given values are used as they are.

    Examples
    --------
    >>> from unit_init.spec.signal import STFT
    >>> STFT(window=None)((4, 1, 3))[:, 0, :].tolist()  # cos(−π·t·f/2)
    [[1.0, 1.0, 1.0], [1.0, 6.123234262925839e-17, -1.0], [1.0, -1.0, 1.0], [1.0, -1.8369701465288538e-16, -1.0]]
    """

    random: ClassVar[bool] = False

    side: Side = "real"
    window: str | Sequence[float] | None = "hann"
    scaling: Scaling | None = "density"
    periodic: bool = False
    min_rank: ClassVar[int] = 3
    max_rank: ClassVar[int | None] = 3
    array_fields: ClassVar[tuple[str, ...]] = ("window",)

    def _validate(self) -> None:
        choice("side", self.side, SIDES)
        if self.scaling is not None:
            choice("scaling", self.scaling, SCALINGS)
        periodic: object = self.periodic  # a config may hold anything
        if not isinstance(periodic, bool):
            msg = f"periodic={abbreviate(self.periodic)} must be True or False."
            raise ParameterError(msg)
        window: object = self.window
        if isinstance(window, str):
            resolve(window)
        elif window is not None:
            object.__setattr__(self, "window", _given_window(window))

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        in_axis, out_axis = _single_axes(self, dims, layout)
        (taps,) = (dims[a] for a in range(3) if a not in (in_axis, out_axis))
        if taps > MAX_TAPS:
            msg = f"STFT takes at most {MAX_TAPS} taps (2**20; its window is computed per tap), got shape={dims} with {taps} on axis {3 - in_axis - out_axis}."
            raise ShapeError(msg)
        if dims[out_axis] < 2:
            msg = f"STFT needs at least 2 output channels (frequency bins), got shape={dims} with {dims[out_axis]} on axis {out_axis}."
            raise ShapeError(msg)
        if self.window is None:
            return FourierKernel(self.side, None, 1.0, in_axis, out_axis)
        if isinstance(self.window, str):
            values = window_values(self.window, taps, periodic=self.periodic)
        elif len(self.window) == taps:
            values = tuple(self.window)
        else:
            msg = f"STFT: the window has {len(self.window)} values, but shape={dims} has {taps} taps (axis {3 - in_axis - out_axis})."
            raise ShapeError(msg)
        if taps == 0:  # an empty kernel: no window value to scale by, nor any to scale
            return FourierKernel(self.side, (), 1.0, in_axis, out_axis)
        divisor = window_scale(values, self.scaling)
        if divisor == 0:
            msg = f"STFT(window={abbreviate(self.window)}, scaling={self.scaling!r}) has an all-zero window for {taps} taps; nothing to scale by."
            raise ParameterError(msg)
        if not math.isfinite(divisor):
            msg = f"STFT(window={abbreviate(self.window)}, scaling={self.scaling!r}): the window's scale overflows float64; use smaller values."
            raise ParameterError(msg)
        return FourierKernel(self.side, tuple(values), divisor, in_axis, out_axis)


def _given_window(window: Any) -> tuple[float, ...]:
    """A window given by its values (a sequence, or any library's 1-D array) as a tuple of floats, or :class:`ParameterError`."""
    values = window.tolist() if not isinstance(window, (list, tuple, type)) and callable(getattr(window, "tolist", None)) else plain_sequence(window)
    if isinstance(values, (list, tuple)) and values and all(_is_real(v) for v in values):
        floats = tuple(float(v) + 0.0 for v in values)  # zero as +0.0 (−0.0 + 0.0): equal specs draw alike
        if all(math.isfinite(v) for v in floats):
            return floats
    msg = f"window={abbreviate(window)} must be a window name, None, or a non-empty 1-D sequence of finite real numbers."
    raise ParameterError(msg)


def _is_real(value: object) -> bool:
    """A Python int (within a float's range) or float; not a bool."""
    return isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**1023)
