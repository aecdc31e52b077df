"""Dirac, Sparse and BoundedNormal: backend-neutral specs beyond the Keras list."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.registry import get_backend

BACKENDS = ["numpy", "torch", "jax", "tensorflow", "array_api_strict"]


def _on(backend: str) -> None:
    module = {"tensorflow": "tensorflow"}.get(backend, backend)
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed")


def _numpy(backend: str, x: object) -> np.ndarray:
    return np.asarray(get_backend(backend).to_numpy(x), dtype=np.float64)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dirac_is_the_same_on_every_backend(backend: str) -> None:
    _on(backend)
    for shape, layout in [((3, 3, 4, 8), "keras"), ((8, 4, 3, 3), "torch"), ((6, 3, 5), "torch")]:
        reference = ui.dirac(shape, groups=2, layout=layout)
        assert np.array_equal(_numpy(backend, ui.dirac(shape, groups=2, layout=layout, backend=backend)), reference)
        assert reference.sum() == 2 * min(shape[ui.LAYOUTS[layout].out_axis] // 2, shape[ui.LAYOUTS[layout].in_axis])  # type: ignore[index]


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_counts_on_every_backend(backend: str) -> None:
    _on(backend)
    w = _numpy(backend, ui.sparse((40, 9), sparsity=0.3, layout="torch", backend=backend, seed=0))
    assert (w == 0).sum(axis=0).tolist() == [math.ceil(0.3 * 40)] * 9


def test_sparse_without_argsort_is_refused_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    _on("tensorflow")
    from unit_init.backends import _tf_namespace

    monkeypatch.delattr(_tf_namespace, "argsort")  # a namespace without argsort (a plugin's, say)
    with pytest.raises(ui.BackendError, match="argsort"):
        ui.sparse((4, 4), sparsity=0.5, backend="tensorflow")


def test_sparse_variance_and_parameter_checks() -> None:
    spec = ui.Sparse(0.25, 2.0)
    assert spec.variance((8, 3), layout="torch") == pytest.approx(4.0 * 6 / 8)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ui.ParameterError, match="sparsity"):
            ui.Sparse(bad)
    with pytest.raises(ui.ShapeError):
        ui.sparse((4, 4, 4), sparsity=0.5)


def test_bounded_normal_support_and_errors() -> None:
    x = ui.bounded_normal((1 << 16,), mean=1.0, stddev=0.5, minval=0.8, maxval=3.0, seed=0)
    assert x.min() >= 0.8
    assert x.max() <= 3.0
    with pytest.raises(ui.ParameterError, match="minval"):
        ui.BoundedNormal(minval=1.0, maxval=0.0)
    with pytest.raises(ui.ParameterError, match="mass"):
        ui.BoundedNormal(stddev=1.0, minval=40.0, maxval=41.0)


def test_new_specs_are_named_and_serializable() -> None:
    for spec in (ui.Dirac(groups=3), ui.Sparse(0.1, 0.5, seed=2), ui.BoundedNormal(0.1, 0.02, -0.5, 0.5)):
        assert ui.deserialize(ui.serialize(spec)) == spec
    assert ui.get("dirac") == ui.Dirac()
    assert ui.get("BoundedNormal") == ui.BoundedNormal()
    with pytest.raises(ui.ShapeError, match="divisible"):
        ui.dirac((3, 3, 4, 6), groups=4)
