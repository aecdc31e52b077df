"""Every fenced Python block in docs/**/*.md and README.md runs.

* A block with ``>>>`` prompts is a doctest. pytest collects every page under
  docs/ (``--doctest-glob=*.md``; the root conftest.py leaves out pages whose
  framework is missing), so here it is only checked that such a block starts
  with a prompt (code before the first ``>>>`` would be read as nothing) and
  that its page is collected; README.md is not under docs/, so its doctest
  blocks, if any, are run here.
* Every other ``python`` block is executed: a page's blocks in order, in one
  namespace, in a fresh interpreter (a page may set ``KERAS_BACKEND`` or
  ``XLA_FLAGS`` before importing a framework, as docs/adapters/keras.md does).

The one hardware exception: a block asking for ``device="cuda"`` (the first
example of README.md and docs/index.md) runs with ``device="cpu"`` where no
CUDA device is present, so the rest of the line is still checked.
"""

from __future__ import annotations

import doctest
import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)
# pages with plain blocks -> the frameworks those blocks import (a missing one skips, as conftest.py does for doctests)
PLAIN_NEEDS = {
    "README.md": ("torch", "jax", "tensorflow"),
    "docs/index.md": ("torch", "jax", "tensorflow"),
    "docs/backends/torch.md": ("torch",),
    "docs/adapters/torch.md": ("torch",),
    "docs/backends/jax.md": ("jax",),
    "docs/adapters/keras.md": ("keras", "jax"),
}
RUNNER = """
import json, sys
namespace = {"__name__": "__main__"}
for where, source in json.load(sys.stdin):
    exec(compile(source, where, "exec"), namespace)
"""


def _blocks(page: Path) -> list[tuple[int, str]]:
    """The ``python`` blocks of ``page`` as (line number, source)."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, match.start()) + 2, match.group(2))
            for match in FENCE.finditer(text) if match.group(1) in ("python", "py", "pycon")]


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _is_doctest(source: str) -> bool:
    return ">>>" in source


@functools.cache
def _cuda_present() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return bool(torch.cuda.is_available())


def _for_this_machine(source: str) -> str:
    return source if _cuda_present() else source.replace('device="cuda"', 'device="cpu"')


def test_every_page_with_python_blocks_is_found() -> None:
    pages = [_name(page) for page in PAGES if _blocks(page)]
    assert {"README.md", "docs/getting-started.md", "docs/catalogue.md", "docs/adapters.md"} <= set(pages)
    assert set(PLAIN_NEEDS) <= set(pages)


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_doctest_blocks_start_with_a_prompt_and_are_collected(page: Path) -> None:
    doctests = [(line, source) for line, source in _blocks(page) if _is_doctest(source)]
    for line, source in doctests:
        assert source.lstrip().startswith(">>>"), f"{_name(page)}:{line}: code before the first >>> is not run"
    if page.is_relative_to(DOCS) or not doctests:
        return  # pytest's --doctest-glob collects the pages under docs/
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    test = parser.get_doctest("\n".join(source for _, source in doctests), {}, _name(page), str(page), 0)
    assert runner.run(test).failed == 0


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_doctest_compound_statements_end_as_a_repl_needs(page: Path) -> None:
    """A ``class``, ``def``, ``with`` or decorated block ends with a bare ``...`` line before the next ``>>>``: doctest runs
    it without one, but pasted into Python's REPL the next statement was a ``SyntaxError`` (a new user's walk)."""
    for line, source in _blocks(page):
        lines = source.split("\n")
        for i, text in enumerate(lines):
            if not (text.startswith(">>> ") and (text.rstrip().endswith(":") or text.startswith(">>> @"))):
                continue
            end = next((j for j in range(i + 1, len(lines)) if not lines[j].startswith("...")), len(lines))
            unterminated = lines[end - 1].rstrip() != "..." and end < len(lines) and lines[end].startswith(">>> ")
            assert not unterminated, f"{_name(page)}:{line + i}: add a bare '...' line after this block"


@pytest.mark.parametrize("page", [ROOT / name for name in PLAIN_NEEDS], ids=_name)
def test_plain_python_blocks_run(page: Path) -> None:
    for module in PLAIN_NEEDS[_name(page)]:
        pytest.importorskip(module, reason=f"{_name(page)} needs {module}")
    blocks = [(f"{_name(page)}:{line}", _for_this_machine(source))
              for line, source in _blocks(page) if not _is_doctest(source)]
    assert blocks, f"{_name(page)} has no plain python block left: remove it from PLAIN_NEEDS"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(blocks), cwd=ROOT, env=environment,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-4000:]


def test_no_other_page_has_plain_python_blocks() -> None:
    plain = {_name(page) for page in PAGES for _, source in _blocks(page) if not _is_doctest(source)}
    assert plain == set(PLAIN_NEEDS), "add the page to PLAIN_NEEDS (its blocks then run) or make its blocks doctests"
