"""The ``unit-init`` command line, end to end in a subprocess (``python -m unit_init``)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import unit_init.cli
from unit_init import __version__
from unit_init import errors as ui_errors
from unit_init.cli import NAME_SYNTAX, RANGES, main
from unit_init.diagnostics.specs import label, parse
from unit_init.serialization import NAMED
from unit_init.spec.peers import STFT

NETWORK = ["--depth", "20", "--width", "64", "--batch", "32"]


def _run(*args: str, env: dict[str, str] | None = None, memory: int | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m unit_init ARGS`` with ``env`` added to the environment and at most ``memory`` bytes of address space.

    The child sets its own limit before running the CLI (a ``preexec_fn`` would fork this
    process, which JAX, once imported by another test, warns against).
    """
    limit = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory})); " if memory else ""
    code = f"{limit}import runpy, sys; sys.argv = ['unit-init', *sys.argv[1:]]; runpy.run_module('unit_init', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, **(env or {})},
    )


def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list_prints_the_catalogue_with_formulas() -> None:
    result = _run("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "parameters", "formula"]
    he = next(line for line in lines if line.startswith("he_normal "))
    assert "Var = 2 / fan_in" in he
    assert [line.split()[0] for line in lines[2:]] == list(NAMED)  # every name NAME accepts, once


def test_a_formula_is_its_whole_first_paragraph() -> None:
    """A summary wrapped over two docstring lines is printed whole, not cut at the first line's end."""
    result = _run("show", "small_init")
    formula = next(line for line in result.stdout.splitlines() if line.startswith("formula: "))
    assert formula.endswith("projection: give d there).")
    assert formula.count("(") == formula.count(")")


@pytest.mark.parametrize(
    ("shell", "status", "error"),
    [
        ("> /dev/full", 2, "unit-init list: error: the output could not be written (No space left on device)"),
        (">&-", 2, "unit-init list: error: the output could not be written (standard output is closed)"),
        ("| head -n 1", 0, ""),  # a reader that leaves early is no error
    ],
    ids=["full disk", "closed", "early reader"],
)
@pytest.mark.parametrize("arguments", ["list", "--version", "--help", "list --help"])
def test_output_that_cannot_be_written_is_one_line_and_status_2(arguments: str, shell: str, status: int, error: str) -> None:
    """Also argparse's own output, which it would drop (``> /dev/full``: status 0) or write to stderr (closed)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    command = f"{sys.executable} -m unit_init {arguments} {shell}; exit ${{PIPESTATUS[0]}}"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120, check=False)
    if arguments != "list":
        error = error.replace("unit-init list:", "unit-init:")
    assert (result.returncode, result.stderr.strip()) == (status, error)


REQUIRED = {"sparse": "sparsity=0.5", "scaled_residual": "n_layer=12", "wang_init": "n_layer=4", "fixup": "n_branches=8",
            "t_fixup": "n_layer=6", "t_fixup_embedding": "n_layer=6", "deepnorm": "encoder_layers=6"}


def test_a_constant_array_of_one_number_prints_as_text_that_parses_back(capsys: pytest.CaptureFixture[str]) -> None:
    """ConstantArray, known by its class name only, is labelled by it (its repr could not be pasted back)."""
    for text in ("ConstantArray:value=3", "ConstantArray:value=-0.5"):
        assert label(parse(text)) == text
    assert label(parse("ConstantArray")) == "ConstantArray"
    assert _main(capsys, "sample", "ConstantArray:value=3", "2", "2")[1].startswith("ConstantArray:value=3: shape (2, 2)")


@pytest.mark.parametrize("name", list(NAMED))
def test_every_name_prints_as_text_that_parses_back(name: str) -> None:
    """A report's name for any spec NAME accepts is NAME text again: ``parse(label(spec)) == spec``."""
    text = f"{name}:{REQUIRED[name]}" if name in REQUIRED else name
    spec = parse(text)
    assert parse(label(spec)) == spec, label(spec)
    if name in REQUIRED:
        with pytest.raises(ui_errors.ParameterError, match=f"needs {REQUIRED[name].split('=')[0]}"):
            parse(name)


def test_a_bool_parameter_prints_as_text_that_parses_back() -> None:
    """``label`` wrote ``stft:periodic=True``, which ``parse`` read as the text 'True' and refused (helper 166)."""
    for periodic in (True, False):
        spec = STFT(periodic=periodic)
        assert parse(label(spec)) == spec, label(spec)
    assert parse("stft:periodic=false") == STFT(periodic=False)
    assert parse("stft:periodic=TRUE") == STFT(periodic=True)


def test_show_gives_fans_variance_and_distribution() -> None:
    result = _run("show", "variance_scaling:scale=2,mode=fan_out", "--shape", "128", "64", "3", "3", "--layout", "torch")
    assert result.returncode == 0, result.stderr
    rows = dict(line.split(None, 1) for line in result.stdout.splitlines() if line[:1].isalpha() and " " in line)
    assert rows["fan_in"].strip() == "576"
    assert rows["fan_out"].strip() == "1152"
    assert float(rows["variance"]) == pytest.approx(2 / 1152, rel=1e-5)
    assert rows["distribution"].startswith("TruncatedGaussian(")


def test_show_says_a_fan_below_one_counts_as_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _main(capsys, "show", "he_normal", "0", "5")
    assert code == 0
    assert out.rstrip().endswith("(a fan below 1 counts as 1 in the variance: docs/fans.md)")
    assert "counts as 1" not in _main(capsys, "show", "he_normal", "4", "5")[1]


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


def test_sample_on_array_api_strict(capsys: pytest.CaptureFixture[str]) -> None:
    """The last piece was sliced past the end, which array_api_strict refuses (a traceback, exit status 1)."""
    pytest.importorskip("array_api_strict")
    assert unit_init.cli.main(["sample", "he_normal", "256", "128", "--backend", "array_api_strict", "--seed", "0"]) == 0
    assert "backend array_api_strict" in capsys.readouterr().out


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
    table = _run("diagnose", "he_normal", *NETWORK, "--plot", str(figure))  # the table's stdout is the table alone
    assert "plot saved" not in table.stdout
    assert f"plot saved to {figure}" in table.stderr


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
        (["diagnose", "he_normal", "--depth", "0"], "'0' is not an integer"),
        (["diagnose", "random_normal:stdev=1"], "Did you mean 'stddev'"),
        (["sample", "he_normal", "-3"], "(-3,)"),
        (["sample", "he_normal", "4", "--dtype", "int32"], "needs a float dtype"),
        (["sample", "he_normal", "4", "--backend", "nope"], "backend='nope' is not a known backend name"),
        (["sample", "he_normal"], "a shape is required"),
        (["sample", "he_normal", "4", "--shape", "5"], "given twice and differently, as 4 and as --shape 5"),
        (["show", "he_normal", "4", "4", "--shape", "4", "4", "1"], "given twice and differently"),
        (["sample", "he_normal", str(10**20), str(10**20)], "more than any array can hold"),
        (["diagnose", "he_normal", "--width", str(10**12)], "is not an integer in [2, 100000]"),
        (["sample", "he_normal", "4.5"], "invalid int value: '4.5'"),
        (["compare", "he_normal", "--plot", "out.pdf"], "unit-init compare: --plot out.pdf: give a file name ending in .png or .svg"),
        (["diagnose", "he_normal", "--plot", ""], "unit-init diagnose: --plot '': give a file name ending in .png or .svg"),  # was no figure, status 0
        (["diagnose", "he_normal", "--plot", " "], "unit-init diagnose: --plot ' ': give a file name ending in .png or .svg"),
        (["diagnose", "he_normal", "--plot", "/tmp/"], "unit-init diagnose: --plot /tmp/: give a file name ending in .png or .svg"),
        (["diagnose", "he_normal", "--plot", "a" * 300 + ".png"], "cannot write there (File name too long)"),  # was an OSError
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND, one of list, show, sample, diagnose, compare (unit-init --help"),  # argparse's named none (170)
        (["diagnose", "he_normal", "--depth", "1000000000"], "'1000000000' is not an integer in [1, 10000]"),
        (["diagnose", "he_normal", "--depth", "10001"], "[1, 10000]"),
        (["compare", "--width", "100001"], "[2, 100000]"),
        (["compare", "--batch", "1"], "'1' is not an integer in [2, 100000]"),
        (["diagnose", "he_normal", "--batch", "many"], "'many' is not an integer"),
        (["diagnose", "he_normal", "--depth", "²"], "'²' is not an integer"),
        (["sample", "he_normal", "4", "--seed", "-1"], "'-1' is not an integer in [0, 9223372036854775807]"),
        (["sample", "he_normal", "4", "--seed", "9" * 5000], "'99999999"),
        (["diagnose", "he_normal", "--activation-param", "nan"], "'nan' is not a finite number"),
        (["diagnose", "he_normal", "--activation-param", "-inf"], "'-inf' is not a finite number"),  # was "expected one argument"
        (["diagnose", "he_normal", "--plot", "no/such/directory/he.png"], "--plot no/such/directory/he.png: cannot write there (No such file or directory)"),
        (["diagnose", "he_normal", "--plot", "/proc/he.png"], "--plot /proc/he.png: cannot write there"),
        (["diagnose", "he_normal", "--plot", "/etc/hostname/he.png"], "cannot write there (Not a directory)"),
        (["compare", "--plot", "/tmp/unit_init_a_directory.png"], "cannot write there (Is a directory)"),
        (["show", "random_normal:seed=" + "9" * 5000], "is beyond float64's range"),  # was read as seed=inf
        (["show", "random_normal:stddev=1e400"], "stddev='1e400' is beyond float64's range"),
        (["sample", "random_normal:stddev=1e-400", "2", "2"], "stddev='1e-400' is below float64's smallest magnitude"),  # drew zeros
        (["show", "variance_scaling:scale=1e-400"], "scale='1e-400' is below"),  # quoted scale=0.0, a value never typed
        (["show", "random_normal:stddev=1e-9999999999999999999999"], "is below float64's smallest magnitude"),  # past Decimal's exponents
    ],
)
def test_bad_arguments_give_one_line_and_status_2(args: list[str], message: str) -> None:
    Path("/tmp/unit_init_a_directory.png").mkdir(exist_ok=True)
    result = _run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(result.stderr) < 1000
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--activation-param", "-1e-2"), ("--activation-p", "-1e-2"), ("--activation-param", "-0.01")])
def test_a_negative_activation_parameter_is_read_in_any_notation(capsys: pytest.CaptureFixture[str], option: str, value: str) -> None:
    """argparse reads ``-1e-2`` standing alone as an option; it is the number after ``--activation-param`` (abbreviated too)."""
    status, out, err = _main(capsys, "diagnose", "he_normal", "--activation", "leaky_relu", option, value, *NETWORK)
    assert (status, err) == (0, "")
    assert out.startswith("he_normal with leaky_relu(-0.01): depth 20")


