"""How fast each backend refuses a request for more memory than the limit (target: well under 1 s).

Usage::

    python benchmarks/refusal.py                       # every installed backend: a markdown table
    python benchmarks/refusal.py --backend jax         # one backend, in this process: JSON on stdout

Each backend runs in a fresh interpreter whose address space is capped
(``RLIMIT_AS``, 6 GiB), so a request that allocated before being refused would
fail or abort there instead of swapping. Reported per case: the median time
of the refused call over a few repeats, once the framework is imported and
warm. Cases: a 10¹²-element draw against the default limit (the free memory),
a 2⁶³-element shape (TensorFlow and JAX abort on it without the guard), a
256 MiB draw against ``UNIT_INIT_MAX_BYTES=64M``, and a 2³³-element
``rng="portable"`` draw (the stream addresses 2³² elements) with the limit
raised out of the way. tests/test_resources.py runs this script per backend.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

CAP = 6 << 30
BACKENDS = {"numpy": None, "torch": "cpu", "tensorflow": "cpu", "jax": "cpu", "array_api_strict": None}
REPEATS = 5


def cases(where: dict[str, Any]) -> dict[str, tuple[str, str | None, Callable[[], Any]]]:
    """Case -> (the error expected, the ``UNIT_INIT_MAX_BYTES`` to set or ``None``, the call)."""
    import unit_init as ui

    return {
        "10**12 elements, default limit": ("ResourceError", None, lambda: ui.he_normal((10**6, 10**6), seed=0, **where)),
        "2**63 elements": ("ShapeError", None, lambda: ui.zeros((2**31, 2**32), **where)),
        "256 MiB, UNIT_INIT_MAX_BYTES=64M": ("ResourceError", "64M", lambda: ui.he_normal((8192, 8192), seed=0, **where)),
        "portable, 2**33 elements": ("ParameterError", "1P", lambda: ui.he_normal((2**17, 2**16), seed=0, rng="portable", **where)),
    }


def measure(backend: str, device: str | None) -> dict[str, float]:
    """Seconds to refuse each case (median of :data:`REPEATS`); exits with a message where one is not refused."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))
    import unit_init as ui

    where = {"backend": backend, "device": device}
    ui.he_normal((4, 4), seed=0, **where)  # the framework is imported and warm
    seconds = {}
    for case, (error, limit, call) in cases(where).items():
        if limit is not None:
            os.environ["UNIT_INIT_MAX_BYTES"] = limit
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            try:
                call()
            except getattr(ui, error):
                times.append(time.perf_counter() - start)
            else:
                sys.exit(f"{backend}: {case} was not refused")
        os.environ.pop("UNIT_INIT_MAX_BYTES", None)
        seconds[case] = statistics.median(times)
    return seconds


def run(backend: str, device: str | None, timeout: float = 120) -> dict[str, float]:
    """:func:`measure` in a fresh interpreter (the cap and the imports are its own)."""
    argv = [sys.executable, __file__, "--backend", backend] + (["--device", device] if device else [])
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{backend}: exit status {done.returncode}\n{done.stderr[-3000:]}")
    seconds: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", help="measure one backend in this process (JSON on stdout)")
    parser.add_argument("--device")
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(measure(args.backend, args.device)))
        return 0
    rows = {}
    for backend, device in BACKENDS.items():
        try:
            __import__(backend)
        except ImportError:
            continue
        rows[backend] = run(backend, device)
    names = list(next(iter(rows.values())))
    print("| backend | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for backend, seconds in rows.items():
        print(f"| {backend} | " + " | ".join(f"{seconds[n] * 1e3:.2f} ms" for n in names) + " |")
    slowest = max(s for seconds in rows.values() for s in seconds.values())
    return 0 if slowest < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
