"""Layer-sequential unit-variance (LSUV) initialization, written once for every framework.

Imports no framework. Mishkin & Matas (2015), "All you need is a good init":
draw every selected layer's weight from a spec (orthogonal by default) with a
zero bias, then walk the layers in the order the forward pass reaches them and,
for each layer ``l`` with output ``z_l`` on a batch ``x``, repeat::

    s = std(z_l(x));   W_l ← W_l · (τ / s)

until ``|s − τ| ≤ tol · τ`` or ``max_iter`` rescalings (``τ = target_std``).
With a zero bias, ``z_l`` is linear in ``W_l``, so one rescaling lands on
``τ`` up to rounding; a second is needed only where the layer feeds back into
itself (weight sharing). Earlier layers are fixed when a layer is rescaled, so
each keeps its ``τ`` as later ones change.

A framework adapter (``unit_init.torch``, ``unit_init.keras``,
``unit_init.jax``) supplies the hooks: the layers of a model (:func:`select`),
the rules that draw them (:func:`rules_for`), a ``measure(name)`` returning
the layer's output on the batch and a ``rescale(name, factor)`` multiplying
its weight; :func:`run` does the rest and returns a :class:`LSUVReport`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, TypeAlias

import numpy as np

from unit_init.adapters.rules import Param
from unit_init.errors import ParameterError, abbreviate
from unit_init.progress import bar
from unit_init.spec._checks import listed, plain_number, real
from unit_init.spec.catalogue import Orthogonal, Zeros
from unit_init.spec.initializer import Initializer

__all__ = ["DEFAULT_SPEC", "LSUVReport", "LayerScale", "Layers", "Rescaled", "call", "check_batch", "check_options", "rescaled", "rules_for", "run", "select", "std_of", "undone_if_raised"]

DEFAULT_SPEC: Final = Orthogonal()
"""The initial draw of every ``lsuv``: orthogonal, as in the paper."""

Layers: TypeAlias = "str | type | Iterable[str | type] | None"
"""Which layers to hook: globs on layer names and layer types (``None``: every supported layer)."""


@dataclass(frozen=True, slots=True)
class LayerScale:
    """What LSUV did to one layer.

    Attributes
    ----------
    name:
        The layer's qualified name in its model.
    std:
        The standard deviation of the layer's output on the batch after the last rescaling.
    scale:
        The product of the factors ``τ / s`` its weight was multiplied by.
    iterations:
        How many rescalings it took (0: already within tolerance after the spec's draw).
    converged:
        Whether ``|std − τ| ≤ tol · τ``.
    """

    name: str
    std: float
    scale: float
    iterations: int
    converged: bool


@dataclass(frozen=True, slots=True)
class LSUVReport:
    """The result of an ``lsuv`` call: the target, the tolerance and one :class:`LayerScale` per layer in forward order."""

    target_std: float
    tol: float
    max_iter: int
    layers: tuple[LayerScale, ...]

    @property
    def converged(self) -> bool:
        """Whether every layer reached the target within the tolerance."""
        return all(layer.converged for layer in self.layers)

    def __str__(self) -> str:
        width = max(len("layer"), *(len(layer.name) for layer in self.layers))
        done = sum(layer.converged for layer in self.layers)
        lines = [f"LSUV to std {self.target_std:g} ± {self.tol:g}·{self.target_std:g}: {done} of {len(self.layers)} layers converged",
                 f"{'layer':<{width}}  {'std':>9}  {'scale':>10}  iterations  converged"]
        lines += [f"{layer.name:<{width}}  {layer.std:9.4f}  {layer.scale:10.4g}  {layer.iterations:>10}  {layer.converged}"
                  for layer in self.layers]
        return "\n".join(lines)


class Rescaled(NamedTuple):
    """What every ``lsuv`` returns: the model (or new variables) and the :class:`LSUVReport`."""

    params: Any
    report: LSUVReport


MAX_ITER: Final = 1000
"""The most rescalings of one layer ``max_iter`` may ask for (each runs the batch through the model)."""


@contextlib.contextmanager
def undone_if_raised(restore: Callable[[], object]) -> Iterator[None]:
    """Run the block; where it raises, call ``restore`` before the exception goes on.

    An in-place ``lsuv`` draws every layer's weight, then rescales layer after
    layer; a refusal on the way (a rescaling that would overflow, see
    :func:`run`), a model that fails on the batch later, or an interrupt would
    leave the model re-drawn and partly rescaled. Each adapter saves the
    chosen layers' parameters before the draw and restores them here, so a
    call that raises leaves the model as it was.
    """
    try:
        yield
    except BaseException:
        restore()
        raise


def check_options(target_std: float, tol: float, max_iter: int) -> tuple[float, float, int]:
    """The three as Python numbers (a NumPy scalar or a 0-d array is the number it holds); refuse a ``target_std`` that
    is not finite and > 0, a ``tol`` that is not finite and >= 0, a ``max_iter`` outside ``[1, MAX_ITER]``."""
    target_std, tol, max_iter = plain_number(target_std), plain_number(tol), plain_number(max_iter)
    if not 0 < real(target_std) < math.inf:  # real(): the value of an int or float (an int beyond floats is inf), else nan
        msg = f"target_std={abbreviate(target_std)} must be a finite number > 0."
        raise ParameterError(msg)
    if not 0 <= real(tol) < math.inf:
        msg = f"tol={abbreviate(tol)} must be a finite number >= 0 (a fraction of target_std)."
        raise ParameterError(msg)
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or not 1 <= max_iter <= MAX_ITER:
        msg = f"max_iter={abbreviate(max_iter)} must be an int in [1, {MAX_ITER}]."
        raise ParameterError(msg)
    return target_std, tol, max_iter


def check_batch(batch: Any, finite: Callable[[Any], bool]) -> None:
    """:class:`ParameterError` for a batch with no samples (an empty first axis) or with a NaN or infinite value.

    ``batch`` is one array or a tuple, list or dict of them (as :func:`call`
    passes it); ``finite(array)`` is the framework's "every value is finite"
    (``True`` for integer arrays). Either defect would make every measured
    std NaN, which LSUV could not rescale and :func:`unit_init.diagnose`
    would misread as an exploding network.

    Examples
    --------
    >>> check_batch(np.ones((4, 3)), lambda a: bool(np.isfinite(a).all()))
    >>> check_batch((np.ones(2), np.array([1.0, np.nan])), lambda a: bool(np.isfinite(a).all()))
    Traceback (most recent call last):
    unit_init.errors.ParameterError: batch input 1 holds NaN or infinite values; LSUV and diagnose measure stds over it, which would all be NaN.
    """
    if batch is None:
        msg = "batch=None: LSUV and diagnose run the model on a batch (model(batch)); pass one, with at least one sample."
        raise ParameterError(msg)
    if isinstance(batch, dict):
        inputs = [(abbreviate(key), value) for key, value in batch.items()]
    elif isinstance(batch, (tuple, list)):
        inputs = [(str(i), value) for i, value in enumerate(batch)]
    else:
        inputs = [("", batch)]
    for label, array in inputs:
        shape = getattr(array, "shape", None)
        if shape is None:
            continue
        name = f"batch input {label}" if label else "batch"
        if len(shape) >= 1 and shape[0] == 0:
            msg = f"{name} of shape {tuple(shape)} has no samples; pass at least one (LSUV and diagnose measure stds over it)."
            raise ParameterError(msg)
        if not finite(array):
            msg = f"{name} holds NaN or infinite values; LSUV and diagnose measure stds over it, which would all be NaN."
            raise ParameterError(msg)


def _matches(key: Any, name: str, layer: Any) -> bool:
    if isinstance(key, str):
        return fnmatch.fnmatchcase(name, key)
    if isinstance(key, type) or (isinstance(key, tuple) and all(isinstance(k, type) for k in key)):
        return isinstance(layer, key)
    msg = f"layers entry {abbreviate(key)} is neither a glob on layer names nor a layer type."
    raise ParameterError(msg)


def select(
    named: Iterable[tuple[str, Any]],
    layers: Layers,
    supported: Callable[[Any], bool],
    kinds: str,
) -> list[tuple[str, Any]]:
    """The ``(name, layer)`` pairs of ``named`` that ``layers`` picks: globs on names and layer types; ``None``: every supported layer.

    Raises
    ------
    ParameterError
        Nothing is picked, or a picked layer is not ``supported`` (``kinds``
        says which are: the layers whose output is their input times one weight, a kind the hooks know).
    """
    pairs = list(named)
    if layers is None:
        chosen = [(name, layer) for name, layer in pairs if supported(layer)]
    else:
        keys = [layers] if isinstance(layers, (str, type)) else listed(layers)
        if keys is None:
            msg = f"layers={abbreviate(layers)} must be None, a glob on layer names, a layer type, or a list of them."
            raise ParameterError(msg)
        chosen = [(name, layer) for name, layer in pairs if any(_matches(key, name, layer) for key in keys)]
        refused = [f"{abbreviate(name)} ({type(layer).__name__})" for name, layer in chosen if not supported(layer)]
        if refused:
            msg = f"layers={abbreviate(layers)} picks {', '.join(refused)}, which cannot be hooked: hooks are placed only on {kinds}."
            raise ParameterError(msg)
    if not chosen:
        hookable = [name for name, layer in pairs if supported(layer)]
        if layers is None or not hookable:
            msg = f"layers={abbreviate(layers)}: the model has no weight layer to hook; supported: {kinds}."
        else:
            shown = ", ".join(map(abbreviate, hookable[:20])) + (f", … ({len(hookable)} in all)" if len(hookable) > 20 else "")
            msg = f"layers={abbreviate(layers)} matches no layer of the model; its weight layers are {shown} (names take globs, or pass layer types)."
        raise ParameterError(msg)
    return chosen


def rules_for(layers: Iterable[Any], spec: Initializer, *, biases: bool) -> list[tuple[Callable[[Param], bool], Initializer]]:
    """Rules for ``initialize``: ``spec`` for every parameter of ``layers`` but their biases, zeros for the biases (if any has one)."""
    ids = {id(layer) for layer in layers}

    def weight(param: Param) -> bool:
        return id(param.owner) in ids and not param.is_bias

    def bias(param: Param) -> bool:
        return id(param.owner) in ids and param.is_bias

    return [(weight, spec), (bias, Zeros())] if biases else [(weight, spec)]


def call(function: Callable[..., Any], batch: Any) -> Any:
    """``function(*batch)`` for a tuple or list, ``function(**batch)`` for a dict, else ``function(batch)``."""
    if isinstance(batch, (tuple, list)):
        return function(*batch)
    if isinstance(batch, dict):
        return function(**batch)
    return function(batch)


def std_of(values: Any) -> float:
    """The standard deviation of ``values`` (anything ``numpy.asarray`` takes) over all its elements, in float64; ``inf`` if any overflowed."""
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        return math.inf
    with np.errstate(over="ignore"):
        return float(np.std(array))


MAX_LOST: Final = 1e-3
"""The share of a layer's non-zero weights an LSUV step may underflow to 0: the few subnormals of a large float16 layer
(about 25 of 8M weights of std 0.016 at a factor of 0.45), not a target far below the dtype's range."""


def rescaled(weight: Any, factor: float, ops: Any) -> Any | None:
    """``weight · factor`` (one LSUV step), or ``None`` where the product is not finite or more than :data:`MAX_LOST`
    of the non-zero weights underflow to 0.

    ``ops`` is the framework's array namespace (``torch``, ``keras.ops``,
    ``jax.numpy``); its ``count_nonzero``, ``isfinite`` and ``all`` judge the product. A
    weight that was all zeros may stay all zeros.

    Examples
    --------
    >>> rescaled(np.array([1.0, -2.0]), 0.5, np)
    array([ 0.5, -1. ])
    >>> with np.errstate(over="ignore", under="ignore"):
    ...     rescaled(np.float32([3e38, 1.0]), 10.0, np) is None, rescaled(np.float32([1e-30, 1.0]), 1e-30, np) is None
    (True, True)
    """
    with warnings.catch_warnings(), np.errstate(over="ignore", under="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a product that overflows (Keras on JAX casts 1e300 with NumPy's warning) is judged below
        scaled = weight * factor
    lost = int(ops.count_nonzero((scaled == 0) & (weight != 0)))  # non-zero weights the product underflows to 0
    keeps_values = lost <= MAX_LOST * int(ops.count_nonzero(weight))  # an all-zero product of non-zero weights loses them all
    return scaled if keeps_values and bool(ops.all(ops.isfinite(scaled))) else None


UNRESPONSIVE: Final = 0.01
"""A rescaling of a layer's weight by ``f`` that moves its output std by less than this share of ``|f − 1|`` shows an
output that does not follow the weight (:func:`_unresponsive`): a spectrally normalized layer's moved by 0.1 % of a
doubling (its power iteration's step), a saturated ``tanh`` inside a Keras layer's by more than 1 % until its std
is within 1 % of 1, where no rescaling reaches a larger target anyway."""


def _unresponsive(before: float, after: float, factor: float) -> bool:
    """Whether scaling a weight by ``factor`` moved its layer's output std from ``before`` to ``after`` by less than
    :data:`UNRESPONSIVE` of what a layer linear in its weight gives (``after = factor·before``): a weight the layer
    normalizes before use, as torch's ``spectral_norm`` divides it by its largest singular value, whose scale no
    rescaling reaches."""
    return abs(after / before - 1) < UNRESPONSIVE * abs(factor - 1)


def run(
    names: Sequence[str],
    measure: Callable[[str], float],
    rescale: Callable[[str, float], bool],
    *,
    target_std: float,
    tol: float,
    max_iter: int,
    progress: bool | None = None,
) -> LSUVReport:
    """Rescale the layers ``names`` one after the other (forward order) until each output std is within ``tol · target_std`` of ``target_std``.

    ``measure(name)`` runs the batch and returns the std of that layer's
    output; ``rescale(name, factor)`` multiplies its weight by ``factor`` and
    returns ``True``, or returns ``False`` and leaves it as it was where the
    scaled weight would not be finite or more than :data:`MAX_LOST` of its
    non-zero weights would underflow to 0 in its dtype — then a :class:`ParameterError`
    names the layer, and the adapter puts the model back as it was before the
    call (:func:`undone_if_raised`); so does a step after which the layer's
    outputs overflow their dtype. A layer whose output std is 0 or not finite
    cannot be rescaled and is reported as not converged, and so is one whose
    std no longer moves or does not follow its weight (:func:`_unresponsive`),
    after that one rescaling. The progress bar counts layers.

    Examples
    --------
    >>> weights = {"a": 3.0, "b": 0.5}
    >>> report = run(["a", "b"], weights.get, lambda name, f: weights.update({name: weights[name] * f}) or True,
    ...              target_std=1.0, tol=0.01, max_iter=5)
    >>> [(layer.name, layer.scale, layer.iterations, layer.converged) for layer in report.layers]
    [('a', 0.3333333333333333, 1, True), ('b', 2.0, 1, True)]
    """
    target_std, tol, max_iter = check_options(target_std, tol, max_iter)
    results = []
    with bar(len(names), "lsuv", unit="layers", progress=progress) as advance:
        for name in names:
            std, scale, iterations = measure(name), 1.0, 0
            while abs(std - target_std) > tol * target_std and iterations < max_iter and 0 < std < math.inf:
                factor = target_std / std
                if not rescale(name, factor):
                    msg = (
                        f"lsuv: scaling the weights of layer {abbreviate(name)} by {factor:.3g} (its outputs' std {std:.3g} toward "
                        f"target_std={target_std:g}) would overflow or underflow their dtype; the model is left as it was before lsuv."
                    )
                    raise ParameterError(msg)
                previous, scale, iterations = std, scale * factor, iterations + 1
                std = measure(name)
                if std == math.inf:  # finite weights, but outputs beyond the dtype's range (float16 toward a std of 3e4)
                    msg = (
                        f"lsuv: scaling the weights of layer {abbreviate(name)} by {factor:.3g} toward target_std={target_std:g} "
                        "makes its outputs overflow their dtype; the model is left as it was before lsuv."
                    )
                    raise ParameterError(msg)
                if _unresponsive(previous, std, factor):  # the weight is normalized inside the layer (spectral_norm), or
                    break  # rounding no longer moves the output: more rescalings would not either
            results.append(LayerScale(name, std, scale, iterations, abs(std - target_std) <= tol * target_std))
            advance(1)
    return LSUVReport(float(target_std), float(tol), max_iter, tuple(results))
