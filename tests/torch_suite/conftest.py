"""PyTorch's own ``torch.nn.init`` test file, run against ``unit_init.torch`` (see test_init.py's header).

* Without torch the file is reported as skipped, with the reason, instead of
  failing to import.
* ``PYTORCH_TEST_WITH_SLOW=1`` (read when torch's test utilities are imported)
  runs the one test PyTorch marks slow (``test_xavier_uniform``, well under a
  second here), so the file runs in full.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

_VENDORED = "test_init.py"
_MISSING = next((name for name in ("torch", "scipy", "expecttest") if importlib.util.find_spec(name) is None), None)

if _MISSING is None:
    os.environ.setdefault("PYTORCH_TEST_WITH_SLOW", "1")


class _Unavailable(pytest.File):
    """Stands for the vendored file when what it imports is missing: collecting it reports a skip."""

    def collect(self) -> Any:
        pytest.skip(f"PyTorch's torch.nn.init test file needs {_MISSING}, which is not installed")


def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The vendored file as a skip instead of an import error, when torch, scipy or expecttest is missing."""
    if _MISSING is not None and module_path.name == _VENDORED and module_path.parent == Path(__file__).parent:
        return _Unavailable.from_parent(parent, path=module_path)
    return None
