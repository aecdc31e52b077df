"""Throughput of rng="portable" against rng="native", per backend (CPU unless --device says otherwise).

    python benchmarks/portable.py [--shape 2048 2048] [--repeat 5] [--backends numpy torch ...] [--threads N]

Prints one row per (backend, initializer): the best of ``--repeat`` timed calls
after one warm-up call (JAX results are waited for), in million values per
second, and the ratio portable / native time (lower is better; the target is
within 3x on CPU). ``--threads`` sets torch's intra-op threads.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import unit_init as ui
from unit_init.backends.registry import get_backend

SPECS = {"he_uniform": ui.HeUniform(), "he_normal": ui.HeNormal(), "random_normal": ui.RandomNormal()}


def best_time(spec: ui.Initializer, shape: tuple[int, ...], backend: str, device: Any, rng: str, repeat: int) -> float:
    resolved = get_backend(backend)

    def call(seed: int) -> None:
        values = spec(shape, backend=backend, device=device, seed=seed, rng=rng)
        if hasattr(values, "block_until_ready"):
            values.block_until_ready()

    call(0)
    resolved.to_numpy(spec(shape, backend=backend, device=device, seed=0, rng=rng))
    times = []
    for seed in range(1, repeat + 1):
        start = time.perf_counter()
        call(seed)
        times.append(time.perf_counter() - start)
    return min(times)


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
    values = 1
    for n in shape:
        values *= n
    print(f"shape {shape}, float32, best of {args.repeat}")
    print(f"{'backend':18s} {'initializer':14s} {'native Mval/s':>14s} {'portable Mval/s':>16s} {'portable/native time':>21s}")
    for backend in args.backends:
        for name, spec in SPECS.items():
            native = best_time(spec, shape, backend, args.device, "native", args.repeat)
            portable = best_time(spec, shape, backend, args.device, "portable", args.repeat)
            print(f"{backend:18s} {name:14s} {values / native / 1e6:14.1f} {values / portable / 1e6:16.1f} {portable / native:21.2f}")


if __name__ == "__main__":
    main()
