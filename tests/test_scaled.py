"""Width- and depth-scaled families (unit_init.spec.scaled, unit_init.adapters.mup).

Formulas against the papers' values, serialization, use in ``initialize``
rules, and muP against the ``mup`` package itself (``microsoft/mup``): the same
per-parameter standard deviations and the same zeroed readout and query, for an
MLP and a Transformer block at two widths.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

import unit_init as ui
from unit_init.errors import DTypeError, ParameterError, ShapeError
from unit_init.spec.torch_style import KaimingNormal, KaimingUniform

torch = pytest.importorskip("torch")
nn = torch.nn

# ---------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("spec", "shape", "variance"),
    [
        (ui.ScaledResidual(n_layer=12), (768, 768), 0.02**2 / 24),  # GPT-2 small c_proj
        (ui.ScaledResidual(n_layer=48, stddev=0.01), (8, 8), 0.01**2 / 96),
        (ui.SmallInit(), (512, 2048), 2 / (5 * 512)),  # d = fan_in
        (ui.SmallInit(d=1024), (3, 3), 2 / (5 * 1024)),
        (ui.WangInit(n_layer=24), (1024, 1024), (2 / (24 * math.sqrt(1024))) ** 2),  # GPT-NeoX wang_init
        (ui.WangInit(n_layer=24), (4096, 1024), (2 / (24 * math.sqrt(1024))) ** 2),  # the MLP's 4d → d output: d = fan_out
        (ui.DeepNorm(encoder_layers=100), (64, 256), (8 * 100) ** -0.5 * 2 / 320),
        (ui.DeepNorm(decoder_layers=1000), (64, 64), (8 * 1000) ** -0.5 * 2 / 128),
        (ui.DeepNorm(encoder_layers=6, decoder_layers=6, stack="encoder"), (32, 32), 0.87**2 * (6**4 * 6) ** (-1 / 8) * 2 / 64),
        (ui.DeepNorm(encoder_layers=6, decoder_layers=6, stack="decoder"), (32, 32), (12 * 6) ** -0.5 * 2 / 64),
        (ui.Fixup(n_branches=16), (3, 3, 64, 128), 2 / (9 * 128) / 16),  # m = 2: L^(-1/2) std, fan_out
        (ui.Fixup(n_branches=8, branch_layers=3, mode="fan_in"), (256, 64), 2 / 256 * 8 ** (-1 / 2)),  # L^(-1/4) std
        (ui.TFixup(n_layer=6, stack="encoder"), (512, 2048), 0.67**2 * 6**-0.5 * 2 / 2560),
        (ui.TFixup(n_layer=6, stack="decoder"), (512, 512), (9 * 6) ** -0.5 * 2 / 1024),
        (ui.TFixupEmbedding(n_layer=6), (32000, 512), (9 * 6) ** -0.5 / 512),
    ],
)
def test_variance_matches_the_paper(spec: ui.Initializer, shape: tuple[int, ...], variance: float) -> None:
    assert spec.variance(shape) == pytest.approx(variance, rel=1e-12)


def test_deepnorm_draws_torchscales_untruncated_normal_by_default() -> None:
    """torchscale's deepnorm init is xavier_normal_ scaled by β: an untruncated Gaussian (same variance as a truncated one)."""
    from unit_init import distributions as d

    assert type(ui.DeepNorm(encoder_layers=6).distribution_for((8, 8))) is d.Normal
    assert type(ui.DeepNorm(encoder_layers=6, distribution="truncated_normal").distribution_for((8, 8))) is d.TruncatedGaussian


def test_deepnorm_alpha_beta_table() -> None:
    """Wang et al. 2022, Table 1 (DeepNet): α, β for the three architectures."""
    n, m = 18, 36
    assert (ui.DeepNorm(encoder_layers=n).alpha, ui.DeepNorm(encoder_layers=n).beta) == pytest.approx(((2 * n) ** 0.25, (8 * n) ** -0.25))
    assert (ui.DeepNorm(decoder_layers=m).alpha, ui.DeepNorm(decoder_layers=m).beta) == pytest.approx(((2 * m) ** 0.25, (8 * m) ** -0.25))
    encoder = ui.DeepNorm(encoder_layers=n, decoder_layers=m, stack="encoder")
    decoder = ui.DeepNorm(encoder_layers=n, decoder_layers=m, stack="decoder")
    assert (encoder.alpha, encoder.beta) == pytest.approx((0.81 * (n**4 * m) ** (1 / 16), 0.87 * (n**4 * m) ** (-1 / 16)))
    assert (decoder.alpha, decoder.beta) == pytest.approx(((3 * m) ** 0.25, (12 * m) ** -0.25))


