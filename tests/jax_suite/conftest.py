"""JAX's own ``jax.nn.initializers`` tests, run against ``unit_init.jax`` (see nn_initializers_test.py's header).

* Without jax or absl the vendored file is not collected (test_parity.py beside
  it reports the skip), instead of failing to import.
* jax_shim.py, beside this file, is imported by name: this folder goes on ``sys.path``.
* ``JAX_NUM_GENERATED_CASES`` (read when JAX's test utilities are first imported)
  is 2 unless set: each initializer record is tried on 2 of its (shape, dtype)
  cases per test, picked by JAX's own sampler, so the file runs in seconds (JAX's
  own default, 10, takes a minute on 2 cores).
* The vendored body calls ``jnp.dtype(val)`` on an array, which JAX 0.10 deprecates
  (a ``DeprecationWarning``, an error under this project's ``filterwarnings``):
  that one warning is ignored for these tests; it is JAX's test, not our code.

What still runs against JAX itself: ``testIdentity`` checks ``jax.nn.identity``,
an activation function, not an initializer; ``jax.random``, ``jax.dtypes`` and
JAX's ``JaxTestCase`` are JAX's.

The tests marked expected-different are in ``EXPECTED_DIFFERENT`` below, with their reasons.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

_VENDORED = ["nn_initializers_test.py"]
_MISSING = next((name for name in ("jax", "absl") if importlib.util.find_spec(name) is None), None)

if _MISSING is None:
    os.environ.setdefault("JAX_NUM_GENERATED_CASES", "2")
    sys.path.insert(0, str(Path(__file__).parent))

collect_ignore = ["jax_shim.py", *_VENDORED] if _MISSING is not None else []

_DEPRECATED_DTYPE_OF_ARRAY = "ignore:Implicit conversion of an array to a dtype is deprecated:DeprecationWarning"

# test name -> (reason, the exception the test fails with)
EXPECTED_DIFFERENT: dict[str, tuple[str, type[BaseException]]] = {
    "testVarianceScalingError": (
        "unit_init gives a rank-1 weight fan_in = fan_out = shape[0] under every layout (Keras's rule, docs/fans.md), "
        "so variance_scaling draws a (5,) weight where JAX raises ValueError. (The vendored message also predates "
        "JAX 0.10's wording, so the test fails against JAX 0.10 itself.) test_parity.py pins our behaviour.",
        AssertionError,
    ),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[Any]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent != here:
            continue
        if Path(str(item.fspath)).name in _VENDORED:
            item.add_marker(pytest.mark.filterwarnings(_DEPRECATED_DTYPE_OF_ARRAY))
        expected = EXPECTED_DIFFERENT.get(item.name)
        if expected is not None:
            reason, raises = expected
            item.add_marker(pytest.mark.xfail(reason=reason, raises=raises, strict=True))
