"""``unit_init.torch`` against ``torch.nn.init`` itself: the same names, errors, laws and (where promised) values.

PyTorch's own test file for ``torch.nn.init`` is not in the torch wheel and is
not copied here; the behaviours it checks are checked here in our own words
(``calculate_gain`` and the zero-element warnings in tests/test_adapter_torch.py),
plus what it does not: every deprecated alias, the exception types, complex
tensors, trunc_normal_ on narrow, one-sided and far-tail intervals, meta and
zero-size tensors, and the bit-identical values the module promises.
"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats

torch = pytest.importorskip("torch")
import torch.nn.init as reference  # noqa: E402

import unit_init.torch as ours  # noqa: E402
from unit_init.errors import UnitInitError  # noqa: E402

N_SIDE = 256  # 256 x 256 = 65536 values per sample
ALPHA = 1e-4

DEPRECATED = sorted(
    name for name in dir(reference)
    if not name.startswith("_") and f"{name}_" in dir(reference) and callable(getattr(reference, name))
)


def _values(tensor: Any) -> np.ndarray:
    return tensor.detach().double().flatten().numpy()


def _same_law(a: np.ndarray, b: np.ndarray) -> None:
    result = scipy.stats.ks_2samp(a, b)
    assert result.pvalue > ALPHA, f"two-sample KS p={result.pvalue:.2g} (statistic {result.statistic:.4f})"


def test_every_public_torch_name_is_here() -> None:
    public = {name for name, value in vars(reference).items() if inspect.isfunction(value) and not name.startswith("_")}
    public.discard("deprecated_init")
    assert public <= set(ours.__all__)
    assert {"_calculate_fan_in_and_fan_out", "_calculate_correct_fan"} <= set(ours.__all__)


def test_the_deprecated_names_are_torchs_eleven() -> None:
    assert DEPRECATED == [
        "constant", "dirac", "eye", "kaiming_normal", "kaiming_uniform", "normal", "orthogonal", "sparse",
        "uniform", "xavier_normal", "xavier_uniform",
    ]


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecated_alias_warns_like_torch_and_fills_like_the_new_name(name: str) -> None:
    args: tuple[Any, ...] = {"constant": (0.5,), "sparse": (0.3,)}.get(name, ())
    shape = (4, 2, 3) if name == "dirac" else (6, 6)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        getattr(reference, name)(torch.empty(shape), *args)
    torch.manual_seed(3)
    with pytest.warns(FutureWarning) as caught:
        old = getattr(ours, name)(torch.empty(shape), *args)
    assert [str(w.message) for w in caught] == [str(w.message) for w in theirs]
    assert caught[0].filename == __file__  # stacklevel points at the caller, as torch's
    torch.manual_seed(3)
    assert torch.equal(old, getattr(ours, f"{name}_")(torch.empty(shape), *args))


# --- errors: torch's type, and a UnitInitError --------------------------------------------------------------

ERRORS: list[tuple[str, Callable[[Any], Any], type[Exception]]] = [
    ("uniform_ a > b", lambda m: m.uniform_(torch.empty(3), 2.0, 1.0), RuntimeError),
    ("uniform_ infinite bound", lambda m: m.uniform_(torch.empty(3), 0.0, math.inf), RuntimeError),
    ("normal_ negative std", lambda m: m.normal_(torch.empty(3), 0.0, -1.0), RuntimeError),
    ("trunc_normal_ a > b", lambda m: m.trunc_normal_(torch.empty(3), a=1.5, b=1.0), RuntimeError),
    ("xavier_uniform_ negative gain", lambda m: m.xavier_uniform_(torch.empty(3, 3), gain=-1.0), RuntimeError),
    ("normal_ on int32", lambda m: m.normal_(torch.empty(3, dtype=torch.int32)), NotImplementedError),
    ("uniform_ on bool", lambda m: m.uniform_(torch.empty(3, dtype=torch.bool)), NotImplementedError),
    ("kaiming_uniform_ on int64", lambda m: m.kaiming_uniform_(torch.empty(3, 3, dtype=torch.int64)), NotImplementedError),
    ("trunc_normal_ on int32", lambda m: m.trunc_normal_(torch.empty(3, dtype=torch.int32)), NotImplementedError),
    ("trunc_normal_ on complex", lambda m: m.trunc_normal_(torch.empty(3, dtype=torch.complex64)), NotImplementedError),
    ("orthogonal_ on complex", lambda m: m.orthogonal_(torch.empty(3, 3, dtype=torch.complex64)), NotImplementedError),
    ("orthogonal_ on 1-D", lambda m: m.orthogonal_(torch.empty(3)), ValueError),
    ("eye_ on 3-D", lambda m: m.eye_(torch.empty(2, 2, 2)), ValueError),
    ("dirac_ on 2-D", lambda m: m.dirac_(torch.empty(2, 2)), ValueError),
    ("dirac_ groups not dividing", lambda m: m.dirac_(torch.empty(4, 3, 3), 3), ValueError),
    ("sparse_ on 3-D", lambda m: m.sparse_(torch.empty(2, 2, 2), 0.5), ValueError),
    ("xavier_normal_ on 1-D", lambda m: m.xavier_normal_(torch.empty(3)), ValueError),
    ("kaiming_normal_ bad mode", lambda m: m.kaiming_normal_(torch.empty(3, 3), mode="fan_avg"), ValueError),
    ("_calculate_correct_fan mode None", lambda m: m._calculate_correct_fan(torch.empty(3, 3), None), AttributeError),
    ("_calculate_correct_fan bad mode", lambda m: m._calculate_correct_fan(torch.empty(3, 3), "fan_avg"), ValueError),
    ("kaiming_normal_ bad nonlinearity", lambda m: m.kaiming_normal_(torch.empty(3, 3), nonlinearity="softmax"), ValueError),
    ("calculate_gain bad param", lambda m: m.calculate_gain("leaky_relu", True), ValueError),
    ("calculate_gain slope whose square overflows", lambda m: m.calculate_gain("leaky_relu", 1e308), OverflowError),
    ("kaiming_uniform_ slope whose square overflows", lambda m: m.kaiming_uniform_(torch.empty(3, 3), a=1e308), OverflowError),
    ("calculate_gain unknown name", lambda m: m.calculate_gain("softmax"), ValueError),
    ("generator not a Generator", lambda m: m.uniform_(torch.empty(3), generator=3), TypeError),
    ("misspelt keyword", lambda m: m.normal_(torch.empty(3), sdt=1.0), TypeError),
]


def test_a_misspelt_keyword_names_the_closest_one() -> None:
    """Python's bare TypeError (torch's) gave no hint; the ArgumentError is torch's type and names what is accepted."""
    with pytest.raises(TypeError, match=r"accepted: generator, mean, std, tensor\. Did you mean 'std'\?"):
        ours.normal_(torch.empty(3), sdt=1.0)


