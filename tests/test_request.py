"""One validated request per call: every bad argument a typed error before anything is allocated, on every backend.

:data:`BAD_INPUTS` is the table of bad-input kinds; each runs on every
installed backend and must raise exactly its error type, which is also a
:class:`unit_init.UnitInitError`, with nothing allocated (the sampling step
is replaced by a tripwire). The representability cases draw parameters just
inside each float dtype's finite range (accepted, and every value finite)
and just outside it (refused with a ParameterError naming the dtype).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import unit_init as ui
import unit_init.drawing
from targets import load
from unit_init.dtypes import largest_finite, overflow_threshold
from unit_init.errors import ArgumentError
from unit_init.spec.fans import MAX_RANK

FLOATS = ["float16", "bfloat16", "float32", "float64"]
BACKENDS = ["numpy", "torch:cpu", "tensorflow:cpu", "jax:cpu", "array_api_strict:device1"]
HUGE = 10**5000  # str() of it raises ValueError: messages must abbreviate it

# (kind, function, shape, keywords, error)
BAD_INPUTS: list[tuple[str, str, Any, dict[str, Any], type[Exception]]] = [
    # seeds, also where the initializer draws nothing
    ("seed a string, unused", "zeros", (2, 2), {"seed": "abc"}, ui.SeedError),
    ("seed negative, unused", "ones", (2, 2), {"seed": -1}, ui.SeedError),
    ("seed 2**63", "he_normal", (2, 2), {"seed": 2**63}, ui.SeedError),
    ("seed True", "zeros", (2, 2), {"seed": True}, ui.SeedError),
    ("seed a float", "he_uniform", (2, 2), {"seed": 1.5}, ui.SeedError),
    ("seed a list", "constant", (2, 2), {"seed": [1, 2]}, ui.SeedError),
    ("seed a 5000-digit int", "he_normal", (2, 2), {"seed": HUGE}, ui.SeedError),
    # layouts and fans, also where the initializer ignores them
    ("layout unknown name, rank 1", "he_normal", (4,), {"layout": "bogus"}, ui.ParameterError),
    ("layout an int", "random_normal", (4, 4), {"layout": 123}, ui.ParameterError),
    ("layout unhashable", "zeros", (4, 4), {"layout": ["torch"]}, ui.ParameterError),
    ("layout axis missing, unused", "random_normal", (4, 4), {"layout": ui.Layout(in_axis=5)}, ui.ShapeError),
    ("fan_in negative, unused", "random_normal", (4, 4), {"fan_in": -3}, ui.ParameterError),
    ("fan_out nan", "he_normal", (4, 4), {"fan_out": math.nan}, ui.ParameterError),
    ("fan_in a bool", "zeros", (4, 4), {"fan_in": True}, ui.ParameterError),
    ("fan_in a 5000-digit int", "ones", (4, 4), {"fan_in": HUGE}, ui.ParameterError),
    ("fan_out a string", "glorot_normal", (4, 4), {"fan_out": "8"}, ui.ParameterError),
    # shapes
    ("shape a dict", "he_normal", {1: 2}, {}, ui.ShapeError),
    ("shape a set", "zeros", {2, 3}, {}, ui.ShapeError),
    ("shape a string", "zeros", "22", {}, ui.ShapeError),
    ("shape a float", "zeros", 2.0, {}, ui.ShapeError),
    ("shape None", "zeros", None, {}, ui.ShapeError),
    ("shape negative", "he_normal", (4, -1), {}, ui.ShapeError),
    ("shape with a bool", "zeros", (True, 2), {}, ui.ShapeError),
    ("shape a 2-D array", "he_normal", np.array([[4, 4]]), {}, ui.ShapeError),
    ("shape a float array", "he_normal", np.array([4.0, 4.0]), {}, ui.ShapeError),
    ("shape rank 33", "random_normal", (1,) * 33, {}, ui.ShapeError),
    ("shape rank 65", "random_uniform", (1,) * 65, {}, ui.ShapeError),
    ("shape an endless generator", "zeros", (1 for _ in iter(int, 1)), {}, ui.ShapeError),
    ("rank too low", "orthogonal", (4,), {}, ui.ShapeError),
    ("rank too high", "sparse", (2, 2, 2), {"sparsity": 0.5}, ui.ShapeError),
    # rng and region
    ("rng unknown", "zeros", (2, 2), {"rng": "bogus"}, ui.ParameterError),
    ("rng None", "he_normal", (2, 2), {"rng": None}, ui.ParameterError),
    ("rng an array", "zeros", (2, 2), {"rng": np.array(["native", "portable"])}, ui.ParameterError),
    ("region slice of a string", "random_normal", (4, 4), {"rng": "portable", "region": (slice("a", 2),)}, ui.ParameterError),
    ("region with a step", "random_normal", (4, 4), {"rng": "portable", "region": (slice(0, 4, 2),)}, ui.ParameterError),
    ("region a string", "zeros", (4, 4), {"region": "abc"}, ui.ParameterError),
    ("region outside the shape", "zeros", (4, 4), {"region": ((0, 0), (5, 4))}, ui.ParameterError),
    ("region too many slices", "random_uniform", (4,), {"rng": "portable", "region": (slice(0, 1), slice(0, 1))}, ui.ParameterError),
    # dtypes and devices
    ("dtype unknown", "zeros", (2, 2), {"dtype": "float17"}, ui.DTypeError),
    ("dtype int for a random draw", "he_normal", (2, 2), {"dtype": "int32"}, ui.DTypeError),
    ("dtype unhashable", "zeros", (2, 2), {"dtype": []}, ui.DTypeError),
    ("device with a superscript index", "zeros", (2, 2), {"device": "cpu:\u00b2"}, ui.DeviceError),
    ("device a malformed path", "zeros", (2, 2), {"device": "/xyz"}, ui.DeviceError),
    ("device unknown", "he_normal", (2, 2), {"device": "quantum:0"}, ui.DeviceError),
    ("device an int", "zeros", (2, 2), {"device": 7}, ui.DeviceError),
    ("device index of 5000 digits", "zeros", (2, 2), {"device": "cpu:" + "9" * 5000}, ui.DeviceError),
    ("backend a plain module name", "zeros", (2, 2), {"backend": "json"}, ui.BackendError),
    ("like not an array", "zeros", (2, 2), {"like": object()}, ui.BackendError),
    # parameters
    ("stddev a 5000-digit int", "random_normal", (2, 2), {"stddev": HUGE}, ui.ParameterError),
    ("mean nan", "random_normal", (2, 2), {"mean": math.nan}, ui.ParameterError),
    ("minval above maxval", "random_uniform", (2, 2), {"minval": 1.0, "maxval": 0.0}, ui.ParameterError),
    ("value a string", "constant", (2, 2), {"value": "x"}, ui.ParameterError),
    ("distribution print", "variance_scaling", (2, 2), {"distribution": print}, ui.ParameterError),
    ("mode unknown", "variance_scaling", (2, 2), {"mode": "fan_inn"}, ui.ParameterError),
    ("sparsity above 1", "sparse", (4, 4), {"sparsity": 1.5}, ui.ParameterError),
    ("groups 0", "dirac", (2, 2, 3), {"groups": 0}, ui.ParameterError),
    # representability
    ("stddev 1e308", "random_normal", (64, 32), {"stddev": 1e308}, ui.ParameterError),
    ("uniform width overflows float64", "random_uniform", (4,), {"minval": -1e308, "maxval": 1e308}, ui.ParameterError),
    ("uniform width overflows float32", "random_uniform", (4,), {"minval": -3e38, "maxval": 3e38}, ui.ParameterError),
    ("constant 1e5 in float16", "constant", (4, 4), {"value": 1e5, "dtype": "float16"}, ui.ParameterError),
    ("uniform maxval 1e6 in float16", "random_uniform", (4,), {"maxval": 1e6, "dtype": "float16"}, ui.ParameterError),
    ("orthogonal gain 1e308", "orthogonal", (4, 4), {"gain": 1e308}, ui.ParameterError),
    ("variance scaling limit overflows", "variance_scaling", (4, 4), {"scale": 1e308, "distribution": "uniform"}, ui.ParameterError),
    ("identity gain 1e39", "identity", (3, 3), {"gain": 1e39}, ui.ParameterError),
    ("truncated normal support overflows", "truncated_normal", (4,), {"mean": 3e38, "stddev": 1e38}, ui.ParameterError),
    # keywords
    ("keyword misspelt", "random_normal", (4, 4), {"stdev": 1.0}, ArgumentError),
    ("call option misspelt", "he_normal", (4, 4), {"layuot": "torch"}, ArgumentError),
]


def _no_sampling(call: Any) -> Any:
    raise AssertionError("the bad input reached the sampling step")


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize(("kind", "function", "shape", "keywords", "error"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_typed_error_before_allocation(
    target_id: str, kind: str, function: str, shape: Any, keywords: dict[str, Any], error: type[Exception],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = load(target_id)
    if keywords.get("dtype") in FLOATS:
        _target_with(target_id, keywords["dtype"])
    monkeypatch.setattr(unit_init.drawing, "_sample", _no_sampling)
    options = {"backend": target.backend, "device": target.device, **keywords}
    with pytest.raises(error) as raised:
        getattr(ui, function)(shape, **options)
    assert type(raised.value) is error, f"{kind}: {type(raised.value).__name__} instead of {error.__name__}"
    assert isinstance(raised.value, ui.UnitInitError)
    assert len(str(raised.value)) < 1000


def test_the_table_covers_at_least_forty_kinds() -> None:
    assert len({kind for kind, *_ in BAD_INPUTS}) == len(BAD_INPUTS) >= 40


@pytest.mark.parametrize(
    ("spec", "keyword"), [(ui.RandomNormal, "stdev"), (ui.Sparse, "sparsty"), (ui.HeNormal, "sed")]
)
def test_a_misspelt_spec_parameter_names_the_closest(spec: type[ui.Initializer], keyword: str) -> None:
    with pytest.raises(ArgumentError, match="Did you mean") as raised:
        spec(**{keyword: 1.0})
    assert isinstance(raised.value, TypeError)


def test_a_spec_call_with_a_misspelt_option_names_the_closest() -> None:
    with pytest.raises(ArgumentError, match="Did you mean 'seed'"):
        ui.HeNormal()((4, 4), seeed=0)


@pytest.mark.parametrize("target_id", BACKENDS)
def test_a_numpy_integer_array_is_a_shape(target_id: str) -> None:
    target = load(target_id)
    array = target.draw(ui.HeNormal(), np.array([6, 4]), seed=0)
    assert tuple(array.shape) == (6, 4)


def test_max_rank_is_drawn() -> None:
    assert ui.random_normal((1,) * MAX_RANK, seed=0).ndim == MAX_RANK
    assert ui.random_normal([1] * MAX_RANK, seed=0).ndim == MAX_RANK  # a list takes the general path, not the tuple's
    assert ui.Layout(in_axis=-MAX_RANK, out_axis=0).in_axis == -MAX_RANK


def test_the_largest_extent_is_accepted_and_one_more_refused() -> None:
    """2**63 - 1 elements of one byte (with a zero dimension, nothing drawn) is the last shape a 64-bit index spans."""
    assert ui.zeros((2**63 - 1, 0), dtype="int8").shape == (2**63 - 1, 0)
    with pytest.raises(ui.ShapeError, match="2\\*\\*63 - 1"):
        ui.zeros((2**63, 0), dtype="int8")
    with pytest.raises(ui.ShapeError, match="arrays span at most 2\\*\\*63 - 1"):
        ui.zeros((2**62, 0), dtype="int16")


# Representability: just inside each dtype's range (accepted, all finite) and just outside (refused).


def _inside(top: float, edge: float) -> list[tuple[str, dict[str, Any]]]:
    """Initializers whose values reach ``top`` (a dtype's largest finite value) without passing it, and a constant past
    it that still rounds to it (below ``edge``, the magnitude that rounds to inf: 65519 in float16, which torch's
    ``full`` refused)."""
    past = [("constant", {"value": (top + edge) / 2}), ("constant", {"value": -(top + edge) / 2})] if math.isfinite(edge) else []
    return [
        *past,
        ("constant", {"value": top}),
        ("constant", {"value": -top}),
        ("random_uniform", {"minval": -top / 2, "maxval": top / 2}),
        ("random_uniform", {"minval": top / 2, "maxval": top}),
        ("random_normal", {"stddev": top / 40 * 0.999}),
        ("truncated_normal", {"mean": top / 2, "stddev": top / 4 * 0.999}),
        ("orthogonal", {"gain": top * 0.99}),
        ("identity", {"gain": -top}),
        *([("identity", {"gain": (top + edge) / 2})] if math.isfinite(edge) else []),  # torch's eye refused it (helper 169)
    ]


def _outside(edge: float) -> list[tuple[str, dict[str, Any]]]:
    """Initializers whose values reach ``edge``, the magnitude a dtype rounds to inf (a tie, rounded to the even
    significand: the infinity), or pass it."""
    return [
        ("constant", {"value": edge}),
        ("random_uniform", {"minval": edge / 2, "maxval": edge * 1.001}),
        ("random_normal", {"stddev": edge / 40 * 1.001}),
        ("truncated_normal", {"mean": edge / 2, "stddev": edge / 4 * 1.001}),
        ("orthogonal", {"gain": edge * 1.001}),
    ]


def _target_with(target_id: str, dtype: str) -> Any:
    target = load(target_id)
    try:
        ui.zeros((1,), backend=target.backend, device=target.device, dtype=dtype)
    except ui.DTypeError as error:
        pytest.skip(f"{target_id} has no {dtype}: {error}")
    return target


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_parameters_at_the_dtype_limit_give_finite_values(target_id: str, dtype: str) -> None:
    target = _target_with(target_id, dtype)
    top = largest_finite(dtype)
    for function, keywords in _inside(top, overflow_threshold(dtype)):
        shape = (16, 8) if function in ("orthogonal", "identity") else (4096,)
        array = getattr(ui, function)(shape, backend=target.backend, device=target.device, dtype=dtype, seed=0, **keywords)
        values = target.values(array)
        assert np.isfinite(values).all(), f"{function}{keywords} in {dtype} returned non-finite values"
        assert np.abs(values).max() <= top


@pytest.mark.parametrize("target_id", ["numpy", "torch:cpu"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_parameters_past_the_dtype_limit_are_refused(target_id: str, dtype: str) -> None:
    target = _target_with(target_id, dtype)
    for function, keywords in _outside(overflow_threshold(dtype)):
        if not all(math.isfinite(value) for value in keywords.values()):
            continue  # past float64's range a parameter is inf, refused as not finite
        with pytest.raises(ui.ParameterError, match=f"dtype='{dtype}'.*largest finite value"):
            getattr(ui, function)((8, 8), backend=target.backend, device=target.device, dtype=dtype, seed=0, **keywords)


@pytest.mark.parametrize("refused", [
    lambda: ui.random_normal((4,), stddev=1e308),
    lambda: ui.he_uniform((4, 2), region=(slice(0, 1),)),  # a region of a native stream: took a seed, then was refused
    lambda: ui.orthogonal((4, 4), region=(slice(0, 2),)),
])
def test_a_refused_call_consumes_no_seed(refused: Any) -> None:
    ui.set_seed(5)
    with pytest.raises(ui.ParameterError):
        refused()
    after_refusal = ui.random_normal((4,))
    ui.set_seed(5)
    assert (ui.random_normal((4,)) == after_refusal).all()


def test_a_call_refused_by_what_only_drawing_finds_consumes_no_seed() -> None:
    """A namespace without ``linalg`` refuses an orthogonal matrix once its Gaussian is drawn: the global stream's seed
    stayed taken (helper 168). It is given back, as a refusal before the draw takes none."""
    strict = pytest.importorskip("array_api_strict")
    ui.set_seed(5)
    strict.set_array_api_strict_flags(enabled_extensions=())
    try:
        with pytest.raises(ui.BackendError, match=r"linalg\.qr"):
            ui.orthogonal((4, 4), backend=strict)
    finally:
        strict.reset_array_api_strict_flags()
    after_refusal = ui.random_normal((4,))
    ui.set_seed(5)
    assert (ui.random_normal((4,)) == after_refusal).all()


def test_a_refused_sharded_draw_consumes_no_seed() -> None:
    jax = pytest.importorskip("jax")
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    ui.set_seed(5)
    with pytest.raises(ui.DTypeError):
        ui.he_normal((4,), sharding=sharding, rng="portable", dtype="int32")
    after_refusal = ui.random_normal((4,))
    ui.set_seed(5)
    assert (ui.random_normal((4,)) == after_refusal).all()
    sharded = ui.he_normal((4,), sharding=sharding, rng="portable")  # the one shard takes the stream's next seed
    ui.set_seed(5)
    ui.random_normal((4,))
    assert np.array_equal(np.asarray(sharded), ui.he_normal((4,), rng="portable", backend="jax"))


# One definition of the options, one cached plan per call site.


def test_the_options_are_defined_once() -> None:
    """``Initializer.__call__`` lists the options of :class:`Options` in its order and with its defaults; ``CallOptions`` types the same names."""
    import inspect

    from unit_init.spec.options import CallOptions, Options

    parameters = inspect.signature(ui.Initializer.__call__).parameters
    keywords = {name: p.default for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert tuple(keywords) == Options._fields == tuple(CallOptions.__annotations__)
    assert tuple(keywords.values()) == tuple(Options._field_defaults[name] for name in Options._fields)


def test_a_warm_call_reuses_its_plan_and_still_checks_every_argument() -> None:
    from unit_init.request import _plan_cached

    ui.he_normal((8, 4), seed=0)
    before = _plan_cached.cache_info()
    ui.he_normal((8, 4), seed=1)
    assert _plan_cached.cache_info().hits == before.hits + 1
    assert _plan_cached.cache_info().misses == before.misses
    with pytest.raises(ui.ParameterError):
        ui.he_normal((8, 4), seed=0, fan_in=True)  # a bool equals 1 but is refused: fans are checked outside the plan
    with pytest.raises(ui.ShapeError):
        ui.he_normal((8, 4.0), seed=0)  # 4.0 == 4: the shape is normalized before the look-up


def test_an_unhashable_argument_is_checked_without_the_cache() -> None:
    from unit_init.spec._checks import hashable

    assert not hashable((ui.HeNormal(), ["torch"]))
    with pytest.raises(ui.ParameterError, match="layout"):
        ui.he_normal((4, 4), layout=["torch"])
    with pytest.raises(ui.DTypeError):  # a DTypeError is a TypeError: raised as it is, never taken for "unhashable"
        ui.he_normal((4, 4), dtype="int32")


@pytest.mark.parametrize(
    ("form", "keyword"),
    [(ui.constant, "value"), (ui.identity, "gain"), (ui.constant_array, "value")],
)
def test_a_signed_zero_parameter_draws_what_its_equal_spec_draws(form: Any, keyword: str) -> None:
    """``−0.0 == 0.0`` and they hash alike, so the plan cached for one answers the other: a zero parameter is kept as ``+0.0``."""
    value = [-0.0, -0.0] if form is ui.constant_array else -0.0
    negative = form((2, 2), **{keyword: value})
    positive = form((2, 2), **{keyword: [0.0, 0.0] if form is ui.constant_array else 0.0})
    assert not np.signbit(negative).any()
    assert not np.signbit(positive).any()
    assert math.copysign(1.0, ui.STFT(window=[-0.0, 1.0]).window[0]) == 1.0  # == alone cannot tell -0.0 from 0.0
    assert str(ui.Constant(-0.0)) == str(ui.Constant(0.0))
