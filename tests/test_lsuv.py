"""LSUV (docs/lsuv.md) on torch, Flax (nnx and linen) and Keras.

Each model starts from a deliberately bad scale, N(0, 1) weights (``spec=``),
and LSUV must bring every weight layer's output std within 10 % of the
target on a held-out batch, measured here with the framework's own tools
(torch forward hooks, a Keras sub-model, Flax's ``capture_intermediates`` or a
layer-by-layer nnx forward), never with the adapter's hooks. Models: a depth-20
ReLU MLP, a depth-20 tanh MLP and a 10-layer CNN without normalization.
Refusals: a model with no weight layer, a picked layer of another type, a
meta-device module, bad options.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.adapters.lsuv import LSUVReport, run
from unit_init.errors import DeviceError, ParameterError

torch = pytest.importorskip("torch")

BAD = ui.RandomNormal(stddev=1.0)
TARGET = 1.0
DEPTH, WIDTH, CONVS, CHANNELS = 20, 32, 10, 8


def _batches(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=shape).astype(np.float32), rng.normal(size=shape).astype(np.float32)


def _check(report: LSUVReport, held_out_stds: list[float], layers: int) -> None:
    assert len(report.layers) == layers == len(held_out_stds)
    assert report.converged
    assert all(layer.scale < 1 for layer in report.layers)  # N(0, 1) is far too large for every layer
    np.testing.assert_allclose(held_out_stds, TARGET, rtol=0.10)


# ---- torch -------------------------------------------------------------------

def _torch_model(kind: str) -> Any:
    nn = torch.nn
    if kind == "cnn":
        layers = [nn.Conv2d(3 if i == 0 else CHANNELS, CHANNELS, 3, padding=1) for i in range(CONVS)]
        return nn.Sequential(*(m for conv in layers for m in (conv, nn.ReLU())), nn.Flatten(), nn.Linear(CHANNELS * 64, 10))
    act = nn.ReLU if kind == "relu" else nn.Tanh
    return nn.Sequential(*(m for i in range(DEPTH) for m in (nn.Linear(16 if i == 0 else WIDTH, WIDTH), act())))


def _torch_stds(model: Any, batch: Any) -> list[float]:
    outputs: list[Any] = []
    handles = [m.register_forward_hook(lambda _, __, out: outputs.append(out)) for m in model.modules()
               if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    with torch.no_grad():
        model(batch)
    for handle in handles:
        handle.remove()
    return [float(out.double().std(correction=0)) for out in outputs]


class _Skips(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)

    def forward(self, x: Any) -> Any:
        return self.a(x)


@pytest.mark.parametrize("kind", ["relu", "tanh", "cnn"])
def test_torch(kind: str) -> None:
    model = _torch_model(kind)
    fit, held = _batches((256, 3, 8, 8) if kind == "cnn" else (512, 16))
    model, report = ui.torch.lsuv(model, torch.from_numpy(fit), spec=BAD, seed=0)
    _check(report, _torch_stds(model, torch.from_numpy(held)), CONVS + 1 if kind == "cnn" else DEPTH)


def test_torch_refusals() -> None:
    with pytest.raises(ParameterError, match="no weight layer to hook"):
        ui.torch.lsuv(torch.nn.Sequential(torch.nn.ReLU()), torch.ones(4, 2))
    with pytest.raises(ParameterError, match=r"'1' \(ReLU\), which cannot be hooked: hooks are placed only on"):
        ui.torch.lsuv(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU()), torch.ones(4, 2), layers="*")
    with pytest.raises(ParameterError, match=r"layers=\['nope'\] matches no layer of the model; its weight layers are '0', '2' "):
        ui.torch.lsuv(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 2)), torch.ones(4, 2), layers=["nope"])
    skips = _Skips()
    kept = [tensor.clone() for tensor in skips.parameters()]
    with pytest.raises(ParameterError, match=r"layers \['b'\] are not called"):  # named, so it must run
        ui.torch.lsuv(skips, torch.ones(4, 2), layers=["a", "b"])
    assert all(torch.equal(a, b) for a, b in zip(skips.parameters(), kept, strict=True))  # refused before writing
    _, report = ui.torch.lsuv(skips, torch.randn(64, 2), seed=0)  # by default, the layers the forward pass calls
    assert [layer.name for layer in report.layers] == ["a"]
    assert torch.equal(skips.b.weight, kept[2])
    meta = torch.nn.Linear(4, 4, device="meta")
    with pytest.raises(DeviceError, match="meta"):
        ui.torch.lsuv(meta, torch.ones(2, 4))
    with pytest.raises(ParameterError, match="target_std"):
        ui.torch.lsuv(torch.nn.Linear(2, 2), torch.ones(4, 2), target_std=0.0)
    with pytest.raises(ParameterError, match="max_iter"):
        ui.torch.lsuv(torch.nn.Linear(2, 2), torch.ones(4, 2), max_iter=0)
    # NumPy scalars and 0-d arrays are the numbers they hold, as spec parameters take them (they were refused)
    _, report = ui.torch.lsuv(torch.nn.Linear(8, 8), torch.randn(64, 8), target_std=np.float32(0.5), tol=np.float32(0.01),
                              max_iter=np.int64(5), seed=0)
    assert report.layers[0].converged
    assert report.layers[0].iterations <= 5
    linear = torch.nn.Linear(2, 2)
    kept = [tensor.clone() for tensor in linear.parameters()]
    with pytest.raises(ParameterError, match="batch=None"):
        ui.torch.lsuv(linear, None)
    for options in ({"target_std": 10**400}, {"tol": 10**400}, {"layers": 3}):  # an int beyond floats; not a list
        with pytest.raises(ParameterError, match=next(iter(options))):
            ui.torch.lsuv(linear, torch.ones(4, 2), **options)
    assert all(torch.equal(a, b) for a, b in zip(linear.parameters(), kept, strict=True))


def test_torch_parametrized_layers_transformers_and_batchnorm_statistics() -> None:
    """A weight_norm Linear is not a leaf module (it was never hooked); MultiheadAttention never calls its out_proj
    (a Transformer layer failed by default); the batches moved BatchNorm's running statistics in train mode."""
    from torch.nn.utils.parametrizations import weight_norm

    net = torch.nn.Sequential(weight_norm(torch.nn.Linear(16, 32)), torch.nn.ReLU(), torch.nn.Linear(32, 8))
    _, report = ui.torch.lsuv(net, torch.randn(256, 16), seed=0)
    assert [layer.name for layer in report.layers] == ["0", "2"]
    assert report.converged
    assert ui.diagnose(net, torch.randn(64, 16)).layers == ("0", "2")
    encoder = torch.nn.TransformerEncoderLayer(32, 4, 64)
    _, report = ui.torch.lsuv(encoder, torch.randn(10, 8, 32), seed=0)
    assert [layer.name for layer in report.layers] == ["linear1", "linear2"]
    assert ui.diagnose(encoder, torch.randn(10, 8, 32)).layers == ("linear1", "linear2")
    normed = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.Conv2d(8, 4, 3))
    buffers = [buffer.clone() for buffer in normed.buffers()]
    ui.torch.lsuv(normed, torch.randn(16, 3, 12, 12), seed=0)
    ui.diagnose(normed, torch.randn(16, 3, 12, 12))
    assert all(torch.equal(a, b) for a, b in zip(normed.buffers(), buffers, strict=True))