@pytest.mark.parametrize(("call", "kind"), [(e[1], e[2]) for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_have_torchs_type_and_are_unit_init_errors(call: Callable[[Any], Any], kind: type[Exception]) -> None:
    with pytest.raises(kind):
        call(reference)
    with pytest.raises(kind) as caught:
        call(ours)
    assert isinstance(caught.value, UnitInitError)


@pytest.mark.parametrize("slope", [math.nan, math.inf, -math.inf])
def test_calculate_gain_gives_torchs_value_where_only_unit_init_refuses(slope: float) -> None:
    """A non-finite leaky_relu slope is refused by unit_init's spec layer; the drop-in returns torch's nan or 0 instead."""
    np.testing.assert_equal(ours.calculate_gain("leaky_relu", slope), reference.calculate_gain("leaky_relu", slope))


def test_massless_trunc_normal_interval_fills_as_torch() -> None:
    """Beyond unit_init's sampler (no float64 mass), the drop-in does what torch does: values in [a, b], torch's warning."""
    with pytest.warns(UserWarning, match="more than 2 std"):
        values = ours.trunc_normal_(torch.empty(3), a=40.0, b=41.0)
    assert bool(((values >= 40.0) & (values <= 41.0)).all())


CONSTANT_FILLS: list[tuple[str, dict[str, Any], tuple[Any, ...]]] = [
    ("trunc_normal_", {"a": 1.0, "b": 1.0}, (torch.float32, torch.float64)),
    ("constant_", {"val": -math.inf}, (torch.float32, torch.complex64)),
    ("constant_", {"val": 2.5}, (torch.int32, torch.bool)),
    ("constant_", {"val": 1 - 2j}, (torch.complex64,)),
    ("ones_", {}, (torch.float16, torch.int32, torch.bool, torch.complex64)),
    ("zeros_", {}, (torch.bfloat16, torch.int64, torch.bool, torch.complex128)),
]


@pytest.mark.parametrize(("name", "args", "dtypes"), CONSTANT_FILLS, ids=[f"{f[0]}-{f[1]}" for f in CONSTANT_FILLS])
def test_constant_fills_follow_torch_for_every_value_and_dtype(name: str, args: dict[str, Any], dtypes: tuple[Any, ...]) -> None:
    for dtype in dtypes:
        mine, theirs = (getattr(m, name)(torch.empty(5, dtype=dtype), **args) for m in (ours, reference))
        assert mine.dtype == dtype
        assert torch.equal(mine, theirs)


# --- trunc_normal_ on any interval with positive mass ------------------------------------------------------

INTERVALS = [(0.0, 0.01), (2.0, 3.0), (3.0, math.inf), (6.0, 7.0), (-math.inf, -5.0)]


@pytest.mark.parametrize("interval", INTERVALS, ids=str)
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64], ids=str)
def test_trunc_normal_draws_narrow_one_sided_and_far_tail_intervals(dtype: Any, interval: tuple[float, float]) -> None:
    low, high = interval
    mean, std = 1.0, 0.5
    a, b = mean + std * low, mean + std * high
    t = ours.trunc_normal_(torch.empty(1 << 16, dtype=dtype), mean, std, a, b, generator=torch.Generator().manual_seed(0))
    x = _values(t)
    assert np.isfinite(x).all()
    assert x.min() >= a
    assert x.max() <= b
    if dtype != torch.float16:  # float16 has ~90 values in [2, 3]σ: a stepped sample; its support is checked above
        statistic = scipy.stats.kstest((x - mean) / std, scipy.stats.truncnorm(low, high).cdf).statistic
        assert statistic <= scipy.stats.kstwo.isf(ALPHA, x.size)


