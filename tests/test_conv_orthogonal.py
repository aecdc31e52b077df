"""DeltaOrthogonal and ConvolutionOrthogonal (Xiao et al. 2018) against JAX and TensorFlow.

* DeltaOrthogonal: JAX's structure (zero off the centre tap ``(k − 1) // 2``,
  ``Q·Qᵀ = gain²·I`` there), rank and ``in <= out`` errors, and the centre
  matrix's entries two-sample equal (KS, pooled over draws) to
  ``jax.nn.initializers.delta_orthogonal``'s, on every backend and in the
  ``"keras"`` and ``"torch"`` layouts.
* ConvolutionOrthogonal: the circular convolution is ``gain`` times an
  isometry (``‖conv(x)‖ = gain·‖x‖``, and ``Ŵ(ω)·Ŵ(ω)ᴴ = gain²·I`` at every
  frequency), and per-tap entries two-sample equal to TensorFlow's internal
  ``ConvolutionOrthogonal2D`` / ``1D``.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
import scipy.stats

from unit_init.errors import ShapeError
from unit_init.spec.convolution import ConvolutionOrthogonal, DeltaOrthogonal

BACKENDS = ("numpy", "torch", "jax", "tensorflow")
MODULES = {"numpy": "numpy", "torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}
KS_ALPHA = 1e-3


def _draw(spec: Any, shape: tuple[int, ...], backend: str, **options: Any) -> np.ndarray:
    pytest.importorskip(MODULES[backend])
    from unit_init.backends.registry import get_backend

    array = spec(shape, backend=backend, **options)
    return np.asarray(get_backend(backend).to_numpy(array), dtype=np.float64)


def _to_keras(w: np.ndarray, layout: str) -> np.ndarray:
    """A kernel in ``(*window, in, out)`` order."""
    return w if layout == "keras" else np.moveaxis(w, (0, 1), (-1, -2))


def _shape(window: tuple[int, ...], cin: int, cout: int, layout: str) -> tuple[int, ...]:
    return (*window, cin, cout) if layout == "keras" else (cout, cin, *window)


# ---------------------------------------------------------------------------- DeltaOrthogonal


def _check_delta(w: np.ndarray, gain: float) -> None:
    """Zero off the centre tap; ``Q·Qᵀ = gain²·I`` there (``w`` in ``(*window, in, out)`` order)."""
    centre = tuple((k - 1) // 2 for k in w.shape[:-2])
    q = w[centre]
    np.testing.assert_allclose(q @ q.T, gain**2 * np.eye(w.shape[-2]), atol=2e-5 * gain**2)
    rest = w.copy()
    rest[centre] = 0
    assert not rest.any()


@pytest.mark.parametrize("layout", ["keras", "torch"])
@pytest.mark.parametrize("window", [(3,), (4, 3), (2, 3, 5)])
def test_delta_orthogonal_structure(layout: str, window: tuple[int, ...]) -> None:
    w = _draw(DeltaOrthogonal(gain=1.5), _shape(window, 5, 7, layout), "numpy", seed=3, layout=layout)
    _check_delta(_to_keras(w, layout), 1.5)


def test_delta_orthogonal_centre_is_jax_centre() -> None:
    jax = pytest.importorskip("jax")
    shape = (4, 2, 3, 3, 6)
    theirs = np.asarray(jax.nn.initializers.delta_orthogonal()(jax.random.key(0), shape, jax.numpy.float32))
    ours = _draw(DeltaOrthogonal(), shape, "numpy", seed=0)
    assert {tuple(i[:3]) for i in np.argwhere(theirs)} == {tuple(i[:3]) for i in np.argwhere(ours)} == {(1, 0, 1)}


@pytest.mark.parametrize("shape", [(3, 3), (2, 2, 2, 2, 3, 3), (3, 3, 8, 4)])
def test_delta_orthogonal_refuses_what_jax_refuses(shape: tuple[int, ...]) -> None:
    jax = pytest.importorskip("jax")
    with pytest.raises(ValueError):  # noqa: PT011  JAX's own error is a bare ValueError
        jax.nn.initializers.delta_orthogonal()(jax.random.key(0), shape)
    with pytest.raises(ShapeError, match="DeltaOrthogonal"):
        DeltaOrthogonal()(shape)


def _jax_centres(shape: tuple[int, ...], draws: int, gain: float) -> np.ndarray:
    jax = pytest.importorskip("jax")
    init = jax.jit(jax.nn.initializers.delta_orthogonal(scale=gain), static_argnums=1)
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    return np.concatenate([np.asarray(init(jax.random.key(1000 + i), shape))[centre].ravel() for i in range(draws)])


@pytest.mark.parametrize("backend", BACKENDS)
def test_delta_orthogonal_centre_matches_jax(backend: str) -> None:
    """Pooled centre entries (2¹⁷ of each side) are two-sample equal to JAX's; a 5 % wrong gain is not."""
    gain, shape, draws = 1.3, (3, 3, 64, 128), 16
    theirs = _jax_centres(shape, draws, gain)
    kernels = [_draw(DeltaOrthogonal(gain=gain), shape, backend, seed=i) for i in range(draws)]
    _check_delta(kernels[0], gain)
    ours = np.concatenate([w[1, 1].ravel() for w in kernels])
    assert scipy.stats.ks_2samp(ours, theirs).pvalue > KS_ALPHA
    assert scipy.stats.ks_2samp(ours * 1.05, theirs).pvalue < 1e-6  # the test's power: a wrong gain fails it


