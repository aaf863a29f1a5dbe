"""The browser libraries shipped in the package: exactly the npm release, and working offline.

MapLibre GL JS is vendored from npm (scripts/vendor_web.py) because the workspace must run in a
district office with no internet. The files must be the registry's (checksums in VENDOR.json),
be installed with the package, and draw a map in Debian's chromium with every request outside
127.0.0.1 blocked.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from importlib.resources import files
from pathlib import Path

import pytest

from tests.browser import offline_page

# one browser at a time: with two chromiums and their servers on two cores a wait for MapLibre's 'idle' ran out
# (alone the test passes); pytest-xdist ``--dist loadgroup`` keeps this group on one worker
pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[1]


def test_vendored_files_are_the_npm_release() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_web.py"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_changed_vendored_file_is_caught(tmp_path: Path, monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import vendor_web
    finally:
        sys.path.pop(0)
    copy = tmp_path / "vendor"
    shutil.copytree(vendor_web.VENDOR, copy)
    (copy / "maplibre-gl" / "maplibre-gl.css").write_text("/* edited by hand */", encoding="utf-8")
    monkeypatch.setattr(vendor_web, "VENDOR", copy)
    assert vendor_web.check() == ["maplibre-gl/maplibre-gl.css differs from the npm release (sha256 " +
                                  vendor_web._sha256(copy / "maplibre-gl" / "maplibre-gl.css")[:12] + "…)"]  # fmt: skip


def test_vendored_files_are_package_data() -> None:
    """What the installed package holds (importlib.resources), not only the source tree."""
    vendor = files("safeground") / "web" / "static" / "vendor"
    record = json.loads((vendor / "VENDOR.json").read_text(encoding="utf-8"))
    for name in record["maplibre-gl"]["files"]:
        assert (vendor / "maplibre-gl" / name).is_file(), name


_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/maplibre-gl/maplibre-gl.css">
<style>html,body,#map{margin:0;width:400px;height:300px}</style></head><body><div id="map"></div>
<script type="module">
import * as maplibregl from "/maplibre-gl/maplibre-gl.mjs";
const map = new maplibregl.Map({container: "map", center: [47.15, 39.62], zoom: 12, attributionControl: false,
  style: {version: 8, sources: {hz: {type: "geojson", data: {type: "Feature", properties: {},
    geometry: {type: "Polygon", coordinates: [[[47.13, 39.60], [47.17, 39.60], [47.17, 39.64], [47.13, 39.64],
    [47.13, 39.60]]]}}}},
    layers: [{id: "bg", type: "background", paint: {"background-color": "#ffffff"}},
             {id: "cha", type: "fill", source: "hz", paint: {"fill-color": "#d7191c"}}]}});
map.on("idle", () => { window.mapIdle = true; });
map.on("error", (e) => { window.mapError = String(e.error && e.error.message); });
</script></body></html>"""


def test_maplibre_draws_a_hazard_area_offline_in_chromium(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(Path(str(files("safeground") / "web" / "static" / "vendor")), site)
    (site / "index.html").write_text(_PAGE, encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with offline_page(viewport={"width": 400, "height": 300}) as (page, blocked):
            page.goto(f"http://127.0.0.1:{server.server_port}/index.html")
            page.wait_for_function("window.mapIdle === true || window.mapError !== undefined", timeout=60_000)
            assert page.evaluate("window.mapError") is None
            shot = tmp_path / "map.png"
            page.screenshot(path=str(shot))
    finally:
        server.shutdown()
    assert blocked == []
    from PIL import Image

    img = Image.open(shot).convert("RGB")
    centre, corner = img.getpixel((200, 150)), img.getpixel((5, 5))
    assert centre[0] > 180 and centre[1] < 80 and centre[2] < 80, centre  # the CHA, red
    assert min(corner) > 240, corner  # the ground around it, white
