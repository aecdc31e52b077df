"""The PyTorch adapter: ``init_``, ``initialize`` and the ``torch.nn.init`` drop-ins, checked against torch itself."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
scipy_stats = pytest.importorskip("scipy.stats")

from tests.stats import check_sample  # noqa: E402

import unit_init as ui  # noqa: E402
import unit_init.torch as ours  # noqa: E402

nn = torch.nn
reference = torch.nn.init
KS_ALPHA = 1e-4


def _values(tensor: Any) -> np.ndarray:
    return tensor.detach().double().cpu().numpy().ravel()


def _max_abs(tensor: Any) -> float:
    return float(tensor.detach().abs().max())


# --- init_ -------------------------------------------------------------------------------


def test_init_fills_in_place_keeping_dtype_device_and_grad() -> None:
    weight = nn.Parameter(torch.empty(64, 32, dtype=torch.float64))
    out = ui.torch.init_(weight, ui.HeNormal(), seed=0)
    assert out is weight
    assert weight.dtype == torch.float64
    assert weight.device.type == "cpu"
    assert weight.requires_grad
    assert weight.grad_fn is None
    np.testing.assert_array_equal(_values(weight), _values(ui.he_normal((64, 32), backend="torch", dtype="float64", seed=0, layout="torch")))


_INTO = [  # a tensor to fill: contiguous, a Parameter, at an odd storage offset, odd-sized, transposed
    ("contiguous", lambda shape, dtype: torch.empty(shape, dtype=dtype)),
    ("parameter", lambda shape, dtype: nn.Parameter(torch.empty(shape, dtype=dtype))),
    ("offset", lambda shape, dtype: torch.empty(math.prod(shape) + 1, dtype=dtype)[1:].view(shape)),
    ("transposed", lambda shape, dtype: torch.empty(shape[::-1], dtype=dtype).T),
]


@pytest.mark.parametrize("into", [pytest.param(make, id=label) for label, make in _INTO])
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "complex64"])
@pytest.mark.parametrize("name", sorted(ui.CATALOGUE))
def test_init_writes_the_values_the_spec_draws(name: str, dtype: str, into: Callable[..., Any]) -> None:
    """However the tensor is filled (in place by the draw's own kernels where it is contiguous, else copied in), it
    holds the values the same call without a tensor returns: 66 × 63 (odd) and 4096 × 64 (the word-based uniform)."""
    spec = ui.get(name)
    for shape in [(66, 63), (4096, 64)] if name not in ("identity", "dirac", "delta_orthogonal") else [(66, 63)]:
        if name in ("dirac", "delta_orthogonal", "conv_orthogonal"):
            shape = (8, 6, 3, 3)
        try:
            expected = spec(shape, backend="torch", dtype=dtype, seed=4, layout="torch")
        except ui.UnitInitError:
            continue  # refused for this dtype (complex orthogonal, ...): init_ refuses it too (tested elsewhere)
        tensor = into(shape, getattr(torch, dtype))
        ui.torch.init_(tensor, spec, seed=4)
        assert torch.equal(tensor.detach(), expected), (name, dtype, shape)


@pytest.mark.parametrize("spec", [ui.HeNormal(), ui.Sparse(0.5, 0.01), ui.Orthogonal()], ids=repr)
def test_init_under_vmap_writes_each_example_as_an_eager_call(spec: Any) -> None:
    """``vmap``'s batched tensor has no memory of its own: never handed to the draw (it raised on its data pointer)."""
    batched = torch.func.vmap(lambda t: ours.init_(t, spec, seed=1), randomness="same")(torch.zeros(2, 512, 256))
    eager = ours.init_(torch.zeros(512, 256), spec, seed=1)
    assert torch.equal(batched[0], eager)
    assert torch.equal(batched[1], eager)


def test_a_contiguous_float_tensor_is_drawn_into_with_no_second_tensor() -> None:
    """A uniform, a normal, a truncated normal by ``erfinv`` (from words in the tensor's own memory), one re-drawn
    at ±100σ, a constant and an identity write the parameter with no allocation and no copy (torch's own ``normal_`` costs; a second tensor doubled
    a 1 GiB weight's peak memory)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.names: list[str] = []

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            self.names.append(func.__name__)
            return func(*args, **(kwargs or {}))

    fills = [ours.normal_, ours.uniform_, ours.kaiming_normal_, ours.xavier_uniform_, ours.trunc_normal_,
             lambda t: ours.trunc_normal_(t, std=0.02), lambda t: ours.init_(t, ui.HeNormal(), seed=0), ours.eye_,
             lambda t: ours.init_(t, ui.Constant(0.5)), lambda t: ours.init_(t, ui.Identity(gain=2.0))]
    for fill in fills:
        weight = nn.Parameter(torch.empty(512, 1024))
        with Ops() as ops:
            fill(weight)
        allocations = {"empty.memory_format", "empty_like.default", "clone.default", "full.default", "zeros.default"}
        assert not allocations & set(ops.names), ops.names
        assert ops.names.count("copy_.default") <= 1, ops.names  # the words' in-place int → float conversion only
        assert weight.requires_grad
        assert weight.grad_fn is None


@pytest.mark.parametrize("shape", [(1, 1, 768), (100,), (256, 256), (512, 1024)], ids=str)
def test_trunc_normal_of_std_0_02_is_torchs_normal_draw_and_leaves_the_generator_as_torch(shape: tuple[int, ...]) -> None:
    """±100σ: a ``normal_(0, 0.02)`` of the tensor, nothing outside to re-draw; torch 2.13's ``trunc_normal_`` makes
    that same call, so its values and the generator after it match (a ViT's ``cls_token`` drawn first moved every
    later Linear weight: small tensors took one oversampled draw of n + 16 values)."""
    _ = torch.manual_seed(0)
    torchs = torch.empty(shape).normal_(0.0, 0.02)
    _ = torch.manual_seed(0)
    if not torch.equal(reference.trunc_normal_(torch.empty(shape), std=0.02), torchs):
        pytest.skip(f"torch {torch.__version__}'s trunc_normal_ samples otherwise than one normal_ draw")
    after_torch = torch.rand(3)
    _ = torch.manual_seed(0)
    assert torch.equal(ours.trunc_normal_(torch.empty(shape), std=0.02), torchs)
    assert torch.equal(torch.rand(3), after_torch)


def test_init_takes_fan_overrides() -> None:
    """``init_(..., fan_in=, fan_out=)`` scales by the given fans, not the tensor's (a 256×512 weight told fan_in=8)."""
    weight = ui.torch.init_(torch.empty(256, 512), ui.HeNormal(), fan_in=8, seed=0)
    assert abs(float(weight.double().var()) / (2 / 8) - 1) < 0.02  # 131,072 values: 5 standard errors are 2 %
    glorot = ui.torch.init_(torch.empty(256, 512), ui.GlorotUniform(), fan_in=8, fan_out=24, seed=0)
    assert 0.99 * math.sqrt(6 / 32) < _max_abs(glorot) <= math.sqrt(6 / 32)


@pytest.mark.parametrize("generator", [3, "abc", np.random.default_rng(0)])
def test_init_generator_takes_only_a_torch_generator(generator: Any) -> None:
    """``init_(t, spec, generator=3)`` drew as ``seed=3``, and any other value was refused as ``seed=…``: a
    SeedError naming generator= (helper 167)."""
    with pytest.raises(ui.SeedError, match=r"generator=.* is not a torch\.Generator; pass an int as seed="):
        ours.init_(torch.empty(3, 3), ui.HeNormal(), generator=generator)


def test_init_on_meta_is_a_shape_checked_no_op() -> None:
    meta = torch.empty(4, 3, 3, device="meta")
    assert ui.torch.init_(meta, ui.Orthogonal()) is meta
    assert meta.shape == (4, 3, 3)
    with pytest.raises(ui.ShapeError):
        ui.torch.init_(torch.empty(4, device="meta"), ui.Orthogonal())


VALUELESS = {
    "(0, 3)": ((0, 3), "cpu", torch.float32), "meta (4, 3)": ((4, 3), "meta", torch.float32), "meta (3, 4, 5)": ((3, 4, 5), "meta", torch.float32),
    "meta (0,)": ((0,), "meta", torch.float32), "complex (0, 3)": ((0, 3), "cpu", torch.complex64), "complex meta": ((4, 3), "meta", torch.complex64),
}
VALUELESS_FILLS: dict[str, tuple[str, tuple[Any, ...], dict[str, Any]]] = {
    "uniform_": ("uniform_", (), {}), "uniform_(a=b)": ("uniform_", (1.0, 1.0), {}), "normal_": ("normal_", (), {}),
    "normal_(generator=)": ("normal_", (), {"generator": 0}), "trunc_normal_": ("trunc_normal_", (), {}),
    "trunc_normal_(a=b)": ("trunc_normal_", (0.0, 1.0, 0.5, 0.5), {}), "xavier_uniform_": ("xavier_uniform_", (), {}),
    "xavier_normal_": ("xavier_normal_", (), {}), "xavier_normal_(gain=0)": ("xavier_normal_", (0.0,), {}),
    "kaiming_uniform_": ("kaiming_uniform_", (), {}), "kaiming_normal_": ("kaiming_normal_", (), {}), "orthogonal_": ("orthogonal_", (), {}),
    "sparse_": ("sparse_", (0.5,), {}), "eye_": ("eye_", (), {}), "dirac_": ("dirac_", (), {}), "constant_": ("constant_", (0.5,), {}),
    "zeros_": ("zeros_", (), {}), "ones_(tensor=)": ("ones_", (), {"tensor": None}),
}


@pytest.mark.parametrize("fill", list(VALUELESS_FILLS))
@pytest.mark.parametrize("where", list(VALUELESS))
def test_a_drop_in_counts_a_write_into_a_tensor_without_values_as_torch_does(fill: str, where: str) -> None:
    """On ``"meta"`` or with no elements nothing is drawn; the drop-ins left the tensor's version counter (autograd's
    record of in-place writes) unchanged where torch's own function counts writes: ``normal_`` one, an empty
    ``sparse_`` four (five if complex), ``kaiming_*`` on no elements none (and its warning). A first fix counted twice
    where the drop-in already hands the call to torch (``uniform_(a=b)``, a zero gain)."""
    shape, device, dtype = VALUELESS[where]
    name, args, options = VALUELESS_FILLS[fill]
    counted = {}
    for module in (torch.nn.init, ours):
        tensor = torch.empty(shape, device=device, dtype=dtype)
        given = {key: tensor if key == "tensor" else torch.Generator() if key == "generator" else value for key, value in options.items()}
        positional = args if "tensor" in given else (tensor, *args)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                getattr(module, name)(*positional, **given)
                outcome = "filled"
            except (ValueError, RuntimeError) as error:  # a shape the function refuses: ours is also torch's built-in type
                outcome = "ValueError" if isinstance(error, ValueError) else "RuntimeError"
        counted[module.__name__] = (outcome, tensor._version, [str(w.message) for w in caught])
    assert counted["unit_init.torch"] == counted["torch.nn.init"]


def test_init_refuses_seed_and_generator_together() -> None:
    with pytest.raises(ui.ParameterError, match="not both"):
        ui.torch.init_(torch.empty(2, 2), "he_normal", seed=1, generator=torch.Generator())


# --- initialize --------------------------------------------------------------------------


def _net(extra: bool) -> Any:
    layers = [nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4)]
    if extra:
        layers += [nn.ReLU(), nn.Linear(4, 2)]
    return nn.Sequential(*layers)