def test_trunc_normal_piles_nothing_on_bfloat16_bounds() -> None:
    t = ours.trunc_normal_(torch.empty(1 << 20, dtype=torch.bfloat16), std=0.02, a=-0.04, b=0.04)
    assert int((t == t.min()).sum()) < 1 << 12
    assert float(t.abs().max()) <= 0.04


# --- complex tensors: torch's law ---------------------------------------------------------------------------

COMPLEX = [
    ("normal_", {"mean": 0.5, "std": 2.0}),
    ("uniform_", {"a": -1.0, "b": 3.0}),
    ("xavier_normal_", {"gain": 1.5}),
    ("xavier_uniform_", {}),
    ("kaiming_normal_", {"nonlinearity": "relu"}),
    ("kaiming_uniform_", {"mode": "fan_out"}),
]


@pytest.mark.parametrize(("name", "kwargs"), COMPLEX, ids=[c[0] for c in COMPLEX])
def test_complex_tensors_get_torchs_law_in_each_part(name: str, kwargs: dict[str, Any]) -> None:
    shape = (N_SIDE, N_SIDE // 2)
    torch.manual_seed(11)
    theirs = getattr(reference, name)(torch.empty(shape, dtype=torch.complex64), **kwargs)
    torch.manual_seed(12)
    mine = getattr(ours, name)(torch.empty(shape, dtype=torch.complex64), **kwargs)
    assert mine.dtype == torch.complex64
    for part in ("real", "imag"):
        _same_law(_values(getattr(mine, part)), _values(getattr(theirs, part)))
    assert abs(np.corrcoef(_values(mine.real), _values(mine.imag))[0, 1]) < 5 / N_SIDE * math.sqrt(2)


def test_complex_normal_has_half_the_variance_in_each_part() -> None:
    t = ours.normal_(torch.empty(N_SIDE, N_SIDE, dtype=torch.complex128), std=2.0)
    for part in (t.real, t.imag):
        variance = float(part.var())
        assert abs(variance - 2.0) < 5 * 2.0 * math.sqrt(2 / t.numel())


def test_complex_sparse_zeroes_both_parts_at_the_same_places() -> None:
    t = ours.sparse_(torch.empty(20, 50, dtype=torch.complex64), sparsity=0.3, std=1.0)
    zeros = t == 0
    assert zeros.sum(dim=0).tolist() == [6] * 50
    assert torch.equal(t.real == 0, zeros)
    assert torch.equal(t.imag == 0, zeros)
    torch.manual_seed(0)
    wide = ours.sparse_(torch.empty(200, 500, dtype=torch.complex64), sparsity=0.3, std=2.0)  # 70,000 values kept
    kept = wide[wide != 0]
    for part in (kept.real, kept.imag):  # E|w|² = std², half of it in each part, as torch's complex normal_ gives
        tolerance = 5 * math.sqrt(2 / part.numel()) * 2.0
        assert abs(float(part.double().var()) - 2.0) < tolerance


@pytest.mark.parametrize("name", ["eye_", "dirac_"])
def test_complex_identities_are_real(name: str) -> None:
    shape = (4, 4) if name == "eye_" else (4, 2, 3)
    mine, theirs = (getattr(m, name)(torch.empty(shape, dtype=torch.complex64)) for m in (ours, reference))
    assert torch.equal(mine, theirs)


# --- meta, zero-size, history, values ----------------------------------------------------------------------

FILLS: list[tuple[str, tuple[Any, ...]]] = [
    ("uniform_", ()), ("normal_", ()), ("trunc_normal_", ()), ("xavier_uniform_", ()), ("xavier_normal_", ()),
    ("kaiming_uniform_", ()), ("kaiming_normal_", ()), ("orthogonal_", ()), ("sparse_", (0.5,)), ("eye_", ()),
    ("constant_", (2.0,)), ("ones_", ()), ("zeros_", ()),
]


@pytest.mark.parametrize(("name", "args"), FILLS, ids=[f[0] for f in FILLS])
def test_meta_tensors_are_left_alone_and_returned(name: str, args: tuple[Any, ...]) -> None:
    t = torch.empty(6, 4, device="meta")
    assert getattr(ours, name)(t, *args) is t


@pytest.mark.parametrize(("name", "args"), FILLS, ids=[f[0] for f in FILLS])
def test_parameters_are_filled_without_history(name: str, args: tuple[Any, ...]) -> None:
    p = torch.nn.Parameter(torch.zeros(6, 4))
    out = getattr(ours, name)(p, *args)
    assert out is p
    assert p.requires_grad
    assert p.grad_fn is None


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_normal_", "orthogonal_"])
def test_zero_size_tensors_are_a_no_op(name: str) -> None:
    t = torch.empty(0, 3)
    assert getattr(ours, name)(t) is t


BIT_IDENTICAL = [
    (name, dtype, shape)
    for name, dtypes in [
        ("normal_", (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128)),
        ("xavier_normal_", (torch.float32, torch.float64, torch.bfloat16, torch.complex64, torch.complex128)),
        ("kaiming_normal_", (torch.float32, torch.float64, torch.float16, torch.complex64, torch.complex128)),
        ("uniform_", (torch.float32, torch.float64, torch.complex64)),
        ("xavier_uniform_", (torch.float32, torch.float64, torch.complex64, torch.complex128)),
        ("kaiming_uniform_", (torch.float32, torch.float64, torch.complex64, torch.complex128)),
    ]
    for dtype in dtypes
    for shape in ((64, 32), (16, 8, 3, 3), (10, 3), (7, 3, 3))  # numel 30, 63: torch's float16/bfloat16 normals reorder
] + [("orthogonal_", dtype, shape) for dtype in (torch.float32, torch.float64) for shape in ((64, 32), (48, 4, 2), (9, 8))]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("uniform_", {"a": 0.5, "b": 0.5}), ("xavier_uniform_", {"gain": 0.0}), ("xavier_normal_", {"gain": 0.0}),
     ("trunc_normal_", {"a": 0.5, "b": 0.5}), ("normal_", {"std": 0.0})],
    ids=str,
)
def test_a_law_of_one_value_advances_the_global_generator_as_torchs(name: str, kwargs: dict[str, Any]) -> None:
    """torch draws, and discards, its random numbers for a law of one value: later draws depend on it."""
    torch.manual_seed(5)
    theirs, after = getattr(reference, name)(torch.empty(10, 3), **kwargs), torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(getattr(ours, name)(torch.empty(10, 3), **kwargs), theirs)
    assert torch.equal(torch.rand(3), after)


