"""``torch.nn.init``, rebuilt on unit_init specs: switch a codebase with one import.

>>> import unit_init.torch as init   # instead of: import torch.nn.init as init
>>> import torch
>>> w = init.kaiming_normal_(torch.empty(64, 32), nonlinearity="relu")

Every function has ``torch.nn.init``'s name, signature, defaults and errors,
fills the tensor in place (no autograd history) and returns it. Each is one
spec drawn in PyTorch's layout ``(out, in, *window)``:

========================================  =================================================================
drop-in                                   spec
========================================  =================================================================
``uniform_(a, b)``                        ``RandomUniform(a, b)``
``normal_(mean, std)``                    ``RandomNormal(mean, std)``
``trunc_normal_(mean, std, a, b)``        ``BoundedNormal(mean, std, a, b)`` (re-drawn, never clamped)
``constant_``, ``ones_``, ``zeros_``      ``Constant(val)``, ``Ones()``, ``Zeros()``
``eye_``, ``dirac_(groups)``              ``Identity()``, ``Dirac(groups)``
``xavier_uniform_(gain)``                 ``VarianceScaling(gain², "fan_avg", "uniform")``
``xavier_normal_(gain)``                  ``VarianceScaling(gain², "fan_avg", "untruncated_normal")``
``kaiming_uniform_(a, mode, nl)``         ``VarianceScaling(g², mode, "uniform")``, g = ``calculate_gain(nl, a)``
``kaiming_normal_(a, mode, nl)``          ``VarianceScaling(g², mode, "untruncated_normal")``
``orthogonal_(gain)``                     ``Orthogonal(gain)``
``sparse_(sparsity, std)``                ``Sparse(sparsity, std)``
========================================  =================================================================

``generator=None`` draws from torch's global RNG, as torch does
(``torch.default_generator`` on the CPU, the device's default generator on
CUDA), so ``torch.manual_seed(n)`` makes a run reproducible and every call
advances the global generator. The values are not bit-identical to
``torch.nn.init``'s (the samplers differ: ``rand``/``randn`` in float32, then
one cast), they have the same distribution. Differences, all deliberate, are
listed in ``docs/adapters.md``.
"""

from __future__ import annotations

import math
import warnings
from typing import Final

import torch

from unit_init.diagnostics.gain import calculate_gain
from unit_init.errors import ParameterError, ShapeError
from unit_init.spec import catalogue as c
from unit_init.spec import structured as s
from unit_init.spec.fans import compute_fans
from unit_init.spec.initializer import Initializer
from unit_init.torch._fill import default_generator, init_

