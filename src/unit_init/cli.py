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
:class:`unit_init.UnitInitError`, a run too large for memory, an output that
cannot be written — prints one line on stderr and exits with status 2. Ranges are checked as the line is read
(:data:`RANGES`), and a ``--plot`` path is tried for writing before any work;
the table is printed before the figure is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import errno
import importlib.util
import json
import math
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, NoReturn

from unit_init import __version__
from unit_init.backends.devices import shown
from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.diagnostics.compare import DEFAULT_SPECS, compare
from unit_init.diagnostics.diagnose import SIZES, diagnose
from unit_init.diagnostics.plotting import FORMATS, check_path
from unit_init.diagnostics.specs import formula, label, parse
from unit_init.diagnostics.tables import table
from unit_init.drawing import resolve_target
from unit_init.errors import ParameterError, UnitInitError, abbreviate, install_hint
from unit_init.progress import wanted

if TYPE_CHECKING:
    from _typeshed import SupportsWrite
from unit_init.request import RNG_MODES
from unit_init.seeds import MAX_SEED
from unit_init.serialization import NAMED
from unit_init.spec.complex_laws import complex_law
from unit_init.spec.distributions import Normal, TruncatedGaussian, truncated_standard_normal_moments
from unit_init.spec.fans import LAYOUTS
from unit_init.spec.initializer import Initializer

__all__ = ["main"]

NAME_SYNTAX: Final = textwrap.dedent("""\
    NAME is an initializer of `unit-init list`, with optional parameters:
      NAME[:KEY=VALUE[,KEY=VALUE...]]
    e.g.
      he_normal
      random_normal:stddev=0.01
      variance_scaling:scale=2,mode=fan_out,distribution=uniform
    The text after the first ':' is split at each ',', each item at its first
    '=', and spaces around keys and values are dropped. A VALUE is read as a
    bool (true or false, any case: stft:periodic=false), else an int, else a
    float, else kept as text, without quotes (mode=fan_out, not
    mode='fan_out'); so a value cannot hold a ','. KEY is a parameter of the
    initializer (`unit-init show NAME` lists them).""")
"""How ``NAME`` is written, shown at the end of each command's ``--help``."""

_NAME_HELP: Final = "an initializer, NAME[:KEY=VALUE,...] (see below)"
_LAYOUT_HELP: Final = (
    "how the shape's axes are read (default keras): keras (in, out) and (*window, in, out); torch (out, in) and "
    "(out, in, *window); keras_transpose (*window, out, in); torch_transpose (in, out, *window)"
)

RANGES: Final = {**{f"--{name}": sizes for name, sizes in SIZES.items()}, "--seed": (0, MAX_SEED)}
"""The inclusive range of each integer option (docs/cli.md); whether a run in range fits in memory is checked apart."""

SHAPE_SYNTAX: Final = textwrap.dedent("""\
    A shape is its dimensions, after NAME or after --shape (the same):
      unit-init {command} he_normal 256 128
      unit-init {command} he_normal --shape 256 128""")
"""How a shape is written, shown in the ``--help`` of ``show`` and ``sample``."""


class _UsageError(Exception):
    """A bad command line, reported as one line."""


class _OutputError(Exception):
    """Standard output that cannot be written (closed, a full disk), reported as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """argparse's message, cut where it quotes a long argument (a 100 KB ``DIM`` made a 100 KB line)."""
        if len(message) > _LONGEST_MESSAGE:
            message = f"{message[: _LONGEST_MESSAGE - 60]}… ({len(message)} characters in all)"
        raise _UsageError(f"{self.prog}: {message}")

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        """argparse's own output on standard output (``--help``, ``--version``) goes through :func:`_emit`, so that
        an output that cannot be written is status 2 there too (argparse drops the error, or writes to stderr)."""
        if file is sys.stdout:  # both None when standard output is closed
            _emit(message.rstrip("\n"))
        else:
            super()._print_message(message, file)


_LONGEST_MESSAGE: Final = 400


