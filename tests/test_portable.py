"""rng="portable": one counter-based stream, the same values on every backend (CONTRACT §7).

* Threefry-2x32-20 matches the Random123 known answers and ``jax.random``'s own;
  Φ⁻¹ matches SciPy.
* **Cross-backend**: seeds × initializers × shapes on numpy, torch,
  tensorflow, jax and array-api-strict. Uniform initializers are compared
  bit for bit. Normal-family values are compared with the error measured as
  ``|Δ| / max(|x|, σ)``: relative where ``|x| ≥ σ``, in units of the standard
  deviation near 0, where a relative error is ill-conditioned (a truncated
  normal's ``Φ⁻¹(t)`` near ``t = ½`` turns one rounding of ``t`` into a large
  relative error of a value close to 0; XLA fuses ``t·w + c`` into an FMA).
  Bound: 1e-6 (about 8 float32 ulp). Orthogonal agrees to QR round-off (1e-4).
* **Statistics**: every random initializer passes ``stats.check_sample`` on
  2^18 portable values on numpy and jax; adjacent seeds and adjacent blocks
  are uncorrelated (|r| ≤ 5/√n).
* **Blocks**: ``region=`` blocks of random partitions reassemble exactly into
  the whole draw.
* **Golden values**: the first elements for fixed seeds, as float32 bits.
  Changing them is a breaking change (see CHANGELOG.md).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from stats import check_sample
from targets import DATA_TARGETS, load
from unit_init.backends.registry import get_backend

BACKENDS = list(DATA_TARGETS)  # numpy, torch:cpu, tensorflow:cpu, jax:cpu, array_api_strict:device1
UNIFORM = {"he_uniform": ui.HeUniform(), "glorot_uniform": ui.GlorotUniform(), "random_uniform": ui.RandomUniform(-1.0, 3.0)}
NORMAL = {
    "he_normal": ui.HeNormal(),
    "lecun_normal": ui.LecunNormal(),
    "random_normal": ui.RandomNormal(0.5, 2.0),
    "truncated_normal": ui.TruncatedNormal(),
    "variance_scaling_normal": ui.VarianceScaling(2.0, "fan_avg", "normal"),
    "truncated_across_0_up": ui.TruncatedNormal(lower=-0.3, upper=2.5),  # each side its own offset; t' beyond ½
    "truncated_across_0_down": ui.TruncatedNormal(lower=-2.5, upper=0.4),
    "truncated_one_sided": ui.TruncatedNormal(lower=1.5, upper=40.0),  # in log space
    "truncated_central": ui.TruncatedNormal(lower=-1.0, upper=0.5),  # inside AS 241's central range: q formed around 0
}
RANDOM = {
    name: cls() for name, cls in ui.CATALOGUE.items() if name not in ("zeros", "ones", "constant", "identity", "orthogonal")
}
SEEDS = [0, 1, 2**40 + 3]
SHAPES = [(64, 48), (3, 3, 8, 16), (1000,)]


def portable(target_id: str, spec: ui.Initializer, shape: tuple[int, ...], **options: object) -> np.ndarray:
    target = load(target_id)
    return target.values(target.draw(spec, shape, rng="portable", **options))


def scaled_error(x: np.ndarray, ref: np.ndarray) -> float:
    """``max |x − ref| / max(|ref|, σ)``: relative away from 0, in units of σ near 0."""
    return float(np.max(np.abs(x - ref) / np.maximum(np.abs(ref), ref.std())))


# --- the algorithm ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "counter", "expected"),
    [
        ((0, 0), (0, 0), (0x6B200159, 0x99BA4EFE)),
        ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
        ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
    ],
)
@pytest.mark.parametrize("target_id", BACKENDS)
def test_threefry_known_answers(target_id: str, key: tuple[int, int], counter: tuple[int, int], expected: tuple[int, int]) -> None:
    """Random123's known-answer vectors for Threefry-2x32-20, computed with each backend's word ops."""
    from unit_init.portable.threefry import threefry2x32
    from unit_init.portable.words import Words

    target = load(target_id)
    backend = get_backend(target.backend)
    words = Words(backend.xp, backend.word_dtype, backend.resolve_device(target.device))
    with backend.placement(words.device):
        x = threefry2x32(words, tuple(map(words.constant, key)), tuple(map(words.constant, counter)))  # type: ignore[arg-type]
    assert tuple(int(np.asarray(backend.to_numpy(v)).astype(np.int64)) & 0xFFFFFFFF for v in x) == expected


def test_a_one_pass_shift_in_rotates_as_two_passes() -> None:
    """torch shifts and ors a rotation's words in one ``add`` (``Backend.shift_in``): every rotation of every word
    pattern gives the words of the shift-then-or form."""
    torch = pytest.importorskip("torch")
    from unit_init.portable.threefry import ROTATIONS
    from unit_init.portable.words import Words

    backend = get_backend("torch")
    assert backend.shift_in is not None
    words = np.random.default_rng(0).integers(0, 2**32, 4096, dtype=np.uint32)
    words[:4] = [0, 0xFFFFFFFF, 0x80000000, 0x7FFFFFFF]
    fused = Words(backend.xp, "int32", torch.device("cpu"), inplace=True, shift_in=backend.shift_in)
    plain = Words(backend.xp, "int32", torch.device("cpu"), inplace=True)
    for r in sorted(set(ROTATIONS)):
        once = fused.irotl(torch.from_numpy(words.view(np.int32).copy()), r)
        twice = plain.irotl(torch.from_numpy(words.view(np.int32).copy()), r)
        expected = (words << np.uint32(r)) | (words >> np.uint32(32 - r))
        np.testing.assert_array_equal(once.numpy().view(np.uint32), expected, err_msg=f"r={r}")
        np.testing.assert_array_equal(twice.numpy().view(np.uint32), expected, err_msg=f"r={r}")


def test_threefry_equals_jax_random() -> None:
    jax_random = pytest.importorskip("jax.extend.random")
    import array_api_compat.numpy as xp

    from unit_init.portable.threefry import threefry2x32
    from unit_init.portable.words import Words

    rng = np.random.default_rng(0)
    key = rng.integers(0, 2**32, 2, dtype=np.uint32)
    counters = rng.integers(0, 2**32, (2, 4096), dtype=np.uint32)
    ours = threefry2x32(Words(xp, "uint32", "cpu"), (key[0], key[1]), (counters[0], counters[1]))
    theirs = np.asarray(jax_random.threefry_2x32(key, counters.ravel()))
    np.testing.assert_array_equal(np.concatenate(ours), theirs)


@pytest.mark.parametrize(("dtype", "tolerance"), [("float64", 1e-14), ("float32", 5e-7)])
def test_ndtri_matches_scipy(dtype: str, tolerance: float) -> None:
    import scipy.special

    from unit_init.portable.ndtri import ndtri

    smallest = 2.0**-54 if dtype == "float64" else 2.0**-25
    p = np.concatenate([np.geomspace(smallest, 0.5, 20001), np.linspace(0.001, 0.999, 20001)]).astype(dtype)
    z = ndtri(np, p, smallest=smallest)
    reference = scipy.special.ndtri(p.astype(np.float64))
    assert z.dtype == np.dtype(dtype)
    assert np.max(np.abs(z - reference) / np.maximum(np.abs(reference), 1e-300)) < tolerance


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_ndtri_lower_half_is_the_same_formula(target_id: str, dtype: str) -> None:
    """``lower_half=True`` (no side look-ups) gives the same bits for every ``p <= ½``, ``½`` itself included."""
    from unit_init.portable.ndtri import ndtri

    target = load(target_id)
    backend = get_backend(target.backend)
    smallest = 2.0**-54 if dtype == "float64" else 2.0**-25
    p = np.concatenate([np.geomspace(smallest, 0.5, 30001), np.linspace(0.001, 0.5, 30001)]).astype(dtype)
    device = backend.resolve_device(target.device)
    try:
        native = backend.dtype_on(dtype, device)
    except ui.DTypeError as error:  # JAX without 64-bit mode
        pytest.skip(str(error))
    x = backend.xp.asarray(p, dtype=native, device=device)
    general = target.array(ndtri(backend.xp, x, smallest=smallest))
    shortcut = target.array(ndtri(backend.xp, x, smallest=smallest, lower_half=True))
    np.testing.assert_array_equal(shortcut.view(f"u{p.itemsize}"), general.view(f"u{p.itemsize}"))


@pytest.mark.parametrize("far", [False, True])
@pytest.mark.parametrize("lower_half", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("target_id", DATA_TARGETS)
def test_ndtri_overwrite_is_the_same_formula(target_id: str, dtype: str, lower_half: bool, far: bool) -> None:
    """``overwrite=True`` (temporaries reused in place on mutable backends) gives the same bits as fresh temporaries."""
    from unit_init.portable.ndtri import ndtri

    target = load(target_id)
    backend = get_backend(target.backend)
    if not backend.mutable:
        pytest.skip(f"{target.backend} arrays are not mutable: nothing is overwritten")
    smallest = (2.0**-54 if dtype == "float64" else 2.0**-25) if far else 1e-6
    p = np.concatenate([np.geomspace(smallest, 0.5, 30001), np.linspace(0.001, 0.5, 30001)]).astype(dtype)
    if not lower_half:
        p = np.concatenate([p, 1 - p[p >= 2.0**-23]])  # 1 − p above ½, kept below 1 in float32
    device = backend.resolve_device(target.device)
    fresh = backend.xp.asarray(p, dtype=backend.dtype_on(dtype, device), device=device)
    owned = backend.xp.asarray(p, dtype=backend.dtype_on(dtype, device), device=device)
    kept = target.array(ndtri(backend.xp, fresh, smallest=smallest, lower_half=lower_half))
    reused = target.array(ndtri(backend.xp, owned, smallest=smallest, lower_half=lower_half, overwrite=True))
    np.testing.assert_array_equal(reused.view(f"u{p.itemsize}"), kept.view(f"u{p.itemsize}"))
    np.testing.assert_array_equal(target.array(fresh), p)  # without overwrite, p is left alone


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_truncated_probabilities_below_the_median_are_proven(dtype: str) -> None:
    """The shortcut is taken only where the largest probability of either half stays at or below ½."""
    import scipy.stats

    from unit_init.portable.stream import _below_median

    phi = scipy.stats.norm.cdf

    word = np.dtype(dtype).type
    bits = 52 if dtype == "float64" else 23
    largest_t = word((2.0 ** (bits + 1) - 1) / 2.0 ** (bits + 2))
    for low, high in [(-2.0, 2.0), (-1.0, 3.0), (-3.0, 1.0), (-0.5, 0.5), (-2.0, 2.0 + 1e-6), (-1e-3, 2.0)]:
        kept = word(phi(high) - phi(low))
        largest = max(word(largest_t * kept) + word(phi(low)), word(largest_t * kept) + word(phi(-high)))
        if _below_median(low, high, dtype):
            assert largest <= 0.5, (low, high)
        else:
            assert low != -high, (low, high)  # symmetric bounds always qualify
    assert _below_median(-2.0, 2.0, dtype)
    assert not _below_median(-1.0, 3.0, dtype)
    assert not _below_median(-3.0, 1.0, dtype)


# --- the same values on every backend -------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", UNIFORM)
def test_uniform_bit_identical_across_backends(name: str, seed: int, shape: tuple[int, ...]) -> None:
    reference = portable("numpy", UNIFORM[name], shape, seed=seed)
    for target_id in BACKENDS[1:]:
        values = portable(target_id, UNIFORM[name], shape, seed=seed)
        np.testing.assert_array_equal(values, reference, err_msg=f"{name} on {target_id}")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", NORMAL)
def test_normal_family_agrees_across_backends(name: str, seed: int, shape: tuple[int, ...]) -> None:
    reference = portable("numpy", NORMAL[name], shape, seed=seed)
    for target_id in BACKENDS[1:]:
        values = portable(target_id, NORMAL[name], shape, seed=seed)
        assert scaled_error(values, reference) <= 1e-6, f"{name} on {target_id}: {scaled_error(values, reference):.3g}"


def _ulps(x: np.ndarray, reference: np.ndarray) -> int:
    """The largest distance between float32 values of ``x`` and ``reference`` in units in the last place (bit patterns
    mapped onto a signed line, so ±0 are one point and a sign change counts every float between)."""
    ordered = [np.asarray(a, np.float32).view(np.int32).astype(np.int64) for a in (x, reference)]
    ordered = [np.where(bits < 0, -(bits & 0x7FFFFFFF), bits) for bits in ordered]
    return int(np.max(np.abs(ordered[0] - ordered[1])))


SYMMETRIC = {"he_normal": ui.HeNormal(), "truncated_normal": ui.TruncatedNormal(), "standard_normal": ui.RandomNormal(0.0, 1.0)}


@pytest.mark.parametrize("name", SYMMETRIC)
def test_normals_symmetric_about_0_agree_to_8_ulp(name: str) -> None:
    """A normal or a truncation symmetric about 0 (the variance-scaling normals) agrees to 8 float32 ulp on every
    backend, values next to 0 included: the probabilities are the same floats everywhere (no fused multiply-add can
    round them differently), only ``log`` may differ by an ulp. 512 × 2049 puts TensorFlow on its XLA path. (Before
    2026-12-06, XLA's multiply-add moved values next to 0 of a truncated he_normal by up to 1.5e6 ulp, 1e-7 σ.)"""
    shape = (512, 2049)
    reference = portable("numpy", SYMMETRIC[name], shape, seed=3)
    for target_id in BACKENDS[1:]:
        assert _ulps(portable(target_id, SYMMETRIC[name], shape, seed=3), reference) <= 8, target_id


@pytest.mark.parametrize("shape", [(64, 48), (3, 3, 8, 16)], ids=str)
def test_orthogonal_agrees_to_qr_round_off(shape: tuple[int, ...]) -> None:
    reference = portable("numpy", ui.Orthogonal(), shape, seed=5)
    for target_id in BACKENDS[1:]:
        np.testing.assert_allclose(portable(target_id, ui.Orthogonal(), shape, seed=5), reference, atol=1e-4, err_msg=target_id)


@pytest.mark.parametrize("name", ["he_uniform", "he_normal"])
def test_float64_agrees_across_backends(name: str) -> None:
    """float64 draws 53-bit uniforms (both Threefry words); jax is left out (no jax_enable_x64 here)."""
    spec = ui.CATALOGUE[name]()
    reference = portable("numpy", spec, (128, 64), seed=3, dtype="float64")
    for target_id in ("torch:cpu", "tensorflow:cpu", "array_api_strict:device1"):
        values = portable(target_id, spec, (128, 64), seed=3, dtype="float64")
        if name.endswith("uniform"):
            np.testing.assert_array_equal(values, reference, err_msg=target_id)
        else:
            assert scaled_error(values, reference) <= 1e-14, target_id


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("target_id", ["torch:cpu", "tensorflow:cpu", "jax:cpu"])
def test_narrow_dtypes_follow_the_one_cast_policy(target_id: str, dtype: str) -> None:
    """Draw in float32, cast once, confine to the support on the output grid: the same on every backend."""
    for spec in (ui.HeUniform(), ui.TruncatedNormal(stddev=1.0)):
        values = portable(target_id, spec, (256, 256), seed=0, dtype=dtype)
        reference = portable("numpy", spec, (256, 256), seed=0, dtype=dtype)
        low, high = spec.distribution_for((256, 256)).support
        assert values.min() >= low
        assert values.max() <= high
        mismatched = np.mean(values != reference)
        assert mismatched <= (0 if isinstance(spec, ui.HeUniform) else 1e-3), f"{mismatched:.2%} differ"


# --- statistics ------------------------------------------------------------------------


@pytest.mark.parametrize("target_id", ["numpy", "jax:cpu"])
@pytest.mark.parametrize("name", RANDOM)
def test_portable_stream_passes_the_statistical_checks(name: str, target_id: str) -> None:
    spec = RANDOM[name]
    shape = (512, 512)  # 2^18 values
    values = portable(target_id, spec, shape, seed=11)
    check_sample(values, spec.distribution_for(shape))


TRUNCATIONS = {
    "central": ui.TruncatedNormal(lower=-1.0, upper=0.5),  # q formed around 0 (AS 241's central range)
    "central_narrow": ui.TruncatedNormal(stddev=1.0, lower=-1e-3, upper=1e-3),
    "half": ui.TruncatedNormal(stddev=1.0, lower=0.0, upper=math.inf),  # one-sided, unbounded: 1 − s·m/Q(low) from t
    "one_sided": ui.TruncatedNormal(lower=1.5, upper=40.0),
    "far": ui.TruncatedNormal(stddev=1.0, lower=8.0, upper=9.0),
}


@pytest.mark.parametrize("target_id", ["numpy", "jax:cpu"])
@pytest.mark.parametrize("name", TRUNCATIONS)
def test_portable_truncations_of_every_path_pass_the_statistical_checks(name: str, target_id: str) -> None:
    """The central and one-sided paths of the portable stream, whose arithmetic this session changed: mean,
    variance (to about 1 % at 2¹⁸ values), support and KS against scipy's truncated normal."""
    spec = TRUNCATIONS[name]
    shape = (512, 512)
    check_sample(portable(target_id, spec, shape, seed=12), spec.distribution_for(shape))


def test_portable_orthogonal_is_orthogonal() -> None:
    q = portable("numpy", ui.Orthogonal(gain=2.0), (256, 128), seed=0)
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(128), atol=1e-4)