def test_iterates_until_within_tolerance() -> None:
    """A layer whose output is not linear in its weight (here std ∝ √w) takes several rescalings."""
    weights = {"a": 4.0}
    report = run(["a"], lambda name: weights[name] ** 0.5, lambda name, f: weights.update({name: weights[name] * f}) or True,
                 target_std=1.0, tol=0.01, max_iter=10)
    (layer,) = report.layers
    assert layer.converged
    assert layer.iterations > 1
    assert abs(layer.std - 1) <= 0.01
    slow = {"a": 1.0}  # each rescaling moves the std a tenth of the way (in log): capped at max_iter
    capped = run(["a"], lambda name: 5.0 * slow[name], lambda name, f: slow.update({name: slow[name] * f**0.1}) or True,
                 target_std=1.0, tol=0.01, max_iter=3)
    assert capped.layers[0].iterations == 3
    assert not capped.converged
    stalled = run(["a"], lambda name: 5.0, lambda name, f: True, target_std=1.0, tol=0.01, max_iter=10)
    assert stalled.layers[0].iterations == 1  # the std did not move: no point in nine more passes
    assert not stalled.converged
    with pytest.raises(ParameterError, match="left as it was"):
        run(["a"], lambda name: 5.0, lambda name, f: False, target_std=1.0, tol=0.01, max_iter=10)


# ---- Flax --------------------------------------------------------------------

def test_flax_nnx() -> None:
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    rngs = nnx.Rngs(0)
    for kind in ("relu", "tanh", "cnn"):
        if kind == "cnn":
            layers = [nnx.Conv(3 if i == 0 else CHANNELS, CHANNELS, (3, 3), rngs=rngs) for i in range(CONVS)]
            act: Any = nnx.relu
            shape: tuple[int, ...] = (256, 8, 8, 3)
        else:
            layers = [nnx.Linear(16 if i == 0 else WIDTH, WIDTH, rngs=rngs) for i in range(DEPTH)]
            act, shape = (nnx.relu if kind == "relu" else jax.numpy.tanh), (512, 16)
        model = nnx.Sequential(*(m for layer in layers for m in (layer, act)))
        fit, held = _batches(shape)
        model, report = unit_init.jax.lsuv(model, fit, spec=BAD, seed=0)
        stds, x = [], held
        for layer in layers:  # the forward pass by hand
            z = layer(x)
            stds.append(float(np.std(np.asarray(z, dtype=np.float64))))
            x = act(z)
        _check(report, stds, len(layers))


def test_flax_linen() -> None:
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            for _ in range(DEPTH):
                x = nn.tanh(nn.Dense(WIDTH)(x))
            return x

    fit, held = _batches((512, 16))
    module = MLP()
    variables = module.init(jax.random.key(0), fit)
    new, report = unit_init.jax.lsuv(module, variables, fit, spec=BAD, seed=0)
    assert variables["params"]["Dense_0"]["kernel"] is not new["params"]["Dense_0"]["kernel"]
    _, state = module.apply(new, held, capture_intermediates=True, mutable=["intermediates"])
    stds = [float(np.std(np.asarray(state["intermediates"][f"Dense_{i}"]["__call__"][0], dtype=np.float64))) for i in range(DEPTH)]
    _check(report, stds, DEPTH)


