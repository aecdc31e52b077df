"""The "which peers have it" table of docs/catalogue.md: ``python docs/catalogue_table.py`` rewrites it.

:data:`ROWS` says, for every initializer unit_init registers, its law, a
reference and each peer's spelling of the same law. The table is *built by
introspection*: a peer's name is shown only if the installed peer has it
(``hasattr(torch.nn.init, "kaiming_normal_")``), and :func:`check` fails where
a listed name is missing, where a peer has a public initializer no row lists
(or :data:`NOT_INITIALIZERS` excuses), or where a name unit_init registers
has no row. Rows for initializers other work adds (``delta_orthogonal``, …)
appear once unit_init registers the name. ``tests/test_catalogue_table.py``
fails when the committed table is not what this script writes
(``UNIT_INIT_WRITE_DOCS=1 pytest tests/test_catalogue_table.py`` rewrites it).

Needs every peer installed: torch, keras, jax, flax, dm-haiku, tensorflow.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, NamedTuple

PAGE: Final = Path(__file__).parent / "catalogue.md"
BEGIN: Final = "<!-- peers-table: written by docs/catalogue_table.py -->"
END: Final = "<!-- end of peers-table -->"

PEERS: Final = {
    "torch": "torch.nn.init",
    "keras": "keras.initializers",
    "jax": "jax.nn.initializers",
    "flax": "flax.linen.initializers",
    "haiku": "haiku.initializers",
    "tf": "tensorflow.compat.v1.initializers",
}
"""Column → the module whose attributes are the peer's initializers (``tf``: TensorFlow's own, not ``tf.keras``)."""

TF_INTERNAL: Final = "tensorflow.python.ops.init_ops"
"""TensorFlow's internal initializers (the convolution-orthogonal family is only there)."""

NOT_INITIALIZERS: Final = {
    "torch": {"Callable", "Literal", "ParamSpec", "Tensor", "TypeVar", "calculate_gain", "math", "torch", "warnings"},
    "keras": {"Initializer", "deserialize", "get", "serialize"},
    "jax": {"Initializer"},
    "flax": {"Initializer"},
    "haiku": {"Initializer"},
    "tf": {"global_variables", "local_variables", "tables_initializer", "variables"},
}
"""Public names of a peer's module that are not initializers."""


class Row(NamedTuple):
    """One initializer: its law, where it comes from, and each peer's names for the same law."""

    law: str
    reference: str
    peers: dict[str, tuple[str, ...]]


def _same(name: str) -> dict[str, tuple[str, ...]]:
    """A name every fan-scaled peer spells alike (keras in CamelCase)."""
    camel = "".join(part.capitalize() for part in name.split("_"))
    return {"keras": (camel, name), "jax": (name,), "flax": (name,), "tf": (name,)}


