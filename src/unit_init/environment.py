"""Environment variables read on every call (``UNIT_INIT_BACKEND``, ``UNIT_INIT_MAX_BYTES``), an unset one in one look-up."""

from __future__ import annotations

import functools
import os

__all__ = ["variable"]


def variable(name: str) -> str | None:
    """``os.environ.get(name)``, an unset variable found by one dict look-up in ``os.environ``'s own store.

    ``os.environ`` keeps its values in ``_data``, keyed by the encoded name and
    updated by every change made through it (assignment, ``del``,
    ``mock.patch.dict``); its ``get`` of a missing name goes through the
    ``Mapping`` layer, an encode and a ``KeyError`` (~0.7 µs a call). Where
    that store is not there to read, ``os.environ.get`` answers.

    Examples
    --------
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"UNIT_INIT_EXAMPLE": "1"}):
    ...     variable("UNIT_INIT_EXAMPLE")
    '1'
    >>> variable("UNIT_INIT_EXAMPLE") is None
    True
    """
    store = getattr(os.environ, "_data", None)
    key = _stored_key(name)
    if key is not None and type(store) is dict and key not in store:
        return None
    return os.environ.get(name)


@functools.cache
def _stored_key(name: str) -> object:
    """``name`` as ``os.environ`` keys its store (bytes on POSIX, the upper-cased name on Windows); ``None`` where it has no ``encodekey``."""
    encode = getattr(os.environ, "encodekey", None)
    return None if encode is None else encode(name)
