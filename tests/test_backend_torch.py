"""The torch backend: what only torch has — autograd, the meta device, Generators, devices, CUDA.

The cells every backend shares (each initializer × dtype × shape on cpu and
meta, seeds, set_seed, integer dtypes, zero-size shapes, support on the
bfloat16/float16 grids, narrow orthogonal, moments) live in the
cross-backend matrix, tests/test_matrix.py.

Parametrization uses plain strings and torch is imported by the ``torch``
fixture, so collecting this module imports no framework and a missing torch
shows as a skip with its reason. GPU tests are marked ``gpu`` and skip with a
reason where ``torch.cuda.is_available()`` is False.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from stats import check_sample
from targets import RANDOM
from unit_init.backends.registry import get_backend


def shape_for(name: str) -> tuple[int, ...]:
    """A conv kernel shape, or a matrix for the rank-2-only identity."""
    return (6, 4) if name == "identity" else (3, 2, 4, 5)


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch", reason="torch is not installed (pip install 'unit-init[torch]')")


@pytest.fixture
def cuda(torch: Any) -> Any:
    """The first CUDA device, or a skip saying why there is none."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: torch.cuda.is_available() is False")
    return torch.device("cuda", torch.cuda.current_device())


# --- autograd ------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cpu", "meta"])
@pytest.mark.parametrize("name", list(ui.CATALOGUE))
def test_draws_under_enable_grad_carry_no_autograd(torch: Any, name: str, device: str) -> None:
    with torch.enable_grad():
        w = ui.get(name)(shape_for(name), backend="torch", device=device, dtype="bfloat16", seed=0)
    assert isinstance(w, torch.Tensor)
    assert not w.requires_grad
    assert w.grad_fn is None


# --- how the backend is named ------------------------------------------------------


def test_backend_spellings_and_native_dtype(torch: Any) -> None:
    for backend in ("torch", "pytorch", torch):
        w = ui.glorot_uniform((3, 3), backend=backend, dtype=torch.float16, seed=0)
        assert isinstance(w, torch.Tensor)
        assert w.dtype == torch.float16


# --- the meta device ----------------------------------------------------------------


@pytest.mark.parametrize("name", RANDOM)
def test_meta_draws_shape_and_dtype_without_data(torch: Any, name: str) -> None:
    seed = torch.Generator().manual_seed(0)
    state = seed.get_state()
    w = ui.get(name)((64, 32), backend="torch", device="meta", dtype="bfloat16", seed=seed)
    assert w.is_meta
    assert tuple(w.shape) == (64, 32)
    assert w.dtype == torch.bfloat16
    assert torch.equal(seed.get_state(), state), "meta draws consume no randomness"
    with pytest.raises(ui.DeviceError, match="meta"):
        get_backend("torch").to_numpy(w)


def test_default_device_follows_torch(torch: Any) -> None:
    with torch.device("meta"):
        w = ui.he_normal((3, 3), backend="torch")
    assert w.is_meta
    assert ui.he_normal((3, 3), backend="torch").device == torch.get_default_device()
    torch.set_default_device("meta")  # the global default, not a context: the fast CPU check must see it too
    try:
        assert ui.he_normal((3, 3), backend="torch").is_meta
    finally:
        torch.set_default_device(None)
    assert ui.he_normal((3, 3), backend="torch").device.type == "cpu"


@pytest.mark.parametrize("name", ["random_uniform", "random_normal", "he_uniform", "he_normal", "orthogonal"])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_a_cpu_draw_asked_for_is_drawn_on_the_cpu_whatever_torchs_default_device(torch: Any, name: str, dtype: str) -> None:
    """A float16/bfloat16 draw's float32 buffer was made on torch's default device: under ``torch.device("meta")``
    a draw with ``device="cpu"`` raised torch's "Cannot copy out of meta tensor" (on CUDA it would have drawn a
    CPU generator into a CUDA buffer); the drop-ins then fell back to torch's own values."""
    import unit_init.torch as ui_torch

    expected = ui.get(name)((40, 24), backend="torch", device="cpu", dtype=dtype, seed=0, layout="torch")
    tensor = torch.empty(40, 24, dtype=getattr(torch, dtype), device="cpu")
    with torch.device("meta"):
        drawn = ui.get(name)((40, 24), backend="torch", device="cpu", dtype=dtype, seed=0, layout="torch")
        ui_torch.init_(tensor, ui.get(name), seed=0)
    assert torch.equal(drawn, expected)
    assert torch.equal(tensor, expected)


# --- truncation ------------------------------------------------------------------------


