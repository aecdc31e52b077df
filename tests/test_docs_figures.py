"""Every figure the docs state in prose or in a table is recomputed here.

A figure is read from its page by a pattern and compared with the value
computed now, to the precision it is written with (half a unit of its last
digit), so a page whose figure drifts from what the code does fails. Figures
printed by a ``>>>`` example are checked by the doctest itself; measured
performance ratios are benchmarks (benchmarks/) and are not checked here.

The diagnostics figures need the default network of ``ui.diagnose`` (depth
50, width 512, batch 256): each report is computed once per session.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

import unit_init as ui
from unit_init.spec.distributions import truncated_standard_normal_moments

DOCS = Path(__file__).resolve().parents[1] / "docs"
NUMBER = r"(-?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?)"


def _page(name: str) -> str:
    return " ".join((DOCS / name).read_text(encoding="utf-8").split())  # prose wraps: one space between words


def stated(name: str, pattern: str) -> list[str]:
    """The numbers ``pattern`` (``{}`` marks each number) captures on page ``name``; at least one match."""
    regex = re.escape(pattern).replace(re.escape("{}"), NUMBER).replace(r"\ ", r"\s+")
    found = re.findall(regex, _page(name))
    assert found, f"docs/{name} no longer says {pattern!r}"
    return [number for match in found for number in ((match,) if isinstance(match, str) else match)]


def agrees(written: str, value: float) -> bool:
    """``value`` rounds to ``written`` (half a unit of its last digit, at least a few float64 ulp)."""
    if math.isinf(value):
        return written == "inf"
    number = Decimal(written)
    half_unit = Decimal(1).scaleb(number.as_tuple().exponent) / 2  # type: ignore[arg-type]
    return abs(Decimal(value) - number) <= max(half_unit, Decimal(8 * math.ulp(value)))


def check(name: str, pattern: str, *values: float) -> None:
    numbers = stated(name, pattern)
    assert len(numbers) % len(values) == 0
    for start in range(0, len(numbers), len(values)):
        for written, value in zip(numbers[start:start + len(values)], values, strict=True):
            assert agrees(written, value), f"docs/{name}: {pattern!r} states {written}, the code gives {value!r}"


def check_magnitude(name: str, pattern: str, value: float) -> None:
    """A figure the docs give as a magnitude: the gradient of 50 saturated layers, a product whose float32 rounding
    follows the CPU's matrix kernel (2.81e26 on one machine, 6.06e26 on another, 6.16e26 there with one BLAS
    thread): within a factor of 10 of what is written."""
    for written in stated(name, pattern):
        assert abs(math.log10(value) - math.log10(float(written))) < 1, f"docs/{name}: {pattern!r} states {written}, the code gives {value!r}"


@functools.cache
def report(spec: str, activation: str, seed: int = 0, **network: int) -> ui.diagnostics.Report:
    return ui.diagnose(spec, activation=activation, seed=seed, **network)


# --- the truncated normal's constant ------------------------------------------------------------

C = math.sqrt(truncated_standard_normal_moments(-2.0, 2.0)[1])


def test_the_truncation_constant() -> None:
    assert truncated_standard_normal_moments(-2.0, 2.0)[0] == 0.0
    check("catalogue.md", "c = {}` is the standard deviation", C)
    check("presets.md", "c = {}", C)
    check("frameworks.md", "σ corrected by {}", C)
    check("frameworks.md", "re-draws only the {} % rejected values", 100 * 2 * stats.norm.sf(2.0))


def test_figures_fail_when_they_drift() -> None:
    assert agrees("0.87962566103423978", C)
    assert not agrees("0.87962566103424", 0.8796256610342)
    assert not agrees("0.8796", 0.7737)  # the variance where the standard deviation is meant
    assert agrees("3.58e-08", 3.5816e-08)
    assert not agrees("3.58e-08", 3.6e-08)


# --- calculate_gain ------------------------------------------------------------------------------


def _second_moment(f: object, gain: float) -> float:
    value, _ = integrate.quad(lambda z: f(gain * z) ** 2 * stats.norm.pdf(z), -np.inf, np.inf)  # type: ignore[operator]
    return float(value)


def _gelu(z: float) -> float:
    return 0.5 * z * (1.0 + special.erf(z / math.sqrt(2.0)))


def _gelu_tanh(z: float) -> float:
    return 0.5 * z * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (z + 0.044715 * z**3)))


def _silu(z: float) -> float:
    return z * special.expit(z)


def test_the_gain_table() -> None:
    for name in ("gelu", "mish", "elu (α = 1)"):
        check("diagnostics.md", f"| {name} | {{}} |", ui.calculate_gain(name.split()[0]))
    check("diagnostics.md", "| silu, swish | {} |", ui.calculate_gain("silu"))


def test_the_two_gain_rules() -> None:
    check("diagnostics.md", "(1.534 vs {} for GELU, {} vs 1.559 for SiLU)", ui.calculate_gain("gelu"),
          1 / math.sqrt(_second_moment(_silu, 1.0)))
    check("diagnostics.md", "({} vs 1.468 for GELU", 1 / math.sqrt(_second_moment(_gelu, 1.0)))
    check("diagnostics.md", "1.677 vs {} for SiLU", ui.calculate_gain("silu"))
    tanh_gain = optimize.brentq(lambda g: _second_moment(_gelu_tanh, g) - 1.0, 1.0, 2.0, xtol=1e-12)
    check("diagnostics.md", "gain differs in the 5th digit ({})", tanh_gain)
    gap = max(abs(_gelu_tanh(z) - _gelu(z)) for z in np.linspace(-10.0, 10.0, 4001))
    bound = float(stated("diagnostics.md", "it is within {} of the exact GELU")[0])
    assert bound / 10 < gap < bound


def test_the_per_layer_factors() -> None:
    check("diagnostics.md", "√(width·σ²/2)`: {} for σ = 0.01, {} for σ = 1", math.sqrt(512 * 0.01**2 / 2),
          math.sqrt(512 / 2))
    check("diagnostics.md", "`(1/√2)^(L−1)`: {} at depth 5", report("lecun_normal", "relu", depth=5).forward_ratio)
    check("diagnostics.md", "{} at depth 50.", report("lecun_normal", "relu", depth=50).forward_ratio)
    assert 0.5 ** (4 / 2) * 0.9 < report("lecun_normal", "relu", depth=5).forward_ratio < 0.5 ** (4 / 2) * 1.1  # (1/√2)^(L−1)
    check("gallery.md", "(std × {} per layer", math.sqrt(512 * 0.01**2 / 2))
    check("gallery.md", "(× {} per layer, overflow", math.sqrt(512 / 2))


# --- diagnostics on the default network ----------------------------------------------------------


def _table(text: str) -> dict[str, list[str]]:
    """Rows of the markdown table after 'ReLU, `ui.compare(activation="relu")`:', by initializer."""
    section = text.split('ReLU, `ui.compare(activation="relu")`:')[1]
    rows = re.findall(r"^\| ([^|]+?) \| (\w+) \| ([^|]+?) \| ([^|]+?) \| ([^|]+?) \| ([^|]+?) \|$", section, re.MULTILINE)
    return {name.replace("(", ":").rstrip(")"): list(cells) for name, *cells in rows if name != "initializer"}


def _printed(text: str) -> dict[str, list[str]]:
    """Rows of the ``print(ui.compare(activation="relu"))`` doctest output, by initializer."""
    block = text.split('>>> print(ui.compare(activation="relu"))')[1].split("```")[0]
    rows = [line.split() for line in block.splitlines() if line[:1].isalpha() and not line.startswith("activation")]
    return {row[0]: row[1:] for row in rows if row[0] != "initializer"}


def test_the_relu_table_matches_the_computed_comparison() -> None:
    text = (DOCS / "diagnostics.md").read_text(encoding="utf-8")
    table, printed = _table(text), _printed(text)  # the printed one is checked by the page's doctest
    assert set(table) == set(printed)
    for name, (verdict, first, last, forward, backward) in table.items():
        p_verdict, p_first, p_last, p_forward, _, _, p_backward = printed[name]
        assert verdict == p_verdict, name
        assert (first, forward, backward) == (p_first, p_forward, p_backward), name
        assert last.split()[0] == p_last or (last.startswith("overflow") and p_last == "inf"), name


@pytest.mark.slow
def test_the_diagnostics_figures() -> None:
    exploding = report("random_normal:stddev=1.0", "relu")
    check("diagnostics.md", "| exploding | 13.2 | overflow at layer {} |",
          1 + next(i for i, std in enumerate(exploding.activation_std) if math.isinf(std)))
    check("gallery.md", "overflow at layer {})", 1 + next(i for i, std in enumerate(exploding.activation_std)
                                                          if math.isinf(std)))
    glorot, he = report("glorot_normal", "tanh"), report("he_normal", "tanh")
    saturated = report("random_normal:stddev=1.0", "tanh")
    check("diagnostics.md", "Glorot and LeCun are stable (forward {}, backward {}), He is stable (forward {}, backward {})",
          glorot.forward_ratio, glorot.backward_ratio, he.forward_ratio, he.backward_ratio)
    check("diagnostics.md", "random_normal(1.0) saturates the units (forward {})", saturated.forward_ratio)
    check_magnitude("diagnostics.md", "explode (backward about {}, a product", saturated.backward_ratio)
    check_magnitude("gallery.md", "its gradients **explode** (× about {} over 50 layers", saturated.backward_ratio)
    vanishing = report("random_normal:stddev=0.01", "relu")
    check("gallery.md", "(std × 0.16 per layer, {} by", vanishing.activation_std[-1])
    assert saturated.verdict == "exploding"
    assert glorot.verdict == he.verdict == "stable"
    check("diagnostics.md", "Glorot + tanh loses a factor of about {} over 50 layers", 1 / glorot.forward_ratio)
    check("gallery.md", "std {} → {})", glorot.activation_std[0], glorot.activation_std[-1])
    check("gallery.md", "its gradients grow {}×", he.backward_ratio)
    check("gallery.md", "(std {} on every layer)", min(saturated.activation_std))
    check("gallery.md", "(std {} on every layer)", max(saturated.activation_std))

    silu = report("variance_scaling:scale=2.4297325195902464", "silu")
    check("diagnostics.md", "(it still drifts: forward {}, backward {} at width 512", silu.forward_ratio,
          silu.backward_ratio)
    check("gallery.md", "(forward {}, backward {}:", silu.forward_ratio, silu.backward_ratio)
    check("gallery.md", "**vanish** ({} over 50 layers)", report("he_normal", "silu").forward_ratio)
    above = report("variance_scaling:scale=2.81", "silu")
    check("gallery.md", "**explode** ({})", above.forward_ratio)
    check("gallery.md", "`calculate_gain(\"silu\")² = {}`", ui.calculate_gain("silu") ** 2)
    check("gallery.md", "scale {} = `1/E[silu(z)²]`", 1 / _second_moment(_silu, 1.0))
    assert above.verdict == "exploding"
    assert 1e3 < above.forward_ratio < 1e4

    softplus = report("he_normal", "softplus")
    narrow = report("he_normal", "softplus", width=256, batch=32)
    check("diagnostics.md", "backward ratio {} at the default width 512, batch 256 and seed 0", softplus.backward_ratio)
    check("diagnostics.md", "({}, `vanishing`, at width 256, batch 32, seed 0)", narrow.backward_ratio)
    assert (softplus.verdict, narrow.verdict) == ("stable", "vanishing")
    check("gallery.md", "(× 1/√2 per layer: {} after 50", report("glorot_normal", "relu").activation_std[-1])
    sigmoid = report("glorot_normal", "sigmoid", width=256, batch=32)
    assert sigmoid.verdict == "vanishing"


@pytest.mark.slow
def test_the_seed_spread_of_he_relu() -> None:
    reports = [report("he_normal", "relu", seed) for seed in range(5)]
    assert {r.verdict for r in reports} == {"stable"}
    first = [r.activation_std[0] for r in reports]
    last = [r.activation_std[-1] for r in reports]
    check("diagnostics.md", "hardly moves between draws ({}–{} over seeds 0–4 on NumPy)", min(first), max(first))
    check("diagnostics.md", "NumPy included: {}–{} over seeds 0–4 on NumPy alone", min(last), max(last))
    check("gallery.md", "(std {} at layer 1, {} at layer 50; gradients {} : 1)", reports[0].activation_std[0],
          reports[0].activation_std[-1], reports[0].backward_ratio)


# --- the framework defects docs/frameworks.md measured ---------------------------------------------


def _count(number: str) -> int:
    return int(number.replace(",", ""))


def test_torch_trunc_normal_piles_bfloat16_mass_onto_the_bounds() -> None:
    torch = pytest.importorskip("torch")
    written = stated("frameworks.md", "| {} of {} bf16 values exactly at ±2 (`torch.manual_seed(0)`, a (2048, 2048) tensor)")
    torch.manual_seed(0)
    values = torch.nn.init.trunc_normal_(torch.empty(2048, 2048, dtype=torch.bfloat16))
    assert [_count(number) for number in written] == [int((values.abs() == 2).sum()), values.numel()]


def _keras_prints(backend: str, program: str) -> list[str]:
    """What ``program`` prints, run with Keras on ``backend`` (fixed when Keras is imported: a fresh interpreter)."""
    result = subprocess.run([sys.executable, "-c", program], env={**os.environ, "KERAS_BACKEND": backend},
                            capture_output=True, text=True, timeout=600, check=True)
    return result.stdout.split()


@pytest.mark.slow
def test_keras_truncated_normal_leaves_its_bounds_on_the_torch_backend() -> None:
    pytest.importorskip("keras")
    pytest.importorskip("torch")
    written = stated("frameworks.md", "| {} of {} values outside ±2σ, the largest at {}σ (`KERAS_BACKEND=torch`")
    program = (
        "import keras, torch\n"
        "v = torch.as_tensor(keras.initializers.TruncatedNormal(stddev=1, seed=0)((2048, 2048)))\n"
        "print(int((v.abs() > 2).sum()), v.numel(), float(v.abs().max()))\n"
    )
    outside, total, largest = _keras_prints("torch", program)
    assert [_count(written[0]), _count(written[1])] == [int(outside), int(total)]
    assert agrees(written[2], float(largest))


@pytest.mark.slow
def test_keras_draws_bfloat16_in_bfloat16_on_the_jax_backend() -> None:
    pytest.importorskip("keras")
    pytest.importorskip("jax")
    written = stated("frameworks.md", "on the JAX backend: {} distinct values | draws in float32 and casts once (about {} distinct values there)")
    program = (
        "import keras, numpy as np, unit_init as ui, unit_init.keras\n"
        "theirs = keras.initializers.GlorotUniform(seed=1)((512, 256), dtype='bfloat16')\n"
        "ours = unit_init.keras.initializer(ui.GlorotUniform(seed=1))((512, 256), dtype='bfloat16')\n"
        "print(*(len(np.unique(np.asarray(keras.ops.convert_to_numpy(x), np.float32))) for x in (theirs, ours)))\n"
    )
    theirs, ours = (int(number) for number in _keras_prints("jax", program))
    assert _count(written[0]) == theirs
    assert abs(_count(written[1]) - ours) <= 100  # "about"
