"""Complex weights (docs/complex.md): the laws against jax.nn.initializers, their moments, unitarity, dtypes.

Every cell draws 2¹⁶ complex64 elements on one backend and compares them with
one reference draw of ``jax.nn.initializers`` (two-sample KS on the modulus,
the phase and the real and imaginary parts) and with the analytic law
(``E|w|² = Var`` within 5 standard errors, the mean 0, the phase uniform, the
modulus inside the support). JAX's complex truncated normal divides by
0.95311164380491208 = √(1 − 5e⁻⁴) instead of √(m(2)) (m from
:func:`~unit_init.spec.complex_laws.modulus_truncated_moment`), so its draw is
multiplied by √(1 − e⁻⁴) before the comparison; :func:`test_jax_truncated_constant`
measures that factor on JAX itself.
"""

from __future__ import annotations

import functools
import math
import types
from typing import Any

import numpy as np
import pytest
import scipy.stats

import unit_init as ui
from targets import TARGETS, expected_families, load
from unit_init.backends.array_api_backend import ArrayApiBackend
from unit_init.backends.registry import get_backend
from unit_init.dtypes import canonical_dtype, is_complex, real_dtype, work_dtype
from unit_init.sampling.region import ELEMENTWISE
from unit_init.spec.complex_laws import complex_law, modulus_truncated_moment

SHAPE = (128, 512)  # 2¹⁶ elements; fan_in 128, fan_out 512 in both unit_init's keras layout and JAX's axes
Z = 5.0
ALPHA = 1e-4
BACKENDS = ("numpy", "torch:cpu", "jax:cpu", "tensorflow:cpu")
RULES = {"glorot": (1.0, "fan_avg"), "he": (2.0, "fan_in"), "lecun": (1.0, "fan_in")}
# unit_init's distribution name -> JAX's, and the factor JAX's draw is multiplied by to have E|w|² = Var
LAWS = {"untruncated_normal": ("normal", 1.0), "uniform": ("uniform", 1.0), "truncated_normal": ("truncated_normal", math.sqrt(-math.expm1(-4.0)))}
CASES = [f"{rule}_{law}" for rule in RULES for law in LAWS] + ["orthogonal"]


def _jax() -> Any:
    if "jax" not in expected_families():
        pytest.importorskip("jax", reason="the reference draws need jax")
    import jax

    return jax


def _spec_and_variance(case: str) -> tuple[ui.Initializer, float]:
    """The unit_init spec of ``case`` and the variance of each element for :data:`SHAPE`."""
    if case == "orthogonal":
        return ui.Orthogonal(), 1.0 / max(SHAPE)
    rule, law = case.split("_", 1)
    scale, mode = RULES[rule]
    spec = ui.VarianceScaling(scale, mode, law)
    return spec, spec.variance(SHAPE)


@functools.cache
def _reference(case: str) -> np.ndarray:
    """One complex64 draw of ``jax.nn.initializers`` for ``case`` (cached: one per law for all backends)."""
    jax = _jax()
    if case == "orthogonal":
        init, factor = jax.nn.initializers.orthogonal(), 1.0
    else:
        rule, law = case.split("_", 1)
        scale, mode = RULES[rule]
        name, factor = LAWS[law]
        init = jax.nn.initializers.variance_scaling(scale, mode, name)
    key = jax.random.key(20260 + CASES.index(case))
    return np.asarray(init(key, SHAPE, jax.numpy.complex64)).astype(np.complex128) * factor


def _values(target_id: str, spec: ui.Initializer, shape: tuple[int, ...] = SHAPE, seed: int = 7, **options: Any) -> np.ndarray:
    target = load(target_id)
    array = target.draw(spec, shape, dtype="complex64", seed=seed, **options)
    assert target.dtype_of(array) == "complex64"
    return np.asarray(get_backend(target.backend).to_numpy(array)).astype(np.complex128)


