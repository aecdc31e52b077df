"""The standard normal quantile Φ⁻¹, in plain arithmetic so every backend computes the same formula.

Wichura's algorithm AS 241 (M. J. Wichura, "Algorithm AS 241: The percentage
points of the normal distribution", Applied Statistics 37(3), 1988,
https://doi.org/10.2307/2347330): rational approximations on three ranges of
``p``, with ``q = p − ½``::

    |q| ≤ 0.425:  Φ⁻¹(p) = q · A(0.180625 − q²) / B(0.180625 − q²)
    otherwise:    r = √(−log(min(p, 1 − p)))
                  r ≤ 5:  Φ⁻¹(p) = ± C(r − 1.6) / D(r − 1.6)
                  r > 5:  Φ⁻¹(p) = ± E(r − 5) / F(r − 5)      (sign of q)

float32 evaluates PPND7 (relative accuracy about 1e-7, degree 3/3 and 3/2),
float64 PPND16 (about 1e-16, degree 7/7). Only ``+ − × ÷``, ``log``, ``sqrt``
and ``where`` are used, all correctly rounded or within an ulp or two on every
backend, so backends agree to a few float32 ulp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from unit_init.portable.words import cached_constant

__all__ = ["CENTRAL", "Elementwise", "central_ndtri", "ndtri", "quantile"]

_PPND7: Final = {
    "a": (3.3871327179e00, 5.0434271938e01, 1.5929113202e02, 5.9109374720e01),
    "b": (1.0, 1.7895169469e01, 7.8757757664e01, 6.7187563600e01),
    "c": (1.4234372777e00, 2.7568153900e00, 1.3067284816e00, 1.7023821103e-01),
    "d": (1.0, 7.3700164250e-01, 1.2021132975e-01),
    "e": (6.6579051150e00, 3.0812263860e00, 4.2868294337e-01, 1.7337203997e-02),
    "f": (1.0, 2.4197894225e-01, 1.2258202635e-02),
}
_PPND16: Final = {
    "a": (
        3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
        4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3,
    ),
    "b": (
        1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
        2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3,
    ),
    "c": (
        1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
        1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
    ),
    "d": (
        1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
        1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
    ),
    "e": (
        6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
        2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
    ),
    "f": (
        1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
        7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
    ),
}
_SPLIT: Final = 0.425
CENTRAL: Final = _SPLIT
"""``|p − ½|`` up to which AS 241 takes ``Φ⁻¹(p)`` from ``q = p − ½`` alone (:func:`central_ndtri`)."""
_MIN_FAR_TAIL: Final = 1.3887943864964021e-11
"""``exp(−25)``: below this ``p`` the far-tail range (r > 5) applies."""


class Elementwise:
    """The elementwise steps of the portable stream's float arithmetic whose argument is a temporary, in place where ``overwrite``.

    ``neg`` multiplies by −1 (exact, as unary minus is); every method returns
    its result, so immutable arrays are simply rebound.
    """

    __slots__ = ("overwrite", "xp")

    def __init__(self, xp: Any, overwrite: bool) -> None:
        self.xp = xp
        self.overwrite = overwrite

    def number(self, value: float, like: Any) -> Any:
        """``value`` as the second operand of an in-place op on ``like``: where ``overwrite``, a cached 0-d array of
        ``like``'s dtype and device, the same operand as the number (torch wraps a Python number into a new tensor
        on every op: about 1.5 µs each); elsewhere the number itself."""
        return cached_constant(self.xp, like.dtype, like.device, value) if self.overwrite else value

    def log(self, a: Any) -> Any:
        return self.xp.log(a, out=a) if self.overwrite else self.xp.log(a)

    def sqrt(self, a: Any) -> Any:
        return self.xp.sqrt(a, out=a) if self.overwrite else self.xp.sqrt(a)

    def at_least(self, a: Any, threshold: float) -> Any:
        """``1.0`` where ``a ≥ threshold``, else ``0.0``, in ``a``'s dtype.

        Where ``out=`` is taken the comparison writes the floats itself: torch
        converts a boolean tensor to float32 at about 5× the cost of the
        comparison (77 against 16 µs at 2¹⁸ values).
        """
        if self.overwrite:
            return self.xp.greater_equal(a, self.number(threshold, a), out=self.xp.empty_like(a))
        return self.xp.astype(a >= threshold, a.dtype)

    def neg(self, a: Any) -> Any:
        if not self.overwrite:
            return -a
        a *= self.number(-1.0, a)
        return a

    def poly(self, x: Any, coefficients: Sequence[float]) -> Any:
        """``c₀ + c₁x + … + cₙxⁿ`` by Horner's rule (the same order of operations everywhere).

        Updated in place where arrays are mutable (``result`` is always a fresh
        temporary); elsewhere ``+=`` rebinds. Same operations, same rounding.
        """
        result = x * self.number(coefficients[-1], x)
        result += self.number(coefficients[-2], x)
        for c in reversed(coefficients[:-2]):
            result *= x
            result += self.number(c, x)
        return result


def ndtri(xp: Any, p: Any, *, smallest: float = 0.0, lower_half: bool = False, overwrite: bool = False) -> Any:
    """``Φ⁻¹(p)`` elementwise for a float32 or float64 array ``p`` with values in ``(0, 1)``.

    Parameters
    ----------
    xp:
        The array's namespace (``log``, ``sqrt``, ``where``).
    p:
        Probabilities, strictly inside ``(0, 1)``.
    smallest:
        A lower bound on ``min(p, 1 − p)`` known to the caller; when it is at
        least ``exp(−25)`` the far-tail range is skipped (it cannot occur).
    lower_half:
        ``p <= ½`` is known for every element: the side of each is not
        looked up (the same values, fewer operations).
    overwrite:
        The caller owns ``p``, and ``xp``'s elementwise functions take
        ``out=`` (NumPy, torch): ``p`` and the temporaries are overwritten
        instead of fresh ones taken, which are cold in cache. The same
        values; a portable torch normal at 2048² takes about 8 % less.

    Examples
    --------
    >>> import numpy as np
    >>> ndtri(np, np.array([0.025, 0.5, 0.975]))
    array([-1.95996398,  0.        ,  1.95996398])
    """
    table = _PPND7 if p.dtype == xp.float32 else _PPND16
    ops = Elementwise(xp, overwrite)
    q = p - ops.number(0.5, p)
    log_tail = ops.log(p if lower_half else xp.where(q < 0, p, 0.5 - q))
    return _from_parts(ops, table, q, log_tail, far=smallest < _MIN_FAR_TAIL, negative=lower_half)


def central_ndtri(xp: Any, q: Any, *, overwrite: bool = False) -> Any:
    """``Φ⁻¹(½ + q)`` elementwise for ``|q| ≤ 0.425`` (AS 241's central range), from ``q`` itself.

    A caller that forms ``q`` around 0 instead of ``p`` around ½ keeps the
    resolution of small ``q``: next to ½ a float32 ``p`` steps by 2⁻²⁵, so
    ``Φ⁻¹(p)`` near 0 would step by about 7.5e-8 whatever the values' own grid.

    >>> import numpy as np
    >>> central_ndtri(np, np.array([-1e-9, 0.0, 0.3], dtype=np.float32))
    array([-2.5066282e-09,  0.0000000e+00,  8.4162128e-01], dtype=float32)
    """
    table = _PPND7 if q.dtype == xp.float32 else _PPND16
    return _from_parts(Elementwise(xp, overwrite), table, q, None, tail=False, far=False)


def quantile(
    xp: Any, centered: Any, log_tail: Any, *, span: tuple[float, float] = (-0.5, 0.5), smallest: float = 0.0
) -> Any:
    """``Φ⁻¹`` from two forms of the same probability ``p``, each given where it is accurate: PPND16 in any float dtype.

    ``centered = p − ½`` is used where ``|p − ½| ≤ 0.425`` and
    ``log_tail = log min(p, 1 − p)`` elsewhere, so a caller that knows the
    tail probability only by its logarithm (far tails, where it underflows)
    gets full accuracy: relative error about 4e-7 in float32 (a few ulp),
    1e-13 in float64, for ``log_tail`` down to about −745.

    ``span`` (bounds on ``centered``) and ``smallest`` (a lower bound on the
    tail probability), when the caller knows them, skip the ranges that
    cannot occur; ``log_tail`` may be ``None`` when ``span`` lies within
    ``±0.425``.

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([1e-300, 0.3, 0.975])
    >>> quantile(np, p - 0.5, np.log(np.minimum(p, 1 - p)))
    array([-37.0470963 ,  -0.52440051,   1.95996398])
    """
    central = span[0] <= _SPLIT and span[1] >= -_SPLIT
    tail = span[0] < -_SPLIT or span[1] > _SPLIT
    return _from_parts(
        Elementwise(xp, overwrite=False), _PPND16, centered, log_tail, central=central, tail=tail,
        far=smallest < _MIN_FAR_TAIL,
    )


def _from_parts(
    ops: Elementwise,
    table: Mapping[str, Sequence[float]],
    q: Any,
    log_tail: Any,
    *,
    central: bool = True,
    tail: bool = True,
    far: bool,
    negative: bool = False,
) -> Any:
    """AS 241 on ``q = p − ½`` (central range) and ``r = √(−log_tail)`` (tail ranges, sign of ``q``), where needed.

    ``negative``: ``q <= 0`` is known, so the tail's sign and the range are
    read without comparing the sign of ``q``. ``log_tail`` is overwritten
    where ``ops.overwrite``.
    """
    xp = ops.xp
    if central:
        r = q * q
        r = ops.neg(r)
        r += ops.number(0.180625, r)  # 0.180625 − q², rounded once
        inner = ops.poly(r, table["a"])
        inner *= q
        inner /= ops.poly(r, table["b"])
        if not tail:
            return inner
    r = ops.sqrt(ops.neg(log_tail))
    if far:
        s = r - 1.6
    else:
        s = r
        s -= ops.number(1.6, s)  # r is not read again
    outer = ops.poly(s, table["c"])
    outer /= ops.poly(s, table["d"])
    if far:
        s = r - 5.0
        outer = xp.where(r <= 5.0, outer, ops.poly(s, table["e"]) / ops.poly(s, table["f"]))
    if central and negative and table is _PPND7 and not far:
        return _joined(ops, q, inner, outer)
    outer = ops.neg(outer) if negative else xp.where(q < 0, -outer, outer)
    if not central:
        return outer
    return xp.where((q >= -_SPLIT) if negative else (xp.abs(q) <= _SPLIT), inner, outer)


def _joined(ops: Elementwise, q: Any, inner: Any, outer: Any) -> Any:
    """``inner`` where ``q ≥ −0.425``, else ``−outer``, for ``q`` in ``[−½, 0]``: PPND7's two ranges, both finite there.

    PPND7's denominators stay above 0.11 and 0.5 on ``[−½, 0]``, so the range
    is picked by exact products with a 0/1 float ``share`` instead of
    ``where`` (which costs several multiplies on a mask of mixed values in
    NumPy and torch): ``inner·share + outer·(share − 1)`` is ``inner + (±0)``
    or ``(±0) − outer``, the same bits as ``where`` as ``inner`` is never −0.
    The lower side's sign of the tail range is the −1 of ``share − 1``.
    """
    share = ops.at_least(q, -_SPLIT)
    inner *= share
    share -= ops.number(1.0, share)  # 0 on the central range, −1 on the tail, exact
    outer *= share
    inner += outer
    return inner
