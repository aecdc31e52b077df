"""``unit_init.jax`` against ``jax.nn.initializers`` itself: shapes, dtypes and laws.

JAX's own initializer tests are not in the jax wheel and are not copied here;
what they check is checked below, in our words, and more:

* Every factory of jax_shim.py gives the shape asked for and the dtype asked
  for, whether the dtype comes with the call or with the factory (``dtype=``);
  real factories over float16/bfloat16/float32, the fan-scaled ones over
  complex64 too; ``variance_scaling`` with several input/output axes and a
  batch axis; a 0-d float32 array as ``scale``/``stddev`` does not turn a
  bfloat16 initializer into float32.

* Each factory of jax_shim.py draws the law of JAX's factory of that name: a
  two-sample Kolmogorov-Smirnov test over 2¹⁸ values a side (real) or their
  moduli and phases (complex), with the same axes arguments, and the ratio of
  the two second moments within 5 standard errors (about 2 %: a 3 % variance
  error fails, test_the_law_check_catches_a_3_percent_variance_error). The
  complex truncated laws are left out: there unit_init keeps E|w|² = Var
  and JAX gives 1.0187·Var (tests/test_complex.py measures both).
* A factory's ``dtype`` is the default dtype of the call, saved in the config;
  Python's ``float`` is JAX's default float dtype, as in JAX.
* A rank-1 weight: JAX refuses it under the default ``in_axis=-2``; unit_init
  uses ``fan_in = fan_out = shape[0]``.

Without jax this file is the one that reports the skip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")
scipy_stats = pytest.importorskip("scipy.stats")

import jax.numpy as jnp  # noqa: E402
import jax_shim  # noqa: E402

import unit_init as ui  # noqa: E402
import unit_init.jax  # noqa: E402

ALPHA = 1e-4
SHAPE = (512, 512)  # 2^18 values a side

# name -> arguments of the factory, applied to both jax.nn.initializers and the shim
LAWS: dict[str, tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = {
    "uniform": (lambda nn: nn.uniform, (0.5,), {}),
    "normal": (lambda nn: nn.normal, (0.5,), {}),
    "truncated_normal": (lambda nn: nn.truncated_normal, (0.5,), {"lower": -1.0, "upper": 1.5}),
    "he_normal": (lambda nn: nn.he_normal, (), {}),
    "glorot_uniform": (lambda nn: nn.glorot_uniform, (), {}),
    "lecun_normal/batch_axis": (lambda nn: nn.lecun_normal, (), {"in_axis": 1, "out_axis": 2, "batch_axis": 0}),
    "variance_scaling/fan_geo_avg": (lambda nn: nn.variance_scaling, (3.0, "fan_geo_avg", "normal"), {}),
    "variance_scaling/multi_axis": (lambda nn: nn.variance_scaling, (1.0, "fan_avg", "truncated_normal"), {"in_axis": (0, 1), "out_axis": (-2, -1)}),
}
SHAPES = {"lecun_normal/batch_axis": (4, 256, 256), "variance_scaling/multi_axis": (8, 8, 64, 64)}  # else SHAPE; 2^18 values


def _second_moment_ratio_ok(a: np.ndarray, b: np.ndarray) -> tuple[bool, str]:
    """E|a|² / E|b|² within 5 standard errors of 1 (each side's error from its own spread of |x|²)."""
    sa, sb = np.abs(a.ravel()) ** 2, np.abs(b.ravel()) ** 2
    ratio = sa.mean() / sb.mean()
    error = ratio * np.sqrt(sa.var() / sa.mean() ** 2 / sa.size + sb.var() / sb.mean() ** 2 / sb.size)
    return abs(ratio - 1) <= 5 * error, f"E|w|² ratio {ratio:.4f} (tolerance ±{5 * error:.4f})"


def _same_law(ours: Any, theirs: Any) -> None:
    a, b = np.asarray(ours).astype(np.complex128 if np.iscomplexobj(ours) else np.float64), np.asarray(theirs)
    assert a.shape == b.shape
    assert np.asarray(ours).dtype == b.dtype
    b = b.astype(a.dtype)
    ok, shown = _second_moment_ratio_ok(a, b)
    assert ok, shown
    parts = [np.abs(a), np.angle(a)] if np.iscomplexobj(a) else [a]
    others = [np.abs(b), np.angle(b)] if np.iscomplexobj(b) else [b]
    for x, y in zip(parts, others, strict=True):
        result = scipy_stats.ks_2samp(x.ravel(), y.ravel())
        assert result.pvalue > ALPHA, f"two-sample KS p={result.pvalue:.2g} (statistic {result.statistic:.4f})"


@pytest.mark.parametrize("name", list(LAWS))
def test_same_law_as_jax(name: str) -> None:
    factory, args, kwargs = LAWS[name]
    shape = SHAPES.get(name, SHAPE)
    ours = factory(jax_shim.initializers)(*args, **kwargs)(jax.random.key(1), shape, jnp.float32)
    theirs = factory(jax.nn.initializers)(*args, **kwargs)(jax.random.key(2), shape, jnp.float32)
    _same_law(ours, theirs)


COMPLEX_LAWS: dict[str, tuple[Callable[..., Any], tuple[Any, ...]]] = {
    "glorot_uniform": (lambda nn: nn.glorot_uniform, ()),
    "he_uniform": (lambda nn: nn.he_uniform, ()),
    "variance_scaling/normal": (lambda nn: nn.variance_scaling, (2.0, "fan_in", "normal")),
    "normal": (lambda nn: nn.normal, (0.5,)),
}


@pytest.mark.parametrize("name", list(COMPLEX_LAWS))
def test_same_complex_law_as_jax(name: str) -> None:
    factory, args = COMPLEX_LAWS[name]
    ours = factory(jax_shim.initializers)(*args)(jax.random.key(1), SHAPE, jnp.complex64)
    theirs = factory(jax.nn.initializers)(*args)(jax.random.key(2), SHAPE, jnp.complex64)
    _same_law(ours, theirs)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.complex64])
