"""Seeded calls from 8 threads equal the same calls made one after another, bit for bit, on every backend.

Also: torch's ``orthogonal`` depends on torch's thread count (``torch.linalg.qr``
splits its work by threads), at the rounding level only (see
docs/adapters/torch.md); that bound is checked here.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from stress_profile import SCALES, Scale

import unit_init as ui
from targets import DATA_TARGETS, load

CALLS = (
    (ui.HeNormal(), {}), (ui.GlorotUniform(), {}), (ui.TruncatedNormal(), {}), (ui.Orthogonal(), {}),
    (ui.RandomUniform(), {"rng": "portable"}), (ui.LecunUniform(), {}),
)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_eight_threads_draw_what_one_thread_draws(target_id: str, scale: Scale) -> None:
    target = load(target_id)
    jobs = [(CALLS[i % len(CALLS)], i) for i in range(scale.calls)]

    def call(job: tuple[tuple[ui.Initializer, dict[str, Any]], int]) -> np.ndarray:
        (spec, options), seed = job
        return target.values(target.draw(spec, (32, 16), seed=seed, **options))

    sequential = [call(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(call, jobs))
    differ = [i for i, (a, b) in enumerate(zip(sequential, concurrent, strict=True)) if not np.array_equal(a, b)]
    assert not differ, f"{len(differ)} of {len(jobs)} threaded calls differ from sequential ones: {differ[:5]}"


def test_torch_orthogonal_depends_on_the_thread_count_only_by_rounding() -> None:
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        draws = []
        for count in (1, 2):
            torch.set_num_threads(count)
            draws.append(ui.orthogonal((256, 256), backend="torch", seed=0))
    finally:
        torch.set_num_threads(threads)
    difference = float((draws[0] - draws[1]).abs().max())
    assert difference <= 1e-5  # a few float32 ulps of entries ~1/16; the documented bound
