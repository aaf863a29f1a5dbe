"""Real servers for the web tests: ``safeground serve`` in a subprocess, an app on uvicorn in a thread,
and a PostGIS copy of a GeoPackage store (same records, same history, same area)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx

from safeground.model import RECORD_TYPES
from safeground.storage import open_store
from tests.conftest import PG_URL

#: a server that does not answer within this many seconds failed to start
START_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[str] | None = None, log: IO[str] | None = None) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            said = proc.stdout.read() if proc.stdout else ""
            if log is not None:
                log.seek(0)
                said = log.read()
            raise RuntimeError(f"the server exited with {proc.returncode}: {said}")
        try:
            if httpx.get(url + "/conformance", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {START_S:g} s")


@contextlib.contextmanager
def serve_cli(store: str) -> Iterator[str]:
    """``safeground serve --store STORE`` on a free port of 127.0.0.1, as a user starts it; yields its URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("safeground")
    # the server's log goes to a file: a pipe nobody reads fills up (64 kB of access log) and the server
    # then blocks on its next log line, every request with it
    with tempfile.TemporaryFile(mode="w+", prefix="safeground-serve-") as log:
        proc = subprocess.Popen(
            [str(exe), "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait(url, proc, log)
            yield url
        finally:
            proc.send_signal(signal.SIGINT)  # uvicorn's own graceful stop, as Ctrl+C
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextlib.contextmanager
def serve_app(app: object) -> Iterator[str]:
    """An app built by the test on a real uvicorn in a thread of this process; yields its URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextlib.contextmanager
def postgis_copy(gpkg: Path) -> Iterator[str]:
    """The GeoPackage store's records (with their history) and its area in a new PostGIS schema; dropped after."""
    url = f"{PG_URL}?schema=web_{uuid.uuid4().hex[:10]}"
    with open_store(str(gpkg), create=False, readonly=True) as src, open_store(url) as dst:
        for cls in RECORD_TYPES.values():
            uids = sorted(src.current_versions(cls))
            if uids:
                dst.add_chains(list(src.chains(cls, uids).values()))
        for key in ("area_of_interest", "metric_epsg"):
            value = src.get_meta(key)
            if value is not None:
                dst.set_meta(key, value)
    try:
        yield url
    finally:
        s = open_store(url)
        s.drop()  # type: ignore[attr-defined]
        s.close()
