"""Diagnostics: why initialization matters, measured (docs/design.md#diagnostics).

* :func:`diagnose` runs a deep MLP initialized with a spec forward and
  backward on any backend and returns a :class:`Report` with a verdict
  (``stable``, ``vanishing``, ``exploding``, ``symmetric``);
* :func:`compare` does that for several specs on the same network;
* :func:`calculate_gain` and :func:`recommend` say which scale and which
  spec suit an activation.

Modules: ``activations`` (f and f′ over an Array-API namespace), ``network``
(forward and hand-written backward), ``verdict`` (the rules), ``report``,
``diagnose``, ``compare``, ``gain`` (``recommend``; the gains themselves are
:mod:`unit_init.spec.gain`), ``specs`` (spec names with parameters),
``tables`` (text and HTML tables), ``plotting`` (matplotlib, imported on
use) and ``display`` (rich display in Jupyter).
"""

from __future__ import annotations

from unit_init.diagnostics.compare import DEFAULT_SPECS, Comparison, compare
from unit_init.diagnostics.diagnose import diagnose
from unit_init.diagnostics.gain import recommend
from unit_init.diagnostics.report import Report
from unit_init.diagnostics.verdict import EXPLODING_ABOVE, VANISHING_BELOW
from unit_init.spec.gain import calculate_gain

__all__ = [
    "DEFAULT_SPECS",
    "EXPLODING_ABOVE",
    "VANISHING_BELOW",
    "Comparison",
    "Report",
    "calculate_gain",
    "compare",
    "diagnose",
    "recommend",
]
