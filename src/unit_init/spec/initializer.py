"""The :class:`Initializer` base: an immutable spec that resolves to a distribution per shape.

A spec answers three questions without touching any array —
:meth:`~Initializer.fans`, :meth:`~Initializer.variance` and
:meth:`~Initializer.distribution_for` — and calling it draws a native array
on any backend (see :func:`unit_init.drawing.draw`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import numbers
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Final, TypeVar, cast

from unit_init.errors import (
    ArgumentError,
    ParameterError,
    SeedError,
    ShapeError,
    UnitInitError,
    abbreviate,
    check_binding,
    check_keywords,
    keywords_checked,
)
from unit_init.seeds import MAX_SEED
from unit_init.spec._checks import CONFIG_INT_BITS, plain_number
from unit_init.spec.distributions import Distribution
from unit_init.spec.fans import Fans, LayoutLike, ShapeLike, compute_fans, normalize_shape
from unit_init.spec.options import BackendLike, CallOptions, Options

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["CallOptions", "Initializer", "numeric_fields"]


@functools.cache  # an import statement costs ~0.4 µs per call even when the module is loaded
def _draw() -> Callable[[Initializer, ShapeLike, Options], Any]:
    """:func:`unit_init.drawing.draw`, imported on the first call: the one import up, from the spec layer to the draw paths above it."""
    from unit_init.drawing import draw

    return draw


@functools.cache
def _parameters(cls: type) -> tuple[str, ...]:
    """The parameters a spec class takes: its dataclass fields that ``__init__`` accepts (looked up once per class)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


