"""Benchmark: the dashboards' JSON from a warm server (issue 22: under 300 ms each).

Run:  .venv/bin/python bench/bench_dashboards.py [--store demo.gpkg] [--requests 50]

Starts ``safeground serve`` on a free port of 127.0.0.1 (a real uvicorn in its own process), asks every
dashboard once (the cold request computes it), then ``--requests`` more times each and prints, in this run:
the cold request, the warm median and 99th percentile, and next to them the baseline: the same figures
computed without the cache (the service's own computation, as the report does, in this process). Then
it changes nothing and checks the fingerprint is the same on every answer.
The demo district is generated into a temporary GeoPackage unless ``--store`` is given.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from safeground.access import Audience
from safeground.services.dashboards import DASHBOARDS
from safeground.storage import open_store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default=None)
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    store = args.store
    if store is None:
        from safeground.generator.district import generate

        store = str(Path(tempfile.mkdtemp(prefix="sg-bench-dash-")) / "demo.gpkg")
        with open_store(store) as s:
            generate(s)
    port = free_port()
    exe = Path(sys.executable).with_name("safeground")
    cmd = [str(exe), "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port)]
    if not exe.exists():
        cmd = [sys.executable, "-c", "import sys; from safeground.cli import main; sys.argv[0]='safeground'; main()",
               *cmd[1:]]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=600) as c:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if c.get(url + "/dashboards").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
            print(f"Dashboards benchmark: {store}, {args.requests} warm requests each, server at {url}")
            print(f"{'dashboard':26}{'cold ms':>10}{'warm p50':>10}{'warm p99':>10}{'no cache ms':>13}   target 300 ms")
            with open_store(store, create=False, readonly=True) as s:
                for name, spec in DASHBOARDS.items():
                    t = time.perf_counter()
                    first = c.get(f"{url}/dashboards/{name}.json")
                    cold = (time.perf_counter() - t) * 1000
                    assert first.status_code == 200, first.text
                    warm = []
                    for _ in range(args.requests):
                        t = time.perf_counter()
                        r = c.get(f"{url}/dashboards/{name}.json")
                        warm.append((time.perf_counter() - t) * 1000)
                        assert r.json()["fingerprint"] == first.json()["fingerprint"]
                    t = time.perf_counter()
                    spec.compute(s, Audience.PUBLIC)  # the baseline: the same figures computed each time
                    base = (time.perf_counter() - t) * 1000
                    warm.sort()
                    p99 = warm[min(len(warm) - 1, int(0.99 * len(warm)))]
                    ok = "ok" if p99 < 300 else "SLOWER"
                    print(f"{name:26}{cold:10.0f}{statistics.median(warm):10.1f}{p99:10.1f}{base:13.0f}   {ok}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
