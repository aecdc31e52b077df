"""The peers' named initializers beyond the Keras list, against the peers themselves.

* ``mode="fan_geo_avg"``: variance equal (Brown–Forsythe, 2¹⁶ elements) to
  ``jax.nn.initializers.variance_scaling(scale, "fan_geo_avg", distribution)``
  on every backend; accepted by configs, the adapters and the CLI grammar.
* ``UniformScaling``: support and law (two-sample KS) equal to
  ``hk.initializers.UniformScaling`` drawn by Haiku.
* ``STFT``: the values of ``keras.initializers.STFT`` for several shapes,
  sides, windows, scalings and periodicities.
* The four are registered: ``get`` by name, serialization round trips,
  function forms.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import scipy.stats

import unit_init as ui
from unit_init import functions
from unit_init.errors import DTypeError, ParameterError, ShapeError
from unit_init.spec.peers import PEERS, STFT, ConvolutionOrthogonal, DeltaOrthogonal, UniformScaling
from unit_init.spec.windows import WINDOWS, window_values

BACKENDS = ("numpy", "torch", "jax", "tensorflow")
ALPHA = 1e-3


def _draw(spec: Any, shape: tuple[int, ...], backend: str, **options: Any) -> np.ndarray:
    pytest.importorskip(backend)
    from unit_init.backends.registry import get_backend

    return np.asarray(get_backend(backend).to_numpy(spec(shape, backend=backend, **options)), dtype=np.float64)


# ---------------------------------------------------------------------------- fan_geo_avg

GEO_SHAPE = (64, 1024)  # fan_in 64, fan_out 1024: geometric mean 256, arithmetic mean 544


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("distribution", ["truncated_normal", "normal", "uniform"])
def test_fan_geo_avg_matches_jax(backend: str, distribution: str) -> None:
    jax = pytest.importorskip("jax")
    scale = 2.0
    theirs = np.asarray(jax.nn.initializers.variance_scaling(scale, "fan_geo_avg", distribution)(jax.random.key(1), GEO_SHAPE), dtype=np.float64)
    ours = _draw(ui.VarianceScaling(scale, "fan_geo_avg", distribution), GEO_SHAPE, backend, seed=2)
    assert scipy.stats.levene(ours.ravel(), theirs.ravel(), center="median").pvalue > ALPHA
    wrong = np.asarray(jax.nn.initializers.variance_scaling(scale, "fan_avg", distribution)(jax.random.key(1), GEO_SHAPE))
    assert scipy.stats.levene(ours.ravel(), wrong.ravel(), center="median").pvalue < 1e-9  # the test's power
    assert ui.VarianceScaling(scale, "fan_geo_avg", distribution).variance(GEO_SHAPE) == pytest.approx(scale / 256)


def test_fan_geo_avg_in_configs_adapters_and_cli(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ui.VarianceScaling(2.0, "fan_geo_avg", "uniform")
    assert ui.deserialize(ui.serialize(spec)) == spec
    assert ui.get({"class_name": "VarianceScaling", "config": {"mode": "fan_geo_avg"}}).variance((4, 16)) == pytest.approx(1 / 8)
    composed = ui.Composed(rule=ui.rules.FanScaled(1.0, "fan_geo_avg"), family="uniform")
    assert ui.deserialize(ui.serialize(composed)) == composed
    with pytest.raises(ParameterError, match="fan_geo_avg"):
        ui.VarianceScaling(mode="fan_geo")
    from unit_init.cli import main

    assert main(["show", "variance_scaling:mode=fan_geo_avg", "4", "16"]) == 0
    assert "0.125" in capsys.readouterr().out
    jax = pytest.importorskip("jax")
    values = np.asarray(ui.jax.initializer(spec)(jax.random.key(0), GEO_SHAPE), dtype=np.float64)
    assert np.var(values) == pytest.approx(2 / 256, rel=0.02)


def test_keras_adapter_keeps_fan_geo_avg_out_of_keras_variance_scaling() -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    geo = unit_init.keras.initializer(ui.VarianceScaling(2.0, "fan_geo_avg", "uniform"), seed=0)
    assert not isinstance(geo, keras.initializers.VarianceScaling)  # Keras's own code knows no "fan_geo_avg"
    assert isinstance(unit_init.keras.initializer(ui.VarianceScaling(2.0, "fan_avg")), keras.initializers.VarianceScaling)
    values = keras.ops.convert_to_numpy(geo(GEO_SHAPE)).astype(np.float64)
    assert np.var(values) == pytest.approx(2 / 256, rel=0.02)
    assert type(geo).from_config(geo.get_config()).spec == geo.spec


# ---------------------------------------------------------------------------- UniformScaling


def _haiku_uniform_scaling(scale: float, shape: tuple[int, ...], seed: int) -> np.ndarray:
    hk = pytest.importorskip("haiku")
    jax = pytest.importorskip("jax")
    draw = hk.transform(lambda: hk.initializers.UniformScaling(scale)(shape, jax.numpy.float32))
    return np.asarray(draw.apply({}, jax.random.key(seed)), dtype=np.float64)


@pytest.mark.parametrize("backend", BACKENDS)
def test_uniform_scaling_matches_haiku(backend: str) -> None:
    scale, shape = 1.7, (3, 3, 32, 256)  # Haiku's fan: prod(shape[:-1]) = 288, the "keras" layout's fan_in
    theirs = _haiku_uniform_scaling(scale, shape, 0)
    ours = _draw(UniformScaling(scale=scale), shape, backend, seed=1)
    limit = scale * math.sqrt(3 / 288)
    assert -limit <= ours.min() < -0.999 * limit
    assert 0.999 * limit < ours.max() < limit
    assert np.abs(theirs).max() == pytest.approx(limit, rel=1e-3)
    assert scipy.stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > ALPHA
    assert scipy.stats.ks_2samp(ours.ravel(), 1.05 * theirs.ravel()).pvalue < 1e-6  # the test's power


def test_uniform_scaling_is_variance_scaling_with_scale_squared() -> None:
    for layout in ("keras", "torch"):
        assert UniformScaling(scale=2.0).distribution_for((5, 7, 3), layout=layout) == ui.VarianceScaling(4.0, "fan_in", "uniform").distribution_for((5, 7, 3), layout=layout)
    assert UniformScaling().distribution_for((10,), fan_in=1).high == pytest.approx(math.sqrt(3))  # Haiku's rank-1 fan
    with pytest.raises(ParameterError, match="scale"):
        UniformScaling(scale=0.0)


# ---------------------------------------------------------------------------- STFT

STFT_CASES = [
    ((16, 1, 9), {}),
    ((16, 1, 9), {"side": "imag"}),
    ((25, 1, 13), {"window": "hamming", "scaling": "spectrum", "periodic": True}),
    ((32, 1, 17), {"window": "blackman", "scaling": None}),
    ((31, 1, 5), {"window": "bartlett", "periodic": True, "side": "imag"}),
    ((12, 1, 40), {"window": "boxcar"}),
    ((20, 1, 11), {"window": "nuttall", "periodic": True}),
    ((20, 1, 11), {"window": "blackmanharris"}),
    ((64, 1, 33), {"window": None, "side": "imag"}),
    ((1, 1, 2), {}),
    ((256, 1, 257), {"periodic": True}),
    ((33, 1, 9), {"window": "tukey", "side": "imag"}),
    ((32, 1, 9), {"window": "taylor", "periodic": True, "scaling": "spectrum"}),
    ((21, 1, 6), {"window": "flattop"}),
    ((20, 1, 6), {"window": "lanczos", "periodic": True}),
    ((19, 1, 5), {"window": "parzen", "scaling": None}),
    ((18, 1, 5), {"window": "bohman_periodic"}),
    ((17, 1, 5), {"window": "tri", "side": "imag"}),
    ((8, 1, 5), {"window": [0.5, 1.0, 2.0, 4.0, -1.0, 0.0, 3.0, 1.5], "scaling": "spectrum"}),
]


def _keras_stft(shape: tuple[int, ...], dtype: str, **options: Any) -> np.ndarray:
    keras = pytest.importorskip("keras")
    pytest.importorskip("scipy.signal")
    return np.asarray(keras.ops.convert_to_numpy(keras.initializers.STFT(**options)(shape, dtype=dtype)), dtype=np.float64)


@pytest.mark.parametrize(("shape", "options"), STFT_CASES)
def test_stft_equals_keras(shape: tuple[int, ...], options: dict[str, Any]) -> None:
    exact = _keras_stft(shape, "float64", **options)
    ours = _draw(STFT(**options), shape, "numpy", dtype="float64")
    np.testing.assert_allclose(ours, exact, rtol=0, atol=1e-12)
    keras_float32 = _keras_stft(shape, "float32", **options)  # computed in float32: its phase error grows with t·f
    np.testing.assert_allclose(_draw(STFT(**options), shape, "numpy"), keras_float32, rtol=0, atol=4e-7 * shape[0] * shape[2] ** 0.5 + 1e-6)
    assert np.array_equal(_draw(STFT(**options), shape, "numpy"), ours.astype(np.float32))  # rounded once from the float64 values


@pytest.mark.parametrize("backend", BACKENDS)
def test_stft_in_a_narrow_dtype_is_its_float64_basis_rounded_once(backend: str) -> None:
    """The float64 basis went through float32 before its float16 cast: 100 of 1,028,160 values (256 taps, 65 bands,
    …) were a float16 step off the nearest one (0.0014462 became 0.001446 where 0.001447 is nearer)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    for taps, bands in ((256, 65), (512, 257), (100, 33)):
        exact = ui.stft((taps, 1, bands), dtype="float64", window="hann")
        for dtype, kind in (("float16", np.float16), ("bfloat16", ml_dtypes.bfloat16)):
            drawn = _draw(STFT(window="hann"), (taps, 1, bands), backend, dtype=dtype)
            assert np.array_equal(drawn.astype(np.float64), exact.astype(kind).astype(np.float64)), (taps, bands, dtype)


