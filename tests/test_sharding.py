"""Sharded portable draws: each shard generated where it lives, equal to the unsharded draw (CONTRACT §7).

* **JAX**: a subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=4``
  shards a (8192, 8192) array over 4 host devices (rows, and a 2×2 mesh); it
  equals the unsharded portable draw, and every device holds exactly its
  shard (``addressable_shards`` buffer shapes and devices).
* **torch.distributed**: 2 and 4 gloo processes on 127.0.0.1 build DTensors
  with ``Shard(0)``, ``Shard(1)`` and ``Replicate()`` (and a 2×2 mesh);
  each local shard and the assembled tensor equal the single-process draw,
  and a column-sharded linear keeps the unsharded fans.

Subprocesses run with bounded timeouts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import unit_init as ui
from targets import FOUR_HOST_DEVICES

SRC = str(Path(__file__).resolve().parents[1] / "src")
TIMEOUT = 120


def _run(script: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> str:
    environment = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        env=environment, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


JAX_SCRIPT = """
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import unit_init as ui

devices = jax.devices()
assert len(devices) == 4, devices
shape = (8192, 8192)
for spec, partition, mesh_shape in [
    (ui.HeUniform(), P("x"), (4,)),
    (ui.HeNormal(), P("x", "y"), (2, 2)),
    (ui.TruncatedNormal(), P(None, "x"), (4,)),
]:
    names = ("x", "y")[: len(mesh_shape)]
    sharding = NamedSharding(Mesh(np.array(devices).reshape(mesh_shape), names), partition)
    sharded = spec(shape, sharding=sharding, seed=3, rng="portable")
    assert sharded.sharding == sharding
    wanted = sharding.addressable_devices_indices_map(shape)
    for shard in sharded.addressable_shards:
        expected = tuple(len(range(*s.indices(n))) for s, n in zip(wanted[shard.device], shape))
        assert shard.data.shape == expected, (shard.data.shape, expected)
        assert shard.data.devices() == {shard.device}
        assert shard.data.shape[0] * shard.data.shape[1] == shape[0] * shape[1] // 4
    whole = spec(shape, backend="jax", device=devices[0], seed=3, rng="portable")
    assert bool((sharded == jax.device_put(whole, sharding)).all()), type(spec).__name__
    print("ok", type(spec).__name__, partition)

# replicated: every device draws the whole array itself
replicated = ui.he_uniform((64, 32), sharding=NamedSharding(Mesh(np.array(devices), ("x",)), P()), seed=1, rng="portable")
assert all(s.data.shape == (64, 32) for s in replicated.addressable_shards)
print("ok replicated")
"""


@pytest.mark.slow
def test_jax_sharded_array_equals_the_unsharded_draw() -> None:
    pytest.importorskip("jax")
    out = _run(JAX_SCRIPT, {"XLA_FLAGS": FOUR_HOST_DEVICES, "JAX_PLATFORMS": "cpu"})
    assert out.count("ok") == 4, out


MEMORY_KIND_SCRIPT = """
import jax, numpy as np
from jax.sharding import NamedSharding, PartitionSpec as P
import unit_init as ui
import unit_init.jax

mesh = jax.make_mesh((4,), ("x",))
for kind in ("pinned_host", "unpinned_host", "device"):
    sharding = NamedSharding(mesh, P("x"), memory_kind=kind)
    drawn = ui.he_normal((8, 4), sharding=sharding, seed=0, rng="portable")
    assert drawn.sharding == sharding, (drawn.sharding, sharding)
    assert np.array_equal(np.asarray(drawn), np.asarray(ui.he_normal((8, 4), backend="jax", seed=0, rng="portable")))
    assert ui.zeros((8, 4), sharding=sharding).sharding.memory_kind == kind
    leaf = jax.ShapeDtypeStruct((4096, 1024), np.float32, sharding=sharding)  # drawn shard by shard in unit_init.jax.initialize
    params, _ = unit_init.jax.initialize({"kernel": leaf}, {"*": ui.HeNormal()}, seed=0, rng="portable")
    assert params["kernel"].sharding == sharding, params["kernel"].sharding
    print("ok", kind)
