"""Finding the backend for a name, a module, an array, or the current context.

Every backend is described by one :class:`BackendRecord`: its name, the
``module:Class`` that implements it (imported on first use, so ``import
unit_init`` touches no framework), the framework it needs and what to install,
its other names, the modules that stand for it and the root modules of its
array types. The built-in backends are the records of :data:`BUILTIN`; a
third-party package adds one through the entry-point group
``unit_init.backends`` (name → ``module:Class`` of a :class:`~unit_init.backends.base.Backend`
subclass, or ``module:RECORD`` of a :class:`BackendRecord`), and a program may
add one with :func:`register_backend`. An installed record's other names
(aliases, namespaces) are read by loading the plugins' entry points, only
where a name or module matches nothing else.

A *name* imports only one of those, or one of the Array-API libraries in
:data:`ARRAY_API_LIBRARIES`; any other name is refused before anything is
imported, and any other Array-API namespace is passed as the module object
itself (``backend=xp``), which the generic Array-API backend runs.

``like=`` finds the backend of an array with :meth:`Backend.owns
<unit_init.backends.base.Backend.owns>`: the built-ins whose ``array_modules``
hold the root module of the array's type are asked first (no other framework
is imported), then every plugin backend, then array-api-compat's namespace
of the array.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import importlib.util
import types
from dataclasses import dataclass
from typing import Any, Final

import array_api_compat

from unit_init.backends.base import Backend, check_declared
from unit_init.dtypes import canonical_dtype
from unit_init.environment import variable
from unit_init.errors import (
    BackendError,
    BackendUnavailableError,
    ParameterError,
    abbreviate,
    closest,
    install_hint,
    keywords_checked,
)

__all__ = [
    "ARRAY_API_LIBRARIES",
    "BUILTIN",
    "BackendRecord",
    "Context",
    "backend_for_array",
    "current_context",
    "get_backend",
    "known_backends",
    "register_backend",
    "use_backend",
]

ENTRY_POINT_GROUP: Final = "unit_init.backends"


@dataclass(frozen=True, slots=True)
class BackendRecord:
    """Everything the registry knows about one backend, before importing it.

    Parameters
    ----------
    name:
        The name ``backend=`` takes (``"torch"``).
    target:
        The :class:`~unit_init.backends.base.Backend` subclass, instantiated
        (with no arguments) on first use: ``"module:Class"``, imported then;
        or the class itself, for a backend defined in a program (:func:`register_backend`).
    framework:
        The top-level module the backend needs (``"torch"``): an
        :class:`ImportError` of it while loading becomes a
        :class:`~unit_init.BackendUnavailableError`. ``None``: none beyond unit_init's own.
    extra:
        What to ``pip install`` when ``framework`` is missing (``"torch"``); a
        built-in backend's message also names unit_init's extra of the same name.
    aliases:
        Other names ``backend=`` takes (``"pytorch"``).
    namespaces:
        The ``__name__`` of modules that stand for this backend when passed as
        ``backend=module`` (``"torch"``, ``"array_api_compat.torch"``); they
        are accepted as names too.
    array_modules:
        The root modules of the backend's array types (``"jaxlib"``): ``like=``
        asks :meth:`~unit_init.backends.base.Backend.owns` only of backends
        whose ``array_modules`` hold the array type's root module, so no other
        framework is imported; empty: always asked (after the built-ins).

    Examples
    --------
    >>> from unit_init.backends.registry import BUILTIN
    >>> [record.name for record in BUILTIN]
    ['numpy', 'torch', 'tensorflow', 'jax']
    >>> BUILTIN[1].target, BUILTIN[1].extra
    ('unit_init.backends.torch_backend:TorchBackend', 'torch')
    """

    name: str
    target: str | type[Backend]
    framework: str | None = None
    extra: str | None = None
    aliases: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    array_modules: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name ``backend=`` takes for this backend."""
        return (self.name, *self.aliases, *self.namespaces)