def test_flax_refusals() -> None:
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    with pytest.raises(ParameterError, match=r"not a flax nnx\.Module"):
        unit_init.jax.lsuv({"w": np.ones(2)}, np.ones(2))
    with pytest.raises(ParameterError, match="no weight layer to hook"):
        unit_init.jax.lsuv(nnx.Sequential(nnx.relu), np.ones((4, 2)))
    with pytest.raises(ParameterError, match="positional arguments"):
        unit_init.jax.lsuv(nnx.Linear(2, 2, rngs=nnx.Rngs(0)))


# ---- Keras -------------------------------------------------------------------

def test_keras() -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    for kind in ("relu", "tanh", "cnn"):
        if kind == "cnn":
            shape: tuple[int, ...] = (256, 8, 8, 3)
            layers = [keras.layers.Conv2D(CHANNELS, 3, padding="same") for _ in range(CONVS)]
            body = [m for conv in layers for m in (conv, keras.layers.ReLU())]
        else:
            shape = (512, 16)
            layers = [keras.layers.Dense(WIDTH) for _ in range(DEPTH)]
            body = [m for dense in layers for m in (dense, keras.layers.Activation(kind))]
        model = keras.Sequential([keras.Input(shape[1:]), *body])
        fit, held = _batches(shape)
        model, report = unit_init.keras.lsuv(model, fit, spec=BAD, seed=0)
        probe = keras.Model(model.inputs[0], [layer.output for layer in layers])  # Keras's own intermediate outputs
        stds = [float(np.std(np.asarray(out, dtype=np.float64))) for out in probe(held)]
        _check(report, stds, len(layers))


def test_keras_refusals() -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    with pytest.raises(ParameterError, match="built Keras model"):
        unit_init.keras.lsuv(keras.layers.Dense(2), np.ones((4, 2)))
    model = keras.Sequential([keras.Input((2,)), keras.layers.ReLU()])
    with pytest.raises(ParameterError, match="no weight layer to hook"):
        unit_init.keras.lsuv(model, np.ones((4, 2)))


def test_keras_frozen_layers_keep_their_weights() -> None:
    """A frozen layer (``trainable=False``: pretrained weights) was rescaled and reported converged without being
    drawn (``initialize`` draws trainable variables only): its all-ones kernel came back rank one, its bias kept."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(64, name="a", kernel_initializer="ones", bias_initializer="ones"),
                              keras.layers.ReLU(), keras.layers.Dense(8, name="b", kernel_initializer="ones")])
    model.get_layer("a").trainable = False
    batch = np.random.default_rng(0).normal(size=(256, 32)).astype("float32")
    model, report = unit_init.keras.lsuv(model, batch, spec=ui.Orthogonal(), seed=0)
    assert [layer.name for layer in report.layers] == ["b"]
    assert report.converged
    frozen = model.get_layer("a")
    assert np.all(keras.ops.convert_to_numpy(frozen.kernel) == 1)
    assert np.all(keras.ops.convert_to_numpy(frozen.bias) == 1)
    kernel_b = keras.ops.convert_to_numpy(model.get_layer("b").kernel)
    assert np.linalg.matrix_rank(kernel_b) == 8  # drawn orthogonal, then rescaled
    with pytest.raises(ParameterError, match=r"layers \['a'\] are frozen \(trainable=False\)"):
        unit_init.keras.lsuv(model, batch, layers=["a", "b"], seed=0)
    model.get_layer("b").trainable = False
    with pytest.raises(ParameterError, match="every weight layer of the model is frozen"):
        unit_init.keras.lsuv(model, batch, seed=0)
    model.get_layer("b").trainable = True
    model.get_layer("b").enable_lora(2)  # its kernel: the frozen base plus trainable factors (a raw AttributeError)
    with pytest.raises(ParameterError, match=r"layers \['b'\] have LoRA enabled; run lsuv on the model before"):
        unit_init.keras.lsuv(model, batch, seed=0)


def test_keras_nested_functional_models_with_layers_of_one_name_are_initialized_by_their_layer_paths() -> None:
    """Keras gives the variables of two nested functional models' ``fc`` layers one path (``fc/kernel``):
    ``initialize`` (and so ``lsuv``) refused them as twins; each is now named by its path of layer names."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    def block(name: str) -> Any:
        x = keras.Input((4,))
        return keras.Model(x, keras.layers.Dense(4, name="fc")(x), name=name)

    x = keras.Input((4,))
    model = keras.Model(x, block("b2")(block("b1")(x)), name="outer")
    assert [v.path for v in model.weights] == ["fc/kernel", "fc/bias"] * 2  # what Keras gives them
    model, report = unit_init.keras.initialize(model, {"b1.fc.kernel": ui.Constant(2.0), "*kernel": ui.HeNormal(), "*bias": ui.Ones()}, seed=0)
    assert dict(report.applied) == {"b1/fc/kernel": 0, "b1/fc/bias": 2, "b2/fc/kernel": 1, "b2/fc/bias": 2}
    kernels = [np.asarray(v) for v in model.weights if v.name == "kernel"]
    assert (kernels[0] == 2.0).all()
    assert not (kernels[1] == 2.0).any()
    batch = 3 * np.random.default_rng(0).normal(size=(128, 4)).astype(np.float32)
    model, rescaled = unit_init.keras.lsuv(model, batch, seed=0)
    assert [(row.name, row.converged) for row in rescaled.layers] == [("b1/fc", True), ("b2/fc", True)]