class _Report:
    """A stand-in for a diagnosis: its table, and a figure that cannot be written (a full disk)."""

    def __str__(self) -> str:
        return "the table"

    def plot(self, path: object) -> None:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("where", ["missing/he.png", "directory.png", "file.txt/he.png"])
def test_the_plot_path_is_checked_before_any_work(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, where: str) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "directory.png").mkdir()
    (tmp_path / "file.txt").write_text("")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the run started before the output path was checked")

    monkeypatch.setattr(unit_init.cli, "diagnose", never)
    status, out, err = _main(capsys, "diagnose", "he_normal", "--plot", str(tmp_path / where))
    assert (status, out) == (2, "")
    assert "cannot write there" in err


def test_the_table_is_printed_before_the_plot_is_written(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(unit_init.cli, "diagnose", lambda *args, **kwargs: _Report())
    status, out, err = _main(capsys, "diagnose", "he_normal", "--plot", str(tmp_path / "he.png"))
    assert (status, out) == (2, "the table\n")
    assert err == f"unit-init diagnose: --plot {tmp_path / 'he.png'}: the figure could not be written (No space left on device) (see unit-init --help)\n"


def test_checking_the_plot_path_leaves_nothing_behind(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    existing = tmp_path / "old.svg"
    existing.write_text("kept")

    def refuse(*args: object, **kwargs: object) -> None:
        raise ui_errors.ParameterError("refused")

    monkeypatch.setattr(unit_init.cli, "diagnose", refuse)
    for path in (tmp_path / "new.png", existing):
        assert _main(capsys, "diagnose", "he_normal", "--plot", str(path))[0] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.svg"]
    assert existing.read_text() == "kept"


@pytest.mark.parametrize(("option", "low", "high"), [(option, *bounds) for option, bounds in RANGES.items()])
def test_the_documented_ranges_are_the_accepted_ones(capsys: pytest.CaptureFixture[str], option: str, low: int, high: int) -> None:
    parser = unit_init.cli._parser()
    base = ["sample", "he_normal", "4"] if option == "--seed" else ["diagnose", "he_normal"]
    for value in (low, high):
        assert getattr(parser.parse_args([*base, option, str(value)]), option[2:]) == value
    for value in (low - 1, high + 1):
        with pytest.raises(unit_init.cli._UsageError, match=rf"is not (a positive|an) integer in \[{low}, {high}\]"):
            parser.parse_args([*base, option, str(value)])


def test_a_long_name_is_quoted_short(capsys: pytest.CaptureFixture[str]) -> None:
    """Every message quotes what was typed abbreviated: a 100k-character NAME gave a 200 KB error line."""
    for name in ["he_normal:" + "a" * 100_000 + "=1", "he_normal:" + "a=1," * 5000]:
        assert main(["show", name]) == 2
        err = capsys.readouterr().err
        assert err.startswith("unit-init: error: initializer 'he_normal:"), err[:300]
        assert len(err) < 1000


def test_sample_statistics_of_values_near_the_largest_float(capsys: pytest.CaptureFixture[str]) -> None:
    """The mean and std are computed on scaled values: a constant 1e308 has mean 1e308, not inf (and no overflow warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["sample", "constant:value=1e308", "4", "4", "--dtype", "float64"]) == 0
    rows = {line.split()[0]: line.split()[1:] for line in capsys.readouterr().out.splitlines() if line.startswith(("mean", "std"))}
    assert rows == {"mean": ["1e+308", "1e+308"], "std": ["0", "0"]}


def test_sample_measures_an_array_a_piece_at_a_time(capsys: pytest.CaptureFixture[str]) -> None:
    """``sample`` measures the array without a float64 copy of the whole of it (which took 9× a float32 array): at
    most the array and a few float64 pieces are held; statistics over several pieces are those of the whole."""
    import tracemalloc

    import numpy as np

    rows, cols = 2048, 2 * unit_init.cli.SAMPLE_PIECE // 2048 + 3  # three pieces, the last one short
    tracemalloc.start()
    try:
        assert main(["sample", "he_uniform", str(rows), str(cols), "--seed", "3"]) == 0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * rows * cols + 4 * 8 * unit_init.cli.SAMPLE_PIECE
    whole = np.asarray(unit_init.he_uniform((rows, cols), seed=3), np.float64)
    lines = capsys.readouterr().out.splitlines()
    shown = {line.split()[0]: float(line.split()[1]) for line in lines if line.startswith(("mean ", "std ", "min ", "max "))}
    assert shown == pytest.approx({"mean": whole.mean(), "std": whole.std(), "min": whole.min(), "max": whole.max()}, rel=1e-5)


@pytest.mark.parametrize(
    ("name", "variance", "std"),
    [
        ("random_normal:stddev=1e200", "1e+400", 1e200),
        ("random_normal:stddev=1e-200", "1e-400", 1e-200),
        ("random_uniform:minval=-1e300,maxval=1e300", "3.33333e+599", 2e300 / math.sqrt(12)),
        ("truncated_normal:stddev=1e200", "7.73741e+399", 1e200 * 0.8796256610342398),
    ],
)
def test_show_and_sample_give_a_std_whose_variance_float64_cannot_hold(
    capsys: pytest.CaptureFixture[str], name: str, variance: str, std: float
) -> None:
    """The expected std is the law's own (never √ of an overflowed or underflowed variance), the variance its exact square."""
    code, out, _ = _main(capsys, "show", name, "4", "4")
    assert code == 0
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith(("variance", "std"))}
    assert rows["variance"] == variance
    assert float(rows["std"]) == pytest.approx(std, rel=1e-5)
    code, out, err = _main(capsys, "sample", name, "64", "64", "--dtype", "float64")
    assert (code, err) == (0, ""), err
    sample, expected = ({line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("std")})["std"]
    assert float(expected) == pytest.approx(std, rel=1e-5)
    assert float(sample) == pytest.approx(std, rel=0.05)


def test_show_and_sample_give_an_orthogonal_std_whose_gain_squared_overflows(capsys: pytest.CaptureFixture[str]) -> None:
    """HaarOrthogonal has no std of its own: √(gain²/n) read "inf", and its variance "Infinitye"."""
    code, out, _ = _main(capsys, "show", "orthogonal:gain=1e200", "4", "4")
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.startswith(("variance", "std"))}
    assert code == 0
    assert rows["variance"] == "2.5e+399"
    assert float(rows["std"]) == pytest.approx(5e199)
    code, out, err = _main(capsys, "sample", "orthogonal:gain=1e200", "64", "64", "--dtype", "float64")
    sample, expected = ({line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("std")})["std"]
    assert (code, err) == (0, "")
    assert float(expected) == pytest.approx(1e200 / 8)
    assert float(sample) == pytest.approx(1e200 / 8, rel=1e-3)


