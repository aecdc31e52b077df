"""Hostile configs for layer presets, the adapters' wrappers and edited ``.keras`` files: all refused, nothing imported."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.serialization import adapter_config, read_adapter_config

GOOD_SPEC = {"class_name": "HeNormal", "config": {"seed": 1}}
HUGE = "x" * 10_000_000

HOSTILE_SPECS: list[Any] = [
    {"class_name": "os.system", "config": {}},
    {"class_name": "HeNormal", "module": "subprocess", "config": {}},
    {"class_name": "__class__", "config": {}},
    {"class_name": "HeNormal", "config": {"__class__": "builtins.eval"}},
    {"class_name": "VarianceScaling", "config": {"scale": 10**400}},
    {"class_name": "VarianceScaling", "config": {"scale": float("nan")}},
    {"class_name": "Sparse", "config": {"sparsity": float("inf")}},
    {"class_name": "Dirac", "config": {"groups": 10**30}},
    {"class_name": "Dirac", "config": {"groups": 1.5}},
    {"class_name": "BoundedNormal", "config": {"minval": 1.0, "maxval": -1.0}},
    {"class_name": "HeNormal", "config": {"seed": {"class_name": "SeedGenerator"}}},
    {"class_name": HUGE},
    "HeNormal",
    ["HeNormal"],
    None,
]

HOSTILE_PRESETS: list[Any] = [
    *({"class_name": "LayerPreset", "config": {"name": "p", "weight": spec, "bias": GOOD_SPEC}} for spec in HOSTILE_SPECS),
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC, "layout": "os.path"}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC, "layout": {"in_axis": 0}}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC, "bias_fan_from_weight": "yes"}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC, "bias_fan_from_weight": 1}},
    {"class_name": "LayerPreset", "config": {"name": HUGE, "weight": GOOD_SPEC, "bias": GOOD_SPEC}},
    {"class_name": "LayerPreset", "config": {"name": ["p"], "weight": GOOD_SPEC, "bias": GOOD_SPEC}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC, "extra": 1}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": GOOD_SPEC}},
    {"class_name": "LayerPreset", "config": {"name": "p", "weight": ui.serialize(ui.torch_linear), "bias": GOOD_SPEC}},
    {"class_name": "LayerPreset", "module": "os", "config": {}},
    {"class_name": "os.system", "config": {"name": "p", "weight": GOOD_SPEC, "bias": GOOD_SPEC}},
    {"class_name": "LayerPreset", "config": "name=p"},
    {HUGE: 1},
    [],
]

HOSTILE_WRAPPERS: list[Any] = [
    *({"spec": spec, "layout": "keras"} for spec in HOSTILE_SPECS),
    {"spec": GOOD_SPEC, "layout": "os"},
    {"spec": GOOD_SPEC, "layout": HUGE},
    {"spec": GOOD_SPEC, "layout": None},
    {"spec": GOOD_SPEC, "layout": "keras", "module": "builtins"},
    {"spec": GOOD_SPEC, "__class__": "x"},
    {"layout": "keras"},
    {"spec": ui.serialize(ui.keras_dense), "layout": "keras"},
    "spec",
]


def _ids(value: Any) -> str:
    return repr(value)[:50]


@pytest.mark.parametrize("config", HOSTILE_PRESETS, ids=_ids)
def test_hostile_preset_configs_are_refused(config: Any) -> None:
    with pytest.raises(ui.UnitInitError):
        ui.deserialize_preset(config)


@pytest.mark.parametrize("config", HOSTILE_WRAPPERS, ids=_ids)
def test_hostile_adapter_configs_are_refused(config: Any) -> None:
    with pytest.raises(ui.UnitInitError):
        read_adapter_config(config)


def test_adapter_config_round_trips_every_named_spec() -> None:
    for name in [*ui.CATALOGUE, *ui.EXTRAS]:
        spec = ui.get(name) if name != "sparse" else ui.Sparse(0.5)
        assert spec is not None
        assert read_adapter_config(json.loads(json.dumps(adapter_config(spec, "torch")))) == (spec, "torch", None, None)
    with pytest.raises(ui.ParameterError):
        adapter_config(ui.HeNormal(), "not_a_layout")


def test_hostile_configs_import_nothing() -> None:
    code = (
        "import sys, unit_init as ui\n"
        "from unit_init.serialization import read_adapter_config\n"
        "deserialize_preset = ui.deserialize_preset  # load the package's own modules first\n"
        "before = set(sys.modules)\n"
        "evil = {'class_name': 'xml.dom.minidom', 'module': 'json', 'config': {}}\n"
        "for read, config in [(deserialize_preset, {'class_name': 'LayerPreset', 'config': {'name': 'p', 'weight': evil, 'bias': evil}}),\n"
        "                     (read_adapter_config, {'spec': evil, 'layout': 'keras'}), (read_adapter_config, {'spec': {'class_name': 'HeNormal'}, 'layout': 'csv'})]:\n"
        "    try: read(config)\n"
        "    except ui.UnitInitError: pass\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


KERAS_SCRIPT = r'''
import json, sys, zipfile
import keras
import unit_init as ui
from unit_init import keras as _  # registers the class before loading

folder = sys.argv[1]
with open(folder + "/edits.json") as f:
    edits = json.load(f)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, kernel_initializer=ui.keras.initializer(ui.HeNormal(seed=1)))])
good = folder + "/good.keras"
model.save(good)
with zipfile.ZipFile(good) as archive:
    files = {name: archive.read(name) for name in archive.namelist()}
config = json.loads(files["config.json"])

def dense(c):
    return next(layer for layer in c["config"]["layers"] if layer["class_name"] == "Dense")

outcomes = []
before = set(sys.modules)
for i, edit in enumerate(edits):
    edited = json.loads(json.dumps(config))
    dense(edited)["config"]["kernel_initializer"]["config"] = edit
    path = f"{folder}/edit{i}.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, json.dumps(edited) if name == "config.json" else data)
    try:
        keras.saving.load_model(path)
        outcomes.append("loaded")
    except Exception as error:
        chain, seen = [], error
        while seen is not None:
            chain.append(seen)
            seen = seen.__cause__ or seen.__context__
        outcomes.append("refused" if any(isinstance(e, ui.UnitInitError) for e in chain) else f"other: {error!r}"[:300])
loaded = keras.saving.load_model(good).layers[0].kernel_initializer
print(json.dumps({"outcomes": outcomes, "good": loaded.get_config(), "new_modules": sorted(set(sys.modules) - before - {"keras.src.saving.saving_lib"})}))
'''

KERAS_EDITS: list[Any] = [
    {"spec": {"class_name": "os.system", "config": {}}, "layout": "keras"},
    {"spec": {"class_name": "HeNormal", "module": "subprocess", "config": {}}, "layout": "keras"},
    {"spec": {"class_name": "HeNormal", "config": {"__class__": "x"}}, "layout": "keras"},
    {"spec": {"class_name": "VarianceScaling", "config": {"scale": 1e400}}, "layout": "keras"},
    {"spec": {"class_name": "HeNormal", "config": {"seed": "1"}}, "layout": "keras"},
    {"spec": {"class_name": "HeNormal", "config": {}}, "layout": "torch; import os"},
    {"spec": {"class_name": "HeNormal", "config": {}}, "layout": "keras", "module": "os"},
    {"spec": "x" * 1_000_000, "layout": "keras"},
]


def test_edited_keras_files_are_refused(tmp_path: Path) -> None:
    if importlib.util.find_spec("keras") is None or importlib.util.find_spec("jax") is None:
        pytest.skip("keras (with jax) is not installed")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    (tmp_path / "edits.json").write_text(json.dumps(KERAS_EDITS))
    run = subprocess.run(
        [sys.executable, "-c", KERAS_SCRIPT, str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["outcomes"] == ["refused"] * len(KERAS_EDITS)
    assert result["good"] == {"spec": {"class_name": "HeNormal", "config": {"seed": 1}}, "layout": "keras"}
    assert not [m for m in result["new_modules"] if m.split(".")[0] in ("os", "subprocess", "xml", "csv")]


def test_what_reading_would_refuse_is_not_written() -> None:
    """``serialize`` of a preset and ``adapter_config`` check the whole config they write, as ``serialize`` of a spec does."""
    from unit_init.serialization import adapter_config

    for preset in (
        ui.LayerPreset(name="n" * 300, weight=ui.HeNormal(), bias=ui.Zeros()),
        ui.LayerPreset(name="n", weight=ui.ConstantArray([0.5] * 1000), bias=ui.ConstantArray([0.5] * 1000)),
    ):
        with pytest.raises(ui.ParameterError, match="the config of LayerPreset"):
            ui.serialize(preset)
    with pytest.raises(ui.ParameterError, match="the adapter config holds more than"):
        adapter_config(ui.ConstantArray([0.5] * 1017))


def test_a_bad_seed_in_a_keras_initializer_config_is_a_parameter_error() -> None:
    """Keras's loader turns a ``TypeError`` from ``from_config`` (a ``SeedError`` is one) into a plain one of its own."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    config = keras.saving.serialize_keras_object(unit_init.keras.initializer(ui.HeNormal(), seed=3))
    config["config"]["seed"] = -1
    with pytest.raises(ui.ParameterError, match=r"config is invalid.*seed"):
        keras.saving.deserialize_keras_object(config)