@pytest.mark.parametrize(("std", "shape"), [(0.02, (512, 1024)), (0.1, (200,))])
def test_a_wide_interval_is_a_normal_draw_re_drawn_where_outside(torch: Any, std: float, shape: tuple[int, ...]) -> None:
    """``trunc_normal_(std=0.02)``'s ``[−2, 2]`` is ±100σ: past what ``erf`` resolves in float32, it is re-drawn in
    place, not drawn by the float64 log-space quantile (40× a normal draw). No normal value reaches 20σ, so the values
    are one ``normal_``'s own at every size (a small draw too: no oversampled draw), and none is clipped."""
    values = ui.BoundedNormal(0.0, std, -2.0, 2.0)(shape, backend="torch", seed=torch.Generator().manual_seed(3))
    assert torch.equal(values, torch.empty(shape).normal_(0.0, std, generator=torch.Generator().manual_seed(3)))


def test_values_outside_a_wide_interval_are_re_drawn(torch: Any) -> None:
    """Bounds at ±5σ: a float32 ``normal_`` reaches 5.8σ, so a 2²²-value draw holds a few values outside, which are
    re-drawn inside (a clamp would put them on the bounds); the rest are ``normal_``'s own."""
    shape = (2048, 2048)
    values = ui.BoundedNormal(0.0, 0.4, -2.0, 2.0)(shape, backend="torch", seed=torch.Generator().manual_seed(5))
    normal = torch.empty(shape).normal_(0.0, 0.4, generator=torch.Generator().manual_seed(5))
    outside = (normal < -2.0) | (normal > 2.0)
    assert 0 < int(outside.sum()) < 20
    assert torch.equal(values[~outside], normal[~outside])
    assert bool((values.abs() < 2.0).all())


# --- the smallest keys (Sparse) -------------------------------------------------------------


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("count", [0, 1, 3, 4, 5, 8])
def test_smallest_by_topk_marks_what_the_ranks_mark(torch: Any, axis: int, count: int) -> None:
    """torch's ``topk`` (of the fewer side, scattered) marks the keys the generic double ``argsort`` ranks below
    ``count`` (ties: the first by index, as a portable draw needs on every backend): distinct and tied keys, every
    count from none to all 8 along the axis, each axis of a 3-D array."""
    from unit_init.backends.base import Backend

    backend = get_backend("torch")
    distinct = torch.randperm(8 * 8 * 8, generator=torch.Generator().manual_seed(count)).reshape(8, 8, 8).float()
    tied = torch.div(distinct, 128, rounding_mode="floor")  # four values: ties across every boundary
    for keys in (distinct, tied):
        mask = backend.smallest(keys, count, axis)
        assert torch.equal(mask, Backend.smallest(backend, keys, count, axis))
        assert bool((mask.sum(axis) == count).all())


# --- drawing into a given tensor ---------------------------------------------------------


def test_drawing_into_hands_the_tensor_to_the_first_draw_of_its_kind_only(torch: Any) -> None:
    from unit_init.backends.torch_backend import drawing_into

    backend, cpu = get_backend("torch"), torch.device("cpu")
    tensor = torch.empty(6, 5)
    with drawing_into(tensor):
        other = backend.normal(None, (5, 6), "float32", cpu)  # another shape: its own
        first = backend.normal(None, (6, 5), "float32", cpu)
        second = backend.normal(None, (6, 5), "float32", cpu)
    assert first is tensor
    assert second is not tensor
    assert other is not tensor
    with drawing_into(tensor[:, :4]):  # not contiguous: never handed out
        assert backend.normal(None, (6, 4), "float32", cpu).data_ptr() != tensor.data_ptr()
    assert backend.normal(None, (6, 5), "float32", cpu) is not tensor  # outside: nothing handed out


def test_values_sharing_the_tensors_memory_in_another_order_are_copied_from_a_clone(torch: Any) -> None:
    from unit_init.backends.torch_backend import drawing_into

    tensor = torch.arange(16.0).reshape(4, 4)
    expected = tensor.T.clone()
    with drawing_into(tensor) as write:
        write(tensor.T)
    assert torch.equal(tensor, expected)


# --- seeds and generators -----------------------------------------------------------


def test_user_generator_advances_and_matches_an_int_seed(torch: Any) -> None:
    generator = torch.Generator().manual_seed(7)
    first = ui.he_normal((64, 32), backend="torch", seed=generator)
    second = ui.he_normal((64, 32), backend="torch", seed=generator)
    assert not torch.equal(first, second), "a torch.Generator advances"
    assert torch.equal(first, ui.he_normal((64, 32), backend="torch", seed=7))
    fresh = torch.Generator().manual_seed(7)
    assert torch.equal(first, ui.HeNormal()((64, 32), backend="torch", seed=fresh))


