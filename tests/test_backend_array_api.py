"""The generic Array-API backend, exercised with array_api_strict and its fake devices.

array_api_strict has devices ``CPU_DEVICE`` (default), ``device1``, ``device2``,
``no_float64`` (mimics MPS) and ``no_x64`` (mimics JAX without x64), and no
float16/bfloat16, so CPU-only CI covers device routing and "dtype not
supported here". The namespace is imported by a fixture, so collection imports
nothing and a missing array_api_strict is a skip with its reason.

The cells every backend shares (each initializer × dtype × shape on
``device1``, seeds, set_seed, integer dtypes and their refusal by random
initializers, zero-size shapes, orthogonality, moments) live in the
cross-backend matrix, tests/test_matrix.py; here, what only this backend has:
its devices, the float16/bfloat16 refusal's message, draws equal to the
NumPy backend's, NumPy Generators as seeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from targets import RANDOM
from unit_init.backends.registry import get_backend

DEVICES = ["CPU_DEVICE", "device1", "device2"]


def shape_for(name: str) -> tuple[int, ...]:
    return (6, 4) if name == "identity" else (3, 2, 4, 5)


@pytest.fixture(scope="module")
def xp() -> Any:
    return pytest.importorskip("array_api_strict", reason="array_api_strict is not installed (pip install 'unit-init[array-api]')")


def host(x: Any) -> np.ndarray:
    return np.asarray(get_backend("array_api_strict").to_numpy(x))


# --- every initializer on every device; the dtypes it lacks ---------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(ui.CATALOGUE))
def test_every_initializer_on_every_device(xp: Any, name: str, device: str) -> None:
    w = ui.get(name)(shape_for(name), backend="array_api_strict", device=device, seed=0)
    assert type(w) is type(xp.asarray(0.0))
    assert w.device == xp.Device(device)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["he_normal", "orthogonal", "zeros"])
def test_narrow_floats_are_refused_naming_what_is_offered(xp: Any, name: str, dtype: str) -> None:
    with pytest.raises(ui.DTypeError, match=rf"dtype='{dtype}' is not available in array_api_strict; it offers float32"):
        ui.get(name)(shape_for(name), backend="array_api_strict", device="device2", dtype=dtype, seed=0)


@pytest.mark.parametrize("name", RANDOM)
def test_draws_are_the_numpy_backends_host_draws(xp: Any, name: str) -> None:
    # U[0,1)/N(0,1) come from NumPy's PCG64 on the host and the float32 arithmetic matches,
    # so a seed gives the numpy backend's values (to a few ulp where QR runs in the namespace).
    shape = shape_for(name)
    ours = host(ui.get(name)(shape, backend=xp, seed=3))
    reference = ui.get(name)(shape, backend="numpy", seed=3)
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6)


# --- how the backend is named ---------------------------------------------------------


def test_backend_by_name_module_and_like(xp: Any) -> None:
    by_name = ui.he_normal((8, 4), backend="array_api_strict", seed=0)
    by_module = ui.he_normal((8, 4), backend=xp, seed=0)
    np.testing.assert_array_equal(host(by_name), host(by_module))
    backend = get_backend(xp)
    assert backend is get_backend("array_api_strict")
    assert backend.name == "array_api_strict"
    assert backend.owns(by_name)
    assert not backend.owns(np.zeros(2))

    existing = xp.zeros((3,), dtype=xp.float64, device=xp.Device("device2"))
    w = ui.glorot_uniform((8, 4), like=existing, seed=0)
    assert type(w) is type(existing)
    assert w.dtype == xp.float64
    assert w.device == xp.Device("device2")


# --- devices --------------------------------------------------------------------------


@pytest.mark.parametrize(("device", "expected"), [
    (None, "CPU_DEVICE"), ("cpu", "CPU_DEVICE"), ("CPU_DEVICE", "CPU_DEVICE"),
    ("device1", "device1"), ("device2", "device2"),
])
def test_device_names(xp: Any, device: str | None, expected: str) -> None:
    assert ui.zeros((2,), backend=xp, device=device).device == xp.Device(expected)
    assert ui.he_normal((2, 2), backend=xp, device=xp.Device(expected), seed=0).device == xp.Device(expected)


@pytest.mark.parametrize("device", ["cuda", "tpu:0", "device3", 1])
def test_unknown_device_lists_the_present_ones(xp: Any, device: object) -> None:
    with pytest.raises(ui.DeviceError, match=r"present: 'CPU_DEVICE', 'device1', 'device2', 'no_float64', 'no_x64'") as error:
        ui.he_normal((2, 2), backend=xp, device=device)
    assert repr(device) in str(error.value)


# --- dtypes per device ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["he_normal", "orthogonal", "random_uniform", "zeros", "identity"])
def test_no_float64_device_refuses_float64(xp: Any, name: str) -> None:
    with pytest.raises(ui.DTypeError, match=r"dtype='float64' is not supported on device 'no_float64'.*supported there: float32"):
        ui.get(name)((4, 4), backend=xp, device="no_float64", dtype="float64", seed=0)
    w = ui.get(name)((4, 4), backend=xp, device="no_float64", dtype="float32", seed=0)
    assert w.device == xp.Device("no_float64")
    assert w.dtype == xp.float32


def test_no_x64_device_refuses_int64(xp: Any) -> None:
    with pytest.raises(ui.DTypeError, match="int64"):
        ui.zeros((2,), backend=xp, device="no_x64", dtype="int64")
    assert ui.zeros((2,), backend=xp, device="no_x64", dtype="int32").dtype == xp.int32


# --- seeds ----------------------------------------------------------------------------


def test_numpy_generator_seed_advances(xp: Any) -> None:
    rng = np.random.default_rng(5)
    first = host(ui.he_normal((16, 8), backend=xp, seed=rng))
    second = host(ui.he_normal((16, 8), backend=xp, seed=rng))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(first, host(ui.he_normal((16, 8), backend=xp, seed=np.random.default_rng(5))))


def test_foreign_seed_is_refused(xp: Any) -> None:
    with pytest.raises(ui.SeedError, match=r"array_api_strict backend, which draws on the host with NumPy"):
        ui.he_normal((2, 2), backend=xp, seed="0")


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
def test_the_namespaces_own_dtype_objects_are_accepted(xp: Any, dtype: str) -> None:
    """``dtype=xp.float64`` as ``dtype="float64"`` (the namespace's attribute of that name, found by identity)."""
    native = getattr(xp, dtype)
    assert ui.zeros((2,), backend=xp, dtype=native).dtype == native
    assert ui.canonical_dtype(native) == dtype


def test_an_impostor_named_like_a_namespace_dtype_is_refused() -> None:
    """Only the namespace's own object is read by its name: an object whose ``str`` merely looks like one is refused."""

    class Impostor:
        def __str__(self) -> str:
            return "numpy.float64"

    with pytest.raises(ui.DTypeError, match="is not supported"):
        ui.zeros((2,), dtype=Impostor())


@pytest.fixture
def strict_flags(xp: Any) -> Any:
    """``array_api_strict``'s flags, reset after the test."""
    yield xp.set_array_api_strict_flags
    xp.reset_array_api_strict_flags()


def test_a_namespace_older_than_2023_12_is_refused_by_name(xp: Any, strict_flags: Any) -> None:
    strict_flags(api_version="2022.12")
    with pytest.raises(ui.BackendError, match=r"array_api_strict implements the Array-API standard '2022.12'.*'2023.12' or later"):
        ui.he_normal((4, 4), backend=xp, seed=0)


def test_a_namespace_older_than_2023_12_is_refused_by_name_also_on_first_use(xp: Any, strict_flags: Any) -> None:
    """The backend asked for the inspection API when it was made, before the version check, and array_api_strict
    below 2023.12 raises a raw RuntimeError there (the test above meets a backend made earlier, under the default)."""
    from unit_init.backends.array_api_backend import ArrayApiBackend

    strict_flags(api_version="2022.12")
    fresh = ArrayApiBackend(xp)
    with pytest.raises(ui.BackendError, match=r"standard '2022.12'.*'2023.12' or later"):
        fresh.resolve_device(None)
    strict_flags(api_version="2023.12")
    assert fresh.resolve_device(None) == xp.Device("CPU_DEVICE")


def test_the_2023_12_standard_draws_native_and_portable(xp: Any, strict_flags: Any) -> None:
    """2023.12 takes no Python scalars in bitwise functions: the portable stream's words use 0-d arrays."""
    expected = ui.he_normal((4, 4), backend=xp, seed=0, rng="portable")
    strict_flags(api_version="2023.12")
    assert np.array_equal(host(ui.he_normal((4, 4), backend=xp, seed=0, rng="portable")), host(expected))
    assert ui.he_normal((4, 4), backend=xp, seed=0).shape == (4, 4)


def test_orthogonal_without_the_linalg_extension_is_a_backend_error(xp: Any, strict_flags: Any) -> None:
    strict_flags(enabled_extensions=())
    with pytest.raises(ui.BackendError, match=r"needs a QR decomposition \(linalg.qr\), which the array_api_strict backend's namespace lacks"):
        ui.orthogonal((4, 4), backend=xp, seed=0)


@pytest.mark.parametrize("rng", ["native", "portable"])
def test_sparse_on_a_device_without_int64_ranks_its_keys_on_the_host(xp: Any, rng: str) -> None:
    """argsort's int64 indices: array_api_strict raised its own ``ValueError`` on its ``no_x64`` device, then a
    DTypeError, where every other initializer draws in float32 there (helper 168). Its keys are ranked by NumPy on the
    host, the mask moved back: the values of the default device's draw."""
    drawn = ui.sparse((64, 32), sparsity=0.5, backend=xp, device="no_x64", rng=rng, seed=0)
    assert drawn.device == xp.Device("no_x64")
    expected = ui.sparse((64, 32), sparsity=0.5, backend=xp, rng=rng, seed=0)
    assert bool(xp.all(xp.asarray(drawn, device=expected.device) == expected))


# --- what a campaign over dask, pydata sparse and ndonnx found ----------------------------


@pytest.mark.parametrize(("mean", "stddev", "lower", "upper", "shape"), [(100.0, 1e-5, -2.0, 2.0, (64, 64)), (5.0, 0.01, -0.5, 4.0, (512, 512))])
def test_truncated_normals_are_the_numpy_backends_values_where_numpy_redraws_on_the_scaled_grid(
    xp: Any, mean: float, stddev: float, lower: float, upper: float, shape: tuple[int, int]
) -> None:
    """NumPy re-draws values outside the output grid's bounds; the host draw is NumPy's, so these agree (3081 of 4096 did not)."""
    spec = ui.BoundedNormal(mean, stddev, mean + lower * stddev, mean + upper * stddev)
    np.testing.assert_array_equal(host(spec(shape, backend=xp, seed=2)), spec(shape, backend="numpy", seed=2))


def _namespace_without(xp: Any, *names: str) -> Any:
    """A copy of the Array-API namespace ``xp`` lacking ``names`` (as dask lacks float16, pydata sparse arange)."""
    import types

    fake = types.ModuleType(f"lacking_{'_'.join(names)}")
    fake.__dict__.update({key: value for key, value in vars(xp).items() if key not in names and not key.startswith("__")})
    fake.__array_api_version__ = xp.__array_api_version__
    return fake


@pytest.mark.parametrize("name", ["asarray", "full", "eye"])
def test_a_namespace_whose_creation_functions_take_no_device_is_refused_before_any_seed(name: str) -> None:
    """A namespace claiming the standard whose ``asarray``/``full``/``eye`` lack ``device=`` raised the raw
    ``TypeError`` of the keyword from deep inside a draw; now a ``BackendError`` naming the function, in the checks."""
    from array_api_compat import numpy as compat_numpy

    namespace = _namespace_without(compat_numpy)
    setattr(namespace, name, {"asarray": lambda obj, dtype=None, copy=None: np.asarray(obj, dtype=dtype),
                              "full": lambda shape, fill_value, dtype=None: np.full(shape, fill_value, dtype=dtype),
                              "eye": lambda n, m=None, k=0, dtype=None: np.eye(n, m, k, dtype=dtype)}[name])
    ui.set_seed(5)
    with pytest.raises(ui.BackendError, match=rf"{namespace.__name__}\.{name}\(\) takes no device= keyword"):
        ui.zeros((2, 2), backend=namespace)
    with pytest.raises(ui.BackendError, match="device="):
        ui.he_normal((2, 2), backend=namespace)
    after_refusals = ui.he_normal((2, 2))
    ui.set_seed(5)
    np.testing.assert_array_equal(after_refusals, ui.he_normal((2, 2)))  # the refused draw took no seed


def test_an_inspection_api_that_raises_is_a_backend_error() -> None:
    from array_api_compat import numpy as compat_numpy

    namespace = _namespace_without(compat_numpy)

    def broken() -> None:
        raise RuntimeError("no inspection here")

    namespace.__array_namespace_info__ = broken
    with pytest.raises(ui.BackendError, match=r"__array_namespace_info__\(\) raised RuntimeError: 'no inspection here'"):
        ui.zeros((2,), backend=namespace)


def test_like_reads_a_dtype_the_namespace_lacks_nowhere() -> None:
    """A namespace without float16 (dask's) read float64 arrays as float16: NumPy's dtype equals ``None``."""
    from array_api_compat import numpy as compat_numpy

    from unit_init.backends.array_api_backend import ArrayApiBackend

    backend = ArrayApiBackend(_namespace_without(compat_numpy, "float16", "bfloat16"))
    assert backend.dtype_of(np.zeros(2)) == "float64"
    assert backend.dtype_of(np.zeros(2, np.float32)) == "float32"


def test_a_function_the_namespace_lacks_is_a_backend_error_naming_it(xp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """pydata sparse has no ``arange`` (portable streams, Dirac) and no ``count_nonzero`` (diagnose): raw AttributeErrors before."""
    monkeypatch.delattr(xp, "arange")
    monkeypatch.delattr(xp, "count_nonzero")
    with pytest.raises(ui.BackendError, match=r"drawing HeNormal on the array_api_strict backend needs arange\(\) from its Array-API namespace"):
        ui.he_normal((4, 4), backend=xp, rng="portable", seed=0)
    with pytest.raises(ui.BackendError, match=r"diagnose's network on the array_api_strict backend needs count_nonzero\(\)"):
        ui.diagnose("he_normal", depth=2, width=8, batch=4, backend=xp)
    assert ui.he_normal((4, 4), backend=xp, seed=0).shape == (4, 4)  # what needs neither still draws
    monkeypatch.delattr(xp, "uint32")  # a dtype, not a function: said so
    with pytest.raises(ui.BackendError, match=r"needs the dtype uint32 from its Array-API namespace"):
        ui.he_uniform((4, 4), backend=xp, rng="portable", seed=0)


def test_to_numpy_takes_a_librarys_own_conversion_else_refuses_typed() -> None:
    from array_api_compat import numpy as compat_numpy

    from unit_init.backends.array_api_backend import ArrayApiBackend

    class Sparse:  # pydata sparse: no DLPack, np.asarray refuses to densify, todense() does
        def todense(self) -> np.ndarray:
            return np.ones(3, np.float32)

        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            raise RuntimeError("Cannot convert a sparse array to dense automatically")

    class Opaque:  # ndonnx without its unwrap_numpy: NumPy makes a 0-d object array of it
        pass

    backend = ArrayApiBackend(compat_numpy)
    np.testing.assert_array_equal(backend.to_numpy(Sparse()), np.ones(3, np.float32))
    with pytest.raises(ui.BackendError, match="cannot be read into NumPy"):
        backend.to_numpy(Opaque())


def test_number_parameters_may_be_0d_arrays_of_any_array_api_library(xp: Any) -> None:
    """The standard defines no ``item()``: ``__index__`` and ``__float__`` read them (a ParameterError before)."""
    assert ui.RandomNormal(0.0, xp.asarray(0.5)) == ui.RandomNormal(0.0, 0.5)
    assert ui.RandomUniform(xp.asarray(-1), xp.asarray(2)) == ui.RandomUniform(-1, 2)
    with pytest.raises(ui.ParameterError, match="stddev="):
        ui.RandomNormal(0.0, xp.asarray(True))


@pytest.fixture(scope="module")
def dask_array() -> Any:
    return pytest.importorskip("dask.array", reason="dask is not installed (pip install 'dask[array]')")


@pytest.mark.parametrize("shape", [(65536, 0), (0, 65536), (4096, 0, 3), (0,)])
@pytest.mark.parametrize("name", ["he_normal", "identity", "orthogonal", "zeros"])
def test_dask_empty_arrays_of_any_shape(dask_array: Any, name: str, shape: tuple[int, ...]) -> None:
    """dask's own ``zeros((65536, 0))`` divides by zero sizing its chunks; an empty draw was that error, raw."""
    try:
        values = ui.get(name)(shape, backend=dask_array, seed=0, layout=ui.Layout(0, -1) if len(shape) > 1 else None)
    except ui.ShapeError:  # identity of rank 3, a rank-1 orthogonal: refused by shape, as on NumPy
        with pytest.raises(ui.ShapeError):
            ui.get(name)(shape, backend="numpy", seed=0, layout=ui.Layout(0, -1) if len(shape) > 1 else None)
        return
    assert values.shape == shape
    assert values.compute().shape == shape


def test_dask_module_object_wide_identity_and_chunked_qr(dask_array: Any) -> None:
    """``backend=dask.array`` (the module) was refused; a wide eye could not be computed (dask issue 11937); dask's QR
    refuses matrices of several column blocks (portable float32 pairs), raw ValueError before."""
    assert ui.zeros((2,), backend=dask_array).compute().tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(ui.identity((4, 5), backend="dask.array").compute(), np.eye(4, 5, dtype=np.float32))
    ours = np.asarray(ui.orthogonal((6, 4), backend=dask_array, rng="portable", seed=0))
    np.testing.assert_allclose(ours, ui.orthogonal((6, 4), backend="numpy", rng="portable", seed=0), atol=1e-5)
    batched = np.asarray(ui.orthogonal((4, 6, 6), layout=ui.Layout(1, 2, 0), backend=dask_array, seed=0))
    np.testing.assert_allclose(batched @ np.swapaxes(batched, 1, 2), np.broadcast_to(np.eye(6), (4, 6, 6)), atol=1e-5)
    assert ui.he_normal((3, 3), like=dask_array.zeros(2), backend="numpy", seed=0).dtype == np.float64


def test_initialize_draws_a_pytree_of_array_api_arrays_on_their_namespace_and_device(xp: Any) -> None:
    """``ui.initialize`` left array_api_strict (and dask) leaves as they were, with only a "rule matched no parameter"
    warning (helper 168). They are drawn as ``like=`` each would be: its namespace, device and dtype."""
    params = {"fc": {"kernel": xp.zeros((256, 128)), "bias": xp.zeros(128, device=xp.Device("device1"))}, "scale": np.zeros(4, np.float32)}
    new, report = ui.initialize(params, {"*/kernel": ui.HeNormal(), "*/bias": ui.Ones(), "scale": ui.Ones()}, seed=0)
    assert dict(report.applied) == {"fc/kernel": 0, "fc/bias": 1, "scale": 2}
    kernel, bias = new["fc"]["kernel"], new["fc"]["bias"]
    assert type(kernel) is type(params["fc"]["kernel"])
    assert bias.device == xp.Device("device1")
    assert kernel.dtype == params["fc"]["kernel"].dtype == xp.float64  # the namespace's default, kept
    assert bool(xp.all(bias == 1))
    assert float(xp.var(kernel)) == pytest.approx(2 / 256, rel=0.03)  # he_normal: Var = 2 / fan_in, 32,768 values
    assert isinstance(new["scale"], np.ndarray)


def test_diagnose_on_dask_reads_the_lazy_network_once_on_the_host(dask_array: Any) -> None:
    """Each statistic read computed the dask graph from the input again: a depth-20 network took 50 s, the CLI's
    default depth 50 did not finish in 200 s (helper 168). A lazy backend's arrays are computed once and diagnosed on
    the host: NumPy's statistics of the same weights."""
    import unit_init.backends.array_api_backend as module

    computed = []
    original = module.ArrayApiBackend.to_numpy

    def counted(self: Any, array: Any) -> Any:
        computed.append(1)
        return original(self, array)

    module.ArrayApiBackend.to_numpy = counted  # type: ignore[method-assign]
    try:
        lazy = ui.diagnose(ui.HeNormal(), activation="relu", depth=20, width=64, batch=32, backend="dask.array", seed=0)
    finally:
        module.ArrayApiBackend.to_numpy = original  # type: ignore[method-assign]
    eager = ui.diagnose(ui.HeNormal(), activation="relu", depth=20, width=64, batch=32, backend="numpy", seed=0)
    assert lazy.activation_std == pytest.approx(eager.activation_std, rel=1e-6)
    assert lazy.gradient_std == pytest.approx(eager.gradient_std, rel=1e-6)
    assert len(computed) == 1 + 20 + 2  # diagnose's check of an empty draw, then the weights, the input and the probe, each once
