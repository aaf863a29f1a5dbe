"""Killing the process in the middle of an import leaves the store as it was before (a real SIGKILL).

The writer says when it is inside its transaction, from inside it: how many items it sees there
(its own uncommitted ones among them) and, for a GeoPackage, that its pages have reached the
write-ahead log on disk. The kill follows that line at once, while the writer goes on writing.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

from safeground.model import EOItem, HazardArea
from safeground.storage import open_store
from safeground.storage.base import Store
from tests.samples import sample

WRITER = textwrap.dedent(
    """
    import os, sys, shapely
    from datetime import date
    from safeground.model import EOItem
    from safeground.storage import open_store

    s = open_store(sys.argv[1])
    items = (
        EOItem(uid=f"EO-{i:07d}", date_of_information=date(2021, 5, 1), status="found", eo_type="ap_blast",
               how_found="manual_clearance", geometry=shapely.Point(47.0 + i * 1e-6, 39.6))
        for i in range(10, 10_000_000)
    )
    def chunks():
        batch = []
        for it in items:
            batch.append(it)
            if len(batch) == 2000:
                yield batch
                batch = []
    wal = sys.argv[1] + "-wal"
    announced = False
    with s.transaction():
        for n, batch in enumerate(chunks()):
            s.add_many(batch)
            on_disk = "://" in sys.argv[1] or (os.path.exists(wal) and os.path.getsize(wal) > 0)
            if n >= 3 and on_disk and not announced:
                print("inside", s.count(EOItem), flush=True)  # the parent kills on this line
                announced = True
            if n == 200 and not announced:
                print("nothing written to disk after 200 batches", flush=True)
                sys.exit(1)
    print("finished", flush=True)
    """
)


def test_sigkill_during_an_import_leaves_the_store_unchanged(store: Store):
    store.add_many([sample(HazardArea, 1), sample(EOItem, 1)])
    before = store.counts()
    url = store.test_url  # type: ignore[attr-defined]
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    proc.send_signal(signal.SIGKILL)  # at once: the writer is inside its transaction, still writing
    proc.wait(timeout=30)
    assert line.startswith("inside "), line
    assert int(line.split()[1]) >= before["eo_items"] + 4 * 2000  # its own uncommitted items were there
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    # what a new session sees is what was committed: no wait for the server to notice the dead
    # connection is needed (its rollback only releases locks, and a later write waits for those)
    with open_store(url) as again:
        assert again.counts() == before
        assert [r.uid for r in again.find(EOItem)] == ["EO-00001"]
        again.add(sample(EOItem, 2))  # and it is still writable
        assert again.count(EOItem) == 2
