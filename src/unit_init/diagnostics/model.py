"""``diagnose(model, batch)``: the verdict of :func:`unit_init.diagnose` on a user's own torch, Keras or Flax model.

Imports no framework: :func:`~unit_init.adapters.frameworks.framework_of`
looks at ``sys.modules`` and the model's type, and :func:`diagnose_model` imports the adapter that hooks that
framework (``unit_init.torch``, ``unit_init.keras``, ``unit_init.jax``). The
adapter runs the batch forward and backward with hooks on every weight layer
(``Linear``/``Dense``/``Conv*``) and returns one :class:`LayerTrace` per layer
in forward order; :func:`model_report` turns them into a :class:`ModelReport`.

For a model with output ``y`` on a batch ``x`` and a standard-normal probe
``g`` of ``y``'s shape, the per-example loss is ``ℓ = ⟨g, y⟩`` (a sum of
such terms over the arrays of a tuple, list or dict output: :func:`probes`); each layer
``l`` gives its output ``z_l`` (for a layer with a built-in activation, such
as a Keras ``Dense(activation="relu")``, the activated output) and
``∂ℓ/∂z_l``; ``∂L/∂W_l`` is the gradient of the batch mean ``L`` of ``ℓ``.
"""

from __future__ import annotations

import importlib
import math
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from unit_init.adapters.frameworks import ADAPTERS, framework_of
from unit_init.adapters.lsuv import std_of
from unit_init.diagnostics.activations import ACTIVATIONS, ALIASES
from unit_init.diagnostics.gain import recommend
from unit_init.diagnostics.network import HISTOGRAM_BINS, Histogram, histogram_layers
from unit_init.diagnostics.report import Report, fields_of
from unit_init.diagnostics.specs import label
from unit_init.diagnostics.verdict import judge
from unit_init.errors import DTypeError, ParameterError, abbreviate

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "LayerTrace", "ModelReport", "activation_name", "batch_rows", "check_real", "diagnose_model", "identical_units",
    "model_report", "probe", "probes",
]

_SPELLINGS = {"leakyrelu": "leaky_relu", **ALIASES}


@dataclass(frozen=True, slots=True)
class LayerTrace:
    """One weight layer of a model on one batch, as an adapter measured it.

    Attributes
    ----------
    name:
        The layer's qualified name in the model.
    output, gradient, weight_gradient:
        Its output ``z_l``, ``∂ℓ/∂z_l`` and ``∂L/∂W_l`` as float64 NumPy arrays.
    identical_units:
        Whether all its units (output channels) have identical incoming weights.
    activation:
        The activation applied to its output where the adapter can tell (a
        name of :func:`unit_init.diagnose`'s ``activation``), else ``None``.
    """

    name: str
    output: Any
    gradient: Any
    weight_gradient: Any
    identical_units: bool
    activation: str | None


