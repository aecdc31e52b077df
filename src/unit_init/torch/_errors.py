"""Errors of the torch drop-ins: each is a :class:`~unit_init.errors.UnitInitError` *and* the type torch raises.

``torch.nn.init`` raises ``RuntimeError``, ``NotImplementedError``,
``TypeError``, ``ValueError``, ``OverflowError``, ``ZeroDivisionError``,
``AttributeError`` or ``IndexError`` depending on the bad input; :func:`torch_typed` gives, for
any of them, the unit_init error class that is also that type, so
``except RuntimeError`` (torch code) and ``except ui.UnitInitError`` both catch it.

>>> issubclass(torch_typed(OverflowError), (OverflowError, UnitInitError))
True
"""

from __future__ import annotations

from typing import Final

from unit_init.errors import DTypeError, ParameterError, ResourceError, ShapeError, UnitInitError

__all__ = [
    "TorchAttributeError",
    "TorchIndexError",
    "TorchNotImplementedError",
    "TorchOverflowError",
    "TorchResourceError",
    "TorchRuntimeError",
    "TorchTypeError",
    "TorchZeroDivisionError",
    "also_ours",
    "torch_typed",
    "torchs_own_class",
]


class TorchRuntimeError(ParameterError, RuntimeError):
    """A parameter or tensor torch refuses with ``RuntimeError`` (``uniform_(a > b)``, an expanded tensor)."""


class TorchNotImplementedError(DTypeError, NotImplementedError):
    """A dtype or layout torch has no kernel for (an integer tensor for a random fill, a sparse tensor)."""


class TorchOverflowError(ParameterError, OverflowError):
    """A number too large for torch to convert (``normal_(std=10**400)``)."""


class TorchZeroDivisionError(ParameterError, ZeroDivisionError):
    """A parameter torch divides by (``trunc_normal_(std=0)``, ``dirac_(groups=0)``)."""


class TorchIndexError(ShapeError, IndexError):
    """A shape torch indexes past (``dirac_`` of a weight whose window has a zero-size axis: no centre tap)."""


class TorchResourceError(ResourceError, RuntimeError):
    """A fill the memory guard refuses before anything is allocated: unit_init's ``ResourceError`` (a ``MemoryError``)
    and the ``RuntimeError`` torch's allocator raises when a tensor does not fit (``torch.OutOfMemoryError`` is one)."""


class TorchTypeError(UnitInitError, TypeError):
    """An argument of a type torch refuses (``xavier_uniform_(gain="1")``, ``generator=0``)."""


class TorchAttributeError(ParameterError, AttributeError):
    """A parameter of the wrong type where torch calls a method on it (``kaiming_normal_(mode=3)``)."""


# the built-in type torch raises -> ours; searched along the MRO of torch's exception
_TYPED: Final[dict[type[BaseException], type[UnitInitError]]] = {
    NotImplementedError: TorchNotImplementedError,
    RuntimeError: TorchRuntimeError,
    OverflowError: TorchOverflowError,
    ZeroDivisionError: TorchZeroDivisionError,
    AttributeError: TorchAttributeError,
    IndexError: TorchIndexError,
    TypeError: TorchTypeError,
    ValueError: ParameterError,
    Exception: UnitInitError,
}


def torch_typed(kind: type[BaseException]) -> type[UnitInitError]:
    """The unit_init error class that is also ``kind`` (or ``kind``'s nearest built-in base)."""
    return next(_TYPED[base] for base in kind.__mro__ if base in _TYPED)


def torchs_own_class(error: BaseException) -> bool:
    """Whether ``error`` is of one of torch's own exception classes (``torch.OutOfMemoryError``, a FakeTensor's
    ``DataDependentOutputException``, ``torch.distributed.DistBackendError``): a failure of the draw, not of an
    argument, raised as that class (:func:`also_ours`), so that ``except torch.OutOfMemoryError`` still catches it.

    >>> import torch
    >>> torchs_own_class(torch.OutOfMemoryError("CUDA out of memory")), torchs_own_class(RuntimeError("a > b"))
    (True, False)
    """
    return not isinstance(error, UnitInitError) and type(error).__module__.partition(".")[0] == "torch"


def also_ours(error: BaseException) -> BaseException:
    """``error``, of one of torch's own classes, as an instance of a subclass of that class and of
    :class:`~unit_init.errors.UnitInitError` with the same arguments and attributes: ``except torch.OutOfMemoryError``
    and ``except ui.UnitInitError`` both catch it. ``error`` itself where no such subclass can be made.

    >>> import torch
    >>> typed = also_ours(torch.OutOfMemoryError("CUDA out of memory"))
    >>> isinstance(typed, torch.OutOfMemoryError), isinstance(typed, UnitInitError), str(typed)
    (True, True, 'CUDA out of memory')
    """
    kind = _both(type(error))
    if kind is None:
        return error
    typed: BaseException = kind.__new__(kind, *error.args)
    typed.args = error.args
    typed.__dict__.update(getattr(error, "__dict__", {}))
    return typed


def _both(kind: type[BaseException]) -> type[BaseException] | None:
    """The subclass of torch's exception class ``kind`` and of ``UnitInitError`` (one per class); ``None`` where
    their layouts cannot be joined."""
    if kind not in _BOTH:
        try:
            _BOTH[kind] = type(kind.__name__, (kind, UnitInitError), {"__module__": kind.__module__, "__doc__": kind.__doc__})
        except TypeError:
            _BOTH[kind] = None
    return _BOTH[kind]


_BOTH: dict[type[BaseException], type[BaseException] | None] = {}
