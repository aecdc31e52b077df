"""Naming specs on a command line: ``"random_normal:stddev=0.01"`` and back.

The text form is ``NAME[:KEY=VALUE[,KEY=VALUE…]]``: ``NAME`` as accepted by
:func:`unit_init.get` (``"he_normal"`` or ``"HeNormal"``), each ``VALUE`` read
as an int, else a float, else kept as a string::

    random_normal:stddev=0.01
    variance_scaling:scale=2,mode=fan_out,distribution=uniform

:func:`label` writes a catalogue spec back in that form, so a label can be
pasted into ``unit-init`` again.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Final

from unit_init.errors import ParameterError, abbreviate, closest
from unit_init.serialization import NAMED, spec_class
from unit_init.spec.initializer import Initializer

__all__ = ["formula", "label", "parse", "resolve"]

_NAMES: Final = {cls: name for name, cls in reversed(list(NAMED.items()))}  # a class's first name (the catalogue's) wins


def _name(cls: type[Initializer]) -> str | None:
    """The name :func:`parse` reads ``cls`` by: its catalogue name, else its class name where only that is known
    (``ConstantArray``); ``None`` for a class it does not know (a user's subclass)."""
    if cls in _NAMES:
        return _NAMES[cls]
    try:
        return cls.__name__ if spec_class(cls.__name__) is cls else None
    except ParameterError:
        return None


_BOOLS: Final = {"true": True, "false": False}


def _value(key: str, text: str) -> bool | int | float | str:
    """``text`` as a bool (``True``/``False``, as :func:`label` writes them, any case), else an int, else a float, else
    the string; a number beyond float64's range is refused (it would read as inf), and so is one too small for it (it
    would read as 0)."""
    if text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isinf(number) and "inf" not in text.lower():  # 1e400, or more digits than int() reads
        msg = f"{key}={abbreviate(text)} is beyond float64's range (about 1.8e308); give a smaller number."
        raise ParameterError(msg)
    if number == 0 and any(digit in "123456789" for digit in re.split("[eE]", text)[0]):  # 1e-400: a non-zero significand
        msg = f"{key}={abbreviate(text)} is below float64's smallest magnitude (about 4.9e-324) and would read as 0; give a larger number, or 0."
        raise ParameterError(msg)
    return number


def parse(text: str) -> Initializer:
    """The spec named by ``text`` (``NAME[:KEY=VALUE,…]``).

    Examples
    --------
    >>> parse("random_normal:stddev=0.01")
    RandomNormal(seed=None, mean=0.0, stddev=0.01)

    Raises
    ------
    ParameterError
        Unknown name, a malformed ``KEY=VALUE``, a parameter the spec does not
        have (the accepted ones are listed) or given twice, or a value out of its domain.
    """
    name, _, arguments = text.partition(":")
    cls = spec_class(name.strip())
    accepted = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs: dict[str, bool | int | float | str] = {}
    for item in arguments.split(",") if arguments.strip() else ():
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key or not value:
            msg = f"initializer {abbreviate(text)}: {abbreviate(item.strip())} is not KEY=VALUE; write e.g. 'random_normal:stddev=0.01'."
            raise ParameterError(msg)
        if key not in accepted:
            msg = f"initializer {abbreviate(text)}: {cls.__name__} has no parameter {abbreviate(key)}; accepted: {', '.join(accepted)}.{closest(key[:64], accepted)}"
            raise ParameterError(msg)
        if key in kwargs:
            msg = f"initializer {abbreviate(text)}: {abbreviate(key)} is given twice; give each parameter once."
            raise ParameterError(msg)
        kwargs[key] = _value(key, value)
    required = [f.name for f in dataclasses.fields(cls) if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    missing = [key for key in required if key not in kwargs]
    if missing:
        example = ",".join(f"{key}=..." for key in missing)
        msg = f"initializer {abbreviate(text)}: {cls.__name__} needs {', '.join(missing)}; write e.g. '{name.strip()}:{example}'."
        raise ParameterError(msg)
    return cls(**kwargs)  # type: ignore[arg-type]  # the fields check their own values


def resolve(identifier: object) -> Initializer:
    """A spec from a spec or from its text form (see :func:`parse`)."""
    if isinstance(identifier, Initializer):
        return identifier
    if not isinstance(identifier, str):
        msg = f"spec={abbreviate(identifier)} must be a spec such as ui.HeNormal() or a name such as 'he_normal'."
        raise ParameterError(msg)
    return parse(identifier)


def label(spec: Initializer) -> str:
    """The text form of ``spec``: its catalogue name and the parameters that differ from the defaults.

    Examples
    --------
    >>> import unit_init as ui
    >>> label(ui.RandomNormal(stddev=0.01)), label(ui.HeNormal()), label(ui.ConstantArray(3))
    ('random_normal:stddev=0.01', 'he_normal', 'ConstantArray:value=3')
    """
    name = _name(type(spec))
    changed = [
        (f.name, getattr(spec, f.name))
        for f in dataclasses.fields(spec)
        if f.init and getattr(spec, f.name) != f.default
    ]
    if name is None or not all(isinstance(value, (int, float, str)) for _, value in changed):
        return repr(spec)
    if not changed:
        return name
    return f"{name}:{','.join(f'{key}={value}' for key, value in changed)}"


def formula(cls: type[Initializer]) -> str:
    """The first paragraph of the spec class's docstring on one line, without reST markup.

    >>> import unit_init as ui
    >>> formula(ui.HeNormal)
    'He (Kaiming) normal: VarianceScaling(2.0, "fan_in", "truncated_normal"), Var = 2 / fan_in.'
    """
    first = (cls.__doc__ or cls.__name__).strip().split("\n\n")[0]
    return " ".join(first.split()).replace("``", "")
