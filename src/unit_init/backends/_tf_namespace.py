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

import numpy as np
import tensorflow as tf

if TYPE_CHECKING:
    from typing import TypeAlias

    Tensor: TypeAlias = Any  # TensorFlow ships no type information

__all__ = [
    "abs",
    "add",
    "any",
    "arange",
    "argsort",
    "asarray",
    "astype",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "clip",
    "concat",
    "cos",
    "expand_dims",
    "eye",
    "full",
    "linalg",
    "log",
    "log1p",
    "logical_and",
    "matrix_transpose",
    "multiply",
    "permute_dims",
    "reshape",
    "sign",
    "sin",
    "sqrt",
    "stack",
    "where",
    "zeros_like",
]

float32 = tf.float32
float64 = tf.float64
int32 = tf.int32
uint32 = tf.uint32


def full(shape: Sequence[int], fill_value: float, *, dtype: tf.DType, device: str) -> Tensor:
    """An array of ``shape`` filled with ``fill_value``, created on ``device``."""
    with tf.device(device):
        return tf.fill(tuple(shape), tf.constant(bool(fill_value) if dtype == tf.bool else fill_value, dtype=dtype))


def eye(n_rows: int, n_cols: int | None = None, *, dtype: tf.DType, device: str) -> Tensor:
    """The ``n_rows × n_cols`` identity, created on ``device``."""
    with tf.device(device):
        return tf.eye(n_rows, n_cols, dtype=dtype)


def asarray(value: float, *, dtype: tf.DType, device: str) -> Tensor:
    """A 0-d array holding ``value``, created on ``device``; a Python number is made a NumPy one of ``dtype`` first
    (with ``tnp.experimental_enable_numpy_behavior(dtype_conversion_mode="safe")`` TensorFlow converts a Python int
    through int32, so a uint32 word above 2³¹ overflowed)."""
    with tf.device(device):
        return tf.constant(np.asarray(value, dtype=dtype.as_numpy_dtype), dtype=dtype)


def arange(start: int, stop: int, *, dtype: tf.DType, device: str) -> Tensor:
    """``start, …, stop - 1`` on ``device`` (counted in int64: TensorFlow has no uint32 range kernel)."""
    with tf.device(device):
        return tf.cast(tf.range(start, stop, dtype=tf.int64), dtype)


def _placed(op: Any) -> Any:
    """An Array-API function of one or two arrays from a TensorFlow op: runs on the first array's device; a Python
    scalar as the second operand takes the first array's dtype."""

    def function(x: Tensor, *other: Tensor | int) -> Tensor:
        with tf.device(x.device):
            return op(x, *(y if isinstance(y, tf.Tensor) else tf.constant(y, x.dtype) for y in other))

    function.__name__ = op.__name__
    return function


LANES = 64
"""A multiple of the values one SIMD step of Eigen's unrolled loops covers (4 packets of 16 float32 on AVX-512)."""


def _lane_aligned(op: Any) -> Any:
    """:func:`_placed` for a transcendental op (``log``, ``log1p``, ``cos``, ``sin``), evaluated on its input flattened
    and padded with ones to a multiple of :data:`LANES` values. Eigen computes a vectorized loop's SIMD body and its
    scalar tail with other approximations (``log`` of 13 float32 values in a tail differed from the same values in
    a body in 1,945 of 53,248 cases): padded, every value goes through the SIMD body, so a value does not depend on
    its position in the array, and a block of a portable draw equals the same block of the whole."""

    def function(x: Tensor) -> Tensor:
        with tf.device(x.device):
            size = x.shape.num_elements()  # known but inside a function traced with unknown dimensions
            if size is not None and size % LANES == 0:
                return op(x)
            flat = tf.reshape(x, [-1])
            if size is None:  # counted in int64: a portable draw holds up to 2³² values
                size = tf.size(flat, out_type=tf.int64)
            padded = tf.pad(flat, [[0, (-size) % LANES]], constant_values=1)
            return tf.reshape(op(padded)[:size], tf.shape(x, out_type=tf.int64))

    function.__name__ = op.__name__
    return function


abs = _placed(tf.math.abs)
add = _placed(tf.math.add)
any = _placed(tf.reduce_any)
bitwise_and = _placed(tf.bitwise.bitwise_and)
bitwise_left_shift = _placed(tf.bitwise.left_shift)
bitwise_or = _placed(tf.bitwise.bitwise_or)
bitwise_right_shift = _placed(tf.bitwise.right_shift)
bitwise_xor = _placed(tf.bitwise.bitwise_xor)
cos = _lane_aligned(tf.math.cos)
_diagonal = _placed(tf.linalg.diag_part)
log = _lane_aligned(tf.math.log)
log1p = _lane_aligned(tf.math.log1p)
logical_and = _placed(tf.math.logical_and)
matrix_transpose = _placed(tf.linalg.matrix_transpose)
multiply = _placed(tf.math.multiply)
sign = _placed(tf.sign)
sin = _lane_aligned(tf.math.sin)
sqrt = _placed(tf.math.sqrt)
zeros_like = _placed(tf.zeros_like)


def astype(x: Tensor, dtype: tf.DType) -> Tensor:
    with tf.device(x.device):
        return tf.cast(x, dtype)


def clip(x: Tensor, min: float, max: float) -> Tensor:
    with tf.device(x.device):
        return tf.clip_by_value(x, tf.constant(min, x.dtype), tf.constant(max, x.dtype))


def where(condition: Tensor, x1: Tensor, x2: Tensor) -> Tensor:
    with tf.device(x1.device):
        return tf.where(condition, x1, x2)


def argsort(x: Tensor, *, axis: int = -1) -> Tensor:
    """The indices that sort ``x`` along ``axis`` (ascending; ties in any order, as the standard allows by default)."""
    with tf.device(x.device):
        return tf.argsort(x, axis=axis)


def take(x: Tensor, indices: Tensor, /, *, axis: int) -> Tensor:
    """The entries ``indices`` of ``x`` along ``axis`` (``tf.gather``: any rank, where a slice handles at most 8 axes)."""
    with tf.device(x.device):
        return tf.gather(x, indices, axis=axis)


def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    with tf.device(x.device):
        return tf.reshape(x, tuple(shape))


def stack(arrays: Sequence[Tensor], *, axis: int = 0) -> Tensor:
    with tf.device(arrays[0].device):
        return tf.stack(tuple(arrays), axis=axis)


def concat(arrays: Sequence[Tensor], *, axis: int = 0) -> Tensor:
    with tf.device(arrays[0].device):
        return tf.concat(tuple(arrays), axis=axis)


def permute_dims(x: Tensor, axes: Sequence[int]) -> Tensor:
    with tf.device(x.device):
        return tf.transpose(x, perm=tuple(axes))


def expand_dims(x: Tensor, *, axis: int) -> Tensor:
    with tf.device(x.device):
        return tf.expand_dims(x, axis)


def _qr(x: Tensor) -> tuple[Tensor, Tensor]:
    """Reduced QR of a (batch of) matrices."""
    with tf.device(x.device):
        q, r = tf.linalg.qr(x, full_matrices=False)
    return q, r


linalg = types.SimpleNamespace(qr=_qr, diagonal=_diagonal)
"""The ``linalg`` extension: ``qr`` (reduced) and ``diagonal``."""
