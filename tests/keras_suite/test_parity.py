"""What Keras's own tests (run in place by test_keras_own.py) check, beside them, in our words and further.

* The invalid ``VarianceScaling`` arguments raise the ``ValueError`` Keras raises,
  opening with Keras's words and naming the value received (and the accepted ones).
* Every ``STFT`` window Keras takes gives Keras's values: the SciPy names
  without parameters (computed without SciPy) and a window given by its values;
  a name that needs parameters raises a ``ParameterError`` that says to pass values.

Without keras or scipy this file is the one that reports the skip.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("scipy")

import keras_shim as initializers  # noqa: E402

from unit_init.errors import ParameterError  # noqa: E402
from unit_init.spec.signal import STFT  # noqa: E402


@pytest.mark.parametrize(
    ("arguments", "named"),
    [({"scale": -1.0}, "scale=-1.0"), ({"mode": "invalid_mode"}, "mode='invalid_mode'"), ({"distribution": "invalid_dist"}, "distribution='invalid_dist'")],
)
def test_variance_scaling_invalid_arguments_raise_value_error(arguments: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)) as caught:
        initializers.VarianceScaling(seed=1234, **arguments)
    with pytest.raises(ValueError, match=r"`(scale|mode|distribution)`") as theirs:
        keras.initializers.VarianceScaling(seed=1234, **arguments)
    assert isinstance(caught.value, ParameterError)
    assert str(caught.value).startswith(str(theirs.value).split(":")[0].split(".")[0])  # Keras's words open ours


@pytest.mark.parametrize(
    "arguments",
    [
        ("real", None), ("real", "hamming", None, True), ("imag", "hann", "density", False), ("real", "blackman", "spectrum"),
        ("imag", "tukey", "density", False), ("real", "taylor", "spectrum", True), ("real", "flattop"), ("imag", "parzen"),
        ("real", "lanczos", None, True), ("imag", "bohman"), ("real", "barthann"), ("real", "cosine"), ("imag", "exponential"),
        ("real", "triang", "density", True), ("real", "hann_periodic"), ("imag", "tri"),
        ("imag", list(range(1, 257)), "spectrum"),
    ],
)
def test_stft_windows_match_keras(arguments: tuple[object, ...]) -> None:
    shape = (256, 1, 513)
    ours = keras.ops.convert_to_numpy(initializers.STFT(*arguments)(shape, "float32"))
    theirs = keras.ops.convert_to_numpy(keras.initializers.STFT(*arguments)(shape, "float32"))
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=1e-6)  # Keras computes the phase in float32 (test_peer_initializers.py: in float64)


def test_stft_window_values_of_the_wrong_length_or_kind_raise_value_error() -> None:
    with pytest.raises(ValueError, match="taps"):
        initializers.STFT("imag", list(range(1, 100)))((256, 1, 513))
    with pytest.raises(ValueError, match="window"):
        keras.initializers.STFT("imag", list(range(1, 100)))((256, 1, 513))
    for window in ("kaiser", "unknown", [1.0, float("nan")], [], [[1.0, 2.0]], ["a"], 3.0):
        with pytest.raises(ParameterError, match="window"):
            STFT("real", window)  # type: ignore[arg-type]
        with pytest.raises(ParameterError):
            initializers.STFT("real", window)
