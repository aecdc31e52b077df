"""Layer presets: each framework's *default* initialization of a layer, on any backend.

A :class:`LayerPreset` pairs a weight spec with a bias spec and the weight's
layout; calling it with a weight shape returns ``(weight, bias)`` arrays on any
backend. With ``bias_fan_from_weight`` (the default) the bias is drawn with the
*weight's* fans, as PyTorch does.

================  ====================================================  ==============================
preset            weight                                                bias
================  ====================================================  ==============================
``torch_linear``  U(±1/√fan_in) (``kaiming_uniform_(a=√5)``), torch     U(±1/√fan_in), weight's fan_in
``torch_conv``    the same, fan_in = in/groups · window                 the same
``keras_dense``   Glorot uniform, U(±√(6/(fan_in+fan_out)))             0
``flax_dense``    LeCun normal, truncated, Var = 1/fan_in               0
``haiku_linear``  N(0, 1/fan_in) cut at ±2σ, *uncorrected* (σ = 1/√n)    0
================  ====================================================  ==============================

``U(±1/√n)`` has variance ``1/(3n)``: it is ``VarianceScaling(1/3, "fan_in",
"uniform")``. Haiku's ``TruncatedNormal(stddev=1/√n)`` keeps σ before
truncation, so its variance is ``c²/n`` with ``c = 0.8796…``: it is
``VarianceScaling(c², "fan_in", "truncated_normal")``.

A preset's config nests its specs' configs; :func:`unit_init.serialize` writes
it and :func:`deserialize_preset` reads it back through the same closed
registry (this module registers the writer; :mod:`unit_init.serialization`
never imports presets).
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from unit_init.backends.registry import get_backend
from unit_init.errors import ParameterError, ShapeError, abbreviate, keywords_checked
from unit_init.seeds import derive_seed, normalize_seed, seed_backend
from unit_init.serialization import config_fields, deserialize, plain_config, serialize
from unit_init.spec.catalogue import Composed, GlorotUniform, LecunNormal, VarianceScaling, Zeros
from unit_init.spec.distributions import truncated_standard_normal_moments
from unit_init.spec.fans import LAYOUTS, Fans, ShapeLike, compute_fans, normalize_shape, resolve_layout
from unit_init.spec.initializer import Initializer

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["PRESETS", "LayerPreset", "deserialize_preset", "flax_dense", "haiku_linear", "keras_dense", "torch_conv", "torch_linear"]


def _split_seed(seed: Any) -> tuple[Any, Any]:
    """One seed for the weight and one for the bias.

    An int gives two derived ints; ``None`` stays ``None`` (each draw takes the
    spec's seed or the global stream); a JAX key is split; a stateful
    generator (``torch.Generator``, ``numpy.random.Generator``) is shared and
    advances.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):  # a NumPy integer is its int, as seed= takes it
        number = normalize_seed(seed)  # validated as seed= validates it (its range; np.timedelta64 is no int)
        return derive_seed(number, "weight"), derive_seed(number, "bias")
    owner = seed_backend(seed)
    if owner is None:
        return seed, seed
    weight_seed, bias_seed = get_backend(owner).split_seed(seed, 2)
    return weight_seed, bias_seed


