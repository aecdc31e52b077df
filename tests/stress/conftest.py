"""The stress tests: the same tests at two sizes, a small one in every run and the full one under ``UNIT_INIT_STRESS=1``.

``nox -s stress`` sets ``UNIT_INIT_STRESS=1``; without it the cases marked
``stress`` skip with that reason and the ``ci`` cases run (a few seconds each).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # stress_profile.py
