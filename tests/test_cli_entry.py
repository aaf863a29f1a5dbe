"""The command starts however it is called: the script, ``python -m safeground``, ``python -m safeground.cli``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from safeground import __version__


@pytest.mark.parametrize("module", ["safeground", "safeground.cli"])
def test_python_dash_m_runs_the_command(module: str):
    res = subprocess.run([sys.executable, "-m", module, "version"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == __version__


def test_python_dash_m_reports_errors_as_the_script_does():
    res = subprocess.run(
        [sys.executable, "-m", "safeground", "summary", "--store", "/nonexistent/none.gpkg"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 2
    assert "error" in res.stderr and "Traceback" not in res.stderr
