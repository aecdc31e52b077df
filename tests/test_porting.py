"""The porting recipe: a torch model and its Flax (linen, nnx) and Keras twins, given the same rules, seed and
``rng="portable"``, start from the same weights once layouts are mapped — every layer, uniform and normal laws."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.adapters.rules import per_gate_orthogonal, unit_forget_bias

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")
pytest.importorskip("flax")

import flax.linen as linen  # noqa: E402
from flax import nnx  # noqa: E402

import unit_init.jax  # noqa: E402
import unit_init.keras  # noqa: E402
import unit_init.torch  # noqa: E402

LAYERS = ("conv1", "conv2", "fc1", "fc2")
UNIFORM = {"*.kernel": ui.HeUniform(), "*.bias": ui.VarianceScaling(1 / 3, "fan_in", "uniform")}  # bias U(±1/√fan_in of its kernel)
NORMAL = {"conv*.kernel": ui.HeNormal(), "*.kernel": ui.LecunNormal(), "*.bias": ui.RandomNormal(stddev=0.1)}
NORMAL_BOUND = 1e-6  # docs/reproducibility.md: |Δ| / max(|x|, σ) across backends


class TorchNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.conv2 = torch.nn.Conv2d(3, 8, 3), torch.nn.Conv2d(8, 16, 3)
        self.fc1, self.fc2 = torch.nn.Linear(64, 32), torch.nn.Linear(32, 10)


class LinenNet(linen.Module):
    @linen.compact
    def __call__(self, x: Any) -> Any:
        x = linen.Conv(16, (3, 3), padding="VALID", name="conv2")(linen.Conv(8, (3, 3), padding="VALID", name="conv1")(x))
        return linen.Dense(10, name="fc2")(linen.Dense(32, name="fc1")(x.reshape((x.shape[0], -1))))


class NnxNet(nnx.Module):
    def __init__(self, rngs: nnx.Rngs) -> None:
        self.conv1, self.conv2 = nnx.Conv(3, 8, (3, 3), rngs=rngs), nnx.Conv(8, 16, (3, 3), rngs=rngs)
        self.fc1, self.fc2 = nnx.Linear(64, 32, rngs=rngs), nnx.Linear(32, 10, rngs=rngs)


def _keras_net() -> Any:
    layers = keras.layers
    return keras.Sequential(
        [keras.Input((6, 6, 3)), layers.Conv2D(8, 3, name="conv1"), layers.Conv2D(16, 3, name="conv2"), layers.Flatten(), layers.Dense(32, name="fc1"), layers.Dense(10, name="fc2")],
        name="net",
    )


def _torch_weights(rules: Any, rng: str) -> dict[str, np.ndarray]:
    net, _ = unit_init.torch.initialize(TorchNet(), rules, seed=3, rng=rng)
    weights = {}
    for name in LAYERS:
        layer = getattr(net, name)
        w = layer.weight.detach().numpy()
        weights[f"{name}.kernel"] = w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.T  # (out, in, kh, kw) -> (kh, kw, in, out)
        weights[f"{name}.bias"] = layer.bias.detach().numpy()
    return weights


def _twins(rules: Any, rng: str = "portable") -> dict[str, dict[str, np.ndarray]]:
    variables = LinenNet().init(jax.random.key(0), jax.numpy.zeros((1, 6, 6, 3)))
    variables, _ = unit_init.jax.initialize(variables, rules, seed=3, rng=rng)
    net, _ = unit_init.jax.initialize(NnxNet(nnx.Rngs(0)), rules, seed=3, rng=rng)
    model, _ = unit_init.keras.initialize(_keras_net(), rules, seed=3, rng=rng)
    return {
        "torch": _torch_weights(rules, rng),
        "linen": {f"{n}.{leaf}": np.asarray(variables["params"][n][leaf]) for n in LAYERS for leaf in ("kernel", "bias")},
        "nnx": {f"{n}.{leaf}": np.asarray(getattr(getattr(net, n), leaf)[...]) for n in LAYERS for leaf in ("kernel", "bias")},
        "keras": {f"{n}.{leaf}": keras.ops.convert_to_numpy(getattr(model.get_layer(n), leaf)) for n in LAYERS for leaf in ("kernel", "bias")},
    }


def test_uniform_laws_give_bit_identical_weights_in_every_framework() -> None:
    weights = _twins(UNIFORM)
    for framework in ("linen", "nnx", "keras"):
        for name, reference in weights["torch"].items():
            np.testing.assert_array_equal(weights[framework][name], reference, err_msg=f"{framework} {name}")
    assert np.abs(weights["torch"]["fc1.bias"]).max() <= 1 / 8  # the bias has its kernel's fan_in (64)


def test_normal_laws_agree_within_the_portable_bound() -> None:
    weights = _twins(NORMAL)
    for framework in ("linen", "nnx", "keras"):
        for name, reference in weights["torch"].items():
            sigma = float(reference.std())
            error = np.abs(weights[framework][name] - reference) / np.maximum(np.abs(reference), sigma)
            assert error.max() <= NORMAL_BOUND, (framework, name, error.max())


def test_the_native_streams_differ_so_the_portable_one_is_what_ports() -> None:
    weights = _twins(UNIFORM, rng="native")
    assert not np.array_equal(weights["linen"]["fc1.kernel"], weights["torch"]["fc1.kernel"])


def test_an_lstm_ports_from_torch_to_keras_gate_by_gate() -> None:
    """``names=`` renames each framework's LSTM parameters to shared canonical names; torch's second bias has no twin."""
    hidden = 8
    rules = {"*.recurrent_kernel": per_gate_orthogonal, "*.kernel": ui.GlorotUniform(), "*.bias": unit_forget_bias, "bias_hh_*": ui.Zeros()}
    lstm = torch.nn.LSTM(5, hidden)
    torch_names = {"weight_ih_l0": "lstm.kernel", "weight_hh_l0": "lstm.recurrent_kernel", "bias_ih_l0": "lstm.bias"}
    _, report = unit_init.torch.initialize(lstm, rules, seed=1, rng="portable", names=torch_names)
    assert report.unmatched == ()
    model = keras.Sequential([keras.Input((4, 5)), keras.layers.LSTM(hidden, name="lstm")], name="rnn")
    with pytest.warns(UserWarning, match="bias_hh"):
        unit_init.keras.initialize(model, rules, seed=1, rng="portable", names=lambda name: name.replace(".lstm_cell", ""))
    cell = model.get_layer("lstm").cell
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(cell.kernel), lstm.weight_ih_l0.detach().numpy().T)  # gates i, f, g/c, o
    np.testing.assert_allclose(keras.ops.convert_to_numpy(cell.recurrent_kernel), lstm.weight_hh_l0.detach().numpy().T, atol=1e-5)  # QR round-off
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(cell.bias), lstm.bias_ih_l0.detach().numpy() + lstm.bias_hh_l0.detach().numpy())


def test_ui_initialize_hands_a_model_to_its_framework_and_refuses_what_is_no_pytree() -> None:
    """``ui.initialize(torch_module, rules)`` kept every leaf (none is a NumPy array) and only warned; now it is routed."""
    rules = {"*weight": ui.HeNormal(), "*bias": ui.Ones()}
    routed, ours = torch.nn.Linear(64, 32), torch.nn.Linear(64, 32)
    ui.initialize(routed, rules, seed=3)
    unit_init.torch.initialize(ours, rules, seed=3)
    assert torch.equal(routed.weight, ours.weight)
    assert bool((routed.bias == 1).all())
    rules = {"*kernel": ui.HeNormal(), "*bias": ui.Ones()}
    model = nnx.Linear(64, 32, rngs=nnx.Rngs(0))
    ui.initialize(model, rules, seed=3)
    assert float(model.bias[...].min()) == 1.0
    tree = {"dense": {"kernel": jax.numpy.zeros((64, 32)), "bias": jax.numpy.zeros(32)}}
    new, report = ui.initialize(tree, rules, seed=3)
    assert isinstance(new["dense"]["kernel"], jax.Array)
    assert len(report.applied) == 2
    assert new["dense"]["kernel"].std() == pytest.approx((2 / 64) ** 0.5, rel=0.1)
    for bad in (1, None, "x"):
        with pytest.raises(ui.ParameterError, match="is not a pytree of arrays"):
            ui.initialize(bad, rules, seed=3)
    dense = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32)])
    ui.initialize(dense, {"*kernel": ui.HeNormal(), "*bias": ui.Ones()}, seed=3)
    assert float(keras.ops.min(dense.layers[0].bias)) == 1.0
    with pytest.raises(ui.ArgumentError, match="layout='torch' does not apply to a Keras model"):
        ui.initialize(dense, rules, seed=3, layout="torch")


@pytest.mark.parametrize("layer", ["DepthwiseConv2D", "SeparableConv2D"])
def test_a_keras_depthwise_kernel_is_the_grouped_convolution_it_is(layer: str) -> None:
    """``DepthwiseConv2D``'s kernel ``(3, 3, C, 1)`` is torch's ``Conv2d(C, C, 3, groups=C)`` (``(3, 3, 1, C)`` in the
    canonical layout): it was read with fan_in = C·9 (a HeNormal std √C too small) and drawn on another stream, so it
    never equalled its twin; with a depth multiplier m > 1 the fans are still the grouped convolution's."""
    channels = 16
    twin = torch.nn.Conv2d(channels, channels, 3, groups=channels)
    unit_init.torch.initialize(torch.nn.ModuleDict({"dw": twin}), UNIFORM, seed=3, rng="portable")
    keras_layer = keras.layers.DepthwiseConv2D(3, name="dw") if layer == "DepthwiseConv2D" else keras.layers.SeparableConv2D(8, 3, name="dw")
    model = keras.Sequential([keras.Input((8, 8, channels)), keras_layer], name="net")
    names = None if layer == "DepthwiseConv2D" else {"dw.depthwise_kernel": "dw.kernel", "dw.pointwise_kernel": "pw.kernel", "dw.bias": "pw.bias"}
    unit_init.keras.initialize(model, UNIFORM, seed=3, rng="portable", names=names)
    kernel = keras.ops.convert_to_numpy(keras_layer.kernel if layer == "DepthwiseConv2D" else keras_layer.depthwise_kernel)
    np.testing.assert_array_equal(kernel, twin.weight.detach().numpy().transpose(2, 3, 0, 1))  # (C, 1, 3, 3) -> (3, 3, C, 1)
    if layer == "DepthwiseConv2D":
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras_layer.bias), twin.bias.detach().numpy())
    wide = keras.Sequential([keras.Input((8, 8, 2048)), keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="dw")], name="wide")
    unit_init.keras.initialize(wide, {"*.kernel": ui.VarianceScaling(2.0, "fan_in", "untruncated_normal"), "*.bias": ui.Zeros()}, seed=0)
    drawn = keras.ops.convert_to_numpy(wide.get_layer("dw").kernel)  # (3, 3, 2048, 2): 36,864 values
    assert float(drawn.std()) == pytest.approx((2 / 9) ** 0.5, rel=0.02)  # fan_in 9, not 2048·9
    if layer == "SeparableConv2D":  # its bias takes the fans of the pointwise kernel (1, 1, C, 64), as a torch twin's 1×1 conv bias
        separable = keras.Sequential([keras.Input((8, 8, channels)), keras.layers.SeparableConv2D(64, 3, name="sep")], name="s")
        unit_init.keras.initialize(separable, {"*.bias": ui.VarianceScaling(1 / 3, "fan_in", "uniform"), "*": ui.HeUniform()}, seed=0)
        bias = np.abs(keras.ops.convert_to_numpy(separable.get_layer("sep").bias))
        assert 1.5 / 64**0.5 < bias.max() <= 1 / channels**0.5  # U(±1/√16); it was U(±1/√64), from its own length