def test_adding_a_layer_leaves_the_other_parameters_unchanged() -> None:
    rules = {"*.weight": ui.HeNormal(), "*.bias": ui.RandomUniform()}
    small, big = ui.torch.initialize(_net(False), rules, seed=7).params, ui.torch.initialize(_net(True), rules, seed=7).params
    bigger = dict(big.named_parameters())
    for name, parameter in small.named_parameters():
        assert torch.equal(parameter, bigger[name]), name
    other = ui.torch.initialize(_net(False), rules, seed=8).params
    assert not torch.equal(small[0].weight, other[0].weight)


def test_a_native_elementwise_weight_is_drawn_in_its_own_layout_in_place() -> None:
    """``initialize`` drew every torch weight in the canonical ``(in, out)`` layout and wrote it transposed: a new tensor
    and a strided copy (and a clone for a square weight), 2.0× torch's own init loop on a GPT-2-sized model. A native
    draw of an i.i.d. law is the same law in either arrangement, and is now drawn in the weight's own layout, in place;
    the portable stream and a coupled law (orthogonal) are still drawn canonically, so twins in other frameworks match."""
    from unittest import mock

    from unit_init.backends import torch_backend
    from unit_init.seeds import derive_seed

    net = nn.Conv2d(64, 128, 3)
    with mock.patch.object(torch_backend, "_written", wraps=torch_backend._written) as written:
        ui.torch.initialize(net, {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0)
    assert len(written.call_args_list) == 2
    for call in written.call_args_list:  # (tensor, values): the values are the tensor's own memory, nothing to copy
        assert call.args[1].data_ptr() == call.args[0].data_ptr()
        assert call.args[1].stride() == call.args[0].stride()
    expected = ui.HeNormal()((128, 64, 3, 3), backend="torch", layout="torch", seed=derive_seed(0, "kernel"))
    assert torch.equal(net.weight, expected)
    check_sample(_values(net.weight), ui.HeNormal().distribution_for((3, 3, 64, 128)))  # the canonical law, fan_in = 576

    ui.torch.initialize(net, {"weight": ui.Orthogonal(), "bias": ui.Zeros()}, seed=0)
    canonical = ui.Orthogonal()((3, 3, 64, 128), backend="torch", seed=derive_seed(0, "kernel"))
    assert torch.equal(net.weight, canonical.permute(3, 2, 0, 1))


def test_a_law_that_changes_with_the_layout_is_drawn_canonically() -> None:
    """A spec of your own may read the shape otherwise than its fans: where its law for the weight's own shape and layout
    is not its canonical law, the weight is drawn canonically and permuted, as before."""
    from dataclasses import dataclass

    from unit_init.spec.distributions import Normal

    @dataclass(frozen=True, slots=True)
    class LastAxisStd(ui.Initializer):  # std = the size of the last axis, whatever the layout
        def distribution_for(self, shape: Any, **_: object) -> Any:
            return Normal(0.0, float(shape[-1]))

    net = nn.Linear(4, 64)  # canonical (4, 64): std 64; its own (64, 4) would give std 4
    ui.torch.initialize(net, {"weight": LastAxisStd(), "bias": ui.Zeros()}, seed=0)
    assert 40 < float(net.weight.detach().std()) < 90


def test_first_matching_rule_wins_and_unmatched_parameters_are_untouched() -> None:
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 2))
    linear_bias = net[3].bias.detach().clone()
    _, report = ui.torch.initialize(net, [(nn.Conv2d, ui.Zeros()), ("*.weight", ui.Ones()), ("0.*", ui.Constant(5.0))])
    assert torch.count_nonzero(net[0].weight) == 0
    assert torch.equal(net[0].bias, torch.full((8,), 5.0))  # a type rule's spec leaves biases to later rules
    assert report.unmatched == ("1.bias", "3.bias")
    assert torch.equal(net[3].weight, torch.ones(2, 8))
    assert torch.equal(net[1].weight, torch.ones(8))  # "*.weight" matches the norm layer too
    assert torch.equal(net[3].bias, linear_bias)  # no rule matched "3.bias"


