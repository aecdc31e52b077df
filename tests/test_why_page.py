"""docs/why-initialization.md states what docs/why/results.json holds, and the results tell the page's story.

The page, its figures and results.json are written together by
``python docs/why_initialization.py`` (run by ``nox -s docs``); these tests
fail when one of them is edited by hand, when the script's settings change
without a rerun, or when a rerun stops showing what the page's prose says.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import unit_init as ui

SCRIPT = Path(__file__).parents[1] / "docs" / "why_initialization.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("why_initialization", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


why = _load_script()


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return why.from_json(json.loads(why.RESULTS.read_text(encoding="utf-8")))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def page() -> str:
    return why.PAGE.read_text(encoding="utf-8")  # type: ignore[no-any-return]


def _final(results: dict[str, Any], label: str) -> list[float]:
    """The final test accuracy of ``label`` in every framework and activation."""
    return [per[label]["test_accuracy"][-1] for runs in results["runs"].values() for per in runs.values()]


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_page_table_is_results_json(results: dict[str, Any], page: str) -> None:
    block = page.split(why.TABLE_START, 1)[1].split(why.TABLE_END, 1)[0].strip()
    assert block == why.accuracy_table(results)
    header, _, *rows = (_cells(line) for line in block.splitlines())
    assert [row[0] for row in rows] == list(why.INITIALIZERS)
    for framework, per_activation in results["runs"].items():
        for activation, runs in per_activation.items():
            column = header.index(f"{framework} {activation}")
            for row, label in zip(rows, why.INITIALIZERS, strict=True):
                stated, _, mark = row[column].partition(" ")
                assert float(stated) == pytest.approx(100 * runs[label]["test_accuracy"][-1], abs=0.05)
                assert (mark == "†") == math.isnan(runs[label]["train_loss"][-1])


def test_page_is_the_template_filled_from_results(results: dict[str, Any], page: str) -> None:
    assert page == why.write_page(results, why.TEMPLATE.read_text(encoding="utf-8"))
    assert f"**Seed: {results['seed']}**" in page
    assert why.versions_line(results) in page


def test_results_were_made_with_the_scripts_settings(results: dict[str, Any]) -> None:
    config = results["config"]
    assert results["seed"] == why.SEED
    assert config["layers"] == [64, *why.HIDDEN, 10]
    assert (config["epochs"], config["batch"]) == (why.EPOCHS, why.BATCH)
    assert config["optimizer"] == f"SGD(learning_rate={why.LEARNING_RATE}, momentum={why.MOMENTUM})"
    assert config["initializers"] == {label: repr(spec) for label, spec in why.INITIALIZERS.items()}
    assert list(results["runs"]) == list(why.FRAMEWORKS)
    for per_activation in results["runs"].values():
        assert list(per_activation) == list(why.ACTIVATIONS)
        for runs in per_activation.values():
            assert list(runs) == list(why.INITIALIZERS)
            for run in runs.values():
                assert len(run["train_loss"]) == len(run["test_accuracy"]) == why.EPOCHS + 1
                assert len(run["activation_std"]) == len(why.HIDDEN) + 1


def test_every_figure_the_page_shows_exists(page: str) -> None:
    figures = re.findall(r"\]\((why/[^)]+\.png)\)", page)
    assert len(figures) == 6
    for figure in figures:
        path = why.DOCS / figure
        assert path.is_file(), figure
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 400_000, f"{figure}: {path.stat().st_size} bytes"


def test_results_tell_the_pages_story(results: dict[str, Any]) -> None:
    """Each bullet of "What the run shows", checked against the numbers."""
    log10 = math.log(10)
    for label in ("zeros", "N(0, 0.01)"):  # stay at chance, loss at ln 10
        assert all(abs(a - 0.1) < 0.03 for a in _final(results, label)), label
        for per_activation in results["runs"].values():
            for runs in per_activation.values():
                assert runs[label]["train_loss"][-1] == pytest.approx(log10, abs=0.01), label
    trained = _final(results, "Glorot uniform") + _final(results, "He normal")
    assert min(trained) > 0.9
    others = [a for label in ("zeros", "N(0, 0.01)", "N(0, 1)") for a in _final(results, label)]
    assert min(trained) > max(others)
    for per_activation in results["runs"].values():
        relu, tanh = per_activation["relu"]["N(0, 1)"], per_activation["tanh"]["N(0, 1)"]
        assert math.isnan(relu["train_loss"][1])  # overflowed within the first epoch
        assert relu["activation_std"][-1] > 1e4  # logits in the tens of thousands
        assert 0.2 < tanh["test_accuracy"][-1] < min(trained) - 0.1  # trains, clearly worse
        assert all(0.9 < s < 1 for s in tanh["activation_std"][:-1])  # saturated at ±1
        for activation in why.ACTIVATIONS:
            assert 1e-7 < per_activation[activation]["N(0, 0.01)"]["activation_std"][-1] < 1e-4  # logits ~1e-5
            for label in ("Glorot uniform", "He normal"):
                assert all(0.1 < s < 10 for s in per_activation[activation][label]["activation_std"])
            assert all(s == 0 for s in per_activation[activation]["zeros"]["activation_std"])


@pytest.mark.parametrize(
    ("activation", "verdicts"),
    [
        ("relu", ["symmetric", "vanishing", "exploding", "stable", "stable"]),
        ("tanh", ["symmetric", "vanishing", "stable", "stable", "stable"]),
    ],
)
def test_synthetic_verdicts_are_the_pages(activation: str, verdicts: list[str]) -> None:
    """The page says ``ui.compare`` calls saturated N(0, 1) under tanh ``stable`` at this depth."""
    comparison = ui.compare(
        list(why.INITIALIZERS.values()),
        activation=activation,
        depth=len(why.HIDDEN) + 1,
        width=why.HIDDEN[0],
        seed=why.SEED,
    )
    assert [report.verdict for report in comparison.reports] == verdicts
