"""muP rules for :func:`unit_init.initialize`, from base and target shapes (``microsoft/mup`` semantics).

``mup.set_base_shapes(model, base, delta=delta)`` marks each dimension of each
parameter *infinite* (a width) where the base and the delta (else the target)
shapes differ; ``mup.init`` then draws every weight as the base model would,
with the variance of a weight whose in and out dimensions are both infinite
(a hidden weight) divided by its fan-in width multiplier. :func:`mup_rules`
computes the same multipliers, in the canonical ``(*window, in, out)`` view in
which the rules engine draws, and returns one :class:`~unit_init.MuP` spec per
parameter. Imports no framework unless given a model.
"""

from __future__ import annotations

import fnmatch
import glob
import math
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, cast

from unit_init.adapters._spec import spec_of
from unit_init.adapters.canonical import canonical_leaf
from unit_init.adapters.frameworks import loaded
from unit_init.adapters.rules import Param, Where
from unit_init.errors import ParameterError, ShapeError, abbreviate, closest, keywords_checked
from unit_init.spec.catalogue import (
    Composed,
    Constant,
    Ones,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
    Zeros,
)
from unit_init.spec.distributions import Family, TruncatedFamily, TruncatedGaussian, Uniform
from unit_init.spec.fans import LayoutLike, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer
from unit_init.spec.rules import FanScaled, FixedVariance, Mode, VarianceRule
from unit_init.spec.scaled import MuP
from unit_init.spec.structured import BoundedNormal
from unit_init.spec.torch_style import GAIN_SCALED, as_variance_scaling

__all__ = ["READOUTS", "mup_rules"]

Readout = Literal["zero", "multiplier", "scaled"]
READOUTS: Final = ("zero", "multiplier", "scaled")
_CONSTANT: Final = (Zeros, Ones, Constant)
FamilyLike = str | Family


def _as_params(where: str, source: Any, layout: LayoutLike, embeddings: tuple[str, ...] = ()) -> dict[str, Param]:
    """The :class:`Param` of every parameter of a ``{name: shape}`` dict, a torch module, a Flax nnx module or a Param list.

    A dict's entry named ``…embedding`` (Flax's leaf) or matching ``embeddings`` is an embedding table ``(num, dim)``,
    read as ``initialize`` reads one (``num`` its fan-in), whatever ``layout`` the weights take.
    """
    if isinstance(source, Mapping):
        params = []
        for name, shape in source.items():
            dims = normalize_shape(shape)
            *path, leaf = re.split(r"[./]", str(name))
            param = Param(str(name), tuple(path), canonical_leaf(leaf, len(dims)), dims, layout)
            if param.leaf == "embedding" or _matches(embeddings, param):
                param = Param(param.name, param.path, "embedding", dims, "keras")
            params.append(param)
    elif (torch_module := loaded("torch", "nn", "Module")) is not None and isinstance(source, torch_module):
        from unit_init.torch._module import describe

        params = describe(source, "torch")
    elif (nnx_module := loaded("flax.nnx", "Module")) is not None and isinstance(source, nnx_module):
        from unit_init.jax._params import _nnx

        params = _nnx(sys.modules["flax.nnx"], source, "keras")[0]
    elif isinstance(source, Sequence) and all(isinstance(p, Param) for p in source):
        params = list(source)
    else:
        msg = f"{where}={abbreviate(source)} must be a {{name: shape}} dict, a torch.nn.Module, a flax.nnx.Module or a list of Param."
        raise ParameterError(msg)
    return {p.name: p for p in params}