BUILTIN: Final = (
    BackendRecord(
        "numpy", "unit_init.backends.numpy_backend:NumpyBackend", "numpy", "numpy",
        aliases=("np",), namespaces=("numpy", "array_api_compat.numpy"), array_modules=("numpy",),
    ),
    BackendRecord(
        "torch", "unit_init.backends.torch_backend:TorchBackend", "torch", "torch",
        aliases=("pytorch",), namespaces=("torch", "array_api_compat.torch"), array_modules=("torch",),
    ),
    BackendRecord(
        "tensorflow", "unit_init.backends.tensorflow_backend:TensorflowBackend", "tensorflow", "tensorflow",
        aliases=("tf",), namespaces=("tensorflow",), array_modules=("tensorflow",),
    ),
    BackendRecord(
        "jax", "unit_init.backends.jax_backend:JaxBackend", "jax", "jax",
        namespaces=("jax", "jax.numpy"), array_modules=("jax", "jaxlib"),
    ),
)
"""The built-in backends."""

# The Array-API libraries a *name* may import (those array-api-compat knows):
# name -> (the namespace imported, where array-api-compat wraps the library; what to pip install).
# No other name is imported.
ARRAY_API_LIBRARIES: Final[dict[str, tuple[str, str]]] = {
    "array_api_strict": ("array_api_strict", "array-api-strict"),
    "array_api_compat.cupy": ("array_api_compat.cupy", "cupy"),
    "array_api_compat.dask.array": ("array_api_compat.dask.array", "dask[array]"),
    "cupy": ("array_api_compat.cupy", "cupy"),
    "dask.array": ("array_api_compat.dask.array", "dask[array]"),
    "dpnp": ("dpnp", "dpnp"),
    "ndonnx": ("ndonnx", "ndonnx"),
    "sparse": ("sparse", "sparse"),
}
_BY_NAME: Final = {name: record for record in BUILTIN for name in record.names}
_BY_ARRAY_MODULE: Final = {module: record for record in BUILTIN for module in record.array_modules}
_REGISTERED: dict[str, BackendRecord] = {}


@functools.cache
def _entry_points() -> dict[str, Any]:
    """Installed plugins: entry-point name -> entry point (read once; importlib.metadata is slow to import)."""
    import importlib.metadata

    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _plugin_names() -> list[str]:
    """The names of every plugin backend: registered records and installed records, each with its other names, and entry points."""
    return [*(name for record in _REGISTERED.values() for name in record.names), *_entry_points(), *_entry_point_aliases()]


def _entry_point_aliases() -> dict[str, str]:
    """The other names (aliases, namespaces) of installed plugins that declare a record: name -> entry-point name.

    An entry point names only its backend; the other names are in its
    record, so every plugin's entry point is loaded to read them (one that
    cannot be loaded, whatever it raises, is passed over: a broken plugin
    never changes the answer for another name). Asked only for a name
    nothing else matches, and to list the names.
    """
    names: dict[str, str] = {}
    for entry in _entry_points():
        with contextlib.suppress(Exception):
            for name in _plugin_record(entry).names:
                if name not in _entry_points():
                    names.setdefault(name, entry)
    return names


def _plugin_named(name: str) -> BackendRecord | None:
    """The plugin record that takes ``name`` (registered, an entry point, or another name of an installed record), else ``None``."""
    if name in _REGISTERED or name in _entry_points():
        return _plugin_record(name)
    entry = _entry_point_aliases().get(name)
    return None if entry is None else _plugin_record(entry)


def register_backend(record: BackendRecord) -> None:
    """Make the backend of ``record`` known by its names, for ``backend=`` and ``like=``.

    Installed packages register through the entry-point group
    ``unit_init.backends`` instead; this serves a backend defined in a
    program, a notebook or a test. Nothing is imported until the backend is used.

    Raises
    ------
    BackendError
        One of the record's names is already taken.

    Examples
    --------
    >>> import unit_init as ui
    >>> from unit_init.backends.registry import BackendRecord, register_backend
    >>> register_backend(BackendRecord("numpy", "mylib:MyBackend"))
    Traceback (most recent call last):
    ...
    unit_init.errors.BackendError: register_backend: the name 'numpy' is already a backend's; pick another name.
    """
    _check_record(record)
    taken = {*_BY_NAME, *ARRAY_API_LIBRARIES, *_plugin_names()}
    for name in record.names:
        if name in taken:
            msg = f"register_backend: the name {abbreviate(name)} is already a backend's; pick another name."
            raise BackendError(msg)
    for name in record.names:
        _REGISTERED[name] = record


