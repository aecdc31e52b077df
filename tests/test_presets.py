"""Layer presets reproduce each framework's default layer initialization (two-sample KS tests)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.spec import distributions as d

KS_ALPHA = 1e-4


def _ks(mine: Any, theirs: Any) -> None:
    a = np.asarray(mine, dtype=np.float64).ravel()
    b = np.asarray(theirs, dtype=np.float64).ravel()
    stats = pytest.importorskip("scipy.stats")
    result = stats.ks_2samp(a, b)
    assert result.pvalue > KS_ALPHA, result


def test_presets_are_the_documented_specs() -> None:
    n = 400
    uniform = ui.torch_linear.weight.distribution_for((10, n), layout="torch")
    assert isinstance(uniform, d.Uniform)
    assert (uniform.low, uniform.high) == pytest.approx((-1 / math.sqrt(n), 1 / math.sqrt(n)), rel=1e-12)
    haiku = ui.haiku_linear.weight.distribution_for((n, 10))
    assert isinstance(haiku, d.TruncatedGaussian)
    assert (haiku.mean, haiku.low, haiku.high) == (0.0, -2.0, 2.0)
    assert haiku.std == pytest.approx(1 / math.sqrt(n), rel=1e-12)  # uncorrected: σ before truncation
    assert ui.flax_dense.weight == ui.LecunNormal()
    assert ui.keras_dense.weight == ui.GlorotUniform()
    assert set(ui.PRESETS) == {"torch_linear", "torch_conv", "keras_dense", "flax_dense", "haiku_linear"}


def test_preset_call_shapes_seeds_and_bias_fans() -> None:
    weight, bias = ui.torch_conv((32, 4, 3, 3), backend="numpy", seed=0)
    assert weight.shape == (32, 4, 3, 3)
    assert bias.shape == (32,)
    assert np.abs(bias).max() <= 1 / 6  # fan_in from the weight: 4·3·3 = 36
    again = ui.torch_conv((32, 4, 3, 3), seed=0)
    assert np.array_equal(weight, again[0])
    assert np.array_equal(bias, again[1])
    assert not np.array_equal(weight.ravel()[:32], bias)  # weight and bias get independent seeds
    kernel, zeros = ui.keras_dense((8, 3))
    assert kernel.shape == (8, 3)
    assert zeros.tolist() == [0, 0, 0]
    with pytest.raises(ui.ShapeError):
        ui.keras_dense((8,))


def test_preset_config_round_trip() -> None:
    for preset in ui.PRESETS.values():
        config = ui.serialize(preset)
        assert ui.deserialize_preset(config) == preset
        assert ui.LayerPreset.from_config(preset.get_config()) == preset
    with pytest.raises(ui.ParameterError, match=r"takes the inner config .* ui\.deserialize_preset"):
        ui.LayerPreset.from_config(ui.serialize(ui.torch_linear))


def test_torch_linear_and_conv_match_torch_defaults() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 4096)
    weight, bias = ui.torch_linear(tuple(linear.weight.shape), backend="torch", seed=1)
    _ks(weight, linear.weight.detach())
    _ks(bias, linear.bias.detach())
    conv = torch.nn.Conv2d(8, 2048, 3, groups=2)
    weight, bias = ui.torch_conv(tuple(conv.weight.shape), backend="torch", seed=2)
    _ks(weight, conv.weight.detach())
    _ks(bias, conv.bias.detach())


@pytest.mark.parametrize(("sizes", "groups"), [((128, 256), 1), ((64, 128), 4)])
def test_torch_conv_as_a_rule_on_conv_transpose_matches_torchs_default(sizes: tuple[int, int], groups: int) -> None:
    """torch's default takes fan_in = out/groups · window on a ConvTranspose weight; the transpose layout's in · window
    gave 2x (or 0.5x) its variance through initialize, while init_ with the preset gave torch's."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    torch.manual_seed(0)
    theirs = torch.nn.ConvTranspose2d(*sizes, 3, groups=groups)
    mine = torch.nn.ConvTranspose2d(*sizes, 3, groups=groups)
    unit_init.torch.initialize(mine, {torch.nn.ConvTranspose2d: ui.torch_conv}, seed=1)
    _ks(mine.weight.detach(), theirs.weight.detach())
    _ks(mine.bias.detach(), theirs.bias.detach())


