"""Seeds, the global stream, the backend context and UNIT_INIT_BACKEND (CONTRACT §1, §4)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest
from tests.targets import load

import unit_init as ui


def test_int_seeds_are_bit_reproducible_and_distinct() -> None:
    for name in ui.CATALOGUE:
        a, b = ui.get(name)((16, 8), seed=7), ui.get(name)((16, 8), seed=7)
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ui.he_normal((16, 8), seed=7), ui.he_normal((16, 8), seed=8))


def test_an_int_seed_on_numpy_is_the_pcg64_generator_of_that_int() -> None:
    """The documented stream: ``numpy.random.Generator(PCG64(seed))``, drawn as ``standard_normal`` / ``random``."""
    law = ui.RandomNormal(0.5, 2.0)
    expected = np.random.Generator(np.random.PCG64(2**40 + 9)).standard_normal((6, 5), dtype=np.float32) * np.float32(2.0) + np.float32(0.5)
    np.testing.assert_array_equal(law((6, 5), backend="numpy", seed=2**40 + 9), expected)
    uniform = np.random.Generator(np.random.PCG64(3)).random((7,), dtype=np.float32)
    np.testing.assert_array_equal(ui.RandomUniform(0.0, 1.0)((7,), backend="numpy", seed=3), uniform)


def test_int_seeds_reproduce_across_processes() -> None:
    code = "import unit_init as ui; print(ui.glorot_uniform((3, 3), seed=123).tobytes().hex())"
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(outputs) == 1
    assert outputs.pop().strip() == ui.glorot_uniform((3, 3), seed=123).tobytes().hex()


FORKED_SIBLINGS = """
import multiprocessing as mp, sys
import unit_init as ui
from unit_init import seeds

def child(queue):
    queue.put(ui.he_normal((4,)).tobytes())

def children(count):
    context = mp.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=child, args=(queue,)) for _ in range(count)]
    with seeds._STREAM._lock:  # held by "another thread" at the fork: a child must not wait for it
        for process in processes:
            process.start()
    for process in processes:
        process.join(20)
        if process.is_alive():
            process.kill()
            sys.exit("a forked child hung on the global stream's lock")
    return {queue.get(timeout=5) for _ in processes}

if __name__ == "__main__":
    ui.he_normal((4,))  # the stream exists in the parent before the fork
    print(len(children(4)))
    ui.set_seed(5)
    drawn = children(3)
    print(len(drawn), drawn == {ui.he_normal((4,)).tobytes()})
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_forked_children_get_their_own_stream_unless_set_seed_chose_it(tmp_path: Any) -> None:
    """Unseeded draws differ between forked siblings (fresh entropy, as Python's random), and a child never waits for a lock
    held at the fork; after ``set_seed`` every child continues the chosen stream, as the parent does."""
    script = tmp_path / "siblings.py"
    script.write_text(FORKED_SIBLINGS)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["4", "1", "True"]


def test_spec_seed_is_the_default_and_call_seed_wins() -> None:
    spec = ui.HeNormal(seed=3)
    np.testing.assert_array_equal(spec((4, 4)), spec((4, 4)))
    np.testing.assert_array_equal(spec((4, 4), seed=9), ui.he_normal((4, 4), seed=9))


@pytest.mark.parametrize("seed", [np.int64(5), np.array(5), np.array([5]), 5.0])
def test_a_spec_takes_the_seeds_a_call_takes(seed: Any) -> None:
    """A spec read a 0-d array (and a 0-d tensor of JAX or torch, not TensorFlow's) as the int it holds, where a call's
    ``seed=`` refuses it: the Keras adapter took one on two backends of three. Both take ints and NumPy integers only."""
    taken = isinstance(seed, np.integer)
    for make in (lambda: ui.HeNormal(seed=seed)((4, 4)), lambda: ui.HeNormal()((4, 4), seed=seed)):
        if taken:
            np.testing.assert_array_equal(make(), ui.he_normal((4, 4), seed=5))
        else:
            with pytest.raises(ui.SeedError):
                make()
    if taken:
        assert type(ui.HeNormal(seed=seed).seed) is int


def test_set_seed_makes_unseeded_calls_reproducible_in_order() -> None:
    ui.set_seed(42)
    first = [ui.he_normal((4, 4)), ui.random_uniform((3,)), ui.orthogonal((4, 4))]
    ui.set_seed(42)
    second = [ui.he_normal((4, 4)), ui.random_uniform((3,)), ui.orthogonal((4, 4))]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], ui.he_normal((4, 4)))