def test_bias_takes_fan_in_from_its_weight() -> None:
    layer = nn.Linear(400, 4096)
    ui.torch.initialize(layer, {"bias": ui.VarianceScaling(1 / 3, "fan_in", "uniform")}, seed=0)
    bound = 1 / math.sqrt(400)
    assert _max_abs(layer.bias) <= bound
    assert _max_abs(layer.bias) > 0.99 * bound
    ui.torch.initialize(layer, {"bias": ui.VarianceScaling(1 / 3, "fan_in", "uniform")}, bias_fan_from_weight=False)
    assert _max_abs(layer.bias) > 0.9 * math.sqrt(1 / 4096)  # its own fan (4096)
    assert _max_abs(layer.bias) <= math.sqrt(1 / 4096)


def test_presets_as_rules_set_weight_and_bias() -> None:
    net = nn.Sequential(nn.Linear(64, 2048), nn.ReLU(), nn.Linear(2048, 2048))
    ui.torch.initialize(net, {nn.Linear: ui.torch_linear}, seed=1)
    assert _max_abs(net[2].bias) <= 1 / math.sqrt(2048)
    assert _max_abs(net[0].bias) > 0.9 / math.sqrt(64)


def test_bad_rule_keys_are_refused() -> None:
    with pytest.raises(ui.ParameterError, match="glob pattern"):
        ui.torch.initialize(nn.Linear(2, 2), {3: ui.Zeros()})  # type: ignore[dict-item]


