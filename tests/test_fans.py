"""Fan tables for every layout at ranks 0-5, zero-size shapes and overrides (CONTRACT §3)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest

import unit_init as ui
from unit_init.serialization import read_adapter_config
from unit_init.spec.fans import normalize_shape

# (shape, keras fans, torch fans)
TABLE = [
    ((), (1, 1), (1, 1)),
    ((7,), (7, 7), (7, 7)),
    ((3, 5), (3, 5), (5, 3)),
    ((4, 3, 5), (12, 20), (3 * 5, 4 * 5)),
    ((2, 3, 4, 5), (2 * 3 * 4, 2 * 3 * 5), (3 * 4 * 5, 2 * 4 * 5)),
    ((2, 3, 4, 5, 6), (5 * 24, 6 * 24), (3 * 4 * 5 * 6, 2 * 4 * 5 * 6)),
    ((0, 5), (0, 5), (5, 0)),
    ((3, 3, 0, 8), (0, 72), (0, 0)),
]


@pytest.mark.parametrize(("shape", "keras", "torch"), TABLE, ids=[str(row[0]) for row in TABLE])
def test_keras_and_torch_fans(shape: tuple[int, ...], keras: tuple[int, int], torch: tuple[int, int]) -> None:
    assert ui.compute_fans(shape) == ui.Fans(*map(float, keras))
    assert ui.compute_fans(shape, "torch") == ui.Fans(*map(float, torch))


def test_conv_kernels_agree_across_layouts() -> None:
    keras_kernel = (3, 3, 64, 128)  # (*kernel, in, out)
    torch_weight = (128, 64, 3, 3)  # (out, in, *kernel)
    assert ui.compute_fans(keras_kernel) == ui.compute_fans(torch_weight, "torch") == ui.Fans(576.0, 1152.0)
    assert ui.compute_fans((3, 3, 128, 64), "keras_transpose") == ui.Fans(576.0, 1152.0)
    assert ui.compute_fans((64, 128, 3, 3), "torch_transpose") == ui.Fans(576.0, 1152.0)


def test_batch_axes_count_in_neither_fan() -> None:
    experts = ui.Layout(in_axis=1, out_axis=2, batch_axis=0)
    assert ui.compute_fans((8, 32, 16), experts) == ui.Fans(32.0, 16.0)
    assert ui.compute_fans((8, 3, 32, 16), ui.Layout(in_axis=-2, out_axis=-1, batch_axis=(0,))) == ui.Fans(96.0, 48.0)


def test_tuple_axes_multiply() -> None:
    heads = ui.Layout(in_axis=0, out_axis=(1, 2))  # (d_model, heads, d_head)
    assert ui.compute_fans((64, 4, 16), heads) == ui.Fans(64.0, 64.0)


def test_explicit_fans_override_the_shape() -> None:
    assert ui.compute_fans((128,), fan_in=512) == ui.Fans(512.0, 128.0)
    spec = ui.HeUniform()
    assert spec.variance((128,), fan_in=512) == pytest.approx(2 / 512)
    assert spec.fans((4, 4), fan_out=9) == ui.Fans(4.0, 9.0)


def test_zero_size_shapes_give_empty_arrays_not_division_by_zero() -> None:
    for name in ui.CATALOGUE:
        for shape in [(0, 4), (3, 0, 2)] if name != "identity" else [(0, 0), (0, 3)]:
            assert ui.get(name)(shape, seed=0).shape == shape, (name, shape)
    assert ui.HeNormal().variance((0, 0)) == pytest.approx(2.0)  # fan floored at 1, as in Keras


def test_variance_rule_modes() -> None:
    shape = (100, 300)
    assert ui.VarianceScaling(1.0, "fan_in").variance(shape) == pytest.approx(1 / 100)
    assert ui.VarianceScaling(1.0, "fan_out").variance(shape) == pytest.approx(1 / 300)
    assert ui.VarianceScaling(1.0, "fan_avg").variance(shape) == pytest.approx(1 / 200)
    assert ui.GlorotUniform().variance(shape, layout="torch") == pytest.approx(1 / 200)
    assert ui.HeNormal().variance(shape, layout="torch") == pytest.approx(2 / 300)


@pytest.mark.parametrize("shape", [5, (5,), [2, 3], range(1, 4)])
def test_shapes_accepted(shape: object) -> None:
    assert isinstance(normalize_shape(shape), tuple)  # type: ignore[arg-type]


@pytest.mark.parametrize("shape", [-1, (2, -3), (2.0, 3), (True, 3), "23", None, (2, None)])
def test_bad_shapes_raise_shape_error(shape: object) -> None:
    with pytest.raises(ui.ShapeError):
        ui.zeros(shape)  # type: ignore[arg-type]


def test_layout_errors() -> None:
    with pytest.raises(ui.ParameterError, match=r"layout='kears'.*Did you mean 'keras'"):
        ui.compute_fans((2, 3), "kears")
    with pytest.raises(ui.ShapeError, match="in_axis=3"):
        ui.compute_fans((2, 3), ui.Layout(in_axis=3, out_axis=0))
    with pytest.raises(ui.ParameterError, match=r"same axis.*Flax's Embed default.*Layout\(in_axis=1, out_axis=0\)"):
        ui.compute_fans((2, 3), ui.Layout(in_axis=0, out_axis=-2))  # JAX takes it; the message says how to write it
    with pytest.raises(ui.ParameterError, match=r"same axis twice for a rank-2 shape\.$"):  # batch overlaps: no JAX hint
        ui.compute_fans((2, 3), ui.Layout(in_axis=1, out_axis=0, batch_axis=-2))
    with pytest.raises(ui.ParameterError, match=r"same axis twice for a rank-4 shape\.$"):  # no table: the hint would mislead
        ui.compute_fans((3, 3, 2, 4), ui.Layout(in_axis=-2, out_axis=2))
    with pytest.raises(ui.ParameterError):
        ui.Layout(in_axis="0", out_axis=1)  # type: ignore[arg-type]
    with pytest.raises(ui.ParameterError, match="fan_in"):
        ui.compute_fans((2, 3), fan_in=0)


def test_a_layout_no_shape_can_make_right_is_refused_when_built() -> None:
    """Repeated axes and axes beyond any rank fail at construction (a saved adapter config too), not at the first draw."""
    for layout, match in [({"in_axis": (0, 0), "out_axis": 1}, "names axis 0 a second time"), ({"in_axis": 0, "out_axis": 0}, "names axis 0 a second time"),
                          ({"in_axis": 1, "out_axis": 0, "batch_axis": (2, 1)}, "names axis 1 a second time"),
                          ({"in_axis": 2**63}, "which no array of rank at most 32 has"), ({"out_axis": -33}, "no array of rank")]:
        with pytest.raises(ui.ParameterError, match=match):
            ui.Layout(**layout)
    with pytest.raises(ui.ParameterError, match="names axis 0 a second time"):  # what KerasInitializer.from_config reads
        read_adapter_config({"spec": ui.serialize(ui.HeNormal()), "layout": {"in_axis": [0, 0], "out_axis": 0}})
    with pytest.raises(ui.ParameterError, match="a second time") as refused:  # found early, quoted short
        ui.Layout(in_axis=[0] * 10**6)
    assert len(str(refused.value)) < 400
    assert ui.Layout(in_axis=0, out_axis=-2).axes(3) == ((0,), (1,), ())  # the same axis only for some ranks: checked per shape


def test_layout_axes_as_lists_and_numpy_integers_as_jax_takes_them() -> None:
    """``in_axis=[0, 1]`` (JAX's ``variance_scaling`` takes any sequence) and ``np.int64`` axes were refused."""
    import numpy as np

    assert ui.Layout(in_axis=[0, 1], out_axis=[2]) == ui.Layout(in_axis=(0, 1), out_axis=(2,))
    assert ui.Layout(in_axis=np.int64(0), out_axis=[np.int32(1)]) == ui.Layout(in_axis=0, out_axis=(1,))
    fans = ui.HeNormal().fans((2, 3, 4), layout=ui.Layout(in_axis=[0, 1], out_axis=[2]))
    assert (fans.fan_in, fans.fan_out) == (6.0, 4.0)
    bools = [np.bool_(True), np.array(True)]
    if importlib.util.find_spec("torch") is not None:
        import torch

        bools.append(torch.tensor(True))  # torch's bool tensor has __index__: it was taken as axis 1
    for bad in (True, 1.5, "0", [0, "1"], np.array([0, 1]), *bools):
        with pytest.raises(ui.ParameterError, match="must be an int or a tuple"):
            ui.Layout(in_axis=bad)


def test_boolean_dimensions_are_refused_whatever_their_framework() -> None:
    """torch's ``tensor(True)`` has ``__index__`` (1): ``zeros((tensor(True), 4))`` was a (1, 4) array, and a bool
    tensor as the whole shape a (1, 1) one; NumPy's and JAX's bools were refused already."""
    import numpy as np

    bools: list[object] = [True, np.bool_(True), np.array(True), np.array([True, False])]
    if importlib.util.find_spec("torch") is not None:
        import torch

        bools += [torch.tensor(True), torch.tensor([True, True]), torch.tensor(False)]
    for bad in bools:
        with pytest.raises(ui.ShapeError):
            ui.zeros(bad)
        with pytest.raises(ui.ShapeError):
            ui.zeros((bad, 4))
    assert ui.zeros((np.int64(3), np.array(4))).shape == (3, 4)


def test_shapes_that_raise_while_read_are_shape_errors() -> None:
    """An iterable that refuses iteration (``tf.TensorShape(None)``) and a dimension whose ``__index__`` raises let the
    raw exception out (``ValueError``, ``RuntimeError``)."""

    class Unknown:
        def __iter__(self) -> Iterator[int]:
            raise ValueError("Cannot iterate over a shape with unknown rank.")

    class Raising:
        def __index__(self) -> int:
            raise RuntimeError("boom")

    for shape in (Unknown(), (Raising(), 2)):
        with pytest.raises(ui.ShapeError):
            ui.he_normal(shape)