"""


def test_a_jax_sharding_with_a_host_memory_kind_places_the_shards_there() -> None:
    """``NamedSharding(..., memory_kind="pinned_host")`` raised JAX's bare "Memory kind mismatch" ``ValueError`` after
    every shard was drawn: the shards are now moved into that memory, as ``jax.device_put`` does."""
    pytest.importorskip("jax")
    out = _run(MEMORY_KIND_SCRIPT, {"XLA_FLAGS": FOUR_HOST_DEVICES, "JAX_PLATFORMS": "cpu"})
    assert out.count("ok") == 3, out


REFUSED_SHARD_SCRIPT = """
import os
os.environ.pop("UNIT_INIT_MAX_BYTES", None)  # the free memory (patched below) must be the limit
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import unit_init as ui
import unit_init.drawing
from unit_init.backends.jax_backend import JaxBackend

devices = jax.devices()
sharding = NamedSharding(Mesh(np.array(devices), ("x",)), P("x"))
host_free = JaxBackend.free_bytes
JaxBackend.free_bytes = lambda self, device: 1000 if device == devices[2] else host_free(self, device)  # the third device is full
drawn = []
sample = unit_init.drawing._sample
unit_init.drawing._sample = lambda call: drawn.append(call.target.device) or sample(call)
for seed in (None, 3):
    ui.set_seed(5)
    drawn.clear()
    try:
        ui.he_normal((4096, 2560), sharding=sharding, seed=seed, rng="portable")  # 2.6M values a shard: over 64 MiB, free memory is asked
    except ui.ResourceError as error:
        assert "shape=(1024, 2560)" in str(error), error
    else:
        raise AssertionError("the third shard fits nowhere and was drawn")
    assert drawn == [], drawn  # no shard was drawn before the third was refused
    after = ui.random_normal((4,))
    ui.set_seed(5)
    assert (ui.random_normal((4,)) == after).all(), "a refused sharded draw took the global stream's seed"
from unit_init.resources import estimate_bytes
SHARD = 1024 * 2560 * 4  # one shard's float32 output
PEAK = estimate_bytes(JaxBackend(), (1024, 2560), "float32", ui.HeNormal().distribution_for((4096, 2560)), portable=True)
JaxBackend.free_bytes = lambda self, device: PEAK + 5 * SHARD // 2  # the host's, which the four devices share: three fit
ui.set_seed(5)
drawn.clear()
try:
    ui.he_normal((4096, 2560), sharding=sharding, rng="portable")
except ui.ResourceError as error:
    assert "for the arrays checked before this one, which the call keeps" in str(error), error
else:
    raise AssertionError("four shards were drawn into the memory of three")
assert drawn == [], drawn  # refused before any shard was drawn: each was checked with the outputs of those before it
after = ui.random_normal((4,))
ui.set_seed(5)
assert (ui.random_normal((4,)) == after).all(), "a refused sharded draw took the global stream's seed"
JaxBackend.free_bytes = host_free
ui.set_seed(5)
drawn.clear()
sharded = ui.he_normal((4096, 2560), sharding=sharding, rng="portable")  # every shard fits: one seed, taken once
assert drawn == devices, drawn
ui.set_seed(5)
whole = ui.he_normal((4096, 2560), backend="jax", rng="portable")
assert bool((sharded == jax.device_put(whole, sharding)).all())
print("ok")
"""


def test_a_shard_refused_on_its_own_device_leaves_nothing_drawn_and_no_seed_taken() -> None:
    """Every shard is checked (its device's memory included, less the outputs of the shards before it where devices
    share it) before any is drawn or the global seed is taken."""
    pytest.importorskip("jax")
    assert _run(REFUSED_SHARD_SCRIPT, {"XLA_FLAGS": FOUR_HOST_DEVICES, "JAX_PLATFORMS": "cpu"}).strip() == "ok"


def test_jax_sharding_needs_portable_and_jax() -> None:
    jax = pytest.importorskip("jax")
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    with pytest.raises(ui.ParameterError, match="rng='portable'"):
        ui.he_normal((4, 4), sharding=sharding, seed=0)
    with pytest.raises(ui.ParameterError, match="backend='torch'"):
        ui.he_normal((4, 4), sharding=sharding, seed=0, rng="portable", backend="torch")
    with pytest.raises(ui.ParameterError, match=r"not a jax\.sharding\.Sharding"):
        ui.he_normal((4, 4), sharding="rows", seed=0, rng="portable")
    zeros = ui.zeros((4, 4), sharding=sharding)  # deterministic initializers need no portable stream
    np.testing.assert_array_equal(np.asarray(zeros), np.zeros((4, 4)))
    one = ui.he_normal((4, 4), sharding=sharding, seed=0, rng="portable")
    np.testing.assert_array_equal(np.asarray(one), np.asarray(ui.he_normal((4, 4), backend="jax", seed=0, rng="portable")))


WORLD_SCRIPT = """
import datetime, os, sys, torch, torch.distributed as dist
from unittest import mock
from unit_init.adapters.rules import Gated
import torch.multiprocessing as mp
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.tensor import Replicate, Shard, distribute_tensor
import unit_init as ui, unit_init.torch as init

