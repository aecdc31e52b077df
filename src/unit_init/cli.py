"""The ``unit-init`` command line: list, show, sample, diagnose and compare initializers.

::

    unit-init list
    unit-init show he_normal 256 128 --layout torch
    unit-init sample random_normal:stddev=0.01 --shape 256 128 --backend torch --seed 0
    unit-init diagnose he_normal --activation relu --depth 50 --plot he.png
    unit-init compare zeros he_normal glorot_normal --activation tanh --json
    unit-init --version

One grammar for every command (see docs/cli.md): ``NAME`` is an initializer
with optional parameters, ``NAME[:KEY=VALUE[,KEY=VALUE…]]``
(``variance_scaling:scale=2,mode=fan_out``); a shape is its dimensions, after
``NAME`` or after ``--shape`` (either form, in ``show`` and ``sample``).
Progress (``[1/6] diagnosing zeros…`` on stderr) follows
:mod:`unit_init.progress`: shown in a terminal, silent in a pipe, under CI or
pytest; ``UNIT_INIT_PROGRESS=1``/``0`` forces it. Any error — a bad argument, a
:class:`unit_init.UnitInitError`, a run too large for memory — prints one line
on stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import Any, Final, NoReturn

from unit_init import __version__
from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.diagnostics.compare import DEFAULT_SPECS, compare
from unit_init.diagnostics.diagnose import diagnose
from unit_init.diagnostics.plotting import check_path
from unit_init.diagnostics.specs import formula, label, parse
from unit_init.diagnostics.tables import table
from unit_init.drawing import resolve_target
from unit_init.errors import ParameterError, UnitInitError
from unit_init.progress import wanted
from unit_init.spec.catalogue import CATALOGUE
from unit_init.spec.distributions import TruncatedNormal, truncated_standard_normal_moments
from unit_init.spec.fans import LAYOUTS
from unit_init.spec.structured import EXTRAS

__all__ = ["main"]

NAME_SYNTAX: Final = textwrap.dedent("""\
    NAME is an initializer of `unit-init list`, with optional parameters:
      NAME[:KEY=VALUE[,KEY=VALUE...]]
    e.g.
      he_normal
      random_normal:stddev=0.01
      variance_scaling:scale=2,mode=fan_out,distribution=uniform
    The text after the first ':' is split at each ',', each item at its first
    '=', and spaces around keys and values are dropped. A VALUE is read as an
    int, else a float, else kept as text, without quotes (mode=fan_out, not
    mode='fan_out'); so a value cannot hold a ','. KEY is a parameter of the
    initializer (`unit-init show NAME` lists them).""")
"""How ``NAME`` is written, shown at the end of each command's ``--help``."""

_NAME_HELP: Final = "an initializer, NAME[:KEY=VALUE,...] (see below)"

SHAPE_SYNTAX: Final = textwrap.dedent("""\
    A shape is its dimensions, after NAME or after --shape (the same):
      unit-init {command} he_normal 256 128
      unit-init {command} he_normal --shape 256 128""")
"""How a shape is written, shown in the ``--help`` of ``show`` and ``sample``."""


