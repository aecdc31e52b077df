"""Huge requests under a memory cap: refused with ``ResourceError`` in under a second, never an abort.

Each backend is probed in a child process whose address space is capped
(``RLIMIT_AS``): if the guard failed to refuse a request, the child would die
or raise ``MemoryError`` instead of printing ``ResourceError``. The requests
exceed any machine (10¹² elements and up), or the configured limit
(``UNIT_INIT_MAX_BYTES``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from stress_profile import SCALES, Scale

_CHILD = r"""
import json, resource, sys, time
cap = 48 << 30
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
import unit_init as ui
backend = sys.argv[1]
ui.zeros((2,), backend=backend)  # the framework's import is not part of a refusal's time
requests = [  # (name, shape, options, the refusal expected)
    ("he_normal", (10**6, 10**6), {}, "ResourceError"), ("zeros", (2**20, 2**20), {}, "ResourceError"),
    ("orthogonal", (10**5, 10**5), {}, "ResourceError"),
    ("random_uniform", (10**7, 10**6), {"rng": "portable"}, "ParameterError"),  # beyond what a portable stream addresses
    ("he_normal", (4096, 4096), {"_limit": "1000000"}, "ResourceError"),
]
for name, shape, options, expected in requests:
    limit = options.pop("_limit", None)
    if limit:
        import os
        os.environ["UNIT_INIT_MAX_BYTES"] = limit
    start = time.perf_counter()
    try:
        getattr(ui, name)(shape, backend=backend, seed=0, **options)
        outcome = "ok"
    except Exception as error:
        outcome = type(error).__name__
    print(json.dumps([name, shape, outcome, expected, time.perf_counter() - start]), flush=True)
"""


@pytest.mark.parametrize("scale", SCALES)
def test_huge_requests_are_refused_fast_under_a_memory_cap(scale: Scale) -> None:
    backends = [b for b in scale.backends if importlib.util.find_spec(b) is not None]
    for backend in backends:
        done = subprocess.run([sys.executable, "-c", _CHILD, backend], capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{backend}: the child exited {done.returncode}: {done.stderr[-2000:]}"
        for line in done.stdout.splitlines():
            name, shape, outcome, expected, seconds = json.loads(line)
            assert outcome == expected, f"{backend}: {name}{tuple(shape)} -> {outcome}"
            assert seconds < 1.0, f"{backend}: {name}{tuple(shape)} took {seconds:.2f} s to refuse"