# --- drop-ins: distributions vs torch.nn.init ---------------------------------------------

SHAPE = (256, 256)
DRAWS: list[tuple[str, dict[str, Any], tuple[int, ...]]] = [
    ("uniform_", {"a": -0.3, "b": 0.7}, SHAPE),
    ("normal_", {"mean": 0.5, "std": 2.0}, SHAPE),
    ("trunc_normal_", {}, SHAPE),
    ("trunc_normal_", {"mean": 0.1, "std": 0.02, "a": -0.01, "b": 0.2}, SHAPE),
    ("xavier_uniform_", {"gain": 2.0}, SHAPE),
    ("xavier_normal_", {}, (128, 64, 3, 3)),
    ("kaiming_uniform_", {}, SHAPE),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, (128, 64, 3, 3)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, (512, 128)),
    ("kaiming_normal_", {"a": 0.2, "mode": "FAN_IN"}, (512, 128)),
    ("orthogonal_", {"gain": 1.5}, (256, 128)),
    ("sparse_", {"sparsity": 0.25, "std": 0.5}, SHAPE),
]


@pytest.mark.parametrize(("name", "kwargs", "shape"), DRAWS, ids=lambda v: str(v) if isinstance(v, str) else "")
def test_drop_in_matches_torch_distribution(name: str, kwargs: dict[str, Any], shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    theirs = _values(getattr(reference, name)(torch.empty(shape), **kwargs))
    torch.manual_seed(1)
    mine = _values(getattr(ours, name)(torch.empty(shape), **kwargs))
    result = scipy_stats.ks_2samp(mine, theirs)
    assert result.pvalue > KS_ALPHA, (name, kwargs, result)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_normal_", "kaiming_uniform_", "orthogonal_", "sparse_"])
def test_global_generator_as_torch(name: str) -> None:
    kwargs: dict[str, Any] = {"sparsity": 0.5} if name == "sparse_" else {}
    fill: Callable[[], Any] = lambda: getattr(ours, name)(torch.empty(32, 16), **kwargs)  # noqa: E731
    torch.manual_seed(123)
    first, second = fill(), fill()
    after = torch.rand(4)
    torch.manual_seed(123)
    assert torch.equal(fill(), first)
    assert torch.equal(fill(), second)
    assert not torch.equal(first, second)  # each call advances the global generator
    assert torch.equal(torch.rand(4), after)  # and leaves it where the same calls leave it
    torch.manual_seed(123)
    assert not torch.equal(torch.rand(4), after)


def test_a_uniform_whose_lower_bound_rounds_outward_in_float32_is_torchs_to_the_bit() -> None:
    """torch's ``uniform_`` draws between its bounds rounded to float32, so ``float32(a)`` may come out where it lies
    below ``a``: seed 12 draws ``float32(−0.1)`` at index 411302 of 2²⁰, and ``kaiming_uniform_(a=√5)`` of a
    ``(65536, 1024)`` weight (``nn.Linear``'s own) drew ``float32(−1/32)`` 4 times; unit_init moved each to the next
    float32 up, where its docs promise torch's values bit for bit."""
    for fill, shape, kwargs in ((ours.uniform_, (1 << 20,), {"a": -0.1, "b": 0.1}), (ours.kaiming_uniform_, (65536, 1024), {"a": 5**0.5})):
        mine, generator = torch.empty(shape), torch.Generator().manual_seed(12 if fill is ours.uniform_ else 0)
        fill(mine, generator=generator, **kwargs)
        theirs, native = torch.empty(shape), torch.Generator().manual_seed(12 if fill is ours.uniform_ else 0)
        getattr(torch.nn.init, fill.__name__)(theirs, generator=native, **kwargs)
        assert torch.equal(mine, theirs), int((mine != theirs).sum())
        assert torch.equal(generator.get_state(), native.get_state())
    assert float(mine.min()) == -1 / 32  # float32(−1/32 less an ulp of float64), below the law's lower bound
    for low, high in ((1.0, 1.0 + 1e-10), (-1e-46, 1e-46)):  # bounds that round to one float32: torch still draws
        for dtype in (torch.float32, torch.complex64):
            mine, theirs = torch.empty(8, 8, dtype=dtype), torch.empty(8, 8, dtype=dtype)
            generator, native = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
            ours.uniform_(mine, low, high, generator=generator)
            torch.nn.init.uniform_(theirs, low, high, generator=native)
            assert torch.equal(generator.get_state(), native.get_state()), (low, high, dtype)
            mine, theirs = (torch.view_as_real(t) if t.is_complex() else t for t in (mine, theirs))
            assert torch.equal(mine, theirs)
            assert torch.equal(mine.signbit(), theirs.signbit())  # torch's −0.0 for (−1e-46, 1e-46)


@pytest.mark.parametrize(("name", "args"), [
    ("normal_", (0.3, 2.0)), ("kaiming_normal_", ()), ("xavier_normal_", ()), ("uniform_", (-1.0, 2.0)), ("kaiming_uniform_", ()),
    ("xavier_uniform_", ()),
])
def test_a_complex_tensor_gets_torchs_values_bit_for_bit(name: str, args: tuple[float, ...]) -> None:
    """torch draws a complex tensor's real and imaginary parts on its real view, each normal with half the variance
    (``E|z − mean(1+i)|² = std²``): a drop-in that gave each part the whole variance (2× torch's) passed every other
    test, complex uniforms alone being compared with torch's."""
    mine, theirs = torch.empty(512, 512, dtype=torch.complex64), torch.empty(512, 512, dtype=torch.complex64)
    getattr(ours, name)(mine, *args, generator=torch.Generator().manual_seed(0))
    getattr(torch.nn.init, name)(theirs, *args, generator=torch.Generator().manual_seed(0))
    assert torch.equal(mine, theirs)


@pytest.mark.parametrize("name", ["uniform_", "normal_", "kaiming_normal_", "orthogonal_", "sparse_"])
def test_explicit_generator_is_used_and_advances(name: str) -> None:
    kwargs: dict[str, Any] = {"sparsity": 0.5} if name == "sparse_" else {}
    a, b = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    torch.manual_seed(0)
    x = getattr(ours, name)(torch.empty(16, 8), generator=a, **kwargs)
    torch.manual_seed(1)  # the global generator plays no part (torch's sparse_ fails this)
    y = getattr(ours, name)(torch.empty(16, 8), generator=b, **kwargs)
    assert torch.equal(x, y)
    assert not torch.equal(getattr(ours, name)(torch.empty(16, 8), generator=a, **kwargs), x)


# --- drop-ins: gains, errors, warnings ------------------------------------------------------

TORCH_NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh", "relu", "selu"]


@pytest.mark.parametrize("name", TORCH_NONLINEARITIES)
def test_gain_table_is_torchs(name: str) -> None:
    """The same value and the same type (torch returns the int 1 for linear, conv* and sigmoid)."""
    theirs = reference.calculate_gain(name)
    assert ours.calculate_gain(name) == pytest.approx(theirs, rel=1e-15)
    assert type(ours.calculate_gain(name)) is type(theirs)


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.5])
def test_leaky_relu_gain_is_torchs(param: float | None) -> None:
    assert ours.calculate_gain("leaky_relu", param) == pytest.approx(reference.calculate_gain("leaky_relu", param), rel=1e-15)


