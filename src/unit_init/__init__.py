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

# Every public name -> the module it lives in: the one table that __all__,
# dir() and the lazy loading below are computed from, so ``import unit_init``
# costs almost nothing and imports no framework. To add a public name, add it
# here and to the TYPE_CHECKING block below (for type checkers and IDEs);
# tests/test_api_reference.py fails until both agree and docs/api.md has it.
_HOMES: dict[str, str] = {
    **dict.fromkeys(("ArgumentError", "BackendError", "BackendUnavailableError", "DTypeError", "DeviceError", "ParameterError", "ResourceError", "SeedError", "ShapeError", "UnitInitError"), "unit_init.errors"),
    **dict.fromkeys(("canonical_dtype",), "unit_init.dtypes"),
    **dict.fromkeys(("set_seed",), "unit_init.seeds"),
    **dict.fromkeys(("Fans", "LAYOUTS", "Layout", "compute_fans"), "unit_init.spec.fans"),
    **dict.fromkeys(("calculate_gain",), "unit_init.spec.gain"),
    **dict.fromkeys(("Initializer",), "unit_init.spec.initializer"),
    **dict.fromkeys(("CATALOGUE", "Composed", "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity", "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros"), "unit_init.spec.catalogue"),
    **dict.fromkeys(("BoundedNormal", "Dirac", "EXTRAS", "Sparse"), "unit_init.spec.structured"),
    **dict.fromkeys(("DeepNorm", "Fixup", "MuP", "SCALED", "ScaledResidual", "SmallInit", "TFixup", "TFixupEmbedding", "WangInit", "ZerO"), "unit_init.spec.scaled"),
    **dict.fromkeys(("KaimingNormal", "KaimingUniform", "TORCH_STYLE", "XavierNormal", "XavierUniform"), "unit_init.spec.torch_style"),
    **dict.fromkeys(("ConstantArray",), "unit_init.spec.constant_array"),
    **dict.fromkeys(("ConvolutionOrthogonal", "DeltaOrthogonal"), "unit_init.spec.convolution"),
    **dict.fromkeys(("PEERS", "UniformScaling"), "unit_init.spec.peers"),
    **dict.fromkeys(("STFT",), "unit_init.spec.signal"),
    **dict.fromkeys(("bounded_normal", "constant", "constant_array", "convolution_orthogonal", "delta_orthogonal", "dirac", "eye", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform", "sparse", "stft", "trunc_normal", "truncated_normal", "uniform_scaling", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros"), "unit_init.functions"),
    **dict.fromkeys(("deserialize", "get", "register", "serialize"), "unit_init.serialization"),
    **dict.fromkeys(("LayerPreset", "PRESETS", "deserialize_preset", "flax_dense", "haiku_linear", "keras_dense", "torch_conv", "torch_linear"), "unit_init.presets"),
    **dict.fromkeys(("known_backends", "use_backend"), "unit_init.backends.registry"),
    **dict.fromkeys(("initialize",), "unit_init.adapters.pytree"),
    **dict.fromkeys(("mup_rules",), "unit_init.adapters.mup"),
    **dict.fromkeys(("compare", "diagnose", "recommend"), "unit_init.diagnostics"),
}
# Public submodules: attributes, and in __all__.
_MODULES: dict[str, str] = {"spec": "unit_init.spec", "distributions": "unit_init.spec.distributions", "rules": "unit_init.spec.rules"}
# The framework adapters: attributes (``ui.torch``) but not in __all__, so
# ``from unit_init import *`` imports no framework.
_ADAPTERS: dict[str, str] = {"keras": "unit_init.keras", "torch": "unit_init.torch", "jax": "unit_init.jax"}
# ``ui.diagnostics`` (its constants, plotting, reports) is an attribute too, loaded on first use; its
# entry points (compare, diagnose, recommend) are in __all__ above.
_SUBMODULES: dict[str, str] = {**_MODULES, **_ADAPTERS, "diagnostics": "unit_init.diagnostics"}

__all__ = sorted([*_HOMES, *_MODULES, "__version__"])

