"""What a unit_init call costs over the like-for-like native call, at 64² (where the Python path dominates).

Usage::

    python benchmarks/overhead.py [--backends numpy torch tensorflow jax] [--repeats 60]

For each backend and initializer, three contenders are timed with
:mod:`timeit` (``--loops`` calls per sample), round-robin, ``--repeats``
samples each; the minimum and the median per call are reported:

* ``function``: ``ui.he_normal((64, 64), backend=B, seed=0)``;
* ``spec``: ``ui.HeNormal()((64, 64), seed=0, backend=B)``;
* ``native``: the same distribution written with the framework's own calls,
  seeded from the same int in every call, as unit_init does (a generator
  built from the seed, or a stateless key): the call a user would write to
  get the same law with the same seeding.

The overhead is ``unit_init − native`` in µs (targets: ≤ 10 µs on NumPy and
torch) and the ratio ``unit_init / native`` (targets: ≤ 1.3 on TensorFlow
and JAX, where a call dispatches a compiled graph). bench.py runs it in its
per-backend processes.
"""

from __future__ import annotations

import argparse
import math
import statistics
import timeit
from collections.abc import Callable
from typing import Any

SHAPE = (64, 64)
INITIALIZERS = {"he_normal": "HeNormal", "glorot_uniform": "GlorotUniform"}
HE_STD = math.sqrt(2.0 / SHAPE[0]) / 0.87962566103423978  # the std before truncation at ±2σ
GLOROT_LIMIT = math.sqrt(6.0 / (SHAPE[0] + SHAPE[1]))

Fn = Callable[[], Any]


def _numpy(name: str) -> Fn:
    import numpy as np

    size = math.prod(SHAPE)
    oversampled = int(size / 0.9545 + 7 * math.sqrt(size * 0.0455) / 0.9545 + 16)

    def he_normal() -> Any:
        g = np.random.default_rng(0)
        x = g.standard_normal(oversampled, dtype=np.float32)
        x = x[np.abs(x) <= 2.0][:size].reshape(SHAPE)
        x *= HE_STD
        return x

    def glorot_uniform() -> Any:
        x = np.random.default_rng(0).random(SHAPE, dtype=np.float32)
        x *= 2 * GLOROT_LIMIT
        x -= GLOROT_LIMIT
        return x

    return he_normal if name == "he_normal" else glorot_uniform


def _torch(name: str) -> Fn:
    import torch

    bound = math.erf(2.0 / math.sqrt(2.0))

    def he_normal() -> Any:  # inverse-CDF truncation: torch's fastest truncated normal
        g = torch.Generator().manual_seed(0)
        x = torch.empty(SHAPE).uniform_(-bound, bound, generator=g)
        return x.erfinv_().mul_(math.sqrt(2.0) * HE_STD)

    def glorot_uniform() -> Any:
        g = torch.Generator().manual_seed(0)
        return torch.empty(SHAPE).uniform_(-GLOROT_LIMIT, GLOROT_LIMIT, generator=g)

    return he_normal if name == "he_normal" else glorot_uniform


def _tensorflow(name: str) -> Fn:
    import tensorflow as tf

    if name == "he_normal":
        return lambda: tf.random.stateless_truncated_normal(SHAPE, [0, 0], stddev=HE_STD)
    return lambda: tf.random.stateless_uniform(SHAPE, [0, 0], minval=-GLOROT_LIMIT, maxval=GLOROT_LIMIT)


def _jax(name: str) -> Fn:
    import jax

    def he_normal(seed: int) -> Any:
        return jax.random.truncated_normal(jax.random.key(seed), -2.0, 2.0, SHAPE) * HE_STD

    def glorot_uniform(seed: int) -> Any:
        return jax.random.uniform(jax.random.key(seed), SHAPE, minval=-GLOROT_LIMIT, maxval=GLOROT_LIMIT)

    jitted = jax.jit(he_normal if name == "he_normal" else glorot_uniform)
    return lambda: jitted(0).block_until_ready()


NATIVE = {"numpy": _numpy, "torch": _torch, "tensorflow": _tensorflow, "jax": _jax}


def contenders(backend: str, name: str) -> dict[str, Fn]:
    """The function form, the spec form and the like-for-like native call of ``name`` on ``backend``."""
    import unit_init as ui

    function, spec = getattr(ui, name), getattr(ui, INITIALIZERS[name])()
    ready = (lambda x: x.block_until_ready()) if backend == "jax" else (lambda x: x)
    return {
        "function": lambda: ready(function(SHAPE, backend=backend, seed=0)),
        "spec": lambda: ready(spec(SHAPE, seed=0, backend=backend)),
        "native": NATIVE[backend](name),
    }


def time_min_median(fns: dict[str, Fn], repeats: int, loops: int) -> dict[str, tuple[float, float]]:
    """``(minimum, median)`` seconds per call of each function: ``repeats`` timeit samples of ``loops`` calls, round-robin."""
    for fn in fns.values():
        timeit.timeit(fn, number=loops)  # warm-up: caches, compilation, thread pools
    samples: dict[str, list[float]] = {label: [] for label in fns}
    order = list(fns.items())
    for round_ in range(repeats):
        shift = round_ % len(order)
        for label, fn in order[shift:] + order[:shift]:
            samples[label].append(timeit.timeit(fn, number=loops) / loops)
    return {label: (min(values), statistics.median(values)) for label, values in samples.items()}


def measure(backend: str, repeats: int, loops: int = 50) -> list[dict[str, Any]]:
    """One row per initializer and unit_init form: its minimum and median, the native call's, overhead and ratio."""
    rows = []
    for name in INITIALIZERS:
        times = time_min_median(contenders(backend, name), repeats, loops)
        native_min, native_median = times["native"]
        for form in ("function", "spec"):
            least, median = times[form]
            rows.append({
                "backend": backend, "initializer": name, "form": form,
                "min": least, "median": median, "native_min": native_min, "native_median": native_median,
            })
            print(
                f"  overhead {backend:10} {name:15} {form:8} min {least * 1e6:7.1f} µs (native {native_min * 1e6:6.1f}, "
                f"{(least - native_min) * 1e6:+6.1f} µs, ×{least / native_min:.2f})  median {median * 1e6:7.1f} µs "
                f"(native {native_median * 1e6:6.1f}, {(median - native_median) * 1e6:+6.1f} µs, ×{median / native_median:.2f})",
                flush=True,
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=list(NATIVE))
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--loops", type=int, default=50)
    args = parser.parse_args()
    for backend in args.backends:
        measure(backend, args.repeats, args.loops)


if __name__ == "__main__":
    main()
