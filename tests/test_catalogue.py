"""Every initializer of the catalogue, drawn large on NumPy and checked against its analytic law.

Each random initializer draws 2^19 values with a fixed seed and must match
its promised distribution (moments, support, one-sample KS against
scipy.stats) on a non-square shape, so a swapped fan axis changes the
variance by 2x and fails. ``test_power.py`` shows these checks reject
planted mistakes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats

import unit_init as ui
from stats import check_sample
from unit_init import distributions as d
from unit_init.spec.fans import resolve_layout

SHAPE = (512, 1024)  # fan_in=512, fan_out=1024 (keras): swapping fans doubles or halves the variance
N = math.prod(SHAPE)

# name -> (spec, expected distribution for SHAPE written out by hand)
EXPECTED = {
    "random_normal": (ui.RandomNormal(0.1, 0.3), d.Normal(0.1, 0.3)),
    "random_uniform": (ui.RandomUniform(-0.2, 0.6), d.Uniform(-0.2, 0.6)),
    "truncated_normal": (ui.TruncatedNormal(0.5, 0.2), d.TruncatedGaussian(0.5, 0.2, -2, 2)),
    "variance_scaling": (ui.VarianceScaling(3.0, "fan_out", "untruncated_normal"), d.Normal(0, math.sqrt(3 / 1024))),
    "glorot_normal": (ui.GlorotNormal(), d.TruncatedGaussian(0, math.sqrt(1 / 768) / 0.87962566103423978)),
    "glorot_uniform": (ui.GlorotUniform(), d.Uniform(-math.sqrt(6 / 1536), math.sqrt(6 / 1536))),
    "he_normal": (ui.HeNormal(), d.TruncatedGaussian(0, math.sqrt(2 / 512) / 0.87962566103423978)),
    "he_uniform": (ui.HeUniform(), d.Uniform(-math.sqrt(6 / 512), math.sqrt(6 / 512))),
    "lecun_normal": (ui.LecunNormal(), d.TruncatedGaussian(0, math.sqrt(1 / 512) / 0.87962566103423978)),
    "lecun_uniform": (ui.LecunUniform(), d.Uniform(-math.sqrt(3 / 512), math.sqrt(3 / 512))),
}


def test_every_random_initializer_is_covered() -> None:
    deterministic = {"zeros", "ones", "constant", "identity", "orthogonal"}
    assert set(EXPECTED) | deterministic == set(ui.CATALOGUE)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spec_resolves_to_the_expected_distribution(name: str) -> None:
    spec, expected = EXPECTED[name]
    resolved = spec.distribution_for(SHAPE)
    assert type(resolved) is type(expected)
    for field in ("mean", "variance"):
        assert getattr(resolved, field) == pytest.approx(getattr(expected, field), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_large_draw_matches_the_analytic_law(name: str, dtype: str) -> None:
    spec, expected = EXPECTED[name]
    values = spec(SHAPE, seed=20260101, dtype=dtype)
    assert values.shape == SHAPE
    assert values.dtype == np.dtype(dtype)
    check_sample(values, expected, dtype)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_function_and_class_draw_the_same(name: str) -> None:
    spec, _ = EXPECTED[name]
    function = getattr(ui, name)
    params = {k: v for k, v in spec.get_config().items() if k != "seed"}
    np.testing.assert_array_equal(function((64, 32), seed=5, **params), spec((64, 32), seed=5))


def test_function_forms_build_one_spec_per_distinct_parameters_and_never_confuse_equal_ones() -> None:
    """The function forms keep the spec of each distinct call (by parameter type, value and sign), so a warm call skips the
    spec's validation; values that compare equal but draw differently, or must be refused, are never served another's."""
    first = ui.random_normal((8, 8), seed=1, stddev=0.5)
    np.testing.assert_array_equal(ui.random_normal((8, 8), seed=1, stddev=0.5), first)
    np.testing.assert_array_equal(ui.RandomNormal(stddev=0.5)((8, 8), seed=1), first)
    from unit_init.functions import _built

    assert _built(ui.RandomNormal, 0.0, 0.5) is _built(ui.RandomNormal, 0.0, 0.5)  # built and validated once
    assert _built(ui.Orthogonal, 1) is not _built(ui.Orthogonal, 1.0)  # equal, but not the same call
    assert _built(ui.Constant, -0.0) is not _built(ui.Constant, 0.0)
    ui.orthogonal((4, 4), gain=1, seed=0)
    with pytest.raises(ui.ParameterError, match="gain=True"):
        ui.orthogonal((4, 4), gain=True, seed=0)  # True == 1, but a bool is refused
    assert ui.random_uniform((3,), minval=1, maxval=2, seed=0).dtype == np.float32  # an int 1 and the float 1.0 alike
    np.testing.assert_array_equal(ui.random_uniform((3,), minval=1, maxval=2, seed=0),
                                  ui.random_uniform((3,), minval=1.0, maxval=2.0, seed=0))
    with pytest.raises(ui.ParameterError):
        ui.random_normal((2,), stddev=float("nan"))  # refused every time: a refused spec is never kept
    with pytest.raises(ui.ParameterError):
        ui.random_normal((2,), stddev=float("nan"))


def test_the_spec_cache_stays_bounded_and_keeps_caching_after_a_sweep() -> None:
    """Past ``_MOST_BUILT`` distinct parameter sets the cache starts over: never larger, and the parameters called
    after a long sweep are cached again (a cache that stopped adding would rebuild them on every call)."""
    from unit_init import functions

    for step in range(functions._MOST_BUILT + 10):
        functions._built(ui.RandomNormal, 0.0, 1.0 + step / 4096)
        assert len(functions._BUILT) <= functions._MOST_BUILT
    assert functions._built(ui.RandomNormal, 0.0, 7.0) is functions._built(ui.RandomNormal, 0.0, 7.0)


def test_the_truncated_normal_constant_is_exact() -> None:
    _, variance = d.truncated_standard_normal_moments(-2.0, 2.0)
    assert math.sqrt(variance) == pytest.approx(0.87962566103423978, rel=1e-15)
    assert variance == pytest.approx(scipy.stats.truncnorm(-2, 2).var(), rel=1e-12)
    mean, variance = d.truncated_standard_normal_moments(-1.0, 3.0)
    assert (mean, variance) == pytest.approx(scipy.stats.truncnorm(-1, 3).stats("mv"), rel=1e-12)


def test_he_normal_variance_is_exact_after_truncation() -> None:
    values = ui.he_normal((1024, 1024), seed=3, dtype="float64")
    assert values.var() == pytest.approx(2 / 1024, rel=0.01)  # 0.0028 relative standard error
    assert np.abs(values).max() <= 2 * math.sqrt(2 / 1024) / 0.87962566103423978


@pytest.mark.parametrize(
    ("shape", "layout"),
    [((512, 256), "keras"), ((256, 512), "keras"), ((64, 16, 3, 3), "torch"), ((3, 3, 16, 64), "keras"), ((4, 32, 32), ui.Layout(in_axis=1, out_axis=2, batch_axis=0))],
)
def test_orthogonal_is_orthonormal_on_its_smaller_side(shape: tuple[int, ...], layout: object) -> None:
    gain = 1.7
    q = ui.orthogonal(shape, gain=gain, layout=layout, seed=11, dtype="float64")  # type: ignore[arg-type]
    assert q.shape == shape
    resolved = resolve_layout(layout)  # type: ignore[arg-type]
    _, out_axes, batch_axes = resolved.axes(len(shape))
    other = [a for a in range(len(shape)) if a not in out_axes and a not in batch_axes]
    matrices = np.moveaxis(q, [*batch_axes, *other, *out_axes], range(len(shape)))
    batch = [shape[a] for a in batch_axes]
    matrices = matrices.reshape(*batch, math.prod(shape[a] for a in other), math.prod(shape[a] for a in out_axes))
    small = matrices if matrices.shape[-2] >= matrices.shape[-1] else np.swapaxes(matrices, -1, -2)
    gram = np.swapaxes(small, -1, -2) @ small
    np.testing.assert_allclose(gram, gain**2 * np.broadcast_to(np.eye(gram.shape[-1]), gram.shape), atol=1e-12)
    # min(r, c) orthonormal vectors of length max(r, c), gain² each: the mean square is exactly gain² / max(r, c)
    declared = ui.Orthogonal(gain=gain).variance(shape, layout=layout)  # type: ignore[arg-type]
    assert declared == pytest.approx(float(np.mean(q**2)), rel=1e-12)


def test_orthogonal_entries_are_haar_distributed() -> None:
    # Entries of a Haar matrix with orthonormal columns of length n are close to N(0, 1/n); the
    # sign fix matters: without it the diagonal of R would be all positive and the law not Haar.
    n, k = 2048, 256
    q = np.concatenate([ui.orthogonal((n, k), seed=s, dtype="float64").ravel() for s in range(4)])
    assert ui.Orthogonal().variance((n, k)) == pytest.approx(1 / n)
    assert scipy.stats.kstest(q * math.sqrt(n), "norm").pvalue > 1e-4
    first_rows = np.array([ui.orthogonal((8, 8), seed=s, dtype="float64")[0, 0] for s in range(4000)])
    assert abs(first_rows.mean()) < 5 * math.sqrt(1 / 8 / 4000)  # symmetric: no sign bias


def test_deterministic_initializers() -> None:
    np.testing.assert_array_equal(ui.zeros((2, 3)), np.zeros((2, 3), np.float32))
    np.testing.assert_array_equal(ui.ones((2, 3), dtype="int64"), np.ones((2, 3), np.int64))
    np.testing.assert_array_equal(ui.constant((2,), value=-3, dtype="int8"), np.array([-3, -3], np.int8))
    np.testing.assert_array_equal(ui.identity((2, 4), gain=0.5), 0.5 * np.eye(2, 4, dtype=np.float32))
    assert ui.identity((3, 3), dtype="int32").dtype == np.int32


def test_composed_specs_need_no_backend_code() -> None:
    class HalfFanIn:
        def variance(self, fans: ui.Fans) -> float:
            return 0.5 / fans.fan_in

    spec = ui.Composed(rule=HalfFanIn(), family="uniform")
    values = spec((256, 512), seed=1, dtype="float64")
    check_sample(values, d.Uniform.from_moments(0.0, 0.5 / 256), "float64")


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_stays_inside_the_support(dtype: str) -> None:
    pytest.importorskip("ml_dtypes")
    uniform = ui.random_uniform((1 << 21,), minval=0.0, maxval=1.0, seed=1, dtype=dtype)
    assert float(uniform.astype(np.float32).max()) < 1.0
    truncated = ui.truncated_normal((1 << 21,), stddev=1.0, seed=2, dtype=dtype).astype(np.float32)
    assert np.abs(truncated).max() <= 2.0
    check_sample(truncated, d.TruncatedGaussian(0.0, 1.0), dtype)


# --- presets are VarianceScaling specializations, VarianceScaling a Composed --------------------

PRESETS = {
    ui.GlorotNormal: (1.0, "fan_avg", "truncated_normal"),
    ui.GlorotUniform: (1.0, "fan_avg", "uniform"),
    ui.HeNormal: (2.0, "fan_in", "truncated_normal"),
    ui.HeUniform: (2.0, "fan_in", "uniform"),
    ui.LecunNormal: (1.0, "fan_in", "truncated_normal"),
    ui.LecunUniform: (1.0, "fan_in", "uniform"),
}


@pytest.mark.parametrize(("cls", "fixed"), PRESETS.items(), ids=lambda v: getattr(v, "__name__", ""))
def test_presets_are_variance_scaling_with_fixed_arguments(cls: type[ui.VarianceScaling], fixed: tuple[float, str, str]) -> None:
    import copy
    import pickle

    spec = cls(seed=3)
    assert isinstance(spec, ui.VarianceScaling)
    assert isinstance(spec, ui.Composed)
    assert (spec.scale, spec.mode, spec.distribution) == fixed
    assert spec.rule == ui.rules.FanScaled(*fixed[:2])
    assert (spec.family, spec.mean) == (fixed[2], 0.0)
    assert spec.distribution_for((64, 48), layout="torch") == ui.VarianceScaling(*fixed).distribution_for((64, 48), layout="torch")
    assert repr(spec) == f"{cls.__name__}(seed=3)"
    assert spec.get_config() == {"seed": 3}
    assert spec == cls(seed=3)
    assert hash(spec) == hash(cls(seed=3))
    assert spec != cls()
    assert spec != ui.VarianceScaling(*fixed, seed=3)  # a preset equals only itself
    assert len({spec, cls(seed=3), ui.VarianceScaling(*fixed, seed=3)}) == 2
    for clone in (pickle.loads(pickle.dumps(spec)), copy.copy(spec), copy.deepcopy(spec)):
        assert (clone, clone.rule, type(clone)) == (spec, spec.rule, cls)
    for argument in ("scale", "mode", "distribution", "rule", "family", "mean"):
        with pytest.raises(ui.ArgumentError, match=f"unexpected keyword argument '{argument}'; accepted: seed"):
            cls(**{argument: fixed[0]})


def test_variance_scaling_is_the_composed_of_its_rule_and_family() -> None:
    spec = ui.VarianceScaling(0.5, "fan_out", "normal", seed=1)
    assert (spec.rule, spec.family, spec.distribution) == (ui.rules.FanScaled(0.5, "fan_out"), "untruncated_normal", "untruncated_normal")
    composed = ui.Composed(rule=ui.rules.FanScaled(0.5, "fan_out"), family="untruncated_normal")
    assert spec.distribution_for((30, 70)) == composed.distribution_for((30, 70))
    assert repr(spec) == "VarianceScaling(seed=1, scale=0.5, mode='fan_out', distribution='untruncated_normal')"
    assert spec.get_config() == {"seed": 1, "scale": 0.5, "mode": "fan_out", "distribution": "untruncated_normal"}
    assert spec == ui.VarianceScaling(0.5, "fan_out", "untruncated_normal", seed=1)
    assert ui.VarianceScaling(seed=1) != ui.VarianceScaling(2.0, seed=1)
    with pytest.raises(ui.ArgumentError, match="'rule'; accepted: distribution, mode, scale, seed"):
        ui.VarianceScaling(rule=composed.rule)
    with pytest.raises(ui.ParameterError, match="distribution='normall'"):
        ui.VarianceScaling(distribution="normall")  # type: ignore[arg-type]


KERAS_CLASSES = ["GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "VarianceScaling"]


@pytest.mark.parametrize("name", KERAS_CLASSES)
def test_keras_parity_of_attributes_and_configs(name: str) -> None:
    """Same class tree, attributes and config keys as ``keras.initializers`` (Keras's null axes aside)."""
    keras = pytest.importorskip("keras")
    theirs, ours = getattr(keras.initializers, name)(seed=5), getattr(ui, name)(seed=5)
    assert isinstance(theirs, keras.initializers.VarianceScaling)
    assert isinstance(ours, ui.VarianceScaling)
    assert (ours.scale, ours.mode, ours.distribution) == (theirs.scale, theirs.mode, theirs.distribution)
    keras_config = {key: value for key, value in theirs.get_config().items() if key not in ("input_axes", "output_axes")}
    assert ours.get_config() == keras_config
    assert ui.deserialize({"class_name": name, "config": theirs.get_config(), "module": "keras.initializers", "registered_name": None}) == ours


def _framework_scalars() -> list[object]:
    """0-d arrays of the installed frameworks holding 0.25 (JAX's and torch's are what their users compute parameters with)."""
    found: list[object] = [np.float32(0.25), np.float16(0.25), np.array(0.25)]
    try:
        import torch
    except ImportError:
        pass
    else:
        found.append(torch.tensor(0.25))
    try:
        import jax.numpy as jnp
    except ImportError:
        pass
    else:
        found.append(jnp.array(0.25))
    try:
        import tensorflow as tf
    except ImportError:
        pass
    else:  # were refused: their dtype's str() is "<dtype: 'float32'>"
        found.extend([tf.constant(0.25), tf.Variable(0.25)])
    return found


@pytest.mark.parametrize("scalar", _framework_scalars(), ids=lambda scalar: type(scalar).__name__)
def test_framework_scalars_are_numbers_and_configs_stay_plain(scalar: object) -> None:
    """A NumPy scalar or a 0-d array is a parameter as Keras, JAX and torch take it; the spec keeps a Python float."""
    spec = ui.RandomNormal(mean=scalar, stddev=scalar, seed=np.int64(3))
    assert spec == ui.RandomNormal(mean=0.25, stddev=0.25, seed=3)
    assert type(spec.stddev) is float
    assert type(spec.seed) is int
    assert ui.get(ui.serialize(spec)) == spec
    assert ui.ScaledResidual(n_layer=np.int32(12)).n_layer == 12


@pytest.mark.parametrize("value", [np.array([0.25]), np.bool_(True), np.array(True), np.array("0.25")], ids=repr)
def test_non_scalar_or_bool_arrays_are_still_refused(value: object) -> None:
    with pytest.raises(ui.ParameterError, match="stddev="):
        ui.RandomNormal(stddev=value)


def test_numbers_beyond_a_float_are_refused_by_the_field_check() -> None:
    """``float(Fraction(10**400, 3))`` raised OverflowError out of every constructor; a Fraction in range is a float."""
    from fractions import Fraction

    with pytest.raises(ui.ParameterError, match=r"stddev=Fraction\(1000.*must be a finite real number"):
        ui.RandomNormal(stddev=Fraction(10**400, 3))
    with pytest.raises(ui.SeedError):
        ui.RandomNormal(seed=Fraction(10**400, 3))
    assert ui.RandomNormal(mean=Fraction(1, 4)).mean == 0.25


def test_the_base_class_is_not_a_spec() -> None:
    """``ui.Initializer()`` passed every check and raised a bare NotImplementedError when drawn, diagnosed or compared."""
    with pytest.raises(ui.ParameterError, match="Initializer is the base class of the specs"):
        ui.Initializer()


@pytest.mark.parametrize(
    "spec",
    [
        ui.Sparse(0.5), ui.ScaledResidual(n_layer=3), ui.Fixup(n_branches=2), ui.TFixup(n_layer=3),
        ui.TFixupEmbedding(n_layer=3), ui.WangInit(n_layer=3), ui.HeNormal(seed=2),
    ],
    ids=repr,
)
def test_a_spec_with_required_arguments_pickles_and_copies_as_a_value(spec: ui.Initializer) -> None:
    """pickle and ``copy`` call ``__new__`` alone: the check of a construction's arguments must not stand in their way."""
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(spec)) == spec
    assert copy.copy(spec) == spec
    assert copy.deepcopy(spec) == spec


