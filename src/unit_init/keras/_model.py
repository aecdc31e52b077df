"""Whole-model initialization by rules for Keras 3: :func:`initialize`, the Keras walker of :mod:`unit_init.adapters.rules`."""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import keras

from unit_init.adapters import rules
from unit_init.adapters.canonical import canonical_leaf
from unit_init.adapters.rules import Entry, Gated, Initialized, Param, Rules, check_rng, draw, fill, plan
from unit_init.errors import ParameterError, keywords_checked
from unit_init.keras._initializer import is_fan_scaled
from unit_init.spec.fans import Layout, LayoutLike

__all__ = ["initialize", "named_layers"]

_TRANSPOSED = (keras.layers.Conv1DTranspose, keras.layers.Conv2DTranspose, keras.layers.Conv3DTranspose)
_KERAS_2 = ("tf_keras.", "keras.engine.", "keras.src.engine.")
"""Where Keras 2's layers and models live (tf_keras; keras 2 before and after its move under ``src``)."""
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)


def _owners(model: keras.layers.Layer) -> dict[int, tuple[keras.layers.Layer, ...]]:
    """The layers containing each variable (by ``id``), innermost first; Keras walks layers outermost first."""
    owners: dict[int, tuple[keras.layers.Layer, ...]] = {}
    for layer in model._flatten_layers(include_self=True):  # Keras's own recursive walk (no public one)
        for variable in layer.weights:
            owners[id(variable)] = (layer, *owners.get(id(variable), ()))
    return owners


def _einsum_layout(equation: str, rank: int) -> Layout:
    """An ``EinsumDense`` kernel's axes as Keras gives them to its own initializers.

    Kernel axes summed with the input are the in axes, those kept in the
    output the out axes, and any other axis counts in neither fan.
    """
    operands, output = equation.split("->")
    inputs, kernel = operands.split(",")
    in_axes = tuple(i for i, c in enumerate(kernel) if c in inputs and c not in output)
    out_axes = tuple(i for i, c in enumerate(kernel) if c in output)
    rest = tuple(i for i in range(rank) if i not in in_axes + out_axes)
    return Layout(in_axis=in_axes, out_axis=out_axes, batch_axis=rest)


def _functional(model: Any) -> bool:
    """Whether ``model`` is a functional Keras model (``keras.Model(inputs, outputs)``, or a class built on one), whose
    variable paths do not start with its name (``fc/kernel``; a Sequential's and a subclassed model's do: ``net/fc/kernel``)."""
    return any(kind.__name__ == "Functional" and kind.__module__.startswith("keras.") for kind in type(model).__mro__)


def _param(variable: Any, name: str, owners: tuple[Any, ...], root: str | None) -> Param:
    """The engine's view of one variable; ``root``: the name its path starts with (the model's), ``None`` for a
    functional model, whose paths start with their layers' names."""
    parts = tuple(name.split("/"))
    owner = owners[0] if owners else None
    # the first part is the model's own only where what follows still names the owning layer (a functional model
    # nested in a Sequential gives its layers' paths no prefix)
    prefixed = parts[0] == root and (len(parts) > 2 or len(owners) < 2 or getattr(owner, "name", None) != root)
    path = parts[1:-1] if prefixed else parts[:-1]
    shape = tuple(variable.shape)
    leaf = canonical_leaf(parts[-1], len(shape))
    layout: LayoutLike = "keras"
    torch_fans = None
    if leaf == "kernel" and isinstance(owner, _TRANSPOSED):  # (*window, out, in)
        layout = "keras_transpose"
        torch_fans = rules.transposed_fans(shape[-1], shape[-2], math.prod(shape[:-2]))
    elif leaf == "kernel" and isinstance(owner, keras.layers.EinsumDense):
        layout = _einsum_layout(owner.equation, len(shape))
    elif (leaf == "kernel" and isinstance(owner, _DEPTHWISE)) or (leaf == "depthwise_kernel" and isinstance(owner, _SEPARABLE)):
        layout = _depthwise_layout(len(shape), shape[-1])
    return Param(name, path, leaf, shape, layout, owners, torch_fans=torch_fans)


