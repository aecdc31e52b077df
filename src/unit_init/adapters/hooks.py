"""Forward hooks for frameworks that have none (Flax nnx, Keras 3): swap a layer's class for a recording subclass.

Imports no framework. For the duration of :func:`hooked`, each layer's
``__class__`` is a subclass of its own whose ``method`` (``__call__`` for
nnx, ``call`` for Keras) calls the original and then reports to the active
:class:`Session`: it records the layer's output (first call only, in call
order), adds a perturbation ``eps[name]`` where one is given (a zero whose
gradient is ``∂ℓ/∂z_l``), and raises :class:`Captured` after the layer
``stop`` so a measurement does not run the rest of the model. Outside a
session the subclass behaves as the original; the classes are restored on exit.

Examples
--------
>>> class Layer:
...     def __call__(self, x):
...         return 2 * x
>>> first, second = Layer(), Layer()
>>> session = Session()
>>> with hooked({"a": first, "b": second}, "__call__"):
...     _ = forward(lambda x: second(first(x)), 1.0, session)
>>> session.record, type(first).__name__
({'a': 2.0, 'b': 4.0}, 'Layer')
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from unit_init.adapters.lsuv import call

__all__ = ["Captured", "Session", "forward", "hooked"]


class Captured(Exception):
    """Raised by a hooked layer once it has the output the session wanted."""


@dataclass
class Session:
    """What hooked layers do during one forward pass: record outputs, add ``eps``, stop after ``stop``."""

    record: dict[str, Any] = field(default_factory=dict)
    eps: Mapping[str, Any] | None = None
    stop: str | None = None


_ACTIVE: contextvars.ContextVar[Session | None] = contextvars.ContextVar("unit_init_hooks", default=None)
_NAMES: contextvars.ContextVar[Mapping[type, str]] = contextvars.ContextVar("unit_init_hook_names", default={})  # noqa: B039  # never mutated
"""The name each hooked layer records under in the open :func:`hooked` blocks of this context, keyed by its recording
class (one per layer, which the copies ``nnx.grad`` makes of it keep): a layer two blocks share (a model and its
submodel, diagnosed in two threads) records under the name each block gave it."""


def _hooked_class(cls: type, method: str) -> type:
    original = getattr(cls, method)

    def hooked_method(self: Any, *args: Any, **kwargs: Any) -> Any:
        output = original(self, *args, **kwargs)
        session = _ACTIVE.get()
        name = _NAMES.get().get(type(self))
        if session is None or name is None:
            return output
        session.record.setdefault(name, output)
        if session.stop == name:
            raise Captured
        return output if session.eps is None else output + session.eps[name]

    return type(cls)(cls.__name__, (cls,), {method: hooked_method, "__module__": cls.__module__, "__qualname__": cls.__qualname__})


_SWAPPED: dict[int, tuple[type, int]] = {}
"""``id(layer) → (its own class, how many open blocks hook it)`` for the layers :func:`hooked` holds swapped."""
_SWAPPING: Final = threading.Lock()


@contextlib.contextmanager
def hooked(layers: Mapping[str, Any], method: str) -> Iterator[None]:
    """Swap each layer's class for a recording subclass while the block runs; it records under the name given here.

    Blocks that overlap on one layer (two threads diagnosing one model) share
    the swap: the first to open it swaps the class, the last to close it puts
    the layer's own class back, whichever order they close in. A layer whose
    class cannot be swapped leaves every other as it found it.
    """
    swapped: list[Any] = []
    token = None
    try:
        with _SWAPPING:
            for layer in layers.values():
                own, count = _SWAPPED.get(id(layer), (type(layer), 0))
                if not count:
                    layer.__class__ = _hooked_class(own, method)
                _SWAPPED[id(layer)] = (own, count + 1)
                swapped.append(layer)
        token = _NAMES.set({**_NAMES.get(), **{type(layer): name for name, layer in layers.items()}})
        yield
    finally:
        if token is not None:
            _NAMES.reset(token)
        with _SWAPPING:
            for layer in swapped:
                own, count = _SWAPPED.pop(id(layer))
                if count > 1:
                    _SWAPPED[id(layer)] = (own, count - 1)
                else:
                    layer.__class__ = own


def forward(function: Callable[..., Any], batch: Any, session: Session) -> Any:
    """``function(batch)`` (see :func:`~unit_init.adapters.lsuv.call`) with ``session`` active; ``None`` if it stopped early."""
    token = _ACTIVE.set(session)
    try:
        return call(function, batch)
    except Captured:
        return None
    finally:
        _ACTIVE.reset(token)
