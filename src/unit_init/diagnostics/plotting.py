"""Figures of diagnose/compare reports (matplotlib, the optional ``plot`` extra, imported on use).

One figure shows, per report: the activation std per layer and the gradient
std per layer (one line per initializer, log y axis), and histograms of a
few layers' activations. Figures are :class:`matplotlib.figure.Figure`
objects on their own Agg canvas: no pyplot state and no GUI backend is
touched, so figures never leak between calls and drawing works headless.

Axes that read right:

* the log y range always covers at least ``[1e-3, 1e3]`` (:data:`MIN_RANGE`),
  widened to the data, so a stable network is a nearly flat line in the
  middle rather than noise blown up to fill the axis;
* a single report shades the verdict's stable band: activations within
  ``[VANISHING_BELOW, EXPLODING_ABOVE] × std(h_1)``, gradients within the
  same factors of ``std(∂ℓ/∂h_depth)`` (see :mod:`unit_init.diagnostics.verdict`);
* several reports get different line styles, markers and marker offsets,
  so equal curves (Glorot and LeCun on square layers) stay visible, and the
  legend says which curve repeats which.

A value that is zero or overflowed cannot be drawn on a log axis and leaves a gap.
"""

from __future__ import annotations

import io
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, overload

import numpy as np

from unit_init.diagnostics.verdict import EXPLODING_ABOVE, VANISHING_BELOW
from unit_init.errors import BackendUnavailableError, ParameterError, abbreviate, install_hint

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as Figure  # re-exported: report and compare take matplotlib's types from here

    from unit_init.diagnostics.network import Histogram
    from unit_init.diagnostics.verdict import Verdict

__all__ = ["FORMATS", "MIN_RANGE", "Plotted", "check_path", "figure_of", "plot_reports", "png_of"]

FORMATS: Final = (".png", ".svg")
MIN_RANGE: Final = (1e-3, 1e3)
"""The smallest y range of the std axes: three decades each side of 1."""
_PER_ROW: Final = 3
_STYLES: Final = ("-", "--", "-.", ":")
_MARKERS: Final = ("o", "s", "^", "D", "v", "P", "X", "*")
_MARKS: Final = 8
"""About this many markers per curve (see ``_marked``)."""


class Plotted(Protocol):
    """What a figure reads from a report: :class:`~unit_init.diagnostics.report.Report` is one.

    Figures depend on these fields only, so this module never imports the
    report, which draws itself with :func:`plot_reports`.
    """

    @property
    def initializer(self) -> str: ...
    @property
    def activation(self) -> str: ...
    @property
    def verdict(self) -> Verdict: ...
    @property
    def depth(self) -> int: ...
    @property
    def activation_std(self) -> tuple[float, ...]: ...
    @property
    def gradient_std(self) -> tuple[float, ...]: ...
    @property
    def histograms(self) -> tuple[Histogram, ...]: ...


def check_path(path: str | Path, *, folder: bool = True) -> Path:
    """``path`` as a Path; :class:`ParameterError` unless it is a str or path ending in ``.png`` or ``.svg`` in an existing folder.

    Checked before anything is drawn; a write that fails all the same (a
    full disk, no permission) raises the ``OSError`` of the file system.
    ``folder=False`` leaves the folder to the caller (the CLI asks the
    operating system itself, and reports its reason).
    """
    given: object = path  # typed for callers; checked for everyone else
    if not isinstance(given, (str, os.PathLike)) or "\0" in str(given):
        msg = f"path={abbreviate(given)} must be a file name (a str or pathlib.Path) ending in {' or '.join(FORMATS)}."
        raise ParameterError(msg)
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        msg = f"path={abbreviate(str(path))} must end in {' or '.join(FORMATS)}; the suffix picks the format."
        raise ParameterError(msg)
    if folder and not target.parent.is_dir():
        msg = f"path={abbreviate(str(path))}: the folder {abbreviate(str(target.parent))} does not exist; create it first."
        raise ParameterError(msg)
    return target


