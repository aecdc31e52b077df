"""PyTorch's own ``torch.nn.init`` test file, run against ``unit_init.torch`` (see test_init.py's header).

* Without torch, scipy or expecttest the file is not collected (test_parity.py
  beside it reports the skip), instead of failing to import.
* ``PYTORCH_TEST_WITH_SLOW=1`` (read when torch's test utilities are imported)
  runs the one test PyTorch marks slow (``test_xavier_uniform``, well under a
  second here), so the file runs in full.
"""

from __future__ import annotations

import importlib.util
import os

_VENDORED = "test_init.py"
_MISSING = next((name for name in ("torch", "scipy", "expecttest") if importlib.util.find_spec(name) is None), None)

if _MISSING is None:
    os.environ.setdefault("PYTORCH_TEST_WITH_SLOW", "1")


# Without them the file is not collected at all: neither as tests nor, under --doctest-modules,
# as a module to search for doctests (which would import torch). test_parity.py beside it
# reports the skip, with the reason.
collect_ignore = [_VENDORED] if _MISSING is not None else []