def identical_units(kernel: Any, unit_axis: int, groups: int = 1) -> bool:
    """Whether a layer's units — ``kernel``'s slices along ``unit_axis`` — have identical incoming weights within each
    of its ``groups`` (a grouped convolution's units of different groups see different inputs), two units or more a
    group: one unit has nothing to be the same as, so a single-output head is not symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> identical_units(np.zeros((8, 3)), -1), identical_units(np.zeros((8, 1)), -1)
    (True, False)
    >>> identical_units(np.ones((4, 1, 3, 3)), 0, groups=4)  # a depthwise blur: one unit a group
    False
    """
    units = np.moveaxis(np.asarray(kernel), unit_axis, 0)
    count = units.shape[0]
    if groups < 1 or count % groups or count // groups < 2:
        return False
    grouped = units.reshape(groups, count // groups, -1)
    return bool(np.all(grouped == grouped[:, :1]))


@dataclass(frozen=True, slots=True, repr=False)
class ModelReport(Report):
    """A :class:`~unit_init.diagnostics.Report` of a user's model, with the layers' names and a suggested initializer each.

    ``activation_std`` and ``preactivation_std`` both hold the std of each
    layer's output ``z_l`` (what the hooks see), ``depth`` is the number of
    weight layers and ``width`` the widest output (channels or units).

    Attributes
    ----------
    layers:
        The layers' qualified names, in forward order.
    activations:
        The activation after each layer where known, else ``None``.
    suggested:
        :func:`unit_init.recommend`'s spec for that activation, in text form
        (``"he_normal"``), or ``"?"`` where the activation is unknown.
    """

    layers: tuple[str, ...]
    activations: tuple[str | None, ...]
    suggested: tuple[str, ...]

    def _layer_rows(self) -> tuple[list[str], list[list[object]]]:
        rows: list[list[object]] = [
            [name, activation or "?", self.activation_mean[i], self.activation_std[i], self.gradient_std[i],
             self.weight_gradient_std[i], suggested]
            for i, (name, activation, suggested) in enumerate(zip(self.layers, self.activations, self.suggested, strict=True))
        ]
        return ["layer", "activation", "mean(z)", "std(z)", "std(∂ℓ/∂z)", "std(∂L/∂W)", "suggested"], rows


def activation_name(function: object) -> str | None:
    """The activation a module, layer or function computes (``nn.ReLU()``, ``jax.nn.relu``, ``"tanh"``), or ``None``."""
    name = function if isinstance(function, str) else getattr(function, "__name__", None) or type(function).__name__
    key = str(name).lower()
    canonical = _SPELLINGS.get(key, key)
    return canonical if canonical in ACTIVATIONS else None


def check_real(is_complex: Mapping[str, bool]) -> None:
    """:class:`~unit_init.DTypeError` naming the first complex entry of ``{layer (or "output"): whether its values are complex}``.

    The report's stds, histograms and the probe's loss ``ℓ = ⟨g, y⟩`` are real.

    Examples
    --------
    >>> check_real({"fc1": False, "output": True})
    Traceback (most recent call last):
    ...
    unit_init.errors.DTypeError: diagnose measures real activations and gradients, but the output of the model is complex; diagnose a real model.
    """
    found = next((name for name, complex_ in is_complex.items() if complex_), None)
    if found is not None:
        where = "the output of the model" if found == "output" else f"the output of layer {abbreviate(found)}"
        msg = f"diagnose measures real activations and gradients, but {where} is complex; diagnose a real model."
        raise DTypeError(msg)


def probe(shape: tuple[int, ...], seed: int) -> Any:
    """The standard-normal probe ``g`` of the loss ``ℓ = ⟨g, y⟩``, float64, drawn by NumPy from ``seed``."""
    return np.random.default_rng(seed).standard_normal(shape)


def batch_rows(outputs: Sequence[Any]) -> int:
    """The batch size the weight gradients are averaged over: the first axis of the first output array that has one
    (a scalar auxiliary output before the logits is no batch); 1 where every output is a scalar.

    Examples
    --------
    >>> batch_rows([np.zeros(()), np.zeros((32, 10))])
    32
    """
    return next((int(output.shape[0]) for output in outputs if len(output.shape)), 1)


def probes(outputs: Sequence[Any], seed: int) -> list[Any]:
    """The probes ``g_i`` of ``ℓ = Σᵢ ⟨gᵢ, yᵢ⟩`` over a model's float output arrays ``yᵢ`` (one array, or the leaves of
    a tuple, list or dict of them, as the framework flattens it): ``g₀`` from ``seed`` (a model of one output gets
    :func:`probe` of it), ``gᵢ`` from ``seed + i``. :class:`~unit_init.ParameterError` where there is no such array.

    Examples
    --------
    >>> [g.shape for g in probes([np.zeros((4, 3)), np.zeros((4,))], 0)]
    [(4, 3), (4,)]
    """
    if not outputs:
        msg = "diagnose differentiates the model's output, which holds no float array (a tensor, or a tuple, list or dict of them); return one."
        raise ParameterError(msg)
    return [probe(tuple(output.shape), seed + i) for i, output in enumerate(outputs)]


def _suggest(activation: str | None) -> str:
    return "?" if activation is None else label(recommend(activation))


def _histogram_range(low: float, high: float) -> tuple[float, float]:
    """``[low, high]`` widened about its middle where :data:`HISTOGRAM_BINS` bins would not have distinct edges:
    to a width of 1 where every value is the same, and to 4 ulp a bin where the values are large and close (1e17).

    Examples
    --------
    >>> _histogram_range(-1.0, 3.0), _histogram_range(2.0, 2.0)
    ((-1.0, 3.0), (1.5, 2.5))
    >>> low, high = _histogram_range(1e17, 1e17)
    >>> len(set(np.linspace(low, high, HISTOGRAM_BINS + 1))) == HISTOGRAM_BINS + 1
    True
    """
    least = HISTOGRAM_BINS * 4 * math.ulp(max(abs(low), abs(high)))
    width = max(high / 2 - low / 2, least / 2, 0.5 if low == high else 0.0)  # half widths: no overflow at 1.8e308
    if width == high / 2 - low / 2:
        return low, high
    middle, top = low / 2 + high / 2, sys.float_info.max
    return max(middle - width, -top), min(middle + width, top)


def _histograms(outputs: Sequence[Any]) -> tuple[Histogram, ...]:
    found = []
    for layer in histogram_layers(len(outputs)):
        values = outputs[layer - 1]
        if np.all(np.isfinite(values)) and values.size:
            low, high = _histogram_range(float(values.min()), float(values.max()))
            if not math.isfinite(high - low):  # wider than float64 spans (±1e308): NumPy cannot size its bins
                continue
            counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(low, high))
            found.append(Histogram(layer, tuple(map(float, edges)), tuple(map(int, counts))))
    return tuple(found)


