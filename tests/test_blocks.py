"""Large draws: NumPy's block-parallel path (the law, the block seeds, the thread count) and torch's at that size.

The statistics cells of the matrix draw 2^18 values, below
:data:`unit_init.sampling.blocks.PARALLEL_MIN`; these draw more than a million
values, over a partial last block, so the block path itself is checked. torch
draws large arrays whole (its ops are multi-threaded by OpenMP); its values
must not depend on torch's thread count either.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import unit_init as ui
from stats import check_sample
from targets import load
from unit_init.sampling import blocks

SHAPE = (1024, 1030)  # 1,054,720 elements: four full blocks and a partial fifth
LARGE = ["numpy", "torch"]
LAWS = [ui.HeNormal(), ui.GlorotUniform(), ui.RandomNormal(0.5, 2.0), ui.TruncatedNormal(-1.0, 0.3)]


def test_the_shape_spans_several_blocks_and_a_partial_one() -> None:
    size = SHAPE[0] * SHAPE[1]
    assert size >= blocks.PARALLEL_MIN
    assert blocks.block_count(size) == 5
    assert size % blocks.BLOCK != 0


@pytest.mark.parametrize("backend", LARGE)
@pytest.mark.parametrize("spec", LAWS, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_large_draws_follow_the_law(backend: str, spec: ui.Initializer, dtype: str) -> None:
    target = load("torch:cpu" if backend == "torch" else backend)
    values = target.values(target.draw(spec, SHAPE, dtype=dtype, seed=3))
    assert values.shape == SHAPE
    check_sample(values, spec.distribution_for(SHAPE), dtype)


def test_blocks_are_independent() -> None:
    """Every block, the partial last one included, is uncorrelated with the start of every other (the same stream in
    two blocks gives r = 1: a last block seeded as the one before it passed a check of the full blocks only)."""
    target = load("numpy")
    flat = target.values(target.draw(ui.RandomNormal(0.0, 1.0), SHAPE, seed=0)).ravel()
    cut = [flat[start : start + blocks.BLOCK] for start in range(0, flat.size, blocks.BLOCK)]
    for i, a in enumerate(cut):
        for b in cut[i + 1 :]:
            n = min(a.size, b.size)
            assert abs(np.corrcoef(a[:n], b[:n])[0, 1]) < 5 / np.sqrt(n)


def test_block_i_is_drawn_from_the_ith_stream_the_generator_hands_out() -> None:
    """Block ``i`` holds the draw of the ``i``-th PCG64 generator seeded from the call's generator (128 bits each,
    :meth:`NumpyBackend.block_streams`): the native values of a large draw change only with a CHANGELOG entry."""
    flat = ui.RandomNormal(0.0, 1.0)(SHAPE, backend="numpy", seed=0).ravel()
    words = np.random.default_rng(0).integers(0, 1 << 32, size=(blocks.block_count(flat.size), 4), dtype=np.uint64)
    for i, row in enumerate(words.tolist()):
        block = flat[i * blocks.BLOCK : (i + 1) * blocks.BLOCK]
        expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence(row))).standard_normal(block.size, dtype=np.float32)
        np.testing.assert_array_equal(block, expected)


@pytest.mark.parametrize("spec", LAWS, ids=lambda s: type(s).__name__)
def test_numpy_values_do_not_depend_on_the_thread_count(spec: ui.Initializer, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = []
    for threads in (1, 2, 5):  # as many cores as the block filling sees
        monkeypatch.setattr(blocks, "cpu_count", lambda n=threads: n)
        draws.append(spec(SHAPE, backend="numpy", seed=11))
    for other in draws[1:]:
        np.testing.assert_array_equal(draws[0], other)


@pytest.mark.parametrize("spec", LAWS, ids=lambda s: type(s).__name__)
def test_torch_values_do_not_depend_on_the_thread_count(spec: ui.Initializer) -> None:
    load("torch:cpu")
    import torch

    before = torch.get_num_threads()
    draws = []
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            draws.append(spec(SHAPE, backend="torch", seed=11))
    finally:
        torch.set_num_threads(before)
    for other in draws[1:]:
        assert torch.equal(draws[0], other)


def _generator(backend: str, seed: int) -> Any:
    if backend == "torch":
        import torch

        return torch.Generator().manual_seed(seed)
    return np.random.default_rng(seed)


@pytest.mark.parametrize("backend", LARGE)
def test_a_native_generator_seeds_the_blocks_and_advances(backend: str) -> None:
    target = load("torch:cpu" if backend == "torch" else backend)
    generator = _generator(backend, 5)
    first = target.values(ui.he_normal(SHAPE, backend=backend, seed=generator))
    second = target.values(ui.he_normal(SHAPE, backend=backend, seed=generator))
    assert not np.array_equal(first, second), "the generator advances (numpy: by the block seeds it hands out)"
    if backend == "torch":  # an int seed is torch.Generator().manual_seed(seed)
        np.testing.assert_array_equal(first, target.values(ui.he_normal(SHAPE, backend=backend, seed=5)))


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_every_block_is_filled_once(threads: int) -> None:
    size = 5 * blocks.BLOCK + 3
    seen: list[tuple[int, int, int]] = []
    blocks.for_each_block(size, lambda index, block: seen.append((index, block.start, block.stop)), threads)
    expected = [(i, i * blocks.BLOCK, min((i + 1) * blocks.BLOCK, size)) for i in range(6)]
    assert sorted(seen) == expected


@pytest.mark.parametrize("failing", [0, 5])
def test_an_error_in_any_block_reaches_the_caller(failing: int) -> None:
    def fill(index: int, block: slice) -> None:
        if index == failing:
            msg = f"block {index}"
            raise ValueError(msg)

    with pytest.raises(ValueError, match=f"block {failing}"):
        blocks.for_each_block(6 * blocks.BLOCK, fill, 3)


FORKED_CHILD = """
import multiprocessing as mp, sys
import numpy as np, unit_init as ui

