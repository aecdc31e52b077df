"""The rules engine (``unit_init.adapters.rules``) and each framework's ``initialize`` walker on it."""

from __future__ import annotations

import itertools
import math
import re
import warnings
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.adapters.rules import Gated, Param, Where, per_gate_orthogonal, unit_forget_bias
from unit_init.seeds import derive_seed

scipy_stats = pytest.importorskip("scipy.stats")
KS_ALPHA = 1e-4


def _mlp() -> dict[str, Any]:
    return {
        "fc1": {"kernel": np.zeros((64, 32), np.float32), "bias": np.full(32, 7.0, np.float32)},
        "fc2": {"kernel": np.zeros((32, 8), np.float32), "bias": np.full(8, 7.0, np.float32)},
        "norm": {"scale": np.ones(8, np.float32)},
    }


# --- the engine on plain dicts ------------------------------------------------------------


def test_first_covering_rule_wins_and_the_report_says_which() -> None:
    rules = [("fc1.*", ui.Ones()), ("*.kernel", ui.HeNormal()), ("*/bias", ui.Zeros()), ("fc2/*", ui.Constant(3.0))]
    new, report = ui.initialize(_mlp(), rules, seed=0)
    assert dict(report.applied) == {"fc1/kernel": 0, "fc1/bias": 0, "fc2/kernel": 1, "fc2/bias": 2}
    assert report.unmatched == ("norm/scale",)
    assert report.shadowed_rules == ("fc2/*",)  # it matches fc2's parameters, but earlier rules took them
    assert report.unused_rules == ()
    assert (new["fc1"]["kernel"] == 1).all()
    assert (new["fc2"]["bias"] == 0).all()
    assert new["fc2"]["kernel"].dtype == np.float32
    assert new["fc2"]["kernel"].std() > 0
    assert new["norm"]["scale"] is _mlp()["norm"]["scale"] or (new["norm"]["scale"] == 1).all()
    assert "fc2/bias <- rule 2 (*/bias)" in str(report)
    assert "norm/scale" in str(report)
    assert "fc2/*" in str(report)


def test_the_input_pytree_is_not_modified() -> None:
    params = _mlp()
    ui.initialize(params, {"*": ui.Constant(2.0)}, seed=0)
    assert (params["fc1"]["bias"] == 7).all()
    assert (params["fc1"]["kernel"] == 0).all()


def test_every_leaf_keeps_its_shape_also_a_0d_one() -> None:
    """A 0-d leaf came back with shape (1,) (``np.ascontiguousarray`` makes arrays at least 1-d)."""
    params = {"scalar": np.zeros((), np.float32), "empty": np.zeros((0, 3), np.float32), **_mlp()}
    new, _ = ui.initialize(params, {"*": "he_normal"}, seed=0)
    assert {path: leaf.shape for path, leaf in new.items() if path in ("scalar", "empty")} == {"scalar": (), "empty": (0, 3)}
    assert new["fc1"]["kernel"].shape == (64, 32)
    assert new["fc1"]["kernel"].flags.c_contiguous


def test_a_rule_that_matches_nothing_warns_and_is_reported() -> None:
    with pytest.warns(UserWarning, match=r"rule '\*\.weights' matched no parameter \(names look like 'fc1/kernel'") as caught:
        _, report = ui.initialize(_mlp(), {"*.weights": ui.Zeros(), "*": ui.Ones()}, seed=0)
    assert report.unused_rules == ("*.weights",)
    assert len(report.applied) == 5
    assert caught[0].filename == __file__  # the caller's line, through unit_init's wrappers


def test_many_rules_that_match_nothing_warn_eight_times_and_once_for_the_rest() -> None:
    """A warning each for 100,000 unused rules was warning spam; the report still lists every one."""
    rules = {f"nothing{i}": ui.Zeros() for i in range(1000)} | {"*": ui.Ones()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, report = ui.initialize(_mlp(), rules, seed=0)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 9, messages[:3]
    assert messages[-1] == "initialize: 992 more rules set no parameter (the report's unused_rules lists them all)."
    assert len(report.unused_rules) == 1000


def test_a_preset_rule_whose_names_match_but_which_sets_none_of_them_says_so(torch: Any) -> None:
    import unit_init.torch

    with pytest.warns(UserWarning, match="rule 'bias_\\*' matches parameters but its LayerPreset sets none of them"):
        _, report = unit_init.torch.initialize(torch.nn.LSTMCell(4, 4), {"bias_*": ui.torch_linear}, seed=0)
    assert report.unused_rules == ("bias_*",)


def test_seeds_derive_from_canonical_names_so_other_parameters_never_matter() -> None:
    rules = {"*": ui.RandomNormal()}
    small, _ = ui.initialize(_mlp(), rules, seed=5)
    bigger = {**_mlp(), "extra": {"kernel": np.zeros((3, 3), np.float32)}}
    big, _ = ui.initialize(bigger, rules, seed=5)
    np.testing.assert_array_equal(small["fc2"]["kernel"], big["fc2"]["kernel"])
    expected = ui.random_normal((32, 8), seed=derive_seed(5, "fc2.kernel"))
    np.testing.assert_array_equal(small["fc2"]["kernel"], expected)
    with pytest.warns(UserWarning, match="names= gives 'fc1.kernel' to both 'fc1/kernel' and 'fc2/kernel'; their seeds follow"):
        renamed, _ = ui.initialize(_mlp(), rules, seed=5, names={"fc2.kernel": "fc1.kernel"})  # twins, said so
    np.testing.assert_array_equal(renamed["fc2"]["kernel"], ui.random_normal((32, 8), seed=derive_seed(5, "fc1.kernel")))
    other, _ = ui.initialize(_mlp(), rules, seed=6)
    assert not np.array_equal(other["fc2"]["kernel"], small["fc2"]["kernel"])


def test_unseeded_calls_follow_the_global_stream() -> None:
    ui.set_seed(11)
    first, _ = ui.initialize(_mlp(), {"*": ui.RandomNormal()})
    ui.set_seed(11)
    again, _ = ui.initialize(_mlp(), {"*": ui.RandomNormal()})
    np.testing.assert_array_equal(first["fc1"]["kernel"], again["fc1"]["kernel"])


def test_skip_by_names_globs_or_predicate() -> None:
    _, report = ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=0, skip=["fc1/*", "norm.scale"])
    assert report.skipped == ("fc1/kernel", "fc1/bias", "norm/scale")
    assert set(report.applied) == {"fc2/kernel", "fc2/bias"}
    new, report = ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=0, skip=lambda p: p.rank == 1)
    assert report.skipped == ("fc1/bias", "fc2/bias", "norm/scale")
    assert (new["fc1"]["bias"] == 7).all()
    with pytest.raises(ui.ParameterError, match="skip='fc1'"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, skip="fc1")
    _, report = ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=0, skip=lambda p: re.search("norm", p.name))  # a match or None
    assert report.skipped == ("norm/scale",)
    with pytest.raises(ui.ParameterError, match=r"the skip test <lambda> answered array\(\[1, 2\]\) for parameter 'fc1/kernel'"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=0, skip=lambda p: np.array([1, 2]))  # raised NumPy's ValueError


def test_a_glob_of_any_owner_reaches_the_root_layers_own_parameters() -> None:
    """``"*.kernel"`` missed the kernel of a lone layer (named ``kernel``, no owner), and a catch-all rule after it then
    filled the kernel with ones, reported only as an unused rule."""
    rules = {"*.kernel": ui.HeNormal(), "*.bias": ui.Zeros(), "*": ui.Ones()}
    layer = {"kernel": np.full((64, 32), 7.0, np.float32), "bias": np.full(32, 7.0, np.float32), "kernels": np.zeros(3, np.float32)}
    new, report = ui.initialize(layer, rules, seed=0)
    assert report.applied == {"kernel": 0, "bias": 1, "kernels": 2}  # the bare name matches whole: "kernels" is no kernel
    assert 0.1 < float(new["kernel"].std()) < 0.2  # He: √(2/64) ≈ 0.18, less its truncation
    assert (new["bias"] == 0).all()
    assert (new["kernels"] == 1).all()
    torch = pytest.importorskip("torch")
    import unit_init.torch

    linear = torch.nn.Linear(64, 32)
    _, report = unit_init.torch.initialize(linear, rules, seed=0)
    assert report.applied == {"weight": 0, "bias": 1}
    nested = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU(), torch.nn.Sequential(torch.nn.Linear(4, 4)))
    _, report = unit_init.torch.initialize(nested, {"*.0.weight": ui.Zeros(), "*": ui.HeNormal()}, seed=0)
    assert report.applied["0.weight"] == 1  # "0.weight" has an owner path ("0"): only "2.0.weight" is any owner's "0.weight"
    assert report.applied["2.0.weight"] == 0
    assert 0.1 < float(linear.weight.detach().std()) < 0.2
    assert not linear.bias.detach().any()


