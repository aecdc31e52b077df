"""Width- and depth-scaled initializers: the rules of modern deep and wide networks.

Each is a spec like any other (immutable, validated, serializable, drawn on
every backend by the same path) whose variance also depends on the network's
depth ``n_layer`` or on its width multipliers, so it can be named in the rules
of :func:`unit_init.initialize` ("every ``*.c_proj.weight`` gets
``ScaledResidual(n_layer=12)``"). :data:`SCALED` names them. Fans are those of
the shape under the layout (see docs/fans.md); ``d`` defaults to ``fan_in``.

===============  ===========================================  =====================
spec             variance (or values)                         reference
===============  ===========================================  =====================
ScaledResidual   ``σ² / (2·n_layer)``, σ = 0.02               GPT-2, Megatron-LM
SmallInit        ``2 / (5·d)``                                Nguyen & Salazar 2019
WangInit         ``4 / (n_layer²·d)``                         GPT-NeoX (Wang 2021)
DeepNorm         ``β² · 2 / (fan_in + fan_out)``              Wang et al. 2022
Fixup            ``2 / fan · L^(−1/(m−1))``                   Zhang et al. 2019
TFixup           ``g² · 2 / (fan_in + fan_out)``              Huang et al. 2020
TFixupEmbedding  ``(9N)^(−1/2) / d``                          Huang et al. 2020
ZerO             identity or scaled Hadamard (deterministic)  Zhao et al. 2021
MuP              ``rule(base fans) / width_mult``             Yang et al. 2021–22
===============  ===========================================  =====================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal

from unit_init.errors import ParameterError, abbreviate
from unit_init.spec import distributions as d
from unit_init.spec._checks import choice, positive, squarable
from unit_init.spec.catalogue import Composed, DistributionName, _family, rule_variance, scaled_law
from unit_init.spec.fans import Fans, LayoutLike, ShapeLike, compute_fans, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer
from unit_init.spec.rules import FanScaled, Mode, VarianceRule

__all__ = [
    "SCALED",
    "DeepNorm",
    "Fixup",
    "MuP",
    "ScaledResidual",
    "SmallInit",
    "TFixup",
    "TFixupEmbedding",
    "WangInit",
    "ZerO",
]

Stack = Literal["encoder", "decoder"]
_STACKS: Final = ("encoder", "decoder")
_FAN_MODES: Final = ("fan_in", "fan_out", "fan_avg")
_INVERSE_FAN_IN: Final = FanScaled(1.0, "fan_in")


_MAX_COUNT: Final = 2**53
"""The largest depth or width accepted: every int up to it is exact as a float (a larger one would overflow the variance)."""


def _count(name: str, value: Any, least: int = 1) -> int:
    """``value`` if it is an int in ``[least, 2**53]``; :class:`ParameterError` naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= _MAX_COUNT:
        msg = f"{name}={abbreviate(value)} must be an int in [{least}, 2**53]."
        raise ParameterError(msg)
    return value


def _optional_dim(name: str, value: Any) -> None:
    if value is not None:
        _count(name, value)


@dataclass(frozen=True, slots=True)
class _FanScaledSpec(Initializer):
    """A zero-mean spec whose variance is a function of the shape's fans (drawn from one family)."""

    def fan_variance(self, fans: Fans) -> float:
        """The variance of every element for these fans."""
        raise NotImplementedError

    def family_name(self) -> str:
        """The distribution family (a name of ``unit_init.distributions.FAMILIES``)."""
        return "untruncated_normal"

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> d.Distribution:
        fans = compute_fans(normalize_shape(shape), layout, fan_in=fan_in, fan_out=fan_out)
        return scaled_law(self, _family(self.family_name()), 0.0, self.fan_variance(fans))


@dataclass(frozen=True, slots=True)
class ScaledResidual(_FanScaledSpec):
    """GPT-2 / Megatron-LM scaled residual projections: ``N(0, σ² / (2·n_layer))``.

    Every residual block adds two projections (attention output and MLP
    output) to the stream, so a depth-``n_layer`` model sums ``2·n_layer`` of
    them; scaling each by ``1/√(2·n_layer)`` keeps the stream's variance
    independent of depth (Radford et al. 2019, *GPT-2*, §2.3; Megatron-LM's
    ``scaled_init_method_normal``; Hugging Face's ``c_proj`` init).

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.ScaledResidual(n_layer=12).distribution_for((768, 768))  # σ = 0.02 / √24
    Normal(mean=0.0, std=0.004082482904638631)
    """

    n_layer: int
    stddev: float = 0.02

    def _validate(self) -> None:
        _count("n_layer", self.n_layer)
        if squarable("stddev", self.stddev) <= 0:
            positive("stddev", self.stddev)

    def fan_variance(self, fans: Fans) -> float:
        return float(self.stddev) * float(self.stddev) / (2 * self.n_layer)


