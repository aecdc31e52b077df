"""Every CONTRACT §5 error case, raised with its type and a message saying what is accepted."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import pytest

import unit_init as ui


def test_hierarchy_doubles_as_builtin_types() -> None:
    pairs = [
        (ui.BackendUnavailableError, ImportError),
        (ui.BackendError, ValueError),
        (ui.DeviceError, ValueError),
        (ui.ShapeError, ValueError),
        (ui.DTypeError, TypeError),
        (ui.ParameterError, ValueError),
        (ui.SeedError, TypeError),
    ]
    for error, builtin in pairs:
        assert issubclass(error, ui.UnitInitError)
        assert issubclass(error, builtin)


def test_unknown_backend_lists_known_ones() -> None:
    with pytest.raises(ui.BackendError, match=r"known: .*numpy.*Did you mean 'torch'"):
        ui.zeros((2,), backend="trch")
    with pytest.raises(ui.BackendError):
        ui.zeros((2,), backend=42)  # type: ignore[arg-type]
    with pytest.raises(ui.BackendError, match="not an Array-API namespace"):
        ui.zeros((2,), backend=math)


def test_device_not_present() -> None:
    with pytest.raises(ui.DeviceError, match="present: 'cpu'"):
        ui.zeros((2,), device="cuda:3")


@pytest.mark.parametrize("shape", [(-1,), (2.5,), (True,), "3"])
def test_bad_shapes(shape: object) -> None:
    with pytest.raises(ui.ShapeError, match="shape="):
        ui.he_normal(shape)  # type: ignore[arg-type]


def test_rank_too_low() -> None:
    with pytest.raises(ui.ShapeError, match="Orthogonal needs a rank >= 2"):
        ui.orthogonal((5,))
    with pytest.raises(ui.ShapeError, match="Identity needs a rank >= 2"):
        ui.identity((4,))


def test_dtypes() -> None:
    with pytest.raises(ui.DTypeError, match="needs a float dtype"):
        ui.he_normal((2, 2), dtype="int32")
    with pytest.raises(ui.DTypeError, match="Did you mean 'float32'"):
        ui.zeros((2,), dtype="flaot32")
    with pytest.raises(ui.DTypeError, match="RandomUniform has no complex form"):
        ui.random_uniform((2,), dtype=np.complex64)
    with pytest.raises(ui.ParameterError, match="cannot be stored exactly"):
        ui.constant((2,), value=0.5, dtype="int32")
    with pytest.raises(ui.ParameterError, match="cannot be stored exactly"):
        ui.constant((2,), value=300, dtype="uint8")


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: ui.VarianceScaling(scale=0), "Argument `scale` must be positive float. Received: scale=0"),
        (lambda: ui.VarianceScaling(scale=-1.0), "scale"),
        (lambda: ui.VarianceScaling(scale=math.nan), "scale=nan"),
        (lambda: ui.VarianceScaling(mode="fan_inn"), "Did you mean 'fan_in'"),
        (lambda: ui.VarianceScaling(distribution="gaussian"), "distribution='gaussian'"),
        (lambda: ui.RandomUniform(minval=1, maxval=0), "minval=1 must not exceed maxval=0"),
        (lambda: ui.RandomNormal(stddev=-0.1), "stddev"),
        (lambda: ui.TruncatedNormal(stddev=0), "stddev"),
        (lambda: ui.Constant(math.inf), "value=inf"),
        (lambda: ui.Orthogonal(gain=math.nan), "gain"),
        (lambda: ui.RandomNormal(mean="0"), "mean"),
        (lambda: ui.distributions.TruncatedGaussian(0, 1, 40.0, 41.0), "no float64 mass"),
    ],
)
def test_bad_parameters(factory: object, match: str) -> None:
    with pytest.raises(ui.ParameterError, match=match):
        factory()  # type: ignore[operator]


def test_bad_seeds() -> None:
    with pytest.raises(ui.SeedError):
        ui.he_normal((2,), seed=-1)
    with pytest.raises(ui.SeedError):
        ui.he_normal((2,), seed=True)
    with pytest.raises(ui.SeedError):
        ui.he_normal((2,), seed="0")
    with pytest.raises(ui.SeedError):
        ui.HeNormal(seed=1.5)  # type: ignore[arg-type]
    for seed in (None, True, np.array([1, 2]), np.array(3), 2.0, "3", -1, 2**63):
        with pytest.raises(ui.SeedError, match="seed="):
            ui.set_seed(seed)  # type: ignore[arg-type]
    ui.set_seed(np.int64(3))


def test_bad_call_options() -> None:
    with pytest.raises(ui.ParameterError, match="rng='fast'"):
        ui.he_normal((2, 2), rng="fast")
    with pytest.raises(ui.BackendError, match="like="):
        ui.he_normal((2, 2), like=[1.0, 2.0])


def test_misspelt_keywords_of_every_entry_point_name_the_closest() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    model = torch.nn.Linear(2, 2)
    calls = [
        (lambda: ui.torch_linear((4, 4), sed=0), "'seed'"),
        (lambda: unit_init.torch.lsuv(model, torch.randn(8, 2), target=1.0), "'target_std'"),
        (lambda: unit_init.torch.initialize(model, {"*": "he_normal"}, sed=0), "'seed'"),
        (lambda: unit_init.torch.init_(torch.empty(2, 2), ui.HeNormal(), sed=1), "'seed'"),
        (lambda: ui.diagnose("he_normal", depht=3), "'depth'"),
        (lambda: ui.initialize({}, {}, sed=1), "'seed'"),
    ]
    for call, closest in calls:
        with pytest.raises(ui.ArgumentError, match=f"Did you mean {closest}"):
            call()


def test_the_methods_and_calls_of_returned_objects_type_a_call_that_does_not_match() -> None:
    """A misspelt keyword or a missing argument on a spec's ``fans``/``variance`` and on the adapters' initializer
    objects (Keras, JAX, Haiku) was Python's plain ``TypeError``, with no hint (hostile-input campaign)."""
    pytest.importorskip("jax")
    pytest.importorskip("keras")
    import jax

    import unit_init.jax
    import unit_init.keras

    key = jax.random.key(0)
    calls = [
        (lambda: ui.HeNormal().fans((4, 4), layot="torch"), "Did you mean 'layout'"),
        (lambda: ui.HeNormal().variance((4, 4), "torch", 3), "too many positional arguments"),
        (lambda: unit_init.keras.initializer(ui.HeNormal())((4, 4), dtyp="float32"), "Did you mean 'dtype'"),
        (lambda: unit_init.jax.initializer(ui.HeNormal())(key, (4, 4), dtyp="float32"), "Did you mean 'dtype'"),
        (lambda: unit_init.jax.initializer(ui.HeNormal())(), "missing a required argument: 'key'"),
        (lambda: unit_init.jax.haiku_initializer(ui.HeNormal())((4, 4), dtyp="float32"), "Did you mean 'dtype'"),
    ]
    for call, message in calls:
        with pytest.raises(ui.ArgumentError, match=message):
            call()
    pytest.importorskip("haiku")
    with pytest.raises(ui.ParameterError, match=r"must be used as part of an `hk\.transform`"):  # was Haiku's plain ValueError
        unit_init.jax.haiku_initializer(ui.HeNormal())((4, 4), "float32")