def _announce(index: int, total: int, spec: str) -> None:
    """One progress line on stderr, ``[index/total]`` counted from 1, before each spec is diagnosed."""
    print(f"unit-init: [{index}/{total}] diagnosing {spec}…", file=sys.stderr, flush=True)


def _int_in(option: str) -> Callable[[str], int]:
    """The argparse type of ``option``: an int in its :data:`RANGES` (the text quoted short however long it is)."""
    low, high = RANGES[option]

    def read(text: str) -> int:
        digits = text.strip().lstrip("+-")
        value = int(text) if digits.isdecimal() and len(digits) <= 30 else None
        if value is None or not low <= value <= high:
            msg = f"{abbreviate(text)} is not an integer in [{low}, {high}]"
            raise argparse.ArgumentTypeError(msg)
        return value

    return read


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        msg = f"{abbreviate(text)} is not a finite number"
        raise argparse.ArgumentTypeError(msg)
    return value


def _shown(path: str) -> str:
    """A path as typed, quoted where it is empty or starts or ends with a space, cut only when absurdly long."""
    return path if 0 < len(path) <= 300 and path.strip() == path else abbreviate(path)


def _check_output(command: str, path: str) -> Path:
    """``path`` checked as a figure's destination before any work: its suffix, that it can be written, and matplotlib.

    The file is opened for appending (so an existing one is not truncated) and a
    new one removed again: that asks the operating system itself, so a missing
    directory, a directory, a read-only place or a parent that is a file are all found.
    It is opened without blocking: a named pipe no process reads would wait for one
    for ever (the open then fails at once, ``ENXIO``).
    """
    try:
        target = check_path(path, folder=False)
    except ParameterError:
        msg = f"unit-init {command}: --plot {_shown(path)}: give a file name ending in {' or '.join(FORMATS)} (the suffix picks the format)"
        raise _UsageError(msg) from None
    try:
        existed = target.exists()  # in the try: a name too long for the file system raises here already
        os.close(os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0), 0o666))
    except OSError as error:
        reason = "a named pipe no process reads" if error.errno == errno.ENXIO else error.strerror or error
        msg = f"unit-init {command}: --plot {_shown(path)}: cannot write there ({reason})"
        raise _UsageError(msg) from None
    if not existed:
        target.unlink()
    if importlib.util.find_spec("matplotlib") is None:
        msg = f"unit-init {command}: --plot needs matplotlib, which is not installed: {install_hint('matplotlib', 'plot')}"
        raise _UsageError(msg)
    return target


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
    parser.add_argument("--backend", help="numpy (default, or $UNIT_INIT_BACKEND), torch, jax, tensorflow, or a known Array-API library (array_api_strict, cupy, dask.array, …)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N, gpu:N, mps, …")
    parser.add_argument("--dtype", help="float32 (default), float64, float16, bfloat16; sample also complex64, complex128, and integer or bool dtypes for deterministic initializers")
    parser.add_argument("--seed", type=_int_in("--seed"), default=0, help="int seed in [0, 2**63 - 1] (default 0)")