@pytest.mark.parametrize("backend", BACKENDS[1:])
def test_stft_on_every_backend_and_layout(backend: str) -> None:
    spec = STFT(window="hamming", side="imag")
    expected = _draw(spec, (24, 3, 7), "numpy")
    assert np.array_equal(_draw(spec, (24, 3, 7), backend), expected)
    assert np.array_equal(_draw(spec, (7, 3, 24), backend, layout="torch"), np.transpose(expected, (2, 1, 0)))
    assert np.array_equal(expected[:, 0], expected[:, 2])  # every input channel holds the same basis


def test_stft_windows_are_scipys() -> None:
    signal = pytest.importorskip("scipy.signal")
    for name in (*WINDOWS, "han", "tri", "poisson", "sinc", "taylorwin", "rect"):
        for length in (1, 2, 3, 4, 7, 16, 31):
            for periodic in (False, True):
                np.testing.assert_allclose(window_values(name, length, periodic=periodic), signal.get_window(name, length, periodic), atol=1e-15)
    for suffix in ("_symmetric", "_periodic"):  # the form the name chooses wins over the flag
        np.testing.assert_allclose(window_values(f"tukey{suffix}", 9, periodic=suffix == "_symmetric"), signal.get_window(f"tukey{suffix}", 9), atol=1e-15)