@dataclass(frozen=True, slots=True)
class SmallInit(_FanScaledSpec):
    """SmallInit: ``N(0, 2 / (5·d))`` with ``d`` the model width (default: ``fan_in``, which is not the width for an
    embedding table or a ``4d → d`` projection: give ``d`` there).

    Nguyen & Salazar 2019, *Transformers without Tears*; GPT-NeoX's
    ``small_init``: the Xavier variance of a ``d × 4d`` projection, ``2/(d + 4d)``.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.SmallInit(d=640).variance((640, 640))  # 2 / 3200
    0.0006250000000000001
    """

    d: int | None = None

    def _validate(self) -> None:
        _optional_dim("d", self.d)

    def fan_variance(self, fans: Fans) -> float:
        return 2.0 / (5.0 * max(1.0, fans.fan_in if self.d is None else self.d))


@dataclass(frozen=True, slots=True)
class _DepthAndWidth(_FanScaledSpec):
    """A fan-scaled spec of the depth ``n_layer`` and an optional model width ``d`` (default: a fan)."""

    n_layer: int
    d: int | None = None

    def _validate(self) -> None:
        _count("n_layer", self.n_layer)
        _optional_dim("d", self.d)


@dataclass(frozen=True, slots=True)
class WangInit(_DepthAndWidth):
    """Wang's init: ``N(0, (2 / (n_layer·√d))²)`` with ``d`` the model width (default: ``fan_out``).

    GPT-NeoX's ``wang_init`` (B. Wang, GPT-J / Mesh-Transformer-JAX, 2021),
    used on the output projections of each residual block: they write into
    the residual stream, so their ``fan_out`` is the width, also for the
    feed-forward block's ``4d → d`` projection (whose ``fan_in`` is ``4d``).

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.WangInit(n_layer=4, d=256).distribution_for((256, 256)).std  # 2 / (4·16)
    0.03125
    """

    def fan_variance(self, fans: Fans) -> float:
        width = max(1.0, fans.fan_out if self.d is None else self.d)
        return 4.0 / (self.n_layer**2 * width)


def _xavier(fans: Fans) -> float:
    return 2.0 / max(1.0, fans.fan_in + fans.fan_out)


@dataclass(frozen=True, slots=True)
class DeepNorm(_FanScaledSpec):
    """DeepNet / DeepNorm: Xavier with gain ``β`` (Wang et al. 2022, *DeepNet*, Table 1).

    ``Var = β² · 2 / (fan_in + fan_out)``, for the feed-forward weights and the
    value and output projections of attention (queries and keys keep gain 1).
    The residual ``x_{l+1} = LN(α·x_l + G(x_l))`` takes ``α`` (:attr:`alpha`):
    that is a forward-pass change. With ``N`` encoder and ``M`` decoder layers:

    ================  =====================  ======================
    architecture      α                      β
    ================  =====================  ======================
    encoder only      ``(2N)^(1/4)``         ``(8N)^(−1/4)``
    decoder only      ``(2M)^(1/4)``         ``(8M)^(−1/4)``
    enc-dec, encoder  ``0.81·(N⁴M)^(1/16)``  ``0.87·(N⁴M)^(−1/16)``
    enc-dec, decoder  ``(3M)^(1/4)``         ``(12M)^(−1/4)``
    ================  =====================  ======================

    Parameters
    ----------
    encoder_layers, decoder_layers:
        ``N`` and ``M``; 0 for a stack the model does not have.
    stack:
        Which stack the weight is in (default: the one the model has).

    Examples
    --------
    >>> import unit_init as ui
    >>> spec = ui.DeepNorm(decoder_layers=200)
    >>> round(spec.alpha, 4), round(spec.beta, 4)
    (4.4721, 0.1581)
    """

    encoder_layers: int = 0
    decoder_layers: int = 0
    stack: Stack | None = None
    distribution: DistributionName = "untruncated_normal"

    def _validate(self) -> None:
        _count("encoder_layers", self.encoder_layers, 0)
        _count("decoder_layers", self.decoder_layers, 0)
        if not self.encoder_layers and not self.decoder_layers:
            msg = "DeepNorm needs encoder_layers >= 1 or decoder_layers >= 1 (got 0 and 0)."
            raise ParameterError(msg)
        if self.stack is not None:
            choice("stack", self.stack, _STACKS)
            if not getattr(self, f"{self.stack}_layers"):
                msg = f"stack={self.stack!r} but {self.stack}_layers=0: the model has no {self.stack}."
                raise ParameterError(msg)
        elif self.encoder_layers and self.decoder_layers:
            msg = "an encoder-decoder DeepNorm needs stack='encoder' or 'decoder' (which stack the weight is in)."
            raise ParameterError(msg)
        _family(self.distribution)

    def _constants(self) -> tuple[float, float]:
        n, m = self.encoder_layers, self.decoder_layers
        if n and m:
            if self.stack == "encoder":
                return 0.81 * (n**4 * m) ** (1 / 16), 0.87 * (n**4 * m) ** (-1 / 16)
            return (3 * m) ** 0.25, (12 * m) ** -0.25
        layers = n or m
        return (2 * layers) ** 0.25, (8 * layers) ** -0.25

    @property
    def alpha(self) -> float:
        """The residual multiplier ``α`` (a forward-pass constant)."""
        return self._constants()[0]

    @property
    def beta(self) -> float:
        """The Xavier gain ``β``."""
        return self._constants()[1]

    def family_name(self) -> str:
        return self.distribution

    def fan_variance(self, fans: Fans) -> float:
        return self.beta * self.beta * _xavier(fans)