@pytest.mark.parametrize(
    ("name", "param"), [("not_an_activation", None), ("leaky_relu", True), ("leaky_relu", "0.1"), ("leaky_relu", np.float32(0.2))]
)
def test_gain_errors_are_value_errors_as_in_torch(name: str, param: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        reference.calculate_gain(name, param)
    with pytest.raises(ValueError):  # noqa: PT011
        ours.calculate_gain(name, param)


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("xavier_uniform_", (5,)), ("xavier_normal_", ()), ("kaiming_uniform_", (5,)), ("kaiming_normal_", (3,)),
        ("orthogonal_", (4,)), ("eye_", (2, 2, 2)), ("dirac_", (3, 3)), ("dirac_", (1, 1, 1, 1, 1, 1)), ("sparse_", (4, 4, 4)),
    ],
)
def test_rank_errors_match_torch(name: str, shape: tuple[int, ...]) -> None:
    args = (0.5,) if name == "sparse_" else ()
    with pytest.raises(ValueError):  # noqa: PT011
        getattr(reference, name)(torch.empty(shape), *args)
    with pytest.raises(ValueError):  # noqa: PT011
        getattr(ours, name)(torch.empty(shape), *args)


@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_zero_element_warning_as_torch(name: str) -> None:
    for module in (reference, ours):
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op") as caught:
            assert getattr(module, name)(torch.empty(0, 3)).shape == (0, 3)
        assert caught[0].filename == __file__  # the caller's line, as torch's


