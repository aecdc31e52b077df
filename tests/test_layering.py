"""The package's architecture: no import cycles, no upward import, frameworks only in the backends and adapters.

Every import counts, as grimp and import-linter see them: those under
``if TYPE_CHECKING:`` and those inside functions included (a type-only import
is still a dependency of the design, and a function-level one still runs).

The layers, top to bottom (pyproject.toml, ``[tool.importlinter]``, contract
``layers``; ``lint-imports`` checks it in ``nox -s lint``). A module imports
only from layers below its own; ``|`` separates independent parts of a layer,
``:`` parts that may import one another, ``( )`` a part that may be absent::

    __main__, cli               the command line
    torch | keras | jax         the adapter packages; their hooks call diagnostics.model
    diagnostics                 diagnose, compare; a user's model reaches its adapter package
                                by name, on use (diagnostics.model), never by an import
    adapters                    the framework-free adapter engine (rules, LSUV, muP, pytrees):
                                diagnostics measures a model with LSUV's std, so it sits below
    presets : serialization : functions : capabilities    the public API
    drawing                     the draw paths
    request                     one call's options, validated once
    resources : (sampling)      the memory guard, and how a law is sampled: the guard needs a
                                Backend (free memory) and the law (its temporaries), the sampler's
                                region draws ask the guard, the guard reads the sampler's blocks
    portable.stream : blocks : threefry : words : ndtri   the portable stream over a backend's xp
    backends                    one class per framework, the registry, the host's free memory
    spec                        laws, rules, fans, initializers: values, no arrays
    progress | seeds | dtypes | threads | environment
    errors

Portable streams sit above the backends: a stream computes over a backend's
namespace, and no backend routes to a stream.

One upward import is part of the design: ``Initializer.__call__`` imports
``unit_init.drawing`` when first called (``HeNormal()(shape)`` is the public
API; the draw paths type a spec by the ``request.Spec`` protocol and never
import an initializer). The layers contract ignores that import (:data:`FACADE`);
:func:`test_no_import_cycles` does not, so nothing the draw paths import may
lead back to a module that defines an initializer: a law lives in a module of
laws. The contract's other ignored imports are ``ui.mup_rules(model)`` reading
a torch or Flax nnx module through its adapter package, imported inside the
function only when such a module is passed; :func:`test_no_import_cycles`
leaves them out. import-linter fails on an ignored import that no longer
exists, so each entry is deleted when its import goes.

Frameworks (:data:`FRAMEWORKS`) are imported only in ``unit_init.backends``
and the adapter packages; matplotlib only in ``diagnostics.plotting`` and
tqdm only in ``progress`` (:data:`ONLY_IN`); ``spec`` imports no array library
and no backend. NumPy and array-api-compat are dependencies of the package and
may be imported anywhere else.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

grimp = pytest.importorskip("grimp", reason="needs import-linter (pip install -e '.[test]')")

if TYPE_CHECKING:
    from grimp import ImportGraph

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "unit_init"
FACADE = "unit_init.spec.initializer -> unit_init.drawing"
"""The one upward import of the design (see the module docstring)."""

FRAMEWORKS = frozenset({
    "torch", "tensorflow", "tf_keras", "jax", "jaxlib", "keras", "flax", "haiku", "equinox", "optax", "array_api_strict",
    "cupy", "dask", "sparse", "ndonnx", "mlx", "paddle", "mindspore",
})
FRAMEWORK_HOMES = ("unit_init.backends", "unit_init.torch", "unit_init.keras", "unit_init.jax")
ONLY_IN = {"matplotlib": ("unit_init.diagnostics.plotting",), "tqdm": ("unit_init.progress",)}
ARRAY_LIBRARIES = FRAMEWORKS | {"numpy", "array_api_compat", "ml_dtypes", "scipy"}


def _within(module: str, packages: tuple[str, ...]) -> bool:
    return any(module == package or module.startswith(f"{package}.") for package in packages)


def _importers(graph: ImportGraph, external: str) -> set[str]:
    return set(graph.find_modules_that_directly_import(external)) if external in graph.modules else set()


def _line(graph: ImportGraph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    where = ", ".join(f"l.{detail['line_number']}" for detail in details)
    return f"{importer} -> {imported} ({where})"


def misplaced_imports(graph: ImportGraph) -> list[str]:
    """Imports of a framework outside :data:`FRAMEWORK_HOMES`, or of a library of :data:`ONLY_IN` outside its modules."""
    found = [
        _line(graph, importer, framework)
        for framework in sorted(FRAMEWORKS)
        for importer in sorted(_importers(graph, framework))
        if not _within(importer, FRAMEWORK_HOMES)
    ]
    found += [
        _line(graph, importer, library)
        for library, homes in ONLY_IN.items()
        for importer in sorted(_importers(graph, library))
        if importer not in homes
    ]
    return found


def cycles(graph: ImportGraph) -> list[str]:
    """Per group of modules that reach one another (a strongly connected component), its size and a shortest cycle."""
    found, done = [], set()
    for module in sorted(m for m in graph.modules if _within(m, (PACKAGE,))):
        if module in done:
            continue
        group = ({module} | graph.find_upstream_modules(module)) & ({module} | graph.find_downstream_modules(module))
        done |= group
        if len(group) == 1:
            continue
        back = [graph.find_shortest_chain(importer=imported, imported=module)
                for imported in graph.find_modules_directly_imported_by(module) if imported in group]
        found.append(f"{len(group)} modules, e.g. " + " -> ".join((module, *min(back, key=len))))
    return found


def spec_array_imports(graph: ImportGraph) -> list[str]:
    """Imports of an array library (:data:`ARRAY_LIBRARIES`) or of the backends by ``unit_init.spec``."""
    spec = sorted(m for m in graph.modules if _within(m, ("unit_init.spec",)))
    return [
        _line(graph, importer, imported)
        for importer in spec
        for imported in sorted(graph.find_modules_directly_imported_by(importer))
        if imported in ARRAY_LIBRARIES or _within(imported, ("unit_init.backends",))
    ]


def without(graph: ImportGraph, expressions: list[str]) -> ImportGraph:
    """A copy of ``graph`` without the imports matching import-linter's ``importer -> imported`` expressions."""
    graph = copy.deepcopy(graph)
    for expression in expressions:
        for found in graph.find_matching_direct_imports(import_expression=expression):
            graph.remove_import(importer=found["importer"], imported=found["imported"])
    return graph


