"""The TensorFlow backend: eager ``tf.Tensor`` results drawn with stateless ops on the target device.

* **Devices**: ``None`` is the first logical GPU if there is one, else
  ``CPU:0`` (TensorFlow's own default); the portable strings ``"cpu"``,
  ``"cpu:N"``, ``"gpu"``, ``"gpu:N"``, ``"cuda:N"`` (≡ ``"gpu:N"``),
  ``"tpu:N"``; TensorFlow names (``"/GPU:0"``, ``"/device:CPU:1"``,
  ``"/job:localhost/replica:0/task:0/device:CPU:0"``) and ``tf.DeviceSpec``.
  Devices are checked against ``tf.config.list_logical_devices()``.
* **Randomness**: an int seed becomes a :class:`SeedStream` whose ``k``-th
  draw uses the stateless seed ``[seed, k]``, so one call's draws are
  independent and the same int is bit-reproducible; a ``tf.random.Generator``
  draws with its own methods and advances. Inside a ``tf.function`` a scalar
  int64 tensor of the traced graph is such an int too, read when the function
  runs: how a Keras ``SeedGenerator``'s seed arrives there
  (:func:`unit_init.seeds.keras_seed`).
* **Compilation**: with an int seed, each call runs one concrete
  ``tf.function`` per (law, shape, dtype, device) — the draw, the scaling,
  the clip and the cast of :mod:`unit_init.sampling` in one graph, traced once
  (:meth:`TensorflowBackend.compile_sampler`, :data:`TRACES`); a
  ``tf.random.Generator`` draws op by op. The portable stream's kernel
  (Threefry and the inverse CDF, a few hundred elementwise ops) is compiled
  by XLA (``jit_compile=True``) into one fused loop for draws of at least
  :data:`XLA_MIN` values, and for every block (``region=``) of such a draw
  (:meth:`TensorflowBackend.compiled`).
* **Placement**: every op runs under ``tf.device`` of the target, because
  TensorFlow runs unscoped eager ops on its default device; ``xp`` is
  :mod:`unit_init.backends._tf_namespace`, whose functions keep results where
  their inputs live.
"""

from __future__ import annotations

import collections
import contextlib
import inspect
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import context as _eager  # the device of an enclosing tf.device scope: no public reader

from unit_init.backends import _tf_namespace
from unit_init.backends.base import Backend
from unit_init.backends.devices import absent_device, accepted_forms, device_request, unknown_device
from unit_init.errors import SeedError, UnitInitError, abbreviate

if TYPE_CHECKING:
    from unit_init.backends._tf_namespace import Tensor

__all__ = ["EAGER_CALLS", "TRACES", "XLA_MIN", "GeneratorStream", "SeedStream", "TensorflowBackend"]

TRACES: Final[collections.Counter[str]] = collections.Counter()
"""How many samplers were traced (compiled); it grows only for new distributions, shapes, dtypes or devices."""

EAGER_CALLS: Final = 8
"""Calls of a compiled sampler (:meth:`TensorflowBackend.compile_sampler`) that run op by op before it is traced."""
XLA_MIN: Final = 1 << 20
"""The portable stream's kernel is compiled by XLA for blocks of at least this many values (:meth:`TensorflowBackend.compiled`)."""
_PLATFORMS: Final = ("cpu", "gpu", "tpu")  # TensorFlow's device types, upper-cased
_ACCEPTED: Final = accepted_forms(_PLATFORMS, "a TensorFlow name such as '/GPU:0' or a tf.DeviceSpec")
_LOCAL: Final = "/job:localhost/replica:0/task:0"


def _flat_call(concrete: Any) -> Callable[[Tensor], Tensor]:
    """``concrete(seed)`` for an eager int64 scalar tensor ``seed``, without the binding of its arguments to the traced
    signature that ``ConcreteFunction.__call__`` does on every call: ``_call_flat(tensor_inputs, captured_inputs)``
    (as TensorFlow 2.21 has it), the call ``__call__`` ends in. A 64² ``glorot_uniform`` took 136 µs through ``__call__``,
    against 102 for ``tf.random.stateless_uniform``; the bound is the same tensor ``__call__`` would bind. A
    TensorFlow whose method is missing or takes other parameters is called through ``__call__``."""
    flat = getattr(concrete, "_call_flat", None)
    if flat is None or list(inspect.signature(flat).parameters)[:2] != ["tensor_inputs", "captured_inputs"]:
        return cast("Callable[[Tensor], Tensor]", concrete)
    captured = concrete.captured_inputs
    return lambda seed: flat([seed], captured)


