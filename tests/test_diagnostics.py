"""diagnose / compare / calculate_gain / recommend: the notebook's claims, as numbers."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import unit_init as ui
from unit_init.diagnostics import activations, network
from unit_init.diagnostics.specs import label, parse
from unit_init.diagnostics.verdict import judge

SMALL = {"width": 128, "batch": 128}  # depth 50: every notebook claim but He's factor 2 holds at this size


@pytest.fixture(scope="module")
def notebook() -> ui.diagnostics.Comparison:
    return ui.compare(activation="relu", depth=50, **SMALL)


def _by_name(comparison: ui.diagnostics.Comparison) -> dict[str, ui.diagnostics.Report]:
    return {report.initializer: report for report in comparison.reports}


# --- the notebook's claims -------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_statistics_are_accumulated_wider(dtype: str) -> None:
    """NumPy summed float16 squares in float16: the std of every layer was inf and He normal read "exploding"."""
    report = ui.diagnose("he_normal", depth=6, width=512, batch=256, dtype=dtype, seed=0)
    assert all(math.isfinite(s) for s in report.activation_std)
    assert report.verdict == "stable"


def test_statistics_hold_where_float32_sums_of_squares_would_overflow_or_underflow() -> None:
    """A std of float32 values of 1e20 (squares past 3.4e38) or 1e-24 (squares below 1.4e-45) is theirs, not inf or 0.

    Computed as ``m · std(x / m)``: a network was said to overflow at layer 14
    (values about 1e18) when its float32 activations first overflowed at layer
    32, and to have a std of 0 from layer 29 while its values were about 1e-23.
    """
    from unit_init.diagnostics.network import _mean, _std

    rng = np.random.default_rng(0)
    for scale in (1e20, 1e-24, 1.0):
        x = (rng.standard_normal(4096) * scale + scale / 2).astype(np.float32)
        wide = x.astype(np.float64)
        assert _std(np, x) == pytest.approx(float(wide.std()), rel=1e-5)
        assert _mean(np, x) == pytest.approx(float(wide.mean()), rel=1e-4)
    assert _std(np, np.array([np.inf, 1.0], np.float32)) == math.inf
    assert math.isnan(_mean(np, np.array([np.nan, 1.0], np.float32)))
    assert _std(np, np.zeros(4, np.float32)) == _mean(np, np.zeros(4, np.float32)) == 0.0

    exploding = ui.diagnose("random_normal:stddev=1.0", depth=50, seed=0)
    finite = [s for s in exploding.activation_std if math.isfinite(s)]
    assert 1e33 < finite[-1] < 3.5e38  # declared overflowed only once float32's range is reached
    vanishing = ui.diagnose("random_normal:stddev=0.01", depth=50, seed=0)
    assert 0 < vanishing.activation_std[39] < 1e-25  # tiny, normal float32 values: not 0


def test_he_normal_keeps_relu_activations_within_a_factor_2_over_50_layers() -> None:
    report = ui.diagnose("he_normal", activation="relu", depth=50, width=512, batch=128)
    first, last = report.activation_std[0], report.activation_std[-1]
    assert 0.5 < last / first < 2.0
    assert 0.5 < report.backward_ratio < 2.0
    assert report.verdict == "stable"


def test_each_default_spec_gets_the_notebooks_verdict(notebook: ui.diagnostics.Comparison) -> None:
    verdicts = {name: report.verdict for name, report in _by_name(notebook).items()}
    assert verdicts == {
        "zeros": "symmetric",
        "random_normal:stddev=0.01": "vanishing",
        "random_normal:stddev=1.0": "exploding",
        "glorot_normal": "vanishing",  # Var = 1/fan_in for a square layer: relu halves the variance per layer
        "he_normal": "stable",
        "lecun_normal": "vanishing",
    }


def test_small_normal_vanishes_by_orders_of_magnitude(notebook: ui.diagnostics.Comparison) -> None:
    report = _by_name(notebook)["random_normal:stddev=0.01"]
    assert report.forward_ratio < 1e-6
    assert report.backward_ratio < 1e-6
    # each layer multiplies the std by about √(width·0.01²/2) = 0.08
    assert report.activation_std[1] / report.activation_std[0] == pytest.approx(0.08, rel=0.25)


def test_unit_normal_explodes_with_relu(notebook: ui.diagnostics.Comparison) -> None:
    report = _by_name(notebook)["random_normal:stddev=1.0"]
    assert report.activation_std[1] / report.activation_std[0] == pytest.approx(math.sqrt(128 / 2), rel=0.25)
    assert math.isinf(report.activation_std[-1])
    assert "overflowed" in report.reason


def test_zeros_and_constants_are_symmetric(notebook: ui.diagnostics.Comparison) -> None:
    report = _by_name(notebook)["zeros"]
    assert report.identical_unit_layers == 50
    constant = ui.diagnose(ui.Constant(0.02), activation="tanh", depth=5, width=16, batch=8)
    assert constant.verdict == "symmetric"
    assert constant.identical_unit_layers == 5


def test_glorot_with_tanh_is_stable() -> None:
    report = ui.diagnose("glorot_normal", activation="tanh", depth=50, **SMALL)
    assert report.verdict == "stable"
    assert 0.1 < report.forward_ratio < 1.0  # tanh slowly contracts: about 1/6 over 50 layers


def test_large_weights_make_tanh_gradients_explode() -> None:
    report = ui.diagnose("random_normal:stddev=1.0", activation="tanh", depth=50, **SMALL)
    assert report.forward_ratio == pytest.approx(1.0, rel=0.1)  # saturated, not growing
    assert report.verdict == "exploding"
    assert report.backward_ratio > 1e2
    assert "a ratio is above 100" in report.reason
    assert all(math.isfinite(s) for s in report.gradient_std)  # large, but not past float32's range at this size


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("activation", sorted(set(activations.ACTIVATIONS) - {"sigmoid", "softplus"}))
def test_the_recommended_spec_is_stable(activation: str, seed: int) -> None:
    # batch 128: with 32 rows the per-layer std estimates are noisy enough to move a marginal
    # activation (GELU's forward ratio spans 0.2-6 over seeds) across the 0.01 threshold.
    report = ui.diagnose(ui.recommend(activation), activation=activation, depth=50, width=256, batch=128, seed=seed)
    assert report.verdict == "stable", report.reason


@pytest.mark.parametrize("activation", ["sigmoid", "softplus"])
def test_no_scale_rescues_deep_sigmoid_and_softplus_gradients(activation: str) -> None:
    report = ui.diagnose(ui.recommend(activation), activation=activation, depth=50, width=256, batch=32)
    assert report.verdict == "vanishing"
    assert report.forward_ratio > 0.1  # the forward pass is fine; the gradients are not
    assert report.backward_ratio < 1e-2


# --- the verdict rules ---------------------------------------------------------------


def test_judge_thresholds() -> None:
    assert judge((1.0, 50.0), (1.0, 1.0), 0).verdict == "stable"
    assert judge((1.0, 101.0), (1.0, 1.0), 0).verdict == "exploding"
    assert judge((1.0, 1.0), (0.009, 1.0), 0).verdict == "vanishing"
    assert judge((1.0, math.inf), (math.inf, math.inf), 0).verdict == "exploding"
    assert judge((1.0, 1.0), (1.0, 1.0), 1).verdict == "symmetric"
    overflowing = judge((math.inf, math.inf), (math.inf, math.inf), 2)  # a constant 1e30: symmetric, and the overflow said
    assert overflowing.verdict == "symmetric"
    assert "overflowed the dtype at layer 1" in overflowing.reason
    invalid = judge((1.0, math.nan), (1.0, 1.0), 0)  # sqrt of a negative in a model: nothing overflowed
    assert invalid.verdict == "exploding"
    assert "activations became NaN at layer 2" in invalid.reason
    assert judge((0.0, 0.0), (0.0, 1.0), 0).verdict == "vanishing"


# --- the hand-written backward pass ------------------------------------------------------


@pytest.mark.parametrize("name", sorted(activations.ACTIVATIONS))
def test_derivatives_match_central_differences(name: str) -> None:
    activation, param = activations.get_activation(name, 0.2 if name in ("leaky_relu", "elu") else None)
    z = np.linspace(-6, 6, 2001)
    z = z[np.abs(z) > 1e-3]  # away from the kinks at 0
    step = 1e-6
    h = activation.forward(np, z, param)
    numeric = (activation.forward(np, z + step, param) - activation.forward(np, z - step, param)) / (2 * step)
    np.testing.assert_allclose(activation.derivative(np, z, h, param), numeric, rtol=1e-6, atol=1e-7)


def test_gelu_is_the_tanh_approximation_within_5e_4_of_exact() -> None:
    special = pytest.importorskip("scipy.special")
    z = np.linspace(-8, 8, 4001)
    gelu, _ = activations.get_activation("gelu")
    exact = 0.5 * z * (1 + special.erf(z / math.sqrt(2)))
    assert np.max(np.abs(gelu.forward(np, z, 0.0) - exact)) < 5e-4


@pytest.mark.parametrize("name", ["relu", "tanh", "selu", "gelu", "mish", "silu"])
def test_backward_matches_torch_autograd(name: str) -> None:
    torch = pytest.importorskip("torch")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 32, generator=generator, dtype=torch.float64)
    weights = [torch.randn(32, 32, generator=generator, dtype=torch.float64) / math.sqrt(16) for _ in range(4)]
    probe = torch.randn(16, 32, generator=generator, dtype=torch.float64)
    activation, param = activations.get_activation(name)
    trace = network.run(x, weights, None, probe, activation, param)

    leaves = [w.clone().requires_grad_(True) for w in weights]
    native = {"relu": torch.relu, "tanh": torch.tanh, "selu": torch.selu, "mish": torch.nn.functional.mish,
              "silu": torch.nn.functional.silu, "gelu": lambda t: torch.nn.functional.gelu(t, approximate="tanh")}[name]
    hidden, h = [], x
    for w in leaves:
        h = native(h @ w)
        h.retain_grad()
        hidden.append(h)
    (h * probe).sum().backward()
    expected = [float(layer.grad.std(correction=0)) for layer in hidden]
    expected_w = [float((w.grad / x.shape[0]).std(correction=0)) for w in leaves]
    np.testing.assert_allclose(trace.gradient_std, expected, rtol=1e-9)
    np.testing.assert_allclose(trace.weight_gradient_std, expected_w, rtol=1e-9)
    np.testing.assert_allclose(trace.activation_std, [float(t.detach().std(correction=0)) for t in hidden], rtol=1e-9)


# --- one implementation, every backend -----------------------------------------------------


def _namespace_of(backend: str) -> object:
    module = {"numpy": "numpy", "torch": "torch", "jax": "jax", "tensorflow": "tensorflow"}[backend]
    return pytest.importorskip(module)


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_same_arrays_give_the_same_trace_on_every_backend(backend: str) -> None:
    _namespace_of(backend)
    rng = np.random.default_rng(0)
    arrays = {
        "x": rng.standard_normal((32, 64), dtype=np.float32),
        "probe": rng.standard_normal((32, 64), dtype=np.float32),
        "weights": [rng.standard_normal((64, 64), dtype=np.float32) / 8 for _ in range(6)],
    }
    activation, param = activations.get_activation("gelu")
    reference = network.run(arrays["x"], arrays["weights"], None, arrays["probe"], activation, param)
    convert = {
        "torch": lambda a: __import__("torch").from_numpy(a),
        "jax": lambda a: __import__("jax.numpy").numpy.asarray(a),
        "tensorflow": lambda a: __import__("tensorflow").constant(a),
    }[backend]
    trace = network.run(convert(arrays["x"]), [convert(w) for w in arrays["weights"]], None,
                        convert(arrays["probe"]), activation, param)
    for field in ("activation_mean", "activation_std", "preactivation_std", "gradient_std", "weight_gradient_std"):
        np.testing.assert_allclose(getattr(trace, field), getattr(reference, field), rtol=1e-4, atol=1e-6, err_msg=field)
    for ours, theirs in zip(trace.histograms, reference.histograms, strict=True):
        np.testing.assert_allclose(ours.counts, theirs.counts, atol=2)  # a value on a bin edge may round either way


@pytest.mark.parametrize("backend", ["torch", "jax", "tensorflow"])
def test_diagnose_is_statistically_equivalent_on_every_backend(backend: str) -> None:
    _namespace_of(backend)
    options = {"activation": "tanh", "depth": 50, "width": 256, "batch": 64}
    references = [ui.diagnose("glorot_normal", backend="numpy", seed=seed, **options) for seed in range(8)]
    reports = [ui.diagnose("glorot_normal", backend=backend, seed=seed, **options) for seed in range(8)]
    assert {report.backend for report in reports} == {backend}
    assert {report.verdict for report in reports + references} == {"stable"}

    def mean(read: Callable[[Any], float], of: list[Any]) -> float:
        return float(np.mean([read(report) for report in of]))

    # Means of 8 seeds. The first layer's std concentrates (0.3-0.5 % a draw, 0.2 % a σ between the means): 1 %, which
    # a 3 % error in the weights' variance fails. The last layer's and the first gradient's vary by 5-9 % a draw, their
    # means' difference 3-4 % a σ: tolerances of about 4σ.
    for read, rel in [
        (lambda report: report.activation_std[0], 0.01),
        (lambda report: report.activation_std[-1], 0.12),
        (lambda report: report.gradient_std[0], 0.16),
    ]:
        assert mean(read, reports) == pytest.approx(mean(read, references), rel=rel)
    for name, verdict in [("zeros", "symmetric"), ("random_normal:stddev=0.01", "vanishing")]:
        assert ui.diagnose(name, backend=backend, activation="relu", depth=20, width=64, batch=16).verdict == verdict


# --- calculate_gain and recommend -------------------------------------------------------------

TORCH_NONLINEARITIES = [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0), ("leaky_relu", 3), ("selu", None), ("relu", 5.0),
]


@pytest.mark.parametrize(("nonlinearity", "param"), TORCH_NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity: str, param: float | None) -> None:
    torch = pytest.importorskip("torch")
    assert ui.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_table_without_torch() -> None:
    assert ui.calculate_gain("tanh") == 5 / 3
    assert ui.calculate_gain("relu") == math.sqrt(2)
    assert ui.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert ui.calculate_gain("selu") == 0.75
    assert ui.calculate_gain("swish") == ui.calculate_gain("silu")
    assert ui.calculate_gain("identity") == 1.0


@pytest.mark.parametrize("name", ["gelu", "silu", "mish", "elu"])
def test_extra_gains_solve_unit_second_moment(name: str) -> None:
    integrate = pytest.importorskip("scipy.integrate")
    special = pytest.importorskip("scipy.special")
    f = {
        "gelu": lambda z: 0.5 * z * (1 + special.erf(z / math.sqrt(2))),
        "silu": lambda z: z * special.expit(z),
        "mish": lambda z: z * math.tanh(np.logaddexp(0.0, z)),
        "elu": lambda z: z if z > 0 else math.expm1(z),
    }[name]
    gain = ui.calculate_gain(name)

    def density(z: float) -> float:
        return f(gain * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    moment = sum(integrate.quad(density, a, b, epsabs=1e-12, epsrel=1e-12)[0] for a, b in ((-40, 0), (0, 40)))
    assert moment == pytest.approx(1.0, abs=1e-9)


def test_calculate_gain_errors_name_the_value_and_suggest() -> None:
    with pytest.raises(ui.ParameterError, match=r"'rleu'.*Did you mean 'relu'"):
        ui.calculate_gain("rleu")
    with pytest.raises(ui.ParameterError, match="negative slope"):
        ui.calculate_gain("leaky_relu", math.nan)
    with pytest.raises(ValueError, match="accepted"):
        ui.calculate_gain(3)  # type: ignore[arg-type]


def test_recommend() -> None:
    assert ui.recommend("relu") == ui.HeNormal()
    assert ui.recommend("tanh") == ui.GlorotNormal()
    assert ui.recommend("linear") == ui.GlorotNormal()
    assert ui.recommend("selu") == ui.LecunNormal()
    assert ui.recommend("gelu") == ui.VarianceScaling(scale=ui.calculate_gain("gelu") ** 2)
    assert ui.recommend("leaky_relu", 0.2) == ui.VarianceScaling(scale=2 / 1.04)
    with pytest.raises(ui.ParameterError, match="Did you mean 'gelu'"):
        ui.recommend("gelo")
    with pytest.raises(ui.ParameterError, match="only leaky_relu"):
        ui.recommend("tanh", 0.5)
    with pytest.raises(ui.ParameterError, match=r"activation=array\(\[1, 2\]\) must be an activation's name"):
        ui.recommend(np.array([1, 2]))  # raised NumPy's ValueError


# --- argument checking ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"activation": "rleu"}, ui.ParameterError, "Did you mean 'relu'"),
        ({"activation": "tanh", "activation_param": 0.1}, ui.ParameterError, "takes no parameter"),
        ({"activation": "leaky_relu", "activation_param": math.inf}, ui.ParameterError, "activation_param"),
        ({"width": 1}, ui.ParameterError, r"width=1 must be an int in \[2, 100000\]"),
        ({"depth": 10**400}, ui.ParameterError, r"depth=<int of 1329 bits> must be an int in \[1, 10000\]"),  # OverflowError in the memory check
        ({"batch": 100_001}, ui.ParameterError, r"batch=100001 must be an int in \[2, 100000\]"),
        ({"activation": []}, ui.ParameterError, "activation=\\[\\]"),
        ({"depth": True}, ui.ParameterError, "depth=True"),
        ({"seed": -1}, ui.SeedError, "seed"),
        ({"seed": np.random.default_rng(0)}, ui.SeedError, "int seed or None"),
        ({"dtype": "int32"}, ui.DTypeError, "float dtype"),
        ({"backend": "nope"}, ui.BackendError, "nope"),
        ({"bias": "yes"}, ui.ParameterError, "bias='yes' must be True or False"),
    ],
)
def test_diagnose_rejects_bad_arguments(kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    options: dict[str, object] = {"depth": 2, "width": 4, "batch": 4, **kwargs}
    with pytest.raises(error, match=match):
        ui.diagnose("he_normal", **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "match"),
    [("he_nromal", "Did you mean 'he_normal'"), ("random_normal:stdev=1", "Did you mean 'stddev'"),
     ("random_normal:stddev", "not KEY=VALUE"), ("random_normal:stddev=-1", "stddev=-1 must be >= 0"),
     ("variance_scaling:mode=fan_inn", "Did you mean 'fan_in'"),
     ("variance_scaling:scale=1,scale=2", "'scale' is given twice")],  # the last one was taken, silently
)
def test_spec_names_with_parameters(text: str, match: str) -> None:
    with pytest.raises(ui.ParameterError, match=match):
        parse(text)


def test_spec_labels_round_trip() -> None:
    for text in ["he_normal", "random_normal:stddev=0.01", "variance_scaling:scale=2,mode=fan_out"]:
        assert label(parse(text)) == text
    assert parse("HeNormal") == ui.HeNormal()
    composed = ui.Composed(rule=ui.rules.FixedVariance(0.1), family="uniform")
    assert label(composed) == repr(composed)


def test_compare_rejects_a_string_and_an_empty_list() -> None:
    with pytest.raises(ui.ParameterError, match="non-empty list"):
        ui.compare("he_normal")
    with pytest.raises(ui.ParameterError, match="non-empty list"):
        ui.compare([])


# --- the report -------------------------------------------------------------------------


def test_report_is_frozen_and_serializes(notebook: ui.diagnostics.Comparison) -> None:
    report = _by_name(notebook)["random_normal:stddev=1.0"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.verdict = "stable"  # type: ignore[misc]
    data = json.loads(json.dumps(notebook.to_dict(), allow_nan=False))
    exploding = data["reports"][2]
    assert exploding["verdict"] == "exploding"
    assert exploding["activation_std"][-1] is None  # overflow: JSON has no inf
    text = str(notebook)
    assert all(name in text for name in ui.diagnostics.DEFAULT_SPECS)
    assert "std(h)" in str(report)
    assert "verdict: exploding" in str(report)


def test_compare_uses_one_seed_for_all() -> None:
    result = ui.compare(["he_normal", "he_uniform"], seed=None, depth=2, width=8, batch=4)
    assert result.reports[0].seed == result.reports[1].seed


def test_a_refused_compare_consumes_no_seed() -> None:
    ui.set_seed(5)
    with pytest.raises(ui.ParameterError):
        ui.compare(["he_normal", "no_such_initializer"], seed=None, depth=2, width=8, batch=4)
    with pytest.raises(ui.ParameterError):
        ui.compare(["he_normal"], seed=None, depth=0, width=8, batch=4)
    after_refusals = ui.random_normal((4,))
    ui.set_seed(5)
    assert (ui.random_normal((4,)) == after_refusals).all()


def test_bias_and_float64() -> None:
    report = ui.diagnose("he_normal", bias=True, dtype="float64", depth=3, width=16, batch=8)
    assert report.bias
    assert report.dtype == "float64"
    assert len(report.histograms) == 3
    assert all(sum(h.counts) == 8 * 16 for h in report.histograms)


# --- plots and imports ------------------------------------------------------------------


def test_plots_are_written(tmp_path: Path, notebook: ui.diagnostics.Comparison) -> None:
    pytest.importorskip("matplotlib")
    png = notebook.reports[4].plot(tmp_path / "he.png", dpi=60)
    svg = notebook.plot(tmp_path / "all.svg", dpi=60)
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert svg.stat().st_size > 1000
    assert b"<svg" in svg.read_bytes()[:1000]
    with pytest.raises(ui.ParameterError, match=r"\.png or \.svg"):
        notebook.plot(tmp_path / "all.pdf")


def test_plot_without_a_path_returns_a_figure_whose_axes_read_right(notebook: ui.diagnostics.Comparison) -> None:
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    report = _by_name(notebook)["he_normal"]
    figure = report.plot()
    assert isinstance(figure, Figure)
    activations_axes, gradients_axes, _ = figure.axes
    for axes, reference in ((activations_axes, report.activation_std[0]), (gradients_axes, report.gradient_std[-1])):
        low, high = axes.get_ylim()
        assert low <= 1e-3  # a stable network is a flat line, not noise stretched over the axis
        assert high >= 1e3
        band = [patch for patch in axes.patches if "stable band" in str(patch.get_label())]
        assert len(band) == 1
        ys = band[0].get_patch_transform().transform(band[0].get_path().vertices)[:, 1]  # y in data units
        assert (ys.min(), ys.max()) == pytest.approx((reference * 1e-2, reference * 1e2), rel=1e-6)
    assert report.plot() is not figure  # a new figure each call: nothing shared between calls


def test_equal_curves_in_a_comparison_stay_distinguishable(notebook: ui.diagnostics.Comparison) -> None:
    pytest.importorskip("matplotlib")
    by_name = _by_name(notebook)
    assert by_name["glorot_normal"].activation_std == by_name["lecun_normal"].activation_std  # square layers
    figure = notebook.plot()
    for axes in figure.axes[:2]:
        lines = {str(line.get_label()).split(" ")[0]: line for line in axes.get_lines()}
        glorot, lecun = lines["glorot_normal"], lines["lecun_normal"]
        assert glorot.get_linestyle() != lecun.get_linestyle()
        assert glorot.get_marker() != lecun.get_marker()
        assert "same curve as glorot_normal" in str(lecun.get_label())
        assert "same curve" not in str(lines["he_normal"].get_label())
        styles = [(line.get_linestyle(), line.get_marker()) for line in axes.get_lines()]
        assert len(set(styles)) == len(styles)


def test_reports_display_richly_in_a_notebook(notebook: ui.diagnostics.Comparison) -> None:
    pytest.importorskip("matplotlib")
    report = _by_name(notebook)["glorot_normal"]
    html = notebook._repr_html_()
    assert html.count("<table>") == 1
    assert all(f">{name}</td>" in html for name in ui.diagnostics.DEFAULT_SPECS)
    assert '<img src="data:image/png;base64,' in html
    assert notebook._repr_png_()[:4] == b"\x89PNG"  # type: ignore[index]
    assert "verdict: <strong>vanishing</strong>" in report._repr_html_()
    assert report._repr_html_().count("<table>") == 2
    assert repr(report) == (
        f"<Report glorot_normal, relu, depth 50, width 128: vanishing "
        f"(forward {report.forward_ratio:.3g}, backward {report.backward_ratio:.3g})>"
    )
    assert "\n" not in repr(notebook)


def test_rich_display_without_matplotlib_is_the_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    from unit_init.diagnostics import display

    for module in ("matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    display.png.cache_clear()
    report = ui.diagnose("he_normal", depth=3, width=8, batch=4)
    assert "<table>" in report._repr_html_()
    assert "<img" not in report._repr_html_()
    assert report._repr_png_() is None
    with pytest.raises(ui.BackendUnavailableError, match=r"pip install matplotlib \(or, in a unit_init checkout: pip install -e \"\.\[plot\]\"\)"):
        report.plot()
    display.png.cache_clear()


def test_import_unit_init_imports_no_framework_and_no_matplotlib() -> None:
    code = "import sys, unit_init; print(sorted(m for m in ('torch', 'jax', 'tensorflow', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_plot_and_compare_refuse_bad_arguments_before_drawing(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    report = ui.diagnose("he_normal", depth=3, width=16, batch=8)
    for path in [tmp_path / "missing" / "x.png", 3, b"x.png", str(tmp_path / "a\0b.png")]:
        with pytest.raises(ui.ParameterError, match="path="):
            report.plot(path)
    for dpi in [0, -5, 10**6, True]:
        with pytest.raises(ui.ParameterError, match="dpi="):
            report.plot(tmp_path / "x.png", dpi=dpi)
    assert report.plot(tmp_path / "x.png", dpi=50).exists()
    assert len(ui.compare((name for name in ["he_normal", "zeros"]), depth=3, width=16, batch=8).reports) == 2  # a generator
    for specs in [[], "he_normal", 3]:
        with pytest.raises(ui.ParameterError, match="specs="):
            ui.compare(specs, depth=3, width=16, batch=8)  # type: ignore[arg-type]
    with pytest.raises(ui.ParameterError, match="progress=3 must be None or a callable"):  # was a TypeError from the call
        ui.compare(["he_normal"], depth=3, width=16, batch=8, progress=3)  # type: ignore[arg-type]
    with pytest.raises(ui.ArgumentError, match="Did you mean 'dpi'"):  # was Python's bare TypeError
        report.plot(tmp_path / "x.png", dip=50)  # type: ignore[call-overload]
    with pytest.raises(ui.ArgumentError, match="Did you mean 'dpi'"):
        ui.compare(["zeros"], depth=3, width=16, batch=8).plot(tmp_path / "y.png", dpii=50)  # type: ignore[call-overload]


def test_a_jax_report_names_the_device_its_network_ran_on() -> None:
    """Without device=, JAX's target device is None until an array is placed: the report read "jax on None"."""
    jax = pytest.importorskip("jax")
    report = ui.diagnose("he_normal", backend="jax", depth=3, width=8, batch=4)
    assert report.device == str(jax.devices()[0]) != "None"
    assert f"jax on {jax.devices()[0]}," in str(report)


