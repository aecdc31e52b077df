"""The ``unit_init.torch`` drop-ins against ``torch.nn.init``, call for call, on the same tensor.

    python benchmarks/dropins.py [--sides 256 4096] [--repeat 15] [--threads N]

Prints one row per (call, side): the median and best seconds of each, timed in
turn (round-robin, the order alternating) on one tensor, and the ratio
drop-in / torch (lower is better; 1.00 is torch's own speed). The calls are
what models run in their ``reset_parameters`` and ``_init_weights``: the
``nn.Linear`` default ``kaiming_uniform_(a=√5)``, ViT's and BERT's
``trunc_normal_(std=0.02)``, plain normals and uniforms in float32, and
bfloat16, orthogonal and sparse fills (drawn into a new tensor and copied in; see
docs/adapters/torch.md, "Differences").

Then one whole model, GPT-2 small's shapes (a 50257 × 768 embedding, 12
blocks of LayerNorms and 768-wide Linears: 124M parameters), initialized as
its ``_init_weights`` does (``normal_(std=0.02)`` weights and embeddings,
zero biases, LayerNorms at 1 and 0) three ways: torch's loop over
``model.apply``, the same loop with the drop-ins, and
``unit_init.torch.initialize(model, rules, seed=0)``; ratios against
torch's loop.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

import unit_init.torch as ours

Call = Callable[[Any, torch.Tensor], Any]

CALLS: dict[str, tuple[Call, torch.dtype]] = {
    "normal_(std=0.02)": (lambda init, t: init.normal_(t, std=0.02), torch.float32),
    "uniform_(-0.1, 0.1)": (lambda init, t: init.uniform_(t, -0.1, 0.1), torch.float32),
    "kaiming_uniform_(a=√5)": (lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)), torch.float32),
    "kaiming_normal_(relu)": (lambda init, t: init.kaiming_normal_(t, nonlinearity="relu"), torch.float32),
    "xavier_uniform_": (lambda init, t: init.xavier_uniform_(t), torch.float32),
    "trunc_normal_()": (lambda init, t: init.trunc_normal_(t), torch.float32),
    "trunc_normal_(std=0.02)": (lambda init, t: init.trunc_normal_(t, std=0.02), torch.float32),
    "normal_ bfloat16": (lambda init, t: init.normal_(t, std=0.02), torch.bfloat16),
    "orthogonal_": (lambda init, t: init.orthogonal_(t), torch.float32),
    "sparse_(0.1)": (lambda init, t: init.sparse_(t, 0.1), torch.float32),
}


def compare(call: Call, tensor: torch.Tensor, repeat: int) -> dict[str, list[float]]:
    """Seconds of ``repeat`` calls of ``call`` with each module on ``tensor`` (:func:`compare_all`)."""
    return compare_all({"torch": lambda: call(torch.nn.init, tensor), "unit_init": lambda: call(ours, tensor)}, repeat)


def gpt2_small() -> torch.nn.Module:
    """GPT-2 small's parameter shapes (no forward pass is needed)."""
    width = 768

    def block() -> torch.nn.Module:
        return torch.nn.ModuleDict({
            "ln_1": torch.nn.LayerNorm(width), "attn": torch.nn.Linear(width, 3 * width), "proj": torch.nn.Linear(width, width),
            "ln_2": torch.nn.LayerNorm(width), "fc": torch.nn.Linear(width, 4 * width), "out": torch.nn.Linear(4 * width, width),
        })

    return torch.nn.Sequential(torch.nn.Embedding(50257, width), *(block() for _ in range(12)), torch.nn.LayerNorm(width))


def whole_model(repeat: int) -> None:
    """Print the seconds of initializing :func:`gpt2_small` three ways, median (best), and their ratios to torch's loop."""
    import unit_init as ui

    def init_weights(init: Any) -> Callable[[torch.nn.Module], None]:
        def apply(module: torch.nn.Module) -> None:  # as GPT-2's _init_weights
            if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
                init.normal_(module.weight, std=0.02)
                if getattr(module, "bias", None) is not None:
                    init.zeros_(module.bias)
            elif isinstance(module, torch.nn.LayerNorm):
                init.ones_(module.weight)
                init.zeros_(module.bias)
        return apply

    model = gpt2_small()
    rules = {(torch.nn.Linear, torch.nn.Embedding): ui.RandomNormal(0.0, 0.02), "*.bias": ui.Zeros(), torch.nn.LayerNorm: ui.Ones()}
    contenders: dict[str, Callable[[], object]] = {
        "torch loop": lambda: model.apply(init_weights(torch.nn.init)),
        "drop-in loop": lambda: model.apply(init_weights(ours)),
        "initialize": lambda: ours.initialize(model, rules, seed=0),
    }
    times = compare_all(contenders, repeat)
    base = statistics.median(times["torch loop"])
    for name, seconds in times.items():
        print(f"{'gpt2-small ' + name:33s} {statistics.median(seconds) * 1e3:8.1f} ({min(seconds) * 1e3:7.1f}) ms  "
              f"{statistics.median(seconds) / base:5.2f}", flush=True)


def compare_all(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds of ``repeat`` calls of each contender, in turn (the order alternating), after a warm-up call of each."""
    for run in contenders.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(repeat):
        for name in contenders if round_ % 2 else reversed(list(contenders)):
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", type=int, nargs="+", default=[256, 4096])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--model-repeat", type=int, default=5, help="calls of each whole-model contender (0: none)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median (best) of {args.repeat} calls, CPU")
    print(f"{'call':26s} {'side':>6s} {'torch ms':>16s} {'unit_init ms':>16s} {'ratio':>6s}")
    for side in args.sides:
        for label, (call, dtype) in CALLS.items():
            if label in ("orthogonal_", "sparse_(0.1)") and side > 1024:
                continue  # a QR, a sort of every column: seconds at 4096²
            tensor = torch.nn.Parameter(torch.empty(side, side, dtype=dtype))
            times = compare(call, tensor, args.repeat)
            theirs, mine = (statistics.median(times[name]) for name in ("torch", "unit_init"))
            print(f"{label:26s} {side:5d}² {theirs * 1e3:8.3f} ({min(times['torch']) * 1e3:6.3f}) "
                  f"{mine * 1e3:8.3f} ({min(times['unit_init']) * 1e3:6.3f}) {mine / theirs:6.2f}", flush=True)
    if args.model_repeat:
        whole_model(args.model_repeat)


if __name__ == "__main__":
    main()