def test_main_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "zeros", "he_normal", "--depth", "3", "--width", "8", "--batch", "4"]) == 0
    out = capsys.readouterr().out
    assert "symmetric" in out
    assert "stable" in out
    assert main(["--help"]) == 0
    assert main(["show", "identity", "--shape", "3"]) == 2
    assert "rank >= 2" in capsys.readouterr().err


@pytest.mark.parametrize(
    "forms",
    [
        [["show", "he_uniform", "64", "32", "3"], ["show", "he_uniform", "--shape", "64", "32", "3"],
         ["show", "he_uniform", "64", "32", "3", "--shape", "64", "32", "3"]],
        [["sample", "he_uniform", "64", "32", "--seed", "3"], ["sample", "he_uniform", "--shape", "64", "32", "--seed", "3"],
         ["sample", "he_uniform", "--seed", "3", "--shape", "64", "32"], ["sample", "he_uniform", "64", "32", "--shape", "64", "32", "--seed", "3"]],
    ],
    ids=["show", "sample"],
)
def test_a_shape_is_spelt_either_way_in_every_command(capsys: pytest.CaptureFixture[str], forms: list[list[str]]) -> None:
    results = [_main(capsys, *form) for form in forms]
    assert results[0][0] == 0, results[0][2]
    assert "(64, 32" in results[0][1]
    assert all(result == results[0] for result in results[1:])


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert _main(capsys, "--version") == (0, f"unit-init {__version__}\n", "")


