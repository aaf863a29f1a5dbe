"""Benchmark: the workspace map in a real browser on the demo district, from the GeoPackage.

Run:  .venv/bin/python bench/bench_workspace.py [--store demo.gpkg] [--runs 5]
      (without --store the demo district is made in a temporary folder first, as ``safeground demo``)

``safeground serve`` runs as a user starts it; Debian's chromium (Playwright, software WebGL, no
network) opens ``/workspace`` logged in as an analyst (the exact record) and as a viewer (the
generalised one). For each it reports:

* **first view**: from the start of the navigation to the map drawn with every layer that is on at
  first (base map, hazard areas, released land, accidents) from vector tiles and MapLibre idle; the first
  run after the server starts (the views not made yet) and the median of the next runs. Goal: under 2 s.
* **the baseline, measured in the same run and the same browser**: what the map did before it read
  tiles: the same layers as whole GeoJSON (``/collections/{id}/items``), fetched and parsed by the page
  (no drawing: a floor for that way); the same GeoJSON by a plain HTTP client; and MapLibre's own
  ``load`` event (the style and the tiles of the first view loaded, before the labels, the list of
  features in view and the last tiles' idle: what of the first view is MapLibre's).
* **tile throughput**: a scripted pan and zoom (the district at zoom 11 to 16, with every layer on):
  per step the tiles asked for and received, their bytes, the time until MapLibre is idle; tiles per
  second, p50/p95 of the step times and of the tiles' own times; the same steps' whole-layer GeoJSON as
  the baseline (bytes a pan needs: none, as the layers are already held; bytes to start: all of them).
* **layer load**: each layer switched on in the browser: features in view, bytes, seconds.
* **as of a day**: the date slider moved to a day, until the record of that day is drawn (GeoJSON from
  the stored history, whole layers: a past day is one view asked for at a time).
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
from typing import Any

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


#: every thematic layer as whole GeoJSON (the baseline for the pan and zoom, with every layer on)
EVERY = [*FIRST, *(f"/collections/{c}/items?limit=10000" for c in (
    "predicted_hazards", "cluster_strikes", "minefield_records", "minefield_record_assessments"))]  # fmt: skip
EVERY.append("/collections/eo_items/items?limit=10000&filter=status%3D%27found%27")
#: the scripted look at the district: (what, JavaScript run on the map)
STEPS = [
    ("zoom 13 at the centre", "m.jumpTo({center: c, zoom: 13})"),
    ("pan east 400 px", "m.panBy([400, 0], {duration: 0})"),
    ("pan south 300 px", "m.panBy([0, 300], {duration: 0})"),
    ("zoom 14", "m.jumpTo({zoom: 14})"),
    ("pan west 500 px", "m.panBy([-500, 0], {duration: 0})"),
    ("zoom 15", "m.jumpTo({zoom: 15})"),
    ("pan north 400 px", "m.panBy([0, -400], {duration: 0})"),
    ("zoom 16", "m.jumpTo({zoom: 16})"),
    ("pan east 600 px", "m.panBy([600, 0], {duration: 0})"),
    ("back to zoom 12", "m.jumpTo({center: c, zoom: 12})"),
    ("zoom 11", "m.jumpTo({zoom: 11})"),
]
READY = "document.body.dataset.mapState === 'ready'"

#: in the page: the same layers' whole GeoJSON fetched and parsed (every page of each), seconds and bytes
GEOJSON_IN_PAGE = """async (urls) => {
  const t = performance.now(); let bytes = 0, n = 0;
  await Promise.all(urls.map(async (u) => {
    let next = u;
    while (next) {
      const text = await (await fetch(next)).text(); bytes += text.length;
      const page = JSON.parse(text); n += page.features.length;
      next = (page.links || []).find((l) => l.rel === "next")?.href || null;
    }
  }));
  return {s: (performance.now() - t) / 1000, bytes, n};
}"""


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, nearest rank."""
    v = sorted(values)
    return v[min(len(v) - 1, max(0, round(q * (len(v) - 1))))] if v else float("nan")


