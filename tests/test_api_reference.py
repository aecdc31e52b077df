"""docs/api.md names every public name: ``unit_init.__all__`` and each adapter module's ``__all__``.

An entry is a mkdocstrings line ``::: dotted.path``; a name counts as documented
when some entry resolves (by import) to the very object the public name is, so
an entry that points at a stale or different object does not count. The adapter
modules are checked only where their framework is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import unit_init

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"
# adapter module -> the framework it imports
ADAPTERS = {"unit_init.torch": "torch", "unit_init.keras": "keras", "unit_init.jax": "jax", "unit_init.adapters.rules": None}


def _entries() -> list[str]:
    return re.findall(r"^::: ([\w.]+)\s*$", API_PAGE.read_text(encoding="utf-8"), flags=re.MULTILINE)


def _resolve(path: str) -> object:
    """Import the longest module prefix of ``path`` and walk the rest as attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(path)


def _undocumented(module: ModuleType) -> list[str]:
    documented = [_resolve(entry) for entry in _entries() if _importable(entry)]
    return [name for name in module.__all__ if not any(obj is getattr(module, name) for obj in documented)]


def _importable(entry: str) -> bool:
    framework = next((needs for prefix, needs in ADAPTERS.items() if entry.startswith(prefix + ".")), None)
    return framework is None or importlib.util.find_spec(framework) is not None


def test_every_entry_resolves() -> None:
    entries = [entry for entry in _entries() if _importable(entry)]
    assert len(entries) > len(unit_init.__all__)
    for entry in entries:
        _resolve(entry)  # raises if the page names something that does not exist


def test_api_page_names_every_name_in_unit_init_all() -> None:
    assert _undocumented(unit_init) == []


@pytest.mark.parametrize("module_name", list(ADAPTERS))
def test_api_page_names_every_adapter_name(module_name: str) -> None:
    framework = ADAPTERS[module_name]
    if framework is not None:
        pytest.importorskip(framework, reason=f"{module_name} needs {framework}")
    assert _undocumented(importlib.import_module(module_name)) == []
