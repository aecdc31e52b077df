"""The native stream: a backend's own generator, drawn through the backend's primitives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from unit_init.sampling import truncation

if TYPE_CHECKING:
    from unit_init.backends.base import Backend

__all__ = ["NativeStream"]


class NativeStream:
    """A backend's native ``generator`` on ``device``, drawn through the backend's primitives.

    Examples
    --------
    >>> from unit_init.backends.registry import get_backend
    >>> numpy = get_backend("numpy")
    >>> stream = NativeStream(numpy, numpy.generator(0, "cpu"), "cpu")
    >>> stream.uniform((2, 3), "float32", -1.0, 1.0).shape
    (2, 3)
    """

    __slots__ = ("backend", "device", "generator")
    positional: ClassVar[bool] = False  # values depend on the whole draw's generator state, not on their positions

    def __init__(self, backend: Backend, generator: Any, device: Any) -> None:
        self.backend = backend
        self.generator = generator
        self.device = device

    def uniform(self, shape: tuple[int, ...], dtype: str, low: float = 0.0, high: float = 1.0) -> Any:
        if low == 0.0 and high == 1.0:
            return self.backend.uniform(self.generator, shape, dtype, self.device)
        return self.backend.uniform_between(self.generator, shape, low, high, dtype, self.device)

    def normal(self, shape: tuple[int, ...], dtype: str, mean: float = 0.0, std: float = 1.0) -> Any:
        if mean == 0.0 and std == 1.0:
            return self.backend.normal(self.generator, shape, dtype, self.device)
        return self.backend.normal_scaled(self.generator, shape, mean, std, dtype, self.device)

    def rounds_once(self, dtype: str) -> bool:
        return self.backend.rounds_narrow(dtype, self.device)

    def truncated_normal(
        self, shape: tuple[int, ...], dtype: str, low: float, high: float, mean: float = 0.0, std: float = 1.0
    ) -> Any:
        """Drawn by the method the truncation table gives the backend (:func:`unit_init.sampling.truncation.truncated_normal`)."""
        return truncation.truncated_normal(self, shape, dtype, low, high, mean, std)
