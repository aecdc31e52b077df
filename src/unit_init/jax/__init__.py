"""JAX, Flax and Haiku adapter: any unit_init spec as a ``jax.nn.initializers`` function (or a Haiku initializer).

:func:`initialize` fills whole models by rules; :func:`lsuv` rescales a Flax
model on a batch (docs/lsuv.md); :func:`diagnose` is ``ui.diagnose(model, batch)`` for nnx.

>>> import jax
>>> import unit_init as ui
>>> import unit_init.jax
>>> unit_init.jax.initializer(ui.HeNormal())(jax.random.key(0), (3, 4)).shape
(3, 4)
"""

from __future__ import annotations

from unit_init.errors import require

require("jax", "jax", "jax", "unit_init.jax")  # a typed BackendUnavailableError, naming what to install, if it is missing

from unit_init.jax._haiku import HaikuInitializer, haiku_initializer  # noqa: E402
from unit_init.jax._hooks import diagnose, lsuv  # noqa: E402
from unit_init.jax._initializer import JaxInitializer, initializer  # noqa: E402
from unit_init.jax._params import initialize  # noqa: E402

__all__ = ["HaikuInitializer", "JaxInitializer", "diagnose", "haiku_initializer", "initialize", "initializer", "lsuv"]
