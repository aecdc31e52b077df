"""``ui.diagnose(model, batch)`` on a user's own torch, Flax nnx and Keras model (docs/diagnostics.md, "Your own model").

The per-layer stds must equal those computed here by hand with each
framework's own tools: torch forward hooks and ``retain_grad``; a
layer-by-layer Flax forward (nnx and linen) differentiated by ``jax.grad``; a Keras forward
under ``tf.GradientTape``; and, for Keras on the JAX and torch backends (in
subprocesses: the backend is fixed at import), a NumPy forward and backward
pass written out. The loss is ``ℓ = ⟨g, y⟩`` with the probe ``g`` drawn by
``numpy.random.default_rng(seed)``. Then the verdicts: zero weights are
``symmetric``, N(0, 1) weights in a deep ReLU MLP ``exploding``, He ``stable``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.diagnostics.model import ModelReport

RTOL = 1e-5
DEPTH, WIDTH = 20, 32


def _std(values: Any) -> float:
    return float(np.std(np.asarray(values, dtype=np.float64)))


def _probe(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def _assert_matches(report: ModelReport, outputs: list[Any], grads: list[Any], weight_grads: list[Any]) -> None:
    np.testing.assert_allclose(report.activation_std, [_std(z) for z in outputs], rtol=RTOL)
    np.testing.assert_allclose(report.gradient_std, [_std(d) for d in grads], rtol=RTOL)
    np.testing.assert_allclose(report.weight_gradient_std, [_std(w) for w in weight_grads], rtol=RTOL)


def test_torch_cnn_matches_hooks() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.Tanh(),
                          nn.Conv2d(8, 4, 3, stride=2), nn.Flatten(), nn.Linear(4 * 3 * 3, 5))
    x = torch.from_numpy(np.random.default_rng(1).normal(size=(32, 3, 8, 8)).astype(np.float32))
    report = ui.diagnose(model, x, seed=3)
    assert isinstance(report, ModelReport)
    assert report.layers == ("0", "2", "4", "6")
    assert report.activations == ("relu", "tanh", None, None)
    assert report.suggested == ("he_normal", "glorot_normal", "?", "?")
    weights = [model[i] for i in (0, 2, 4, 6)]
    outputs: list[Any] = []
    handles = [m.register_forward_hook(lambda _, __, out: outputs.append(out)) for m in weights]
    y = model(x)
    for handle in handles:
        handle.remove()
    for out in outputs:
        out.retain_grad()
    (torch.from_numpy(_probe(tuple(y.shape), 3)).float() * y).sum().backward()
    _assert_matches(report, [o.detach() for o in outputs], [o.grad for o in outputs], [m.weight.grad / 32 for m in weights])


def _nnx_mlp(nnx: Any, spec: Any, depth: int = DEPTH, width: int = WIDTH) -> Any:
    import unit_init.jax

    layers = [nnx.Linear(16 if i == 0 else width, width, rngs=nnx.Rngs(i)) for i in range(depth)]
    model = nnx.Sequential(*(m for layer in layers[:-1] for m in (layer, nnx.relu)), layers[-1])
    unit_init.jax.initialize(model, {nnx.Linear: spec, "*bias": ui.Zeros()}, seed=0)
    return model


def test_flax_mlp_matches_jax_grad() -> None:
    jax = pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    model = _nnx_mlp(nnx, ui.HeNormal(), depth=4)
    x = np.random.default_rng(1).normal(size=(64, 16)).astype(np.float32)
    report = ui.diagnose(model, x, seed=5)
    assert report.layers == ("layers/0", "layers/2", "layers/4", "layers/6")
    assert report.activations == ("relu", "relu", "relu", None)
    linears = [model.layers[i] for i in (0, 2, 4, 6)]
    _assert_matches(report, *_jax_pass(jax, [layer.kernel.get_value() for layer in linears],
                                       [layer.bias.get_value() for layer in linears], x, 5))


def _jax_pass(jax: Any, kernels: list[Any], biases: list[Any], x: Any, seed: int) -> tuple[list[Any], list[Any], list[Any]]:
    """A Dense-ReLU MLP written out (z_l = h W + b + ε_l), differentiated by ``jax.grad`` w.r.t. the kernels and the ε_l."""
    jnp = jax.numpy
    last = len(kernels) - 1

    def forward(ks: list[Any], eps: list[Any]) -> tuple[Any, list[Any]]:
        h, zs = jnp.asarray(x), []
        for i, (k, b, e) in enumerate(zip(ks, biases, eps, strict=True)):
            zs.append(z := h @ k + b + e)
            h = jax.nn.relu(z) if i < last else z
        return jnp.sum(jnp.asarray(_probe(h.shape, seed), dtype=jnp.float32) * h), zs

    zeros = [jnp.zeros((len(x), k.shape[-1])) for k in kernels]
    (kernel_grads, grads), outputs = jax.grad(forward, argnums=(0, 1), has_aux=True)(kernels, zeros)
    return outputs, grads, [k / len(x) for k in kernel_grads]


def test_flax_linen_matches_jax_grad() -> None:
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            for i in range(3):
                x = nn.relu(nn.Dense(WIDTH, name=f"hidden{i}")(x))
            return nn.Dense(WIDTH, name="out")(x)

    x = np.random.default_rng(1).normal(size=(64, 16)).astype(np.float32)
    variables = MLP().init(jax.random.key(0), x)
    report = unit_init.jax.diagnose(MLP(), variables, x, seed=5)
    assert report.layers == ("hidden0", "hidden1", "hidden2", "out")
    params = [variables["params"][name] for name in report.layers]
    _assert_matches(report, *_jax_pass(jax, [p["kernel"] for p in params], [p["bias"] for p in params], x, 5))


def _keras_mlp(keras: Any, depth: int = 4) -> Any:
    return keras.Sequential([keras.Input((16,)), *(keras.layers.Dense(WIDTH, activation="relu") for _ in range(depth - 1)),
                             keras.layers.Dense(WIDTH)])


def _numpy_pass(kernels: list[Any], biases: list[Any], x: Any, seed: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Forward and backward of a Dense-ReLU MLP in float64, the layers' outputs being activated as Keras's are.

    ``z_l = h_{l-1} W_l + b_l``, ``h_l = relu(z_l)`` (the last layer linear);
    ``∂ℓ/∂h_{l-1} = ∂ℓ/∂z_l W_lᵀ``, ``∂ℓ/∂z_l = ∂ℓ/∂h_l ⊙ [z_l > 0]``, ``∂L/∂W_l = h_{l-1}ᵀ ∂ℓ/∂z_l / batch``.
    """
    last = len(kernels) - 1
    h, zs, hs = np.asarray(x, dtype=np.float64), [], []
    for i, (k, b) in enumerate(zip(kernels, biases, strict=True)):
        zs.append(h @ k + b)
        hs.append(h := np.maximum(zs[-1], 0) if i < last else zs[-1])
    dh = _probe(h.shape, seed)
    grads, weight_grads = [dh], []
    for i in range(last, -1, -1):
        dz = grads[0] * (zs[i] > 0) if i < last else grads[0]
        weight_grads.insert(0, (hs[i - 1] if i else np.asarray(x, dtype=np.float64)).T @ dz / len(x))
        if i:
            grads.insert(0, dz @ kernels[i].T)
    return hs, grads, weight_grads


