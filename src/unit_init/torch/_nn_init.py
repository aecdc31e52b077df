"""``torch.nn.init``, rebuilt on unit_init specs: switch a codebase with one import.

>>> import unit_init.torch as init   # instead of: import torch.nn.init as init
>>> import torch
>>> w = init.kaiming_normal_(torch.empty(64, 32), nonlinearity="relu")

Every function has ``torch.nn.init``'s name, signature, defaults and errors
(each error is also a :class:`~unit_init.errors.UnitInitError`), fills the
tensor in place (no autograd history) and returns it. The random ones are one
spec each, drawn in PyTorch's layout ``(out, in, *window)``; the fan-scaled ones
compute σ as torch does (``VarianceScaling(g², mode, …)`` is the same law, its
``√(g²/fan)`` an ulp away in float64):

========================================  =================================================================
drop-in                                   spec
========================================  =================================================================
``uniform_(a, b)``                        ``RandomUniform(a, b)``
``normal_(mean, std)``                    ``RandomNormal(mean, std)``
``trunc_normal_(mean, std, a, b)``        ``BoundedNormal(mean, std, a, b)`` (inverse CDF, any interval)
``eye_``, ``dirac_(groups)``              ``Identity()``, ``Dirac(groups)``
``xavier_uniform_(gain)``                 ``RandomUniform(-√3·σ, √3·σ)``, σ = ``gain·√(2 / (fan_in + fan_out))``
``xavier_normal_(gain)``                  ``RandomNormal(0, σ)``, σ as above
``kaiming_uniform_(a, mode, nl)``         ``RandomUniform(-√3·σ, √3·σ)``, σ = ``g / √fan``, g = ``calculate_gain(nl, a)``
``kaiming_normal_(a, mode, nl)``          ``RandomNormal(0, σ)``, σ = ``g / √fan``
``orthogonal_(gain)``                     ``Orthogonal(gain)``
``sparse_(sparsity, std)``                ``Sparse(sparsity, std)``
========================================  =================================================================

``constant_``, ``ones_`` and ``zeros_`` fill as torch does (any dtype, any
value torch takes). The deprecated names without the underscore
(``init.normal``, ``init.xavier_uniform``, … the eleven torch has) warn with
torch's ``FutureWarning`` and call the new ones.

``generator=None`` draws from torch's global RNG, as torch does
(``torch.default_generator`` on the CPU, the device's default generator on
CUDA), so ``torch.manual_seed(n)`` makes a run reproducible and every call
advances the global generator. On the CPU, after the same
``torch.manual_seed``, the values are bit-identical to ``torch.nn.init``'s:

* ``normal_``, ``xavier_normal_``, ``kaiming_normal_``: in every float and
  complex dtype (float16 and bfloat16 in torch's order:
  :func:`_in_torchs_own_order`);
* ``uniform_``, ``xavier_uniform_``, ``kaiming_uniform_``: in float32,
  float64, complex64 and complex128 (in float16 and bfloat16 unit_init draws
  in float32 and casts once);
* ``orthogonal_``: in float32 and float64 when ``size(0) > numel / size(0)``
  (a tall matrix; a square or wide one comes out transposed from the same
  Gaussian draw: the same law, other values).

``trunc_normal_`` and ``sparse_`` use other samplers (inverse CDF; random
keys for the zeros): the same law, other values.

Complex tensors are filled where torch fills them, as torch: real and
imaginary parts independent, each ``U[a, b)`` for the uniform laws and each
normal with half the variance (``std²/2``) for the normal ones, drawn as one
array of ``torch.view_as_real(tensor)``; ``eye_`` and
``dirac_`` set the real part. ``trunc_normal_`` and ``orthogonal_`` refuse
them, as torch does.

On bad input each drop-in has torch's outcome (see :func:`_drop_in`): where
torch raises, an error of torch's type that is also a ``UnitInitError``; where
torch succeeds on arguments unit_init's own API refuses (``sparse_(sparsity=1.5)``,
a NaN ``std``, ``eye_`` of a bool tensor), torch's own fill, with a
``RuntimeWarning`` if finite arguments gave inf or nan. The remaining
differences from torch are listed in ``docs/adapters/torch.md``.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import math
import operator
import warnings
from collections.abc import Callable
from typing import Any, Final, TypeGuard, TypeVar, cast

import numpy as np
import torch

from unit_init.backends.registry import get_backend
from unit_init.backends.torch_backend import functorch_wrapped
from unit_init.drawing import check
from unit_init.dtypes import canonical_dtype, grid_bounds, largest_at_or_below, smallest_at_or_above, work_dtype
from unit_init.errors import (
    ParameterError,
    ResourceError,
    SeedError,
    ShapeError,
    UnitInitError,
    abbreviate,
    check_keywords,
    keywords_checked,
)
from unit_init.resources import check_bytes
from unit_init.sampling.truncation import past_resolution
from unit_init.spec import catalogue as c
from unit_init.spec import gain
from unit_init.spec import structured as s
from unit_init.spec.distributions import NORMAL_REACH, Distribution, Normal, TruncatedGaussian, Uniform
from unit_init.spec.fans import compute_fans
from unit_init.spec.initializer import Initializer
from unit_init.spec.options import Options
from unit_init.torch._errors import (
    TorchAttributeError,
    TorchNotImplementedError,
    TorchResourceError,
    TorchRuntimeError,
    also_ours,
    torch_typed,
    torchs_own_class,
)
from unit_init.torch._fill import default_generator, init_, is_dtensor, refuse_unwritable

__all__ = [
    "_calculate_correct_fan",
    "_calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant",
    "constant_",
    "dirac",
    "dirac_",
    "eye",
    "eye_",
    "kaiming_normal",
    "kaiming_normal_",
    "kaiming_uniform",
    "kaiming_uniform_",
    "normal",
    "normal_",
    "ones_",
    "orthogonal",
    "orthogonal_",
    "sparse",
    "sparse_",
    "trunc_normal_",
    "uniform",
    "uniform_",
    "xavier_normal",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
]

_KAIMING_MODES: Final = ("fan_in", "fan_out")
_TORCH_INT_GAINS: Final = frozenset(
    ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")
)
"""The names whose gain torch returns as the int ``1``."""
_TORCH_NONLINEARITIES: Final = _TORCH_INT_GAINS | {"tanh", "relu", "leaky_relu", "selu"}
"""The names torch's own ``calculate_gain`` knows."""
_F = TypeVar("_F", bound=Callable[..., torch.Tensor])


