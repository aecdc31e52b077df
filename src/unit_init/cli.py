"""The ``unit-init`` command line: list, show, sample, diagnose and compare initializers.

::

    unit-init list
    unit-init show he_normal --shape 256 128 --layout torch
    unit-init sample random_normal:stddev=0.01 256 128 --backend torch --seed 0
    unit-init diagnose he_normal --activation relu --depth 50 --plot he.png
    unit-init compare zeros he_normal glorot_normal --activation tanh --json

``NAME`` is an initializer with optional parameters
(``variance_scaling:scale=2,mode=fan_out``). Any error — a bad argument or a
:class:`unit_init.UnitInitError` — prints one line on stderr and exits with
status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.diagnostics.compare import DEFAULT_SPECS, compare
from unit_init.diagnostics.diagnose import diagnose
from unit_init.diagnostics.plotting import check_path
from unit_init.diagnostics.specs import formula, label, parse
from unit_init.diagnostics.tables import table
from unit_init.drawing import resolve_target
from unit_init.errors import ParameterError, UnitInitError
from unit_init.spec.catalogue import CATALOGUE
from unit_init.spec.distributions import TruncatedNormal, truncated_standard_normal_moments
from unit_init.spec.fans import LAYOUTS
from unit_init.spec.structured import EXTRAS

__all__ = ["main"]

PROGRESS_AFTER = 0.5
"""Seconds a run may take before progress appears on stderr."""


class _UsageError(Exception):
    """A bad command line, reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


class _Progress:
    """Writes ``[i/n] spec…`` lines on stderr once a run has taken more than :data:`PROGRESS_AFTER` seconds."""

    def __init__(self) -> None:
        self._start = time.monotonic()
        self._current = ""
        self._shown = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(PROGRESS_AFTER, self._show)
        self._timer.daemon = True
        self._timer.start()

    def _show(self) -> None:
        with self._lock:
            if self._current:
                print(f"unit-init: {self._current}…", file=sys.stderr, flush=True)
            self._shown = True

    def step(self, index: int, total: int, spec: str) -> None:
        with self._lock:
            self._current = f"[{index}/{total}] diagnosing {spec}"
            show = self._shown or time.monotonic() - self._start > PROGRESS_AFTER
        if show:
            self._show()

    def stop(self) -> None:
        self._timer.cancel()


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"{text!r} is not a positive integer"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", help="numpy (default), torch, jax, tensorflow, or an Array-API namespace")
    parser.add_argument("--device", help="cpu, cuda, cuda:N, gpu:N, mps, …")
    parser.add_argument("--dtype", help="float32 (default), float64, float16, bfloat16")
    parser.add_argument("--seed", type=int, default=0, help="int seed (default 0)")


