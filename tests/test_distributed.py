"""Map reconciliation partitioned on Dask gives exactly the single-process results.

Runs on a real ``LocalCluster`` and on a real ``dask scheduler`` + ``dask worker``
pair started the way docs/deployment.md tells an administrator to.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from safeground.compute import client_for, map_partitions, partitions
from safeground.minemaps.accuracy import AccuracyOptions, assess_records, gather_evidence, to_json
from safeground.storage.base import Store
from tests.conftest import run_cli


def test_partitions_keep_order_and_cover_everything():
    items = list(range(10))
    parts = partitions(items, 4)
    assert [len(p) for p in parts] == [3, 3, 2, 2]
    assert [x for p in parts for x in p] == items
    assert partitions(items[:2], 8) == [[0], [1]]


def _where(part: list[int]) -> list[tuple[int, str]]:
    from distributed import get_worker

    return [(i, get_worker().address) for i in part]


def test_map_partitions_spreads_the_work_and_keeps_order():
    with client_for(workers=2, processes=False) as client:
        assert client is not None
        out = map_partitions(_where, list(range(40)), client=client)
    assert [i for i, _ in out] == list(range(40))
    assert len({w for _, w in out}) == 2  # both workers did some of it


def test_no_scheduler_means_no_dask():
    with client_for(None, None) as client:
        assert client is None
        assert map_partitions(lambda part, k: [x * k for x in part], [1, 2], client=None, k=3) == [3, 6]


def test_accuracy_on_a_local_cluster_equals_single_process(demo_store: Store):
    opts = AccuracyOptions()
    evidence = gather_evidence(demo_store, opts)
    assert len(evidence) > 10
    single = assess_records(evidence, opts)
    with client_for(workers=2, processes=False) as client:
        distributed = map_partitions(assess_records, evidence, client=client, opts=opts)
    assert [r.uid for r in distributed] == [r.uid for r in single]
    assert to_json(distributed) == to_json(single)
    assert {r.grade for r in single} != {"U"}  # real grades, not an empty assessment


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def dask_cluster():
    """``dask scheduler`` and ``dask worker`` as separate processes, as in docs/deployment.md."""
    dask = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    sched = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = subprocess.Popen(
        [dask, "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from distributed import Client

        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout="5s") as c:
                    c.wait_for_workers(2, timeout=60)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in (worker, sched):
            p.terminate()
        for p in (worker, sched):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_accuracy_command_on_a_scheduler_equals_single_process(dask_cluster, demo_store: Store, tmp_path):
    opts = AccuracyOptions()
    single = to_json(assess_records(gather_evidence(demo_store, opts), opts))
    out = tmp_path / "dask.json"
    res = run_cli(
        "maps", "accuracy", "--store", demo_store.location, "--format", "json", "--out", str(out),
        "--scheduler", dask_cluster,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr + res.stdout
    assert "on Dask" in res.stderr
    assert out.read_text() == single


def test_unreachable_scheduler_is_a_clear_error(demo_dir):
    port = _free_port()
    res = run_cli("maps", "accuracy", "--store", str(demo_dir / "demo.gpkg"), "--scheduler", f"tcp://127.0.0.1:{port}")
    assert res.returncode == 2
    assert "cannot reach the Dask scheduler" in res.stderr and "dask scheduler" in res.stderr