def _add_network(parser: argparse.ArgumentParser) -> None:
    activations = [*ACTIVATIONS, *ALIASES]
    parser.add_argument("--activation", default="relu", choices=activations, metavar="NAME", help=f"one of {', '.join(activations)} (default relu)")
    parser.add_argument("--activation-param", type=_finite_float, help="leaky_relu slope (0.01) or elu alpha (1.0)")
    parser.add_argument("--depth", type=_int_in("--depth"), default=50, help="layers, 1 to 10000 (default 50)")
    parser.add_argument("--width", type=_int_in("--width"), default=512, help="units per layer, 2 to 100000 (default 512)")
    parser.add_argument("--batch", type=_int_in("--batch"), default=256, help="inputs, 2 to 100000 (default 256)")
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
    _command(commands, "list", "the catalogue: each name ui.get knows, its parameters and formula", "Each is also known by its class name (he_normal: HeNormal); ConstantArray, whose value is an array, only by that.")
    show = _command(commands, "show", "formula, fans, variance and distribution of one initializer", f"{NAME_SYNTAX}\n\n{SHAPE_SYNTAX.format(command='show')}")
    show.add_argument("name", metavar="NAME", help=_NAME_HELP)
    _add_shape(show)
    show.add_argument("--layout", default="keras", choices=list(LAYOUTS), help=_LAYOUT_HELP)
    sample = _command(commands, "sample", "draw an array and compare its moments with the expected ones", f"{NAME_SYNTAX}\n\n{SHAPE_SYNTAX.format(command='sample')}")
    sample.add_argument("name", metavar="NAME", help=_NAME_HELP)
    _add_shape(sample)
    sample.add_argument("--layout", default="keras", choices=list(LAYOUTS), help=_LAYOUT_HELP)
    sample.add_argument("--rng", default="native", choices=list(RNG_MODES), help="native (default): the framework's generator; portable: the counter-based stream every backend shares (docs/reproducibility.md)")
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
    for name, cls in NAMED.items():
        fields = [f for f in dataclasses.fields(cls) if f.init and f.name != "seed"]
        parameters = ", ".join(
            f.name if f.default is dataclasses.MISSING else f"{f.name}={f.default!r}" for f in fields
        )
        rows.append([name, parameters or "-", formula(cls)])
    return table(["name", "parameters", "formula"], rows)


def _plain(value: float) -> str:
    """A number for a person: an integral value as an int, otherwise 6 significant digits; ``-`` for none."""
    value = float(value)  # a law may hold an int (random_uniform:minval=1)
    if math.isnan(value):
        return "-"
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.6g}"


def _expected_mean(distribution: Any) -> float:
    if isinstance(distribution, TruncatedGaussian):
        offset, _ = truncated_standard_normal_moments(distribution.low, distribution.high)
        return distribution.mean + distribution.std * offset
    return float(getattr(distribution, "mean", math.nan))


def _support(distribution: Any) -> tuple[float, float] | None:
    """The bounds every value lies in: the law's support, a single point for a normal of std 0 (``stddev=0``), ``None``
    for a law without one (constants, orthogonal, …)."""
    support: tuple[float, float] | None = getattr(distribution, "support", None)
    if support is not None and isinstance(distribution, Normal) and distribution.std == 0:
        return (distribution.mean, distribution.mean)
    return support


def _expected_std(spec: Any, shape: tuple[int, ...], layout: str) -> float:
    """The std of every element (``nan`` where they share none: identity), read from the law's ``standard_deviation``
    where it has one, which never squares its scale: a std of 1e200 has a variance float64 cannot hold."""
    try:
        variance = spec.variance(shape, layout=layout)
    except ParameterError:  # deterministic per position (identity)
        return math.nan
    distribution = spec.distribution_for(shape, layout=layout)
    if hasattr(distribution, "standard_deviation"):
        return float(distribution.standard_deviation)
    gain = getattr(spec, "gain", None)
    if not 0 < variance < math.inf and isinstance(gain, (int, float)) and gain and isinstance(spec, Initializer):
        unit: Initializer = dataclasses.replace(spec, gain=1.0)  # type: ignore[call-arg]  # a spec with a gain field
        return abs(gain) * math.sqrt(unit.variance(shape, layout=layout))  # gain² overflowed
    return math.sqrt(variance)


def _squared(std: float) -> str:
    """``std²`` for a person (:func:`_plain`), exact in magnitude where float64 cannot hold it (``1e+400``)."""
    variance = std * std
    if not math.isfinite(std) or (math.isfinite(variance) and (variance > 0 or std == 0)):  # nan, inf: as they are
        return _plain(variance)
    mantissa, _, exponent = f"{Decimal(std) ** 2:.5e}".partition("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{exponent}"


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
        ["variance", _squared(std)], ["std", _plain(std)], ["mean", _plain(_expected_mean(distribution))],
        ["distribution", repr(distribution)],
    ]
    support = _support(distribution)
    if support is not None:
        rows.append(["support", f"[{_plain(support[0])}, {_plain(support[1])}]"])
    floored = ["(a fan below 1 counts as 1 in the variance: docs/fans.md)"] if min(fans.fan_in, fans.fan_out) < 1 else []
    return "\n".join([*lines, "", f"for shape {dims}, layout {layout}:", table(["quantity", "value"], rows), *floored])


