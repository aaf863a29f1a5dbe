"""Fixtures shared by the suite.

``store`` is parametrised by backend: every test that takes it is part of the
store contract and must pass unchanged on every backend SafeGround ships.

Generated districts are made once a session and shared read-only (``demo_district``,
``district(seed, size_km)``, ``small_store``); a test that writes takes a copy (``demo_copy``,
``district_copy``). Commands run in this process (``invoke_cli``) unless the process boundary is
what a test proves (``run_cli``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from safeground.storage import open_store
from safeground.storage.base import Store

BACKENDS = ["gpkg", "postgis"]
#: the PostGIS server the contract suite runs against (each test gets its own schema)
PG_URL = os.environ.get("SAFEGROUND_TEST_PG", "postgresql://postgres@127.0.0.1:5432/safeground_test")


def _postgis_available() -> str | None:
    """None when the server answers with PostGIS, else why not."""
    try:
        import sqlalchemy

        eng = sqlalchemy.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.begin() as c:
            c.execute(sqlalchemy.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        eng.dispose()
        return None
    except Exception as exc:  # any failure means: no usable server here
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


_PG_PROBLEM: str | bool | None = False


def postgis_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _postgis_available()
    return _PG_PROBLEM  # type: ignore[return-value]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "gpkg":
        s = open_store(str(tmp_path / "store.gpkg"))
        s.test_url = str(tmp_path / "store.gpkg")  # type: ignore[attr-defined]
        yield s
        s.close()
        return
    problem = postgis_problem()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostGIS contract tests, but the server at {PG_URL} is not usable: {problem}")
        pytest.skip(f"PostGIS tests did NOT run: no usable server at {PG_URL} ({problem})")
    schema = "t_" + uuid.uuid4().hex[:12]
    s = open_store(f"{PG_URL}?schema={schema}")
    s.test_url = f"{PG_URL}?schema={schema}"  # type: ignore[attr-defined]
    try:
        yield s
    finally:
        s.drop()  # the test's schema, and closes the store


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``safeground`` command as a user would, in a process of its own.

    For what a process boundary proves: the installed entry point, a kill, two processes at once,
    what a process inherits or leaves in its environment. Everything else uses :func:`invoke_cli`."""
    exe = Path(sys.executable).with_name("safeground")
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "120"},
    )


