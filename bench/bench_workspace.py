"""Benchmark: the workspace map in a real browser on the demo district, from the GeoPackage.

Run:  .venv/bin/python bench/bench_workspace.py [--store demo.gpkg] [--runs 5]
      (without --store the demo district is made in a temporary folder first, as ``safeground demo``)

``safeground serve`` runs as a user starts it; Debian's chromium (Playwright, software WebGL, no
network) opens ``/workspace`` logged in as an analyst (the exact record) and as a viewer (the
generalised one). For each it reports:

* **first view**: from the start of the navigation to the map drawn with every layer that is on at
  first (base map, hazard areas, released land, accidents) and MapLibre idle; the first run after the
  server starts (the views not made yet) and the median of the next runs. Issue 19's goal: under 2 s.
* **the floor, measured in the same run**: the same layers' GeoJSON fetched by a plain HTTP client
  (no browser, no drawing), and the page's own time to load MapLibre and the style with no data.
* **layer load**: each layer switched on in the browser: features, bytes, seconds, features per second.
* **as of a day**: the date slider moved to a day, until the record of that day is drawn.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser import ARGS, CHROMIUM  # noqa: E402 - one chromium set-up for the tests and the bench
from tests.web_server import free_port  # noqa: E402

PASSWORD = "bench password, long enough"
FIRST = [  # what the map asks for at first (map.mjs: the base map and the layers on at first)
    "/collections/admin_areas/items?limit=10000",
    "/collections/infrastructure_areas/items?limit=10000&filter=kind%3D%27settlement%27",
    "/collections/infrastructure_lines/items?limit=10000",
    "/collections/activities/items?limit=10000",
    "/collections/hazard_areas/items?limit=10000",
    "/collections/accidents/items?limit=10000",
]


def exe() -> str:
    return str(Path(sys.executable).with_name("safeground"))


@contextlib.contextmanager
def serving(store: str) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([exe(), "serve", "--store", store, "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/conformance", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def session(url: str, user: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=120)
    r = c.post("/login", json={"username": user, "password": PASSWORD})
    r.raise_for_status()
    return c


def fetch_floor(url: str, user: str) -> float:
    c = session(url, user)
    try:
        t = time.perf_counter()
        for path in FIRST:
            c.get(path).raise_for_status()
        return time.perf_counter() - t
    finally:
        c.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", help="a demo GeoPackage (default: make the demo district in a temporary folder)")
    ap.add_argument("--runs", type=int, default=5, help="first views measured per role after the cold one")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    from safeground.services import accounts as acc_svc

    tmp = Path(tempfile.mkdtemp(prefix="bench-workspace-"))
    try:
        store = str(tmp / "demo.gpkg")
        if args.store:
            shutil.copy(args.store, store)
        else:
            subprocess.run([exe(), "demo", "--store", store], check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "COLUMNS": "120"})  # fmt: skip
        for role in ("analyst", "viewer"):
            acc_svc.add_user(store, f"bench.{role}", full_name=role, organisation="NMAA", role=role,
                             password=PASSWORD, actor="bench")  # fmt: skip
        size_mb = os.path.getsize(store) / 1e6
        load = os.getloadavg()[0]
        print(
            f"demo district {store} ({size_mb:.1f} MB); chromium {CHROMIUM}; {os.cpu_count()} cores, "
            f"load average {load:.1f} (above the cores: other work shares the machine, times are longer)"
        )
        with serving(store) as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for role in ("analyst", "viewer"):
                user = f"bench.{role}"
                ctx = browser.new_context(viewport={"width": 1400, "height": 900})
                ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                    ("http://127.0.0.1", "data:", "blob:")) else route.abort())  # fmt: skip
                c = session(url, user)
                ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in c.cookies.items()])
                c.close()
                page = ctx.new_page()
                views = []
                for _ in range(args.runs + 1):
                    page.goto(url + "/workspace")
                    page.wait_for_function("document.body.dataset.mapState === 'ready'", timeout=120_000)
                    views.append(page.evaluate("window.sgTimings") | {})
                ready = [v["ready"] / 1000 for v in views]
                style = [v["styleLoaded"] / 1000 for v in views]
                floor = statistics.median(fetch_floor(url, user) for _ in range(3))
                print(f"\n{role} (audience {'restricted' if role == 'analyst' else 'partner'})")
                print(f"  first view, cold (views not made yet): {ready[0]:.2f} s")
                print(
                    f"  first view, median of {args.runs}:         {statistics.median(ready[1:]):.2f} s"
                    f"  (min {min(ready[1:]):.2f}, max {max(ready[1:]):.2f}; goal < 2 s)"
                )
                print(f"  floor: MapLibre + style, no data      {statistics.median(style[1:]):.2f} s")
                print(f"  floor: the same GeoJSON over HTTP     {floor:.2f} s (no browser)")
                sizes: dict[str, int] = {}
                page.on(
                    "response",
                    lambda r, sizes=sizes: sizes.__setitem__(r.url, int(r.headers.get("content-length") or 0)),
                )
                print("  layer load (switched on in the browser):")
                for box in page.query_selector_all("#sg-layer-list input:not(:checked)"):
                    layer = box.get_attribute("data-layer")
                    sizes.clear()
                    t = time.perf_counter()
                    box.check()
                    page.wait_for_function("document.body.dataset.mapState === 'ready'", timeout=120_000)
                    dt = time.perf_counter() - t
                    n = page.evaluate("document.getElementById('sg-count').textContent")
                    got = sum(sizes.values())
                    feats = page.evaluate(f"window.sgLayerCount('{layer}')")
                    print(
                        f"    {layer:30s} {feats:6d} features {got / 1e6:6.2f} MB {dt:5.2f} s "
                        f"{feats / dt if dt else 0:8.0f} features/s   ({n})"
                    )
                for day in ("2021-06-01", "2022-06-01"):
                    t = time.perf_counter()
                    page.evaluate(f"window.sgSetAsOf('{day}')")
                    page.wait_for_function(
                        f"document.body.dataset.mapState === 'ready' && document.body.dataset.asOf === '{day}'",
                        timeout=120_000,
                    )
                    print(f"  as of {day}, every layer on: {time.perf_counter() - t:.2f} s")
                ctx.close()
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