def _contract() -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(contract for contract in contracts if contract["id"] == "layers")


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    """The package's import graph, with external packages (as their top-level names)."""
    return grimp.build_graph(PACKAGE, include_external_packages=True, cache_dir=None)


def test_layers_contract() -> None:
    """``lint-imports``: each module imports only from the layers below its own; every module is in a layer."""
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", command, "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_portable_module_is_in_a_layer(graph: ImportGraph) -> None:
    """The contract's exhaustiveness skips ``portable`` (its ``__init__`` only re-exports): each of its modules is named instead."""
    named = {part.strip(" ()") for layer in _contract()["layers"] for part in re.split(r"[|:]", layer)}
    missing = sorted(m for m in graph.find_children("unit_init.portable") if m.removeprefix("unit_init.") not in named)
    assert not missing, f"name these in a layer of pyproject.toml's [tool.importlinter]: {missing}"


def test_no_import_cycles(graph: ImportGraph) -> None:
    """No module reaches itself: ``mup_rules``' reads of a model (the contract's other ignored imports) are taken out, the facade is not."""
    pending = [expression for expression in _contract()["ignore_imports"] if expression != FACADE]
    found = cycles(without(graph, pending))
    assert not found, "import cycles:\n" + "\n".join(found)


def test_the_facade_is_the_contracts_one_permanent_exception() -> None:
    assert FACADE in _contract()["ignore_imports"]


def test_frameworks_only_in_backends_and_adapters(graph: ImportGraph) -> None:
    found = misplaced_imports(graph)
    assert not found, "frameworks imported outside unit_init.backends and the adapter packages:\n" + "\n".join(found)


def test_spec_imports_no_array_library(graph: ImportGraph) -> None:
    found = spec_array_imports(graph)
    assert not found, "the spec layer imports arrays:\n" + "\n".join(found)


def test_the_checks_catch_planted_violations() -> None:
    """Each check finds a violation planted in a small graph, TYPE_CHECKING- or function-level alike."""
    planted = grimp.ImportGraph()
    for module in ("unit_init", "unit_init.cli", "unit_init.spec", "unit_init.spec.fans", "unit_init.diagnostics.plotting",
                   "unit_init.drawing", "torch", "matplotlib", "numpy"):
        planted.add_module(module, is_squashed=module in ("torch", "matplotlib", "numpy"))
    planted.add_import(importer="unit_init.cli", imported="unit_init.drawing", line_number=1, line_contents="")
    planted.add_import(importer="unit_init.drawing", imported="unit_init.spec.fans", line_number=2, line_contents="")
    planted.add_import(importer="unit_init.spec.fans", imported="unit_init.drawing", line_number=3, line_contents="")
    planted.add_import(importer="unit_init.drawing", imported="torch", line_number=4, line_contents="")
    planted.add_import(importer="unit_init.cli", imported="matplotlib", line_number=5, line_contents="")
    planted.add_import(importer="unit_init.diagnostics.plotting", imported="matplotlib", line_number=6, line_contents="")
    planted.add_import(importer="unit_init.spec.fans", imported="numpy", line_number=7, line_contents="")

    assert cycles(planted) == ["2 modules, e.g. unit_init.drawing -> unit_init.spec.fans -> unit_init.drawing"]
    assert cycles(without(planted, ["unit_init.spec.* -> unit_init.drawing"])) == []
    assert misplaced_imports(planted) == ["unit_init.drawing -> torch (l.4)", "unit_init.cli -> matplotlib (l.5)"]
    assert spec_array_imports(planted) == ["unit_init.spec.fans -> numpy (l.7)"]
