"""The one layout and the leaf names every framework's parameters are drawn and seeded in.

A weight is drawn in ``(*window, in, out)`` — the ``"keras"`` layout of Keras,
Flax and Haiku — with that layout's fans, then permuted into its framework's
own layout; its leaf is named as Flax names it. Imports no framework.

=====================  ==========================  =========================
framework layout       weight                      axis order to canonical
=====================  ==========================  =========================
``"torch"``            ``(out, in, *window)``      ``(2, …, 1, 0)``
``"torch_transpose"``  ``(in, out, *window)``      ``(2, …, 0, 1)``
``"keras_transpose"``  ``(*window, out, in)``      ``(…, r-1, r-2)``
``"keras"``            ``(*window, in, out)``      identity
=====================  ==========================  =========================
"""

from __future__ import annotations

from typing import Final

from unit_init.spec.fans import LAYOUTS, LayoutLike

__all__ = ["canonical_leaf", "canonical_order", "canonical_shape"]

_LEAVES: Final = {
    "w": "kernel", "weight": "kernel", "kernel": "kernel",
    "b": "bias", "bias": "bias", "beta": "bias", "offset": "bias",
    "embeddings": "embedding", "embedding": "embedding",
    "gamma": "scale", "scale": "scale",
}


def canonical_leaf(leaf: str, rank: int) -> str:
    """The framework-neutral name of a parameter's leaf: Flax's names.

    ``weight``/``w``/``kernel`` → ``kernel`` (``scale`` at rank 1, as a norm
    layer's weight); ``b``/``bias``/``beta``/``offset`` → ``bias``;
    ``embeddings`` → ``embedding``; ``gamma`` → ``scale``; any other leaf as it is.

    Examples
    --------
    >>> canonical_leaf("weight", 2), canonical_leaf("weight", 1), canonical_leaf("beta", 1)
    ('kernel', 'scale', 'bias')
    """
    name = _LEAVES.get(leaf, leaf)
    return "scale" if name == "kernel" and rank < 2 else name


def canonical_order(layout: LayoutLike, rank: int) -> tuple[int, ...] | None:
    """The axis order taking a named layout to ``(*window, in, out)``; ``None`` for a custom ``Layout``."""
    window = tuple(range(2, rank))
    orders = {
        "keras": tuple(range(rank)),
        "torch": (*window, 1, 0),
        "torch_transpose": (*window, 0, 1),
        "keras_transpose": (*range(rank - 2), rank - 1, rank - 2),
    }
    if layout is None or rank < 2:
        return tuple(range(rank))
    if isinstance(layout, str) and layout in LAYOUTS:
        return orders[layout]
    return None


def canonical_shape(shape: tuple[int, ...], layout: LayoutLike) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """``shape`` in the canonical ``(*window, in, out)`` layout and the axis order that gives it (``None``: drawn as it is).

    Examples
    --------
    >>> canonical_shape((8, 3, 5, 5), "torch")
    ((5, 5, 3, 8), (2, 3, 1, 0))
    """
    order = canonical_order(layout, len(shape))
    if order is None:
        return shape, None
    return tuple(shape[a] for a in order), order
