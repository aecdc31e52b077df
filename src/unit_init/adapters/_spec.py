"""The one spec lookup every adapter uses; imports no framework."""

from __future__ import annotations

from typing import Any

from unit_init.errors import ParameterError
from unit_init.serialization import get
from unit_init.spec.initializer import Initializer

__all__ = ["spec_of"]


def spec_of(identifier: Any) -> Initializer:
    """A spec from a spec, a name (``"he_normal"``) or a config (:func:`unit_init.get`); ``None`` is refused."""
    spec = get(identifier)
    if spec is None:
        raise ParameterError("spec=None is not an initializer; pass a unit_init spec, a name or a config.")
    return spec
