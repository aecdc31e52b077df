"""Sampling: how a law (:mod:`unit_init.spec.distributions`) becomes an array, written once for every backend.

Layers: the spec layer says *what* to draw (a law with its moments, support
and reach; no array library); the backends give primitives (draw ``U[0, 1)``
and ``N(0, 1)`` from a native generator, ``full``, ``eye``, ``cast``,
``clip``, ``affine``, ``qr``, ``erfinv``) and declare capabilities; this
package composes them. The policy:

* **One entry.** :func:`sample` (a backend's native generator) and
  :func:`sample_from` (any :class:`Stream`, e.g. the portable one) are the
  only ways a law becomes values.
* **Work dtype.** A random law is sampled in float32, or float64 for float64
  and complex128 outputs (:func:`unit_init.dtypes.work_dtype`), by the sampler
  registered for its type (:func:`sampler`): :mod:`unit_init.sampling.laws`,
  :mod:`~unit_init.sampling.kernels` (convolution kernels),
  :mod:`~unit_init.sampling.complex` (complex laws, parts in the work
  dtype); a deterministic law (``random = False``: constants, identity, Dirac, ZerO)
  builds its values in the output dtype exactly.
* **Confinement to the output grid, then one cast.** The entry clips a random
  law's values to its support rounded inward onto the output dtype's grid,
  then casts once (:func:`unit_init.sampling.entry.confine`): a uniform never
  returns its upper bound, a truncated normal never leaves its bounds, also in
  bfloat16 (monotonic rounding keeps values inside grid bounds). Samplers never
  cast or clip by hand.
* **Streams as values.** A sampler draws from a :class:`Stream`
  (``uniform``, ``normal``, ``truncated_normal``, each with its scale):
  :class:`NativeStream` wraps the backend's generator,
  :class:`~unit_init.portable.stream.PortableStream` computes Threefry
  counters (``rng="portable"``), so one sampler serves both.
* **Truncation table.** A truncated normal is sampled from its conditioned
  law, never by clamping raw draws; the method is chosen by the backend's
  ``truncation`` capability, from the one table in
  :mod:`unit_init.sampling.truncation` (:data:`~unit_init.sampling.truncation.METHODS`);
  the portable stream samples by the inverse CDF of its exact uniforms.

* **Blocks.** A draw of an i.i.d. law of at least
  :data:`~unit_init.sampling.blocks.PARALLEL_MIN` elements, on a backend
  with ``block_streams`` (NumPy), is filled block by block in parallel
  (:mod:`unit_init.sampling.blocks`), each block through the same policy.
* **Compiled samplers.** Where a backend ``compiles`` (JAX, TensorFlow), the
  whole sampling of one (law, shape, dtype, device) — draws, scaling, clip,
  cast — is handed to :meth:`~unit_init.backends.base.Backend.compile_sampler`
  once and cached: one kernel per call, no retrace.

Examples
--------
>>> from unit_init.backends.registry import get_backend
>>> from unit_init.sampling import sample
>>> from unit_init.spec.distributions import TruncatedGaussian
>>> numpy = get_backend("numpy")
>>> x = sample(numpy, TruncatedGaussian(0.0, 1.0, -2.0, 2.0), (1000,), "bfloat16", "cpu", numpy.generator(0, "cpu"))
>>> bool((abs(x.astype("float32")) <= 2).all())
True
"""

from __future__ import annotations

from unit_init.sampling import complex as _complex  # noqa: F401  (registers the complex laws' samplers)
from unit_init.sampling import kernels as _kernels  # noqa: F401  (registers the kernel laws' samplers)
from unit_init.sampling.entry import planned, sample, sample_from
from unit_init.sampling.laws import Draw, dispatch, sampler
from unit_init.sampling.native import NativeStream
from unit_init.sampling.streams import Stream

__all__ = ["Draw", "NativeStream", "Stream", "dispatch", "planned", "sample", "sample_from", "sampler"]
