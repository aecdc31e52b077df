"""The result of :func:`unit_init.diagnose`: per-layer statistics and a verdict."""

from __future__ import annotations

import dataclasses
import html
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from unit_init.diagnostics import display
from unit_init.diagnostics.network import Histogram
from unit_init.diagnostics.plotting import plot_reports
from unit_init.diagnostics.tables import html_table, table
from unit_init.diagnostics.verdict import Verdict
from unit_init.errors import keywords_checked

if TYPE_CHECKING:
    from pathlib import Path

    from unit_init.diagnostics.plotting import Figure

__all__ = ["Report", "fields_of", "json_safe", "ratio_headers"]


def fields_of(record: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, the values themselves (``dataclasses.asdict`` copies each, deeply): a
    :class:`~unit_init.diagnostics.network.Trace` or :class:`~unit_init.diagnostics.verdict.Judgement` spread into a
    :class:`Report`, whose fields hold theirs under the same names."""
    return {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (JSON has no inf or nan)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def ratio_headers(depth: int) -> list[str]:
    """The headers of :meth:`Report.ratio_row`, for a network of ``depth`` layers."""
    return ["initializer", "verdict", "std(h_1)", f"std(h_{depth})", "forward",
            "std(∂ℓ/∂h_1)", f"std(∂ℓ/∂h_{depth})", "backward"]


@dataclass(frozen=True, slots=True, repr=False)
class Report:
    """How activations and gradients evolve through one network; see :func:`unit_init.diagnose`.

    Every per-layer tuple has ``depth`` entries, index 0 being layer 1. A
    standard deviation of ``inf`` (a mean of ``nan``) marks a layer whose
    values overflowed the dtype.

    Attributes
    ----------
    initializer:
        The spec in text form (``"random_normal:stddev=0.01"``).
    activation, activation_param:
        The activation and its parameter (``None`` when it takes none).
    depth, width, batch, bias:
        The network: ``depth`` layers of ``width × width`` weights, a batch of
        ``batch`` standard-normal inputs, zero biases if ``bias``.
    backend, device, dtype, seed:
        Where and how it ran.
    activation_mean, activation_std:
        Mean and standard deviation of ``h_l = f(z_l)`` over the batch and the units.
    preactivation_std:
        Standard deviation of ``z_l = h_{l-1}·W_l``.
    gradient_std:
        Standard deviation of ``∂ℓ/∂h_l``, the gradient of the per-example
        loss ``ℓ = ⟨g, h_depth⟩`` (``g`` a standard-normal probe) with respect
        to each layer's *activations*; this is what the verdict uses.
    weight_gradient_std:
        Standard deviation of ``∂L/∂W_l``, the gradient of the batch-mean loss
        with respect to each layer's *weights* (what an optimizer sees).
    identical_unit_layers:
        The number of layers whose units all have identical incoming weights.
    histograms:
        Activation histograms of a few layers (first, ⅓, ⅔, last).
    verdict, forward_ratio, backward_ratio, reason:
        See :mod:`unit_init.diagnostics.verdict`.
    """

    initializer: str
    activation: str
    activation_param: float | None
    depth: int
    width: int
    batch: int
    bias: bool
    backend: str
    device: str
    dtype: str
    seed: int
    activation_mean: tuple[float, ...]
    activation_std: tuple[float, ...]
    preactivation_std: tuple[float, ...]
    gradient_std: tuple[float, ...]
    weight_gradient_std: tuple[float, ...]
    identical_unit_layers: int
    histograms: tuple[Histogram, ...]
    verdict: Verdict
    forward_ratio: float
    backward_ratio: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data; non-finite numbers become ``None``."""
        result: dict[str, Any] = json_safe(dataclasses.asdict(self))
        return result

    def _layer_rows(self) -> tuple[list[str], list[list[object]]]:
        rows: list[list[object]] = [
            [layer + 1, self.activation_mean[layer], self.activation_std[layer], self.preactivation_std[layer],
             self.gradient_std[layer], self.weight_gradient_std[layer]]
            for layer in range(self.depth)
        ]
        return ["layer", "mean(h)", "std(h)", "std(z)", "std(∂ℓ/∂h)", "std(∂L/∂W)"], rows

    def layer_table(self) -> str:
        """One row per layer: activation mean/std, pre-activation std, gradient stds."""
        return table(*self._layer_rows())

    def ratio_row(self) -> list[object]:
        """Initializer, verdict, first/last-layer stds and the two ratios (headers: :func:`ratio_headers`)."""
        return [self.initializer, self.verdict, self.activation_std[0], self.activation_std[-1], self.forward_ratio,
                self.gradient_std[0], self.gradient_std[-1], self.backward_ratio]

    def _setup(self) -> str:
        param = "" if self.activation_param is None else f"({self.activation_param:g})"
        return (
            f"{self.initializer} with {self.activation}{param}: depth {self.depth}, width {self.width}, "
            f"batch {self.batch}, {self.backend} on {self.device}, {self.dtype}, seed {self.seed}"
        )

    def summary(self) -> str:
        """Two lines: what ran, and the verdict with its reason."""
        return f"{self._setup()}\nverdict: {self.verdict} ({self.reason})"

    def __str__(self) -> str:
        return f"{self.summary()}\n\n{self.layer_table()}"

    def __repr__(self) -> str:
        return (
            f"<Report {self.initializer}, {self.activation}, depth {self.depth}, width {self.width}: "
            f"{self.verdict} (forward {self.forward_ratio:.3g}, backward {self.backward_ratio:.3g})>"
        )

    def _repr_html_(self) -> str:
        """What a notebook shows: the setup, the verdict, the ratio table, the per-layer table (folded), the figure."""
        sections = [
            f"<p>verdict: <strong>{self.verdict}</strong> ({html.escape(self.reason)})</p>",
            html_table(ratio_headers(self.depth), [self.ratio_row()]),
            display.folded(f"per layer ({self.depth} layers)", html_table(*self._layer_rows())),
        ]
        return display.page((self,), self._setup(), sections)

    def _repr_png_(self) -> bytes | None:
        """The figure of :meth:`plot` as PNG, for frontends without HTML; ``None`` without matplotlib."""
        return display.png((self,))

    @overload
    def plot(self, path: None = None, *, dpi: int = ...) -> Figure: ...
    @overload
    def plot(self, path: str | Path, *, dpi: int = ...) -> Path: ...
    @keywords_checked
    def plot(self, path: str | Path | None = None, *, dpi: int = 100) -> Figure | Path:
        """Activation std, gradient std (with the stable band) and histograms per layer.

        Needs matplotlib (``pip install matplotlib``); the axes are
        described in :mod:`unit_init.diagnostics.plotting`.

        Parameters
        ----------
        path:
            ``None``, or where to save the figure (``.png`` or ``.svg``).
        dpi:
            Resolution of a saved PNG.

        Returns
        -------
        matplotlib.figure.Figure or pathlib.Path
            Without ``path``, a new Figure (a notebook shows it inline);
            with one, the path the figure was saved to. Examples are in
            docs/diagnostics.md, "Notebooks and figures".
        """
        return plot_reports([self], path, dpi=dpi)
