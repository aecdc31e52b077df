"""The torch drop-ins on bad input: the same outcome as ``torch.nn.init`` on every probe.

Each probe is one drop-in × one hostile tensor (expanded, non-contiguous,
sparse, empty, 0-d, 1-d, meta, integer, bool, complex, half precision, a leaf
that requires grad, a strided view, …) or one drop-in × one hostile argument
(NaN/inf/negative/huge/wrong-typed gains, std, bounds, sparsity, modes,
nonlinearities, generators of another type). Both ``torch.nn.init`` and
``unit_init.torch`` run it, after the same ``torch.manual_seed``, and must agree:

* torch raises ``T`` → unit_init raises an exception that is a ``T`` *and* a
  :class:`~unit_init.errors.UnitInitError`;
* torch succeeds → unit_init succeeds, with the same dtype, shape, device and
  layout, finite wherever torch is finite, equal for the deterministic fills,
  and with a warning wherever torch's result is not finite but every argument was.

Run ``python tests/test_torch_bad_input.py`` for the table of mismatches.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.init as torch_init  # noqa: E402

import unit_init.torch as ui_init  # noqa: E402
from unit_init.errors import UnitInitError  # noqa: E402


def _complex_half() -> torch.Tensor:
    """A complex32 tensor, made without torch's warning that its support is experimental."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.zeros(4, 3, dtype=torch.complex32)


TENSORS: dict[str, Callable[[], Any]] = {
    "f32": lambda: torch.empty(4, 3),
    "f64": lambda: torch.empty(4, 3, dtype=torch.float64),
    "f16": lambda: torch.empty(4, 3, dtype=torch.float16),
    "bf16": lambda: torch.empty(4, 3, dtype=torch.bfloat16),
    "c64": lambda: torch.empty(4, 3, dtype=torch.complex64),
    "int64": lambda: torch.zeros(4, 3, dtype=torch.int64),
    "uint8": lambda: torch.zeros(4, 3, dtype=torch.uint8),
    "bool": lambda: torch.zeros(4, 3, dtype=torch.bool),
    "expanded": lambda: torch.empty(1, 3).expand(4, 3),
    "transposed": lambda: torch.empty(3, 4).t(),
    "strided_view": lambda: torch.empty(8, 3)[::2],
    "sparse_coo": lambda: torch.zeros(4, 3).to_sparse(),
    "zero_rows": lambda: torch.empty(0, 3),
    "zero_cols": lambda: torch.empty(4, 0),
    "zero_both": lambda: torch.empty(0, 0),  # no fan at all: torch's xavier_* divide by fan_in + fan_out = 0
    "zero_both_3d": lambda: torch.empty(0, 0, 3),
    "0d": lambda: torch.tensor(0.5),
    "1d": lambda: torch.empty(5),
    "3d": lambda: torch.empty(4, 2, 3),
    "5d": lambda: torch.empty(4, 2, 3, 3, 3),
    "meta": lambda: torch.empty(4, 3, device="meta"),
    "leaf_requires_grad": lambda: torch.empty(4, 3, requires_grad=True),
    "parameter": lambda: torch.nn.Parameter(torch.empty(4, 3)),
    "channels_last": lambda: torch.empty(4, 2, 3, 3).to(memory_format=torch.channels_last),
    "uint16": lambda: torch.zeros(4, 3, dtype=torch.uint16),  # torch's eye has no kernel for it
    "complex32": lambda: _complex_half(),
    "float8": lambda: torch.empty(4, 3, dtype=torch.float8_e4m3fn),  # torch has no isfinite for it
    "float8_3d": lambda: torch.empty(4, 2, 3, dtype=torch.float8_e4m3fn),
    "float4": lambda: torch.zeros(4, 3, dtype=torch.float4_e2m1fn_x2),  # no isfinite, no float(): zeros_ fills it
    "zero_window_3d": lambda: torch.empty(3, 3, 0),  # dirac_: no centre tap (torch's IndexError)
    "zero_window_4d": lambda: torch.empty(2, 2, 0, 3),
    "expanded_zero_window": lambda: torch.zeros(1, 3, 0).expand(3, 3, 0),
}

