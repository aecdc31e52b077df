"""A uniform's clip to the output grid is skipped only where it provably changes nothing.

Two proofs: a backend that declares ``rounded_affine`` scales ``U`` by its own
``affine`` (NumPy; the portable stream), and torch's CPU ``uniform_(low, high)``
kernel, whose arithmetic ``Backend.uniform_extremes`` states and these tests
check value by value against torch itself.
"""

from __future__ import annotations

import importlib.util
import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.base import Backend
from unit_init.backends.registry import get_backend
from unit_init.dtypes import largest_below
from unit_init.sampling import entry
from unit_init.spec import distributions as d


class Extremes:
    """A stand-in for ``numpy.random.Generator`` whose ``random`` returns both ends of ``U[0, 1)`` in the asked dtype."""

    def random(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        name = np.dtype(dtype).name
        return np.resize(np.array([0.0, largest_below(1.0, name)], dtype=dtype), shape)


def _limits(count: int) -> list[tuple[float, float]]:
    """``count`` intervals of every scale, half of them symmetric as Glorot's and He's are."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(count):
        a, b = sorted(rng.normal(size=2) * 10.0 ** rng.uniform(-4, 4, size=2))
        limit = abs(float(a))
        pairs.append((-limit, limit) if i % 2 else (float(a), float(b)))
    return pairs


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16"])
def test_the_extremes_of_an_unclipped_uniform_lie_inside_the_grid(dtype: str) -> None:
    """Where the clip is skipped, even ``U = 0`` and ``U = 1⁻`` land inside; some intervals do need it, and keep it."""
    numpy = get_backend("numpy")
    skipped = 0
    for low, high in _limits(600):
        law = d.Uniform(low, high)
        first, last = entry.confinement(law, dtype)
        x = entry.sample(numpy, law, (2,), dtype, "cpu", Extremes())
        assert first <= float(x.min()), (low, high)
        assert float(x.max()) <= last, (low, high)
        skipped += entry.native_confinement(numpy, law, dtype, "cpu") is None
    if dtype in ("bfloat16", "float16"):  # drawn in float32: its top rounds onto the narrow grid's upper bound
        assert skipped < 600
    else:
        assert 150 < skipped < 600, f"{skipped} of 600 skipped: the proof should hold for some intervals and fail for others"


def test_an_interval_whose_low_rounds_below_it_keeps_its_clip() -> None:
    """``float32(-0.1)`` lies below −0.1: the scaled ``U = 0`` would leave the support, so the clip stays."""
    law = d.Uniform(-0.1, 0.1)
    assert float(np.float32(-0.1)) < -0.1
    assert entry.native_confinement(get_backend("numpy"), law, "float32", "cpu") == entry.confinement(law, "float32")


def test_a_glorot_draw_in_float32_is_not_clipped_and_in_bfloat16_is(monkeypatch: pytest.MonkeyPatch) -> None:
    clipped: list[tuple[float, float]] = []
    numpy = get_backend("numpy")
    monkeypatch.setattr(type(numpy), "clip", lambda self, x, low, high: clipped.append((low, high)) or x.clip(low, high, out=x))
    limit = math.sqrt(6.0 / 128)
    x = ui.glorot_uniform((64, 64), backend="numpy", seed=0)
    assert -limit <= x.min()
    assert x.max() < limit
    assert clipped == []
    ui.glorot_uniform((64, 64), backend="numpy", seed=0, dtype="bfloat16")
    assert len(clipped) == 1


def test_a_backend_with_its_own_uniform_kernel_is_clipped_unless_it_states_the_extremes() -> None:
    """Only the base ``uniform_between`` is ``affine`` of ``uniform``: an own kernel is proved by its ``uniform_extremes`` or clipped."""
    frameworks = ("numpy", "torch", "tensorflow", "jax", "array_api_strict")
    installed = [get_backend(name) for name in frameworks if importlib.util.find_spec(name) is not None]  # nox: one each
    assert any(type(backend).rounded_affine for backend in installed), "no backend declares rounded_affine: the clip is never skipped"
    law = d.Uniform(-0.25, 0.25)  # both ends are float32 values, and the top of any scaling lands below 0.25
    for backend in installed:
        own = type(backend).uniform_between is not Backend.uniform_between
        stated = type(backend).uniform_extremes is not Backend.uniform_extremes
        device = backend.resolve_device("cpu")
        skipped = entry.native_confinement(backend, law, "float32", device) is None
        assert skipped == (stated or (not own and type(backend).rounded_affine)), type(backend).__name__


# --- torch's CPU kernel ---------------------------------------------------------------------------------------------


def _torch_kernel_cases(count: int) -> list[tuple[float, float]]:
    """Glorot's and He's limits at every square power-of-two shape, and ``count`` intervals of every scale."""
    limits = [math.sqrt(6.0 / (2 * side)) for side in (2**k for k in range(13))]
    limits += [math.sqrt(6.0 / side) for side in (2**k for k in range(13))]
    return [(-limit, limit) for limit in limits] + _limits(count)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_cpu_uniform_kernel_is_the_arithmetic_its_extremes_assume(dtype: str) -> None:
    """Same seed, same ``x``: every value of ``uniform_(low, high)`` is ``x·(t − f) + f`` rounded once or twice (or ``f`` for ``t``).

    ``x`` comes from ``uniform_()`` on an identically seeded generator
    (``x·(1 − 0) + 0 = x``, exactly). 2¹⁴ values for each of eight intervals;
    the product and sum rounded one after the other in NumPy's own dtype
    arithmetic, and where torch differs from that (about half the values on
    an FMA-capable CPU), the exact value rounded once (fractions).
    """
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'unit-init[torch]')")
    kind = np.dtype(dtype).type
    native = getattr(torch, dtype)
    for index, (low, high) in enumerate(_torch_kernel_cases(4)[::4]):
        x = torch.empty(1 << 14, dtype=native).uniform_(generator=torch.Generator().manual_seed(index)).numpy()
        got = torch.empty(1 << 14, dtype=native).uniform_(low, high, generator=torch.Generator().manual_seed(index)).numpy()
        start, span = kind(low), kind(high) - kind(low)
        separate = x * span + start
        for i in np.nonzero(got != separate)[0].tolist():
            fused = _round_nearest(Fraction(float(x[i])) * Fraction(float(span)) + Fraction(float(start)), kind)
            mapped = got[i] == start and kind(high) in (separate[i], fused)  # recent torch: a result equal to t becomes f
            assert got[i] == fused or mapped, (low, high, x[i], got[i], separate[i], fused)


def _round_nearest(exact: Fraction, kind: Any) -> Any:
    """``exact`` rounded to the nearest value of ``kind``, ties to even."""
    guess = kind(float(exact))
    candidates = [np.nextafter(guess, kind(-np.inf)), guess, np.nextafter(guess, kind(np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - exact), int(np.array(c).view(f"u{np.dtype(kind).itemsize}")) & 1))


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_torch_cpu_skips_the_clip_only_where_both_extremes_are_inside(dtype: str) -> None:
    """The stated extremes, checked here by the same arithmetic at ``x = 0`` and ``x = 1 − 2⁻ᵖ``, decide the clip."""
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'unit-init[torch]')")
    backend, cpu = get_backend("torch"), torch.device("cpu")
    work = "float64" if dtype == "float64" else "float32"
    kind = np.dtype(work).type
    skipped = 0
    for low, high in _torch_kernel_cases(300):
        law = d.Uniform(low, high)
        first, last = entry.confinement(law, dtype)
        start, span = kind(low), kind(high) - kind(low)
        top = kind(largest_below(1.0, work))
        ends = (float(start), max(float(top * span + start), float(_round_nearest(Fraction(float(top)) * Fraction(float(span)) + Fraction(float(start)), kind))))
        stated = backend.uniform_extremes(low, high, work, cpu)
        assert stated is not None
        assert stated[0] == ends[0], (low, high)
        assert stated[1] >= ends[1], (low, high)
        is_skipped = entry.native_confinement(backend, law, dtype, cpu) is None
        assert not is_skipped or (first <= ends[0] and ends[1] <= last), (low, high)
        skipped += is_skipped
    if dtype == "bfloat16":
        assert skipped < 326
    else:
        assert 100 < skipped < 326, f"{skipped} of 326 skipped: the proof should hold for some intervals and fail for others"


def test_torch_glorot_on_the_cpu_is_not_clipped_and_elsewhere_is(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'unit-init[torch]')")
    backend = get_backend("torch")
    clipped: list[tuple[float, float]] = []
    monkeypatch.setattr(type(backend), "clip", lambda self, x, low, high: clipped.append((low, high)) or x.clamp_(low, high))
    limit = math.sqrt(6.0 / 128)
    x = ui.glorot_uniform((64, 64), backend="torch", seed=0)
    assert -limit <= float(x.min())
    assert float(x.max()) < limit
    assert clipped == []
    assert backend.uniform_extremes(-limit, limit, "float32", torch.device("meta")) is None  # CUDA's kernel is another: likewise
    ui.glorot_uniform((64, 64), backend="torch", seed=0, device="meta")
    assert len(clipped) == 1
