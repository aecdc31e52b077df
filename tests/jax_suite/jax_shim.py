"""A ``jax.nn.initializers`` look-alike backed by ``unit_init.jax``, for test_parity.py.

``initializers.<name>(...)`` takes the arguments of ``jax.nn.initializers.<name>``
(same names, order and defaults) and returns what a user porting that line
writes: ``unit_init.jax.initializer(<the unit_init spec of that name>, layout=...,
dtype=...)``, where ``in_axis``/``out_axis``/``batch_axis`` become a ``ui.Layout``
and a factory's ``dtype`` the initializer's default dtype. ``zeros`` and
``ones`` are initializers themselves, as in JAX.

Two translations are the shim's, not the adapter's: a spec holds Python
numbers, so a 0-d array given as ``scale``/``stddev`` is read with ``float()``;
``orthogonal``'s ``column_axis`` is the layout's output axis.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import unit_init as ui
import unit_init.jax

Axes = int | Sequence[int]


def _number(value: Any) -> float:
    return float(value)


def _init(spec: ui.Initializer, layout: str | ui.Layout = "keras", dtype: Any = None) -> Any:
    return unit_init.jax.initializer(spec, layout=layout, dtype=dtype)


def _fan_scaled(spec: ui.Initializer, in_axis: Axes, out_axis: Axes, batch_axis: Axes, dtype: Any) -> Any:
    return _init(spec, ui.Layout(in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis), dtype)


def constant(value: Any, dtype: Any = None) -> Any:
    return _init(ui.Constant(_number(value)), dtype=dtype)


def uniform(scale: Any = 1e-2, dtype: Any = None) -> Any:
    return _init(ui.RandomUniform(0.0, _number(scale)), dtype=dtype)


def normal(stddev: Any = 1e-2, dtype: Any = None) -> Any:
    return _init(ui.RandomNormal(0.0, _number(stddev)), dtype=dtype)


def truncated_normal(stddev: Any = 1e-2, dtype: Any = None, lower: Any = -2.0, upper: Any = 2.0) -> Any:
    return _init(ui.TruncatedNormal(0.0, _number(stddev), _number(lower), _number(upper)), dtype=dtype)


def variance_scaling(
    scale: Any, mode: Any, distribution: Any, in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: Any = None
) -> Any:
    return _fan_scaled(ui.VarianceScaling(_number(scale), mode, distribution), in_axis, out_axis, batch_axis, dtype)


def _preset(spec: type[ui.Initializer]) -> Any:
    def factory(in_axis: Axes = -2, out_axis: Axes = -1, batch_axis: Axes = (), dtype: Any = None) -> Any:
        return _fan_scaled(spec(), in_axis, out_axis, batch_axis, dtype)

    factory.__name__ = spec.__name__
    return factory


def orthogonal(scale: Any = 1.0, column_axis: int = -1, dtype: Any = None) -> Any:
    layout = "keras" if column_axis == -1 else ui.Layout(in_axis=-1, out_axis=column_axis)
    return _init(ui.Orthogonal(gain=_number(scale)), layout, dtype)


def delta_orthogonal(scale: Any = 1.0, column_axis: int = -1, dtype: Any = None) -> Any:
    if column_axis != -1:
        msg = "the shim maps only delta_orthogonal's default column_axis=-1"
        raise NotImplementedError(msg)
    return _init(ui.DeltaOrthogonal(gain=_number(scale)), dtype=dtype)


initializers = SimpleNamespace(
    zeros=_init(ui.Zeros()),
    ones=_init(ui.Ones()),
    constant=constant,
    uniform=uniform,
    normal=normal,
    truncated_normal=truncated_normal,
    variance_scaling=variance_scaling,
    glorot_uniform=_preset(ui.GlorotUniform),
    glorot_normal=_preset(ui.GlorotNormal),
    he_uniform=_preset(ui.HeUniform),
    he_normal=_preset(ui.HeNormal),
    lecun_uniform=_preset(ui.LecunUniform),
    lecun_normal=_preset(ui.LecunNormal),
    orthogonal=orthogonal,
    delta_orthogonal=delta_orthogonal,
)