def test_stft_takes_window_values_as_keras_does() -> None:
    given = STFT(window=np.array([1.0, 2.0, 3.0, 4.0]), scaling=None)
    assert given.window == (1.0, 2.0, 3.0, 4.0)
    assert given == STFT(window=[1, 2, 3, 4], scaling=None)
    assert ui.deserialize(ui.serialize(given)) == given
    assert np.array_equal(_draw(given, (4, 1, 2), "numpy", dtype="float64")[:, 0, 0], [1.0, 2.0, 3.0, 4.0])  # f = 0: the window itself
    with pytest.raises(ShapeError, match=r"4 values.*5 taps"):
        given((5, 1, 2))
    with pytest.raises(ParameterError, match="needs parameters"):
        STFT(window="kaiser")


def test_stft_errors_and_keras_configs() -> None:
    with pytest.raises(ParameterError, match="'hann'"):
        STFT(window="hanning")
    with pytest.raises(ParameterError, match="side"):
        STFT(side="imaginary")  # type: ignore[arg-type]
    with pytest.raises(ShapeError, match="2 output channels"):
        STFT()((8, 1, 1))
    with pytest.raises(ShapeError, match="rank 3"):
        STFT()((8, 1, 1, 5))
    with pytest.raises(ParameterError, match="all-zero window"):
        STFT(window="bartlett")((2, 1, 3))
    with pytest.raises(DTypeError, match="STFT kernel"):
        STFT()((8, 1, 5), dtype="int32")
    with pytest.raises(ParameterError, match="share no variance"):
        STFT().variance((8, 1, 5))
    keras = pytest.importorskip("keras")
    config = keras.initializers.serialize(keras.initializers.STFT(side="imag", window="hamming", scaling="spectrum", periodic=True))
    assert ui.deserialize(config) == STFT(side="imag", window="hamming", scaling="spectrum", periodic=True)