def tile_throughput(page: Any, steps: list[tuple[str, str]]) -> None:
    """The scripted pan and zoom, each step until MapLibre is idle, with the tiles it asked for."""
    asked: list[str] = []
    got: list[tuple[str, int, float]] = []  # url, bytes, seconds from request to its end

    def on_request(req: Any) -> None:
        if "/tiles/WebMercatorQuad/" in req.url:
            asked.append(req.url)

    def on_finished(req: Any) -> None:
        if "/tiles/WebMercatorQuad/" in req.url:
            timing = req.timing
            size = req.sizes()["responseBodySize"]
            got.append((req.url, size, max(0.0, timing["responseEnd"] - timing["requestStart"]) / 1000))

    page.on("request", on_request)
    page.on("requestfinished", on_finished)
    times, per_tile, total_tiles, total_bytes = [], [], 0, 0
    print(f"  {'step':28s} {'tiles asked':>11s} {'received':>8s} {'kB':>7s} {'to idle s':>9s} {'tiles/s':>8s}")
    for what, js in steps:
        asked.clear()
        got.clear()
        t = time.perf_counter()
        page.evaluate(f"(() => {{ const m = window.sgMap; const c = m.getCenter(); {js}; }})()")
        page.wait_for_function(READY, timeout=120_000)
        dt = time.perf_counter() - t
        kb = sum(g[1] for g in got) / 1e3
        times.append(dt)
        per_tile += [g[2] for g in got]
        total_tiles += len(got)
        total_bytes += int(kb * 1e3)
        rate = len(got) / dt if dt else 0
        print(f"  {what:28s} {len(asked):11d} {len(got):8d} {kb:7.1f} {dt:9.2f} {rate:8.1f}")
    page.remove_listener("request", on_request)
    page.remove_listener("requestfinished", on_finished)
    spent = sum(times)
    print(
        f"  all {len(steps)} steps: {total_tiles} tiles, {total_bytes / 1e6:.2f} MB in {spent:.2f} s "
        f"({total_tiles / spent if spent else 0:.1f} tiles/s); time to idle per step p50 {pct(times, 0.5):.2f} s, "
        f"p95 {pct(times, 0.95):.2f} s; one tile p50 {pct(per_tile, 0.5) * 1000:.0f} ms, "
        f"p95 {pct(per_tile, 0.95) * 1000:.0f} ms"
    )


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
                in_page = [page.evaluate(GEOJSON_IN_PAGE, FIRST) for _ in range(3)]
                print(f"\n{role} (audience {'restricted' if role == 'analyst' else 'partner'})")
                print(f"  first view from vector tiles, cold (views not made yet): {ready[0]:.2f} s")
                print(
                    f"  first view from vector tiles, median of {args.runs}:         "
                    f"{statistics.median(ready[1:]):.2f} s"
                    f"  (min {min(ready[1:]):.2f}, max {max(ready[1:]):.2f}; goal < 2 s)"
                )
                print(f"  of it, until MapLibre's own 'load' event          {statistics.median(style[1:]):.2f} s")
                print(
                    f"  baseline: the same layers as whole GeoJSON, fetched and parsed in the page "
                    f"{statistics.median(r['s'] for r in in_page):.2f} s, {in_page[0]['bytes'] / 1e6:.2f} MB, "
                    f"{in_page[0]['n']} features (before any drawing)"
                )
                print(f"  baseline: the same GeoJSON over HTTP, no browser  {floor:.2f} s")
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
                every = page.evaluate(GEOJSON_IN_PAGE, EVERY)
                print("  tile throughput, a scripted pan and zoom with every layer on:")
                tile_throughput(page, STEPS)
                print(
                    f"  baseline: every layer as whole GeoJSON, fetched and parsed in the page: {every['s']:.2f} s, "
                    f"{every['bytes'] / 1e6:.2f} MB, {every['n']} features (then a pan asks for nothing)"
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