@pytest.mark.parametrize("command", ["show", "sample", "diagnose", "compare"])
def test_help_explains_the_name_syntax(capsys: pytest.CaptureFixture[str], command: str) -> None:
    status, out, _ = _main(capsys, command, "--help")
    assert status == 0
    assert "NAME[:KEY=VALUE[,KEY=VALUE...]]" in out
    assert "random_normal:stddev=0.01" in out
    assert "variance_scaling:scale=2,mode=fan_out" in out
    assert ("--shape 256 128" in out) == (command in ("show", "sample"))


def test_the_name_syntax_in_help_is_what_the_parser_does() -> None:
    examples = [line.strip() for line in NAME_SYNTAX.splitlines() if line.startswith("  ") and "[" not in line]
    assert [type(parse(example)).__name__ for example in examples] == ["HeNormal", "RandomNormal", "VarianceScaling"]
    spec = parse(" variance_scaling : scale = 2 , mode = fan_out ")  # spaces around keys and values are dropped
    assert (spec.scale, spec.mode) == (2, "fan_out")
    assert isinstance(spec.scale, int)
    assert parse("random_normal:stddev=1e-2").stddev == 0.01  # int, else float
    with pytest.raises(ValueError, match="mode"):
        parse("variance_scaling:mode='fan_out'")  # text is taken as it is: no quotes


