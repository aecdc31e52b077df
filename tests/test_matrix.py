"""The cross-backend matrix: every registered initializer × backends × dtypes × layouts × shapes.

Every name ``ui.get`` knows (the serialization registry: the catalogue, the
structured extras, the scaled families, torch's spellings, the peers'
initializers) and every registered spec class (``ConstantArray``,
``Composed``) has cells here; :func:`test_every_registered_initializer_has_cells`
fails for a name added without them. Kinds of cells:

* **structure** (every initializer × target × dtype × shape): the backend's
  own array type, exact shape, dtype (no silent upcast) and device, finite
  values; same seed ⇒ bit-identical, different seed ⇒ different; per random
  catalogue initializer and data target, a seed that differs only above 32
  bits ⇒ different (large seeds not truncated: torch's CPU mt19937 keeps 32
  bits of a seed, so the torch backend folds larger ones into 32 bits);
* **statistics** (every i.i.d. random law × data target × float dtype ×
  layout; 2^18 values for the catalogue, 2^16 for the others, both with the
  fans 4:1 so a swapped fan changes the variance 4x): moments with tolerances
  from n and the kurtosis, support after the cast, one-sample KS against the
  analytic law *written out here independently of the spec layer*, and a
  two-sample KS against the NumPy reference draw;
* **orthogonal** (``orthogonal``, ``delta_orthogonal``,
  ``convolution_orthogonal``): ``QᵀQ = gain²·I``, the centre tap and
  ``Σ_t W[t]·W[t]ᵀ = gain²·I`` per target, dtype and layout;
* **deterministic** (constants, identity and eye batched, dirac, ZerO, STFT,
  ConstantArray): equal to a NumPy reference built here, rounded once to
  the dtype, and bit-identical across targets;
* **sparse**: the zeros per column exact, the non-zeros normal;
* **complex** (complex64 and complex128; JAX without its 64-bit mode
  refuses complex128 with DTypeError): ``E|w − μ|² = Var``, ``|w − μ|²``
  and the phase against their analytic laws (KS), the modulus inside its
  disk; orthogonal is unitary, ``QᴴQ = gain²·I``; laws without a complex
  form raise DTypeError;
* **narrow grids** (bfloat16, float16 × data target): U[0, 1) never returns
  1.0 (its top is the grid point below), truncated laws stay inside their
  support over 2^20 draws with no pile-up on the extremes, orthogonal is the
  float32 draw of the same seed rounded once with ``QᵀQ`` within 4·eps of I;
* **integers** (int8 … uint32 × target): zeros, ones, constant and identity
  exact in the dtype, a random initializer refuses it; **global seed**:
  unseeded calls follow ``ui.set_seed`` on every data target.

Ids read ``he_normal-torch:meta-bfloat16-keras``. The terminal summary counts
the cells that ran per backend (see conftest.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import ml_dtypes
import numpy as np
import pytest
import scipy.linalg
import scipy.signal

import unit_init as ui
from stats import check_complex_sample, check_sample, two_sample_ok
from targets import DATA_TARGETS, TARGETS, Target, load
from unit_init import distributions as d
from unit_init.backends.registry import get_backend
from unit_init.capabilities import expected_error
from unit_init.dtypes import largest_below
from unit_init.serialization import _NAMED, _SPECS  # the registry ui.get reads: every name must have cells

DTYPES = ["float16", "bfloat16", "float32", "float64"]
STRUCTURE_DTYPES = [*DTYPES, "int32"]
COMPLEX_DTYPES = ["complex64", "complex128"]
LAYOUTS = ["keras", "torch"]
SHAPES = {
    "dense": (16, 32),
    "conv1d": (3, 8, 16),
    "conv2d": (3, 3, 8, 16),
    "conv3d": (2, 2, 2, 4, 8),
    "nonsquare": (5, 40),
    "tiny": (1, 1),
    "empty": (0, 8),
}
C = 0.87962566103423978  # std of N(0, 1) cut at ±2
KERNEL = (3, 3, 4, 8)  # the one structure shape of the initializers beyond the catalogue: a keras Conv2D kernel

# Initializers beyond ui.get(name)'s defaults: required arguments, non-default parameters (so a parameter
# that is ignored fails), and the catalogue-v2 variants of catalogue names ("name[variant]").
SPECS: dict[str, ui.Initializer] = {
    "dirac": ui.Dirac(groups=2),
    "sparse": ui.Sparse(sparsity=0.25, stddev=0.05),
    "bounded_normal": ui.BoundedNormal(mean=0.5, stddev=0.2, minval=0.3, maxval=1.1),
    "scaled_residual": ui.ScaledResidual(n_layer=12),
    "wang_init": ui.WangInit(n_layer=4),
    "deepnorm": ui.DeepNorm(encoder_layers=6),
    "fixup": ui.Fixup(n_branches=8),
    "t_fixup": ui.TFixup(n_layer=6),
    "t_fixup_embedding": ui.TFixupEmbedding(n_layer=6),
    "mup": ui.MuP(fan_in_mult=2.0, width_mult=4.0),
    "xavier_uniform": ui.XavierUniform(gain=2.0),
    "xavier_normal": ui.XavierNormal(gain=0.5),
    "kaiming_uniform": ui.KaimingUniform(a=math.sqrt(5)),
    "kaiming_normal": ui.KaimingNormal(mode="fan_out", nonlinearity="relu"),
    "eye": ui.Identity(gain=2.0),
    "identity[batched]": ui.Identity(gain=-0.5),
    "uniform_scaling": ui.UniformScaling(scale=1.5),
    "delta_orthogonal": ui.DeltaOrthogonal(gain=1.5),
    "convolution_orthogonal": ui.ConvolutionOrthogonal(gain=1.5),
    "stft": ui.STFT(),
    "stft[imag]": ui.STFT(side="imag", window="hamming", scaling="spectrum", periodic=True),
    "truncated_normal[bounds]": ui.TruncatedNormal(stddev=0.05, lower=-1.0, upper=3.0),
    "truncated_normal[half]": ui.TruncatedNormal(mean=0.1, stddev=0.05, lower=0.0, upper=math.inf),
    "variance_scaling[fan_geo_avg]": ui.VarianceScaling(1.0, "fan_geo_avg"),
    "composed": ui.Composed(rule=ui.rules.FanScaled(3.0, "fan_out"), family="uniform"),
    "constant_array": ui.ConstantArray(np.array([[1.5], [-2.25], [0.1], [3.0]])),
}
STRUCTURE_SHAPES = {"stft": (8, 2, 5), "stft[imag]": (8, 2, 5), "sparse": (8, 8)}  # rank 3 only; rank 2 only


def spec_of(name: str) -> ui.Initializer:
    """The initializer the cells of ``name`` draw."""
    spec = SPECS.get(name) or ui.get(name)
    assert spec is not None
    return spec


def cells(*axes: list[str]) -> list[Any]:
    """Every combination of the axes, as pytest params with ids like ``he_normal-torch:meta-bfloat16-keras``."""
    combos: list[tuple[str, ...]] = [()]
    for axis in axes:
        combos = [(*combo, value) for combo in combos for value in axis]
    return [pytest.param(*combo, id="-".join(combo)) for combo in combos]


def law_of(name: str) -> d.Distribution:
    """The law ``name`` draws for its structure shape (keras layout)."""
    return spec_of(name).distribution_for(STRUCTURE_SHAPES.get(name, KERNEL))


def is_random(name: str) -> bool:
    return bool(law_of(name).random)


def capability_error(name: str, target_id: str, dtype: str) -> type[Exception] | None:
    """The capability table's error for the cell; a name outside the catalogue is read as a catalogue name of its randomness."""
    backend, device, _, _ = TARGETS[target_id]
    proxy = name if name in ui.CATALOGUE else "random_normal" if is_random(name) else "zeros"
    return expected_error(proxy, backend, dtype, device_kind=device or "cpu")