def _in_out(param: Param) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The in and out axes of ``param.shape`` (rank 1: its one axis is both; rank 0: none)."""
    if param.rank < 2:
        return tuple(range(param.rank)), tuple(range(param.rank))
    in_axes, out_axes, _ = resolve_layout(param.layout).axes(param.rank)
    return in_axes, out_axes


def _multipliers(param: Param, base: Param, delta: Param | None) -> tuple[float, float, bool]:
    """``(fan_in_mult, fan_out_mult, hidden)``: width multipliers of the in and out axes, and whether both are infinite."""
    if len(base.shape) != param.rank:
        msg = f"parameter {abbreviate(param.name)} has shape {param.shape} but base shape {base.shape}; their ranks must agree."
        raise ShapeError(msg)
    reference = delta.shape if delta is not None else param.shape
    infinite = [b != r for b, r in zip(base.shape, reference, strict=True)]
    if any(inf and b == 0 for b, inf in zip(base.shape, infinite, strict=True)):
        msg = (f"parameter {abbreviate(param.name)} has base shape {base.shape}: a width that grows (target {param.shape}) "
               "needs a base size > 0, its multiplier being target / base.")
        raise ShapeError(msg)
    mults = [t / b if inf and t else 1.0 for t, b, inf in zip(param.shape, base.shape, infinite, strict=True)]  # t = 0: nothing to draw
    in_axes, out_axes = _in_out(param)
    fan_in_mult = math.prod(mults[a] for a in in_axes)
    fan_out_mult = math.prod(mults[a] for a in out_axes)
    hidden = param.rank >= 2 and any(infinite[a] for a in in_axes) and any(infinite[a] for a in out_axes)
    return fan_in_mult, fan_out_mult, hidden


def _rule_of(spec: Initializer) -> tuple[VarianceRule, FamilyLike, float]:
    """``spec`` as ``(variance rule, family, mean)``: the fan-scaled family (torch's spellings ``XavierUniform``,
    ``KaimingNormal``, … through their ``VarianceScaling``) and the fixed-scale normals and uniforms, a truncated
    one keeping its bounds in units of its std, as ``mup.init.trunc_normal_`` scales ``mean``, ``std``, ``a`` and ``b`` alike."""
    if isinstance(spec, GAIN_SCALED):
        return _rule_of(as_variance_scaling(spec))
    if isinstance(spec, Composed) and not isinstance(spec, MuP) and isinstance(spec.family, str):
        return spec.rule, spec.family, spec.mean
    if isinstance(spec, RandomNormal):
        return FixedVariance(spec.stddev * spec.stddev), "untruncated_normal", spec.mean
    if isinstance(spec, (TruncatedNormal, BoundedNormal)):
        law = cast("TruncatedGaussian", spec.distribution_for((1,)))
        family: FamilyLike = "truncated_normal" if (law.low, law.high) == (-2.0, 2.0) else TruncatedFamily(law.low, law.high)
        return FixedVariance(law.variance), family, law.mean
    if isinstance(spec, RandomUniform):
        uniform = cast("Uniform", spec.distribution_for((1,)))
        return FixedVariance(uniform.variance), "uniform", uniform.mean
    msg = (
        f"init={abbreviate(spec)} has no variance rule muP can take to the base width; accepted: a fan-scaled spec "
        "(VarianceScaling, He*, Glorot*, Lecun*, torch's Xavier* and Kaiming*, Composed with a named family), RandomNormal, "
        "TruncatedNormal, BoundedNormal (trunc_normal), RandomUniform, or a constant."
    )
    raise ParameterError(msg)


def _scaled(spec: Initializer, param: Param, fan_in_mult: float, fan_out_mult: float, width_mult: float) -> Initializer:
    """``spec`` as :class:`~unit_init.MuP` for ``param``. torch's spellings (``KaimingNormal``, …) take torch's fans, as
    ``mup.init.kaiming_normal_`` does: on an embedding table ``(num, dim)`` its fan_in is ``dim``, the canonical fan_out
    (every other spec takes the canonical fans, fan_in = ``num``). A hidden weight's mean must be 0 (``mup.init``'s too):
    its std shrinks with the width, a mean would not (nor a ``"scaled"`` readout's)."""
    if isinstance(spec, _CONSTANT):
        return spec
    rule, family, mean = _rule_of(spec)
    if isinstance(spec, GAIN_SCALED) and param.leaf == "embedding" and isinstance(rule, FanScaled) and rule.mode in _SWAPPED:
        rule = FanScaled(rule.scale, _SWAPPED[rule.mode])
    if width_mult != 1.0 and mean != 0.0:
        msg = (f"parameter {abbreviate(param.name)}: init={abbreviate(spec)} has mean {mean}, and muP divides this weight's "
               "variance by its width multiplier (a hidden weight, or a 'scaled' readout), which a mean would outgrow; give it mean 0.")
        raise ParameterError(msg)
    return MuP(rule=rule, family=family, mean=mean, fan_in_mult=fan_in_mult, fan_out_mult=fan_out_mult, width_mult=width_mult)


_SWAPPED: Final[dict[str, Mode]] = {"fan_in": "fan_out", "fan_out": "fan_in"}
"""A torch fan mode as the canonical one of an embedding table, whose axes torch reads the other way round."""


def _tied_names(param: Param) -> tuple[str, ...]:
    """The other names of the tensor ``param`` is (a tied ``head.weight = emb.weight``), leaving out the stored originals
    of a parametrized weight (``<path>.parametrizations.<leaf>.original0``), which are the same weight."""
    prefix, _, leaf = param.name.rpartition(".")
    originals = f"{prefix}.parametrizations.{leaf}.original" if prefix else f"parametrizations.{leaf}.original"
    return tuple(alias for alias in param.aliases if not alias.startswith(originals))


def _refuse_tied_readout(param: Param, readouts: tuple[str, ...], readout_init: str) -> None:
    """:class:`ParameterError` for a readout zeroed or scaled that is tied to a parameter of another role (an embedding):
    writing it would write that one (``mup.MuSharedReadout`` zeroes a weight of its own and keeps the shared one's)."""
    names = (param.name, *_tied_names(param))
    spelled = {param.name: (param.name, param.canonical)}  # the parameter's own name is matched by its canonical one too
    others = [name for name in names if not any(fnmatch.fnmatchcase(n, p) for n in spelled.get(name, (name,)) for p in readouts)]
    if readout_init != "multiplier" and others and len(names) > 1:
        shown = next((name for name in names if name not in others), param.canonical)
        msg = (
            f"readout matches {abbreviate(shown)}, one tensor with {abbreviate(others[0])} (a tied readout): "
            f"readout_init={readout_init!r} would {'zero' if readout_init == 'zero' else 'rescale'} that one too. Use "
            "readout_init='multiplier': the shared weight keeps its own init and the forward pass multiplies the "
            "readout's input by 1/width_mult, as mup.MuSharedReadout does."
        )
        raise ParameterError(msg)


def _globs(name: str, value: str | Sequence[str]) -> tuple[str, ...]:
    patterns = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, (list, tuple)) else None
    if patterns is None or not all(isinstance(p, str) for p in patterns):
        msg = f"{name}={abbreviate(value)} must be a glob pattern or a list or tuple of them."
        raise ParameterError(msg)
    return patterns


