"""get / serialize / deserialize: JSON round-trips, Keras configs, and hostile configs refused."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import unit_init as ui

EXAMPLES = [
    *(cls() for cls in ui.CATALOGUE.values()),
    ui.Constant(0.25, seed=None),
    ui.RandomNormal(0.1, 2.0, seed=4),
    ui.RandomUniform(-1, 3),
    ui.TruncatedNormal(stddev=0.2, seed=0),
    ui.VarianceScaling(0.5, "fan_avg", "uniform", seed=9),
    ui.VarianceScaling(distribution="normal"),
    ui.Orthogonal(gain=2.0),
    ui.Identity(gain=0.5),
    ui.HeNormal(seed=2**63 - 1),
    ui.Composed(rule=ui.rules.FanScaled(6.0, "fan_avg"), family="uniform"),
    ui.Composed(rule=ui.rules.FixedVariance(0.01), family="untruncated_normal", mean=1.0),
]


@pytest.mark.parametrize("spec", EXAMPLES, ids=repr)
def test_round_trip_through_json(spec: ui.Initializer) -> None:
    config = json.loads(json.dumps(ui.serialize(spec)))
    assert ui.deserialize(config) == spec
    assert ui.get(config) == spec


def test_the_command_lines_name_and_parameters_form_is_refused_by_get_saying_where_it_is_read() -> None:
    """``ui.get("random_normal:stddev=0.01")`` (the form a report's ``initializer`` field takes) said "Did you mean
    'random_normal'?", which drops the parameter."""
    with pytest.raises(ui.ParameterError, match=r"the NAME:KEY=VALUE form is read by the command line, ui\.diagnose and ui\.compare") as refused:
        ui.get("random_normal:stddev=0.01")
    assert "Did you mean" not in str(refused.value)
    assert "{'class_name': 'RandomNormal', 'config'" in str(refused.value)  # it named 'random_normal', a config ui.get refuses
    assert ui.get({"class_name": "RandomNormal", "config": {"stddev": 0.01}}) == ui.RandomNormal(stddev=0.01)
    with pytest.raises(ui.ParameterError, match="is not known"):
        ui.get("bogus:stddev=0.01")


def test_get_accepts_names_specs_and_none() -> None:
    assert ui.get("he_normal") == ui.HeNormal()
    assert ui.get("GlorotUniform") == ui.GlorotUniform()
    assert ui.get(ui.Ones()) == ui.Ones()
    assert ui.get(None) is None
    with pytest.raises(ui.ParameterError, match="Did you mean 'he_normal'"):
        ui.get("he_normall")


def test_keras_configs_are_read_with_keras_meaning() -> None:
    keras_config = {
        "module": "keras.initializers",
        "class_name": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None},
        "registered_name": None,
    }
    assert ui.deserialize(keras_config) == ui.VarianceScaling(2.0, "fan_in", "truncated_normal")
    assert ui.deserialize({"class_name": "HeNormal", "config": {"seed": 1}}) == ui.HeNormal(seed=1)
    assert ui.deserialize({"class_name": "OrthogonalInitializer", "config": {"gain": 2.0}}) == ui.Orthogonal(2.0)
    # unit_init's own spelling of an untruncated normal never reads as truncated
    assert ui.serialize(ui.VarianceScaling(distribution="normal"))["config"]["distribution"] == "untruncated_normal"


HOSTILE: list[Any] = [
    {"class_name": "os.system", "config": {}},
    {"class_name": "HeNormal", "module": "os", "config": {}},
    {"class_name": "HeNormal", "module": "builtins", "registered_name": "eval"},
    {"class_name": "HeNormal", "config": {"seed": 1}, "registered_name": "Custom>Evil"},
    {"class_name": "Unknown", "config": {}},
    {"class_name": "__class__", "config": {}},
    {"class_name": "HeNormal", "config": {"__class__": "x"}},
    {"class_name": "HeNormal", "config": {"seed": 1, "extra": 2}},
    {"class_name": "HeNormal", "config": {}, "extra": 1},
    {"class_name": "VarianceScaling", "config": {"scale": 10**400}},
    {"class_name": "VarianceScaling", "config": {"scale": float("nan")}},
    {"class_name": "VarianceScaling", "config": {"scale": "2"}},
    {"class_name": "VarianceScaling", "config": {"scale": [2]}},
    {"class_name": "VarianceScaling", "config": {"scale": {"class_name": "HeNormal"}}},
    {"class_name": "VarianceScaling", "config": {"mode": "x" * 10_000_000}},
    {"class_name": "x" * 10_000_000},
    {"class_name": "HeNormal", "config": {"seed": 10**30}},
    {"class_name": "HeNormal", "config": {"seed": -1}},
    {"class_name": "HeNormal", "config": ["seed"]},
    {"class_name": 3},
    {"class_name": "HeNormal", "config": {"input_axes": [0], "output_axes": None}},
    {"config": {}},
    ["HeNormal"],
    "not a dict either",
    {"class_name": "Composed", "config": {"rule": {"class_name": "subprocess.Popen", "config": {}}}},
    {"class_name": "Composed", "config": {"rule": {"class_name": "FanScaled", "config": {"scale": -1}}}},
    {"class_name": "Composed", "config": {"rule": "lambda fans: 1"}},
    {"class_name": "Composed", "config": {"family": "os.system"}},
    {"class_name": "Composed", "config": {"rule": {"class_name": "FixedVariance"}}},  # a required field missing (was a TypeError)
    {"class_name": "Composed", "config": {"rule": {"class_name": "FixedVariance", "config": {}}}},
]