# --- structure -------------------------------------------------------------------

BEYOND_CATALOGUE = sorted((set(_NAMED) | set(SPECS)) - set(ui.CATALOGUE))


def structure_cells() -> list[Any]:
    """The catalogue on every shape of SHAPES; the others on one shape, where no value cell draws.

    Beyond the catalogue, each value cell (statistics, orthogonal, deterministic,
    sparse) checks the structure of what it draws (:func:`check_structure`, and
    same seed ⇒ same values), so here only torch:meta and the cells the
    capability table makes raise (int32 for a random law) remain: a JAX compile
    per law and shape costs 0.4–1.7 s, and would double the matrix's time.
    """
    catalogue = cells(list(ui.CATALOGUE), list(TARGETS), STRUCTURE_DTYPES, list(SHAPES))
    beyond = [
        cell for cell in cells(BEYOND_CATALOGUE, list(TARGETS), STRUCTURE_DTYPES, ["one"])
        if (cell.values[2] == "int32" and is_random(cell.values[0]))
        or (cell.values[2] != "int32" and (cell.values[1] == "torch:meta" or capability_error(*cell.values[:3]) is not None))
    ]
    return catalogue + beyond


def check_structure(target: Target, array: Any, shape: tuple[int, ...], dtype: str) -> None:
    """The backend's own array type; exact shape, dtype (no silent upcast) and device; finite values."""
    assert get_backend(target.backend).owns(array), f"{type(array).__name__} is not a {target.backend} array"
    assert tuple(array.shape) == shape
    assert target.dtype_of(array) == dtype
    assert target.device_of(array) == get_backend(target.backend).resolve_device(target.device)
    if not target.id.endswith(":meta"):
        assert np.isfinite(target.array(array)).all()