def check_dpi(dpi: float) -> None:
    """:class:`ParameterError` unless ``dpi`` is a number in ``[1, 2400]`` (a figure's resolution)."""
    given: object = dpi
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not 1 <= given <= 2400:
        msg = f"dpi={abbreviate(given)} must be a number from 1 to 2400."
        raise ParameterError(msg)


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        msg = f"plotting needs matplotlib, which is not installed: {install_hint('matplotlib', 'plot')}."
        raise BackendUnavailableError(msg) from error
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    _show_inline_in_ipython(type(figure))
    return figure


def _show_inline_in_ipython(figure_type: type) -> None:
    """In a running IPython (a Jupyter kernel), make a returned Figure display as PNG.

    IPython registers that formatter only once pyplot is imported; ours are
    pyplot-free, so without this a notebook would print ``<Figure size …>``.
    The same one-time registration as ``%matplotlib inline``; nothing outside IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    try:
        formatter.lookup_by_type(figure_type)
    except KeyError:
        formatter.for_type(figure_type, lambda figure: _png(figure, figure.dpi))


def _positive(values: Sequence[float]) -> list[float]:
    """The values a log axis can show; zero and overflowed ones become gaps (nan)."""
    return [v if math.isfinite(v) and v > 0 else math.nan for v in values]


def _limits(values: Sequence[float], band: tuple[float, float] | None) -> tuple[float, float]:
    """:data:`MIN_RANGE` widened to the drawable ``values`` and the ``band``, plus a quarter decade."""
    shown = [v for v in (*values, *(band or ())) if math.isfinite(v) and v > 0]
    margin = 10**0.25
    return min([MIN_RANGE[0], *shown]) / margin, max([MIN_RANGE[1], *shown]) * margin


def _same_as(reports: Sequence[Plotted], field: str) -> list[str | None]:
    """Per report, the initializer of the first earlier report with the same curve (to 1e-6), else None."""
    curves = [np.asarray(_positive(getattr(report, field))) for report in reports]
    return [
        next((reports[j].initializer for j in range(i) if np.allclose(curves[j], curve, rtol=1e-6, atol=0, equal_nan=True)),
             None)
        for i, curve in enumerate(curves)
    ]


def _integer_locator() -> Any:
    """A tick locator of whole numbers only (matplotlib's ``MaxNLocator(integer=True)``)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins="auto", integer=True, steps=[1, 2, 5, 10], min_n_ticks=1)


def _marked(values: Sequence[float], index: int) -> list[int]:
    """Where the ``index``-th curve has markers: every ``depth/8``-th layer from ``index`` on, and its end points.

    The shifted start keeps equal curves' markers apart; the end points keep
    a curve that is a single point (the rest underflowed or overflowed) visible.
    """
    step = max(1, len(values) // _MARKS)
    drawable = [layer for layer, value in enumerate(values) if not math.isnan(value)]
    return sorted({*range(index % step, len(values), step), drawable[0], drawable[-1]})


def _band(report: Plotted, field: str) -> tuple[float, float] | None:
    """The stable band of a report's field, around the layer the verdict's ratio is taken from."""
    reference = report.activation_std[0] if field == "activation_std" else report.gradient_std[-1]
    if not (math.isfinite(reference) and reference > 0):
        return None
    return reference * VANISHING_BELOW, reference * EXPLODING_ABOVE


def _curves(axes: Axes, reports: Sequence[Plotted], field: str, title: str) -> None:
    band = _band(reports[0], field) if len(reports) == 1 else None
    repeats = _same_as(reports, field)
    drawn: list[float] = []
    for index, (report, repeat) in enumerate(zip(reports, repeats, strict=True)):
        values = _positive(getattr(report, field))
        label = f"{report.initializer} ({report.verdict})"
        if all(math.isnan(v) for v in values):
            axes.plot([], [], linestyle=_STYLES[index % len(_STYLES)], label=f"{label}: no positive finite value")
            continue
        axes.plot(
            range(1, report.depth + 1), values,
            linestyle=_STYLES[index % len(_STYLES)], linewidth=2.4 - 0.3 * (index % len(_STYLES)),
            marker=_MARKERS[index % len(_MARKERS)], markersize=5, markevery=_marked(values, index),
            label=label if repeat is None else f"{label}, same curve as {repeat}",
        )
        drawn.extend(values)
    if band is not None:
        axes.axhspan(*band, color="tab:green", alpha=0.1, zorder=0,
                     label=f"stable band ({VANISHING_BELOW:g}–{EXPLODING_ABOVE:g}× layer {1 if field == 'activation_std' else reports[0].depth})")
    axes.set_yscale("log")
    axes.set_ylim(*_limits(drawn, band))
    axes.set_xlabel("layer")
    axes.xaxis.set_major_locator(_integer_locator())  # layers are whole numbers, also at depth 2 (0.8 … 2.2 before)
    if reports[0].depth <= 2:  # a range too narrow to hold two whole numbers: half a layer on each side
        axes.set_xlim(0.5, reports[0].depth + 0.5)
    axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    if band is not None:
        axes.legend(fontsize="x-small")
    else:  # several curves: the legend goes under the panel, where it hides none of them
        axes.legend(fontsize="x-small", loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)


def _histograms(axes: Axes, report: Plotted) -> None:
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


def figure_of(reports: Sequence[Plotted]) -> Figure:
    """A new Figure of ``reports``: std curves on top, one histogram panel per report.

    ``figure.axes`` are, in order: activation stds, gradient stds, then the
    histograms of each report.

    Raises
    ------
    BackendUnavailableError
        matplotlib is not installed.
    """
    rows = 1 if len(reports) == 1 else 1 + math.ceil(len(reports) / _PER_ROW)
    figure = _figure(13.0, 3.8 + 3.8 * (rows - 1))
    grid = figure.add_gridspec(rows, 2 * _PER_ROW)
    if len(reports) == 1:
        spans = [grid[0, 0:2], grid[0, 2:4]]
        histogram_spans = [grid[0, 4:6]]
    else:
        spans = [grid[0, 0:_PER_ROW], grid[0, _PER_ROW:]]
        histogram_spans = [grid[1 + i // _PER_ROW, 2 * (i % _PER_ROW) : 2 * (i % _PER_ROW) + 2] for i in range(len(reports))]
    first = reports[0]
    _curves(figure.add_subplot(spans[0]), reports, "activation_std", f"std of activations h_l ({first.activation})")
    _curves(figure.add_subplot(spans[1]), reports, "gradient_std", "std of gradients ∂ℓ/∂h_l")
    for span, report in zip(histogram_spans, reports, strict=True):
        _histograms(figure.add_subplot(span), report)
    return figure


def _png(figure: Figure, dpi: float) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def png_of(reports: Sequence[Plotted], *, dpi: int) -> bytes:
    """The figure of ``reports`` as PNG bytes (what a notebook shows)."""
    return _png(figure_of(reports), dpi)


@overload
def plot_reports(reports: Sequence[Plotted], path: None = None, *, dpi: int = ...) -> Figure: ...
@overload
def plot_reports(reports: Sequence[Plotted], path: str | Path, *, dpi: int = ...) -> Path: ...
def plot_reports(reports: Sequence[Plotted], path: str | Path | None = None, *, dpi: int = 100) -> Figure | Path:
    """Draw ``reports`` into one figure; return it, or save it to ``path`` and return the path.

    Parameters
    ----------
    reports:
        One report (curves, stable band, histogram) or several (one curve each).
    path:
        ``None``: return the :class:`matplotlib.figure.Figure` (a notebook
        shows it inline). Otherwise a ``.png`` or ``.svg`` path; the suffix
        picks the format and the saved path is returned.
    dpi:
        Resolution of a saved PNG.

    Raises
    ------
    ParameterError
        ``path`` ends in neither ``.png`` nor ``.svg``.
    BackendUnavailableError
        matplotlib is not installed.
    """
    target = None if path is None else check_path(path)
    check_dpi(dpi)
    figure = figure_of(reports)
    if target is None:
        return figure
    figure.savefig(target, dpi=dpi, format=target.suffix.lower()[1:])
    return target