def test_delta_orthogonal_torch_layout_matches_jax() -> None:
    gain, draws = 1.0, 16
    theirs = _jax_centres((3, 64, 128), draws, gain)
    ours = np.concatenate([_draw(DeltaOrthogonal(), (128, 64, 3), "numpy", seed=i, layout="torch")[:, :, 1].ravel() for i in range(draws)])
    assert scipy.stats.ks_2samp(ours, theirs).pvalue > KS_ALPHA


def test_delta_orthogonal_low_precision_and_zero_size() -> None:
    w = _draw(DeltaOrthogonal(), (3, 8, 8), "torch", seed=0, dtype="bfloat16")
    np.testing.assert_allclose(w[1] @ w[1].T, np.eye(8), atol=0.03)
    assert _draw(DeltaOrthogonal(), (3, 0, 4), "numpy").shape == (3, 0, 4)


# ---------------------------------------------------------------------------- ConvolutionOrthogonal


def _circular_correlation(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``y[p, o] = Σ_t Σ_i x[p + t, i]·w[t, i, o]`` with indices modulo the signal size (what a conv layer computes)."""
    window = w.shape[:-2]
    axes = tuple(range(len(window)))
    y = np.zeros((*x.shape[:-1], w.shape[-1]))
    for tap in itertools.product(*(range(k) for k in window)):
        y += np.roll(x, tuple(-t for t in tap), axis=axes) @ w[tap]
    return y


_ISOMETRY_CASES = [
    *(("numpy", layout, *case) for layout in ("keras", "torch") for case in [((4,), 3, 5), ((3, 3), 4, 6), ((2, 3), 3, 3), ((3, 2, 2), 2, 4)]),
    *((backend, "torch", (3,), 3, 5) for backend in BACKENDS[1:]),  # one small case each: JAX compiles per shape
]


@pytest.mark.parametrize(("backend", "layout", "window", "cin", "cout"), _ISOMETRY_CASES)
def test_convolution_orthogonal_is_an_isometry(backend: str, layout: str, window: tuple[int, ...], cin: int, cout: int) -> None:
    gain = 0.7
    w = _to_keras(_draw(ConvolutionOrthogonal(gain=gain), _shape(window, cin, cout, layout), backend, seed=5, layout=layout), layout)
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = rng.standard_normal((*(6 for _ in window), cin))
        assert np.linalg.norm(_circular_correlation(x, w)) == pytest.approx(gain * np.linalg.norm(x), rel=1e-5)
    symbol = np.fft.fftn(w, s=(6,) * len(window), axes=tuple(range(len(window))))  # Ŵ(ω), every ω of a size-6 signal
    np.testing.assert_allclose(symbol @ np.conj(np.swapaxes(symbol, -1, -2)), np.broadcast_to(gain**2 * np.eye(cin), (*symbol.shape[:-2], cin, cin)), atol=2e-5)
    assert np.count_nonzero(np.abs(w).reshape(-1, cin * cout).max(axis=1) > 1e-3) > 1  # not a delta kernel


def test_convolution_orthogonal_takes_a_long_window_in_linear_steps_up_to_its_limit() -> None:
    """Each tap shifted the kernel by a (k+1)² matrix product, so (4000, 1, 1) took 54 s; a copy now, and 256 factors at most."""
    w = ConvolutionOrthogonal()((257, 4, 4), seed=0)
    np.testing.assert_allclose(np.einsum("tio,tjo->ij", w, w), np.eye(4), atol=1e-5)
    with pytest.raises(ShapeError, match="at most 256 factors in all"):
        ConvolutionOrthogonal()((258, 1, 1))
    with pytest.raises(ShapeError, match="258 factors"):
        ConvolutionOrthogonal()((130, 130, 2, 2))


@pytest.mark.parametrize("shape", [(3, 3), (3, 3, 8, 4), (2, 2, 2, 2, 3, 3)])
def test_convolution_orthogonal_shape_errors(shape: tuple[int, ...]) -> None:
    with pytest.raises(ShapeError, match="ConvolutionOrthogonal"):
        ConvolutionOrthogonal()(shape)


def _tf_kernels(name: str, shape: tuple[int, ...], draws: int, gain: float) -> np.ndarray:
    pytest.importorskip("tensorflow")
    from tensorflow.python.ops import init_ops  # TensorFlow's internal, unexported initializers

    cls = getattr(init_ops, name)
    return np.stack([np.asarray(cls(gain=gain, seed=10 * i + 1)(shape)) for i in range(draws)])


@pytest.mark.parametrize(("name", "shape", "draws"), [("ConvolutionOrthogonal2D", (3, 3, 16, 32), 24), ("ConvolutionOrthogonal1D", (4, 16, 32), 32)])
def test_convolution_orthogonal_matches_tensorflow(name: str, shape: tuple[int, ...], draws: int) -> None:
    """Each tap's entries, pooled over draws, are two-sample equal to TensorFlow's; a 5 % wrong gain fails."""
    gain = 1.2
    theirs = _tf_kernels(name, shape, draws, gain)
    ours = np.stack([_draw(ConvolutionOrthogonal(gain=gain), shape, "numpy", seed=i) for i in range(draws)])
    taps = list(itertools.product(*(range(k) for k in shape[:-2])))
    p_values = [scipy.stats.ks_2samp(ours[(slice(None), *t)].ravel(), theirs[(slice(None), *t)].ravel()).pvalue for t in taps]
    assert min(p_values) > KS_ALPHA / len(taps)  # Bonferroni over the taps
    for kernels in (ours, theirs):  # Σ_t ‖W[t]‖² = gain²·in exactly: the mean square is gain² / fan_out
        assert math.isclose(np.mean(kernels**2), gain**2 / (shape[-1] * math.prod(shape[:-2])), rel_tol=1e-4)