def _torchs_functions() -> dict[str, Any]:
    """``torch.nn.init``'s own functions, bound once: a codebase that sets ``torch.nn.init.normal_`` to the drop-in (to
    reach every ``reset_parameters``) would otherwise have the drop-in ask itself for torch's outcome, again and again.

    Where one of them is not torch's when this module is imported (Hugging Face's ``no_init_weights`` sets no-ops
    while a model loads), a private copy of ``torch/nn/init.py`` gives the originals.
    """
    found = dict(vars(torch.nn.init))
    if all(getattr(found.get(name), "__module__", None) == "torch.nn.init" for name in __all__):
        return found
    source = importlib.util.spec_from_file_location("unit_init.torch._pristine_nn_init", torch.nn.init.__file__)
    if source is None or source.loader is None:  # no file to read (a frozen torch): the functions as found
        return found
    pristine = importlib.util.module_from_spec(source)
    source.loader.exec_module(pristine)
    return dict(vars(pristine))


_TORCHS: Final[dict[str, Any]] = _torchs_functions()
"""``torch.nn.init``'s own functions (:func:`_torchs_functions`)."""
_KAIMING_SIGNATURES: Final = {name: inspect.signature(_TORCHS[name]) for name in ("kaiming_uniform_", "kaiming_normal_")}
"""Read once: :func:`_kaiming_in_torch_ops` binds every call inside ``torch.compile`` and ``vmap`` to them."""


def _builtin(error: BaseException) -> type[BaseException]:
    """The first built-in type in ``error``'s MRO (torch's ``_LinAlgError`` -> ``RuntimeError``)."""
    return next(kind for kind in type(error).__mro__ if kind.__module__ == "builtins")


def _warn_if_not_finite(tensor: torch.Tensor, name: str, arguments: tuple[Any, ...]) -> None:
    """Warn when finite arguments gave a tensor with inf/nan (a value the dtype cannot hold, as in torch)."""
    if (
        tensor.layout != torch.strided or tensor.is_nested or tensor.is_meta or tensor.numel() == 0
        or not (tensor.is_floating_point() or tensor.is_complex())
        or any(isinstance(a, float) and not math.isfinite(a) for a in arguments)
        or _all_finite(tensor)
    ):
        return
    msg = (
        f"{name} filled a {tensor.dtype} tensor with inf or nan: the arguments {abbreviate(arguments)} give values that "
        f"{tensor.dtype} cannot hold (torch.nn.init.{name} returns the same); pass smaller values or a wider dtype."
    )
    warnings.warn(msg, RuntimeWarning, stacklevel=3)


def _all_finite(tensor: torch.Tensor) -> bool:
    """Whether every value is finite; a dtype torch has no ``isfinite`` for (float8) is read through float32, exactly,
    and one it cannot convert either (float4) counts as finite: nothing to warn about that can be read."""
    try:
        return bool(torch.isfinite(tensor).all())
    except (NotImplementedError, RuntimeError):
        pass
    try:
        return bool(torch.isfinite(tensor.float()).all())
    except (NotImplementedError, RuntimeError):
        return True


class _Unasked(Exception):
    """Raised inside a drop-in for an input torch would never finish: its ``error`` is raised as it is, torch not asked."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


def _drop_in(fill: _F) -> _F:
    """``fill`` with torch's outcome on every input: the same success, or an error of torch's type.

    Where ``fill`` fails, ``torch.nn.init``'s function of the same name is
    called on the tensor (untouched by every refusal, which comes before
    anything is written): if torch fails too, the error raised is
    both torch's built-in type and a :class:`~unit_init.errors.UnitInitError`
    (unit_init's own error, with its message naming the argument, when it
    already is that type); if torch succeeds (arguments outside unit_init's
    domain that torch accepts, e.g. ``sparse_(sparsity=1.5)``, a bool tensor for
    ``eye_``), its result is returned, and a warning (``RuntimeWarning``) if
    it holds inf or nan although every argument was finite. (``fill``'s own
    results are finite: unit_init refuses values the dtype cannot hold.) A
    fill the memory guard refuses is a :class:`~unit_init.torch._errors.TorchResourceError`
    (``ResourceError`` and ``RuntimeError``): torch's own would allocate what was
    refused, or fail in its allocator.

    A tensor on ``"meta"`` or with no elements has no values to draw:
    ``fill`` checks the arguments on a stand-in (:func:`_with_stand_in`), then
    torch's own function runs on the tensor, which writes no value either but
    counts its in-place writes in the tensor's version counter as torch does
    (``kaiming_*``'s zero-element tensor takes only its warning, which ``fill``
    gives).

    Inside ``torch.compile`` and ``torch.func`` transforms (:func:`_transformed`)
    and for a ``DTensor`` (whose random ops torch shards: each rank draws its
    own shard, where a local draw would hold the whole tensor on every rank),
    torch's own function runs (:func:`_torchs_own`).
    """
    accepted = frozenset(inspect.signature(fill).parameters)
    where = f"{fill.__name__}()"

    @functools.wraps(fill)
    def call(*args: Any, **kwargs: Any) -> torch.Tensor:
        tensor = args[0] if args else kwargs.get("tensor")
        if _transformed(tensor) or is_dtensor(tensor):
            return _torchs_own(fill.__name__, args, kwargs)
        if kwargs and not accepted.issuperset(kwargs):  # a misspelt keyword: torch's TypeError, naming the closest one
            check_keywords(where, kwargs, accepted)
        try:
            if _valueless(tensor):  # our checks on a stand-in, then torch's own call writes (and counts) as torch does
                stand_args, stand_kwargs = _with_stand_in(tensor, args, kwargs)
                fill(*stand_args, **stand_kwargs)
                return tensor if _warned_only(fill.__name__, tensor) else _torchs_call(fill.__name__, args, kwargs)
            return fill(*args, **kwargs)
        except _Unasked as unasked:
            raise unasked.error from None
        except RecursionError:  # not an input torch would judge: asking it again at every level would never end
            raise
        except ResourceError as refused:  # torch's own would allocate what the memory guard refused, or fail in its allocator
            raise TorchResourceError(str(refused)) from None
        except Exception as ours:  # also a call without a tensor: torch's TypeError, typed
            if torchs_own_class(ours):
                raise also_ours(ours) from ours
            result: torch.Tensor = _torch_outcome(fill.__name__, _in_torch_terms(ours, fill.__name__), args, kwargs)
        _warn_if_not_finite(result, fill.__name__, (*args[1:], *(value for key, value in kwargs.items() if key != "tensor")))
        return result

    return call  # type: ignore[return-value]  # same signature as ``fill``


def _valueless(tensor: object) -> TypeGuard[torch.Tensor]:
    """Whether ``tensor`` holds no values to draw: on ``"meta"``, or with no elements."""
    return isinstance(tensor, torch.Tensor) and (tensor.is_meta or tensor.numel() == 0)


def _with_stand_in(tensor: torch.Tensor, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A drop-in's arguments with ``tensor`` replaced by a stand-in of its shape, dtype and device: every check runs
    as on the tensor, and whatever the fill writes goes to the stand-in, so that torch's own call on the tensor writes
    it as torch does (its version counter, autograd's record of in-place writes, counts torch's writes only:
    ``normal_`` one, an empty ``sparse_`` four, an empty complex one five)."""
    stand_in = torch.empty_like(tensor)
    if args:
        return (stand_in, *args[1:]), kwargs
    return args, {**kwargs, "tensor": stand_in}


