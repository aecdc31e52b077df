"""In a real Jupyter kernel: reports and comparisons display as a table and a figure; plot() returns a Figure.

The notebook is built with nbformat and executed with nbclient on a kernel
spec written to a temporary ``JUPYTER_PATH`` that runs this interpreter's
ipykernel, so the test uses the environment under test and no user-level
kernel. Needs the ``notebook`` and ``plot`` extras.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebook extra is not installed (nbformat)")
nbclient = pytest.importorskip("nbclient", reason="the notebook extra is not installed (nbclient)")
pytest.importorskip("ipykernel", reason="the notebook extra is not installed (ipykernel)")
pytest.importorskip("matplotlib", reason="the plot extra is not installed (matplotlib)")

pytestmark = pytest.mark.xdist_group("notebook")  # one kernel for the whole module under xdist

KERNEL = "unit-init-test"
SMALL = 'activation="relu", depth=8, width=32, batch=16'
CELLS = {
    "compare": f'import unit_init as ui\nui.compare(["glorot_normal", "lecun_normal", "he_normal"], {SMALL})',
    "diagnose": f'report = ui.diagnose("he_normal", {SMALL})\nreport',
    "plot": "figure = report.plot()\nprint(type(figure).__module__, type(figure).__name__)\nfigure",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """The outputs of each cell of :data:`CELLS`, run in a fresh kernel of this interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS.values()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(root))
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core warns unless the new paths are chosen
        nbclient.NotebookClient(notebook, kernel_name=KERNEL, timeout=120, resources={"metadata": {"path": str(Path.cwd())}}).execute()
    return {name: cell.outputs for name, cell in zip(CELLS, notebook.cells, strict=True)}


def _result(cell_outputs: list[Any]) -> dict[str, Any]:
    results = [output["data"] for output in cell_outputs if output["output_type"] == "execute_result"]
    assert len(results) == 1, cell_outputs
    data: dict[str, Any] = results[0]
    return data


def _assert_png(data: dict[str, Any]) -> None:
    assert base64.b64decode(data["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_displays_a_table_and_a_figure(outputs: dict[str, list[Any]]) -> None:
    data = _result(outputs["compare"])
    html = data["text/html"]
    assert "<table>" in html
    assert all(f">{name}</td>" in html for name in ("glorot_normal", "lecun_normal", "he_normal"))
    assert ">stable</td>" in html
    assert '<img src="data:image/png;base64,' in html  # the figure inside the HTML, which a notebook shows
    _assert_png(data)  # and alone, for frontends without HTML
    assert data["text/plain"].startswith("<Comparison relu, depth 8")


def test_diagnose_displays_its_tables_and_figure(outputs: dict[str, list[Any]]) -> None:
    data = _result(outputs["diagnose"])
    assert "verdict: <strong>stable</strong>" in data["text/html"]
    assert data["text/html"].count("<table>") == 2  # the ratios and the folded per-layer table
    assert "<details>" in data["text/html"]
    _assert_png(data)


def test_plot_returns_a_figure_that_displays_inline(outputs: dict[str, list[Any]]) -> None:
    printed = "".join(output["text"] for output in outputs["plot"] if output["output_type"] == "stream")
    assert printed.strip() == "matplotlib.figure Figure"
    _assert_png(_result(outputs["plot"]))
