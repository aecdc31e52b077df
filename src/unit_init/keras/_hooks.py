"""Hooks on a Keras 3 model: :func:`lsuv` and :func:`diagnose`, on the TensorFlow, JAX and torch backends.

Keras layers have no forward hooks: :mod:`unit_init.adapters.hooks` swaps
each weight layer's class, during a call, for a subclass whose ``call``
records the output (and adds a zero perturbation ``ε_l``, whose gradient is
``∂ℓ/∂z_l``). Gradients come from the backend's own autodiff:
``tf.GradientTape``, ``jax.grad`` over ``model.stateless_call``, or
``torch.autograd.grad``. The framework-free parts are
:mod:`unit_init.adapters.lsuv` and :mod:`unit_init.diagnostics.model`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np

from unit_init.adapters.hooks import Session, forward, hooked
from unit_init.adapters.lsuv import (
    DEFAULT_SPEC,
    Layers,
    Rescaled,
    check_batch,
    check_options,
    rescaled,
    rules_for,
    run,
    select,
    std_of,
    undone_if_raised,
)
from unit_init.diagnostics.model import (
    LayerTrace,
    ModelReport,
    activation_name,
    batch_rows,
    identical_units,
    model_report,
    probes,
)
from unit_init.errors import ParameterError, keywords_checked
from unit_init.keras._model import initialize, named_layers
from unit_init.spec.initializer import Initializer

__all__ = ["diagnose", "lsuv"]

_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
_SUPPORTED = (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D, *_TRANSPOSED)
_KINDS = "Dense, Conv1D/2D/3D, Conv1DTranspose/2DTranspose/3DTranspose"


def _numpy(value: Any) -> Any:
    return np.asarray(keras.ops.convert_to_numpy(value), dtype=np.float64)


def _finite(value: Any) -> bool:
    """Whether every value of a batch input (a NumPy array or a tensor of Keras's backend) is finite."""
    return bool(keras.ops.all(keras.ops.isfinite(value)))


def _as_inputs(model: Any, batch: Any) -> Any:
    """A list or dict batch as the one input of a model whose ``call`` takes one (``model([a, b])``,
    ``model({"a": a})``, as ``model.fit`` takes it: functional and Sequential models); for a ``call`` of several
    required arguments, and for a tuple, the items are its arguments (positional, or keyword for a dict)."""
    if not isinstance(batch, (list, dict)):
        return batch
    try:
        parameters = inspect.signature(model.call).parameters.values()
    except (TypeError, ValueError):  # a call Python cannot introspect: as one input
        return (batch,)
    required = [p for p in parameters if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (batch,) if len(required) <= 1 else batch


def _layers(model: Any, layers: Layers) -> dict[str, Any]:
    """The weight layers of ``model`` by their path below it (:func:`~unit_init.keras._model.named_layers`)."""
    if not isinstance(model, keras.layers.Layer) or not model.built:
        msg = f"model={type(model).__name__} must be a built Keras model or layer (call it once, or build it)."
        raise ParameterError(msg)
    named = named_layers(model)
    chosen = dict(select(named, layers, lambda layer: isinstance(layer, _SUPPORTED), _KINDS))
    quantized = [name for name, layer in chosen.items() if getattr(layer, "quantization_mode", None)]
    if quantized:  # Keras calls their quantized kernels by another path: no hook sees them, nor a float weight to scale
        mode = chosen[quantized[0]].quantization_mode
        msg = f"layers {quantized} are quantized ({mode}); run lsuv or diagnose on the model before model.quantize(...)."
        raise ParameterError(msg)
    return chosen


def _order(model: Any, batch: Any, layers: dict[str, Any], *, picked: bool) -> tuple[list[str], Any, dict[str, Any]]:
    """The layers in call order, the model's output and each layer's output on ``batch``.

    Layers the call never reaches are an error where ``picked`` (``layers=``
    named them), else left out.
    """
    session = Session()
    output = forward(model, batch, session)
    missing = sorted(set(layers) - set(session.record))
    if missing and (picked or not session.record):
        msg = f"layers {missing} are not called by model(batch); pass layers= to pick the ones that run."
        raise ParameterError(msg)
    return list(session.record), output, session.record


@keywords_checked
def lsuv(
    model: Any,
    batch: Any,
    *,
    spec: Initializer = DEFAULT_SPEC,
    target_std: float = 1.0,
    tol: float = 0.1,
    max_iter: int = 10,
    seed: int | None = None,
    layers: Layers = None,
    progress: bool | None = None,
) -> Rescaled:
    """LSUV (Mishkin & Matas 2015) on a built Keras model, in place; return ``(model, report)``.

    Every selected layer's kernel is drawn from ``spec`` and its bias set to
    zero (:func:`initialize`, seeded by ``seed``); then, in forward order,
    ``W_l ← W_l · τ / std(z_l)`` until ``|std(z_l) − τ| ≤ tol · τ`` (at most
    ``max_iter`` times), ``z_l`` being the layer's output on ``batch`` (after
    the layer's own ``activation``, if it has one) and ``τ = target_std``.
    ``layers`` picks by layer name (globs) or type; the default is every
    ``Dense``, ``Conv*`` and ``Conv*Transpose`` whose kernel is trainable (a frozen
    layer keeps its weights; picked by ``layers=``, it is a ``ParameterError``).
    See docs/lsuv.md.

    Examples
    --------
    >>> import keras, numpy as np, unit_init as ui
    >>> import unit_init.keras
    >>> model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32), keras.layers.ReLU(), keras.layers.Dense(8)])
    >>> model, report = unit_init.keras.lsuv(model, np.random.default_rng(0).normal(size=(256, 16)), seed=0)
    >>> [round(layer.std, 3) for layer in report.layers], report.converged
    ([1.0, 1.0], True)
    """
    target_std, tol, max_iter = check_options(target_std, tol, max_iter)
    check_batch(batch, _finite)
    chosen = _unfrozen(_layers(model, layers), picked=layers is not None)
    batch = _as_inputs(model, batch)
    with hooked(chosen, "call"):
        order, _, _ = _order(model, batch, chosen, picked=layers is not None)  # before anything is written
        chosen = {name: chosen[name] for name in order}

        def measure(name: str) -> float:
            session = Session(stop=name)
            forward(model, batch, session)
            return std_of(_numpy(session.record[name]))

        def rescale(name: str, factor: float) -> bool:
            kernel = chosen[name].kernel
            scaled = rescaled(kernel.value, factor, keras.ops)  # the value: keras.ops.count_nonzero of a Variable fails on JAX
            if scaled is None:
                return False
            kernel.assign(scaled)
            return True

        with undone_if_raised(_saved(chosen.values())):
            initialize(model, rules_for(chosen.values(), spec, biases=any(layer.use_bias for layer in chosen.values())),
                       seed=seed, progress=progress)
            report = run(order, measure, rescale, target_std=target_std, tol=tol, max_iter=max_iter, progress=progress)
    return Rescaled(model, report)


def _unfrozen(layers: dict[str, Any], *, picked: bool) -> dict[str, Any]:
    """The ``layers`` whose kernel is trainable: ``initialize`` draws only trainable variables, so LSUV would rescale a
    frozen layer's weights (pretrained ones, kept on purpose) without drawing them first. Left out unless ``picked``
    (``layers=`` named them), where a frozen one is a :class:`ParameterError`."""
    lora = [name for name, layer in layers.items() if getattr(layer, "lora_enabled", False)]
    if lora:  # its kernel is the frozen base plus the trainable low-rank factors: no one weight to draw and rescale
        msg = f"layers {lora} have LoRA enabled; run lsuv on the model before layer.enable_lora(...)."
        raise ParameterError(msg)
    frozen = [name for name, layer in layers.items() if not layer.kernel.trainable]
    if frozen and picked:
        msg = (f"layers {frozen} are frozen (trainable=False): lsuv draws a layer's kernel before rescaling it, and "
               "initialize leaves frozen weights as they are; set trainable=True first, or leave them out.")
        raise ParameterError(msg)
    kept = {name: layer for name, layer in layers.items() if name not in frozen}
    if not kept:
        msg = f"every weight layer of the model is frozen (trainable=False): {frozen[:20]}; lsuv has none to draw and rescale."
        raise ParameterError(msg)
    return kept


def _saved(layers: Iterable[Any]) -> Callable[[], None]:
    """What assigns every variable of ``layers`` its value now (a copy of each is kept until then)."""
    saved = [(variable, keras.ops.copy(variable.value)) for layer in layers for variable in layer.weights]

    def restore() -> None:
        for variable, value in saved:
            variable.assign(value)

    return restore


def _float_leaves(output: Any) -> list[Any]:
    """The float tensors of a model's output: itself, or the leaves of a tuple, list or dict of them (``keras.tree``)."""
    return [leaf for leaf in keras.tree.flatten(output) if hasattr(leaf, "dtype") and keras.backend.is_float_dtype(leaf.dtype)]


def _probed(gs: list[Any], output: Any) -> Any:
    """``ℓ = Σᵢ ⟨gᵢ, yᵢ⟩`` over the float tensors ``yᵢ`` of ``output``."""
    return sum(keras.ops.sum(g * y) for g, y in zip(gs, _float_leaves(output), strict=True))


def _tensorflow_grads(model: Any, batch: Any, gs: list[Any], eps: dict[str, Any], kernels: list[Any]) -> tuple[Any, list[Any]]:
    tf = importlib.import_module("tensorflow")
    with tf.GradientTape() as tape:
        tape.watch(list(eps.values()))
        session = Session(eps=eps)
        loss = _probed(gs, forward(model, batch, session))
    grads = tape.gradient(loss, [*eps.values(), *kernels])
    return session.record, grads


def _jax_grads(model: Any, batch: Any, gs: list[Any], eps: dict[str, Any], kernels: list[Any]) -> tuple[Any, list[Any]]:
    jax = importlib.import_module("jax")
    trainable = [variable.value for variable in model.trainable_variables]
    frozen = [variable.value for variable in model.non_trainable_variables]

    def loss(values: list[Any], perturbations: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        session = Session(eps=perturbations)
        output, _ = forward(lambda *a, **k: model.stateless_call(values, frozen, *a, **k), batch, session)
        return _probed(gs, output), session.record

    (value_grads, eps_grads), record = jax.grad(loss, argnums=(0, 1), has_aux=True)(trainable, eps)
    index = {id(variable): i for i, variable in enumerate(model.trainable_variables)}
    return record, [*eps_grads.values(), *(value_grads[index[id(kernel)]] for kernel in kernels)]


def _torch_grads(model: Any, batch: Any, gs: list[Any], eps: dict[str, Any], kernels: list[Any]) -> tuple[Any, list[Any]]:
    torch = importlib.import_module("torch")
    for value in eps.values():
        value.requires_grad_(True)
    session = Session(eps=eps)
    loss = _probed(gs, forward(model, batch, session))
    return session.record, list(torch.autograd.grad(loss, [*eps.values(), *(kernel.value for kernel in kernels)]))


_GRADIENTS = {"tensorflow": _tensorflow_grads, "jax": _jax_grads, "torch": _torch_grads}


@keywords_checked
def diagnose(model: Any, batch: Any, *, layers: Layers = None, seed: int = 0) -> ModelReport:
    """Per-layer output and gradient stds of a built Keras model on ``batch``, judged as :func:`unit_init.diagnose` judges its MLP.

    Hooked layers record ``z_l`` (after their own ``activation``) and add a
    zero ``ε_l``; the backend's autodiff of ``ℓ = ⟨g, y⟩`` (``g`` a
    standard-normal probe drawn from ``seed``; summed over the tensors of a
    list or dict output) with respect to the ``ε_l``
    and the kernels gives ``∂ℓ/∂z_l`` and ``∂L/∂W_l``. A layer's activation
    is its ``activation`` argument, or the activation layer called next.
    ``layers`` is as in :func:`lsuv`.

    Examples
    --------
    >>> import keras, numpy as np, unit_init as ui
    >>> model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(8)])
    >>> ui.diagnose(model, np.random.default_rng(0).normal(size=(64, 16)).astype("float32")).suggested
    ('he_normal', 'glorot_normal')
    """
    check_batch(batch, _finite)
    chosen = _layers(model, layers)
    batch = _as_inputs(model, batch)
    backend = keras.backend.backend()
    if backend not in _GRADIENTS:
        msg = f"diagnose on Keras runs on the tensorflow, jax or torch backend, not KERAS_BACKEND={backend!r}."
        raise ParameterError(msg)
    with hooked(chosen, "call"):
        order, output, record = _order(model, batch, chosen, picked=layers is not None)
        chosen = {name: chosen[name] for name in order}
        leaves = _float_leaves(output)
        gs = [keras.ops.convert_to_tensor(g, dtype=y.dtype) for g, y in zip(probes(leaves, seed), leaves, strict=True)]
        eps = {name: keras.ops.zeros_like(record[name]) for name in order}
        kernels = [chosen[name].kernel for name in order]
        outputs, grads = _GRADIENTS[backend](model, batch, gs, eps, kernels)
    rows = batch_rows(leaves)
    activations = _activations(model, chosen)
    traces = [
        LayerTrace(name, _numpy(outputs[name]), _numpy(grads[i]), _numpy(grads[len(order) + i]) / rows,
                   identical_units(_numpy(kernels[i]), -1, int(getattr(chosen[name], "groups", 1))), activations[name])
        for i, name in enumerate(order)
    ]
    return model_report(
        traces, model=type(model).__name__, backend=f"keras ({backend})", device="default", dtype=str(kernels[0].dtype),
        batch=rows, width=max(int(outputs[name].shape[-1]) for name in order),
        bias=any(chosen[name].use_bias for name in order), seed=seed,
    )


def _passed_through(layer: Any) -> bool:
    """A normalization or dropout layer, which stands between a layer and its activation (``Dense`` →
    ``BatchNormalization`` → ``Activation("relu")`` is a ReLU layer)."""
    return type(layer).__module__.startswith(("keras.src.layers.normalization", "keras.src.layers.regularization")) and not isinstance(
        layer, keras.layers.Wrapper  # SpectralNormalization holds a layer with weights of its own
    )


def _activations(model: Any, layers: dict[str, Any]) -> dict[str, str | None]:
    """Each layer's own ``activation`` unless linear, else the ``Activation``/``ReLU`` layer that follows it in
    ``model.layers`` once normalization and dropout layers are passed."""
    sequence = list(model.layers) if isinstance(model, keras.Model) else []
    after = {id(layer): next((f for f in sequence[index + 1 :] if not _passed_through(f)), None) for index, layer in enumerate(sequence)}
    after |= {id(layer.layer): after[id(layer)] for layer in sequence if isinstance(layer, keras.layers.Wrapper)}  # SpectralNormalization(Dense)
    found = {}
    for name, layer in layers.items():
        own = activation_name(layer.activation)
        following = after.get(id(layer))
        if own == "linear" and isinstance(following, keras.layers.Activation):
            own = activation_name(following.activation)
        elif own == "linear" and following is not None and type(following).__module__.startswith("keras.src.layers.activations"):
            own = activation_name(type(following).__name__)
        found[name] = own
    return found