def test_serialize_refuses_keywords_by_name_and_keeps_its_register() -> None:
    for keyword in ("spec", "spc"):
        with pytest.raises(ui.ArgumentError, match=f"'{keyword}'; accepted: none .*by position"):
            ui.serialize(**{keyword: ui.HeNormal()})
    assert ui.serialize(ui.keras_dense)["class_name"] == "LayerPreset"  # the preset's writer, registered on the wrapper


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("he_normal", {"dtype": "float16"}),  # about 0.1 % of the values round to float16 subnormals
        ("he_normal", {"dtype": "float16", "rng": "portable"}),
        ("random_normal", {"stddev": 1e-39}),  # products below float32's smallest normal number
        ("random_uniform", {"minval": -1e-39, "maxval": 1e-39}),
        ("truncated_normal", {"stddev": 1e-39, "rng": "portable"}),
        ("orthogonal", {"gain": 1e-39}),
        ("truncated_normal", {"stddev": 1e-37}),  # re-drawn natively: about a tenth of the products are subnormal
        ("random_normal", {"stddev": 1e-307, "dtype": "float64"}),
        ("random_normal", {"stddev": 2.0**-62}),  # the smallest scales drawn without NumPy's errstate
        ("random_uniform", {"minval": 0.0, "maxval": 2.0**-62}),
        ("truncated_normal", {"stddev": 2.0**-62}),
        ("random_normal", {"stddev": 2.0**-958, "dtype": "float64"}),
    ],
)
def test_numpy_draws_are_the_same_under_errstate_raise(name: str, options: dict[str, object]) -> None:
    """Rounding to a subnormal number is correct rounding: a user's ``np.seterr(under="raise")`` does not make it an error."""
    draw = getattr(ui, name)
    with np.errstate(all="raise"):  # first, so that the plan is also made under it
        values = draw((256, 256), seed=0, **options)
        assert np.geterr()["under"] == "raise"  # the caller's state, restored
    np.testing.assert_array_equal(values, draw((256, 256), seed=0, **options))
    assert np.isfinite(values.astype(np.float64)).all()