def test_a_refused_initialize_takes_no_global_seed() -> None:
    """``initialize`` draws its root seed after every parameter is checked; unseeded, it still takes exactly one."""
    ui.set_seed(0)
    reference = ui.he_normal((4, 4))
    ui.set_seed(0)
    with pytest.raises(ui.ParameterError, match="round to 0"):  # values too small for float16
        ui.initialize({"w": np.zeros((4, 4), np.float16)}, {"*": ui.RandomNormal(stddev=1e-30)})
    with pytest.raises(ui.DTypeError):  # a random initializer on an int leaf
        ui.initialize({"w": np.zeros((4, 4), np.int32)}, {"*": ui.HeNormal()})
    np.testing.assert_array_equal(ui.he_normal((4, 4)), reference)

    params, rules = {"fc": {"kernel": np.zeros((4, 3), np.float32), "bias": np.zeros(3, np.float32)}}, {"*": ui.HeNormal()}
    ui.set_seed(5)
    first, second = ui.seeds.normalize_seed(None), ui.seeds.normalize_seed(None)
    ui.set_seed(5)
    unseeded = ui.initialize(params, rules).params  # the root is the stream's next seed, `first`
    assert ui.seeds.normalize_seed(None) == second  # and nothing more is taken
    seeded = ui.initialize(params, rules, seed=first).params
    np.testing.assert_array_equal(unseeded["fc"]["kernel"], seeded["fc"]["kernel"])


