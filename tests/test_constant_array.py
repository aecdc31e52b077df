"""``ConstantArray``: an array constant broadcast to the shape, as Haiku's and Keras's ``Constant(array)``."""

from __future__ import annotations

import importlib.util
import json
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.backends.registry import get_backend
from unit_init.functions import constant_array
from unit_init.spec.constant_array import ConstantArray

BACKENDS = ["numpy", "torch", "jax", "tensorflow", "array_api_strict"]
VALUE = np.array([[1.5], [-2.0], [0.25]])  # broadcasts to (..., 3, n)
SHAPES = [(3, 4), (2, 3, 5), (3, 1), (0, 3, 2)]


def _on(backend: str) -> None:
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_every_backend_broadcasts_by_numpy_rules(backend: str, dtype: str) -> None:
    _on(backend)
    value = VALUE if dtype == "float32" else np.array([[1], [-2], [7]])
    for shape in SHAPES:
        out = ConstantArray(value)(shape, backend=backend, dtype=dtype)
        host = np.asarray(get_backend(backend).to_numpy(out))
        assert host.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(host, np.broadcast_to(value, shape).astype(dtype))


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_empty_value_fills_the_shapes_it_broadcasts_to(backend: str) -> None:
    """Nested tuples keep no axes after one of length 0 (as ``tolist()``): an empty value fills any shape it broadcasts
    to with some trailing axes, as ``jax.nn.initializers.constant`` and ``np.broadcast_to`` fill its own shape."""
    _on(backend)
    spec = ConstantArray(np.zeros((2, 0, 3)))
    for shape in [(2, 0, 3), (5, 2, 0, 3), (2, 0)]:
        out = get_backend(backend).to_numpy(spec(shape, backend=backend, seed=0))
        assert out.shape == shape
    assert ui.deserialize(ui.serialize(spec)) == spec
    with pytest.raises(ui.ShapeError, match=r"an empty value of shape \(2, 0, …\) does not broadcast to shape=\(3, 0, 3\)"):
        spec((3, 0, 3), backend=backend)


def test_same_values_as_haiku_and_keras() -> None:
    hk = pytest.importorskip("haiku")
    keras = pytest.importorskip("keras")
    jnp = pytest.importorskip("jax.numpy")
    for shape in SHAPES[:3]:
        ours = ConstantArray(VALUE)(shape)
        np.testing.assert_array_equal(ours, np.asarray(hk.initializers.Constant(VALUE)(shape, jnp.float32)))
        np.testing.assert_array_equal(ours, keras.ops.convert_to_numpy(keras.initializers.Constant(VALUE)(shape)))


def test_a_spec_is_a_hashable_json_value() -> None:
    spec = ConstantArray(VALUE)
    assert spec == ConstantArray(VALUE.tolist()) == ConstantArray(tuple(map(tuple, VALUE)))
    assert hash(spec) == hash(ConstantArray(VALUE.tolist()))
    assert spec.value == ((1.5,), (-2.0,), (0.25,))
    config = json.loads(json.dumps(ui.serialize(spec)))
    assert config == {"class_name": "ConstantArray", "config": {"seed": None, "value": [[1.5], [-2.0], [0.25]]}}
    assert ui.deserialize(config) == spec
    assert ConstantArray(True).value == 1
    assert ConstantArray(np.int8(3)).value == 3


def test_function_form_and_blocks() -> None:
    np.testing.assert_array_equal(constant_array((3, 4), value=VALUE), np.broadcast_to(VALUE, (3, 4)))
    block = ConstantArray(VALUE)((3, 4), region=(slice(1, 3), slice(0, 2)))
    np.testing.assert_array_equal(block, np.broadcast_to(VALUE, (3, 4))[1:3, 0:2])


def test_bad_values_and_shapes_are_refused() -> None:
    for bad in ([1.0, [2.0]], [[1.0, 2.0], [3.0]], np.inf, [1.0, np.nan], "1", None, 1 + 2j):
        with pytest.raises(ui.ParameterError, match="value="):
            ConstantArray(bad)
    with pytest.raises(ui.ShapeError, match=r"shape \(3, 1\) does not broadcast to shape=\(4, 4\)"):
        ConstantArray(VALUE)((4, 4))
    with pytest.raises(ui.ParameterError, match=r"holds 1\.5, which cannot be stored exactly in dtype='int32'"):
        ConstantArray(VALUE)((3, 2), dtype="int32")
    with pytest.raises(ui.ParameterError, match=r"holds 300, which cannot be stored exactly in dtype='int8' \(integers -128\.\.127\)"):
        ConstantArray([300])((2,), dtype="int8")
    with pytest.raises(ui.ParameterError, match="float16"):
        ConstantArray([1e6])((2,), dtype="float16")
    with pytest.raises(ui.ParameterError, match="more than 1024 values"):
        ui.deserialize({"class_name": "ConstantArray", "config": {"value": [0.0] * 2000}})


def test_a_value_of_more_numbers_than_it_keeps_is_refused_before_conversion() -> None:
    """Counted before ``tolist()``: a 4096² array took 9 s and 1.1 GB, a list holding itself 2**40 times over hung."""
    shared: list[object] = [1.0]
    for _ in range(40):
        shared = [shared, shared]
    for value in (shared, np.zeros((4096, 4096)), np.broadcast_to(np.float32(1), (2**20, 2**20))):
        with pytest.raises(ui.ParameterError, match="more than 1048576 numbers"):
            ConstantArray(value)
    assert ConstantArray(np.zeros((1024, 1024)))((1024, 1024)).shape == (1024, 1024)


def test_serialize_writes_no_config_deserialize_refuses() -> None:
    assert ui.deserialize(ui.serialize(ConstantArray(np.arange(1000.0)))) == ConstantArray(np.arange(1000.0))
    with pytest.raises(ui.ParameterError, match="the config of ConstantArray holds more than 1024 values"):
        ui.serialize(ConstantArray(np.zeros(2000)))


def test_an_array_is_counted_by_its_numbers_and_a_raising_shape_is_typed() -> None:
    with pytest.raises(ui.ParameterError, match="more than 1048576 numbers"):
        ConstantArray(np.zeros(2**20 + 1))

    class Hostile:
        @property
        def shape(self) -> tuple[int, ...]:
            raise RuntimeError("shape")

    with pytest.raises(ui.ParameterError, match="must be a number or a"):
        ConstantArray(Hostile())


def test_tensorflow_tensors_and_variables_are_values_as_torch_and_jax_arrays() -> None:
    """A ``tf.Tensor`` has no ``tolist()``: ``ConstantArray(tf.constant([1.0, 2.0]))`` was refused as no array, where a
    torch tensor, a JAX array and ``ui.Constant(tf.constant(2.0))`` were read (campaign); a symbolic one holds no values."""
    tf = pytest.importorskip("tensorflow")
    assert ui.ConstantArray(tf.constant([[1.0], [2.0]])) == ui.ConstantArray(np.array([[1.0], [2.0]]))
    assert ui.ConstantArray(tf.Variable([1, 2])).value == (1.0, 2.0)
    assert ui.ConstantArray(tf.constant(2.0)).value == 2.0

    @tf.function
    def symbolic(x: Any) -> Any:
        return ui.ConstantArray(x)

    with pytest.raises(ui.ParameterError, match="must be a number or a"):
        symbolic(tf.constant([1.0]))
