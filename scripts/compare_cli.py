"""Record, then compare, what the CLI prints on the demo district (issue 17: behaviour unchanged).

    python scripts/compare_cli.py record DIR     # run the commands, keep their output in DIR
    python scripts/compare_cli.py compare A B    # exit 1 and show the diff if any output differs

Why a script and not a test: the application-layer refactor moves orchestration from
``cli/`` into ``services/``; the proof that users see the same thing is the same bytes on
screen for the commands they use most, before and after, on the same generated district.
Timings printed by a command are masked, as they differ between any two runs.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "summary": ["summary"],
    "maps-accuracy": ["maps", "accuracy", "--format", "csv"],
    "check-centre": ["check", "47.150", "39.620"],
    "check-north": ["check", "47.100", "39.690"],
    "check-south": ["check", "47.200", "39.550"],
    "route": ["route", "Entry checkpoint 1", "Chaykend cemetery"],
    "risk-evaluate": ["risk", "evaluate"],
}
_VOLATILE = re.compile(r"\d+(\.\d+)?\s*(s|ms|seconds)\b|\d+:\d\d:\d\d")


def _safeground() -> str:
    return str(Path(sys.executable).with_name("safeground"))


def _env(home: str) -> dict[str, str]:
    """A fixed terminal width and a private state directory; PYTHONPATH passes through so that an
    older checkout can be recorded with this script (``PYTHONPATH=/work/old/src python …``)."""
    env = {"COLUMNS": "160", "PATH": "/usr/bin:/bin", "HOME": home, "SAFEGROUND_STATE_DIR": home}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def record(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "demo.gpkg"
        generate = [_safeground(), "generate", "--store", str(store)]
        subprocess.run(generate, check=True, capture_output=True, env=_env(tmp))
        for name, args in COMMANDS.items():
            done = subprocess.run(
                [_safeground(), *args, "--store", str(store)], capture_output=True, text=True, env=_env(tmp)
            )
            text = _VOLATILE.sub("<t>", done.stdout + done.stderr) + f"\n[exit {done.returncode}]\n"
            (out / f"{name}.txt").write_text(text, encoding="utf-8")
            print(f"{name}: exit {done.returncode}, {len(text.splitlines())} lines", flush=True)


def _lines(path: Path) -> list[str]:
    """The output's lines; a line holding a masked time is compared without the padding that centres it
    (a title like "… (8.1 s)" is centred by its length, which the time changes)."""
    return [ln.strip() if "<t>" in ln else ln for ln in path.read_text(encoding="utf-8").splitlines()]


def compare(a: Path, b: Path) -> int:
    differ = 0
    for name in COMMANDS:
        left, right = (_lines(d / f"{name}.txt") for d in (a, b))
        if left != right:
            differ += 1
            print("\n".join(difflib.unified_diff(left, right, f"{a}/{name}", f"{b}/{name}", lineterm="")))
    print(f"{len(COMMANDS) - differ} of {len(COMMANDS)} outputs identical")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]), Path(sys.argv[3])))
    else:
        sys.exit(__doc__)