def test_keras_nested_layers_of_one_name_are_all_rescaled_and_multi_input_batches_are_the_models_input() -> None:
    """Layers were keyed by name: a second ``fc`` in another sub-model was silently skipped. A dict or list batch is
    the model's one input, as ``model.fit`` takes it (it was unpacked as keyword or positional arguments)."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    layers = keras.layers
    inner = keras.Sequential([keras.Input((16,)), layers.Dense(16, name="fc")], name="inner")
    inner2 = keras.Sequential([keras.Input((16,)), layers.Dense(16, name="fc")], name="inner2")
    x = keras.Input((16,))
    model = keras.Model(x, inner2(layers.Dense(16, name="mid")(inner(x))))
    batch = 5 * np.random.default_rng(0).normal(size=(256, 16)).astype(np.float32)
    model, report = unit_init.keras.lsuv(model, batch, seed=0)
    assert [(row.name, row.converged) for row in report.layers] == [("inner/fc", True), ("mid", True), ("inner2/fc", True)]
    assert ui.diagnose(model, batch).layers == ("inner/fc", "mid", "inner2/fc")
    a, b = keras.Input((4,), name="a"), keras.Input((6,), name="b")
    out = layers.Dense(3, name="out")(layers.Concatenate()([layers.Dense(8, name="da")(a), layers.Dense(8, name="db")(b)]))
    rng = np.random.default_rng(1)
    inputs = {"a": rng.normal(size=(32, 4)).astype(np.float32), "b": rng.normal(size=(32, 6)).astype(np.float32)}
    by_dict = keras.Model({"a": a, "b": b}, out)
    assert ui.diagnose(by_dict, inputs).layers == ("da", "db", "out")
    assert len(unit_init.keras.lsuv(by_dict, inputs, seed=0)[1].layers) == 3
    by_list = keras.Model([a, b], out)
    assert len(unit_init.keras.lsuv(by_list, [inputs["a"], inputs["b"]], seed=0)[1].layers) == 3

    class Two(keras.Model):  # a call of two arguments takes a list's items and a dict's entries as its arguments
        def __init__(self) -> None:
            super().__init__()
            self.fa, self.fb = layers.Dense(4, name="fa"), layers.Dense(4, name="fb")

        def call(self, x: Any, y: Any) -> Any:
            return self.fa(x) + self.fb(y)

    two = Two()
    two(inputs["a"], inputs["b"])
    for batch in ({"x": inputs["a"], "y": inputs["b"]}, [inputs["a"], inputs["b"]], (inputs["a"], inputs["b"])):
        assert ui.diagnose(two, batch).layers == ("fa", "fb")
    i1, i2, i3 = keras.Input((8,)), keras.Input((8,)), keras.Input((8,))
    first = keras.Model(i1, layers.Dense(8, name="fc")(i1), name="first")  # functional: its layers' paths are their names
    second = keras.Model(i2, layers.Dense(8, name="fc")(i2), name="second")
    assert ui.diagnose(keras.Model(i3, second(first(i3))), rng.normal(size=(16, 8)).astype(np.float32)).layers == ("first/fc", "second/fc")


_KERAS_LSUV = """
import numpy as np, keras, unit_init.keras
model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.ReLU(), keras.layers.Dense(8)])
model, report = unit_init.keras.lsuv(model, np.random.default_rng(0).normal(size=(256, 16)).astype("float32"), seed=0)
print([(row.name, row.converged) for row in report.layers])
conv = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(8, 3), keras.layers.ReLU()])
try:
    unit_init.keras.lsuv(conv, np.random.default_rng(0).normal(size=(64, 8, 8, 3)).astype("float32"), target_std=1e300, seed=0)
except Exception as error:
    print(type(error).__name__)
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_lsuv_rescales_on_the_jax_and_torch_backends(backend: str) -> None:
    """On JAX, ``keras.ops.count_nonzero`` of the ``keras.Variable`` itself raised ``ValueError`` at the first rescale,
    and an unreachable target printed NumPy's overflow ``RuntimeWarning`` (from JAX's cast of the factor) before the refusal."""
    pytest.importorskip("keras")
    pytest.importorskip(backend)
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _KERAS_LSUV],
                          env={**os.environ, "KERAS_BACKEND": backend}, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "RuntimeWarning" not in done.stderr, done.stderr[-2000:]
    # a target the weights cannot reach: the typed refusal, not NumPy's overflow warning from Keras's cast on JAX
    assert done.stdout.strip().splitlines()[-2:] == ["[('dense', True), ('dense_1', True)]", "ParameterError"]


@pytest.mark.parametrize("target_std", [1e300, 1e-300, 1e-44])  # 1e-44: some weights underflowed to 0, "converged"
def test_a_target_the_weights_cannot_reach_leaves_them_finite_and_says_so(target_std: float) -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    model = torch.nn.Linear(8, 16)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(ui.ParameterError, match="would overflow or underflow their dtype; the model is left as it was"):
        unit_init.torch.lsuv(model, torch.randn(32, 8), target_std=target_std, seed=0)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())  # not re-drawn either


