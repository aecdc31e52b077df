"""unit_init: one weight-initialization API for every array framework.

An initializer is a variance rule plus a distribution, written once; a backend
draws it as NumPy, PyTorch, TensorFlow, JAX or any Array-API array, on the
device and in the dtype asked for. Importing this package imports no framework
— nor anything else: every public name is loaded from its module on first use.

>>> import unit_init as ui
>>> ui.he_normal((256, 128), seed=0).shape
(256, 128)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CATALOGUE",
    "EXTRAS",
    "LAYOUTS",
    "PRESETS",
    "SCALED",
    "ArgumentError",
    "BackendError",
    "BackendUnavailableError",
    "BoundedNormal",
    "Composed",
    "Constant",
    "DTypeError",
    "DeepNorm",
    "DeviceError",
    "Dirac",
    "Fans",
    "Fixup",
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
    "MuP",
    "Ones",
    "Orthogonal",
    "ParameterError",
    "RandomNormal",
    "RandomUniform",
    "ResourceError",
    "ScaledResidual",
    "SeedError",
    "ShapeError",
    "SmallInit",
    "Sparse",
    "TFixup",
    "TFixupEmbedding",
    "TruncatedNormal",
    "UnitInitError",
    "VarianceScaling",
    "WangInit",
    "ZerO",
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
    "initialize",
    "keras_dense",
    "known_backends",
    "lecun_normal",
    "lecun_uniform",
    "mup_rules",
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

# Where each public name lives: loaded on first access, so ``import unit_init``
# costs almost nothing and imports no framework.
_SUBMODULES: dict[str, str] = {
    "spec": "unit_init.spec",
    "distributions": "unit_init.spec.distributions",
    "rules": "unit_init.spec.rules",
    "keras": "unit_init.keras",
    "torch": "unit_init.torch",
    "jax": "unit_init.jax",
}
_HOMES: dict[str, str] = {
    **dict.fromkeys(("known_backends", "use_backend"), "unit_init.backends.registry"),
    **dict.fromkeys(("initialize",), "unit_init.adapters.pytree"),
    **dict.fromkeys(("canonical_dtype",), "unit_init.dtypes"),
    **dict.fromkeys(("ArgumentError", "BackendError", "BackendUnavailableError", "DTypeError", "DeviceError", "ParameterError", "ResourceError", "SeedError", "ShapeError", "UnitInitError"), "unit_init.errors"),
    **dict.fromkeys(("bounded_normal", "constant", "dirac", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform", "sparse", "truncated_normal", "variance_scaling", "zeros"), "unit_init.functions"),
    **dict.fromkeys(("LayerPreset", "PRESETS", "flax_dense", "haiku_linear", "keras_dense", "torch_conv", "torch_linear"), "unit_init.presets"),
    **dict.fromkeys(("set_seed",), "unit_init.seeds"),
    **dict.fromkeys(("deserialize", "deserialize_preset", "get", "register", "serialize"), "unit_init.serialization"),
    **dict.fromkeys(("CATALOGUE", "Composed", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros"), "unit_init.spec.catalogue"),
    **dict.fromkeys(("Fans", "LAYOUTS", "Layout", "compute_fans"), "unit_init.spec.fans"),
    **dict.fromkeys(("Initializer",), "unit_init.spec.initializer"),
    **dict.fromkeys(("BoundedNormal", "Dirac", "EXTRAS", "Sparse"), "unit_init.spec.structured"),
    **dict.fromkeys(("DeepNorm", "Fixup", "MuP", "SCALED", "ScaledResidual", "SmallInit", "TFixup", "TFixupEmbedding", "WangInit", "ZerO"), "unit_init.spec.scaled"),
    **dict.fromkeys(("mup_rules",), "unit_init.adapters.mup"),
    **dict.fromkeys(("calculate_gain", "compare", "diagnose", "recommend"), "unit_init.diagnostics"),
}

if TYPE_CHECKING:
    from unit_init import spec
    from unit_init.adapters.mup import mup_rules
    from unit_init.adapters.pytree import initialize
    from unit_init.backends.registry import known_backends, use_backend
    from unit_init.diagnostics import calculate_gain, compare, diagnose, recommend
    from unit_init.dtypes import canonical_dtype
    from unit_init.errors import (
        ArgumentError,
        BackendError,
        BackendUnavailableError,
        DeviceError,
        DTypeError,
        ParameterError,
        ResourceError,
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
    from unit_init.spec.scaled import (
        SCALED,
        DeepNorm,
        Fixup,
        MuP,
        ScaledResidual,
        SmallInit,
        TFixup,
        TFixupEmbedding,
        WangInit,
        ZerO,
    )
    from unit_init.spec.structured import EXTRAS, BoundedNormal, Dirac, Sparse


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name])
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        msg = f"module 'unit_init' has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value  # later accesses skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})