def _transposed_twin(framework: str, groups: int) -> tuple[Any, Any, Callable[[Any], tuple[np.ndarray, np.ndarray]]]:
    """A 64 -> 96 channel, 3×3 transposed convolution of ``framework``, its type and how to read its weight and bias."""
    if framework == "keras":
        keras = pytest.importorskip("keras")
        model = keras.Sequential([keras.Input((8, 8, 64)), keras.layers.Conv2DTranspose(96, 3, name="up")])
        return model, keras.layers.Conv2DTranspose, lambda m: (np.asarray(m.layers[0].kernel), np.asarray(m.layers[0].bias))
    if framework == "equinox":
        eqx, jax = pytest.importorskip("equinox"), pytest.importorskip("jax")
        layer = eqx.nn.ConvTranspose(2, 64, 96, 3, groups=groups, key=jax.random.key(0))
        return layer, eqx.nn.ConvTranspose, lambda m: (np.asarray(m.weight), np.asarray(m.bias))
    nnx = pytest.importorskip("flax.nnx")

    class Twin(nnx.Module):  # its kernel is named as the torch twin's weight: up.kernel
        def __init__(self) -> None:
            self.up = nnx.ConvTranspose(64, 96, (3, 3), transpose_kernel=framework == "nnx transpose_kernel", rngs=nnx.Rngs(0))

    return Twin(), nnx.ConvTranspose, lambda m: (np.asarray(m.up.kernel[...]), np.asarray(m.up.bias[...]))