@dataclass(frozen=True, slots=True)
class Fixup(_FanScaledSpec):
    """Fixup: He init scaled by ``L^(−1/(2m−2))`` inside residual branches (Zhang et al. 2019).

    ``Var = 2 / fan · L^(−1/(m−1))`` for the first ``m − 1`` weight layers of
    each of the ``L`` residual branches (``m`` layers per branch); the last
    layer of each branch and the classifier are zero (``ui.Zeros()``), and
    Fixup's scalar multipliers and biases are forward-pass parameters. The
    default ``mode="fan_out"`` is that of the authors' code (``fan_in`` is
    He's own).

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.Fixup(n_branches=16, mode="fan_in").variance((64, 64))  # 2/64 · 16^(−1) = 0.001953125, rounded on the way
    0.0019531250000000004
    """

    n_branches: int
    branch_layers: int = 2
    mode: Mode = "fan_out"

    def _validate(self) -> None:
        _count("n_branches", self.n_branches)
        _count("branch_layers", self.branch_layers, 2)
        choice("mode", self.mode, _FAN_MODES)

    @property
    def factor(self) -> float:
        """The standard-deviation factor ``L^(−1/(2m−2))``."""
        return float(self.n_branches ** (-1 / (2 * self.branch_layers - 2)))

    def fan_variance(self, fans: Fans) -> float:
        fan = {"fan_in": fans.fan_in, "fan_out": fans.fan_out, "fan_avg": fans.fan_avg}[self.mode]
        return 2.0 / max(1.0, fan) * self.factor * self.factor


@dataclass(frozen=True, slots=True)
class TFixup(_FanScaledSpec):
    """T-Fixup: Xavier scaled for an ``N``-layer encoder-decoder Transformer (Huang et al. 2020, §3.2).

    ``Var = g² · 2 / (fan_in + fan_out)`` for the value and output projections
    of attention and the MLP weights, with ``g = 0.67·N^(−1/4)`` in the
    encoder and ``g = (9N)^(−1/4)`` in the decoder; the input embeddings take
    :class:`TFixupEmbedding`. (The paper's code draws Xavier-uniform.)

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.TFixup(n_layer=6, stack="decoder").gain == (9 * 6) ** -0.25
    True
    """

    n_layer: int
    stack: Stack = "encoder"
    distribution: DistributionName = "uniform"

    def _validate(self) -> None:
        _count("n_layer", self.n_layer)
        choice("stack", self.stack, _STACKS)
        _family(self.distribution)

    @property
    def gain(self) -> float:
        """``0.67·N^(−1/4)`` (encoder) or ``(9N)^(−1/4)`` (decoder)."""
        return 0.67 * self.n_layer**-0.25 if self.stack == "encoder" else float((9 * self.n_layer) ** -0.25)

    def family_name(self) -> str:
        return self.distribution

    def fan_variance(self, fans: Fans) -> float:
        return self.gain * self.gain * _xavier(fans)


@dataclass(frozen=True, slots=True)
class TFixupEmbedding(_DepthAndWidth):
    """T-Fixup input embeddings: ``N(0, d^(−1/2)²) · (9N)^(−1/4)``, i.e. ``Var = (9N)^(−1/2) / d``.

    ``d`` is the embedding width (default: ``fan_out``, the table's width in
    the ``(num, d)`` layout every adapter gives embeddings). Huang et al. 2020, §3.2.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.TFixupEmbedding(n_layer=4).variance((1000, 36))  # 1/6 / 36
    0.004629629629629629
    """

    def fan_variance(self, fans: Fans) -> float:
        width = max(1.0, fans.fan_out if self.d is None else self.d)
        return float((9 * self.n_layer) ** -0.5) / width


