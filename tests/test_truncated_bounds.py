"""``TruncatedNormal(lower=, upper=)``: bounds in units of stddev, as JAX's ``truncated_normal`` and Haiku's ``TruncatedNormal``."""

from __future__ import annotations

import importlib.util
import json
import math

import hypothesis
import numpy as np
import pytest
from hypothesis import strategies as st
from tests.stats import check_sample, two_sample_ok

import unit_init as ui
from unit_init.backends.registry import get_backend

N = 1 << 17
INTERVALS = [(-1.0, 3.0), (0.0, math.inf), (2.0, 3.0)]


def _jax_draw(stddev: float, lower: float, upper: float) -> np.ndarray:
    jax = pytest.importorskip("jax")
    init = jax.nn.initializers.truncated_normal(stddev, lower=lower, upper=upper)
    return np.asarray(init(jax.random.key(7), (N,), jax.numpy.float32), dtype=np.float64)


def _haiku_draw(stddev: float, mean: float, lower: float, upper: float) -> np.ndarray:
    hk = pytest.importorskip("haiku")
    jax = pytest.importorskip("jax")
    draw = hk.transform(lambda: hk.initializers.TruncatedNormal(stddev, mean, lower, upper)((N,), jax.numpy.float32))
    return np.asarray(draw.apply({}, jax.random.key(8)), dtype=np.float64)


@pytest.mark.parametrize(("lower", "upper"), INTERVALS)
def test_same_law_as_jax_and_haiku(lower: float, upper: float) -> None:
    spec = ui.TruncatedNormal(mean=0.0, stddev=0.5, lower=lower, upper=upper)
    ours = spec((N,), seed=3)
    check_sample(ours, spec.distribution_for((N,)))
    assert two_sample_ok(ours, _jax_draw(0.5, lower, upper)), "differs from jax.nn.initializers.truncated_normal"
    shifted = ui.TruncatedNormal(mean=1.0, stddev=2.0, lower=lower, upper=upper)((N,), seed=4)
    assert two_sample_ok(shifted, _haiku_draw(2.0, 1.0, lower, upper)), "differs from hk.initializers.TruncatedNormal"


def test_the_two_sample_test_sees_a_wrong_bound() -> None:
    theirs = _jax_draw(0.5, -1.0, 3.0)
    assert not two_sample_ok(ui.TruncatedNormal(stddev=0.5, lower=-1.0, upper=2.0)((N,), seed=3), theirs)
    assert not two_sample_ok(ui.TruncatedNormal(stddev=0.5)((N,), seed=3), theirs)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax", "tensorflow", "array_api_strict"])