def _two_sample_pvalues(ours: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Two-sample KS p-values of the modulus, the phase and the real and imaginary parts."""
    parts = {"modulus": np.abs, "phase": np.angle, "real": np.real, "imag": np.imag}
    return {name: float(scipy.stats.ks_2samp(part(ours).ravel(), part(reference).ravel()).pvalue) for name, part in parts.items()}


def _check_moments(w: np.ndarray, variance: float, radius: float | None) -> None:
    """``E|w|² = variance`` within Z standard errors, each part's mean 0, the phase uniform, ``|w| ≤ radius``."""
    squared = np.abs(w.ravel()) ** 2
    error = squared.std() / math.sqrt(squared.size)
    assert abs(squared.mean() - variance) <= Z * error, f"E|w|² = {squared.mean():.6g}, expected {variance:.6g} (±{Z * error:.2g})"
    part_error = math.sqrt(variance / 2 / w.size)
    for name, part in (("real", w.real), ("imag", w.imag)):
        assert abs(part.mean()) <= Z * part_error, f"mean of the {name} part {part.mean():.3g} (±{Z * part_error:.2g})"
    phase = scipy.stats.kstest(np.angle(w.ravel()), scipy.stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue
    assert phase > ALPHA, f"phase not uniform: KS p = {phase:.3g}"
    if radius is not None:
        assert np.abs(w).max() <= radius * (1 + 1e-6), f"modulus {np.abs(w).max():.7g} beyond the support's {radius:.7g}"


def _radius(case: str, variance: float) -> float | None:
    """The largest modulus of ``case``'s law: the disk's √(2·Var), the truncation's 2·scale, 1.001·gain/… for orthogonal."""
    if case.endswith("_uniform"):
        return math.sqrt(2 * variance)
    if case.endswith("_truncated_normal"):
        return 2 * math.sqrt(variance / modulus_truncated_moment(2.0))
    return 1.0 if case == "orthogonal" else None


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_against_jax(case: str, target_id: str) -> None:
    """Two-sample tests against jax.nn.initializers (complex64) and moment tests against the analytic law."""
    spec, variance = _spec_and_variance(case)
    ours = _values(target_id, spec, seed=7 + CASES.index(case))
    pvalues = _two_sample_pvalues(ours, _reference(case))
    assert min(pvalues.values()) > ALPHA, f"{case} on {target_id} differs from jax.nn.initializers: KS p-values {pvalues}"
    _check_moments(ours, variance, _radius(case, variance))


def test_jax_truncated_constant() -> None:
    """JAX's complex truncated normal has E|w|² = Var/(1 − e⁻⁴): its constant √(1 − 5e⁻⁴) misses the kept mass."""
    jax = _jax()
    init = jax.nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
    w = np.asarray(init(jax.random.key(1), SHAPE, jax.numpy.complex64)).astype(np.complex128)
    _check_moments(w, 1 / SHAPE[0] / -math.expm1(-4.0), None)
    assert math.isclose(0.95311164380491208, math.sqrt(1 - 5 * math.exp(-4)), rel_tol=1e-12)


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize("shape", [(128, 128), (256, 64), (64, 256), (3, 3, 16, 32)])
def test_unitarity(target_id: str, shape: tuple[int, ...]) -> None:
    """``QᴴQ = gain²·I`` on the smaller side within 1e-5 (complex64), the out axis last (keras layout)."""
    gain = 1.5
    matrix = _values(target_id, ui.Orthogonal(gain), shape).reshape(-1, shape[-1])
    if matrix.shape[0] < matrix.shape[1]:
        matrix = matrix.T
    error = np.abs(matrix.conj().T @ matrix - gain**2 * np.eye(matrix.shape[1])).max()
    assert error <= 1e-5, f"max |QᴴQ − gain²·I| = {error:.3g} on {target_id} for {shape}"


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize("shape", [(3, 3, 16, 32), (4, 4, 8, 8), (5, 12, 12)])
def test_delta_orthogonal_is_a_unitary_centre_tap(target_id: str, shape: tuple[int, ...]) -> None:
    """``DeltaOrthogonal``'s complex form: ``W·Wᴴ = gain²·I`` at the lower-middle tap (as its real form), 0 at every other."""
    gain = 1.5
    kernel = _values(target_id, ui.DeltaOrthogonal(gain), shape)
    tap = tuple((k - 1) // 2 for k in shape[:-2])
    centre = kernel[tap]
    error = np.abs(centre @ centre.conj().T - gain**2 * np.eye(shape[-2])).max()
    assert error <= 1e-5, f"max |WWᴴ − gain²·I| = {error:.3g} on {target_id} for {shape}"
    assert np.abs(centre.imag).mean() > 0.1 * gain / math.sqrt(shape[-1]), "the centre is not complex"
    others = kernel.copy()
    others[tap] = 0
    assert not others.any(), "a tap off the centre is not 0"


@pytest.mark.parametrize("target_id", [t for t in TARGETS if t != "torch:meta"])
def test_every_backend_draws_complex(target_id: str) -> None:
    """Each backend with complex dtypes draws both widths (complex128 on JAX only in its 64-bit mode)."""
    target = load(target_id)
    for dtype in ("complex64", "complex128"):
        if target.backend == "jax" and dtype == "complex128":
            import jax

            if not jax.config.jax_enable_x64:
                with pytest.raises(ui.DTypeError, match=r"64-bit mode.*would give complex64 with only a warning"):
                    target.draw(ui.HeNormal(), (4, 4), dtype=dtype, seed=0)
                continue
        array = target.draw(ui.HeNormal(), (64, 32), dtype=dtype, seed=0)
        assert target.dtype_of(array) == dtype
        assert np.iscomplexobj(get_backend(target.backend).to_numpy(array))


def test_meta_device() -> None:
    w = load("torch:meta").draw(ui.HeUniform(), (8, 4), dtype="complex64", seed=0)
    assert (str(w.device), str(w.dtype), tuple(w.shape)) == ("meta", "torch.complex64", (8, 4))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [(ui.Zeros(), 0), (ui.Ones(), 1), (ui.Constant(0.25), 0.25), (ui.Identity(2.0), 2.0 * np.eye(3))],
)
def test_deterministic(spec: ui.Initializer, expected: Any) -> None:
    """Deterministic initializers give their real values with imaginary part 0."""
    w = spec((3, 3), dtype="complex64")
    assert w.dtype == np.complex64
    np.testing.assert_array_equal(w, np.broadcast_to(np.asarray(expected, dtype=np.complex64), (3, 3)))


def test_random_normal_mean_and_truncated_normal() -> None:
    """RandomNormal keeps its (real) mean and E|w − mean|² = stddev²; TruncatedNormal keeps the real law's variance."""
    w = ui.RandomNormal(mean=0.5, stddev=0.1)((256, 256), dtype="complex64", seed=3).astype(np.complex128)
    _check_moments(w - 0.5, 0.01, None)
    spec = ui.TruncatedNormal(stddev=0.1)
    real_variance = spec.variance((4,))
    w = spec((256, 256), dtype="complex64", seed=3).astype(np.complex128)
    _check_moments(w, real_variance, 2 * math.sqrt(real_variance / modulus_truncated_moment(2.0)))


@pytest.mark.parametrize("target_id", BACKENDS)
@pytest.mark.parametrize("stddev", [1e30, 1e39, 1e200, 0.05], ids=["huge std", "std beyond float32", "std 1e200", "bounds at 40 std"])
def test_truncations_narrow_or_wide_in_std_units(target_id: str, stddev: float) -> None:
    """A bounded normal cut at ±2 with a huge std is nearly uniform (complex: a disk); cut at 40 std it is nearly untruncated.

    The first drew all zeros (std 1e23 to 3e38) or all NaN (above) in complex64: ``1 − e^{−b²}`` underflowed the
    work dtype; the last raised OverflowError (``e^{b²}`` for ``b`` beyond 26.6).
    """
    spec = ui.BoundedNormal(stddev=stddev)
    variance = spec.variance(SHAPE)
    law = complex_law(spec, spec.distribution_for(SHAPE))
    assert law.radius == pytest.approx(math.sqrt(2 * variance) if stddev > 1 else 2.0, rel=1e-9)
    w = _values(target_id, spec, seed=11)
    assert np.isfinite(w).all()
    _check_moments(w, variance, law.radius)


def test_variances_of_huge_parameters_are_inf_or_finite_never_an_overflow_error() -> None:
    """``std**2`` raised OverflowError past 1.34e154 though float64 draws work there; a narrow cut's variance is finite."""
    assert ui.RandomNormal(stddev=1e155).variance((3, 3)) == math.inf
    assert ui.Orthogonal(gain=1e155).variance((3, 3)) == math.inf
    assert ui.BoundedNormal(stddev=1e155).variance((3, 3)) == pytest.approx(16 / 12, rel=1e-9)
    assert ui.BoundedNormal(stddev=1e300).variance((3, 3)) == pytest.approx(16 / 12, rel=1e-12)  # the moment underflowed: 0
    assert np.isfinite(ui.random_normal((3, 3), stddev=1e155, dtype="float64", seed=0)).all()


def test_portable_streams() -> None:
    """rng='portable' draws complex too: the same values on every backend (up to cos/sin rounding), blocks equal to the whole."""
    whole = _values("numpy", ui.HeUniform(), (16, 8), rng="portable")
    for target_id in ("torch:cpu", "jax:cpu", "tensorflow:cpu"):
        np.testing.assert_allclose(_values(target_id, ui.HeUniform(), (16, 8), rng="portable"), whole, rtol=2e-6, atol=1e-7)
    block = _values("numpy", ui.HeUniform(), (16, 8), rng="portable", region=(slice(4, 9), slice(0, 8)))
    np.testing.assert_array_equal(block, whole[4:9])


@pytest.mark.parametrize("spec", [ui.RandomNormal(), ui.HeUniform(), ui.TruncatedNormal()], ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_portable_blocks_are_drawn_alone(spec: ui.Initializer, dtype: str) -> None:
    """The elementwise complex laws draw only a block's elements (odd offsets too), equal to the whole draw's block."""
    shape, region = (9, 7), (slice(2, 7), slice(3, 6))
    assert type(complex_law(spec, spec.distribution_for(shape))) in ELEMENTWISE
    whole = spec(shape, dtype=dtype, seed=3, rng="portable")
    np.testing.assert_array_equal(spec(shape, dtype=dtype, seed=3, rng="portable", region=region), whole[region])


@pytest.mark.parametrize("target_id", BACKENDS)
def test_portable_complex64_blocks_equal_the_whole_on_every_backend(target_id: str) -> None:
    """TensorFlow's float32 ``log1p``, ``sin`` and ``cos`` round an element differently in the SIMD body and the scalar tail:
    a block differed from the whole draw by an ulp (1 in 705 values here); they are evaluated in float64 now."""
    shape, region = (37, 51), (slice(5, 20), slice(3, 50))
    for spec in (ui.HeNormal(), ui.GlorotUniform(), ui.TruncatedNormal()):
        for seed in (9, 10):
            whole = _values(target_id, spec, shape, seed=seed, rng="portable")
            np.testing.assert_array_equal(_values(target_id, spec, shape, seed=seed, rng="portable", region=region), whole[region])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: ui.random_uniform((4, 4), dtype="complex64", seed=0), r"RandomUniform has no complex form \(an interval"),
        (lambda: ui.sparse((4, 4), sparsity=0.5, dtype="complex64", seed=0), "Sparse has no complex form"),
        (
            lambda: ui.Composed(ui.rules.FanScaled(1.0, "fan_in"), lambda m, v: ui.distributions.TruncatedGaussian(m, 1.0, -1.0, 2.0))(
                (4, 4), dtype="complex128", seed=0
            ),
            r"Composed has no complex form \(a modulus is cut at one distance from the mean, and these bounds lie at -1.0 and 2.0 standard deviations from it: unequal\)",
        ),
        (lambda: ui.he_normal((4, 4), dtype="int32", seed=0), "needs a float dtype"),
    ],
)
def test_refused(make: Any, match: str) -> None:
    with pytest.raises(ui.DTypeError, match=match):
        make()