def _check_record(record: object) -> None:
    """:class:`BackendError` unless ``record`` is a :class:`BackendRecord` whose names are non-empty strings without
    surrounding spaces (its aliases, namespaces and array modules tuples of them, framework and extra a string or
    ``None``) and whose target is a ``Backend`` subclass or a ``"module:Class"`` string."""
    if not isinstance(record, BackendRecord):
        msg = f"register_backend takes a BackendRecord(name, target, …), not {abbreviate(record)}."
        raise BackendError(msg)
    for field in ("framework", "extra"):
        value = getattr(record, field)
        if value is not None and not isinstance(value, str):
            msg = f"register_backend: {field} of {record.name!r} is a string or None, not {abbreviate(value)}."
            raise BackendError(msg)
    for field in ("aliases", "namespaces", "array_modules"):
        value = getattr(record, field)
        if not isinstance(value, tuple) or not all(isinstance(name, str) for name in value):
            msg = f"register_backend: {field} of {record.name!r} is a tuple of strings, not {abbreviate(value)}."
            raise BackendError(msg)
    names: tuple[object, ...] = record.names  # a record's fields are whatever its caller gave: the name too
    for name in names:
        if not isinstance(name, str) or not name or name != name.strip():
            msg = f"register_backend: a backend's name is a non-empty string without surrounding spaces, not {abbreviate(name)}."
            raise BackendError(msg)
    target = record.target
    module, _, cls = target.partition(":") if isinstance(target, str) else ("", "", "")
    if not (isinstance(target, type) and issubclass(target, Backend)) and not (module and cls):
        msg = f"register_backend: the target of {record.name!r} is a Backend subclass or a 'module:Class' string, not {abbreviate(target)}."
        raise BackendError(msg)


