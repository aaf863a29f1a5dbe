"""Killing the process in the middle of an import leaves the store as it was before (a real SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

from safeground.model import EOItem, HazardArea
from safeground.storage import open_store
from safeground.storage.base import Store
from tests.samples import sample

WRITER = textwrap.dedent(
    """
    import sys, shapely
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
    with s.transaction():
        for n, batch in enumerate(chunks()):
            s.add_many(batch)
            if n == 3:
                print("writing", flush=True)
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
    assert line.strip() == "writing", line
    time.sleep(0.5)  # well inside the transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the server notices the dropped connection and rolls back
    with open_store(url) as again:
        assert again.counts() == before
        assert [r.uid for r in again.find(EOItem)] == ["EO-00001"]
        again.add(sample(EOItem, 2))  # and it is still writable
        assert again.count(EOItem) == 2
