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
from typing import TYPE_CHECKING, Any, Final, Literal, NamedTuple, TypeVar

from unit_init.dtypes import integer_range, is_float, largest_finite
from unit_init.errors import BackendError, DTypeError, ParameterError, abbreviate
from unit_init.portable.words import Words
from unit_init.sampling.broadcast import batched_eye, broadcast, exact_product
from unit_init.spec import distributions as d
from unit_init.spec.kernel_laws import FourierKernel

if TYPE_CHECKING:
    from unit_init.backends.base import Backend
    from unit_init.sampling.streams import Stream

__all__ = ["SAMPLERS", "Draw", "Middle", "Sampler", "at_centre_tap", "dispatch", "haar", "laid_out", "one_hot_tap", "sampler", "truncated_gaussian"]


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
Middle = Literal["upper", "lower"]
"""The centre of a window axis of even size ``k``: ``k // 2`` (``"upper"``) or ``k // 2 − 1`` (``"lower"``)."""
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
    """The sampler registered for ``law``'s type, else its own ``sample`` method, else its nearest registered base's.

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
        return draw.backend.full(draw.shape, _finite_in(law.low, draw.dtype), draw.dtype, draw.device)
    return draw.stream.uniform(draw.shape, _drawn_in(draw), law.low, law.high)


@sampler(d.Normal)
def _normal(law: d.Normal, draw: Draw) -> Any:
    return draw.stream.normal(draw.shape, _drawn_in(draw), law.mean, law.std)


def _drawn_in(draw: Draw) -> str:
    """The dtype a uniform or normal draw is made in: the output dtype where the stream's draw in it is the work
    dtype's rounded once (:meth:`~unit_init.sampling.streams.Stream.rounds_once`), else the work dtype."""
    return draw.dtype if draw.work != draw.dtype and draw.stream.rounds_once(draw.dtype) else draw.work


def scaling(law: d.Distribution) -> float | None:
    """The factor by which ``law``'s sampler multiplies its stream's ``U[0, 1)`` or ``N(0, 1)``, where that product is
    its only multiplication (then one addition): a uniform's ``high − low``, a normal's ``std``. ``None`` for any other
    law, and where a sampler was registered in place of the built-in one."""
    if type(law) is d.Uniform and SAMPLERS.get(d.Uniform) is _uniform and law.low != law.high:
        return law.high - law.low
    if type(law) is d.Normal and SAMPLERS.get(d.Normal) is _normal:
        return law.std
    return None


@sampler(d.TruncatedGaussian)
def truncated_gaussian(law: d.TruncatedGaussian, draw: Draw) -> Any:
    """The stream's own truncated normal (a native stream's comes from the truncation table: a plan takes that method once)."""
    return draw.stream.truncated_normal(draw.shape, draw.work, law.low, law.high, law.mean, law.std)


@sampler(d.HaarOrthogonal)
def _orthogonal(law: d.HaarOrthogonal, draw: Draw) -> Any:
    """``Q·diag(sign(diag(R)))`` of a Gaussian matrix's QR, times the gain, laid out along the law's axes."""
    xp = draw.backend.xp
    return haar(draw, law.gain, law.out_axes, law.batch_axes, lambda shape: draw.stream.normal(shape, draw.work), lambda r: signs(xp, r))


def signs(xp: Any, diagonal: Any) -> Any:
    """``sign(r_ii)`` with ``+1`` for an exact 0: a Gaussian column of zeros (a 1×1 block's one normal, exactly 0 once
    in 2²³ float32 draws on NumPy) gives ``r_ii = 0``, and ``sign`` would zero a column a Haar matrix never has
    (torch's ``orthogonal_`` and Keras's give that 0)."""
    sign = xp.sign(diagonal)
    return xp.where(sign == 0, sign + 1, sign)


