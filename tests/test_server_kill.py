"""A SIGKILL of the server in the middle of an approval leaves the store as it was before that approval.

The server (``safeground serve`` on PostGIS) approves a large submission; the test watches PostgreSQL for
the approval's own INSERTs inside its open transaction and kills the server there (a real SIGKILL). The
records are not there, the submission is still pending, and approving it again applies it whole.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import httpx
import shapely

from safeground.intake.commit import WritePlan
from safeground.model import EOItem
from safeground.review.queue import State
from safeground.services import accounts as acc_svc
from safeground.services import review
from safeground.storage import open_store
from tests.conftest import PG_URL
from tests.test_server import contextlib_for
from tests.web_server import _wait, free_port

N = 20_000


def test_sigkill_in_the_middle_of_an_approval_leaves_the_store_whole(small_store: Path, tmp_path: Path) -> None:
    import psycopg

    copy = tmp_path / "s.gpkg"
    shutil.copy(small_store, copy)
    with contextlib_for("postgis", copy) as location:
        schema = location.rsplit("schema=", 1)[1]
        if not [o for o in acc_svc.organisations(location) if o.acronym == "NMAA"]:
            acc_svc.add_organisation(location, "Org NMAA", "national_authority", acronym="NMAA", actor="setup")
        acc_svc.add_user(location, "rev", full_name="rev", organisation="NMAA", role="reviewer",
                         password="the long road to Chaykend", actor="setup")  # fmt: skip
        token = acc_svc.add_token(location, "rev", "kill", actor="setup")
        with open_store(location, create=False, readonly=True) as s:
            w, so, e, n = s.area_of_interest()
            before = s.counts()
            start = s.max_uid_number(EOItem)
        items = [
            EOItem(uid=f"EO-{start + i + 1:05d}", date_of_information=date(2024, 5, 1), status="found",
                   eo_type="ap_blast", how_found="manual_clearance", entered_by="team",
                   geometry=shapely.Point(w + (e - w) * (i % 997) / 997, so + (n - so) * (i % 991) / 991))
            for i in range(N)
        ]  # fmt: skip
        sub = review.submit(location, WritePlan(create=items), source="test", submitted_by="rev",
                            organisation="NMAA", origin="test")  # fmt: skip
        port = free_port()
        exe = Path(sys.executable).with_name("safeground")
        proc = subprocess.Popen(
            [str(exe), "serve", "--store", location, "--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc)  # type: ignore[arg-type]
            answer: list[object] = []

            def approve() -> None:
                try:
                    answer.append(httpx.post(url + f"/submissions/{sub.id}/approve", timeout=300,
                                             headers={"Authorization": f"Bearer {token}"}))  # fmt: skip
                except httpx.HTTPError as exc:  # the server died under it
                    answer.append(exc)

            caller = threading.Thread(target=approve)
            caller.start()
            inside = False
            with psycopg.connect(PG_URL, autocommit=True) as db:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline and not inside and caller.is_alive():
                    inside = bool(db.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE xact_start IS NOT NULL AND query LIKE %s",
                        (f'INSERT INTO "{schema}"."eo_items"%',),
                    ).fetchone()[0])  # fmt: skip
                    if not inside:
                        time.sleep(0.005)
                if inside:
                    os.kill(proc.pid, signal.SIGKILL)  # inside the approval's transaction, still inserting
            proc.wait(timeout=30)
            caller.join(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert inside, f"the approval was never seen inserting: {answer}"
        assert proc.returncode == -signal.SIGKILL and isinstance(answer[0], httpx.HTTPError)
        with open_store(location, create=False, readonly=True) as s:
            assert s.counts() == before  # not one of the approval's records
        (pending,) = [x for x in review.submissions(location) if x.id == sub.id]
        assert pending.state is State.PENDING
        done = review.approve(location, sub.id, reviewer=None, by="rev", origin="test")  # and it applies whole
        assert done.state is State.APPROVED
        with open_store(location, create=False, readonly=True) as s:
            assert s.count(EOItem) == before["eo_items"] + N
