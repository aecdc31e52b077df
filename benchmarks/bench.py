"""unit_init against each framework's fastest native call and against Keras 3, side by side.

Usage::

    python benchmarks/bench.py            # full run: every backend, writes results.json / results.md
    python benchmarks/bench.py --quick    # fewer sizes and repeats (about 2 minutes), for ``nox -s bench``; writes out/bench-quick/
    python benchmarks/bench.py --plot     # also draws docs/performance/ratios.png
    python benchmarks/bench.py --backend torch   # one backend, in this process

Method
------
* One process per backend (this script re-runs itself with ``--backend``), so
  frameworks' imports and thread pools do not interfere; Keras 3 runs in the
  same process with ``KERAS_BACKEND`` set to that backend.
* For each case (initializer × size × dtype) the contenders are unit_init, the
  fastest native call *of the same distribution* (several variants where a
  framework has several, e.g. JAX jitted and eager; the fastest counts) and
  Keras 3. They are warmed up, then timed round-robin (one call of each in
  turn), and the median of the repeats is reported.
* Results are blocked on (JAX ``block_until_ready``); torch, NumPy and eager
  TensorFlow on the CPU are synchronous.
* ``import`` time: median over fresh interpreters. Peak memory: a fresh
  interpreter per measurement, the rise of the peak resident set
  (``ru_maxrss``, reset through ``/proc/self/clear_refs`` where Linux allows)
  over the resident set before the draw, as a multiple of the output's size.
* Orthogonal is timed at 64² and 1024² only: a 4096² QR takes seconds on a CPU.
* The call path, in the same per-backend process: the 64² overhead of the
  function and spec forms over the like-for-like native call, as ``timeit``
  minima and medians (:mod:`overhead`); ``rng="portable"`` against
  ``rng="native"`` and, on torch, the portable draw with 1 and 2 threads
  (:mod:`portable`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BACKENDS = ("numpy", "torch", "tensorflow", "jax")
INITIALIZERS = ("he_normal", "glorot_uniform", "truncated_normal", "orthogonal")
DTYPES = ("float32", "bfloat16")
ORTHOGONAL_MAX = 1024  # a 4096² QR is too slow to time
MEMORY_SIDE = 8192
TRUNCATED = ("he_normal", "truncated_normal")
FRAMEWORK_MODULES = ("torch", "tensorflow", "jax", "keras")
PORTABLE_SIDE, PORTABLE_SIDE_QUICK = 2048, 512  # portable streams against native draws, float32
SECTIONS = ("timings", "overhead", "portable", "threads")  # what each backend's process reports

Fn = Callable[[], Any]


# --- what each initializer is, as plain numbers -------------------------------------------------


def _parameters(name: str, side: int) -> dict[str, float]:
    """The distribution parameters of ``name`` for a ``side × side`` matrix (Keras conventions)."""
    if name == "he_normal":
        return {"std": math.sqrt(2.0 / side) / 0.87962566103423978}
    if name == "truncated_normal":
        return {"std": 0.05}
    if name == "glorot_uniform":
        return {"limit": math.sqrt(6.0 / (side + side))}
    return {}


# --- contenders per backend ---------------------------------------------------------------------


def _numpy_contenders(name: str, shape: tuple[int, int], dtype: str) -> dict[str, Fn]:
    import numpy as np

    import unit_init as ui

    out = np.dtype(dtype) if dtype != "bfloat16" else np.dtype(__import__("ml_dtypes").bfloat16)
    rng = np.random.default_rng(0)
    p = _parameters(name, shape[0])

    def finish(x: Any) -> Any:
        return x if out == np.float32 else x.astype(out)

    def plain_normal() -> Any:
        x = rng.standard_normal(shape, dtype=np.float32)
        x *= p.get("std", 1.0)
        return finish(x)

    def truncated() -> Any:  # the fastest NumPy spelling: draw, re-draw the rejected in place, scale
        x = rng.standard_normal(shape, dtype=np.float32)
        flat = x.reshape(-1)
        bad = np.flatnonzero(np.abs(flat) > 2)
        while bad.size:
            fresh = rng.standard_normal(bad.size, dtype=np.float32)
            flat[bad] = fresh
            bad = bad[np.abs(fresh) > 2]
        x *= p["std"]
        return finish(x)

    def uniform() -> Any:
        x = rng.random(shape, dtype=np.float32)
        x *= 2 * p["limit"]
        x -= p["limit"]
        return finish(x)

    def orthogonal() -> Any:
        q, r = np.linalg.qr(rng.standard_normal(shape, dtype=np.float32))
        q *= np.sign(np.diagonal(r))
        return finish(q)

    native = {"he_normal": truncated, "truncated_normal": truncated, "glorot_uniform": uniform, "orthogonal": orthogonal}
    fn = getattr(ui, name)
    contenders: dict[str, Fn] = {
        "unit_init": lambda: fn(shape, backend="numpy", dtype=dtype, seed=0),
        "unit_init:generator": lambda: fn(shape, backend="numpy", dtype=dtype, seed=rng),
        "native:numpy": native[name],
    }
    if name in TRUNCATED:
        contenders["ref:plain_normal"] = plain_normal
    return contenders


def _torch_contenders(name: str, shape: tuple[int, int], dtype: str) -> dict[str, Fn]:
    import torch

    import unit_init as ui

    out = getattr(torch, dtype)
    g = torch.Generator().manual_seed(0)
    p = _parameters(name, shape[0])
    fn = getattr(ui, name)
    contenders: dict[str, Fn] = {
        "unit_init": lambda: fn(shape, backend="torch", dtype=dtype, seed=0),
        "unit_init:generator": lambda: fn(shape, backend="torch", dtype=dtype, seed=g),
    }
    if name in TRUNCATED:
        std = p["std"]
        contenders["native:trunc_normal_"] = lambda: torch.nn.init.trunc_normal_(
            torch.empty(shape, dtype=out), 0.0, std, -2 * std, 2 * std, generator=g
        )
        contenders["ref:plain_normal"] = lambda: torch.empty(shape, dtype=out).normal_(0.0, std, generator=g)
    elif name == "glorot_uniform" and dtype == "bfloat16":
        limit = p["limit"]
        # torch's uniform_ on a bfloat16 tensor is another law: U[0, 1) puts 1.5x the mass below 2^-8 and
        # atoms of 2^-9 at 0 (measured on 2^24 draws; docs/performance.md). The same law, rounded once to
        # bfloat16, is the float32 draw cast: that is the native call unit_init is held to.
        contenders["native:uniform_(float32).to"] = lambda: torch.empty(shape).uniform_(-limit, limit, generator=g).to(out)
        contenders["other:uniform_(bfloat16)"] = lambda: torch.empty(shape, dtype=out).uniform_(-limit, limit, generator=g)
    elif name == "glorot_uniform":
        limit = p["limit"]
        contenders["native:uniform_"] = lambda: torch.empty(shape, dtype=out).uniform_(-limit, limit, generator=g)
    else:
        # torch's QR has no bfloat16 kernel: draw in float32 and cast, as unit_init does
        contenders["native:orthogonal_"] = lambda: torch.nn.init.orthogonal_(torch.empty(shape), generator=g).to(out)
    return contenders


def _tensorflow_contenders(name: str, shape: tuple[int, int], dtype: str) -> dict[str, Fn]:
    import tensorflow as tf

    import unit_init as ui

    out = getattr(tf, dtype)
    seed = tf.constant([0, 0], dtype=tf.int64)
    p = _parameters(name, shape[0])
    fn = getattr(ui, name)
    contenders: dict[str, Fn] = {"unit_init": lambda: fn(shape, backend="tensorflow", dtype=dtype, seed=0)}
    if name in TRUNCATED:
        std = p["std"]
        contenders["native:stateless_truncated_normal"] = lambda: tf.random.stateless_truncated_normal(
            shape, seed, stddev=std, dtype=out
        )
        contenders["ref:plain_normal"] = lambda: tf.random.stateless_normal(shape, seed, stddev=std, dtype=out)
    elif name == "glorot_uniform":
        limit = p["limit"]
        contenders["native:stateless_uniform"] = lambda: tf.random.stateless_uniform(
            shape, seed, minval=-limit, maxval=limit, dtype=out
        )
    else:

        def orthogonal() -> Any:
            q, r = tf.linalg.qr(tf.random.stateless_normal(shape, seed))
            return tf.cast(q * tf.sign(tf.linalg.diag_part(r)), out)

        contenders["native:qr"] = orthogonal
    return contenders


def _jax_contenders(name: str, shape: tuple[int, int], dtype: str) -> dict[str, Fn]:
    import jax
    import jax.numpy as jnp

    import unit_init as ui

    out = jnp.dtype(dtype)
    key = jax.random.key(0)
    p = _parameters(name, shape[0])
    fn = getattr(ui, name)

    if name in TRUNCATED:
        std = p["std"]

        def native(k: Any) -> Any:
            return jax.random.truncated_normal(k, -2.0, 2.0, shape, out) * jnp.asarray(std, out)

        def plain(k: Any) -> Any:
            return jax.random.normal(k, shape, out) * jnp.asarray(std, out)

    elif name == "glorot_uniform":
        limit = p["limit"]

        def native(k: Any) -> Any:
            return jax.random.uniform(k, shape, out, -limit, limit)

    else:
        orthogonal = jax.nn.initializers.orthogonal()

        def native(k: Any) -> Any:
            return orthogonal(k, shape, jnp.float32).astype(out)  # no bfloat16 QR in LAPACK

    jitted = jax.jit(native)
    contenders: dict[str, Fn] = {
        "unit_init": lambda: fn(shape, backend="jax", dtype=dtype, seed=0).block_until_ready(),
        "native:jit": lambda: jitted(key).block_until_ready(),
        "native:eager": lambda: native(key).block_until_ready(),
    }
    if name in TRUNCATED:
        plain_jitted = jax.jit(plain)
        contenders["ref:plain_normal"] = lambda: plain_jitted(key).block_until_ready()
    return contenders


CONTENDERS = {
    "numpy": _numpy_contenders,
    "torch": _torch_contenders,
    "tensorflow": _tensorflow_contenders,
    "jax": _jax_contenders,
}
KERAS_CLASSES = {
    "he_normal": "HeNormal",
    "glorot_uniform": "GlorotUniform",
    "truncated_normal": "TruncatedNormal",
    "orthogonal": "Orthogonal",
}


def _keras_contender(backend: str, name: str, shape: tuple[int, int], dtype: str) -> Fn | None:
    """Keras 3's initializer on this process's ``KERAS_BACKEND``, or ``None`` where Keras is missing."""
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != backend:
        return None
    initializer = getattr(keras.initializers, KERAS_CLASSES[name])(seed=0)
    if backend == "jax":
        return lambda: initializer(shape, dtype=dtype).block_until_ready()
    return lambda: initializer(shape, dtype=dtype)


# --- timing -------------------------------------------------------------------------------------


def _repeats(side: int, quick: bool) -> int:
    if side <= 64:
        return 60 if quick else 300
    if side <= 1024:
        return 5 if quick else 61
    return 3 if quick else 21  # a 64 MiB output is fresh pages at each call, whose first touch varies by tens of percent


def _warm_up(label: str, fn: Fn, calls: int) -> bool:
    """Call ``fn`` a few times; ``False`` if it fails (e.g. a framework without a bfloat16 QR sits out)."""
    try:
        for _ in range(calls):
            fn()
    except Exception as error:
        print(f"    {label} failed, left out: {type(error).__name__}: {str(error).splitlines()[0][:120]}", flush=True)
        return False
    return True


def time_round_robin(contenders: dict[str, Fn], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each contender, timed in turn so drifts hit all alike.

    The order rotates every round, so each contender follows each other one
    equally often (a call runs slower after one that leaves OpenMP threads
    spinning or the caches full of its data).
    """
    for label, fn in list(contenders.items()):
        if not _warm_up(label, fn, warmup):
            del contenders[label]
    samples: dict[str, list[float]] = {label: [] for label in contenders}
    order = list(contenders.items())
    for round_ in range(repeats):
        shift = round_ % len(order)
        for label, fn in order[shift:] + order[:shift]:
            start = time.perf_counter()
            fn()
            samples[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in samples.items()}


