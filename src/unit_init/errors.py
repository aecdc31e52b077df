"""The exception hierarchy (docs/design.md#typed-errors).

Every error derives from :class:`UnitInitError` *and* from the built-in type a
caller would naturally catch, so ``except ValueError`` keeps working. Messages
name the argument, the value received and what is accepted.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import re
import reprlib
import sys
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any, Final, TypeVar, cast

__all__ = [
    "ArgumentError",
    "BackendError",
    "BackendUnavailableError",
    "DTypeError",
    "DeviceError",
    "ParameterError",
    "ResourceError",
    "SeedError",
    "ShapeError",
    "UnitInitError",
    "abbreviate",
    "check_binding",
    "check_keywords",
    "closest",
    "install_hint",
    "keywords_checked",
    "outside_stacklevel",
    "require",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class UnitInitError(Exception):
    """Base class of every error raised by unit_init.

    Built from a message alone, by ``Exception``'s constructor (also the
    subclasses of ``ImportError``, ``TypeError``, …): TensorFlow's autograph
    re-raises an error from inside a ``tf.function`` with its own type only
    where the type uses that constructor, and as a ``StagingError`` otherwise.
    """

    if not TYPE_CHECKING:  # mypy would type every subclass's constructor by the slot wrapper's signature
        __init__ = Exception.__init__


class BackendUnavailableError(UnitInitError, ImportError):
    """The framework behind a known backend is not installed."""


class BackendError(UnitInitError, ValueError):
    """A backend name or object that unit_init does not know."""


class DeviceError(UnitInitError, ValueError):
    """A device that is not present, or not valid for the backend."""


class ShapeError(UnitInitError, ValueError):
    """A shape that is negative, non-integer, or of the wrong rank."""


class DTypeError(UnitInitError, TypeError):
    """An unknown dtype, or one the initializer cannot produce."""


class ParameterError(UnitInitError, ValueError):
    """An initializer parameter outside its domain."""


class ResourceError(UnitInitError, MemoryError):
    """A request for more memory than the limit where the array goes (see :mod:`unit_init.resources`)."""


class SeedError(UnitInitError, TypeError):
    """A seed that is neither ``None``, a non-negative int, nor a native generator/key."""


class ArgumentError(UnitInitError, TypeError):
    """A keyword argument the function or spec does not take (Python's own ``TypeError``, with the closest valid one)."""


def check_keywords(where: str, given: Iterable[str], accepted: Collection[str]) -> None:
    """Raise :class:`ArgumentError` naming the first of ``given`` not in ``accepted``, and the closest accepted one.

    Examples
    --------
    >>> check_keywords("random_normal()", ["stdev"], ["mean", "stddev", "seed"])
    Traceback (most recent call last):
    ...
    unit_init.errors.ArgumentError: random_normal() got an unexpected keyword argument 'stdev'; accepted: mean, seed, stddev. Did you mean 'stddev'?
    """
    unknown = [name for name in given if name not in accepted]
    if unknown:
        first = unknown[0]
        names = ", ".join(sorted(accepted)) or "none (it takes its arguments by position)"
        msg = f"{where} got an unexpected keyword argument {abbreviate(first)}; accepted: {names}.{closest(str(first), accepted)}"
        raise ArgumentError(msg)


def keywords_checked(function: _F, *, accepted: Collection[str] | None = None) -> _F:
    """``function``, whose unknown keyword arguments raise :class:`ArgumentError` naming the closest valid one.

    Python's own ``TypeError`` gives no hint; the check is a set comparison,
    made only when a call passes keywords. A missing or an extra argument is
    an :class:`ArgumentError` with Python's message (:func:`check_binding`). The signature, docstring,
    doctests and attributes stay those of ``function`` (a
    ``functools.singledispatch`` keeps its ``register``). A function that
    takes ``**kwargs`` leaves them to its own code, unless ``accepted`` names
    the keywords it is still to be called with beside its named parameters
    (a method written with ``**_`` for arguments it ignores).

    Examples
    --------
    >>> @keywords_checked
    ... def draw(shape, *, seed=None): return shape
    >>> draw((2,), sed=0)
    Traceback (most recent call last):
    ...
    unit_init.errors.ArgumentError: draw() got an unexpected keyword argument 'sed'; accepted: seed, shape. Did you mean 'seed'?
    """
    signature = inspect.signature(function)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = frozenset(name for name, p in signature.parameters.items() if p.kind in kinds and name not in ("self", "cls"))
    any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())  # its own code checks them
    if accepted is not None:
        names, any_keyword = names | frozenset(accepted), False
    where = f"{function.__qualname__.removesuffix('.__call__').removesuffix('.__init__')}()"  # LayerPreset(), JaxInitializer()
    owner = function.__qualname__.rpartition(".")[0]
    method = bool(owner) and next(iter(signature.parameters), None) == "self"

    def called(args: tuple[Any, ...]) -> str:
        """``where`` naming the class of the instance called (``HeNormal.distribution_for()``), not the one defining it."""
        return where.replace(owner, type(args[0]).__name__, 1) if method and args else where

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if kwargs and not any_keyword and not names.issuperset(kwargs):
            check_keywords(called(args), kwargs, names)
        try:
            return function(*args, **kwargs)
        except TypeError as error:
            if not isinstance(error, UnitInitError):
                check_binding(called(args), signature, args, kwargs)
            raise

    return cast("_F", checked)  # functools.wraps copied function's __dict__: its attributes too