def _plugin_record(name: str) -> BackendRecord:
    """The record of the plugin ``name``: registered, or read from its entry point (a record, or a Backend class)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    entry_point = _entry_points()[name]
    try:
        loaded = entry_point.load()
    except (Exception, SystemExit) as error:  # ImportError, a missing attribute, or whatever the plugin's module raises
        package = entry_point.dist.name if entry_point.dist is not None else entry_point.module
        why = str(error) if isinstance(error, ImportError) else f"{type(error).__name__}: {error}"
        msg = f"backend {name!r} (entry point {entry_point.value!r}) cannot be imported ({abbreviate(why)}); reinstall {package!r} and what it needs."
        raise BackendUnavailableError(msg) from error
    if isinstance(loaded, BackendRecord):
        try:
            _check_record(loaded)
        except BackendError as error:
            msg = f"the entry point {name!r} = {entry_point.value!r} of {ENTRY_POINT_GROUP!r} declares a record that {str(error).removeprefix('register_backend: ')}"
            raise BackendError(msg) from None
        return loaded
    if isinstance(loaded, type) and issubclass(loaded, Backend):
        return BackendRecord(name, entry_point.value)
    msg = f"the entry point {name!r} = {entry_point.value!r} of {ENTRY_POINT_GROUP!r} is neither a Backend subclass nor a BackendRecord."
    raise BackendError(msg)


@keywords_checked
def known_backends() -> list[str]:
    """Names accepted by ``backend=``: built-ins, aliases, installed plugins and the known Array-API libraries.

    No other name is ever imported; pass any other Array-API namespace as a module.

    Examples
    --------
    >>> import unit_init as ui
    >>> {"numpy", "tf", "array_api_strict", "dask.array"} <= set(ui.known_backends())
    True
    >>> "json" in ui.known_backends()
    False
    """
    return sorted({*_BY_NAME, *ARRAY_API_LIBRARIES, *_plugin_names()})


def _array_api_library(name: str) -> types.ModuleType:
    """The namespace of ``name``, one of :data:`ARRAY_API_LIBRARIES`, or what to install (its package is looked for, not imported, first)."""
    namespace, requirement = ARRAY_API_LIBRARIES[name]
    if importlib.util.find_spec(name.removeprefix("array_api_compat.").split(".")[0]) is None:
        msg = f"backend={name!r} is a known Array-API library, which is not installed: pip install {requirement!r}."
        raise BackendUnavailableError(msg)
    return importlib.import_module(namespace)


@functools.cache
def _load(record: BackendRecord) -> Backend:
    """The backend of ``record``, instantiated once; :class:`BackendUnavailableError` naming ``extra`` if its framework is missing."""
    if not isinstance(record.target, str):
        backend_class: Any = record.target
    else:
        backend_class = _imported(record, record.target)
    if not (isinstance(backend_class, type) and issubclass(backend_class, Backend)):
        msg = f"backend {record.name!r}: {abbreviate(record.target)} is not a Backend subclass."
        raise BackendError(msg)
    if record in BUILTIN:
        built: Backend = backend_class()
        return built
    try:
        backend: Backend = backend_class()
    except Exception as error:  # a plugin's constructor: its framework's failure, or its own
        msg = f"backend {record.name!r} cannot be made: {backend_class.__name__}() raised {type(error).__name__} ({str(error)[:200]})."
        raise BackendError(msg) from error
    check_declared(backend)
    return backend


def _imported(record: BackendRecord, target: str) -> Any:
    """The object ``record``'s ``"module:Class"`` ``target`` names; :class:`BackendUnavailableError` where it cannot be
    imported: its framework missing (naming what to install), or whatever a plugin's module raises (a built-in's
    own failure is raised as it is)."""
    module_path, _, class_name = target.partition(":")
    try:
        return getattr(importlib.import_module(module_path), class_name)
    except (Exception, SystemExit) as error:  # a plugin module's sys.exit() too: a failed import, not the process's end
        framework = record.framework
        if isinstance(error, ImportError) and framework is not None and (error.name or "").split(".")[0] == framework:
            package = record.extra or framework
            install = install_hint(package, record.name) if record in BUILTIN else f'pip install "{package}"'
            msg = f"backend {record.name!r} needs {framework}, which is not installed: {install}."
        elif record in BUILTIN:
            raise
        elif isinstance(error, AttributeError):
            msg = f"backend {record.name!r}: the module {module_path!r} has no {class_name!r} ({target!r})."
        else:
            msg = f"backend {record.name!r} ({target!r}) cannot be imported ({type(error).__name__}: {str(error)[:200]})."
        raise BackendUnavailableError(msg) from error


@functools.cache
def _builtin(name: str) -> Backend:
    """The built-in backend of ``name`` (any of its names), cached by name: the lookup of every draw."""
    return _load(_BY_NAME[name])


@functools.cache
def _array_api(namespace: types.ModuleType) -> Backend:
    from unit_init.backends.array_api_backend import ArrayApiBackend

    return ArrayApiBackend(namespace)


def _by_module(module: types.ModuleType) -> Backend:
    record = _BY_NAME.get(module.__name__)
    if record is not None and module.__name__ in record.namespaces:
        return _builtin(module.__name__)
    plugin = _plugin_named(module.__name__)
    if plugin is not None and module.__name__ in plugin.namespaces:
        return _load(plugin)
    if module.__name__ in ARRAY_API_LIBRARIES:  # dask.array, cupy: their Array-API namespace is array-api-compat's
        return _array_api(_array_api_library(module.__name__))
    if hasattr(module, "__array_api_version__"):
        return _array_api(module)
    msg = f"backend={module.__name__!r} is a module but not an Array-API namespace; known backends: {', '.join(known_backends())}."
    raise BackendError(msg)


def get_backend(backend: object) -> Backend:
    """Resolve ``backend`` (a name, an alias, a module object or a Backend) to a Backend.

    A name is looked up, never imported blindly: only a built-in backend, a
    plugin (entry-point group ``unit_init.backends`` or :func:`register_backend`)
    or a library of :data:`ARRAY_API_LIBRARIES` is imported; any other name
    (``"json"``, a typo, a module on ``sys.path``) raises before any import.

    Raises
    ------
    BackendError
        The name is not one of :func:`known_backends`, or the object is neither a
        name, a Backend nor an Array-API namespace.
    BackendUnavailableError
        The backend is known but its framework is not installed.
    """
    if isinstance(backend, Backend):
        return backend
    if isinstance(backend, types.ModuleType):
        return _by_module(backend)
    if not isinstance(backend, str):
        msg = f"backend={abbreviate(backend)} must be a name, a module or None; known: {', '.join(known_backends())}."
        raise BackendError(msg)
    if backend in _BY_NAME:
        return _builtin(backend)
    if backend in _REGISTERED or backend in _entry_points():
        return _load(_plugin_record(backend))
    if backend in ARRAY_API_LIBRARIES:
        return _by_module(_array_api_library(backend))
    plugin = _plugin_named(backend)  # another name of an installed plugin's record
    if plugin is not None:
        return _load(plugin)
    msg = (
        f"backend={abbreviate(backend)} is not a known backend name; known: {', '.join(known_backends())}; "
        f"pass any other Array-API namespace as the module object (backend=xp).{closest(backend, known_backends())}"
    )
    raise BackendError(msg)


def _plugins_for(root: str) -> list[BackendRecord]:
    """The plugin records whose backend may own an array whose type lives in the module ``root``, each once."""
    plugins: dict[BackendRecord, None] = {}  # each record once, though it may have several names
    for name in [*_REGISTERED, *_entry_points()]:
        with contextlib.suppress(BackendUnavailableError, BackendError):  # a plugin that cannot load owns no array
            plugins[_plugin_record(name)] = None
    return [record for record in plugins if not record.array_modules or root in record.array_modules]


def _owned_by(record: BackendRecord, array: Any) -> bool:
    """Whether the plugin of ``record`` loads and its ``owns`` accepts ``array``; a plugin that cannot load (its
    framework is missing, so the array is not one of its) or whose ``owns`` raises on a foreign object does not own it:
    a broken plugin never changes which backend another array's ``like=`` reaches."""
    try:
        return bool(_load(record).owns(array))
    except Exception:  # the plugin's own error, said when it is used by name
        return False