@pytest.mark.parametrize("shape", [(8, 8), (32, 64), (8, 16, 3)])
def test_orthogonal_of_a_square_or_wide_matrix_has_torchs_law_not_its_values(shape: tuple[int, ...]) -> None:
    torch.manual_seed(5)
    theirs = reference.orthogonal_(torch.empty(shape))
    torch.manual_seed(5)
    mine = ours.orthogonal_(torch.empty(shape))
    assert not torch.equal(mine, theirs)
    flat = mine.reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    assert torch.allclose(gram, torch.eye(small), atol=1e-5)


@pytest.mark.parametrize(("name", "dtype", "shape"), BIT_IDENTICAL, ids=str)
def test_values_are_bit_identical_to_torch_where_the_docs_say_so(name: str, dtype: Any, shape: tuple[int, ...]) -> None:
    torch.manual_seed(5)
    theirs, after = getattr(reference, name)(torch.empty(shape, dtype=dtype)), torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(getattr(ours, name)(torch.empty(shape, dtype=dtype)), theirs)
    assert torch.equal(torch.rand(3), after)  # the global generator is left where torch leaves it


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex128], ids=str)
@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("kaiming_normal_", {}), ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
     ("kaiming_uniform_", {"a": math.sqrt(5)}), ("xavier_normal_", {"gain": 5 / 3}), ("xavier_uniform_", {"gain": math.sqrt(2)})],
    ids=str,
)
def test_fan_scaled_drop_ins_compute_the_std_as_torch(name: str, kwargs: dict[str, Any], dtype: Any) -> None:
    """``gain/√fan``, not ``√(gain²/fan)``: float64 values differed from torch's in their last bit (968 of 975 at 39×25)."""
    for shape in ((39, 25), (100, 200), (64, 3, 3, 3)):
        torch.manual_seed(5)
        theirs = getattr(reference, name)(torch.empty(shape, dtype=dtype), **kwargs)
        torch.manual_seed(5)
        assert torch.equal(getattr(ours, name)(torch.empty(shape, dtype=dtype), **kwargs), theirs), shape


