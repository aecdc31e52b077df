"""The cross-backend matrix: catalogue × backends × dtypes × layouts × shapes.

Two kinds of cells:

* **structure** (every initializer × target × dtype × representative shape):
  exact shape, dtype (no silent upcast) and device; same seed ⇒ bit-identical,
  different seed ⇒ different;
* **statistics** (every random initializer × data target × dtype × layout, 2^18
  values): moments with tolerances from n and the kurtosis, support after the
  cast, one-sample KS against the analytic law *computed here independently of
  the spec layer*, and a two-sample KS against the NumPy reference draw.

Ids read ``he_normal-torch:meta-bfloat16-keras``. The terminal summary counts
the cells that ran per backend (see conftest.py).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import unit_init as ui
from stats import check_sample, two_sample_ok
from targets import DATA_TARGETS, TARGETS, load
from unit_init import distributions as d
from unit_init.backends.registry import get_backend
from unit_init.capabilities import expected_error

DTYPES = ["float16", "bfloat16", "float32", "float64"]
STRUCTURE_DTYPES = [*DTYPES, "int32"]
SHAPES = {
    "dense": (16, 32),
    "conv1d": (3, 8, 16),
    "conv2d": (3, 3, 8, 16),
    "conv3d": (2, 2, 2, 4, 8),
    "nonsquare": (5, 40),
    "tiny": (1, 1),
    "empty": (0, 8),
}
RANK2_ONLY = {"identity"}
C = 0.87962566103423978  # std of N(0, 1) cut at ±2


def cells(*axes: list[str]) -> list[object]:
    """Every combination of the axes, as pytest params with ids like ``he_normal-torch:meta-bfloat16-keras``."""
    combos: list[tuple[str, ...]] = [()]
    for axis in axes:
        combos = [(*combo, value) for combo in combos for value in axis]
    return [pytest.param(*combo, id="-".join(combo)) for combo in combos]


def structure_cells() -> list[object]:
    return [
        cell for cell in cells(list(ui.CATALOGUE), list(TARGETS), STRUCTURE_DTYPES, list(SHAPES))
        if not (cell.values[0] in RANK2_ONLY and len(SHAPES[cell.values[3]]) != 2)  # type: ignore[attr-defined]
    ]


def capability_error(name: str, target_id: str, dtype: str) -> type[Exception] | None:
    backend, device, _, _ = TARGETS[target_id]
    return expected_error(name, backend, dtype, device_kind=device or "cpu")


@pytest.mark.parametrize(("name", "target_id", "dtype", "shape_name"), structure_cells())
def test_structure(name: str, target_id: str, dtype: str, shape_name: str) -> None:
    target = load(target_id)
    shape = SHAPES[shape_name]
    spec = ui.get(name)
    assert spec is not None
    error = capability_error(name, target_id, dtype)
    if error is not None:
        with pytest.raises(error):
            target.draw(spec, shape, dtype=dtype, seed=1)
        return
    first = target.draw(spec, shape, dtype=dtype, seed=1)
    assert tuple(first.shape) == shape
    assert target.dtype_of(first) == dtype
    assert target.device_of(first) == get_backend(target.backend).resolve_device(target.device)
    if target_id.endswith(":meta") or math.prod(shape) == 0:
        return
    again, other = target.draw(spec, shape, dtype=dtype, seed=1), target.draw(spec, shape, dtype=dtype, seed=2)
    np.testing.assert_array_equal(target.values(first), target.values(again))
    random = spec.distribution_for(shape).random
    if random and math.prod(shape) > 1:
        assert not np.array_equal(target.values(first), target.values(other))


# --- statistics ------------------------------------------------------------------

STAT_SHAPE = (256, 1024)  # 2^18 values; non-square so a swapped fan changes the variance 4x


def expected(name: str, layout: str) -> d.Distribution:
    """The law each initializer promises for STAT_SHAPE, written out from CONTRACT §2 by hand."""
    rows, cols = STAT_SHAPE
    fan_in, fan_out = (rows, cols) if layout == "keras" else (cols, rows)
    fan_avg = (fan_in + fan_out) / 2
    laws = {
        "random_normal": d.Normal(0.0, 0.05),
        "random_uniform": d.Uniform(-0.05, 0.05),
        "truncated_normal": d.TruncatedGaussian(0.0, 0.05, -2.0, 2.0),
        "variance_scaling": d.TruncatedGaussian(0.0, math.sqrt(1 / fan_in) / C),
        "glorot_normal": d.TruncatedGaussian(0.0, math.sqrt(1 / fan_avg) / C),
        "glorot_uniform": d.Uniform(-math.sqrt(3 / fan_avg), math.sqrt(3 / fan_avg)),
        "he_normal": d.TruncatedGaussian(0.0, math.sqrt(2 / fan_in) / C),
        "he_uniform": d.Uniform(-math.sqrt(6 / fan_in), math.sqrt(6 / fan_in)),
        "lecun_normal": d.TruncatedGaussian(0.0, math.sqrt(1 / fan_in) / C),
        "lecun_uniform": d.Uniform(-math.sqrt(3 / fan_in), math.sqrt(3 / fan_in)),
    }
    return laws[name]


RANDOM = sorted({"random_normal", "random_uniform", "truncated_normal", "variance_scaling", "glorot_normal",
                 "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform"})
STAT_CELLS = cells(RANDOM, DATA_TARGETS, DTYPES, ["keras", "torch"])


def test_statistics_cover_every_random_initializer() -> None:
    assert {name for name in ui.CATALOGUE if ui.get(name).distribution_for((4, 4)).random} - {"orthogonal"} == set(RANDOM)  # type: ignore[union-attr]


def numpy_reference(name: str, dtype: str, layout: str) -> np.ndarray:
    spec = ui.get(name)
    assert spec is not None
    return np.asarray(spec(STAT_SHAPE, dtype=dtype, layout=layout, seed=99), dtype=np.float64)


@pytest.mark.parametrize(("name", "target_id", "dtype", "layout"), STAT_CELLS)
def test_statistics(name: str, target_id: str, dtype: str, layout: str) -> None:
    target = load(target_id)
    spec = ui.get(name)
    assert spec is not None
    if capability_error(name, target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    values = target.values(target.draw(spec, STAT_SHAPE, dtype=dtype, layout=layout, seed=20261129))
    check_sample(values, expected(name, layout), dtype)
    if target_id != "numpy":
        assert two_sample_ok(values, numpy_reference(name, dtype, layout)), "differs from the NumPy reference draw"


ORTHO_CELLS = cells(DATA_TARGETS, DTYPES)
TOLERANCE = {"float16": 3e-3, "bfloat16": 3e-2, "float32": 1e-5, "float64": 1e-12}


@pytest.mark.parametrize(("target_id", "dtype"), ORTHO_CELLS)
@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_orthogonal(target_id: str, dtype: str, layout: str) -> None:
    target = load(target_id)
    if capability_error("orthogonal", target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    shape = (3, 3, 16, 64) if layout == "keras" else (64, 16, 3, 3)
    q = target.values(target.draw(ui.Orthogonal(gain=2.0), shape, dtype=dtype, layout=layout, seed=5))
    matrix = q.reshape(-1, 64) if layout == "keras" else q.reshape(64, -1).T  # (144, 64): out axis as columns
    gram = matrix.T @ matrix
    np.testing.assert_allclose(gram, 4.0 * np.eye(64), atol=4.0 * TOLERANCE[dtype] * 8)
    # entries distributed like the NumPy reference (2^13 of them x 8 seeds)
    pooled = np.concatenate([target.values(target.draw(ui.Orthogonal(), (256, 32), dtype=dtype, seed=s)).ravel() for s in range(8)])
    reference = np.concatenate([np.asarray(ui.orthogonal((256, 32), dtype=dtype, seed=100 + s), np.float64).ravel() for s in range(8)])
    assert two_sample_ok(pooled, reference)
    assert np.var(pooled) == pytest.approx(1 / 256, rel=0.05)