def test_bad_kaiming_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="fan_avg"):
        ours.kaiming_uniform_(torch.empty(3, 3), mode="fan_avg")


def test_fans_helper_matches_torch() -> None:
    for shape in [(3, 5), (8, 4, 3, 3), (2, 6, 5)]:
        assert ours._calculate_fan_in_and_fan_out(torch.empty(shape)) == reference._calculate_fan_in_and_fan_out(torch.empty(shape))


# --- drop-ins: structure -------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 4, 3, 3)])
def test_orthogonal_rows_or_columns_are_orthonormal(shape: tuple[int, ...]) -> None:
    q = ours.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=2.0).reshape(shape[0], -1)
    small = q @ q.T if q.shape[0] <= q.shape[1] else q.T @ q
    torch.testing.assert_close(small, 4.0 * torch.eye(small.shape[0], dtype=torch.float64))


@pytest.mark.parametrize(("dims", "groups", "out", "inp"), [(1, 1, 4, 4), (2, 1, 6, 6), (3, 1, 3, 3), (1, 2, 4, 2), (2, 2, 6, 3), (3, 3, 6, 2), (2, 2, 8, 2)])
def test_dirac_is_the_identity_convolution(dims: int, groups: int, out: int, inp: int) -> None:
    kernel = (3,) * dims
    mine = ours.dirac_(torch.empty(out, inp, *kernel), groups=groups)
    theirs = reference.dirac_(torch.empty(out, inp, *kernel), groups=groups)
    assert torch.equal(mine, theirs)
    conv = getattr(torch.nn.functional, f"conv{dims}d")
    x = torch.randn(2, inp * groups, *(5,) * dims)
    y = conv(x, mine, padding=1, groups=groups)
    per_group = out // groups
    for g in range(groups):  # each group's first min(per_group, inp) outputs copy its inputs
        k = min(per_group, inp)
        torch.testing.assert_close(y[:, g * per_group : g * per_group + k], x[:, g * inp : g * inp + k])


def test_dirac_groups_must_divide_the_out_channels() -> None:
    with pytest.raises(ValueError, match="divisible"):
        ours.dirac_(torch.empty(5, 2, 3), groups=2)


@pytest.mark.parametrize(("rows", "sparsity"), [(10, 0.1), (10, 0.25), (37, 0.5), (64, 0.9), (8, 0.0), (8, 1.0)])
def test_sparse_zeroes_exactly_ceil_sparsity_rows_per_column(rows: int, sparsity: float) -> None:
    w = ours.sparse_(torch.empty(rows, 50), sparsity, std=1.0)
    counts = (w == 0).sum(dim=0)
    assert torch.equal(counts, torch.full((50,), math.ceil(sparsity * rows)))


def test_bf16_trunc_normal_stays_inside_its_bounds() -> None:
    a, b = -0.04, 0.04
    w = _values(ours.trunc_normal_(torch.empty(1 << 20, dtype=torch.bfloat16), std=0.02, a=a, b=b))
    assert w.min() >= a
    assert w.max() <= b
    at_bounds = np.mean(np.abs(w) >= float(torch.tensor(b, dtype=torch.bfloat16)))
    assert at_bounds < 1e-3  # rounding only: no pile-up at the bounds


