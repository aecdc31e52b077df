"""Progress on long work: whether to show it, and one bar that shows it (tqdm when installed).

Imports no framework. The policy, decided by :func:`wanted`:

1. an explicit ``progress=True`` / ``progress=False`` wins;
2. else the environment variable ``UNIT_INIT_PROGRESS`` (``1`` on, ``0`` off);
3. else *auto*: on when stderr is an interactive terminal or the code runs in
   a Jupyter kernel, off under pytest (``PYTEST_CURRENT_TEST``) or CI
   (``CI`` set to anything but ``0``/``false``) and when stderr is a file or a pipe.

A shown bar appears only once the work has taken :data:`DELAY` seconds, so
quick calls never flash one. It is ``tqdm.auto.tqdm`` (a widget in a notebook,
a text bar in a terminal) when ``tqdm`` is installed
(``pip install tqdm``); without it, one line on stderr
rewritten in place: ``initialize: 12/40 parameters``. Bars do not nest: work
started while a bar is shown (the draws of an ``initialize``) shows none of its own.

Examples
--------
>>> wanted(True), wanted(False)
(True, False)
>>> wanted()  # under pytest: auto is off
False
>>> with bar(3, "demo", progress=False) as advance:
...     for _ in range(3):
...         advance(1)
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Final, TextIO

from unit_init.errors import ParameterError, abbreviate

__all__ = ["DELAY", "ENV", "bar", "wanted"]

ENV: Final = "UNIT_INIT_PROGRESS"
"""The environment variable that forces progress on (``1``) or off (``0``)."""

DELAY: Final = 0.5
"""Seconds a piece of work may take before its bar appears."""

_ON: Final = ("1", "true", "yes", "on")
_OFF: Final = ("0", "false", "no", "off", "")
_showing: contextvars.ContextVar[bool] = contextvars.ContextVar("unit_init_progress_showing", default=False)


def _forced() -> bool | None:
    """``UNIT_INIT_PROGRESS`` as on/off, ``None`` where unset; a value neither on nor off is an error."""
    text = os.environ.get(ENV)
    if text is None:
        return None
    value = text.strip().lower()
    if value not in _ON + _OFF:
        msg = f"{ENV}={abbreviate(text)} is not understood; accepted: 1 (show progress) or 0 (never show it)."
        raise ParameterError(msg)
    return value in _ON


def _in_kernel() -> bool:
    """The code runs in a Jupyter kernel: IPython's current shell has a kernel (importing ``ipykernel`` is not enough)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def _interactive() -> bool:
    """stderr is a terminal or the code runs in a Jupyter kernel; not under pytest or CI."""
    if "PYTEST_CURRENT_TEST" in os.environ or os.environ.get("CI", "0").strip().lower() not in _OFF:
        return False
    if _in_kernel():
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except (ValueError, OSError):  # a closed stderr: no terminal to show a bar on
        return False


def wanted(progress: bool | None = None) -> bool:
    """Whether to show progress: ``progress`` if given, else ``UNIT_INIT_PROGRESS``, else auto (see the module docstring).

    Raises
    ------
    ParameterError
        ``progress`` is not ``True``, ``False`` or ``None``, or ``UNIT_INIT_PROGRESS`` is neither on nor off.
    """
    given: object = progress  # checked at run time: a caller may pass anything
    if given is not None and not isinstance(given, bool):
        msg = f"progress={abbreviate(progress)} must be True (show), False (never) or None (auto: shown in a terminal or notebook)."
        raise ParameterError(msg)
    if progress is not None:
        return progress
    forced = _forced()
    return _interactive() if forced is None else forced


class _Line:
    """The fallback without tqdm: ``desc: done/total unit`` on one stderr line, rewritten at most 10 times a second."""

    def __init__(self, total: int, desc: str, unit: str, stream: TextIO) -> None:
        self._total, self._desc, self._unit, self._stream = total, desc, unit, stream
        self._start = time.monotonic()
        self._last = 0.0
        self._done = 0
        self._written = False

    def update(self, count: int) -> None:
        self._done += count
        now = time.monotonic()
        if now - self._start >= DELAY and (now - self._last >= 0.1 or self._done >= self._total):
            self._last = now
            self._stream.write(f"\r{self._desc}: {self._done}/{self._total} {self._unit}")
            self._stream.flush()
            self._written = True

    def close(self) -> None:
        if self._written:
            self._stream.write("\n")
            self._stream.flush()


def _display(total: int, desc: str, unit: str) -> Any:
    """A tqdm bar where tqdm is installed, else :class:`_Line`; both on stderr."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _Line(total, desc, unit, sys.stderr)
    return tqdm(total=total, desc=desc, unit=f" {unit}", unit_scale=True, delay=DELAY, leave=False, file=sys.stderr, dynamic_ncols=True)


@contextlib.contextmanager
def bar(total: int, desc: str, *, unit: str = "it", progress: bool | None = None) -> Iterator[Callable[[int], None]]:
    """A context giving ``advance(count)``, which moves a bar of ``total`` units forward; thread-safe.

    The bar is shown only where :func:`wanted` says so, no other bar is
    shown (an outer piece of work already reports) and there is a stderr to
    write to; otherwise ``advance`` does nothing. A bar whose writes fail (a
    closed stderr) stops showing; the work goes on.

    Parameters
    ----------
    total:
        The units of work (parameters, elements).
    desc:
        What is being done (``"initialize"``).
    unit:
        The unit's name (``"parameters"``).
    progress:
        ``True``, ``False`` or ``None`` (auto), as in :func:`wanted`.
    """
    if total <= 0 or _showing.get() or not wanted(progress) or sys.stderr is None:  # None: pythonw, some services
        yield lambda count: None
        return
    display = _display(total, desc, unit)
    lock = threading.Lock()
    broken = False

    def shown(method: Callable[..., object], *arguments: object) -> None:
        """``method(*arguments)`` on the display, which stops showing once a write fails (a closed stderr): the work never does."""
        nonlocal broken
        if not broken:
            try:
                method(*arguments)
            except Exception:
                broken = True

    def advance(count: int) -> None:
        with lock:
            shown(display.update, count)

    token = _showing.set(True)
    try:
        yield advance
    finally:
        _showing.reset(token)
        shown(display.close)
