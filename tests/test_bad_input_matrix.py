"""The bad-input matrix: every hostile input kind, on every backend it applies to, gets its typed error.

Each :class:`Kind` is one bad input (a negative dimension, ``seed=10**5000``,
``device="cpu:²"``, a config nested 10⁵ deep, ``--depth 1000000000`` on the
CLI, an expanded tensor for a torch drop-in, …) with the outcome CONTRACT §5
gives it: an exception class name, ``"ok"`` or, for the CLI, ``"exit N"``.
Every case records ``(kind, backend, outcome)``; the tests assert

* 0 crashes: every exception is a :class:`~unit_init.UnitInitError` (the torch
  drop-ins' are also torch's own type), the CLI exits with a status, no process
  aborts (the huge requests run in a child process);
* 0 non-finite results from unit_init's own API;
* each outcome is the expected one;

and the observed outcomes are the table of ``docs/errors-table.md``: with
``UNIT_INIT_WRITE_DOCS=1`` the test writes it, otherwise (with all five backends
installed) it checks that the committed page is what it would write.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.errors import UnitInitError

BACKENDS: dict[str, str] = {  # column -> backend name
    "numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "array_api": "array_api_strict",
}
_FRAMEWORK = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "array_api": "array_api_strict"}
INSTALLED = tuple(col for col, module in _FRAMEWORK.items() if importlib.util.find_spec(module) is not None)
PAGE = Path(__file__).parents[1] / "docs" / "errors-table.md"
ANY = "any"  # the column of the kinds that do not depend on a backend
S = (4, 3)


@dataclass(frozen=True)
class Kind:
    """One bad input: ``call(backend_name)`` and its expected outcome (per column where it differs)."""

    name: str
    area: str
    call: Callable[[str], Any]
    expect: str
    per_backend: bool = True
    overrides: dict[str, str] = field(default_factory=dict)
    isolated: bool = False  # run in a child process (a huge request must not take this one down)
    drop_in: bool = False  # a torch drop-in: torch's types, and inf where torch gives inf
    torch_for: tuple[str, ...] = ()  # columns whose call builds a torch object (a drop-in needs torch in every column)

    def runnable(self, column: str) -> bool:
        """Whether this machine can run it: torch installed where the call needs it."""
        return "torch" in INSTALLED or not (self.drop_in or column in self.torch_for)

    def expected(self, column: str) -> str:
        return self.overrides.get(column, self.expect)


class _UnreadableDtype:
    """Passed as ``dtype=``: its ``.dtype`` is one NumPy cannot read (as a torch tensor's is), so ``np.dtype()`` raises ValueError."""

    dtype = "not a dtype at all"


def _like(backend: str, dtype: str = "float32") -> Any:
    """A native (4, 3) array of ``backend``'s framework."""
    if backend == "torch":
        import torch

        return torch.zeros(S, dtype=getattr(torch, dtype))
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.zeros(S, dtype=dtype)
    if backend == "jax":
        import jax.numpy as jnp

        return jnp.zeros(S, dtype=dtype)
    if backend == BACKENDS["array_api"]:
        import array_api_strict as xp

        return xp.zeros(S, dtype=getattr(xp, dtype))
    return np.zeros(S, dtype=dtype)


def _foreign_generator(backend: str) -> Any:
    """Another framework's generator: a torch one for NumPy and Array-API (which draw with NumPy's), a NumPy one elsewhere."""
    if backend in ("numpy", BACKENDS["array_api"]):
        import torch

        return torch.Generator().manual_seed(0)
    return np.random.default_rng(0)


def _nested(depth: int) -> dict[str, Any]:
    config: dict[str, Any] = {"class_name": "Zeros", "config": {}}
    for _ in range(depth):
        config = {"class_name": "Composed", "config": {"inner": config}}
    return config


def _cli(*argv: str) -> Callable[[str], Any]:
    def call(_: str) -> str:
        from unit_init.cli import main

        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                status = main(list(argv))
            except SystemExit as exit_:
                status = exit_.code if isinstance(exit_.code, int) else 2
        return f"exit {status}"

    return call


def _drop_in(fn: str, make: Callable[[], Any], **kwargs: Any) -> Callable[[str], Any]:
    def call(_: str) -> Any:
        import torch  # noqa: F401  # make() builds a torch tensor

        import unit_init.torch as init

        return getattr(init, fn)(make(), **kwargs)

    return call


def _torch(expr: str) -> Callable[[], Any]:
    def make() -> Any:
        import torch

        return eval(expr, {"torch": torch})

    return make


def _not_imported(name: str) -> Callable[[str], Any]:
    def call(column: str) -> Any:
        module = sys.modules.pop(name, None)
        try:
            return ui.zeros(S, backend=name)
        finally:
            imported = name in sys.modules
            if module is not None:
                sys.modules[name] = module
            assert not imported, f"backend={name!r} imported the module {name!r}"

    return call


def _with_env(var: str, value: str, call: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(column: str) -> Any:
        old = os.environ.get(var)
        os.environ[var] = value
        try:
            return call(column)
        finally:
            if old is None:
                del os.environ[var]
            else:
                os.environ[var] = old

    return wrapped


_HUGE = 10**5000
NO_FLOAT16 = {"array_api": "DTypeError"}  # array_api_strict has no float16
NOT_RUN = "n/a"  # a kind that cannot be built on that backend (a float16 array_api_strict array)
NAN, INF = math.nan, math.inf


def _kinds() -> list[Kind]:
    k: list[Kind] = []

    def add(name: str, area: str, call: Callable[[str], Any], expect: str, **options: Any) -> None:
        k.append(Kind(name, area, call, expect, **options))

    # shapes
    for name, shape, expect in [
        ("negative dimension", (-1, 3), "ShapeError"), ("float dimension", (2.5, 3), "ShapeError"),
        ("bool shape", True, "ShapeError"), ("bool dimension", (True, 3), "ShapeError"),
        ("string shape", "64", "ShapeError"), ("None shape", None, "ShapeError"), ("dict shape", {"a": 1}, "ShapeError"),
        ("set shape", {4, 3}, "ShapeError"), ("NumPy int array shape", np.array([4, 3]), "ok"),
        ("NumPy float array shape", np.array([4.0, 3.0]), "ShapeError"), ("2-D NumPy array shape", np.ones((2, 2), int), "ShapeError"),
        ("dimension 10**5000", (_HUGE,), "ShapeError"), ("NumPy int dimensions", (np.int64(4), np.int32(3)), "ok"),
        ("rank 33", (1,) * 33, "ShapeError"), ("rank 65", (1,) * 65, "ShapeError"), ("zero-size", (0, 3), "ok"),
        ("nested sequence shape", ((4,), 3), "ShapeError"), ("complex dimension", (4j, 3), "ShapeError"),
        ("zero-size with a dimension 2**70", (0, 2**70), "ShapeError"), ("dimension 10**400", (10**400, 2), "ShapeError"),
    ]:
        add(name, "shape", lambda b, shape=shape: ui.random_normal(shape, backend=b, seed=0), expect)
    add("rank too low for orthogonal", "shape", lambda b: ui.orthogonal((4,), backend=b, seed=0), "ShapeError")
    add("rank 1 for identity", "shape", lambda b: ui.identity((4,), backend=b), "ShapeError")
    add("rank 2 for dirac", "shape", lambda b: ui.dirac((4, 4), backend=b), "ShapeError")
    # dtypes
    for name, dtype, expect in [
        ("int32 dtype, random", "int32", "DTypeError"), ("bool dtype, random", "bool", "DTypeError"),
        ("unknown dtype", "float8", "DTypeError"), ("misspelt dtype", "flaot32", "DTypeError"),
        ("object dtype", object(), "DTypeError"), ("complex64 dtype, random", "complex64", "ok"),
        ("empty dtype", "", "DTypeError"), ("an object whose .dtype NumPy cannot read", _UnreadableDtype(), "DTypeError"),
    ]:
        add(name, "dtype", lambda b, dtype=dtype: ui.he_normal(S, backend=b, dtype=dtype, seed=0), expect)
    # Python's float is NumPy's and torch's float64; JAX refuses float64 unless its 64-bit mode is on
    add("Python float as dtype", "dtype", lambda b: ui.he_normal(S, backend=b, dtype=float, seed=0), "ok",
        overrides={"jax": "DTypeError"})
    add("int32 dtype, zeros", "dtype", lambda b: ui.zeros(S, backend=b, dtype="int32"), "ok")
    add("float16 dtype, orthogonal", "dtype", lambda b: ui.orthogonal(S, backend=b, dtype="float16", seed=0), "ok",
        overrides=NO_FLOAT16)
    # seeds
    for name, seed in [
        ("string seed", "abc"), ("negative seed", -1), ("float seed", 1.5), ("bool seed", True), ("seed 10**5000", _HUGE),
        ("seed 2**64", 2**64), ("list seed", [1, 2]), ("NaN seed", NAN), ("bytes seed", b"0"),
    ]:
        add(name, "seed", lambda b, seed=seed: ui.he_normal(S, backend=b, seed=seed), "SeedError")
    add("string seed, zeros", "seed", lambda b: ui.zeros(S, backend=b, seed="abc"), "SeedError")
    add("another framework's generator", "seed", lambda b: ui.he_normal(S, backend=b, seed=_foreign_generator(b)), "SeedError",
        torch_for=("numpy", "array_api"))
    add("NumPy int seed", "seed", lambda b: ui.he_normal(S, backend=b, seed=np.int64(3)), "ok")
    # devices
    for name, device in [
        ("device cpu:²", "cpu:²"), ("device /xyz", "/xyz"), ("device cuda:99", "cuda:99"), ("int device", 7),
        ("empty device", ""), ("device tpu:0", "tpu:0"), ("object device", object()), ("device cpu:-1", "cpu:-1"),
    ]:
        add(name, "device", lambda b, device=device: ui.he_normal(S, backend=b, device=device, seed=0), "DeviceError")
    add("meta device", "device", lambda b: ui.he_normal(S, backend=b, device="meta", seed=0), "DeviceError",
        overrides={"torch": "ok"})
    # backends (not per backend)
    for name, backend in [("unknown backend", "bogus"), ("int backend", 3), ("empty backend", ""), ("misspelt backend", "nupmy")]:
        add(name, "backend", lambda _, backend=backend: ui.zeros(S, backend=backend), "BackendError", per_backend=False)
    add("module that is not a backend (this)", "backend", _not_imported("this"), "BackendError", per_backend=False)
    add("module that is not a backend (json)", "backend", _not_imported("json"), "BackendError", per_backend=False)
    add("UNIT_INIT_BACKEND=this", "backend", _with_env("UNIT_INIT_BACKEND", "this", lambda _: ui.zeros(S)), "BackendError",
        per_backend=False)
    # parameters
    for name, fn, kwargs, expect in [
        ("stddev 1e308", ui.random_normal, {"stddev": 1e308}, "ParameterError"),
        ("stddev NaN", ui.random_normal, {"stddev": NAN}, "ParameterError"),
        ("negative stddev", ui.random_normal, {"stddev": -1.0}, "ParameterError"),
        ("stddev 10**5000", ui.random_normal, {"stddev": _HUGE}, "ParameterError"),
        ("string stddev", ui.random_normal, {"stddev": "1"}, "ParameterError"),
        ("mean inf", ui.random_normal, {"mean": INF}, "ParameterError"),
        ("uniform ±1e308", ui.random_uniform, {"minval": -1e308, "maxval": 1e308}, "ParameterError"),
        ("uniform ±3e38", ui.random_uniform, {"minval": -3e38, "maxval": 3e38}, "ParameterError"),
        ("uniform minval > maxval", ui.random_uniform, {"minval": 1.0, "maxval": 0.0}, "ParameterError"),
        ("uniform maxval 1e6 in float16", ui.random_uniform, {"maxval": 1e6, "dtype": "float16"}, "ParameterError|fp16"),
        ("uniform NaN bound", ui.random_uniform, {"minval": NAN}, "ParameterError"),
        ("constant 1e5 in float16", ui.constant, {"value": 1e5, "dtype": "float16"}, "ParameterError|fp16"),
        ("constant 1e39 in float32", ui.constant, {"value": 1e39}, "ParameterError"),
        ("constant NaN", ui.constant, {"value": NAN}, "ParameterError"),
        ("constant inf", ui.constant, {"value": INF}, "ParameterError"),
        ("string constant", ui.constant, {"value": "x"}, "ParameterError"),
        ("orthogonal gain 1e308", ui.orthogonal, {"gain": 1e308}, "ParameterError"),
        ("orthogonal gain NaN", ui.orthogonal, {"gain": NAN}, "ParameterError"),
        ("variance_scaling scale 0", ui.variance_scaling, {"scale": 0.0}, "ParameterError"),
        ("variance_scaling scale -1", ui.variance_scaling, {"scale": -1.0}, "ParameterError"),
        ("variance_scaling scale 1e308", ui.variance_scaling, {"scale": 1e308}, "ParameterError"),
        ("unknown mode", ui.variance_scaling, {"mode": "fan_inn"}, "ParameterError"),
        ("unknown distribution", ui.variance_scaling, {"distribution": "gaussian"}, "ParameterError"),
        ("callable distribution", ui.variance_scaling, {"distribution": print}, "ParameterError"),
        ("truncated_normal stddev 1e308", ui.truncated_normal, {"stddev": 1e308}, "ParameterError"),
        ("bounded_normal with no mass", ui.bounded_normal, {"minval": 40.0, "maxval": 41.0}, "ParameterError"),
        ("bounded_normal minval > maxval", ui.bounded_normal, {"minval": 1.0, "maxval": -1.0}, "ParameterError"),
        ("sparsity 1.5", ui.sparse, {"sparsity": 1.5}, "ParameterError"),
        ("sparsity NaN", ui.sparse, {"sparsity": NAN}, "ParameterError"),
        ("misspelt keyword stdev=", ui.random_normal, {"stdev": 1.0}, "ArgumentError"),
        ("unknown keyword", ui.he_normal, {"foo": 1}, "ArgumentError"),
        ("negative fan_in", ui.he_normal, {"fan_in": -3}, "ParameterError"),
        ("NaN fan_in", ui.he_normal, {"fan_in": NAN}, "ParameterError"),
        ("string fan_out", ui.he_normal, {"fan_out": "3"}, "ParameterError"),
        ("negative fan_in, unused", ui.random_normal, {"fan_in": -3}, "ParameterError"),
        ("missing required parameter (sparse without sparsity)", ui.sparse, {}, "ArgumentError"),
        ("None bound", ui.bounded_normal, {"minval": None}, "ParameterError"),
        ("bound 10**400", ui.bounded_normal, {"maxval": 10**400}, "ParameterError"),
        ("gain 10**400", ui.orthogonal, {"gain": 10**400}, "ParameterError"),
        ("xavier gain 1e308 (its square overflows)", ui.xavier_normal, {"gain": 1e308}, "ParameterError"),
        ("kaiming slope a=1e308 (its square overflows)", ui.kaiming_uniform, {"a": 1e308}, "ParameterError"),
        ("mode as an array", ui.variance_scaling, {"mode": np.array(["fan_in", "fan_out"])}, "ParameterError"),
        ("nonlinearity as an array", ui.kaiming_normal, {"nonlinearity": np.array(["relu", "tanh"])}, "ParameterError"),
        ("truncation bounds ±1e308 std", ui.truncated_normal, {"lower": -1e308, "upper": 1e308}, "ok"),
        ("truncation bound -10 std (past erf's float32 reach)", ui.truncated_normal, {"lower": -10.0}, "ok"),
        ("bounded_normal minval -1e308", ui.bounded_normal, {"minval": -1e308}, "ok"),
        ("int stddev 2**31 (JAX's int32 arithmetic overflowed)", ui.random_normal, {"stddev": 2**31}, "ok"),
        ("int bounds ±2**31", ui.random_uniform, {"minval": -(2**31), "maxval": 2**31}, "ok"),
        ("int mean and stddev 2**31, truncated", ui.truncated_normal, {"mean": 2**31, "stddev": 2**31}, "ok"),
        ("int orthogonal gain 2**64 (torch's mul_ overflowed)", ui.orthogonal, {"gain": 2**64}, "ok"),
        ("int identity gain 2**64", ui.identity, {"gain": 2**64}, "ok"),
    ]:
        add(name, "parameter", lambda b, fn=fn, kwargs=kwargs: fn(S, backend=b, seed=0, **kwargs), expect.removesuffix("|fp16"),
            overrides=NO_FLOAT16 if expect.endswith("|fp16") else {})
    flushing = {"tensorflow": "ParameterError", "jax": "ParameterError"}  # XLA flushes subnormal results to 0
    add("uniform ±1e-40, subnormal in float32 (JAX and TF gave all zeros)", "parameter",
        lambda b: ui.random_uniform(S, backend=b, seed=0, minval=-1e-40, maxval=1e-40), "ok", overrides=flushing)
    add("normal stddev 1e-39 in bfloat16", "parameter",
        lambda b: ui.random_normal(S, backend=b, seed=0, stddev=1e-39, dtype="bfloat16"), "ok",
        overrides={**flushing, "array_api": "DTypeError"})
    add("truncated normal stddev 1e-38 (rms 8.8e-39; judged by its 2σ reach, JAX and TF gave all zeros)", "parameter",
        lambda b: ui.truncated_normal(S, backend=b, seed=0, stddev=1e-38), "ok", overrides=flushing)
    add("uniform ±1.5e-38 (rms 8.7e-39; judged by its bound, JAX and TF gave 78 % zeros)", "parameter",
        lambda b: ui.random_uniform(S, backend=b, seed=0, minval=-1.5e-38, maxval=1.5e-38), "ok", overrides=flushing)
    add("truncated normal stddev 1e-37 on [20, 21] std (values 2e-36, normal numbers)", "parameter",
        lambda b: ui.truncated_normal(S, backend=b, seed=0, stddev=1e-37, lower=20.0, upper=21.0), "ok")
    add("0-d truncated normal on [-3, -1] std (NumPy's minus made it a scalar)", "shape",
        lambda b: ui.truncated_normal((), backend=b, seed=0, lower=-3.0, upper=-1.0), "ok")
    add("dirac groups 0", "parameter", lambda b: ui.dirac((4, 4, 3), backend=b, groups=0, layout="torch"), "ParameterError")
    add("dirac groups not dividing the out axis", "shape",
        lambda b: ui.dirac((4, 4, 3), backend=b, groups=3, layout="torch"), "ShapeError")
    # layouts, rng, region, like
    add("unknown layout", "layout", lambda b: ui.he_normal(S, backend=b, layout="bogus", seed=0), "ParameterError")
    add("unknown layout, rank 1", "layout", lambda b: ui.he_normal((4,), backend=b, layout="bogus", seed=0), "ParameterError")
    add("layout axis out of range", "layout",
        lambda b: ui.he_normal(S, backend=b, layout=ui.Layout(in_axis=5, out_axis=0), seed=0), "ShapeError")
    add("int layout", "layout", lambda b: ui.he_normal(S, backend=b, layout=1, seed=0), "ParameterError")
    add("unknown rng", "rng", lambda b: ui.he_normal(S, backend=b, rng="bogus", seed=0), "ParameterError")
    add("portable rng", "rng", lambda b: ui.he_normal(S, backend=b, rng="portable", seed=0), "ok")
    for name, region in [
        ("region slice('a', 2)", (slice("a", 2),)), ("region with more slices than axes", (slice(0, 1),) * 3),
        ("region step 2", (slice(0, 4, 2),)), ("int region", 5), ("string region", "0:2"),
    ]:
        add(name, "region", lambda b, region=region: ui.he_normal(S, backend=b, rng="portable", region=region, seed=0),
            "ParameterError")
    add("like a list", "like", lambda b: ui.he_normal(S, like=[1, 2], seed=0), "BackendError", per_backend=False)
    add("like an int array, random", "like", lambda b: ui.he_normal(S, like=_like(b, "int32"), seed=0), "DTypeError")
    add("like a float16 array", "like", lambda b: ui.he_normal(S, like=_like(b, "float16"), seed=0), "ok",
        overrides={"array_api": NOT_RUN})
    # spec classes
    add("spec with negative scale", "spec", lambda _: ui.VarianceScaling(scale=-1.0), "ParameterError", per_backend=False)
    add("spec with string seed", "spec", lambda _: ui.HeNormal(seed="x"), "SeedError", per_backend=False)
    add("spec positional string", "spec", lambda _: ui.RandomNormal("a"), "ParameterError", per_backend=False)
    add("spec call, negative shape", "spec", lambda b: ui.HeNormal()((-1, 3), backend=b, seed=0), "ShapeError")
    add("spec call, misspelt keyword", "spec", lambda b: ui.HeNormal()(S, backend=b, sed=0), "ArgumentError")
    add("spec call, bad dtype", "spec", lambda b: ui.GlorotUniform()(S, backend=b, dtype="int8", seed=0), "DTypeError")
    # memory (each in a child process: without a guard these abort or exhaust the machine)
    for name, call in [
        ("he_normal (10**6, 10**6)", lambda b: ui.he_normal((10**6, 10**6), backend=b, seed=0)),
        ("zeros (2**20, 2**20, 2**10)", lambda b: ui.zeros((2**20, 2**20, 2**10), backend=b)),
        ("random_normal (10**9, 10**9)", lambda b: ui.random_normal((10**9, 10**9), backend=b, seed=0)),
        ("orthogonal (10**5, 10**5)", lambda b: ui.orthogonal((10**5, 10**5), backend=b, seed=0)),
    ]:
        add(name, "memory", call, "ResourceError", isolated=True)
    for name, call in [  # more elements than an int64 counts: a shape error before any size estimate
        ("zeros (2**31, 2**32)", lambda b: ui.zeros((2**31, 2**32), backend=b)),
        ("random_normal 1e20 elements", lambda b: ui.random_normal((10**10, 10**10), backend=b, seed=0)),
    ]:
        add(name, "memory", call, "ShapeError", isolated=True)
    add("UNIT_INIT_MAX_BYTES=1000", "memory",
        _with_env("UNIT_INIT_MAX_BYTES", "1000", lambda b: ui.he_normal((100, 100), backend=b, seed=0)), "ResourceError")
    # deserialization (not per backend)
    for name, config in [
        ("unknown class_name", {"class_name": "Bogus", "config": {}}), ("config not a mapping", 42),
        ("config nested 10**5 deep", _nested(10**5)), ("parameter 10**5000 in a config", {"class_name": "RandomNormal", "config": {"stddev": _HUGE}}),
        ("class_name of 10**6 characters", {"class_name": "x" * 10**6, "config": {}}),
        ("unknown key in a config", {"class_name": "RandomNormal", "config": {"stdev": 1.0}}),
        ("config with a list class_name", {"class_name": ["Zeros"], "config": {}}),
        ("config with NaN parameter", {"class_name": "RandomNormal", "config": {"stddev": NAN}}),
    ]:
        add(name, "deserialization", lambda _, config=config: ui.deserialize(config), "ParameterError", per_backend=False)
    add("get of an unknown name", "deserialization", lambda _: ui.get("he_normall"), "ParameterError", per_backend=False)
    add("get of an int", "deserialization", lambda _: ui.get(3), "ParameterError", per_backend=False)
    add("empty preset config", "deserialization", lambda _: ui.deserialize_preset({}), "ParameterError", per_backend=False)
    add("preset nested 10**5 deep", "deserialization", lambda _: ui.deserialize_preset(_nested(10**5)), "ParameterError",
        per_backend=False)
    # the CLI (not per backend)
    for name, argv, expect in [
        ("--depth 1000000000", ("diagnose", "he_normal", "--depth", "1000000000"), "exit 2"),
        ("--width 1000000000", ("diagnose", "he_normal", "--width", "1000000000"), "exit 2"),
        ("sample 100000 × 100000", ("sample", "he_normal", "100000", "100000"), "exit 2"),
        ("--plot to a missing folder", ("diagnose", "he_normal", "--depth", "2", "--width", "8", "--batch", "4",
                                       "--plot", "/nonexistent-dir/x.png"), "exit 2"),
        ("unknown initializer", ("show", "bogus", "4", "4"), "exit 2"),
        ("--backend json", ("sample", "he_normal", "4", "4", "--backend", "json"), "exit 2"),
        ("--dtype float8", ("sample", "he_normal", "4", "4", "--dtype", "float8"), "exit 2"),
        ("stddev=1e308 in a NAME", ("sample", "random_normal:stddev=1e308", "4", "4"), "exit 2"),
        ("negative --shape", ("sample", "he_normal", "--shape", "-1", "4"), "exit 2"),
        ("unknown command", ("bogus",), "exit 2"),
        ("--device cpu:²", ("sample", "he_normal", "4", "4", "--device", "cpu:²"), "exit 2"),
        ("--version", ("--version",), "exit 0"),
    ]:
        add(f"CLI {name}", "cli", _cli(*argv), expect, per_backend=False)
    # the torch drop-ins (not per backend): torch's type, also a UnitInitError
    for name, fn, make, kwargs, expect in [
        ("uniform_ a > b", "uniform_", "torch.empty(4, 3)", {"a": 2.0, "b": 1.0}, "TorchRuntimeError"),
        ("orthogonal_ on complex", "orthogonal_", "torch.empty(4, 3, dtype=torch.complex64)", {}, "TorchNotImplementedError"),
        ("kaiming_normal_ unknown mode", "kaiming_normal_", "torch.empty(4, 3)", {"mode": "bogus"}, "ParameterError"),
        ("trunc_normal_ a=5, b=6", "trunc_normal_", "torch.empty(4, 3)", {"a": 5.0, "b": 6.0}, "ok"),
        ("sparse_ sparsity 1.5", "sparse_", "torch.empty(4, 3)", {"sparsity": 1.5}, "ok"),
        ("constant_ 1e5 on float16", "constant_", "torch.empty(4, 3, dtype=torch.float16)", {"val": 1e5}, "TorchRuntimeError"),
        ("normal_ std 1e6 on float16 (inf, as torch)", "normal_", "torch.empty(4, 3, dtype=torch.float16)", {"std": 1e6}, "ok"),
        ("eye_ on an expanded tensor", "eye_", "torch.empty(1, 3).expand(4, 3)", {}, "ok"),
        ("zeros_ on a sparse tensor", "zeros_", "torch.zeros(4, 3).to_sparse()", {}, "ok"),
        ("normal_ on a sparse tensor", "normal_", "torch.zeros(4, 3).to_sparse()", {}, "TorchNotImplementedError"),
        ("xavier_uniform_ on an expanded tensor", "xavier_uniform_", "torch.empty(1, 3).expand(4, 3)", {}, "TorchRuntimeError"),
        ("normal_ with an int generator", "normal_", "torch.empty(4, 3)", {"generator": 0}, "SeedError"),
        ("xavier_normal_ on 1-D", "xavier_normal_", "torch.empty(4)", {}, "ShapeError"),
        ("xavier_uniform_ string gain", "xavier_uniform_", "torch.empty(4, 3)", {"gain": "1"}, "TorchTypeError"),
        ("trunc_normal_ std 0", "trunc_normal_", "torch.empty(4, 3)", {"std": 0.0}, "TorchZeroDivisionError"),
        ("normal_ on int64", "normal_", "torch.zeros(4, 3, dtype=torch.int64)", {}, "TorchNotImplementedError"),
        ("dirac_ with a zero-size window", "dirac_", "torch.empty(3, 3, 0)", {}, "TorchIndexError"),
    ]:
        add(f"torch {name}", "torch drop-in", _drop_in(fn, _torch(make), **kwargs), expect, per_backend=False, drop_in=True)
    return k


KINDS = _kinds()


def _finite(result: Any) -> bool:
    """Whether every element of a native array is finite (``True`` for non-arrays and non-float dtypes)."""
    if isinstance(result, str) or result is None or isinstance(result, ui.Initializer | ui.LayerPreset):
        return True
    if type(result).__module__.startswith("torch"):
        if result.device.type == "meta" or not result.is_floating_point():
            return True
        return bool(result.float().isfinite().all()) if str(result.layout) == "torch.strided" else True
    if type(result).__module__.startswith("array_api_strict"):
        result = result._array
    values = np.asarray(result)
    if np.issubdtype(values.dtype, np.complexfloating):
        return bool(np.isfinite(values).all())
    return not np.issubdtype(values.dtype, np.number) or bool(np.isfinite(values.astype(np.float64)).all())


def outcome(kind: Kind, column: str) -> str:
    """What ``kind`` does on ``column``: ``"ok"``, ``"exit N"``, an error class name, or ``"crash: <type>"``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = kind.call(BACKENDS.get(column, column))
        except UnitInitError as error:
            return type(error).__name__
        except Exception as error:
            return f"crash: {type(error).__name__}: {str(error)[:120]}"
    if isinstance(result, str) and result.startswith("exit"):
        return result
    if not kind.drop_in and not _finite(result):
        return "non-finite result"
    return "ok"


def _isolated(cases: list[tuple[Kind, str]]) -> dict[tuple[str, str], str]:
    """Run ``cases`` in one child process (4 min at most); a signal or a timeout is recorded as such."""
    wanted = json.dumps([[kind.name, column] for kind, column in cases])
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import test_bad_input_matrix as m; "
        "kinds = {k.name: k for k in m.KINDS}; "
        "[print(json.dumps([n, c, m.outcome(kinds[n], c)]), flush=True) for n, c in json.loads(sys.argv[2])]"
    )
    found: dict[tuple[str, str], str] = {}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(Path(__file__).parent), wanted], capture_output=True, text=True, timeout=240, check=False
        )
        lines, status = done.stdout, f"process exited {done.returncode}"
    except subprocess.TimeoutExpired as timeout:
        lines, status = (timeout.stdout or b"").decode() if isinstance(timeout.stdout, bytes) else (timeout.stdout or ""), "hang"
    for line in lines.splitlines():
        name, column, result = json.loads(line)
        found[name, column] = result
    return {(kind.name, column): found.get((kind.name, column), f"crash: {status}") for kind, column in cases}


def cases() -> list[tuple[Kind, str]]:
    """Every (kind, column) to run: per-backend kinds on each installed backend, the others once."""
    columns = {kind.name: INSTALLED if kind.per_backend else (ANY,) for kind in KINDS}
    return [
        (kind, column) for kind in KINDS for column in columns[kind.name] if kind.expected(column) != NOT_RUN and kind.runnable(column)
    ]


@pytest.fixture(scope="module")
def observed() -> dict[tuple[str, str], str]:
    todo = cases()
    results = {(kind.name, column): outcome(kind, column) for kind, column in todo if not kind.isolated}
    results.update(_isolated([(kind, column) for kind, column in todo if kind.isolated]))
    return results


def _cell(result: str) -> str:
    """A table cell: the outcome, a crash by its exception type only (its message may hold addresses)."""
    return "`" + ":".join(result.split(":")[:2]) + "`"


def _verdict(results: dict[tuple[str, str], str]) -> str:
    bad = sum(result.startswith(("crash", "non-finite")) for result in results.values())
    if not bad:
        return ("No case crashes, aborts, hangs or returns an inf or a nan, but where a torch drop-in follows "
                "`torch.nn.init` (rows saying \"as torch\"; see [Representability](errors.md#representability)).")
    return f"{bad} of {len(results)} cases still crash or return inf/nan (marked `crash`): open bugs."


def table(results: dict[tuple[str, str], str]) -> str:
    """The page ``docs/errors-table.md``: per-backend kinds, then the kinds that do not depend on a backend."""
    def per_backend() -> Iterator[str]:
        yield "| area | bad input | " + " | ".join(BACKENDS) + " |"
        yield "|---|---|" + "---|" * len(BACKENDS)
        for kind in (k for k in KINDS if k.per_backend):
            cells = [results.get((kind.name, column), NOT_RUN if kind.expected(column) == NOT_RUN else "not installed")
                     for column in BACKENDS]
            yield f"| {kind.area} | {kind.name} | " + " | ".join(_cell(cell) for cell in cells) + " |"

    def once() -> Iterator[str]:
        yield "| area | bad input | outcome |"
        yield "|---|---|---|"
        for kind in (k for k in KINDS if not k.per_backend):
            yield f"| {kind.area} | {kind.name} | {_cell(results[kind.name, ANY])} |"

    per, single = [k for k in KINDS if k.per_backend], [k for k in KINDS if not k.per_backend]
    return "\n".join([
        "# Bad-input table",
        "",
        "<!-- generated by tests/test_bad_input_matrix.py: UNIT_INIT_WRITE_DOCS=1 pytest tests/test_bad_input_matrix.py -->",
        "",
        f"Every bad input the tests try ({len(KINDS)} kinds: {len(per)} on each of the five backends, {len(single)} that do",
        "not depend on one) and what it gets: the error class (each is a `ui.UnitInitError` and the built-in type of",
        "[Errors](errors.md); the torch drop-ins' are also torch's own type), `ok` for an input that is valid, or the",
        f"CLI's exit status. {_verdict(results)}",
        "",
        "## On every backend",
        "",
        *per_backend(),
        "",
        "## Backend-free: names, deserialization, the CLI, the torch drop-ins",
        "",
        *once(),
        "",
    ])


def test_at_least_100_kinds() -> None:
    assert len(KINDS) >= 100
    assert len({kind.name for kind in KINDS}) == len(KINDS), "kind names must be unique"


def test_no_crash_and_no_non_finite_result(observed: dict[tuple[str, str], str]) -> None:
    bad = {case: result for case, result in observed.items() if result.startswith(("crash", "non-finite"))}
    assert not bad, f"{len(bad)} of {len(observed)} cases crash or return inf/nan:\n" + "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_each_kind_gets_its_error(observed: dict[tuple[str, str], str]) -> None:
    kinds = {kind.name: kind for kind in KINDS}
    wrong = {
        case: (result, kinds[case[0]].expected(case[1]))
        for case, result in observed.items() if result != kinds[case[0]].expected(case[1])
    }
    assert not wrong, f"{len(wrong)} of {len(observed)} cases get another outcome (got, expected):\n" + "\n".join(
        f"{k}: {v}" for k, v in wrong.items()
    )


def test_the_docs_table_is_what_the_tests_observe(observed: dict[tuple[str, str], str]) -> None:
    if len(INSTALLED) < len(BACKENDS):
        pytest.skip(f"the table needs all five backends; installed: {', '.join(INSTALLED)}")
    text = table(observed)
    if os.environ.get("UNIT_INIT_WRITE_DOCS") == "1":
        PAGE.write_text(text, encoding="utf-8")
        return
    assert PAGE.read_text(encoding="utf-8") == text, "docs/errors-table.md is stale: rerun with UNIT_INIT_WRITE_DOCS=1"