def test_families_and_draws() -> None:
    """The T-Fixup default is Xavier-uniform (the paper's code); the rest draw N(0, Var); a large draw has that variance."""
    assert isinstance(ui.TFixup(n_layer=2).distribution_for((8, 8)), ui.distributions.Uniform)
    spec = ui.ScaledResidual(n_layer=6)
    w = np.asarray(spec((512, 512), seed=0), dtype=np.float64)
    assert w.var() == pytest.approx(spec.variance((512, 512)), rel=0.02)
    assert abs(stats.kurtosis(w.ravel())) < 0.05  # normal, not uniform (-1.2)


def _sylvester(m: int) -> np.ndarray:
    h = np.ones((1, 1))
    for _ in range(m):
        h = np.block([[h, h], [h, -h]])
    return h


@pytest.mark.parametrize(("out", "inp"), [(4, 4), (3, 8), (8, 3), (6, 5), (33, 10)])
def test_zero_follows_algorithm_1(out: int, inp: int) -> None:
    """Zhao et al. 2021: partial identity when out <= in, else c·H_m[:out, :in] with m = ⌈log₂ out⌉, c = 2^(−(m−1)/2)."""
    w = np.asarray(ui.ZerO()((out, inp), layout="torch", backend="numpy", dtype="float64"))
    if out <= inp:
        expected = np.eye(out, inp)
    else:
        m = math.ceil(math.log2(out))
        expected = 2 ** (-(m - 1) / 2) * _sylvester(m)[:out, :inp]
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_zero_is_the_same_on_every_backend(backend: str) -> None:
    pytest.importorskip(backend)
    expected = np.asarray(ui.ZerO()((3, 3, 5, 12)))
    np.testing.assert_array_equal(np.asarray(ui.ZerO()((3, 3, 5, 12), backend=backend)), expected)
    np.testing.assert_array_equal(np.asarray(ui.ZerO()((3, 3, 5, 12), rng="portable", seed=0)), expected)


def test_zero_convolution_centre_tap_and_torch() -> None:
    w = ui.ZerO()((8, 3, 3, 3), layout="torch", backend="torch")
    centre = ui.ZerO()((8, 3), layout="torch", backend="torch")
    assert torch.equal(w[:, :, 1, 1], centre)
    assert int(torch.count_nonzero(w)) == int(torch.count_nonzero(centre))
    keras = np.asarray(ui.ZerO()((3, 3, 3, 8)))  # (*window, in, out)
    np.testing.assert_array_equal(keras[1, 1], centre.numpy().T)
    with pytest.raises(DTypeError, match="floating dtype"):
        ui.ZerO()((8, 3), dtype="int32")
    with pytest.raises(ShapeError):
        ui.ZerO()((8,))


# ---------------------------------------------------------------- validation and serialization

ALL_SPECS = [
    ui.ScaledResidual(n_layer=12, stddev=0.01),
    ui.SmallInit(d=64),
    ui.WangInit(n_layer=4),
    ui.DeepNorm(encoder_layers=6, decoder_layers=6, stack="decoder", distribution="uniform"),
    ui.Fixup(n_branches=10, branch_layers=3, seed=5),
    ui.TFixup(n_layer=6, stack="decoder"),
    ui.TFixupEmbedding(n_layer=6, d=512),
    ui.ZerO(),
    ui.MuP(rule=ui.rules.FixedVariance(4e-4), family="normal", fan_in_mult=2.0, fan_out_mult=2.0, width_mult=2.0),
    ui.MuP(rule=ui.rules.FanScaled(2.0, "fan_avg"), family="truncated_normal", fan_in_mult=8.0),
]


@pytest.mark.parametrize("spec", ALL_SPECS, ids=lambda s: type(s).__name__)
def test_serialization_round_trip(spec: ui.Initializer) -> None:
    config = ui.serialize(spec)
    assert ui.deserialize(config) == spec
    assert ui.get(config) == spec