def test_every_backend_draws_the_interval(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    spec = ui.TruncatedNormal(mean=-1.0, stddev=0.25, lower=2.0, upper=3.0)
    values = np.asarray(get_backend(backend).to_numpy(spec((1 << 16,), backend=backend, seed=5)), dtype=np.float64)
    check_sample(values, spec.distribution_for((1,)))


def test_config_keeps_keras_form_for_the_default_and_round_trips() -> None:
    assert ui.TruncatedNormal(stddev=0.1).get_config() == {"seed": None, "mean": 0.0, "stddev": 0.1}
    spec = ui.TruncatedNormal(stddev=0.1, lower=-1.0, upper=3.0)
    assert ui.deserialize(json.loads(json.dumps(ui.serialize(spec)))) == spec
    np.testing.assert_array_equal(ui.truncated_normal((64,), stddev=0.1, lower=-1.0, upper=3.0, seed=1), spec((64,), seed=1))


def test_bad_bounds_name_the_argument() -> None:
    with pytest.raises(ui.ParameterError, match=r"lower=3\.0 must be below upper=1\.0"):
        ui.TruncatedNormal(lower=3.0, upper=1.0)
    with pytest.raises(ui.ParameterError, match="lower=nan"):
        ui.TruncatedNormal(lower=math.nan)
    with pytest.raises(ui.ParameterError, match="no float64 mass"):
        ui.TruncatedNormal(lower=50.0, upper=math.inf)


NARROW = (0.9220625604792223, 0.3780941633809023, -2.2566290134534097)  # (mean, std, minval): a review's case


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("rng", ["native", "portable"])
def test_bounded_normal_float64_values_never_leave_the_absolute_bounds(backend: str, rng: str) -> None:
    """``(minval − mean)/std`` turned back into ``mean + low·std`` landed an ulp outside ``[minval, maxval]``, and the
    clip used that wider interval: on a 64-ulp interval ~1,400 of 65,536 float64 values lay outside."""
    pytest.importorskip(backend)
    mean, std, a = NARROW
    b = a + 64 * math.ulp(a)
    spec = ui.BoundedNormal(mean=mean, stddev=std, minval=a, maxval=b)
    assert spec.distribution_for(()).support == (a, b)
    values = np.asarray(get_backend(backend).to_numpy(spec((1 << 16,), backend=backend, dtype="float64", seed=0, rng=rng)))
    assert values.min() >= a
    assert values.max() <= b
    assert len(np.unique(values)) > 32  # the interval is drawn, not piled on its ends


def test_torch_trunc_normal_float64_values_never_leave_a_and_b() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    mean, std, a = NARROW
    b = a + 64 * math.ulp(a)
    values = unit_init.torch.trunc_normal_(torch.empty(1 << 16, dtype=torch.float64), mean, std, a, b)
    assert float(values.min()) >= a
    assert float(values.max()) <= b


@hypothesis.settings(max_examples=500, deadline=None, derandomize=True)
@hypothesis.given(
    mean=st.floats(-1e6, 1e6), std=st.floats(1e-8, 1e3), low=st.floats(-6.0, 1.0), width=st.floats(1e-15, 8.0)
)
def test_bounded_normal_support_lies_in_the_bounds_and_mostly_is_them(mean: float, std: float, low: float, width: float) -> None:
    """The law's support (what every draw is clipped or re-drawn to) never leaves ``[minval, maxval]``, and lies
    inside by no more than the resolution of a bound in units of ``std`` (the ulp of ``bound − mean``) allows."""
    minval = mean + low * std
    maxval = minval + width * std
    hypothesis.assume(minval < maxval)
    try:
        support = ui.BoundedNormal(mean=mean, stddev=std, minval=minval, maxval=maxval).distribution_for(()).support
    except ui.ParameterError:  # no float64 mass, or none inside
        return
    assert minval <= support[0] <= support[1] <= maxval
    assert support[0] - minval <= 2 * math.ulp(minval - mean) + math.ulp(minval)
    assert maxval - support[1] <= 2 * math.ulp(maxval - mean) + math.ulp(maxval)


def test_bounds_narrower_than_their_resolution_in_units_of_stddev_are_refused_naming_minval() -> None:
    """Turned into units of ``stddev`` the two bounds met, and the law's own "low must be below high" contradicted the
    ``minval < maxval`` given (review); the interval holds 8 floats, but not one step of ``(x − mean) / stddev``."""
    with pytest.raises(ui.ParameterError, match=r"\[minval, maxval\] = \[0\.3, 0\.30000000000000043\] is narrower than float64 resolves"):
        ui.BoundedNormal(-3.7, 0.7815843478388325, 0.3, 0.30000000000000043)


@pytest.mark.parametrize("backend", ["numpy", "torch", "tensorflow"])
@pytest.mark.parametrize("rng", ["native", "portable"])
def test_an_interval_whose_support_holds_one_float64_gives_that_value(backend: str, rng: str) -> None:
    """Two neighbouring float64 bounds give a support of one point, which the confinement took for a point mass the
    cast keeps: nothing was clipped, and every value lay an ulp or more outside ``[minval, maxval]`` (review)."""
    pytest.importorskip(backend)
    minval = 0.8171307184317321
    maxval = math.nextafter(minval, math.inf)
    spec = ui.BoundedNormal(mean=0.0, stddev=0.36105832971868707, minval=minval, maxval=maxval)
    values = np.asarray(get_backend(backend).to_numpy(spec((4096,), backend=backend, dtype="float64", seed=0, rng=rng)))
    assert values.min() >= minval
    assert values.max() <= maxval
