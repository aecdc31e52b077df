"""A plain MLP, forward and backward, written once over the arrays' own namespace.

The network has ``depth`` dense layers in Keras layout (weights ``(in, out)``)::

    z_l = h_{l-1} · W_l (+ b_l),   h_l = f(z_l),   l = 1 … depth,   h_0 = x

The backward pass is written out by hand — no autograd — so NumPy, PyTorch,
JAX, TensorFlow and any Array-API library share this one implementation: it
computes with the namespace of the arrays' backend
(:meth:`~unit_init.backends.base.Backend.numerics`), inside its
:meth:`~unit_init.backends.base.Backend.placement`, so every operation runs
where the arrays live and no framework is imported here. The per-example loss is
``ℓ_b = ⟨g_b, h_{depth,b}⟩`` for a fixed standard-normal probe ``g``, so::

    ∂ℓ/∂h_depth = g,   δ_l = ∂ℓ/∂h_l ⊙ f'(z_l),   ∂ℓ/∂h_{l-1} = δ_l · W_lᵀ,
    ∂L/∂W_l = h_{l-1}ᵀ · δ_l / batch     (L = the batch mean of ℓ_b)

Only scalars (means, standard deviations, histogram counts) leave the device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from unit_init.backends.registry import backend_for_array, get_backend
from unit_init.diagnostics.activations import Activation
from unit_init.resources import check_bytes, itemsize

if TYPE_CHECKING:
    from unit_init.backends.base import Backend
    from unit_init.drawing import Target

__all__ = ["Histogram", "Trace", "check_memory", "histogram_layers", "run"]

HISTOGRAM_BINS = 40


@dataclass(frozen=True, slots=True)
class Histogram:
    """Counts of one layer's activations in ``len(counts)`` equal bins between ``edges``."""

    layer: int
    edges: tuple[float, ...]
    counts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Trace:
    """Per-layer statistics of one forward and backward pass (index 0 is layer 1).

    From the first layer whose values overflowed the dtype on, standard
    deviations are ``inf`` and means ``nan``; the gradients of a network whose
    forward pass overflowed are meaningless, so all their standard deviations
    are ``inf`` then. A backward pass that overflows by itself gives ``inf``
    from that layer down.
    """

    activation_mean: tuple[float, ...]
    activation_std: tuple[float, ...]
    preactivation_std: tuple[float, ...]
    gradient_std: tuple[float, ...]
    weight_gradient_std: tuple[float, ...]
    identical_unit_layers: int
    histograms: tuple[Histogram, ...]


def _wide(xp: Any, x: Any) -> Any:
    """``x`` in float32 unless it is float64: NumPy sums a float16 array in float16, whose sum of squares overflows
    (the std of 256×512 values of N(0, 1.4²) is inf there)."""
    return x if x.dtype == xp.float64 else xp.asarray(x, dtype=xp.float32)


def _scaled(xp: Any, x: Any) -> tuple[float, Any]:
    """``(m, x / m)`` with ``m = max |x|``, ``x`` accumulated in float32 at least: a statistic of ``x / m`` (values in
    ``[−1, 1]``) times ``m`` neither overflows nor underflows where ``x``'s own sums would (the std of float32
    values of 1e20, whose squares pass float32's 3.4e38; of 1e-24, whose squares fall below its 1.4e-45). ``m`` is
    ``inf`` or ``nan`` where a value overflowed, ``0`` where all are 0 (``x`` then returned as it is)."""
    wide = _wide(xp, x)
    largest = float(xp.max(xp.abs(wide))) if math.prod(wide.shape) else 0.0
    return largest, (wide / largest if 0 < largest < math.inf else wide)


def _std(xp: Any, x: Any) -> float:
    """Population standard deviation, ``m · std(x / m)`` (:func:`_scaled`); ``inf`` when the values overflowed."""
    largest, unit = _scaled(xp, x)
    if not largest < math.inf:
        return math.inf
    return largest * float(xp.std(unit)) if largest else 0.0


def _mean(xp: Any, x: Any) -> float:
    """Mean, ``m · mean(x / m)`` (:func:`_scaled`); ``nan`` when the values overflowed."""
    largest, unit = _scaled(xp, x)
    if not largest < math.inf:
        return math.nan
    return largest * float(xp.mean(unit)) if largest else 0.0


def _identical_columns(xp: Any, w: Any) -> bool:
    """Whether every unit (column) of ``w`` has the same incoming weights."""
    return bool(xp.all(w == w[:, :1]))


def histogram_layers(depth: int) -> tuple[int, ...]:
    """The (1-based) layers whose activations are histogrammed: first, a third, two thirds, last."""
    return tuple(sorted({1, max(1, round(depth / 3)), max(1, round(2 * depth / 3)), depth}))


def _histogram(xp: Any, layer: int, h: Any) -> Histogram:
    """Histogram of the finite ``h`` (one layer's activations), counted on its device."""
    low, high = float(xp.min(h)), float(xp.max(h))
    if low == high:
        low, high = low - 0.5, high + 0.5
    edges = [low + (high - low) * i / HISTOGRAM_BINS for i in range(HISTOGRAM_BINS + 1)]
    below = [int(xp.count_nonzero(h < edge)) for edge in edges[:-1]]
    total = math.prod(h.shape)
    counts = [b - a for a, b in zip(below, [*below[1:], total], strict=True)]
    return Histogram(layer, tuple(edges), tuple(counts))


