"""The exception hierarchy (CONTRACT §5).

Every error derives from :class:`UnitInitError` *and* from the built-in type a
caller would naturally catch, so ``except ValueError`` keeps working. Messages
name the argument, the value received and what is accepted.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "DTypeError",
    "DeviceError",
    "ParameterError",
    "SeedError",
    "ShapeError",
    "UnitInitError",
    "closest",
]


class UnitInitError(Exception):
    """Base class of every error raised by unit_init."""


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


class SeedError(UnitInitError, TypeError):
    """A seed that is neither ``None``, a non-negative int, nor a native generator/key."""


def closest(word: str, choices: Iterable[str]) -> str:
    """Return ``" Did you mean 'x'?"`` for the nearest choice, or ``""``."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {matches[0]!r}?" if matches else ""
