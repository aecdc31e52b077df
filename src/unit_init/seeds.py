"""Seed normalization and the library's global stream (docs/design.md#seeds-and-streams).

* ``seed=int`` → the backend builds its own generator from that int, so the
  same call gives bit-identical values in every process.
* ``seed=None`` → the next int of the global stream. :func:`set_seed` restarts
  the stream, making every later unseeded call reproducible in call order, on
  every backend (each call consumes exactly one 63-bit seed).
* a native generator or key → handed to the backend untouched; with no
  ``backend=`` (and no ``like=``) it selects its own backend
  (:func:`seed_backend`).
* a Keras ``SeedGenerator`` → advanced once, as Keras's own random ops do,
  and its state handed to the current Keras backend (:func:`keras_seed`).
"""

from __future__ import annotations

import hashlib
import operator
import os
import secrets
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from unit_init.errors import SeedError, abbreviate, keywords_checked

__all__ = [
    "MAX_SEED", "call_seed", "derive_seed", "is_keras_seed", "keras_seed", "normalize_seed", "seed_backend", "set_seed",
    "tentative_seed",
]

MAX_SEED = 2**63 - 1
"""Int seeds must lie in ``[0, MAX_SEED]``."""


class _GlobalStream:
    """A thread-safe sequence of seeds for unseeded calls, started from fresh entropy unless :func:`set_seed` chose it.

    A forked child process gets a new lock (another thread of the parent may
    have held the old one at the fork, and that thread does not exist in the
    child) and, unless :func:`set_seed` chose the seeds, a stream from fresh
    entropy, so sibling processes draw different values (as Python's
    ``random`` does); a chosen stream continues in every child as in the parent.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # re-entrant: a signal handler that draws unseeded runs on the thread that may hold it
        self._rng = np.random.default_rng(secrets.randbits(63))
        self._chosen = False
        self._moves = 0  # seeds taken and restarts, ever: what a give-back checks nothing else happened since
        self._returned: int | None = None  # a seed given back, the next one handed out

    def restart(self, seed: int) -> None:
        with self._lock:
            self._rng = np.random.default_rng(seed)
            self._chosen = True
            self._moves += 1
            self._returned = None

    def next(self) -> int:
        with self._lock:
            self._moves += 1
            if self._returned is not None:
                seed, self._returned = self._returned, None
                return seed
            return int(self._rng.integers(0, MAX_SEED, endpoint=True))

    def tentative(self) -> tuple[int, Callable[[], None]]:
        """The next seed, and a function giving it back: the next seed handed out is that one again, as if it had not
        been taken, unless another seed has been taken, or the stream restarted, since (no seed is handed out twice).
        Nothing is read of the generator's state: a call that is not refused pays for no give-back."""
        with self._lock:
            seed = self.next()
            taken = self._moves

        def give_back() -> None:
            with self._lock:
                if self._moves == taken:
                    self._returned = seed
                    self._moves += 1

        return seed, give_back

    def after_fork(self) -> None:
        """In a forked child: a new lock, and fresh entropy for a stream :func:`set_seed` did not choose."""
        self._lock = threading.RLock()
        if not self._chosen:
            self._rng = np.random.default_rng(secrets.randbits(63))
            self._returned = None


_STREAM = _GlobalStream()
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_STREAM.after_fork)


def _check_int(seed: Any) -> int:
    try:  # an int subclass is its value, whatever its own __index__ says (as every number argument)
        value = int.__index__(seed) if isinstance(seed, int) else operator.index(seed)
    except TypeError:  # a NumPy integer type that is no number (np.timedelta64 subclasses np.signedinteger)
        msg = f"seed={abbreviate(seed)} ({type(seed).__name__}) is not an int; pass an int in [0, 2**63 - 1], None, or a native generator/key."
        raise SeedError(msg) from None
    if not 0 <= value <= MAX_SEED:
        msg = f"seed={abbreviate(seed)} must lie in [0, 2**63 - 1]."
        raise SeedError(msg)
    return value