def run_backend(backend: str, quick: bool) -> dict[str, list[dict[str, Any]]]:
    """Time every case on ``backend`` in this process, then its 64² overhead (:mod:`overhead`) and portable streams (:mod:`portable`)."""
    import overhead
    import portable

    rows = time_cases(backend, quick)
    side = PORTABLE_SIDE_QUICK if quick else PORTABLE_SIDE
    return {
        "timings": rows,
        "overhead": overhead.measure(backend, repeats=20 if quick else 100, loops=20 if quick else 50),
        "portable": portable.measure(backend, side, 5 if quick else 9),
        "threads": portable.thread_scaling(side, 5 if quick else 9) if backend == "torch" else [],
    }


def time_cases(backend: str, quick: bool) -> list[dict[str, Any]]:
    """Time every case (initializer × size × dtype) on ``backend`` in this process."""
    warnings.filterwarnings("ignore")
    sizes = (64, 1024) if quick else (64, 1024, 4096)
    rows = []
    for side in sizes:
        for name in INITIALIZERS:
            if name == "orthogonal" and (side > ORTHOGONAL_MAX or (quick and side > 64)):
                continue
            for dtype in DTYPES:
                shape = (side, side)
                contenders = CONTENDERS[backend](name, shape, dtype)
                keras_fn = _keras_contender(backend, name, shape, dtype)
                if keras_fn is not None:
                    contenders["keras"] = keras_fn
                times = time_round_robin(contenders, _repeats(side, quick))
                rows.append({"backend": backend, "initializer": name, "side": side, "dtype": dtype, "seconds": times})
                print(f"  {backend:10} {name:16} {side:5}² {dtype:8} " + "  ".join(f"{k}={v * 1e3:.3f}ms" for k, v in times.items()), flush=True)
    return rows