def test_drop_ins_keep_dtype_and_record_no_history() -> None:
    weight = nn.Parameter(torch.empty(16, 8, dtype=torch.float16))
    ours.kaiming_uniform_(weight)
    assert weight.dtype == torch.float16
    assert weight.grad_fn is None
    assert weight.requires_grad
    assert ours.constant_(torch.empty(2, 2, dtype=torch.int32), 3).tolist() == [[3, 3], [3, 3]]
    assert ours.eye_(torch.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    assert ours.ones_(torch.empty(2)).tolist() == [1, 1]
    assert ours.zeros_(torch.empty(2)).tolist() == [0, 0]


class _OwnedBack(torch.nn.Module):
    """A layer that holds its owner (``self.fc.owner = self``): torch's ``named_modules(remove_duplicate=False)`` recurses forever."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 4)
        self.fc.owner = self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc(x))


def test_a_module_that_holds_its_owner_is_walked_once() -> None:
    report = ours.initialize(_OwnedBack(), {"*weight": ui.HeNormal(), "*bias": ui.Zeros()}, seed=0).report
    assert dict(report.applied) == {"fc.weight": 0, "fc.bias": 1}
    assert ours.diagnose(_OwnedBack(), torch.randn(8, 4)).layers == ("fc",)  # the Linear is still a leaf
    assert ours.lsuv(_OwnedBack(), torch.randn(64, 4), seed=0).report.converged  # its tie check walks every path, once


@pytest.mark.parametrize(
    "call",
    [
        lambda t: ours.init_(t, ui.HeNormal(), seed=10**5000, generator=torch.Generator()),
        lambda t: ours.normal_(t, generator="x" * 10**6),
        lambda t: ours.kaiming_normal_(t, mode="x" * 10**6),
        lambda t: ours.uniform_(t, a=10**5000, b=0),
    ],
)
def test_huge_arguments_are_quoted_abbreviated(call: Callable[[torch.Tensor], Any]) -> None:
    with pytest.raises(ui.UnitInitError) as raised:
        call(torch.empty(3, 4))
    assert len(str(raised.value)) < 1000


def test_a_large_truncated_draw_on_the_cpu_stays_there_under_another_default_device() -> None:
    """The truncated normal's uniform from 64-bit words (2**16 values and more) is allocated on the requested device."""
    with torch.device("meta"):
        weight = ui.he_normal((512, 512), backend="torch", device="cpu", seed=0)
        linear = torch.nn.Linear(512, 512, device="cpu")
        ours.initialize(linear, {"weight": ui.HeNormal()}, seed=0)
    assert weight.device.type == "cpu"
    assert bool(torch.isfinite(weight).all())
    assert linear.weight.device.type == "cpu"
    assert float(linear.weight.detach().std()) > 0


class Conv1D(torch.nn.Module):
    """Hugging Face's ``transformers.pytorch_utils.Conv1D`` as it is written there (GPT-2's linear layers): the weight
    stored ``(nx, nf) = (in, out)``, ``forward = x @ weight + bias``. Not imported: transformers is no test dependency."""

    def __init__(self, nf: int, nx: int) -> None:
        super().__init__()
        self.nf = nf
        self.weight = torch.nn.Parameter(torch.empty(nx, nf))
        self.bias = torch.nn.Parameter(torch.zeros(nf))


Conv1D.__module__ = "transformers.pytorch_utils"


def test_hugging_faces_conv1d_weights_are_read_in_out() -> None:
    """GPT-2's ``Conv1D`` stores ``(in, out)``: read as ``nn.Linear``'s ``(out, in)``, every fan-scaled rule took its out
    features for fan_in (c_proj ``(1024, 256)``: fan_in 256 where it is 1024, a std twice too large), and its bias's
    ``U(±1/√fan_in)`` followed; ``mup_rules`` read the same fans."""
    class Projection(Conv1D):  # a model's own subclass of it
        pass

    model = torch.nn.ModuleDict({"c_proj": Conv1D(nf=64, nx=1024), "plain": torch.nn.Linear(1024, 64), "sub": Projection(nf=64, nx=1024)})
    ours.initialize(model, {"*.weight": ui.VarianceScaling(2.0, "fan_in", "untruncated_normal"), "*.bias": ui.HeUniform()}, seed=0)
    for name in ("c_proj", "plain", "sub"):  # 65,536 values each: a std within 2 % (fan_in 64 would be 4× too large)
        assert float(model[name].weight.detach().std()) == pytest.approx(math.sqrt(2 / 1024), rel=0.02), name
        assert float(model[name].bias.detach().abs().max()) <= math.sqrt(6 / 1024), name  # the weight's fan_in
    base, target = torch.nn.ModuleDict({"c_fc": Conv1D(nf=128, nx=32)}), torch.nn.ModuleDict({"c_fc": Conv1D(nf=512, nx=128)})
    ours.initialize(target, ui.mup_rules(base, target), seed=0)  # hidden: Var = (1 / base fan_in 32) / m, m = 4
    assert float(target["c_fc"].weight.detach().std()) == pytest.approx(math.sqrt(1 / 128), rel=0.02)


def test_the_weight_layout_follows_the_parameter_not_only_its_last_name() -> None:
    """Review of the raw-parameter rule: a weight with a parametrization that has no ``right_inverse`` is stored as
    ``….parametrizations.weight.original`` (it lost torch's layout: fan_in 1024 for a Linear(64, 1024)); ``bias_k``
    of ``nn.MultiheadAttention`` is torch.nn's own (xavier on it is torch's); integer and bool parameters cannot
    require grad, so they are never frozen."""

    class Doubled(torch.nn.Module):
        def forward(self, weight: torch.Tensor) -> torch.Tensor:
            return weight * 2

    linear = torch.nn.Linear(64, 1024)
    torch.nn.utils.parametrize.register_parametrization(linear, "weight", Doubled())
    ours.initialize(linear, {"*weight*": ui.VarianceScaling(2.0, "fan_in", "untruncated_normal")}, seed=0)
    assert float(linear.parametrizations.weight.original.detach().std()) == pytest.approx(math.sqrt(2 / 64), rel=0.02)
    attention = torch.nn.MultiheadAttention(4096, 1, add_bias_kv=True)
    ours.initialize(attention, {"bias_k": ui.XavierNormal()}, seed=0)  # torch's fans of (1, 1, E): E and E
    assert float(attention.bias_k.detach().std()) == pytest.approx(math.sqrt(1 / 4096), rel=0.05)
    holder = torch.nn.Module()
    holder.count = torch.nn.Parameter(torch.tensor([3, 4]), requires_grad=False)
    _, report = ours.initialize(holder, {"count": ui.Zeros()}, seed=0)
    assert holder.count.tolist() == [0, 0]
    assert report.skipped == ()


def test_a_rule_that_reaches_only_frozen_or_skipped_parameters_is_not_warned_about() -> None:
    import warnings

    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
    model.requires_grad_(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "matched no parameter" would raise
        _, report = ours.initialize(model, {"0.*": ui.HeNormal(), torch.nn.Linear: ui.Zeros()}, seed=0, skip=["1.bias"])
    assert set(report.skipped) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    with pytest.warns(UserWarning, match="rule 'nothing.*' matched no parameter"):
        ours.initialize(model, {"nothing.*": ui.HeNormal()}, seed=0)


def test_skip_given_as_a_generator_is_honoured() -> None:
    """A one-shot iterable (``skip=(k for k in state_dict if …)``) was read by the lazy-module check first, so the plan
    saw it empty and overwrote the parameters meant to be kept."""
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4))
    kept = net[0].weight.detach().clone()
    _, report = ours.initialize(net, {"*": ui.Zeros()}, seed=0, skip=(name for name in ("0.weight", "0.bias")))
    assert report.skipped == ("0.weight", "0.bias")
    assert torch.equal(net[0].weight, kept)
    assert not net[1].weight.detach().any()


