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
from typing import TYPE_CHECKING, Any

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
    bounded_normal,
    constant,
    dirac,
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
    sparse,
    truncated_normal,
    variance_scaling,
    zeros,
)
from unit_init.presets import PRESETS, LayerPreset, flax_dense, haiku_linear, keras_dense, torch_conv, torch_linear
from unit_init.seeds import set_seed
from unit_init.serialization import deserialize, deserialize_preset, get, register, serialize
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
from unit_init.spec.structured import EXTRAS, BoundedNormal, Dirac, Sparse

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "EXTRAS",
    "LAYOUTS",
    "PRESETS",
    "BackendError",
    "BackendUnavailableError",
    "BoundedNormal",
    "Composed",
    "Constant",
    "DTypeError",
    "DeviceError",
    "Dirac",
    "Fans",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LayerPreset",
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
    "Sparse",
    "TruncatedNormal",
    "UnitInitError",
    "VarianceScaling",
    "Zeros",
    "__version__",
    "bounded_normal",
    "calculate_gain",
    "canonical_dtype",
    "compare",
    "compute_fans",
    "constant",
    "deserialize",
    "deserialize_preset",
    "diagnose",
    "dirac",
    "distributions",
    "flax_dense",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "haiku_linear",
    "he_normal",
    "he_uniform",
    "identity",
    "keras_dense",
    "known_backends",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "orthogonal",
    "random_normal",
    "random_uniform",
    "recommend",
    "register",
    "rules",
    "serialize",
    "set_seed",
    "sparse",
    "spec",
    "torch_conv",
    "torch_linear",
    "truncated_normal",
    "use_backend",
    "variance_scaling",
    "zeros",
]

# Submodules imported on first attribute access (they may pull in heavier code).
_LAZY: dict[str, str] = {
    "keras": "unit_init.adapters.keras",
    "torch": "unit_init.adapters.torch",
    "jax": "unit_init.adapters.jax",
}
# Functions whose module is imported on first use (keeps ``import unit_init`` close to ``import numpy``).
_LAZY_FUNCTIONS: dict[str, str] = {
    "calculate_gain": "unit_init.diagnostics",
    "compare": "unit_init.diagnostics",
    "diagnose": "unit_init.diagnostics",
    "recommend": "unit_init.diagnostics",
}
if TYPE_CHECKING:
    from unit_init.diagnostics import calculate_gain, compare, diagnose, recommend


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(_LAZY[name])
    if name in _LAZY_FUNCTIONS:
        return getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
    msg = f"module 'unit_init' has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*__all__, *_LAZY})
