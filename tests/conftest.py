"""Shared fixtures. Collecting the tests imports no framework."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # the helper module tests/stats.py