def haar(
    draw: Draw,
    gain: float,
    out_axes: tuple[int, ...],
    batch_axes: tuple[int, ...],
    gaussian: Callable[[tuple[int, ...]], Any],
    phases: Callable[[Any], Any],
) -> Any:
    """``gain·Q·diag(phases(diag(R)))``, ``QR`` the QR of ``gaussian(matrices)``, laid out in ``draw.shape``: the Haar laws.

    ``draw.shape`` is viewed as matrices, one per index of ``batch_axes``:
    the ``out_axes`` flattened on one side, every other axis on the other.
    ``gaussian`` draws them ``(*batch, big, small)`` (real or complex
    normals); ``phases`` makes ``R``'s diagonal positive (``sign``, or
    ``r/|r|`` for complex), which makes ``Q`` exactly Haar-distributed
    (Mezzadri 2007); ``Q`` is transposed back when the out side is the larger.
    """
    backend, shape = draw.backend, draw.shape
    xp = backend.xp
    other = tuple(a for a in range(len(shape)) if a not in out_axes and a not in batch_axes)
    rows, cols = math.prod(shape[a] for a in other), math.prod(shape[a] for a in out_axes)
    q, r = backend.qr(gaussian((*(shape[a] for a in batch_axes), max(rows, cols), min(rows, cols))))
    with backend.placement(draw.device):
        fix = xp.expand_dims(phases(xp.linalg.diagonal(r)), axis=-2)
        q = q * (fix if gain == 1 else fix * gain)
        if rows < cols:
            q = xp.matrix_transpose(q)  # the transpose (not the adjoint) of a Haar isometry is one
        return laid_out(xp, q, shape, batch_axes + other + out_axes)


def laid_out(xp: Any, x: Any, shape: tuple[int, ...], order: tuple[int, ...]) -> Any:
    """``x``, whose elements run over ``shape``'s axes taken in ``order`` (row-major), laid out in ``shape``.

    One reshape to ``shape``'s sizes in ``order`` and one permutation, each
    skipped where it changes nothing (a plain matrix is returned as it is).
    """
    arranged = tuple(shape[a] for a in order)
    if tuple(x.shape) != arranged:
        x = xp.reshape(x, arranged)
    permutation = tuple(order.index(a) for a in range(len(shape)))
    return x if permutation == tuple(range(len(shape))) else xp.permute_dims(x, permutation)


@sampler(d.SparseNormal)
def _sparse(law: d.SparseNormal, draw: Draw) -> Any:
    """Normal values, those of the ``zeros`` smallest of per-column uniform keys set to 0 (:meth:`Backend.smallest`;
    its default needs ``argsort``)."""
    backend = draw.backend
    xp = backend.xp
    if not hasattr(xp, "argsort"):
        msg = f"Sparse needs argsort, which the {backend.name} backend's namespace lacks; draw on another backend."
        raise BackendError(msg)
    values = draw.stream.normal(draw.shape, draw.work, 0.0, law.std)
    keys = draw.stream.uniform(draw.shape, draw.work)
    with backend.placement(draw.device):
        try:
            zeroed = backend.smallest(keys, law.zeros, law.out_axis)
        except ValueError as error:  # a device without argsort's index dtype (array_api_strict's "no_x64": int64)
            msg = f"Sparse ranks its keys with argsort, which the {backend.name} backend refused on device {draw.device}: {error}"
            raise DTypeError(msg) from None
        return xp.where(zeroed, xp.zeros_like(values), values)


# --- deterministic laws: values in the output dtype, exactly ------------------------------


def _stored_exactly(name: str, value: Any, dtype: str) -> None:
    """:class:`~unit_init.ParameterError` where a number of ``value`` (a number, or nested tuples of them) is not an
    integer in the integer ``dtype``'s range, so the array would not hold it exactly."""
    low, high = integer_range(dtype)
    for number in d.leaves(value):
        if not float(number).is_integer() or not low <= number <= high:
            which = "" if number is value else f" holds {abbreviate(number)}, which"
            msg = f"{name}={abbreviate(value)}{which} cannot be stored exactly in dtype={dtype!r} (integers {low}..{high})."
            raise ParameterError(msg)