def test_a_numpy_scalar_or_0d_array_is_a_slope_as_everywhere_else() -> None:
    """``calculate_gain``, ``recommend`` and ``diagnose(activation_param=)`` refused ``np.float32(0.2)`` and
    ``np.array(0.2)`` ("must be a finite real number") that every spec reads as the number it holds."""
    for slope in (np.float32(0.25), np.array(0.25), np.int64(1)):
        assert ui.calculate_gain("leaky_relu", slope) == pytest.approx(ui.calculate_gain("leaky_relu", float(slope)), rel=1e-7)
        assert ui.recommend("leaky_relu", slope).scale == pytest.approx(ui.recommend("leaky_relu", float(slope)).scale, rel=1e-7)
    report = ui.diagnose("he_normal", activation="leaky_relu", activation_param=np.float32(0.25), depth=2, width=8, batch=4)
    assert report.activation_param == 0.25
    assert type(report.activation_param) is float
    with pytest.raises(ui.ParameterError, match="finite real number"):
        ui.calculate_gain("leaky_relu", np.array([0.25, 0.5]))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "selu", "elu", "gelu", "silu", "softplus", "mish"])
def test_tensorflow_diagnoses_bfloat16_with_every_activation(activation: str) -> None:
    """``tf.experimental.numpy``'s unary functions cast a bfloat16 tensor with ``astype``, which a tensor lacks: these
    activations raised a raw ``AttributeError`` (and the CLI a 43-line traceback, exit 1)."""
    pytest.importorskip("tensorflow")
    report = ui.diagnose("he_normal", activation=activation, backend="tensorflow", dtype="bfloat16", depth=2, width=4, batch=2)
    assert report.verdict == "stable"