def test_stft_refuses_more_taps_than_it_computes_before_any_work() -> None:
    """2**40 taps hung computing the window per tap (an empty (2**26, 0, 2) kernel took seconds and 2 GB); refused at once."""
    with pytest.raises(ShapeError, match="at most 1048576 taps"):
        STFT()((2**40, 1, 2))
    with pytest.raises(ShapeError, match="at most 1048576 taps"):
        ui.stft((2**26, 0, 2))
    assert ui.stft((16, 0, 2)).shape == (16, 0, 2)


@pytest.mark.parametrize(("window", "scaling"), [([1e200] * 3, "density"), ([1e-170] * 3, "density"), ([1e300] * 4, "spectrum")])
def test_stft_scales_huge_and_tiny_windows_as_their_unit_shape(window: list[float], scaling: str) -> None:
    """The scale is summed over the window divided by its largest value: 1e200 gave an infinite divisor (all zeros),
    1e-170 a zero one (refused as an all-zero window)."""
    unit = [1.0] * len(window)
    np.testing.assert_allclose(
        STFT(window=window, scaling=scaling)((len(window), 1, 4), dtype="float64"),  # type: ignore[arg-type]
        STFT(window=unit, scaling=scaling)((len(window), 1, 4), dtype="float64"),  # type: ignore[arg-type]
        rtol=1e-12,
    )
    with pytest.raises(ParameterError, match="overflows float64"):
        STFT(window=[1.7e308] * 2, scaling="spectrum")((2, 1, 4))


# ---------------------------------------------------------------------------- registration


@pytest.mark.parametrize("name", list(PEERS))
def test_registered_by_name_and_round_trips(name: str) -> None:
    cls = PEERS[name]
    assert type(ui.get(name)) is cls
    assert type(ui.get(cls.__name__)) is cls
    spec = {"delta_orthogonal": DeltaOrthogonal(gain=0.5, seed=3), "convolution_orthogonal": ConvolutionOrthogonal(gain=2.0),
            "uniform_scaling": UniformScaling(scale=0.3), "stft": STFT(side="imag", window=None, scaling=None)}[name]
    assert ui.deserialize(ui.serialize(spec)) == spec
    shape = (3, 4, 6)
    assert np.array_equal(getattr(functions, name)(shape, seed=1, **{k: v for k, v in spec.get_config().items() if k != "seed"}), spec(shape, seed=1))


def test_orthogonal_kernels_have_no_per_element_variance() -> None:
    for spec in (DeltaOrthogonal(), ConvolutionOrthogonal()):
        with pytest.raises(ParameterError, match="not identically distributed"):
            spec.variance((3, 4, 6))


def test_stft_on_torchs_meta_device_computes_no_basis() -> None:
    """A meta draw holds no values: the float64 basis (here 2 GiB on the host) is not computed for it."""
    torch = pytest.importorskip("torch")
    import tracemalloc

    ui.stft((16, 1, 16), backend="torch", device="meta")  # caches and imports first
    tracemalloc.start()
    try:
        kernel = ui.stft((2**14, 1, 2**14), backend="torch", device="meta")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tuple(kernel.shape), kernel.device.type, kernel.dtype) == ((2**14, 1, 2**14), "meta", torch.float32)
    assert peak < 16 * 2**20, peak


@pytest.mark.parametrize("window", ["hann", "hamming", None])
def test_stft_of_zero_taps_is_an_empty_kernel(window: str | None) -> None:
    """A zero-size shape gives an empty array: zero taps were an all-zero window with "nothing to scale by" (campaign)."""
    assert ui.stft((0, 1, 3), window=window).shape == (0, 1, 3)
    assert ui.stft((4, 0, 3), window=window).shape == (4, 0, 3)
    with pytest.raises(ui.ShapeError, match=r"2 values, but shape=.* has 0 taps"):
        ui.stft((0, 1, 3), window=(1.0, 2.0))