ROWS: Final[dict[str, Row]] = {
    "zeros": Row("0", "—", {"torch": ("zeros_",), "keras": ("Zeros", "zeros"), "jax": ("zeros",), "flax": ("zeros", "zeros_init"), "tf": ("zeros",)}),
    "ones": Row("1", "—", {"torch": ("ones_",), "keras": ("Ones", "ones"), "jax": ("ones",), "flax": ("ones", "ones_init"), "tf": ("ones",)}),
    "constant": Row("value", "—", {"torch": ("constant_", "constant"), "keras": ("Constant", "constant"), "jax": ("constant",), "flax": ("constant",), "haiku": ("Constant",), "tf": ("constant",)}),
    "random_normal": Row("N(mean, stddev²)", "—", {"torch": ("normal_", "normal"), "keras": ("RandomNormal", "random_normal"), "jax": ("normal",), "flax": ("normal",), "haiku": ("RandomNormal",), "tf": ("random_normal",)}),
    "random_uniform": Row("U[minval, maxval)", "—", {"torch": ("uniform_", "uniform"), "keras": ("RandomUniform", "random_uniform"), "jax": ("uniform",), "flax": ("uniform",), "haiku": ("RandomUniform",), "tf": ("random_uniform",)}),
    "truncated_normal": Row("N(mean, stddev²) cut at mean + [lower, upper]·stddev", "—", {"keras": ("TruncatedNormal", "truncated_normal"), "jax": ("truncated_normal",), "flax": ("truncated_normal",), "haiku": ("TruncatedNormal",), "tf": ("truncated_normal",)}),
    "variance_scaling": Row("Var = scale / n, n = n_in, n_out, their mean or √(n_in·n_out)", "—", {**_same("variance_scaling"), "haiku": ("VarianceScaling",)}),
    "glorot_normal": Row("truncated normal, Var = 2 / (n_in + n_out)", "Glorot & Bengio 2010", {**_same("glorot_normal"), "jax": ("glorot_normal", "xavier_normal"), "flax": ("glorot_normal", "xavier_normal")}),
    "glorot_uniform": Row("U(±√(6 / (n_in + n_out)))", "Glorot & Bengio 2010", {**_same("glorot_uniform"), "jax": ("glorot_uniform", "xavier_uniform"), "flax": ("glorot_uniform", "xavier_uniform"), "torch": ("xavier_uniform_", "xavier_uniform")}),
    "he_normal": Row("truncated normal, Var = 2 / n_in", "He et al. 2015", {**_same("he_normal"), "jax": ("he_normal", "kaiming_normal"), "flax": ("he_normal", "kaiming_normal")}),
    "he_uniform": Row("U(±√(6 / n_in))", "He et al. 2015", {**_same("he_uniform"), "jax": ("he_uniform", "kaiming_uniform"), "flax": ("he_uniform", "kaiming_uniform"), "torch": ("kaiming_uniform_", "kaiming_uniform")}),  # torch's default a=0
    "lecun_normal": Row("truncated normal, Var = 1 / n_in", "LeCun et al. 1998", _same("lecun_normal")),
    "lecun_uniform": Row("U(±√(3 / n_in))", "LeCun et al. 1998", _same("lecun_uniform")),
    "orthogonal": Row("Haar (semi-)orthogonal × gain", "Saxe et al. 2014", {"torch": ("orthogonal_", "orthogonal"), "keras": ("Orthogonal", "OrthogonalInitializer", "orthogonal"), "jax": ("orthogonal",), "flax": ("orthogonal",), "haiku": ("Orthogonal",), "tf": ("orthogonal",)}),
    "identity": Row("gain · eye (broadcast over leading axes)", "—", {"torch": ("eye_", "eye"), "keras": ("Identity", "IdentityInitializer", "identity"), "haiku": ("Identity",), "tf": ("identity",)}),
    "dirac": Row("identity convolution kernel per group", "—", {"torch": ("dirac_", "dirac")}),
    "sparse": Row("N(0, stddev²), ⌈sparsity·n_out⌉ zeros among each input unit's weights (per column in torch's layout)", "Martens 2010", {"torch": ("sparse_", "sparse")}),
    "bounded_normal": Row("N(mean, stddev²) cut at absolute [minval, maxval]", "—", {"torch": ("trunc_normal_",)}),
    "xavier_uniform": Row("U(±gain·√(6 / (n_in + n_out)))", "Glorot & Bengio 2010", {"torch": ("xavier_uniform_", "xavier_uniform")}),
    "xavier_normal": Row("N(0, gain²·2 / (n_in + n_out)), untruncated", "Glorot & Bengio 2010", {"torch": ("xavier_normal_", "xavier_normal")}),
    "kaiming_uniform": Row("U(±g·√(3 / n)), g = calculate_gain(nonlinearity, a)", "He et al. 2015", {"torch": ("kaiming_uniform_", "kaiming_uniform")}),
    "kaiming_normal": Row("N(0, g² / n), untruncated", "He et al. 2015", {"torch": ("kaiming_normal_", "kaiming_normal")}),
    "constant_array": Row("broadcast_to(value, shape)", "—", {"keras": ("Constant",), "jax": ("constant",), "flax": ("constant",), "haiku": ("Constant",), "tf": ("constant",)}),
    "scaled_residual": Row("N(0, (std / √(2·n_layer))²)", "Radford et al. 2019 (GPT-2); Shoeybi et al. 2019", {}),
    "small_init": Row("N(0, 2 / (5·d))", "Nguyen & Salazar 2019", {}),
    "wang_init": Row("N(0, (2 / (n_layer·√d))²)", "Wang & Komatsuzaki 2021 (GPT-J/NeoX)", {}),
    "deepnorm": Row("Glorot × β, β from the depth", "Wang et al. 2022", {}),
    "fixup": Row("He × L^(−1/(2m−2)), last layer 0", "Zhang et al. 2019", {}),
    "t_fixup": Row("Xavier × 0.67·N^(−1/4) (encoder), × (9N)^(−1/4) (decoder)", "Huang et al. 2020", {}),
    "t_fixup_embedding": Row("N(0, d^(−1/2)) × (9N)^(−1/4)", "Huang et al. 2020", {}),
    "zer_o": Row("identity + Hadamard, deterministic", "Zhao et al. 2021", {}),
    "mup": Row("Var scaled by width multipliers, readout 0", "Yang et al. 2021–22", {}),
    "delta_orthogonal": Row("orthogonal at the window centre, 0 elsewhere", "Xiao et al. 2018", {"jax": ("delta_orthogonal",), "flax": ("delta_orthogonal",), "tf": (f"{TF_INTERNAL}:ConvolutionDeltaOrthogonal",)}),
    "convolution_orthogonal": Row("block-orthogonal convolution kernel", "Xiao et al. 2018", {"tf": (f"{TF_INTERNAL}:ConvolutionOrthogonal",)}),
    "uniform_scaling": Row("U(±scale·√(3 / n_in))", "Sussillo & Abbott 2014", {"haiku": ("UniformScaling",), "tf": ("uniform_unit_scaling",)}),
    "stft": Row("short-time Fourier transform kernel", "—", {"keras": ("STFT", "STFTInitializer", "stft")}),
}
"""Every initializer name unit_init registers or will register → its row (extra rows show once registered)."""


