"""``diagnose``: initialize a deep MLP with a spec, run it forward and backward, judge it."""

from __future__ import annotations

import operator
import types
from typing import TYPE_CHECKING, Any, Final, TypedDict

import numpy as np

from unit_init.adapters.frameworks import framework_of
from unit_init.backends.base import lacking
from unit_init.backends.devices import shown
from unit_init.diagnostics.activations import get_activation
from unit_init.diagnostics.model import diagnose_model
from unit_init.diagnostics.network import check_memory, run
from unit_init.diagnostics.report import Report, fields_of
from unit_init.diagnostics.specs import label, resolve
from unit_init.diagnostics.verdict import judge
from unit_init.drawing import resolve_target
from unit_init.dtypes import is_float
from unit_init.errors import DeviceError, DTypeError, ParameterError, SeedError, abbreviate, keywords_checked
from unit_init.seeds import normalize_seed
from unit_init.spec.catalogue import RandomNormal, Zeros

if TYPE_CHECKING:
    from unit_init.backends.base import Backend
    from unit_init.spec.initializer import Initializer

__all__ = ["SIZES", "DiagnoseOptions", "diagnose"]


class DiagnoseOptions(TypedDict, total=False):
    """The keyword arguments of :func:`diagnose` besides the spec (shared by :func:`unit_init.compare`)."""

    activation: str
    activation_param: float | None
    depth: int
    width: int
    batch: int
    bias: bool
    backend: str | types.ModuleType | Backend | None
    device: Any
    dtype: Any
    seed: int | None


SIZES: Final = {"depth": (1, 10_000), "width": (2, 100_000), "batch": (2, 100_000)}
"""The range of each size of the diagnostic network (the CLI's options take the same)."""


def _size(name: str, value: Any) -> int:
    smallest, largest = SIZES[name]
    try:
        size = None if isinstance(value, bool) else operator.index(value)
    except Exception:  # not an int (a float array's __index__ raises TypeError), or a hostile __index__
        size = None
    if size is None or not smallest <= size <= largest:
        msg = f"{name}={abbreviate(value)} must be an int in [{smallest}, {largest}]."
        raise ParameterError(msg)
    return size


def _seeds(seed: Any, count: int) -> tuple[int, list[int]]:
    """The int seed used and ``count`` independent 63-bit seeds derived from it."""
    base = normalize_seed(seed)
    if not isinstance(base, (int, np.integer)):
        msg = f"seed={abbreviate(seed)}: diagnose takes an int seed or None (the global stream), not a native generator."
        raise SeedError(msg)
    states = np.random.SeedSequence(int(base)).generate_state(count, dtype=np.uint64)
    return int(base), [int(state >> np.uint64(1)) for state in states]