def check_integer_dtype(law: d.Distribution, dtype: str) -> None:
    """Refuse a non-float ``dtype`` (an integer, ``bool``) that the deterministic ``law`` cannot be drawn in exactly,
    before any draw: a constant, an array constant or an identity's gain that the dtype would not hold (a
    :class:`~unit_init.ParameterError`), or a law whose values are never integers (ZerO's scaled Hadamard entries, the
    STFT's cosines: a :class:`~unit_init.DTypeError`). :func:`~unit_init.sampling.planned` runs it, so a whole-model
    ``initialize``, which plans every parameter first, refuses before it writes anything."""
    if isinstance(law, (d.PointMass, d.ArrayConstant)):
        _stored_exactly("value", law.value, dtype)
    elif isinstance(law, d.Eye):
        _stored_exactly("gain", law.gain, dtype)
    elif isinstance(law, d.ZerOValues):
        msg = f"ZerO draws scaled Hadamard entries, which need a floating dtype, not dtype={dtype!r}."
        raise DTypeError(msg)
    elif isinstance(law, FourierKernel):
        msg = f"the STFT kernel holds cosines and sines, which need a floating dtype, not dtype={dtype!r}."
        raise DTypeError(msg)


@sampler(d.PointMass)
def _constant(law: d.PointMass, draw: Draw) -> Any:
    value = _finite_in(float(law.value), draw.dtype) if is_float(draw.dtype) else int(law.value)
    return draw.backend.full(draw.shape, value, draw.dtype, draw.device)


def _finite_in(value: float, dtype: str) -> float:
    """``value`` as the float ``dtype`` rounds it where it lies past the largest finite value but below the magnitude
    that rounds to inf (65519 in float16 is 65504): torch's ``full`` refuses such a value ("cannot be converted …
    without overflow") where the others round it."""
    largest = largest_finite(dtype)
    return math.copysign(largest, value) if abs(value) > largest else value


@sampler(d.ArrayConstant)
def _array_constant(law: d.ArrayConstant, draw: Draw) -> Any:
    """``law.value`` made on the device in the output dtype, broadcast to the shape (NumPy's rules)."""
    value = law.value
    backend, number = draw.backend, (float if is_float(draw.dtype) else bool if draw.dtype == "bool" else int)
    with backend.placement(draw.device):
        x = backend.xp.asarray(_lists(value, number), dtype=backend.dtype_on(draw.dtype, draw.device), device=draw.device)
    return broadcast(backend, x, draw.shape, draw.dtype, draw.device)


def _lists(value: Any, number: Callable[[Any], Any]) -> Any:
    """Nested tuples as nested lists of ``number(element)`` (a number: ``number(value)``), what ``asarray`` takes."""
    return [_lists(v, number) for v in value] if isinstance(value, tuple) else number(value)


@sampler(d.Eye)
def _identity(law: d.Eye, draw: Draw) -> Any:
    """``gain·eye(rows, cols)`` at every leading index of a shape ``(..., rows, cols)`` (Haiku's batched identity)."""
    gain = _finite_in(float(law.gain), draw.dtype) if is_float(draw.dtype) else int(law.gain)  # an int gain would overflow JAX's int32 arithmetic
    return batched_eye(draw.backend, gain, draw.shape, draw.dtype, draw.device)


def one_hot_tap(backend: Backend, sizes: tuple[int, ...], position: tuple[int, ...], dtype: str, device: Any) -> Any:
    """The one-hot row ``(1, k₁·…·k_r)`` of the tap ``position`` in a window of ``sizes`` (row-major): the tap indices
    compared with ``position``'s, so ``k₁·…·k_r`` work and memory (a row of an identity matrix took its square)."""
    window, index = math.prod(sizes), 0
    for size, at in zip(sizes, position, strict=True):
        index = index * size + at
    xp = backend.xp
    taps = Words(xp, backend.word_dtype, device).arange(0, window)
    return xp.reshape(xp.astype(taps == index, backend.dtype_on(dtype, device)), (1, window))


