"""Throughput of rng="portable" against rng="native", per backend, and the portable stream's thread scaling on torch.

    python benchmarks/portable.py [--shape 2048 2048] [--repeat 5] [--backends numpy torch ...] [--threads N]

Prints one row per (backend, initializer): the best of ``--repeat`` timed calls
after one warm-up call (JAX results are waited for), in million values per
second, and the ratio portable / native time (lower is better; the target is
within 3x on CPU). ``--threads`` sets torch's intra-op threads. bench.py calls
:func:`measure` and :func:`thread_scaling` in its per-backend processes.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import Any

import unit_init as ui
from unit_init.backends.registry import get_backend

SPECS = {"he_uniform": ui.HeUniform(), "he_normal": ui.HeNormal(), "random_normal": ui.RandomNormal()}


def _call(spec: ui.Initializer, shape: tuple[int, ...], backend: str, device: Any, rng: str, seed: int) -> None:
    values = spec(shape, backend=backend, device=device, seed=seed, rng=rng)
    if hasattr(values, "block_until_ready"):
        values.block_until_ready()


def _times(spec: ui.Initializer, shape: tuple[int, ...], backend: str, device: Any, rngs: tuple[str, ...], repeat: int) -> dict[str, list[float]]:
    """Seconds of ``repeat`` calls (each with a new seed) of each rng mode, after a warm-up call of each.

    The modes are timed in turn, round-robin, so a drift of the machine's
    speed hits them alike.
    """
    for rng in rngs:
        _call(spec, shape, backend, device, rng, 0)
        get_backend(backend).to_numpy(spec(shape, backend=backend, device=device, seed=0, rng=rng))
    times: dict[str, list[float]] = {rng: [] for rng in rngs}
    for seed in range(1, repeat + 1):
        for rng in rngs if seed % 2 else reversed(rngs):
            start = time.perf_counter()
            _call(spec, shape, backend, device, rng, seed)
            times[rng].append(time.perf_counter() - start)
    return times


def best_time(spec: ui.Initializer, shape: tuple[int, ...], backend: str, device: Any, rng: str, repeat: int) -> float:
    return min(_times(spec, shape, backend, device, (rng,), repeat)[rng])


def measure(backend: str, side: int, repeat: int, names: tuple[str, ...] = ("he_uniform", "he_normal")) -> list[dict[str, Any]]:
    """Best and median seconds of each initializer drawn with ``rng="native"`` and ``rng="portable"`` at ``side × side``, float32.

    The two are timed in turn (round-robin). The targets read the best
    times (least disturbed by other load); the medians are reported beside them.
    """
    rows = []
    for name in names:
        times = _times(SPECS[name], (side, side), backend, None, ("native", "portable"), repeat)
        native, portable = times["native"], times["portable"]
        rows.append({
            "backend": backend, "initializer": name, "side": side, "native": min(native), "portable": min(portable),
            "native_median": statistics.median(native), "portable_median": statistics.median(portable),
        })
        print(f"  portable {backend:10} {name:12} {side}²  best: native {min(native) * 1e3:8.2f} ms  portable {min(portable) * 1e3:8.2f} ms  "
              f"×{min(portable) / min(native):.2f}  (medians ×{statistics.median(portable) / statistics.median(native):.2f})", flush=True)
    return rows


def thread_scaling(side: int, repeat: int, threads: tuple[int, ...] = (1, 2)) -> list[dict[str, Any]]:
    """Best seconds of a portable torch he_normal draw at ``side × side`` with each number of torch intra-op threads."""
    import torch

    before = torch.get_num_threads()
    rows = []
    try:
        for count in threads:
            torch.set_num_threads(count)
            seconds = best_time(SPECS["he_normal"], (side, side), "torch", None, "portable", repeat)
            rows.append({"backend": "torch", "initializer": "he_normal", "side": side, "threads": count, "seconds": seconds})
            print(f"  portable torch he_normal {side}² with {count} thread(s): {seconds * 1e3:.1f} ms", flush=True)
    finally:
        torch.set_num_threads(before)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", type=int, nargs="+", default=[2048, 2048])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backends", nargs="+", default=["numpy", "torch", "tensorflow", "jax", "array_api_strict"])
    parser.add_argument("--device", default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads is not None and "torch" in args.backends:
        import torch

        torch.set_num_threads(args.threads)
    shape = tuple(args.shape)
    values = math.prod(shape)
    print(f"shape {shape}, float32, best of {args.repeat}")
    print(f"{'backend':18s} {'initializer':14s} {'native Mval/s':>14s} {'portable Mval/s':>16s} {'portable/native time':>21s}")
    for backend in args.backends:
        for name, spec in SPECS.items():
            native = best_time(spec, shape, backend, args.device, "native", args.repeat)
            portable = best_time(spec, shape, backend, args.device, "portable", args.repeat)
            print(f"{backend:18s} {name:14s} {values / native / 1e6:14.1f} {values / portable / 1e6:16.1f} {portable / native:21.2f}")


if __name__ == "__main__":
    main()