VIEWS: dict[str, Callable[[], torch.Tensor]] = {
    "transposed": lambda: torch.empty(64, 33).t(),
    "channels_last": lambda: torch.empty(8, 3, 5, 5).to(memory_format=torch.channels_last),
    "channels_last_3d": lambda: torch.empty(4, 3, 2, 5, 5).to(memory_format=torch.channels_last_3d),
    "permuted": lambda: torch.empty(5, 6, 7).permute(2, 0, 1),
    "stepped": lambda: torch.empty(40, 40)[:, ::2],
    "bfloat16_transposed": lambda: torch.empty(30, 17, dtype=torch.bfloat16).t(),
    "complex64_transposed": lambda: torch.empty(12, 7, dtype=torch.complex64).t(),  # torch draws view_as_real of it in memory order
    "complex128_permuted": lambda: torch.empty(3, 4, 5, dtype=torch.complex128).permute(2, 0, 1),
    "complex64_stepped": lambda: torch.empty(9, 10, dtype=torch.complex64)[:, ::2],
}


@pytest.mark.parametrize(
    ("name", "view"),
    [  # a bfloat16 uniform is confined to [a, b) on its grid, which torch's is not (docs/adapters/torch.md)
        (name, view) for name in ["uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
        for view in VIEWS if not (view.startswith("bfloat16") and "uniform" in name)
    ],
)
def test_a_view_stored_in_another_order_gets_torchs_values(name: str, view: str) -> None:
    """torch fills a transposed, channels_last or stepped tensor in memory order (a normal law element by element):
    the drop-ins draw in that order too, so the values and the generator's state after are torch's."""
    torch.manual_seed(5)
    theirs, after = getattr(reference, name)(VIEWS[view]()), torch.rand(3)
    torch.manual_seed(5)
    mine = getattr(ours, name)(VIEWS[view]())
    assert torch.equal(mine, theirs)
    assert mine.stride() == theirs.stride()
    assert torch.equal(torch.rand(3), after)


@pytest.mark.parametrize(
    "make",
    [*(VIEWS[view] for view in VIEWS if not view.startswith("complex")),
     lambda: torch.empty(1000, dtype=torch.bfloat16), lambda: torch.empty(37, dtype=torch.float16)],
    ids=[*(view for view in VIEWS if not view.startswith("complex")), "bfloat16_1000", "float16_37"],
)
def test_trunc_normal_of_std_0_02_is_torchs_also_in_memory_order_and_half_precision(make: Callable[[], torch.Tensor]) -> None:
    """``trunc_normal_(std=0.02)`` (±100σ) is torch's ``normal_`` of the tensor: on a view stored in another order, and
    on a float16/bfloat16 tensor whose size is no multiple of 16, in torch's order too (they were drawn contiguously)."""
    torch.manual_seed(5)
    theirs, after = reference.trunc_normal_(make(), std=0.02), torch.rand(3)
    torch.manual_seed(5)
    assert torch.equal(ours.trunc_normal_(make(), std=0.02), theirs)
    assert torch.equal(torch.rand(3), after)


@pytest.mark.parametrize(
    "make",
    [lambda: torch.empty(2048, 2048), lambda: torch.empty(2048, 2048).t(), lambda: torch.empty(2048, 2048, dtype=torch.bfloat16)],
    ids=["contiguous", "transposed", "bfloat16"],
)
def test_trunc_normal_redraws_what_falls_outside_as_torch(make: Callable[[], torch.Tensor]) -> None:
    """±5σ, which ``erf`` does not resolve: values outside are drawn again from ``normal_`` draws of the whole tensor,
    as torch's ``trunc_normal_`` does (1 to 4 of the first draw's 4M values here), so the values and the generator after
    are torch's on any tensor (a contiguous one re-drew only the values outside: 7 values and the generator
    differed)."""
    torch.manual_seed(4)
    first = make().normal_()
    assert bool(((first < -5) | (first > 5)).any())  # the re-draw runs
    torch.manual_seed(4)
    theirs, after = reference.trunc_normal_(make(), a=-5.0, b=5.0), torch.rand(3)
    torch.manual_seed(4)
    mine = ours.trunc_normal_(make(), a=-5.0, b=5.0)
    assert torch.equal(mine, theirs)
    assert float(mine.abs().max()) <= 5.0
    assert torch.equal(torch.rand(3), after)


@pytest.mark.parametrize(("a", "b"), [(-math.inf, math.inf), (-10.0, math.inf), (-math.inf, 6.0), (-1e300, 1e300)], ids=str)
@pytest.mark.parametrize(
    "make",
    [lambda: torch.empty(64, 33), lambda: torch.empty(33, 64).t(), lambda: torch.empty(64, 66)[:, ::2], lambda: torch.empty(33, dtype=torch.float16)],
    ids=["contiguous", "transposed", "stepped", "float16_33"],
)
def test_trunc_normal_with_bounds_past_resolution_or_infinite_is_torchs(make: Callable[[], torch.Tensor], a: float, b: float) -> None:
    """Infinite bounds, or one past erf's resolution and one infinite, keep all but ~10⁻⁶ of the normal, as ±1e300 do:
    torch's ``normal_`` of the tensor (they were drawn by the quantile, or on views in another order)."""
    torch.manual_seed(3)
    theirs, after = reference.trunc_normal_(make(), a=a, b=b), torch.rand(3)
    torch.manual_seed(3)
    assert torch.equal(ours.trunc_normal_(make(), a=a, b=b), theirs)
    assert torch.equal(torch.rand(3), after)


def test_trunc_normal_whose_grid_keeps_almost_none_of_its_law_ends() -> None:
    """bfloat16 ``N(0.9975, 10⁻⁴)`` on ``[0.997, 1.0075]`` (−5σ, +100σ: re-drawn as torch does) rounds nearly every value
    to 0.99609375, outside ``[a, b]``, so re-drawing never ended; after rounds that barely move it is drawn as ``init_``
    draws it, in float32 and rounded once inside ``[a, b]``: 1.0, the one bfloat16 value there (torch keeps 0.99609375,
    its rounded ``a``). In a subprocess: the old code does not return."""
    script = (
        "import torch, unit_init.torch as ours\n"
        "w = ours.trunc_normal_(torch.empty(256, dtype=torch.bfloat16), mean=0.9975, std=1e-4, a=0.997, b=1.0075)\n"
        "print(sorted(set(w.tolist())))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[1.0]"


def test_trunc_normal_keeps_its_bounds_where_torch_rounds_them() -> None:
    """Bounds that are no bfloat16 value: torch compares with ``a`` rounded to nearest (-0.30078125 < -0.3 is kept);
    the drop-in keeps ``[a, b]`` itself, the law it documents, and re-draws what lies outside it."""
    torch.manual_seed(5)
    theirs = reference.trunc_normal_(torch.empty(1000, 37, dtype=torch.bfloat16), a=-0.3, b=5.0)
    torch.manual_seed(5)
    mine = ours.trunc_normal_(torch.empty(1000, 37, dtype=torch.bfloat16), a=-0.3, b=5.0)
    assert float(theirs.min()) < -0.3 <= float(mine.min())
    assert float(mine.max()) <= 5.0


def test_global_generator_advances_as_torchs() -> None:
    torch.manual_seed(9)
    ours.normal_(torch.empty(10))
    after_ours = torch.rand(3)
    torch.manual_seed(9)
    reference.normal_(torch.empty(10))
    assert torch.equal(after_ours, torch.rand(3))


# --- identities, sparse_, generators -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shape", "args"),
    [
        ("eye_", (3, 5), ()),
        ("eye_", (6, 2), ()),
        ("dirac_", (4, 4, 3), ()),
        ("dirac_", (6, 2, 3, 3), ()),
        ("dirac_", (8, 2, 3, 3, 3), (2,)),
        ("dirac_", (3, 5, 4, 4), ()),
    ],
    ids=str,
)
def test_identities_are_torchs_values(name: str, shape: tuple[int, ...], args: tuple[Any, ...]) -> None:
    mine, theirs = (getattr(m, name)(torch.full(shape, 7.0), *args) for m in (ours, reference))
    assert torch.equal(mine, theirs)


def test_dirac_passes_each_group_input_channel_through_a_convolution() -> None:
    weight = ours.dirac_(torch.empty(6, 3, 3, 3), groups=2)
    x = torch.randn(1, 6, 5, 5)
    y = torch.nn.functional.conv2d(x, weight, padding=1, groups=2)
    assert torch.equal(y[:, [0, 1, 2]], x[:, [0, 1, 2]])
    assert torch.equal(y[:, [3, 4, 5]], x[:, [3, 4, 5]])


def test_sparse_zeroes_its_share_of_each_column_and_draws_the_rest_with_std_0_01_by_default() -> None:
    t = ours.sparse_(torch.empty(100, N_SIDE), sparsity=0.25)
    assert ((t == 0).sum(dim=0) == 25).all()
    _same_law(_values(t[t != 0]), np.random.default_rng(0).normal(0.0, 0.01, 75 * N_SIDE))


@pytest.mark.parametrize("name", ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "kaiming_normal_"])
def test_a_generator_gives_repeatable_values_and_leaves_the_global_one_alone(name: str) -> None:
    torch.manual_seed(1)
    first = getattr(ours, name)(torch.empty(8, 8), generator=torch.Generator().manual_seed(4))
    after = torch.rand(3)
    torch.manual_seed(1)
    second = getattr(ours, name)(torch.empty(8, 8), generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, second)
    assert torch.equal(torch.rand(3), after)


