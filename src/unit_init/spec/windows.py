"""The window functions of ``scipy.signal.get_window`` that take no parameter, in plain float64 arithmetic (no SciPy).

Keras's :class:`~unit_init.spec.signal.STFT` names its window as SciPy
does; every name ``get_window`` accepts without parameters is computed
here, with SciPy's formulas, for ``n = 0 … M − 1`` (symmetric, ``M >= 2``):

==================  ====================================================================
``boxcar``          ``1``
``triang``          ``(2k − 1)/M`` (``M`` even) or ``2k/(M + 1)`` (odd), ``k = 1, 2, …`` from both ends
``bartlett``        ``1 − |2n/(M − 1) − 1|``
``parzen``          with ``a = |x|/(M/2)``, ``x = n − (M − 1)/2``: ``1 − 6a² + 6a³`` for
                    ``|x| <= (M − 1)/4``, else ``2(1 − a)³``
``bohman``          with ``f = |2n/(M − 1) − 1|``: ``(1 − f)·cos(πf) + sin(πf)/π``
``barthann``        with ``f = |n/(M − 1) − ½|``: ``0.62 − 0.48f + 0.38·cos(2πf)``
``cosine``          ``sin(π(n + ½)/M)``
``exponential``     ``exp(−|n − (M − 1)/2|)`` (τ = 1)
``lanczos``         ``sinc(2n/(M − 1) − 1)``
``tukey``           α = ½: cosine tapers over ``α(M − 1)/2`` points at each end, 1 between
``taylor``          Taylor's window, n̄ = 4, sidelobes −30 dB, normalized to 1 at the centre
cosine sums         ``Σ_j a_j·cos(j·x)``, ``x = −π … π``: ``hann`` (½, ½), ``hamming``
                    (0.54, 0.46), ``blackman``, ``nuttall``, ``blackmanharris``, ``flattop``
==================  ====================================================================

A *periodic* window of length ``M`` is the first ``M`` values of the
symmetric one of length ``M + 1`` (SciPy's ``fftbins=True``); a name ending
in ``_symmetric`` or ``_periodic`` chooses the form itself, as in SciPy, and
SciPy's short names (``"hann"`` as ``"han"``, ``"triang"`` as ``"tri"``, …)
are accepted. Windows that need parameters (``kaiser``, ``gaussian``,
``chebwin``, …) are given by their values instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from unit_init.errors import ParameterError, abbreviate, closest

__all__ = ["WINDOWS", "window_values"]

Window = Callable[[int], list[float]]


def _cosine_sum(*coefficients: float) -> Window:
    """SciPy's ``general_cosine``: ``Σ_j a_j·cos(j·x)`` on ``M`` points ``x`` from −π to π."""

    def window(length: int) -> list[float]:
        step = 2 * math.pi / (length - 1)
        return [sum(a * math.cos(j * (-math.pi + n * step)) for j, a in enumerate(coefficients)) for n in range(length)]

    return window


def _mirrored(half: list[float], middle: list[float]) -> list[float]:
    """``half`` reversed, ``middle``, ``half``: a symmetric window from its right side."""
    return [*reversed(half), *middle, *half]