def test_gated_quotes_its_specs_abbreviated() -> None:
    from unit_init.adapters.rules import Gated

    with pytest.raises(ui.ParameterError) as raised:
        Gated([ui.HeNormal()] * 10**5, gates=3)
    assert len(str(raised.value)) < 1000


class _HalfFanIn:
    """A rule of the user's own: no config can hold it."""

    def variance(self, fans: Any) -> float:
        return 0.5 / fans.fan_in


def test_a_spec_without_a_config_draws_in_jax_and_only_saving_it_is_refused() -> None:
    """A ``Composed`` with the user's own rule was refused when the JAX adapter was made ("cannot be written to a JSON
    config"), though every draw path takes it; now it draws, and saving says how to make it savable."""
    jax = pytest.importorskip("jax")
    make = pytest.importorskip("unit_init.jax", exc_type=ImportError).initializer
    spec = ui.Composed(rule=_HalfFanIn(), family="uniform")
    init = make(spec)
    values = np.asarray(init(jax.random.key(0), (256, 512)))
    assert values.var() == pytest.approx(0.5 / 256, rel=0.02)  # 131072 values: the variance within ~0.4 % (1σ)
    with pytest.raises(ui.ParameterError, match=r"ui\.register it"):
        init.get_config()
    with pytest.raises(ui.ParameterError, match="layout='nope' is not"):  # its layout is checked all the same
        make(spec, layout="nope")


def test_a_keras_initializer_of_a_spec_without_a_config_is_refused_when_made_saying_how() -> None:
    """A Keras initializer is saved with its model (and cloned through its config): refused up front, the way out named."""
    make = pytest.importorskip("unit_init.keras", exc_type=ImportError).initializer
    with pytest.raises(ui.ParameterError, match=r"cannot be written to a JSON config.*ui\.register it"):
        make(ui.Composed(rule=_HalfFanIn(), family="uniform"))