def test_reduced_precision_normals_ignore_torchs_default_dtype() -> None:
    """The float32 normals torch's float16 kernel draws were drawn in torch's default dtype (float64 here)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        theirs, after = reference.normal_(torch.empty(24, dtype=torch.float16)), torch.rand(2)
        torch.manual_seed(0)
        assert torch.equal(ours.normal_(torch.empty(24, dtype=torch.float16)), theirs)
        assert torch.equal(torch.rand(2), after)
    finally:
        torch.set_default_dtype(previous)


def test_zeros_of_a_quantized_tensor_raises_where_torch_raises() -> None:
    """torch has no quantized ``zero_`` kernel (``NotImplementedError``); the drop-in filled the tensor instead."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch 2.13 deprecates its quantized tensor types
        quantized = torch.quantize_per_tensor(torch.randn(4, 4), 0.1, 0, torch.qint8)
    with pytest.raises(NotImplementedError):
        reference.zeros_(quantized)
    with pytest.raises(NotImplementedError, match="quantized") as raised:
        ours.zeros_(quantized)
    assert isinstance(raised.value, UnitInitError)


@pytest.mark.parametrize("randomness", ["different", "same"])
@pytest.mark.parametrize("name", ["normal_", "uniform_", "kaiming_uniform_", "xavier_normal_"])
def test_under_vmap_the_drop_ins_are_torchs_own(name: str, randomness: str) -> None:
    """``torch.func.vmap(..., randomness="different")`` raised (a batched tensor in Python control flow): a tensor
    of a ``torch.func`` transform is filled by ``torch.nn.init`` itself, which batches its random ops."""
    from torch.func import vmap

    def fill(module: Any) -> Callable[[torch.Tensor], torch.Tensor]:
        def one(w: torch.Tensor) -> torch.Tensor:
            w = w.clone()
            getattr(module, name)(w)
            return w

        return one

    batch = torch.zeros(3, 4, 5)
    torch.manual_seed(2)
    theirs = vmap(fill(reference), randomness=randomness)(batch)
    torch.manual_seed(2)
    mine = vmap(fill(ours), randomness=randomness)(batch)
    assert torch.equal(mine, theirs)
    assert bool((mine[0] != mine[1]).any()) == (randomness == "different")


