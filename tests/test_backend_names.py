"""Backend names import only known backends (issue 15, item 4; docs/backends/index.md).

A name may import a built-in backend, an entry-point plugin or one of the
Array-API libraries in ``ARRAY_API_LIBRARIES``; any other name is refused
before any import, through every way a name arrives: ``backend=``,
``use_backend``, ``UNIT_INIT_BACKEND`` and the CLI's ``--backend``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import unit_init as ui
from unit_init.backends.registry import ARRAY_API_LIBRARIES, get_backend

# A module whose top level leaves a marker file: it must never run.
_TRAP = "import pathlib, os\npathlib.Path(os.environ['UNIT_INIT_TRAP_MARKER']).write_text('imported')\n"
_HOSTILE_NAMES = ["json", "antigravity", "this", "unit_init_trap", "os.path", "unit_init_trap.sub", "", "a" * 100_000, "json\x00"]


@pytest.fixture
def trap(tmp_path: Path) -> dict[str, str]:
    """An environment whose ``sys.path`` holds ``unit_init_trap`` and whose marker path is ``UNIT_INIT_TRAP_MARKER``."""
    (tmp_path / "unit_init_trap.py").write_text(_TRAP)
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", "UNIT_INIT_TRAP_MARKER": str(tmp_path / "marker")}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **env})


def test_unknown_names_import_nothing(trap: dict[str, str]) -> None:
    code = f"""
        import json as _json, sys
        import unit_init as ui
        from unit_init.drawing import draw  # everything a draw needs, imported before the count
        ui.zeros((1,))
        try:  # the entry points of plugin backends read once (importlib.metadata's own imports), before the count
            ui.zeros((1,), backend="no_such_backend")
        except ui.BackendError:
            pass
        report = {{}}
        for name in {_HOSTILE_NAMES!r}:
            before = set(sys.modules)
            outcome = []
            for attempt in (lambda: ui.he_normal((2, 2), backend=name), lambda: ui.use_backend(name).__enter__()):
                try:
                    attempt()
                    outcome.append("accepted")
                except ui.BackendError as error:
                    outcome.append(type(error).__name__ if len(str(error)) < 2000 else "long message")
                except BaseException as error:
                    outcome.append("untyped " + type(error).__name__)
            report[name[:20]] = [outcome, sorted(set(sys.modules) - before)]
        print(_json.dumps(report))
    """
    result = _python(code, trap)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {name[:20]: [["BackendError", "BackendError"], []] for name in _HOSTILE_NAMES}
    assert not Path(trap["UNIT_INIT_TRAP_MARKER"]).exists()


@pytest.mark.parametrize("way", ["env", "cli"])
def test_env_and_cli_names_import_nothing(trap: dict[str, str], way: str) -> None:
    if way == "env":
        result = _python("import unit_init as ui\nui.he_normal((2, 2))", {**trap, "UNIT_INIT_BACKEND": "unit_init_trap"})
        assert "BackendError" in result.stderr
    else:
        result = subprocess.run(
            [sys.executable, "-m", "unit_init", "sample", "he_normal", "4", "4", "--backend", "unit_init_trap"],
            capture_output=True, text=True, timeout=120, check=False, env={**os.environ, **trap},
        )
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
    assert "not a known backend name" in result.stderr
    assert not Path(trap["UNIT_INIT_TRAP_MARKER"]).exists()


def test_the_message_lists_known_names_and_the_closest() -> None:
    with pytest.raises(ui.BackendError, match=r"known: .*array_api_strict.*numpy.*Did you mean 'tensorflow'\?"):
        ui.zeros((2,), backend="tensorflw")
    with pytest.raises(ui.BackendError, match=r"module object \(backend=xp\)"):
        ui.zeros((2,), backend="json")


def test_a_huge_name_is_quoted_short() -> None:
    with pytest.raises(ui.BackendError) as caught:
        ui.zeros((2,), backend="x" * 10**6)
    assert len(str(caught.value)) < 1000


@pytest.mark.parametrize("value", [3, 10**5000, b"numpy", ["numpy"]], ids=["int", "huge-int", "bytes", "list"])
def test_a_backend_that_is_not_a_name_is_refused(value: object) -> None:
    with pytest.raises(ui.BackendError, match="must be a name, a module or None"):
        get_backend(value)


def test_known_array_api_names_and_module_objects_work() -> None:
    xp = pytest.importorskip("array_api_strict")
    by_name = get_backend("array_api_strict")
    assert get_backend(xp) is by_name
    assert by_name.name == "array_api_strict"
    assert get_backend("array_api_compat.numpy") is get_backend("numpy")


def test_a_module_that_is_not_a_namespace_is_refused() -> None:
    with pytest.raises(ui.BackendError, match="not an Array-API namespace"):
        get_backend(json)


def test_a_known_library_that_is_missing_says_what_to_install() -> None:
    missing = [name for name in ARRAY_API_LIBRARIES if importlib.util.find_spec(name.split(".")[0]) is None]
    if not missing:
        pytest.skip("every known Array-API library is installed")
    with pytest.raises(ui.BackendUnavailableError, match=r"pip install"):
        get_backend(missing[0])


def test_every_known_name_is_listed() -> None:
    assert set(ARRAY_API_LIBRARIES) <= set(ui.known_backends())
    assert {"numpy", "torch", "tensorflow", "tf", "jax"} <= set(ui.known_backends())


class _Raises:
    def __array_namespace__(self, api_version: object = None) -> object:
        raise RuntimeError("no namespace today")


class _NotAModule:
    def __array_namespace__(self, api_version: object = None) -> object:
        return 42


class _NotArrayApi:
    def __array_namespace__(self, api_version: object = None) -> object:
        return json


@pytest.mark.parametrize(
    ("like", "said"),
    [
        (_Raises(), r"not an array of a known backend or of any Array-API library \(its __array_namespace__ raised RuntimeError\)"),
        (_NotAModule(), "not an array of a known backend"),
        (_NotArrayApi(), r"whose __array_namespace__\(\) gives <module 'json'.*not an Array-API namespace"),
    ],
)
def test_like_an_object_with_a_hostile_array_namespace_is_a_backend_error_about_like(like: object, said: str) -> None:
    with pytest.raises(ui.BackendError, match=f"like= got a .*{said}"):
        ui.zeros((2,), like=like)