def test_help_and_editors_show_what_a_spec_class_takes() -> None:
    """``inspect.signature`` (``help()``, IDE tooltips) of every spec class is its ``__init__`` without ``self``, not the
    metaclass's ``(*args, **kwargs)``."""
    import inspect

    public = [getattr(ui, name) for name in ui.__all__]
    classes = [value for value in public if isinstance(value, type) and issubclass(value, ui.Initializer)]
    assert len(classes) > 30
    for cls in classes:
        init = list(inspect.signature(cls.__init__).parameters.values())[1:]
        assert list(inspect.signature(cls).parameters.values()) == init, cls.__name__
    assert str(inspect.signature(ui.Sparse)) == "(sparsity: 'float', stddev: 'float' = 0.01, *, seed: 'int | None' = None)"


def test_a_zero_gaussian_column_still_gives_an_orthogonal_matrix(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Q·diag(sign(diag R))`` with ``sign(0) = 0`` gave ``[[0.]]`` for a 1×1 block whose one normal was exactly 0
    (NumPy's float32 normal is exactly 0 once in 2²³ draws: the 8,717,697th of ``default_rng(0)``), where a Haar
    1×1 matrix is ±1; a complex one gave NaN (helper 156). Torch's and Keras's orthogonal initializers give the 0."""
    probe = np.random.default_rng(0).standard_normal(1 << 24, dtype=np.float32)
    zero_at = int(np.flatnonzero(probe == 0)[0])
    for make in (lambda g: ui.orthogonal((1, 1), seed=g, gain=2.0), lambda g: ui.delta_orthogonal((3, 3, 1, 1), seed=g)[1, 1] * 2.0):
        generator = np.random.default_rng(0)
        generator.standard_normal(zero_at, dtype=np.float32)
        assert make(generator).tolist() == [[2.0]]
    from unit_init.backends.numpy_backend import NumpyBackend

    monkeypatch.setattr(NumpyBackend, "normal", lambda self, generator, shape, dtype, device: np.zeros(shape, dtype=dtype))
    assert ui.orthogonal((1, 1), seed=0, dtype="complex64").tolist() == [[1.0 + 0.0j]]
