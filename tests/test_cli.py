"""The ``unit-init`` command line, end to end in a subprocess (``python -m unit_init``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from unit_init import CATALOGUE, EXTRAS
from unit_init.cli import main

NETWORK = ["--depth", "20", "--width", "64", "--batch", "32"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "unit_init", *args], capture_output=True, text=True, timeout=120, check=False)


def test_list_prints_the_catalogue_with_formulas() -> None:
    result = _run("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "parameters", "formula"]
    he = next(line for line in lines if line.startswith("he_normal "))
    assert "Var = 2 / fan_in" in he
    assert len(lines) == 2 + len(CATALOGUE) + len(EXTRAS)


def test_show_gives_fans_variance_and_distribution() -> None:
    result = _run("show", "variance_scaling:scale=2,mode=fan_out", "--shape", "128", "64", "3", "3", "--layout", "torch")
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines() if line[:1].isalpha() and " " in line)
    assert rows["fan_in"].strip() == "576"
    assert rows["fan_out"].strip() == "1152"
    assert float(rows["variance"]) == pytest.approx(2 / 1152, rel=1e-5)
    assert rows["distribution"].startswith("TruncatedNormal(")


def test_sample_compares_sample_and_expected_moments() -> None:
    result = _run("sample", "he_uniform", "512", "256", "--seed", "1", "--dtype", "float64")
    assert result.returncode == 0, result.stderr
    assert "shape (512, 256), dtype float64, device cpu, backend numpy" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[3:7]}
    sample, expected = (float(v) for v in rows["std"])
    assert sample == pytest.approx(expected, rel=0.01)


def test_sample_on_torch() -> None:
    pytest.importorskip("torch")
    result = _run("sample", "random_normal:stddev=0.01", "64", "64", "--backend", "torch", "--dtype", "bfloat16")
    assert result.returncode == 0, result.stderr
    assert "dtype bfloat16" in result.stdout
    assert "backend torch" in result.stdout


def test_diagnose_json_and_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = tmp_path / "he.png"
    result = _run("diagnose", "he_normal", *NETWORK, "--json", "--plot", str(figure))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "stable"
    assert report["depth"] == 20
    assert len(report["activation_std"]) == 20
    assert figure.stat().st_size > 1000


def test_diagnose_table() -> None:
    result = _run("diagnose", "random_normal:stddev=0.01", "--activation", "tanh", *NETWORK)
    assert result.returncode == 0, result.stderr
    assert "verdict: vanishing" in result.stdout
    assert len([line for line in result.stdout.splitlines() if line.strip()[:2].strip().isdigit()]) == 20


def test_compare_default_set_json(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    figure = tmp_path / "compare.svg"
    result = _run("compare", *NETWORK, "--json", "--plot", str(figure))
    assert result.returncode == 0, result.stderr
    verdicts = [report["verdict"] for report in json.loads(result.stdout)["reports"]]
    assert verdicts == ["symmetric", "vanishing", "exploding", "vanishing", "stable", "vanishing"]
    assert figure.stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "he_nromal"], "Did you mean 'he_normal'"),
        (["diagnose", "he_normal", "--activation", "relo"], "invalid choice: 'relo'"),
        (["diagnose", "he_normal", "--depth", "0"], "'0' is not a positive integer"),
        (["diagnose", "random_normal:stdev=1"], "Did you mean 'stddev'"),
        (["sample", "he_normal", "-3"], "negative dimension"),
        (["sample", "he_normal", "4", "--dtype", "int32"], "needs a float dtype"),
        (["sample", "he_normal", "4", "--backend", "nope"], "backend='nope' is not known"),
        (["compare", "he_normal", "--plot", "out.pdf"], ".png or .svg"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_and_status_2(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "zeros", "he_normal", "--depth", "3", "--width", "8", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "symmetric" in out
    assert "stable" in out
    assert main(["--help"]) == 0
    assert main(["show", "identity", "--shape", "3"]) == 2
    assert "rank 2" in capsys.readouterr().err