def model_report(
    traces: Sequence[LayerTrace],
    *,
    model: str,
    backend: str,
    device: str,
    dtype: str,
    batch: int,
    width: int,
    bias: bool,
    seed: int,
) -> ModelReport:
    """The :class:`ModelReport` of a model's layer traces (in forward order), judged by :func:`~unit_init.diagnostics.verdict.judge`."""
    outputs = [trace.output for trace in traces]
    stds = tuple(std_of(output) for output in outputs)
    gradient_stds = tuple(std_of(trace.gradient) for trace in traces)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is a finding here: the mean is nan
        means = tuple(float(np.mean(output)) for output in outputs)
    activations = tuple(trace.activation for trace in traces)
    known = {activation for activation in activations if activation not in (None, "linear")}
    judgement = judge(stds, gradient_stds, sum(trace.identical_units for trace in traces))
    return ModelReport(
        initializer=model,
        activation=known.pop() if len(known) == 1 else "mixed" if known else "unknown",
        activation_param=None,
        depth=len(traces),
        width=width,
        batch=batch,
        bias=bias,
        backend=backend,
        device=device,
        dtype=dtype,
        seed=seed,
        activation_mean=means,
        activation_std=stds,
        preactivation_std=stds,
        gradient_std=gradient_stds,
        weight_gradient_std=tuple(std_of(trace.weight_gradient) for trace in traces),
        identical_unit_layers=sum(trace.identical_units for trace in traces),
        histograms=_histograms(outputs),
        **fields_of(judgement),
        layers=tuple(trace.name for trace in traces),
        activations=activations,
        suggested=tuple(_suggest(activation) for activation in activations),
    )


def diagnose_model(model: Any, inputs: Any, **options: Any) -> ModelReport:
    """Route ``diagnose(model, inputs)`` to the adapter of ``model``'s framework (imported here, on first use)."""
    framework = framework_of(model)
    if framework is None:  # the caller checked; kept for direct use
        msg = f"model={type(model).__name__} is not a torch, Keras or Flax nnx model (imported before the call)."
        raise ParameterError(msg)
    diagnose: Any = importlib.import_module(ADAPTERS[framework]).diagnose
    result: ModelReport = diagnose(model, inputs, **options)
    return result

