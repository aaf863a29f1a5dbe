"""Batches of independent items in local processes (``compute.start_local``, issue 22).

The record assessments of ``maps accuracy``, the national report and the accuracy dashboard run on one
process per core; the answers must be exactly those of one process, whichever way the processes start.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from safeground import compute
from safeground.compute import PROCESSES_ENV, local_processes, start_local
from safeground.errors import SafeGroundError
from safeground.minemaps.accuracy import AccuracyOptions, assess_store, results_table, start_assessments
from safeground.storage import open_store


def pids(part: list[int]) -> list[tuple[int, int]]:
    """Each item with the process that handled it (module level: the workers import it by name); each item takes
    a little time, as a record does, so a worker started a moment later still gets a share."""
    time.sleep(0.05 * len(part))
    return [(i, os.getpid()) for i in part]


def fails_on_seven(part: list[int]) -> list[int]:
    for i in part:
        if i == 7:
            raise SafeGroundError(f"item {i} is bad", hint="mend item 7")
    return part


@pytest.fixture(params=["fork", "forkserver"])
def start_method(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways the batch starts its processes: forked from a process with one thread (the command line), and
    from the fork server when other threads run (a web server; pytest-xdist's workers run threads too)."""
    monkeypatch.setattr(threading, "active_count", lambda: 1 if request.param == "fork" else 3)
    return request.param


def test_the_items_are_shared_among_processes_and_come_back_in_order(start_method: str):
    out = start_local(pids, list(range(40)), processes=2).result()
    assert [i for i, _ in out] == list(range(40))
    workers = {p for _, p in out}
    assert len(workers) == 2 and os.getpid() not in workers


def test_a_small_batch_or_one_process_stays_here(monkeypatch: pytest.MonkeyPatch):
    assert {p for _, p in start_local(pids, list(range(5)), processes=2).result()} == {os.getpid()}
    monkeypatch.setenv(PROCESSES_ENV, "1")
    assert {p for _, p in start_local(pids, list(range(40))).result()} == {os.getpid()}
    assert start_local(pids, []).result() == []


def test_a_workers_error_reaches_the_caller_as_it_was_raised(start_method: str):
    batch = start_local(fails_on_seven, list(range(40)), processes=2)
    with pytest.raises(SafeGroundError, match="item 7 is bad") as err:
        batch.result()
    assert err.value.hint == "mend item 7"


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_process_count_is_named(monkeypatch: pytest.MonkeyPatch, value: str):
    monkeypatch.setenv(PROCESSES_ENV, value)
    with pytest.raises(SafeGroundError, match=f"{PROCESSES_ENV} must be a whole number.*{value!r}"):
        local_processes()


def test_the_default_is_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(PROCESSES_ENV, raising=False)
    assert local_processes() == len(os.sched_getaffinity(0))
    monkeypatch.setenv(PROCESSES_ENV, "3")
    assert local_processes() == 3


def test_record_assessments_in_processes_are_those_of_one_process(
    demo_district: Path, monkeypatch: pytest.MonkeyPatch, start_method: str
):
    """Every figure of every record, the alignment's transform and uncertainty to the last bit."""
    opts = AccuracyOptions()
    with open_store(str(demo_district), create=False) as s:
        monkeypatch.setenv(PROCESSES_ENV, "1")
        here = assess_store(s, opts)
        monkeypatch.setenv(PROCESSES_ENV, "2")
        seen: list[int] = []
        batch, total = start_assessments(s, opts)
        assert batch.processes == 2
        there = batch.result(seen.append)
    assert total == len(here) > 30
    assert seen[-1] == total and seen == sorted(seen)
    assert results_table(here).to_csv() == results_table(there).to_csv()
    for a, b in zip(here, there, strict=True):
        assert (a.uid, a.grade, a.grade_reason, a.by_type) == (b.uid, b.grade, b.grade_reason, b.by_type)
        assert np.array_equal(a.errors_m, b.errors_m)
        assert np.array_equal(a.remaining_corrected, b.remaining_corrected)
        assert np.array_equal(a.remaining_uids, b.remaining_uids)
        if a.alignment is None:
            assert b.alignment is None
            continue
        assert a.alignment == b.alignment


def test_the_local_batch_is_the_one_place_processes_are_started():
    """The record assessments use ``start_local``; nothing else in the package starts a process pool."""
    src = Path(compute.__file__).parent
    starts = [
        p.relative_to(src).as_posix()
        for p in src.rglob("*.py")
        if "ProcessPoolExecutor(" in p.read_text() or "multiprocessing.Pool(" in p.read_text()
    ]
    assert starts == ["compute.py"]


def test_the_command_gives_the_same_table_in_one_process_or_two(demo_district: Path):
    """The installed command, as a user runs it (forked from the command's one thread): same output."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("safeground")
    out = {}
    for n in ("1", "2"):
        res = subprocess.run(
            [str(exe), "maps", "accuracy", "--store", str(demo_district), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, PROCESSES_ENV: n, "COLUMNS": "120"},
        )
        assert res.returncode == 0, res.stderr
        out[n] = res.stdout
    assert out["1"] == out["2"] and len(out["1"]) > 1000