def test_keras_matches_gradient_tape() -> None:
    keras = pytest.importorskip("keras")
    tf = pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the in-process Keras check is for the tensorflow backend")
    model = _keras_mlp(keras)
    x = np.random.default_rng(1).normal(size=(64, 16)).astype(np.float32)
    report = ui.diagnose(model, x, seed=7)
    assert report.activations == ("relu", "relu", "relu", "linear")
    assert report.suggested == ("he_normal", "he_normal", "he_normal", "glorot_normal")
    with tf.GradientTape(persistent=True) as tape:
        h, outputs = tf.constant(x), []
        for layer in model.layers:
            h = layer(h)
            outputs.append(h)
        loss = tf.reduce_sum(tf.constant(_probe((64, WIDTH), 7), dtype=tf.float32) * h)
    grads = [tape.gradient(loss, out) for out in outputs]
    weight_grads = [tape.gradient(loss, layer.kernel) / 64 for layer in model.layers]
    _assert_matches(report, outputs, grads, weight_grads)
    kernels = [np.asarray(layer.kernel) for layer in model.layers]
    expected = _numpy_pass(kernels, [np.asarray(layer.bias) for layer in model.layers], x, 7)
    _assert_matches(report, *expected)  # the written-out pass agrees, so it can judge the other backends below


