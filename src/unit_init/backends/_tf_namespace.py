"""A minimal Array-API namespace over TensorFlow: exactly the functions the shared code calls.

TensorFlow has no Array-API namespace, and its eager runtime runs an unscoped
op on the *default* device rather than where the inputs live. Every function
here therefore follows the Array-API rule instead: the result is created on
the device of the (first) input array, or on ``device=`` for creation
functions.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import tensorflow as tf

if TYPE_CHECKING:
    from typing import TypeAlias

    Tensor: TypeAlias = Any  # TensorFlow ships no type information

__all__ = [
    "any",
    "astype",
    "clip",
    "expand_dims",
    "eye",
    "full",
    "linalg",
    "matrix_transpose",
    "permute_dims",
    "reshape",
    "sign",
    "where",
]


def full(shape: Sequence[int], fill_value: float, *, dtype: tf.DType, device: str) -> Tensor:
    """An array of ``shape`` filled with ``fill_value``, created on ``device``."""
    with tf.device(device):
        return tf.fill(tuple(shape), tf.constant(fill_value, dtype=dtype))


def eye(n_rows: int, n_cols: int | None = None, *, dtype: tf.DType, device: str) -> Tensor:
    """The ``n_rows × n_cols`` identity, created on ``device``."""
    with tf.device(device):
        return tf.eye(n_rows, n_cols, dtype=dtype)


def astype(x: Tensor, dtype: tf.DType) -> Tensor:
    with tf.device(x.device):
        return tf.cast(x, dtype)


def clip(x: Tensor, min: float, max: float) -> Tensor:
    with tf.device(x.device):
        return tf.clip_by_value(x, tf.constant(min, x.dtype), tf.constant(max, x.dtype))


def where(condition: Tensor, x1: Tensor, x2: Tensor) -> Tensor:
    with tf.device(x1.device):
        return tf.where(condition, x1, x2)


def any(x: Tensor) -> Tensor:
    with tf.device(x.device):
        return tf.reduce_any(x)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    with tf.device(x.device):
        return tf.reshape(x, tuple(shape))


def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
    with tf.device(x.device):
        return tf.transpose(x, perm=tuple(axes))


def sign(x: Tensor) -> Tensor:
    with tf.device(x.device):
        return tf.sign(x)


def expand_dims(x: Tensor, *, axis: int) -> Tensor:
    with tf.device(x.device):
        return tf.expand_dims(x, axis)


def matrix_transpose(x: Tensor) -> Tensor:
    with tf.device(x.device):
        return tf.linalg.matrix_transpose(x)


def _qr(x: Tensor) -> tuple[Tensor, Tensor]:
    """Reduced QR of a (batch of) matrices."""
    with tf.device(x.device):
        q, r = tf.linalg.qr(x, full_matrices=False)
    return q, r


def _diagonal(x: Tensor) -> Tensor:
    with tf.device(x.device):
        return tf.linalg.diag_part(x)


linalg = types.SimpleNamespace(qr=_qr, diagonal=_diagonal)
"""The ``linalg`` extension: ``qr`` (reduced) and ``diagonal``."""