# per drop-in: the hostile arguments (each probed on a float32 (4, 3) tensor; dirac_ on (4, 2, 3))
NAN, INF = math.nan, math.inf
ARGS: dict[str, list[dict[str, Any]]] = {
    "uniform_": [
        {"a": NAN}, {"b": INF}, {"a": -INF, "b": INF}, {"a": 2.0, "b": 1.0}, {"a": 1.0, "b": 1.0},
        {"a": -1e308, "b": 1e308}, {"a": -3e38, "b": 3e38}, {"a": 0.0, "b": 1e39}, {"a": "0"}, {"a": None},
        {"a": 1j}, {"a": True, "b": 2}, {"a": 10**400}, {"b": np.array(2.0)}, {"b": Fraction(1, 2)}, {"b": np.float32(2.0)},
        {"b": torch.tensor(2.0)}, {"b": torch.tensor(2.0, requires_grad=True)},
    ],
    "normal_": [
        {"std": -1.0}, {"std": NAN}, {"std": INF}, {"mean": NAN}, {"mean": INF}, {"std": 0.0}, {"std": 1e308},
        {"mean": 1e308}, {"std": 1e39}, {"std": "1"}, {"std": None}, {"mean": 1j}, {"std": 10**400},
        {"std": np.array(2.0)}, {"std": Fraction(1, 2)}, {"mean": Decimal(1)}, {"std": torch.tensor(2.0, requires_grad=True)},
        {"std": np.float16(2.0)}, {"std": torch.tensor(2.0)},
    ],
    "trunc_normal_": [
        {"a": 5.0, "b": 6.0}, {"a": 2.0, "b": 1.0}, {"a": 0.0, "b": 0.0}, {"std": 0.0}, {"std": -1.0},
        {"a": NAN}, {"mean": NAN}, {"std": INF}, {"a": -INF, "b": INF}, {"a": 40.0, "b": 41.0},
        {"std": 1e308}, {"a": "0"}, {"mean": 1e39, "a": -INF, "b": INF},
        # numbers torch's parser refuses: which of them torch refuses depends on the sampler its interval takes
        *({name: value} for name in ("mean", "std") for value in (np.array(0.5), Fraction(1, 2), torch.tensor(0.5, requires_grad=True))),
        *({name: value} for name, value in (("a", np.array(-2.0)), ("a", Fraction(-2)), ("b", torch.tensor(2.0, requires_grad=True)))),
        *({"a": 1.0, "b": 2.0, name: value} for name, value in (
            ("mean", np.array(0.0)), ("mean", torch.tensor(0.0, requires_grad=True)), ("a", Fraction(1)), ("b", np.array(2.0)),
            ("b", torch.tensor(2.0, requires_grad=True)),
        )),
        {"b": 1e30, "a": Fraction(40)}, {"a": 40.0, "b": 1e30, "mean": np.array(0.0)},  # torch raises before its loop
    ],
    "constant_": [
        {"val": 1e5}, {"val": NAN}, {"val": INF}, {"val": -INF}, {"val": 1e39}, {"val": 1e308}, {"val": "x"},
        {"val": None}, {"val": 1 + 2j}, {"val": True}, {"val": 10**30}, {"val": 10**400}, {"val": -1},
        {"val": np.float64(2.5)}, {"val": torch.tensor(3.0)},
    ],
    "dirac_": [{"groups": 0}, {"groups": -1}, {"groups": 2}, {"groups": 3}, {"groups": 1.5}, {"groups": "1"}],
    "xavier_uniform_": [
        {"gain": NAN}, {"gain": INF}, {"gain": -1.0}, {"gain": 0.0}, {"gain": 1e308}, {"gain": 1e20},
        {"gain": "1"}, {"gain": None}, {"gain": 1j},
    ],
    "xavier_normal_": [
        {"gain": NAN}, {"gain": INF}, {"gain": -1.0}, {"gain": 0.0}, {"gain": 1e308}, {"gain": 1e20},
        {"gain": "1"}, {"gain": None},
    ],
    "kaiming_uniform_": [
        {"a": NAN}, {"a": -1.0}, {"a": 1e308}, {"mode": "bogus"}, {"mode": "FAN_OUT"}, {"mode": 3},
        {"nonlinearity": "bogus"}, {"nonlinearity": "tanh"}, {"nonlinearity": "selu"},
        {"nonlinearity": "conv2d"}, {"nonlinearity": "relu", "a": "x"}, {"nonlinearity": "leaky_relu", "a": True},
        {"nonlinearity": None}, {"a": torch.tensor(0.2)}, {"a": np.float64(0.2)},
    ],
    "kaiming_normal_": [
        {"a": NAN}, {"a": -1.0}, {"a": INF}, {"mode": "bogus"}, {"mode": "Fan_In"},
        {"nonlinearity": "bogus"}, {"nonlinearity": "sigmoid"}, {"nonlinearity": "leaky_relu", "a": "x"},
        {"a": np.float32(0.2)}, {"a": np.array(0.2)}, {"nonlinearity": "relu", "a": np.float32(0.2)},
    ],
    "orthogonal_": [
        {"gain": NAN}, {"gain": INF}, {"gain": -1.0}, {"gain": 0.0}, {"gain": 1e308}, {"gain": 1e20},
        {"gain": "1"}, {"gain": None}, {"gain": np.array(2.0)}, {"gain": Fraction(2)}, {"gain": np.float32(2.0)},
    ],
    "sparse_": [
        {"sparsity": 1.5}, {"sparsity": -0.5}, {"sparsity": NAN}, {"sparsity": 0.0}, {"sparsity": 1.0},
        {"sparsity": 0.5, "std": -1.0}, {"sparsity": 0.5, "std": NAN}, {"sparsity": 0.5, "std": 0.0},
        {"sparsity": 0.5, "std": 1e308}, {"sparsity": "0.5"}, {"sparsity": None}, {"sparsity": 0.5, "std": np.array(0.1)},
        {"sparsity": 0.5, "std": torch.tensor(0.1, requires_grad=True)}, {"sparsity": 0.5, "std": np.float32(0.1)},
    ],
}
# the generators any drawing drop-in is probed with (torch: TypeError for anything but a torch.Generator)
GENERATORS: list[Any] = [0, np.random.default_rng(0), "cpu", torch.Generator().manual_seed(0)]
DROP_INS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)
DRAWING = ("uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
           "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_")