def test_spec_seed_is_the_default(torch: Any) -> None:
    spec = ui.GlorotNormal(seed=3)
    assert torch.equal(spec((8, 8), backend="torch"), ui.glorot_normal((8, 8), backend="torch", seed=3))


def test_foreign_seed_is_refused(torch: Any) -> None:
    with pytest.raises(ui.SeedError, match=r"torch\.Generator"):
        ui.he_normal((2, 2), backend="torch", seed=np.random.default_rng(0))


# --- like= ----------------------------------------------------------------------------


def test_like_infers_backend_device_and_dtype(torch: Any) -> None:
    parameter = torch.nn.Parameter(torch.empty((8, 4), dtype=torch.float16))
    w = ui.he_uniform((8, 4), like=parameter, seed=0)
    assert isinstance(w, torch.Tensor)
    assert w.dtype == torch.float16
    assert w.device == parameter.device
    assert not w.requires_grad
    m = ui.orthogonal((8, 4), like=torch.empty((1,), device="meta", dtype=torch.bfloat16))
    assert m.is_meta
    assert m.dtype == torch.bfloat16
    assert ui.zeros((2,), like=parameter, dtype="float64").dtype == torch.float64, "an explicit dtype wins"


# --- devices --------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cpu", "cpu:0", "CPU", None, ("cpu",), ("cpu", 0)])
def test_cpu_spellings(torch: Any, device: str | tuple[str | int, ...] | None) -> None:
    """Every spelling of the CPU (a tuple: ``torch.device(*tuple)``) draws there, and resolves to one device object
    (the draw's fast paths compare by identity)."""
    if device is None and torch.get_default_device().type != "cpu":
        pytest.skip("torch's default device is not the CPU here")
    given = torch.device(*device) if isinstance(device, tuple) else device
    assert ui.zeros((2,), backend="torch", device=given).device == torch.device("cpu")
    backend = get_backend("torch")
    assert backend.resolve_device(given) is backend.resolve_device(None)


@pytest.mark.parametrize("device", ["cuda", "gpu", "cuda:0", "gpu:0"])
def test_absent_gpu_is_a_device_error_listing_what_is_present(torch: Any, device: str) -> None:
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ui.DeviceError, match=rf"device='{device}' is not available.*present: 'cpu', 'meta'"):
        ui.he_normal((2, 2), backend="torch", device=device)


@pytest.mark.parametrize("device", ["tpu:0", "/GPU:0", "cuda:x", 0])
def test_meaningless_device_is_a_device_error(torch: Any, device: object) -> None:
    with pytest.raises(ui.DeviceError, match=r"is not a torch device; accepted: .*'cuda:N'.*Present: 'cpu'") as error:
        ui.he_normal((2, 2), backend="torch", device=device)
    assert repr(device) in str(error.value)
    assert isinstance(error.value, ValueError)


# --- to_numpy ------------------------------------------------------------------------


def test_to_numpy_keeps_bfloat16_values(torch: Any) -> None:
    w = ui.he_normal((16, 16), backend="torch", dtype="bfloat16", seed=0)
    values = np.asarray(get_backend("torch").to_numpy(w), dtype=np.float64)
    np.testing.assert_array_equal(values, w.double().numpy())


# --- scalar operands -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_affine_is_the_arithmetic_of_a_python_float(torch: Any, dtype: str) -> None:
    """The backend's ``affine`` (a cached 0-d tensor as the operand where that is cheaper) gives the bits of
    ``mul_(float).add_(float)``, for scales and shifts that round differently in float32, half and float64, and zeros' signs."""
    backend = get_backend("torch")
    x = torch.linspace(-1e4, 1e4, 100_001, dtype=getattr(torch, dtype))
    for scale, shift in [(0.1, 1 / 3), (1 / 3, -2.2), (-2.2, 0.1), (3.7e5, 1e-30), (1e-30, 3.7e5), (-0.0, 0.0), (0.0, 0.0), (0.0, -1.7)]:
        expected = x.clone().mul_(scale)
        if shift != 0:
            expected.add_(shift)
        drawn = backend.affine(x.clone(), scale, shift)
        assert torch.equal(drawn, expected), (dtype, scale, shift)
        assert torch.equal(torch.signbit(drawn), torch.signbit(expected)), (dtype, scale, shift)


