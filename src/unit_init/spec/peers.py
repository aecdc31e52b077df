"""Named initializers of the peer frameworks beyond the Keras list, and :data:`PEERS`, their registry.

* :class:`~unit_init.spec.convolution.DeltaOrthogonal` and
  :class:`~unit_init.spec.convolution.ConvolutionOrthogonal` (JAX, Flax, TensorFlow);
* :class:`~unit_init.spec.signal.STFT` (Keras);
* :class:`UniformScaling` (Haiku), defined here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from unit_init.errors import ParameterError
from unit_init.spec import distributions as d
from unit_init.spec._checks import positive
from unit_init.spec.convolution import ConvolutionOrthogonal, DeltaOrthogonal
from unit_init.spec.fans import LayoutLike, ShapeLike, compute_fans, normalize_shape
from unit_init.spec.initializer import Initializer
from unit_init.spec.signal import STFT

__all__ = ["PEERS", "STFT", "ConvolutionOrthogonal", "DeltaOrthogonal", "UniformScaling"]  # the others re-exported: one home for the registry


@dataclass(frozen=True, slots=True)
class UniformScaling(Initializer):
    """Haiku's ``UniformScaling``: ``U[−scale·√(3 / fan_in), scale·√(3 / fan_in))``.

    The same law as ``VarianceScaling(scale², "fan_in", "uniform")``:
    ``Var = scale² / fan_in``. Haiku takes ``fan_in = prod(shape[:-1])``,
    which is the ``"keras"`` layout's fan_in for rank >= 2; here the fans
    follow the layout (docs/fans.md), so a rank-1 shape has ``fan_in =
    shape[0]`` where Haiku uses 1 (pass ``fan_in=1`` for Haiku's values).

    Examples
    --------
    >>> from unit_init.spec.peers import UniformScaling
    >>> UniformScaling(scale=2.0).distribution_for((12, 5))  # limit 2·√(3/12) = 1
    Uniform(low=-1.0, high=1.0)
    """

    scale: float = 1.0

    def _validate(self) -> None:
        positive("scale", self.scale)

    def distribution_for(
        self, shape: ShapeLike, *, layout: LayoutLike = None, fan_in: float | None = None, fan_out: float | None = None
    ) -> d.Distribution:
        fans = compute_fans(normalize_shape(shape), layout, fan_in=fan_in, fan_out=fan_out)
        limit = self.scale * math.sqrt(3.0 / max(1.0, fans.fan_in))
        if not 0 < limit < math.inf:  # from a positive, finite scale: an underflow or overflow of float64, which drew zeros
            msg = f"UniformScaling: scale={self.scale!r} gives the limit {limit!r} for this shape (an underflow or overflow of float64); choose a scale nearer 1."
            raise ParameterError(msg)
        return d.Uniform(-limit, limit)


PEERS: Final[dict[str, type[Initializer]]] = {
    "delta_orthogonal": DeltaOrthogonal,
    "convolution_orthogonal": ConvolutionOrthogonal,
    "uniform_scaling": UniformScaling,
    "stft": STFT,
}
"""The peers' named initializers beyond the Keras list: snake-case name → spec class."""