@pytest.mark.parametrize(("name", "target_id", "dtype", "shape_name"), structure_cells())
def test_structure(name: str, target_id: str, dtype: str, shape_name: str) -> None:
    target = load(target_id)
    shape = SHAPES.get(shape_name) or STRUCTURE_SHAPES.get(name, KERNEL)
    spec = spec_of(name)
    error = capability_error(name, target_id, dtype)
    if error is not None:
        with pytest.raises(error):
            target.draw(spec, shape, dtype=dtype, seed=1)
        return
    first = target.draw(spec, shape, dtype=dtype, seed=1)
    check_structure(target, first, shape, dtype)
    if target_id.endswith(":meta") or math.prod(shape) == 0:
        return
    again, other = target.draw(spec, shape, dtype=dtype, seed=1), target.draw(spec, shape, dtype=dtype, seed=2)
    np.testing.assert_array_equal(target.values(first), target.values(again))
    if spec.distribution_for(shape).random and math.prod(shape) > 1:
        assert not np.array_equal(target.values(first), target.values(other))


@pytest.mark.parametrize(("name", "target_id"), cells(sorted(name for name in ui.CATALOGUE if is_random(name)), DATA_TARGETS))
def test_large_seeds_are_not_truncated(name: str, target_id: str) -> None:
    """A seed that differs from another only above its low 32 bits gives other values (and stays reproducible)."""
    target = load(target_id)
    spec, shape = spec_of(name), SHAPES["dense"]
    low = target.values(target.draw(spec, shape, seed=1))
    high = target.values(target.draw(spec, shape, seed=1 + 2**40))  # equal to seed=1 in the low 32 bits
    np.testing.assert_array_equal(target.values(target.draw(spec, shape, seed=1 + 2**40)), high)
    assert not np.array_equal(low, high), "the seed's bits above 32 are dropped"


# --- statistics ------------------------------------------------------------------

STAT_SHAPE = (256, 1024)  # the catalogue's: 2^18 values; non-square so a swapped fan changes the variance 4x
SMALL_STAT_SHAPE = (128, 512)  # the others': 2^16 values (a 10 % variance error is > 3.5 tolerances), fans 4:1


def normal(variance: float) -> d.Distribution:
    return d.Normal(0.0, math.sqrt(variance))


def uniform(variance: float) -> d.Distribution:
    return d.Uniform(-math.sqrt(3 * variance), math.sqrt(3 * variance))


def truncated(variance: float) -> d.Distribution:
    return d.TruncatedGaussian(0.0, math.sqrt(variance) / C)


# The law each i.i.d. initializer promises for fans (n_in, n_out), written out from the papers / the docs by hand.
LAWS: dict[str, Callable[[float, float], d.Distribution]] = {
    "random_normal": lambda i, o: d.Normal(0.0, 0.05),
    "random_uniform": lambda i, o: d.Uniform(-0.05, 0.05),
    "truncated_normal": lambda i, o: d.TruncatedGaussian(0.0, 0.05, -2.0, 2.0),
    "variance_scaling": lambda i, o: truncated(1 / i),
    "glorot_normal": lambda i, o: truncated(2 / (i + o)),
    "glorot_uniform": lambda i, o: uniform(2 / (i + o)),
    "he_normal": lambda i, o: truncated(2 / i),
    "he_uniform": lambda i, o: uniform(2 / i),
    "lecun_normal": lambda i, o: truncated(1 / i),
    "lecun_uniform": lambda i, o: uniform(1 / i),
    "bounded_normal": lambda i, o: d.TruncatedGaussian(0.5, 0.2, -1.0, 3.0),  # [0.3, 1.1] = 0.5 + [−1, 3]·0.2
    "trunc_normal": lambda i, o: d.TruncatedGaussian(0.0, 1.0, -2.0, 2.0),  # torch's defaults
    "truncated_normal[bounds]": lambda i, o: d.TruncatedGaussian(0.0, 0.05, -1.0, 3.0),
    "truncated_normal[half]": lambda i, o: d.TruncatedGaussian(0.1, 0.05, 0.0, math.inf),
    "variance_scaling[fan_geo_avg]": lambda i, o: truncated(1 / math.sqrt(i * o)),
    "composed": lambda i, o: uniform(3 / o),
    "uniform_scaling": lambda i, o: d.Uniform(-1.5 * math.sqrt(3 / i), 1.5 * math.sqrt(3 / i)),
    "xavier_uniform": lambda i, o: d.Uniform(-2 * math.sqrt(6 / (i + o)), 2 * math.sqrt(6 / (i + o))),
    "xavier_normal": lambda i, o: d.Normal(0.0, 0.5 * math.sqrt(2 / (i + o))),
    "kaiming_uniform": lambda i, o: d.Uniform(-1 / math.sqrt(i), 1 / math.sqrt(i)),  # a=√5: torch's nn.Linear default
    "kaiming_normal": lambda i, o: normal(2 / o),
    "scaled_residual": lambda i, o: d.Normal(0.0, 0.02 / math.sqrt(24)),
    "small_init": lambda i, o: normal(2 / (5 * i)),
    "wang_init": lambda i, o: d.Normal(0.0, 2 / (4 * math.sqrt(o))),  # d = fan_out: the residual stream's width
    "deepnorm": lambda i, o: normal(48**-0.5 * 2 / (i + o)),  # β = (8N)^(−1/4), N = 6
    "fixup": lambda i, o: normal(2 / o / 8),  # He (fan_out) times L^(−1/(2m−2)) = 8^(−1/2)
    "t_fixup": lambda i, o: uniform(0.67**2 / math.sqrt(6) * 2 / (i + o)),
    "t_fixup_embedding": lambda i, o: normal(1 / math.sqrt(54) / o),
    "mup": lambda i, o: normal(1 / (i / 2) / 4),  # 1/fan_in at the base width, over width_mult
}
RANDOM = sorted(LAWS)


