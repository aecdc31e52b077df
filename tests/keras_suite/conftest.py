"""Keras 3's own initializer tests, run in place from the installed keras against ``unit_init.keras``.

* test_keras_own.py reads Keras's test files from the installed wheel and swaps
  their imports of the names under test for keras_shim.py (see its docstring).
* Without keras or scipy, keras_shim.py is not collected (not even for
  doctests); test_keras_own.py and test_parity.py report the skip.
* keras_shim.py, beside this file, is imported by name: this folder goes on ``sys.path``.

What still runs against Keras itself (the shim cannot sensibly stand in):

* ``test_mha_query_projection_variance`` builds ``MultiHeadAttention(kernel_initializer="lecun_normal")``:
  the layer resolves the string with Keras's own ``keras.initializers.get``. The same
  check with a unit_init initializer is in tests/test_keras_layers.py.
* ``keras.random.SeedGenerator``, ``keras.utils.set_random_seed``, the backend and
  Keras's ``TestCase`` (``run_class_serialization_test``) are Keras's: they are the
  machinery the adapter must work with.

A test that must fail against unit_init.keras would be listed in ``EXPECTED_DIFFERENT`` below, with its reason
(a strict xfail); none is.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

_LOADER = "test_keras_own.py"
_MISSING = next((name for name in ("keras", "scipy") if importlib.util.find_spec(name) is None), None)

if _MISSING is None:
    sys.path.insert(0, str(Path(__file__).parent))

collect_ignore = ["keras_shim.py"] if _MISSING is not None else []

# "<Class>::<test>" in test_keras_own.py -> (reason, the exception the test fails with); none at present: every test of
# Keras's own initializer files passes against unit_init.keras.
EXPECTED_DIFFERENT: dict[str, tuple[str, type[BaseException]]] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    loader = Path(__file__).parent / _LOADER
    for item in items:
        if Path(str(item.fspath)) != loader:
            continue
        expected = EXPECTED_DIFFERENT.get(item.nodeid.split("::", 1)[1])
        if expected is not None:
            reason, raises = expected
            item.add_marker(pytest.mark.xfail(reason=reason, raises=raises, strict=True))