class SeedStream:
    """Stateless seeds ``[seed, 0]``, ``[seed, 1]``, …: one fresh seed per draw.

    ``seed`` is an int, or a scalar int64 tensor while a compiled sampler is traced.
    """

    __slots__ = ("count", "seed")

    def __init__(self, seed: int | Tensor) -> None:
        self.seed = seed
        self.count = 0

    def draw(self, kind: str, shape: tuple[int, ...], dtype: tf.DType, low: float = 0.0, high: float = 1.0) -> Tensor:
        """One ``uniform`` (on ``[low, high)``) or ``normal`` draw in the current device scope."""
        if tf.is_tensor(self.seed):  # the int64 input of a compiled sampler
            seed = tf.stack([self.seed, tf.constant(self.count, dtype=tf.int64)])
        else:
            seed = np.array([self.seed, self.count], dtype=np.int64)
        self.count += 1
        if kind == "uniform":
            return tf.random.stateless_uniform(shape, seed=seed, minval=low, maxval=high, dtype=dtype)
        return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)


class GeneratorStream:
    """A user's ``tf.random.Generator``: draws with its own methods, advancing its state.

    Its ops run where its state lives; results elsewhere are then copied to
    the target device.
    """

    __slots__ = ("generator",)

    def __init__(self, generator: tf.random.Generator) -> None:
        self.generator = generator

    def draw(self, kind: str, shape: tuple[int, ...], dtype: tf.DType, low: float = 0.0, high: float = 1.0) -> Tensor:
        """One ``uniform`` (on ``[low, high)``) or ``normal`` draw, moved into the current device scope; a generator
        whose algorithm the device cannot run (ThreeFry outside XLA) is a :class:`SeedError`, its state as it was."""
        try:
            if kind == "uniform":
                values = self.generator.uniform(shape, minval=low, maxval=high, dtype=dtype)
            else:
                values = self.generator.normal(shape, dtype=dtype)
        except tf.errors.UnimplementedError as error:
            msg = (f"seed=<tf.random.Generator> cannot draw here: {error.message.splitlines()[0]} "
                   "(TensorFlow runs ThreeFry only under XLA, jit_compile=True); use a Philox generator, TensorFlow's default.")
            raise SeedError(msg) from None
        return tf.identity(values)


def _scoped_device(present: list[str]) -> str | None:
    """The device of an enclosing ``with tf.device(...)``, where TensorFlow's own ops would run.

    ``None`` outside a scope, for a scope without a device type, or for one
    naming a device not present: TensorFlow's soft placement then runs ops on
    its default device, and so does the backend.
    """
    name = _eager.context().device_name
    if not name:
        return None
    spec = tf.DeviceSpec.from_string(name)
    device = _local_name(spec)
    return _LOCAL + device if device is not None and spec.device_type and device in present else None


def _local_name(spec: tf.DeviceSpec) -> str | None:
    """``"/device:TYPE:INDEX"`` of a device of this process (no job, replica or task but the local one's), else ``None``."""
    if spec.job in (None, "localhost") and spec.replica in (None, 0) and spec.task in (None, 0):
        return f"/device:{(spec.device_type or '').upper()}:{spec.device_index or 0}"
    return None


def _present_devices() -> list[str]:
    """The logical devices' names. Inside a trace they are listed from the eager context (``tf.init_scope``, ~5 µs):
    a first listing while a function is traced starts TensorFlow's context with soft placement off for the rest of
    the process (an eager op under an absent ``tf.device`` then fails instead of running on the CPU)."""
    if tf.executing_eagerly():
        return [d.name for d in tf.config.list_logical_devices()]
    with tf.init_scope():
        return [d.name for d in tf.config.list_logical_devices()]


_NEGATIVE_SEED: Final = "seed= (a traced int64 tensor) must lie in [0, 2**63 - 1], as an int seed: it is negative"


class _Numerics:
    """``tf.experimental.numpy``, its unary float functions taken from ``tf.math``: NumPy does not count bfloat16 as a
    float, so ``tf.experimental.numpy.tanh`` of a bfloat16 tensor cast it with ``astype``, which a tensor lacks outside
    NumPy behaviour (``ui.diagnose(..., backend="tensorflow", dtype="bfloat16")`` raised ``AttributeError``)."""

    tanh = staticmethod(tf.math.tanh)
    exp = staticmethod(tf.math.exp)
    expm1 = staticmethod(tf.math.expm1)
    log1p = staticmethod(tf.math.log1p)
    abs = staticmethod(tf.math.abs)

    def __getattr__(self, name: str) -> Any:
        return getattr(tf.experimental.numpy, name)


_NUMERICS: Final = _Numerics()