def test_where_and_callable_keys() -> None:
    rules = [
        (Where(rank=2, shape=lambda s: s[0] > 40), ui.Ones()),
        (Where(role="kernel"), ui.Constant(2.0)),
        (lambda p: p.leaf == "scale", ui.Constant(3.0)),
        (Where(name="*bias", rank=1), ui.Zeros()),
    ]
    new, report = ui.initialize(_mlp(), rules, seed=0)
    assert (new["fc1"]["kernel"] == 1).all()
    assert (new["fc2"]["kernel"] == 2).all()
    assert (new["norm"]["scale"] == 3).all()
    assert (new["fc2"]["bias"] == 0).all()
    assert report.unmatched == ()
    with pytest.raises(ui.ParameterError, match="Where"):
        Where(type="Dense")  # type: ignore[arg-type]


def test_bias_takes_the_fans_of_the_kernel_beside_it() -> None:
    params = {"fc": {"kernel": np.zeros((400, 4096), np.float32), "bias": np.zeros(4096, np.float32)}}
    torch_rule = {"*.bias": ui.VarianceScaling(1 / 3, "fan_in", "uniform")}  # U(±1/√fan_in)
    new, _ = ui.initialize(params, torch_rule, seed=0)
    bound = 1 / math.sqrt(400)
    assert 0.99 * bound < np.abs(new["fc"]["bias"]).max() <= bound
    own, _ = ui.initialize(params, torch_rule, seed=0, bias_fan_from_weight=False)
    assert np.abs(own["fc"]["bias"]).max() <= 1 / math.sqrt(4096)


@pytest.mark.parametrize("layout", ["keras", "torch"])
def test_drawn_law_has_the_fans_of_the_layout(layout: str) -> None:
    """A conv kernel in either layout has He's variance 2/fan_in, fan_in = in·kh·kw (a wrong axis order fails)."""
    keras_shape = (5, 5, 48, 96)
    shape = keras_shape if layout == "keras" else (96, 48, 5, 5)
    new, _ = ui.initialize({"conv": {"kernel": np.zeros(shape)}}, {"*": ui.HeNormal()}, seed=1, layout=layout)
    reference = ui.he_normal(keras_shape, seed=2, dtype="float64")
    result = scipy_stats.ks_2samp(new["conv"]["kernel"].ravel(), reference.ravel())
    assert result.pvalue > KS_ALPHA, result
    wrong = ui.he_normal((5, 5, 96, 48), seed=2, dtype="float64")  # fan_in = 96·25: the test must see it
    assert scipy_stats.ks_2samp(new["conv"]["kernel"].ravel(), wrong.ravel()).pvalue < KS_ALPHA


def test_presets_set_kernel_and_bias_and_let_other_leaves_through() -> None:
    new, report = ui.initialize(_mlp(), [("fc1/*", ui.torch_linear), ("*", ui.Ones())], seed=0)
    assert 0.9 / math.sqrt(64) < np.abs(new["fc1"]["bias"]).max() <= 1 / math.sqrt(64)
    assert report.applied["fc2/kernel"] == 1


def test_a_users_callable_that_raises_is_a_parameter_error_naming_it_and_the_parameter() -> None:
    """A rule test, ``Where(shape=)``, ``skip=`` or ``names=`` raising its own error (a user's bug) is typed, names the
    parameter it was asked about, keeps the error as its cause, and nothing is drawn."""
    params = {"fc": {"kernel": np.ones((2, 2)), "bias": np.ones(2)}}

    def broken(_: Any) -> Any:
        return 1 / 0

    for rules, options, what in [
        ({broken: ui.Zeros()}, {}, "rule test"),
        ({Where(shape=broken): ui.Zeros()}, {}, "shape test"),
        ({"*": ui.Zeros()}, {"skip": broken}, "skip test"),
        ({"*": ui.Zeros()}, {"names": broken}, "names= function"),
    ]:
        with pytest.raises(ui.ParameterError, match=rf"the {what} broken raised ZeroDivisionError for parameter 'fc") as raised:
            ui.initialize(params, rules, seed=0, **options)
        assert isinstance(raised.value.__cause__, ZeroDivisionError)
    assert params["fc"]["kernel"].all()


def test_bad_rules_are_refused_before_anything_is_drawn() -> None:
    with pytest.raises(ui.ParameterError, match="glob pattern"):
        ui.initialize(_mlp(), {3: ui.Zeros()})
    with pytest.raises(ui.ParameterError):
        ui.initialize(_mlp(), {"*": "not_an_initializer"})
    with pytest.raises(ui.ShapeError, match=r"rule '\*' gives 'fc1/bias' \(shape \(32,\)\)"):
        ui.initialize(_mlp(), {"*": ui.Orthogonal()})
    with pytest.raises(ui.ParameterError, match=r"rng='portible'.*Did you mean 'portable'"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, rng="portible")
    with pytest.raises(ui.SeedError, match="needs an int"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=np.random.default_rng(0))  # type: ignore[arg-type]
    for rules in [None, "he_normal", 3, [("*", ui.Zeros()), 3]]:  # not a mapping nor pairs: typed, named
        with pytest.raises(ui.ParameterError, match="rules="):
            ui.initialize(_mlp(), rules)  # type: ignore[arg-type]
    for skip in [3, [3]]:
        with pytest.raises(ui.ParameterError, match="skip="):
            ui.initialize(_mlp(), {"*": ui.Zeros()}, skip=skip)  # type: ignore[arg-type]
    # endless generators: read until memory ran out
    with pytest.raises(ui.ParameterError, match=r"rules=repeat\(.*holds more than 65536 items"):
        ui.initialize(_mlp(), itertools.repeat(("*", ui.Zeros())))  # type: ignore[arg-type]
    with pytest.raises(ui.ParameterError, match=r"skip=repeat\('a'\) holds more than"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, skip=itertools.repeat("a"))
    with pytest.raises(ui.ParameterError, match="names="):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, names=3)  # type: ignore[arg-type]


def test_rule_keys_where_fields_gates_and_flags_are_checked_before_anything_is_drawn() -> None:
    """Each was a bare TypeError, ValueError or MemoryError from inside the matcher, or taken silently."""
    for where, field in [({"rank": "2"}, "rank"), ({"rank": 2.0}, "rank"), ({"rank": True}, "rank"), ({"name": 3}, "name"),
                         ({"role": 3}, "role"), ({"shape": 3}, "shape")]:
        with pytest.raises(ui.ParameterError, match=f"Where\\({field}="):
            Where(**where)
    for gates in [2.5, "2", 0, 10**12, 10**19, True]:
        with pytest.raises(ui.ParameterError, match="gates="):
            Gated(ui.Zeros(), gates=gates)  # type: ignore[arg-type]
    with pytest.raises(ui.ParameterError, match="answered array"):  # a test must say True or False
        ui.initialize(_mlp(), {(lambda param: np.array([1, 0])): ui.Zeros()})
    with pytest.raises(ui.ParameterError, match="answered array"):
        ui.initialize(_mlp(), {Where(shape=lambda shape: np.array(shape) > 2): ui.Zeros()})
    with pytest.raises(ui.ParameterError, match="A spec goes on the right"):
        ui.initialize(_mlp(), {ui.HeNormal(): ui.Zeros()})
    with pytest.raises(ui.ParameterError, match="bias_fan_from_weight='no' must be True or False"):
        ui.initialize(_mlp(), {"*": ui.Zeros()}, bias_fan_from_weight="no")  # type: ignore[arg-type]
    for renamed in [".", "a.", ".a", ""]:
        with pytest.raises(ui.ParameterError, match="no empty part"):
            ui.initialize(_mlp(), {"*": ui.Zeros()}, names=lambda name, renamed=renamed: renamed)
    assert Where(rank=[1, 2])(Param("fc/bias", ("fc",), "bias", (3,)))  # a list of ranks, as a tuple
    # a list of ranks as a dict key (was an unhashable-type TypeError), NumPy ints, misspelt keywords, a set of rules
    drawn, _ = ui.initialize(_mlp(), {Where(rank=[1]): ui.Ones(), Where(rank=np.int64(2)): ui.Zeros()}, seed=0)
    assert drawn["fc1"]["bias"].tolist() == [1.0] * 32
    assert not drawn["fc1"]["kernel"].any()
    assert Gated(ui.Zeros(), gates=np.int64(2)).specs == (ui.Zeros(),) * 2
    with pytest.raises(ui.ArgumentError, match="Did you mean 'rank'"):
        Where(rnak=2)  # type: ignore[call-arg]
    with pytest.raises(ui.ArgumentError, match="Did you mean 'gates'"):
        Gated(ui.Zeros(), gatse=2)  # type: ignore[call-arg]
    with pytest.raises(ui.ParameterError, match="is a set, which has no order"):  # which rule wins changed between runs
        ui.initialize(_mlp(), {("*kernel", ui.Zeros()), ("*", ui.Ones())}, seed=0)  # type: ignore[arg-type]
    drawn, _ = ui.initialize(_mlp(), {(lambda param: np.bool_(param.leaf == "bias")): ui.Ones(), "*": ui.Zeros()})
    assert drawn["fc1"]["bias"].tolist() == [1.0] * 32


