"""Regenerate docs/scaled/coord_check.png, the muP coordinate check: ``python docs/coord_check.py``.

A 3-layer ReLU MLP at widths 64 … 1024 takes one SGD step on a fixed batch;
the plot shows, per layer, the mean absolute change of its output's
coordinates made by that step. In the standard parametrization (Var = 1/fan_in
everywhere, one learning rate) the logits' change grows with the width and
the first layer's shrinks; in muP (:func:`unit_init.mup_rules` with base
width 64, the readout as ``MuReadout`` has it: base variance and a
``1/width_mult`` forward multiplier, and ``mup.MuSGD``'s per-parameter
learning rates) every layer's change is flat. Torch on CPU, under 20 seconds;
needs matplotlib for the figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import unit_init as ui

FIGURE = Path(__file__).parent / "scaled" / "coord_check.png"
WIDTHS = (64, 128, 256, 512, 1024)
BASE, INPUTS, CLASSES, BATCH = 64, 32, 10, 64
LEARNING_RATE = 0.05
SEEDS = range(4)
LAYERS = ("hidden 1", "hidden 2", "logits")


class MLP(torch.nn.Module):
    """``INPUTS → width → width → CLASSES`` with ReLU; ``readout_mult`` multiplies the readout's input (``MuReadout``)."""

    def __init__(self, width: int, readout_mult: float = 1.0) -> None:
        super().__init__()
        self.fc1, self.fc2 = torch.nn.Linear(INPUTS, width), torch.nn.Linear(width, width)
        self.head = torch.nn.Linear(width, CLASSES)
        self.readout_mult = readout_mult

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        h1 = torch.relu(self.fc1(x))
        h2 = torch.relu(self.fc2(h1))
        return h1, h2, self.head(h2 * self.readout_mult)


def _shapes(width: int) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in MLP(width).named_parameters()}


def _model(width: int, parametrization: str, seed: int) -> tuple[MLP, dict[str, float]]:
    """The initialized model and each parameter's learning rate multiplier."""
    if parametrization == "standard":
        model = MLP(width)
        ui.torch.initialize(model, {"*.weight": ui.VarianceScaling(1.0, "fan_in", "normal"), "*.bias": ui.Zeros()}, seed=seed)
        return model, dict.fromkeys(_shapes(width), 1.0)
    m = width / BASE
    model = MLP(width, readout_mult=1 / m)
    ui.torch.initialize(model, ui.mup_rules(_shapes(BASE), _shapes(width), readout="head.weight", readout_init="multiplier"), seed=seed)
    # mup.MuSGD: a parameter with one width dimension ("vector-like") learns at lr·m, a hidden matrix at lr
    return model, {"fc1.weight": m, "fc1.bias": m, "fc2.weight": 1.0, "fc2.bias": m, "head.weight": m, "head.bias": 1.0}


def coordinates(width: int, parametrization: str, seeds: Sequence[int] = SEEDS) -> dict[str, float]:
    """Mean |Δ coordinate| of each layer's output made by one SGD step, averaged over ``seeds``."""
    found: dict[str, list[float]] = {layer: [] for layer in LAYERS}
    for seed in seeds:
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(BATCH, INPUTS, generator=generator)
        y = torch.randint(0, CLASSES, (BATCH,), generator=generator)
        model, rates = _model(width, parametrization, seed)
        before = model(x)
        torch.nn.functional.cross_entropy(before[-1], y).backward()
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                assert parameter.grad is not None
                parameter -= LEARNING_RATE * rates[name] * parameter.grad
            for layer, old, new in zip(LAYERS, before, model(x), strict=True):
                found[layer].append(float((new - old).abs().mean()))
    return {layer: statistics.fmean(values) for layer, values in found.items()}


def main() -> None:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    results: dict[str, Any] = {}
    for axis, parametrization in zip(axes, ("standard", "mup"), strict=True):
        table = {width: coordinates(width, parametrization) for width in WIDTHS}
        results[parametrization] = table
        for layer in LAYERS:
            axis.plot(WIDTHS, [table[w][layer] for w in WIDTHS], marker="o", label=layer)
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("width")
        axis.set_title("standard parametrization" if parametrization == "standard" else "muP (ui.mup_rules)")
    axes[0].set_ylabel("mean |Δ activation| after one SGD step")
    axes[1].legend()
    figure.tight_layout()
    FIGURE.parent.mkdir(exist_ok=True)
    figure.savefig(FIGURE, dpi=100)
    for parametrization, table in results.items():
        for width, row in table.items():
            print(parametrization, width, " ".join(f"{layer}={value:.3g}" for layer, value in row.items()))


if __name__ == "__main__":
    main()