@pytest.mark.parametrize("config", HOSTILE, ids=lambda c: repr(c)[:60])
def test_hostile_configs_are_refused(config: Any) -> None:
    with pytest.raises(ui.UnitInitError):
        ui.deserialize(config)


def test_deserializing_imports_nothing() -> None:
    code = (
        "import sys, unit_init as ui\n"
        "deserialize, error = ui.deserialize, ui.UnitInitError  # load the package's own modules first\n"
        "before = set(sys.modules)\n"
        "for c in [{'class_name': 'HeNormal', 'module': 'json'}, {'class_name': 'xml.dom.minidom'}]:\n"
        "    try: deserialize(c)\n"
        "    except error: pass\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_unregistered_user_specs_are_refused_until_registered() -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Halves(ui.Initializer):
        def distribution_for(self, shape: object, **_: object) -> ui.distributions.Distribution:
            return ui.distributions.PointMass(0.5)

    with pytest.raises(ui.ParameterError, match="not a registered"):
        ui.serialize(Halves())
    ui.register(Halves)
    assert ui.deserialize(ui.serialize(Halves())) == Halves()


# Configs written before the presets became VarianceScaling subclasses: they must read back, and be written, unchanged.
STORED = [
    ({"class_name": "HeNormal", "config": {"seed": 1}}, ui.HeNormal(seed=1)),
    ({"class_name": "GlorotUniform", "config": {"seed": None}}, ui.GlorotUniform()),
    ({"class_name": "LecunNormal", "config": {}}, ui.LecunNormal()),
    (
        {"class_name": "VarianceScaling", "config": {"seed": 9, "scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}},
        ui.VarianceScaling(0.5, "fan_avg", "uniform", seed=9),
    ),
]


@pytest.mark.parametrize(("config", "spec"), STORED, ids=lambda v: repr(v)[:40])
def test_stored_configs_still_read_and_are_written_the_same(config: dict[str, Any], spec: ui.Initializer) -> None:
    assert ui.deserialize(config) == spec
    assert ui.serialize(spec) == {"class_name": config["class_name"], "config": {"seed": None, **config["config"]}}


@pytest.mark.parametrize(
    "config",
    [
        {"class_name": "HeNormal", "config": {"scale": 2.0}},
        {"class_name": "HeUniform", "config": {"mode": "fan_in", "distribution": "uniform"}},
        {"class_name": "VarianceScaling", "config": {"rule": {"class_name": "FanScaled", "config": {"scale": 2.0}}}},
        {"class_name": "VarianceScaling", "config": {"family": "uniform"}},
    ],
    ids=repr,
)
def test_fixed_and_derived_fields_are_not_config_keys(config: dict[str, Any]) -> None:
    with pytest.raises(ui.ParameterError, match="unknown key"):
        ui.deserialize(config)


def test_layer_presets_register_their_own_writer() -> None:
    assert ui.serialize(ui.keras_dense) == {
        "class_name": "LayerPreset",
        "config": {"name": "keras_dense", "weight": {"class_name": "GlorotUniform", "config": {"seed": None}},
                   "bias": {"class_name": "Zeros", "config": {"seed": None}}, "layout": "keras", "bias_fan_from_weight": True},
    }
    with pytest.raises(ui.ParameterError, match="not a registered unit_init spec"):
        ui.serialize(object())


def test_serialization_never_imports_presets() -> None:
    """presets.py reads and writes its configs with serialization.py, which must not import it back (at run time or for typing)."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("unit_init", include_external_packages=False)
    assert graph.find_shortest_chain(importer="unit_init.serialization", imported="unit_init.presets") is None
    assert graph.find_shortest_chain(importer="unit_init.presets", imported="unit_init.serialization") is not None


def test_an_infinite_bound_round_trips_as_the_string_inf_and_adapters_take_it() -> None:
    """``BoundedNormal(maxval=inf)`` could not be written to a config, so the JAX and Keras adapters refused it."""
    import json
    import math

    spec = ui.BoundedNormal(0.0, 1.0, 3.0, math.inf)
    config = ui.serialize(spec)
    assert config["config"]["maxval"] == "inf"
    assert ui.deserialize(json.loads(json.dumps(config))) == spec
    assert ui.deserialize({"class_name": "BoundedNormal", "config": {"minval": "-inf", "maxval": -3.0}}).minval == -math.inf
    with pytest.raises(ui.ParameterError, match="stddev=inf must be a finite real number"):
        ui.deserialize({"class_name": "RandomNormal", "config": {"stddev": "inf"}})
    with pytest.raises(ui.ParameterError):
        ui.deserialize({"class_name": "HeNormal", "config": {"seed": "inf"}})  # not a number field of a finite kind


@pytest.mark.parametrize(
    "spec", [ui.Identity(gain=2**64), ui.RandomNormal(stddev=2**64), ui.Orthogonal(gain=-(2**70)), ui.RandomUniform(maxval=2**64)], ids=repr
)
def test_an_int_beyond_a_configs_range_given_for_a_float_parameter_round_trips(spec: ui.Initializer) -> None:
    """``Identity(gain=2**64)`` drew, but a config holds ints below 2**64 only, so it could not be serialized
    (campaign); the spec keeps the float the int stands for, equal to it and hashed alike."""
    back = ui.deserialize(json.loads(json.dumps(ui.serialize(spec))))
    assert back == spec
    assert hash(back) == hash(spec)
    assert ui.Identity(gain=2**63).gain == 2**63  # an int a config holds stays one