@pytest.mark.parametrize("options", [{}, {"rng": "portable"}, {"rng": "portable", "region": (slice(0, 32),)}])
def test_a_draw_the_memory_guard_refuses_takes_no_global_seed(options: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard ran after the seed was taken: set_seed(0) then a refused draw moved every later unseeded draw."""
    ui.set_seed(0)
    reference = ui.he_normal((4, 4))
    ui.set_seed(0)
    with pytest.raises(ui.ResourceError):
        ui.he_normal((10**6, 10**6), dtype="float64")  # beyond this machine's memory
    monkeypatch.setenv("UNIT_INIT_MAX_BYTES", "1K")
    with pytest.raises(ui.ResourceError):
        ui.he_normal((64, 64), **options)
    monkeypatch.delenv("UNIT_INIT_MAX_BYTES")
    np.testing.assert_array_equal(ui.he_normal((4, 4)), reference)


def test_a_refused_torch_initialize_takes_no_global_seed() -> None:
    torch = pytest.importorskip("torch")
    import unit_init.torch

    ui.set_seed(0)
    reference = ui.he_normal((4, 4))
    ui.set_seed(0)
    with pytest.raises(ui.ParameterError, match="round to 0"):
        unit_init.torch.initialize(torch.nn.Linear(4, 4), {"*weight": ui.RandomNormal(stddev=1e-60)})
    np.testing.assert_array_equal(ui.he_normal((4, 4)), reference)


@pytest.mark.parametrize("lock", ["stream", "pool"])
def test_an_unseeded_draw_in_a_signal_handler_never_waits_for_its_own_thread(lock: str) -> None:
    """A signal handler that draws unseeded (a periodic re-initialization) runs on the thread it interrupts, which may
    hold the global stream's lock, or the thread pool's while it makes the pool: plain locks hung that thread for good."""
    from unit_init import seeds, threads

    held = seeds._STREAM._lock if lock == "stream" else threads._pool_lock
    drawn = []

    def interrupted() -> None:
        with held:  # where the signal lands
            drawn.append(ui.he_normal((1024, 1024)).shape)  # unseeded, and large enough to fill blocks on two threads

    worker = threading.Thread(target=interrupted, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert drawn == [(1024, 1024)]


def test_native_generator_advances() -> None:
    generator = np.random.default_rng(0)
    a = ui.he_normal((8,), seed=generator)
    b = ui.he_normal((8,), seed=generator)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(ui.he_normal((8,), seed=np.random.default_rng(0)), a)


def test_use_backend_nests_and_restores() -> None:
    with ui.use_backend("numpy", dtype="float64"):
        assert ui.zeros((2,)).dtype == np.float64
        with ui.use_backend("np", dtype="float16"):
            assert ui.zeros((2,)).dtype == np.float16
        assert ui.zeros((2,)).dtype == np.float64
    assert ui.zeros((2,)).dtype == np.float32
    with pytest.raises(ui.BackendError), ui.use_backend("nope"):
        pass


def test_use_backend_is_reusable_reentrant_a_decorator_and_per_thread() -> None:
    """One ``use_backend`` object entered again, inside itself, as a decorator and from another thread at once."""
    float64, float16 = ui.use_backend("numpy", dtype="float64"), ui.use_backend("numpy", dtype="float16")
    for _ in range(2):
        with float64 as backend:
            assert backend.name == "numpy"
            with float16, float64:
                assert ui.zeros((1,)).dtype == np.float64
            assert ui.zeros((1,)).dtype == np.float64
        assert ui.zeros((1,)).dtype == np.float32

    @float16
    def drawn(depth: int) -> list[Any]:
        return [ui.zeros((1,)).dtype, *(drawn(depth - 1) if depth else [])]

    assert drawn(2) == [np.float16] * 3
    assert ui.zeros((1,)).dtype == np.float32
    seen: dict[str, Any] = {}
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with float16:
            inside.set()
            leave.wait(10)
            seen["other"] = ui.zeros((1,)).dtype

    with float64:
        thread = threading.Thread(target=other)
        thread.start()
        inside.wait(10)
        seen["main"] = ui.zeros((1,)).dtype
    leave.set()
    thread.join()
    assert seen == {"main": np.float64, "other": np.float16}
    assert ui.zeros((1,)).dtype == np.float32


def test_exiting_a_use_backend_block_that_is_not_the_innermost_is_refused() -> None:
    float64 = ui.use_backend("numpy", dtype="float64")
    with pytest.raises(ui.ParameterError, match="not the innermost use_backend block"):
        float64.__exit__(None, None, None)
    with ui.use_backend("numpy", dtype="float16"):
        with pytest.raises(ui.ParameterError, match="not the innermost"):
            float64.__exit__(None, None, None)
        assert ui.zeros((1,)).dtype == np.float16  # the open block is untouched
    assert ui.zeros((1,)).dtype == np.float32


def test_environment_variable_sets_the_default_backend() -> None:
    code = "import unit_init as ui; ui.zeros((1,))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={"UNIT_INIT_BACKEND": "nope", "PATH": ""})
    assert result.returncode != 0
    assert "BackendError" in result.stderr
    assert "comes from the environment variable UNIT_INIT_BACKEND='nope'" in result.stderr  # the call names no backend


def test_an_unavailable_backend_from_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("cupy is installed: not an unavailable backend here")
    monkeypatch.setenv("UNIT_INIT_BACKEND", "cupy")  # a known Array-API library
    with pytest.raises(ui.BackendUnavailableError, match="from the environment variable UNIT_INIT_BACKEND='cupy'"):
        ui.zeros((1,))
    with pytest.raises(ui.BackendUnavailableError) as passed:  # backend= given: the variable is not mentioned
        ui.zeros((1,), backend="cupy")
    assert "UNIT_INIT_BACKEND" not in str(passed.value)


def test_like_takes_dtype_from_the_array() -> None:
    existing = np.zeros((3,), np.float64)
    assert ui.he_normal((4, 4), like=existing).dtype == np.float64
    assert ui.he_normal((4, 4), like=existing, dtype="float16").dtype == np.float16


def test_a_native_seed_a_deterministic_draw_ignores_is_still_checked() -> None:
    """A batch of JAX keys is no seed for ``zeros`` either (it was accepted, though ``he_normal`` refused it); one key is."""
    load("jax:cpu")
    import jax

    keys = jax.random.split(jax.random.key(0), 3)
    with pytest.raises(ui.SeedError, match="shape \\(3,\\)"):
        ui.zeros((2, 2), backend="jax", seed=keys)
    assert ui.zeros((2, 2), backend="jax", seed=jax.random.key(0)).shape == (2, 2)


def test_use_backend_checks_the_device_and_the_dtype_at_the_with_line() -> None:
    """A typo fails on entry, not at the first draw inside the block (which may be much later)."""
    with pytest.raises(ui.DeviceError, match="device='cuda:7' is not available on the numpy backend"), ui.use_backend("numpy", device="cuda:7"):
        pytest.fail("entered")
    with pytest.raises(ui.DTypeError, match="dtype='float33' is not supported"), ui.use_backend("numpy", dtype="float33"):
        pytest.fail("entered")
    with ui.use_backend("numpy", device="cpu", dtype="float64"):
        assert ui.zeros((2,)).dtype == np.float64


def test_a_numpy_integer_type_that_is_no_number_is_a_seed_error() -> None:
    """``np.timedelta64`` subclasses ``np.signedinteger``: ``operator.index`` raised a raw ``TypeError``."""
    for call in (lambda: ui.he_normal((2, 2), seed=np.timedelta64(3)), lambda: ui.set_seed(np.timedelta64(3))):
        with pytest.raises(ui.SeedError, match="is not an int"):
            call()


def test_a_tentative_seed_is_given_back_only_if_the_stream_did_not_move_since() -> None:
    """A refused ``initialize`` gives its root seed back; a restart and a draw in between (another thread) recreated
    the state the give-back compared, and the stream handed that draw's seed out twice."""
    from unit_init.seeds import tentative_seed

    ui.set_seed(0)
    first, second = ui.he_normal((2,), seed=None), ui.he_normal((2,), seed=None)
    ui.set_seed(0)
    _, give_back = tentative_seed()
    give_back()
    np.testing.assert_array_equal(ui.he_normal((2,), seed=None), first)  # given back
    ui.set_seed(0)
    _, give_back = tentative_seed()  # the stream after it: as after set_seed(0) and one draw
    ui.set_seed(0)
    np.testing.assert_array_equal(ui.he_normal((2,), seed=None), first)  # the same state again, by another road
    give_back()  # the stream moved since: nothing is given back (the state compared was equal, and first came twice)
    np.testing.assert_array_equal(ui.he_normal((2,), seed=None), second)
