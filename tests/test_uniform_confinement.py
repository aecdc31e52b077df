"""A uniform's clip to the output grid is skipped only where it provably changes nothing (``Backend.rounded_affine``)."""

from __future__ import annotations

import importlib.util
import math
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.base import Backend
from unit_init.backends.registry import get_backend
from unit_init.dtypes import largest_below
from unit_init.sampling import entry
from unit_init.spec import distributions as d


class Extremes:
    """A stand-in for ``numpy.random.Generator`` whose ``random`` returns both ends of ``U[0, 1)`` in the asked dtype."""

    def random(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        name = np.dtype(dtype).name
        return np.resize(np.array([0.0, largest_below(1.0, name)], dtype=dtype), shape)


def _limits(count: int) -> list[tuple[float, float]]:
    """``count`` intervals of every scale, half of them symmetric as Glorot's and He's are."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(count):
        a, b = sorted(rng.normal(size=2) * 10.0 ** rng.uniform(-4, 4, size=2))
        limit = abs(float(a))
        pairs.append((-limit, limit) if i % 2 else (float(a), float(b)))
    return pairs


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_the_extremes_of_an_unclipped_uniform_lie_inside_the_grid(dtype: str) -> None:
    """Where the clip is skipped, even ``U = 0`` and ``U = 1⁻`` land inside; some intervals do need it, and keep it."""
    numpy = get_backend("numpy")
    skipped = 0
    for low, high in _limits(600):
        law = d.Uniform(low, high)
        first, last = entry.confinement(law, dtype)
        x = entry.sample(numpy, law, (2,), dtype, "cpu", Extremes())
        assert first <= float(x.min()), (low, high)
        assert float(x.max()) <= last, (low, high)
        skipped += entry.native_confinement(numpy, law, dtype) is None
    if dtype in ("bfloat16", "float16"):  # drawn in float32: its top rounds onto the narrow grid's upper bound
        assert skipped < 600
    else:
        assert 150 < skipped < 600, f"{skipped} of 600 skipped: the proof should hold for some intervals and fail for others"


def test_an_interval_whose_low_rounds_below_it_keeps_its_clip() -> None:
    """``float32(-0.1)`` lies below −0.1: the scaled ``U = 0`` would leave the support, so the clip stays."""
    law = d.Uniform(-0.1, 0.1)
    assert float(np.float32(-0.1)) < -0.1
    assert entry.native_confinement(get_backend("numpy"), law, "float32") == entry.confinement(law, "float32")


def test_a_glorot_draw_in_float32_is_not_clipped_and_in_bfloat16_is(monkeypatch: pytest.MonkeyPatch) -> None:
    clipped: list[tuple[float, float]] = []
    numpy = get_backend("numpy")
    monkeypatch.setattr(type(numpy), "clip", lambda self, x, low, high: clipped.append((low, high)) or x.clip(low, high, out=x))
    limit = math.sqrt(6.0 / 128)
    x = ui.glorot_uniform((64, 64), backend="numpy", seed=0)
    assert -limit <= x.min()
    assert x.max() < limit
    assert clipped == []
    ui.glorot_uniform((64, 64), backend="numpy", seed=0, dtype="bfloat16")
    assert len(clipped) == 1


def test_backends_that_declare_rounded_affine_scale_uniforms_by_affine() -> None:
    """The proof runs ``affine`` on the extremes: a backend with its own one-kernel ``uniform_between`` must not declare it."""
    frameworks = ("numpy", "torch", "tensorflow", "jax", "array_api_strict")
    installed = [type(get_backend(name)) for name in frameworks if importlib.util.find_spec(name) is not None]  # nox: one each
    declared = [cls for cls in installed if cls.rounded_affine]
    assert declared, "no backend declares rounded_affine: the clip is never skipped"
    for cls in declared:
        assert cls.uniform_between is Backend.uniform_between, cls
