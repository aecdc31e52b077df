"""Regenerate the figures of docs/gallery.md: ``python docs/gallery.py`` (needs matplotlib).

Each figure is a :func:`unit_init.compare` or :func:`unit_init.diagnose`
run on NumPy with the default network (depth 50, width 512, batch 256,
seed 0); the tables are printed so the numbers quoted in the docs can be
checked.
"""

from __future__ import annotations

from pathlib import Path

import unit_init as ui

HERE = Path(__file__).parent / "gallery"
DPI = 80


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for activation in ("relu", "tanh"):
        comparison = ui.compare(activation=activation)
        print(comparison, end="\n\n")
        comparison.plot(HERE / f"compare_{activation}.png", dpi=DPI)
    report = ui.diagnose("he_normal", activation="relu")
    print(report.summary(), end="\n\n")
    report.plot(HERE / "he_normal_relu.png", dpi=DPI)
    smooth = ui.compare(["he_normal", ui.recommend("silu"), "variance_scaling:scale=2.81"], activation="silu")
    print(smooth, end="\n\n")
    smooth.plot(HERE / "compare_silu.png", dpi=DPI)


if __name__ == "__main__":
    main()
