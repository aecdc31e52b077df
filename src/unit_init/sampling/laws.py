"""The sampler of each law, registered per law type.

A sampler ``(law, draw) -> array`` draws from ``draw.stream`` only, so one
sampler serves every backend and both streams (native and portable):

* a *random* law's sampler returns values in the work dtype ``draw.work``;
  the sampling entry (:func:`unit_init.sampling.sample`) then confines them
  to the law's support on the output dtype's grid and casts once;
* a *deterministic* law's (``random = False``) builds its values in the
  output dtype ``draw.dtype`` itself, exactly (integer dtypes included).

A law defined outside unit_init — a subclass of
:class:`~unit_init.spec.distributions.Distribution` — either registers a
sampler with :func:`sampler` or defines ``sample(self, backend, draw)``
returning the final array (in ``draw.dtype``); :func:`dispatch` falls back
to that method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TypeVar

from unit_init.dtypes import integer_range, is_float
from unit_init.errors import BackendError, DTypeError, ParameterError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec.scaled import ZerOValues, hadamard_constants

if TYPE_CHECKING:
    from unit_init.backends.base import Backend
    from unit_init.sampling.streams import Stream

__all__ = ["SAMPLERS", "Draw", "Sampler", "dispatch", "sampler"]


class Draw(NamedTuple):
    """One draw: ``shape`` values in the output ``dtype`` on ``device``, sampled in ``work`` from ``stream``.

    A named tuple: built on every call, in a fraction of a frozen dataclass's time.
    """

    backend: Backend
    shape: tuple[int, ...]
    dtype: str
    work: str
    device: Any
    stream: Stream


Sampler = Callable[[Any, Draw], Any]
SAMPLERS: Final[dict[type[d.Distribution], Sampler]] = {}
"""The sampler of each law type (see the module docstring)."""

L = TypeVar("L", bound=d.Distribution)


def sampler(law: type[L]) -> Callable[[Callable[[L, Draw], Any]], Callable[[L, Draw], Any]]:
    """Register the decorated function as the sampler of ``law`` (and of its subclasses without their own)."""

    def register(function: Callable[[L, Draw], Any]) -> Callable[[L, Draw], Any]:
        SAMPLERS[law] = function
        return function

    return register


def dispatch(law: d.Distribution) -> Sampler:
    """The sampler of ``law``'s type (or nearest registered base), else its own ``sample`` method.

    Raises :class:`~unit_init.ParameterError` for a law with neither.
    """
    found = SAMPLERS.get(type(law))
    if found is not None:
        return found
    own = getattr(type(law), "sample", None)
    if own is not None:
        return lambda law, draw: own(law, draw.backend, draw)
    for base in type(law).__mro__[1:]:
        if base in SAMPLERS:
            return SAMPLERS[base]
    msg = f"{type(law).__name__} has no sampler; register one with unit_init.sampling.sampler or define sample(self, backend, draw)."
    raise ParameterError(msg)


# --- random laws: values in the work dtype ---------------------------------------------


@sampler(d.Uniform)
def _uniform(law: d.Uniform, draw: Draw) -> Any:
    if law.low == law.high:  # a single value: in the output dtype, exactly as a constant (the cast is then a no-op)
        return draw.backend.full(draw.shape, law.low, draw.dtype, draw.device)
    return draw.stream.uniform(draw.shape, draw.work, law.low, law.high)


@sampler(d.Normal)
def _normal(law: d.Normal, draw: Draw) -> Any:
    return draw.stream.normal(draw.shape, draw.work, law.mean, law.std)


@sampler(d.TruncatedGaussian)
def _truncated_normal(law: d.TruncatedGaussian, draw: Draw) -> Any:
    return draw.stream.truncated_normal(draw.shape, draw.work, law.low, law.high, law.mean, law.std)


@sampler(d.HaarOrthogonal)
def _orthogonal(law: d.HaarOrthogonal, draw: Draw) -> Any:
    """``Q·diag(sign(diag(R)))`` of a Gaussian matrix's QR, times the gain, laid out along the law's axes."""
    backend, shape = draw.backend, draw.shape
    xp = backend.xp
    other = tuple(a for a in range(len(shape)) if a not in law.out_axes and a not in law.batch_axes)
    order = law.batch_axes + other + law.out_axes
    batch = tuple(shape[a] for a in law.batch_axes)
    rows, cols = math.prod(shape[a] for a in other), math.prod(shape[a] for a in law.out_axes)
    big, small = max(rows, cols), min(rows, cols)
    q, r = backend.qr(draw.stream.normal((*batch, big, small), draw.work))
    permutation = tuple(order.index(a) for a in range(len(shape)))
    with backend.placement(draw.device):
        signs = xp.expand_dims(xp.sign(xp.linalg.diagonal(r)), axis=-2)
        q = q * (signs if law.gain == 1 else signs * law.gain)
        if rows < cols:
            q = xp.matrix_transpose(q)
        if permutation != tuple(range(len(shape))) or q.shape != shape:  # skipped for a plain (rows, cols) matrix
            q = xp.reshape(q, tuple(shape[a] for a in order))
            q = xp.permute_dims(q, permutation)
    return q


@sampler(d.SparseNormal)
def _sparse(law: d.SparseNormal, draw: Draw) -> Any:
    """Normal values, the ``zeros`` smallest of per-column uniform keys' ranks set to 0 (needs ``argsort``)."""
    backend = draw.backend
    xp = backend.xp
    if not hasattr(xp, "argsort"):
        msg = f"Sparse needs argsort, which the {backend.name} backend's namespace lacks; draw on another backend."
        raise BackendError(msg)
    values = draw.stream.normal(draw.shape, draw.work, 0.0, law.std)
    keys = draw.stream.uniform(draw.shape, draw.work)
    with backend.placement(draw.device):
        ranks = xp.argsort(xp.argsort(keys, axis=law.out_axis), axis=law.out_axis)
        return xp.where(ranks < law.zeros, xp.zeros_like(values), values)