# --- import time and peak memory, each in fresh interpreters -------------------------------------


IMPORT_PROBE = """
import sys, time
t = time.perf_counter()
{statement}
t = time.perf_counter() - t
print(t, ",".join(m for m in {frameworks!r} if m in sys.modules))
"""
FIRST_DRAW = "unit_init + first draw"
"""``import unit_init`` is lazy: this also times the first ``he_normal((64, 64))``, which loads NumPy and the spec layer."""


def measure_imports(repeats: int, modules: tuple[str, ...]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for module in modules:
        times, loaded = [], ""
        for _ in range(repeats):
            statement = "import unit_init; unit_init.he_normal((64, 64), seed=0)" if module == FIRST_DRAW else f"import {module}"
            probe = IMPORT_PROBE.format(statement=statement, frameworks=FRAMEWORK_MODULES)
            done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
            if done.returncode:
                break
            seconds, _, loaded = done.stdout.strip().partition(" ")
            times.append(float(seconds))
        if times:
            result[module] = {"seconds": statistics.median(times), "frameworks_loaded": [m for m in loaded.split(",") if m]}
    return result


MEMORY_PROBE = """
import os, resource, sys
os.environ.setdefault("KERAS_BACKEND", {backend!r})
sys.path.insert(0, {here!r})
import bench
fns = bench.memory_contenders({backend!r}, {label!r}, {side})
fns["warm"]()  # imports, thread pools, compilation for a small shape
del fns["warm"]
fn = fns[{label!r}]
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset the peak to the current resident set
except OSError:
    pass
before = rss()
out = fn()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(max(peak - before, 0))
"""


def memory_contenders(backend: str, label: str, side: int) -> dict[str, Fn]:
    """The float32 he_normal contender ``label`` at ``side²`` plus a ``warm`` call at 64² of the same."""
    if label == "keras":
        return {"warm": _keras_contender(backend, "he_normal", (64, 64), "float32"), label: _keras_contender(backend, "he_normal", (side, side), "float32")}  # type: ignore[dict-item]
    return {"warm": CONTENDERS[backend]("he_normal", (64, 64), "float32")[label], label: CONTENDERS[backend]("he_normal", (side, side), "float32")[label]}


def measure_memory(backends: tuple[str, ...], side: int, quick: bool) -> list[dict[str, Any]]:
    rows = []
    output_bytes = side * side * 4
    for backend in backends:
        labels = [
            label for label in CONTENDERS[backend]("he_normal", (64, 64), "float32")
            if label != "native:eager" and not label.startswith("unit_init:")
        ]
        if quick:
            labels = labels[:2]  # unit_init and the first native call
        else:
            labels.append("keras")
        for label in labels:
            probe = MEMORY_PROBE.format(backend=backend, here=str(HERE), label=label, side=side)
            env = {**os.environ, "KERAS_BACKEND": backend}
            done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=False)
            if done.returncode:
                continue
            rise = int(done.stdout.strip().splitlines()[-1])
            rows.append({"backend": backend, "contender": label, "side": side, "bytes": rise, "multiple": rise / output_bytes})
            print(f"  memory {backend:10} {label:34} {rise / output_bytes:.2f}× output", flush=True)
    return rows


