"""Tables with aligned columns, as plain text or HTML, and numbers written compactly.

Both forms write the same cells: floats via :func:`number`, and a column
whose every cell is a number is right-aligned.

Examples
--------
>>> print(table(["layer", "std", "note"], [[1, 0.5, "first"], [50, 1.5e-40, "last"]]))
layer      std  note
-----  -------  -----
    1      0.5  first
   50  1.5e-40  last
>>> print(html_table(["layer", "std"], [[1, 0.5]]))
<table>
<thead><tr><th style="text-align: right">layer</th><th style="text-align: right">std</th></tr></thead>
<tbody>
<tr><td style="text-align: right">1</td><td style="text-align: right">0.5</td></tr>
</tbody>
</table>
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["html_table", "number", "table"]


def number(value: float) -> str:
    """Three significant digits; ``inf`` for an overflowed value."""
    if math.isnan(value):
        return "nan"
    return f"{value:.3g}"


def _cells(rows: Sequence[Sequence[object]]) -> list[list[str]]:
    return [[number(c) if isinstance(c, float) else str(c) for c in row] for row in rows]


def _numeric(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[bool]:
    """Per column: every cell is an int or a float (not a bool), so the column is right-aligned."""
    return [
        bool(rows) and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; number columns right-aligned, floats via :func:`number`."""
    cells = _cells(rows)
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    numeric = _numeric(headers, rows)

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)])


def html_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """The cells of :func:`table` as an HTML ``<table>``, every cell escaped."""
    align = ["right" if r else "left" for r in _numeric(headers, rows)]

    def line(tag: str, values: Sequence[str]) -> str:
        parts = (f'<{tag} style="text-align: {a}">{html.escape(v)}</{tag}>' for v, a in zip(values, align, strict=True))
        return f"<tr>{''.join(parts)}</tr>"

    body = "\n".join(line("td", row) for row in _cells(rows))
    return f"<table>\n<thead>{line('th', headers)}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"
