"""Rich display in Jupyter: a report or comparison shows as HTML tables and its figure.

IPython asks an object for ``_repr_html_`` and ``_repr_png_``; a notebook
shows the richest one, the HTML, so the HTML carries the figure too, as an
inline PNG. ``_repr_png_`` is what frontends without HTML use (nbconvert to
PDF, some viewers). Both come from one rendering (a small cache keyed by the
reports), and only in frontends that ask for them: a terminal asks for
``text/plain`` only and gets ``repr()``. Without matplotlib the HTML holds
the tables alone and ``_repr_png_`` returns ``None`` (no PNG).
"""

from __future__ import annotations

import base64
import functools
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from unit_init.diagnostics.plotting import png_of
from unit_init.errors import BackendUnavailableError

if TYPE_CHECKING:
    from unit_init.diagnostics.plotting import Plotted

__all__ = ["DPI", "folded", "page", "png"]

DPI: Final = 72
"""Resolution of the displayed figure: 936 pixels wide, the width of a notebook cell."""


@functools.lru_cache(maxsize=8)
def png(reports: tuple[Plotted, ...]) -> bytes | None:
    """The figure of ``reports`` as PNG bytes at :data:`DPI`, or ``None`` without matplotlib."""
    try:
        return png_of(reports, dpi=DPI)
    except BackendUnavailableError:
        return None


def folded(summary: str, content: str) -> str:
    """``content`` (HTML) folded under a ``summary`` line (escaped) that unfolds it on click."""
    return f"<details><summary>{html.escape(summary)}</summary>\n{content}\n</details>"


def page(reports: tuple[Plotted, ...], title: str, sections: Sequence[str]) -> str:
    """The HTML of a report or comparison: ``title`` (escaped), the HTML ``sections``, then the figure.

    The figure of ``reports`` comes as an inline PNG when matplotlib is installed.
    """
    parts = [f"<p>{html.escape(title)}</p>", *sections]
    image = png(reports)
    if image is not None:
        data = base64.b64encode(image).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="std per layer and histograms" style="max-width: 100%">')
    return '<div class="unit-init">\n' + "\n".join(parts) + "\n</div>"
