"""``compare``: several specs diagnosed on the same network, side by side."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from unit_init.diagnostics.diagnose import diagnose
from unit_init.diagnostics.report import Report
from unit_init.diagnostics.tables import table
from unit_init.errors import ParameterError
from unit_init.seeds import normalize_seed

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Unpack

    from unit_init.diagnostics.diagnose import DiagnoseOptions
    from unit_init.spec.initializer import Initializer

__all__ = ["DEFAULT_SPECS", "Comparison", "compare"]

DEFAULT_SPECS: Final = (
    "zeros",
    "random_normal:stddev=0.01",
    "random_normal:stddev=1.0",
    "glorot_normal",
    "he_normal",
    "lecun_normal",
)
"""The comparison of the source notebook: too small, too large, and the three fan-scaled rules."""

Progress = Callable[[int, int, str], None]
"""``progress(index, total, spec)`` is called before each spec is diagnosed (index from 1)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    """Reports of several specs on the same network; ``str()`` is a table, one row per spec."""

    reports: tuple[Report, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"reports": [...]}`` with each report's :meth:`Report.to_dict`."""
        return {"reports": [report.to_dict() for report in self.reports]}

    def __str__(self) -> str:
        first = self.reports[0]
        setup = (
            f"activation {first.activation}, depth {first.depth}, width {first.width}, batch {first.batch}, "
            f"{first.backend} on {first.device}, {first.dtype}, seed {first.seed}"
        )
        rows = [
            [r.initializer, r.verdict, r.activation_std[0], r.activation_std[-1], r.forward_ratio,
             r.gradient_std[0], r.gradient_std[-1], r.backward_ratio]
            for r in self.reports
        ]
        headers = ["initializer", "verdict", "std(h_1)", f"std(h_{first.depth})", "forward",
                   "std(∂ℓ/∂h_1)", f"std(∂ℓ/∂h_{first.depth})", "backward"]
        return f"{setup}\n\n{table(headers, rows)}"

    def plot(self, path: str | Path, *, dpi: int = 100) -> Path:
        """Save the per-layer std curves of every spec and their histograms to ``path`` (``.png`` / ``.svg``)."""
        from unit_init.diagnostics.plotting import plot_reports

        return plot_reports(self.reports, path, dpi=dpi)


def compare(
    specs: Sequence[str | Initializer] | None = None,
    *,
    progress: Progress | None = None,
    **options: Unpack[DiagnoseOptions],
) -> Comparison:
    """Diagnose each spec on the same network (one seed, so the same input and probe for all).

    Parameters
    ----------
    specs:
        Specs or names (``"random_normal:stddev=0.01"``); default
        :data:`DEFAULT_SPECS`: zeros, random_normal(stddev=0.01),
        random_normal(stddev=1.0), glorot_normal, he_normal, lecun_normal.
    progress:
        Called as ``progress(index, total, spec)`` before each spec runs.
    **options:
        Any keyword argument of :func:`unit_init.diagnose`.

    Examples
    --------
    >>> import unit_init as ui
    >>> result = ui.compare(["he_normal", "zeros"], depth=10, width=64, batch=32)
    >>> [report.verdict for report in result.reports]
    ['stable', 'symmetric']
    """
    if isinstance(specs, (str, bytes)) or (specs is not None and not list(specs)):
        msg = f"specs={specs!r} must be a non-empty list of specs or names, e.g. ['he_normal', 'zeros']."
        raise ParameterError(msg)
    chosen = list(DEFAULT_SPECS if specs is None else specs)
    if options.get("seed", 0) is None:  # one seed for all, so every spec sees the same input
        options["seed"] = normalize_seed(None)
    reports = []
    for index, spec in enumerate(chosen, start=1):
        if progress is not None:
            progress(index, len(chosen), str(spec))
        reports.append(diagnose(spec, **options))
    return Comparison(tuple(reports))