def test_the_law_check_catches_a_3_percent_variance_error(dtype: Any) -> None:
    ours = jax_shim.initializers.he_uniform()(jax.random.key(1), SHAPE, dtype)
    theirs = jax.nn.initializers.he_uniform()(jax.random.key(2), SHAPE, dtype)
    _same_law(ours, theirs)
    with pytest.raises(AssertionError, match="E\\|w\\|² ratio"):
        _same_law(np.asarray(ours) * 1.03**0.5, theirs)  # a Python float keeps the dtype


def test_orthogonal_and_delta_orthogonal_are_orthogonal() -> None:
    q = np.asarray(jax_shim.initializers.orthogonal(2.0)(jax.random.key(0), (64, 32)), dtype=np.float64)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(32), atol=1e-4)
    w = np.asarray(jax_shim.initializers.delta_orthogonal()(jax.random.key(0), (3, 3, 8, 16)), dtype=np.float64)
    np.testing.assert_allclose(w[1, 1] @ w[1, 1].T, np.eye(8), atol=1e-5)
    assert not np.any(np.delete(w.reshape(9, 8, 16), 4, axis=0))


def test_factory_dtype_is_the_default_and_is_saved() -> None:
    init = unit_init.jax.initializer(ui.HeNormal(), dtype=jnp.bfloat16)
    assert init(jax.random.key(0), (4, 4)).dtype == jnp.bfloat16
    assert init(jax.random.key(0), (4, 4), jnp.float16).dtype == jnp.float16  # the call's dtype wins
    assert init.get_config()["dtype"] == "bfloat16"
    again = type(init).from_config(init.get_config())
    assert again == init
    assert hash(again) == hash(init)
    assert unit_init.jax.initializer(ui.HeNormal()).get_config().keys() == {"spec", "layout"}


