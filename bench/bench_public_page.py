"""Benchmark: the public returnee page (/safe/) on a slow phone connection, first visit and offline.

Run:  .venv/bin/python bench/bench_public_page.py [--store demo.gpkg] [--latency-ms 400] [--kbps 400]

``safeground serve`` serves the store (the demo district, generated into a temporary folder when no
``--store`` is given); Debian's chromium opens the page as a phone with the geolocation granted, on a
slow-3G profile set with the DevTools protocol (``Network.emulateNetworkConditions``: 400 ms round trip,
400 kbit/s down and up, as WebPageTest's "3G Slow"; DevTools' own "Slow 3G" preset is the same bandwidth
with 2,000 ms). It measures, in one run:

* bytes transferred for the first visit (every response the page and its service worker receive, as
  counted by the browser's network layer: compressed sizes), goal < 1 MB;
* the time from the start of navigation to the first answer on the screen, goal < 3 s;
* the time until the district's bundle has arrived (the page then answers offline);
* offline (after the first visit): the time from reload to an answer computed on the phone.

The server's data are built before the clock starts (one request), as on a running server.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SAFEGROUND_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-dev-shm-usage"]  # fmt: skip
GOAL_BYTES = 1_000_000
GOAL_FIRST_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(store: Path) -> Iterator[str]:
    port = free_port()
    exe = Path(sys.executable).with_name("safeground")
    proc = subprocess.Popen([str(exe), "serve", "--store", str(store), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/conformance", timeout=2).status_code == 200:
                    break
            time.sleep(0.3)
        httpx.get(url + "/safe/bundle.json", timeout=120).raise_for_status()  # the server's data, built once
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


SHELL = [
    "/safe/",
    "/safe/assets/safe.mjs",
    "/safe/assets/engine.mjs",
    "/safe/assets/safe.css",
    "/safe/assets/icon-192.png",
    "/safe/assets/icon-512.png",
    "/safe/manifest.webmanifest",
]  # as sw.js


def _context(browser: Any, lonlat: tuple[float, float], service_workers: str) -> Any:
    where = {"longitude": lonlat[0], "latitude": lonlat[1]}
    return browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                               geolocation=where, permissions=["geolocation"], locale="az-AZ",
                               service_workers=service_workers)  # fmt: skip


def measure(url: str, lonlat: tuple[float, float], latency_ms: float, kbps: float) -> dict[str, Any]:
    """The first visit with the service worker held back (the page's own loads, all throttled and counted by
    the DevTools protocol), the service worker's install counted apart (its shell, compressed, as if nothing
    were cached: an upper bound), then offline in a context that keeps its service worker."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = _context(browser, lonlat, "block")
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Network.enable")
        sizes: dict[str, int] = {}
        cdp.on("Network.loadingFinished", lambda ev: sizes.__setitem__(ev["requestId"], int(ev["encodedDataLength"])))
        rate = kbps * 1000 / 8
        slow = {"offline": False, "latency": latency_ms, "downloadThroughput": rate, "uploadThroughput": rate}
        cdp.send("Network.emulateNetworkConditions", slow)
        t0 = time.perf_counter()
        page.goto(url + "/safe/", wait_until="commit")
        page.wait_for_function("(window.safeground && window.safeground.answered) >= 1", timeout=120_000, polling=20)
        first = time.perf_counter() - t0
        level = page.evaluate("window.safeground.lastAnswer().level")
        page.wait_for_function("window.safeground.engine() !== null", timeout=300_000, polling=50)
        bundle = time.perf_counter() - t0
        page.wait_for_timeout(500)
        page_bytes = sum(sizes.values())
        ctx.close()
        shell = sum(httpx.get(url + u, headers={"Accept-Encoding": "gzip"}, timeout=60).num_bytes_downloaded
                    for u in SHELL)  # fmt: skip
        # offline: after one visit with signal, the page, its scripts and its data come from the phone
        ctx = _context(browser, lonlat, "allow")
        page = ctx.new_page()
        page.goto(url + "/safe/")
        page.wait_for_function("window.safeground && window.safeground.engine() !== null", timeout=120_000)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        page.wait_for_function("window.safeground && window.safeground.engine() !== null", timeout=120_000)
        ctx.set_offline(True)
        t1 = time.perf_counter()
        page.reload(wait_until="commit")
        page.wait_for_function("window.safeground && window.safeground.engine() !== null", timeout=60_000, polling=20)
        offline_level = page.evaluate("([x, y]) => window.safeground.checkAt(x, y).then(a => a.level)", list(lonlat))
        offline = time.perf_counter() - t1
        browser.close()
    return {"page_bytes": page_bytes, "shell_bytes": shell, "first_s": first, "bundle_s": bundle,
            "offline_s": offline, "level": level, "offline_level": offline_level}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path)
    ap.add_argument("--latency-ms", type=float, default=400.0)
    ap.add_argument("--kbps", type=float, default=400.0)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = a.store
        if store is None:
            store = Path(tmp) / "demo.gpkg"
            exe = Path(sys.executable).with_name("safeground")
            subprocess.run([str(exe), "demo", "--store", str(store), "--png", str(Path(tmp) / "m.png")], check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        from safeground.storage import open_store

        with open_store(str(store), create=False, readonly=True) as s:
            from safeground.routing.places import Gazetteer

            here = Gazetteer.from_store(s).of_kind("checkpoint")[0]
        with serving(store) as url:
            m = measure(url, (here.lon, here.lat), a.latency_ms, a.kbps)
    print(f"public page, first visit on {a.kbps:g} kbit/s with {a.latency_ms:g} ms round trip ({store.name}):")
    total = m["page_bytes"] + m["shell_bytes"]
    print(f"  transferred          {total / 1e6:6.3f} MB    goal < {GOAL_BYTES / 1e6:g} MB   "
          f"{'ok' if total < GOAL_BYTES else 'MISSED'}   (page {m['page_bytes'] / 1e3:.0f} kB + service worker's "
          f"install at most {m['shell_bytes'] / 1e3:.0f} kB)")  # fmt: skip
    print(f"  first answer         {m['first_s']:6.2f} s     goal < {GOAL_FIRST_S:g} s     "
          f"{'ok' if m['first_s'] < GOAL_FIRST_S else 'MISSED'}   ({m['level']})")  # fmt: skip
    print(f"  bundle on the phone  {m['bundle_s']:6.2f} s     (from then on it answers without signal)")
    print(f"  offline: reload to an answer on the phone {m['offline_s']:5.2f} s ({m['offline_level']})")


if __name__ == "__main__":
    main()