def test_progress_counts_from_one_when_forced_on() -> None:
    result = _run("compare", "--depth", "3", "--width", "8", "--batch", "4", env={"UNIT_INIT_PROGRESS": "1"})
    assert result.returncode == 0, result.stderr
    steps = [line.split()[1] for line in result.stderr.splitlines()]
    assert steps == [f"[{i}/6]" for i in range(1, 7)]
    assert "[1/6] diagnosing zeros…" in result.stderr


@pytest.mark.parametrize("env", [{}, {"UNIT_INIT_PROGRESS": "0"}], ids=["auto-not-a-tty", "forced-off"])
def test_progress_is_silent_when_not_wanted(env: dict[str, str]) -> None:
    result = _run("diagnose", "he_normal", "--depth", "3", "--width", "8", "--batch", "4", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.skipif(sys.platform != "linux", reason="address-space limits (RLIMIT_AS) as Linux sets them")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sample", "he_normal", "100000", "100000"], "draw a smaller shape"),
        (["diagnose", "he_normal", "--depth", "2", "--width", "100000", "--batch", "100000"], "use a smaller depth, width or batch"),
    ],
)
def test_out_of_memory_is_one_line(args: list[str], message: str) -> None:
    result = _run(*args, memory=3 << 30)
    assert result.returncode == 2
    assert result.stderr.startswith("unit-init: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_interrupt_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(unit_init.cli, "diagnose", interrupted)
    assert _main(capsys, "diagnose", "he_normal") == (130, "", "unit-init: interrupted\n")


@pytest.mark.parametrize(
    "arguments",
    [
        ("sample", "zeros", "4", "4"), ("sample", "orthogonal", "4", "4"), ("sample", "identity", "0", "4"),
        ("sample", "sparse:sparsity=0.5", "4", "4"), ("sample", "stft", "16", "1", "8"), ("sample", "dirac", "4", "4", "3"),
        ("show", "random_uniform:minval=1,maxval=2", "4", "4"), ("sample", "random_uniform:minval=1,maxval=2", "4", "4"),
        ("show", "truncated_normal:lower=-1e-8,upper=1e-8", "4", "4"),
    ],
)
def test_show_and_sample_take_laws_without_a_support_and_integer_bounds(capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]) -> None:
    code, out, err = _main(capsys, *arguments)
    assert (code, err) == (0, ""), err
    assert "mean" in out


