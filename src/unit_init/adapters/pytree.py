"""The walker for plain pytrees of NumPy arrays (``ui.initialize``), and the pytree helpers the JAX walker shares.

Imports no framework: a model or a pytree of JAX arrays is handed to its adapter, imported then.
"""

from __future__ import annotations

import collections
import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

import array_api_compat
import numpy as np

from unit_init.adapters.canonical import canonical_leaf
from unit_init.adapters.frameworks import ADAPTERS, framework_of, loaded
from unit_init.adapters.rules import Entry, Initialized, Param, Rules, check_rng, draw, fill, plan
from unit_init.backends.registry import backend_for_array
from unit_init.errors import ArgumentError, ParameterError, abbreviate, keywords_checked
from unit_init.spec.fans import LayoutLike

__all__ = [
    "check_acyclic", "check_tree", "foreign_array", "initialize", "params_subtree", "refuse_foreign", "tree_param", "with_params",
]


MAX_DEPTH: Final = 256
"""The deepest nesting of containers a pytree may have."""
MAX_NODES: Final = 1 << 20
"""The most containers and leaves a pytree may have, counted along its paths: a subtree held twice counts twice
(40 levels of ``{"a": d, "b": d}`` are 2⁴⁰ leaves, which the walk would never finish)."""


def _leaves(tree: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    """Every leaf with its path of ``str`` keys, in order; :class:`ParameterError` for a cycle, a nesting deeper
    than :data:`MAX_DEPTH`, more than :data:`MAX_NODES` nodes, or two leaves at one path (``{1: …, "1": …}``). Walked without recursion."""
    found: list[tuple[tuple[str, ...], Any]] = []
    paths: set[tuple[str, ...]] = set()
    stack: list[tuple[Any, tuple[str, ...], frozenset[int]]] = [(tree, path, frozenset())]
    visited = 0
    while stack:
        node, at, above = stack.pop()
        visited += 1
        if visited > MAX_NODES:
            msg = f"the pytree holds more than {MAX_NODES} containers and leaves (2**20; a subtree held twice counts twice); pass a smaller tree."
            raise ParameterError(msg)
        if not isinstance(node, (Mapping, list, tuple)):
            if at in paths:
                msg = f"two leaves of the pytree are both at {abbreviate('/'.join(at))} (the int and str forms of one key); rename one."
                raise ParameterError(msg)
            paths.add(at)
            found.append((at, node))
            continue
        if id(node) in above:
            msg = f"the pytree contains itself at {abbreviate('/'.join(at))}; pass a tree (no cycles)."
            raise ParameterError(msg)
        if len(at) - len(path) >= MAX_DEPTH:
            msg = f"the pytree nests deeper than {MAX_DEPTH} containers at {abbreviate('/'.join(at[:8]))}…; pass a shallower tree."
            raise ParameterError(msg)
        inner = above | {id(node)}
        items = _items(node)
        stack.extend((value, (*at, str(key)), inner) for key, value in reversed(items))
    return found


def check_tree(tree: Any) -> None:
    """:class:`ParameterError` where ``tree``, a dict, list or tuple, holds itself, nests deeper than :data:`MAX_DEPTH`
    or has more than :data:`MAX_NODES` nodes (any other node is a leaf to this walk): checked before
    ``jax.tree_util`` recurses into it, which a cycle would take past the interpreter's recursion limit."""
    if isinstance(tree, (Mapping, list, tuple)):
        _leaves(tree, ())


def _is_named_tuple(node: object) -> bool:
    return isinstance(node, tuple) and isinstance(getattr(type(node), "_fields", None), tuple)


def _items(node: Mapping[Any, Any] | list[Any] | tuple[Any, ...]) -> list[tuple[Any, Any]]:
    """A container's children with their keys: a mapping's keys, a named tuple's field names (as JAX names them), else indices."""
    if isinstance(node, Mapping):
        return list(node.items())
    if _is_named_tuple(node):
        return list(zip(cast("Any", node)._fields, node, strict=True))
    return list(enumerate(node))


def _rebuild(tree: Any, path: tuple[str, ...], new: Mapping[tuple[str, ...], Any]) -> Any:
    """``tree`` with the leaves at the paths of ``new`` replaced. A named tuple, an ``OrderedDict`` and a
    ``defaultdict`` (with its factory) keep their types; any other mapping becomes a ``dict``, list a ``list`` and
    tuple a ``tuple``: a subclass's constructor may take other arguments, and a wrong guess would drop leaves."""
    if not isinstance(tree, (Mapping, list, tuple)):
        return new.get(path, tree)
    items = [(key, _rebuild(value, (*path, str(key)), new)) for key, value in _items(tree)]
    if isinstance(tree, collections.defaultdict):
        return collections.defaultdict(tree.default_factory, items)
    if isinstance(tree, collections.OrderedDict):
        return collections.OrderedDict(items)
    if isinstance(tree, Mapping):
        return dict(items)
    values = [value for _, value in items]
    if _is_named_tuple(tree):
        return type(tree)(*values)
    return values if isinstance(tree, list) else tuple(values)


def tree_param(path: tuple[str, ...], shape: tuple[int, ...], layout: LayoutLike, owners: tuple[Any, ...] = ()) -> Param:
    """The :class:`Param` of a pytree leaf at ``path`` (its name ``"/".join(path)``). A key that is itself a module path,
    as Haiku names its modules (``"net/~/fc"``: ``fc`` made inside ``net``), gives one part of the owner's path per
    module (``net.fc.kernel``, the canonical name of a torch or Flax twin's ``net.fc``)."""
    leaf = path[-1] if path else ""
    owner = tuple(part for key in path[:-1] for part in key.split("/") if part not in ("", "~"))
    return Param("/".join(path), owner, canonical_leaf(leaf, len(shape)), shape, layout, owners)


def params_subtree(tree: Any) -> tuple[Any, tuple[str, ...]]:
    """Flax linen's convention: of a variables dict with a ``"params"`` collection, only that one is initialized."""
    if isinstance(tree, Mapping) and "params" in tree:
        return tree["params"], ("params",)
    return tree, ()


def with_params(tree: Mapping[Any, Any], params: Any) -> Any:
    """``tree`` with its ``"params"`` collection replaced by ``params``, of ``tree``'s own mapping type: a dict's copy
    (an ``OrderedDict``, a ``defaultdict`` with its factory), or the type built from a dict (Flax's ``FrozenDict``)."""
    if isinstance(tree, dict):
        copied = tree.copy()
        copied["params"] = params
        return copied
    replaced = {**tree, "params": params}
    kind: Any = type(tree)
    try:
        return kind(replaced)
    except TypeError:  # a mapping type that is not built from a dict
        return replaced


def _children(node: Any, tree_leaves: Callable[..., list[Any]]) -> list[Any]:
    """``node``'s children as ``jax.tree_util`` flattens it (``tree_leaves``), one level only (``[node]`` for a leaf)."""
    root = [True]

    def is_leaf(_: Any) -> bool:  # asked first of the root, then of each child: stop at every child
        if root[0]:
            root[0] = False
            return False
        return True

    return tree_leaves(node, is_leaf=is_leaf)


def check_acyclic(tree: Any, tree_leaves: Callable[..., list[Any]]) -> None:
    """:class:`ParameterError` where a pytree node JAX knows (an Equinox module's list, a Flax struct; plain dicts,
    lists and tuples :func:`check_tree` walks) holds itself, or nests deeper than :data:`MAX_DEPTH`:
    ``jax.tree_util`` (its ``tree_leaves``, passed in) would recurse past the interpreter's limit and leave it
    unusable. Walked one level at a time without recursion, up to :data:`MAX_NODES` nodes."""
    stack: list[tuple[Any, tuple[int, ...]]] = [(tree, ())]
    for _ in range(MAX_NODES):
        if not stack:
            return
        node, above = stack.pop()
        if id(node) in above:
            msg = "the parameters contain themselves (a pytree node holds itself); pass a tree (no cycles)."
            raise ParameterError(msg)
        if len(above) >= MAX_DEPTH:
            msg = f"the parameters nest deeper than {MAX_DEPTH} pytree nodes; pass a shallower tree."
            raise ParameterError(msg)
        if isinstance(node, (Mapping, list, tuple)):  # a plain container: its values (JAX would sort a dict's keys first)
            children = [value for _, value in _items(node)]
        else:
            children = _children(node, tree_leaves)
        if len(children) != 1 or children[0] is not node:
            stack.extend((child, (*above, id(node))) for child in children)


_FOREIGN: Final = (("torch", "Tensor"), ("tensorflow", "Tensor"), ("tensorflow", "Variable"), ("keras", "Variable"))
"""The arrays of frameworks whose models have their own ``initialize``: as leaves of a pytree, never drawn there."""


def foreign_array(leaf: object) -> bool:
    """Whether ``leaf`` is a torch tensor, a TensorFlow tensor or variable, or a Keras variable (their frameworks
    imported already): a pytree walker describes it, so rules and ``skip=`` see it, but does not draw it."""
    return any((kind := loaded(module, name)) is not None and isinstance(leaf, kind) for module, name in _FOREIGN)


def _array_api_leaf(leaf: object) -> bool:
    """Whether ``leaf`` is an array of an Array-API library other than NumPy (``array_api_strict``, ``dask.array``):
    ``ui.initialize`` draws it on its own namespace and device, in its dtype, as ``like=`` it would."""
    return not isinstance(leaf, (np.ndarray, np.generic)) and array_api_compat.is_array_api_obj(leaf) and not foreign_array(leaf)


def refuse_foreign(entries: Iterable[Entry], foreign: Mapping[str, object], walker: str) -> None:
    """:class:`ParameterError` for an entry a rule covers whose leaf is another framework's array (``foreign``, by
    parameter name): it would be kept as it is and reported as initialized. One no rule covers is reported unmatched,
    one ``skip=`` names skipped, as any leaf."""
    for entry in entries:
        if entry.param.name in foreign:
            leaf = foreign[entry.param.name]
            kind = f"{type(leaf).__module__}.{type(leaf).__qualname__}"
            msg = (
                f"parameter {abbreviate(entry.param.name)} is a {kind}, which {walker} does not draw; initialize its "
                "model with its framework's initialize (ui.initialize hands a torch or Keras model on), convert it to "
                "an array of this tree's kind, or leave it out with skip=."
            )
            raise ParameterError(msg)


def _holds_jax_arrays(params: Any) -> bool:
    """Whether the pytree ``params`` has a JAX array or ``jax.ShapeDtypeStruct`` leaf (JAX already imported): ``unit_init.jax`` draws those."""
    array, abstract, tree_leaves = loaded("jax", "Array"), loaded("jax", "ShapeDtypeStruct"), loaded("jax", "tree_util", "tree_leaves")
    if array is None or abstract is None or tree_leaves is None:  # not imported, or still being imported by another thread
        return False
    if isinstance(params, (Mapping, list, tuple)):
        leaves = [leaf for _, leaf in _leaves(params, ())]  # this walk refuses cyclic and too-deep trees, typed
        leaves = [inner for leaf in leaves for inner in ([leaf] if isinstance(leaf, array) else tree_leaves(leaf))]  # an nnx.State's variables hold theirs
    else:
        check_acyclic(params, tree_leaves)
        leaves = tree_leaves(params)  # an Equinox module or another registered pytree node
    return any(isinstance(leaf, (array, abstract)) for leaf in leaves)


@keywords_checked
def initialize(
    params: Any,
    rules: Rules,
    *,
    seed: int | None = None,
    rng: str = "native",
    layout: LayoutLike | None = None,
    names: Mapping[str, str] | Callable[[str], str] | None = None,
    skip: Iterable[str] | Callable[[Param], bool] | None = None,
    bias_fan_from_weight: bool = True,
    progress: bool | None = None,
) -> Initialized:
    """Initialize a pytree (nested dicts, lists, tuples) of NumPy arrays by rules; return new params and the report.

    A torch module, a Keras model, a Flax model or a pytree holding JAX
    arrays is handed, with the same options, to its framework's
    ``initialize`` (``unit_init.torch``, ``unit_init.keras``,
    ``unit_init.jax``; each documents its own naming and layout): one call for
    every framework. Anything else that is not a dict, list, tuple or NumPy
    array is refused.

    The input is not modified; leaves that are not arrays are kept (a torch,
    TensorFlow or Keras array a rule covers is refused; an array of another
    Array-API library, ``array_api_strict`` or ``dask.array``, is drawn on its
    own namespace and device, in its dtype, as ``like=`` it would be), and
    a named tuple, an ``OrderedDict`` or a ``defaultdict`` keeps its type
    (other containers come back as a ``dict``, ``list`` or ``tuple``). Leaf
    names are the keys joined by ``/`` (``"Dense_0/kernel"``; a named tuple's
    fields by name, as JAX names them, a list's items by index); a
    ``{"params": …}`` variables dict initializes its ``params`` only. Arrays of
    rank >= 2 are in ``layout`` (``None``, the default: ``"keras"``,
    ``(*window, in, out)``, as Flax and Haiku, or, for a call handed on, that
    framework's own: an Equinox module's weights in ``"torch"``). Each array
    keeps its dtype.

    Parameters
    ----------
    params:
        The pytree.
    rules:
        ``{key: value}`` or ``[(key, value), …]``; see the module docstring.
    seed:
        An int, or ``None`` (one int from the global stream, see :func:`unit_init.set_seed`).
        Each parameter draws with ``derive_seed(seed, name)`` of its canonical name.
    rng:
        ``"native"`` or ``"portable"`` (the same values in every framework).
    names:
        Renames canonical names (a mapping, or a callable on the name): the
        new name is matched by globs, its leaf sets the role (``kernel``,
        ``bias`` …) and the seed derives from it — for twins whose names differ.
    skip:
        Names/globs, or a callable on a :class:`Param`: parameters to leave as
        they are (e.g. loaded from a checkpoint).
    bias_fan_from_weight:
        Draw a ``bias`` with the fans of the ``kernel`` beside it (PyTorch's rule).
    progress:
        Show a progress bar: ``True``, ``False``, or ``None`` (the default:
        ``UNIT_INIT_PROGRESS`` if set, else only in a terminal or notebook;
        see :mod:`unit_init.progress`).

    Examples
    --------
    >>> import numpy as np, unit_init as ui
    >>> params = {"fc": {"kernel": np.zeros((8, 4)), "bias": np.ones(4)}}
    >>> new, report = ui.initialize(params, {"*.kernel": ui.HeNormal(), "*.bias": ui.Zeros()}, seed=0)
    >>> new["fc"]["bias"].tolist(), dict(report.applied)
    ([0.0, 0.0, 0.0, 0.0], {'fc/kernel': 0, 'fc/bias': 1})
    """
    framework = framework_of(params) or ("jax" if _holds_jax_arrays(params) else None)
    if framework == "keras" and layout is not None:
        msg = f"layout={abbreviate(layout)} does not apply to a Keras model: its variables are in Keras's layout, which is used."
        raise ArgumentError(msg)
    if framework is not None:
        options = {"seed": seed, "rng": rng, "names": names, "skip": skip, "bias_fan_from_weight": bias_fan_from_weight, "progress": progress}
        routed: Initialized = importlib.import_module(ADAPTERS[framework]).initialize(
            params, rules, **options, **({} if layout is None else {"layout": layout})
        )
        return routed
    given: object = params  # Any for the walk below; checked here
    if not isinstance(given, (Mapping, list, tuple, np.ndarray)):
        msg = (
            f"params={abbreviate(params)} is not a pytree of arrays (nested dicts, lists or tuples), nor a torch, Keras or "
            "Flax model; pass the parameters to initialize."
        )
        raise ParameterError(msg)
    layout = "keras" if layout is None else layout
    rng = check_rng(rng)
    subtree, prefix = params_subtree(params)
    arrays = {path: leaf for path, leaf in _leaves(subtree, ()) if isinstance(leaf, np.ndarray) or _array_api_leaf(leaf) or foreign_array(leaf)}
    described = [tree_param(path, tuple(leaf.shape), layout) for path, leaf in arrays.items()]
    paths = dict(zip((param.name for param in described), arrays, strict=True))
    entries, report = plan(described, rules, seed=seed, skip=skip, names=names, bias_fan_from_weight=bias_fan_from_weight)
    foreign = {name: arrays[path] for name, path in paths.items() if foreign_array(arrays[path]) and not isinstance(arrays[path], np.ndarray)}
    refuse_foreign(entries, foreign, "a pytree of NumPy or Array-API arrays")
    new = {}

    def target(entry: Entry) -> dict[str, Any]:
        leaf = arrays[paths[entry.param.name]]
        if isinstance(leaf, np.ndarray):
            return {"backend": "numpy", "dtype": leaf.dtype, "rng": rng}
        backend = backend_for_array(leaf)  # an Array-API library's array: drawn as like= it would be
        return {"backend": backend, "device": backend.device_of(leaf), "dtype": backend.dtype_of(leaf), "rng": rng}

    def write(entry: Entry) -> None:
        drawn = draw(entry, **target(entry))
        new[paths[entry.param.name]] = np.asarray(drawn, order="C") if isinstance(arrays[paths[entry.param.name]], np.ndarray) else drawn  # ascontiguousarray makes a 0-d leaf 1-d

    fill(entries, write, target=target, kept=lambda _: True, progress=progress)  # checked before the global stream gives a seed; a new tree
    rebuilt = _rebuild(subtree, (), new)
    return Initialized(with_params(params, rebuilt) if prefix else rebuilt, report)
