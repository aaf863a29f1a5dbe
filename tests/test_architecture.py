"""The import graph keeps the layers and has no circle (``scripts/check_imports.py``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
SCRIPT = REPO / "scripts" / "check_imports.py"

#: circles that exist today, each to be ended by splitting the modules apart; nothing else may join them,
#: and the test fails when one is gone, so that its line here is removed
KNOWN_CYCLES = []
#: upward imports that exist today (importing:imported)
KNOWN_UPWARD: list[str] = []


def _checker():
    spec = importlib.util.spec_from_file_location("check_imports", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("check_imports", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_import_graph_has_no_new_circle_and_keeps_the_layers():
    args = [a for k in KNOWN_CYCLES for a in ("--known", k)] + [a for k in KNOWN_UPWARD for a in ("--known-import", k)]
    run = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert " 0 problem(s)" in run.stdout


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "safeground" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_finds_a_circle_through_a_function_level_import(tmp_path):
    check = _checker().check
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "intake/__init__.py": "",
            "intake/features.py": "from safeground.intake.mapping import FieldMapping\n",
            "intake/mapping.py": "def check():\n    from safeground.intake import features\n",
            "intake/osm.py": "from safeground.intake.features import import_features\n",
        },
    )
    problems = check(root=root)
    assert len(problems) == 1
    assert "import circle of 2 modules: safeground.intake.features, safeground.intake.mapping" in problems[0]
    # a known circle passes only while it is exactly those modules
    assert check([{"safeground.intake.features", "safeground.intake.mapping"}], root=root) == []
    assert check([{"safeground.intake.features", "safeground.intake.osm"}], root=root)[-1].startswith("known circle")


def test_the_checker_finds_every_upward_import(tmp_path):
    check = _checker().check
    root = _write(
        tmp_path,
        {
            "__init__.py": "",
            "model/__init__.py": "from safeground.storage import open_store\n",
            "storage/__init__.py": "from ..intake import features\n",  # relative imports count too
            "intake/__init__.py": "",
            "intake/features.py": "import typing\nif typing.TYPE_CHECKING:\n    from safeground.services import x\n",
            "services/__init__.py": "def f():\n    import safeground.cli.main\n",
            "cli/__init__.py": "",
            "cli/main.py": "",
            "newthing/__init__.py": "",
        },
    )
    problems = check(root=root)
    assert [p.split(",")[0] for p in problems if p.startswith("layering")] == [
        "layering: safeground.intake.features (domain) imports safeground.services (services)",
        "layering: safeground.model (model) imports safeground.storage (storage)",
        "layering: safeground.services (services) imports safeground.cli.main (frontend)",
        "layering: safeground.storage (storage) imports safeground.intake.features (domain)",
    ]
    assert "safeground.newthing: in no layer; add its package to LAYERS in scripts/check_imports.py" in problems
    assert not any("circle" in p for p in problems)
