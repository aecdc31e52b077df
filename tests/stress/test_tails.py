"""Truncated initializers never leave their bounds: every draw, every low-precision dtype, every backend.

Per (truncated initializer × float16/bfloat16/float32 × backend), ``tail_draws``
values (10⁸ under ``UNIT_INIT_STRESS=1``, drawn in chunks with seeds 0, 1, …)
must all lie in ``[a↑, b↓]``: the bounds of the distribution rounded inwards
to the dtype's grid (``smallest_at_or_above(a)``, ``largest_at_or_below(b)``).
A sampler that clamps after rounding to the nearest value, or casts bounds
outwards, puts values outside.
"""

from __future__ import annotations

import numpy as np
import pytest
from stress_profile import SCALES, Scale

import unit_init as ui
from targets import DATA_TARGETS, load
from unit_init.dtypes import largest_at_or_below, smallest_at_or_above

TRUNCATED = {
    "truncated_normal": ui.TruncatedNormal(mean=0.5, stddev=2.0),
    "bounded_normal": ui.BoundedNormal(mean=0.0, stddev=1.0, minval=-0.3, maxval=3.1),
    "he_normal": ui.HeNormal(),
}


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("target_id", DATA_TARGETS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
@pytest.mark.parametrize("name", list(TRUNCATED))
def test_no_draw_leaves_the_bounds(name: str, dtype: str, target_id: str, scale: Scale) -> None:
    if dtype not in scale.tail_dtypes:
        pytest.skip(f"{dtype} tails run at the full size only (UNIT_INIT_STRESS=1)")
    target = load(target_id)
    if target.backend == "array_api_strict" and dtype != "float32":
        pytest.skip(f"array_api_strict has no {dtype}")
    spec, shape = TRUNCATED[name], (scale.chunk,)
    low, high = spec.distribution_for(shape).support
    lo, hi = smallest_at_or_above(low, dtype), largest_at_or_below(high, dtype)
    outside = 0
    for seed in range(-(-scale.tail_draws // scale.chunk)):
        values = target.values(target.draw(spec, shape, dtype=dtype, seed=seed))
        outside += int(np.count_nonzero((values < lo) | (values > hi) | ~np.isfinite(values)))
    assert outside == 0, f"{outside} of {scale.tail_draws} {dtype} values of {name} outside [{lo}, {hi}]"