@keywords_checked
def set_seed(seed: int) -> None:
    """Restart the global stream, so every later unseeded call is reproducible.

    ``seed`` is what an int ``seed=`` of a draw is: an ``int`` or NumPy
    integer in ``[0, 2**63 − 1]``, else :class:`~unit_init.SeedError`.

    Examples
    --------
    >>> import unit_init as ui
    >>> ui.set_seed(0); a = ui.he_normal((4, 4))
    >>> ui.set_seed(0); b = ui.he_normal((4, 4))
    >>> bool((a == b).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):  # as seed= takes ints (an array's __index__ may raise)
        msg = f"set_seed(seed={abbreviate(seed)}) needs an int in [0, 2**63 - 1]."
        raise SeedError(msg)
    _STREAM.restart(_check_int(seed))


def tentative_seed() -> tuple[int, Callable[[], None]]:
    """The global stream's next seed, and a function that gives it back: a call refused after it took its seed (a
    check that needs the values drawn) leaves the stream as it was, where no other seed was taken meanwhile. The
    check runs without holding the stream, so other threads' unseeded calls never wait for it."""
    return _STREAM.tentative()


def _is_instance(seed: Any, module: str, name: str) -> bool:
    """Whether ``seed`` is a ``module.name``, looked up only if ``module`` is imported (an instance cannot exist otherwise)."""
    native = getattr(sys.modules.get(module), name, None)
    return native is not None and isinstance(seed, native)


def is_keras_seed(seed: Any) -> bool:
    """Whether ``seed`` is a Keras ``SeedGenerator`` (found without importing Keras)."""
    return _is_instance(seed, "keras.src.random.seed_generator", "SeedGenerator")


def _keras_backend(seed: Any) -> str | None:
    """The current Keras backend's name where ``seed`` is a Keras ``SeedGenerator``, else ``None``."""
    if not is_keras_seed(seed):
        return None
    name: str = sys.modules["keras"].backend.backend()
    return name


def seed_backend(seed: Any) -> str | None:
    """The backend a native seed object names, found without importing any framework; ``None`` for anything else.

    ===============================================================  ==============================
    seed                                                             backend
    ===============================================================  ==============================
    a ``jax.Array`` (also traced): a key of a key dtype              ``"jax"``
    (``jax.random.key``), or of dtype ``uint32`` and shape ``(2,)``
    (``jax.random.PRNGKey``; ``(4,)`` for the rbg implementations),
    or any other (refused by the jax backend, naming the keys it takes)
    ``torch.Generator``                                              ``"torch"``
    ``tf.random.Generator``                                          ``"tensorflow"``
    ``numpy.random.Generator``                                       ``"numpy"``
    a Keras ``SeedGenerator``                                        ``keras.backend.backend()``
    ===============================================================  ==============================

    A raw key is only recognized as a JAX array: a NumPy ``uint32[2]`` array
    names no backend. Each check looks only at frameworks already in
    ``sys.modules`` (an object of a framework that is not imported cannot exist).

    Examples
    --------
    >>> import numpy as np
    >>> seed_backend(np.random.default_rng(0)), seed_backend(7), seed_backend(np.zeros(2, np.uint32))
    ('numpy', None, None)
    """
    if seed is None or isinstance(seed, (int, np.integer)):
        return None
    if _is_instance(seed, "jax", "Array"):  # a key, or an array the jax backend refuses naming the keys it takes
        return "jax"
    if _is_instance(seed, "torch", "Generator"):
        return "torch"
    if _is_instance(seed, "tensorflow.python.ops.stateful_random_ops", "Generator"):
        return "tensorflow"
    if isinstance(seed, np.random.Generator):
        return "numpy"
    return _keras_backend(seed)