def at_centre_tap(draw: Draw, matrix: Any, in_axis: int, out_axis: int, dtype: str, middle: Middle = "upper") -> Any:
    """The ``(out, in)`` ``matrix`` (in ``dtype``) at the centre tap of every window axis, 0 elsewhere, laid out in ``draw.shape``.

    The window axes are all but ``in_axis`` and ``out_axis``. The centre of
    one of size ``k`` is its upper middle ``k // 2`` (torch's ``dirac_``,
    ZerO) or its lower middle ``(k − 1) // 2`` (``middle="lower"``: JAX's and
    TensorFlow's delta-orthogonal); they differ for even ``k``.
    """
    backend, shape = draw.backend, draw.shape
    xp = backend.xp
    window_axes = tuple(a for a in range(len(shape)) if a not in (in_axis, out_axis))
    sizes = tuple(shape[a] for a in window_axes)
    centre = tuple(k // 2 if middle == "upper" else (k - 1) // 2 for k in sizes)
    tap = one_hot_tap(backend, sizes, centre, dtype, draw.device)
    kernel = exact_product(xp, xp.reshape(matrix, (shape[out_axis], shape[in_axis], 1)), xp.reshape(tap, (1, 1, tap.shape[-1])), dtype)
    return laid_out(xp, kernel, shape, (out_axis, in_axis, *window_axes))


@sampler(d.DiracKernel)
def _dirac(law: d.DiracKernel, draw: Draw) -> Any:
    """Per group, the ``(out/groups, in)`` identity at the centre tap."""
    backend, shape = draw.backend, draw.shape
    out, inputs = shape[law.out_axis], shape[law.in_axis]
    per_group = out // law.groups
    with backend.placement(draw.device):
        ones = backend.full((law.groups, 1, 1), 1, draw.dtype, draw.device)
        identity = backend.xp.reshape(backend.eye(per_group, inputs, 1, draw.dtype, draw.device), (1, per_group, inputs))
        block = exact_product(backend.xp, identity, ones, draw.dtype)
        return at_centre_tap(draw, backend.xp.reshape(block, (out, inputs)), law.in_axis, law.out_axis, draw.dtype)


@sampler(d.ZerOValues)
def _zero(law: d.ZerOValues, draw: Draw) -> Any:
    """The partial identity (``out <= in``) or ``c·H[:out, :in]`` (Sylvester Hadamard ``H``) at the centre tap."""
    backend, shape = draw.backend, draw.shape
    rows, cols = shape[law.out_axis], shape[law.in_axis]
    with backend.placement(draw.device):
        block = _hadamard_block(backend, rows, cols, draw.dtype, draw.device)
        return at_centre_tap(draw, block, law.in_axis, law.out_axis, draw.dtype)


def _hadamard_block(backend: Backend, rows: int, cols: int, dtype: str, device: Any) -> Any:
    """The ``rows × cols`` block of ZerO: ``eye`` when ``rows <= cols``, else ``c·H[:rows, :cols]``.

    The Sylvester Hadamard matrix has ``H[i, j] = (−1)^popcount(i & j)``, so
    the block is computed entry by entry from the row and column indices:
    ``rows × cols`` work and memory, never the whole ``2^m × 2^m`` matrix
    (a ``Linear(16, 70000)`` would need 2^34 entries).
    """
    if rows <= cols:
        return backend.eye(rows, cols, 1, dtype, device)
    xp = backend.xp
    c, _ = d.hadamard_constants(rows)
    words = Words(xp, backend.word_dtype, device)
    both = xp.bitwise_and(xp.reshape(words.arange(0, rows), (rows, 1)), xp.reshape(words.arange(0, cols), (1, cols)))
    for shift in (16, 8, 4, 2, 1):  # fold the bits onto bit 0: its value is the parity of popcount(i & j)
        both = xp.bitwise_xor(both, words.shr(both, shift))
    parity = xp.astype(words.mask(both, 1), backend.dtype_on(dtype, device))
    return (1 - 2 * parity) * c