def _depthwise_layout(rank: int, multiplier: int) -> LayoutLike:
    """A depthwise kernel ``(*window, channels, multiplier)`` as the grouped convolution it is: each output sees one
    input channel (fan_in = window, as torch's ``Conv(C, C·m, groups=C)`` and Flax's ``feature_group_count=C`` read
    theirs; Keras's own initializers take ``channels · window``). With ``multiplier`` 1 the axes are that convolution's
    ``(*window, 1, C)`` swapped, so twins draw equal values; with more, the outputs are both last axes, drawn as they are."""
    if multiplier == 1:
        return "keras_transpose"
    return Layout(in_axis=(), out_axis=(rank - 2, rank - 1))


def _frozen(model: keras.layers.Layer, owners: dict[int, tuple[keras.layers.Layer, ...]]) -> list[Any]:
    """The weights of frozen layers (``trainable = False``): trainable weights of their layer (Keras's
    ``_trainable_variables``; not its moving statistics) that ``initialize`` leaves as they are."""
    frozen = []
    for variable in model.weights:
        layer = owners.get(id(variable), (None,))[0]
        if not variable.trainable and any(variable is own for own in getattr(layer, "_trainable_variables", ())):
            frozen.append(variable)
    return frozen


def _names(model: keras.layers.Layer, variables: list[Any], owners: dict[int, tuple[keras.layers.Layer, ...]]) -> list[str]:
    """Each variable's name: its ``path``, but where variables share one (two nested functional models holding
    layers of one name: Keras gives both ``fc/kernel``) the path of layer names below ``model`` to its owner
    (:func:`named_layers`) and its own name: ``b1/fc/kernel``, ``b2/fc/kernel``. Where those collide too (two
    sublayers of one model named alike) the paths stay, and the plan refuses them as twins."""
    shared = {path for path, count in collections.Counter(v.path for v in variables).items() if count > 1}
    if not shared:
        return [variable.path for variable in variables]
    walked = {id(layer): name for name, layer in named_layers(model)}
    walked[id(model)] = model.name

    def name(variable: Any) -> str:
        owner = owners.get(id(variable), (model,))[0]
        if variable.path not in shared or id(owner) not in walked:
            return str(variable.path)
        return f"{walked[id(owner)]}/{variable.path.rsplit('/', 1)[-1]}"

    named = [name(variable) for variable in variables]
    twice = {key for key, count in collections.Counter(named).items() if count > 1}  # sublayers of one model named alike
    return [variable.path if key in twice else key for variable, key in zip(variables, named, strict=True)]


def named_layers(model: Any) -> Iterator[tuple[str, Any]]:
    """Every layer of ``model`` (itself first) named by its path of layer names below it (``dense``, ``inner/fc``):
    nested models may hold layers of the same name. A layer shared by two sub-models keeps its first name."""
    seen: set[int] = set()

    def walk(layer: Any, prefix: str) -> Iterator[tuple[str, Any]]:
        for child in layer._flatten_layers(include_self=False, recursive=False):  # Keras's own walk (no public one)
            if id(child) not in seen:
                seen.add(id(child))
                yield f"{prefix}{child.name}", child
                yield from walk(child, f"{prefix}{child.name}/")

    seen.add(id(model))
    yield model.name, model
    yield from walk(model, "")


def _as_keras_hands_axes(entry: Entry) -> Entry:
    """``entry`` with an ``EinsumDense`` kernel's axes only for a fan-scaled spec, as Keras hands them to its own.

    Keras gives ``input_axes``/``output_axes`` to its ``VarianceScaling``
    family alone; ``Orthogonal`` and the rest see the kernel in the plain
    ``"keras"`` layout (``Orthogonal`` flattens it to ``(prod(shape[:-1]), shape[-1])``).
    """
    if not isinstance(entry.param.layout, Layout) or isinstance(entry.spec, Gated) or is_fan_scaled(entry.spec):
        return entry
    return dataclasses.replace(entry, param=dataclasses.replace(entry.param, layout="keras"))