def _triang(length: int) -> list[float]:
    ks = range(1, (length + 1) // 2 + 1)
    if length % 2 == 0:
        rising = [(2 * k - 1.0) / length for k in ks]
        return [*rising, *reversed(rising)]
    rising = [2 * k / (length + 1.0) for k in ks]
    return [*rising, *reversed(rising[:-1])]


def _bartlett(length: int) -> list[float]:
    half = (length - 1) / 2
    return [2 * n / (length - 1) if n <= half else 2 - 2 * n / (length - 1) for n in range(length)]


def _parzen(length: int) -> list[float]:
    def value(n: int) -> float:
        x = abs(n - (length - 1) / 2.0)
        a = x / (length / 2.0)
        return 1 - 6 * a**2 + 6 * a**3 if x <= (length - 1) / 4.0 else 2 * (1 - a) ** 3

    return [value(n) for n in range(length)]


def _bohman(length: int) -> list[float]:
    def value(n: int) -> float:
        f = abs(-1.0 + n * (2.0 / (length - 1)))
        return (1 - f) * math.cos(math.pi * f) + math.sin(math.pi * f) / math.pi

    return [0.0, *(value(n) for n in range(1, length - 1)), 0.0]


def _barthann(length: int) -> list[float]:
    def value(n: int) -> float:
        f = abs(n / (length - 1.0) - 0.5)
        return 0.62 - 0.48 * f + 0.38 * math.cos(2 * math.pi * f)

    return [value(n) for n in range(length)]


def _cosine(length: int) -> list[float]:
    return [math.sin(math.pi / length * (n + 0.5)) for n in range(length)]


def _exponential(length: int) -> list[float]:
    centre = (length - 1) / 2
    return [math.exp(-abs(n - centre)) for n in range(length)]


def _sinc(x: float) -> float:
    return 1.0 if x == 0 else math.sin(math.pi * x) / (math.pi * x)


def _lanczos(length: int) -> list[float]:
    start = length // 2 if length % 2 == 0 else (length + 1) // 2
    right = [_sinc(2.0 * n / (length - 1) - 1.0) for n in range(start, length)]
    return _mirrored(right, [] if length % 2 == 0 else [1.0])


def _tukey(length: int, alpha: float = 0.5) -> list[float]:
    width = math.floor(alpha * (length - 1) / 2.0)

    def value(n: int) -> float:
        if n <= width:
            return 0.5 * (1 + math.cos(math.pi * (-1 + 2.0 * n / alpha / (length - 1))))
        if n >= length - width - 1:
            return 0.5 * (1 + math.cos(math.pi * (-2.0 / alpha + 1 + 2.0 * n / alpha / (length - 1))))
        return 1.0

    return [value(n) for n in range(length)]


def _taylor(length: int, nbar: int = 4, sidelobes_db: float = 30.0) -> list[float]:
    """Taylor's window: ``W(n) = 1 + 2·Σ_m F_m·cos(2πm(n − M/2 + ½)/M)``, ``m < n̄``, divided by ``W((M − 1)/2)``."""
    a = math.acosh(10 ** (sidelobes_db / 20)) / math.pi
    s2 = nbar**2 / (a**2 + (nbar - 0.5) ** 2)
    ms = range(1, nbar)

    def coefficient(m: int) -> float:
        numerator = (1.0 if m % 2 else -1.0) * math.prod(1 - m * m / s2 / (a**2 + (j - 0.5) ** 2) for j in ms)
        denominator = 2 * math.prod(1 - m * m / (j * j) for j in ms if j != m)
        return numerator / denominator

    coefficients = [coefficient(m) for m in ms]

    def w(n: float) -> float:
        return 1 + 2 * sum(f * math.cos(2 * math.pi * m * (n - length / 2.0 + 0.5) / length) for f, m in zip(coefficients, ms, strict=True))

    centre = w((length - 1) / 2)
    return [w(n) / centre for n in range(length)]


WINDOWS: Final[dict[str, Window]] = {
    "boxcar": lambda length: [1.0] * length,
    "triang": _triang,
    "bartlett": _bartlett,
    "parzen": _parzen,
    "bohman": _bohman,
    "barthann": _barthann,
    "cosine": _cosine,
    "exponential": _exponential,
    "lanczos": _lanczos,
    "tukey": _tukey,
    "taylor": _taylor,
    "hann": _cosine_sum(0.5, 0.5),
    "hamming": _cosine_sum(0.54, 0.46),
    "blackman": _cosine_sum(0.42, 0.50, 0.08),
    "nuttall": _cosine_sum(0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "blackmanharris": _cosine_sum(0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": _cosine_sum(0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}
"""The named windows: SciPy's name → symmetric window of a length >= 2."""

_ALIASES: Final = {
    "box": "boxcar", "ones": "boxcar", "rect": "boxcar", "rectangular": "boxcar",
    "tri": "triang", "triangle": "triang", "bart": "bartlett", "brt": "bartlett",
    "par": "parzen", "parz": "parzen", "bman": "bohman", "bmn": "bohman",
    "brthan": "barthann", "bth": "barthann", "halfcosine": "cosine", "poisson": "exponential", "sinc": "lanczos",
    "tuk": "tukey", "taylorwin": "taylor", "han": "hann", "ham": "hamming", "hamm": "hamming",
    "black": "blackman", "blk": "blackman", "nut": "nuttall", "nutl": "nuttall",
    "bkh": "blackmanharris", "blackharr": "blackmanharris", "flat": "flattop", "flt": "flattop",
}
"""SciPy's other names for the same windows."""

_NEED_PARAMETERS: Final = frozenset({
    "kaiser", "ksr", "kaiser_bessel_derived", "kaiser bessel derived", "kbd", "gaussian", "gauss", "gss",
    "general_gaussian", "general gaussian", "general_gauss", "general gauss", "ggs", "general_cosine", "general cosine",
    "general_hamming", "general hamming", "chebwin", "cheb", "dpss",
})
"""SciPy's windows that need parameters: given by their values (``window=[...]``), as Keras also takes them."""

_FORMS: Final = {"_symmetric": False, "_periodic": True}


def resolve(name: str) -> tuple[Window, bool | None]:
    """The window function ``name`` (SciPy's name, alias, or either with a form suffix) and the form it forces (``None``: the caller's).

    :class:`ParameterError` for a name SciPy does not know without parameters.
    """
    base, forced = name, None
    for suffix, periodic in _FORMS.items():
        if name.endswith(suffix):
            base, forced = name[: -len(suffix)], periodic
    base = _ALIASES.get(base, base)
    if base in WINDOWS:
        return WINDOWS[base], forced
    if base in _NEED_PARAMETERS:
        msg = (
            f"window={abbreviate(name)} needs parameters; pass its values instead, e.g. "
            f"window=scipy.signal.get_window(({abbreviate(base)}, …), taps)."
        )
    else:
        msg = f"window={abbreviate(name)} is not known; accepted: {', '.join(map(repr, WINDOWS))} (and SciPy's short names).{closest(name, tuple(WINDOWS))}"
    raise ParameterError(msg)


def window_values(name: str, length: int, *, periodic: bool = False) -> tuple[float, ...]:
    """The window ``name`` of ``length`` points, as ``scipy.signal.get_window(name, length, fftbins=periodic)``.

    Examples
    --------
    >>> [round(v, 6) for v in window_values("hann", 4)], [round(v, 6) for v in window_values("hann", 4, periodic=True)]
    ([0.0, 0.75, 0.75, 0.0], [0.0, 0.5, 1.0, 0.5])
    >>> [round(v, 6) for v in window_values("tukey", 5)]
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    window, forced = resolve(name)
    if length <= 1:
        return (1.0,) * length
    if forced if forced is not None else periodic:
        return tuple(window(length + 1)[:length])
    return tuple(window(length))