_SCRIPT = r"""
import json, sys
import numpy as np
import keras, unit_init as ui
sys.path.insert(0, sys.argv[1])
from test_diagnose_model import _keras_mlp
model = _keras_mlp(keras)
x = np.random.default_rng(1).normal(size=(64, 16)).astype(np.float32)
report = ui.diagnose(model, x, seed=7)
print(json.dumps({"report": [report.activation_std, report.gradient_std, report.weight_gradient_std],
                  "kernels": [np.asarray(l.kernel).tolist() for l in model.layers],
                  "biases": [np.asarray(l.bias).tolist() for l in model.layers], "backend": report.backend}))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_keras_other_backends_match_written_out_pass(backend: str) -> None:
    pytest.importorskip("keras")
    pytest.importorskip(backend)
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, os.path.dirname(__file__)], env=env,
                          capture_output=True, text=True, check=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == f"keras ({backend})"
    x = np.random.default_rng(1).normal(size=(64, 16)).astype(np.float32)
    kernels = [np.asarray(k, dtype=np.float32) for k in result["kernels"]]
    expected = _numpy_pass(kernels, [np.asarray(b, dtype=np.float32) for b in result["biases"]], x, 7)
    for got, values in zip(result["report"], expected, strict=True):
        np.testing.assert_allclose(got, [_std(v) for v in values], rtol=RTOL)


# ---- verdicts ------------------------------------------------------------------

def _torch_verdict(spec: Any) -> str:
    torch = pytest.importorskip("torch")
    layers = [torch.nn.Linear(16 if i == 0 else WIDTH, WIDTH) for i in range(DEPTH)]
    model = torch.nn.Sequential(*(m for layer in layers for m in (layer, torch.nn.ReLU())))
    ui.torch.initialize(model, {torch.nn.Linear: spec, "*.bias": ui.Zeros()}, seed=0)
    return ui.diagnose(model, torch.randn(128, 16, generator=torch.Generator().manual_seed(0))).verdict


def _flax_verdict(spec: Any) -> str:
    nnx = pytest.importorskip("flax.nnx")
    return ui.diagnose(_nnx_mlp(nnx, spec), np.random.default_rng(0).normal(size=(128, 16)).astype(np.float32)).verdict


def _keras_verdict(spec: Any) -> str:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    model = _keras_mlp(keras, DEPTH)
    unit_init.keras.initialize(model, {keras.layers.Dense: spec, "*.bias": ui.Zeros()}, seed=0)
    return ui.diagnose(model, np.random.default_rng(0).normal(size=(128, 16)).astype(np.float32)).verdict


@pytest.mark.parametrize("verdict_of", [_torch_verdict, _flax_verdict, _keras_verdict], ids=["torch", "flax", "keras"])
@pytest.mark.parametrize(("spec", "expected"), [(ui.Zeros(), "symmetric"), (ui.RandomNormal(stddev=1.0), "exploding"),
                                                (ui.HeNormal(), "stable")], ids=["zeros", "normal", "he"])
def test_verdicts(verdict_of: Any, spec: Any, expected: str) -> None:
    assert verdict_of(spec) == expected


def test_an_activation_after_a_normalization_or_dropout_is_the_layers_on_every_framework() -> None:
    """``Dense`` → ``BatchNormalization`` → ``Activation("relu")`` was labelled ``linear`` (and suggested
    ``glorot_normal``), torch's and nnx's ``Linear`` → ``BatchNorm`` → activation ``None``: the activation after the
    normalization is the layer's (its He gain), as in ``Conv → BatchNorm → ReLU``."""
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    nnx = pytest.importorskip("flax.nnx")
    jnp = pytest.importorskip("jax.numpy")
    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.BatchNorm1d(32), torch.nn.Dropout(0.1), torch.nn.ReLU(),
                              torch.nn.Linear(32, 32), torch.nn.LayerNorm(32), torch.nn.Linear(32, 8))
    report = ui.diagnose(net, torch.randn(64, 16))
    assert report.activations == ("relu", None, None)  # a layer after a normalization is no activation
    assert report.suggested[0] == "he_normal"
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.BatchNormalization(), keras.layers.Dropout(0.1),
                              keras.layers.Activation("tanh"), keras.layers.Dense(8)])
    assert ui.diagnose(model, np.random.default_rng(0).standard_normal((64, 16)).astype("float32")).activations == ("tanh", "linear")
    layers = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), nnx.BatchNorm(32, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
    assert ui.diagnose(layers, jnp.ones((64, 16))).activations == ("relu", None)
    layers = nnx.Sequential(nnx.Linear(16, 32, rngs=nnx.Rngs(0)), nnx.InstanceNorm(32, rngs=nnx.Rngs(0)), nnx.relu, nnx.Linear(32, 8, rngs=nnx.Rngs(1)))
    assert ui.diagnose(layers, jnp.ones((64, 4, 16))).activations == ("relu", None)
    net = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Identity(), torch.nn.ReLU(), torch.nn.Linear(32, 8))  # a norm switched off
    assert ui.diagnose(net, torch.randn(64, 16)).activations == ("relu", None)
    wrapped = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.SpectralNormalization(keras.layers.Dense(32)),
                                keras.layers.ReLU(), keras.layers.Dense(8)])  # a wrapper holds a layer: not passed over
    assert ui.diagnose(wrapped, np.ones((64, 16), "float32")).activations == ("linear", "relu", "linear")