SAMPLE_PIECE: Final = 1 << 20
"""Values ``sample`` copies to the host and widens at a time: measuring an array holds no copy of the whole of it."""


class _Measured(NamedTuple):
    mean: Any  # complex for a complex array
    std: float  # (E|w − mean|²)^½
    low: float  # the real parts' min and max
    high: float
    farthest: float  # max |w − centre|


def _pieces(backend: Any, array: Any) -> Iterator[Any]:
    """``array``'s values in order, as float64 (complex128) NumPy arrays of at most :data:`SAMPLE_PIECE` values each."""
    import numpy as np

    flat, size = backend.xp.reshape(array, (-1,)), math.prod(array.shape)
    for start in range(0, size, SAMPLE_PIECE):
        piece = np.asarray(backend.to_numpy(flat[start : min(start + SAMPLE_PIECE, size)]))  # array_api_strict refuses a stop past the end
        yield piece.astype(np.complex128 if np.iscomplexobj(piece) else np.float64)


def _measure(backend: Any, array: Any, centre: float, *, complex_values: bool) -> _Measured:
    """The statistics of a non-empty array, in three passes over :func:`_pieces`.

    The mean and ``(E|w − mean|²)^½`` are summed over the values divided by
    their largest magnitude, so that neither overflows where the values are
    finite (a constant 1e308). A NaN shows as NaN (NumPy's ``minimum`` and
    ``maximum`` keep it).
    """
    import numpy as np

    size = math.prod(array.shape)
    low, high, farthest = math.inf, -math.inf, 0.0  # min and max of a real array; max |w − centre| of a complex one
    for piece in _pieces(backend, array):
        if complex_values:
            farthest = float(np.maximum(farthest, np.abs(piece - centre).max()))
        else:
            low, high = float(np.minimum(low, piece.min())), float(np.maximum(high, piece.max()))
    largest = farthest + abs(centre) if complex_values else max(abs(low), abs(high))  # at least the largest magnitude
    scale = largest if 0 < largest < math.inf else 1.0
    mean = sum((piece / scale).sum() for piece in _pieces(backend, array)) / size
    spread = sum(float((np.abs(piece / scale - mean) ** 2).sum()) for piece in _pieces(backend, array)) / size
    return _Measured(mean * scale, math.sqrt(spread) * scale, low, high, farthest)