def test_two_layers_tied_to_one_weight_are_refused_before_anything_is_drawn() -> None:
    """Rescaling the second rescaled the first: its report said std 0.99, converged, while its output std was 1.33.
    Neither can be fitted alone (rescaling one rescales the other): left out, refused when picked."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    first, second = torch.nn.Linear(16, 16), torch.nn.Linear(16, 16)
    second.weight = first.weight
    model = torch.nn.Sequential(first, torch.nn.Tanh(), second)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(ui.ParameterError, match=r"every weight layer LSUV could rescale \('0', '2'\) shares its weight"):
        unit_init.torch.lsuv(model, torch.randn(256, 16), seed=0)
    with pytest.raises(ui.ParameterError, match="layer '0' shares its weight with '2'"):
        unit_init.torch.lsuv(model, torch.randn(256, 16), seed=0, layers=["0"])
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
    shared = torch.nn.Linear(16, 16)  # one layer registered twice is no tie: fitted once
    _, report = unit_init.torch.lsuv(torch.nn.Sequential(shared, torch.nn.Tanh(), shared), torch.randn(256, 16), seed=0)
    assert [layer.name for layer in report.layers] == ["0"]


def test_a_head_tied_to_an_embedding_is_left_out_and_refused_when_picked() -> None:
    """An output head tied to the input embedding (BERT's decoder, GPT-2's lm_head): rescaling the head rescaled the
    embedding table, every output LSUV had fixed before it moved (0.60 where the report said 1.00, converged)."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    class LM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed, self.hidden, self.head = torch.nn.Embedding(50, 16), torch.nn.Linear(16, 16), torch.nn.Linear(16, 50, bias=False)
            self.head.weight = self.embed.weight

        def forward(self, ids: Any) -> Any:
            return self.head(torch.tanh(self.hidden(self.embed(ids))))

    model, ids = LM(), torch.randint(0, 50, (64, 8), generator=torch.Generator().manual_seed(0))
    table = model.embed.weight.detach().clone()
    _, report = unit_init.torch.lsuv(model, ids, seed=0)
    assert [layer.name for layer in report.layers] == ["hidden"]
    assert torch.equal(model.embed.weight, table)
    with pytest.raises(ui.ParameterError, match=r"layer 'head' shares its weight with 'embed' .* LSUV can fit neither; pass layers= without it"):
        unit_init.torch.lsuv(model, ids, seed=0, layers=["head", "hidden"])
    assert torch.equal(model.embed.weight, table)
    head_only = torch.nn.Sequential(model.embed, model.head)  # GPT-2 as the hooks see it: its Conv1D blocks are no Linear
    with pytest.raises(ui.ParameterError, match=r"every weight layer LSUV could rescale \('1'\) shares its weight"):
        unit_init.torch.lsuv(head_only, ids, seed=0)
    assert torch.equal(model.embed.weight, table)


