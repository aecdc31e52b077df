"""The spellings torch users type: ``xavier_*``, ``kaiming_*`` (torch's a, mode, nonlinearity), ``trunc_normal``, ``eye``."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from tests.stats import check_sample, two_sample_ok

import unit_init as ui
from unit_init.functions import eye, kaiming_normal, kaiming_uniform, trunc_normal, xavier_normal, xavier_uniform
from unit_init.spec.torch_style import KaimingNormal, KaimingUniform, XavierNormal, XavierUniform

SHAPE = (256, 512)  # torch layout: out=256, in=512; 2**17 elements


def test_names_give_the_documented_specs() -> None:
    assert ui.get("xavier_uniform") == XavierUniform()
    assert ui.get("xavier_normal") == XavierNormal()
    assert ui.get("kaiming_uniform") == KaimingUniform()
    assert ui.get("kaiming_normal") == KaimingNormal()
    assert ui.get("trunc_normal") == ui.BoundedNormal()  # torch's defaults are BoundedNormal's: same class
    assert ui.get("eye") == ui.Identity()
    for name in ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "trunc_normal", "eye"):
        spec = ui.get(name)
        assert spec is not None
        assert ui.deserialize(json.loads(json.dumps(ui.serialize(spec)))) == spec


def _same_law(ours: ui.distributions.Distribution, expected: ui.distributions.Distribution) -> None:
    """The same family with the same parameters, to rounding (gain² = calculate_gain(...)² is 2 to an ulp)."""
    assert type(ours) is type(expected)
    for name in ours.__dataclass_fields__:  # type: ignore[attr-defined]
        assert getattr(ours, name) == pytest.approx(getattr(expected, name), rel=1e-15), name


@pytest.mark.parametrize("shape", [(512, 256), (3, 3, 16, 32), (7, 1)])
def test_default_laws_are_the_presets(shape: tuple[int, ...]) -> None:
    _same_law(XavierUniform().distribution_for(shape), ui.GlorotUniform().distribution_for(shape))
    _same_law(KaimingUniform().distribution_for(shape), ui.HeUniform().distribution_for(shape))
    _same_law(XavierNormal().distribution_for(shape), ui.VarianceScaling(1.0, "fan_avg", "untruncated_normal").distribution_for(shape))
    _same_law(KaimingNormal().distribution_for(shape), ui.VarianceScaling(2.0, "fan_in", "untruncated_normal").distribution_for(shape))


def test_kaiming_uniform_with_sqrt5_is_torchs_linear_default() -> None:
    law = KaimingUniform(a=math.sqrt(5)).distribution_for((512, 256))  # keras layout: fan_in = 512
    _same_law(law, ui.distributions.Uniform(-1 / math.sqrt(512), 1 / math.sqrt(512)))


def _torch_draw(name: str, params: dict[str, Any], seed: int) -> np.ndarray:
    torch = pytest.importorskip("torch")
    tensor = torch.empty(SHAPE, dtype=torch.float64)
    getattr(torch.nn.init, name)(tensor, **params, generator=torch.Generator().manual_seed(seed))
    values: np.ndarray = tensor.numpy()
    return values


TORCH_CASES: list[tuple[str, dict[str, Any], ui.Initializer]] = [
    ("xavier_uniform_", {"gain": 2.0}, XavierUniform(2.0)),
    ("xavier_normal_", {"gain": 0.5}, XavierNormal(0.5)),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, KaimingUniform(a=math.sqrt(5))),
    ("kaiming_uniform_", {"a": 0.2, "mode": "fan_out"}, KaimingUniform(a=0.2, mode="fan_out")),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "tanh"}, KaimingNormal(mode="fan_out", nonlinearity="tanh")),
    ("kaiming_normal_", {"nonlinearity": "relu"}, KaimingNormal(nonlinearity="relu")),
    ("trunc_normal_", {"mean": 1.0, "std": 2.0, "a": 0.0, "b": 5.0}, ui.BoundedNormal(1.0, 2.0, 0.0, 5.0)),
]


@pytest.mark.parametrize(("name", "params", "spec"), TORCH_CASES, ids=[f"{c[0]}{sorted(c[1])}" for c in TORCH_CASES])
def test_same_law_as_torch(name: str, params: dict[str, Any], spec: ui.Initializer) -> None:
    theirs = _torch_draw(name, params, seed=1)
    ours = spec(SHAPE, layout="torch", seed=2, dtype="float64")
    check_sample(ours, spec.distribution_for(SHAPE, layout="torch"), "float64")
    assert two_sample_ok(ours, theirs), f"{spec} differs from torch.nn.init.{name}({params})"


def test_the_two_sample_test_sees_a_wrong_gain_or_fan() -> None:
    theirs = _torch_draw("kaiming_uniform_", {"a": math.sqrt(5)}, seed=1)
    assert not two_sample_ok(KaimingUniform()(SHAPE, layout="torch", seed=2, dtype="float64"), theirs)  # gain √2, not √(1/3)
    assert not two_sample_ok(KaimingUniform(a=math.sqrt(5), mode="fan_out")(SHAPE, layout="torch", seed=2, dtype="float64"), theirs)


def test_function_forms_draw_the_specs() -> None:
    def same(a: Any, b: Any) -> None:
        np.testing.assert_array_equal(a, b)

    same(xavier_uniform((8, 4), gain=3.0, seed=1), XavierUniform(3.0)((8, 4), seed=1))
    same(xavier_normal((8, 4), seed=1), XavierNormal()((8, 4), seed=1))
    same(kaiming_uniform((8, 4), a=1.0, mode="fan_out", seed=1), KaimingUniform(1.0, "fan_out")((8, 4), seed=1))
    same(kaiming_normal((8, 4), nonlinearity="selu", seed=1), KaimingNormal(nonlinearity="selu")((8, 4), seed=1))
    same(trunc_normal((8, 4), mean=1.0, std=0.5, a=0.0, b=2.0, seed=1), ui.bounded_normal((8, 4), mean=1.0, stddev=0.5, minval=0.0, maxval=2.0, seed=1))
    same(eye((2, 3, 3)), ui.identity((2, 3, 3)))
    with pytest.raises(ui.ArgumentError, match="nonlinearity"):
        kaiming_normal((4, 4), nonlinearty="relu")  # type: ignore[call-arg]


def test_bad_parameters_name_the_argument() -> None:
    with pytest.raises(ui.ParameterError, match=r"mode='fan_avg'.*'fan_in', 'fan_out'"):
        KaimingUniform(mode="fan_avg")  # type: ignore[arg-type]
    with pytest.raises(ui.ParameterError, match=r"nonlinearity='rellu'.*Did you mean 'relu'"):
        KaimingNormal(nonlinearity="rellu")
    with pytest.raises(ui.ParameterError, match="a=nan"):
        KaimingNormal(a=math.nan)
    with pytest.raises(ui.ParameterError, match="gain=0"):
        XavierUniform(0.0)
