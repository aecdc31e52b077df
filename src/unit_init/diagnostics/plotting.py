"""Figures of diagnose/compare reports (matplotlib, the optional ``plot`` extra, imported on use).

One figure shows, per report: the activation std per layer and the gradient
std per layer (one line per initializer, log y axis), and histograms of a
few layers' activations. Figures are drawn with matplotlib's object API on an
Agg canvas, so no pyplot state or GUI backend is touched. A value that is
zero or overflowed cannot be drawn on a log axis and leaves a gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from unit_init.errors import BackendUnavailableError, ParameterError

if TYPE_CHECKING:
    from unit_init.diagnostics.report import Report

__all__ = ["FORMATS", "check_path", "plot_reports"]

FORMATS: Final = (".png", ".svg")
_PER_ROW: Final = 3


def check_path(path: str | Path) -> Path:
    """``path`` as a Path; :class:`ParameterError` unless it ends in ``.png`` or ``.svg``."""
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        msg = f"path={str(path)!r} must end in {' or '.join(FORMATS)}; the suffix picks the format."
        raise ParameterError(msg)
    return target


def _figure(width: float, height: float) -> Any:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        msg = 'plotting needs matplotlib, which is not installed: pip install "unit-init[plot]".'
        raise BackendUnavailableError(msg) from error
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _positive(values: Sequence[float]) -> list[float]:
    """The values a log axis can show; zero and overflowed ones become gaps (nan)."""
    return [v if math.isfinite(v) and v > 0 else math.nan for v in values]


def _curves(axes: Any, reports: Sequence[Report], field: str, title: str) -> None:
    for report in reports:
        values = _positive(getattr(report, field))
        label = f"{report.initializer} ({report.verdict})"
        if all(math.isnan(v) for v in values):
            axes.plot([], [], label=f"{label}: no positive finite value")
        else:
            axes.plot(range(1, report.depth + 1), values, marker=".", markersize=3, label=label)
    axes.set_yscale("log")
    axes.set_xlabel("layer")
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(fontsize="x-small")


def _histograms(axes: Any, report: Report) -> None:
    """Each histogrammed layer over its own 40 bins: fraction of values per bin, log y, shared x.

    A layer whose values collapsed towards 0 shows as a spike at 0 beside the wider early layers.
    """
    for histogram in report.histograms:
        total = sum(histogram.counts)
        axes.stairs([count / total for count in histogram.counts], histogram.edges, label=f"layer {histogram.layer}")
    axes.set_yscale("log")
    axes.set_title(f"{report.initializer}: activations h_l", fontsize="small")
    axes.set_xlabel("value")
    axes.set_ylabel("fraction per bin")
    if report.histograms:
        axes.legend(fontsize="x-small")
    else:
        axes.text(0.5, 0.5, "overflowed at layer 1", ha="center", va="center", transform=axes.transAxes)


def plot_reports(reports: Sequence[Report], path: str | Path, *, dpi: int = 100) -> Path:
    """Draw ``reports`` into one figure and save it to ``path``; the suffix picks PNG or SVG.

    Raises
    ------
    ParameterError
        ``path`` ends in neither ``.png`` nor ``.svg``.
    BackendUnavailableError
        matplotlib is not installed.
    """
    target = check_path(path)
    rows = 1 if len(reports) == 1 else 1 + math.ceil(len(reports) / _PER_ROW)
    figure = _figure(13.0, 3.8 + 3.0 * (rows - 1))
    grid = figure.add_gridspec(rows, 2 * _PER_ROW)
    if len(reports) == 1:
        spans = [grid[0, 0:2], grid[0, 2:4]]
        histogram_axes = [figure.add_subplot(grid[0, 4:6])]
    else:
        spans = [grid[0, 0:_PER_ROW], grid[0, _PER_ROW:]]
        histogram_axes = [
            figure.add_subplot(grid[1 + i // _PER_ROW, 2 * (i % _PER_ROW) : 2 * (i % _PER_ROW) + 2])
            for i in range(len(reports))
        ]
    first = reports[0]
    _curves(figure.add_subplot(spans[0]), reports, "activation_std", f"std of activations h_l ({first.activation})")
    _curves(figure.add_subplot(spans[1]), reports, "gradient_std", "std of gradients ∂ℓ/∂h_l")
    for axes, report in zip(histogram_axes, reports, strict=True):
        _histograms(axes, report)
    figure.savefig(target, dpi=dpi, format=target.suffix.lower()[1:])
    return target