def test_a_target_whose_outputs_overflow_the_dtype_is_refused_and_the_model_kept() -> None:
    """float16 toward a std of 3e4: the weights stay finite, the outputs (≈4σ = 1.2e5 > 65504) do not; the model was
    returned with inf outputs and the layer reported "not converged"."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.Linear(64, 8)).half()
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(ui.ParameterError, match="makes its outputs overflow their dtype; the model is left as it was"):
        unit_init.torch.lsuv(model, torch.randn(64, 32).half(), target_std=3e4, seed=0)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())


@pytest.mark.parametrize("target_std", [1e300, 1e-300])
def test_a_keras_target_the_weights_cannot_reach_leaves_them_finite(target_std: float) -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16)])
    before = [np.array(variable.numpy()) for variable in model.weights]
    with pytest.raises(ui.ParameterError, match="would overflow or underflow their dtype; the model is left as it was"):
        unit_init.keras.lsuv(model, np.random.default_rng(0).normal(size=(32, 8)), target_std=target_std, seed=0)
    assert all(np.array_equal(variable.numpy(), value) for variable, value in zip(model.weights, before, strict=True))


def test_a_flax_target_the_weights_cannot_reach_leaves_them_finite() -> None:
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    model = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
    before = nnx.to_flat_state(nnx.clone(nnx.state(model)))
    with pytest.raises(ui.ParameterError, match=r"would overflow.*the model is left as it was"):
        unit_init.jax.lsuv(model, jax.random.normal(jax.random.key(0), (64, 16)), target_std=1e300)
    after = nnx.to_flat_state(nnx.state(model))
    assert [path for path, _ in after] == [path for path, _ in before]
    assert all(np.array_equal(a.get_value(), b.get_value()) for (_, a), (_, b) in zip(after, before, strict=True))


def _refused_at_the_second_rescaling(monkeypatch: pytest.MonkeyPatch, adapter: Any, error: BaseException | None) -> None:
    """Make ``adapter``'s LSUV refuse its second rescaling (``rescaled`` gives ``None``: the product would overflow), or
    raise ``error`` there (an interrupt): by then every layer is re-drawn and the first one rescaled."""
    real = adapter.rescaled
    calls = []

    def second_refused(*args: Any) -> Any:
        calls.append(args)
        if len(calls) < 2:
            return real(*args)
        if error is not None:
            raise error
        return None

    monkeypatch.setattr(adapter, "rescaled", second_refused)


@pytest.mark.parametrize("error", [None, KeyboardInterrupt()], ids=["refused", "interrupted"])
@pytest.mark.parametrize("framework", ["torch", "keras", "nnx"])
def test_an_lsuv_that_raises_half_way_leaves_every_parameter_as_it_was(
    monkeypatch: pytest.MonkeyPatch, framework: str, error: BaseException | None
) -> None:
    """A refusal (or an interrupt) after the draw and the first layer's rescaling puts every parameter back: the
    draw from ``spec`` and the rescaling are both undone, and nnx's BatchNorm statistics stay too."""
    expected = KeyboardInterrupt if error is not None else ParameterError
    rng = np.random.default_rng(0)
    batch = rng.normal(size=(64, 8)).astype("float32")
    if framework == "torch":
        import unit_init.torch._hooks as adapter

        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                                    torch.nn.Tanh(), torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(16, 4)))

        def values() -> list[Any]:
            return [value.clone() for value in model.state_dict().values()]

        same = torch.equal
        call = lambda: adapter.lsuv(model, torch.from_numpy(batch), spec=BAD, seed=0)  # noqa: E731
    elif framework == "keras":
        keras = pytest.importorskip("keras")
        import unit_init.keras._hooks as adapter

        model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.BatchNormalization(),
                                  keras.layers.Activation("tanh"), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(4)])

        def values() -> list[Any]:
            return [np.array(variable.numpy()) for variable in model.weights]

        same = np.array_equal
        call = lambda: adapter.lsuv(model, batch, spec=BAD, seed=0)  # noqa: E731
    else:
        jax = pytest.importorskip("jax")
        nnx = pytest.importorskip("flax.nnx")
        import unit_init.jax._nnx as adapter

        model = nnx.Sequential(nnx.Linear(8, 16, rngs=nnx.Rngs(0)), nnx.BatchNorm(16, rngs=nnx.Rngs(1)), jax.numpy.tanh,
                               nnx.Linear(16, 16, rngs=nnx.Rngs(2)), jax.numpy.tanh, nnx.Linear(16, 4, rngs=nnx.Rngs(3)))

        def values() -> list[Any]:
            return [np.array(variable.get_value()) for _, variable in nnx.to_flat_state(nnx.state(model))]

        same = np.array_equal
        call = lambda: adapter.lsuv_nnx(model, jax.numpy.asarray(batch), spec=BAD, target_std=1.0, tol=0.1, max_iter=10,  # noqa: E731
                                        seed=0, layers=None, progress=False)
    before = values()
    _refused_at_the_second_rescaling(monkeypatch, adapter, error)
    with pytest.raises(expected):
        call()
    after = values()
    assert len(after) == len(before)
    changed = [i for i, (a, b) in enumerate(zip(after, before, strict=True)) if not same(a, b)]
    assert changed == []


def test_max_iter_is_bounded_and_a_stalled_layer_stops() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    with pytest.raises(ui.ParameterError, match=r"max_iter=.* must be an int in \[1, 1000\]"):
        unit_init.torch.lsuv(torch.nn.Linear(8, 16), torch.randn(32, 8), tol=0, max_iter=10**30)
    report = unit_init.torch.lsuv(torch.nn.Linear(8, 16), torch.randn(32, 8), tol=0, max_iter=1000, seed=0).report
    assert report.layers[0].iterations < 1000  # tol=0 is never met exactly; the loop stops once the std stops moving


