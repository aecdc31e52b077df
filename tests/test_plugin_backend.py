"""A plugin backend takes one class and one registry record; ``like=`` reaches it through ``owns`` (docs/backends/index.md).

The toy framework's arrays are a NumPy subclass living in this module, so
array-api-compat takes them for NumPy arrays: only the toy backend's ``owns``
can send ``like=toy_array`` to the toy backend (the test fails if ``owns`` is
not consulted). The backend is registered both supported ways: an entry point
of the group ``unit_init.backends`` (naming the class, or a record) and
:func:`~unit_init.backends.registry.register_backend`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
import types
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends import registry
from unit_init.backends.base import Backend
from unit_init.backends.registry import BackendRecord, register_backend


class ToyArray(np.ndarray):
    """The toy framework's array type: NumPy's operators and functions on it return it."""

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = super().__array_function__(func, types, args, kwargs)
        if isinstance(result, tuple):
            return tuple(_toy(part) for part in result)
        return _toy(result)


def _toy(value: Any) -> Any:
    return value.view(ToyArray) if type(value) is np.ndarray else value


class ToyBackend(Backend):
    """The whole toy backend: the required primitives (module docstring of unit_init.backends.base)."""

    name = "toy"
    xp = np

    def resolve_device(self, device: Any) -> str:
        if device in (None, "cpu"):
            return "cpu"
        raise ui.DeviceError(f"device={device!r} is not a toy device; accepted: None, 'cpu'.")

    def native_dtype(self, dtype: str) -> Any:
        return np.dtype(dtype)

    def generator(self, seed: Any, device: Any) -> np.random.Generator:
        return np.random.default_rng(seed)

    def uniform(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return generator.random(shape, dtype=self.native_dtype(dtype)).view(ToyArray)

    def normal(self, generator: np.random.Generator, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return generator.standard_normal(shape, dtype=self.native_dtype(dtype)).view(ToyArray)

    def owns(self, array: Any) -> bool:
        return isinstance(array, ToyArray)

    def device_of(self, array: Any) -> str:
        return "cpu"

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> ToyArray:
        return np.full(shape, value, dtype=dtype).view(ToyArray)


RECORD = BackendRecord("toy", f"{__name__}:ToyBackend", aliases=("toy_framework",), array_modules=(__name__.split(".")[0],))
NAMED = dataclasses.replace(RECORD, namespaces=("toy_module",))


@pytest.fixture(autouse=True)
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no plugin registered and none installed."""
    monkeypatch.setattr(registry, "_REGISTERED", {})
    monkeypatch.setattr(registry, "_entry_points", dict)


