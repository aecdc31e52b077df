"""Random hostile calls (hypothesis) on every backend: a typed error or a finite array of the shape and dtype asked for.

Each example calls one initializer with a drawn shape (negative, fractional,
bool, string, rank 33, 10¹⁴ elements, …), dtype, seed and parameters (NaN,
inf, 10**400, strings, unknown keywords, unknown modes, …). The property:
the call raises a :class:`~unit_init.UnitInitError`, or returns an array with
exactly the requested shape and dtype and only finite values.
"""

from __future__ import annotations

import importlib.util
import operator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stress_profile import BACKENDS, SCALES, Scale

import unit_init as ui
from unit_init.backends.registry import get_backend

FUNCTIONS = ("he_normal", "glorot_uniform", "lecun_normal", "random_normal", "random_uniform", "truncated_normal",
             "bounded_normal", "orthogonal", "zeros", "ones", "constant", "variance_scaling", "sparse", "identity", "dirac")
_WORDS = st.sampled_from(["fan_in", "fan_out", "fan_avg", "uniform", "truncated_normal", "untruncated_normal", "normal",
                          "keras", "torch", "native", "portable", "", "bogus", "FAN_IN"])
_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-4, 4), st.integers(-(10**30), 10**30),
    st.sampled_from([10**400, 0, 1, 2, 1e308, 3e38, 65504.0, 1e5, -1e-300]), st.booleans(), st.none(), st.text(max_size=3),
    st.sampled_from([np.array([1.0, 2.0]), np.array(2.0), [1, 2]]),  # arrays and lists: an == that answers no bool
)
_PARAMS = st.dictionaries(
    st.sampled_from(["stddev", "mean", "minval", "maxval", "scale", "gain", "value", "sparsity", "groups", "fan_in",
                     "fan_out", "mode", "distribution", "layout", "rng", "device", "stdev", "foo"]),
    st.one_of(_NUMBERS, _WORDS), max_size=3,
)
_DIM = st.one_of(st.integers(-2, 6), st.sampled_from([2.5, True, "4", None, 10**7, 10**400, np.int64(3)]))
_SHAPES = st.one_of(
    st.lists(_DIM, max_size=4).map(tuple), st.integers(-2, 8), st.sampled_from([(10**7, 10**7), (1,) * 33, "64", {"a": 1}]),
)
_DTYPES = st.sampled_from([None, "float16", "bfloat16", "float32", "float64", "int32", "bool", "float8", "complex64"])
_SEEDS = st.one_of(st.none(), st.integers(-5, 2**64), st.sampled_from([10**400, 1.5, "abc", True, [1]]))


def _check(backend: str, name: str, shape: Any, dtype: Any, seed: Any, params: dict[str, Any]) -> None:
    try:
        out = getattr(ui, name)(shape, backend=backend, dtype=dtype, seed=seed, **params)
    except ui.UnitInitError:
        return
    native = get_backend(backend)
    dims = (operator.index(shape),) if not isinstance(shape, tuple) else tuple(operator.index(d) for d in shape)
    assert tuple(int(d) for d in out.shape) == dims
    if dtype is not None:
        assert native.dtype_of(out) == dtype
    values = np.asarray(native.to_numpy(out))
    if values.dtype.kind == "f" or values.dtype.name == "bfloat16":
        assert np.isfinite(values.astype(np.float64)).all(), f"{name}({shape}, {params}, dtype={dtype}) is not finite"


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_calls_raise_typed_errors_or_return_finite_arrays(backend: str, scale: Scale) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")

    @settings(max_examples=scale.examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.sampled_from(FUNCTIONS), _SHAPES, _DTYPES, _SEEDS, _PARAMS)
    def check(name: str, shape: Any, dtype: Any, seed: Any, params: dict[str, Any]) -> None:
        _check(backend, name, shape, dtype, seed, params)

    check()