def test_representable() -> None:
    """The modulus reach is checked against the parts' dtype: 1e39 does not fit complex64's float32 parts."""
    with pytest.raises(ui.ParameterError, match=r"cannot be drawn in dtype='complex64'.*float32's largest finite value"):
        ui.constant((2,), value=1e39, dtype="complex64")
    assert ui.constant((2,), value=1e39, dtype="complex128")[0] == 1e39


def test_dtype_names() -> None:
    """Canonical names of every framework's complex dtypes; the parts' and the work dtype."""
    natives: list[Any] = ["complex64", "cfloat", "cdouble", np.complex64, np.dtype("complex128"), complex]
    for module, names in (("torch", ("complex64", "cfloat", "complex128")), ("jax.numpy", ("complex64",)), ("tensorflow", ("complex128",))):
        if module.split(".")[0] in {TARGETS[t][2] for t in TARGETS}:
            framework = pytest.importorskip(module)
            natives += [getattr(framework, name) for name in names]
    names = {canonical_dtype(native) for native in natives}
    assert names == {"complex64", "complex128"}
    assert [(real_dtype(n), work_dtype(n), is_complex(n)) for n in ("complex64", "complex128", "float16")] == [
        ("float32", "float32", True), ("float64", "float64", True), ("float16", "float32", False),
    ]


def test_backend_without_complex() -> None:
    """A namespace without complex dtypes, and torch's MPS without complex128, refuse them with DTypeError."""
    namespace = types.ModuleType("no_complex_xp")
    namespace.float32 = np.float32  # type: ignore[attr-defined]
    with pytest.raises(ui.DTypeError, match="'complex64' is not available in no_complex_xp; it offers float32"):
        ArrayApiBackend(namespace).native_dtype("complex64")
    torch = load("torch:cpu") and pytest.importorskip("torch")
    with pytest.raises(ui.DTypeError, match="'complex128' is not supported on the 'mps' device"):
        get_backend("torch").dtype_on("complex128", torch.device("mps"))