def _sample(args: argparse.Namespace) -> str:
    dims = _shape(args)
    if dims is None:
        msg = f"unit-init sample: a shape is required: its dimensions after NAME ({args.name} 256 128) or with --shape 256 128"
        raise _UsageError(msg)
    _check_size(args.command, f"shape {dims}", math.prod(dims))
    spec = parse(args.name)
    target = resolve_target(args.backend, args.device, args.dtype)
    array = spec(dims, backend=target.backend, device=target.device, dtype=target.dtype, seed=args.seed, layout=args.layout, rng=args.rng)
    distribution = spec.distribution_for(dims, layout=args.layout)
    expected_mean, expected_std = _expected_mean(distribution), _expected_std(spec, dims, args.layout)
    centre = expected_mean if math.isfinite(expected_mean) else 0.0
    complex_values = "complex" in target.dtype
    measured = _measure(target.backend, array, centre, complex_values=complex_values) if math.prod(dims) else None
    if complex_values:  # E|w − mean|² is the variance; the modulus is bounded by the complex law's radius
        mean = complex(measured.mean) if measured else None
        shown_mean = f"{_plain(mean.real)}{'+' if mean.imag >= 0 else '-'}{_plain(abs(mean.imag))}j" if mean is not None else "-"
        radius = getattr(complex_law(spec, distribution), "radius", math.nan)
        rows = [
            ["mean", shown_mean, _plain(expected_mean)],
            ["std (E|w − mean|²)^½", _plain(measured.std if measured else math.nan), _plain(expected_std)],
            ["max |w − μ|", _plain(measured.farthest if measured else math.nan), _plain(radius)],
        ]
        note = "(μ: the law's mean; expected max: the radius of the complex law's support about it)"
    else:
        support = _support(distribution)
        low, high = support if support is not None else (math.nan, math.nan)
        values = [float(measured.mean), measured.std, measured.low, measured.high] if measured else [math.nan] * 4
        rows = [
            [name, _plain(m), _plain(e)]
            for name, m, e in zip(["mean", "std", "min", "max"], values, [expected_mean, expected_std, low, high], strict=True)
        ]
        note = "(expected min and max: the bounds of the distribution's support)" if support is not None else ""
    device = shown(target.backend.device_of(array))  # ndonnx's device has only its repr
    header = (
        f"{label(spec)}: shape {tuple(array.shape)}, dtype {target.backend.dtype_of(array)}, "
        f"device {device}, backend {target.backend.name}, seed {args.seed}" + (", rng portable" if args.rng == "portable" else "")
    )
    return f"{header}\n\n{table(['statistic', 'sample', 'expected'], rows)}" + (f"\n{note}" if note else "")


def _network_options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "activation": args.activation, "activation_param": args.activation_param, "depth": args.depth,
        "width": args.width, "batch": args.batch, "bias": args.bias, "backend": args.backend,
        "device": args.device, "dtype": args.dtype, "seed": args.seed,
    }


_Then = Callable[[], None] | None
"""What is left to do once the output is printed: write the figure (its path said on stderr)."""


def _diagnostics(args: argparse.Namespace) -> tuple[str, _Then]:
    plot = _check_output(args.command, args.plot) if args.plot is not None else None  # before the run, not after it; "" too
    progress = _announce if wanted() else None
    if args.command == "diagnose":
        if progress is not None:
            progress(1, 1, args.name)
        result: Any = diagnose(args.name, **_network_options(args))
    else:
        result = compare(args.names or None, progress=progress, **_network_options(args))
    output = json.dumps(result.to_dict(), indent=2, allow_nan=False) if args.json else str(result)
    if plot is None:
        return output, None

    def write_plot() -> None:
        try:
            result.plot(plot)
        except OSError as error:
            msg = f"unit-init {args.command}: --plot {_shown(args.plot)}: the figure could not be written ({error.strerror or error})"
            raise _UsageError(msg) from None
        print(f"plot saved to {args.plot}", file=sys.stderr)  # stdout carries only the result (a table or JSON)

    return output, write_plot


def _run(args: argparse.Namespace) -> tuple[str, _Then]:
    if args.command == "list":
        return _list(), None
    if args.command == "show":
        return _show(args.name, _shape(args), args.layout), None
    if args.command == "sample":
        return _sample(args), None
    return _diagnostics(args)


def _emit(text: str) -> None:
    """Print ``text`` (nothing for ""); a reader that left early (``unit-init list | head``) is not an error, a closed
    standard output or one that cannot take the text (``> /dev/full``) is an :class:`_OutputError`."""
    if not text:
        return
    if sys.stdout is None:  # started with it closed (>&-)
        msg = "standard output is closed"
        raise _OutputError(msg)
    try:
        print(text, flush=True)
    except OSError as error:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit-time flush of what is left stays quiet
        if not isinstance(error, BrokenPipeError):
            raise _OutputError(error.strerror or str(error)) from None


_OUT_OF_MEMORY_TYPES: Final = frozenset({"OutOfMemoryError", "ResourceExhaustedError"})  # torch's CUDA one; TensorFlow's
_OUT_OF_MEMORY_WORDS: Final = ("can't allocate memory", "RESOURCE_EXHAUSTED")  # torch's CPU allocator; XLA's