def worker(rank, world, port):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))
    try:
        body(rank, world, init_device_mesh("cpu", (world,)))
        dist.barrier()
        if rank == 0:
            print("ok", world)
    finally:
        dist.destroy_process_group()

if __name__ == "__main__":
    world, port = int(sys.argv[1]), int(sys.argv[2])
    mp.start_processes(worker, args=(world, port), nprocs=world, start_method="spawn", join=True)
"""
"""A gloo process group of ``world`` CPU ranks (spawned) running ``body(rank, world, mesh)`` on each rank."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_world(body: str, world: int, tmp_path: Path) -> None:
    """Run ``body`` (the source of ``def body(rank, world, mesh)``) on ``world`` ranks; every rank must finish."""
    pytest.importorskip("torch.distributed")
    script = tmp_path / "world_worker.py"  # spawn re-imports __main__, so the worker lives in a file
    script.write_text(textwrap.dedent(body) + textwrap.dedent(WORLD_SCRIPT))
    environment = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(script), str(world), str(_free_port())],
        env=environment, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert f"ok {world}" in result.stdout


SHARDED_DRAWS = """
def body(rank, world, mesh):
    shape = (10, 7)  # uneven for 4 ranks
    for spec in (ui.HeNormal(), ui.GlorotUniform(), ui.TruncatedNormal(), ui.Orthogonal()):
        whole = spec(shape, backend="torch", seed=5, rng="portable", layout="torch")
        for placements in ([Shard(0)], [Shard(1)], [Replicate()]):
            d = spec(shape, device_mesh=mesh, placements=placements, seed=5, rng="portable", layout="torch")
            assert tuple(d.shape) == shape
            full = d.full_tensor()
            assert torch.equal(full, whole), (type(spec).__name__, placements)
            local = d.to_local()
            if placements[0] == Replicate():
                assert torch.equal(local, whole)
            else:
                dim = placements[0].dim
                chunk = -(-shape[dim] // world)
                expected = whole.narrow(dim, min(rank * chunk, shape[dim]), max(0, min(chunk, shape[dim] - rank * chunk)))
                assert torch.equal(local, expected), (rank, placements)
    # a column-sharded linear (torch layout (out, in), Shard(1) splits in_features): global fans
    spec = ui.HeUniform()
    w = spec((16, 32), device_mesh=mesh, placements=[Shard(1)], seed=0, rng="portable", layout="torch")
    assert w.to_local().shape == (16, 32 // world)
    assert spec.fans((16, 32), layout="torch").fan_in == 32
    bound = (6 / 32) ** 0.5
    assert w.to_local().abs().max() < bound and torch.equal(w.full_tensor(), spec((16, 32), backend="torch", seed=0, rng="portable", layout="torch"))
    # seed=None: each rank's global stream is its own, so replicas would differ (a helper's torchrun campaign)
    try:
        ui.he_normal((4, 4), device_mesh=mesh, placements=[Replicate()], rng="portable")
    except ui.ParameterError as error:
        assert "seed=None" in str(error), error
    else:
        raise AssertionError("device_mesh= drew with each rank's own global stream")
    assert ui.zeros((4, 4), device_mesh=mesh, placements=[Replicate()]).to_local().sum() == 0  # nothing drawn: no seed needed
    if world == 4:
        mesh2 = init_device_mesh("cpu", (2, 2))
        d = ui.he_normal((9, 6), device_mesh=mesh2, placements=[Shard(0), Shard(1)], seed=1, rng="portable")
        assert torch.equal(d.full_tensor(), ui.he_normal((9, 6), backend="torch", seed=1, rng="portable"))
"""


@pytest.mark.slow
@pytest.mark.parametrize("world", [2, 4])
def test_torch_dtensor_equals_the_single_process_draw(world: int, tmp_path: Path) -> None:
    _run_world(SHARDED_DRAWS, world, tmp_path)