__all__ = [
    "_calculate_fan_in_and_fan_out",
    "calculate_gain",
    "constant_",
    "dirac_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "orthogonal_",
    "sparse_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]

_KAIMING_MODES: Final = ("fan_in", "fan_out")


def _fill_random(tensor: torch.Tensor, spec: Initializer, generator: torch.Generator | None) -> torch.Tensor:
    """``init_`` with ``generator``, else torch's global RNG of the tensor's device."""
    return init_(tensor, spec, seed=default_generator(tensor) if generator is None else generator)


def _calculate_fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight in torch's layout; ``ValueError`` below 2-D, as torch."""
    if tensor.dim() < 2:
        msg = f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    fans = compute_fans(tuple(tensor.shape), "torch")
    return int(fans.fan_in), int(fans.fan_out)


def _fan_scaled(scale: float, mode: str, distribution: c.DistributionName) -> Initializer:
    """``VarianceScaling(scale, mode, distribution)``; zeros for a zero gain, as torch (a zero std)."""
    if scale == 0:
        return c.Zeros()
    return c.VarianceScaling(scale, mode, distribution)  # type: ignore[arg-type]  # mode checked by the caller


def _checked_gain(gain: float) -> float:
    if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not math.isfinite(gain) or gain < 0:
        msg = f"gain={gain!r} must be a finite number >= 0 (torch fails on a negative gain as well)."
        raise ParameterError(msg)
    return float(gain)


def uniform_(tensor: torch.Tensor, a: float = 0.0, b: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Fill with ``U[a, b)``; ``ParameterError`` (a ``ValueError``) if ``a > b``."""
    return _fill_random(tensor, c.RandomUniform(a, b), generator)


def normal_(
    tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill with ``N(mean, std²)``; ``std`` must be >= 0."""
    return _fill_random(tensor, c.RandomNormal(mean, std), generator)


def trunc_normal_(
    tensor: torch.Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill with ``N(mean, std²)`` conditioned on ``[a, b]`` (absolute bounds).

    Out-of-bounds draws are re-drawn in float32 and the result is cast once
    and kept inside ``[a, b]`` on the tensor's dtype grid, so bfloat16 and
    float16 tensors get no values beyond the bounds and no pile-up *at* them
    (torch computes the inverse CDF in the tensor's dtype and clamps).
    """
    return _fill_random(tensor, s.BoundedNormal(mean, std, a, b), generator)


def constant_(tensor: torch.Tensor, val: float) -> torch.Tensor:
    """Fill with ``val``."""
    return init_(tensor, c.Constant(val))


def ones_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 1."""
    return init_(tensor, c.Ones())


def zeros_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill with 0."""
    return init_(tensor, c.Zeros())


def eye_(tensor: torch.Tensor) -> torch.Tensor:
    """Fill a 2-D tensor with the identity (``ValueError`` otherwise)."""
    return init_(tensor, c.Identity())


def dirac_(tensor: torch.Tensor, groups: int = 1) -> torch.Tensor:
    """Fill a 3-, 4- or 5-D conv weight with the identity kernel of each group (see :class:`unit_init.Dirac`)."""
    if tensor.dim() not in (3, 4, 5):
        msg = f"Only tensors with 3, 4, or 5 dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    return init_(tensor, s.Dirac(groups))


def xavier_uniform_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Glorot uniform: ``U(±gain·√(6 / (fan_in + fan_out)))``."""
    _calculate_fan_in_and_fan_out(tensor)
    return _fill_random(tensor, _fan_scaled(_checked_gain(gain) ** 2, "fan_avg", "uniform"), generator)


def xavier_normal_(tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
    """Glorot normal: ``N(0, gain² · 2 / (fan_in + fan_out))``."""
    _calculate_fan_in_and_fan_out(tensor)
    return _fill_random(tensor, _fan_scaled(_checked_gain(gain) ** 2, "fan_avg", "untruncated_normal"), generator)


def _kaiming(
    tensor: torch.Tensor, a: float, mode: str, nonlinearity: str, distribution: c.DistributionName,
    generator: torch.Generator | None,
) -> torch.Tensor:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return tensor
    _calculate_fan_in_and_fan_out(tensor)
    lowered = mode.lower() if isinstance(mode, str) else mode
    if lowered not in _KAIMING_MODES:
        msg = f"Mode {mode} not supported, please use one of {list(_KAIMING_MODES)}"
        raise ParameterError(msg)
    gain = calculate_gain(nonlinearity, a)
    return _fill_random(tensor, _fan_scaled(gain**2, lowered, distribution), generator)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """He uniform: ``U(±g·√(3 / fan))`` with ``g = calculate_gain(nonlinearity, a)``."""
    return _kaiming(tensor, a, mode, nonlinearity, "uniform", generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """He normal: ``N(0, g² / fan)`` with ``g = calculate_gain(nonlinearity, a)``."""
    return _kaiming(tensor, a, mode, nonlinearity, "untruncated_normal", generator)


def orthogonal_(tensor: torch.Tensor, gain: float = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """A Haar-random (semi-)orthogonal matrix times ``gain``, the tensor viewed as ``(size(0), numel / size(0))``."""
    return _fill_random(tensor, c.Orthogonal(gain), generator)


def sparse_(
    tensor: torch.Tensor, sparsity: float, std: float = 0.01, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``N(0, std²)`` with exactly ``⌈sparsity · rows⌉`` zeros in every column of a 2-D tensor.

    Unlike torch (whose ``randperm`` ignores ``generator``), both the values and
    the zero positions come from ``generator``.
    """
    if tensor.dim() != 2:
        msg = f"Only tensors with 2 dimensions are supported (got shape {tuple(tensor.shape)})."
        raise ShapeError(msg)
    return _fill_random(tensor, s.Sparse(sparsity, std), generator)