@pytest.mark.parametrize("dtype", [float, None])
def test_python_float_is_the_default_float_dtype(dtype: Any) -> None:
    expected = jax.nn.initializers.he_normal()(jax.random.key(0), (4, 4), dtype).dtype
    assert unit_init.jax.initializer(ui.HeNormal())(jax.random.key(0), (4, 4), dtype).dtype == expected
    assert unit_init.jax.initializer(ui.HeNormal(), dtype=dtype)(jax.random.key(0), (4, 4)).dtype == expected


def test_rank_one_weight_uses_its_length_as_both_fans() -> None:
    with pytest.raises(ValueError, match="1-dimensional"):
        jax.nn.initializers.variance_scaling(1.0, "fan_avg", "normal")(jax.random.key(0), (5,))
    values = jax_shim.initializers.variance_scaling(1.0, "fan_avg", "normal")(jax.random.key(0), (65536,))
    assert abs(float(np.var(np.asarray(values, dtype=np.float64))) * 65536 - 1.0) < 0.05


# name -> (factory arguments, the ranks it takes, whether it takes complex dtypes)
FACTORIES: dict[str, tuple[tuple[Any, ...], tuple[int, ...], bool]] = {
    "uniform": ((), (1, 2, 3), False),
    "normal": ((), (1, 2, 3), True),
    "truncated_normal": ((), (1, 2, 3), False),
    "he_normal": ((), (2, 3, 4), True),
    "he_uniform": ((), (2, 3, 4), True),
    "glorot_normal": ((), (2, 3, 4), True),
    "glorot_uniform": ((), (2, 3, 4), True),
    "lecun_normal": ((), (2, 3, 4), True),
    "lecun_uniform": ((), (2, 3, 4), True),
    "variance_scaling": ((2.0, "fan_geo_avg", "normal"), (2, 3, 4), False),
    "orthogonal": ((), (2,), False),
    "delta_orthogonal": ((), (4,), False),
}
SHAPE_OF_RANK = {1: (3,), 2: (3, 5), 3: (5, 3, 2), 4: (3, 3, 4, 6)}
# each dtype once per factory, the ranks it takes taken in turn (a draw compiles once per case: keep it short)
CASES = [
    (name, SHAPE_OF_RANK[ranks[i % len(ranks)]], dtype)
    for name, (_, ranks, complex_too) in FACTORIES.items()
    for i, dtype in enumerate(("float16", "bfloat16", "float32", *(("complex64",) if complex_too else ())))
]


@pytest.mark.parametrize(("name", "shape", "dtype"), CASES, ids=str)
def test_every_factory_gives_the_shape_and_dtype_asked_for(name: str, shape: tuple[int, ...], dtype: str) -> None:
    args = FACTORIES[name][0]
    factory = getattr(jax_shim.initializers, name)
    by_call = factory(*args)(jax.random.key(0), shape, jnp.dtype(dtype))
    by_factory = factory(*args, dtype=jnp.dtype(dtype))(jax.random.key(0), shape)
    for values in (by_call, by_factory):
        assert values.shape == shape
        assert values.dtype == jnp.dtype(dtype)
        assert bool(jnp.all(jnp.isfinite(values)))


@pytest.mark.parametrize(
    "axes", [{"in_axis": (0, 1), "out_axis": (-2, -1)}, {"in_axis": 0, "out_axis": (2, 3), "batch_axis": 1}], ids=str
)
def test_variance_scaling_takes_several_axes_and_a_batch_axis(axes: dict[str, Any]) -> None:
    shape = (6, 7, 8, 9)
    ours = jax_shim.initializers.variance_scaling(1.0, "fan_avg", "truncated_normal", **axes)(jax.random.key(0), shape)
    theirs = jax.nn.initializers.variance_scaling(1.0, "fan_avg", "truncated_normal", **axes)(jax.random.key(1), shape)
    _same_law(ours, theirs)


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal"])
def test_a_float32_array_parameter_keeps_a_bfloat16_initializer_bfloat16(name: str) -> None:
    one = jnp.array(1.0, dtype=jnp.float32)
    values = getattr(jax_shim.initializers, name)(one, jnp.bfloat16)(jax.random.key(0), (4, 4))
    assert values.dtype == jnp.bfloat16
