"""Keras's own initializer tests, read from the installed keras package and run here against ``unit_init.keras``.

Nothing of Keras is copied into this repository. At collection time this module
finds ``keras/src/initializers/{random,constant}_initializers_test.py`` inside
the installed wheel, reads each file, and replaces the few import lines that
bring in the names under test so they come from keras_shim.py (beside this
file) instead of Keras:

* ``from conftest import skip_if_backend`` (Keras's root conftest.py, which the
  wheel does not ship) becomes ``from keras_shim import skip_if_backend``;
* ``from keras.src import initializers`` becomes ``import keras_shim as initializers``;
* ``compute_fans`` comes from keras_shim.py (random_initializers_test.py only).

Every other line runs as Keras wrote it. Each edited text is compiled under the
installed file's path (tracebacks point into the wheel) and run as a new module;
its ``TestCase`` classes are bound here, so pytest collects them as
``test_keras_own.py::<Class>::<test>``. conftest.py marks the expected-different ones.

If an import line to replace is missing (a Keras release that reworded it), the
module fails to import with a message naming the file and the line, rather
than silently testing Keras itself. Without keras or scipy, or with a keras
that does not ship these files, the module is skipped with the reason.
"""

from __future__ import annotations

import sys
import types
import unittest
from pathlib import Path

import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("scipy")

# file name -> (the line as Keras writes it, the line we run instead)
SWAPS: dict[str, list[tuple[str, str]]] = {
    "random_initializers_test.py": [
        ("from conftest import skip_if_backend", "from keras_shim import skip_if_backend"),
        ("from keras.src import initializers", "import keras_shim as initializers"),
        ("from keras.src.initializers.random_initializers import compute_fans", "from keras_shim import compute_fans"),
    ],
    "constant_initializers_test.py": [
        ("from conftest import skip_if_backend", "from keras_shim import skip_if_backend"),
        ("from keras.src import initializers", "import keras_shim as initializers"),
    ],
}

HERE = Path(keras.__file__).parent / "src" / "initializers"


def _swapped(path: Path, swaps: list[tuple[str, str]]) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for old, new in swaps:
        found = [i for i, line in enumerate(lines) if line.rstrip("\r\n") == old]
        if len(found) != 1:
            msg = (
                f"{path}: expected the line {old!r} exactly once, found it {len(found)} times; "
                f"this keras ({keras.__version__}) differs from the one the swaps in {__file__} were written for"
            )
            raise RuntimeError(msg)
        lines[found[0]] = new + "\n"
    return "".join(lines)


def _load(name: str, swaps: list[tuple[str, str]]) -> types.ModuleType:
    path = HERE / name
    module = types.ModuleType(f"_keras_own_{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile(_swapped(path, swaps), str(path), "exec"), module.__dict__)
    return module


_ABSENT = [name for name in SWAPS if not (HERE / name).is_file()]
if _ABSENT:
    pytest.skip(f"keras {keras.__version__} does not ship {', '.join(_ABSENT)} under {HERE}", allow_module_level=True)


def _test_classes() -> dict[str, type[unittest.TestCase]]:
    found: dict[str, type[unittest.TestCase]] = {}
    for name, swaps in SWAPS.items():
        module = _load(name, swaps)
        found.update(
            (attr, value)
            for attr, value in vars(module).items()
            if isinstance(value, type) and issubclass(value, unittest.TestCase) and value.__module__ == module.__name__
        )
    return found


globals().update(_test_classes())