DETERMINISTIC = ("constant_", "ones_", "zeros_", "eye_", "dirac_")
REQUIRED = {"constant_": {"val": 0.25}, "sparse_": {"sparsity": 0.5}}


@dataclass(frozen=True)
class Probe:
    """One call: ``fn(TENSORS[tensor](), **kwargs)``."""

    fn: str
    tensor: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        args = ",".join(f"{k}={v!r}"[:40] for k, v in self.kwargs.items())
        return f"{self.fn}-{self.tensor}-{args}"


def probes() -> list[Probe]:
    """Every drop-in on every hostile tensor, then on every hostile argument and generator."""
    out = [Probe(fn, tensor, dict(REQUIRED.get(fn, {}))) for fn in DROP_INS for tensor in TENSORS]
    for fn, variants in ARGS.items():
        base = "3d" if fn == "dirac_" else "f32"
        out += [Probe(fn, base, {**REQUIRED.get(fn, {}), **kwargs}) for kwargs in variants]
    for fn in DRAWING:
        out += [Probe(fn, "f32", {**REQUIRED.get(fn, {}), "generator": g}) for g in GENERATORS]
    return out


@dataclass
class Outcome:
    """What one implementation did with a probe: the exception, or the tensor and any warnings."""

    error: BaseException | None
    result: Any
    warned: bool