@keywords_checked
def initialize(
    model: keras.layers.Layer,
    rules: Rules,
    *,
    seed: int | None = None,
    rng: str = "native",
    names: Mapping[str, str] | Callable[[str], str] | None = None,
    skip: Iterable[str] | Callable[[Param], bool] | None = None,
    bias_fan_from_weight: bool = True,
    progress: bool | None = None,
) -> Initialized:
    """Initialize a built Keras model's (or layer's) trainable variables in place by rules; return ``(model, report)``.

    Variables are named by their ``path`` (``"seq/fc1/kernel"``; the canonical
    name drops the model's own name and says ``embedding``, ``scale`` and
    ``bias`` for ``embeddings``, ``gamma`` and ``beta``: ``"fc1.kernel"``), or where
    two share one (nested functional models holding layers of one name) by the path
    of layer names below the model (``"b1/fc/kernel"``);
    type keys (``keras.layers.Dense``, ``keras.layers.MultiHeadAttention`` …)
    match every variable of a layer of that type or of its sublayers. Non-trainable variables (a
    ``BatchNormalization``'s moving statistics, seed states, an int8 layer's kernel) and the state Keras
    overwrites itself (a float8 layer's scales and amax histories: ``overwrite_with_gradient``) are not
    parameters and are left alone. Kernels are ``(*window, in, out)``;
    ``Conv*Transpose`` kernels ``(*window, out, in)``; an ``EinsumDense``
    kernel (also inside ``MultiHeadAttention``) takes the fans Keras gives
    its own initializers: the axes summed with the input are ``in``, those
    kept in the output ``out``. Values are drawn on
    the current Keras backend in each variable's dtype and assigned. The
    rules, ``seed``, ``rng``, ``names``, ``skip``,
    ``bias_fan_from_weight`` and ``progress`` are those of :func:`unit_init.initialize`.

    Examples
    --------
    >>> import keras, unit_init as ui
    >>> import unit_init.keras
    >>> model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, name="fc")], name="net")
    >>> model, report = unit_init.keras.initialize(model, {keras.layers.Dense: ui.HeNormal(), "*.bias": ui.Ones()}, seed=0)
    >>> model.layers[0].bias.numpy().tolist(), dict(report.applied)
    ([1.0, 1.0, 1.0, 1.0], {'net/fc/kernel': 0, 'net/fc/bias': 1})
    """
    if not isinstance(model, keras.layers.Layer) and any(kind.__module__.startswith(_KERAS_2) for kind in type(model).__mro__):
        msg = (f"model={type(model).__name__} is a Keras 2 model (tf_keras or tf.keras: Hugging Face's TF models are), not a "
               "Keras 3 one; initialize its weights as a pytree: ui.initialize({w.name: w.numpy() for w in "
               "model.trainable_weights}, rules), then assign each array back with w.assign(...).")
        raise ParameterError(msg)
    if not isinstance(model, keras.layers.Layer) or not model.built:
        msg = f"model={type(model).__name__} must be a built Keras model or layer (call it once, or build it)."
        raise ParameterError(msg)
    rng = check_rng(rng)
    owners = _owners(model)
    frozen = _frozen(model, owners)  # left as they are, and reported skipped
    trainable = [v for v in model.weights if (v.trainable or any(v is f for f in frozen)) and not getattr(v, "overwrite_with_gradient", False)]  # not state
    named = _names(model, trainable, owners)
    root = None if _functional(model) else model.name
    described = [_param(variable, name, owners.get(id(variable), ()), root) for variable, name in zip(trainable, named, strict=True)]
    left_out = [name for variable, name in zip(trainable, named, strict=True) if any(variable is f for f in frozen)]
    entries, report = plan(described, rules, seed=seed, skip=skip, names=names, bias_fan_from_weight=bias_fan_from_weight, left_out=left_out)
    entries = [_as_keras_hands_axes(entry) for entry in entries]
    variables = dict(zip(named, trainable, strict=True))  # names are unique: plan refuses twins
    backend = keras.backend.backend()

    def target(entry: Entry) -> dict[str, Any]:
        return {"backend": backend, "dtype": variables[entry.param.name].dtype, "rng": rng}

    def write(entry: Entry) -> None:
        variables[entry.param.name].assign(draw(entry, **target(entry)))

    fill(entries, write, target=target, progress=progress)  # every variable checked before the first is assigned
    return Initialized(model, report)