class _UsageError(Exception):
    """A bad command line, reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


def _announce(index: int, total: int, spec: str) -> None:
    """One progress line on stderr, ``[index/total]`` counted from 1, before each spec is diagnosed."""
    print(f"unit-init: [{index}/{total}] diagnosing {spec}…", file=sys.stderr, flush=True)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"{text!r} is not a positive integer"
        raise argparse.ArgumentTypeError(msg)
    return value


def _add_shape(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dims", type=int, nargs="*", metavar="DIM", help="the shape's dimensions (or give them with --shape)")
    parser.add_argument("--shape", type=int, nargs="+", metavar="DIM", help="the shape's dimensions, e.g. --shape 256 128")


def _shape(args: argparse.Namespace) -> tuple[int, ...] | None:
    """The shape given after ``NAME`` or with ``--shape`` (the same if both), or ``None`` where neither."""
    dims = tuple(args.dims) or None
    option = None if args.shape is None else tuple(args.shape)
    if dims is not None and option is not None and dims != option:
        first, second = (" ".join(map(str, shape)) for shape in (dims, option))
        msg = f"unit-init {args.command}: the shape is given twice and differently, as {first} and as --shape {second}; give it once"
        raise _UsageError(msg)
    return dims or option


def _check_size(command: str, what: str, elements: int) -> None:
    """Refuse an array no machine can index (more than ``sys.maxsize`` elements); smaller ones that do not fit end as out of memory."""
    if elements > sys.maxsize:
        msg = f"unit-init {command}: {what} means {elements} elements in one array, more than any array can hold ({sys.maxsize})"
        raise _UsageError(msg)


def _command(commands: Any, name: str, help_: str, syntax: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help_, description=help_[:1].upper() + help_[1:] + ".", epilog=syntax,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


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
    parser = _Parser(
        prog="unit-init", description="Weight initializers for every array framework.", epilog=NAME_SYNTAX,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"unit-init {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the catalogue, one formula each")
    show = _command(commands, "show", "formula, fans, variance and distribution of one initializer", f"{NAME_SYNTAX}\n\n{SHAPE_SYNTAX.format(command='show')}")
    show.add_argument("name", metavar="NAME", help=_NAME_HELP)
    _add_shape(show)
    show.add_argument("--layout", default="keras", choices=list(LAYOUTS))
    sample = _command(commands, "sample", "draw an array and compare its moments with the expected ones", f"{NAME_SYNTAX}\n\n{SHAPE_SYNTAX.format(command='sample')}")
    sample.add_argument("name", metavar="NAME", help=_NAME_HELP)
    _add_shape(sample)
    sample.add_argument("--layout", default="keras", choices=list(LAYOUTS))
    _add_target(sample)
    one = _command(commands, "diagnose", "activation and gradient statistics of a deep MLP, and a verdict", NAME_SYNTAX)
    one.add_argument("name", metavar="NAME", help=_NAME_HELP)
    _add_network(one)
    many = _command(commands, "compare", "diagnose several initializers side by side", NAME_SYNTAX)
    many.add_argument("names", metavar="NAME", nargs="*", help=f"initializers, each NAME[:KEY=VALUE,...]; default: {' '.join(DEFAULT_SPECS)}")
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
        return "\n".join([*lines, "(give a shape, after NAME or with --shape, to see its fans, variance and distribution)"])
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
    dims = _shape(args)
    if dims is None:
        msg = f"unit-init sample: a shape is required: its dimensions after NAME ({args.name} 256 128) or with --shape 256 128"
        raise _UsageError(msg)
    _check_size(args.command, f"shape {dims}", math.prod(dims))
    spec = parse(args.name)
    target = resolve_target(args.backend, args.device, args.dtype)
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
    _check_size(args.command, f"--width {args.width} with --batch {args.batch}", args.width * max(args.width, args.batch))
    return {
        "activation": args.activation, "activation_param": args.activation_param, "depth": args.depth,
        "width": args.width, "batch": args.batch, "bias": args.bias, "backend": args.backend,
        "device": args.device, "dtype": args.dtype, "seed": args.seed,
    }


def _diagnostics(args: argparse.Namespace) -> str:
    if args.plot:
        check_path(args.plot)  # before the run, not after it
    progress = _announce if wanted() else None
    if args.command == "diagnose":
        if progress is not None:
            progress(1, 1, args.name)
        result: Any = diagnose(args.name, **_network_options(args))
    else:
        result = compare(args.names or None, progress=progress, **_network_options(args))
    if args.plot:
        result.plot(args.plot)
    if args.json:
        return json.dumps(result.to_dict(), indent=2, allow_nan=False)
    return str(result) + (f"\n\nplot saved to {args.plot}" if args.plot else "")


def _run(args: argparse.Namespace) -> str:
    if args.command == "list":
        return _list()
    if args.command == "show":
        return _show(args.name, _shape(args), args.layout)
    if args.command == "sample":
        return _sample(args)
    return _diagnostics(args)


def _out_of_memory(args: argparse.Namespace | None, error: MemoryError) -> str:
    """One line for a run too large for memory, saying what to make smaller (a real size guard is still to come)."""
    command = getattr(args, "command", None)
    smaller = "a smaller shape" if command in ("show", "sample") else "a smaller --depth, --width or --batch"
    detail = " ".join(str(error).split())
    return f"unit-init {command or ''}: error: out of memory{f' ({detail})' if detail else ''}; try {smaller}".replace("  ", " ")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``unit-init`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0 on success (and for ``--help``, ``--version``); 2 on a bad argument, any
    :class:`unit_init.UnitInitError` or a run that does not fit in memory (one
    line on stderr, no traceback); 130 when interrupted (Ctrl-C).

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    unit-init 0.1...
    0
    >>> import contextlib, io
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     main(["sample", "he_normal", "4", "4", "--shape", "4", "5"])
    2
    >>> print(err.getvalue().strip())
    unit-init sample: the shape is given twice and differently, as 4 4 and as --shape 4 5; give it once (see unit-init --help)
    """
    args: argparse.Namespace | None = None
    try:
        args = _parser().parse_args(argv)
        output = _run(args)
    except _UsageError as error:
        print(f"{error} (see unit-init --help)", file=sys.stderr)
        return 2
    except UnitInitError as error:
        print(f"unit-init: error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:
        print(_out_of_memory(args, error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("unit-init: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    try:
        print(output, flush=True)
    except BrokenPipeError:  # the reader left early (``unit-init list | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush stays quiet
    return 0
