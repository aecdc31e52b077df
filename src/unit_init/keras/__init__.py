"""Keras 3 adapter: any unit_init spec as a serializable ``keras.initializers.Initializer``.

See docs/adapters/keras.md: Keras's fans in ``EinsumDense``/``MultiHeadAttention``,
the Keras attributes, ``SeedGenerator`` seeds, array constants, saving and
``keras.distribution``. :func:`lsuv` rescales a built model on a batch
(docs/lsuv.md); :func:`diagnose` is ``ui.diagnose(model, batch)`` for Keras.

>>> import keras
>>> import unit_init as ui
>>> import unit_init.keras
>>> layer = keras.layers.Dense(4, kernel_initializer=unit_init.keras.initializer(ui.HeNormal(seed=0)))
"""

from __future__ import annotations

from unit_init.errors import require

require("keras", "keras", "keras", "unit_init.keras")  # a typed BackendUnavailableError, naming what to install, if it is missing

from unit_init.keras._constant import KerasConstant  # noqa: E402
from unit_init.keras._hooks import diagnose, lsuv  # noqa: E402
from unit_init.keras._initializer import KerasInitializer, KerasVarianceScaling, initializer  # noqa: E402
from unit_init.keras._model import initialize  # noqa: E402

__all__ = ["KerasConstant", "KerasInitializer", "KerasVarianceScaling", "diagnose", "initialize", "initializer", "lsuv"]
