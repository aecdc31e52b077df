"""docs/catalogue.md's "which peers have it" table is what docs/catalogue_table.py writes, and covers every initializer.

With ``UNIT_INIT_WRITE_DOCS=1`` the test rewrites the page; otherwise (with
every peer installed) it checks the committed page. The rows' coverage of
``ui.CATALOGUE`` is checked without any peer.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

import unit_init as ui

SCRIPT = Path(__file__).parents[1] / "docs" / "catalogue_table.py"
PEER_PACKAGES = ("torch", "keras", "jax", "flax", "haiku", "tensorflow")


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("catalogue_table", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


table = _load_script()


def test_every_catalogue_name_has_a_row() -> None:
    missing = [name for name in ui.CATALOGUE if name not in table.ROWS]
    assert not missing, f"docs/catalogue_table.py has no row for {missing}"


def test_every_registered_name_has_a_row_or_is_an_alias_of_one() -> None:
    problems = [p for p in _registry_problems() if "has no row" in p]
    assert not problems, problems


def _registry_problems() -> list[str]:
    names = table.registered()
    covered = {alias for group in table._aliases(names).values() for alias in group}
    return [f"{name!r} has no row" for name in names if name not in table.ROWS and name not in covered]


def _needs_every_peer() -> None:
    missing = [name for name in PEER_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"the table introspects every peer; missing: {', '.join(missing)}")


def test_the_committed_table_is_generated() -> None:
    _needs_every_peer()
    problems = table.check()
    assert not problems, "\n".join(problems)
    text = table.page(table.PAGE.read_text(encoding="utf-8"))
    if os.environ.get("UNIT_INIT_WRITE_DOCS") == "1":
        table.PAGE.write_text(text, encoding="utf-8")
        return
    assert table.PAGE.read_text(encoding="utf-8") == text, "docs/catalogue.md's peers table is stale: run python docs/catalogue_table.py"


def test_a_row_naming_a_missing_peer_function_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    _needs_every_peer()
    monkeypatch.setitem(table.ROWS, "zeros", table.Row("0", "—", {"torch": ("zeros_", "no_such_init_")}))
    problems = table.check()
    assert "zeros: torch has no 'no_such_init_'" in problems
    assert "torch has 'ones_', which no row lists" not in problems
    monkeypatch.delitem(table.ROWS, "ones")
    assert "torch has 'ones_', which no row lists" in table.check()