def stat_shape(name: str) -> tuple[int, int]:
    return STAT_SHAPE if name in ui.CATALOGUE else SMALL_STAT_SHAPE


def expected(name: str, layout: str, shape: tuple[int, int] | None = None) -> d.Distribution:
    """The law ``name`` promises for ``shape`` (default: its statistics shape) in ``layout``."""
    rows, cols = shape or stat_shape(name)
    return LAWS[name](*((rows, cols) if layout == "keras" else (cols, rows)))


FAN_FREE = ["bounded_normal", "scaled_residual", "trunc_normal", "truncated_normal[bounds]", "truncated_normal[half]"]
STAT_CELLS = [  # the laws beyond the catalogue that take no fan: one layout
    cell for cell in cells(RANDOM, DATA_TARGETS, DTYPES, LAYOUTS) if cell.values[0] not in FAN_FREE or cell.values[3] == "keras"
]


@functools.cache
def numpy_reference(name: str, dtype: str, layout: str) -> np.ndarray:
    return np.asarray(spec_of(name)(stat_shape(name), dtype=dtype, layout=layout, seed=99), dtype=np.float64)


@pytest.mark.parametrize(("name", "target_id", "dtype", "layout"), STAT_CELLS)
def test_statistics(name: str, target_id: str, dtype: str, layout: str) -> None:
    target = load(target_id)
    if capability_error(name, target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    draw = functools.partial(target.draw, spec_of(name), stat_shape(name), dtype=dtype, layout=layout)
    array = draw(seed=20261129)
    values = target.values(array)
    check_sample(values, expected(name, layout), dtype)
    if name not in ui.CATALOGUE:  # the catalogue's structure cells check these on every shape
        check_structure(target, array, stat_shape(name), dtype)
        np.testing.assert_array_equal(target.values(draw(seed=20261129)), values)
        assert not np.array_equal(target.values(draw(seed=1)), values)
    if target_id != "numpy":
        assert two_sample_ok(values, numpy_reference(name, dtype, layout)), "differs from the NumPy reference draw"


# --- orthogonal ------------------------------------------------------------------

ORTHO_CELLS = cells(DATA_TARGETS, DTYPES)
TOLERANCE = {"float16": 3e-3, "bfloat16": 3e-2, "float32": 1e-5, "float64": 1e-12}


@pytest.mark.parametrize(("target_id", "dtype"), ORTHO_CELLS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_orthogonal(target_id: str, dtype: str, layout: str) -> None:
    target = load(target_id)
    if capability_error("orthogonal", target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    shape = (3, 3, 16, 64) if layout == "keras" else (64, 16, 3, 3)
    q = target.values(target.draw(ui.Orthogonal(gain=2.0), shape, dtype=dtype, layout=layout, seed=5))
    matrix = q.reshape(-1, 64) if layout == "keras" else q.reshape(64, -1).T  # (144, 64): out axis as columns
    gram = matrix.T @ matrix
    np.testing.assert_allclose(gram, 4.0 * np.eye(64), atol=4.0 * TOLERANCE[dtype] * 8)
    # entries distributed like the NumPy reference (2^13 of them x 8 seeds)
    pooled = np.concatenate([target.values(target.draw(ui.Orthogonal(), (256, 32), dtype=dtype, seed=s)).ravel() for s in range(8)])
    reference = np.concatenate([np.asarray(ui.orthogonal((256, 32), dtype=dtype, seed=100 + s), np.float64).ravel() for s in range(8)])
    assert two_sample_ok(pooled, reference)
    assert np.var(pooled) == pytest.approx(1 / 256, rel=0.05)


ORTHOGONAL_KERNELS = ["convolution_orthogonal", "delta_orthogonal"]


@pytest.mark.parametrize(("name", "target_id", "dtype", "layout"), cells(ORTHOGONAL_KERNELS, DATA_TARGETS, DTYPES, LAYOUTS))
def test_orthogonal_kernel(name: str, target_id: str, dtype: str, layout: str) -> None:
    """``Σ_t W[t]·W[t]ᵀ = gain²·I_in`` (the convolution is gain times an isometry); delta: all of it at the centre tap."""
    target = load(target_id)
    if capability_error(name, target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    window, cin, cout, gain = (3, 4), 16, 32, 1.5
    shape = (*window, cin, cout) if layout == "keras" else (cout, cin, *window)
    array = target.draw(spec_of(name), shape, dtype=dtype, layout=layout, seed=11)
    check_structure(target, array, shape, dtype)
    w = target.values(array)
    np.testing.assert_array_equal(target.values(target.draw(spec_of(name), shape, dtype=dtype, layout=layout, seed=11)), w)
    w = w if layout == "keras" else np.moveaxis(w, (0, 1), (-1, -2))  # (*window, in, out)
    atol = gain**2 * TOLERANCE[dtype] * 16
    np.testing.assert_allclose(np.einsum("abio,abjo->ij", w, w), gain**2 * np.eye(cin), atol=atol)
    if name == "delta_orthogonal":
        centre = (1, 1)  # (k − 1) // 2, as JAX
        np.testing.assert_allclose(w[centre] @ w[centre].T, gain**2 * np.eye(cin), atol=atol)
        rest = w.copy()
        rest[centre] = 0
        assert not rest.any(), "non-zero off the centre tap"
    else:
        assert np.count_nonzero(np.abs(w).sum(axis=(2, 3))) == math.prod(window), "a tap is all zero"


# --- deterministic ---------------------------------------------------------------


def _dirac(shape: tuple[int, ...], groups: int) -> np.ndarray:
    """torch.nn.init.dirac_ in keras order (*window, in, out): 1 at the centre tap k // 2 on each group's diagonal."""
    *window, cin, cout = shape
    w = np.zeros(shape)
    per_group = cout // groups
    for g in range(groups):
        for j in range(min(per_group, cin)):
            w[(*(k // 2 for k in window), j, g * per_group + j)] = 1.0
    return w


def _zero(shape: tuple[int, ...]) -> np.ndarray:
    """ZerO (Algorithm 1) for a keras (in, out) matrix: I[:out, :in], or 2^(−(m−1)/2)·H_m[:out, :in] when out > in."""
    cin, cout = shape
    if cout <= cin:
        return np.eye(cout, cin).T
    m = math.ceil(math.log2(cout))
    return (2.0 ** (-(m - 1) / 2) * scipy.linalg.hadamard(2**m)[:cout, :cin]).T


def _stft(shape: tuple[int, ...], spec: Any) -> np.ndarray:
    """Keras's STFT kernel (T, C, F) with the window of scipy.signal.get_window."""
    taps, _, bins = shape
    window = scipy.signal.get_window(spec.window, taps, fftbins=spec.periodic)
    scale = {"density": np.sqrt(np.sum(window**2)), "spectrum": np.sum(np.abs(window))}[spec.scaling]
    turns = np.outer(np.arange(taps), np.arange(bins)) % (2 * (bins - 1))  # the phase reduced exactly, in half-turns·(F − 1)
    phase = -np.pi * turns / (bins - 1)
    basis = (np.cos(phase) if spec.side == "real" else np.sin(phase)) * window[:, None] / scale
    return np.broadcast_to(basis[:, None, :], shape)


# name -> (keras shape, the NumPy reference in keras order); "torch" moves the last two axes to the front
DETERMINISTIC: dict[str, tuple[tuple[int, ...], Callable[[tuple[int, ...]], np.ndarray]]] = {
    "zeros": ((6, 10), np.zeros),
    "ones": ((6, 10), np.ones),
    "constant": ((6, 10), lambda shape: np.full(shape, 0.0)),
    "identity": ((6, 10), lambda shape: np.eye(*shape)),
    "identity[batched]": ((3, 2, 4, 6), lambda shape: -0.5 * np.broadcast_to(np.eye(4, 6), shape)),
    "eye": ((7, 5), lambda shape: 2.0 * np.eye(*shape)),
    "dirac": ((3, 4, 6, 8), lambda shape: _dirac(shape, groups=2)),
    "zer_o": ((5, 12), _zero),
    "stft": ((16, 2, 9), lambda shape: _stft(shape, spec_of("stft"))),
    "stft[imag]": ((16, 2, 9), lambda shape: _stft(shape, spec_of("stft[imag]"))),
    "constant_array": ((2, 4, 5), lambda shape: np.broadcast_to([[1.5], [-2.25], [0.1], [3.0]], shape)),
}
UNLAID = {"zeros", "ones", "constant", "identity", "identity[batched]", "eye", "constant_array"}  # no in/out axes: same in every layout


def rounded(values: np.ndarray, dtype: str) -> np.ndarray:
    """``values`` rounded once to ``dtype``, back in float64."""
    return np.asarray(values).astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else np.dtype(dtype)).astype(np.float64)


@pytest.mark.parametrize(("name", "target_id", "dtype", "layout"), cells(sorted(DETERMINISTIC), DATA_TARGETS, DTYPES, LAYOUTS))
def test_deterministic(name: str, target_id: str, dtype: str, layout: str) -> None:
    """Equal to the NumPy reference rounded once to the dtype (within 1 ulp of float64 for STFT's cosines), on every target."""
    target = load(target_id)
    if capability_error(name, target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    shape, build = DETERMINISTIC[name]
    reference = build(shape)
    if layout == "torch" and name not in UNLAID:
        shape, reference = (*shape[-2:][::-1], *shape[:-2]), np.moveaxis(reference, (-1, -2), (0, 1))
    array = target.draw(spec_of(name), shape, dtype=dtype, layout=layout)
    check_structure(target, array, shape, dtype)
    values = target.values(array)
    if name.startswith("stft") and dtype == "float64":
        np.testing.assert_allclose(values, reference, rtol=0, atol=4e-16)
    else:
        np.testing.assert_array_equal(values, rounded(reference, dtype))


# --- sparse ----------------------------------------------------------------------


@pytest.mark.parametrize(("target_id", "dtype", "layout"), cells(DATA_TARGETS, DTYPES, LAYOUTS))
def test_sparse(target_id: str, dtype: str, layout: str) -> None:
    """Exactly ⌈sparsity·n_out⌉ zeros among each input's n_out weights (torch's ``sparse_`` columns), the others N(0, stddev²)."""
    target = load(target_id)
    if capability_error("sparse", target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")
    fan_in, fan_out = 512, 128
    shape = (fan_in, fan_out) if layout == "keras" else (fan_out, fan_in)
    array = target.draw(spec_of("sparse"), shape, dtype=dtype, layout=layout, seed=3)
    check_structure(target, array, shape, dtype)
    w = target.values(array)
    np.testing.assert_array_equal(target.values(target.draw(spec_of("sparse"), shape, dtype=dtype, layout=layout, seed=3)), w)
    w = w if layout == "keras" else w.T  # (in, out)
    assert ((w == 0).sum(axis=1) == math.ceil(0.25 * fan_out)).all(), "zeros per input"
    check_sample(w[w != 0], d.Normal(0.0, 0.05), dtype)


# --- complex ---------------------------------------------------------------------

# The variance-scaling family in every spelling, and the normals (docs/complex.md); the laws refused: an interval,
# unequal truncation bounds, sparse. (The scaled families are the same three complex laws with other variances.)
COMPLEX = [
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
    "lecun_uniform", "random_normal", "trunc_normal", "truncated_normal", "uniform_scaling", "variance_scaling",
    "variance_scaling[fan_geo_avg]", "xavier_normal", "xavier_uniform",
]
COMPLEX_REFUSED = ["bounded_normal", "random_uniform", "sparse", "truncated_normal[bounds]", "truncated_normal[half]"]
COMPLEX_SHAPE = (128, 512)  # 2^16 values: E|w|² within 1.95 % (5 standard errors), so a 3 % error fails
COMPLEX_TARGETS = DATA_TARGETS


def complex_capability(target_id: str, dtype: str) -> bool:
    """Whether the target draws ``dtype``: complex128 on JAX needs its 64-bit mode."""
    if TARGETS[target_id][0] != "jax" or dtype == "complex64":
        return True
    import jax

    return bool(jax.config.read("jax_enable_x64"))


@pytest.mark.parametrize(("name", "target_id", "dtype"), cells(COMPLEX, COMPLEX_TARGETS, COMPLEX_DTYPES))
def test_complex_statistics(name: str, target_id: str, dtype: str) -> None:
    target = load(target_id)
    spec, shape = spec_of(name), COMPLEX_SHAPE
    if not complex_capability(target_id, dtype):
        with pytest.raises(ui.DTypeError):
            target.draw(spec, shape, dtype=dtype, seed=1)
        return
    array = target.draw(spec, shape, dtype=dtype, seed=20261202)
    check_structure(target, array, shape, dtype)
    check_complex_sample(target.array(array), expected(name, "keras", shape), dtype)


@pytest.mark.parametrize(("name", "target_id"), cells(COMPLEX_REFUSED, COMPLEX_TARGETS))
def test_complex_refused(name: str, target_id: str) -> None:
    with pytest.raises(ui.DTypeError, match="has no complex form"):
        load(target_id).draw(spec_of(name), (8, 8), dtype="complex64", seed=1)


@pytest.mark.parametrize(("target_id", "dtype", "layout"), cells(COMPLEX_TARGETS, COMPLEX_DTYPES, LAYOUTS))
def test_unitary(target_id: str, dtype: str, layout: str) -> None:
    """``QᴴQ = gain²·I`` on the out axis within 1e-5 (complex64) / 1e-12 (complex128); phases uniform."""
    target = load(target_id)
    if not complex_capability(target_id, dtype):
        pytest.skip("complex128 on JAX without its 64-bit mode raises (checked in test_complex_statistics)")
    shape = (3, 3, 16, 64) if layout == "keras" else (64, 16, 3, 3)
    q = target.array(target.draw(ui.Orthogonal(gain=1.5), shape, dtype=dtype, layout=layout, seed=5))
    matrix = q.reshape(-1, 64) if layout == "keras" else q.reshape(64, -1).T
    error = np.abs(matrix.conj().T @ matrix - 2.25 * np.eye(64)).max()
    assert error <= (1e-5 if dtype == "complex64" else 1e-12), f"max |QᴴQ − gain²·I| = {error:.3g}"


# --- narrow grids: the support after the cast ---------------------------------------

NARROW = ["bfloat16", "float16"]
EPS = {"bfloat16": 2.0**-7, "float16": 2.0**-10}
UNIFORM_SHAPE = (512, 512)  # 2^18 draws: a plain cast of U[0, 1) float32 draws reaches 1.0 ~512x (bfloat16), ~64x (float16)
MILLION = (1024, 1024)  # 2^20 draws


def skip_refused(name: str, target_id: str, dtype: str) -> None:
    if capability_error(name, target_id, dtype) is not None:
        pytest.skip(f"{dtype} on {target_id} raises by the capability table (checked in test_structure)")


@pytest.mark.parametrize(("target_id", "dtype"), cells(DATA_TARGETS, NARROW))
def test_uniform_never_returns_its_upper_bound(target_id: str, dtype: str) -> None:
    """U[0, 1) stays below 1.0 on the narrow grid: its top is the grid point below 1 (rounding up happened, and was confined)."""
    target = load(target_id)
    skip_refused("random_uniform", target_id, dtype)
    x = target.values(target.draw(ui.RandomUniform(minval=0.0, maxval=1.0), UNIFORM_SHAPE, dtype=dtype, seed=5))
    assert x.min() >= 0.0
    assert x.max() == largest_below(1.0, dtype)


@pytest.mark.parametrize(("name", "target_id", "dtype"), cells(["truncated_normal", "he_normal", "glorot_normal"], DATA_TARGETS, NARROW))
def test_truncated_values_stay_inside_their_support(name: str, target_id: str, dtype: str) -> None:
    """2^20 narrow draws inside the support; re-drawn, not clamped: no pile-up on the extremes (a clamp puts ~4.6 % there)."""
    target = load(target_id)
    skip_refused(name, target_id, dtype)
    spec = spec_of(name)
    low, high = spec.distribution_for(MILLION).support
    x = target.values(target.draw(spec, MILLION, dtype=dtype, seed=11))
    assert low <= x.min()
    assert x.max() <= high
    assert np.mean((x == x.max()) | (x == x.min())) < 0.01, "values pile up on the extremes"


NARROW_ORTHO_SHAPES = {"tall": (64, 32), "wide": (32, 64), "conv2d": (3, 3, 8, 16)}


@pytest.mark.parametrize(("target_id", "dtype", "shape_name"), cells(DATA_TARGETS, NARROW, list(NARROW_ORTHO_SHAPES)))
def test_orthogonal_narrow_is_a_cast_float32_qr(target_id: str, dtype: str, shape_name: str) -> None:
    """bfloat16/float16 orthogonal is the float32 draw of the same seed rounded once; its Gram matrix is within 4·eps of I."""
    target = load(target_id)
    skip_refused("orthogonal", target_id, dtype)
    shape = NARROW_ORTHO_SHAPES[shape_name]
    narrow = target.values(target.draw(ui.Orthogonal(), shape, dtype=dtype, seed=2))
    wide = target.values(target.draw(ui.Orthogonal(), shape, dtype="float32", seed=2))
    np.testing.assert_array_equal(narrow, rounded(wide, dtype))
    q = narrow.reshape(-1, shape[-1])
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    assert np.abs(gram - np.eye(len(gram))).max() < 4 * EPS[dtype]


# --- integers and the global seed --------------------------------------------------

INTEGER_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint32"]


def jax_without_x64(target_id: str) -> bool:
    if TARGETS[target_id][0] != "jax":
        return False
    import jax

    return not jax.config.read("jax_enable_x64")


@pytest.mark.parametrize(("target_id", "dtype"), cells(list(TARGETS), INTEGER_DTYPES))
def test_integer_dtypes(target_id: str, dtype: str) -> None:
    """The deterministic initializers are exact in integer dtypes and keep them; a random one refuses them."""
    target = load(target_id)
    if dtype == "int64" and jax_without_x64(target_id):
        with pytest.raises(ui.DTypeError, match="64-bit mode"):
            target.draw(ui.Zeros(), (2, 3), dtype=dtype)
        return
    shape = (2, 3)
    for spec, reference in [
        (ui.Zeros(), np.zeros(shape)),
        (ui.Ones(), np.ones(shape)),
        (ui.Constant(value=3), np.full(shape, 3)),
        (ui.Identity(gain=2), 2 * np.eye(*shape)),
    ]:
        array = target.draw(spec, shape, dtype=dtype)
        check_structure(target, array, shape, dtype)
        if target_id in DATA_TARGETS:
            values = target.array(array)
            assert values.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(values, reference.astype(dtype))
    with pytest.raises(ui.DTypeError, match=dtype):
        target.draw(ui.HeNormal(), shape, dtype=dtype, seed=0)


@pytest.mark.parametrize("target_id", list(TARGETS))
def test_integer_values_outside_the_dtype_are_refused(target_id: str) -> None:
    """A constant or identity gain an integer dtype cannot hold exactly is a ParameterError, never a wrapped value (uint8 −1 as 255)."""
    target = load(target_id)
    for spec, dtype in [(ui.Identity(gain=300), "int8"), (ui.Identity(gain=-1), "uint8"), (ui.Identity(gain=2.5), "int32"),
                        (ui.Constant(-1), "uint8"), (ui.Constant(2), "bool"), (ui.Identity(gain=2), "bool")]:
        with pytest.raises(ui.ParameterError, match=f"dtype='{dtype}'"):
            target.draw(spec, (2, 3), dtype=dtype)


BOOL_CELLS = [  # (spec, shape, the values as NumPy computes them)
    (ui.Zeros(), (2, 3), np.zeros((2, 3), dtype=bool)),
    (ui.Ones(), (2, 3), np.ones((2, 3), dtype=bool)),
    (ui.Constant(1), (2, 3), np.ones((2, 3), dtype=bool)),
    (ui.Constant(0), (2, 3), np.zeros((2, 3), dtype=bool)),
    (ui.ConstantArray([0, 1, 1]), (2, 3), np.array([[False, True, True]] * 2)),
    (ui.Identity(), (2, 3), np.eye(2, 3, dtype=bool)),
    (ui.Identity(gain=0), (2, 3), np.zeros((2, 3), dtype=bool)),
    (ui.Identity(), (4, 2, 3), np.broadcast_to(np.eye(2, 3, dtype=bool), (4, 2, 3))),
    (ui.Dirac(), (3, 2, 2), np.array([False, True, False])[:, None, None] & np.eye(2, dtype=bool)),  # (k, in, out): I at the centre tap
]


@pytest.mark.parametrize("target_id", list(TARGETS))
def test_bool_dtype(target_id: str) -> None:
    """The deterministic initializers fill bool arrays (masks) with exactly 0 and 1 and keep the dtype; a random one refuses bool."""
    target = load(target_id)
    for spec, shape, reference in BOOL_CELLS:
        array = target.draw(spec, shape, dtype="bool")
        check_structure(target, array, shape, "bool")
        if target_id in DATA_TARGETS:
            values = target.array(array)
            assert values.dtype == np.bool_, spec
            np.testing.assert_array_equal(values, reference, err_msg=repr(spec))
    with pytest.raises(ui.DTypeError, match="bool"):
        target.draw(ui.HeNormal(), (2, 3), dtype="bool", seed=0)


@pytest.mark.parametrize(("name", "target_id"), cells(["glorot_uniform", "lecun_normal", "orthogonal"], DATA_TARGETS))
def test_unseeded_calls_follow_set_seed(name: str, target_id: str) -> None:
    target = load(target_id)
    spec, shape = spec_of(name), SHAPES["dense"]
    ui.set_seed(3)
    first = target.values(target.draw(spec, shape))
    ui.set_seed(3)
    np.testing.assert_array_equal(target.values(target.draw(spec, shape)), first)
    ui.set_seed(4)
    assert not np.array_equal(target.values(target.draw(spec, shape)), first)


# --- coverage --------------------------------------------------------------------

VALUE_CELLS = {"orthogonal", *RANDOM, *ORTHOGONAL_KERNELS, *DETERMINISTIC, "sparse"}


def test_every_registered_initializer_has_cells() -> None:
    """Every name ui.get knows and every registered spec class is drawn by the value cells; no cell names an unknown one."""
    assert set(_NAMED) - VALUE_CELLS == set(), "registered names without value cells"
    ours = {cls for cls in _SPECS.values() if cls.__module__.startswith("unit_init.")}  # not the ones other tests register
    assert {type(spec_of(name)) for name in VALUE_CELLS} >= ours, "registered classes without cells"
    assert set(_NAMED) | set(SPECS) >= VALUE_CELLS, "cells of unknown names"


def test_statistics_cover_every_random_initializer() -> None:
    """Every random i.i.d. law has statistics cells; the others random are orthogonal or sparse (their own cells)."""
    random = {name for name in set(_NAMED) | set(SPECS) if is_random(name)}
    iid = {name for name in random if law_of(name).iid}
    assert iid == set(RANDOM)
    assert random - iid == {"orthogonal", "sparse", *ORTHOGONAL_KERNELS}