# --- targets ------------------------------------------------------------------------------------


def _fastest_native(seconds: dict[str, float]) -> tuple[str, float]:
    natives = {k: v for k, v in seconds.items() if k.startswith("native:")}
    label = min(natives, key=natives.__getitem__)
    return label, natives[label]


def evaluate(rows: list[dict[str, Any]], imports: dict[str, Any], memory: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each target of the issue with PASS/MISS and the figure measured."""
    targets: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, figure: str) -> None:
        targets.append({"target": name, "status": "n/a" if ok is None else ("PASS" if ok else "MISS"), "measured": figure})

    def find(backend: str, name: str, side: int, dtype: str = "float32") -> dict[str, Any] | None:
        return next((r for r in rows if (r["backend"], r["initializer"], r["side"], r["dtype"]) == (backend, name, side, dtype)), None)

    present = sorted({r["backend"] for r in rows}, key=BACKENDS.index)
    for backend in present:
        big = [r for r in rows if r["backend"] == backend and r["side"] >= 1024]
        if big:
            worst = max(big, key=lambda r: r["seconds"]["unit_init"] / _fastest_native(r["seconds"])[1])
            ratio = worst["seconds"]["unit_init"] / _fastest_native(worst["seconds"])[1]
            add(f"{backend}: ≥1M elements, unit_init / fastest native ≤ 1.10", ratio <= 1.10,
                f"worst {ratio:.2f} ({worst['initializer']} {worst['side']}² {worst['dtype']})")
        truncated = [r for r in big if r["initializer"] in TRUNCATED and "ref:plain_normal" in r["seconds"]]
        if truncated:
            worst = max(truncated, key=lambda r: r["seconds"]["unit_init"] / r["seconds"]["ref:plain_normal"])
            ratio = worst["seconds"]["unit_init"] / worst["seconds"]["ref:plain_normal"]
            add(f"{backend}: truncated normal ≤ 1.25 × plain normal draw", ratio <= 1.25,
                f"worst {ratio:.2f} ({worst['initializer']} {worst['side']}² {worst['dtype']})")
        small = [r for r in rows if (r["backend"], r["side"], r["dtype"]) == (backend, 64, "float32")]
        for contender in ("unit_init", "unit_init:generator"):
            timed = [r for r in small if contender in r["seconds"]]
            if not timed:
                continue
            # No target: the fastest native call at 64² seeds nothing per call (a generator or key made once, a QR of
            # an unseeded draw), so this reads the seeding too. The targets are like-for-like (evaluate_call_path).
            seed = "int seed" if contender == "unit_init" else "the native generator as seed"
            if backend in ("numpy", "torch"):
                worst = max(timed, key=lambda r: r["seconds"][contender] - _fastest_native(r["seconds"])[1])
                label, native = _fastest_native(worst["seconds"])
                ui = worst["seconds"][contender]
                add(f"{backend}: 64², unit_init − fastest native call, any seeding ({seed}; no target: see like-for-like)", None,
                    f"worst {(ui - native) * 1e6:+.1f} µs ({worst['initializer']}; {ui * 1e6:.1f} vs {label} {native * 1e6:.1f} µs)")
            else:
                worst = max(timed, key=lambda r: r["seconds"][contender] / _fastest_native(r["seconds"])[1])
                label, native = _fastest_native(worst["seconds"])
                ui = worst["seconds"][contender]
                add(f"{backend}: 64², unit_init / fastest native call, key or seed tensor made once (no target: see like-for-like)", None,
                    f"worst {ui / native:.2f} ({worst['initializer']}; {ui * 1e6:.1f} vs {label} {native * 1e6:.1f} µs)")
    for backend in ("torch", "numpy"):
        row = find(backend, "he_normal", 1024)
        if row is None:
            continue
        ui = row["seconds"]["unit_init"]
        if backend == "torch":
            speedup = row["seconds"]["native:trunc_normal_"] / ui
            add("torch: he_normal 1024² ≥ 5× faster than torch.nn.init.trunc_normal_", speedup >= 5, f"{speedup:.1f}×")
        if "keras" in row["seconds"]:
            speedup = row["seconds"]["keras"] / ui
            add(f"{backend}: he_normal 1024² ≥ 3× faster than Keras 3", speedup >= 3, f"{speedup:.1f}×")
        else:
            add(f"{backend}: he_normal 1024² ≥ 3× faster than Keras 3", None, "Keras not measured")
    row = find("numpy", "he_normal", 4096)
    if row is not None:
        single = row.get("single_thread_standard_normal")
        if single:
            speedup = single / row["seconds"]["unit_init"]
            add("numpy: he_normal 4096² ≥ 1.6× single-threaded standard_normal", speedup >= 1.6, f"{speedup:.2f}× on {os.cpu_count()} cores")
    by_backend: dict[str, dict[str, float]] = {}
    side = memory[0]["side"] if memory else MEMORY_SIDE
    for m in memory:
        by_backend.setdefault(m["backend"], {})[m["contender"]] = m["multiple"]
    for backend, found in by_backend.items():
        if "unit_init" not in found:
            continue
        ui = found["unit_init"]
        if backend in ("numpy", "torch"):
            add(f"{backend}: peak memory ≤ 1.25 × output (float32, {side}²)", ui <= 1.25, f"{ui:.2f}×")
        else:
            natives = {k: v for k, v in found.items() if k.startswith("native:")}
            best = min(natives.values()) if natives else math.nan
            add(f"{backend}: peak memory no worse than native ({side}²)", ui <= best * 1.05 + 0.05,
                f"{ui:.2f}× vs native {best:.2f}×")
    if "unit_init" in imports and "numpy" in imports:
        ratio = imports["unit_init"]["seconds"] / imports["numpy"]["seconds"]
        add("import unit_init ≤ 1.3 × import numpy", ratio <= 1.3, f"{ratio:.2f} ({imports['unit_init']['seconds'] * 1e3:.0f} vs {imports['numpy']['seconds'] * 1e3:.0f} ms)")
        if FIRST_DRAW in imports:
            first = imports[FIRST_DRAW]["seconds"]
            add("import unit_init and a first draw, vs import numpy (no target; import is lazy)", None,
                f"{first / imports['numpy']['seconds']:.2f} ({first * 1e3:.0f} vs {imports['numpy']['seconds'] * 1e3:.0f} ms)")
        loaded = imports["unit_init"]["frameworks_loaded"]
        add("import unit_init imports no framework", not loaded, ", ".join(loaded) or "none loaded")
    return targets


def evaluate_call_path(sections: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The 64² overhead (timeit minima and medians), portable ≤ 3× native, and no slowdown with more threads."""
    targets: list[dict[str, Any]] = []

    def add(name: str, ok: bool, figure: str) -> None:
        targets.append({"target": name, "status": "PASS" if ok else "MISS", "measured": figure})

    for backend in BACKENDS:
        rows = [r for r in sections["overhead"] if r["backend"] == backend]
        for stat in ("min", "median"):
            if not rows:
                break
            if backend in ("numpy", "torch"):
                worst = max(rows, key=lambda r: r[stat] - r[f"native_{stat}"])
                extra = (worst[stat] - worst[f"native_{stat}"]) * 1e6
                add(f"{backend}: 64² overhead over the like-for-like native call ≤ 10 µs (timeit {stat})", extra <= 10,
                    f"worst {extra:+.1f} µs ({worst['initializer']}, {worst['form']} form; "
                    f"{worst[stat] * 1e6:.1f} vs {worst[f'native_{stat}'] * 1e6:.1f} µs)")
            else:
                worst = max(rows, key=lambda r: r[stat] / r[f"native_{stat}"])
                ratio = worst[stat] / worst[f"native_{stat}"]
                add(f"{backend}: 64² unit_init / like-for-like native ≤ 1.3 (timeit {stat})", ratio <= 1.3,
                    f"worst {ratio:.2f} ({worst['initializer']}, {worst['form']} form; "
                    f"{worst[stat] * 1e6:.1f} vs {worst[f'native_{stat}'] * 1e6:.1f} µs)")
        portable = [r for r in sections["portable"] if r["backend"] == backend]
        if portable:
            worst = max(portable, key=lambda r: r["portable"] / r["native"])
            ratio = worst["portable"] / worst["native"]
            add(f"{backend}: portable stream ≤ 3 × native draw", ratio <= 3,
                f"worst {ratio:.2f} ({worst['initializer']} {worst['side']}²)")
    threads = sorted(sections["threads"], key=lambda r: r["threads"])
    if len(threads) > 1:
        ratio = threads[-1]["seconds"] / threads[0]["seconds"]
        add(f"torch: portable {threads[0]['side']}² with {threads[-1]['threads']} threads no slower than with 1 (≤ 1.05)",
            ratio <= 1.05, f"{ratio:.2f} ({threads[-1]['seconds'] * 1e3:.1f} vs {threads[0]['seconds'] * 1e3:.1f} ms)")
    return targets


def call_path_markdown(result: dict[str, Any]) -> list[str]:
    """The tables of the 64² overhead, the portable streams and the thread scaling."""
    lines = [
        "", "## 64² overhead over the like-for-like native call (timeit)", "",
        "Minimum and median per call of `timeit` samples (round-robin); the native call draws the same law "
        "seeded from the same int in every call (benchmarks/overhead.py).", "",
        "| backend | initializer | form | min | native min | overhead | median | native median | overhead | ratio (median) |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r['backend']} | {r['initializer']} | {r['form']} | {r['min'] * 1e6:.1f} µs | {r['native_min'] * 1e6:.1f} µs | "
        f"{(r['min'] - r['native_min']) * 1e6:+.1f} µs | {r['median'] * 1e6:.1f} µs | {r['native_median'] * 1e6:.1f} µs | "
        f"{(r['median'] - r['native_median']) * 1e6:+.1f} µs | {r['median'] / r['native_median']:.2f} |"
        for r in result.get("overhead", [])
    )
    lines += ["", "## Portable streams against native draws (float32, best of the repeats)", "",
              "| backend | initializer | size | rng=\"native\" | rng=\"portable\" | ratio |", "|---|---|---|---:|---:|---:|"]
    for r in result.get("portable", []):
        lines.append(f"| {r['backend']} | {r['initializer']} | {r['side']}² | {_ms(r['native'])} | {_ms(r['portable'])} | "
                     f"{r['portable'] / r['native']:.2f} |")
    lines += ["", "## Portable stream and threads (torch he_normal, best of the repeats)", "", "| threads | time |", "|---:|---:|"]
    for r in result.get("threads", []):
        lines.append(f"| {r['threads']} | {_ms(r['seconds'])} |")
    return lines


# --- reporting ----------------------------------------------------------------------------------


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def markdown(result: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = [
        "# unit_init benchmark",
        "",
        f"{meta['date']} · Python {meta['python']} · {meta['machine']} · {meta['cpus']} CPUs · "
        f"{'quick' if meta['quick'] else 'full'} run · {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        "",
        "Median time per call; *unit_init* is called with an int seed (a generator is seeded per call), "
        "*with the native generator* with the generator the native calls use; *ratio* = unit_init / fastest "
        "native call of the same distribution (lower is better); *vs Keras* = Keras 3 time / unit_init time "
        "(higher is better). "
        "Orthogonal is timed at 64² and 1024² only (a 4096² QR takes seconds).",
        "",
        "| backend | initializer | size | dtype | unit_init | with the native generator | fastest native | ratio | Keras 3 | vs Keras |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in result["timings"]:
        s = r["seconds"]
        label, native = _fastest_native(s)
        keras = s.get("keras")
        vs_keras = "—" if keras is None else f"{keras / s['unit_init']:.1f}×"
        lines.append(
            f"| {r['backend']} | {r['initializer']} | {r['side']}² | {r['dtype']} | {_ms(s['unit_init'])} | "
            f"{_ms(s.get('unit_init:generator'))} | "
            f"{_ms(native)} ({label.removeprefix('native:')}) | {s['unit_init'] / native:.2f} | {_ms(keras)} | "
            f"{vs_keras} |"
        )
    lines += ["", "## Import time (fresh interpreter, median)", "", "| module | time | frameworks it loads |", "|---|---:|---|"]
    for module, m in result["imports"].items():
        lines.append(f"| `{module}` | {m['seconds'] * 1e3:.0f} ms | {', '.join(m['frameworks_loaded']) or '—'} |")
    lines += [
        "",
        f"## Peak memory (he_normal, float32, {result['memory'][0]['side'] if result['memory'] else MEMORY_SIDE}², fresh interpreter each)",
        "",
        "Rise of the peak resident set during the call, as a multiple of the output's size.",
        "",
        "| backend | contender | peak / output |",
        "|---|---|---:|",
    ]
    for m in result["memory"]:
        lines.append(f"| {m['backend']} | {m['contender']} | {m['multiple']:.2f}× |")
    lines += call_path_markdown(result)
    lines += ["", "## Targets", "", "| target | status | measured |", "|---|---|---|"]
    for t in result["targets"]:
        lines.append(f"| {t['target']} | {t['status']} | {t['measured']} |")
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = sorted({r["backend"] for r in result["timings"]}, key=BACKENDS.index)
    fig, axes = plt.subplots(1, len(backends), figsize=(4 * len(backends), 3.6), sharey=True, squeeze=False)
    for ax, backend in zip(axes[0], backends, strict=True):
        for name in INITIALIZERS:
            rows = [r for r in result["timings"] if (r["backend"], r["initializer"], r["dtype"]) == (backend, name, "float32")]
            if rows:
                ratios = [r["seconds"]["unit_init"] / _fastest_native(r["seconds"])[1] for r in rows]
                ax.plot([r["side"] ** 2 for r in rows], ratios, marker="o", label=name)
            keras = [r for r in rows if "keras" in r["seconds"]]
            if keras and name == "he_normal":
                ax.plot([r["side"] ** 2 for r in keras], [r["seconds"]["keras"] / _fastest_native(r["seconds"])[1] for r in keras],
                        marker="x", linestyle="--", color="grey", label="Keras 3 he_normal")
        ax.axhline(1.10, color="red", linewidth=0.8, linestyle=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(backend)
        ax.set_xlabel("elements (float32)")
    axes[0][0].set_ylabel("time / fastest native call")
    axes[0][-1].legend(fontsize="small")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# --- driver -------------------------------------------------------------------------------------


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for dist in ("numpy", "torch", "tensorflow-cpu", "tensorflow", "jax", "keras"):
        with contextlib.suppress(PackageNotFoundError):
            found[dist.removesuffix("-cpu")] = version(dist)
    return found


def single_thread_standard_normal(side: int, repeats: int) -> float:
    """Median seconds of one ``standard_normal`` float32 call (NumPy's generators are single-threaded)."""
    import numpy as np

    rng = np.random.default_rng(0)
    return time_round_robin({"n": lambda: rng.standard_normal((side, side), dtype=np.float32)}, repeats)["n"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=BACKENDS, help="time one backend in this process (the driver runs each so)")
    parser.add_argument("--quick", action="store_true", help="64² and 1024², few repeats (about 2 minutes)")
    parser.add_argument("--plot", action="store_true", help="draw docs/performance/ratios.png")
    parser.add_argument("--json", type=Path, help="with --backend: write its rows here")
    parser.add_argument(
        "--out", type=Path, help="folder for results.json and results.md (default: benchmarks/ for a full run, "
        "out/bench-quick/ for --quick, so a quick run never writes over the committed full run)"
    )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = HERE.parent / "out" / "bench-quick" if args.quick else HERE

    if args.backend:
        measured = run_backend(args.backend, args.quick)
        if args.backend == "numpy":
            for r in measured["timings"]:
                if r["initializer"] == "he_normal" and r["dtype"] == "float32" and r["side"] >= 1024:
                    r["single_thread_standard_normal"] = single_thread_standard_normal(r["side"], _repeats(r["side"], args.quick))
        if args.json:
            args.json.write_text(json.dumps(measured))
        return 0

    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTIONS}
    for backend in BACKENDS:
        print(f"{backend}:", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "rows.json"
            command = [sys.executable, str(Path(__file__).resolve()), "--backend", backend, "--json", str(target)]
            env = {**os.environ, "KERAS_BACKEND": backend}
            done = subprocess.run([*command, *(["--quick"] if args.quick else [])], env=env, check=False)
            if done.returncode or not target.exists():
                print(f"  {backend}: skipped (exit {done.returncode})", flush=True)
                continue
            for name, found in json.loads(target.read_text()).items():
                sections[name] += found
    rows = sections["timings"]
    print("imports:", flush=True)
    modules = ("numpy", "unit_init", FIRST_DRAW) if args.quick else ("numpy", "unit_init", FIRST_DRAW, "torch", "tensorflow", "jax", "keras")
    imports = measure_imports(7 if args.quick else 15, modules)
    print("memory:", flush=True)
    measured = tuple(sorted({r["backend"] for r in rows}, key=BACKENDS.index))
    memory = measure_memory(measured, 4096 if args.quick else MEMORY_SIDE, args.quick)
    result = {
        "meta": {
            "date": time.strftime("%Y-%m-%d"),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "quick": args.quick,
            "versions": _versions(),
        },
        **sections,
        "imports": imports,
        "memory": memory,
    }
    result["targets"] = evaluate(rows, imports, memory) + evaluate_call_path(sections)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    (args.out / "results.md").write_text(markdown(result))
    print()
    for t in result["targets"]:
        print(f"{t['status']:4}  {t['target']}: {t['measured']}")
    if args.plot:
        plot(result, ROOT / "docs" / "performance" / "ratios.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