def test_names_in_get() -> None:
    assert set(ui.SCALED) <= set(ui.serialization._NAMED)
    assert ui.get("zer_o") == ui.ZerO()
    assert ui.get("small_init") == ui.SmallInit()
    assert ui.get("SmallInit") == ui.SmallInit()
    assert ui.get("mup").variance((64, 64)) == 1 / 64  # the default rule: N(0, 1/fan_in)
    with pytest.raises(ParameterError, match="'scaled_residual' needs arguments"):
        ui.get("scaled_residual")


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: ui.ScaledResidual(n_layer=0), "n_layer=0 must be an int in \\[1, 2\\*\\*53\\]"),
        (lambda: ui.WangInit(n_layer=2**1000), "n_layer=.* must be an int in \\[1, 2\\*\\*53\\]"),  # its square overflowed the variance
        (lambda: ui.ScaledResidual(n_layer=2.5), "n_layer=2.5"),
        (lambda: ui.ScaledResidual(n_layer=True), "n_layer=True"),
        (lambda: ui.ScaledResidual(n_layer=4, stddev=-1.0), "stddev=-1.0 must be > 0"),
        (lambda: ui.SmallInit(d=0), "d=0"),
        (lambda: ui.DeepNorm(), "encoder_layers >= 1 or decoder_layers >= 1"),
        (lambda: ui.DeepNorm(encoder_layers=2, decoder_layers=2), "stack='encoder' or 'decoder'"),
        (lambda: ui.DeepNorm(encoder_layers=2, stack="decoder"), "decoder_layers=0"),
        (lambda: ui.DeepNorm(encoder_layers=2, stack="encodr"), "Did you mean 'encoder'"),
        (lambda: ui.Fixup(n_branches=4, branch_layers=1), "branch_layers=1 must be an int in \\[2, 2\\*\\*53\\]"),
        (lambda: ui.Fixup(n_branches=4, mode="fan"), "mode='fan' is not known"),
        (lambda: ui.TFixup(n_layer=4, distribution="cauchy"), "distribution='cauchy'"),
        (lambda: ui.MuP(rule=ui.rules.FanScaled(), width_mult=0.0), "width_mult=0.0 must be > 0"),
    ],
)
def test_bad_arguments_are_named(build: Any, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        build()


# ---------------------------------------------------------------- rules of initialize


class Block(nn.Module):
    """A pre-LN Transformer block with separate q, k, v projections, its MLP and a readout."""

    def __init__(self, width: int, vocab: int = 50, readout: type[nn.Linear] = nn.Linear, **readout_options: Any) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, width)
        self.ln1, self.ln2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.q, self.k, self.v, self.o = (nn.Linear(width, width) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(width, 4 * width), nn.Linear(4 * width, width)
        self.head = readout(width, vocab, **readout_options)


class MLP(nn.Module):
    def __init__(self, width: int, readout: type[nn.Linear] = nn.Linear, **readout_options: Any) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(16, width), nn.Linear(width, width)
        self.head = readout(width, 10, **readout_options)


def test_depth_scaled_rule_by_name_in_initialize() -> None:
    """"Every ``*.o.weight`` gets the depth-scaled normal": GPT-2's rule, by spec and by config."""
    model = nn.Sequential(*(Block(64) for _ in range(4)))
    rules = {"*.o.weight": {"class_name": "ScaledResidual", "config": {"n_layer": 4}}, "*.weight": ui.RandomNormal(stddev=0.02)}
    _, report = ui.torch.initialize(model, rules, seed=0, skip=["*.ln*", "*.bias"])
    scaled = torch.cat([block.o.weight.detach().flatten() for block in model]).double()
    plain = torch.cat([block.q.weight.detach().flatten() for block in model]).double()
    assert float(scaled.std()) == pytest.approx(0.02 / math.sqrt(8), rel=0.02)
    assert float(plain.std()) == pytest.approx(0.02, rel=0.02)
    assert report.applied["0.o.weight"] == 0


# ---------------------------------------------------------------- muP against the mup package



def _mup() -> Any:
    """The reference package (a test-only dependency, installed without its own dependencies by the noxfile)."""
    return pytest.importorskip("mup")

BASE, DELTA, WIDTHS = 32, 64, (64, 256)
ENOUGH = 2**16  # elements pooled per parameter for each side's sample


def _mup_model(factory: Any, width: int, *, zero_readout: bool, init: Any, query_zero: bool = False) -> Any:
    """``factory(width)`` set up as mup's examples do: MuReadout, set_base_shapes(base, delta), mup.init on every weight."""
    model = factory(width, readout=_mup().MuReadout, readout_zero_init=zero_readout)
    _mup().set_base_shapes(model, factory(BASE, readout=_mup().MuReadout), delta=factory(DELTA, readout=_mup().MuReadout))

    def reinit(name: str, tensor: Any) -> None:
        if name.endswith("bias") or (name == "q.weight" and query_zero):
            nn.init.zeros_(tensor)
        elif tensor.dim() >= 2 and not (name == "head.weight" and zero_readout):
            init(tensor)

    return model, reinit


def _pooled(draw: Any, tensors: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per parameter, ``draw(r)`` pooled over repetitions r until each holds ENOUGH elements (one draw for an all-zero one)."""
    pools: dict[str, list[np.ndarray]] = {name: [] for name in tensors}
    for r in range(math.ceil(ENOUGH / min(t.numel() for t in tensors.values() if t.dim() >= 2))):
        draw(r)
        for name, tensor in tensors.items():
            if sum(map(len, pools[name])) < ENOUGH and (r == 0 or pools[name][0].any()):
                pools[name].append(tensor.detach().double().numpy().ravel().copy())
    return {name: np.concatenate(pool) for name, pool in pools.items()}


def _compare_with_mup(
    factory: Any, width: int, init_ours: Any, init_mup: Any, *, zero_readout: bool, query_zero: bool = False
) -> dict[str, tuple[float, float]]:
    """Per weight and bias: (our std, mup's std), each from >= 2^16 pooled elements; asserts they agree."""
    theirs, reinit = _mup_model(factory, width, zero_readout=zero_readout, init=init_mup, query_zero=query_zero)
    ours = factory(width)
    rules = ui.mup_rules(
        factory(BASE), ours, delta=factory(DELTA), init=init_ours, readout="head.weight",
        readout_init="zero" if zero_readout else "multiplier", query="q.weight" if query_zero else (),
    )
    compared = {name: t for name, t in theirs.named_parameters() if t.dim() >= 2 or name.endswith("bias")}  # norm scales: untouched

    def reference(seed: int) -> None:
        torch.manual_seed(seed)
        with torch.no_grad():
            for name, tensor in compared.items():
                reinit(name, tensor)

    mine = _pooled(lambda seed: ui.torch.initialize(ours, rules, seed=seed), {name: ours.get_parameter(name) for name in compared})
    reference_pooled = _pooled(reference, compared)
    found: dict[str, tuple[float, float]] = {}
    for name in compared:
        a, b = mine[name], reference_pooled[name]
        found[name] = (float(a.std()), float(b.std()))
        if not b.any():
            assert not a.any(), f"{name}: mup leaves it zero, ours is not"
            continue
        assert stats.ks_2samp(a, b).pvalue > 1e-3, f"{name}: distributions differ {found[name]}"
        assert stats.levene(a, b).pvalue > 1e-3, f"{name}: variances differ {found[name]}"
    return found


def _kaiming(tensor: Any) -> Any:
    return _mup().init.kaiming_normal_(tensor, mode="fan_in", nonlinearity="linear")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("zero_readout", [True, False], ids=["zero-readout", "readout-multiplier"])
def test_mup_mlp_matches_the_package(width: int, zero_readout: bool) -> None:
    init = ui.VarianceScaling(1.0, "fan_in", "untruncated_normal")
    found = _compare_with_mup(MLP, width, init, _kaiming, zero_readout=zero_readout)
    m = width / BASE
    assert found["fc2.weight"][0] == pytest.approx(math.sqrt(1 / (BASE * m)), rel=0.01)  # hidden: base Var / m = 1/width
    assert found["fc1.weight"][0] == pytest.approx(math.sqrt(1 / 16), rel=0.01)  # input: fan_in 16, constant
    assert found["head.weight"][0] == (0.0 if zero_readout else pytest.approx(math.sqrt(1 / BASE), rel=0.01))


@pytest.mark.parametrize("width", WIDTHS)
def test_mup_transformer_block_matches_the_package(width: int) -> None:
    """GPT-style constant σ = 0.02 (mutransformers): hidden weights σ²/m, embedding and readout σ², query and readout zero."""
    found = _compare_with_mup(
        Block, width, ui.RandomNormal(stddev=0.02), lambda t: _mup().init.normal_(t, std=0.02), zero_readout=True, query_zero=True
    )
    m = width / BASE
    for name in ("k.weight", "v.weight", "o.weight", "fc1.weight", "fc2.weight"):
        assert found[name][0] == pytest.approx(0.02 / math.sqrt(m), rel=0.01), name
    assert found["embed.weight"][0] == pytest.approx(0.02, rel=0.01)
    assert found["q.weight"] == (0.0, 0.0)
    assert found["head.weight"] == (0.0, 0.0)


@pytest.mark.parametrize(
    ("name", "init_ours", "init_mup"),
    [
        ("xavier_uniform", "xavier_uniform", lambda t: _mup().init.xavier_uniform_(t)),
        ("kaiming_uniform(a=√5)", KaimingUniform(a=math.sqrt(5)), lambda t: _mup().init.kaiming_uniform_(t, a=math.sqrt(5))),
        ("kaiming_normal(fan_out)", KaimingNormal(mode="fan_out", nonlinearity="relu"),
         lambda t: _mup().init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")),
        ("trunc_normal", "trunc_normal", lambda t: _mup().init.trunc_normal_(t)),
        ("truncated_normal(±3)", ui.TruncatedNormal(stddev=0.5, lower=-3.0, upper=3.0), lambda t: _mup().init.trunc_normal_(t, std=0.5, a=-1.5, b=1.5)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_mup_rules_take_torchs_spellings_and_any_truncation(name: str, init_ours: Any, init_mup: Any) -> None:
    """``mup.init.xavier_uniform_``, ``kaiming_*_`` and ``trunc_normal_`` ported 1:1: torch's spellings and the bounds of a
    truncated normal kept in units of its std (the ±2 of TruncatedNormal's default was assumed, whatever its bounds)."""
    found = _compare_with_mup(MLP, 256, init_ours, init_mup, zero_readout=True)
    assert found["fc2.weight"][0] > 0, name


@pytest.mark.parametrize(
    ("init_ours", "init_mup"),
    [
        (KaimingNormal(nonlinearity="relu"), lambda t: _mup().init.kaiming_normal_(t, nonlinearity="relu")),
        (KaimingNormal(mode="fan_out"), lambda t: _mup().init.kaiming_normal_(t, mode="fan_out")),
        (KaimingUniform(a=math.sqrt(5)), lambda t: _mup().init.kaiming_uniform_(t, a=math.sqrt(5))),
    ],
    ids=["kaiming_normal", "kaiming_normal(fan_out)", "kaiming_uniform(a=√5)"],
)
def test_mup_rules_give_an_embedding_torchs_fans_under_torchs_spellings(init_ours: Any, init_mup: Any) -> None:
    """``mup.init.kaiming_*_`` reads an ``nn.Embedding`` table ``(num, dim)`` with torch's fans (fan_in = dim, taken back
    to the base width); ``mup_rules`` took the canonical fan_in = num (50 rows against a base width of 32 here: a std
    √(50/32) = 1.25× too small, 14× for a 50k vocabulary at base 256)."""
    found = _compare_with_mup(Block, 256, init_ours, init_mup, zero_readout=True, query_zero=True)
    assert found["embed.weight"][0] == pytest.approx(found["embed.weight"][1], rel=0.02)


def _tied(width: int) -> Block:
    model = Block(width)
    model.head.weight = model.embed.weight  # the output projection shares the embedding table (GPT-2)
    return model


@pytest.mark.parametrize("readout_init", ["zero", "scaled"])
def test_mup_rules_refuse_to_zero_or_scale_a_tied_readout(readout_init: str) -> None:
    """A readout tied to the embedding is one tensor: zeroing it zeroed the whole embedding table ("zero", the default),
    and "scaled" did nothing. ``mup.MuSharedReadout`` keeps the shared weight's init: refused, naming "multiplier"."""
    with pytest.raises(ParameterError, match=r"readout matches 'head.weight', one tensor with 'embed.weight'.*readout_init='multiplier'"):
        ui.mup_rules(_tied(BASE), _tied(256), readout="head.weight", readout_init=readout_init)


def test_a_tied_readout_named_by_its_canonical_name_is_named_in_the_refusal() -> None:
    class HeadFirst(nn.Module):  # the head registered first: the tensor's name is head.weight, its canonical head.kernel
        def __init__(self, width: int) -> None:
            super().__init__()
            self.head, self.embed = nn.Linear(width, 50, bias=False), nn.Embedding(50, width)
            self.head.weight = self.embed.weight

    with pytest.raises(ParameterError, match=r"readout matches 'head.weight', one tensor with 'embed.weight'"):
        ui.mup_rules(HeadFirst(BASE), HeadFirst(256), readout="head.kernel")


def test_a_tied_readout_under_the_multiplier_keeps_the_embeddings_init_and_a_parametrized_one_is_no_tie() -> None:
    model = _tied(256)
    rules = ui.mup_rules(_tied(BASE), model, readout="head.weight", readout_init="multiplier", init=ui.RandomNormal(stddev=0.02))
    ui.torch.initialize(model, rules, seed=0)
    assert float(model.embed.weight.detach().std()) == pytest.approx(0.02, rel=0.03)  # 12,800 values
    normed = Block(256)
    torch.nn.utils.parametrizations.weight_norm(normed.head)  # its stored originals are other names of the same weight
    assert dict(ui.mup_rules(Block(BASE), normed, readout="head.weight"))["head.weight"] == ui.Zeros()


def test_mup_rules_of_a_zero_size_target_draw_nothing() -> None:
    """A target dimension of 0 has nothing to draw (mup warns and goes on); its multiplier 0 was refused as a
    ``fan_out_mult`` the user never gave."""
    rules = dict(ui.mup_rules({"fc.weight": (32, 32)}, {"fc.weight": (0, 64)}))
    assert rules["fc.weight"]((64, 0), seed=0).shape == (64, 0)


def test_mup_rules_from_dicts_read_an_embedding_table_as_the_module_does() -> None:
    """A dict's ``"0.weight": (V, d)`` was read in the torch layout, its ``d`` taken for the fan-in: the table came
    out ``width_mult`` times the variance the module form gives (8/V for 1/V; review). ``embedding=`` names it."""
    torch = pytest.importorskip("torch")

    def model(d: int) -> Any:
        return torch.nn.Sequential(torch.nn.Embedding(1000, d), torch.nn.Linear(d, d))

    def shapes(d: int) -> dict[str, tuple[int, ...]]:
        return {"0.weight": (1000, d), "1.weight": (d, d), "1.bias": (d,)}

    from_module = dict(ui.mup_rules(model(32), model(256)))
    from_dict = dict(ui.mup_rules(shapes(32), shapes(256), embedding="0.*"))
    assert from_dict == from_module
    assert from_dict["0.weight"].variance((1000, 256)) == pytest.approx(1 / 1000)
    flax_named = dict(ui.mup_rules({"embed.embedding": (1000, 32)}, {"embed.embedding": (1000, 256)}))
    assert flax_named["embed.embedding"] == from_module["0.weight"]
    with pytest.raises(ParameterError, match="a module or a Param list says which of its parameters are embeddings itself"):
        ui.mup_rules(model(32), model(256), embedding="0.weight")


def test_mup_rules_from_dicts_and_scaled_readout() -> None:
    base = {"fc.weight": (32, 32), "fc.bias": (32,), "head.weight": (10, 32), "head.bias": (10,)}
    target = {"fc.weight": (128, 128), "fc.bias": (128,), "head.weight": (10, 128), "head.bias": (10,)}
    rules = dict(ui.mup_rules(base, target, readout="head.*", readout_init="scaled", init="he_uniform", bias=ui.HeUniform()))
    assert rules["head.weight"].variance((128, 10)) == pytest.approx(2 / 32 / 16)  # base Var over m² = 16
    assert rules["fc.bias"].variance((128,), fan_in=128, fan_out=128) == pytest.approx(2 / 32)  # the weight's base fans
    assert rules["fc.weight"].variance((128, 128)) == pytest.approx(2 / 128)
    same = dict(ui.mup_rules(base, base))  # at the base shapes every dimension is finite: plain init
    assert same["fc.weight"].variance((32, 32)) == pytest.approx(1 / 32)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"readout_init": "zeros"}, ParameterError, "Did you mean 'zero'"),
        ({"init": ui.Orthogonal()}, ParameterError, "no variance rule muP can take"),
        ({"target": {"fc.weight": (64, 64)}}, ParameterError, "only in base"),
        ({"target": {"fc.weight": (64,)}}, ShapeError, "ranks must agree"),
        ({"target": 3}, ParameterError, "target=3 must be"),
        ({"readout": "fc.wieght"}, ParameterError, r"readout='fc.wieght' matches no parameter .* Did you mean 'fc.weight'"),
        ({"query": ["fc.weight", "q.*"]}, ParameterError, r"query='q.\*' matches no parameter"),
        ({"readout": None}, ParameterError, "readout=None must be a glob pattern"),
        ({"embedding": "wte.weight"}, ParameterError, r"embedding='wte.weight' matches no parameter"),
        ({"base": {"fc.weight": (32, 32), "fc.bias": (32,)}, "target": {"fc.weight": (64, 64), "fc.bias": (64,)}, "embedding": "fc.*"}, ParameterError, r"matches 'fc.bias', of rank 1: an embedding table is a \(num, dim\) weight"),
        ({"embedding": "fc.weight", "readout": "fc.weight"}, ParameterError, "matches 'fc.weight', a readout"),
        ({"query": 3}, ParameterError, "query=3 must be a glob pattern"),
        ({"readout_init": np.array([1, 2])}, ParameterError, "readout_init=array"),
        ({"base": {"fc.weight": (0, 32)}}, ShapeError, r"base shape \(0, 32\): a width that grows .* needs a base size > 0"),
        ({"init": ui.RandomNormal(mean=1.0)}, ParameterError, "has mean 1.0, and muP divides this weight's variance"),
        ({"init": ui.RandomUniform(0.0, 1.0)}, ParameterError, "has mean 0.5"),
    ],
)
def test_mup_rules_refuse(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    arguments = {"base": {"fc.weight": (32, 32)}, "target": {"fc.weight": (64, 64)}, **kwargs}
    if "target" in kwargs and kwargs["target"] == {"fc.weight": (64, 64)}:
        arguments["base"] = {"fc.weight": (32, 32), "extra.weight": (4, 4)}
    with pytest.raises(error, match=match):
        ui.mup_rules(**arguments)


def test_coordinate_check_of_the_docs() -> None:
    """docs/coord_check.py: after one SGD step the logits move about as much at width 512 as at 64 in muP, far more in SP."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "coord_check.py"
    spec = importlib.util.spec_from_file_location("coord_check", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    narrow, wide = (module.coordinates(width, "mup", seeds=(0,)) for width in (64, 512))
    sp_narrow, sp_wide = (module.coordinates(width, "standard", seeds=(0,)) for width in (64, 512))
    for layer in module.LAYERS:
        assert 0.67 < wide[layer] / narrow[layer] < 1.5, layer
    assert sp_wide["logits"] / sp_narrow["logits"] > 4


def test_zero_computes_only_its_block_of_the_hadamard_matrix() -> None:
    """c·H[:out, :in] entry by entry: a Linear(16, 70000) needs 70000×16 values, not the 2^17 × 2^17 matrix (32 GiB)."""
    from scipy.linalg import hadamard

    values = np.asarray(ui.ZerO()((16, 70000), dtype="float32"))  # keras layout: (in, out)
    m = math.ceil(math.log2(70000))
    expected = 2.0 ** (-(m - 1) / 2) * hadamard(4096, dtype=np.float64)[:, :16]  # Sylvester's top-left block of H_(2^m)
    np.testing.assert_array_equal(values.T[:4096], expected.astype(np.float32))
    assert set(np.unique(np.abs(values))) == {np.float32(2.0 ** (-(m - 1) / 2))}


def test_parameters_that_overflow_or_underflow_the_variance_are_refused() -> None:
    with pytest.raises(ui.ParameterError, match=r"fan_in / fan_in_mult = 4 / 1e-308 .* overflow a float"):  # the variance was 0, silently
        ui.MuP(fan_in_mult=1e-308, width_mult=1e-308)((4, 4), seed=0)
    with pytest.raises(ui.ParameterError, match="square overflows"):
        ui.ScaledResidual(n_layer=3, stddev=1e200)
    with pytest.raises(ui.ParameterError, match="every one would round to 0"):
        ui.VarianceScaling(scale=1e-320)((4, 4))
    assert np.all(ui.random_normal((64,), stddev=1e-50, dtype="float64", seed=0) != 0)  # float64 holds them
    # a limit or a gain² that underflows float64 to 0 drew U[-0, 0): every value -0.0, silently
    with pytest.raises(ui.ParameterError, match=r"UniformScaling: scale=5e-324 gives the limit 0\.0"):
        ui.uniform_scaling((16, 24), scale=5e-324, seed=0)
    with pytest.raises(ui.ParameterError, match=r"gain=5e-324 is too small"):  # it named an argument not given, `scale`
        ui.xavier_uniform((8, 8), gain=5e-324, seed=0)
    assert np.all(ui.xavier_uniform((8, 8), gain=1e-150, dtype="float64", seed=0) != 0)


def test_mup_rules_of_a_truncated_normal_compare_equal_and_serialize_at_two_std() -> None:
    """A family built per call (a functools.partial) made two identical mup_rules unequal, and ±2 unserializable."""
    base, target = {"fc.weight": (32, 32)}, {"fc.weight": (256, 256)}
    for init in ("trunc_normal", ui.TruncatedNormal(stddev=0.5), ui.TruncatedNormal(stddev=0.5, lower=-3.0, upper=3.0)):
        assert ui.mup_rules(base, target, init=init) == ui.mup_rules(base, target, init=init)
    spec = ui.mup_rules(base, target, init=ui.TruncatedNormal(stddev=0.5))[0][1]
    assert ui.deserialize(ui.serialize(spec)) == spec


def test_a_rule_is_checked_at_construction() -> None:
    """``MuP(rule=ui.HeNormal())`` was accepted (an initializer has a ``variance`` too, of a shape) and failed at the
    first draw with a ShapeError about ``Fans``; ``serialize`` and the Keras adapter failed as oddly."""

    class Table:  # a rule free to refuse the fans it is probed with
        def variance(self, fans: Any) -> float:
            return {256.0: 0.01}[fans.fan_in]

    class Wordy:
        def variance(self, fans: Any) -> str:
            return "small"

    class Float32:
        def variance(self, fans: Any) -> Any:
            return np.float32(2) / np.float32(fans.fan_in)

    class Negative:
        def variance(self, fans: Any) -> float:
            return -1.0

    with pytest.raises(ParameterError, match=r"rule=HeNormal\(seed=None\) is an initializer .* ui\.rules\.FanScaled"):
        ui.MuP(rule=ui.HeNormal())  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="is an initializer"):
        ui.Composed(rule=ui.MuP())  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"returned 'small'.* not a number"):
        ui.Composed(rule=Wordy())  # type: ignore[arg-type]
    class Fixed:  # 0, inf, and an int past float64: every draw would refuse them
        def __init__(self, value: Any) -> None:
            self.value = value

        def variance(self, fans: Any) -> Any:
            return self.value

    with pytest.raises(ParameterError, match=r"gives Var = -1\.0 .* must be finite and > 0"):
        ui.Composed(rule=Negative())
    for value, shown in [(0, "0.0"), (math.inf, "inf"), (10**400, "inf")]:
        with pytest.raises(ParameterError, match=f"gives Var = {shown} for Fans"):
            ui.Composed(rule=Fixed(value))
    with pytest.raises(ParameterError, match=r"rule=.* failed on Fans\(fan_in=64\.0, fan_out=64\.0\): KeyError") as refused:
        ui.Composed(rule=Table())((64, 64))  # accepted at construction (the probe raised), named at the draw
    assert isinstance(refused.value.__cause__, KeyError)
    with pytest.raises(ParameterError, match=r"rule=.* failed on Fans"):
        ui.MuP(rule=Table())((64, 64))
    assert ui.MuP(rule=Table()).variance((256, 8)) == pytest.approx(0.01)
    assert ui.Composed(rule=Float32()).variance((64, 8)) == pytest.approx(2 / 64)
    assert ui.MuP(rule=ui.rules.FanScaled(2.0, "fan_in"), width_mult=2.0).variance((64, 64)) == pytest.approx(1 / 64)