def keras_seed(seed_generator: Any, *, as_int: bool = False) -> Any:
    """The seed a Keras ``SeedGenerator`` gives one draw, on the current Keras backend; the generator advances.

    ``seed_generator.next()`` returns the state ``[s, c]`` and advances the
    counter ``c``, exactly as Keras's own random ops do, so successive draws
    differ and a generator built from the same seed repeats them. On JAX the
    state is a raw ``uint32[2]`` key (also inside a traced function) unless
    ``as_int`` (the portable stream, which takes an int); otherwise it becomes the int seed
    ``(s mod 2**32) * 2**32 + (c mod 2**32)`` cut to 63 bits, the same on every
    Keras backend. On TensorFlow a state with no value yet (inside ``tf.function``, where a ``Sequential``
    model without ``keras.Input`` builds itself on its first ``fit``/``predict``) gives that int as a scalar
    int64 tensor of the traced graph (:func:`_traced_seed`), which the tensorflow backend draws from; the
    portable stream (``as_int``) needs a number there and raises :class:`~unit_init.SeedError`.
    """
    keras = sys.modules["keras"]
    state = seed_generator.next()
    backend = keras.backend.backend()
    if backend == "jax" and not as_int:
        return state
    if backend == "tensorflow" and not as_int and sys.modules["tensorflow"].is_symbolic_tensor(state):
        return _traced_seed(keras.ops, state)
    try:
        # a torch state is read by torch: keras.ops.convert_to_numpy calls np.array(tensor), which warns (copy keyword)
        words = state.tolist() if _is_instance(state, "torch", "Tensor") else keras.ops.convert_to_numpy(state)
        first, second = (int(word) & 0xFFFFFFFF for word in words)
    except (NotImplementedError, TypeError) as error:  # a symbolic state, for the portable stream (torch's "meta": never asked)
        portable = "rng='portable' takes its seed as a number, and " if as_int else ""
        msg = (
            f"{portable}seed=<keras SeedGenerator> has a symbolic state on the Keras backend {backend!r}: the draw runs "
            "while a function is traced (inside tf.function or jax.jit, or a model Keras builds on its first fit/predict); "
            f"build the model eagerly (keras.Input, model.build), pass an int seed{', or use the native stream' if as_int else ''}."
        )
        raise SeedError(msg) from error
    return (first << 32 | second) & MAX_SEED


def _traced_seed(ops: Any, state: Any) -> Any:
    """:func:`keras_seed`'s int ``(s mod 2**32) * 2**32 + (c mod 2**32)`` cut to 63 bits, computed by ``ops`` (``keras.ops``)
    from a state ``[s, c]`` that has no value yet: a scalar int64 tensor of the function being traced."""
    words = ops.bitwise_and(ops.cast(state, "int64"), 0xFFFFFFFF)
    return ops.bitwise_and(ops.bitwise_or(ops.left_shift(words[0], 32), words[1]), MAX_SEED)


def normalize_seed(seed: Any, backend: str | None = None, *, portable: bool = False) -> Any:
    """An int seed validated, ``None`` replaced by the global stream's next seed.

    A Keras ``SeedGenerator`` becomes its next seed (:func:`keras_seed`; an int where ``portable``);
    :class:`SeedError` where ``backend`` (the drawing backend's name) is not
    the current Keras backend. Anything else (a native generator or key) is
    returned unchanged; the backend decides whether it is one of its own.
    """
    if type(seed) is int and 0 <= seed <= MAX_SEED:  # the common case, before any look-up
        return seed
    keras_backend = _keras_backend(seed)
    if keras_backend is not None:
        if backend is not None and backend != keras_backend:
            msg = f"seed=<keras SeedGenerator> draws on the current Keras backend {keras_backend!r}, not backend={backend!r}; pass an int seed or drop backend=."
            raise SeedError(msg)
        return keras_seed(seed, as_int=portable)
    if seed is None:
        return _STREAM.next()
    if isinstance(seed, bool):
        msg = "seed=True/False is not a seed; pass an int in [0, 2**63 - 1], None, or a native generator/key."
        raise SeedError(msg)
    if isinstance(seed, (int, np.integer)):
        return _check_int(seed)
    return seed


def call_seed(seed: Any, default: int | None) -> Any:
    """The seed a call draws from: its own ``seed=``, else the spec's ``default`` (Keras style), else ``None`` (the global stream).

    Examples
    --------
    >>> call_seed(None, 7), call_seed(3, 7), call_seed(None, None)
    (7, 3, None)
    """
    return default if seed is None else seed


def derive_seed(seed: int, name: str) -> int:
    """An independent int seed for the part ``name`` of a seeded whole (a parameter, a layer's bias).

    The 8-byte blake2b digest of ``f"{seed}:{name}"``, read little-endian, its top bit cleared (63 bits): stable across processes and
    versions, and independent of every other name, so adding a parameter to a
    model leaves the others' values unchanged.

    Examples
    --------
    >>> from unit_init.seeds import derive_seed
    >>> derive_seed(0, "0.weight") == derive_seed(0, "0.weight") != derive_seed(0, "1.weight")
    True
    """
    digest = hashlib.blake2b(f"{_check_int(seed)}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & MAX_SEED
