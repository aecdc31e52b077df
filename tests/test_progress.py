"""Progress on long work (:mod:`unit_init.progress`): the on/off/auto policy, the env var, and where bars appear."""

from __future__ import annotations

import io
import sys
import types
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init import progress
from unit_init.sampling import blocks

PARAMS = {"fc1": {"kernel": np.zeros((64, 32)), "bias": np.zeros(32)}, "fc2": {"kernel": np.zeros((32, 8))}}
RULES = {"*.kernel": ui.HeNormal(), "*.bias": ui.Zeros()}
TOTAL = 64 * 32 + 32 + 32 * 8


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _as_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    """A session as a person has it: stderr a terminal, not pytest, not CI, no env var.

    Called in the test itself: pytest sets ``PYTEST_CURRENT_TEST`` again between a fixture and the test.
    """
    for name in ("PYTEST_CURRENT_TEST", "CI", progress.ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stderr", _Terminal())


@pytest.fixture
def line_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No tqdm (hidden whether installed or not) and no delay, so the stderr fallback writes at once."""
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(progress, "DELAY", 0.0)


def test_explicit_argument_wins_over_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.ENV, "0")
    assert progress.wanted(True)
    monkeypatch.setenv(progress.ENV, "1")
    assert not progress.wanted(False)


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("0", False), ("on", True), ("false", False), (" TRUE ", True)])
def test_env_var_forces_on_or_off(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv(progress.ENV, value)
    assert progress.wanted() is expected
    assert progress.wanted(None) is expected


def test_auto_is_off_under_pytest_and_on_in_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_a_person(monkeypatch)
    assert progress.wanted()
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "test_progress.py::x (call)")
    assert not progress.wanted()


@pytest.mark.parametrize(("ci", "expected"), [("true", False), ("1", False), ("0", True), ("false", True)])
def test_auto_is_off_under_ci(monkeypatch: pytest.MonkeyPatch, ci: str, expected: bool) -> None:
    _as_a_person(monkeypatch)
    monkeypatch.setenv("CI", ci)
    assert progress.wanted() is expected


def test_auto_is_off_when_stderr_is_not_a_terminal_unless_in_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_a_person(monkeypatch)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # imported, as nbclient does: no kernel
    assert not progress.wanted()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert progress.wanted()


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"progress='yes' must be True .*, False .* or None"):
        progress.wanted("yes")  # type: ignore[arg-type]
    monkeypatch.setenv(progress.ENV, "maybe")
    with pytest.raises(ui.ParameterError, match=r"UNIT_INIT_PROGRESS='maybe' is not understood; accepted: 1 .* or 0"):
        progress.wanted()


@pytest.mark.usefixtures("line_fallback")
@pytest.mark.parametrize(("argument", "env", "shown"), [
    (True, None, True), (False, None, False), (None, None, False),  # auto under pytest: silent
    (None, "1", True), (None, "0", False), (False, "1", False), (True, "0", True),
])
def test_initialize_reports_progress_on_stderr(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argument: bool | None, env: str | None, shown: bool
) -> None:
    if env is not None:
        monkeypatch.setenv(progress.ENV, env)
    new, _ = ui.initialize(PARAMS, RULES, seed=0, progress=argument)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("\rinitialize: ") if shown else captured.err == ""
    assert captured.err.endswith(f"\rinitialize: {TOTAL}/{TOTAL} parameters\n" if shown else "")
    quiet, _ = ui.initialize(PARAMS, RULES, seed=0, progress=False)
    assert all((new[k][leaf] == quiet[k][leaf]).all() for k in PARAMS for leaf in PARAMS[k])


@pytest.mark.usefixtures("line_fallback")
def test_fallback_counts_up_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    with progress.bar(3, "demo", unit="steps", progress=True) as advance:
        for _ in range(3):
            advance(1)
    err = capsys.readouterr().err
    assert err.startswith("\rdemo: 1/3 steps\r")
    assert err.endswith("\rdemo: 3/3 steps\n")  # the last count always, then a new line


def test_work_quicker_than_the_delay_shows_nothing(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    monkeypatch.setattr(progress, "DELAY", 3600.0)
    ui.initialize(PARAMS, RULES, seed=0, progress=True)
    assert capsys.readouterr().err == ""


class _FakeTqdm:
    """Records how tqdm is called."""

    made: list[_FakeTqdm] = []  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs, self.n, self.closed = kwargs, 0, False
        self.made.append(self)

    def update(self, count: int) -> None:
        self.n += count

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch: pytest.MonkeyPatch) -> type[_FakeTqdm]:
    module = types.ModuleType("tqdm.auto")
    module.tqdm = _FakeTqdm  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    monkeypatch.setattr(_FakeTqdm, "made", [])
    return _FakeTqdm


def test_tqdm_is_used_when_installed(fake_tqdm: type[_FakeTqdm]) -> None:
    ui.initialize(PARAMS, RULES, seed=0, progress=True)
    (made,) = fake_tqdm.made
    assert made.kwargs["total"] == made.n == TOTAL
    assert made.kwargs["delay"] == progress.DELAY
    assert made.kwargs["desc"] == "initialize"
    assert made.kwargs["unit"] == " parameters"
    assert made.kwargs["file"] is sys.stderr
    assert made.closed


def test_large_draws_count_their_values_and_stay_the_same(fake_tqdm: type[_FakeTqdm], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "PROGRESS_MIN", blocks.PARALLEL_MIN)
    shape = (1024, blocks.PARALLEL_MIN // 1024 + 3)  # filled block by block, the last block short
    monkeypatch.setenv(progress.ENV, "1")
    shown = ui.he_normal(shape, seed=5)
    (made,) = fake_tqdm.made
    assert made.kwargs["desc"] == "draw"
    assert made.kwargs["total"] == made.n == shape[0] * shape[1]
    monkeypatch.setenv(progress.ENV, "0")
    np.testing.assert_array_equal(ui.he_normal(shape, seed=5), shown)
    assert len(fake_tqdm.made) == 1
    monkeypatch.setenv(progress.ENV, "1")
    ui.he_normal((16, 16), seed=5)  # a small draw: no bar
    assert len(fake_tqdm.made) == 1


def test_bars_do_not_nest(fake_tqdm: type[_FakeTqdm], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blocks, "PROGRESS_MIN", blocks.PARALLEL_MIN)
    params = {"big": {"kernel": np.zeros((1024, blocks.PARALLEL_MIN // 1024))}}
    ui.initialize(params, {"*.kernel": ui.HeNormal()}, seed=0, progress=True)
    assert [made.kwargs["desc"] for made in fake_tqdm.made] == ["initialize"]  # not a "draw" bar inside


def test_every_walker_reports_through_the_engine(fake_tqdm: type[_FakeTqdm]) -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ui.torch.initialize(net, {torch.nn.Linear: ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0, progress=True)
    (made,) = fake_tqdm.made
    assert made.kwargs["total"] == made.n == sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("stderr", ["none", "closed"])
def test_a_bar_that_cannot_be_written_stops_showing_and_the_work_goes_on(stderr: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No stderr (pythonw, a service) or a closed one: the bar's write raised a raw AttributeError or ValueError out of
    the draw, after it had taken its seed."""
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", None if stderr == "none" else closed)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    with progress.bar(10, "draw", progress=True) as advance:
        for _ in range(10):
            advance(1)


def test_a_bad_progress_setting_is_refused_before_a_seed_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """``UNIT_INIT_PROGRESS`` is read where a bar may show (a draw of 2**24 values or more, a whole-model
    ``initialize``): a value it does not know was refused there after the unseeded call had taken its seed."""
    ui.set_seed(0)
    first = ui.he_normal((4, 4))
    ui.set_seed(0)
    monkeypatch.setenv(progress.ENV, "banana")
    with pytest.raises(ui.ParameterError, match="UNIT_INIT_PROGRESS='banana' is not understood"):
        ui.he_normal((4200, 4200))
    with pytest.raises(ui.ParameterError, match="UNIT_INIT_PROGRESS='banana' is not understood"):
        ui.initialize({"dense": {"kernel": np.zeros((4, 4))}}, {"*": ui.HeNormal()})
    monkeypatch.delenv(progress.ENV)
    np.testing.assert_array_equal(ui.he_normal((4, 4)), first)


def test_auto_progress_on_a_closed_stderr_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside pytest and CI, auto asks ``sys.stderr.isatty()``, which raises ``ValueError`` on a closed file."""
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv(progress.ENV, raising=False)
    assert progress.wanted() is False
