"""Hostile configs through every deserialization entry point (issue 15, item 5; docs/serialization.md).

Each entry point bounds the whole config first (``plain_config``: depth, size,
string length, int size, finite floats, JSON types), so every hostile config of
the corpus, put in every position of a valid config, raises a
:class:`~unit_init.UnitInitError` quickly and imports nothing; a hypothesis fuzz
test checks that nothing else ever escapes.
"""

from __future__ import annotations

import contextlib
import copy
import decimal
import functools
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import unit_init as ui
from unit_init.presets import LayerPreset
from unit_init.serialization import MAX_DEPTH, MAX_STRING, MAX_VALUES, adapter_config, plain_config, read_adapter_config

Path_ = tuple[str, ...]


def _nested(depth: int, make: Callable[[object], object]) -> object:
    value: object = 0
    for _ in range(depth):
        value = make(value)
    return value


def _cyclic_dict() -> object:
    value: dict[str, object] = {"class_name": "HeNormal"}
    value["config"] = {"seed": value}
    return value


def _cyclic_list() -> object:
    value: list[object] = [1]
    value.append(value)
    return value


# name -> a factory of the hostile value (built once, by _hostile(); no reader mutates a config)
HOSTILE: dict[str, Callable[[], object]] = {
    "list nested 1e5 deep": lambda: _nested(100_000, lambda inner: [inner]),
    "dict nested 1e5 deep": lambda: _nested(100_000, lambda inner: {"config": inner}),
    "list nested just past the limit": lambda: _nested(MAX_DEPTH + 1, lambda inner: [inner]),
    "dict that contains itself": _cyclic_dict,
    "list that contains itself": _cyclic_list,
    "int of 5000 digits": lambda: 10**5000,
    "negative int of 5000 digits": lambda: -(10**5000),
    "int 2**64": lambda: 2**64,
    "nan": lambda: math.nan,
    "inf": lambda: math.inf,
    "-inf": lambda: -math.inf,
    "numpy nan": lambda: np.float64("nan"),
    "10 MB string": lambda: "x" * 10_000_000,
    "10 MB key": lambda: {"x" * 10_000_000: 1},
    "list of 1e6 ints": lambda: list(range(1_000_000)),
    "dict of 1e5 keys": lambda: {str(i): i for i in range(100_000)},
    "int key": lambda: {1: 2},
    "tuple key": lambda: {(1, 2): 3},
    "None key": lambda: {None: "seed"},
    "a Python function": lambda: print,
    "a lambda": lambda: lambda: 1,
    "a lambda as a string": lambda: "lambda: __import__('os').system('true')",
    "a module path": lambda: "os.system",
    "a trap module name": lambda: "unit_init_trap",
    "bytes": lambda: b"HeNormal",
    "a set": lambda: {1, 2},
    "a complex": lambda: 1j,
    "a Decimal of 5000 digits": lambda: decimal.Decimal("1e5000"),
    "a numpy array": lambda: np.arange(3),
    "an object": object,
}