class _Constructed(type):
    """The specs' metaclass: a construction whose arguments do not bind to ``__init__`` (a missing or an extra one) is
    an :class:`~unit_init.errors.ArgumentError` with Python's words and the signature. Checked only once the
    construction has raised ``TypeError``; pickle and ``copy``, which call ``__new__`` alone, never reach it."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except TypeError as error:
            if not isinstance(error, UnitInitError):
                check_binding(f"{cls.__name__}()", inspect.signature(cast("Any", cls).__init__), (None, *args), kwargs)
            raise

    @property
    def __signature__(cls) -> inspect.Signature:
        """What a construction takes (``__init__``'s parameters after ``self``), as ``inspect.signature``, ``help()``
        and editors show it; they would otherwise read this metaclass's ``__call__(*args, **kwargs)``."""
        init = inspect.signature(cast("Any", cls).__init__)
        return init.replace(parameters=tuple(init.parameters.values())[1:], return_annotation=inspect.Signature.empty)


_SHAPE_KEYWORDS: Final = frozenset({"shape", "layout", "fan_in", "fan_out"})
"""What :meth:`Initializer.distribution_for` and :meth:`Initializer.variance` take, in every spec."""

_KEYWORDS_CHECKED: Final[weakref.WeakSet[Callable[..., Any]]] = weakref.WeakSet()
"""The subclasses' methods already given those keywords (:meth:`Initializer.__init_subclass__`)."""

_REQUIRED: Final[Any] = object()
"""The default of ``shape`` in :meth:`Initializer.__call__`, so that a call without one is an
:class:`~unit_init.errors.ArgumentError` (Python's own ``TypeError`` for a missing argument is no ``UnitInitError``);
its signature still shows ``shape`` as required."""

_PLAIN: Final = frozenset({int, float, bool, type(None), str})
_NUMERIC: Final = frozenset({"float", "int", "float | None", "int | None", float, int})  # strings under postponed annotations


_NUMERIC_FIELDS: Final[dict[type, tuple[str, ...]]] = {}

_FLOATS: Final = frozenset({"float", "float | None", float})


def _holds_float(spec: type, name: str) -> bool:
    """Whether ``spec``'s field ``name`` is annotated as a float (optional or not)."""
    return spec.__dataclass_fields__[name].type in _FLOATS  # type: ignore[attr-defined]


def numeric_fields(spec: type) -> tuple[str, ...]:
    """The fields of ``spec`` annotated as a number (``float``, ``int``, optional or not), read by their value; not ``seed``,
    which takes an int (or a NumPy integer) as a call's ``seed=`` does, never a 0-d array. Looked up once per class."""
    found = _NUMERIC_FIELDS.get(spec)
    if found is None:
        found = _NUMERIC_FIELDS[spec] = tuple(f.name for f in dataclasses.fields(spec) if f.type in _NUMERIC and f.name != "seed")
    return found


_AUTOGRAPH_ARTIFACT: Final = "autograph_info__"

Opaque = TypeVar("Opaque", bound=Callable[..., Any])


def run_by_autograph_as_written(entity: Opaque) -> Opaque:
    """``entity`` (a function or a class) marked for TensorFlow's AutoGraph to call as it is, never transpiled.

    Inside ``tf.function`` AutoGraph rewrites every Python function it meets
    outside its list of known libraries: unit_init's whole call path, which
    holds no tensor-dependent control flow, took 1.3–1.7 s of conversion on
    a first trace instead of 5 ms. The mark is the attribute
    ``tf.autograph.experimental.do_not_convert`` sets on what it returns, set
    here without importing TensorFlow; a class's instances carry it too.
    """
    setattr(entity, _AUTOGRAPH_ARTIFACT, frozenset())
    return entity


@run_by_autograph_as_written
@dataclass(frozen=True, slots=True)
class Initializer(metaclass=_Constructed):
    """Base class of every initializer spec.

    Subclasses are frozen dataclasses whose fields are the initializer's
    parameters; they implement :meth:`distribution_for` and may narrow the
    accepted ranks with ``min_rank`` / ``max_rank``.

    Parameters
    ----------
    seed:
        Default seed for calls that pass none (Keras style); a call's own
        ``seed=`` wins.
    """

    seed: int | None = field(default=None, kw_only=True)
    random: ClassVar[bool] = True
    """Whether a draw takes random numbers (``False``: constants, identities, the STFT basis, whose seed is unused)."""
    min_rank: ClassVar[int] = 0
    complex_form: ClassVar[bool] = True
    """Whether a complex dtype draws the complex counterpart of this spec's law (docs/complex.md); ``False`` refuses it."""
    max_rank: ClassVar[int | None] = None
    array_fields: ClassVar[tuple[str, ...]] = ()
    """Parameters that may hold numbers in (nested) tuples, which a config writes as (nested) lists and the spec checks."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Give a subclass's own ``distribution_for`` and ``variance`` the keywords of the base's (and keep their own):
        one written with ``**_`` (fans it ignores) still answers a misspelt ``layuot=`` with an
        :class:`~unit_init.errors.ArgumentError`. A method that is no plain function (a ``classmethod``, a
        ``partialmethod``) is left as it is."""
        super(Initializer, cls).__init_subclass__(**kwargs)  # zero-argument super() fails in a slotted dataclass
        for name in ("distribution_for", "variance"):
            method = cls.__dict__.get(name)
            if inspect.isfunction(method) and method not in _KEYWORDS_CHECKED:  # a slotted dataclass is made again from the same dict
                checked = keywords_checked(method, accepted=_SHAPE_KEYWORDS)
                _KEYWORDS_CHECKED.add(checked)
                setattr(cls, name, checked)

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Answer a misspelt parameter (``RandomNormal(stdev=1.0)``) with the closest valid one, before ``__init__``."""
        if kwargs:
            check_keywords(f"{cls.__name__}()", kwargs, _parameters(cast("type", cls)))
        return object.__new__(cls)  # not super(): the slotted dataclass is a new class

    def __post_init__(self) -> None:
        if type(self) is Initializer:
            msg = "Initializer is the base class of the specs, with no law of its own: use one (ui.HeNormal(), …) or subclass it."
            raise ParameterError(msg)
        for name in numeric_fields(type(self)):  # NumPy/JAX/torch scalars become the Python numbers configs hold
            value = getattr(self, name)
            if type(value) not in _PLAIN:
                value = plain_number(value)
                object.__setattr__(self, name, value)
            if type(value) is float and value == 0.0:  # -0.0 == 0.0, hashed alike: equal specs must draw alike, so zero is +0.0
                object.__setattr__(self, name, 0.0)
            elif type(value) is int and value.bit_length() > CONFIG_INT_BITS and _holds_float(type(self), name):
                with contextlib.suppress(OverflowError):  # beyond float64 (10**400): left to the parameter's own check
                    object.__setattr__(self, name, float(value))  # equal and hashed alike, and a config holds it
        for name in _parameters(type(self)):  # a str subclass (numpy.str_) is kept as the plain str it holds, as configs write it
            value = getattr(self, name)
            if isinstance(value, str) and type(value) is not str:
                object.__setattr__(self, name, str.__str__(value))
        given: object = self.seed  # annotated int | None, given anything
        if type(given) not in (int, bool) and isinstance(given, numbers.Integral):  # a NumPy integer, as a call's seed=
            object.__setattr__(self, "seed", plain_number(given))  # an int subclass its value; an array or tensor no seed
        if self.seed is not None and (
            isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED
        ):
            msg = f"{type(self).__name__}(seed={abbreviate(self.seed)}): a spec's seed must be None or an int in [0, 2**63 - 1]."
            raise SeedError(msg)
        self._validate()

    def _validate(self) -> None:
        """Check the parameters; raise :class:`~unit_init.ParameterError` naming the bad one."""

    def distribution_for(
        self,
        shape: ShapeLike,
        *,
        layout: LayoutLike = None,
        fan_in: float | None = None,
        fan_out: float | None = None,
    ) -> Distribution:
        """The concrete distribution this spec draws for ``shape``."""
        msg = f"{type(self).__name__} does not define distribution_for(shape), which every spec must: it has no law to draw."
        raise NotImplementedError(msg)

    @keywords_checked
    def fans(
        self,
        shape: ShapeLike,
        *,
        layout: LayoutLike = None,
        fan_in: float | None = None,
        fan_out: float | None = None,
    ) -> Fans:
        """The fans of ``shape`` under ``layout`` (see :func:`unit_init.compute_fans`)."""
        return compute_fans(normalize_shape(shape), layout, fan_in=fan_in, fan_out=fan_out)

    @keywords_checked
    def variance(
        self,
        shape: ShapeLike,
        *,
        layout: LayoutLike = None,
        fan_in: float | None = None,
        fan_out: float | None = None,
    ) -> float:
        """The variance of every element drawn for ``shape``.

        ``inf`` where it lies beyond float64's range although the spec draws
        (``RandomNormal(stddev=1e200)``: Var = 1e400); the law's own
        ``standard_deviation`` (``distribution_for(shape)``) holds the std then.

        Examples
        --------
        >>> import unit_init as ui
        >>> ui.HeNormal().variance((256, 128)), ui.RandomNormal(stddev=1e200).variance((2, 2))
        (0.0078125, inf)
        """
        distribution = self.distribution_for(shape, layout=layout, fan_in=fan_in, fan_out=fan_out)
        variance = getattr(distribution, "variance", None)
        if variance is None:
            msg = f"{type(self).__name__} is deterministic per position; its elements share no variance."
            raise ParameterError(msg)
        return float(variance)

    def check_shape(self, shape: tuple[int, ...]) -> None:
        """Raise :class:`~unit_init.ShapeError` if this initializer cannot fill ``shape``."""
        rank = len(shape)
        if rank < self.min_rank or (self.max_rank is not None and rank > self.max_rank):
            if self.max_rank is None:
                wanted = f"rank >= {self.min_rank}"
            else:
                wanted = f"rank {self.min_rank}" if self.min_rank == self.max_rank else f"rank {self.min_rank} to {self.max_rank}"
            msg = f"{type(self).__name__} needs a {wanted} shape, got shape={abbreviate(shape)} (rank {rank})."
            raise ShapeError(msg)

    def get_config(self) -> dict[str, Any]:
        """The parameters as a plain dict (Keras's ``get_config``): the fields ``__init__`` accepts."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def __call__(
        self,
        shape: ShapeLike = _REQUIRED,
        /,
        *positional: Any,
        backend: BackendLike = None,
        device: Any = None,
        dtype: Any = None,
        seed: Any = None,
        layout: LayoutLike = None,
        like: Any = None,
        fan_in: float | None = None,
        fan_out: float | None = None,
        rng: str = "native",
        region: Any = None,
        sharding: Any = None,
        device_mesh: Any = None,
        placements: Any = None,
        **unknown: Any,
    ) -> Any:
        """Draw an array of ``shape``.

        Parameters
        ----------
        shape:
            An int or a sequence of non-negative ints, by position or as ``shape=`` (required; a call without
            it, or with it twice, is an :class:`~unit_init.errors.ArgumentError`).
        backend:
            ``"numpy"``, ``"torch"``, ``"tensorflow"``/``"tf"``, ``"jax"``, an
            Array-API namespace or its import name, a plugin's name, or a
            module; default: the innermost ``use_backend``, else
            ``$UNIT_INIT_BACKEND``, else ``"numpy"``.
        device:
            ``"cpu"``, ``"cuda"``, ``"cuda:N"``, ``"gpu:N"``, ``"mps"``,
            ``"tpu:N"``, ``"meta"`` or a native device object.
        dtype:
            ``"float16"``, ``"bfloat16"``, ``"float32"`` (default), ``"float64"``
            or a native dtype; integer dtypes and ``bool`` for deterministic initializers.
        seed:
            ``None`` (global stream, see :func:`unit_init.set_seed`), an int, or
            a native generator/key.
        layout:
            ``"keras"`` (default), ``"torch"``, ``"keras_transpose"``,
            ``"torch_transpose"`` or a :class:`unit_init.Layout`.
        like:
            An existing array whose backend, device and dtype are the defaults.
        fan_in, fan_out:
            Override the fans the shape implies (e.g. a bias from its weight).
        rng:
            ``"native"`` (default): the framework's own generator, drawn on
            the device. ``"portable"``: a counter-based stream (Threefry-2x32-20,
            computed on the device with the backend's own ops) in which element
            ``i`` is a pure function of (seed, initializer class, global shape,
            ``i``): uniform values are bit-identical on every backend and
            device, normal-family values agree to a few float32 ulp; needs an
            int seed or ``None``. See docs/reproducibility.md.
        region:
            With ``rng="portable"``: draw only this block of the global
            ``shape`` — a tuple of slices (step 1) or an ``(offset, shape)``
            pair — equal to the same block of the whole draw. Fans and
            variance come from the global ``shape``.
        sharding:
            A ``jax.sharding.Sharding``: a global ``jax.Array`` whose shards
            are each generated on their own device (needs ``rng="portable"``
            for random initializers; implies ``backend="jax"``).
        device_mesh, placements:
            A ``torch.distributed`` ``DeviceMesh`` and its placements
            (``Shard(d)``, ``Replicate()``): a ``DTensor`` whose local shard
            this rank generates alone (needs ``rng="portable"`` for random
            initializers; implies ``backend="torch"``).

        Raises
        ------
        UnitInitError
            Every argument is validated before anything is allocated, also one
            this initializer does not use (see :mod:`unit_init.request`); an
            unknown keyword is an :class:`~unit_init.errors.ArgumentError`.

        Returns
        -------
        The backend's own array type, on the device, in the dtype asked for
        (a block of it for ``region=``; a sharded ``jax.Array`` or ``DTensor``
        for ``sharding=`` / ``device_mesh=``).

        Examples
        --------
        >>> import unit_init as ui
        >>> w = ui.HeUniform()((4, 6), seed=0, rng="portable")
        >>> block = ui.HeUniform()((4, 6), seed=0, rng="portable", region=(slice(2, 4), slice(0, 3)))
        >>> bool((w[2:4, 0:3] == block).all())
        True
        """
        if unknown and "shape" in unknown:  # by keyword: positional-only, so that a shape given twice is no bare TypeError
            if shape is not _REQUIRED:
                msg = f"{type(self).__name__}(...)() got multiple values for argument 'shape'; give it once."
                raise ArgumentError(msg)
            shape = unknown.pop("shape")
        if shape is _REQUIRED:
            msg = f"{type(self).__name__}(...)() needs the shape of the array to draw: {type(self).__name__}(...)(shape, backend=..., dtype=...)."
            raise ArgumentError(msg)
        if positional:
            msg = f"{type(self).__name__}(...)() takes the shape as its only positional argument, got {1 + len(positional)}; pass the options by keyword (backend=..., dtype=...)."
            raise ArgumentError(msg)
        if unknown:
            check_keywords(f"{type(self).__name__}(...)()", unknown, CallOptions.__annotations__.keys() | {"shape"})
        options = Options(backend, device, dtype, seed, layout, like, fan_in, fan_out, rng, region, sharding, device_mesh, placements)
        return _draw()(self, shape, options)


_call = inspect.signature(Initializer.__call__)
Initializer.__call__.__signature__ = _call.replace(  # type: ignore[attr-defined]  # help() and editors: the shape is required
    parameters=[  # and taken by position or as shape= (positional-only in the code: so that shape twice is no bare TypeError)
        p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD, default=inspect.Parameter.empty) if p.name == "shape"
        else p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) if p.name == "self" else p
        for p in _call.parameters.values()
    ]
)
del _call