def test_a_device_without_data_is_a_one_line_error_for_the_network_commands(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch")
    code, _out, err = _main(capsys, "compare", "he_normal", "--depth", "2", "--width", "4", "--batch", "2", "--backend", "torch", "--device", "meta")
    assert code == 2
    assert err.startswith("unit-init: error: device='meta': diagnose runs a network and reads its values")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("name", "dtype"), [("he_uniform", "complex128"), ("bounded_normal:stddev=0.05", "complex64")])
def test_sample_of_a_complex_dtype_measures_the_complex_law(capsys: pytest.CaptureFixture[str], name: str, dtype: str) -> None:
    """Its std is (E|w − mean|²)^½ and its max modulus is bounded by the law's radius (it dropped the imaginary part, with a warning)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        code, out, err = _main(capsys, "sample", name, "256", "256", "--dtype", dtype, "--seed", "3")
    assert (code, err) == (0, ""), err
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines()[4:7]}
    sample_std, expected_std = (float(v) for v in rows["std (E|w − mean|²)^½"][-2:])
    assert sample_std == pytest.approx(expected_std, rel=0.01)
    largest, radius = (float(v) for v in rows["max |w − μ|"][-2:])
    assert largest <= radius * (1 + 1e-6)


@pytest.mark.parametrize("arguments", [("sample", "he_normal", "x" * 100_000), ("compare", "--activation", "y" * 100_000)])
def test_a_long_bad_argument_is_quoted_short(capsys: pytest.CaptureFixture[str], arguments: tuple[str, ...]) -> None:
    """argparse quoted the whole argument: a 100 KB line on stderr."""
    code, _, err = _main(capsys, *arguments)
    assert code == 2
    assert len(err) < 1000


def test_sample_explains_expected_bounds_only_where_the_law_has_them(capsys: pytest.CaptureFixture[str]) -> None:
    """An orthogonal law has no support: its min and max read "-", and the footnote about bounds was printed anyway."""
    _, out, _ = _main(capsys, "sample", "orthogonal", "64", "32")
    assert "expected min and max" not in out
    _, out, _ = _main(capsys, "sample", "he_uniform", "64", "32")
    assert "(expected min and max: the bounds of the distribution's support)" in out
    _, out, _ = _main(capsys, "sample", "random_normal:mean=0.5,stddev=0", "2", "2")  # its values are its mean: -inf and inf before
    assert [line.split() for line in out.splitlines() if line.startswith(("min", "max"))] == [["min", "0.5", "0.5"], ["max", "0.5", "0.5"]]
    _, out, _ = _main(capsys, "show", "random_normal:stddev=0", "2", "2")
    assert "support       [0, 0]" in out


class ResourceExhaustedError(Exception):
    """Named as TensorFlow's: the CLI tells a framework's failed allocation by its type's name."""


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried to allocate 14400000000 bytes."),
        ResourceExhaustedError("OOM when allocating tensor with shape[60000,60000]"),
        RuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 14400000000 bytes."),
    ],
    ids=["torch", "tensorflow", "xla"],
)
def test_a_frameworks_failed_allocation_is_one_line_and_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: Exception
) -> None:
    """With UNIT_INIT_MAX_BYTES raised past the free memory (as the guard's message suggests), torch and TensorFlow failed
    to allocate and the CLI printed their traceback with status 1; NumPy's MemoryError already gave one line."""
    def draw(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(unit_init.cli, "parse", lambda name: draw)
    assert main(["sample", "he_uniform", "600", "600"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("unit-init sample: error: out of memory (")
    assert lines[0].endswith("; try a smaller shape")


def test_another_runtime_error_is_not_called_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    def draw(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(unit_init.cli, "parse", lambda name: draw)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["sample", "he_uniform", "600", "600"])


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_sample_with_the_portable_stream_prints_numpys_numbers_on_every_backend(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A uniform law's portable values are bit-identical across backends, so its table is too (a normal law's agree
    to within 1e-6, which a printed digit may show)."""
    pytest.importorskip(backend)
    tables = []
    for where in ("numpy", backend):
        assert main(["sample", "he_uniform", "256", "256", "--rng", "portable", "--backend", where]) == 0
        header, below = capsys.readouterr().out.split("\n", 1)  # the line naming the backend and the stream, the table
        assert header.endswith(f"backend {where}, seed 0, rng portable")
        tables.append(below)
    assert tables[0] == tables[1]
    assert main(["sample", "he_uniform", "256", "256", "--backend", backend]) == 0  # the native stream: other values
    assert capsys.readouterr().out.split("\n", 1)[1] != tables[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX file type")
def test_a_plot_path_that_is_a_pipe_nobody_reads_is_refused_not_waited_on(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``--plot`` naming a FIFO hung for ever: opening a pipe for writing waits for a reader. It is a usage error."""
    pytest.importorskip("matplotlib")
    pipe = tmp_path / "plot.png"
    os.mkfifo(pipe)
    result = subprocess.run(
        [sys.executable, "-m", "unit_init", "diagnose", "he_normal", "--depth", "2", "--width", "4", "--plot", str(pipe)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "cannot write there (a named pipe no process reads)" in result.stderr
