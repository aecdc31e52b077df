"""``unit_init.jax`` against ``jax.nn.initializers`` (test_parity.py, ours).

JAX's own initializer tests (``tests/nn_test.py``) are not in the jax wheel, so
they cannot run from the installed package, and we do not copy them here:
test_parity.py checks the same behaviours in our own words.

* Without jax, jax_shim.py is not collected (not even for doctests);
  test_parity.py reports the skip.
* jax_shim.py, beside this file, is imported by name: this folder goes on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_MISSING = next((name for name in ("jax",) if importlib.util.find_spec(name) is None), None)

if _MISSING is None:
    sys.path.insert(0, str(Path(__file__).parent))

collect_ignore = ["jax_shim.py"] if _MISSING is not None else []