def _add_network(parser: argparse.ArgumentParser) -> None:
    activations = [*ACTIVATIONS, *ALIASES]
    parser.add_argument("--activation", default="relu", choices=activations, metavar="NAME", help=f"one of {', '.join(activations)} (default relu)")
    parser.add_argument("--activation-param", type=float, help="leaky_relu slope (0.01) or elu alpha (1.0)")
    parser.add_argument("--depth", type=_positive_int, default=50, help="layers (default 50)")
    parser.add_argument("--width", type=_positive_int, default=512, help="units per layer (default 512)")
    parser.add_argument("--batch", type=_positive_int, default=256, help="inputs (default 256)")
    parser.add_argument("--bias", action="store_true", help="add zero biases")
    _add_target(parser)
    parser.add_argument("--plot", metavar="PATH", help="save a figure (.png or .svg)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _parser() -> _Parser:
    parser = _Parser(prog="unit-init", description="Weight initializers for every array framework.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the catalogue, one formula each")
    show = commands.add_parser("show", help="formula, fans, variance and distribution of one initializer")
    show.add_argument("name", metavar="NAME")
    show.add_argument("--shape", type=int, nargs="+", metavar="DIM")
    show.add_argument("--layout", default="keras", choices=list(LAYOUTS))
    sample = commands.add_parser("sample", help="draw an array and compare its moments with the expected ones")
    sample.add_argument("name", metavar="NAME")
    sample.add_argument("shape", type=int, nargs="+", metavar="DIM")
    sample.add_argument("--layout", default="keras", choices=list(LAYOUTS))
    _add_target(sample)
    one = commands.add_parser("diagnose", help="activation and gradient statistics of a deep MLP, and a verdict")
    one.add_argument("name", metavar="NAME")
    _add_network(one)
    many = commands.add_parser("compare", help="diagnose several initializers side by side")
    many.add_argument("names", metavar="NAME", nargs="*", help=f"default: {' '.join(DEFAULT_SPECS)}")
    _add_network(many)
    return parser


def _list() -> str:
    rows = []
    for name, cls in {**CATALOGUE, **EXTRAS}.items():
        fields = [f for f in dataclasses.fields(cls) if f.name != "seed"]
        parameters = ", ".join(
            f.name if f.default is dataclasses.MISSING else f"{f.name}={f.default!r}" for f in fields
        )
        rows.append([name, parameters or "-", formula(cls)])
    return table(["name", "parameters", "formula"], rows)


def _plain(value: float) -> str:
    """A number for a person: an integral value as an int, otherwise 6 significant digits; ``-`` for none."""
    if math.isnan(value):
        return "-"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _expected_mean(distribution: Any) -> float:
    if isinstance(distribution, TruncatedNormal):
        offset, _ = truncated_standard_normal_moments(distribution.low, distribution.high)
        return distribution.mean + distribution.std * offset
    return float(getattr(distribution, "mean", math.nan))


def _expected_std(spec: Any, shape: tuple[int, ...], layout: str) -> float:
    try:
        return math.sqrt(spec.variance(shape, layout=layout))
    except ParameterError:  # deterministic per position (identity)
        return math.nan


def _show(name: str, shape: Sequence[int] | None, layout: str) -> str:
    spec = parse(name)
    lines = [
        f"{label(spec)} ({type(spec).__name__})",
        f"formula: {formula(type(spec))}",
        f"parameters: {', '.join(f'{k}={v!r}' for k, v in spec.get_config().items())}",
    ]
    if shape is None:
        return "\n".join([*lines, "(pass --shape to see fans, variance and the distribution for a shape)"])
    dims = tuple(shape)
    distribution = spec.distribution_for(dims, layout=layout)
    fans = spec.fans(dims, layout=layout)
    std = _expected_std(spec, dims, layout)
    rows = [
        ["fan_in", _plain(fans.fan_in)], ["fan_out", _plain(fans.fan_out)], ["fan_avg", _plain(fans.fan_avg)],
        ["variance", _plain(std**2)], ["std", _plain(std)], ["mean", _plain(_expected_mean(distribution))],
        ["distribution", repr(distribution)],
    ]
    support = getattr(distribution, "support", None)
    if support is not None:
        rows.append(["support", f"[{_plain(support[0])}, {_plain(support[1])}]"])
    return "\n".join([*lines, "", f"for shape {dims}, layout {layout}:", table(["quantity", "value"], rows)])


def _sample(args: argparse.Namespace) -> str:
    spec = parse(args.name)
    target = resolve_target(args.backend, args.device, args.dtype)
    dims = tuple(args.shape)
    array = spec(dims, backend=target.backend, device=target.device, dtype=target.dtype, seed=args.seed, layout=args.layout)
    import numpy as np

    values = np.asarray(target.backend.to_numpy(array), dtype=np.float64)
    distribution = spec.distribution_for(dims, layout=args.layout)
    low, high = getattr(distribution, "support", (math.nan, math.nan))
    measured = [math.nan] * 4 if values.size == 0 else [values.mean(), values.std(), values.min(), values.max()]
    expected = [_expected_mean(distribution), _expected_std(spec, dims, args.layout), low, high]
    rows = [
        [name, _plain(float(m)), _plain(e)]
        for name, m, e in zip(["mean", "std", "min", "max"], measured, expected, strict=True)
    ]
    header = (
        f"{label(spec)}: shape {tuple(array.shape)}, dtype {target.backend.dtype_of(array)}, "
        f"device {target.backend.device_of(array)}, backend {target.backend.name}, seed {args.seed}"
    )
    note = "(expected min and max: the bounds of the distribution's support)"
    return f"{header}\n\n{table(['statistic', 'sample', 'expected'], rows)}\n{note}"


def _network_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "activation": args.activation, "activation_param": args.activation_param, "depth": args.depth,
        "width": args.width, "batch": args.batch, "bias": args.bias, "backend": args.backend,
        "device": args.device, "dtype": args.dtype, "seed": args.seed,
    }


def _diagnostics(args: argparse.Namespace) -> str:
    if args.plot:
        check_path(args.plot)  # before the run, not after it
    progress = _Progress()
    try:
        if args.command == "diagnose":
            progress.step(1, 1, args.name)
            result: Any = diagnose(args.name, **_network_options(args))
        else:
            result = compare(args.names or None, progress=progress.step, **_network_options(args))
    finally:
        progress.stop()
    if args.plot:
        result.plot(args.plot)
    if args.json:
        return json.dumps(result.to_dict(), indent=2, allow_nan=False)
    return str(result) + (f"\n\nplot saved to {args.plot}" if args.plot else "")


def _run(args: argparse.Namespace) -> str:
    if args.command == "list":
        return _list()
    if args.command == "show":
        return _show(args.name, args.shape, args.layout)
    if args.command == "sample":
        return _sample(args)
    return _diagnostics(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``unit-init`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0 on success, 2 on a bad argument or any :class:`unit_init.UnitInitError`
    (one line on stderr, no traceback).
    """
    try:
        args = _parser().parse_args(argv)
        output = _run(args)
    except _UsageError as error:
        print(f"{error} (see unit-init --help)", file=sys.stderr)
        return 2
    except UnitInitError as error:
        print(f"unit-init: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    try:
        print(output, flush=True)
    except BrokenPipeError:  # the reader left early (``unit-init list | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush stays quiet
    return 0