def child(queue):
    native = ui.he_normal((1024, 1030), seed=1)
    portable = ui.he_normal((1024, 1030), seed=1, rng="portable")
    queue.put((float(native.std()), float(portable.std())))

if __name__ == "__main__":
    parent = ui.he_normal((1024, 1030), seed=1), ui.he_normal((1024, 1030), seed=1, rng="portable")  # the pool exists now
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    process.join(60)
    if process.is_alive():
        process.kill()
        sys.exit("the forked child hung")
    assert queue.get(timeout=5) == (float(parent[0].std()), float(parent[1].std()))
    print("ok")
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_a_forked_child_draws_large_arrays_with_a_pool_of_its_own(tmp_path: Any) -> None:
    """The parent's pool threads do not exist in a forked child (a DataLoader worker): its large draws must not wait for them."""
    import subprocess
    import sys

    script = tmp_path / "forked.py"
    script.write_text(FORKED_CHILD)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


AFTER_MAIN_EXITS = """
import threading, time
import unit_init as ui

def late() -> None:
    time.sleep(0.5)  # the main thread has finished: the interpreter is shutting down and refuses new threads
    native = ui.he_normal((1024, 1024), seed=0)  # block-parallel
    portable = ui.he_normal((512, 512), seed=0, rng="portable")  # chunks on the pool
    print(native.shape, portable.shape, flush=True)

threading.Thread(target=late).start()
"""


@pytest.mark.parametrize("pool_first", [False, True])
def test_large_draws_still_work_while_the_interpreter_shuts_down(tmp_path: Any, pool_first: bool) -> None:
    """A thread drawing after the main thread ended cannot start pool threads: the calling thread fills every block itself."""
    import subprocess
    import sys

    script = tmp_path / "late.py"
    script.write_text(("import unit_init as ui; ui.he_normal((1024, 1024), seed=1)\n" if pool_first else "") + AFTER_MAIN_EXITS)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Error" not in result.stderr, result.stderr[-2000:]
    assert result.stdout.strip() == "(1024, 1024) (512, 512)"


