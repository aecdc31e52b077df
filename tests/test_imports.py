"""Lazy imports: ``import unit_init`` and numpy draws pull in no framework; missing ones fail helpfully."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

FRAMEWORKS = ("torch", "tensorflow", "jax", "keras", "flax", "matplotlib", "scipy")


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_and_numpy_draws_import_no_framework() -> None:
    code = (
        "import sys, unit_init as ui\n"
        "for name in ui.CATALOGUE: ui.get(name)((4, 4), seed=0)\n"
        "ui.serialize(ui.HeNormal()); ui.known_backends(); dir(ui)\n"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])\n"
    )
    assert run(code) == "[]"


def test_submodules_are_attributes_after_a_plain_import() -> None:
    """``ui.diagnostics``, ``ui.distributions``, ``ui.rules`` load on first use, without a framework (matplotlib included)."""
    code = (
        "import sys, unit_init as ui\n"
        "print(ui.diagnostics.EXPLODING_ABOVE, ui.distributions.Normal.__name__, ui.rules.FanScaled.__name__, "
        f"[m for m in {FRAMEWORKS!r} if m in sys.modules])\n"
    )
    assert run(code) == "100.0 Normal FanScaled []"


@pytest.mark.parametrize(("backend", "module", "extra"), [("torch", "torch", "torch"), ("tf", "tensorflow", "tensorflow"), ("jax", "jax", "jax")])
def test_missing_framework_names_the_extra(backend: str, module: str, extra: str) -> None:
    code = (
        "import sys, unit_init as ui\n"
        f"sys.modules[{module!r}] = None  # hide the framework, installed or not\n"
        "try:\n"
        f"    ui.he_normal((2, 2), backend={backend!r})\n"
        "except ui.BackendUnavailableError as error:\n"
        "    print(type(error).__mro__[2].__name__, error)\n"
    )
    output = run(code)
    assert output.startswith("ImportError")
    if module == "torch":  # the CPU build's command first: a plain pip install torch is a CUDA build of several GB
        assert "pip install torch --index-url https://download.pytorch.org/whl/cpu (the CPU build;" in output
        assert 'in a unit_init checkout, that first, then pip install -e ".[torch]"' in output  # never the extra alone
    elif module == "tensorflow":  # one build of the two: it said to install tensorflow, then the tensorflow-cpu extra (both)
        assert "pip install tensorflow-cpu, or tensorflow for its GPU build (one of the two, never both" in output
        assert 'in a unit_init checkout, pip install -e ".[tensorflow-cpu]", or ".[tensorflow]" for the GPU build' in output
    else:
        assert f'pip install {module} (or, in a unit_init checkout: pip install -e ".[{extra}]")' in output


@pytest.mark.parametrize(("adapter", "framework"), [("torch", "torch"), ("keras", "keras"), ("jax", "jax")])
def test_an_adapter_without_its_framework_names_what_to_install(adapter: str, framework: str) -> None:
    code = (
        "import sys, unit_init as ui\n"
        f"sys.modules[{framework!r}] = None  # hide the framework, installed or not\n"
        "try:\n"
        f"    import unit_init.{adapter}\n"
        "except ui.BackendUnavailableError as error:\n"
        "    print(type(error).__mro__[2].__name__, error)\n"
    )
    output = run(code)
    assert output.startswith("ImportError")
    assert f"unit_init.{adapter} needs {framework}, which is not installed: pip install {framework}" in output


def test_the_jax_adapter_needs_flax_only_for_flax_models() -> None:
    pytest.importorskip("jax")
    code = (
        "import sys, unit_init as ui\n"
        "sys.modules['flax'] = sys.modules['haiku'] = None  # hide Flax and Haiku, installed or not\n"
        "import jax, unit_init.jax\n"
        "print(unit_init.jax.initializer(ui.HeNormal())(jax.random.key(0), (3, 4)).shape)\n"
        "for call in (lambda: unit_init.jax.lsuv(object(), jax.numpy.ones((2, 3))),\n"
        "             lambda: unit_init.jax.haiku_initializer(ui.HeNormal())((3, 4))):\n"
        "    try:\n"
        "        call()\n"
        "    except ui.BackendUnavailableError as error:\n"
        "        print(error)\n"
    )
    assert run(code).splitlines() == [
        "(3, 4)",
        'unit_init.jax.lsuv needs flax, which is not installed: pip install flax (or, in a unit_init checkout: pip install -e ".[flax]").',
        "a Haiku initializer needs haiku, which is not installed: pip install dm-haiku "
        '(or, in a unit_init checkout: pip install -e ".[haiku]").',
    ]


def test_public_surface_is_locked() -> None:
    import unit_init as ui

    assert sorted(dir(ui)) == sorted(set(ui.__all__) | set(ui._SUBMODULES))
    for name in ui.__all__:
        assert hasattr(ui, name), name
    with pytest.raises(AttributeError):
        ui.not_a_name  # noqa: B018


def test_doctest_collection_skips_every_module_that_imports_a_framework() -> None:
    """The root conftest.py must list each module that imports a framework at its top, or collection fails without it."""
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    namespace: dict[str, object] = {"__file__": str(root / "conftest.py")}
    exec(compile((root / "conftest.py").read_text(), "conftest.py", "exec"), namespace)
    listed = set(namespace["_NEEDS"])  # type: ignore[arg-type]
    pattern = re.compile(r"^(?:import|from) (torch|jax|tensorflow|keras|flax)\b", re.MULTILINE)
    package = root / "src" / "unit_init"
    importing = {p.relative_to(package) for p in package.rglob("*.py") if pattern.search(p.read_text())}
    unlisted = sorted(str(p) for p in importing if not ({str(p)} | {str(parent) for parent in p.parents}) & listed)
    assert not unlisted, f"add to conftest._NEEDS: {unlisted}"


def test_keras_without_its_backend_framework_says_what_to_install() -> None:
    pytest.importorskip("keras")
    code = (
        "import os, sys, unit_init as ui\n"
        "os.environ['KERAS_BACKEND'] = 'tensorflow'\n"
        "sys.modules['tensorflow'] = None  # hide Keras's backend, installed or not\n"
        "sys.modules['torch'] = None  # and another: the message lists only the installed ones\n"
        "try:\n"
        "    import unit_init.keras\n"
        "except ui.BackendUnavailableError as error:\n"
        "    print(type(error).__mro__[2].__name__, error)\n"
    )
    output = run(code)
    assert output.startswith("ImportError unit_init.keras needs Keras's backend 'tensorflow' (KERAS_BACKEND)")
    installed = "set KERAS_BACKEND to one that is installed (jax)" if importlib.util.find_spec("jax") else "none of jax"
    assert f"pip install tensorflow, or {installed}" in output, output


def test_a_framework_another_thread_is_still_importing_is_no_models_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    """While a thread imports torch (or Keras, JAX), ``sys.modules`` holds it without ``nn`` (``layers``, ``Array``):
    ``diagnose``, ``compare`` and ``initialize`` of other inputs read those attributes and raised AttributeError."""
    import types

    import numpy as np

    import unit_init as ui

    for name in ("torch", "keras", "jax", "flax.nnx"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))  # half-imported: none of its attributes yet
    assert ui.diagnose("he_normal", depth=2, width=4, batch=2, seed=0).depth == 2
    params = ui.initialize({"w": np.zeros((3, 3), np.float32)}, {"*": ui.HeNormal()}, seed=0).params
    assert params["w"].std() > 0


def test_a_half_imported_flax_nnx_is_no_models_framework_for_jax_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    jnp = pytest.importorskip("jax.numpy")
    import unit_init as ui

    monkeypatch.setitem(sys.modules, "flax.nnx", types.ModuleType("flax.nnx"))
    params = ui.initialize({"w": jnp.zeros((3, 3))}, {"*": ui.HeNormal()}, seed=0).params
    assert float(params["w"].std()) > 0
