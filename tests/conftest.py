"""Shared test setup. Collecting the tests imports no framework.

The terminal summary reports how many matrix cells ran (passed) per backend,
so a framework whose cells were all skipped cannot hide.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the helper modules tests/stats.py and tests/targets.py

# XLA's CPU compiler spends 2–5 s optimizing every new sampler shape on a 2-core machine (a native
# ``jax.random.uniform`` as much as ours); at optimization level 0 it takes a tenth of that and gives the
# same values. The tests check values, not kernel speed. Set before any test imports JAX, and inherited by
# the subprocesses, which copy os.environ (tests/targets.py's FOUR_HOST_DEVICES keeps it).
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_backend_optimization_level=0".strip()

from targets import TARGETS


def _target_of(nodeid: str) -> str | None:
    if "test_matrix.py" not in nodeid and "test_power.py" not in nodeid:
        return None
    params = nodeid.rpartition("[")[2].rstrip("]").split("-")
    return next((p for p in params if p in TARGETS), None)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    ran: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    for outcome, counter in (("passed", ran), ("skipped", skipped)):
        for report in terminalreporter.stats.get(outcome, []):
            target = _target_of(report.nodeid)
            if target is not None and (report.when == "call" or outcome == "skipped"):
                counter[target.split(":")[0]] += 1
    if ran or skipped:
        families = sorted(set(ran) | set(skipped))
        summary = ", ".join(f"{name} {ran[name]} ran / {skipped[name]} skipped" for name in families)
        terminalreporter.write_line(f"matrix cells per backend: {summary}")