def _installed(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """As if a package declared ``toy = "<value>"`` in the entry-point group ``unit_init.backends``."""
    entry_point = importlib.metadata.EntryPoint(name="toy", value=value, group=registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "_entry_points", lambda: {"toy": entry_point})


def _checked(w: Any) -> None:
    assert type(w) is ToyArray
    assert w.shape == (64, 32)
    assert w.dtype == np.float32
    assert abs(float(np.std(w)) - np.sqrt(2 / 64)) < 0.02  # He normal: Var = 2/fan_in, fan_in = 64 in Keras layout


@pytest.mark.parametrize("way", ["register_backend", "entry point naming the class", "entry point naming a record"])
def test_a_toy_backend_draws_by_name_and_like(monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    if way == "register_backend":
        register_backend(RECORD)
    elif way == "entry point naming the class":
        _installed(monkeypatch, f"{__name__}:ToyBackend")
    else:
        _installed(monkeypatch, f"{__name__}:RECORD")
    assert "toy" in ui.known_backends()
    w = ui.he_normal((64, 32), backend="toy", seed=0)
    _checked(w)
    assert registry.backend_for_array(w).name == "toy"
    again = ui.he_normal((64, 32), like=w, seed=0)
    _checked(again)
    np.testing.assert_array_equal(again, w)
    assert type(ui.zeros((2,), like=w)) is ToyArray


class PickyBackend(ToyBackend):
    """A toy that refuses float16 as its framework would, with a ``TypeError`` of its own words."""

    name = "picky"

    def native_dtype(self, dtype: str) -> Any:
        if dtype == "float16":
            raise TypeError("the picky framework has no half floats")
        return np.dtype(dtype)

    def resolve_device(self, device: Any) -> str:
        if device == "gpu":
            raise ValueError("the picky framework runs on no GPU")
        return super().resolve_device(device)


def test_a_plugin_refusing_a_dtype_a_seed_or_a_device_in_its_own_words_gives_the_typed_error() -> None:
    """A plugin's own ``TypeError`` for a dtype, NumPy's for ``default_rng("x")`` and its own ``ValueError`` for a device:
    the call names the argument as for a built-in backend (a ``DTypeError``, a ``SeedError``, a ``DeviceError``), with
    the plugin's words kept (the device's escaped untyped)."""
    register_backend(BackendRecord("picky", PickyBackend))
    with pytest.raises(ui.DTypeError, match=r"dtype='float16' is not available on the picky backend \(TypeError: the picky"):
        ui.he_normal((4, 4), backend="picky", dtype="float16", seed=0)
    with pytest.raises(ui.SeedError, match=r"seed='x' is not a seed for the picky backend \(TypeError: "):
        ui.he_normal((4, 4), backend="picky", seed="x")
    with pytest.raises(ui.SeedError, match="seed='x'"):
        ui.zeros((4, 4), backend="picky", seed="x")  # checked for a deterministic draw too
    with pytest.raises(ui.DeviceError, match=r"device='gpu' is not a device of the picky backend \(ValueError: the picky"):
        ui.he_normal((4, 4), backend="picky", device="gpu", seed=0)


class OtherBackend(ToyBackend):
    """Another plugin, asked first, whose arrays the toy arrays are not."""

    name = "other"

    def owns(self, array: Any) -> bool:
        return False


def test_like_asks_owns_even_when_array_api_compat_claims_the_array() -> None:
    register_backend(BackendRecord("other", OtherBackend))  # no array_modules: always asked, after the built-ins
    register_backend(BackendRecord("toy", ToyBackend))
    assert [record.name for record in registry._plugins_for("tests")] == ["other", "toy"]
    toy = np.zeros((64, 32), np.float32).view(ToyArray)
    assert registry.backend_for_array(toy).name == "toy"
    assert type(ui.glorot_uniform((64, 32), like=toy, seed=1)) is ToyArray
    assert type(ui.glorot_uniform((64, 32), like=np.zeros(2), seed=1)) is np.ndarray, "NumPy arrays stay NumPy's"


def test_without_the_plugin_the_toy_array_is_taken_for_numpy() -> None:
    toy = np.zeros((64, 32), np.float32).view(ToyArray)
    assert registry.backend_for_array(toy).name == "numpy"


def test_aliases_and_refusals() -> None:
    register_backend(RECORD)
    assert registry.get_backend("toy_framework") is registry.get_backend("toy")
    with pytest.raises(ui.BackendError, match="'toy' is already a backend's"):
        register_backend(RECORD)
    with pytest.raises(ui.BackendError, match="'tf' is already a backend's"):
        register_backend(BackendRecord("mine", ToyBackend, aliases=("tf",)))


def test_a_plugin_whose_framework_is_missing_names_what_to_install() -> None:
    register_backend(BackendRecord("ghost", "unit_init_ghost_framework.backend:Ghost", "unit_init_ghost_framework", "ghost-framework"))
    with pytest.raises(ui.BackendUnavailableError, match='needs unit_init_ghost_framework, which is not installed: pip install "ghost-framework"'):
        ui.zeros((2,), backend="ghost")
    with pytest.raises(ui.BackendError, match="not an array of a known backend"):  # like= skips a plugin that cannot load
        registry.backend_for_array(object())


def test_an_entry_point_that_is_no_backend_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, "json:dumps")
    with pytest.raises(ui.BackendError, match="neither a Backend subclass nor a BackendRecord"):
        ui.zeros((2,), backend="toy")


def test_an_entry_point_that_cannot_be_imported_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    _installed(monkeypatch, "unit_init_ghost_framework.backend:Ghost")
    with pytest.raises(ui.BackendUnavailableError, match=r"backend 'toy' \(entry point 'unit_init_ghost_framework.backend:Ghost'\) cannot be imported"):
        ui.zeros((2,), backend="toy")
    with pytest.raises(ui.BackendError, match="not an array of a known backend"):  # like= skips it
        registry.backend_for_array(object())


def test_an_installed_record_is_known_by_its_other_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry point names only the backend; the aliases and namespaces of the record it declares are found by loading it."""
    _installed(monkeypatch, f"{__name__}:NAMED")
    assert {"toy", "toy_framework", "toy_module"} <= set(ui.known_backends())
    assert registry.get_backend("toy_framework") is registry.get_backend("toy")
    module = types.ModuleType("toy_module")
    assert registry.get_backend(module) is registry.get_backend("toy")
    _checked(ui.he_normal((64, 32), backend="toy_framework", seed=0))


def test_a_registered_record_stands_for_its_namespace_modules() -> None:
    register_backend(NAMED)
    assert registry.get_backend(types.ModuleType("toy_module")) is registry.get_backend("toy")
    with pytest.raises(ui.BackendError, match="'toy_framework' is a module but not an Array-API namespace"):  # a name is no namespace
        registry.get_backend(types.ModuleType("toy_framework"))


def test_a_broken_plugin_never_changes_the_answer_for_another_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Looking for other names loads every installed plugin; one whose entry point fails to load is passed over."""
    _installed(monkeypatch, f"{__name__}:NO_SUCH_ATTRIBUTE")
    with pytest.raises(ui.BackendError, match="backend='nope' is not a known backend name"):
        ui.zeros((2,), backend="nope")
    assert "toy" in ui.known_backends()


def _module_raising(name: str) -> types.ModuleType:
    """A module whose import raises ``RuntimeError``, as a plugin's broken ``__init__`` would (put in sys.modules' place by the finder)."""
    module = types.ModuleType(name)
    module.__getattr__ = lambda attribute: (_ for _ in ()).throw(RuntimeError(f"{name} is broken"))  # type: ignore[method-assign]
    return module


@pytest.mark.parametrize("value", [f"{__name__}:NO_SUCH_ATTRIBUTE", "json:NoSuchBackend", "unit_init_broken_plugin:Backend"])
def test_a_broken_installed_plugin_leaves_like_and_other_names_alone(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    """An entry point that loaded with an ``AttributeError`` (or whatever its module raised) made ``like=`` of any
    array no built-in owns raise that error untyped, and ``backend="toy"`` too."""
    import sys

    monkeypatch.setitem(sys.modules, "unit_init_broken_plugin", _module_raising("unit_init_broken_plugin"))
    _installed(monkeypatch, value)
    strict = pytest.importorskip("array_api_strict")
    w = ui.zeros((2,), like=strict.zeros(3))
    assert type(w) is type(strict.zeros(3))
    with pytest.raises(ui.BackendError, match="not an array of a known backend"):
        ui.zeros((2,), like=[1.0])
    with pytest.raises(ui.BackendUnavailableError, match=r"backend 'toy' \(entry point .*\) cannot be imported"):
        ui.zeros((2,), backend="toy")


class RaisingOwns(ToyBackend):
    """A plugin whose ``owns`` reads an attribute foreign objects lack."""

    name = "raising"

    def owns(self, array: Any) -> bool:
        return bool(array.toy_marker)


def test_a_plugin_whose_owns_raises_on_a_foreign_array_is_passed_over() -> None:
    register_backend(BackendRecord("raising", RaisingOwns))
    strict = pytest.importorskip("array_api_strict")
    assert type(ui.zeros((2,), like=strict.zeros(3))) is type(strict.zeros(3))
    with pytest.raises(ui.BackendError, match="not an array of a known backend"):
        ui.zeros((2,), like=[1.0])


@pytest.mark.parametrize(
    ("record", "error", "match"),
    [
        ("toy", ui.BackendError, "takes a BackendRecord"),
        (BackendRecord(123, ToyBackend), ui.BackendError, "non-empty string"),  # type: ignore[arg-type]
        (BackendRecord("", ToyBackend), ui.BackendError, "non-empty string"),
        (BackendRecord("toy ", ToyBackend), ui.BackendError, "without surrounding spaces"),
        (BackendRecord("toy", ToyBackend, aliases=(None,)), ui.BackendError, "aliases of 'toy' is a tuple of strings"),  # type: ignore[arg-type]
        (BackendRecord("toy", ToyBackend, aliases=["toy2"]), ui.BackendError, "aliases of 'toy' is a tuple of strings"),  # type: ignore[arg-type]
        (BackendRecord("toy", ToyBackend, aliases="pt"), ui.BackendError, "aliases of 'toy' is a tuple of strings"),  # type: ignore[arg-type]
        (BackendRecord("toy", ToyBackend, namespaces=None), ui.BackendError, "namespaces of 'toy' is a tuple of strings"),  # type: ignore[arg-type]
        (BackendRecord("toy", ToyBackend, array_modules="numpyx"), ui.BackendError, "array_modules of 'toy' is a tuple"),  # type: ignore[arg-type]
        (BackendRecord("toy", "mylib:B", framework=["mylib"]), ui.BackendError, "framework of 'toy' is a string or None"),  # type: ignore[arg-type]
        (BackendRecord("toy", "mylib:B", extra=["mylib"]), ui.BackendError, "extra of 'toy' is a string or None"),  # type: ignore[arg-type]
        (BackendRecord("toy", dict), ui.BackendError, "a Backend subclass or a 'module:Class' string"),  # type: ignore[arg-type]
        (BackendRecord("toy", "no_colon"), ui.BackendError, "a Backend subclass or a 'module:Class' string"),
    ],
)
def test_register_backend_checks_the_record(record: Any, error: type[Exception], match: str) -> None:
    """A record named ``123`` was taken, then every unknown name's error (which sorts the known names) raised
    ``TypeError``; a target that is no backend failed only when used, untyped."""
    with pytest.raises(error, match=match):
        register_backend(record)
    with pytest.raises(ui.BackendError, match="backend='nope' is not a known backend name"):
        ui.zeros((2,), backend="nope")


@pytest.mark.parametrize(("target", "error", "match"), [
    ("json:NoSuchBackend", ui.BackendUnavailableError, "the module 'json' has no 'NoSuchBackend'"),
    ("unit_init_broken_plugin:Backend", ui.BackendUnavailableError, r"cannot be imported \(RuntimeError: unit_init_broken_plugin is broken\)"),
    ("json:dumps", ui.BackendError, "'json:dumps' is not a Backend subclass"),
    ("unit_init_no_such_plugin_module:Backend", ui.BackendUnavailableError, "cannot be imported"),
])
def test_a_registered_target_that_is_no_backend_is_a_typed_error_when_used(
    monkeypatch: pytest.MonkeyPatch, target: str, error: type[Exception], match: str
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "unit_init_broken_plugin", _module_raising("unit_init_broken_plugin"))
    register_backend(BackendRecord("toy", target))
    with pytest.raises(error, match=match):
        ui.zeros((2,), backend="toy")


class StuckBackend(ToyBackend):
    """A plugin on a functional generator that forgets to advance: each ``normal`` call gives the same values."""

    name = "stuck"

    def generator(self, seed: Any, device: Any) -> int:
        return 0

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return np.random.default_rng(generator).standard_normal(shape, dtype=self.native_dtype(dtype)).view(ToyArray)


class InfiniteBackend(ToyBackend):
    """A plugin with mutable arrays (re-drawn in place) whose ``normal`` gives no normal values at all."""

    name = "infinite"
    mutable = True

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return np.full(shape, np.inf, dtype=self.native_dtype(dtype)).view(ToyArray)


@pytest.mark.parametrize(("backend", "shape"), [(StuckBackend, (64, 32)), (InfiniteBackend, (64, 32)), (InfiniteBackend, (512, 256))])
def test_a_generator_that_gives_no_fresh_normal_values_is_a_typed_error_not_a_hang(backend: type[Backend], shape: tuple[int, int]) -> None:
    """The re-draw loops of a truncated normal ran for ever: values outside ±2σ came back the same each round (by
    ``where`` on whole draws), or none came back inside (in place, for oversampled small and re-drawn large arrays)."""
    register_backend(BackendRecord(backend.name, backend))
    with pytest.raises(ui.BackendError, match=r"rounds of re-drawing the normal values outside \[-2, 2\] std left some outside"):
        ui.he_normal(shape, backend=backend.name, seed=0)


BAD_RECORD = BackendRecord(123, ToyBackend)  # type: ignore[arg-type]
NOT_A_BACKEND = BackendRecord("toy", dict)  # type: ignore[arg-type]
LISTED_ALIASES = BackendRecord("toy", ToyBackend, aliases=["toy2"])  # type: ignore[arg-type]


@pytest.mark.parametrize("record", ["BAD_RECORD", "NOT_A_BACKEND", "LISTED_ALIASES"])
def test_an_installed_record_is_checked_as_a_registered_one(monkeypatch: pytest.MonkeyPatch, record: str) -> None:
    """A record an entry point declared was taken unchecked: named ``123``, it made every unknown name's error a
    ``TypeError``; a list of aliases broke ``like=`` for every array; a ``dict`` target raised ``AttributeError``."""
    _installed(monkeypatch, f"{__name__}:{record}")
    strict = pytest.importorskip("array_api_strict")
    assert type(ui.zeros((2,), like=strict.zeros(3))) is type(strict.zeros(3))
    with pytest.raises(ui.BackendError, match="backend='nope' is not a known backend name"):
        ui.zeros((2,), backend="nope")
    with pytest.raises(ui.BackendError, match=r"the entry point 'toy' = .* declares a record that"):
        ui.zeros((2,), backend="toy")



class NaNBackend(ToyBackend):
    """A plugin whose ``normal`` gives nan where its framework's generator failed."""

    name = "nan"

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return np.full(shape, np.nan, dtype=self.native_dtype(dtype)).view(ToyArray)


class TransposedBackend(ToyBackend):
    """A plugin whose ``uniform`` reads the shape the other way round."""

    name = "transposed"

    def uniform(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return super().uniform(generator, shape[::-1], dtype, device)


class WideBackend(ToyBackend):
    """A plugin whose ``full`` ignores the dtype asked for."""

    name = "wide"

    def full(self, shape: tuple[int, ...], value: float, dtype: str, device: Any) -> ToyArray:
        return super().full(shape, value, "float64", device)


@pytest.mark.parametrize(("backend", "spec", "match"), [
    (NaNBackend, ui.RandomNormal(), r"backend 'nan' drew RandomNormal with values that are not finite \(nan or inf\)"),
    (TransposedBackend, ui.RandomUniform(), r"backend 'transposed' drew RandomUniform as an array of shape \(32, 64\), not the \(64, 32\) requested"),
    (WideBackend, ui.Zeros(), r"backend 'wide' drew Zeros as 'float64', not the 'float32' requested"),
])
def test_a_plugin_primitive_that_returns_a_wrong_array_is_a_typed_error(backend: type[Backend], spec: ui.Initializer, match: str) -> None:
    """A plugin's nan, transposed or widened primitive output reached the user as the initializer's values; the
    same plugin's other draws are unchanged."""
    register_backend(BackendRecord(backend.name, backend))
    with pytest.raises(ui.BackendError, match=match):
        spec((64, 32), backend=backend.name, seed=0)
    other = ui.he_uniform if backend is NaNBackend else ui.he_normal  # a draw none of its broken primitives makes
    _checked(other((64, 32), backend=backend.name, seed=0))


def test_a_plugin_subclass_of_a_builtin_backend_draws_inside_jit() -> None:
    """The plugin output check read the values of a traced array: ``TracerBoolConversionError`` inside ``jax.jit`` for a
    plugin subclassing the JAX backend, where ``backend="jax"`` works. Its shape and dtype are still checked."""
    jax = pytest.importorskip("jax")
    from unit_init.backends.jax_backend import JaxBackend

    class MyJax(JaxBackend):
        name = "myjax"

    register_backend(BackendRecord("myjax", MyJax))
    traced = jax.jit(lambda: ui.he_normal((64, 32), backend="myjax", seed=0))()
    np.testing.assert_array_equal(np.asarray(traced), np.asarray(ui.he_normal((64, 32), backend="jax", seed=0)))


class LateNaNBackend(ToyBackend):
    """A plugin whose ``uniform`` spoils one value, the last."""

    name = "late_nan"

    def uniform(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        values = super().uniform(generator, shape, dtype, device)
        values.reshape(-1)[-1] = np.nan
        return values


@pytest.mark.parametrize("shape", [(1 << 20,), (3, (1 << 20) + 5), (2, 3, 700_001), (0, 5)])
def test_the_plugin_output_check_finds_a_last_nan_in_two_reductions_with_no_array_sized_temporary(shape: tuple[int, ...]) -> None:
    """The check's ``isfinite`` made a boolean array as large as the draw (a quarter of a float32 output), which the
    memory guard does not count; read a million values at a time, a lazy plugin's array (dask) was computed again for
    each slice (16 times for a 4096² draw, helper 168). It is the largest and smallest values, one pass each."""
    register_backend(BackendRecord(LateNaNBackend.name, LateNaNBackend))
    read: list[int] = []
    reductions: list[str] = []

    class Watched:  # NumPy's namespace, recording every isfinite temporary and every reduction
        def __getattr__(self, name: str) -> Any:
            return getattr(np, name)

        @staticmethod
        def isfinite(array: Any) -> Any:
            read.append(np.size(array))
            return np.isfinite(array)

        @staticmethod
        def max(array: Any) -> Any:
            reductions.append("max")
            return np.max(array)

        @staticmethod
        def min(array: Any) -> Any:
            reductions.append("min")
            return np.min(array)

    original = LateNaNBackend.xp
    LateNaNBackend.xp = Watched()  # type: ignore[assignment]
    try:
        if math.prod(shape):
            with pytest.raises(ui.BackendError, match="values that are not finite"):
                ui.random_uniform(shape, backend="late_nan", seed=0)
        else:
            assert ui.random_uniform(shape, backend="late_nan", seed=0).shape == shape
    finally:
        LateNaNBackend.xp = original  # type: ignore[method-assign]
    assert max(read, default=0) <= 2
    assert sorted(reductions) == (["max", "min"] if math.prod(shape) else [])


class ReversedNormalBackend(ToyBackend):
    """A plugin whose ``normal`` reads the shape the other way round: an orthogonal matrix's reshape met it first."""

    name = "reversed_normal"

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        return super().normal(generator, shape[::-1], dtype, device)


class BogusTruncationBackend(ToyBackend):
    name = "bogus_truncation"
    truncation = "bogus"  # type: ignore[assignment]


class NoErfinvBackend(ToyBackend):
    name = "no_erfinv"
    truncation = "inverse_cdf"


class NoHostBackend(ToyBackend):
    name = "no_host"
    truncation = "host"


class FailingInitBackend(ToyBackend):
    name = "failing_init"

    def __init__(self) -> None:
        raise RuntimeError("no device found")


@pytest.mark.parametrize(("backend", "call", "match"), [
    (ReversedNormalBackend, lambda: ui.orthogonal((16, 8), backend="reversed_normal", seed=0),
     r"backend 'reversed_normal' failed drawing Orthogonal: its primitives or namespace raised ValueError"),
    (BogusTruncationBackend, lambda: ui.he_normal((4, 4), backend="bogus_truncation", seed=0),
     r"declares truncation='bogus'; accepted: 'inverse_cdf', .*'host'"),
    (NoErfinvBackend, lambda: ui.he_normal((4, 4), backend="no_erfinv", seed=0),
     r"declares truncation='inverse_cdf', which draws with its erfinv\(\), and does not implement it"),
    (NoHostBackend, lambda: ui.he_normal((4, 4), backend="no_host", seed=0),
     r"declares truncation='host', which draws on its `host` backend"),
    (FailingInitBackend, lambda: ui.zeros((4,), backend="failing_init"),
     r"backend 'failing_init' cannot be made: FailingInitBackend\(\) raised RuntimeError \(no device found\)"),
])
def test_a_plugins_own_mistakes_are_backend_errors_naming_it(backend: type[Backend], call: Any, match: str) -> None:
    """A plugin's wrong-shaped ``normal`` met by an orthogonal matrix's reshape, a truncation it cannot draw by
    (unknown, or its primitive missing), a constructor that raises: bare ValueError, KeyError, NotImplementedError with
    no message, AttributeError or the constructor's own exception (helper 168). They are BackendErrors naming the
    plugin, said when it is loaded where its declarations are the fault."""
    register_backend(BackendRecord(backend.name, backend))
    with pytest.raises(ui.BackendError, match=match):
        call()


def test_a_plugin_module_that_exits_at_import_is_unavailable_and_passed_over_by_like(monkeypatch: pytest.MonkeyPatch) -> None:
    """``sys.exit()`` in a plugin's module escaped as SystemExit from backend= and from any like= (helper 168)."""
    import sys

    module = types.ModuleType("unit_init_exiting_plugin")
    module.__getattr__ = lambda attribute: sys.exit(3)  # type: ignore[method-assign]
    monkeypatch.setitem(sys.modules, "unit_init_exiting_plugin", module)
    register_backend(BackendRecord("exiter", "unit_init_exiting_plugin:Backend"))
    with pytest.raises(ui.BackendUnavailableError, match=r"backend 'exiter' .*cannot be imported \(SystemExit: 3\)"):
        ui.zeros((2,), backend="exiter")
    strict = pytest.importorskip("array_api_strict")
    assert type(ui.zeros((2,), like=strict.zeros(3))) is type(strict.zeros(3))


class ExitingNormalBackend(ToyBackend):
    """A plugin whose ``normal`` calls ``sys.exit()``."""

    name = "exiting_normal"

    def normal(self, generator: Any, shape: tuple[int, ...], dtype: str, device: Any) -> Any:
        raise SystemExit(4)


class _Raising(str):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("a hostile __eq__")

    __hash__ = str.__hash__


class HostileTruncationBackend(ToyBackend):
    name = "hostile_truncation"
    truncation = _Raising("rejection")  # type: ignore[assignment]


def test_a_plugins_exit_in_a_primitive_and_a_hostile_declaration_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A primitive's ``sys.exit()`` ended the process (only an import's was caught); a ``truncation`` given as a str
    subclass whose ``__eq__`` raises escaped ``check_declared`` (helper 169)."""
    register_backend(BackendRecord(ExitingNormalBackend.name, ExitingNormalBackend))
    with pytest.raises(ui.BackendError, match=r"'exiting_normal' failed drawing RandomNormal: .*raised SystemExit"):
        ui.random_normal((2, 2), backend="exiting_normal", seed=0)
    register_backend(BackendRecord(HostileTruncationBackend.name, HostileTruncationBackend))
    assert ui.random_normal((2, 2), backend="hostile_truncation", seed=0).shape == (2, 2)  # read as 'rejection'


def test_the_plugin_output_check_is_not_skipped_where_the_namespaces_max_raises_a_type_error() -> None:
    """``max``/``min`` raising TypeError was taken for a traced array and the check skipped: an all-nan array came
    back (helper 169). Only converting the result to a bool may say "traced"; the reductions' errors are the plugin's."""

    class Picky:  # NumPy's namespace whose max and min want an axis
        def __getattr__(self, name: str) -> Any:
            return getattr(np, name)

        @staticmethod
        def max(*args: Any, **kwargs: Any) -> Any:
            raise TypeError("needs axis=")

        min = max

    class PickyNaN(NaNBackend):
        name = "picky_nan"
        xp = Picky()

    register_backend(BackendRecord(PickyNaN.name, PickyNaN))
    with pytest.raises(ui.BackendError, match=r"'picky_nan' failed drawing RandomNormal: .*TypeError \('needs axis='\)"):
        ui.random_normal((2, 3), backend="picky_nan", seed=0)