def _works(draw: Callable[[], object]) -> bool:
    """Whether a peer's call succeeds (a peer refuses a feature with an error of its own choosing)."""
    try:
        with warnings.catch_warnings():  # a peer's warning (ComplexWarning, …) is not a refusal
            warnings.simplefilter("ignore")
            draw()
    except Exception:  # any peer error means "not supported"
        return False
    return True


def _jax_module(peer: str) -> Any:
    return importlib.import_module(PEERS[peer])


def _fan_geo_avg(peer: str) -> bool:
    import jax

    return _works(lambda: _jax_module(peer).variance_scaling(1.0, "fan_geo_avg", "normal")(jax.random.key(0), (2, 3)))


def _complex(peer: str) -> bool:
    """``he_normal``'s law (or torch's ``kaiming_normal_``) drawn in complex64."""
    if peer == "torch":
        import torch

        return _works(lambda: torch.nn.init.kaiming_normal_(torch.empty(2, 3, dtype=torch.complex64)))
    if peer in ("jax", "flax"):
        import jax
        import jax.numpy as jnp

        return _works(lambda: _jax_module(peer).he_normal(dtype=jnp.complex64)(jax.random.key(0), (2, 3)))
    if peer == "haiku":
        import haiku as hk
        import jax
        import jax.numpy as jnp

        init = hk.transform(lambda: hk.initializers.VarianceScaling(2.0)((2, 3), jnp.complex64))
        return _works(lambda: init.init(jax.random.key(0)))
    if peer == "keras":
        import keras

        return _works(lambda: keras.initializers.HeNormal()((2, 3), dtype="complex64"))
    import tensorflow as tf

    return _works(lambda: tf.compat.v1.initializers.he_normal()((2, 3), dtype=tf.complex64))


def _ours_fan_geo_avg() -> bool:
    from unit_init.spec.rules import MODES

    return "fan_geo_avg" in MODES