def test_a_cached_scalar_operand_stays_out_of_fake_and_inference_tensors(torch: Any) -> None:
    """The scale of a 64² ``he_normal`` made first under ``FakeTensorMode`` or ``inference_mode`` is no fake or inference
    tensor kept for later draws: draws before, inside and after give the same values (the fake one its shape)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from unit_init.backends import torch_backend

    torch_backend._scalars.clear()
    with FakeTensorMode():
        fake = ui.he_normal((64, 64), backend="torch", seed=3)
    assert type(fake) is not torch.Tensor
    assert fake.shape == (64, 64)
    assert not torch_backend._scalars, "no operand is made under FakeTensorMode"
    with torch.inference_mode():
        inside = ui.he_normal((64, 64), backend="torch", seed=3)
    after = ui.he_normal((64, 64), backend="torch", seed=3)
    assert torch_backend._scalars, "the float32 scale is cached"
    with FakeTensorMode():
        assert ui.he_normal((64, 64), backend="torch", seed=3).shape == (64, 64)
    assert torch.equal(inside, after)


# --- GPU ------------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("device", ["cuda", "gpu", "cuda:0", "gpu:0"])
def test_cuda_routing(torch: Any, cuda: Any, device: str) -> None:
    for name in ui.CATALOGUE:
        w = ui.get(name)(shape_for(name), backend="torch", device=device, dtype="bfloat16", seed=0)
        assert w.device.type == "cuda"
        assert w.dtype == torch.bfloat16
        assert not w.requires_grad


@pytest.mark.gpu
def test_cuda_generator_lives_on_the_gpu(torch: Any, cuda: Any) -> None:
    a = ui.he_normal((256, 128), backend="torch", device=cuda, seed=0)
    b = ui.he_normal((256, 128), backend="torch", device=cuda, seed=0)
    assert torch.equal(a, b)
    generator = torch.Generator(device=cuda).manual_seed(0)
    first = ui.he_normal((256, 128), backend="torch", device=cuda, seed=generator)
    assert torch.equal(first, a), "an int seed is a CUDA generator seeded with it"
    assert not torch.equal(first, ui.he_normal((256, 128), backend="torch", device=cuda, seed=generator))
    with pytest.raises(ui.SeedError, match=r"torch\.Generator"):
        ui.he_normal((2, 2), backend="torch", device=cuda, seed=torch.Generator())


@pytest.mark.gpu
def test_cuda_statistics_and_bounds(torch: Any, cuda: Any) -> None:
    shape = (1024, 1024)
    spec = ui.HeNormal()
    w = spec(shape, backend="torch", device=cuda, dtype="bfloat16", seed=9)
    check_sample(get_backend("torch").to_numpy(w), spec.distribution_for(shape), "bfloat16")
    q = ui.orthogonal((512, 256), backend="torch", device=cuda, seed=1).double()
    assert torch.allclose(q.T @ q, torch.eye(256, dtype=torch.float64, device=cuda), atol=1e-5)


@pytest.mark.gpu
def test_cuda_index_beyond_count(torch: Any, cuda: Any) -> None:
    count = torch.cuda.device_count()
    with pytest.raises(ui.DeviceError, match=rf"cuda:{count}.*present: .*'cuda:0'"):
        ui.zeros((2,), backend="torch", device=f"cuda:{count}")



@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("size", [5, 16, 17, 256, 271, 272, 2 * 256 + 5, 3 * 256 + 40, 5000])
def test_a_narrow_draw_is_the_float32_draw_rounded_once_without_its_float32_array(
    torch: Any, dtype: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A float16/bfloat16 uniform or normal is drawn in float32 2²⁰ values at a time (256 here, to cut small draws at
    its edges) through one buffer and cast:
    ATen's CPU kernels take the generator's values for those chunks as for the whole draw (a last chunk of fewer than
    16 joins the one before, as ATen redraws a whole draw's last 16), so the values, and the generator after them, are
    the whole float32 draw's rounded once (4096² normal in bfloat16: 0.7× ATen's own bfloat16 kernel)."""
    from unit_init.backends import torch_backend
    from unit_init.sampling.entry import confinement

    monkeypatch.setattr(torch_backend, "NARROW_CHUNK", 256)
    narrow = getattr(torch, dtype)
    for spec, draw in ((ui.RandomNormal(0.5, 0.02), lambda out, g: out.normal_(0.5, 0.02, generator=g)),
                       (ui.RandomUniform(-0.1, 0.1), lambda out, g: out.uniform_(-0.1, 0.1, generator=g))):
        generator = torch.Generator().manual_seed(size)
        ours = spec((size,), backend="torch", dtype=dtype, seed=generator)
        reference = torch.Generator().manual_seed(size)
        expected = draw(torch.empty(size), reference).to(narrow)
        bounds = confinement(spec.distribution_for((size,)), dtype)
        if bounds is not None:  # a uniform stays below its upper bound on the narrow grid
            expected = expected.clamp(*bounds)
        assert torch.equal(ours, expected), type(spec).__name__
        assert torch.equal(generator.get_state(), reference.get_state())