# --- deterministic laws: values in the output dtype, exactly ------------------------------


@sampler(d.PointMass)
def _constant(law: d.PointMass, draw: Draw) -> Any:
    if not is_float(draw.dtype):
        low, high = integer_range(draw.dtype)
        if not float(law.value).is_integer() or not low <= law.value <= high:
            msg = f"value={abbreviate(law.value)} cannot be stored exactly in dtype={draw.dtype!r} (range {low}..{high})."
            raise ParameterError(msg)
        return draw.backend.full(draw.shape, int(law.value), draw.dtype, draw.device)
    return draw.backend.full(draw.shape, float(law.value), draw.dtype, draw.device)


@sampler(d.Eye)
def _identity(law: d.Eye, draw: Draw) -> Any:
    rows, cols = draw.shape
    if not is_float(draw.dtype) and not float(law.gain).is_integer():
        msg = f"gain={abbreviate(law.gain)} cannot be stored exactly in dtype={draw.dtype!r}."
        raise ParameterError(msg)
    gain = law.gain if is_float(draw.dtype) else int(law.gain)
    return draw.backend.eye(rows, cols, gain, draw.dtype, draw.device)


def _centre_tap(backend: Backend, shape: tuple[int, ...], window_axes: tuple[int, ...], dtype: str, device: Any) -> Any:
    """The one-hot row ``(1, window)`` of the centre tap ``(size // 2, …)`` of the window axes (row-major)."""
    window, centre = math.prod(shape[a] for a in window_axes), 0
    for axis in window_axes:
        centre = centre * shape[axis] + shape[axis] // 2
    return backend.eye(window, window, 1, dtype, device)[centre : centre + 1, :]


def _at_centre_tap(draw: Draw, matrix: Any, in_axis: int, out_axis: int) -> Any:
    """The ``(out, in)`` ``matrix`` at the centre tap of every window axis, 0 elsewhere, laid out in ``draw.shape``."""
    backend, shape = draw.backend, draw.shape
    xp = backend.xp
    window_axes = tuple(a for a in range(len(shape)) if a not in (in_axis, out_axis))
    out, inputs = shape[out_axis], shape[in_axis]
    tap = _centre_tap(backend, shape, window_axes, draw.dtype, draw.device)
    kernel = xp.reshape(matrix, (out, inputs, 1)) * xp.reshape(tap, (1, 1, tap.shape[-1]))
    order = (out_axis, in_axis, *window_axes)
    kernel = xp.reshape(kernel, tuple(shape[a] for a in order))
    return xp.permute_dims(kernel, tuple(order.index(a) for a in range(len(shape))))


@sampler(d.DiracKernel)
def _dirac(law: d.DiracKernel, draw: Draw) -> Any:
    """Per group, the ``(out/groups, in)`` identity at the centre tap."""
    backend, shape = draw.backend, draw.shape
    out, inputs = shape[law.out_axis], shape[law.in_axis]
    per_group = out // law.groups
    with backend.placement(draw.device):
        ones = backend.full((law.groups, 1, 1), 1, draw.dtype, draw.device)
        block = backend.xp.reshape(backend.eye(per_group, inputs, 1, draw.dtype, draw.device), (1, per_group, inputs)) * ones
        return _at_centre_tap(draw, backend.xp.reshape(block, (out, inputs)), law.in_axis, law.out_axis)


@sampler(ZerOValues)
def _zero(law: ZerOValues, draw: Draw) -> Any:
    """The partial identity (``out <= in``) or ``c·H[:out, :in]`` (Sylvester Hadamard ``H``) at the centre tap."""
    if not is_float(draw.dtype):
        msg = f"ZerO draws scaled Hadamard entries, which need a floating dtype, not dtype={draw.dtype!r}."
        raise DTypeError(msg)
    backend, shape = draw.backend, draw.shape
    rows, cols = shape[law.out_axis], shape[law.in_axis]
    with backend.placement(draw.device):
        return _at_centre_tap(draw, _hadamard_block(backend, rows, cols, draw.dtype, draw.device), law.in_axis, law.out_axis)


def _hadamard_block(backend: Backend, rows: int, cols: int, dtype: str, device: Any) -> Any:
    """The ``rows × cols`` block of ZerO: ``eye`` when ``rows <= cols``, else ``c·H[:rows, :cols]``."""
    if rows <= cols:
        return backend.eye(rows, cols, 1, dtype, device)
    xp = backend.xp
    c, size = hadamard_constants(rows)
    bit = xp.reshape(backend.full((1, 2), 1, dtype, device) - backend.eye(1, 2, 1, dtype, device), (2,))  # [0, 1]
    sign = 1 - 2 * xp.reshape(bit, (2, 1, 1, 1)) * xp.reshape(bit, (1, 1, 2, 1))  # H₁ = [[1, 1], [1, −1]]
    h, n = backend.full((1, 1), c, dtype, device), 1
    while n < size:  # Sylvester: H₂ₙ = H₁ ⊗ Hₙ, by broadcasting (every namespace has reshape and *)
        h, n = xp.reshape(sign * xp.reshape(h, (1, n, 1, n)), (2 * n, 2 * n)), 2 * n
    return h[:rows, :cols]