@dataclass(frozen=True, kw_only=True, slots=True)
class LayerPreset:
    """A layer's weight and bias initialization, reproducible on any backend.

    Parameters
    ----------
    name:
        A short name (``"torch_linear"``); informative only.
    weight, bias:
        The specs of the weight and the bias.
    layout:
        The weight's layout name (``"keras"``, ``"torch"``, …): it sets the fans
        and which axes make the bias (``bias.shape`` = the out axis).
    bias_fan_from_weight:
        Draw the bias with the weight's ``fan_in``/``fan_out`` (PyTorch's rule)
        rather than its own shape's.

    Examples
    --------
    >>> import unit_init as ui
    >>> w, b = ui.torch_linear((4, 16), seed=0)
    >>> w.shape, b.shape, bool(abs(b).max() < 1 / 16 ** 0.5)
    ((4, 16), (4,), True)
    """

    name: str
    weight: Initializer
    bias: Initializer
    layout: str = "keras"
    bias_fan_from_weight: bool = True

    def __post_init__(self) -> None:
        given: dict[str, Any] = {f: getattr(self, f) for f in ("name", "weight", "bias", "layout", "bias_fan_from_weight")}
        checks = {
            "name": (isinstance(given["name"], str) and bool(given["name"]), "a non-empty string"),
            "weight": (isinstance(given["weight"], Initializer), "a unit_init spec (an Initializer)"),
            "bias": (isinstance(given["bias"], Initializer), "a unit_init spec (an Initializer)"),
            "layout": (isinstance(given["layout"], str) and given["layout"] in LAYOUTS, f"one of {', '.join(map(repr, LAYOUTS))}"),
            "bias_fan_from_weight": (isinstance(given["bias_fan_from_weight"], bool), "True or False"),
        }
        for field, (ok, accepted) in checks.items():
            if not ok:
                msg = f"LayerPreset({field}={abbreviate(given[field])}): must be {accepted}."
                raise ParameterError(msg)

    def _weight_shape(self, weight_shape: ShapeLike) -> tuple[int, ...]:
        dims = normalize_shape(weight_shape)
        if len(dims) < 2:
            msg = f"the {self.name} preset needs a weight of rank >= 2, got shape={dims}."
            raise ShapeError(msg)
        return dims

    def fans(self, weight_shape: ShapeLike) -> Fans:
        """The weight's fans under the preset's layout."""
        return compute_fans(self._weight_shape(weight_shape), self.layout)

    def bias_shape(self, weight_shape: ShapeLike) -> tuple[int, ...]:
        """The bias's shape: the sizes of the weight's out axes."""
        dims = self._weight_shape(weight_shape)
        _, out_axes, _ = resolve_layout(self.layout).axes(len(dims))
        return tuple(dims[a] for a in out_axes)

    def bias_fans(self, weight_shape: ShapeLike) -> dict[str, float]:
        """The ``fan_in``/``fan_out`` overrides the bias is drawn with (empty without ``bias_fan_from_weight``).

        Fans are floored at 1, as the variance rules do, so an empty weight gives a valid override.
        """
        if not self.bias_fan_from_weight:
            return {}
        fans = self.fans(weight_shape)
        return {"fan_in": max(1.0, fans.fan_in), "fan_out": max(1.0, fans.fan_out)}

    def bias_for(self, weight_fans: Fans) -> Initializer:
        """The bias's spec beside a weight of ``weight_fans`` (not floored): ``bias``, but zeros where a fan-scaled bias
        takes the weight's fans and the weight has no inputs, as PyTorch's ``bound = 1/√fan_in if fan_in > 0 else 0`` gives.

        Examples
        --------
        >>> import unit_init as ui
        >>> ui.torch_linear.bias_for(ui.compute_fans((5, 0), "torch"))
        Zeros(seed=None)
        """
        given: object = weight_fans  # annotated Fans, given anything
        if not isinstance(given, Fans):
            msg = f"weight_fans={abbreviate(given)} is not a Fans; pass preset.fans(weight_shape) or ui.compute_fans(weight_shape, layout)."
            raise ParameterError(msg)
        fan_scaled = isinstance(self.bias, Composed)  # a constant bias keeps its value
        return Zeros() if self.bias_fan_from_weight and fan_scaled and weight_fans.fan_in == 0 else self.bias

    @keywords_checked
    def __call__(
        self,
        weight_shape: ShapeLike,
        *,
        backend: str | types.ModuleType | Backend | None = None,
        device: Any = None,
        dtype: Any = None,
        seed: Any = None,
        like: Any = None,
        rng: str = "native",
    ) -> tuple[Any, Any]:
        """Draw ``(weight, bias)`` for a weight of ``weight_shape``.

        The options are those of :meth:`unit_init.Initializer.__call__`. An int
        ``seed`` gives the weight and the bias independent seeds derived from
        it (:func:`unit_init.seeds.derive_seed` with ``"weight"``/``"bias"``);
        with ``rng="portable"`` both come from the portable stream, which every backend shares (a uniform law's
        values bit for bit, a normal one's to within 1e-6: docs/reproducibility.md).
        """
        dims = self._weight_shape(weight_shape)
        weight_seed, bias_seed = _split_seed(seed)
        where: dict[str, Any] = {"backend": backend, "device": device, "dtype": dtype, "like": like, "rng": rng}
        weight = self.weight(dims, layout=self.layout, seed=weight_seed, **where)
        fans = self.bias_fans(dims)
        bias_spec = self.bias_for(self.fans(dims))
        bias = bias_spec(self.bias_shape(dims), seed=bias_seed, fan_in=fans.get("fan_in"), fan_out=fans.get("fan_out"), **where)
        return weight, bias

    def get_config(self) -> dict[str, Any]:
        """The preset as a JSON-ready config, its specs as spec configs (see :func:`unit_init.serialize`)."""
        return {
            "name": self.name, "weight": serialize(self.weight), "bias": serialize(self.bias),
            "layout": self.layout, "bias_fan_from_weight": self.bias_fan_from_weight,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LayerPreset:
        """The preset from :meth:`get_config`'s output; hostile configs raise :class:`~unit_init.UnitInitError`."""
        if isinstance(config, Mapping):
            config = plain_config("the LayerPreset config", config)
        if isinstance(config, dict) and set(config) == {"class_name", "config"}:
            msg = (
                "LayerPreset.from_config takes the inner config (preset.get_config()); "
                "read ui.serialize(preset)'s whole config with ui.deserialize_preset."
            )
            raise ParameterError(msg)
        return deserialize_preset({"class_name": "LayerPreset", "config": config})


LayerPreset.__init__ = keywords_checked(LayerPreset.__init__)  # type: ignore[method-assign]  # a misspelt keyword, a missing argument: ArgumentError


@serialize.register
def _serialize_preset(preset: LayerPreset) -> dict[str, Any]:
    written = {"class_name": "LayerPreset", "config": preset.get_config()}
    checked: dict[str, Any] = plain_config("the config of LayerPreset", written)  # what deserialize_preset would refuse is not written
    return checked


_FIELDS: Final = frozenset({"name", "weight", "bias", "layout", "bias_fan_from_weight"})


@keywords_checked
def deserialize_preset(config: Mapping[str, Any]) -> LayerPreset:
    """Build a :class:`LayerPreset` from :func:`unit_init.serialize`'s output.

    The weight and bias configs are read by :func:`unit_init.deserialize`; a
    nested preset, a module path, an unknown key or a value of the wrong type
    raises :class:`~unit_init.ParameterError`.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.deserialize_preset(ui.serialize(ui.keras_dense)) == ui.keras_dense
    True
    """
    fields = config_fields("the preset config", config, "LayerPreset", _FIELDS, {"name", "weight", "bias"})
    return LayerPreset(
        name=fields["name"],
        weight=deserialize(fields["weight"]),
        bias=deserialize(fields["bias"]),
        layout=fields.get("layout", "keras"),
        bias_fan_from_weight=fields.get("bias_fan_from_weight", True),
    )


_TORCH_DEFAULT: Final = VarianceScaling(1.0 / 3.0, "fan_in", "uniform")  # U(±1/√fan_in)
_UNCORRECTED: Final = truncated_standard_normal_moments(-2.0, 2.0)[1]  # c² = 0.8796² = 0.7737

torch_linear: Final = LayerPreset(name="torch_linear", weight=_TORCH_DEFAULT, bias=_TORCH_DEFAULT, layout="torch")
"""``torch.nn.Linear``'s default: weight and bias ``U(±1/√fan_in)``, weight ``(out, in)``."""
torch_conv: Final = LayerPreset(name="torch_conv", weight=_TORCH_DEFAULT, bias=_TORCH_DEFAULT, layout="torch")
"""``torch.nn.Conv{1,2,3}d``'s default: ``U(±1/√fan_in)``, fan_in = in/groups · window, weight ``(out, in/groups, *window)``."""
keras_dense: Final = LayerPreset(name="keras_dense", weight=GlorotUniform(), bias=Zeros(), layout="keras")
"""``keras.layers.Dense``/``Conv*``'s default: Glorot uniform kernel, zero bias."""
flax_dense: Final = LayerPreset(name="flax_dense", weight=LecunNormal(), bias=Zeros(), layout="keras")
"""Flax ``Dense``/``nnx.Linear``'s default: LeCun normal (truncated, Var = 1/fan_in) kernel, zero bias."""
haiku_linear: Final = LayerPreset(
    name="haiku_linear", weight=VarianceScaling(_UNCORRECTED, "fan_in", "truncated_normal"), bias=Zeros(), layout="keras"
)
"""Haiku ``Linear``'s default: ``TruncatedNormal(stddev=1/√fan_in)`` (σ before truncation, uncorrected), zero bias."""

PRESETS: Final[dict[str, LayerPreset]] = {
    preset.name: preset for preset in (torch_linear, torch_conv, keras_dense, flax_dense, haiku_linear)
}
"""Every built-in preset by name."""