def run(module: Any, probe: Probe) -> Outcome:
    """Call ``module.<probe.fn>`` on a fresh tensor after ``torch.manual_seed(0)``."""
    torch.manual_seed(0)
    tensor = TENSORS[probe.tensor]()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(module, probe.fn)(tensor, **probe.kwargs)
        except Exception as error:
            return Outcome(error, None, bool(caught))
    return Outcome(None, result, any("zero-element" not in str(w.message) for w in caught))


def _builtin_type(error: BaseException) -> type[BaseException]:
    """The first built-in exception type in ``error``'s MRO (torch's ``_LinAlgError`` → ``RuntimeError``)."""
    return next(t for t in type(error).__mro__ if t.__module__ == "builtins")


def _dense(tensor: Any) -> Any:
    """The tensor strided; float4 as its bytes, complex32 as complex64 (torch compares neither's values)."""
    dense = tensor.to_dense() if tensor.layout != torch.strided else tensor
    if dense.dtype == torch.complex32:
        return dense.to(torch.complex64)
    return dense.view(torch.uint8) if dense.dtype == torch.float4_e2m1fn_x2 else dense


def _finite(tensor: Any) -> bool:
    if tensor.device.type == "meta" or tensor.numel() == 0 or not (tensor.is_floating_point() or tensor.is_complex()):
        return True
    if tensor.dtype == torch.float4_e2m1fn_x2:  # it holds no inf or nan
        return True
    dense = _dense(tensor)
    return bool(torch.isfinite(dense if dense.dtype.itemsize > 1 else dense.float()).all())  # no isfinite for float8


def mismatch(probe: Probe, ours: Outcome, theirs: Outcome) -> str | None:
    """Why ``ours`` differs from torch's outcome on ``probe``, or ``None``."""
    if theirs.error is not None:
        expected = _builtin_type(theirs.error)
        if ours.error is None:
            return f"torch raises {expected.__name__}, ours succeeds"
        if not (isinstance(ours.error, expected) and isinstance(ours.error, UnitInitError)):
            return f"torch raises {expected.__name__}, ours {type(ours.error).__name__}: {ours.error}"[:300]
        return None
    if ours.error is not None:
        return f"torch succeeds, ours raises {type(ours.error).__name__}: {ours.error}"[:300]
    a, b = ours.result, theirs.result
    if (a.dtype, a.shape, a.device, a.layout) != (b.dtype, b.shape, b.device, b.layout):
        return f"result {(a.dtype, tuple(a.shape), a.device, a.layout)} != torch's {(b.dtype, tuple(b.shape), b.device, b.layout)}"
    if _finite(b) and not _finite(a):
        return "non-finite where torch is finite"
    if not _finite(b) and not ours.warned and not _nonfinite_asked(probe):
        return "non-finite from finite arguments, with no warning"
    if probe.fn in DETERMINISTIC and b.device.type != "meta" and not torch.equal(_dense(a), _dense(b)):
        same_nan = torch.isnan(_dense(a)).equal(torch.isnan(_dense(b))) if b.is_floating_point() else False
        if not (same_nan and torch.equal(_dense(a).nan_to_num(), _dense(b).nan_to_num())):
            return "values differ from torch's deterministic fill"
    return None


def _nonfinite_asked(probe: Probe) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in probe.kwargs.values())


PROBES = probes()


def test_enough_probes() -> None:
    assert len(PROBES) >= 300