def check_memory(target: Target, depth: int, width: int, batch: int) -> None:
    """Refuse, before anything is drawn, a network that needs more memory than the limit (:mod:`unit_init.resources`).

    A run holds, in elements of the network's dtype, the weights and biases,
    every layer's pre- and post-activations, the input and probe, and the
    backward pass's gradients (a ``(batch, width)`` pair and a weight gradient)::

        elements = depth·(width² + 2·batch·width + width) + 4·batch·width + width²

    and the temporaries of a statistic of its largest array (a float32 copy,
    ``|x|``, ``x / max|x|`` and ``x − mean``) and the weight gradient before it
    is divided by the batch::

        work = 4·max(width², batch·width) + width²

    all charged at 4 bytes an element at least: a float16 or bfloat16
    network's draws and statistics pass through float32.

    Examples
    --------
    >>> from unit_init.drawing import resolve_target
    >>> check_memory(resolve_target("numpy"), 20, 128, 64)  # 3.0 MiB: fine (returns None)
    """
    elements = depth * (width * width + 2 * batch * width + width) + 4 * batch * width + width * width
    work = 4 * max(width * width, batch * width) + width * width
    needed = (elements + work) * max(4, itemsize(target.dtype))
    what = f"a network of depth={depth}, width={width} and batch={batch} in {target.dtype}"
    check_bytes(target.backend, target.device, needed, lambda: what, "use a smaller depth, width or batch")


def run(
    x: Any,
    weights: Sequence[Any],
    biases: Sequence[Any] | None,
    probe: Any,
    activation: Activation,
    param: float,
) -> Trace:
    """Run the network forward on ``x`` and backward from ``probe``; see the module docstring.

    Raises
    ------
    BackendError
        ``x`` is not an array of a known backend or of an Array-API library.
    """
    backend = backend_for_array(x)
    inputs = Inputs(x, weights, biases, probe)
    if backend.lazy:  # each statistic read would compute the graph from the input again: O(depth²) layers computed
        inputs, backend = _on_host(backend, inputs), get_backend("numpy")
    with backend.placement(backend.device_of(inputs.x)):
        return _run(backend.numerics(), inputs, activation, param)


def _on_host(backend: Backend, inputs: Inputs) -> Inputs:
    """``inputs`` as NumPy arrays, each computed once, for a backend whose arrays are lazy graphs."""
    host = backend.to_numpy
    biases = None if inputs.biases is None else [host(b) for b in inputs.biases]
    return Inputs(host(inputs.x), [host(w) for w in inputs.weights], biases, host(inputs.probe))


@dataclass(frozen=True)
class Inputs:
    """The arrays one run starts from."""

    x: Any
    weights: Sequence[Any]
    biases: Sequence[Any] | None
    probe: Any


def _run(xp: Any, inputs: Inputs, activation: Activation, param: float) -> Trace:
    x, weights, biases, probe = inputs.x, inputs.weights, inputs.biases, inputs.probe
    depth = len(weights)
    pre, post = [], [x]
    for index, w in enumerate(weights):
        z = xp.matmul(post[-1], w)
        if biases is not None:
            z = z + biases[index]
        pre.append(z)
        post.append(activation.forward(xp, z, param))
    mean = [_mean(xp, h) for h in post[1:]]
    std = [_std(xp, h) for h in post[1:]]
    pre_std = [_std(xp, z) for z in pre]
    overflow = next((i for i in range(depth) if math.isinf(std[i]) or math.isinf(pre_std[i])), depth)
    # Past an overflow the values are meaningless, and so is every gradient.
    unknown = depth - overflow
    gradient_std, weight_gradient_std = (
        _backward(xp, x.shape[0], weights, pre, post, probe, activation, param) if not unknown
        else ([math.inf] * depth, [math.inf] * depth)
    )
    histograms = [_histogram(xp, layer, post[layer]) for layer in histogram_layers(depth) if layer <= overflow]
    return Trace(
        activation_mean=tuple(mean[:overflow] + [math.nan] * unknown),
        activation_std=tuple(std[:overflow] + [math.inf] * unknown),
        preactivation_std=tuple(pre_std[:overflow] + [math.inf] * unknown),
        gradient_std=tuple(gradient_std),
        weight_gradient_std=tuple(weight_gradient_std),
        identical_unit_layers=sum(_identical_columns(xp, w) for w in weights),
        histograms=tuple(histograms),
    )


def _backward(
    xp: Any,
    batch: int,
    weights: Sequence[Any],
    pre: Sequence[Any],
    post: Sequence[Any],
    probe: Any,
    activation: Activation,
    param: float,
) -> tuple[list[float], list[float]]:
    """Standard deviations of ``∂ℓ/∂h_l`` and ``∂L/∂W_l`` for every layer, first layer first."""
    gradient = probe  # ∂ℓ/∂h_l, from the last layer down
    gradient_std, weight_gradient_std = [], []
    for index in range(len(weights) - 1, -1, -1):
        gradient_std.append(_std(xp, gradient))
        delta = gradient * activation.derivative(xp, pre[index], post[index + 1], param)
        weight_gradient_std.append(_std(xp, xp.tensordot(post[index], delta, axes=([0], [0])) / batch))
        if index:
            gradient = xp.tensordot(delta, weights[index], axes=([1], [1]))
    return gradient_std[::-1], weight_gradient_std[::-1]