ADAPTER_ON_DTENSORS = """
def body(rank, world, mesh):
    # drop-ins: a DTensor goes to torch's own function, which draws each rank's shard: torch's values and RNG
    for name, args in (("normal_", ()), ("uniform_", (-1.0, 1.0)), ("kaiming_uniform_", ()),
                       ("xavier_normal_", ()), ("orthogonal_", ()), ("kaiming_normal_", (0, "fan_in", "gelu"))):
        torch.manual_seed(0)
        ours = getattr(init, name)(distribute_tensor(torch.zeros(8, 6), mesh, [Shard(0)]), *args)
        after_ours = torch.rand(3)
        torch.manual_seed(0)
        own = getattr(torch.nn.init, name) if name != "kaiming_normal_" else None
        if own is None:  # torch has no gelu gain: its normal_ with the std kaiming would take
            theirs = torch.nn.init.normal_(distribute_tensor(torch.zeros(8, 6), mesh, [Shard(0)]), 0, init.calculate_gain("gelu") / 6 ** 0.5)
        else:
            theirs = own(distribute_tensor(torch.zeros(8, 6), mesh, [Shard(0)]), *args)
        assert torch.equal(ours.to_local(), theirs.to_local()), name
        assert torch.equal(after_ours, torch.rand(3)), name  # the generator advanced as torch's own call leaves it
    # init_ and initialize refuse a DTensor, typed, before anything is written
    try:
        init.init_(distribute_tensor(torch.zeros(8, 6), mesh, [Shard(0)]), ui.HeNormal(), seed=0)
    except ui.ParameterError as error:
        assert "DTensor" in str(error) and "device_mesh" in str(error), error
    else:
        raise AssertionError("init_ wrote a DTensor")
    # initialize writes each rank's block of the whole parameter: the unsharded module's values for the same seed
    rules = {"2.weight": ui.Orthogonal(), torch.nn.Linear: ui.HeNormal(), "*.bias": ui.RandomUniform(-0.1, 0.1)}
    for rng in ("native", "portable"):
        net = torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.Linear(9, 5), torch.nn.Linear(5, 7))
        plain = torch.nn.Sequential(torch.nn.Linear(6, 9), torch.nn.Linear(9, 5), torch.nn.Linear(5, 7))
        init.initialize(plain, rules, seed=7, rng=rng)
        for index, placement in ((1, Shard(0)), (2, Shard(1))):  # uneven chunks: 5 rows, 5 columns over 2 ranks
            for leaf in ("weight", "bias"):
                tensor = getattr(net[index], leaf).detach()
                shard = placement if tensor.dim() == 2 else Shard(0)
                setattr(net[index], leaf, torch.nn.Parameter(distribute_tensor(tensor, mesh, [shard])))
        init.initialize(net, rules, seed=7, rng=rng)
        for (name, ours), theirs in zip(net.named_parameters(), plain.parameters()):
            whole = ours.full_tensor() if hasattr(ours, "full_tensor") else ours
            assert torch.equal(whole, theirs), (rng, name)
    # rng="portable" draws each rank's block alone: a limit the whole table's portable draw exceeds (28 MiB with its
    # temporaries) lets each half through (14 MiB); conv weights (torch's (out, in, *window) against the canonical
    # (*window, in, out) draw), padding rows in and out of a rank's block, and a Gated spec's cut all equal the unsharded
    def built():
        torch.manual_seed(0)
        return torch.nn.ModuleDict({"table": torch.nn.Embedding(1024, 512, padding_idx=700), "conv": torch.nn.Conv2d(6, 5, 3),
                                    "rnn": torch.nn.LSTM(4, 3)})
    gated_rules = {"table.weight": ui.RandomNormal(), "conv.weight": ui.HeUniform(),
                   "rnn.weight_hh_l0": Gated(ui.Orthogonal(), gates=4), "*": ui.RandomUniform(-0.1, 0.1)}
    unsharded = init.initialize(built(), gated_rules, seed=3, rng="portable")[0]
    for leaf in ("table.weight", "conv.weight", "rnn.weight_hh_l0"):
        for placement in (Shard(0), Shard(1)):
            sharded = built()
            owner, name = leaf.split(".")
            setattr(sharded[owner], name, torch.nn.Parameter(distribute_tensor(getattr(sharded[owner], name).detach(), mesh, [placement])))
            limit = {"UNIT_INIT_MAX_BYTES": "20M"} if leaf == "table.weight" else {}
            with mock.patch.dict(os.environ, limit):
                init.initialize(sharded, gated_rules, seed=3, rng="portable")
                if limit:
                    try:
                        init.initialize(built(), gated_rules, seed=3, rng="portable")
                    except ui.ResourceError:
                        pass
                    else:
                        raise AssertionError("the whole table was drawn within the limit")
            for (param_name, ours), theirs in zip(sharded.named_parameters(), unsharded.parameters()):
                whole = ours.full_tensor() if hasattr(ours, "full_tensor") else ours
                assert torch.equal(whole, theirs), (leaf, placement, param_name)
    # without an int seed each rank would draw its own values: refused before anything is written
    before = net[0].weight.detach().clone()
    try:
        init.initialize(net, {"*": ui.Zeros()})
    except ui.ParameterError as error:
        assert "'1.weight' is a DTensor" in str(error) and "seed=" in str(error), error
    else:
        raise AssertionError("initialize wrote DTensors without a seed")
    assert torch.equal(net[0].weight, before), "a parameter was written before the refusal"
    # a parameter over a mesh of rank 0 alone (a pipeline stage): the other ranks hold none of it and write nothing, as
    # torch's own ops there do nothing (rank 1 raised a ParameterError while rank 0 wrote: a torchrun campaign)
    from torch.distributed.device_mesh import DeviceMesh
    stage = torch.nn.Linear(4, 4)
    stage.weight = torch.nn.Parameter(distribute_tensor(stage.weight.detach(), DeviceMesh("cpu", [0]), [Shard(0)]))
    _, report = init.initialize(stage, {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0, rng="portable")
    assert set(report.applied) == {"weight", "bias"}, report
    whole = init.initialize(torch.nn.Linear(4, 4), {"weight": ui.HeNormal(), "bias": ui.Zeros()}, seed=0, rng="portable")[0].weight
    if rank == 0:
        assert torch.equal(stage.weight.to_local(), whole)
    # the way docs/adapters/torch.md gives for one tensor: each rank draws its shard with the core API and copies it in
    param = net[1].weight
    w = ui.he_normal(param.shape, device_mesh=param.device_mesh, placements=param.placements, seed=0, rng="portable", layout="torch")
    with torch.no_grad():
        param.copy_(w)
    assert torch.equal(param.full_tensor(), ui.he_normal((5, 9), backend="torch", seed=0, rng="portable", layout="torch"))
"""


