"""Fixtures shared by the suite.

``store`` is parametrised by backend: every test that takes it is part of the
store contract and must pass unchanged on every backend SafeGround ships.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from safeground.storage.base import Store, open_store

BACKENDS = ["gpkg"]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "gpkg":
        s = open_store(str(tmp_path / "store.gpkg"))
    else:  # pragma: no cover - later backends
        raise AssertionError(request.param)
    yield s
    s.close()


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