_SPEC: dict[str, Any] = {
    "module": "keras.initializers", "class_name": "VarianceScaling", "registered_name": "VarianceScaling",
    "config": {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": 1, "input_axes": None, "output_axes": None},
}
_SPEC_POSITIONS: list[Path_] = [(), ("class_name",), ("config",), ("module",), ("registered_name",), ("config", "scale"), ("config", "seed"), ("config", "mode"), ("config", "input_axes")]
_COMPOSED: dict[str, Any] = {"class_name": "Composed", "config": {"rule": {"class_name": "FanScaled", "config": {"scale": 2.0}}, "family": "normal"}}
_COMPOSED_POSITIONS: list[Path_] = [("config", "rule"), ("config", "rule", "class_name"), ("config", "rule", "config"), ("config", "rule", "config", "scale"), ("config", "family")]
_PRESET: dict[str, Any] = ui.serialize(ui.keras_dense)
_PRESET_POSITIONS: list[Path_] = [(), ("class_name",), ("config",), ("config", "weight"), ("config", "bias"), ("config", "layout"), ("config", "bias_fan_from_weight"), ("config", "weight", "config", "seed")]
_ADAPTER: dict[str, Any] = adapter_config(ui.HeNormal(seed=1), ui.Layout(in_axis=(0,), out_axis=1), fan_in=3)
_ADAPTER_POSITIONS: list[Path_] = [(), ("spec",), ("layout",), ("layout", "in_axis"), ("fan_in",), ("fan_out",), ("spec", "config", "seed")]
_KERAS: dict[str, Any] = {**adapter_config(ui.HeNormal(), ui.Layout(in_axis=(0,), out_axis=1), fan_in=3), "seed": {"class_name": "SeedGenerator", "config": {"seed": 1}}, "input_axes": [0]}
_CONSTANT: dict[str, Any] = {"class_name": "Constant", "config": {"value": [[1.0, 2.0], [3.0, 4.0]], "dtype": "float32"}}
_CONSTANT_POSITIONS: list[Path_] = [("config", "dtype")]  # an array value is data, accepted
_KERAS_POSITIONS: list[Path_] = [*_ADAPTER_POSITIONS, ("seed",), ("seed", "config"), ("seed", "config", "seed"), ("input_axes",), ("output_axes",)]


def _keras(name: str) -> Callable[[Any], object]:
    def read(config: Any) -> object:
        keras_adapter = pytest.importorskip("unit_init.keras", exc_type=ImportError)  # BackendUnavailableError: an ImportError
        if name == "constant":
            return keras_adapter.KerasConstant.from_config(config["config"])
        return keras_adapter.initializer(config) if name == "initializer" else keras_adapter.KerasInitializer.from_config(config)

    return read


def _jax(config: Any) -> object:
    return pytest.importorskip("unit_init.jax", exc_type=ImportError).JaxInitializer.from_config(config)


# entry point -> (reader, a valid config, the positions a hostile value is put in)
ENTRY_POINTS: dict[str, tuple[Callable[[Any], object], dict[str, Any], list[Path_]]] = {
    "deserialize": (ui.deserialize, _SPEC, _SPEC_POSITIONS),
    "deserialize Composed": (ui.deserialize, _COMPOSED, _COMPOSED_POSITIONS),
    "get": (ui.get, _SPEC, _SPEC_POSITIONS),
    "deserialize_preset": (ui.deserialize_preset, _PRESET, _PRESET_POSITIONS),
    "LayerPreset.from_config": (lambda config: LayerPreset.from_config(config["config"]), _PRESET, [p for p in _PRESET_POSITIONS if p[:1] == ("config",) and len(p) > 1]),
    "read_adapter_config": (read_adapter_config, _ADAPTER, _ADAPTER_POSITIONS),
    "JaxInitializer.from_config": (_jax, _ADAPTER, _ADAPTER_POSITIONS),
    "keras initializer": (_keras("initializer"), _SPEC, _SPEC_POSITIONS[1:]),  # a whole array is a legitimate constant
    "KerasInitializer.from_config": (_keras("from_config"), _KERAS, _KERAS_POSITIONS),
    "keras Constant": (_keras("initializer"), _CONSTANT, [("class_name",), ("config",), *_CONSTANT_POSITIONS]),
    "KerasConstant.from_config": (_keras("constant"), _CONSTANT, _CONSTANT_POSITIONS),
}


@functools.cache
def _hostile() -> dict[str, object]:
    return {name: make() for name, make in HOSTILE.items()}


def _put(config: dict[str, Any], path: Path_, value: object) -> object:
    if not path:
        return value
    result = copy.deepcopy(config)
    parent = result
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return result


def _cases() -> Iterator[Any]:
    for entry, (_, _, positions) in ENTRY_POINTS.items():
        for path in positions:
            yield pytest.param(entry, path, id=f"{entry}-{'.'.join(path) or 'whole'}")


@pytest.fixture
def trap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A module ``unit_init_trap`` on ``sys.path`` whose top level writes the returned marker."""
    marker = tmp_path / "marker"
    (tmp_path / "unit_init_trap.py").write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.mark.parametrize(("entry", "path"), list(_cases()))
def test_every_hostile_config_is_refused_typed_quickly_importing_nothing(entry: str, path: Path_, trap: Path) -> None:
    read, valid, _ = ENTRY_POINTS[entry]
    read(copy.deepcopy(valid))  # the valid config reads: what follows fails because of the hostile value only
    before = set(sys.modules)
    for name, value in _hostile().items():
        config = _put(valid, path, value)
        start = time.perf_counter()
        with pytest.raises(ui.UnitInitError) as caught:
            read(config)
        seconds = time.perf_counter() - start
        # a guard against unbounded work (a 5000-digit int printed, a walk past the limits), not a speed target: refusals
        # take ~0.1 ms, but a Constant config has room for 2**20 numbers, so one holding 10**6 where the dtype goes is
        # walked (2 s alone, 13 s on a loaded 2-core machine); 1 s was tripped by such a machine (1.12 s for a NumPy array)
        assert seconds < 60, f"{name}: {seconds:.2f} s"
        assert len(str(caught.value)) < 2000, name
    assert set(sys.modules) == before
    assert not trap.exists()


def test_the_limits_are_the_documented_ones() -> None:
    assert (MAX_DEPTH, MAX_VALUES, MAX_STRING) == (16, 1024, 256)
    plain_config("c", _nested(MAX_DEPTH, lambda inner: [inner]))
    plain_config("c", {"k" * MAX_STRING: "v" * MAX_STRING, "n": [2**64 - 1, -(2**64) + 1, 1e308]})
    plain_config("c", list(range(MAX_VALUES - 1)))
    for hostile in (_nested(MAX_DEPTH + 1, lambda inner: [inner]), "v" * (MAX_STRING + 1), 2**64, list(range(MAX_VALUES))):
        with pytest.raises(ui.ParameterError):
            plain_config("c", hostile)


@pytest.mark.parametrize(
    ("hostile", "message"),
    [
        (_nested(100_000, lambda inner: [inner]), "more than 16 deep"),
        (10**5000, "int of 16610 bits>: ints must lie below 2"),
        ("x" * 10_000_000, "10000000 characters, more than the 256 accepted"),
        (math.nan, "finite numbers only"),
        ({1: 2}, "keys must be plain strings"),
        (print, "a builtin_function_or_method"),
    ],
    ids=["deep", "huge int", "huge string", "nan", "int key", "function"],
)
def test_messages_name_the_limit_and_quote_the_value_short(hostile: object, message: str) -> None:
    with pytest.raises(ui.ParameterError, match=message) as caught:
        ui.deserialize({"class_name": "HeNormal", "config": {"seed": hostile}})
    assert str(caught.value).startswith("the config holds") or "deep" in str(caught.value) or "keys" in str(caught.value)
    assert len(str(caught.value)) < 300


def test_real_configs_still_read() -> None:
    assert ui.deserialize(_SPEC) == ui.VarianceScaling(scale=2.0, mode="fan_in", distribution="truncated_normal", seed=1)
    assert ui.deserialize_preset(_PRESET) == ui.keras_dense
    assert read_adapter_config(_ADAPTER).fan_in == 3


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(max_size=20) | st.sampled_from(["HeNormal", "Composed", "FanScaled", "keras", "fan_in", "LayerPreset"]),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["class_name", "config", "module", "registered_name", "seed", "scale", "rule", "family", "layout",
                         "spec", "fan_in", "weight", "bias", "name", "in_axis", "input_axes", "mode", "distribution"]) | st.text(max_size=8),
        children, max_size=6,
    ),
    max_leaves=30,
)
_READERS = [ui.deserialize, ui.get, ui.deserialize_preset, read_adapter_config]


@settings(max_examples=max(500, settings().max_examples), derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=_JSON, valid=st.sampled_from([_SPEC, _COMPOSED, _PRESET, _ADAPTER]), where=st.integers(0, 3))
def test_fuzz_reading_raises_only_unit_init_errors(config: object, valid: dict[str, Any], where: int) -> None:
    """Random JSON, alone or grafted into a valid config's ``config`` field: read or refused typed, never anything else."""
    candidates = [config, {**valid, "config": config}, {**valid, "class_name": config}, {**valid, **config} if isinstance(config, dict) else config]
    for read in _READERS:
        _read_or_refuse(read, candidates[where])


def _read_or_refuse(read: Callable[[Any], object], config: object) -> None:
    """Read ``config``; a UnitInitError is a fine answer, anything else fails the test."""
    with contextlib.suppress(ui.UnitInitError):
        read(config)


def test_objects_whose_own_methods_raise_are_typed_refusals() -> None:
    """A dtype whose ``str()`` raises, a mapping whose ``len()`` raises: each leaked its ``RuntimeError``."""

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("str")

        __repr__ = __str__

    class Unmeasurable(dict):  # type: ignore[type-arg]
        def __len__(self) -> int:
            raise RuntimeError("len")

    with pytest.raises(ui.DTypeError, match="is not supported"):
        ui.he_normal((2, 2), dtype=Unprintable())
    with pytest.raises(ui.ParameterError, match="holds a Unmeasurable that could not be read"):
        ui.deserialize(Unmeasurable(class_name="HeNormal", config={}))


class _Boom(Exception):
    """Raised by a caller's subclass: it must never reach the caller of a config reader."""


def _boom(*_: object, **__: object) -> Any:
    raise _Boom


class _HostileInt(int):
    __eq__ = __ne__ = __lt__ = __gt__ = __repr__ = __str__ = __index__ = __float__ = __format__ = _boom  # type: ignore[assignment]
    __hash__ = int.__hash__


class _HostileFloat(float):
    __eq__ = __ne__ = __lt__ = __gt__ = __repr__ = __str__ = __float__ = __format__ = __bool__ = _boom  # type: ignore[assignment]
    __hash__ = float.__hash__


class _HostileStr(str):
    __eq__ = __ne__ = __contains__ = __format__ = _boom  # type: ignore[assignment]
    __hash__ = str.__hash__


class _HostileDict(dict):  # type: ignore[type-arg]
    get = __getitem__ = __contains__ = keys = __iter__ = __repr__ = _boom


class _HostileList(list):  # type: ignore[type-arg]
    __getitem__ = __contains__ = __eq__ = __repr__ = _boom  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


def _subclassed(value: object) -> object:
    """``value`` as a subclass of its own type whose methods (comparison, look-up, repr …) raise :class:`_Boom`."""
    for plain, hostile in ((bool, None), (int, _HostileInt), (float, _HostileFloat), (str, _HostileStr), (dict, _HostileDict), (list, _HostileList)):
        if isinstance(value, plain):
            return value if hostile is None else hostile(value)
    return value


def _positions(config: object, path: Path_ = ()) -> Iterator[Path_]:
    yield path
    if isinstance(config, dict):
        for key, value in config.items():
            yield from _positions(value, (*path, key))


def _unnamed(config: object) -> object:
    """``config`` without its ``name`` keys, at any depth."""
    if isinstance(config, dict):
        return {key: _unnamed(value) for key, value in config.items() if key != "name"}
    return config


@pytest.mark.parametrize("entry", list(ENTRY_POINTS))
def test_subclasses_whose_methods_raise_are_read_as_their_values_or_refused_typed(entry: str) -> None:
    """Each value of a valid config in turn (the whole config too) replaced by a subclass of its own type whose
    methods raise: the reader reads a plain copy, so the result is the value's or a typed refusal, and what it
    returns is itself free of them (its repr and config; a Composed's rule kept the subclass, whose repr raised)."""
    read, valid, _ = ENTRY_POINTS[entry]
    expected = read(valid)
    for path in _positions(valid):
        if entry in ("LayerPreset.from_config", "KerasConstant.from_config") and path[:1] != ("config",):
            continue  # these read config["config"], in the test
        original: Any = valid
        for key in path:
            original = original[key]
        config = _put(valid, path, _subclassed(original))
        try:
            result = read(config)
        except ui.UnitInitError:
            continue
        assert repr(result) == repr(expected), path  # the value's reading, not a default put in its place
        if isinstance(result, ui.Initializer):
            assert ui.serialize(result) == ui.serialize(expected), path
        elif hasattr(result, "get_config"):  # a Keras SeedGenerator's name is numbered by Keras at each read
            assert _unnamed(result.get_config()) == _unnamed(expected.get_config()), path