def _framework_out_of_memory(error: Exception) -> bool:
    """Whether ``error`` is a framework's own failed allocation (raised where ``UNIT_INIT_MAX_BYTES`` let a draw past
    the free memory): torch's ``OutOfMemoryError`` or CPU allocator's ``RuntimeError``, TensorFlow's
    ``ResourceExhaustedError``, XLA's ``RESOURCE_EXHAUSTED``; told by names, so no framework is imported."""
    if {cls.__name__ for cls in type(error).__mro__} & _OUT_OF_MEMORY_TYPES:
        return True
    return isinstance(error, RuntimeError) and any(words in str(error) for words in _OUT_OF_MEMORY_WORDS)


def _failed(args: argparse.Namespace | None) -> str:
    """The start of a failed run's line: ``unit-init list: error:``, or ``unit-init: error:`` before a command is read."""
    command = getattr(args, "command", None)
    return f"unit-init{f' {command}' if command else ''}: error:"


def _out_of_memory(args: argparse.Namespace | None, error: Exception) -> str:
    """One line for a run too large for memory, saying what to make smaller."""
    command = getattr(args, "command", None)
    smaller = "a smaller shape" if command in ("show", "sample") else "a smaller --depth, --width or --batch"
    detail = " ".join(str(error).split())
    return f"{_failed(args)} out of memory{f' ({detail})' if detail else ''}; try {smaller}"


def _numbers_attached(argv: Sequence[str]) -> list[str]:
    """``argv`` with a number after ``--activation-param`` (or its abbreviation) attached to it (``--activation-param=-1e-2``): argparse
    reads ``-1e-2`` or ``-inf`` standing alone as an option, and only ``-0.01``-like words as negative numbers.

    >>> _numbers_attached(["diagnose", "elu", "--activation-param", "-1e-2"])
    ['diagnose', 'elu', '--activation-param=-1e-2']
    """
    words = list(argv)
    for index in range(len(words) - 2, -1, -1):
        if _names_activation_param(words[index]) and _is_number(words[index + 1]):
            words[index : index + 2] = [f"{words[index]}={words[index + 1]}"]
    return words


def _names_activation_param(word: str) -> bool:
    """``--activation-param`` or an abbreviation argparse reads as it (``--activation-p``; ``--activation`` is another)."""
    return len(word) > len("--activation") and "--activation-param".startswith(word)


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``unit-init`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    0 on success (and for ``--help``, ``--version``); 2 on a bad argument, any
    :class:`unit_init.UnitInitError`, a run that does not fit in memory or an
    output that cannot be written (one line on stderr, no traceback); 130 when
    interrupted (Ctrl-C).

    Examples
    --------
    >>> from unit_init.cli import main
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
    given = list(sys.argv[1:] if argv is None else argv)
    if not given:  # a bare `unit-init`: the commands, on one line (status 2: none was run)
        names = next(action.choices for action in _parser()._actions if isinstance(action, argparse._SubParsersAction))
        print(f"unit-init: the following arguments are required: COMMAND, one of {', '.join(names)} "
              "(unit-init --help, unit-init COMMAND --help)", file=sys.stderr)
        return 2
    try:
        args = _parser().parse_args(_numbers_attached(given))
        output, then = _run(args)
        _emit(output)  # the table first: a figure that fails to write does not lose it
        if then is not None:
            then()
    except _UsageError as error:
        print(f"{error} (see unit-init --help)", file=sys.stderr)
        return 2
    except _OutputError as error:
        print(f"{_failed(args)} the output could not be written ({error})", file=sys.stderr)
        return 2
    except UnitInitError as error:
        print(f"unit-init: error: {error}", file=sys.stderr)
        return 2
    except MemoryError as error:
        print(_out_of_memory(args, error), file=sys.stderr)
        return 2
    except Exception as error:
        if not _framework_out_of_memory(error):
            raise
        print(_out_of_memory(args, error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("unit-init: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    return 0