def test_gated_specs() -> None:
    assert Gated(ui.Orthogonal(), gates=3).specs == (ui.Orthogonal(),) * 3
    with pytest.raises(ui.ParameterError, match="one spec per gate"):
        Gated([ui.Zeros(), ui.Ones()], gates=4)
    with pytest.raises(ui.ShapeError, match="divisible by 4"):
        ui.initialize({"b": np.zeros(6)}, {"b": unit_forget_bias}, seed=0)
    new, _ = ui.initialize({"b": np.zeros(12), "r": np.zeros((3, 12))}, {"b": unit_forget_bias, "r": per_gate_orthogonal}, seed=0)
    assert new["b"].tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6
    for gate in range(4):
        block = new["r"][:, 3 * gate : 3 * gate + 3]
        np.testing.assert_allclose(block.T @ block, np.eye(3), atol=1e-6)


def test_param_names() -> None:
    param = Param("enc/0/weight", ("enc", "0"), "kernel", (3, 4))
    assert param.canonical == "enc.0.kernel"
    assert not param.is_bias
    assert Param("x.bias_ih_l0", ("x",), "bias_ih_l0", (8,)).is_bias


# --- torch ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def test_torch_type_rule_spec_leaves_the_bias_to_later_rules(torch: Any) -> None:
    import unit_init.torch

    layer = torch.nn.Linear(6, 4)
    bias = layer.bias.detach().clone()
    _, report = unit_init.torch.initialize(layer, {torch.nn.Linear: ui.Orthogonal()}, seed=0)
    np.testing.assert_allclose((layer.weight @ layer.weight.T).detach().numpy(), np.eye(4), atol=1e-5)
    assert torch.equal(layer.bias, bias)
    assert report.unmatched == ("bias",)


def test_torch_padding_rows_are_zeroed_as_reset_parameters_zeroes_them(torch: Any) -> None:
    """The padding row was kept as it was: after ``to_empty`` (the documented deferred-init flow) it held whatever
    memory was there (NaN here); torch's ``reset_parameters`` zeroes it."""
    import unit_init.torch

    with torch.device("meta"):
        net = torch.nn.ModuleDict({"emb": torch.nn.Embedding(10, 4, padding_idx=3), "bag": torch.nn.EmbeddingBag(5, 2, padding_idx=0)})
    net.to_empty(device="cpu")
    with torch.no_grad():
        for table in net.parameters():
            table.fill_(float("nan"))
    _, report = unit_init.torch.initialize(net, {"*": ui.RandomNormal(mean=1.0)}, seed=0)
    assert torch.count_nonzero(net["emb"].weight[3]) == 0
    assert torch.count_nonzero(net["bag"].weight[0]) == 0
    assert torch.count_nonzero(net["emb"].weight[[0, 1, 2, 4]]) == 16
    assert dict(report.zeroed_rows) == {"emb.weight": (3,), "bag.weight": (0,)}
    assert "zeroed rows: emb.weight (3,)" in str(report)
    assert report.applied == {"emb.weight": 0, "bag.weight": 0}