@pytest.mark.parametrize("name", ["normal_", "uniform_", "xavier_uniform_", "kaiming_normal_", "orthogonal_"])
def test_torch_compile_traces_the_drop_ins_with_fullgraph(name: str) -> None:
    """Dynamo could not trace unit_init's call path (``Unsupported``); inside a compiled region the drop-ins are torch's."""

    def step(w: torch.Tensor) -> torch.Tensor:
        getattr(ours, name)(w)
        return w * 2

    torch._dynamo.reset()
    torch.manual_seed(4)
    compiled = torch.compile(step, fullgraph=True, backend="eager")(torch.empty(8, 4))
    torch.manual_seed(4)
    assert torch.equal(compiled, getattr(reference, name)(torch.empty(8, 4)) * 2)


@pytest.mark.parametrize("nonlinearity", ["gelu", "silu", "identity"])
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
def test_gains_only_unit_init_knows_work_under_compile_and_vmap(name: str, nonlinearity: str) -> None:
    """``kaiming_normal_(w, nonlinearity="gelu")`` worked eagerly and raised under ``torch.compile`` and ``vmap``, where
    torch's own function runs: there it is drawn with torch's ``normal_``/``uniform_`` and unit_init's gain, as eagerly."""
    from torch.func import vmap

    def step(w: torch.Tensor) -> torch.Tensor:
        getattr(ours, name)(w, mode="fan_in", nonlinearity=nonlinearity)
        return w * 2

    torch._dynamo.reset()
    torch.manual_seed(4)
    compiled = torch.compile(step, fullgraph=True, backend="eager")(torch.empty(8, 4))
    torch.manual_seed(4)
    eager = step(torch.empty(8, 4))
    assert torch.equal(compiled, eager)
    torch.manual_seed(4)
    batched = vmap(lambda w: step(w.clone()), randomness="same")(torch.zeros(3, 8, 4))
    assert torch.equal(batched[1], eager)
    std = ours.calculate_gain(nonlinearity) / 16  # fan_in 256
    spread = vmap(lambda w: step(w.clone()) / 2, randomness="different")(torch.zeros(64, 256, 256)).std().item()
    assert abs(spread / std - 1) < 0.01


