"""What Keras's own tests (run in place by test_keras_own.py) check where they are marked expected-different, in our words.

* The invalid ``VarianceScaling`` arguments raise the ``ValueError`` Keras raises
  (unit_init's message, naming the argument and the value, not Keras's wording).
* The ``STFT`` cases unit_init supports give Keras's values; those it does not
  (a scipy window name outside its list, a list of window values) raise a
  ``ParameterError`` naming the accepted windows.

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


@pytest.mark.parametrize(
    ("arguments", "named"),
    [({"scale": -1.0}, "scale=-1.0"), ({"mode": "invalid_mode"}, "mode='invalid_mode'"), ({"distribution": "invalid_dist"}, "distribution='invalid_dist'")],
)
def test_variance_scaling_invalid_arguments_raise_value_error(arguments: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=re.escape(named)) as caught:
        initializers.VarianceScaling(seed=1234, **arguments)
    with pytest.raises(ValueError, match=r"`(scale|mode|distribution)`"):
        keras.initializers.VarianceScaling(seed=1234, **arguments)
    assert isinstance(caught.value, ParameterError)


@pytest.mark.parametrize(
    "arguments", [("real", None), ("real", "hamming", None, True), ("imag", "hann", "density", False), ("real", "blackman", "spectrum")]
)
def test_stft_supported_windows_match_keras(arguments: tuple[object, ...]) -> None:
    shape = (256, 1, 513)
    ours = keras.ops.convert_to_numpy(initializers.STFT(*arguments)(shape, "float32"))
    theirs = keras.ops.convert_to_numpy(keras.initializers.STFT(*arguments)(shape, "float32"))
    np.testing.assert_allclose(ours, theirs, atol=1e-4, rtol=1e-6)


@pytest.mark.parametrize("window", ["tukey", list(range(1, 257))])
def test_stft_other_windows_are_refused(window: object) -> None:
    with pytest.raises(ParameterError, match="window"):
        initializers.STFT("imag", window, "spectrum")
