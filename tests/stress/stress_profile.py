"""The two sizes of every stress test: ``ci`` (each run) and ``stress`` (``UNIT_INIT_STRESS=1``, ``nox -s stress``)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

STRESS = os.environ.get("UNIT_INIT_STRESS") == "1"
BACKENDS = ("numpy", "torch", "tensorflow", "jax", "array_api_strict")


@dataclass(frozen=True)
class Scale:
    """How hard one run pushes."""

    name: str
    examples: int  # hypothesis examples per backend
    tail_draws: int  # draws per (truncated initializer, dtype, backend)
    chunk: int  # draws per call in the tail checks
    calls: int  # seeded calls per backend in the concurrency check
    backends: tuple[str, ...]  # where the memory probes run (each in a child process)
    tail_dtypes: tuple[str, ...]  # the dtypes of the tail checks


CI = Scale("ci", examples=30, tail_draws=1 << 16, chunk=1 << 16, calls=8, backends=("numpy", "torch"), tail_dtypes=("bfloat16",))
FULL = Scale("stress", examples=10_000, tail_draws=10**8, chunk=1 << 22, calls=256, backends=BACKENDS,
             tail_dtypes=("float16", "bfloat16", "float32"))
SCALES = [
    pytest.param(CI, id="ci"),
    pytest.param(FULL, id="stress", marks=[
        pytest.mark.stress, pytest.mark.skipif(not STRESS, reason="the full size: set UNIT_INIT_STRESS=1 (nox -s stress)"),
    ]),
]