def test_a_functional_keras_model_named_like_one_of_its_layers_keeps_that_layers_name() -> None:
    """A functional model's variable paths carry no model prefix (``fc/kernel``); the walker dropped a first part equal to
    the model's name, so model ``"fc"`` named its layer ``fc``'s kernel ``kernel`` and the rule ``"fc.*"`` missed it."""
    x = keras.Input((8,))
    model = keras.Model(x, keras.layers.Dense(4, name="out")(keras.layers.Dense(8, name="fc")(x)), name="fc")
    seen: list[str] = []
    _, report = unit_init.keras.initialize(model, {"fc.*": ui.HeUniform(), "*": ui.Zeros()}, seed=0, names=lambda name: seen.append(name) or name)
    assert seen == ["fc.kernel", "fc.bias", "out.kernel", "out.bias"]
    assert report.applied["fc/kernel"] == 0
    x = keras.Input((4,))  # a composite layer named like the model: paths "attn/query/kernel", no model prefix
    attention = keras.Model(x, keras.layers.MultiHeadAttention(2, 4, name="attn")(x[:, None, :], x[:, None, :]), name="attn")
    seen.clear()
    unit_init.keras.initialize(attention, {"*": ui.Zeros()}, seed=0, names=lambda name: seen.append(name) or name)
    assert seen[:2] == ["attn.query.kernel", "attn.query.bias"]
    sequential = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="net")], name="net")  # "net/net/kernel"
    seen.clear()
    unit_init.keras.initialize(sequential, {"*": ui.Zeros()}, seed=0, names=lambda name: seen.append(name) or name)
    assert seen == ["net.kernel", "net.bias"]


