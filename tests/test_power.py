"""Power: the statistical checker rejects deliberately wrong draws, on every backend.

Each planted mistake is a concrete wrong distribution sampled natively by the
backend's own primitives; ``check_sample`` must reject it when compared with
the law he_normal / he_uniform promise, and must accept the correct law drawn
the same way (the control), so the checker neither always passes nor always fails.
"""

from __future__ import annotations

import math

import pytest

from stats import check_sample
from targets import DATA_TARGETS, load
from test_matrix import STAT_SHAPE, cells
from unit_init import distributions as d
from unit_init.backends.registry import get_backend
from unit_init.sampling import NativeStream, sample_from

FAN_IN, FAN_OUT = STAT_SHAPE  # keras layout
VARIANCE = 2 / FAN_IN  # he
CORRECT_NORMAL = d.TruncatedGaussian.from_moments(0.0, VARIANCE)
CORRECT_UNIFORM = d.Uniform.from_moments(0.0, VARIANCE)

MISTAKES: dict[str, tuple[d.Distribution, d.Distribution]] = {
    # name: (planted draw, law it is checked against)
    "variance+3%": (d.TruncatedGaussian.from_moments(0.0, 1.03 * VARIANCE), CORRECT_NORMAL),
    "variance-3%": (d.TruncatedGaussian.from_moments(0.0, 0.97 * VARIANCE), CORRECT_NORMAL),
    "uniform-variance+3%": (d.Uniform.from_moments(0.0, 1.03 * VARIANCE), CORRECT_UNIFORM),
    "truncated-at-2.5sigma": (d.TruncatedGaussian.from_moments(0.0, VARIANCE, -2.5, 2.5), CORRECT_NORMAL),
    "fans-swapped": (d.TruncatedGaussian.from_moments(0.0, 2 / FAN_OUT), CORRECT_NORMAL),
    "no-0.8796-correction": (d.TruncatedGaussian(0.0, math.sqrt(VARIANCE)), CORRECT_NORMAL),
    "truncation-dropped": (d.Normal.from_moments(0.0, VARIANCE), CORRECT_NORMAL),
}
CONTROLS = {"truncated-normal": CORRECT_NORMAL, "uniform": CORRECT_UNIFORM}


def draw(target_id: str, law: d.Distribution, seed: int) -> object:
    target = load(target_id)
    backend = get_backend(target.backend)
    device = backend.resolve_device(target.device)
    array = sample_from(NativeStream(backend, backend.generator(seed, device), device), law, STAT_SHAPE, "float32")
    return target.values(array)


@pytest.mark.parametrize(("mistake", "target_id"), cells(list(MISTAKES), DATA_TARGETS))
def test_planted_mistake_is_rejected(mistake: str, target_id: str) -> None:
    planted, promised = MISTAKES[mistake]
    values = draw(target_id, planted, seed=7)
    with pytest.raises(AssertionError):
        check_sample(values, promised, "float32")  # type: ignore[arg-type]


@pytest.mark.parametrize(("control", "target_id"), cells(list(CONTROLS), DATA_TARGETS))
def test_correct_law_is_accepted(control: str, target_id: str) -> None:
    law = CONTROLS[control]
    check_sample(draw(target_id, law, seed=7), law, "float32")  # type: ignore[arg-type]
