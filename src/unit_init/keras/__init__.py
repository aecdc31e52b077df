"""Keras 3 adapter: any unit_init spec as a serializable ``keras.initializers.Initializer``.

>>> import keras
>>> import unit_init as ui
>>> import unit_init.keras
>>> layer = keras.layers.Dense(4, kernel_initializer=unit_init.keras.initializer(ui.HeNormal(seed=0)))
"""

from __future__ import annotations

from unit_init.keras._initializer import KerasInitializer, initializer

__all__ = ["KerasInitializer", "initializer"]