def _correlation(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    a, b = np.ravel(a), np.ravel(b)
    return float(np.corrcoef(a, b)[0, 1]), 5 / math.sqrt(a.size)


@pytest.mark.parametrize("spec", [ui.RandomUniform(0.0, 1.0), ui.RandomNormal(0.0, 1.0)], ids=["uniform", "normal"])
def test_adjacent_seeds_and_blocks_are_uncorrelated(spec: ui.Initializer) -> None:
    shape = (512, 512)
    for seed in (0, 1, 2**32 - 1, 2**32):  # adjacent seeds, also across the 32-bit word boundary
        r, bound = _correlation(portable("numpy", spec, shape, seed=seed), portable("numpy", spec, shape, seed=seed + 1))
        assert abs(r) <= bound, f"seeds {seed}, {seed + 1}: r = {r:.4f}"
    x = portable("numpy", spec, shape, seed=7)
    for a, b in ((x[:256], x[256:]), (x[:, :256], x[:, 256:]), (x.ravel()[:-1], x.ravel()[1:]), (x[:-1], x[1:])):
        r, bound = _correlation(a, b)
        assert abs(r) <= bound, f"adjacent blocks: r = {r:.4f}"
    r, bound = _correlation(x, portable("numpy", spec, (512, 513), seed=7)[:, :512])
    assert abs(r) <= bound, f"neighbouring global shapes: r = {r:.4f}"


# --- blocks ------------------------------------------------------------------------------


def _random_partition(rng: np.random.Generator, shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    cuts = [np.unique(np.concatenate([[0, n], rng.integers(0, n + 1, rng.integers(0, 4))])) for n in shape]
    blocks: list[tuple[slice, ...]] = [()]
    for edges in cuts:
        blocks = [(*b, slice(int(lo), int(hi))) for b in blocks for lo, hi in itertools.pairwise(edges)]
    return blocks


@pytest.mark.parametrize("target_id", ["numpy", "torch:cpu", "jax:cpu", "tensorflow:cpu"])
@pytest.mark.parametrize("name", ["he_normal", "glorot_uniform", "truncated_normal", "orthogonal", "identity", "zeros"])
def test_regions_reassemble_into_the_whole_draw(name: str, target_id: str) -> None:
    """On TensorFlow, Eigen's ``log`` of a value in a SIMD body and in a scalar tail could differ by an ulp, so a block
    of a normal law drawn eagerly differed from the whole draw here and there (3 of 400 small blocks)."""
    spec = ui.CATALOGUE[name]()
    rng = np.random.default_rng(abs(hash((name, target_id))) % 2**32)
    for shape in [(37, 50), (4, 6, 9)] if name != "identity" else [(37, 50), (20, 11)]:
        whole = portable(target_id, spec, shape, seed=3)
        for _ in range(1 if target_id.startswith("jax") else 3):  # jax compiles a kernel per block shape
            assembled = np.full(shape, np.nan)
            for block in _random_partition(rng, shape):
                assembled[block] = portable(target_id, spec, shape, seed=3, region=block)
            np.testing.assert_array_equal(assembled, whole)


@pytest.mark.parametrize(("name", "dtype", "shape", "region"), [
    ("he_normal", "float32", (4, 5), (slice(2, 4), slice(1, 5))),
    ("random_normal", "float64", (3, 6, 3, 6), (slice(None, 1), slice(-3, -2), slice(-1, None))),
])
def test_a_tensorflow_block_drawn_eagerly_is_the_same_block_of_the_whole_draw(name: str, dtype: str, shape: tuple[int, ...], region: tuple[slice, ...]) -> None:
    """Eigen rounded ``log`` of a value in a loop's scalar tail otherwise than in its SIMD body: these blocks differed
    from the whole draw for 5 of 300 seeds (float32; 2 of 100 in float64), by an ulp."""
    pytest.importorskip("tensorflow")
    spec = ui.CATALOGUE[name]()
    for seed in range(160 if dtype == "float32" else 70):
        whole = portable("tensorflow:cpu", spec, shape, seed=seed, dtype=dtype)
        np.testing.assert_array_equal(portable("tensorflow:cpu", spec, shape, seed=seed, dtype=dtype, region=region), whole[region])


def test_region_as_offset_and_shape() -> None:
    whole = portable("numpy", ui.HeNormal(), (64, 32), seed=1)
    block = portable("numpy", ui.HeNormal(), (64, 32), seed=1, region=((16, 8), (32, 4)))
    np.testing.assert_array_equal(block, whole[16:48, 8:12])
    assert ui.HeNormal().variance((64, 32)) == pytest.approx(2 / 64)  # fans from the global shape


def test_large_block_is_filled_in_chunks_exactly() -> None:
    """NumPy and torch fill blocks above a chunk's size chunk by chunk; the values do not depend on it."""
    from unit_init.portable.stream import chunk_size

    shape = (600, 700)
    assert math.prod(shape) > chunk_size("normal")
    whole = portable("numpy", ui.HeNormal(), shape, seed=2)
    np.testing.assert_array_equal(portable("numpy", ui.HeNormal(), shape, seed=2, region=(slice(1, 599),)), whole[1:599])
    assert scaled_error(portable("torch:cpu", ui.HeNormal(), shape, seed=2), whole) <= 1e-6


def test_chunked_values_do_not_depend_on_the_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """NumPy fills a portable draw's chunks on the thread pool, torch with its own multi-threaded ops: the values
    are the same for 1 and 3 pool threads (NumPy) and for 1 and 2 torch threads (torch, within 1e-6 of NumPy's)."""
    from unit_init.portable import stream

    shape = (700, 900)
    assert math.prod(shape) > 2 * stream.chunk_size("normal")  # several chunks
    reference = {name: portable("numpy", spec, shape, seed=3) for name, spec in NORMAL.items()}
    for threads in (1, 3):
        monkeypatch.setattr(stream, "cpu_count", lambda threads=threads: threads)
        for name, spec in NORMAL.items():
            np.testing.assert_array_equal(portable("numpy", spec, shape, seed=3), reference[name], err_msg=f"{name}, {threads} threads")
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        by_threads = []
        for torch_threads in (1, 2):
            torch.set_num_threads(torch_threads)
            by_threads.append({name: portable("torch:cpu", spec, shape, seed=3) for name, spec in NORMAL.items()})
    finally:
        torch.set_num_threads(before)
    for name in NORMAL:
        np.testing.assert_array_equal(by_threads[1][name], by_threads[0][name], err_msg=name)
        assert scaled_error(by_threads[0][name], reference[name]) <= 1e-6, name


def test_tensorflow_compiles_the_portable_kernel_with_xla_from_a_million_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of XLA_MIN values or more are one XLA kernel; smaller ones run eagerly (no compile for a small layer)."""
    tf = pytest.importorskip("tensorflow")
    from unit_init.backends import tensorflow_backend
    from unit_init.portable import stream

    compiled: list[tuple[int, ...]] = []
    plain_function = tf.function

    def counting(function: object, jit_compile: bool = False, **options: object) -> object:
        if jit_compile:
            compiled.append(shape)
        return plain_function(function, jit_compile=jit_compile, **options)

    monkeypatch.setattr(tensorflow_backend.tf, "function", counting)
    stream._compiled.cache_clear()
    try:
        for shape in [(40, 30), (1023, 1024), (1024, 1024)]:
            values = portable("tensorflow:cpu", ui.HeNormal(), shape, seed=1)
            assert scaled_error(values, portable("numpy", ui.HeNormal(), shape, seed=1)) <= 1e-6
    finally:
        monkeypatch.undo()
        stream._compiled.cache_clear()
    assert tensorflow_backend.XLA_MIN == 1024 * 1024
    assert compiled == [(1024, 1024)]


@pytest.mark.parametrize("name", ["he_normal", "truncated_normal"])
def test_tensorflow_region_of_a_compiled_draw_is_bit_identical(name: str) -> None:
    """A block of a draw of XLA_MIN values or more is compiled too, whatever its own size: eager ops round a few
    normals an ulp away from XLA's fused kernel (227,900 of 524,288 values of a half when blocks ran eagerly)."""
    pytest.importorskip("tensorflow")
    spec, shape = ui.CATALOGUE[name](), (1024, 1024)
    whole = portable("tensorflow:cpu", spec, shape, seed=5)
    for region in [(slice(0, 512), slice(None)), (slice(1023, 1024), slice(1021, 1024))]:
        np.testing.assert_array_equal(portable("tensorflow:cpu", spec, shape, seed=5, region=region), whole[region])


def test_tensorflow_portable_kernel_falls_back_to_a_graph_without_xla(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where XLA refuses the portable kernel, the same values come from a plain graph."""
    tf = pytest.importorskip("tensorflow")
    from unit_init.backends import tensorflow_backend
    from unit_init.portable import stream

    monkeypatch.setattr(tensorflow_backend, "XLA_MIN", 1)
    stream._compiled.cache_clear()
    fused = portable("tensorflow:cpu", ui.HeNormal(), (40, 30), seed=1)
    plain_function = tf.function
    refused: list[bool] = []

    def without_xla(function: object, jit_compile: bool = False, **options: object) -> object:
        if not jit_compile:
            return plain_function(function, **options)

        def refuse(*arguments: object) -> object:
            refused.append(True)
            raise tf.errors.UnimplementedError(None, None, "no XLA here")

        return refuse

    monkeypatch.setattr(tensorflow_backend.tf, "function", without_xla)
    stream._compiled.cache_clear()
    try:
        graph = portable("tensorflow:cpu", ui.HeNormal(), (40, 30), seed=1)
        again = portable("tensorflow:cpu", ui.HeNormal(), (40, 30), seed=1)
    finally:
        monkeypatch.undo()
        stream._compiled.cache_clear()
    assert refused == [True], "XLA is tried once, then the graph serves"
    assert scaled_error(graph, fused) <= 1e-6
    np.testing.assert_array_equal(graph, again)
    assert scaled_error(graph, portable("numpy", ui.HeNormal(), (40, 30), seed=1)) <= 1e-6


def test_float32_pairs_straddle_chunks_and_odd_starts() -> None:
    """float32 takes two elements per Threefry counter along the last axis; odd block starts, odd lengths and
    chunk edges inside a long last axis pick the same words."""
    from unit_init.portable.stream import chunk_size

    chunk = chunk_size("uniform")
    shape = (3, chunk + 3)  # last axis longer than a chunk, odd
    whole = portable("numpy", ui.HeUniform(), shape, seed=4)
    for region in [(slice(None), slice(1, chunk + 2)), (slice(1, 2), slice(chunk // 2 - 1, chunk // 2 + 6)), (slice(2, 3), slice(-1, None))]:
        np.testing.assert_array_equal(portable("numpy", ui.HeUniform(), shape, seed=4, region=region), whole[region])
    np.testing.assert_array_equal(portable("torch:cpu", ui.HeUniform(), shape, seed=4), whole)
    assert portable("numpy", ui.HeUniform(), (), seed=4).shape == ()


def test_empty_shapes_and_blocks() -> None:
    assert portable("numpy", ui.HeNormal(), (0, 5), seed=0).shape == (0, 5)
    assert portable("numpy", ui.HeNormal(), (4, 5), seed=0, region=(slice(2, 2),)).shape == (0, 5)
    assert portable("numpy", ui.HeNormal(), (4, 5), seed=0, region=(slice(4, 4),)).shape == (0, 5)  # an empty last shard
    class Index:  # an int only through __index__, as slices take it
        def __init__(self, value: int) -> None:
            self.value = value

        def __index__(self) -> int:
            return self.value

    assert portable("numpy", ui.HeNormal(), (4, 5), seed=0, region=(slice(Index(1), Index(3)),)).shape == (2, 5)
    np.testing.assert_array_equal(  # a negative bound counts from the axis's end, as in Python
        portable("numpy", ui.HeNormal(), (4, 5), seed=0, region=(slice(-4, -1), slice(-5, None))),
        portable("numpy", ui.HeNormal(), (4, 5), seed=0)[:3],
    )


# --- errors --------------------------------------------------------------------------------


def test_region_needs_portable_for_random_initializers() -> None:
    with pytest.raises(ui.ParameterError, match="rng='portable'"):
        ui.he_normal((4, 4), seed=0, region=(slice(0, 2),))
    np.testing.assert_array_equal(ui.identity((4, 4), region=(slice(1, 3),)), np.eye(4)[1:3])


@pytest.mark.parametrize(
    "region",
    [
        (slice(0, 2, 2),), (slice(0, 1),) * 3, ((0, 0), (5, 1)), "rows", ((0,), (1,)),
        (slice(0, 40),), (slice(10, 12),), (slice(-5, None),), (slice(3, 1),), (slice(None), slice(-1, 0)),
    ],
    ids=["step", "rank", "outside", "string", "short", "past-stop", "past-start", "before-start", "reversed", "reversed-negative"],
)
def test_bad_regions_are_parameter_errors(region: object) -> None:
    with pytest.raises(ui.ParameterError, match="region"):
        ui.he_normal((4, 4), seed=0, rng="portable", region=region)


def test_portable_needs_an_int_seed() -> None:
    with pytest.raises(ui.SeedError, match="rng='portable'"):
        ui.he_normal((4, 4), seed=np.random.default_rng(0), rng="portable")
    with pytest.raises(ui.ParameterError, match="'native', 'portable'"):
        ui.he_normal((4, 4), rng="portabel")


def test_unseeded_portable_calls_follow_the_global_stream() -> None:
    ui.set_seed(5)
    a = ui.he_normal((8, 8), rng="portable", backend="numpy")
    ui.set_seed(5)
    b = ui.he_normal((8, 8), rng="portable", backend="numpy")
    np.testing.assert_array_equal(a, b)


# --- stream stability ------------------------------------------------------------------------

GOLDEN = {
    # (initializer, shape, seed, dtype): the first 4 elements' float32 (float64) bits, in hex
    ("he_uniform", (256, 128), 0, "float32"): ["bda8d9f5", "be04d5be", "3c092950", "bdd11680"],
    ("glorot_uniform", (3, 3, 64, 128), 1, "float32"): ["bc03de40", "bc43a21c", "bc77673c", "bd0bbe44"],
    ("random_uniform", (16,), 123, "float64"): ["3f8c46e28dfb25d0", "bf81c9b0134732a0", "bf953a5830903440", "bf94394f61e6b5cd"],
    ("he_normal", (256, 128), 0, "float32"): ["3c2c4b03", "3ca78650", "bc09638f", "bc85e8d8"],
    ("random_normal", (1000,), 42, "float32"): ["3d3f8603", "bbc6a723", "3ca77f3f", "bcf205a7"],
    ("truncated_normal", (64, 64), 7, "float32"): ["bdb1ecb1", "3dbf130b", "3a508ded", "bc81a283"],
    ("lecun_normal", (10,), 2**40 + 3, "float32"): ["be4e0d8d", "be20e762", "3e6d333d", "3c841940"],
    ("glorot_normal", (32, 32), 9, "float64"): ["bfa631faa8e7cbbb", "3fbea92ca1d0e532", "3fb0b629907b9ddc", "bfb85a19b025c417"],
}
NORMAL_GOLDEN_ULPS = 4
"""Normal-family values go through ``log``, whose last bit may differ between CPUs' SIMD paths."""


def _bits(values: np.ndarray) -> list[str]:
    flat = np.ravel(values)[:4]
    width = np.uint32 if flat.dtype == np.float32 else np.uint64
    return [f"{int(v):0{flat.dtype.itemsize * 2}x}" for v in flat.view(width)]


@pytest.mark.parametrize("case", list(GOLDEN), ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}")
def test_golden_values(case: tuple[str, tuple[int, ...], int, str]) -> None:
    """The portable stream is a public contract: a change here is a breaking change (CHANGELOG.md)."""
    name, shape, seed, dtype = case
    values = ui.CATALOGUE[name]()(shape, seed=seed, dtype=dtype, rng="portable", backend="numpy")
    if "uniform" in name:
        assert _bits(values) == GOLDEN[case]
    else:
        pinned = np.array([int(h, 16) for h in GOLDEN[case]], dtype=np.int64 if dtype == "float32" else np.uint64)
        got = np.array([int(h, 16) for h in _bits(values)], dtype=pinned.dtype)
        ulps = np.abs(got.astype(np.float64) - pinned.astype(np.float64))  # same sign: bit patterns are ordered
        assert ulps.max() <= NORMAL_GOLDEN_ULPS, f"{_bits(values)} vs {GOLDEN[case]}"


def test_a_rank_0_float64_draw_wraps_its_words_without_a_warning() -> None:
    """NumPy warns on wrap-around of 0-d arithmetic (not of arrays): a rank-0 draw hashes its counter as a 1-element array."""
    value = ui.random_uniform((), dtype="float64", seed=7, rng="portable")  # warnings are errors in this suite
    assert np.shape(value) == ()
    torch = pytest.importorskip("torch")  # torch's words never warned: the same counter gives the same bits
    assert float(value) == float(ui.random_uniform((), backend="torch", dtype="float64", seed=7, rng="portable"))
    assert torch.is_tensor(ui.he_normal((), backend="torch", dtype="float64", seed=7, rng="portable"))


@pytest.mark.parametrize("target_id", ["numpy", "torch:cpu"])
def test_a_narrow_interval_across_0_keeps_the_resolution_of_its_values(target_id: str) -> None:
    """``Φ(low) + t·kept`` next to ½ steps by 2⁻²⁵ in float32, so ``[−1e-3, 1e-3]`` std took 26,773 distinct values in
    2²⁰ (rng="native": 1.04M), and a float16 draw missed a fifth of its grid (helper 151); it is now formed as
    ``q = p − ½`` around 0, as the compiled kernels of JAX and TensorFlow already kept it."""
    x = portable(target_id, ui.TruncatedNormal(stddev=1.0, lower=-1e-3, upper=1e-3), (1 << 18,), seed=5)
    assert len(np.unique(x)) > 0.95 * x.size
    assert np.abs(x).max() <= 1e-3


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("low", "high"), [(0.0, math.inf), (1.5, math.inf), (2.0, 40.0), (-math.inf, -0.5)])
def test_a_one_sided_interval_is_finite_at_the_smallest_probability(dtype: str, low: float, high: float) -> None:
    """On the upper half ``1 − t`` rounds to 1 for the smallest ``t`` (2⁻²⁵ in float32), and with an unbounded side
    ``log(1 − s·m/Q(low))`` was ``log 0``: a NaN once in 2²⁴ values on every backend (helper 155)."""
    from unit_init.portable.stream import _one_sided

    smallest = 2.0**-25 if dtype == "float32" else 2.0**-54
    t = np.array([smallest, smallest, 0.5 - smallest], dtype=dtype)
    lower = np.array([0.0, 1.0, 0.0], dtype=dtype)
    with np.errstate(all="raise"):
        z = _one_sided(np, lower, t, low, high)
    assert np.isfinite(z).all()  # within the interval but by an ulp, which the draw's clip to its grid bounds takes


def test_a_portable_half_normal_has_no_nan() -> None:
    """Seed 6 put the smallest probability on the upper half three times in 2²² values."""
    w = portable("numpy", ui.TruncatedNormal(stddev=1.0, lower=0.0, upper=math.inf), (1 << 22,), seed=6)
    assert np.isfinite(w).all()
    assert w.max() == pytest.approx(5.5426, abs=1e-4)  # Φ⁻¹(1 − 2⁻²⁶): the upper half's smallest probability


EXTREME_WORDS = [0, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0x00000100, 0x800000FF]
"""Threefry words at the ends of each probability's range, on either side of the mass (the top bit picks the side)."""


@pytest.mark.parametrize("word", EXTREME_WORDS, ids=hex)
def test_every_portable_law_is_finite_at_the_extreme_words(monkeypatch: pytest.MonkeyPatch, word: int) -> None:
    """The stream's words replaced by one value at an end of the range, for every law of the catalogue and truncations
    of every kind: the one-sided NaN (``log 0`` at the smallest probability, 1 value in 2²⁴) shows at ``0x800000ff``."""
    import unit_init.portable.stream as stream

    real = stream.threefry2x32

    def constant(words: Any, key: Any, counter: Any) -> tuple[Any, Any]:
        x0, x1 = real(words, key, counter)
        return (x0 & 0) | word, (x1 & 0) | word

    monkeypatch.setattr(stream, "threefry2x32", constant)
    specs = [cls() for name, cls in ui.CATALOGUE.items() if name != "orthogonal"] + [
        ui.TruncatedNormal(lower=0.0, upper=math.inf), ui.TruncatedNormal(lower=-math.inf, upper=0.0),
        ui.TruncatedNormal(lower=8.0, upper=9.0), ui.TruncatedNormal(lower=1.5, upper=40.0),
        ui.TruncatedNormal(lower=-1.0, upper=0.5), ui.TruncatedNormal(lower=-1e-3, upper=1e-3),
        ui.TruncatedNormal(lower=-100.0, upper=100.0), ui.TruncatedNormal(lower=-0.3, upper=2.5),
        ui.BoundedNormal(mean=3.0, stddev=0.5, minval=-1e30, maxval=0.0), ui.RandomNormal(), ui.RandomUniform(-1.0, 1.0),
    ]
    for spec in specs:
        for dtype in ("float32", "float64", "complex64"):
            try:
                values = np.asarray(spec((8, 8), seed=0, rng="portable", dtype=dtype))
            except ui.DTypeError:  # no complex form
                continue
            assert np.isfinite(values).all(), (spec, dtype)