def test_a_nested_tensor_is_filled_as_torch_fills_it() -> None:
    """The drop-ins' finiteness check skips nested tensors (torch has no isfinite for them); the fill is torch's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch: "the PyTorch API of nested tensors is in prototype stage"
        ours, theirs = (torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)]) for _ in range(2))
    torch.manual_seed(0)
    ui_init.normal_(ours, std=2.0)
    torch.manual_seed(0)
    torch_init.normal_(theirs, std=2.0)
    assert all(torch.equal(a, b) for a, b in zip(ours.unbind(), theirs.unbind(), strict=True))


def test_parity_with_torch_nn_init() -> None:
    """One test over the whole table, so its report lists every mismatch at once."""
    bad = [f"{p.id}: {why}" for p in PROBES if (why := mismatch(p, run(ui_init, p), run(torch_init, p)))]
    assert not bad, f"{len(bad)} of {len(PROBES)} probes differ from torch:\n" + "\n".join(bad)


@pytest.mark.parametrize(
    ("name", "arguments", "named"),
    [
        ("normal_", {"std": math.nan}, "std=nan"),
        ("normal_", {"std": 10**400}, "std=<int of"),
        ("trunc_normal_", {"std": 0}, "std=0"),
        ("trunc_normal_", {"a": math.nan}, "a=nan"),
        ("trunc_normal_", {"b": math.nan}, "b=nan"),
        ("sparse_", {"sparsity": 0.5, "std": -1.0}, "std=-1.0"),
        ("kaiming_normal_", {"a": math.nan}, "a=nan"),
        ("kaiming_uniform_", {"a": 10**400}, "a=<int of"),
    ],
)
def test_an_error_names_the_argument_as_the_drop_in_calls_it(name: str, arguments: dict[str, Any], named: str) -> None:
    """The message names torch's argument (``std=``), not the spec's (``stddev=``) that the drop-in draws."""
    tensor = torch.empty(4, 3)
    with pytest.raises(UnitInitError) as caught:
        getattr(ui_init, name)(tensor, **arguments)
    assert str(caught.value).startswith(named), str(caught.value)


if __name__ == "__main__":
    found = [(p.id, why) for p in PROBES if (why := mismatch(p, run(ui_init, p), run(torch_init, p)))]
    for pid, why in found:
        print(f"{pid}: {why}")
    print(f"{len(found)} of {len(PROBES)} probes differ")


@pytest.mark.parametrize("groups", ["2**40", "np.int64(2**40)", "np.uint64(2**40)", "np.array(2**40)", "torch.tensor(2**40)"])
def test_dirac_refuses_groups_torch_would_loop_over_forever(groups: str) -> None:
    """torch's dirac_ loops ``groups`` times: with no out channel to fill, groups=2**40 never returns; ours refuses it
    first, also given as a NumPy or 0-d tensor integer (read by its value: once they went to torch's loop)."""
    code = (
        "import numpy as np, torch, unit_init.torch as init\n"
        "try:\n"
        f"    init.dirac_(torch.empty(0, 0, 3), groups={groups})\n"
        "except ValueError as error:\n"
        "    print(type(error).__name__, error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.startswith("ParameterError groups=1099511627776 must be an int in [1, 2**31 - 1]"), done.stdout + done.stderr


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ({"std": 0.02, "a": 1.0, "b": 1e4}, "keep no float64 mass"),
        ({"a": 40.0, "b": 1e30}, "keep no float64 mass"),
        ({"std": -0.001, "a": -1.0, "b": 1e30}, "std=-0.001 must be > 0"),
        ({"std": 1e-19, "a": 1.0, "b": 2.0}, "keep no float64 mass"),  # proposals past x ≈ 1.84 overflow float32: never kept
    ],
)
def test_trunc_normal_refuses_intervals_torchs_rejection_sampler_never_finishes(
    monkeypatch: pytest.MonkeyPatch, arguments: dict[str, float], reason: str
) -> None:
    """torch 2.x proposes uniforms on [a, b] where the interval holds little mass: on [1, 1e4] with std 0.02 it accepts
    one in ~10⁷ and the call never returned. unit_init refuses those intervals itself, and does not hand them to torch."""
    def asked(*args: object, **kwargs: object) -> None:
        raise AssertionError("torch.nn.init.trunc_normal_ was asked")

    monkeypatch.setattr(torch.nn.init, "trunc_normal_", asked)
    with pytest.raises(ValueError, match=f"{re.escape(reason)}.* would take about .* rounds .* so it is not asked"):
        ui_init.trunc_normal_(torch.empty(5, 3), **arguments)
    tensor = torch.empty(5, 3)
    with torch.device("meta"), pytest.raises(ValueError, match="so it is not asked"):  # the probe runs on the CPU all the same
        ui_init.trunc_normal_(tensor, **arguments)
    if "must be > 0" not in reason:  # before it loops, torch raises on a generator that is not one, and an expanded view
        with pytest.raises(TypeError, match=r"must be a torch\.Generator"):
            ui_init.trunc_normal_(torch.empty(5, 3), **arguments, generator="x")
        with pytest.raises(RuntimeError, match="share memory"):
            ui_init.trunc_normal_(torch.empty(1, 3).expand(5, 3), **arguments)