@keywords_checked
def diagnose(
    spec: str | Initializer | Any,
    inputs: Any = None,
    *,
    activation: str = "relu",
    activation_param: float | None = None,
    depth: int = 50,
    width: int = 512,
    batch: int = 256,
    bias: bool = False,
    backend: str | types.ModuleType | Backend | None = None,
    device: Any = None,
    dtype: Any = None,
    seed: int | None = 0,
) -> Report:
    """Run a deep MLP initialized with ``spec`` forward and backward and judge the result.

    The network (see :mod:`unit_init.diagnostics.network`) is ``depth``
    layers ``z_l = h_{l-1}·W_l (+ b_l)``, ``h_l = f(z_l)``, with every
    ``W_l`` of shape ``(width, width)`` (Keras layout) drawn from ``spec``
    and ``h_0`` a ``(batch, width)`` standard-normal batch. The backward pass
    starts from a standard-normal probe ``g = ∂ℓ/∂h_depth`` and is written by
    hand, so NumPy, PyTorch, JAX and TensorFlow arrays all go through the same
    code on their own device. The verdict rules are in
    :mod:`unit_init.diagnostics.verdict`.

    Given a model of a framework already imported (a ``torch.nn.Module``, a
    Keras model or layer, a Flax ``nnx.Module``) and its ``inputs``, it runs
    that model instead: the adapter's hooks measure each weight layer's output
    and gradient std and the result, judged by the same rules, is a
    :class:`~unit_init.diagnostics.model.ModelReport` with a suggested
    initializer per layer (docs/diagnostics.md, "Your own model"); only
    ``seed`` (the probe's) applies then.

    Parameters
    ----------
    spec:
        A spec, or a name with optional parameters (``"he_normal"``,
        ``"random_normal:stddev=0.01"``); or a torch, Keras or Flax nnx model.
    inputs:
        The batch a model is run on (``model(inputs)``); only with a model.
    activation:
        ``linear`` (``identity``), ``relu``, ``leaky_relu``, ``tanh``,
        ``sigmoid``, ``selu``, ``elu``, ``gelu`` (tanh approximation), ``silu``
        (``swish``), ``softplus`` or ``mish``.
    activation_param:
        The negative slope of ``leaky_relu`` (default 0.01) or the α of ``elu``
        (default 1.0).
    depth, width, batch:
        Number of layers (1 to 10 000), units per layer (2 to 100 000), inputs
        (2 to 100 000): :data:`SIZES`.
    bias:
        Add zero biases (drawn with :class:`unit_init.Zeros` on the backend).
    backend, device, dtype:
        Where to run, as for any initializer call; ``dtype`` must be a float
        dtype (default float32).
    seed:
        An int, or ``None`` for the next seed of the global stream; the
        input, the probe and every layer get independent seeds derived from
        it (the spec's own ``seed`` is not used). The report records it.

    Returns
    -------
    Report
        Per-layer statistics and the verdict.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.diagnose("he_normal", depth=20, width=128, batch=64).verdict
    'stable'
    >>> ui.diagnose("random_normal:stddev=0.01", depth=20, width=128, batch=64).verdict
    'vanishing'
    """
    if framework_of(spec) is not None:
        if inputs is None:
            msg = f"diagnose({type(spec).__name__} model) needs inputs: the batch to run it on, as in diagnose(model, batch)."
            raise ParameterError(msg)
        return diagnose_model(spec, inputs, seed=_seeds(seed, 1)[0])
    if inputs is not None:
        msg = f"inputs={type(inputs).__name__} was given with spec={abbreviate(spec)}, which is not a model; inputs go with a torch, Keras or Flax nnx model (a Flax linen module and its variables: unit_init.jax.diagnose(module, variables, batch))."
        if isinstance(inputs, str):  # diagnose("he_normal", "relu"): the activation, which is keyword-only
            msg += f" An activation is given by keyword: diagnose({abbreviate(spec)}, activation={abbreviate(inputs)})."
        raise ParameterError(msg)
    initializer = resolve(spec)
    function, param = get_activation(activation, activation_param)
    depth, width, batch = _size("depth", depth), _size("width", width), _size("batch", batch)
    flag: object = bias  # typed for callers; checked for everyone else
    if not isinstance(flag, (bool, np.bool_)):
        msg = f"bias={abbreviate(bias)} must be True or False."
        raise ParameterError(msg)
    target = resolve_target(backend, device, dtype)
    try:  # a device without data (torch's "meta") cannot run the network: refused before any work
        target.backend.to_numpy(target.backend.full((0,), 0.0, target.dtype, target.device))
    except DeviceError as error:
        msg = f"device={abbreviate(device)}: diagnose runs a network and reads its values, and {error}"
        raise DeviceError(msg) from None
    if not is_float(target.dtype):
        msg = f"dtype={target.dtype!r}: diagnose runs a network and needs a float dtype (float16, bfloat16, float32, float64)."
        raise DTypeError(msg)
    check_memory(target, depth, width, batch)
    used_seed, seeds = _seeds(seed, depth + 2)
    where: dict[str, Any] = {"backend": target.backend, "device": target.device, "dtype": target.dtype}
    unit = RandomNormal(0.0, 1.0)
    x = unit((batch, width), seed=seeds[0], **where)
    probe = unit((batch, width), seed=seeds[1], **where)
    weights = [initializer((width, width), seed=layer_seed, **where) for layer_seed in seeds[2:]]
    biases = [Zeros()((width,), **where) for _ in range(depth)] if bias else None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is a finding here, reported as inf
            trace = run(x, weights, biases, probe, function, param)
    except AttributeError as error:
        typed = lacking(target.backend, error, "diagnose's network")
        if typed is None:
            raise
        raise typed from None
    judgement = judge(trace.activation_std, trace.gradient_std, trace.identical_unit_layers)
    return Report(
        initializer=label(initializer),
        activation=function.name,
        activation_param=None if function.default_param is None else param,
        depth=depth,
        width=width,
        batch=batch,
        bias=bool(bias),
        backend=target.backend.name,
        device=shown(target.backend.device_of(x)),  # where the network ran (JAX's default device is None until placed)
        dtype=target.dtype,
        seed=used_seed,
        **fields_of(trace),
        **fields_of(judgement),
    )