@dataclass(frozen=True, slots=True)
class ZerO(Initializer):
    """ZerO: deterministic init from zeros, ones and a Hadamard transform (Zhao et al. 2021, Algorithm 1).

    For a weight mapping ``in`` to ``out`` features (the layout's in and out
    axes; rank >= 2, convolution kernels at the centre tap of the window):

    * ``out <= in``: the (partial) identity ``I[:out, :in]``;
    * ``out > in``: ``c · H_m[:out, :in]`` with ``m = ⌈log₂ out⌉``,
      ``c = 2^(−(m−1)/2)`` and ``H_m`` the ``2^m × 2^m`` Sylvester Hadamard
      matrix of ±1 entries.

    In a residual network the last layer of each branch is zero (``ui.Zeros()``).

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.ZerO()((3, 2), layout="torch").tolist()  # in=2 → out=3: c = 2^(−1/2)·H₂[:3, :2]
    [[0.7071067690849304, 0.7071067690849304], [0.7071067690849304, -0.7071067690849304], [0.7071067690849304, 0.7071067690849304]]
    """

    min_rank: ClassVar[int] = 2

    def distribution_for(self, shape: ShapeLike, *, layout: LayoutLike = None, **_: object) -> d.Distribution:
        dims = normalize_shape(shape)
        self.check_shape(dims)
        in_axes, out_axes, batch_axes = resolve_layout(layout).axes(len(dims))
        if len(in_axes) != 1 or len(out_axes) != 1 or batch_axes:
            msg = f"ZerO needs a layout with one in axis, one out axis and no batch axes, got layout={abbreviate(layout)}."
            raise ParameterError(msg)
        return d.ZerOValues(in_axes[0], out_axes[0])


@dataclass(frozen=True, slots=True)
class MuP(Composed):
    """muP (Maximal Update Parametrization): a rule evaluated at the *base* width (Yang et al. 2021–22).

    ``Var = rule.variance(Fans(fan_in / fan_in_mult, fan_out / fan_out_mult)) / width_mult``

    The fans are brought back to the base model's (``fan_in_mult``: target
    over base size of the in axes, 1 for a finite dimension), so the weight
    starts as it would in the base model; ``width_mult`` is the fan-in width
    multiplier for a weight whose in *and* out dimensions both grow (hidden
    weights) and 1 otherwise — ``microsoft/mup``'s ``mup.init`` semantics.
    Build them per parameter with :func:`unit_init.mup_rules`.

    Examples
    --------
    >>> import unit_init as ui
    >>> hidden = ui.MuP(fan_in_mult=4.0, fan_out_mult=4.0, width_mult=4.0)  # default rule: Var = 1/fan_in
    >>> hidden.variance((256, 256))  # 1/64 at the base width 64, over 4: 1/256
    0.00390625
    """

    rule: VarianceRule = _INVERSE_FAN_IN
    family: str | Callable[[float, float], d.Distribution] = "untruncated_normal"
    fan_in_mult: float = 1.0
    fan_out_mult: float = 1.0
    width_mult: float = 1.0

    def _validate(self) -> None:
        Composed._validate(self)
        for name in ("fan_in_mult", "fan_out_mult", "width_mult"):
            positive(name, getattr(self, name))

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> d.Distribution:
        fans = compute_fans(normalize_shape(shape), layout, fan_in=fan_in, fan_out=fan_out)
        base_in, base_out = fans.fan_in / self.fan_in_mult, fans.fan_out / self.fan_out_mult
        if not math.isfinite(base_in + base_out):
            msg = (
                f"{type(self).__name__}: the base fans fan_in / fan_in_mult = {fans.fan_in:g} / {self.fan_in_mult:g} and "
                f"fan_out / fan_out_mult = {fans.fan_out:g} / {self.fan_out_mult:g} overflow a float; choose larger multipliers."
            )
            raise ParameterError(msg)
        base = Fans(base_in, base_out)
        return scaled_law(self, _family(self.family, "family"), self.mean, rule_variance(self.rule, base) / self.width_mult)


SCALED: Final[dict[str, type[Initializer]]] = {
    "scaled_residual": ScaledResidual,
    "small_init": SmallInit,
    "wang_init": WangInit,
    "deepnorm": DeepNorm,
    "fixup": Fixup,
    "t_fixup": TFixup,
    "t_fixup_embedding": TFixupEmbedding,
    "zer_o": ZerO,
    "mup": MuP,
}
"""The width- and depth-scaled initializers: snake-case name → spec class."""