@pytest.mark.parametrize(
    ("shape", "device", "arguments"),
    [
        ((5, 3), "cpu", {"a": 40.0, "b": 41.0}),  # about 100 rounds
        ((5, 3), "cpu", {"std": -1.0, "a": -1.0, "b": 1.0}),
        ((5, 3), "cpu", {"std": 1e-20, "a": 1.0, "b": 2.0}),  # log_peak past float32's range: every proposal kept
        ((5, 3), "cpu", {"a": 1e5, "b": 1e5 + 1}),  # float32 rounding keeps the proposals at a
        ((100, 100), "meta", {"std": 0.02, "a": 1.0, "b": 1e4}),  # torch returns a meta tensor at once
        ((0, 5), "cpu", {"std": 0.02, "a": 1.0, "b": 1e4}),
    ],
)
def test_trunc_normal_hands_torch_what_torch_finishes(shape: tuple[int, int], device: str, arguments: dict[str, float]) -> None:
    """Intervals unit_init refuses but torch fills in a few rounds (or at once) are still torch's to fill."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that the mean is more than 2 std from [a, b]
        filled = ui_init.trunc_normal_(torch.empty(shape, device=device), **arguments)
    assert filled.shape == shape


def test_init_refuses_an_expanded_view_with_torchs_type() -> None:
    import unit_init as ui

    with pytest.raises(RuntimeError, match="share memory") as caught:
        ui_init.init_(torch.empty(1, 6).expand(4, 6), ui.HeNormal())
    assert isinstance(caught.value, UnitInitError)
    assert ui_init.init_(torch.empty(8, 6)[::2], ui.Ones()).sum().item() == 24.0  # a strided view without overlap is filled
    empty = torch.zeros(1, 3, 0).expand(3, 3, 0)  # no element shares memory: torch calls it contiguous and fills it
    assert ui_init.init_(empty, ui.HeNormal()) is empty


def test_initialize_refuses_an_expanded_parameter_before_any_fill() -> None:
    import unit_init as ui

    module = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.zeros(4, 6)), "w": torch.nn.Parameter(torch.ones(1, 6).expand(4, 6))})
    with pytest.raises(RuntimeError, match=r"parameter 'w' .* share memory") as caught:
        ui_init.initialize(module, {"*": ui.HeNormal()}, seed=0)
    assert isinstance(caught.value, UnitInitError)
    assert not module["a"].any()  # nothing was filled


@pytest.mark.parametrize("call", [
    lambda: ui_init._calculate_fan_in_and_fan_out([[1.0, 2.0]]),
    lambda: ui_init._calculate_correct_fan(None, "fan_in"),
])
def test_the_private_fan_helpers_on_no_tensor_raise_torchs_type_typed(call: Any) -> None:
    """torch raises a raw AttributeError (``.dim``); ours is that type and a UnitInitError, as every drop-in's."""
    with pytest.raises(AttributeError, match="has no attribute 'dim'") as caught:
        call()
    assert isinstance(caught.value, UnitInitError)


@pytest.mark.parametrize("groups", [np.int64(1), np.int32(3)])
def test_dirac_of_a_zero_size_window_with_numpy_int_groups_raises_as_torch(groups: Any) -> None:
    for module in (torch_init, ui_init):
        with pytest.raises(IndexError):
            module.dirac_(torch.empty(3, 3, 0), groups=groups)