@pytest.mark.parametrize(("framework", "groups"), [("nnx", 1), ("nnx transpose_kernel", 1), ("keras", 1), ("equinox", 1), ("equinox", 4)])
def test_torch_conv_on_another_frameworks_conv_transpose_takes_torchs_fans(framework: str, groups: int) -> None:
    """A torch preset reproduces torch's default on any framework's layer: a transposed convolution's bound is
    1/√(out/groups · window), as torch reads its own weight. Flax, Keras and Equinox twins took their layout's
    1/√(in · window) (1.5× torch's variance for 64 -> 96 channels); with ``rng="portable"`` the nnx twin now has torch's values."""
    import unit_init.jax
    import unit_init.keras

    model, kind, read = _transposed_twin(framework, groups)
    adapter = unit_init.keras if framework == "keras" else unit_init.jax
    initialized, _ = adapter.initialize(model, {kind: ui.torch_conv}, seed=0, rng="portable")
    weight, bias = read(initialized)
    bound = 1 / math.sqrt(96 // groups * 9)
    assert 0.995 * bound < np.abs(weight).max() <= bound  # 13,824+ values: the largest short of 0.995·bound with p < e⁻⁶⁹
    assert np.abs(bias).max() <= bound  # 96 values of the old U(±1/√(64·9)) pass the bound 1 - 0.82^96 of the time
    if framework == "nnx":
        torch = pytest.importorskip("torch")
        import unit_init.torch

        class Twin(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.up = torch.nn.ConvTranspose2d(64, 96, 3)

        ours, _ = unit_init.torch.initialize(Twin(), {torch.nn.ConvTranspose2d: ui.torch_conv}, seed=0, rng="portable")
        np.testing.assert_array_equal(ours.up.weight.detach().numpy().transpose(2, 3, 0, 1), weight)  # (in, out, kh, kw) -> (kh, kw, in, out)
        np.testing.assert_array_equal(ours.up.bias.detach().numpy(), bias)


def test_torch_presets_give_a_zero_bias_beside_a_weight_without_inputs() -> None:
    """torch.nn.Linear(0, 5) has bias bound 1/√fan_in if fan_in > 0 else 0: zeros (the floored fan gave U(±1))."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    for preset, weight_shape in [(ui.torch_linear, (5, 0)), (ui.torch_conv, (3, 0, 3, 3))]:
        weight, bias = preset(weight_shape, seed=0)
        assert weight.shape == weight_shape
        np.testing.assert_array_equal(bias, np.zeros(weight_shape[0], np.float32))
    with pytest.warns(UserWarning, match="zero-element"):
        model = torch.nn.Sequential(torch.nn.Linear(0, 5), torch.nn.Conv2d(0, 3, 3), torch.nn.Linear(4, 2))
    torch.nn.init.ones_(model[2].bias)
    unit_init.torch.initialize(model, {torch.nn.Linear: ui.torch_linear, torch.nn.Conv2d: ui.torch_conv}, seed=0)
    assert model[0].bias.abs().max() == 0
    assert model[1].bias.abs().max() == 0
    assert 0 < model[2].bias.abs().max() <= 0.5  # a weight with inputs: U(±1/√4)
    assert ui.keras_dense.bias_for(ui.compute_fans((0, 5))) == ui.Zeros()
    constant = ui.LayerPreset(name="mine", weight=ui.HeNormal(), bias=ui.Constant(0.1))  # not fan-scaled: kept
    np.testing.assert_array_equal(constant((0, 5), seed=0)[1], np.full(5, 0.1, np.float32))
    assert ui.LayerPreset(name="mine", weight=ui.HeNormal(), bias=ui.Ones(), bias_fan_from_weight=False).bias_for(ui.compute_fans((0, 5))) == ui.Ones()
    for not_fans in ("x", (3.0, 4.0), None):  # a bare AttributeError ('str' object has no attribute 'fan_in') before
        with pytest.raises(ui.ParameterError, match=r"weight_fans=.* is not a Fans"):
            ui.torch_linear.bias_for(not_fans)


def test_keras_dense_matches_keras_default() -> None:
    keras = pytest.importorskip("keras")
    layer = keras.layers.Dense(512)
    layer.build((None, 256))
    kernel, bias = ui.keras_dense((256, 512), seed=3)
    _ks(kernel, keras.ops.convert_to_numpy(layer.kernel))
    assert not np.any(bias)
    assert not np.any(keras.ops.convert_to_numpy(layer.bias))


def test_flax_dense_matches_flax_default() -> None:
    jax = pytest.importorskip("jax")
    linen = pytest.importorskip("flax.linen")
    nnx = pytest.importorskip("flax.nnx")
    params = linen.Dense(512).init(jax.random.key(0), np.ones((1, 256), np.float32))["params"]
    kernel, bias = ui.flax_dense((256, 512), backend="jax", seed=4)
    _ks(kernel, params["kernel"])
    assert not np.any(np.asarray(bias))
    assert not np.any(np.asarray(params["bias"]))
    _ks(kernel, nnx.Linear(256, 512, rngs=nnx.Rngs(1)).kernel[...])


def test_haiku_linear_matches_haikus_sampler() -> None:
    jax = pytest.importorskip("jax")
    n = 256
    kernel, _ = ui.haiku_linear((n, 512), backend="jax", seed=5)
    # what hk.Linear does: TruncatedNormal(stddev=1/√n) = stddev · jax.random.truncated_normal(-2, 2)
    _ks(kernel, jax.random.truncated_normal(jax.random.key(0), -2.0, 2.0, (n, 512)) / math.sqrt(n))


def test_haiku_linear_matches_haiku_linear() -> None:
    jax = pytest.importorskip("jax")
    hk = pytest.importorskip("haiku")
    n = 256
    kernel, _ = ui.haiku_linear((n, 512), backend="jax", seed=5)
    params = hk.transform(lambda x: hk.Linear(512)(x)).init(jax.random.key(1), np.ones((1, n), np.float32))
    _ks(kernel, params["linear"]["w"])


def test_a_numpy_integer_seed_splits_as_its_int() -> None:
    """``np.int64(3)`` was not split: weight and bias shared one seed (the bias copied the weight's first values)."""
    weight, bias = ui.torch_linear((8, 4), seed=np.int64(3))
    assert not np.array_equal(bias, np.asarray(weight).ravel()[:8])
    for drawn, expected in zip((weight, bias), ui.torch_linear((8, 4), seed=3), strict=True):
        np.testing.assert_array_equal(drawn, expected)
    with pytest.raises(ui.SeedError, match="is not an int"):
        ui.torch_linear((8, 4), seed=np.timedelta64(3))
