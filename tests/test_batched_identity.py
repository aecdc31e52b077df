"""``Identity`` of rank >= 3 broadcasts the identity over the leading axes, as Haiku's ``Identity``; torch's ``eye_`` stays 2-D."""

from __future__ import annotations

import functools
import importlib.util

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.registry import get_backend

BACKENDS = ["numpy", "torch", "jax", "tensorflow", "array_api_strict"]
SHAPES = [(3, 4, 5), (2, 3, 4, 4), (5, 2), (2, 0, 3), (1, 1, 6, 3)]


@functools.cache
def _haiku(shape: tuple[int, ...], gain: float, dtype: str) -> np.ndarray:
    hk = pytest.importorskip("haiku")
    jnp = pytest.importorskip("jax.numpy")
    return np.asarray(hk.initializers.Identity(gain)(shape, getattr(jnp, dtype)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_values_as_haiku_on_every_backend(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    for shape in SHAPES:
        for gain, dtype in [(1.0, "float32"), (0.5, "float32"), (3.0, "int32")]:
            theirs = _haiku(shape, gain, dtype)
            ours = np.asarray(get_backend(backend).to_numpy(ui.identity(shape, gain=gain, backend=backend, dtype=dtype)))
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)


def test_rank_one_is_refused() -> None:
    with pytest.raises(ui.ShapeError, match="Identity needs a rank >= 2"):
        ui.identity((4,))


def test_torch_eye_keeps_torchs_two_d_rule() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch as init

    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(torch.empty(2, 3, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        torch.nn.init.eye_(torch.empty(2, 3, 3))
    assert init.eye_(torch.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