def test_an_error_in_one_thread_stops_the_others() -> None:
    """An exception or a Ctrl-C in the thread that called stops the parallel loop there: the pool's threads stop after
    the item each holds (they filled every block left, seconds of a large draw, before the interrupt was raised)."""
    import time

    from unit_init.threads import for_each

    done = []

    def work(item: int) -> None:
        if item == 0:
            time.sleep(0.05)  # the helper thread is busy by then
            raise KeyboardInterrupt
        time.sleep(0.002)
        done.append(item)

    with pytest.raises(KeyboardInterrupt):
        for_each(range(400), work, threads=2)
    assert len(done) < 100, len(done)  # about 25 (0.05 s of 2 ms items), 399 before


def test_an_error_in_a_pool_thread_stops_the_loop_and_is_raised() -> None:
    import threading
    import time

    from unit_init.threads import for_each

    done = []

    def work(item: int) -> None:
        if threading.current_thread() is not threading.main_thread():
            raise ValueError(f"pool thread at item {item}")  # the first item a pool thread takes
        time.sleep(0.002)
        done.append(item)

    with pytest.raises(ValueError, match="pool thread at item"):
        for_each(range(400), work, threads=2)
    assert len(done) < 100, len(done)


def test_a_loop_started_while_the_pool_takes_work_on_the_same_thread_runs_there_and_finishes() -> None:
    """A signal handler that draws, run while its thread was inside the pool's ``submit`` (which holds a lock of its
    own that is not re-entrant), started a parallel loop that called ``submit`` again and waited for that lock for
    ever (helper 150, with SIGALRM every 20 ms). Here the handler's loop is run inside ``submit`` with its lock held."""
    import threading

    from unit_init import threads

    threads.for_each(range(4), lambda _: None, threads=2)  # the pool exists
    pool = threads._pool
    assert pool is not None
    submit, inner, outer = pool.submit, [], []

    def interrupted_submit(*args: Any, **kwargs: Any) -> Any:
        with pool._shutdown_lock:  # type: ignore[attr-defined]  # held by submit where a signal lands
            threads.for_each(range(8), inner.append, threads=2)
        return submit(*args, **kwargs)

    pool.submit = interrupted_submit  # type: ignore[method-assign]
    try:
        loop = threading.Thread(target=threads.for_each, args=(range(8), outer.append, 2), daemon=True)
        loop.start()
        loop.join(timeout=30)
        assert not loop.is_alive(), "the loop started inside submit waits for the lock submit holds"
    finally:
        pool.submit = submit  # type: ignore[method-assign]
    assert sorted(inner) == sorted(outer) == list(range(8))


def test_a_draw_in_a_signal_handler_while_draws_run_finishes(tmp_path: Any) -> None:
    """The reproducer of helper 150, shortened: a large draw in a SIGALRM handler, every 5 ms, while large draws run."""
    import subprocess
    import sys

    script = tmp_path / "handler.py"
    script.write_text(
        "import signal, unit_init as ui\n"
        "ui.he_normal((1024, 1024), seed=1)\n"
        "busy = []\n"
        "def handler(*_):\n"
        "    if not busy:  # a signal during the handler's own draw is let go, not nested\n"
        "        busy.append(1)\n"
        "        ui.he_normal((1024, 1024), seed=2)\n"
        "        busy.clear()\n"
        "signal.signal(signal.SIGALRM, handler)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.005, 0.005)\n"
        "for _ in range(150):\n"
        "    ui.he_normal((1024, 1024), seed=1, rng='portable' if _ % 2 else 'native')\n"
        "signal.setitimer(signal.ITIMER_REAL, 0)\n"
        "print('finished')\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert result.stdout.strip() == "finished", result.stderr[-2000:]
