"""Plain-text tables with aligned columns, and numbers written compactly.

Examples
--------
>>> print(table(["layer", "std", "note"], [[1, 0.5, "first"], [50, 1.5e-40, "last"]]))
layer      std  note
-----  -------  -----
    1      0.5  first
   50  1.5e-40  last
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["number", "table"]


def number(value: float) -> str:
    """Three significant digits; ``inf`` for an overflowed value."""
    if math.isnan(value):
        return "nan"
    return f"{value:.3g}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; number columns right-aligned, floats via :func:`number`."""
    cells = [[number(c) if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    numeric = [
        bool(rows) and all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(row) for row in cells)])
