"""Framework adapters (CONTRACT §6), each importing its framework only when used.

* :mod:`unit_init.adapters.keras` (``ui.keras``) — a serializable Keras 3 initializer;
* :mod:`unit_init.adapters.torch` (``ui.torch``) — ``init_``, ``initialize`` and the
  ``torch.nn.init`` drop-ins of :mod:`unit_init.adapters.torch_init`;
* :mod:`unit_init.adapters.jax` (``ui.jax``) — the ``jax.nn.initializers`` protocol, for Flax.

This package imports nothing itself; ``ui.keras`` and friends import one module on first access.
"""
