"""unit_init: one weight-initialization API for every array framework.

An initializer is a variance rule plus a distribution, written once; a backend
draws it as NumPy, PyTorch, TensorFlow, JAX or any Array-API array, on the
device and in the dtype asked for. Importing this package imports no framework.

>>> import unit_init as ui
>>> ui.he_normal((256, 128), seed=0).shape
(256, 128)
"""

from __future__ import annotations

import importlib
from typing import Any

from unit_init import spec
from unit_init.backends.registry import known_backends, use_backend
from unit_init.dtypes import canonical_dtype
from unit_init.errors import (
    BackendError,
    BackendUnavailableError,
    DeviceError,
    DTypeError,
    ParameterError,
    SeedError,
    ShapeError,
    UnitInitError,
)
from unit_init.functions import (
    constant,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    identity,
    lecun_normal,
    lecun_uniform,
    ones,
    orthogonal,
    random_normal,
    random_uniform,
    truncated_normal,
    variance_scaling,
    zeros,
)
from unit_init.seeds import set_seed
from unit_init.serialization import deserialize, get, register, serialize
from unit_init.spec import distributions, rules
from unit_init.spec.catalogue import (
    CATALOGUE,
    Composed,
    Constant,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Identity,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)
from unit_init.spec.fans import LAYOUTS, Fans, Layout, compute_fans
from unit_init.spec.initializer import Initializer

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "LAYOUTS",
    "BackendError",
    "BackendUnavailableError",
    "Composed",
    "Constant",
    "DTypeError",
    "DeviceError",
    "Fans",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "Layout",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "ParameterError",
    "RandomNormal",
    "RandomUniform",
    "SeedError",
    "ShapeError",
    "TruncatedNormal",
    "UnitInitError",
    "VarianceScaling",
    "Zeros",
    "__version__",
    "canonical_dtype",
    "compute_fans",
    "constant",
    "deserialize",
    "distributions",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "identity",
    "known_backends",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "register",
    "rules",
    "serialize",
    "set_seed",
    "spec",
    "truncated_normal",
    "use_backend",
    "variance_scaling",
    "zeros",
]

# Submodules imported on first attribute access (they may pull in heavier code).
_LAZY: dict[str, str] = {}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    msg = f"module 'unit_init' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})