@pytest.mark.slow
def test_torch_adapter_on_dtensor_parameters(tmp_path: Path) -> None:
    """Drop-ins hand a DTensor (FSDP2's parameters) to torch's own function — each rank draws its shard, torch's
    values and generator — where a local draw held the whole tensor on every rank and then failed to copy;
    ``init_`` refuses one, typed; ``initialize`` writes each rank's block of the unsharded module's values (it raised
    torch's raw error after writing the parameters before it), and refuses to without an int seed."""
    _run_world(ADAPTER_ON_DTENSORS, 2, tmp_path)


def test_mesh_block_follows_dtensor_chunking() -> None:
    from types import SimpleNamespace

    from unit_init.backends.mesh import mesh_block

    shard = SimpleNamespace
    assert mesh_block((10, 7), [3], (4,), [shard(dim=0)]) == (slice(9, 10), slice(0, 7))
    assert mesh_block((10, 7), [1], (4,), [shard(dim=-1)]) == (slice(0, 10), slice(2, 4))
    assert mesh_block((9, 6), [1, 0], (2, 2), [shard(dim=0), shard(dim=1)]) == (slice(5, 9), slice(0, 3))
    assert mesh_block((3,), [3], (4,), [shard(dim=0)]) == (slice(3, 3),)
    for shape, dim in [((4, 4), 2), ((4, 4), -3), ((), 0)]:  # a dim the shape lacks: refused, never wrapped around
        with pytest.raises(ui.ParameterError, match="does not have"):
            mesh_block(shape, [0], (2,), [shard(dim=dim)])


def test_torch_mesh_errors() -> None:
    with pytest.raises(ui.ParameterError, match="go together"):
        ui.he_normal((4, 4), device_mesh=object(), seed=0, rng="portable")
    pytest.importorskip("torch")
    from torch.distributed.tensor import Shard

    with pytest.raises(ui.ParameterError, match=r"is not a torch\.distributed DeviceMesh"):
        ui.he_normal((4, 4), device_mesh=object(), placements=[Shard(0)], seed=0, rng="portable")