@pytest.mark.parametrize(
    ("depth", "width", "batch", "dtype"),
    [(1, 2048, 2, "float32"), (2, 2048, 2, "float16"), (1, 64, 65536, "float32"), (5, 512, 512, "bfloat16")],
)
def test_the_memory_guard_of_diagnose_charges_at_least_its_peak(depth: int, width: int, batch: int, dtype: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The estimate left out the statistics' float32 temporaries and the weight gradient's second copy: a run of
    width 2048 and batch 2 peaked at 2.0× what it was charged, a float16 one at 2.3× (review)."""
    import tracemalloc

    from unit_init.diagnostics import network

    charged: list[int] = []
    checked = network.check_bytes
    monkeypatch.setattr(network, "check_bytes", lambda *args: (charged.append(args[2]), checked(*args))[1])
    ui.diagnose("he_normal", depth=depth, width=width, batch=batch, dtype=dtype, activation="gelu")  # imports, caches
    tracemalloc.start()
    try:
        ui.diagnose("he_normal", depth=depth, width=width, batch=batch, dtype=dtype, activation="gelu")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= charged[-1], (peak / 2**20, charged[-1] / 2**20)


def test_a_newcomers_mistakes_get_messages_that_name_what_they_called() -> None:
    """A misspelt ``compare`` option was reported by ``diagnose()`` (listing its ``spec`` and ``inputs``); ``diagnose``
    called its first argument ``initializer`` in its error; ``activation="ReLU"`` (torch's class name) got no
    suggestion (helper 170)."""
    with pytest.raises(ui.ArgumentError, match=r"^compare\(\) got an unexpected keyword argument 'activaton'.*Did you mean 'activation'"):
        ui.compare(["he_normal"], activaton="relu")
    with pytest.raises(ui.ArgumentError, match=r"^compare\(\) got an unexpected keyword argument 'spec'"):
        ui.compare(["he_normal"], spec="zeros")
    with pytest.raises(ui.ParameterError, match=r"^spec=None must be a spec"):
        ui.diagnose(None)
    with pytest.raises(ui.ParameterError, match=r"Did you mean 'relu'\?"):
        ui.diagnose("he_normal", activation="ReLU", depth=2, width=4, batch=2)
    with pytest.raises(ui.ParameterError, match=r"An activation is given by keyword: diagnose\('he_normal', activation='relu'\)"):
        ui.diagnose("he_normal", "relu")  # the second argument is a model's inputs


def test_the_layer_axis_has_whole_layer_numbers_at_any_depth() -> None:
    """At depth 5 the x ticks read 0.5, 1.0, 1.5 …, at depth 2 0.8 … 2.2 (helper 170)."""
    pytest.importorskip("matplotlib")
    for depth in (1, 2, 5, 50):
        figure = ui.compare(["he_normal", "glorot_normal"], depth=depth, width=16, batch=8, seed=0).plot()
        ticks = figure.axes[0].get_xticks()
        assert all(float(tick).is_integer() for tick in ticks), (depth, ticks)
