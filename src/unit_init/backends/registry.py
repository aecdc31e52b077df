"""Finding the backend for a name, a module, an array, or the current context.

Built-in backends are named here as import paths and imported on first use,
so ``import unit_init`` touches no framework. Third-party packages add
backends through the entry-point group ``unit_init.backends`` (name →
``module:Class``). A *name* imports only one of those or one of the Array-API
libraries in :data:`ARRAY_API_LIBRARIES`; any other name is refused before
anything is imported, and any other Array-API namespace is passed as the
module object itself (``backend=xp``), which the generic Array-API backend runs.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import importlib.util
import os
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import array_api_compat

from unit_init.backends.base import Backend
from unit_init.errors import BackendError, BackendUnavailableError, abbreviate, closest

__all__ = ["ARRAY_API_LIBRARIES", "BUILTIN", "Context", "backend_for_array", "current_context", "get_backend", "known_backends", "use_backend"]

ENTRY_POINT_GROUP: Final = "unit_init.backends"

# name -> (module path, class name, framework module, pip extra)
BUILTIN: Final[dict[str, tuple[str, str, str, str | None]]] = {
    "numpy": ("unit_init.backends.numpy_backend", "NumpyBackend", "numpy", None),
    "torch": ("unit_init.backends.torch_backend", "TorchBackend", "torch", "torch"),
    "tensorflow": ("unit_init.backends.tensorflow_backend", "TensorflowBackend", "tensorflow", "tensorflow"),
    "jax": ("unit_init.backends.jax_backend", "JaxBackend", "jax", "jax"),
}
ALIASES: Final = {"tf": "tensorflow", "np": "numpy", "pytorch": "torch", "jax.numpy": "jax"}
# Modules that stand for a built-in backend when passed as ``backend=``.
_NAMESPACES: Final = {
    "numpy": "numpy", "array_api_compat.numpy": "numpy",
    "torch": "torch", "array_api_compat.torch": "torch",
    "tensorflow": "tensorflow", "jax": "jax", "jax.numpy": "jax",
}
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
# The root module of a native array's type -> the backend that owns it.
_ARRAY_MODULES: Final = {"numpy": "numpy", "torch": "torch", "tensorflow": "tensorflow", "jax": "jax", "jaxlib": "jax"}


@functools.cache
def _plugins() -> dict[str, Any]:
    """Installed plugin backends: entry-point name -> entry point (read once; importlib.metadata is slow to import)."""
    import importlib.metadata

    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


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
    return sorted({*BUILTIN, *ALIASES, *_NAMESPACES, *ARRAY_API_LIBRARIES, *_plugins()})


def _array_api_library(name: str) -> types.ModuleType:
    """The namespace of ``name``, one of :data:`ARRAY_API_LIBRARIES`, or what to install (its package is looked for, not imported, first)."""
    namespace, requirement = ARRAY_API_LIBRARIES[name]
    if importlib.util.find_spec(name.removeprefix("array_api_compat.").split(".")[0]) is None:
        msg = f"backend={name!r} is a known Array-API library, which is not installed: pip install {requirement!r}."
        raise BackendUnavailableError(msg)
    return importlib.import_module(namespace)


@functools.cache
def _builtin(name: str) -> Backend:
    module_path, class_name, framework, extra = BUILTIN[name]
    try:
        module = importlib.import_module(module_path)
    except ImportError as error:
        if error.name is None or error.name.split(".")[0] != framework:
            raise
        install = f'pip install "unit-init[{extra}]"' if extra else "pip install numpy"
        msg = f"backend {name!r} needs {framework}, which is not installed: {install}."
        raise BackendUnavailableError(msg) from error
    backend: Backend = getattr(module, class_name)()
    return backend


@functools.cache
def _plugin(name: str) -> Backend:
    backend_class = _plugins()[name].load()
    backend: Backend = backend_class()
    return backend


@functools.cache
def _array_api(namespace: types.ModuleType) -> Backend:
    from unit_init.backends.array_api_backend import ArrayApiBackend

    return ArrayApiBackend(namespace)


def _by_module(module: types.ModuleType) -> Backend:
    if module.__name__ in _NAMESPACES:
        return _builtin(_NAMESPACES[module.__name__])
    if hasattr(module, "__array_api_version__"):
        return _array_api(module)
    msg = f"backend={module.__name__!r} is a module but not an Array-API namespace; known backends: {', '.join(known_backends())}."
    raise BackendError(msg)


def get_backend(backend: object) -> Backend:
    """Resolve ``backend`` (a name, an alias, a module object or a Backend) to a Backend.

    A name is looked up, never imported blindly: only a built-in backend, a
    plugin of the entry-point group ``unit_init.backends`` or a library of
    :data:`ARRAY_API_LIBRARIES` is imported; any other name (``"json"``, a typo,
    a module on ``sys.path``) raises before any import.

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
    name = _NAMESPACES.get(backend, ALIASES.get(backend, backend))
    if name in BUILTIN:
        return _builtin(name)
    if name in _plugins():
        return _plugin(name)
    if name in ARRAY_API_LIBRARIES:
        return _by_module(_array_api_library(name))
    msg = (
        f"backend={abbreviate(backend)} is not a known backend name; known: {', '.join(known_backends())}; "
        f"pass any other Array-API namespace as the module object (backend=xp).{closest(backend, known_backends())}"
    )
    raise BackendError(msg)


def backend_for_array(array: Any) -> Backend:
    """The backend owning ``array``, found from its type without importing any framework."""
    root = type(array).__module__.split(".")[0]
    if root in _ARRAY_MODULES:
        return _builtin(_ARRAY_MODULES[root])
    try:
        namespace = array_api_compat.array_namespace(array)
    except TypeError:
        msg = f"like= got a {type(array).__module__}.{type(array).__qualname__}, which is not an array of a known backend or of any Array-API library."
        raise BackendError(msg) from None
    return _by_module(namespace)


@dataclass(frozen=True, slots=True)
class Context:
    """Defaults set by :func:`use_backend`."""

    backend: str | types.ModuleType | Backend
    device: Any = None
    dtype: Any = None


_CONTEXT: contextvars.ContextVar[Context | None] = contextvars.ContextVar("unit_init_context", default=None)


def current_context() -> Context:
    """The innermost ``use_backend(...)``, else ``UNIT_INIT_BACKEND``, else numpy."""
    context = _CONTEXT.get()
    if context is not None:
        return context
    return Context(os.environ.get("UNIT_INIT_BACKEND") or "numpy")


@contextlib.contextmanager
def use_backend(
    backend: str | types.ModuleType | Backend, *, device: Any = None, dtype: Any = None
) -> Iterator[Backend]:
    """Make ``backend`` (and optionally ``device``/``dtype``) the default inside a ``with`` block.

    The backend is resolved on entry, so a typo fails at the ``with`` line.

    Examples
    --------
    >>> import unit_init as ui
    >>> with ui.use_backend("numpy"):
    ...     ui.zeros((2, 3)).shape
    (2, 3)
    """
    resolved = get_backend(backend)
    token = _CONTEXT.set(Context(resolved, device, dtype))
    try:
        yield resolved
    finally:
        _CONTEXT.reset(token)