@pytest.mark.parametrize("api", ["parametrizations", "hooks"])
def test_a_spectrally_normalized_layer_is_reported_not_converged_after_one_rescaling(api: str) -> None:
    """``spectral_norm`` divides the weight by its largest singular value, so no rescaling moves the output: LSUV made
    ten rescalings toward ``target_std=2`` and left the weight 1012 times its draw (reported not converged); it stops
    after the first, which shows the output does not follow the weight."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    normalized = torch.nn.utils.parametrizations.spectral_norm if api == "parametrizations" else torch.nn.utils.spectral_norm
    torch.manual_seed(0)  # spectral_norm's power iteration starts from the global generator
    net = torch.nn.Sequential(normalized(torch.nn.Linear(64, 64)), torch.nn.ReLU(), torch.nn.Linear(64, 8))
    report = unit_init.torch.lsuv(net, torch.randn(256, 64), target_std=2.0, seed=0).report
    first, second = report.layers
    assert (first.converged, first.iterations) == (False, 1)
    assert 1.9 < first.scale < 2.1  # toward 2 from about 1: an orthogonal draw, normalized, keeps the batch's std
    weight = net[0].parametrizations.weight.original if api == "parametrizations" else net[0].weight_orig
    scaled = first.scale if api == "parametrizations" else 1.0  # the hooks' forward recomputes the weight it scaled
    assert float(weight.detach().square().mean()) == pytest.approx(scaled**2 / 64, rel=1e-4)  # the draw's unit rows, scaled once
    assert second.converged  # the layer after it is rescaled as usual


def test_lsuv_and_diagnose_leave_the_dropout_streams_as_they_were() -> None:
    """The batches are measurements: torch's dropout advanced the global generator its training then draws from, and
    nnx's ``Dropout`` its own stream's count (0 → 2 after ``lsuv``, → 5 after ``diagnose``), so a run with them gave
    other dropout masks than one without. Unseeded draws still advance the global stream (two calls differ)."""
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    jnp = pytest.importorskip("jax.numpy")
    import unit_init.jax
    import unit_init.torch

    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(32, 8))
    batch = torch.randn(64, 16)
    torch.manual_seed(0)
    expected = torch.rand(4)
    for measured in (lambda: unit_init.torch.lsuv(net, batch, seed=0), lambda: ui.diagnose(net, batch)):
        torch.manual_seed(0)
        measured()
        assert torch.equal(torch.rand(4), expected)
    first = unit_init.torch.lsuv(net, batch).params[0].weight.detach().clone()
    assert not torch.equal(unit_init.torch.lsuv(net, batch).params[0].weight, first)

    class Model(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.hidden, self.drop, self.out = nnx.Linear(16, 32, rngs=rngs), nnx.Dropout(0.5, rngs=rngs), nnx.Linear(32, 8, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            return self.out(self.drop(nnx.relu(self.hidden(x))))

    model = Model(nnx.Rngs(0, dropout=1))
    counts = [int(count) for count in jax.tree.leaves(nnx.state(model, nnx.RngCount))]
    unit_init.jax.lsuv(model, jnp.ones((64, 16)), seed=0)
    ui.diagnose(model, jnp.ones((64, 16)))
    assert [int(count) for count in jax.tree.leaves(nnx.state(model, nnx.RngCount))] == counts


def test_an_empty_batch_is_refused_by_lsuv_and_diagnose() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    for call in (lambda: ui.diagnose(model, torch.randn(0, 4)), lambda: unit_init.torch.lsuv(model, torch.randn(0, 4))):
        with pytest.raises(ui.ParameterError, match="has no samples"):  # it reported "exploding" with std nan
            call()


def test_a_batch_with_nan_or_inf_is_refused_on_every_framework() -> None:
    """A NaN input made every std NaN: LSUV left the layers unscaled and diagnose called the network "exploding"."""
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    keras = pytest.importorskip("keras")
    import unit_init.jax
    import unit_init.keras
    import unit_init.torch

    bad = np.ones((8, 4), dtype=np.float32)
    bad[3, 1] = np.nan
    worse = np.where(np.isnan(bad), np.inf, bad)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    flax_net = nnx.Sequential(nnx.Linear(4, 8, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(8, 2, rngs=nnx.Rngs(1)))
    keras_net = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2)])
    calls = {
        "torch lsuv": lambda b: unit_init.torch.lsuv(net, torch.from_numpy(b)),
        "torch diagnose": lambda b: ui.diagnose(net, torch.from_numpy(b)),
        "torch tuple": lambda b: unit_init.torch.lsuv(net, (torch.from_numpy(b),)),
        "nnx lsuv": lambda b: unit_init.jax.lsuv(flax_net, jax.numpy.asarray(b)),
        "nnx diagnose": lambda b: ui.diagnose(flax_net, b),
        "keras lsuv": lambda b: unit_init.keras.lsuv(keras_net, b),
        "keras diagnose": lambda b: ui.diagnose(keras_net, b),
    }
    for name, call in calls.items():
        for batch in (bad, worse):
            with pytest.raises(ui.ParameterError, match="holds NaN or infinite values"):
                call(batch)
            print(name, "refused")
    assert ui.diagnose(net, torch.ones(8, 4)).layers == ("0", "2")  # a finite batch still runs


def test_a_step_that_underflows_a_few_float16_subnormals_is_made() -> None:
    """A large float16 layer holds a few weights at float16's smallest subnormals, which a factor below ½ flushes to 0:
    refusing any such loss broke LSUV on float16 models; a share above MAX_LOST is still refused."""
    torch = pytest.importorskip("torch")
    from unit_init.adapters.lsuv import MAX_LOST, rescaled

    weights = (torch.randn(4096, 4096, generator=torch.Generator().manual_seed(0)) * 0.02).half()
    lost = int(((weights * 0.45 == 0) & (weights != 0)).sum())
    assert 0 < lost <= MAX_LOST * weights.numel()
    assert rescaled(weights, 0.45, torch) is not None
    assert rescaled(weights, 1e-6, torch) is None


def test_flax_lsuv_and_diagnose_inside_jit_are_parameter_errors() -> None:
    """Inside ``nnx.jit`` the batch is traced: the finiteness check raised JAX's raw ``TracerBoolConversionError``."""
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    model = nnx.Sequential(nnx.Linear(4, 4, rngs=nnx.Rngs(0)))
    for measure in (lambda m, x: unit_init.jax.lsuv(m, x, seed=0), unit_init.jax.diagnose):

        @nnx.jit
        def step(m: Any, x: Any, measure: Any = measure) -> Any:
            measure(m, x)
            return m(x)

        with pytest.raises(ParameterError, match="call them outside jax"):
            step(model, np.ones((8, 4), np.float32))