def _check_each_matches(name: str, patterns: tuple[str, ...], params: Mapping[str, Param]) -> None:
    """Refuse a ``readout=``/``query=`` glob that names no parameter: a misspelt one would leave the model silently not muP."""
    for pattern in patterns:
        if not any(_matches((pattern,), param) for param in params.values()):
            shown = next(iter(params), "")
            msg = (
                f"{name}={abbreviate(pattern)} matches no parameter of the target (names look like {abbreviate(shown)})."
                f"{closest(pattern, params)}"
            )
            raise ParameterError(msg)


def _check_embeddings(patterns: tuple[str, ...], target: Any, params: Mapping[str, Param], readouts: tuple[str, ...]) -> None:
    """Refuse an ``embedding=`` glob given with a module (which says itself which parameters are embeddings), one that
    names no parameter, or one that names a parameter of rank other than 2 or a readout."""
    if patterns and not isinstance(target, Mapping):
        msg = f"embedding={abbreviate(patterns)} names the embedding tables of {{name: shape}} dicts; a module or a Param list says which of its parameters are embeddings itself."
        raise ParameterError(msg)
    _check_each_matches("embedding", patterns, params)
    for param in params.values():
        if _matches(patterns, param) and (param.rank != 2 or _matches(readouts, param)):
            role = "a readout" if param.rank == 2 else f"of rank {param.rank}"
            msg = f"embedding={abbreviate(patterns)} matches {abbreviate(param.name)}, {role}: an embedding table is a (num, dim) weight."
            raise ParameterError(msg)


def _matches(patterns: tuple[str, ...], param: Param) -> bool:
    return any(Where(name=p)(param) for p in patterns)


