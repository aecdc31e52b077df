"""What every framework adapter shares; imports no framework.

The adapters themselves are the modules ``unit_init.torch``, ``unit_init.keras``
and ``unit_init.jax`` (also reachable as ``ui.torch`` …), each importing its
framework when first imported.
"""