def test_the_deprecated_weight_norm_is_refused_by_lsuv_and_initialize_with_the_model_kept() -> None:
    """torch.nn.utils.weight_norm recomputes ``weight`` from ``weight_g`` and ``weight_v`` before each call: LSUV's
    rescales were lost (stds 0.12 and 0.015 toward 0.5, "not converged"), and initialize drew ``g`` as a weight of
    fan_in 1 and ``v`` alone."""
    torch = pytest.importorskip("torch")
    import warnings

    import unit_init.torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch: weight_norm is deprecated
        model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.utils.weight_norm(torch.nn.Linear(8, 4)))
    before = {name: value.clone() for name, value in model.state_dict().items()}
    with pytest.raises(ui.ParameterError, match=r"layer '2' uses the deprecated torch\.nn\.utils\.weight_norm"):
        unit_init.torch.lsuv(model, torch.randn(32, 8), seed=0, target_std=0.5)
    with pytest.raises(ui.ParameterError, match=r"parameter '2\.weight_g' is half of a weight split by the deprecated"):
        unit_init.torch.initialize(model, {torch.nn.Linear: ui.HeNormal()}, seed=0)
    assert all(torch.equal(value, before[name]) for name, value in model.state_dict().items())
    _, report = unit_init.torch.initialize(model, {"0.*": ui.HeNormal(), "*bias": ui.Zeros()}, seed=0)  # the rest draws
    assert sorted(report.applied) == ["0.bias", "0.weight", "2.bias"]


def test_torch_initialize_and_lsuv_leave_frozen_parameters_as_they_are() -> None:
    """A frozen parameter (``requires_grad_(False)``: a pretrained backbone kept while a new head is trained, Whisper's
    fixed sinusoidal table) was overwritten by any rule reaching it; the Keras walker leaves non-trainable weights."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    model[0].requires_grad_(False)
    pretrained = {name: value.clone() for name, value in model[0].state_dict().items()}
    _, report = unit_init.torch.initialize(model, {torch.nn.Linear: ui.HeNormal(), "*.bias": ui.Ones()}, seed=0)
    assert all(torch.equal(value, pretrained[name]) for name, value in model[0].state_dict().items())
    assert set(report.skipped) == {"0.weight", "0.bias"}
    assert torch.equal(model[2].bias, torch.ones(4))
    _, rescaled = unit_init.torch.lsuv(model, torch.randn(64, 8), seed=0)
    assert [layer.name for layer in rescaled.layers] == ["2"]
    assert all(torch.equal(value, pretrained[name]) for name, value in model[0].state_dict().items())
    with pytest.raises(ui.ParameterError, match=r"layers \['0'\] are frozen \(requires_grad=False\)"):
        unit_init.torch.lsuv(model, torch.randn(64, 8), seed=0, layers=["0", "2"])
    model[0].weight.requires_grad_(True)  # BitFit: the weight trains, the bias is frozen
    _, bitfit = unit_init.torch.initialize(model, {torch.nn.Linear: ui.HeNormal(), "*.bias": ui.Ones()}, seed=0)
    assert bitfit.skipped == ("0.bias",)


def test_overlapping_hooked_blocks_on_one_layer_give_its_own_class_back_in_any_order() -> None:
    """Each block saved the class it found and put it back on exit: two overlapping ones (two threads diagnosing one
    Keras or nnx model) closed first-opened-first left the layer a hooked subclass for good (review)."""
    from unit_init.adapters.hooks import hooked

    class Layer:
        def __call__(self, x: Any) -> Any:
            return x

    layer = Layer()
    first, second = hooked({"l": layer}, "__call__"), hooked({"l": layer}, "__call__")
    first.__enter__()
    second.__enter__()
    assert type(layer) is not Layer
    first.__exit__(None, None, None)
    assert type(layer) is not Layer  # the second block still records
    second.__exit__(None, None, None)
    assert type(layer) is Layer
    with hooked({"l": layer}, "__call__"), hooked({"m": layer}, "__call__"):
        pass
    assert type(layer) is Layer


def test_a_layer_two_overlapping_blocks_name_differently_records_under_each_blocks_name() -> None:
    """A model and its submodel diagnosed in two threads name one layer ``inner/d1`` and ``d1``: the shared swap recorded
    under the first block's name, and the other thread's lookup was a ``KeyError`` (review)."""
    import threading

    from unit_init.adapters.hooks import Session, forward, hooked

    class Layer:
        def __call__(self, x: Any) -> Any:
            return 2 * x

    layer, records = Layer(), {}

    def diagnose_alone(name: str) -> None:
        with hooked({name: layer}, "__call__"):
            session = Session()
            forward(layer, 1.0, session)
            records[name] = session.record

    with hooked({"inner/d1": layer}, "__call__"):
        other = threading.Thread(target=diagnose_alone, args=("d1",))
        other.start()
        other.join()
        mine = Session()
        forward(layer, 1.0, mine)
    assert records == {"d1": {"d1": 2.0}}
    assert mine.record == {"inner/d1": 2.0}
    assert type(layer) is Layer


def test_a_layer_whose_class_cannot_be_swapped_leaves_the_others_as_they_were() -> None:
    """The swaps ran before the ``try``: one that raised left the layers swapped before it hooked for good (review)."""
    from unit_init.adapters import hooks

    class Layer:
        def __call__(self, x: Any) -> Any:
            return x

    class Slotted:
        __slots__ = ()

        def __call__(self, x: Any) -> Any:
            return x

    layer = Layer()
    with pytest.raises(TypeError, match="__class__ assignment"), hooks.hooked({"a": layer, "b": Slotted()}, "__call__"):
        pass
    assert type(layer) is Layer
    assert id(layer) not in hooks._SWAPPED