def test_refusals() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ui.ParameterError, match="needs inputs"):
        ui.diagnose(torch.nn.Linear(2, 2))
    with pytest.raises(ui.ParameterError, match="not a model"):
        ui.diagnose("he_normal", np.ones((2, 2)))
    with pytest.raises(ui.ParameterError, match="no weight layer to hook"):
        ui.diagnose(torch.nn.ReLU(), torch.ones(2, 2))


def test_torch_frozen_no_grad_and_inference_batches_are_diagnosed_as_trainable_ones() -> None:
    """A frozen model, a call under ``torch.no_grad()`` and a batch made under ``inference_mode`` raised autograd's RuntimeError."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x = torch.randn(16, 4)
    expected = ui.diagnose(model, x, seed=1).weight_gradient_std
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    assert ui.diagnose(model, x, seed=1).weight_gradient_std == expected
    assert not any(parameter.requires_grad for parameter in model.parameters())  # left frozen
    model.requires_grad_(True)
    with torch.no_grad():
        assert ui.diagnose(model, x, seed=1).weight_gradient_std == expected
    with torch.inference_mode():
        inference_batch = x.clone()
        with pytest.raises(ui.ParameterError, match="inference_mode"):
            ui.diagnose(model, x)
    assert ui.diagnose(model, inference_batch, seed=1).weight_gradient_std == expected

    class Nested(torch.nn.Module):  # an inference tensor inside nested inputs was not cloned: autograd's RuntimeError
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, pair: Any) -> Any:
            return self.inner(pair[0]["v"])

    nested = ui.diagnose(Nested(), (({"v": inference_batch}, 0),), seed=1)
    assert nested.weight_gradient_std == expected


def test_histogram_ranges_of_extreme_values_have_finite_distinct_edges() -> None:
    """At the largest float64 the 4-ulp widening overflowed to ``(-inf, inf)`` (NumPy: "range is not finite")."""
    import sys

    from unit_init.diagnostics.model import HISTOGRAM_BINS, _histogram_range

    top = sys.float_info.max
    for low, high in [(top, top), (-top, -top), (1e17, 1e17), (0.0, 0.0), (-1.0, 3.0)]:
        edges = np.histogram(np.array([low, high]), bins=HISTOGRAM_BINS, range=_histogram_range(low, high))[1]
        assert np.isfinite(edges).all()
        assert len(set(edges)) == HISTOGRAM_BINS + 1


def test_large_equal_outputs_get_a_histogram_with_distinct_edges() -> None:
    """Outputs all 1e17 (``low − 0.5 == low``) made ``np.histogram`` raise "too many bins"."""
    torch = pytest.importorskip("torch")
    model = torch.nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.fill_(1e17)
        model.bias.zero_()
    (histogram,) = ui.diagnose(model, torch.ones(3, 1)).histograms
    assert len(set(histogram.edges)) == len(histogram.edges)
    assert sum(histogram.counts) == 6


def test_complex_models_are_refused_with_a_dtype_error() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(ui.DTypeError, match="output of layer 'Linear' is complex"):
        ui.diagnose(torch.nn.Linear(4, 8, dtype=torch.complex64), torch.ones(16, 4, dtype=torch.complex64))
    jnp = pytest.importorskip("jax.numpy")
    nnx = pytest.importorskip("flax.nnx")
    model = nnx.Linear(4, 8, rngs=nnx.Rngs(0), param_dtype=jnp.complex64, dtype=jnp.complex64)
    with pytest.raises(ui.DTypeError, match="output of layer 'Linear' is complex"):
        ui.diagnose(model, jnp.ones((16, 4), jnp.complex64))


def test_a_bare_linen_layer_is_refused_with_a_way_out() -> None:
    """A root ``nn.Dense`` is no layer linen's interceptor names: it said "the model has no weight layer to hook"."""
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    x = jax.numpy.ones((16, 4))
    layer = nn.Dense(8)
    with pytest.raises(ui.ParameterError, match=r"the module is itself a Dense.*nn\.Sequential\(\[layer\]\)"):
        unit_init.jax.diagnose(layer, layer.init(jax.random.key(0), x), x)
    wrapped = nn.Sequential([nn.Dense(8)])
    assert unit_init.jax.diagnose(wrapped, wrapped.init(jax.random.key(0), x), x).layers == ("layers_0",)


