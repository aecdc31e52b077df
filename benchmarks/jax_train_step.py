"""Training-step time of JAX models whose weights come from unit_init, against ``jax.nn.initializers`` / Keras's own.

    python benchmarks/jax_train_step.py [--width 64] [--steps 300] [--repeat 5]

Builds the same small MLP three ways and times one training step (forward,
gradient, SGD update) after warm-up, as the median of ``--steps`` steps, best
of ``--repeat`` runs (results are waited for):

* Flax NNX, ``kernel_init=jax.nn.initializers.he_normal()`` vs
  ``ui.jax.initializer(ui.HeNormal())``, weights drawn eagerly;
* Keras 3 on JAX (``train_on_batch``), ``keras.initializers.HeNormal()`` vs
  ``unit_init.keras.initializer(ui.HeNormal())``;
* the same Flax model with its weights committed to the default device
  (``jax.device_put(w, jax.devices()[0])``), which is what unit_init returned
  before its arrays became uncommitted: the ratio shows what committing costs
  on the machine at hand.

Prints the step times and the ratio unit_init / framework (1.0 ± noise is the
target). Also prints whether the eagerly drawn weights are committed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np

import unit_init as ui
import unit_init.jax
import unit_init.keras


def timed(step: Callable[[], Any], steps: int, repeat: int) -> float:
    """The best over ``repeat`` runs of the median time of one ``step()`` (its result waited for), in ms."""
    jax.block_until_ready(step())
    runs = []
    for _ in range(repeat):
        times = []
        for _ in range(steps):
            start = time.perf_counter()
            jax.block_until_ready(step())
            times.append(time.perf_counter() - start)
        runs.append(statistics.median(times))
    return 1e3 * min(runs)


def flax_step(kernel_init: Any, width: int, commit: bool = False) -> tuple[Callable[[], Any], bool]:
    """A Flax NNX MLP's jitted SGD step, and whether its first kernel is committed."""
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.layers = nnx.List([nnx.Linear(width, width, kernel_init=kernel_init, rngs=rngs) for _ in range(3)])

        def __call__(self, x: jax.Array) -> jax.Array:
            for layer in self.layers:
                x = jax.nn.relu(layer(x))
            return x

    model = MLP(nnx.Rngs(0))
    if commit:
        nnx.update(model, jax.device_put(nnx.state(model), jax.devices()[0]))
    x, y = jnp.ones((32, width)), jnp.zeros((32, width))

    @nnx.jit
    def step(model: MLP, x: jax.Array, y: jax.Array) -> jax.Array:
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        params = nnx.state(model, nnx.Param)
        nnx.update(model, jax.tree.map(lambda p, g: p - 0.01 * g, params, grads))
        return loss

    return (lambda: step(model, x, y)), bool(model.layers[0].kernel[...].committed)


def keras_step(kernel_initializer: Any, width: int) -> tuple[Callable[[], Any], bool]:
    """A Keras-on-JAX MLP's ``train_on_batch``, and whether its first kernel is committed."""
    model = keras.Sequential(
        [keras.Input((width,))] + [keras.layers.Dense(width, activation="relu", kernel_initializer=kernel_initializer) for _ in range(3)]
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((32, width), np.float32), np.zeros((32, width), np.float32)
    return (lambda: model.train_on_batch(x, y)), bool(model.layers[0].kernel.value.committed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = {
        "flax nnx": (flax_step(jax.nn.initializers.he_normal(), args.width), flax_step(ui.jax.initializer(ui.HeNormal()), args.width)),
        "keras on jax": (
            keras_step(keras.initializers.HeNormal(), args.width),
            keras_step(unit_init.keras.initializer(ui.HeNormal()), args.width),
        ),
        "flax nnx, weights committed": (
            flax_step(jax.nn.initializers.he_normal(), args.width),
            flax_step(ui.jax.initializer(ui.HeNormal()), args.width, commit=True),
        ),
    }
    print(f"training step, width {args.width}, jax {jax.__version__} on {jax.devices()[0].platform}")
    print(f"{'model':30} {'framework ms':>13} {'unit_init ms':>13} {'ratio':>7}  committed (framework, unit_init)")
    for name, ((base, base_committed), (ours, ours_committed)) in rows.items():
        base_ms, ours_ms = timed(base, args.steps, args.repeat), timed(ours, args.steps, args.repeat)
        print(f"{name:30} {base_ms:13.3f} {ours_ms:13.3f} {ours_ms / base_ms:7.2f}  ({base_committed}, {ours_committed})")


if __name__ == "__main__":
    main()