def check_binding(where: str, signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """:class:`ArgumentError` with Python's own message where ``args`` and ``kwargs`` do not bind to ``signature`` (a
    missing or an extra argument); called once a call has raised ``TypeError``, so a valid call pays nothing for it."""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as unbound:
        parameters = [p for p in signature.parameters.values() if p.name not in ("self", "cls")]
        msg = f"{where}: {unbound}; it takes {where.removesuffix('()')}{signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty)}."
        raise ArgumentError(msg) from None


def outside_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` in the calling function that names the first frame outside unit_init.

    Warnings then point at the user's line, however many of unit_init's own
    functions and wrappers (:func:`keywords_checked`) lie between.
    """
    frame, level = sys._getframe(1), 1  # the function that warns: stacklevel 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "unit_init":
        frame, level = frame.f_back, level + 1
    return level


_INSTALL_COMMANDS: Final = {
    "torch": (
        "pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU build; a plain pip install torch "
        "is a CUDA build of several GB on Linux)"
    ),
    "tensorflow": "pip install tensorflow-cpu, or tensorflow for its GPU build (one of the two, never both: they are builds of one package)",
}
"""The command for a package whose plain ``pip install`` is not the one to run first (PyPI's torch for Linux is CUDA's)."""
_IN_A_CHECKOUT: Final = {
    "torch": 'that first, then pip install -e ".[torch]"',
    "tensorflow": 'pip install -e ".[tensorflow-cpu]", or ".[tensorflow]" for the GPU build',
}
"""What to run in a unit_init checkout where the extra alone is not it: torch's CPU build first (the extra's resolver
would pick CUDA's); TensorFlow's extra of the build wanted (each installs its own)."""


def install_hint(package: str, extra: str) -> str:
    """What to run for a missing optional dependency: the package from PyPI, or unit_init's extra from a checkout.

    Examples
    --------
    >>> install_hint("matplotlib", "plot")
    'pip install matplotlib (or, in a unit_init checkout: pip install -e ".[plot]")'
    >>> print(install_hint("torch", "torch"))
    pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU build; a plain pip install torch is a CUDA build of several GB on Linux); in a unit_init checkout, that first, then pip install -e ".[torch]"
    """
    command = _INSTALL_COMMANDS.get(package, f"pip install {package}")
    if package in _IN_A_CHECKOUT:
        return f"{command}; in a unit_init checkout, {_IN_A_CHECKOUT[package]}"
    return f'{command} (or, in a unit_init checkout: pip install -e ".[{extra}]")'


def require(module: str, package: str, extra: str, who: str) -> None:
    """Import ``module``, or raise :class:`BackendUnavailableError` saying what ``who`` needs and how to install it.

    Only the absence of ``module`` itself is translated; an error inside an
    installed framework propagates as it is.

    Examples
    --------
    >>> require("json", "json", "none", "this example")
    >>> require("not_a_framework", "not-a-framework", "extra", "this example")
    Traceback (most recent call last):
    ...
    unit_init.errors.BackendUnavailableError: this example needs not_a_framework, which is not installed: pip install not-a-framework (or, in a unit_init checkout: pip install -e ".[extra]").
    """
    try:
        importlib.import_module(module)
    except ImportError as error:
        if error.name is None or error.name.split(".")[0] != module.split(".")[0]:
            raise
        msg = f"{who} needs {module}, which is not installed: {install_hint(package, extra)}."
        raise BackendUnavailableError(msg) from error


def closest(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the nearest choice, or ``""``."""
    matches = difflib.get_close_matches(word[:64], list(choices), n=1, cutoff=0.6)  # cut: a hostile word may be huge
    return f" Did you mean {matches[0]!r}?" if matches else ""


class _SafeRepr(reprlib.Repr):
    """``reprlib`` limits, plus ints too long to print shown by their size (``repr`` of a 5000-digit int raises)."""

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if x.bit_length() <= 128 else f"<int of {x.bit_length()} bits>"


_SAFE = _SafeRepr()
_SAFE.maxlevel, _SAFE.maxstring, _SAFE.maxother = 3, 60, 60


def abbreviate(value: object, limit: int = 80) -> str:
    """A ``repr`` of ``value`` of at most ``limit`` characters, safe for any value.

    Containers are shown to depth 3 and a few items (``reprlib``), strings cut,
    ints of more than 128 bits by their size, and a ``repr`` that raises is
    replaced by the type name: quoting a hostile value never raises (no
    ``RecursionError``, no ``ValueError`` from a 5000-digit int) and never floods.

    Examples
    --------
    >>> abbreviate(10**5000)
    '<int of 16610 bits>'
    >>> deep: list[object] = []
    >>> for _ in range(100_000):
    ...     deep = [deep]
    >>> abbreviate(deep)
    '[[[[...]]]]'
    >>> len(abbreviate("x" * 10**7)) <= 80
    True

    A ``repr`` over several lines (a 2-D array, a JAX typed key) is one line, so a message quoting it is one:

    >>> import numpy as np
    >>> abbreviate(np.eye(2))
    'array([[1., 0.], [0., 1.]])'
    """
    try:
        text = _SAFE.repr(value)
    except Exception:  # a user's __repr__ may raise anything
        text = f"<{type(value).__name__} object>"
    if "\n" in text:
        text = _LINE_BREAK.sub(" ", text)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


_LINE_BREAK: Final = re.compile(r"\s*\n\s*")
