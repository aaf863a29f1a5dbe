"""Outcomes of the hostile corpus (tests/data/hostile/) through every importer, for issue notes and docs.

Each file goes through each importer under its own name and again renamed to the
ending that importer reads. An outcome is "accepted" (imported), "refused" (a
SafeGroundError with a message) or "crashed" (any other exception: a bug).

    .venv/bin/python scripts/hostile_figures.py [FILE-NAME-TO-LEAVE-OUT ...]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from safeground.errors import SafeGroundError
from tests.test_hostile_inputs import CORPUS, IMPORTERS, _importers


def main(leave_out: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp())
    counts = {"accepted": 0, "refused": 0, "crashed": 0}
    crashes: list[tuple[str, str, str, str]] = []
    files = [c for c in CORPUS if c.name not in leave_out]
    for name in IMPORTERS:
        run, suffix = _importers(tmp)[name]
        for path in files:
            tries = [path]
            if suffix and path.suffix != suffix:
                renamed = tmp / (path.stem + suffix)
                shutil.copy(path, renamed)
                tries.append(renamed)
            for p in tries:
                try:
                    run(p)
                    counts["accepted"] += 1
                except SafeGroundError:
                    counts["refused"] += 1
                except Exception as exc:  # counting crashes is the point
                    counts["crashed"] += 1
                    crashes.append((name, p.name, type(exc).__name__, str(exc)[:100]))
    print(f"{len(files)} files, {len(IMPORTERS)} importers, {sum(counts.values())} cases: {counts}")
    for c in crashes:
        print("crashed:", *c)


if __name__ == "__main__":
    main(sys.argv[1:])
