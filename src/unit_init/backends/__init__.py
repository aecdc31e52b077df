"""Backends turn a concrete distribution into a native array; see :mod:`unit_init.backends.base`."""