@dataclass
class CliResult:
    """What :func:`invoke_cli` returns: the fields of a finished process that the tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def invoke_cli(*args: str, cwd: Path | None = None) -> CliResult:
    """Run a ``safeground`` command in this process (Typer's ``CliRunner``), through the same ``main()``.

    The same exit code, standard output and standard error as :func:`run_cli` gives, without the
    second or two that starting Python and importing the stack costs each call. What the command
    changes for the whole process is put back afterwards, so no test sees what an earlier one ran:
    the environment (the import's GDAL network switches set environment variables), the working
    directory and ``sys.argv``. An exception that escapes ``main()`` is a traceback on stderr and
    exit code 1, as the installed command would give."""
    from typer.testing import CliRunner

    env_before = dict(os.environ)
    cwd_before = os.getcwd()
    argv_before = sys.argv
    code = 0
    with CliRunner().isolation(env={"COLUMNS": "120"}) as (out, err, _):
        try:
            from safeground.cli import main

            sys.argv = ["safeground", *args]
            if cwd is not None:
                os.chdir(cwd)
            main()
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:  # sys.exit("message"): Python prints it and exits 1
                print(exc.code, file=sys.stderr)
                code = 1
        except Exception:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.argv = argv_before
            os.chdir(cwd_before)
            os.environ.clear()
            os.environ.update(env_before)
            confine = sys.modules.get("safeground.intake.confine")
            if confine is not None and hasattr(confine, "_configured"):
                confine._configured = False  # its environment switches were just taken back: set them again next time
        return CliResult(list(args), code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8", "replace"))


def _digest(path: Path) -> str:
    """The file's content, less the two SQLite header counters that any write transaction bumps.

    Opening a store for writing switches its journal mode (and back at close), which counts as a
    change (header bytes 24–27 and 92–95) without changing a page of data; any real write changes
    a page and so the digest."""
    data = bytearray(path.read_bytes())
    data[24:28] = data[92:96] = b"\0\0\0\0"
    return hashlib.sha256(data).hexdigest()


def _assert_unchanged(made: dict[Path, str]) -> None:
    changed = [str(p) for p, digest in made.items() if _digest(p) != digest]
    assert not changed, f"a test wrote to a shared district ({changed}); copy it first (demo_copy, district_copy)"


def _made_once(factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder that ``make`` fills, made once for the whole run, in a folder of this process's own.

    pytest-xdist workers are processes of their own, and each would generate the same district again
    (20–30 s a time). The first worker to ask makes it in the run's shared temporary folder, under a
    file lock the others wait on; then every worker (the maker too) copies it into its own folder, so no
    two processes ever open the same SQLite file and a test that breaks the read-only rule breaks only
    its own worker's copy (and is caught there)."""
    own = factory.mktemp(name)
    if "PYTEST_XDIST_WORKER" not in os.environ:  # one process: nothing to share
        make(own)
        return own
    run_root = factory.getbasetemp().parent  # pytest-N/: this run's, shared by its workers (popen-gwK/)
    shared = run_root / f"shared-{name}"
    with open(run_root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if make fails
        if not shared.exists():
            part = run_root / f"shared-{name}.part"
            shutil.rmtree(part, ignore_errors=True)  # a worker that failed making it left this
            part.mkdir()
            make(part)
            part.rename(shared)  # whole or not at all: a folder is only ever seen complete
    shutil.copytree(shared, own, dirs_exist_ok=True)
    return own


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The README's main job, run once as a user runs it: ``safeground demo`` at its default size.

    Read-only for every test: the session ends with a check that ``demo.gpkg`` is byte for byte
    what the demo wrote. A test that writes works on ``demo_copy``."""

    def make(d: Path) -> None:
        res = run_cli("demo", "--store", str(d / "demo.gpkg"), "--png", str(d / "demo-map.png"))
        assert res.returncode == 0, res.stderr + res.stdout
        (d / "stdout.txt").write_text(res.stdout)

    d = _made_once(tmp_path_factory, "demo", make)
    made = {d / "demo.gpkg": _digest(d / "demo.gpkg")}
    yield d
    _assert_unchanged(made)


@pytest.fixture(scope="session")
def demo_district(demo_dir: Path) -> Path:
    """The demo district (20 × 20 km, seed 2020) as a GeoPackage path, shared by the session: read only."""
    return demo_dir / "demo.gpkg"


@pytest.fixture()
def demo_copy(demo_district: Path, tmp_path: Path) -> Path:
    """A copy of the demo district of this test's own, to write to."""
    path = tmp_path / "demo.gpkg"
    shutil.copy(demo_district, path)
    return path


@pytest.fixture()
def demo_store(demo_district: Path) -> Iterator[Store]:
    s = open_store(str(demo_district), create=False)
    yield s
    s.close()


DistrictFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def district(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistrictFactory]:
    """``district(seed, size_km=20)``: the generated district of that seed and size, made once a session.

    Tests that must not depend on the demo's particular layout check other seeds; several files check
    the same ones (7 and 2021), and each pytest-xdist worker makes each at most once. Seed 2020 at
    20 km is the demo itself. Read-only, checked at the end of the session: copy before writing."""
    made: dict[tuple[int, float], Path] = {}
    digests: dict[Path, str] = {}

    def get(seed: int, size_km: float = 20.0) -> Path:
        key = (seed, float(size_km))
        if key == (2020, 20.0):  # the demo, made only when a test asks for it
            return request.getfixturevalue("demo_district")
        if key not in made:

            def make(d: Path) -> None:
                res = invoke_cli("generate", "--store", str(d / "district.gpkg"), "--seed", str(seed),
                                 "--size-km", f"{size_km:g}")  # fmt: skip
                assert res.returncode == 0, res.stderr + res.stdout

            path = _made_once(tmp_path_factory, f"district-{seed}-{size_km:g}km", make) / "district.gpkg"
            made[key] = path
            digests[path] = _digest(path)
        return made[key]

    yield get
    _assert_unchanged(digests)


@pytest.fixture()
def district_copy(district: DistrictFactory, tmp_path: Path) -> DistrictFactory:
    """``district_copy(seed, size_km=20)``: a copy of that generated district of this test's own, to write to."""

    def get(seed: int, size_km: float = 20.0) -> Path:
        path = tmp_path / f"district-{seed}-{size_km:g}km.gpkg"
        shutil.copy(district(seed, size_km), path)
        return path

    return get


@pytest.fixture(scope="session")
def small_store(district: DistrictFactory) -> Path:
    """A 4 × 4 km generated district (seed 2020), made once: tests copy it before writing."""
    return district(2020, 4)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the record of files SafeGround wrote (safeground.outputs) out of the user's home during tests.

    And fix the terminal width the command line's output is tested at, before anything imports the
    command line (its consoles read ``COLUMNS`` when made), in this process and in those it starts."""
    os.environ["COLUMNS"] = "120"
    if "SAFEGROUND_STATE_DIR" not in os.environ:
        import tempfile

        os.environ["SAFEGROUND_STATE_DIR"] = tempfile.mkdtemp(prefix="safeground-state-")
