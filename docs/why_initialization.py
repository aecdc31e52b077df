"""Regenerate docs/why-initialization.md, its figures and docs/why/results.json: ``python docs/why_initialization.py``.

Trains the same small MLP on scikit-learn's bundled digits (no download) in
PyTorch and in Keras 3, once per initializer and activation, every weight and
bias drawn by unit_init, and records per epoch the training loss and the test
accuracy, and at initialization the std of every layer's output on the
training images. ``nox -s docs`` runs it before ``mkdocs build``;
``tests/test_why_page.py`` checks that the page's table is results.json's.

Needs scikit-learn, matplotlib, torch and keras (with any Keras backend).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import unit_init as ui

DOCS = Path(__file__).parent
OUT = DOCS / "why"
RESULTS = OUT / "results.json"
PAGE = DOCS / "why-initialization.md"
TEMPLATE = OUT / "page.md.in"
DPI = 100

SEED = 0
HIDDEN = (128, 128, 128, 128)
EPOCHS = 30
BATCH = 128
LEARNING_RATE = 0.01
MOMENTUM = 0.9
TEST_FRACTION = 0.25
ACTIVATIONS = ("relu", "tanh")
FRAMEWORKS = ("PyTorch", "Keras")
# label -> spec, in the order of the notebook
INITIALIZERS: dict[str, ui.Initializer] = {
    "zeros": ui.Zeros(),
    "N(0, 0.01)": ui.RandomNormal(stddev=0.01),
    "N(0, 1)": ui.RandomNormal(stddev=1.0),
    "Glorot uniform": ui.GlorotUniform(),
    "He normal": ui.HeNormal(),
}
TABLE_START = "<!-- accuracy-table: written by docs/why_initialization.py -->"
TABLE_END = "<!-- end of accuracy-table -->"

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Run = dict[str, list[float]]


def load_data() -> Data:
    """The digits (8×8 images, 10 classes), split stratified 75/25 with ``SEED``, standardized by the training set.

    Each pixel becomes ``(x - mean_train) / std_train`` (a constant pixel keeps
    std 1), so the inputs have the unit variance the initializers assume.
    """
    from sklearn.datasets import load_digits  # type: ignore[import-untyped]
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=TEST_FRACTION, stratify=y, random_state=SEED)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0

    def scale(a: np.ndarray) -> np.ndarray:
        return np.asarray((a - mean) / std, dtype=np.float32)

    return scale(x_train), y_train.astype(np.int64), scale(x_test), y_test.astype(np.int64)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean softmax cross-entropy ``-log softmax(z)[y]``, in float64; ``nan`` once the logits are not finite.

    >>> round(cross_entropy(np.zeros((4, 10)), np.arange(4)), 4)     # uniform guess: log 10
    2.3026
    """
    z = logits.astype(np.float64)
    if not np.isfinite(z).all():
        return math.nan
    z = z - z.max(axis=1, keepdims=True)
    log_softmax = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_softmax[np.arange(len(labels)), labels].mean())


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose largest logit is the label (non-finite logits count as wrong).

    >>> accuracy(np.array([[0.0, 1.0], [2.0, 1.0], [np.nan, 0.0]]), np.array([1, 1, 0]))
    0.3333333333333333
    """
    finite = np.isfinite(logits).all(axis=1)
    return float(np.mean(finite & (np.argmax(np.nan_to_num(logits), axis=1) == labels)))


def train(
    data: Data,
    forward: Callable[[np.ndarray], list[np.ndarray]],
    step: Callable[[np.ndarray, np.ndarray], None],
) -> Run:
    """The loop both frameworks share: the same batches, the same metrics.

    ``forward(x)`` returns every layer's output (the last is the logits);
    ``step(x, y)`` takes one optimizer step. Epoch 0 is the network at
    initialization; the batches of each epoch are a permutation drawn from
    ``numpy.random.default_rng(SEED)``.
    """
    x_train, y_train, x_test, y_test = data
    rng = np.random.default_rng(SEED)
    layers = forward(x_train)
    run: Run = {"activation_std": [float(np.std(h)) for h in layers], "train_loss": [], "test_accuracy": []}
    for epoch in range(EPOCHS + 1):
        if epoch:
            order = rng.permutation(len(x_train))
            for start in range(0, len(order), BATCH):
                batch = order[start : start + BATCH]
                step(x_train[batch], y_train[batch])
        run["train_loss"].append(cross_entropy(forward(x_train)[-1], y_train))
        run["test_accuracy"].append(accuracy(forward(x_test)[-1], y_test))
    return run


def torch_run(data: Data, spec: ui.Initializer, activation: str) -> Run:
    """The MLP as a ``torch.nn.Sequential``, set by ``unit_init.torch.initialize`` (weights ``spec``, biases zeros)."""
    import torch

    import unit_init.torch as init

    widths = (data[0].shape[1], *HIDDEN)
    act = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}[activation]
    hidden = [(torch.nn.Linear(a, b), act()) for a, b in itertools.pairwise(widths)]
    model = torch.nn.Sequential(*(m for pair in hidden for m in pair), torch.nn.Linear(widths[-1], 10))
    model, _ = init.initialize(model, {"*.weight": spec, "*.bias": ui.Zeros()}, seed=SEED)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    loss = torch.nn.CrossEntropyLoss()

    def forward(x: np.ndarray) -> list[np.ndarray]:
        outputs, h = [], torch.from_numpy(x)
        with torch.no_grad():
            for index, module in enumerate(model):
                h = module(h)
                if index % 2 or index == len(model) - 1:  # after each activation, and the logits
                    outputs.append(h.numpy())
        return outputs

    def step(x: np.ndarray, y: np.ndarray) -> None:
        optimizer.zero_grad()
        loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
        optimizer.step()

    return train(data, forward, step)


def keras_run(data: Data, spec: ui.Initializer, activation: str) -> Run:
    """The MLP as a ``keras.Sequential`` of ``Dense`` layers; layer ``i`` gets ``unit_init.keras.initializer(spec, seed=SEED + i)``."""
    import keras

    import unit_init.keras

    def dense(units: int, index: int, act: str | None) -> Any:
        return keras.layers.Dense(
            units,
            activation=act,
            kernel_initializer=unit_init.keras.initializer(spec, seed=SEED + index),
            bias_initializer=unit_init.keras.initializer(ui.Zeros()),
        )

    layers = [dense(units, i, activation) for i, units in enumerate(HIDDEN)] + [dense(10, len(HIDDEN), None)]
    model = keras.Sequential([keras.Input((data[0].shape[1],)), *layers])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=LEARNING_RATE, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def forward(x: np.ndarray) -> list[np.ndarray]:
        outputs, h = [], x
        for layer in layers:
            h = layer(h)
            outputs.append(keras.ops.convert_to_numpy(h))
        return outputs

    def step(x: np.ndarray, y: np.ndarray) -> None:
        model.train_on_batch(x, y)

    return train(data, forward, step)


def versions() -> dict[str, str]:
    """The versions the run used (Python, the libraries, the Keras backend and its version)."""
    import keras
    import matplotlib
    import sklearn  # type: ignore[import-untyped]
    import torch

    backend = keras.backend.backend()
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch", "numpy": "numpy"}[backend]
    return {
        "python": platform.python_version(),
        "unit_init": ui.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__,
        "keras": keras.__version__,
        "keras_backend": f"{backend} {sys.modules[backend_module].__version__}",
        "scikit-learn": sklearn.__version__,
        "matplotlib": matplotlib.__version__,
    }


def run_all() -> dict[str, Any]:
    """Every framework × activation × initializer, with the configuration and versions."""
    import torch

    torch.set_num_threads(1)  # 128-wide layers: one thread is faster than several contending for the cores
    data = load_data()
    runners = {"PyTorch": torch_run, "Keras": keras_run}
    runs: dict[str, dict[str, dict[str, Run]]] = {}
    for framework in FRAMEWORKS:
        for activation in ACTIVATIONS:
            for label, spec in INITIALIZERS.items():
                began = time.perf_counter()
                run = runners[framework](data, spec, activation)
                runs.setdefault(framework, {}).setdefault(activation, {})[label] = run
                print(
                    f"{framework:8} {activation:5} {label:15} test accuracy {run['test_accuracy'][-1]:.3f} "
                    f"train loss {run['train_loss'][-1]:.4g}  ({time.perf_counter() - began:.1f} s)",
                    flush=True,
                )
    return {
        "seed": SEED,
        "config": {
            "dataset": "sklearn.datasets.load_digits",
            "train": len(data[0]),
            "test": len(data[2]),
            "layers": [data[0].shape[1], *HIDDEN, 10],
            "epochs": EPOCHS,
            "batch": BATCH,
            "optimizer": f"SGD(learning_rate={LEARNING_RATE}, momentum={MOMENTUM})",
            "initializers": {label: repr(spec) for label, spec in INITIALIZERS.items()},
        },
        "versions": versions(),
        "runs": runs,
    }


def to_json(value: Any) -> Any:
    """``value`` with every non-finite float as ``None`` (JSON's ``null``), as the diagnostics reports write them."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    return None if isinstance(value, float) and not math.isfinite(value) else value


def from_json(value: Any) -> Any:
    """The inverse of :func:`to_json` for results.json: ``None`` back to ``nan``."""
    if isinstance(value, dict):
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [math.nan if item is None else from_json(item) for item in value]
    return value


def _diverged(run: Run) -> bool:
    return not math.isfinite(run["train_loss"][-1])


def _style(label: str) -> dict[str, Any]:
    """One colour, marker and line style per initializer, the same in every figure; zeros is drawn wide and pale
    underneath so that the curves it shares with N(0, 0.01) stay visible."""
    index = list(INITIALIZERS).index(label)
    style: dict[str, Any] = {"color": f"C{index}", "marker": "osd^v"[index], "markersize": 4, "label": label}
    if label == "zeros":
        style.update(linewidth=5, alpha=0.35, markersize=7, zorder=1)
    elif label == "N(0, 0.01)":
        style.update(linestyle="--")
    return style


def _finish(fig: Any, axes: np.ndarray, path: Path) -> None:
    """Grid every panel, put one legend under the figure, save at ``DPI`` and close."""
    import matplotlib.pyplot as plt

    for ax in axes.flat:
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize="small")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def plot_training(results: dict[str, Any], activation: str, path: Path) -> None:
    """Training loss (log axis) and test accuracy per epoch, one row per framework; "→ nan" where a loss diverged."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(FRAMEWORKS), 2, figsize=(11, 7.5), sharex=True, layout="constrained")
    epochs = np.arange(EPOCHS + 1)
    for (loss_ax, accuracy_ax), framework in zip(axes, FRAMEWORKS, strict=True):
        for label, run in results["runs"][framework][activation].items():
            loss_ax.plot(epochs, run["train_loss"], **_style(label))
            accuracy_ax.plot(epochs, np.multiply(run["test_accuracy"], 100), **_style(label))
            if _diverged(run):
                last = int(np.flatnonzero(np.isfinite(run["train_loss"]))[-1])
                loss_ax.annotate(
                    f"  → nan after epoch {last}",
                    (last, run["train_loss"][last]),
                    color=f"C{list(INITIALIZERS).index(label)}",
                )
        loss_ax.set(
            yscale="log", ylabel="training loss (cross-entropy)", title=f"{framework}, {activation}: training loss"
        )
        accuracy_ax.set(ylabel="test accuracy (%)", ylim=(0, 100), title=f"{framework}, {activation}: test accuracy")
        accuracy_ax.axhline(10, color="grey", linestyle=":", linewidth=1)
    for ax in axes[-1]:
        ax.set_xlabel("epoch (0 = at initialization)")
    _finish(fig, axes, path)


def plot_activations(results: dict[str, Any], activation: str, path: Path) -> None:
    """Std of each layer's output at initialization on the training images (log axis), one panel per framework."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FRAMEWORKS), figsize=(11, 4.5), sharey=True, layout="constrained", squeeze=False)
    for ax, framework in zip(axes.flat, FRAMEWORKS, strict=True):
        for label, run in results["runs"][framework][activation].items():
            std = np.asarray(run["activation_std"])
            style = _style(label)
            if not (std > 0).any():
                style["label"] = f"{label} (std 0 at every layer: off the log axis)"
            ax.plot(np.arange(1, len(std) + 1), np.where(std > 0, std, np.nan), **style)
        layers = np.arange(1, len(std) + 1)
        ax.set(
            yscale="log",
            xticks=layers,
            xticklabels=[*map(str, layers[:-1]), f"{layers[-1]} (logits)"],
            xlabel="layer",
            title=f"{framework}, {activation}: output std at initialization",
        )
    axes.flat[0].set_ylabel("std over the training images")
    _finish(fig, axes, path)