def test_torchs_private_helpers_are_reachable_through_the_drop_in_module() -> None:
    """``from torch.nn.init import _no_grad_trunc_normal_``-style code broke on the one-import switch (``AttributeError``)."""
    for name in [n for n in vars(reference) if n.startswith("_no_grad_")] + ["_make_deprecate"]:
        assert getattr(ours, name) is getattr(reference, name)
    with pytest.raises(AttributeError, match=r"torch\.nn\.init has no function of that name"):
        ours.no_such_initializer  # noqa: B018


def test_a_non_tensor_and_bad_arguments_under_vmap_keep_torchs_type_and_unit_inits() -> None:
    """The transform check ran before the drop-in's own and raised a raw ``TypeError`` for a list; under ``vmap`` torch's
    own errors came out untyped (``ValueError``, ``RuntimeError``)."""
    from torch.func import vmap

    from unit_init.errors import UnitInitError

    with pytest.raises(AttributeError) as caught:
        ours.normal_([1.0, 2.0])  # type: ignore[arg-type]
    assert isinstance(caught.value, UnitInitError)
    batch = torch.zeros(3, 4, 5)
    for call, kind in [
        (lambda w: ours.kaiming_normal_(w.clone(), mode="fan_inn"), ValueError),
        (lambda w: ours.uniform_(w.clone(), a=2.0, b=1.0), RuntimeError),
    ]:
        with pytest.raises(kind) as caught:
            vmap(call, randomness="different")(batch)
        assert isinstance(caught.value, UnitInitError)


def test_drop_ins_set_into_torch_nn_init_still_reach_torchs_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A codebase that sets ``torch.nn.init.uniform_ = ours.uniform_`` (so every ``reset_parameters`` draws with
    unit_init): where a drop-in asks torch for its outcome, it asked itself, without end (``uniform_(t, 1, 1)``,
    ``xavier_uniform_(gain=0)``, ``trunc_normal_(a=b)`` hung; ``torch.compile`` and ``vmap`` hit the recursion limit)."""
    for name in ("uniform_", "normal_", "xavier_uniform_", "kaiming_uniform_", "trunc_normal_"):
        monkeypatch.setattr(reference, name, getattr(ours, name))
    assert ours.uniform_(torch.empty(3), 1.0, 1.0).tolist() == [1.0, 1.0, 1.0]
    assert not ours.xavier_uniform_(torch.empty(3, 3), gain=0.0).any()
    assert ours.trunc_normal_(torch.empty(3), a=0.5, b=0.5).tolist() == [0.5, 0.5, 0.5]
    assert torch.compile(lambda x: ours.normal_(x), backend="eager")(torch.empty(3)).shape == (3,)
    assert torch.func.vmap(ours.normal_, randomness="different")(torch.empty(2, 3)).shape == (2, 3)
    torch.nn.Linear(4, 4).reset_parameters()


def test_a_gain_only_unit_init_knows_keeps_torchs_error_types() -> None:
    """``kaiming_*_(nonlinearity="gelu")`` on an input torch refuses: torch was asked with "gelu", which it rejects
    first, so every refusal read ``ValueError: Unsupported nonlinearity gelu``."""
    with pytest.raises(NotImplementedError):
        ours.kaiming_uniform_(torch.zeros(3, 3, dtype=torch.int32), nonlinearity="gelu")
    with pytest.raises(TypeError):
        ours.kaiming_normal_(torch.empty(3, 3), nonlinearity="gelu", generator=3)  # type: ignore[arg-type]