def test_init_of_a_lazy_modules_parameter_is_refused_typed() -> None:
    """``init_`` read the shape of an uninitialized parameter first: torch's raw ``RuntimeError``."""
    import unit_init as ui

    lazy = torch.nn.LazyLinear(3)
    with pytest.raises(ui.ParameterError, match=r"tensor is a parameter or buffer of a lazy module, which has no shape yet; run one forward"):
        ui_init.init_(lazy.weight, ui.HeNormal(), seed=0)
    with pytest.raises(ui.ParameterError, match="lazy module"):
        ui_init.init_(torch.nn.LazyBatchNorm1d().running_mean, ui.Zeros())
    lazy(torch.ones(2, 5))
    assert ui_init.init_(lazy.weight, ui.Zeros()).abs().sum().item() == 0


def test_a_fill_the_memory_guard_refuses_is_not_handed_to_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    """A drop-in whose draw the memory guard refused ran ``torch.nn.init``'s function instead, which allocated the
    279 MiB the 100M limit had refused (or failed in torch's allocator under a tighter cap, as a ``ParameterError``)."""
    import unit_init as ui

    monkeypatch.setenv("UNIT_INIT_MAX_BYTES", "100M")
    tensor = torch.zeros(4096, 4096)
    for fill in (lambda t: ui_init.orthogonal_(t), lambda t: ui_init.sparse_(t, 0.5)):
        with pytest.raises(RuntimeError, match="UNIT_INIT_MAX_BYTES") as caught:
            fill(tensor)
        assert isinstance(caught.value, ui.ResourceError)
        assert isinstance(caught.value, MemoryError)
        assert not tensor.any()  # refused before anything was written
    assert ui_init.normal_(tensor).std() > 0.9  # a plain normal fills the tensor itself: 0 bytes more


def test_torchs_own_error_classes_keep_their_class_and_torch_is_not_asked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """An out-of-memory error of the draw itself was re-raised as ``TorchRuntimeError`` (a ``ParameterError``), after
    running torch's own ``orthogonal_`` (its QR) a second time: ``except torch.OutOfMemoryError`` missed it. It is
    raised as a subclass of torch's class that is also a ``UnitInitError``."""
    calls = []

    def out_of_memory(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise torch.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(torch.linalg, "qr", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError) as caught:
        ui_init.orthogonal_(torch.empty(64, 64))
    assert isinstance(caught.value, UnitInitError)  # torch's own class and a UnitInitError, as every drop-in error
    assert str(caught.value) == "CUDA out of memory."
    assert len(calls) == 1


def test_a_fake_tensors_data_dependent_error_is_torchs_own() -> None:
    """Under ``FakeTensorMode`` ``trunc_normal_`` raises what ``torch.nn.init.trunc_normal_`` raises there."""
    from torch._subclasses.fake_tensor import DataDependentOutputException, FakeTensorMode

    with FakeTensorMode():
        for fill in (torch_init.trunc_normal_, ui_init.trunc_normal_):
            with pytest.raises(DataDependentOutputException) as caught:
                fill(torch.empty(16, 8), std=0.02)
            assert isinstance(caught.value, UnitInitError) == (fill is ui_init.trunc_normal_)
        with pytest.raises(RuntimeError, match=r"a=2.0 must not exceed b=1.0") as refused:  # an argument refused: said, typed
            ui_init.trunc_normal_(torch.empty(8, 6), a=2.0, b=1.0)
        assert isinstance(refused.value, UnitInitError)


@pytest.mark.parametrize("tensor", [None, [1.0, 2.0], np.zeros((4, 3, 3))])
def test_dirac_of_a_non_tensor_with_huge_groups_raises_torchs_attribute_error(tensor: object) -> None:
    """torch reads the tensor's rank before ``groups``: a non-tensor is an ``AttributeError`` whatever ``groups`` is; the
    drop-in refused ``groups=2**31`` first, with a ``ValueError``."""
    with pytest.raises(AttributeError):
        torch.nn.init.dirac_(tensor, groups=2**31)  # type: ignore[arg-type]
    with pytest.raises(AttributeError) as raised:
        ui_init.dirac_(tensor, groups=2**31)  # type: ignore[arg-type]
    assert isinstance(raised.value, UnitInitError)