def _ours_complex() -> bool:
    import unit_init as ui

    return _works(lambda: ui.he_normal((2, 3), dtype="complex64"))


FEATURES: Final = {
    '`mode="fan_geo_avg"`: n = √(n_in·n_out)': (_ours_fan_geo_avg, {"jax": _fan_geo_avg, "flax": _fan_geo_avg}),
    "complex dtypes (he_normal in complex64, mean square modulus = Var)": (_ours_complex, dict.fromkeys(PEERS, _complex)),
}
"""Features beyond a name → (does unit_init have it, {peer: does it}); a peer not listed does not (no such call)."""


def registered() -> dict[str, type]:
    """Every name :func:`unit_init.get` takes (and ``constant_array``) → its spec class."""
    from unit_init import serialization

    return {**serialization._NAMED, "constant_array": serialization._SPECS["ConstantArray"]}


def _aliases(names: dict[str, type]) -> dict[str, list[str]]:
    """Row name → the registered names without a row of their own that take the same class (``eye`` → ``identity``)."""
    by_class = {names[name]: name for name in ROWS if name in names}
    aliases: dict[str, list[str]] = {}
    for name, cls in names.items():
        if name not in ROWS and cls in by_class:
            aliases.setdefault(by_class[cls], []).append(name)
    return aliases


def _peer_has(peer: str, name: str) -> bool:
    module_name, _, attribute = name.rpartition(":") if ":" in name else (PEERS[peer], "", name)
    return hasattr(importlib.import_module(module_name), attribute)


def check() -> list[str]:
    """Every inconsistency between :data:`ROWS`, unit_init's registry and the installed peers."""
    names = registered()
    covered = {alias for group in _aliases(names).values() for alias in group}
    problems = [f"{name!r} is registered in unit_init but has no row" for name in names if name not in ROWS and name not in covered]
    listed: dict[str, set[str]] = {peer: set() for peer in PEERS}
    for name, row in ROWS.items():
        for peer, spellings in row.peers.items():
            listed[peer].update(spellings)
            problems += [f"{name}: {peer} has no {spelling!r}" for spelling in spellings if not _peer_has(peer, spelling)]
    for peer, module in PEERS.items():
        public = {n for n in dir(importlib.import_module(module)) if not n.startswith("_")}
        problems += [f"{peer} has {n!r}, which no row lists" for n in sorted(public - listed[peer] - NOT_INITIALIZERS[peer])]
    return problems


def _cell(spellings: tuple[str, ...]) -> str:
    return ", ".join(f"`{s.rpartition(':')[2]}`" for s in spellings) or "—"


def table() -> str:
    """The markdown table, one row per registered name, in :data:`ROWS` order."""
    names = registered()
    aliases = _aliases(names)
    lines = [
        "| name | spec | law | reference | " + " | ".join(PEERS) + " |",
        "|---|---|---|---|" + "---|" * len(PEERS),
    ]
    for name, row in ROWS.items():
        if name in names:
            spec = getattr(names[name], "__name__", "?")
            cells = " | ".join(_cell(row.peers.get(peer, ())) for peer in PEERS)
            shown = ", ".join(f"`{n}`" for n in [name, *aliases.get(name, [])])
            lines.append(f"| {shown} | `{spec}` | {row.law} | {row.reference} | {cells} |")
    lines += ["", "| feature | unit_init | " + " | ".join(PEERS) + " |", "|---|---|" + "---|" * len(PEERS)]
    for feature, (ours, probes) in FEATURES.items():
        marks = " | ".join("✓" if peer in probes and probes[peer](peer) else "—" for peer in PEERS)
        lines.append(f"| {feature} | {'✓' if ours() else '—'} | {marks} |")
    return "\n".join(lines)


def page(text: str) -> str:
    """``text`` (docs/catalogue.md) with the table between the markers replaced."""
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n\n{table()}\n\n{END}{tail}"


if __name__ == "__main__":
    problems = check()
    if problems:
        raise SystemExit("\n".join(problems))
    PAGE.write_text(page(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
