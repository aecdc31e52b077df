"""What every Keras initializer call reads first: its ``shape`` and its ``dtype``, with unit_init's typed errors, and
the unit_init backend and device of the Keras backend in use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

import keras

from unit_init.errors import BackendError, DTypeError, abbreviate
from unit_init.spec.fans import normalize_shape

__all__ = ["call_arguments", "keras_backend", "keras_device"]

_BACKENDS: Final = ("tensorflow", "jax", "torch", "numpy")


def call_arguments(shape: Any, dtype: Any) -> tuple[tuple[int, ...], str]:
    """``shape`` as a tuple of non-negative ints (:class:`~unit_init.ShapeError`) and ``dtype`` as Keras names it.

    ``dtype=None`` is ``keras.config.floatx()``; one Keras does not know is a
    :class:`~unit_init.DTypeError` (Keras raises a bare ``ValueError``).

    Examples
    --------
    >>> call_arguments([3, 4], None)
    ((3, 4), 'float32')
    >>> call_arguments((None, 4), None)
    Traceback (most recent call last):
    ...
    unit_init.errors.ShapeError: shape=(None, 4) has None; every dimension must be a non-negative int.
    """
    dims = normalize_shape(shape)
    try:
        return dims, keras.backend.standardize_dtype(dtype if dtype is not None else keras.config.floatx())
    except (ValueError, TypeError) as error:
        msg = f"dtype={abbreviate(dtype)} is not a dtype Keras knows ({error})."
        raise DTypeError(msg) from None


def keras_backend() -> str:
    """The unit_init backend of the Keras backend in use (a :class:`~unit_init.BackendError` for one it has none of)."""
    name = str(keras.backend.backend())
    if name not in _BACKENDS:
        msg = f"the Keras backend {name!r} has no unit_init backend; accepted Keras backends: {', '.join(_BACKENDS)}."
        raise BackendError(msg)
    return name


def keras_device(backend: str) -> Any:
    """Where Keras puts new tensors on its torch backend (``None`` elsewhere: the framework's own default, which
    ``keras.device`` scopes on TensorFlow and JAX): the device of the innermost ``keras.device(...)``, else CUDA where
    there is one, else the CPU; ``"meta"`` while Keras builds a model symbolically (a subclassed model, or one without
    ``keras.Input``, on its first ``fit``/``predict``), where Keras's own initializers return tensors with no values."""
    getter = _torch_device_getter() if backend == "torch" else None
    return None if getter is None else getter()


@functools.cache  # an import statement costs ~0.4 µs even when the module is loaded; the device is read on every call
def _torch_device_getter() -> Callable[[], Any] | None:
    """Keras's torch ``get_device`` (it has no public getter; its torch ops read this one); ``None`` in a Keras that
    moved it, which then draws on torch's own default device, from which Keras copies."""
    try:
        from keras.src.backend.torch.core import get_device
    except ImportError:
        return None
    return get_device  # type: ignore[no-any-return]