def backend_for_array(array: Any) -> Backend:
    """The backend owning ``array``: the first whose :meth:`~unit_init.backends.base.Backend.owns` accepts it.

    Built-in backends are asked only when the root module of the array's type
    is one of theirs (their framework is then imported already), then every
    plugin backend, then array-api-compat's namespace of the array.

    Examples
    --------
    >>> import numpy as np
    >>> backend_for_array(np.zeros(3)).name
    'numpy'
    """
    root = type(array).__module__.partition(".")[0]
    builtin = _BY_ARRAY_MODULE.get(root)
    if builtin is not None and (backend := _builtin(builtin.name)).owns(array):
        return backend
    for record in _plugins_for(root):
        if _owned_by(record, array):
            return _load(record)
    what = f"like= got a {type(array).__module__}.{type(array).__qualname__}"
    try:
        namespace = array_api_compat.array_namespace(array)
    except Exception as error:  # TypeError: not an array; anything else: the object's own __array_namespace__ failed
        reason = "" if isinstance(error, TypeError) else f" (its __array_namespace__ raised {type(error).__name__})"
        msg = f"{what}, which is not an array of a known backend or of any Array-API library{reason}."
        raise BackendError(msg) from None
    if isinstance(namespace, types.ModuleType):
        with contextlib.suppress(BackendError):  # said below in terms of like=
            return _by_module(namespace)
    msg = f"{what}, whose __array_namespace__() gives {abbreviate(namespace)}, not an Array-API namespace; known backends: {', '.join(known_backends())}."
    raise BackendError(msg)


@dataclass(frozen=True, slots=True)
class Context:
    """Defaults set by :func:`use_backend` (or, outside any, by ``UNIT_INIT_BACKEND``: ``from_environment``)."""

    backend: str | types.ModuleType | Backend
    device: Any = None
    dtype: Any = None
    from_environment: bool = False

    def backend_resolved(self) -> Backend:
        """The context's backend; an error about a backend named by ``UNIT_INIT_BACKEND`` says it came from there."""
        try:
            return get_backend(self.backend)
        except (BackendError, BackendUnavailableError) as error:
            if not self.from_environment:
                raise
            raise type(error)(f"{error} (The backend comes from the environment variable UNIT_INIT_BACKEND={abbreviate(self.backend)}: "
                              "pass backend= (--backend on the command line), or change or unset the variable.)") from error