def test_a_keras_2_model_is_named_as_one() -> None:
    """Hugging Face's TF models are tf_keras (Keras 2) models: refused as "must be a built Keras model (call it once)",
    though built and called. A stand-in class: tf_keras is no test dependency."""
    keras_2_model = type("Model", (), {"__module__": "tf_keras.src.engine.training", "built": True})
    hugging_face = type("TFGPT2Model", (keras_2_model,), {"__module__": "transformers.models.gpt2.modeling_tf_gpt2"})
    with pytest.raises(ui.ParameterError, match=r"model=TFGPT2Model is a Keras 2 model .* initialize its weights as a pytree"):
        unit_init.keras.initialize(hugging_face(), {"*": ui.Zeros()})


def test_raw_parameters_are_drawn_as_they_are_in_both_twins() -> None:
    """A ViT's ``cls_token`` ``(1, 1, D)`` and position table ``(1, N, D)`` are raw parameters of the same shape in
    torch and Flax: the torch walker read every rank ≥ 2 parameter as ``(out, in, *window)``, so even a RandomNormal
    drew other values (and LecunUniform took fan_in = D where Flax took 1)."""

    class TorchEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cls_token, self.position = torch.nn.Parameter(torch.zeros(1, 1, 64)), torch.nn.Parameter(torch.zeros(1, 17, 64))
            self.weight_like = torch.nn.Parameter(torch.zeros(8, 4))  # a custom layer's weight: still torch's (out, in)

    class NnxEmbeddings(nnx.Module):
        def __init__(self) -> None:
            self.cls_token, self.position = nnx.Param(jax.numpy.zeros((1, 1, 64))), nnx.Param(jax.numpy.zeros((1, 17, 64)))

    rules = {"*": ui.RandomUniform(-0.05, 0.05)}  # uniform laws port bit for bit
    ours, _ = unit_init.torch.initialize(torch.nn.ModuleDict({"embeddings": TorchEmbeddings()}), rules, seed=0, rng="portable")
    twin = nnx.Dict(embeddings=NnxEmbeddings()) if hasattr(nnx, "Dict") else None
    if twin is None:
        pytest.skip("this Flax has no nnx.Dict")
    unit_init.jax.initialize(twin, rules, seed=0, rng="portable")
    for name in ("cls_token", "position"):
        np.testing.assert_array_equal(getattr(ours["embeddings"], name).detach().numpy(), np.asarray(getattr(twin["embeddings"], name)[...]))
    lecun, _ = unit_init.torch.initialize(torch.nn.ModuleDict({"e": TorchEmbeddings()}), {"*": ui.LecunUniform()}, seed=0)
    assert float(lecun["e"].cls_token.detach().abs().max()) > 1  # fan_in 1: U(±√3), not U(±√(3/64))
    weight = lecun["e"].weight_like.detach().numpy()  # (out 8, in 4): fan_in 4
    assert np.abs(weight).max() <= (3 / 4) ** 0.5
    assert np.abs(weight).max() > (3 / 8) ** 0.5


