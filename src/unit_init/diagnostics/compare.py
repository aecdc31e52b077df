"""``compare``: several specs diagnosed on the same network, side by side."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, overload

from unit_init.diagnostics import display
from unit_init.diagnostics.diagnose import DiagnoseOptions, diagnose
from unit_init.diagnostics.plotting import plot_reports
from unit_init.diagnostics.report import Report, ratio_headers
from unit_init.diagnostics.specs import resolve
from unit_init.diagnostics.tables import html_table, table
from unit_init.errors import ParameterError, abbreviate, keywords_checked
from unit_init.spec._checks import listed

if TYPE_CHECKING:
    from pathlib import Path

    from typing_extensions import Unpack

    from unit_init.diagnostics.plotting import Figure
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


@dataclass(frozen=True, slots=True, repr=False)
class Comparison:
    """Reports of several specs on the same network.

    ``str()`` is a table, one row per spec, ``repr()`` one line; in Jupyter
    the comparison shows as that table (HTML) and its figure.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.compare(["he_normal", "zeros"], depth=10, width=64, batch=32)
    <Comparison relu, depth 10, width 64: he_normal stable, zeros symmetric>
    """

    reports: tuple[Report, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"reports": [...]}`` with each report's :meth:`Report.to_dict`."""
        return {"reports": [report.to_dict() for report in self.reports]}

    def _setup(self) -> str:
        first = self.reports[0]
        return (
            f"activation {first.activation}, depth {first.depth}, width {first.width}, batch {first.batch}, "
            f"{first.backend} on {first.device}, {first.dtype}, seed {first.seed}"
        )

    def _ratios(self) -> tuple[list[str], list[list[object]]]:
        return ratio_headers(self.reports[0].depth), [report.ratio_row() for report in self.reports]

    def __str__(self) -> str:
        return f"{self._setup()}\n\n{table(*self._ratios())}"

    def __repr__(self) -> str:
        first = self.reports[0]
        verdicts = ", ".join(f"{report.initializer} {report.verdict}" for report in self.reports)
        return f"<Comparison {first.activation}, depth {first.depth}, width {first.width}: {verdicts}>"

    def _repr_html_(self) -> str:
        """What a notebook shows: the setup, one table row per spec, the figure."""
        return display.page(self.reports, self._setup(), [html_table(*self._ratios())])

    def _repr_png_(self) -> bytes | None:
        """The figure of :meth:`plot` as PNG, for frontends without HTML; ``None`` without matplotlib."""
        return display.png(self.reports)

    @overload
    def plot(self, path: None = None, *, dpi: int = ...) -> Figure: ...
    @overload
    def plot(self, path: str | Path, *, dpi: int = ...) -> Path: ...
    @keywords_checked
    def plot(self, path: str | Path | None = None, *, dpi: int = 100) -> Figure | Path:
        """The per-layer std curves of every spec and their histograms.

        Equal curves keep distinct line styles and markers, and the legend
        names the curve they repeat. Parameters as for :meth:`Report.plot`.

        Returns
        -------
        matplotlib.figure.Figure or pathlib.Path
            Without ``path``, a new Figure (a notebook shows it inline);
            with one (``.png`` / ``.svg``), the path the figure was saved to.
        """
        return plot_reports(self.reports, path, dpi=dpi)


@functools.partial(keywords_checked, accepted=tuple(DiagnoseOptions.__annotations__))  # a misspelt option names compare()
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
    given: object = specs  # typed for callers; checked for everyone else (a generator is read once, here)
    chosen = list(DEFAULT_SPECS) if given is None else listed(given) or []
    if not chosen:
        msg = f"specs={abbreviate(given)} must be a non-empty list of specs or names, e.g. ['he_normal', 'zeros']."
        raise ParameterError(msg)
    told: object = progress  # typed for callers; checked for everyone else
    if told is not None and not callable(told):
        msg = f"progress={abbreviate(progress)} must be None or a callable, called as progress(index, total, spec)."
        raise ParameterError(msg)
    for spec in chosen:  # every name read before the first network runs
        resolve(spec)
    reports: list[Report] = []
    for index, spec in enumerate(chosen, start=1):
        if progress is not None:
            progress(index, len(chosen), str(spec))
        reports.append(diagnose(spec, **options))
        options["seed"] = reports[0].seed  # one seed for all, so every spec sees the same input: without one, the first takes it after its checks
    return Comparison(tuple(reports))
