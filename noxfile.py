"""Nox sessions: each backend tested alone in its own environment, plus everything together.

``nox -l`` lists them. PyTorch is always pinned to the CPU wheel ``torch==2.13.0``
so that pip never resolves a multi-GB CUDA build; TensorFlow comes as
``tensorflow-cpu``.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.sessions = ["tests_all", "lint", "typecheck"]

TORCH = "torch==2.13.0"
# backend -> (packages pinned first, extras of unit-init)
BACKENDS = {
    "numpy": ((), ()),
    "torch": ((TORCH,), ("torch",)),
    "tensorflow": ((), ("tensorflow-cpu",)),
    "jax": ((), ("jax", "flax", "haiku", "equinox")),
    "array_api": ((), ("array-api",)),
}
ALL_EXTRAS = ("torch", "tensorflow-cpu", "jax", "flax", "haiku", "equinox", "array-api", "keras", "plot", "notebook")
PYTEST = ("pytest", "-n", "2", "--dist", "loadgroup", "-p", "no:cacheprovider")


def _install(session: nox.Session, pins: tuple[str, ...], extras: tuple[str, ...]) -> None:
    if pins:
        session.install(*pins)
    session.install("-e", f".[{','.join(('test', *extras))}]")
    if "torch" in extras:
        # muP's reference package, for tests/test_scaled.py: without its dependencies, which
        # would pull torchvision and with it a newer, CUDA build of torch over the pinned CPU wheel
        session.install("--no-deps", "mup>=1.0", "pyyaml")


@nox.session
@nox.parametrize("backend", list(BACKENDS))
def tests(session: nox.Session, backend: str) -> None:
    """The test suite with only one framework installed (others skip with their reason)."""
    pins, extras = BACKENDS[backend]
    _install(session, pins, extras)
    session.run(*PYTEST, *session.posargs, env={"UNIT_INIT_EXPECT_BACKENDS": f"numpy,{backend}"})


@nox.session
def tests_all(session: nox.Session) -> None:
    """The whole matrix: every backend in one environment, cross-backend and conformance tests included."""
    _install(session, (TORCH,), ALL_EXTRAS)
    session.run(*PYTEST, *session.posargs, env={"UNIT_INIT_EXPECT_BACKENDS": "numpy,torch,tensorflow,jax,array_api"})


@nox.session
def minimal(session: nox.Session) -> None:
    """NumPy only: the pure tests, and helpful errors for every missing framework."""
    _install(session, (), ())
    session.run(*PYTEST, *session.posargs, env={"UNIT_INIT_EXPECT_BACKENDS": "numpy"})


@nox.session
def stress(session: nox.Session) -> None:
    """The stress tests at full size, not in the default run (CI runs their small ``ci`` size).

    Hypothesis hostile calls (10,000 examples per backend), 10**8-draw tail checks per truncated initializer x float16/bfloat16/float32 x backend,
    8 threads x every backend bit for bit, huge requests under a memory cap; with the bad-input matrix and torch probes."""
    _install(session, (TORCH,), ALL_EXTRAS)
    tests = ("tests/stress", "tests/test_bad_input_matrix.py", "tests/test_torch_bad_input.py")
    session.run("pytest", "-p", "no:cacheprovider", "--durations=20", *tests, *session.posargs,
                env={"UNIT_INIT_STRESS": "1", "UNIT_INIT_EXPECT_BACKENDS": "numpy,torch,tensorflow,jax,array_api"})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, over the package, the tests, the benchmarks and this file; lint-imports, over the package's layers."""
    session.install("ruff>=0.6", "import-linter>=2.1")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py", "docs")
    session.run("lint-imports", "--no-cache", env={"PYTHONPATH": "src"})  # reads the source, imports nothing


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, with every framework importable so their types are checked too.

    Where this run has built tests_all's environment (``nox -s tests_all lint typecheck``), its site-packages are
    added to this one's by a ``.pth`` file instead of installing every framework a second time (3 minutes of CI)."""
    shared, here = _site_packages(Path(session.virtualenv.location).parent / "tests_all"), _site_packages_here(session)
    if shared is not None and (shared / "torch").is_dir() and shared.parent.name == here.parent.name:  # same python3.X
        session.install("-e", ".[typecheck]")
        (here / "unit_init_tests_all.pth").write_text(f"{shared}\n", encoding="utf-8")
    else:
        _install(session, (TORCH,), ("typecheck", *ALL_EXTRAS))
    session.run("mypy")


def _site_packages(env: Path) -> Path | None:
    found = sorted(env.glob("lib/python3*/site-packages"))
    return found[0] if found else None


def _site_packages_here(session: nox.Session) -> Path:
    site = _site_packages(Path(session.virtualenv.location))
    assert site is not None, f"no site-packages in {session.virtualenv.location}"
    return site


@nox.session
def bench(session: nox.Session) -> None:
    """The quick benchmark: unit_init vs each framework's fastest native call and Keras 3 (results in out/bench-quick/)."""
    session.install(TORCH)  # pinned first, so pip never resolves a CUDA build
    session.install("-e", ".[torch,tensorflow-cpu,jax,keras]")
    session.run("python", "benchmarks/bench.py", "--quick", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate the gallery, the training runs and the capability page, then build the docs (warnings are errors).

    The "why initialization matters" training runs need PyTorch and Keras (on TensorFlow, Keras's default)."""
    _install(session, (TORCH,), ("docs", "torch", "keras", "tensorflow-cpu"))
    session.run("python", "docs/gallery.py")
    session.run("python", "docs/why_initialization.py")
    with open("docs/capabilities.md", "w", encoding="utf-8") as page:
        session.run("python", "-m", "unit_init.capabilities", stdout=page)
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
