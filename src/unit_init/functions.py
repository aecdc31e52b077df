"""The functional form of every initializer: ``ui.he_normal(shape, **options)``.

Each function draws its spec — built and validated once per distinct
parameters (specs are immutable; see :func:`_built`) — with the options of
:meth:`unit_init.Initializer.__call__`
(:class:`~unit_init.spec.options.CallOptions`), handed to
:func:`unit_init.drawing.draw` as they came (``ui.he_normal(shape, **options)``
is ``ui.HeNormal()(shape, **options)`` without binding the keywords a second
time). A misspelt keyword is an :class:`~unit_init.errors.ArgumentError`
(a ``TypeError``) naming the closest valid one.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

from unit_init.drawing import draw
from unit_init.errors import check_binding, check_keywords
from unit_init.spec import catalogue as c
from unit_init.spec import peers as p
from unit_init.spec import structured as x
from unit_init.spec import torch_style as t
from unit_init.spec.constant_array import ConstantArray
from unit_init.spec.initializer import run_by_autograph_as_written
from unit_init.spec.options import CallOptions, Options

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from unit_init.spec.catalogue import DistributionName
    from unit_init.spec.fans import ShapeLike
    from unit_init.spec.initializer import Initializer
    from unit_init.spec.kernel_laws import Side
    from unit_init.spec.rules import Mode
    from unit_init.spec.signal import Scaling
    from unit_init.spec.torch_style import TorchMode

__all__ = [
    "bounded_normal", "constant", "constant_array", "convolution_orthogonal", "delta_orthogonal", "dirac", "eye",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "kaiming_normal", "kaiming_uniform",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform", "sparse", "stft",
    "trunc_normal", "truncated_normal", "uniform_scaling", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros",
]

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound="Initializer")


@functools.cache
def _default(spec: type[S]) -> S:
    """``spec()``, built and validated once: a form without parameters draws from one immutable spec."""
    return spec()


_CACHEABLE: Final = frozenset({float, int, str, type(None)})
_BUILT: dict[tuple[type, tuple[tuple[type, Any, float], ...]], Any] = {}
_MOST_BUILT: Final = 1024


def _built(spec: type[S], *parameters: Any) -> S:
    """``spec(*parameters)``, built and validated once per class and parameters, as :func:`_default` builds a form
    without parameters: a function form draws from one immutable spec per distinct call (``TruncatedNormal(0.0,
    0.05)`` takes ~6 µs to validate).

    Parameters are told apart by type, value and a float's sign, so ``-0.0`` and ``0.0``, ``1`` and ``1.0`` each
    get their own spec (a NaN matches nothing; its spec is refused anyway); no ``repr``, which a 5,000-digit int
    lacks (Python's integer string limit). Parameters of any other type (a bool, a NumPy scalar, an array) build a
    new spec on every call, which validates them as it always does. At most :data:`_MOST_BUILT` specs are kept: a
    new one past that empties the cache first, so a program that has called many distinct parameter sets (a sweep)
    keeps its memory bounded and has the ones it calls now cached again.
    """
    told_apart = []
    for parameter in parameters:
        kind = type(parameter)
        if kind not in _CACHEABLE:
            return spec(*parameters)
        told_apart.append((kind, parameter, math.copysign(1.0, parameter) if kind is float else 0.0))
    key = (spec, tuple(told_apart))
    found: S | None = _BUILT.get(key)
    if found is None:
        found = spec(*parameters)  # refused parameters raise here and are never kept
        if len(_BUILT) >= _MOST_BUILT:
            _BUILT.clear()  # one call in 1,024 (atomic under the GIL: no eviction order to keep between threads)
        _BUILT[key] = found
    return found


def _drawn(spec: Initializer, shape: ShapeLike, options: CallOptions) -> Any:
    """``spec(shape, **options)``: the options straight into :func:`~unit_init.drawing.draw` (an unknown one is a ``TypeError`` here, which :func:`_form` names)."""
    return draw(spec, shape, Options(**options))


def _form(function: F) -> F:
    """``function`` with a misspelt keyword (or a missing or extra argument) answered by :class:`~unit_init.errors.ArgumentError`.

    The keywords are checked only once the call has failed, so a valid call pays nothing for it.
    """
    signature = inspect.signature(function)
    accepted = frozenset(signature.parameters) - {"options"} | CallOptions.__annotations__.keys()

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TypeError:
            check_keywords(f"{function.__name__}()", kwargs, accepted)
            check_binding(f"{function.__name__}()", signature, args, kwargs)
            raise

    return run_by_autograph_as_written(checked)  # type: ignore[return-value]


@_form
def zeros(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """An array of zeros; see :class:`unit_init.Zeros`."""
    return _drawn(_default(c.Zeros), shape, options)


@_form
def ones(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """An array of ones; see :class:`unit_init.Ones`."""
    return _drawn(_default(c.Ones), shape, options)


@_form
def constant(shape: ShapeLike, *, value: float = 0.0, **options: Unpack[CallOptions]) -> Any:
    """An array filled with ``value``; see :class:`unit_init.Constant`."""
    return _drawn(_built(c.Constant, value), shape, options)


@_form
def random_normal(shape: ShapeLike, *, mean: float = 0.0, stddev: float = 0.05, **options: Unpack[CallOptions]) -> Any:
    """``N(mean, stddev²)``; see :class:`unit_init.RandomNormal`."""
    return _drawn(_built(c.RandomNormal, mean, stddev), shape, options)


@_form
def random_uniform(
    shape: ShapeLike, *, minval: float = -0.05, maxval: float = 0.05, **options: Unpack[CallOptions]
) -> Any:
    """``U[minval, maxval)``; see :class:`unit_init.RandomUniform`."""
    return _drawn(_built(c.RandomUniform, minval, maxval), shape, options)


@_form
def truncated_normal(
    shape: ShapeLike, *, mean: float = 0.0, stddev: float = 0.05, lower: float = -2.0, upper: float = 2.0,
    **options: Unpack[CallOptions],
) -> Any:
    """``N(mean, stddev²)`` cut at ``[lower, upper]·stddev`` around the mean (default ±2); see :class:`unit_init.TruncatedNormal`."""
    return _drawn(_built(c.TruncatedNormal, mean, stddev, lower, upper), shape, options)


@_form
def variance_scaling(
    shape: ShapeLike,
    *,
    scale: float = 1.0,
    mode: Mode = "fan_in",
    distribution: DistributionName = "truncated_normal",
    **options: Unpack[CallOptions],
) -> Any:
    """``Var = scale / n``; see :class:`unit_init.VarianceScaling`."""
    return _drawn(_built(c.VarianceScaling, scale, mode, distribution), shape, options)


@_form
def glorot_normal(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """Glorot normal, Var = 2 / (fan_in + fan_out); see :class:`unit_init.GlorotNormal`."""
    return _drawn(_default(c.GlorotNormal), shape, options)


@_form
def glorot_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """Glorot uniform, limit √(6 / (fan_in + fan_out)); see :class:`unit_init.GlorotUniform`."""
    return _drawn(_default(c.GlorotUniform), shape, options)


@_form
def he_normal(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """He normal, Var = 2 / fan_in; see :class:`unit_init.HeNormal`.

    Examples
    --------
    >>> import unit_init as ui
    >>> w = ui.he_normal((256, 128), seed=0)
    >>> w.shape, w.dtype.name
    ((256, 128), 'float32')
    """
    return _drawn(_default(c.HeNormal), shape, options)


@_form
def he_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """He uniform, limit √(6 / fan_in); see :class:`unit_init.HeUniform`."""
    return _drawn(_default(c.HeUniform), shape, options)


@_form
def lecun_normal(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """LeCun normal, Var = 1 / fan_in; see :class:`unit_init.LecunNormal`."""
    return _drawn(_default(c.LecunNormal), shape, options)


@_form
def lecun_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """LeCun uniform, limit √(3 / fan_in); see :class:`unit_init.LecunUniform`."""
    return _drawn(_default(c.LecunUniform), shape, options)


@_form
def orthogonal(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """A (semi-)orthogonal array times ``gain``; see :class:`unit_init.Orthogonal`."""
    return _drawn(_built(c.Orthogonal, gain), shape, options)


@_form
def identity(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """``gain · eye(rows, cols)``; see :class:`unit_init.Identity`."""
    return _drawn(_built(c.Identity, gain), shape, options)


@_form
def dirac(shape: ShapeLike, *, groups: int = 1, **options: Unpack[CallOptions]) -> Any:
    """The identity convolution kernel, per group; see :class:`unit_init.Dirac`."""
    return _drawn(_built(x.Dirac, groups), shape, options)


@_form
def sparse(shape: ShapeLike, *, sparsity: float, stddev: float = 0.01, **options: Unpack[CallOptions]) -> Any:
    """``N(0, stddev²)`` with ``⌈sparsity · fan_out⌉`` zeros for every input unit; see :class:`unit_init.Sparse`."""
    return _drawn(_built(x.Sparse, sparsity, stddev), shape, options)


@_form
def bounded_normal(
    shape: ShapeLike,
    *,
    mean: float = 0.0,
    stddev: float = 1.0,
    minval: float = -2.0,
    maxval: float = 2.0,
    **options: Unpack[CallOptions],
) -> Any:
    """``N(mean, stddev²)`` cut at the absolute bounds ``[minval, maxval]``; see :class:`unit_init.BoundedNormal`."""
    return _drawn(_built(x.BoundedNormal, mean, stddev, minval, maxval), shape, options)


@_form
def delta_orthogonal(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """A Haar-orthogonal ``in × out`` matrix times ``gain`` at the centre tap; see :class:`unit_init.DeltaOrthogonal`."""
    return _drawn(_built(p.DeltaOrthogonal, gain), shape, options)


@_form
def convolution_orthogonal(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """A block-orthogonal kernel (an orthogonal circular convolution); see :class:`unit_init.ConvolutionOrthogonal`."""
    return _drawn(_built(p.ConvolutionOrthogonal, gain), shape, options)


@_form
def uniform_scaling(shape: ShapeLike, *, scale: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """``U[±scale·√(3 / fan_in))``, Haiku's ``UniformScaling``; see :class:`unit_init.UniformScaling`."""
    return _drawn(_built(p.UniformScaling, scale), shape, options)


@_form
def stft(
    shape: ShapeLike,
    *,
    side: Side = "real",
    window: str | Sequence[float] | None = "hann",
    scaling: Scaling | None = "density",
    periodic: bool = False,
    **options: Unpack[CallOptions],
) -> Any:
    """The windowed Fourier basis of Keras's ``STFT``; see :class:`unit_init.STFT`."""
    return _drawn(_built(p.STFT, side, window, scaling, periodic), shape, options)

# --- torch spellings and the array constant ---


@_form
def xavier_uniform(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """U(±gain·√(6 / (n_in + n_out))); see :class:`unit_init.XavierUniform`."""
    return _drawn(_built(t.XavierUniform, gain), shape, options)


@_form
def xavier_normal(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """N(0, gain²·2 / (n_in + n_out)), untruncated; see :class:`unit_init.XavierNormal`."""
    return _drawn(_built(t.XavierNormal, gain), shape, options)


@_form
def kaiming_uniform(
    shape: ShapeLike, *, a: float = 0.0, mode: TorchMode = "fan_in", nonlinearity: str = "leaky_relu",
    **options: Unpack[CallOptions],
) -> Any:
    """U(±g·√(3 / n)), g = calculate_gain(nonlinearity, a); see :class:`unit_init.KaimingUniform`.

    Examples
    --------
    >>> import math
    >>> from unit_init.functions import kaiming_uniform
    >>> w = kaiming_uniform((64, 10), a=math.sqrt(5), seed=0)  # torch's nn.Linear default: U(±1/√64)
    >>> bool(abs(w).max() < 0.125)
    True
    """
    return _drawn(_built(t.KaimingUniform, a, mode, nonlinearity), shape, options)


@_form
def kaiming_normal(
    shape: ShapeLike, *, a: float = 0.0, mode: TorchMode = "fan_in", nonlinearity: str = "leaky_relu",
    **options: Unpack[CallOptions],
) -> Any:
    """N(0, g² / n), untruncated, g = calculate_gain(nonlinearity, a); see :class:`unit_init.KaimingNormal`."""
    return _drawn(_built(t.KaimingNormal, a, mode, nonlinearity), shape, options)


@_form
def trunc_normal(
    shape: ShapeLike, *, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
    **options: Unpack[CallOptions],
) -> Any:
    """N(mean, std²) cut at the absolute bounds [a, b] (torch's ``trunc_normal_``); see :class:`unit_init.BoundedNormal`."""
    return _drawn(_built(x.BoundedNormal, mean, std, a, b), shape, options)


@_form
def eye(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """The identity matrix (broadcast over leading axes); see :class:`unit_init.Identity`."""
    return _drawn(_default(c.Identity), shape, options)


@_form
def constant_array(shape: ShapeLike, *, value: Any, **options: Unpack[CallOptions]) -> Any:
    """``value`` (a number, nested lists or an array) broadcast to ``shape``; see :class:`unit_init.ConstantArray`.

    Examples
    --------
    >>> from unit_init.functions import constant_array
    >>> constant_array((2, 3), value=[1.0, 2.0, 3.0]).tolist()
    [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    """
    return _drawn(ConstantArray(value), shape, options)