def plot_synthetic(activation: str, path: Path) -> None:
    """``ui.compare`` on the same initializers, depth and width, with Gaussian inputs instead of digits."""
    comparison = ui.compare(
        list(INITIALIZERS.values()), activation=activation, depth=len(HIDDEN) + 1, width=HIDDEN[0], seed=SEED
    )
    print(comparison, end="\n\n")
    comparison.plot(path, dpi=DPI)


def _cell(run: Run) -> str:
    mark = " †" if _diverged(run) else ""
    return f"{100 * run['test_accuracy'][-1]:.1f}{mark}"


def accuracy_table(results: dict[str, Any]) -> str:
    """The page's table: final test accuracy (%) per initializer, framework and activation.

    >>> run = {"train_loss": [2.3, float("nan")], "test_accuracy": [0.1, 0.0987]}
    >>> print(accuracy_table({"runs": {"PyTorch": {"relu": {"zeros": run}}}}))
    | initializer | PyTorch relu |
    |---|---|
    | zeros | 9.9 † |
    """
    columns = [(f, a) for f, per_activation in results["runs"].items() for a in per_activation]
    labels = list(next(iter(next(iter(results["runs"].values())).values())))
    lines = [
        "| initializer | " + " | ".join(f"{f} {a}" for f, a in columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    lines += [
        f"| {label} | " + " | ".join(_cell(results["runs"][f][a][label]) for f, a in columns) + " |" for label in labels
    ]
    return "\n".join(lines)


def versions_line(results: dict[str, Any]) -> str:
    """The versions as one line of the page."""
    return ", ".join(f"{name} {version}" for name, version in results["versions"].items())


def write_page(results: dict[str, Any], template: str) -> str:
    """Fill the page template's ``{table}``, ``{seed}``, ``{versions}`` and configuration fields."""
    config = results["config"]
    return template.format(
        table=f"{TABLE_START}\n{accuracy_table(results)}\n{TABLE_END}",
        seed=results["seed"],
        versions=versions_line(results),
        layers=" → ".join(map(str, config["layers"])),
        train=config["train"],
        test=config["test"],
        epochs=config["epochs"],
        batch=config["batch"],
        optimizer=config["optimizer"],
        backend=results["versions"]["keras_backend"].split()[0],
        seconds=results["seconds"],
    )


def main() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    OUT.mkdir(exist_ok=True)
    began = time.perf_counter()
    results = run_all()
    for activation in ACTIVATIONS:
        plot_training(results, activation, OUT / f"training_{activation}.png")
        plot_activations(results, activation, OUT / f"activations_{activation}.png")
        plot_synthetic(activation, OUT / f"synthetic_{activation}.png")
    results["seconds"] = round(time.perf_counter() - began)
    RESULTS.write_text(json.dumps(to_json(results), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    PAGE.write_text(write_page(results, TEMPLATE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PAGE}, {RESULTS} and the figures in {OUT} ({results['seconds']} s)")


if __name__ == "__main__":
    main()