class TensorflowBackend(Backend):
    name = "tensorflow"
    xp = _tf_namespace
    truncation = "inverse_cdf"  # half the cost of stateless_truncated_normal (which draws twice), any bounds, one graph
    compiles = True
    flushes_subnormals = True  # its kernels run with flush-to-zero: a float32 or float64 subnormal result is 0
    max_sliced_rank = 8  # a strided slice takes at most 8 axes

    def resolve_device(self, device: Any) -> str:
        present = _present_devices()
        if device is None:
            scoped = _scoped_device(present)
            if scoped is not None:
                return scoped
            gpus = [name for name in present if ":GPU:" in name]
            return _LOCAL + (gpus[0] if gpus else "/device:CPU:0")
        request = device_request(device)
        if request is not None and request.platform in _PLATFORMS:
            spec = tf.DeviceSpec(device_type=request.platform.upper(), device_index=request.index or 0)
        elif isinstance(device, tf.DeviceSpec):
            spec = device
        elif isinstance(device, str) and device.startswith("/"):
            try:
                spec = tf.DeviceSpec.from_string(device)
            except ValueError:  # a malformed name ("/xyz")
                spec = None
        else:
            spec = None
        if spec is None:
            raise unknown_device(device, "tensorflow", _ACCEPTED, ", ".join(map(repr, present)))
        name = _local_name(spec)
        if name is None or name not in present:
            raise absent_device(device, "tensorflow", ", ".join(map(repr, present)))  # worded as every backend's
        return _LOCAL + name

    def native_dtype(self, dtype: str) -> Any:
        return tf.dtypes.as_dtype(dtype)

    def generator(self, seed: Any, device: Any) -> SeedStream | GeneratorStream:
        if isinstance(seed, int) and not isinstance(seed, bool):
            return SeedStream(seed)
        if isinstance(seed, tf.random.Generator):
            return GeneratorStream(seed)
        if tf.is_tensor(seed) and seed.dtype == tf.int64 and seed.shape.rank == 0:
            symbolic = tf.is_symbolic_tensor(seed)
            if not symbolic and tf.config.functions_run_eagerly():  # a traced function's seed, run eagerly
                value = int(seed.numpy())
                if value < 0:
                    msg = f"seed={value} must lie in [0, 2**63 - 1]."
                    raise SeedError(msg)
                return SeedStream(value)
            if symbolic:
                with tf.control_dependencies([tf.debugging.assert_non_negative(seed, message=_NEGATIVE_SEED)]):
                    return SeedStream(tf.identity(seed))  # an int the traced graph reads, refused where it is negative
        msg = f"seed={abbreviate(seed)} is not a seed for the tensorflow backend; pass an int, None or a tf.random.Generator."
        raise SeedError(msg)

    def free_bytes(self, device: str) -> int | None:
        """The host's free memory on CPUs; ``None`` elsewhere (``get_memory_info`` reports use, not the device's total)."""
        return super().free_bytes(device) if ":CPU:" in device else None

    def memory_pool(self, device: str) -> Hashable:
        """The host's memory for CPU devices, each accelerator's own otherwise (as :meth:`free_bytes` reads them)."""
        return "host" if ":CPU:" in device else device

    def placement(self, device: Any) -> contextlib.AbstractContextManager[Any]:
        return tf.device(device)  # type: ignore[no-any-return]

    def numerics(self) -> Any:
        return _NUMERICS

    def uniform(self, generator: SeedStream | GeneratorStream, shape: tuple[int, ...], dtype: str, device: Any) -> Tensor:
        with tf.device(device):
            return generator.draw("uniform", shape, self.native_dtype(dtype))

    def normal(self, generator: SeedStream | GeneratorStream, shape: tuple[int, ...], dtype: str, device: Any) -> Tensor:
        with tf.device(device):
            return generator.draw("normal", shape, self.native_dtype(dtype))

    def uniform_between(
        self, generator: SeedStream | GeneratorStream, shape: tuple[int, ...], low: float, high: float, dtype: str, device: Any
    ) -> Tensor:
        with tf.device(device):
            return generator.draw("uniform", shape, self.native_dtype(dtype), low, high)

    def erfinv(self, x: Tensor) -> Tensor:
        with tf.device(x.device):
            return tf.math.erfinv(x)

    def compile_sampler(self, sample: Callable[[Any], Any], kind: type, device: str, size: int = 0) -> Callable[[SeedStream], Tensor] | None:
        """The whole sampling — draws, scaling, clip, cast — as one graph taking the int64 seed, from its
        :data:`EAGER_CALLS` + 1-th call on; ``None`` for a ``tf.random.Generator``.

        A concrete function: one call runs the whole sampling (TensorFlow's
        per-op eager dispatch is paid once: a 3×3×64×72 ``he_normal`` 2.0
        against 3.1 ms op by op), traced once per (law, shape, dtype, device)
        (:data:`TRACES` ``"compiled"``). A trace costs about 15 ms, over ten
        calls' saving, so the first :data:`EAGER_CALLS` calls run op by op: a
        model built once draws most of its shapes a few times (a Keras
        ``MobileNetV3Small`` built 2.5× slower than with Keras's own
        initializers when every new shape was traced; 1.3× now). A draw of
        :data:`XLA_MIN` values or more is traced at its first call: its trace
        is cheap beside it, and op by op it holds each op's array (an 8192²
        ``he_normal``'s peak: 4.1× its output, against 1.03× traced). The values
        are the same either way. Sampling that
        cannot be traced (a user-defined law that loops in Python over
        values) stays op by op.
        """
        if kind is not SeedStream:
            return None

        def kernel(seed: Tensor) -> Tensor:
            TRACES["compiled"] += 1  # runs only while tracing
            with tf.device(device):  # every op of the graph, not only the draws, on the target
                values: Tensor = sample(SeedStream(seed))
                return values

        state: dict[str, Any] = {"calls": 0, "concrete": None, "flat": None}
        eager_calls = EAGER_CALLS if size < XLA_MIN else 0

        def run(stream: SeedStream) -> Tensor:
            if state["concrete"] is None and state["calls"] >= eager_calls:
                try:
                    concrete = tf.function(kernel, autograph=False).get_concrete_function(tf.TensorSpec([], tf.int64))
                    state["flat"] = _flat_call(concrete)  # before "concrete": another thread that sees it calls "flat"
                    state["concrete"] = concrete
                except UnitInitError:  # a refusal of the call itself: the same one eagerly
                    raise
                except Exception:  # a sampler that cannot be traced (bool(), float(), .numpy() of a symbolic tensor) runs eagerly, where a genuine error surfaces again
                    state["concrete"] = False
            state["calls"] += 1
            with tf.device(device):
                if not state["concrete"]:
                    eager: Tensor = sample(stream)
                    return eager
                if tf.is_tensor(stream.seed):  # the caller's graph's (a traced seed)
                    traced: Tensor = state["concrete"](stream.seed)
                    return traced
                return state["flat"](tf.constant(stream.seed, dtype=tf.int64))

        return run

    def compiled(self, kernel: Callable[..., Any], device: Any, size: int) -> Callable[..., Any]:
        """``kernel`` compiled by XLA on ``device`` (``jit_compile=True``) for a draw of at least :data:`XLA_MIN` values; else as is.

        Eager, each of the kernel's few hundred word and float ops is a pass
        over the whole block (10–15× a native draw at 1024²); fused, the block
        is read once (about 1×). Compiling costs about 0.2–0.4 s per (law,
        block shape, dtype, device), about what one eager call costs at
        :data:`XLA_MIN` values, so smaller blocks (where an eager call costs a
        few ms) run eagerly: initializing a model of many small layers compiles
        nothing. ``size`` is the whole draw's, not the block's: eager ops
        round some normals an ulp away from the fused kernel, so a block of
        a compiled draw is compiled too and keeps the whole draw's bits.
        Where XLA cannot compile the kernel on the device (a TensorFlow build
        without XLA for it), the first call falls back to a plain graph,
        whose values agree with XLA's to a float32 ulp or two.
        """
        if size < XLA_MIN:
            return kernel
        fused = tf.function(kernel, jit_compile=True, autograph=False)
        graph = tf.function(kernel, autograph=False)
        chosen: list[Callable[..., Any]] = []

        def run(*arguments: Any) -> Any:
            with tf.device(device):
                if chosen:
                    return chosen[0](*arguments)
                try:
                    values = fused(*arguments)
                except (tf.errors.UnimplementedError, tf.errors.InvalidArgumentError, tf.errors.NotFoundError):
                    chosen.append(graph)
                    return graph(*arguments)
                chosen.append(fused)
                return values

        return run

    def eye(self, rows: int, cols: int, value: float, dtype: str, device: Any) -> Tensor:
        with tf.device(device):
            return super().eye(rows, cols, value, dtype, device)

    def affine(self, x: Tensor, scale: float, shift: float) -> Tensor:
        with tf.device(x.device):
            return x * scale + shift

    def owns(self, array: Any) -> bool:
        return isinstance(array, (tf.Tensor, tf.Variable))

    def device_of(self, array: Any) -> str | None:
        """The device ``array`` was placed on; ``None`` (the default placement) for a symbolic tensor of a ``tf.function``, which has none yet."""
        return str(array.device) or None

    def to_numpy(self, array: Any) -> Any:
        return array.numpy()