if TYPE_CHECKING:  # the table again, as explicit re-exports (``name as name``) a type checker can read
    from unit_init import spec as spec
    from unit_init.adapters.mup import mup_rules as mup_rules
    from unit_init.adapters.pytree import initialize as initialize
    from unit_init.backends.registry import known_backends as known_backends
    from unit_init.backends.registry import use_backend as use_backend
    from unit_init.diagnostics import compare as compare
    from unit_init.diagnostics import diagnose as diagnose
    from unit_init.diagnostics import recommend as recommend
    from unit_init.dtypes import canonical_dtype as canonical_dtype
    from unit_init.errors import ArgumentError as ArgumentError
    from unit_init.errors import BackendError as BackendError
    from unit_init.errors import BackendUnavailableError as BackendUnavailableError
    from unit_init.errors import DeviceError as DeviceError
    from unit_init.errors import DTypeError as DTypeError
    from unit_init.errors import ParameterError as ParameterError
    from unit_init.errors import ResourceError as ResourceError
    from unit_init.errors import SeedError as SeedError
    from unit_init.errors import ShapeError as ShapeError
    from unit_init.errors import UnitInitError as UnitInitError
    from unit_init.functions import bounded_normal as bounded_normal
    from unit_init.functions import constant as constant
    from unit_init.functions import constant_array as constant_array
    from unit_init.functions import convolution_orthogonal as convolution_orthogonal
    from unit_init.functions import delta_orthogonal as delta_orthogonal
    from unit_init.functions import dirac as dirac
    from unit_init.functions import eye as eye
    from unit_init.functions import glorot_normal as glorot_normal
    from unit_init.functions import glorot_uniform as glorot_uniform
    from unit_init.functions import he_normal as he_normal
    from unit_init.functions import he_uniform as he_uniform
    from unit_init.functions import identity as identity
    from unit_init.functions import kaiming_normal as kaiming_normal
    from unit_init.functions import kaiming_uniform as kaiming_uniform
    from unit_init.functions import lecun_normal as lecun_normal
    from unit_init.functions import lecun_uniform as lecun_uniform
    from unit_init.functions import ones as ones
    from unit_init.functions import orthogonal as orthogonal
    from unit_init.functions import random_normal as random_normal
    from unit_init.functions import random_uniform as random_uniform
    from unit_init.functions import sparse as sparse
    from unit_init.functions import stft as stft
    from unit_init.functions import trunc_normal as trunc_normal
    from unit_init.functions import truncated_normal as truncated_normal
    from unit_init.functions import uniform_scaling as uniform_scaling
    from unit_init.functions import variance_scaling as variance_scaling
    from unit_init.functions import xavier_normal as xavier_normal
    from unit_init.functions import xavier_uniform as xavier_uniform
    from unit_init.functions import zeros as zeros
    from unit_init.presets import PRESETS as PRESETS
    from unit_init.presets import LayerPreset as LayerPreset
    from unit_init.presets import deserialize_preset as deserialize_preset
    from unit_init.presets import flax_dense as flax_dense
    from unit_init.presets import haiku_linear as haiku_linear
    from unit_init.presets import keras_dense as keras_dense
    from unit_init.presets import torch_conv as torch_conv
    from unit_init.presets import torch_linear as torch_linear
    from unit_init.seeds import set_seed as set_seed
    from unit_init.serialization import deserialize as deserialize
    from unit_init.serialization import get as get
    from unit_init.serialization import register as register
    from unit_init.serialization import serialize as serialize
    from unit_init.spec import distributions as distributions
    from unit_init.spec import rules as rules
    from unit_init.spec.catalogue import CATALOGUE as CATALOGUE
    from unit_init.spec.catalogue import Composed as Composed
    from unit_init.spec.catalogue import Constant as Constant
    from unit_init.spec.catalogue import GlorotNormal as GlorotNormal
    from unit_init.spec.catalogue import GlorotUniform as GlorotUniform
    from unit_init.spec.catalogue import HeNormal as HeNormal
    from unit_init.spec.catalogue import HeUniform as HeUniform
    from unit_init.spec.catalogue import Identity as Identity
    from unit_init.spec.catalogue import LecunNormal as LecunNormal
    from unit_init.spec.catalogue import LecunUniform as LecunUniform
    from unit_init.spec.catalogue import Ones as Ones
    from unit_init.spec.catalogue import Orthogonal as Orthogonal
    from unit_init.spec.catalogue import RandomNormal as RandomNormal
    from unit_init.spec.catalogue import RandomUniform as RandomUniform
    from unit_init.spec.catalogue import TruncatedNormal as TruncatedNormal
    from unit_init.spec.catalogue import VarianceScaling as VarianceScaling
    from unit_init.spec.catalogue import Zeros as Zeros
    from unit_init.spec.constant_array import ConstantArray as ConstantArray
    from unit_init.spec.convolution import ConvolutionOrthogonal as ConvolutionOrthogonal
    from unit_init.spec.convolution import DeltaOrthogonal as DeltaOrthogonal
    from unit_init.spec.fans import LAYOUTS as LAYOUTS
    from unit_init.spec.fans import Fans as Fans
    from unit_init.spec.fans import Layout as Layout
    from unit_init.spec.fans import compute_fans as compute_fans
    from unit_init.spec.gain import calculate_gain as calculate_gain
    from unit_init.spec.initializer import Initializer as Initializer
    from unit_init.spec.peers import PEERS as PEERS
    from unit_init.spec.peers import UniformScaling as UniformScaling
    from unit_init.spec.scaled import SCALED as SCALED
    from unit_init.spec.scaled import DeepNorm as DeepNorm
    from unit_init.spec.scaled import Fixup as Fixup
    from unit_init.spec.scaled import MuP as MuP
    from unit_init.spec.scaled import ScaledResidual as ScaledResidual
    from unit_init.spec.scaled import SmallInit as SmallInit
    from unit_init.spec.scaled import TFixup as TFixup
    from unit_init.spec.scaled import TFixupEmbedding as TFixupEmbedding
    from unit_init.spec.scaled import WangInit as WangInit
    from unit_init.spec.scaled import ZerO as ZerO
    from unit_init.spec.signal import STFT as STFT
    from unit_init.spec.structured import EXTRAS as EXTRAS
    from unit_init.spec.structured import BoundedNormal as BoundedNormal
    from unit_init.spec.structured import Dirac as Dirac
    from unit_init.spec.structured import Sparse as Sparse
    from unit_init.spec.torch_style import TORCH_STYLE as TORCH_STYLE
    from unit_init.spec.torch_style import KaimingNormal as KaimingNormal
    from unit_init.spec.torch_style import KaimingUniform as KaimingUniform
    from unit_init.spec.torch_style import XavierNormal as XavierNormal
    from unit_init.spec.torch_style import XavierUniform as XavierUniform


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