def test_torch_meta_parameters_are_refused_before_anything_is_written(torch: Any) -> None:
    import unit_init.torch

    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2, device="meta"))
    before = net[0].weight.detach().clone()
    with pytest.raises(ui.DeviceError, match=r"'1.weight' is on the 'meta' device.*to_empty\(device=\.\.\.\)"):
        unit_init.torch.initialize(net, {"*": ui.Zeros()}, seed=0)
    assert torch.equal(net[0].weight, before)
    _, report = unit_init.torch.initialize(net, {"*": ui.Zeros()}, seed=0, skip=lambda p: p.path == ("1",))
    assert report.skipped == ("1.weight", "1.bias")
    assert torch.count_nonzero(net[0].weight) == 0
    lazy = torch.nn.LazyLinear(3)
    with pytest.raises(ui.ParameterError, match="forward pass first"):
        unit_init.torch.initialize(lazy, {"*": ui.Zeros()}, seed=0)
    # a lazy layer left out by skip= globs, as a meta one (refused whatever skip said): the others are drawn
    mixed = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LazyLinear(2))
    # the advice named the first parameter only, whose skip= then met the next one (helper 167): a glob per lazy module
    with pytest.raises(ui.ParameterError, match=r"'1.weight' of a lazy module .*\(2 lazy parameters\).* leave them out with skip=\['1\.\*'\]"):
        unit_init.torch.initialize(mixed, {"0.*": ui.Zeros()}, seed=0)
    with pytest.raises(ui.ParameterError, match="lazy module"):  # a skip test would need the shape it has none of
        unit_init.torch.initialize(mixed, {"*": ui.Zeros()}, seed=0, skip=lambda p: p.path == ("1",))
    _, report = unit_init.torch.initialize(mixed, {"*": ui.Zeros()}, seed=0, skip=["1.*"])
    assert report.skipped == ("1.weight", "1.bias")
    assert torch.count_nonzero(mixed[0].weight) == 0
    from unit_init.torch._module import describe

    with pytest.raises(ui.ParameterError, match="lazy module"):  # muP's plan needs every shape (torch's raw RuntimeError)
        describe(mixed, "torch")


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        (ui.Constant(0.5), ui.ParameterError, r"value=0.5 cannot be stored exactly in dtype='int32'"),
        (ui.ZerO(), ui.DTypeError, r"ZerO draws scaled Hadamard entries, which need a floating dtype"),
    ],
)
def test_an_integer_parameter_a_deterministic_spec_cannot_fill_is_refused_before_anything_is_written(
    spec: ui.Initializer, error: type[Exception], message: str
) -> None:
    """The samplers' integer-dtype refusals are planned (``drawing.check``), so ``initialize`` refuses before its first
    write: an nnx float kernel before an int32 parameter was written, then the int one refused."""
    jnp = pytest.importorskip("jax.numpy")
    nnx = pytest.importorskip("flax.nnx")
    import unit_init.jax

    class Net(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.fc = nnx.Linear(4, 4, rngs=rngs)
            self.mask = nnx.Param(jnp.zeros((4, 4), jnp.int32))

    net = Net(nnx.Rngs(0))
    before = np.asarray(net.fc.kernel[...]).copy()
    with pytest.raises(error, match=message):
        unit_init.jax.initialize(net, {"*kernel": spec, "mask": spec, "*": ui.Zeros()}, seed=0)
    np.testing.assert_array_equal(np.asarray(net.fc.kernel[...]), before)
    from unit_init.drawing import check
    from unit_init.spec.options import Options

    with pytest.raises(error, match=message):
        check(spec, (4, 4), Options(dtype="int32"))


def test_torch_parameters_sharing_memory_are_warned_about(torch: Any) -> None:
    """A parameter that is a view of another was written over part of it, both reported applied, silently (helper 167);
    a tied parameter (one tensor, two names) is written once, with no warning."""
    import unit_init.torch

    class Viewed(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Parameter(torch.zeros(4, 3))
            self.b = torch.nn.Parameter(self.a.data[:2])

    with pytest.warns(UserWarning, match="parameters 'a' and 'b' share memory"):
        unit_init.torch.initialize(Viewed(), {"a": ui.Ones(), "b": ui.RandomNormal()}, seed=0)
    table = torch.nn.Embedding(4, 3)
    head = torch.nn.Linear(3, 4)
    head.weight = table.weight
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        unit_init.torch.initialize(torch.nn.Sequential(table, head), {"*": ui.RandomNormal()}, seed=0)


def test_torch_lstm_per_gate_rules(torch: Any) -> None:
    import unit_init.torch

    hidden = 16
    lstm = torch.nn.LSTM(8, hidden)
    rules = {"weight_hh_*": per_gate_orthogonal, "weight_ih_*": ui.GlorotUniform(), "bias_ih_*": unit_forget_bias, "bias_hh_*": ui.Zeros()}
    unit_init.torch.initialize(lstm, rules, seed=0)
    recurrent = lstm.weight_hh_l0.detach().numpy()  # (4h, h), gates i, f, g, o along axis 0
    for gate in range(4):
        block = recurrent[gate * hidden : (gate + 1) * hidden]
        np.testing.assert_allclose(block @ block.T, np.eye(hidden), atol=1e-5)
    assert lstm.bias_ih_l0.tolist() == [0.0] * hidden + [1.0] * hidden + [0.0] * 2 * hidden
    # a GRU stacks 3 gates: the 4-gate helpers' blocks straddled them where 3h is divisible by 4 (helper 167)
    gru = torch.nn.GRU(8, 8)
    before = gru.weight_hh_l0.detach().clone()
    with pytest.raises(ui.ParameterError, match=r"'weight_hh_l0' of a GRU \(3 gates\) a Gated spec of 4 gates"):
        unit_init.torch.initialize(gru, {"weight_hh_*": per_gate_orthogonal}, seed=0)
    assert torch.equal(gru.weight_hh_l0, before)
    unit_init.torch.initialize(gru, {"weight_hh_*": Gated(ui.Orthogonal(), gates=3)}, seed=0)


def test_torch_conv_transpose_is_drawn_with_its_own_fans(torch: Any) -> None:
    import unit_init.torch

    layer = torch.nn.ConvTranspose2d(64, 8, 5)  # weight (in, out, kh, kw): fan_in = 64·25 under torch's convention
    unit_init.torch.initialize(layer, {"weight": ui.HeUniform()}, seed=0)
    bound = math.sqrt(6 / (64 * 25))
    assert 0.99 * bound < float(layer.weight.detach().abs().max()) <= bound


# --- the same rules object on every framework ----------------------------------------------

RULES = [
    ("*.kernel", ui.HeUniform()),
    ("*.embedding", ui.RandomNormal(stddev=0.02)),
    ("*.bias", ui.Zeros()),
    ("*.never", ui.Ones()),
]


def test_the_same_rules_on_torch(torch: Any) -> None:
    import unit_init.torch

    net = torch.nn.ModuleDict({"emb": torch.nn.Embedding(10, 8), "fc1": torch.nn.Linear(8, 16), "fc2": torch.nn.Linear(16, 4)})
    with pytest.warns(UserWarning, match="never"):
        _, report = unit_init.torch.initialize(net, RULES, seed=0)
    assert sorted(report.applied) == ["emb.weight", "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    assert sorted(report.applied.values()) == [0, 0, 1, 2, 2]
    assert report.unused_rules == ("*.never",)


def test_the_same_rules_on_flax_linen_nnx_and_pytrees() -> None:
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    import flax.linen as nn
    from flax import nnx

    import unit_init.jax

    class Linen(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.Embed(10, 8, name="emb")(x)
            return nn.Dense(4, name="fc2")(nn.Dense(16, name="fc1")(x))

    model = Linen()
    x = jax.numpy.zeros((1,), jax.numpy.int32)
    variables = model.init(jax.random.key(0), x)
    with pytest.warns(UserWarning, match="never"):
        new, report = unit_init.jax.initialize(variables, RULES, seed=0)
    assert sorted(report.applied) == ["emb/embedding", "fc1/bias", "fc1/kernel", "fc2/bias", "fc2/kernel"]
    assert sorted(report.applied.values()) == [0, 0, 1, 2, 2]
    assert not new["params"]["fc1"]["kernel"].committed  # what jax.random returns
    assert float(abs(new["params"]["fc1"]["kernel"]).max()) <= math.sqrt(6 / 8)
    # type keys for linen: the module paths say which module owns what
    typed, report = unit_init.jax.initialize(variables, {nn.Dense: ui.Ones(), nn.Embed: ui.Zeros(), "*": ui.Constant(2.0)}, seed=0, modules=model.module_paths(jax.random.key(0), x))
    assert (typed["params"]["fc1"]["kernel"] == 1).all()
    assert (typed["params"]["fc1"]["bias"] == 2).all()
    jitted = jax.jit(lambda v: unit_init.jax.initialize(v, RULES[:3], seed=0, rng="portable").params)(variables)  # inside a user jit
    eager, _ = unit_init.jax.initialize(variables, RULES[:3], seed=0, rng="portable")
    np.testing.assert_allclose(jitted["params"]["fc1"]["kernel"], eager["params"]["fc1"]["kernel"], rtol=1e-6, atol=2e-7)  # XLA may fuse the affine into an FMA: an ulp of the bound
    committed = jax.device_put(variables, jax.devices()[0])
    assert unit_init.jax.initialize(committed, RULES[:3], seed=0).params["params"]["fc1"]["kernel"].committed

    class Nnx(nnx.Module):
        def __init__(self, rngs: Any) -> None:
            self.emb = nnx.Embed(10, 8, rngs=rngs)
            self.fc1, self.fc2 = nnx.Linear(8, 16, rngs=rngs), nnx.Linear(16, 4, rngs=rngs)

    net = Nnx(nnx.Rngs(0))
    with pytest.warns(UserWarning, match="never"):
        same, report = unit_init.jax.initialize(net, RULES, seed=0)
    assert same is net
    assert sorted(report.applied.values()) == [0, 0, 1, 2, 2]
    np.testing.assert_array_equal(np.asarray(net.fc1.kernel[...]), np.asarray(new["params"]["fc1"]["kernel"]))
    unit_init.jax.initialize(net, {nnx.Linear: ui.Ones(), "*": ui.Zeros()}, seed=0)
    assert (np.asarray(net.fc2.kernel[...]) == 1).all()
    assert (np.asarray(net.fc2.bias[...]) == 0).all()


def test_the_same_rules_on_haiku_and_equinox_pytrees() -> None:
    jax = pytest.importorskip("jax")
    hk = pytest.importorskip("haiku")
    eqx = pytest.importorskip("equinox")
    import unit_init.jax

    forward = hk.without_apply_rng(hk.transform(lambda x: hk.Linear(4, name="fc2")(hk.Linear(16, name="fc1")(x))))
    params = forward.init(jax.random.key(0), jax.numpy.zeros((1, 8)))
    rules = [rule for rule in RULES if rule[0] != "*.never"]
    with pytest.warns(UserWarning, match="embedding"):
        _new, report = unit_init.jax.initialize(params, rules, seed=0)  # Haiku's w and b are kernel and bias
    assert sorted(report.applied) == ["fc1/b", "fc1/w", "fc2/b", "fc2/w"]
    mlp = eqx.nn.MLP(8, 4, 16, 1, key=jax.random.key(0))
    with pytest.warns(UserWarning, match="embedding"):
        new_mlp, report = unit_init.jax.initialize(mlp, rules, seed=0, layout="torch")  # Equinox: (out, in)
    assert sorted(report.applied) == ["layers/0/bias", "layers/0/weight", "layers/1/bias", "layers/1/weight"]
    assert new_mlp.layers[0].weight.shape == (16, 8)
    assert float(abs(new_mlp.layers[1].bias).max()) == 0
    assert float(abs(new_mlp.layers[0].weight).max()) <= math.sqrt(6 / 8)


def test_equinox_weights_take_equinox_layout_and_type_keys_see_its_modules() -> None:
    """Equinox stores ``Linear``/``Conv`` weights ``(out, in, *window)``: drawn in the default layout they took the
    fans from the wrong axes (Var 0.25× He's for a 64 → 256 layer, silently), and ``{eqx.nn.Linear: …}`` matched nothing."""
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")
    import unit_init.jax

    mlp = eqx.nn.MLP(64, 8, 256, 1, key=jax.random.key(0))  # Linear(64 → 256), Linear(256 → 8)
    conv = eqx.nn.Conv2d(16, 32, 3, key=jax.random.key(1))
    new_mlp, report = unit_init.jax.initialize(mlp, {eqx.nn.Linear: ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    assert sorted(report.applied) == ["layers/0/bias", "layers/0/weight", "layers/1/bias", "layers/1/weight"]
    explicit, _ = unit_init.jax.initialize(mlp, {eqx.nn.Linear: ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0, layout="torch")
    for layer, same in zip(new_mlp.layers, explicit.layers, strict=True):
        np.testing.assert_array_equal(np.asarray(layer.weight), np.asarray(same.weight))
    first = np.asarray(new_mlp.layers[0].weight, np.float64)  # 16384 values: the variance within ~1.1 % (1σ)
    assert first.var() == pytest.approx(2 / 64, rel=0.06)
    new_conv, _ = unit_init.jax.initialize(conv, {"weight": ui.HeNormal()}, seed=0)
    assert np.asarray(new_conv.weight, np.float64).var() == pytest.approx(2 / (16 * 9), rel=0.06)  # fan_in = in·3·3
    for chosen in (ui.Layout(in_axis=0, out_axis=1), "keras"):  # a layout the caller gives is kept: fan_in = 256
        kept, _ = unit_init.jax.initialize(mlp, {"*.kernel": ui.HeNormal()}, seed=0, layout=chosen)
        assert np.asarray(kept.layers[0].weight, np.float64).var() == pytest.approx(2 / 256, rel=0.06)
    transposed = eqx.nn.ConvTranspose2d(16, 32, 3, key=jax.random.key(2))  # weight (32, 16, 3, 3)
    new_transposed, _ = unit_init.jax.initialize(transposed, {"weight": ui.HeNormal()}, seed=0)
    assert np.asarray(new_transposed.weight, np.float64).var() == pytest.approx(2 / (16 * 9), rel=0.06)
    stack = eqx.filter_vmap(lambda key: eqx.nn.Linear(64, 256, key=key))(jax.random.split(jax.random.key(4), 4))
    new_stack, _ = unit_init.jax.initialize(stack, {"weight": ui.HeNormal()}, seed=0)  # weight (4, 256, 64): 4 in no fan
    assert np.asarray(new_stack.weight, np.float64).var() == pytest.approx(2 / 64, rel=0.06)
    cell = eqx.nn.GRUCell(64, 256, key=jax.random.key(3))  # weight_ih (768, 64), weight_hh (768, 256)
    new_cell, report = unit_init.jax.initialize(cell, {"weight_*": ui.HeNormal()}, seed=0)
    assert sorted(report.applied) == ["weight_hh", "weight_ih"]
    assert np.asarray(new_cell.weight_ih, np.float64).var() == pytest.approx(2 / 64, rel=0.06)
    assert np.asarray(new_cell.weight_hh, np.float64).var() == pytest.approx(2 / 256, rel=0.06)


def test_the_same_rules_on_keras() -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    inputs = keras.Input((3,), dtype="int32")
    x = keras.layers.Embedding(10, 8, name="emb")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    outputs = keras.layers.Dense(4, name="fc2")(keras.layers.Dense(16, name="fc1")(x))
    model = keras.Model(inputs, outputs, name="net")
    with pytest.warns(UserWarning, match="never"):
        _, report = unit_init.keras.initialize(model, RULES, seed=0)
    assert sorted(report.applied) == ["emb/embeddings", "fc1/bias", "fc1/kernel", "fc2/bias", "fc2/kernel", "norm/beta"]  # beta is a bias
    assert report.unmatched == ("norm/gamma",)  # the moving statistics are not parameters
    fc1 = model.get_layer("fc1")
    assert np.abs(keras.ops.convert_to_numpy(fc1.kernel)).max() <= math.sqrt(6 / 8)
    unit_init.keras.initialize(model, {keras.layers.Dense: ui.Ones(), "*": ui.Constant(2.0)}, seed=0)
    assert (keras.ops.convert_to_numpy(fc1.kernel) == 1).all()
    assert (keras.ops.convert_to_numpy(fc1.bias) == 2).all()
    with pytest.raises(ui.ParameterError, match="must be a built Keras model"):
        unit_init.keras.initialize(keras.layers.Dense(3), RULES)


def test_keras_lstm_per_gate_rules() -> None:
    keras = pytest.importorskip("keras")
    import unit_init.keras

    hidden = 8
    model = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(hidden, name="lstm")], name="rnn")
    unit_init.keras.initialize(model, {"*.recurrent_kernel": per_gate_orthogonal, "*.bias": unit_forget_bias, "*": ui.GlorotUniform()}, seed=0)
    cell = model.get_layer("lstm").cell
    recurrent = keras.ops.convert_to_numpy(cell.recurrent_kernel)  # (h, 4h), gates i, f, c, o along axis 1
    for gate in range(4):
        block = recurrent[:, gate * hidden : (gate + 1) * hidden]
        np.testing.assert_allclose(block.T @ block, np.eye(hidden), atol=1e-5)
    assert keras.ops.convert_to_numpy(cell.bias).tolist() == [0.0] * hidden + [1.0] * hidden + [0.0] * 2 * hidden


def test_keras_attention_kernels_take_the_fans_keras_gives_them() -> None:
    """A type key reaches the EinsumDense projections inside MultiHeadAttention, drawn with fans 512 and 8·64."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    query = keras.Input((4, 512))
    outputs = keras.layers.MultiHeadAttention(num_heads=8, key_dim=64, name="mha")(query, query)
    model = keras.Model(query, outputs, name="att")
    _, report = unit_init.keras.initialize(model, {keras.layers.MultiHeadAttention: ui.GlorotUniform()}, seed=0)
    assert sorted(report.applied) == ["mha/attention_output/kernel", "mha/key/kernel", "mha/query/kernel", "mha/value/kernel"]
    assert len(report.unmatched) == 4  # the biases
    bound = math.sqrt(6 / (512 + 512))  # Keras: fan_in = 512, fan_out = 8 · 64 (and the reverse for the output)
    variables = {variable.path: variable for variable in model.weights}
    for name in ("query", "attention_output"):
        kernel = keras.ops.convert_to_numpy(variables[f"mha/{name}/kernel"])
        assert 0.99 * bound < np.abs(kernel).max() <= bound, name


def test_torch_type_keys_reach_sublayers(torch: Any) -> None:
    import unit_init.torch

    attention = torch.nn.MultiheadAttention(16, 4)
    _, report = unit_init.torch.initialize(attention, {torch.nn.MultiheadAttention: ui.Ones(), "*": ui.Zeros()}, seed=0)
    assert report.applied == {"in_proj_weight": 0, "in_proj_bias": 1, "out_proj.weight": 0, "out_proj.bias": 1}


def test_flax_lstm_cell_gates_are_separate_kernels_set_by_globs() -> None:
    pytest.importorskip("flax")
    from flax import nnx

    import unit_init.jax

    cell = nnx.LSTMCell(3, 4, rngs=nnx.Rngs(0))
    rules = {"h?.kernel": ui.Orthogonal(), "i*.kernel": ui.GlorotUniform(), "hf.bias": ui.Ones(), "*bias": ui.Zeros()}  # nnx: ii, if_, ig, io
    _, report = unit_init.jax.initialize(cell, rules, seed=0)
    assert report.unmatched == ()
    assert np.asarray(cell.hf.bias[...]).tolist() == [1.0] * 4
    assert np.asarray(cell.hi.bias[...]).tolist() == [0.0] * 4
    recurrent = np.asarray(cell.hg.kernel[...])
    np.testing.assert_allclose(recurrent.T @ recurrent, np.eye(4), atol=1e-5)


def test_a_variables_mapping_keeps_its_type_around_the_new_params() -> None:
    """Flax's ``{"params": …, "batch_stats": …}`` as an ``OrderedDict``, a ``defaultdict`` or a ``FrozenDict`` comes back
    as one (it came back a plain dict); the other collections are kept as they were."""
    import collections

    for variables in (
        collections.OrderedDict(params={"w": np.ones((2, 2))}, batch_stats={"mean": np.ones(2)}),
        collections.defaultdict(list, params={"w": np.ones((2, 2))}),
    ):
        new, _ = ui.initialize(variables, {"*": ui.Zeros()}, seed=0)
        assert type(new) is type(variables)
        assert getattr(new, "default_factory", None) is getattr(variables, "default_factory", None)
        assert not new["params"]["w"].any()
        assert variables["params"]["w"].all()  # a new tree: the given one is left as it was
    frozen = pytest.importorskip("flax.core").FrozenDict
    jnp = pytest.importorskip("jax.numpy")
    new, _ = ui.initialize(frozen(params={"w": jnp.ones((2, 2))}, batch_stats={"mean": jnp.ones(2)}), {"*": ui.Zeros()}, seed=0)
    assert type(new) is frozen
    assert not new["params"]["w"].any()
    assert new["batch_stats"]["mean"].all()


def test_pytrees_whose_leaves_share_a_name_cycle_or_nest_too_deep_are_refused() -> None:
    twins = {"a/b": np.zeros((3, 3), "f4"), "a": {"b": np.zeros((3, 3), "f4")}}  # one would be reported for the other
    with pytest.raises(ui.ParameterError, match="both named 'a/b'"):
        ui.initialize(twins, {"*": ui.HeNormal()}, seed=0)
    spellings = {"fc": {"w": np.zeros((3, 4), "f4"), "kernel": np.zeros((3, 4), "f4")}}  # Haiku's and Flax's kernel
    with pytest.raises(ui.ParameterError, match=r"parameters 'fc/w' and 'fc/kernel' both read as 'fc.kernel' .*names="):
        ui.initialize(spellings, {"*": ui.HeNormal()}, seed=0)  # it blamed '/' or '.' in keys
    with pytest.raises(ui.ParameterError, match="both at '1'"):  # one seed for both: identical values
        ui.initialize({1: np.zeros((3, 3)), "1": np.zeros((3, 3))}, {"*": ui.HeNormal()}, seed=0)
    cyclic: dict[str, Any] = {"a": np.ones((3, 3))}
    cyclic["self"] = cyclic
    with pytest.raises(ui.ParameterError, match="contains itself"):
        ui.initialize(cyclic, {"*": ui.HeNormal()}, seed=0)
    deep: Any = np.ones((2, 2))
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ui.ParameterError, match="nests deeper"):
        ui.initialize(deep, {"*": ui.HeNormal()}, seed=0)
    shared: Any = {"w": np.zeros((2, 2), "f4")}
    for _ in range(40):  # 2**40 leaves along its paths: the walk never finished
        shared = {"a": shared, "b": shared}
    with pytest.raises(ui.ParameterError, match="more than 1048576 containers and leaves"):
        ui.initialize(shared, {"*": ui.HeNormal()}, seed=0)


def test_a_refused_parameter_leaves_the_whole_model_unchanged_on_every_framework(monkeypatch: pytest.MonkeyPatch) -> None:
    """dtype, representability and memory were checked parameter by parameter while writing: the earlier ones were changed.

    The refusal is led by the parameter it refuses (it named only the dtype)."""
    torch = pytest.importorskip("torch")
    keras = pytest.importorskip("keras")
    nnx = pytest.importorskip("flax.nnx")
    jnp = pytest.importorskip("jax.numpy")
    import unit_init.jax
    import unit_init.keras
    import unit_init.torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4).half())
    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(ui.ParameterError, match=r"^parameter '1\.weight' of shape \(4, 4\): Constant.*float16"):
        unit_init.torch.initialize(net, {"*": ui.Constant(1e5)}, seed=0)  # 1e5 fits float32, not float16
    assert all(torch.equal(p, b) for p, b in zip(net.parameters(), before, strict=True))
    monkeypatch.setenv("UNIT_INIT_MAX_BYTES", "1M")
    wide = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(1024, 1024))
    first = wide[0].weight.detach().clone()
    with pytest.raises(ui.ResourceError):
        unit_init.torch.initialize(wide, {"*.weight": ui.Orthogonal()}, seed=0)  # made by a QR, then copied in
    assert torch.equal(wide[0].weight, first)
    monkeypatch.delenv("UNIT_INIT_MAX_BYTES")
    narrow = {"0.weight": ui.HeNormal(), "1.weight": ui.BoundedNormal(minval=-2e-31, maxval=2e-31, stddev=1.0)}
    with pytest.raises(ui.ParameterError, match="rng='portable' cannot resolve"):  # refused by the portable stream only
        unit_init.torch.initialize(wide, narrow, seed=0, rng="portable")
    assert torch.equal(wide[0].weight, first)

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.Dense(4, dtype="float16")])
    kernel = keras.ops.convert_to_numpy(model.layers[0].kernel)
    with pytest.raises(ui.ParameterError, match=r"^parameter '[^']+' of shape \([0-9, ]+\): Constant.*float16"):
        unit_init.keras.initialize(model, {"*": ui.Constant(1e5)}, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model.layers[0].kernel), kernel)

    layers = nnx.Sequential(nnx.Linear(4, 4, rngs=nnx.Rngs(0)), nnx.Linear(4, 4, param_dtype=jnp.float16, rngs=nnx.Rngs(1)))
    flax_kernel = np.array(layers.layers[0].kernel[...])
    with pytest.raises(ui.ParameterError, match=r"^parameter '[^']+' of shape \([0-9, ]+\): Constant.*float16"):
        unit_init.jax.initialize(layers, {"*": ui.Constant(1e5)}, seed=0)
    with pytest.raises(ui.DTypeError, match=r"^parameter 'w' of shape \(2,\): HeNormal draws random values and needs a float dtype"):
        ui.initialize({"w": np.zeros(2, np.int32)}, {"*": ui.HeNormal()}, seed=0)  # a NumPy pytree: drawn, not checked first
    np.testing.assert_array_equal(np.array(layers.layers[0].kernel[...]), flax_kernel)


def test_keras_variables_sharing_a_path_are_refused_not_one_skipped() -> None:
    """Two sublayers named alike gave two variables one path; the walker's dict kept one, and the report said all applied."""
    keras = pytest.importorskip("keras")
    import unit_init.keras

    class Twins(keras.Model):
        def __init__(self) -> None:
            super().__init__(name="twins")
            self.a, self.b = keras.layers.Dense(4, name="fc"), keras.layers.Dense(4, name="fc")

        def call(self, x: Any) -> Any:
            return self.b(self.a(x))

    model = Twins()
    model(np.ones((1, 4), "float32"))
    with pytest.raises(ui.ParameterError, match="two parameters are both named 'twins/fc/kernel'"):
        unit_init.keras.initialize(model, {"*": ui.Zeros()}, seed=0)


def test_torch_tensors_no_copy_can_write_are_refused_before_the_draw(torch: Any) -> None:
    """An inference tensor outside inference mode and a sparse tensor raised torch's raw RuntimeError from copy_."""
    import unit_init.torch

    with torch.inference_mode():
        frozen = torch.zeros(3, 3)
    with pytest.raises(ui.UnitInitError, match="inference tensor") as caught:
        unit_init.torch.init_(frozen, ui.HeNormal())
    assert isinstance(caught.value, RuntimeError)  # torch's type too
    with pytest.raises(ui.DTypeError, match="sparse_coo tensor"):
        unit_init.torch.init_(torch.zeros(4, 4).to_sparse(), ui.Zeros())
    with warnings.catch_warnings():  # torch: "The PyTorch API of nested tensors is in prototype stage"
        warnings.simplefilter("ignore", UserWarning)
        nested = torch.nested.nested_tensor([torch.zeros(2, 3), torch.zeros(3, 3)])  # torch.strided layout, no sizes
    for spec in (ui.Zeros(), ui.HeNormal()):  # torch's "NestedTensorImpl doesn't support sizes" RuntimeError before
        with pytest.raises(ui.DTypeError, match="nested tensor") as refused:
            unit_init.torch.init_(nested, spec, seed=0)
        assert isinstance(refused.value, NotImplementedError)
    for empty in (torch.empty(0, 4), torch.empty(3, 4, device="meta")):  # nothing to write, every argument still checked
        with pytest.raises(ui.SeedError):
            unit_init.torch.init_(empty, ui.HeNormal(), seed="x")
    with pytest.raises(ui.DTypeError):
        unit_init.torch.init_(torch.empty(0, 4, dtype=torch.int64), ui.RandomNormal())


def test_torch_submodules_named_like_module_methods(torch: Any) -> None:
    """``get_submodule("half")`` finds ``nn.Module.half``, the method: the walker raised for a submodule named ``half``."""
    import unit_init.torch

    net = torch.nn.Module()
    net.half = torch.nn.Linear(4, 3)  # registered in net._modules; net.half still reads the method
    net.train = torch.nn.Linear(3, 2)
    _, report = unit_init.torch.initialize(net, {torch.nn.Linear: ui.Zeros(), "*bias": ui.Ones()}, seed=0)
    assert sorted(report.applied) == ["half.bias", "half.weight", "train.bias", "train.weight"]
    assert torch.count_nonzero(net._modules["half"].weight) == 0
    assert len(ui.mup_rules(net, net)) > 0  # muP describes torch modules with the same walker


def test_torch_parametrized_weights_are_drawn_as_the_weight_and_written_through_right_inverse(torch: Any) -> None:
    """weight_norm's g and v were drawn separately (g from fans of (out, 1)): row norms random, not the weight's law."""
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import orthogonal, spectral_norm, weight_norm

    import unit_init.torch

    rules = {"*weight": ui.HeNormal(), "*bias": ui.HeUniform()}
    plain, normed = torch.nn.Linear(64, 32), weight_norm(torch.nn.Linear(64, 32))
    unit_init.torch.initialize(plain, rules, seed=3)
    _, report = unit_init.torch.initialize(normed, rules, seed=3)
    assert sorted(report.applied) == ["bias", "weight"]
    assert torch.allclose(normed.weight, plain.weight, rtol=1e-5, atol=1e-7)  # g = |v| per row, v = the drawn weight
    assert torch.equal(normed.bias, plain.bias)  # the bias takes the weight's fans, as beside a plain weight
    projected = orthogonal(torch.nn.Linear(8, 8))
    unit_init.torch.initialize(projected, {"weight": ui.HeNormal()}, seed=0)
    assert torch.allclose(projected.weight @ projected.weight.T, torch.eye(8), atol=1e-5)  # torch's right_inverse projects
    spectral = spectral_norm(torch.nn.Linear(6, 4))
    unit_init.torch.initialize(spectral, {"weight": ui.HeNormal()}, seed=0)
    drawn = unit_init.torch.initialize(torch.nn.Linear(6, 4), {"weight": ui.HeNormal()}, seed=0)[0].weight
    assert torch.equal(spectral.parametrizations.weight.original, drawn)
    wide = spectral_norm(torch.nn.Linear(400, 300))
    unit_init.torch.initialize(wide, {"weight": ui.HeNormal()}, seed=0)  # its power-iteration vectors follow the new weight
    assert float(torch.linalg.matrix_norm(wide.eval().weight.detach(), 2)) == pytest.approx(1.0, abs=0.05)  # stale: 36-65
    refused = torch.nn.Sequential(spectral_norm(torch.nn.Linear(40, 30)), torch.nn.Linear(30, 3))
    vector = refused[0].parametrizations.weight[0]._u.clone()
    with pytest.raises(ui.ShapeError):  # reading the weight in train mode took a power-iteration step, before refusing
        unit_init.torch.initialize(refused, {"*.bias": ui.Orthogonal()})
    assert torch.equal(refused[0].parametrizations.weight[0]._u, vector)
    fixed = orthogonal(torch.nn.Linear(8, 8), orthogonal_map="matrix_exp", use_trivialization=False)  # cannot be assigned
    _, report = unit_init.torch.initialize(fixed, {"*": ui.Zeros()}, seed=0)
    assert sorted(report.applied) == ["bias", "parametrizations.weight.original"]

    class Doubled(torch.nn.Module):  # no right_inverse: its original is drawn for its own shape
        def forward(self, x: Any) -> Any:
            return 2 * x

    doubled = torch.nn.Linear(4, 4)
    parametrize.register_parametrization(doubled, "weight", Doubled())
    _, report = unit_init.torch.initialize(doubled, {"*": ui.Ones()}, seed=0)
    assert sorted(report.applied) == ["bias", "parametrizations.weight.original"]
    assert torch.equal(doubled.weight, torch.full((4, 4), 2.0))


def test_torch_parametrized_weights_whose_stored_tensors_are_garbage_initialize_or_are_refused_typed(torch: Any) -> None:
    """After ``to_empty`` (whatever memory was there): every parametrized weight was read through its forward, also
    one ``skip=`` left out, and ``orthogonal``'s raised a bare TypeError; ``spectral_norm``'s power iteration started
    from vectors whose norm overflows gave a nan weight, reported initialized; one after another parametrization in its
    chain was not re-estimated (largest singular value 58.6 in eval mode). Helper 167."""
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import orthogonal, spectral_norm

    import unit_init.torch

    class Broken(torch.nn.Module):  # a forward that raises on what is stored (registered while it did not)
        fail = False

        def forward(self, x: Any) -> Any:
            if Broken.fail:
                raise RuntimeError("cannot read the stored tensor")
            return x

        def right_inverse(self, x: Any) -> Any:
            if Broken.fail:
                raise RuntimeError("cannot store either")
            return x

    net = torch.nn.Sequential(torch.nn.Linear(4, 4), orthogonal(torch.nn.Linear(32, 16)), torch.nn.Linear(4, 4))
    parametrize.register_parametrization(net[2], "weight", Broken())
    with torch.no_grad():
        net[1].parametrizations.weight.original.fill_(float("nan"))  # orthogonal's forward raises on it
    Broken.fail = True
    _, report = unit_init.torch.initialize(net, {"*": ui.Zeros()}, seed=0, skip=["1.*", "2.*"])  # read nothing skipped
    assert sorted(report.skipped) == ["1.bias", "1.weight", "2.bias", "2.weight"]
    with pytest.raises(ui.ParameterError, match=r"'2\.weight'.*forward of its parametrizations raised RuntimeError"):
        unit_init.torch.initialize(net, {"*": ui.Zeros()}, seed=0)
    class ForwardRaises(torch.nn.Module):  # registered unsafe: its forward always raises, its right_inverse works
        def forward(self, x: Any) -> Any:
            raise ZeroDivisionError("forward")

        def right_inverse(self, x: Any) -> Any:
            return x

    always = torch.nn.Linear(4, 4)
    parametrize.register_parametrization(always, "weight", ForwardRaises(), unsafe=True)
    with pytest.raises(ui.ParameterError, match=r"forward raises on the values drawn for it \(ZeroDivisionError"):
        unit_init.torch.initialize(always, {"weight": ui.HeNormal()}, seed=0)  # was the bare ZeroDivisionError (helper 169)
    unit_init.torch.initialize(net, {"*.weight": ui.Orthogonal(), "*.bias": ui.Zeros()}, seed=0, skip=["2.*"])
    assert torch.allclose(net[1].weight @ net[1].weight.T, torch.eye(16), atol=1e-5)  # written through right_inverse

    spectral = spectral_norm(torch.nn.Linear(512, 256))
    for vector in (spectral.parametrizations.weight[0]._u, spectral.parametrizations.weight[0]._v):
        with torch.no_grad():
            vector.fill_(1e30)  # finite, but its norm overflows float32
    unit_init.torch.initialize(spectral, {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0)
    weight = spectral.eval().weight.detach()
    assert bool(torch.isfinite(weight).all())
    assert float(torch.linalg.matrix_norm(weight, 2)) == pytest.approx(1.0, abs=0.05)

    class Tripled(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return 3 * x

        def right_inverse(self, y: Any) -> Any:
            return y / 3

    chained = torch.nn.Linear(64, 32)
    parametrize.register_parametrization(chained, "weight", Tripled())
    chained = spectral_norm(chained)
    unit_init.torch.initialize(chained, {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0)
    assert float(torch.linalg.matrix_norm(chained.eval().weight.detach(), 2)) == pytest.approx(1.0, abs=0.05)


def test_torch_a_parametrization_that_cannot_take_the_drawn_values_leaves_the_model_untouched(torch: Any) -> None:
    """An ``exp`` parametrization: its ``right_inverse`` raised on a negative draw after the layer before it was written
    (a raw ``ValueError``), or wrote ``log`` of it, NaN, silently. A ``padding_idx`` set outside the table raised
    ``IndexError`` after the layer before it was written; a negative one is reported as the row torch reads."""
    from torch.nn.utils import parametrize

    import unit_init.torch

    class Exp(torch.nn.Module):
        def __init__(self, strict: bool) -> None:
            super().__init__()
            self.strict = strict

        def forward(self, x: Any) -> Any:
            return x.exp()

        def right_inverse(self, y: Any) -> Any:
            if self.strict and bool((y <= 0).any()):
                raise ValueError("needs positive values")
            return y.log()

    for strict, message in ((True, "refuses the values drawn for it"), (False, "into non-finite ones")):
        net = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Linear(8, 8))
        with torch.no_grad():
            net[1].weight.abs_()  # registering takes the weight through right_inverse too
        parametrize.register_parametrization(net[1], "weight", Exp(strict))
        before = [tensor.clone() for tensor in net.parameters()]
        with pytest.raises(ui.ParameterError, match=f"parameter '1.weight' of shape \\(8, 8\\): its parametrization's right_inverse .*{message}"):
            unit_init.torch.initialize(net, {"*weight": ui.HeNormal(), "*bias": ui.Zeros()}, seed=0)
        assert all(torch.equal(old, new) for old, new in zip(before, net.parameters(), strict=True))
        unit_init.torch.initialize(net, {"*weight": ui.Ones(), "*bias": ui.Zeros()}, seed=0)  # values it takes
        assert torch.allclose(net[1].weight, torch.ones(8, 8))
    from torch.nn.utils.parametrizations import weight_norm

    normed = torch.nn.Sequential(torch.nn.Linear(4, 4), weight_norm(torch.nn.Embedding(10, 4, padding_idx=0)))  # helper 167
    before = [tensor.clone() for tensor in normed.parameters()]
    with pytest.raises(ui.ParameterError, match=r"'1\.weight'.*read the values drawn for it back as non-finite ones \(weight_norm of a zero row"):
        unit_init.torch.initialize(normed, {"*": ui.RandomNormal()}, seed=0)  # its zeroed padding row: g = 0, v = 0, read as 0/0
    assert all(torch.equal(old, new) for old, new in zip(before, normed.parameters(), strict=True))
    table = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Embedding(10, 4, padding_idx=0))
    table[1].padding_idx = 10
    before = [tensor.clone() for tensor in table.parameters()]
    with pytest.raises(ui.ParameterError, match="padding_idx=10 is no int row index of its 10 rows"):
        unit_init.torch.initialize(table, {"*": ui.RandomNormal()}, seed=0)
    assert all(torch.equal(old, new) for old, new in zip(before, table.parameters(), strict=True))
    table[1].padding_idx = "x"  # a corrupted attribute: int() raised a raw ValueError
    with pytest.raises(ui.ParameterError, match="padding_idx='x' is no int row index of its 10 rows"):
        unit_init.torch.initialize(table, {"*": ui.RandomNormal()}, seed=0)
    table[1].padding_idx = -3
    _, report = unit_init.torch.initialize(table, {"*": ui.RandomNormal()}, seed=0)
    assert dict(report.zeroed_rows) == {"1.weight": (7,)}
    assert torch.count_nonzero(table[1].weight[7]) == 0


def test_torch_tied_shared_and_parametrized_tensors_answer_to_all_their_names(torch: Any) -> None:
    """A tensor has one entry, under its first name; its other names (a state_dict's keys) were unknown to skip= and type keys."""
    from torch.nn.utils.parametrizations import weight_norm

    import unit_init.torch

    class TiedLM(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.dec, self.emb = torch.nn.Linear(64, 1000, bias=False), torch.nn.Embedding(1000, 64, padding_idx=0)
            self.dec.weight = self.emb.weight

    tied, report = unit_init.torch.initialize(TiedLM(), {torch.nn.Embedding: ui.RandomNormal(stddev=0.02), torch.nn.Linear: ui.HeNormal()}, seed=0)
    assert report.applied == {"dec.weight": 0}  # the Embedding rule: the table is inside the Embedding too
    assert report.zeroed_rows == {"dec.weight": (0,)}  # and zeroes its padding row
    assert float(tied.emb.weight.detach()[0].abs().max()) == 0.0
    assert float(tied.emb.weight.detach().var()) == pytest.approx(0.02**2, rel=0.02)  # 64k values: sd 0.6 %; 3 % fails

    shared = torch.nn.Linear(4, 4)
    net = torch.nn.Sequential(shared, torch.nn.ReLU(), shared)
    loaded = torch.ones(4, 4)
    net.load_state_dict({"2.weight": loaded}, strict=False)
    _, report = unit_init.torch.initialize(net, {"*": ui.HeNormal()}, seed=0, skip=["2.weight"])  # the tensor's second name
    assert report.skipped == ("0.weight",)
    assert torch.equal(shared.weight, loaded)

    normed = torch.nn.Sequential(weight_norm(torch.nn.Linear(40, 30)))
    kept = [tensor.clone() for tensor in normed.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every parameter skipped: the rule reached them, it is not "matched no parameter"
        _, report = unit_init.torch.initialize(normed, {"*": ui.HeNormal()}, seed=0, skip=list(normed.state_dict()))
    assert sorted(report.skipped) == ["0.bias", "0.weight"]  # the state_dict names g and v: original0, original1
    assert all(torch.equal(a, b) for a, b in zip(normed.parameters(), kept, strict=True))


def test_torch_initialize_of_a_wide_orthogonal_parametrization_leaves_torchs_generator(torch: Any) -> None:
    """Its ``right_inverse`` draws (to complete a basis): the global generator advanced, where a plain module's does not."""
    from torch.nn.utils.parametrizations import orthogonal

    import unit_init.torch

    layer = orthogonal(torch.nn.Linear(256, 64))
    state = torch.random.get_rng_state()
    unit_init.torch.initialize(layer, {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.allclose(layer.weight @ layer.weight.T, torch.eye(64), atol=1e-4)


def test_another_frameworks_array_in_a_pytree_and_a_value_that_is_no_pytree_are_refused(torch: Any) -> None:
    """A torch tensor among NumPy (or JAX) leaves was kept as it was, reported nowhere, with every rule counted as
    covered; ``unit_init.jax.initialize`` returned a torch module, a number, a string or ``None`` unchanged."""
    import jax.numpy as jnp

    import unit_init.jax

    params = {"fc": {"kernel": torch.zeros(64, 32)}, "head": {"kernel": np.zeros((32, 8), np.float32)}}
    with pytest.raises(ui.ParameterError, match=r"parameter 'fc/kernel' is a torch\.Tensor, which a pytree of NumPy or Array-API arrays does not draw"):
        ui.initialize(params, {"*.kernel": ui.HeNormal()}, seed=0)
    with pytest.raises(ui.ParameterError, match=r"parameter 'b' is a torch\.Tensor, which unit_init\.jax\.initialize does not draw"):
        unit_init.jax.initialize({"a": jnp.zeros((4, 4)), "b": torch.zeros(4, 4)}, {"*": ui.HeNormal()}, seed=0)
    for given in (torch.nn.Linear(2, 2), 5, "abc", None):
        with pytest.raises(ui.ParameterError, match="model_or_params="):
            unit_init.jax.initialize(given, {"*": ui.HeNormal()}, seed=0)
    # one skip= names, or no rule covers, is kept as it is and reported so; an array-like of no framework is kept
    scipy_sparse = pytest.importorskip("scipy.sparse")
    new, report = ui.initialize({**params, "adjacency": scipy_sparse.eye(3, format="csr")}, {"head.*": ui.HeNormal()}, seed=0,
                                skip=["fc/kernel"])
    assert report.skipped == ("fc/kernel",)
    assert new["fc"]["kernel"] is params["fc"]["kernel"]
    _, report = ui.initialize(params, {"head.*": ui.HeNormal()}, seed=0)
    assert report.unmatched == ("fc/kernel",)
    kept = {"a": np.zeros((3, 3)), "n": np.float32(1), "s": "x", "i": 3}  # numbers and strings are no parameters: kept
    new, report = ui.initialize(kept, {"*": ui.HeNormal()}, seed=0)
    assert report.applied == {"a": 0}
    assert new["n"] == 1
    assert new["s"] == "x"


def test_a_names_entry_that_renames_no_parameter_is_warned_about() -> None:
    """A misspelt ``names=`` key renamed nothing in silence (the twins it was meant for kept different seeds), where a
    misspelt rule glob is warned about."""
    with pytest.warns(UserWarning, match=r"names= renames 'fc1.kernal', which is no parameter's name"):
        _, report = ui.initialize(_mlp(), {"*": ui.Zeros()}, seed=0, names={"fc1.kernal": "dense.kernel"})
    assert "fc1/kernel" in report.applied