def test_a_call_refused_by_the_parametrization_check_takes_no_seed_from_the_global_stream() -> None:
    """The check tries ``right_inverse`` on the values drawn, so it runs after the seeds are derived: the root seed it
    took from the global stream was kept although nothing was written."""

    class Exp(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.exp()

        def right_inverse(self, y: torch.Tensor) -> torch.Tensor:
            return y.log()  # NaN for the negative values a normal draws

    bad = torch.nn.Linear(4, 4)
    torch.nn.utils.parametrize.register_parametrization(bad, "weight", Exp())
    ui.set_seed(0)
    expected = ui.he_normal((4, 4), seed=None)
    ui.set_seed(0)
    with pytest.raises(ui.ParameterError):
        ours.initialize(bad, {"weight": ui.HeNormal()}, seed=None)
    np.testing.assert_array_equal(ui.he_normal((4, 4), seed=None), expected)


@pytest.mark.parametrize("raised", [TypeError, KeyError, AssertionError, RuntimeError, ValueError])
def test_a_right_inverse_that_raises_on_the_weights_own_value_is_a_parameter_error(raised: type[Exception]) -> None:
    """A ``right_inverse`` that raised on the weight as it is escaped untyped (``TypeError``, ``KeyError``,
    ``AssertionError``), or sent the weight quietly to its stored original, which ``*.kernel`` then missed
    (``RuntimeError``, ``ValueError``) while the bias was written. ``NotImplementedError`` (torch's own way of saying
    a parametrization has none: the Cayley map's) keeps that fallback."""

    class Refusing(torch.nn.Module):
        armed = False  # torch's register_parametrization calls right_inverse once itself

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

        def right_inverse(self, y: torch.Tensor) -> torch.Tensor:
            if self.armed:
                raise raised("nope")
            return y

    layer, refusing = torch.nn.Linear(16, 16), Refusing()
    torch.nn.utils.parametrize.register_parametrization(layer, "weight", refusing)
    refusing.armed = True
    before = {name: tensor.detach().clone() for name, tensor in layer.state_dict().items()}
    with pytest.raises(ui.ParameterError, match=rf"the right_inverse of Refusing raised {raised.__name__} .* on its own current value"):
        ours.initialize(layer, {"*.kernel": ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    assert all(torch.equal(tensor, before[name]) for name, tensor in layer.state_dict().items())  # untouched
    for rules, options in (({"*.bias": ui.Zeros()}, {}), ({"*.kernel": ui.HeNormal(), "*.bias": ui.Zeros()}, {"skip": ["weight"]})):
        _, report = ours.initialize(layer, rules, seed=0, **options)  # a weight no rule reaches is left as it is
        assert list(report.applied) == ["bias"]
    cayley = torch.nn.utils.parametrizations.orthogonal(torch.nn.Linear(8, 8), orthogonal_map="cayley", use_trivialization=False)
    _, report = ours.initialize(cayley, {"*.original": ui.Orthogonal()}, seed=0)
    assert report.applied == {"parametrizations.weight.original": 0}


def test_the_parametrization_check_holds_no_lock_other_threads_draw_with() -> None:
    """A first version held the global stream's lock while the check ran the user's ``right_inverse``: a thread it
    waited for, drawing unseeded, waited for the lock in turn (a deadlock; 3 s here, by the timeout)."""
    import threading

    finished: list[bool] = []

    class Doubled(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

        def right_inverse(self, y: torch.Tensor) -> torch.Tensor:
            worker = threading.Thread(target=lambda: ui.he_normal((4, 4), seed=None))
            worker.start()
            worker.join(timeout=3)
            finished.append(not worker.is_alive())
            return y / 2

    layer = torch.nn.Linear(4, 4)
    torch.nn.utils.parametrize.register_parametrization(layer, "weight", Doubled())
    finished.clear()
    ours.initialize(layer, {"weight": ui.HeNormal()}, seed=None)
    assert finished
    assert all(finished)