def test_frozen_layers_are_left_and_reported_skipped_in_keras_and_torch() -> None:
    """A frozen Keras layer (``trainable=False``) was left out without a trace in the report, and its torch twin
    (``requires_grad_(False)``) was drawn: both are left as they are now, and listed as skipped."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, name="fc1"), keras.layers.BatchNormalization(name="bn"),
                              keras.layers.Dense(2, name="fc2")], name="net")
    model.get_layer("fc1").trainable = False
    _, report = unit_init.keras.initialize(model, {"*.kernel": ui.HeUniform(), "*": ui.Zeros()}, seed=0)
    assert report.skipped == ("net/fc1/kernel", "net/fc1/bias")  # the moving statistics are state, not parameters
    twin = torch.nn.ModuleDict({"fc1": torch.nn.Linear(4, 8), "fc2": torch.nn.Linear(8, 2)})
    twin["fc1"].requires_grad_(False)
    _, torch_report = unit_init.torch.initialize(twin, {"*.kernel": ui.HeUniform(), "*": ui.Zeros()}, seed=0)
    assert torch_report.skipped == ("fc1.weight", "fc1.bias")


def test_a_keras_3_object_that_is_no_layer_is_not_called_a_keras_2_model() -> None:
    with pytest.raises(ui.ParameterError, match=r"model=Variable must be a built Keras model or layer"):
        unit_init.keras.initialize(keras.Variable(np.zeros(3)), {"*": ui.Zeros()})