def test_torch_tuple_and_dict_outputs_sum_one_probe_term_per_float_tensor() -> None:
    """A model returning a tuple or dict crashed (``'tuple' object has no attribute 'is_complex'``): the loss is now
    ``Σᵢ ⟨gᵢ, yᵢ⟩`` over its float tensors, ``gᵢ`` drawn from ``seed + i``; an output with no float tensor is typed."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class Two(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.a, self.b = nn.Linear(8, 16), nn.Linear(16, 3)

        def forward(self, x: Any) -> Any:
            h = torch.tanh(self.a(x))
            return self.b(h), h

    class Named(Two):
        def forward(self, x: Any) -> Any:
            y, h = super().forward(x)
            return {"logits": y, "steps": torch.tensor(3), "hidden": h}

    class Counts(Two):
        def forward(self, x: Any) -> Any:
            return super().forward(x)[0].argmax(-1)

    x = torch.from_numpy(np.random.default_rng(1).normal(size=(32, 8)).astype(np.float32))
    model = Two()
    outputs: list[Any] = []
    handles = [m.register_forward_hook(lambda _, __, out: outputs.append(out)) for m in (model.a, model.b)]
    y, h = model(x)
    for handle in handles:
        handle.remove()
    for out in outputs:
        out.retain_grad()
    loss = (torch.from_numpy(_probe((32, 3), 5)).float() * y).sum() + (torch.from_numpy(_probe((32, 16), 6)).float() * h).sum()
    loss.backward()
    expected = ([o.detach() for o in outputs], [o.grad for o in outputs], [model.a.weight.grad / 32, model.b.weight.grad / 32])
    _assert_matches(ui.diagnose(model, x, seed=5), *expected)
    _assert_matches(ui.diagnose(Named(), x, seed=5), *expected)  # the int tensor is no term
    with pytest.raises(ui.ParameterError, match="no float array"):
        ui.diagnose(Counts(), x)


def test_keras_and_flax_outputs_of_one_array_in_a_list_or_tuple_diagnose_as_the_array() -> None:
    keras = pytest.importorskip("keras")
    nnx = pytest.importorskip("flax.nnx")
    x = np.random.default_rng(2).normal(size=(64, 16)).astype(np.float32)
    single = _keras_mlp(keras)
    listed = keras.Model(single.inputs[0], [single.outputs[0]])
    assert ui.diagnose(listed, x, seed=4).gradient_std == ui.diagnose(single, x, seed=4).gradient_std
    model = _nnx_mlp(nnx, ui.HeNormal())

    class Tupled(nnx.Module):
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __call__(self, x: Any) -> Any:
            return (self.inner(x),)

    assert ui.diagnose(Tupled(model), x, seed=4).gradient_std == ui.diagnose(model, x, seed=4).gradient_std


def test_a_misspelt_keyword_of_torch_diagnose_is_an_argument_error() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    with pytest.raises(ui.ArgumentError, match="seed"):
        unit_init.torch.diagnose(torch.nn.Linear(4, 2), torch.randn(8, 4), sed=0)


def test_the_batch_is_the_first_output_with_an_axis() -> None:
    """A scalar auxiliary output before the logits made the batch 1: the weight gradients were not averaged."""
    torch = pytest.importorskip("torch")

    class Aux(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.fc = torch.nn.Linear(8, 3)

        def forward(self, x: Any) -> Any:
            y = self.fc(x)
            return y.mean() * 0, y

    x = torch.randn(32, 8)
    plain = ui.diagnose(torch.nn.Sequential(Aux().fc), x, seed=6)
    aux = ui.diagnose(Aux(), x, seed=5)  # the scalar takes seed 5, the logits seed 6: the plain model's probe
    np.testing.assert_allclose(aux.weight_gradient_std, plain.weight_gradient_std, rtol=1e-6)


def test_torch_layers_without_a_gradient_are_named_typed_and_the_model_kept() -> None:
    """An auxiliary head whose output is dropped, a detached output, a layer under ``no_grad`` inside ``forward``:
    each raised torch's own ``RuntimeError`` from ``autograd.grad``."""
    torch = pytest.importorskip("torch")
    import unit_init.torch

    class Aux(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = torch.nn.Linear(8, 8), torch.nn.Linear(8, 8)

        def forward(self, x: Any) -> Any:
            self.b(x)
            return self.a(x)

    class Detached(Aux):
        def forward(self, x: Any) -> Any:
            return self.a(x).detach()

    class Frozen(Aux):
        def forward(self, x: Any) -> Any:
            with torch.no_grad():
                hidden = self.b(x)
            return self.a(hidden)

    batch = torch.randn(16, 8)
    for model, message in ((Aux(), "layer 'b''s output does not reach the model's output"),
                           (Detached(), "does not depend differentiably on its layers"),
                           (Frozen(), "layer 'b''s output is outside autograd's graph")):
        with pytest.raises(ui.ParameterError, match=message):
            ui.diagnose(model, batch)
        assert not any(module._forward_hooks for module in model.modules())
        assert all(parameter.requires_grad for parameter in model.parameters())
    assert unit_init.torch.diagnose(Aux(), batch, layers=["a"]).layers == ("a",)  # the way out the message names


def test_a_single_output_unit_or_a_depthwise_filter_is_not_symmetry() -> None:
    """Every model with a one-unit head (a regression output, a binary classifier, a 1-channel mask) was judged
    ``symmetric`` in torch, Keras and Flax: its one unit was compared with itself. A depthwise convolution whose every
    channel holds the same filter (a blur) was too, though each channel sees its own input (a helper's campaign)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    head = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    assert ui.diagnose(head, torch.randn(32, 8)).verdict == "stable"
    blur = torch.nn.Sequential(torch.nn.Conv2d(4, 4, 3, groups=4, padding=1, bias=False), torch.nn.Conv2d(4, 8, 1))
    with torch.no_grad():
        blur[0].weight.fill_(1 / 9)
    assert ui.diagnose(blur, torch.randn(4, 4, 8, 8)).verdict != "symmetric"
    with torch.no_grad():
        head[0].weight.zero_()  # sixteen identical units: still symmetry
    assert ui.diagnose(head, torch.randn(32, 8)).verdict == "symmetric"
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    assert ui.diagnose(model, np.random.default_rng(0).normal(size=(32, 8)).astype(np.float32)).verdict == "stable"


def test_torch_width_is_the_widest_layer_not_an_axis_of_its_output() -> None:
    """The width was read from axis 1 of each output: a batch-first transformer on (4, 10, 32) reported its sequence
    length, 10, where its widest layer has 64 units (a helper's campaign)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    encoder = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, batch_first=True), 1)
    assert ui.diagnose(encoder, torch.randn(4, 10, 32)).width == 64
    grouped = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3), torch.nn.ReLU(), torch.nn.ConvTranspose2d(16, 24, 3, groups=2))
    assert ui.diagnose(grouped, torch.randn(2, 3, 8, 8)).width == 24