def _warned_only(name: str, tensor: torch.Tensor) -> bool:
    """``kaiming_*`` of a tensor with no elements: torch's own only warns, as the drop-in did."""
    return name.startswith("kaiming") and tensor.numel() == 0


_dynamo_tracing: Callable[[], bool] = getattr(torch.compiler, "is_dynamo_compiling", torch.compiler.is_compiling)


def _transformed(tensor: object) -> bool:
    """Whether Dynamo (``torch.compile``) is tracing this call or ``tensor`` is a ``torch.func`` transform's (``vmap``'s
    batched tensor): there ``torch.nn.init``'s own function runs, whose ops those transforms know (Dynamo cannot
    trace unit_init's caches and NumPy; ``vmap(randomness="different")`` batches torch's random ops).

    ``is_dynamo_compiling`` is ``False`` in eager code, also while another thread compiles (``is_compiling`` reads a
    process-wide flag), and Dynamo traces it as ``True``.
    """
    return _dynamo_tracing() or (isinstance(tensor, torch.Tensor) and functorch_wrapped(tensor))


def _torchs_own(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    """``torch.nn.init.<name>`` itself (:func:`_transformed`), each error it raises also a :class:`~unit_init.errors.UnitInitError`;
    ``kaiming_*`` with a nonlinearity only unit_init knows as :func:`_kaiming_in_torch_ops` draws it."""
    try:
        return _torchs_call(name, args, kwargs)
    except Exception as theirs:
        if torchs_own_class(theirs):
            raise also_ours(theirs) from theirs
        raise torch_typed(type(theirs))(str(theirs)) from theirs


def _torchs_call(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor:
    """``torch.nn.init.<name>(*args, **kwargs)``, torch's own (:data:`_TORCHS`); ``kaiming_*`` with a gain torch lacks
    drawn by :func:`_kaiming_in_torch_ops`, so torch's errors are those of the input, not of the gain's name."""
    drawn = _kaiming_in_torch_ops(name, args, kwargs)
    result: torch.Tensor = _TORCHS[name](*args, **kwargs) if drawn is None else drawn
    return result


def _kaiming_in_torch_ops(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.Tensor | None:
    """``kaiming_uniform_``/``kaiming_normal_`` with a gain torch's table lacks (``gelu``, ``silu``, ``mish``, …), drawn as
    torch's function would draw it if it knew the gain ``g``: ``normal_(0, g/√fan)`` or ``uniform_(±√3·g/√fan)``, torch's
    own functions (so ``torch.compile`` and ``vmap`` take them, as in eager code); ``None`` for every other call."""
    if name not in ("kaiming_uniform_", "kaiming_normal_"):
        return None
    given = _KAIMING_SIGNATURES[name].bind(*args, **kwargs)  # torch's TypeError for arguments it would refuse
    given.apply_defaults()
    tensor, mode, nonlinearity, generator = (given.arguments[key] for key in ("tensor", "mode", "nonlinearity", "generator"))
    if not isinstance(nonlinearity, str) or nonlinearity in _TORCH_NONLINEARITIES or nonlinearity not in gain.FIXED_GAINS:
        return None
    if not isinstance(tensor, torch.Tensor) or 0 in tensor.shape:  # torch's own warns for a zero-element tensor
        return None
    std = gain.FIXED_GAINS[nonlinearity] / math.sqrt(_TORCHS["_calculate_correct_fan"](tensor, mode))  # torch's kaiming's
    if name == "kaiming_uniform_":
        return cast("torch.Tensor", _TORCHS["uniform_"](tensor, -math.sqrt(3.0) * std, math.sqrt(3.0) * std, generator=generator))
    return cast("torch.Tensor", _TORCHS["normal_"](tensor, 0.0, std, generator=generator))


_TORCH_NAMES: Final[dict[str, dict[str, str]]] = {
    "uniform_": {"minval": "a", "maxval": "b"},
    "normal_": {"stddev": "std"},
    "trunc_normal_": {"stddev": "std", "minval": "a", "maxval": "b"},
    "constant_": {"value": "val"},
    "sparse_": {"stddev": "std"},
    "kaiming_uniform_": {"param (the leaky_relu negative slope)": "a"},
    "kaiming_normal_": {"param (the leaky_relu negative slope)": "a"},
}
"""A drop-in's arguments by the name the spec it draws gives them (``normal_``'s ``std`` is ``RandomNormal``'s ``stddev``)."""


def _in_torch_terms(error: Exception, name: str) -> Exception:
    """``error`` naming the argument as the drop-in ``name`` calls it: a message ``stddev=0 must be > 0.`` of the spec
    ``normal_`` draws reads ``std=0 must be > 0.``; any other error as it is."""
    if not isinstance(error, UnitInitError):
        return error
    message = str(error)
    for spec_name, torch_name in _TORCH_NAMES.get(name, {}).items():
        if message.startswith(f"{spec_name}="):
            renamed = type(error)(torch_name + message[len(spec_name) :])
            renamed.__cause__ = error.__cause__
            return renamed
    return error


def _torch_outcome(name: str, ours: Exception, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What ``torch.nn.init.<name>(*args, **kwargs)`` gives where unit_init raised ``ours``: its result, or its error.

    The error is both torch's built-in type and a :class:`~unit_init.errors.UnitInitError`
    (``ours`` itself, with its message naming the argument, where it already is that type).
    """
    try:
        return _torchs_call(name, args, kwargs)
    except Exception as theirs:
        if torchs_own_class(theirs) and not isinstance(ours, UnitInitError):  # ours refused an argument: that is said
            raise also_ours(theirs) from theirs
        if isinstance(ours, UnitInitError) and isinstance(ours, _builtin(theirs)):
            raise ours from theirs
        message = str(ours) if isinstance(ours, UnitInitError) else str(theirs)
        raise torch_typed(type(theirs))(message) from theirs


@keywords_checked
def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """:func:`unit_init.spec.gain.calculate_gain` — torch's table plus ``gelu``, ``silu``/``swish``, ``mish``, ``elu``, ``identity`` — with torch's outcome where it refuses.

    Where unit_init refuses an argument torch takes (a ``nan`` or ``inf``
    slope), torch's value is returned; where both refuse, the error is of
    torch's type (``OverflowError`` for a slope whose square overflows). The
    gain 1 of linear, conv* and sigmoid is the int ``1``, as torch returns it.
    """
    try:
        value = _gain_as_torch_reads(nonlinearity, param)
    except UnitInitError as ours:
        outcome: float = _torch_outcome("calculate_gain", ours, (nonlinearity, param), {})
        return outcome
    return 1 if nonlinearity in _TORCH_INT_GAINS else value


def _gain_as_torch_reads(nonlinearity: str, param: Any) -> float:
    """:func:`unit_init.spec.gain.calculate_gain`, but for a leaky_relu slope torch's table refuses: only a Python int or
    float (not a NumPy scalar, a 0-d array or tensor, a bool), a :class:`ParameterError` (torch's ``ValueError``)."""
    if nonlinearity == "leaky_relu" and param is not None and (isinstance(param, bool) or not isinstance(param, (int, float))):
        msg = f"param={abbreviate(param)} is not an int or float, which torch.nn.init.calculate_gain takes as leaky_relu's slope."
        raise ParameterError(msg)  # unit_init's own calculate_gain reads such a number; torch's does not
    return gain.calculate_gain(nonlinearity, param)


def _refuse_unparsed(**values: Any) -> None:
    """A :class:`ParameterError` for a value torch's argument parser refuses where a kernel takes a float (``normal_``'s
    ``std``, ``uniform_``'s bounds; torch's ``TypeError``): it takes a Python number, a NumPy scalar and a 0-d tensor
    that does not require grad, not a 0-d NumPy array, a ``Fraction`` or a ``Decimal``, which unit_init reads."""
    for name, value in values.items():
        if isinstance(value, (int, float, np.generic)) or (isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad):
            continue
        msg = f"{name}={abbreviate(value)} is not a number torch's kernels take (a Python or NumPy scalar, or a 0-d tensor)."
        raise ParameterError(msg)


def _random_dtype(tensor: torch.Tensor, name: str, *, complex_ok: bool = True) -> None:
    """Refuse, as torch does (``NotImplementedError``), a dtype ``name`` cannot draw in."""
    if tensor.is_floating_point() or (complex_ok and tensor.is_complex()):
        return
    accepted = "a floating-point or complex tensor" if complex_ok else "a floating-point tensor"
    msg = f"{name} draws random values and needs {accepted}, got dtype={tensor.dtype} (torch raises NotImplementedError too)."
    raise TorchNotImplementedError(msg)


def _seed(tensor: torch.Tensor, generator: Any) -> Any:
    """``generator``, else torch's global RNG of the tensor's device; ``SeedError`` (a ``TypeError``) for anything else."""
    if generator is None:
        return default_generator(tensor)
    if not isinstance(generator, torch.Generator):
        msg = f"generator={abbreviate(generator)} must be a torch.Generator or None (torch raises TypeError too)."
        raise SeedError(msg)
    return generator


def _fill_random(
    tensor: torch.Tensor, spec: Initializer, generator: Any, name: str, parts: tuple[Initializer, Initializer] | None = None
) -> torch.Tensor:
    """Fill with ``spec``; a complex tensor's real and imaginary parts follow :func:`_part` of its law, or ``parts``.

    As torch draws them, both parts come from one draw on
    ``torch.view_as_real(tensor)`` (real and imaginary interleaved), of the
    law ``spec`` has for the complex tensor's shape: the values and the
    generator's state after are torch's. ``parts`` (``sparse_``: zeros in the
    real part only) are two draws of the tensor's shape.
    """
    _random_dtype(tensor, name)
    seed = _seed(tensor, generator)
    if not tensor.is_complex():
        return _fill_real(tensor, spec, seed)
    if parts is None:  # torch draws the real view as it draws a real tensor: in its memory order where it is not contiguous
        _fill_real(torch.view_as_real(tensor), _part(spec.distribution_for(tuple(tensor.shape), layout="torch")), seed)
        return tensor
    if isinstance(seed, int):  # a device without a torch default generator: one stream for both parts
        seed = torch.Generator(tensor.device).manual_seed(seed)
    init_(tensor.real, parts[0], seed=seed)
    init_(tensor.imag, parts[1], seed=seed)
    return tensor


def _fill_real(tensor: torch.Tensor, spec: Initializer, seed: Any) -> torch.Tensor:
    """Fill a real tensor with ``spec`` in the order torch fills it: a normal law by torch's own ``normal_`` where its
    order is not a contiguous draw's (:func:`_in_torchs_own_order`), a uniform one on a view stored in another order
    in memory order (as torch's ``uniform_``), anything else as one draw of the tensor's shape."""
    if _in_torchs_own_order(tensor, spec, seed):
        return _fill_in_torchs_order(tensor, spec, seed)
    law = spec.distribution_for(tuple(tensor.shape), layout="torch")
    if isinstance(law, Uniform):
        order = _memory_order(tensor)  # torch's uniform_ fills a view stored in another order in memory order
        init_(tensor if order is None else tensor.permute(order), _uniform_as_torch_rounds(law.low, law.high, tensor.dtype), seed=seed)
        return tensor
    return init_(tensor, spec, seed=seed)


@functools.lru_cache(maxsize=256)
def _uniform_as_torch_rounds(a: float, b: float, dtype: torch.dtype) -> Initializer:
    """``U[a, b)`` with, for a float32 tensor, its bounds rounded to float32 as torch's ``uniform_`` rounds them
    (CPU and CUDA): its values lie in ``[float32(a), float32(b))``, so where ``float32(a)`` lies below ``a`` torch
    returns it (about once in 2²⁴ values: ``kaiming_uniform_`` of a ``Linear(1024, ·)``, whose ``a`` is ``−1/32``
    less an ulp of float64), and a law on ``[a, b)`` would move it to the next float32 up. Bounds that round to one
    float32 keep the law as given, which draws as torch draws. Cached: a model's layers ask for a few laws."""
    if dtype == torch.float32:
        with np.errstate(over="ignore"):
            low, high = (float(np.float32(bound)) for bound in (a, b))
        if math.isfinite(low) and low < high:  # else the law as given: refused where it overflows; bounds that round
            return c.RandomUniform(low, high)  # to one float32 are a one-value law, which would draw nothing where torch draws
    return c.RandomUniform(a, b)


def _memory_order(tensor: torch.Tensor) -> tuple[int, ...] | None:
    """The axes, outermost first, of a dense tensor stored in another order than its own (transposed,
    ``channels_last``): torch fills such a tensor in memory order. ``None`` for any other tensor."""
    if tensor.is_nested or tensor.layout != torch.strided or tensor.is_contiguous():
        return None
    strides = tensor.stride()
    order = tuple(sorted(range(tensor.dim()), key=lambda axis: -strides[axis]))
    return order if tensor.permute(order).is_contiguous() else None


def _part(law: Distribution) -> Initializer:
    """The law of each part of a complex tensor whose values follow ``law``, as torch: ``U[a, b)``; ``N(mean, std²/2)``."""
    if isinstance(law, Normal):
        return c.RandomNormal(law.mean, law.std / math.sqrt(2))  # torch's std / sqrt(2), in float64
    if isinstance(law, Uniform):
        return c.RandomUniform(law.low, law.high)
    msg = f"{type(law).__name__} has no complex form in the torch drop-ins."
    raise TorchNotImplementedError(msg)


def _in_torchs_own_order(tensor: torch.Tensor, spec: Initializer, seed: Any) -> bool:
    """Whether ``spec`` is drawn here as torch draws it, by :func:`_fill_in_torchs_order`, with a torch generator to
    draw from: a normal law on a real tensor whose values torch's ``normal_`` orders otherwise than a contiguous draw
    does, or ``trunc_normal_``'s law (:class:`~unit_init.BoundedNormal`) whose bounds both lie past what ``erf``
    resolves, or are infinite (:func:`~unit_init.sampling.truncation.past_resolution`: ``std=0.02``'s ±100 σ), on
    any tensor: torch 2.13's ``trunc_normal_`` is then a ``normal_`` of the tensor and re-draws of what falls
    outside (about 10⁻⁶ of it), from ``normal_`` draws of the whole tensor.

    A normal law's two cases: a non-contiguous tensor (a transposed,
    ``channels_last`` or stepped view), which torch fills element by element
    in memory order; and a contiguous float16 or bfloat16 CPU tensor of
    ``n ≥ 16`` elements, ``n`` not a multiple of 16, whose last 16 values
    torch's reduced-precision kernel draws anew after the first ``n``.
    """
    if not isinstance(seed, torch.Generator) or tensor.is_nested or tensor.layout != torch.strided:
        return False
    if not (tensor.is_floating_point() and tensor.dtype.itemsize >= 2):  # float8 has no normal_ kernel
        return False
    law = spec.distribution_for(tuple(tensor.shape), layout="torch") if isinstance(spec, s.BoundedNormal) else None
    if isinstance(law, TruncatedGaussian):
        return past_resolution(law.low, law.high, work_dtype(canonical_dtype(tensor.dtype)))
    n = tensor.numel()
    reduced = tensor.dtype in (torch.float16, torch.bfloat16) and tensor.is_cpu and n >= 16 and n % 16 != 0
    if tensor.is_contiguous() and not reduced:
        return False
    return isinstance(spec.distribution_for(tuple(tensor.shape), layout="torch"), Normal)


def _fill_in_torchs_order(tensor: torch.Tensor, spec: Initializer, seed: torch.Generator) -> torch.Tensor:
    """``spec``'s law (:func:`_in_torchs_own_order`) drawn by torch's ``normal_`` on the tensor itself, after
    unit_init's checks: torch's values, and the generator left where torch leaves it; a truncated law's values outside
    it then drawn again (:func:`_redrawn_outside`). torch's ``normal_`` writes in place; a truncated law's fill is
    refused where a re-draw would not fit beside the tensor (:func:`_check_redraw_room`)."""
    shape = tuple(tensor.shape)
    refuse_unwritable(tensor, "tensor")
    law = cast("Normal | TruncatedGaussian", spec.distribution_for(shape, layout="torch"))
    truncated = isinstance(law, TruncatedGaussian)
    options = Options(backend="torch", device=tensor.device, dtype=tensor.dtype, seed=seed, layout="torch")
    check(spec, shape, options, guard=False)
    if truncated and not tensor.is_meta and _may_fall_outside(cast("TruncatedGaussian", law), canonical_dtype(tensor.dtype)):
        _check_redraw_room(tensor)
    with torch.no_grad():
        tensor.normal_(law.mean, law.std, generator=seed)
        if truncated and not _redrawn_outside(tensor, cast("TruncatedGaussian", law), seed):
            init_(tensor, spec, seed=seed)  # the dtype's grid keeps too little of the law: drawn in float32, rounded once inside [a, b]
    return tensor


def _may_fall_outside(law: TruncatedGaussian, dtype: str) -> bool:
    """Whether a ``normal_`` of ``law``'s mean and std in ``dtype`` may give a value outside its support, which
    :func:`_redrawn_outside` then draws again; ``False`` where the nearer bound lies more than
    :data:`~unit_init.spec.distributions.NORMAL_REACH` std from the mean (no normal draw reaches that far) by more
    than four grid steps of ``dtype`` there (a value rounds by half a step, its arithmetic in ``dtype`` by a step or
    two): ``std=0.02``'s ±100 σ. The bounds are in units of std."""
    nearer = min(-law.low, law.high)
    if math.isinf(nearer):
        return False
    largest = abs(law.mean) + nearer * law.std  # no value within reach is larger
    step = smallest_at_or_above(math.nextafter(largest, math.inf), dtype) - largest_at_or_below(largest, dtype)
    return (nearer - NORMAL_REACH) * law.std <= 4 * step


def _check_redraw_room(tensor: torch.Tensor) -> None:
    """A :class:`~unit_init.errors.ResourceError` where :func:`_redrawn_outside`'s re-draw of ``tensor`` (``n``
    elements of ``s`` bytes) would not fit beside it: a fresh tensor like it and two boolean masks, ``n·s + 2n``
    bytes (its fresh values are written where the mask says, with no index tensor)."""
    n = tensor.numel()
    check_bytes(
        get_backend("torch"), tensor.device, n * (tensor.element_size() + 2),
        lambda: f"shape={abbreviate(tuple(tensor.shape))}, dtype={canonical_dtype(tensor.dtype)!r}", "fill a smaller tensor",
    )


STALLED_ROUNDS: Final = 4
"""Re-draw rounds in a row, each leaving more than 0.9 of the values outside it was given, after which
:func:`_redrawn_outside` gives up: the dtype's rounding keeps almost none of the law (a bfloat16 ``N(0.9975, 10⁻⁴)``
on ``[0.997, 1.0075]`` rounds nearly every value to 0.99609375, outside), where torch's loop, comparing with the
bounds rounded to the dtype, keeps them or never ends."""


def _redrawn_outside(tensor: torch.Tensor, law: TruncatedGaussian, seed: torch.Generator) -> bool:
    """The values of ``tensor`` outside ``law``'s support on its dtype's grid drawn again, as torch 2.13's
    ``trunc_normal_`` does: each round a ``normal_`` of a whole tensor like it, whose values at the positions still
    outside replace them; ``False`` where :data:`STALLED_ROUNDS` rounds in a row barely move the count outside.

    None falls outside at ±100 σ (no mask is made: the least and largest value say so); at ±5 σ about 6 in 10⁷.
    torch keeps a value equal to a bound rounded to the dtype where that lies outside ``[a, b]``; here the support
    on the grid (:func:`~unit_init.dtypes.grid_bounds`) keeps the law."""
    bounds = grid_bounds(law.support, False, canonical_dtype(tensor.dtype))
    if bounds is None or tensor.is_meta or tensor.numel() == 0:  # None: the whole line, nothing falls outside
        return True
    low, high = bounds
    least, most = tensor.aminmax()
    if low <= float(least) and float(most) <= high:
        return True
    fresh = torch.empty_like(tensor)  # torch's empty_like of the tensor, its strides kept: the same memory order
    outside, above = torch.empty_like(tensor, dtype=torch.bool), torch.empty_like(tensor, dtype=torch.bool)

    def count_outside() -> int:
        torch.lt(tensor, low, out=outside)
        return int(outside.logical_or_(torch.gt(tensor, high, out=above)).count_nonzero())

    count, stalled = count_outside(), 0
    while count:
        torch.where(outside, fresh.normal_(law.mean, law.std, generator=seed), tensor, out=tensor)
        count, before = count_outside(), count
        stalled = stalled + 1 if 10 * count > 9 * before else 0
        if stalled == STALLED_ROUNDS:
            return False
    return True


def _fill_fixed(tensor: torch.Tensor, spec: Initializer) -> torch.Tensor:
    """Fill with a deterministic ``spec``; a complex tensor gets it in its real part and 0 in its imaginary part."""
    if not tensor.is_complex():
        return init_(tensor, spec)
    init_(tensor.real, spec)
    init_(tensor.imag, c.Zeros())
    return tensor


def _refuse(condition: bool, template: str, **values: object) -> None:
    """torch's ``RuntimeError`` (also a ``ParameterError``) where ``condition`` holds: ``template`` filled with ``values``
    abbreviated, formatted only then (the drop-ins check every call)."""
    if condition:
        raise TorchRuntimeError(template.format(**{name: abbreviate(value) for name, value in values.items()}))


@keywords_checked
def _calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight in torch's layout; ``ValueError`` below 2-D, ``AttributeError`` for no tensor, as torch."""
    if _dimensions(tensor) < 2:
        msg = f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    fans = compute_fans(tuple(tensor.shape), "torch")
    return int(fans.fan_in), int(fans.fan_out)


def _dimensions(tensor: torch.Tensor) -> int:
    """``tensor.dim()``; torch's ``AttributeError`` for an object without it, also a :class:`~unit_init.errors.UnitInitError`."""
    try:
        return tensor.dim()
    except AttributeError as error:
        raise TorchAttributeError(f"{error} (a tensor is needed).") from error


def _no_fans(fan_in: int, fan_out: int) -> None:
    """:class:`ParameterError` for a weight with neither fan (a zero-size one): Glorot's ``2 / (fan_in + fan_out)`` has no
    value, and torch's ``xavier_*`` raise ``ZeroDivisionError`` (the type :func:`_drop_in` gives it)."""
    if fan_in + fan_out == 0:
        msg = "fan_in + fan_out is 0 (a weight with no element along either fan): Glorot's 2 / (fan_in + fan_out) has no value."
        raise ParameterError(msg)


@keywords_checked
def _calculate_correct_fan(tensor: torch.Tensor, mode: str) -> int:
    """``fan_in`` or ``fan_out`` of a weight by ``mode`` (any case); ``ValueError`` for another mode, ``AttributeError`` for a non-string, as torch."""
    if not isinstance(cast("object", mode), str):
        msg = f"mode={abbreviate(mode)} must be 'fan_in' or 'fan_out' (torch raises AttributeError: it calls mode.lower())."
        raise TorchAttributeError(msg)
    lowered = mode.lower()
    if lowered not in _KAIMING_MODES:
        msg = f"Mode {abbreviate(mode)} not supported, please use one of {list(_KAIMING_MODES)}"
        raise ParameterError(msg)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if lowered == "fan_in" else fan_out


def _torch_draws(name: str, tensor: torch.Tensor, *args: Any, generator: Any) -> torch.Tensor:
    """``torch.nn.init.<name>`` itself, for a law of one value (``uniform_(a=b)``, a zero gain, ``trunc_normal_(a=b)``).

    torch still draws (and discards) its random numbers there, so its call
    leaves the generator where torch leaves it; ``generator`` is checked first.
    """
    _seed(tensor, generator)
    result: torch.Tensor = _TORCHS[name](tensor, *args, generator=generator)
    return result


def _checked_gain(gain: float) -> float:
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not math.isfinite(gain):
        msg = f"gain={abbreviate(gain)} must be a finite number >= 0."
        raise ParameterError(msg)
    _refuse(gain < 0, "gain={gain} must be >= 0 (torch raises RuntimeError for a negative std or bound).", gain=gain)
    return float(gain)


@_drop_in
def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill with ``U[a, b)``; ``RuntimeError`` (also a ``ParameterError``) if ``a > b`` or a bound is not finite, as torch.

    A complex tensor gets ``U[a, b)`` in its real and its imaginary part.
    """
    _refuse_unparsed(a=a, b=b)
    _refuse(not (math.isfinite(a) and math.isfinite(b)), "a={a} and b={b} must be finite.", a=a, b=b)
    _refuse(a > b, "a={a} must not exceed b={b} (uniform_ draws from [a, b)).", a=a, b=b)
    if a == b:
        return _torch_draws("uniform_", tensor, a, b, generator=generator)
    return _fill_random(tensor, c.RandomUniform(a, b), generator, "uniform_")


@_drop_in
def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill with ``N(mean, std²)``; ``RuntimeError`` (also a ``ParameterError``) if ``std < 0``, as torch.

    A complex tensor gets ``N(mean, std²/2)`` in its real and its imaginary
    part (torch's law: ``E|z − mean(1+i)|² = std²``).
    """
    _refuse_unparsed(mean=mean, std=std)
    _refuse(std < 0, "std={std} must be >= 0.", std=std)
    return _fill_random(tensor, c.RandomNormal(mean, std), generator, "normal_")


@_drop_in
def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill with ``N(mean, std²)`` conditioned on ``[a, b]`` (absolute bounds), for any interval float64 holds.

    With ``α = (a − mean)/std`` and ``β = (b − mean)/std`` the value is
    ``mean + std·Φ⁻¹(Φ(α) + u·(Φ(β) − Φ(α)))``, ``u ~ U[0, 1)``, computed with
    the tail probability in log space where it is small, so narrow intervals,
    one-sided ones (``b=math.inf``) and far tails (``a=6, b=7``) are drawn
    exactly (see :class:`unit_init.BoundedNormal`); it is drawn in float32
    (float64 for float64 tensors), cast once and kept inside ``[a, b]`` on
    the tensor's dtype grid, with no pile-up at the bounds. ``a == b`` fills
    with ``a``, as torch; ``a > b`` is a ``RuntimeError`` (also a
    ``ParameterError``), as torch; an interval beyond about 37.6 std, whose
    mass float64 holds only as a subnormal, is filled by torch's own
    ``trunc_normal_`` where its sampler finishes, and refused where it would
    not. Complex and integer tensors are refused, as torch. A number torch's
    argument parser may refuse (a 0-d NumPy array, a ``Fraction``, a tensor
    that requires grad) is torch's to draw with or refuse: which of its
    arguments torch 2.x refuses depends on the sampler its interval takes.
    """
    _random_dtype(tensor, "trunc_normal_", complex_ok=False)
    _refuse(a > b, "a={a} must not exceed b={b}.", a=a, b=b)
    if a == b:
        return _torch_draws("trunc_normal_", tensor, mean, std, a, b, generator=generator)
    try:
        _refuse_unparsed(mean=mean, std=std, a=a, b=b)  # torch's sampler for the interval decides which it refuses: asked next
        return _fill_random(tensor, s.BoundedNormal(mean, std, a, b), generator, "trunc_normal_")
    except Exception as refused:  # torch.nn.init is asked next (_drop_in): not where its rejection sampler would never finish
        if torchs_own_class(refused):
            raise also_ours(refused) from refused
        rounds = _torch_rejection_rounds(tensor, mean, std, a, b)
        if rounds > MAX_TORCH_ROUNDS:
            try:  # what torch raises before it loops, with its type: a generator that is not one (TypeError) …
                if generator is not None:
                    _seed(tensor, generator)
                refuse_unwritable(tensor, "tensor")  # … or a tensor no fill can write (RuntimeError)
            except UnitInitError as first:
                raise _Unasked(first) from None
            try:  # … or an argument its first ops do not take (a Fraction: TypeError)
                torch.empty(1, dtype=tensor.dtype).uniform_(a, b).sub_(mean).div_(std)
            except Exception as theirs:
                raise _Unasked(torch_typed(type(theirs))(str(theirs))) from None
            msg = (
                f"{_in_torch_terms(refused, 'trunc_normal_')} torch.nn.init.trunc_normal_, asked next, would take about {rounds:.3g} rounds of its rejection "
                f"sampler for {tensor.numel()} values, so it is not asked."
            )
            raise _Unasked(ParameterError(msg)) from None
        raise


MAX_TORCH_ROUNDS: Final = 10_000
"""The most rounds of ``torch.nn.init.trunc_normal_``'s rejection sampler the drop-in hands an input to (each round
a few passes over the tensor); beyond, a :class:`~unit_init.ParameterError` instead of a call that never returns."""


PROBE: Final = 1 << 16
"""Proposals :func:`_torch_rejection_rounds` puts through torch's acceptance test to measure its rate."""


def _torch_rejection_rounds(tensor: torch.Tensor, mean: Any, std: Any, a: Any, b: Any) -> float:
    """About how many rounds torch 2.x's ``trunc_normal_`` takes to fill ``tensor`` (0: it does not loop, or raises).

    Where the interval holds more than 0.3 of ``N(mean, std²)`` torch redraws
    normals, each kept with that probability. Elsewhere it proposes
    ``x ~ U[a, b]`` and keeps it unless ``log u > −((x − mean)/std)²/2 −
    log_peak`` (``log_peak`` at the point of ``[a, b]`` nearest the mean),
    computed in the tensor's dtype, whose rounding and overflow decide as
    much as the law does (a ``log_peak`` past float32's range keeps every
    proposal). So that test is run here as torch writes it, on
    :data:`PROBE` proposals of a private generator on the CPU: with ``k``
    kept, all ``n`` values take about ``ln(n)·PROBE/k`` rounds. A meta or
    empty tensor, and arguments torch raises on, take none.
    """
    if tensor.is_meta or tensor.numel() == 0:
        return 0.0
    try:
        mean, std, a, b = (float(value) for value in (mean, std, a, b))
        mass = 0.5 * (math.erf((b - mean) / std / math.sqrt(2.0)) - math.erf((a - mean) / std / math.sqrt(2.0)))
        log_peak = -0.5 * ((max(a, min(mean, b)) - mean) / std) ** 2
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return 0.0  # what torch raises on
    if mass > 0.3 or not all(math.isfinite(value) for value in (mean, std, a, b)):
        return 0.0
    generator = torch.Generator().manual_seed(0)  # on the CPU, whatever torch's default device (meta, cuda) is
    try:
        proposals = torch.empty(PROBE, dtype=tensor.dtype, device="cpu").uniform_(a, b, generator=generator)
    except RuntimeError:  # a bound the dtype cannot hold: torch's own uniform_ raises it
        return 0.0
    threshold = proposals.sub_(mean).div_(std).pow_(2).mul_(-0.5).sub_(log_peak)
    tests = torch.empty(PROBE, dtype=tensor.dtype, device="cpu").uniform_(generator=generator)
    kept = PROBE - int(tests.log_().gt(threshold).sum())
    return math.log(max(tensor.numel(), 2)) * PROBE / kept if kept else math.inf


@_drop_in
def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill with ``val``, exactly as torch (``tensor.fill_(val)`` without history: any dtype, ``inf``, complex values)."""
    with torch.no_grad():
        return tensor.fill_(val)


@_drop_in
def ones_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 1."""
    return constant_(tensor, 1)


@_drop_in
def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 0 (a quantized tensor: ``NotImplementedError``, as torch's ``zero_`` has no quantized kernel)."""
    if tensor.is_quantized:
        msg = f"zeros_ of a quantized tensor (dtype={tensor.dtype}) is not implemented (torch: no quantized kernel for aten::zero_)."
        raise TorchNotImplementedError(msg)
    return constant_(tensor, 0)


_NO_EYE_KERNEL: Final = frozenset(getattr(torch, name) for name in ("complex32", "uint16", "uint32", "uint64") if hasattr(torch, name))
"""The dtypes torch's ``eye`` (which ``eye_`` calls) has no kernel for on the CPU: ``eye_`` refuses them on every
device, as torch does where it has none."""


@_drop_in
def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill a 2-D tensor with the identity (``ValueError`` otherwise, as torch: no batched identity here)."""
    if tensor.dim() != 2:
        msg = f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    if tensor.dtype in _NO_EYE_KERNEL:
        msg = f"eye_ of a {tensor.dtype} tensor: torch's eye has no kernel for that dtype (torch raises NotImplementedError too)."
        raise TorchNotImplementedError(msg)
    return _fill_fixed(tensor, c.Identity())



@_drop_in
def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Fill a 3-, 4- or 5-D conv weight with the identity kernel of each group (see :class:`unit_init.Dirac`).

    ``groups`` above :data:`~unit_init.spec.structured.MAX_GROUPS` is refused
    (a ``ValueError``) without asking torch, which loops ``groups`` times
    (``groups=10**400`` on a tensor with no out channel never returns).
    """
    if tensor.dim() not in (3, 4, 5):  # first, as torch: a non-tensor's AttributeError, a rank's ValueError
        msg = f"Only tensors with 3, 4, or 5 dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    count = _count(groups)
    if count > s.MAX_GROUPS:
        try:
            s.Dirac(count)
        except ParameterError as error:
            raise _Unasked(error) from None
    out, inputs = tensor.shape[:2]
    if count > 0 and out % count == 0 and min(out // count, inputs) > 0 and 0 in tensor.shape[2:]:
        msg = f"dirac_ of shape {tuple(tensor.shape)}: its window has a zero-size axis, so there is no centre tap for the identity."
        raise ShapeError(msg)  # torch indexes the centre: IndexError (the type _drop_in gives this error)
    return _fill_fixed(tensor, s.Dirac(groups))


def _count(groups: object) -> int:
    """``groups`` as the int torch loops over: a Python, NumPy or 0-d array/tensor integer by its value; 0 for anything else
    (a bool, a float: refused by :class:`~unit_init.Dirac` as torch refuses it)."""
    if isinstance(groups, bool) or not hasattr(groups, "__index__"):
        return 0
    try:
        return operator.index(groups)
    except TypeError:  # a float tensor has __index__ and refuses it
        return 0


def _fan_scaled_fill(tensor: torch.Tensor, std: float, distribution: c.DistributionName, generator: Any, name: str) -> torch.Tensor:
    """``N(0, std²)``, or ``U(±√3·std)`` for ``"uniform"``, with ``std`` computed from the gain and the fans as torch
    computes it (``gain/√fan``, ``gain·√(2/(fan_in + fan_out))``): a float64 tensor gets torch's very values, which
    ``VarianceScaling``'s ``√(gain²/fan)`` missed by an ulp of the std. ``std > 0``: a zero gain is :func:`_torch_draws`'s."""
    if distribution == "uniform":
        bound = math.sqrt(3.0) * std
        return _fill_random(tensor, c.RandomUniform(-bound, bound), generator, name)
    return _fill_random(tensor, c.RandomNormal(0.0, std), generator, name)


@_drop_in
def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Glorot uniform: ``U(±gain·√(6 / (fan_in + fan_out)))``."""
    fans = _calculate_fan_in_and_fan_out(tensor)
    _no_fans(*fans)
    if _checked_gain(gain) == 0:
        return _torch_draws("xavier_uniform_", tensor, gain, generator=generator)
    return _fan_scaled_fill(tensor, _xavier_std(fans, gain), "uniform", generator, "xavier_uniform_")


@_drop_in
def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Glorot normal: ``N(0, gain² · 2 / (fan_in + fan_out))``."""
    fans = _calculate_fan_in_and_fan_out(tensor)
    _no_fans(*fans)
    if _checked_gain(gain) == 0:
        return _torch_draws("xavier_normal_", tensor, gain, generator=generator)
    return _fan_scaled_fill(tensor, _xavier_std(fans, gain), "untruncated_normal", generator, "xavier_normal_")


def _xavier_std(fans: tuple[int, int], gain: float) -> float:
    """``gain·√(2 / (fan_in + fan_out))``, as torch computes it."""
    return float(gain) * math.sqrt(2.0 / float(fans[0] + fans[1]))


def _kaiming(
    tensor: torch.Tensor, a: float, mode: str, nonlinearity: str, distribution: c.DistributionName,
    generator: torch.Generator | None, name: str,
) -> torch.Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=4)  # the caller's line, as torch's
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    g = _gain_as_torch_reads(nonlinearity, a)
    return _fan_scaled_fill(tensor, g / math.sqrt(fan), distribution, generator, name)


@_drop_in
def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """He uniform: ``U(±g·√(3 / fan))`` with ``g = calculate_gain(nonlinearity, a)``."""
    return _kaiming(tensor, a, mode, nonlinearity, "uniform", generator, "kaiming_uniform_")


@_drop_in
def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """He normal: ``N(0, g² / fan)`` with ``g = calculate_gain(nonlinearity, a)``."""
    return _kaiming(tensor, a, mode, nonlinearity, "untruncated_normal", generator, "kaiming_normal_")


@_drop_in
def orthogonal_(tensor: torch.Tensor, gain: float = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """A Haar-random (semi-)orthogonal matrix times ``gain``, the tensor viewed as ``(size(0), numel / size(0))``.

    Complex, float16 and bfloat16 tensors are refused (``NotImplementedError``), as torch.
    """
    if tensor.dim() < 2:
        msg = f"Only tensors with 2 or more dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    _random_dtype(tensor, "orthogonal_", complex_ok=False)
    if tensor.dtype in (torch.float16, torch.bfloat16):
        msg = f"orthogonal_ needs a float32 or float64 tensor, got dtype={tensor.dtype} (torch's QR has no kernel for it)."
        raise TorchNotImplementedError(msg)
    if tensor.numel():  # torch's RuntimeError for a tensor that cannot be viewed as a matrix (channels_last)
        tensor.view(tensor.size(0), tensor.numel() // tensor.size(0))
    if not isinstance(cast("object", gain), (int, float, np.generic, torch.Tensor)):  # torch's q.mul_(gain): a 0-d NumPy array, a Fraction
        msg = f"gain={abbreviate(gain)} is not a number torch's mul_ takes (a Python or NumPy scalar, or a tensor)."
        raise ParameterError(msg)
    return _fill_random(tensor, c.Orthogonal(gain), generator, "orthogonal_")


@_drop_in
def sparse_(
    tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``N(0, std²)`` with exactly ``⌈sparsity · rows⌉`` zeros in every column of a 2-D tensor.

    Unlike torch (whose ``randperm`` ignores ``generator``), both the values and
    the zero positions come from ``generator``. A complex tensor gets
    ``N(0, std²/2)`` in both parts and the zeros in both.
    """
    if tensor.dim() != 2:
        msg = f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    _refuse_unparsed(std=std)  # torch's normal_(0, std)
    part = std / math.sqrt(2)
    _fill_random(tensor, s.Sparse(sparsity, std), generator, "sparse_", (s.Sparse(sparsity, part), c.RandomNormal(0.0, part)))
    if tensor.is_complex():
        with torch.no_grad():  # the real part's zeros, in the imaginary part too
            tensor.imag.masked_fill_(tensor.real == 0, 0)
    return tensor


def _deprecated(new: _F) -> _F:
    """``new`` under its old name without the underscore, with torch's ``FutureWarning``."""
    old = new.__name__[:-1]

    @functools.wraps(new)
    def alias(*args: Any, **kwargs: Any) -> torch.Tensor:
        warnings.warn(f"`nn.init.{old}` is now deprecated in favor of `nn.init.{new.__name__}`.", FutureWarning, stacklevel=2)
        return new(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated: warns (``FutureWarning``, as torch) and calls :func:`{new.__name__}`."
    return alias  # type: ignore[return-value]  # same signature as ``new``


uniform = _deprecated(uniform_)
normal = _deprecated(normal_)
constant = _deprecated(constant_)
eye = _deprecated(eye_)
dirac = _deprecated(dirac_)
xavier_uniform = _deprecated(xavier_uniform_)
xavier_normal = _deprecated(xavier_normal_)
kaiming_uniform = _deprecated(kaiming_uniform_)
kaiming_normal = _deprecated(kaiming_normal_)
orthogonal = _deprecated(orthogonal_)
sparse = _deprecated(sparse_)
