"""Whole-module initialization by rules: :func:`initialize`."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any, cast

import torch

from unit_init.adapters._spec import spec_of
from unit_init.errors import ParameterError
from unit_init.presets import LayerPreset
from unit_init.seeds import derive_seed
from unit_init.spec.fans import LayoutLike, compute_fans
from unit_init.spec.initializer import Initializer
from unit_init.torch._fill import init_

__all__ = ["initialize"]

RuleKey = str | type
Rule = Initializer | LayerPreset | str


def _matches(key: RuleKey, name: str, owner: torch.nn.Module) -> bool:
    if isinstance(key, str):
        return fnmatch.fnmatchcase(name, key)
    if isinstance(key, type) and issubclass(key, torch.nn.Module):
        return isinstance(owner, key)
    msg = f"rule key {key!r} must be a parameter-name glob pattern (str) or an nn.Module subclass."
    raise ParameterError(msg)


def _weight_fans(owner: torch.nn.Module, layout: LayoutLike) -> dict[str, float]:
    """The owner's ``weight`` fans (floored at 1), for its bias; empty if it has no rank >= 2 weight."""
    weight = getattr(owner, "weight", None)
    if not isinstance(weight, torch.Tensor) or weight.dim() < 2:
        return {}
    fans = compute_fans(tuple(weight.shape), layout)
    return {"fan_in": max(1.0, fans.fan_in), "fan_out": max(1.0, fans.fan_out)}


def _plan(
    rule: Rule, leaf: str, owner: torch.nn.Module, layout: LayoutLike, bias_fan_from_weight: bool
) -> tuple[Initializer, dict[str, Any]] | None:
    """The spec and draw options for one parameter, or ``None`` if a preset rule does not cover it."""
    if isinstance(rule, LayerPreset):
        if leaf == "weight":
            return rule.weight, {"layout": rule.layout}
        if leaf == "bias":
            fans = _weight_fans(owner, rule.layout) if rule.bias_fan_from_weight else {}
            return rule.bias, fans
        return None
    spec = spec_of(rule)
    if leaf == "bias" and bias_fan_from_weight:
        return spec, {"layout": layout, **_weight_fans(owner, layout)}
    return spec, {"layout": layout}


def initialize(
    module: torch.nn.Module,
    rules: Mapping[RuleKey, Rule] | Iterable[tuple[RuleKey, Rule]],
    *,
    seed: int = 0,
    layout: LayoutLike = "torch",
    bias_fan_from_weight: bool = True,
) -> torch.nn.Module:
    """Initialize ``module``'s parameters in place by rule; return ``module``.

    Each parameter (``module.named_parameters()``, qualified names such as
    ``"encoder.0.weight"``) takes the **first** rule whose key matches:

    * a ``str`` key is a glob pattern (``fnmatch``, case-sensitive) on the
      qualified name: ``"*.weight"``, ``"*bias"``, ``"head.*"``;
    * a type key (``nn.Linear``, ``nn.Conv2d``) matches every parameter whose
      owning module is an instance of it.

    A rule's value is a spec (or a name/config), or a
    :class:`~unit_init.presets.LayerPreset`, which sets the owner's ``weight``
    and ``bias`` only (other parameters go on to later rules). Parameters no
    rule matches are left untouched.

    Each parameter is drawn with its own seed, ``derive_seed(seed, name)``
    (blake2b of ``f"{seed}:{name}"``), so adding, removing or reordering other
    parameters never changes its values. With ``bias_fan_from_weight`` a
    parameter named ``bias`` is drawn with the fans of its module's ``weight``
    (PyTorch's rule: ``U(±1/√fan_in)`` for the bias of ``Linear`` and ``Conv``).

    Examples
    --------
    >>> import torch, unit_init as ui
    >>> net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> _ = ui.torch.initialize(net, {"*.weight": ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    >>> net[2].bias.tolist()
    [0.0, 0.0]
    """
    if not isinstance(cast("object", module), torch.nn.Module):
        msg = f"module={type(module).__name__} is not a torch.nn.Module."
        raise ParameterError(msg)
    pairs = list(rules.items() if isinstance(rules, Mapping) else rules)
    for name, parameter in module.named_parameters():
        owner_name, _, leaf = name.rpartition(".")
        owner = module.get_submodule(owner_name)
        for key, rule in pairs:
            if not _matches(key, name, owner):
                continue
            plan = _plan(rule, leaf, owner, layout, bias_fan_from_weight)
            if plan is not None:
                spec, options = plan
                init_(parameter, spec, seed=derive_seed(seed, name), **options)
                break
    return module
