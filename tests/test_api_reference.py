"""docs/api.md names every public name: ``unit_init.__all__`` and each adapter module's ``__all__``.

An entry is a mkdocstrings line ``::: dotted.path``; a name counts as documented
when some entry resolves (by import) to the very object the public name is, so
an entry that points at a stale or different object does not count. The adapter
modules are checked only where their framework is installed.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import io
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


def test_type_checking_imports_mirror_the_table() -> None:
    """``unit_init/__init__.py`` lists each public name once at run time (``_HOMES``); its TYPE_CHECKING block must agree.

    Each name is re-exported for type checkers as ``from <its home> import name as name``.
    """
    import ast

    tree = ast.parse(Path(unit_init.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    imported: dict[str, str] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        for alias in node.names:
            assert alias.asname == alias.name, f"{ast.unparse(node)}: write 'import {alias.name} as {alias.name}' to re-export it"
            imported[alias.name] = f"{node.module}.{alias.name}" if alias.name in unit_init._MODULES else str(node.module)
    assert imported == {**unit_init._HOMES, **unit_init._MODULES}
    assert unit_init.__all__ == sorted([*unit_init._HOMES, *unit_init._MODULES, "__version__"])


def test_design_sections_cited_in_the_code_exist() -> None:
    """Docstrings cite docs/design.md#anchor; each anchor must be a heading of the page."""
    root = API_PAGE.parents[1]
    headings = re.findall(r"^#{2,3} (.+)$", (root / "docs" / "design.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    anchors = {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings}
    cited = {
        (path.name, anchor)
        for path in (root / "src" / "unit_init").rglob("*.py")
        for anchor in re.findall(r"docs/design\.md#([\w-]+)", path.read_text(encoding="utf-8"))
    }
    assert len(cited) >= 5
    assert sorted(c for c in cited if c[1] not in anchors) == []
    assert not [p.name for p in (root / "src").rglob("*.py") if "CONTRACT" in p.read_text(encoding="utf-8")]


@pytest.mark.parametrize("entry", [entry for entry in _entries() if _importable(entry)])
def test_every_example_the_page_shows_runs_on_its_own_imports(entry: str) -> None:
    """The page renders docstrings, whose doctests run in their module's namespace: an example calling
    ``compute_fans(...)`` passed there and was a ``NameError`` for a reader who copied it (new-user walk)."""
    examples = doctest.DocTestFinder(recurse=True).find(_resolve(entry), entry, globs={})
    unbound = []
    for example in examples:
        example.globs = {}  # as a reader's fresh session has: only what the example imports itself
        report = io.StringIO()
        doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE).run(example, out=report.write)
        unbound += [f"{example.name}: {name}" for name in sorted(set(re.findall(r"NameError: name '(\w+)'", report.getvalue())))]
    assert unbound == []