def test_a_linen_depthwise_blur_is_not_symmetry() -> None:
    """Linen read a depthwise convolution's kernel without its ``feature_group_count``, where nnx, Keras and torch pass
    it: a blur (every channel the same filter) was judged ``symmetric`` (review)."""
    jax = pytest.importorskip("jax")
    nn = pytest.importorskip("flax.linen")
    import unit_init.jax

    class Blur(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.Conv(4, (3, 3), feature_group_count=4, use_bias=False, kernel_init=nn.initializers.constant(1 / 9), name="blur")(x)
            return nn.Dense(8, name="out")(x)

    x = np.random.default_rng(0).normal(size=(4, 8, 8, 4)).astype(np.float32)
    variables = Blur().init(jax.random.key(0), x)
    assert unit_init.jax.diagnose(Blur(), variables, x, seed=0).verdict != "symmetric"


def test_an_nnx_layer_run_under_jit_inside_the_model_is_refused_by_name() -> None:
    """A submodule called through ``nnx.jit`` inside ``__call__`` recorded a tracer, and reading it was JAX's
    ``TracerArrayConversionError`` (review); lsuv is refused before it writes a weight."""
    pytest.importorskip("jax")
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    class Model(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.a, self.b, self.head = nnx.Linear(8, 8, rngs=rngs), nnx.Linear(8, 8, rngs=rngs), nnx.Linear(8, 2, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            return self.head(nnx.jit(lambda module, y: module(y))(self.b, self.a(x)))

    x = np.random.default_rng(0).normal(size=(32, 8)).astype(np.float32)
    with pytest.raises(ui.ParameterError, match=r"layers \['b'\] run inside a JAX transformation"):
        unit_init.jax.diagnose(Model(nnx.Rngs(0)), x)
    model = Model(nnx.Rngs(0))
    before = np.asarray(model.a.kernel.get_value())
    with pytest.raises(ui.ParameterError, match="run inside a JAX transformation"):
        unit_init.jax.lsuv(model, x)
    np.testing.assert_array_equal(np.asarray(model.a.kernel.get_value()), before)
