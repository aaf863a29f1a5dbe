"""Fixtures shared by the suite.

``store`` is parametrised by backend: every test that takes it is part of the
store contract and must pass unchanged on every backend SafeGround ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4 × 4 km generated district, made once: tests copy it before writing."""
    path = tmp_path_factory.mktemp("small") / "s.gpkg"
    res = run_cli("generate", "--size-km", "4", "--store", str(path))
    assert res.returncode == 0, res.stderr
    return path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed ``safeground`` command as a user would."""
    exe = Path(sys.executable).with_name("safeground")
    return subprocess.run(
        [str(exe), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "120"},
    )


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's main job, run once: ``safeground demo`` at its default size."""
    d = tmp_path_factory.mktemp("demo")
    res = run_cli("demo", "--store", str(d / "demo.gpkg"), "--png", str(d / "demo-map.png"))
    assert res.returncode == 0, res.stderr + res.stdout
    (d / "stdout.txt").write_text(res.stdout)
    return d


@pytest.fixture()
def demo_store(demo_dir: Path) -> Iterator[Store]:
    s = open_store(str(demo_dir / "demo.gpkg"), create=False)
    yield s
    s.close()


def pytest_configure(config: pytest.Config) -> None:
    """Keep the record of files SafeGround wrote (safeground.outputs) out of the user's home during tests."""
    if "SAFEGROUND_STATE_DIR" not in os.environ:
        import tempfile

        os.environ["SAFEGROUND_STATE_DIR"] = tempfile.mkdtemp(prefix="safeground-state-")
