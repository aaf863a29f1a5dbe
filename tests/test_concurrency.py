"""Many writers in separate processes (separate SQLite connections / PostgreSQL sessions) lose no update.

The contract suite has the same check with threads; here every editor is its own
OS process, as on a server with many users or two programs on one GeoPackage.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from safeground.model import Organisation
from safeground.storage.base import Store
from tests.samples import sample

EDITOR = textwrap.dedent(
    """
    import os, sys, time
    from safeground.errors import VersionConflict
    from safeground.model import Organisation
    from safeground.storage import open_store

    conflicts = 0
    with open_store(sys.argv[1]) as s:
        print("ready", flush=True)
        while not os.path.exists(sys.argv[3]):  # all editors start together
            time.sleep(0.005)
        for _ in range(int(sys.argv[2])):
            while True:
                cur = s.get(Organisation, "ORG-00001")
                try:
                    s.update(cur.model_copy(update={"acronym": str(int(cur.acronym) + 1)}),
                             expected_version=cur.version)
                    break
                except VersionConflict:
                    conflicts += 1
    print(conflicts)
    """
)


def test_many_writer_processes_lose_no_update(store: Store, tmp_path):
    store.add(sample(Organisation, 1).model_copy(update={"acronym": "0"}))
    url = store.test_url  # type: ignore[attr-defined]
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, "-c", EDITOR, url, "15", str(go)], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    go.touch()
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert sum(int(o[0]) for o in outs) > 0  # the editors really collided (and retried)
    final = store.get(Organisation, "ORG-00001")
    assert final.acronym == "90" and final.version == 91
    history = store.history(Organisation, "ORG-00001")
    assert [int(v.acronym) for v in history] == list(range(91))  # every increment, in order, none lost