@keywords_checked
def mup_rules(
    base: Any,
    target: Any,
    *,
    delta: Any = None,
    init: Any = None,
    readout: str | Sequence[str] = (),
    readout_init: Readout = "zero",
    query: str | Sequence[str] = (),
    bias: Any = "zeros",
    layout: LayoutLike = "torch",
    embedding: str | Sequence[str] = (),
) -> list[tuple[str, Initializer]]:
    """Rules giving every weight of ``target`` its muP initialization (``mup.set_base_shapes`` + ``mup.init``).

    A dimension is *infinite* where the base shape and the delta shape (the
    target's where no ``delta`` is given) differ; its width multiplier is
    target / base. Each weight (rank >= 2) gets :class:`~unit_init.MuP`: the
    variance ``init`` gives it **at the base shape**, divided by the fan-in
    multiplier when its in and out dimensions are both infinite (hidden
    weights). Input weights (only the out dimension infinite) and readouts
    (only the in dimension) keep their base variance. Rank-1 parameters other
    than biases (norm scales) get no rule.

    Parameters
    ----------
    base, target, delta:
        ``{name: shape}`` dicts (read in ``layout``), ``torch.nn.Module``\\ s,
        ``flax.nnx.Module``\\ s or lists of :class:`~unit_init.adapters.rules.Param`,
        with the same parameter names.
    init:
        The initializer of the base model: a fan-scaled spec (default
        ``VarianceScaling(1.0, "fan_in", "untruncated_normal")``: Var = 1/fan_in),
        a fixed-scale ``RandomNormal``/``TruncatedNormal``/``RandomUniform``
        (``mup.init.normal_(std=σ)``), or a name.
    readout:
        Glob(s) of the output weights (``MuReadout``). ``readout_init``:
        ``"zero"`` (``readout_zero_init=True``; the bias too), ``"multiplier"``
        (the base variance; the forward pass multiplies the readout's input by
        ``1/fan_in_mult``, as ``MuReadout`` does), or ``"scaled"`` (that
        multiplier folded into the weights: Var / fan_in_mult²).
    query:
        Glob(s) of attention query weights to zero (the muP Transformer's
        ``query_zero_init``). The ``1/d`` attention scale (instead of ``1/√d``)
        is a forward-pass change, not an initialization.
    bias:
        The biases' spec (default zeros); a fan-scaled one is taken to the base
        fans of the weight beside it (``mup``'s ``rescale_linear_bias``).
    layout:
        The layout of the weights of a dict (default ``"torch"``: ``(out, in, *window)``).
    embedding:
        Glob(s) of a dict's embedding tables ``(num, dim)`` (torch's ``nn.Embedding.weight``; an entry whose leaf is
        ``embedding`` is one anyway). A module says which of its parameters are embeddings itself; a dict cannot,
        and a table read in ``layout`` would take ``dim`` for its fan-in where ``initialize`` draws it with ``num``.

    Returns
    -------
    ``[(name, spec), …]``: pass it to ``initialize`` (first matching rule wins,
    so put your own rules before or after it).

    Examples
    --------
    >>> import unit_init as ui
    >>> base = {"fc1.weight": (32, 8), "fc2.weight": (32, 32), "head.weight": (10, 32)}
    >>> target = {"fc1.weight": (128, 8), "fc2.weight": (128, 128), "head.weight": (10, 128)}
    >>> rules = dict(ui.mup_rules(base, target, readout="head.weight"))
    >>> rules["fc2.weight"].variance((128, 128)), 1 / 128  # Var = (1/32) / 4, rounded on the way
    (0.007812500000000002, 0.0078125)
    >>> rules["fc1.weight"].variance((8, 128)), rules["head.weight"]  # input: base 1/8; readout: zero
    (0.12500000000000003, Zeros(seed=None))
    """
    if not isinstance(readout_init, str) or readout_init not in READOUTS:
        msg = f"readout_init={abbreviate(readout_init)} is not known; accepted: {', '.join(map(repr, READOUTS))}.{closest(str(readout_init), READOUTS)}"
        raise ParameterError(msg)
    init_spec = spec_of(VarianceScaling(1.0, "fan_in", "untruncated_normal") if init is None else init)
    bias_spec, readouts, queries = spec_of(bias), _globs("readout", readout), _globs("query", query)
    embeddings = _globs("embedding", embedding)
    targets = _as_params("target", target, layout, embeddings)
    bases = _as_params("base", base, layout, embeddings)
    deltas = _as_params("delta", delta, layout, embeddings) if delta is not None else None
    for where, other in (("base", bases), ("delta", deltas)):
        if other is not None and set(other) != set(targets):
            extra, missing = sorted(set(other) - set(targets)), sorted(set(targets) - set(other))
            msg = f"{where} and target name different parameters: only in {where}: {extra[:5]}, only in target: {missing[:5]}."
            raise ParameterError(msg)
    _check_each_matches("readout", readouts, targets)
    _check_each_matches("query", queries, targets)
    _check_embeddings(embeddings, target, targets, readouts)
    mults = {name: _multipliers(p, bases[name], deltas[name] if deltas else None) for name, p in targets.items()}
    kernels = {p.path: mults[name][:2] for name, p in targets.items() if p.leaf == "kernel"}
    rules: list[tuple[str, Initializer]] = []
    for name, param in targets.items():
        (fan_in_mult, fan_out_mult, hidden), key = mults[name], glob.escape(name)
        is_readout = _matches(readouts, param)
        if is_readout:
            _refuse_tied_readout(param, readouts, readout_init)
        if param.is_bias:
            zero = _matches(queries, param) or (is_readout and readout_init == "zero")
            rules.append((key, Zeros() if zero else _scaled(bias_spec, param, *kernels.get(param.path, (1.0, 1.0)), 1.0)))
        elif param.rank >= 2:
            if _matches(queries, param) or (is_readout and readout_init == "zero"):
                rules.append((key, Zeros()))
            else:
                width = fan_in_mult**2 if is_readout and readout_init == "scaled" else (fan_in_mult if hidden else 1.0)
                rules.append((key, _scaled(init_spec, param, fan_in_mult, fan_out_mult, width)))
    return rules