_CONTEXT: contextvars.ContextVar[Context | None] = contextvars.ContextVar("unit_init_context", default=None)


_NUMPY_CONTEXT: Final = Context("numpy")


@functools.lru_cache(maxsize=8)
def _environment_context(named: str) -> Context:
    """The context ``UNIT_INIT_BACKEND=named`` sets (one frozen value per name)."""
    return Context(named, from_environment=True)


def current_context() -> Context:
    """The innermost ``use_backend(...)``, else ``UNIT_INIT_BACKEND``, else numpy."""
    context = _CONTEXT.get()
    if context is not None:
        return context
    named = variable("UNIT_INIT_BACKEND")
    return _environment_context(named) if named else _NUMPY_CONTEXT


_ENTERED: contextvars.ContextVar[tuple[tuple[BackendDefaults, contextvars.Token[Context | None]], ...]] = contextvars.ContextVar(
    "unit_init_entered", default=()
)
"""The tokens of the ``use_backend`` blocks open in this thread or task, innermost last: ``with`` blocks nest, so the
block that exits is always the innermost one, whichever object opened it."""


class BackendDefaults(contextlib.ContextDecorator):
    """What :func:`use_backend` returns: a context manager (and decorator) that may be entered again, also inside itself."""

    def __init__(self, backend: str | types.ModuleType | Backend, device: Any, dtype: Any) -> None:
        self._backend, self._device, self._dtype = backend, device, dtype

    def __repr__(self) -> str:
        return f"use_backend({abbreviate(self._backend)}, device={abbreviate(self._device)}, dtype={abbreviate(self._dtype)})"

    def __enter__(self) -> Backend:
        resolved = get_backend(self._backend)
        native_device = resolved.resolve_device(self._device)
        if self._dtype is not None:
            resolved.dtype_on(canonical_dtype(self._dtype), native_device)
        token = _CONTEXT.set(Context(resolved, self._device, self._dtype))
        _ENTERED.set((*_ENTERED.get(), (self, token)))
        return resolved

    def __exit__(self, *_: object) -> None:
        entered = _ENTERED.get()
        if not entered or entered[-1][0] is not self:
            msg = f"{self!r} is exited but is not the innermost use_backend block open here; exit blocks in the reverse order of entry."
            raise ParameterError(msg)
        _ENTERED.set(entered[:-1])
        _CONTEXT.reset(entered[-1][1])


@keywords_checked
def use_backend(backend: str | types.ModuleType | Backend, *, device: Any = None, dtype: Any = None) -> BackendDefaults:
    """Make ``backend`` (and optionally ``device``/``dtype``) the default inside a ``with`` block.

    The backend, the device and the dtype are checked on entry, so a typo
    fails at the ``with`` line. The device is kept as given and resolved at
    each draw (``"cuda"`` follows ``torch.cuda.set_device``). The default
    holds in this thread (or asyncio task) only, as a ``contextvars`` value:
    threads started inside the block draw with their own defaults. The object
    returned may be kept and entered again, also inside its own block, and
    decorates a function (``@ui.use_backend("torch")``) as ``contextlib``'s
    context managers do; ``with … as b`` binds the resolved backend.

    Examples
    --------
    >>> import unit_init as ui
    >>> with ui.use_backend("numpy"):
    ...     ui.zeros((2, 3)).shape
    (2, 3)
    >>> float64 = ui.use_backend("numpy", dtype="float64")
    >>> with float64:
    ...     with float64:
    ...         ui.zeros(2).dtype
    dtype('float64')
    >>> with ui.use_backend("numpy", dtype="float33"):
    ...     pass
    Traceback (most recent call last):
    ...
    unit_init.errors.DTypeError: dtype='float33' is not supported; accepted: float16, bfloat16, float32, float64, bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, complex64, complex128, torch's short names (half, float, double, bf16, fp16, fp32, fp64, cfloat, cdouble) or the matching native dtype object. Did you mean 'float32'?
    """
    return BackendDefaults(backend, device, dtype)