@pytest.mark.parametrize(
    ("name", "options", "entered"),
    [
        ("he_normal", {}, 0),  # only N(0, 1)·std with std ≥ 2⁶⁴·tiny: no product can be subnormal
        ("glorot_uniform", {}, 0),
        ("random_normal", {"stddev": 2.0**-63}, 1),  # below that scale
        ("he_normal", {"dtype": "float16"}, 1),  # the cast to float16 rounds to subnormals
        ("truncated_normal", {"lower": 3.0, "upper": 9.0}, 1),  # a tail by quantile: logarithms and exponentials
        ("orthogonal", {}, 1),
        ("he_normal", {"rng": "portable"}, 1),
    ],
)
def test_numpys_errstate_is_entered_only_where_a_draw_can_round_to_a_subnormal(
    name: str, options: dict[str, object], entered: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entering ``np.errstate`` costs ~1.6 µs a draw; a draw that only scales NumPy's ``U[0, 1)`` or ``N(0, 1)`` by a
    large enough factor skips it (the rows above show those draws stay quiet under ``errstate(all="raise")``)."""
    from unit_init.backends.numpy_backend import NumpyBackend

    draw = getattr(ui, name)
    draw((64, 64), seed=0, **options)  # the plan, made once
    calls = []
    quiet = NumpyBackend.quiet_underflow
    monkeypatch.setattr(NumpyBackend, "quiet_underflow", lambda self: calls.append(1) or quiet(self))
    draw((64, 64), seed=0, **options)
    assert len(calls) == entered


class _LyingFloat(float):
    def __float__(self) -> float:
        raise RuntimeError("a hostile __float__")


class _LyingInt(int):
    def __float__(self) -> float:
        raise RuntimeError("a hostile __float__")

    def __index__(self) -> int:
        raise RuntimeError("a hostile __index__")

    def __int__(self) -> int:
        raise RuntimeError("a hostile __int__")


def test_number_subclasses_are_read_by_their_value_not_their_own_conversions() -> None:
    """A float or int subclass whose ``__float__``/``__int__`` raise is its value, as ``1.0 + 0`` reads it; no crash."""
    np.testing.assert_array_equal(ui.constant((2,), value=_LyingFloat(1.5)), np.full(2, 1.5, np.float32))
    assert ui.ConstantArray([_LyingFloat(0.5), _LyingInt(1)]).value == (0.5, 1.0)
    np.testing.assert_array_equal(ui.constant_array((2,), value=[_LyingInt(1), _LyingInt(2)], dtype="int32"), np.array([1, 2]))
    assert ui.RandomNormal(stddev=_LyingFloat(0.25)).stddev == 0.25
    assert type(ui.Orthogonal(gain=_LyingInt(2)).gain) is int
    fanned = ui.he_normal((4, 4), fan_in=_LyingFloat(2.0), seed=0)
    np.testing.assert_array_equal(fanned, ui.he_normal((4, 4), fan_in=2.0, seed=0))
    np.testing.assert_array_equal(ui.he_normal((4, 4), fan_in=_LyingInt(2), seed=0), fanned)
    with pytest.raises(ui.ParameterError, match=r"fan_in=-1\.0 must be > 0"):
        ui.he_normal((4, 4), fan_in=_LyingFloat(-1.0), seed=0)
    with pytest.raises(ui.ParameterError, match="must be a finite real number"):
        ui.RandomNormal(stddev=_LyingFloat(math.inf))


class _HostileHashFloat(float):
    def __hash__(self) -> int:
        raise RuntimeError("a hostile __hash__")


class _HostileHashStr(str):
    __slots__ = ()

    def __hash__(self) -> int:
        raise RuntimeError("a hostile __hash__")


def test_fan_overrides_are_read_by_their_value_and_at_least_one() -> None:
    """A NumPy scalar, a 0-d array or a float subclass with a hostile ``__hash__`` is the fan it holds (they were refused,
    or the subclass's ``RuntimeError`` escaped the plan cache); a fan below 1, which every rule floors at 1, is refused."""
    expected = ui.he_normal((4, 4), fan_in=64, seed=0)
    for fan in (np.int64(64), np.float32(64.0), np.array(64), _HostileHashFloat(64.0)):
        np.testing.assert_array_equal(ui.he_normal((4, 4), fan_in=fan, seed=0), expected)
    assert ui.compute_fans((4, 4), fan_out=np.int32(7)).fan_out == 7.0
    assert ui.HeNormal().variance((4, 4), fan_in=np.array(64)) == ui.HeNormal().variance((4, 4), fan_in=64)
    for fan in (0.25, 1e-45, np.float64(0.5)):
        with pytest.raises(ui.ParameterError, match="below 1"):
            ui.he_normal((4, 4), fan_in=fan, seed=0)
        with pytest.raises(ui.ParameterError, match="below 1"):
            ui.HeNormal().variance((4, 4), fan_out=fan)


class _DTypeLikeOne:
    """A dtype object equal to ``1`` and hashing as it (``tf.float32`` does both)."""

    name = "float32"

    def __eq__(self, other: object) -> bool:
        return other == 1 or isinstance(other, _DTypeLikeOne)

    def __hash__(self) -> int:
        return 1


def test_a_cached_dtype_never_answers_for_an_equal_value_of_another_type() -> None:
    """``dtype=1`` is refused also after a dtype object equal to 1 with the same hash was accepted (the caches are typed)."""
    assert ui.zeros((2,), dtype=_DTypeLikeOne()).dtype == np.float32
    with pytest.raises(ui.DTypeError, match="dtype=1 "):
        ui.zeros((2,), dtype=1)
    with pytest.raises(ui.DTypeError, match="dtype=1 "):
        ui.he_normal((2, 2), dtype=1, seed=0)
    assert ui.he_normal((2, 2), dtype=_HostileHashStr("float64"), seed=0).dtype == np.float64  # no key: drawn uncached


def test_a_spec_call_with_options_by_position_is_an_argument_error() -> None:
    """``HeNormal()((4, 4), "numpy")`` names the mistake, as ``ui.he_normal((4, 4), "numpy")`` does (it was Python's TypeError)."""
    with pytest.raises(ui.ArgumentError, match="only positional argument"):
        ui.HeNormal()((4, 4), "numpy")
    with pytest.raises(ui.ArgumentError):
        ui.he_normal((4, 4), "numpy")


def test_a_spec_call_without_a_shape_is_an_argument_error_and_the_shape_still_reads_as_required() -> None:
    """``HeNormal()()`` was Python's own ``TypeError`` (no ``UnitInitError``), where ``ui.he_normal()`` was already typed."""
    import inspect

    for call in (lambda: ui.HeNormal()(), lambda: ui.HeNormal()(dtype="float32", seed=0), lambda: ui.Zeros()(backend="numpy")):
        with pytest.raises(ui.ArgumentError, match=r"needs the shape of the array to draw"):
            call()
    assert inspect.signature(ui.HeNormal()).parameters["shape"].default is inspect.Parameter.empty
    assert ui.HeNormal()(shape=(2, 3), seed=0).shape == (2, 3)


def test_a_spec_call_with_the_shape_twice_or_self_by_keyword_is_an_argument_error() -> None:
    """``HeNormal()((4, 4), shape=(4, 4))`` and ``(**{"self": 1})`` were Python's own ``TypeError``; ``ui.he_normal`` was typed."""
    with pytest.raises(ui.ArgumentError, match="multiple values for argument 'shape'"):
        ui.HeNormal()((4, 4), shape=(4, 4))
    with pytest.raises(ui.ArgumentError, match="unexpected keyword argument 'self'"):
        ui.Orthogonal()((4, 4), self=1)
    with pytest.raises(ui.ArgumentError, match="multiple values for argument 'shape'"):
        ui.he_normal((4, 4), shape=(4, 4))


@pytest.mark.parametrize(
    ("function", "keywords", "closest"),
    [
        (ui.set_seed, {"seeed": 1}, "seed"),
        (ui.use_backend, {"devcie": "cpu"}, "device"),
        (ui.get, {"identifer": "he_normal"}, "identifier"),
        (ui.deserialize, {"conf": {}}, "config"),
        (ui.compute_fans, {"shap": (2, 2)}, "shape"),
        (ui.calculate_gain, {"nonlinearty": "relu"}, "nonlinearity"),
    ],
)
def test_a_misspelt_keyword_to_a_helper_function_is_an_argument_error(function: Any, keywords: dict[str, Any], closest: str) -> None:
    with pytest.raises(ui.ArgumentError, match=f"Did you mean '{closest}'"):
        function(**keywords)


class _RaisingIndex:
    def __index__(self) -> int:
        raise RuntimeError("a hostile __index__")


class _RaisingInt(int):
    def __ge__(self, other: object) -> bool:
        raise RuntimeError("a hostile comparison")

    __le__ = __lt__ = __gt__ = __ge__


class _RaisingEqFloat(float):
    def __eq__(self, other: object) -> bool:
        raise RuntimeError("a hostile __eq__")

    __hash__ = float.__hash__


@pytest.mark.parametrize(
    ("call", "error"),
    [  # what a fourth hostile campaign found: each raised a raw exception
        (lambda: ui.he_normal((4, 4), region=(slice(np.array([0, 1]), 2),), rng="portable", seed=0), ui.ParameterError),
        (lambda: ui.he_normal((4, 4), region=(slice(0, 2, np.array([1, 1])),), rng="portable", seed=0), ui.ParameterError),
        (lambda: ui.he_normal((4, 4), region=(slice(_RaisingIndex(), 2),), rng="portable", seed=0), ui.ParameterError),
        (lambda: ui.he_normal((4, 4), region=((10**5000, 0), (2, 2)), rng="portable", seed=0), ui.ParameterError),
        (lambda: ui.Dirac(groups=10**5000), ui.ParameterError),
        (lambda: ui.diagnose("he_normal", depth=np.array(2.0)), ui.ParameterError),
        (lambda: ui.diagnose("he_normal", activation="relu", activation_param=10**5000), ui.ParameterError),
        (lambda: ui.compare(np.array(2.0)), ui.ParameterError),
        (lambda: ui.initialize({"w": np.zeros((3, 3), np.float32)}, np.array(2.0)), ui.ParameterError),
        (lambda: ui.initialize({"w": np.zeros((3, 3), np.float32)}, {"*": ui.HeNormal()}, skip=np.array(2.0)), ui.ParameterError),
        (lambda: ui.STFT(window=np.float32), ui.ParameterError),
        (lambda: ui.ConstantArray(np.float32), ui.ParameterError),
        (lambda: ui.register(10**5000), ui.ParameterError),
        (lambda: ui.Layout(in_axis=_RaisingIndex()), ui.ParameterError),
        (lambda: ui.Layout(in_axis=(_RaisingIndex(),)), ui.ParameterError),
    ],
)
def test_hostile_arguments_found_by_a_campaign_are_typed(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


class _RaisingAttributes:
    """An object whose every attribute look-up raises something other than ``AttributeError`` (``hasattr`` lets it through)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a hostile __getattr__ ({name})")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: ui.he_normal(_RaisingAttributes()), ui.ShapeError),
        (lambda: ui.he_normal((_RaisingAttributes(), 2)), ui.ShapeError),
        (lambda: ui.RandomNormal(stddev=_RaisingAttributes()), ui.ParameterError),
        (lambda: ui.Constant(_RaisingAttributes()), ui.ParameterError),
        (lambda: ui.Fans("abc", 1), ui.ParameterError),  # a result type, checked as its fields promise
        (lambda: ui.Fans(-1.0, 2.0), ui.ParameterError),
        (lambda: ui.Fans(math.inf, 2.0), ui.ParameterError),
    ],
)
def test_objects_whose_attributes_raise_and_bad_fans_are_typed(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


def _public_callables(module_name: str) -> list[tuple[str, Any]]:
    module = pytest.importorskip(module_name)
    return [
        (name, value) for name in sorted(module.__all__)
        if callable(value := getattr(module, name)) and not (isinstance(value, type) and issubclass(value, BaseException))
    ]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # the torch drop-ins' deprecated aliases warn before they fail
@pytest.mark.parametrize("module_name", ["unit_init", "unit_init.torch", "unit_init.keras", "unit_init.jax"])
def test_every_public_callable_types_a_call_that_does_not_match_its_signature(module_name: str) -> None:
    """A keyword no callable takes is a ``TypeError`` that is also a ``UnitInitError`` (:class:`unit_init.errors.ArgumentError`,
    or the torch drop-ins' own); twelve positional arguments a ``UnitInitError`` (some read their first argument first:
    ``KerasInitializer(0, …)`` is refused as no initializer)."""
    for name, function in _public_callables(module_name):
        for args, kwargs, error in [(tuple(range(12)), {}, ui.UnitInitError), ((), {"no_such_keyword": 1}, TypeError)]:
            with pytest.raises(error) as raised:
                function(*args, **kwargs)
            assert isinstance(raised.value, ui.UnitInitError), f"{module_name}.{name}: {raised.value!r}"


@pytest.mark.parametrize(
    "call",
    [
        lambda: ui.he_normal(),  # type: ignore[call-arg]
        lambda: ui.Sparse(),  # type: ignore[call-arg]
        lambda: ui.Fans(1.0),  # type: ignore[call-arg]
        lambda: ui.mup_rules(1),  # type: ignore[call-arg]
        lambda: ui.compare(["he_normal"], 1),  # type: ignore[misc]
        lambda: ui.canonical_dtype(),  # type: ignore[call-arg]
    ],
)
def test_a_missing_or_an_extra_argument_is_an_argument_error_showing_the_signature(call: Any) -> None:
    with pytest.raises(ui.ArgumentError, match=r"(missing a required argument|too many positional arguments).*; it takes \w+\("):
        call()


def test_values_of_hostile_number_subclasses_are_read_without_their_comparisons() -> None:
    assert ui.ConstantArray(_RaisingInt(3)).value == 3
    config = {"class_name": "RandomNormal", "config": {"stddev": _RaisingEqFloat(1.0)}}
    assert ui.deserialize(config) == ui.RandomNormal(stddev=1.0)


@pytest.mark.parametrize("call", [
    lambda: ui.trunc_normal((), std=10, seed=0),
    lambda: ui.truncated_normal((), stddev=1, lower=-0.05, upper=0.05, seed=0),
    lambda: ui.bounded_normal((), stddev=46, seed=0),
])
def test_a_0d_narrow_truncated_normal_on_numpy_is_a_0d_array(call: Any) -> None:
    """NumPy's arithmetic made a scalar of it, which its in-place clip refused (raw TypeError)."""
    value = call()
    assert isinstance(value, np.ndarray)
    assert value.shape == ()


class _TruncatingFloat0d:
    """A 0-d float array whose ``__index__`` truncates (pydata sparse's), and no ``item()`` (the standard has none)."""

    shape = ()
    dtype = "float64"

    def __init__(self, value: float) -> None:
        self.value = value

    def __index__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        return self.value


def test_a_0d_float_array_is_read_as_its_float_whatever_its_index_says() -> None:
    assert ui.RandomNormal(0.0, _TruncatingFloat0d(0.5)).stddev == 0.5  # 0 by __index__: a silent std of 0
    assert ui.RandomUniform(_TruncatingFloat0d(-0.9), 1.0).minval == -0.9


def test_an_error_of_the_callers_own_iterable_is_raised_as_it_is() -> None:
    def names() -> Any:
        yield "w"
        raise TypeError("the caller's own bug")

    with pytest.raises(TypeError, match="the caller's own bug"):
        ui.initialize({"w": np.zeros((3, 3), np.float32)}, {"*": ui.HeNormal()}, skip=names())


def test_install_hints_put_the_framework_before_the_extra_that_needs_it() -> None:
    """The hint offered ``pip install -e ".[torch]"`` as an alternative, which resolves PyPI's CUDA build."""
    from unit_init.errors import install_hint

    assert install_hint("torch", "torch").endswith('in a unit_init checkout, that first, then pip install -e ".[torch]"')
    assert "tensorflow-cpu" in install_hint("tensorflow", "tensorflow")


def test_a_portable_array_it_cannot_address_is_refused_before_the_memory_guard() -> None:
    """The guard's "set UNIT_INIT_MAX_BYTES to allow more" led only to the addressing error."""
    with pytest.raises(ui.ParameterError, match=r"addresses at most 2\*\*32 elements"):
        ui.he_normal((2**17, 2**16), rng="portable")


def test_the_memory_message_names_a_default_device_in_plain_words() -> None:
    pytest.importorskip("jax")
    with pytest.raises(ui.ResourceError, match="free on the jax backend's default device;"):  # "backend's its default device"
        ui.he_normal((10**6, 10**6), backend="jax")


@pytest.mark.parametrize(
    "call",
    [  # what a fifth hostile campaign found: quoted in full, or raising while quoting a 5000-digit int
        lambda: ui.recommend("relu", 10**5000),
        lambda: ui.recommend("x" * 10**6, 0.1),
        lambda: ui.diagnose(10**5000, np.zeros((2, 2))),
        lambda: ui.initialize({"x" * 10**6: np.zeros((3, 3), np.int32)}, {"*": ui.HeNormal()}),
    ],
)
def test_huge_arguments_are_quoted_abbreviated(call: Any) -> None:
    with pytest.raises(ui.UnitInitError) as raised:
        call()
    assert len(str(raised.value)) < 1000


def test_a_huge_rule_that_matches_nothing_is_quoted_abbreviated_in_its_warning() -> None:
    with pytest.warns(UserWarning, match="matches no parameter|matched no|never") as warned:
        ui.initialize({"w": np.zeros((3, 3))}, {"x" * 10**6: ui.HeNormal(), "*": ui.Zeros()})
    assert all(len(str(w.message)) < 1000 for w in warned)


def test_a_pytree_keeps_its_container_types_and_names_named_tuple_fields_as_jax_does() -> None:
    import collections
    from typing import NamedTuple

    class Dense(NamedTuple):
        kernel: Any
        bias: Any

    params = {
        "fc": Dense(np.zeros((4, 3)), np.zeros(3)),
        "ordered": collections.OrderedDict(w=np.zeros((2, 2))),
        "default": collections.defaultdict(list, {"w": np.zeros((2, 2))}),
    }
    new, report = ui.initialize(params, {"*kernel": ui.HeNormal(), "*": ui.Zeros()}, seed=0)
    assert type(new["fc"]) is Dense
    assert type(new["ordered"]) is collections.OrderedDict
    assert type(new["default"]) is collections.defaultdict
    assert new["default"].default_factory is list
    assert dict(report.applied)["fc/kernel"] == 0
    assert np.any(new["fc"].kernel != 0)

    class Named(dict[str, Any]):  # a constructor that takes other arguments: it becomes a dict, with every leaf
        def __init__(self, name: str | None = None, **items: Any) -> None:
            super().__init__(**items)

    class Layers(list[Any]):
        pass

    new, _ = ui.initialize({"c": Named("x", kernel=np.zeros((4, 3))), "l": Layers([np.zeros((2, 2))])}, {"*": ui.Ones()}, seed=0)
    assert type(new["c"]) is dict
    assert np.all(new["c"]["kernel"] == 1)
    assert type(new["l"]) is list
    assert np.all(new["l"][0] == 1)


class _HostileStr(str):
    """A string whose comparisons and hash raise once armed (after the dict holding it is built)."""

    armed = False

    def __hash__(self) -> int:
        if _HostileStr.armed:
            raise RuntimeError("a hostile __hash__")
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        if _HostileStr.armed:
            raise RuntimeError("a hostile __eq__")
        return str.__eq__(self, other)


def test_a_config_holds_plain_strings_and_a_spec_keeps_the_plain_name_of_a_str_subclass() -> None:
    configs = [
        {"class_name": "RandomNormal", "config": {_HostileStr("stddev"): 1.0}},
        {"class_name": _HostileStr("HeNormal"), "config": {}},
    ]
    _HostileStr.armed = True
    try:
        for config in configs:
            with pytest.raises(ui.ParameterError, match="plain strings"):
                ui.deserialize(config)
        assert ui.VarianceScaling(mode=_HostileStr("fan_out")).mode == "fan_out"  # read by its value
    finally:
        _HostileStr.armed = False
    spec = ui.VarianceScaling(mode=np.str_("fan_out"), distribution=np.str_("uniform"))
    assert type(spec.mode) is str
    assert type(spec.distribution) is str
    assert ui.deserialize(ui.serialize(spec)) == spec


@pytest.mark.parametrize(
    "call",
    [
        lambda: ui.Orthogonal().variance((16, 8, 3, 3), layuot="torch"),  # answered Keras's layout's variance
        lambda: ui.Identity().distribution_for((4, 4), layuot="torch"),  # answered Eye(gain=1.0)
        lambda: ui.HeNormal().distribution_for((4, 4), layuot="torch"),  # Python's plain TypeError
        lambda: ui.Zeros().distribution_for((4, 4), fan=3),
        lambda: ui.BoundedNormal().distribution_for((4, 4), layuot="torch"),
    ],
)
def test_a_misspelt_keyword_to_a_specs_law_or_variance_is_an_argument_error(call: Any) -> None:
    """A spec's own ``distribution_for``/``variance`` written with ``**_`` swallowed any keyword (review)."""
    with pytest.raises(ui.ArgumentError, match=r"Did you mean 'layout'|accepted: fan_in, fan_out, layout, shape\."):
        call()


def test_every_spec_takes_the_layout_and_fans_by_keyword_in_its_law_and_variance() -> None:
    assert ui.Orthogonal().variance((16, 8, 3, 3), layout="torch") == pytest.approx(1 / 72)
    assert ui.Identity().distribution_for(shape=(4, 4), layout="torch", fan_in=2, fan_out=3) == ui.Identity().distribution_for((4, 4))


def test_a_plugin_specs_own_law_and_variance_keep_their_keywords_descriptors_and_its_mixins() -> None:
    """The keyword check of a subclass's ``distribution_for`` dropped its own extra keywords, broke a ``classmethod`` or
    ``staticmethod`` one, and skipped a mixin's ``__init_subclass__`` (review)."""
    registered = []

    class Registry:
        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__(**kwargs)
            registered.append(cls.__name__)

    @dataclasses.dataclass(frozen=True)
    class Tempered(ui.Initializer, Registry):
        def distribution_for(self, shape: Any, *, layout: Any = None, fan_in: Any = None, fan_out: Any = None, temperature: float = 1.0) -> Any:
            return ui.distributions.Normal(0.0, temperature)

    @dataclasses.dataclass(frozen=True, slots=True)
    class Static(ui.Initializer):
        @classmethod
        def variance(cls, shape: Any, **_: object) -> float:
            return 1.0

        @staticmethod
        def distribution_for(shape: Any, **_: object) -> Any:
            return ui.distributions.Normal(0.0, 1.0)

    assert Tempered().distribution_for((4, 4), temperature=2.0) == ui.distributions.Normal(0.0, 2.0)
    with pytest.raises(ui.ArgumentError, match="Did you mean 'temperature'"):
        Tempered().distribution_for((4, 4), temprature=2.0)
    assert registered == ["Tempered"]
    assert Static().variance((2, 2)) == 1.0
    assert Static()((2, 2), seed=0).shape == (2, 2)


def test_a_misspelt_keyword_names_the_spec_called_not_the_class_defining_the_method() -> None:
    """``HeNormal().distribution_for(…, layuot=…)`` said ``Composed.distribution_for()``, the class that defines it (walk)."""
    with pytest.raises(ui.ArgumentError, match=r"^HeNormal\.distribution_for\(\) got an unexpected keyword argument 'layuot'"):
        ui.HeNormal().distribution_for((4, 4), layuot="torch")
    with pytest.raises(ui.ArgumentError, match=r"^GlorotUniform\.variance\(\): too many positional arguments; it takes GlorotUniform\.variance\("):
        ui.GlorotUniform().variance((4, 4), "torch")


class _DTypeRaising:
    """An object whose ``dtype`` property raises (NumPy's ``np.dtype`` reads it): its own exception leaked."""

    @property
    def dtype(self) -> Any:
        raise RuntimeError("a hostile dtype property")


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_a_dtype_object_whose_dtype_raises_is_a_dtype_error(backend: str) -> None:
    pytest.importorskip(backend)
    with pytest.raises(ui.DTypeError, match="is not supported"):
        ui.he_normal((2, 2), dtype=_DTypeRaising(), backend=backend)
    with pytest.raises(ui.DTypeError):
        ui.canonical_dtype(_DTypeRaising())


class _SevenInt(int):
    """An int whose ``__index__`` and ``__int__`` say 7, whatever its value."""

    def __index__(self) -> int:
        return 7

    __int__ = __index__


def test_an_int_subclass_seed_is_its_value_in_a_spec_and_in_a_call() -> None:
    """``HeNormal(seed=S(5))`` kept 7 (``int()``) where ``he_normal(…, seed=S(5))`` drew with 5: both are its value."""
    assert ui.HeNormal(seed=_SevenInt(5)).seed == 5
    expected = ui.he_normal((3,), seed=5)
    np.testing.assert_array_equal(ui.he_normal((3,), seed=_SevenInt(5)), expected)
    np.testing.assert_array_equal(ui.HeNormal(seed=_SevenInt(5))((3,)), expected)


class _HostileTuple(tuple):  # type: ignore[type-arg]
    """A tuple whose own ``__iter__`` and ``__len__`` raise: its items are read without them."""

    def __iter__(self) -> Any:
        raise RuntimeError("a hostile __iter__")

    def __len__(self) -> int:
        raise RuntimeError("a hostile __len__")


class _HostileList(list):  # type: ignore[type-arg]
    def __iter__(self) -> Any:
        raise RuntimeError("a hostile __iter__")

    def __len__(self) -> int:
        raise RuntimeError("a hostile __len__")


def test_tuple_and_list_subclasses_whose_methods_raise_are_read_by_their_items() -> None:
    """A region, an STFT window, a ConstantArray's value and a Layout's axes given as such a subclass raised its own
    exception (a campaign, helper 163); ``shape=`` already read them. They are the tuples and lists they hold."""
    whole = ui.he_normal((4, 4), rng="portable", seed=0)
    np.testing.assert_array_equal(ui.he_normal((4, 4), region=_HostileTuple((slice(0, 2),)), rng="portable", seed=0), whole[:2])
    assert ui.STFT(window=_HostileTuple((1.0, 2.0, 3.0))) == ui.STFT(window=_HostileList([1.0, 2.0, 3.0])) == ui.STFT(window=(1.0, 2.0, 3.0))
    assert ui.ConstantArray(_HostileList([_HostileTuple((1.0,)), _HostileTuple((2.0,))])) == ui.ConstantArray([[1.0], [2.0]])
    assert ui.Layout(in_axis=_HostileTuple((0, 1))) == ui.Layout(in_axis=(0, 1))


class _RaisingStr(str):
    """A string whose ``__hash__`` and ``__eq__`` raise (the registries' look-ups call them)."""

    def __hash__(self) -> int:
        raise RuntimeError("a hostile __hash__")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("a hostile __eq__")


def test_str_subclasses_as_backend_layout_and_rng_are_their_text() -> None:
    """``backend=``, ``layout=`` and ``rng=`` given as such a string raised its own exception; they read as the text."""
    expected = ui.he_normal((2, 3), seed=0, layout="torch", rng="portable")
    drawn = ui.he_normal((2, 3), seed=0, backend=_RaisingStr("numpy"), layout=_RaisingStr("torch"), rng=_RaisingStr("portable"))
    np.testing.assert_array_equal(drawn, expected)
    np.testing.assert_array_equal(ui.HeNormal()((2, 3), seed=0, layout=_RaisingStr("torch"), rng=_RaisingStr("portable")), expected)
    with pytest.raises(ui.ParameterError, match="rng='natve' is not available"):
        ui.he_normal((2, 3), rng=_RaisingStr("natve"))


class _RaisingText(_RaisingStr):
    """A string whose matching methods raise too (the rules engine globs names with them)."""

    def startswith(self, *args: Any) -> bool:
        raise RuntimeError("a hostile startswith")

    def split(self, *args: Any) -> Any:
        raise RuntimeError("a hostile split")


def test_rule_keys_pairs_skip_rng_where_and_activation_given_as_hostile_subclasses_are_their_values() -> None:
    """An ``initialize`` rule key, pair or rules list, ``skip=``, ``rng=``, ``Where(name=, role=, rank=, type=)`` and
    ``diagnose(activation=)`` given as a str, tuple or list subclass whose methods raise leaked that exception (helper
    163); they read as the text, tuple or list they hold, as ``backend=`` and ``region=`` already were."""
    from unit_init.adapters.rules import Where

    params = {"fc": {"kernel": np.zeros((8, 4), np.float32), "bias": np.zeros(4, np.float32)}}
    rules = [("*/kernel", ui.HeNormal()), ("*/bias", ui.Ones())]
    expected, _ = ui.initialize(params, rules, seed=0, skip=["fc/bias"], rng="portable")
    hostile = _HostileList([_HostileTuple((_RaisingText("*/kernel"), ui.HeNormal())), _HostileTuple((Where(role=_RaisingText("bias")), ui.Ones()))])
    drawn, report = ui.initialize(params, hostile, seed=0, skip=_HostileList([_RaisingText("fc/bias")]), rng=_RaisingText("portable"))
    np.testing.assert_array_equal(drawn["fc"]["kernel"], expected["fc"]["kernel"])
    assert (drawn["fc"]["bias"] == 0).all()
    assert dict(report.applied) == {"fc/kernel": 0}
    where = Where(name=_RaisingText("fc/*"), rank=_HostileList([2]), type=_HostileTuple((dict,)))
    assert (where.name, where.rank, where.type) == ("fc/*", (2,), (dict,))
    assert dict(ui.initialize(params, [(Where(rank=_HostileTuple((1,))), ui.Ones())], seed=0)[1].applied) == {"fc/bias": 0}
    assert ui.diagnose("he_normal", activation=_RaisingStr("tanh"), depth=2, width=8, batch=4, seed=0).activation == "tanh"
