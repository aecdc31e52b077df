"""The functional form of every initializer: ``ui.he_normal(shape, **options)``.

Each function builds its spec and calls it; the options are those of
:meth:`unit_init.Initializer.__call__` (backend, device, dtype, seed, layout,
like, fan_in, fan_out, rng). A misspelt keyword is an
:class:`~unit_init.errors.ArgumentError` (a ``TypeError``) naming the closest
valid one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from unit_init.errors import ArgumentError, check_keywords
from unit_init.spec import catalogue as c
from unit_init.spec import structured as x
from unit_init.spec.initializer import CallOptions

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from unit_init.spec.catalogue import DistributionName
    from unit_init.spec.fans import ShapeLike
    from unit_init.spec.rules import Mode

__all__ = [
    "bounded_normal", "constant", "dirac", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "sparse", "truncated_normal", "variance_scaling", "zeros",
]

F = TypeVar("F", bound=Callable[..., Any])


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
            try:
                signature.bind(*args, **kwargs)
            except TypeError as unbound:  # a missing or extra argument: Python's message, typed
                msg = f"{function.__name__}(): {unbound}."
                raise ArgumentError(msg) from None
            raise

    return checked  # type: ignore[return-value]


@_form
def zeros(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """An array of zeros; see :class:`unit_init.Zeros`."""
    return c.Zeros()(shape, **options)


@_form
def ones(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """An array of ones; see :class:`unit_init.Ones`."""
    return c.Ones()(shape, **options)


@_form
def constant(shape: ShapeLike, *, value: float = 0.0, **options: Unpack[CallOptions]) -> Any:
    """An array filled with ``value``; see :class:`unit_init.Constant`."""
    return c.Constant(value)(shape, **options)


@_form
def random_normal(shape: ShapeLike, *, mean: float = 0.0, stddev: float = 0.05, **options: Unpack[CallOptions]) -> Any:
    """``N(mean, stddev²)``; see :class:`unit_init.RandomNormal`."""
    return c.RandomNormal(mean, stddev)(shape, **options)


@_form
def random_uniform(
    shape: ShapeLike, *, minval: float = -0.05, maxval: float = 0.05, **options: Unpack[CallOptions]
) -> Any:
    """``U[minval, maxval)``; see :class:`unit_init.RandomUniform`."""
    return c.RandomUniform(minval, maxval)(shape, **options)


@_form
def truncated_normal(
    shape: ShapeLike, *, mean: float = 0.0, stddev: float = 0.05, **options: Unpack[CallOptions]
) -> Any:
    """``N(mean, stddev²)`` cut at ±2·stddev; see :class:`unit_init.TruncatedNormal`."""
    return c.TruncatedNormal(mean, stddev)(shape, **options)


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
    return c.VarianceScaling(scale, mode, distribution)(shape, **options)


@_form
def glorot_normal(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """Glorot normal, Var = 2 / (fan_in + fan_out); see :class:`unit_init.GlorotNormal`."""
    return c.GlorotNormal()(shape, **options)


@_form
def glorot_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """Glorot uniform, limit √(6 / (fan_in + fan_out)); see :class:`unit_init.GlorotUniform`."""
    return c.GlorotUniform()(shape, **options)


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
    return c.HeNormal()(shape, **options)


@_form
def he_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """He uniform, limit √(6 / fan_in); see :class:`unit_init.HeUniform`."""
    return c.HeUniform()(shape, **options)


@_form
def lecun_normal(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """LeCun normal, Var = 1 / fan_in; see :class:`unit_init.LecunNormal`."""
    return c.LecunNormal()(shape, **options)


@_form
def lecun_uniform(shape: ShapeLike, **options: Unpack[CallOptions]) -> Any:
    """LeCun uniform, limit √(3 / fan_in); see :class:`unit_init.LecunUniform`."""
    return c.LecunUniform()(shape, **options)


@_form
def orthogonal(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """A (semi-)orthogonal array times ``gain``; see :class:`unit_init.Orthogonal`."""
    return c.Orthogonal(gain)(shape, **options)


@_form
def identity(shape: ShapeLike, *, gain: float = 1.0, **options: Unpack[CallOptions]) -> Any:
    """``gain · eye(rows, cols)``; see :class:`unit_init.Identity`."""
    return c.Identity(gain)(shape, **options)


@_form
def dirac(shape: ShapeLike, *, groups: int = 1, **options: Unpack[CallOptions]) -> Any:
    """The identity convolution kernel, per group; see :class:`unit_init.Dirac`."""
    return x.Dirac(groups)(shape, **options)


@_form
def sparse(shape: ShapeLike, *, sparsity: float, stddev: float = 0.01, **options: Unpack[CallOptions]) -> Any:
    """``N(0, stddev²)`` with ``⌈sparsity · rows⌉`` zeros per column; see :class:`unit_init.Sparse`."""
    return x.Sparse(sparsity, stddev)(shape, **options)


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
    return x.BoundedNormal(mean, stddev, minval, maxval)(shape, **options)
