"""Inputs that reach outside (issue 16, point 7): an import reads the file it is given, nothing else.

A GDAL VRT imported another local file's content, and one using ``/vsicurl/``
made an HTTP request. A local HTTP server on 127.0.0.1 counts the requests it
receives: the control (plain GDAL, outside SafeGround) shows it would see them.
"""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.conftest import run_cli

HAZARD = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[47.1, 39.6], [47.101, 39.6], [47.101, 39.601], [47.1, 39.6]]],
            },
            "properties": {
                "name": "SECRET-SOURCE",
                "date_of_information": "2021-01-01",
                "classification": "suspected_hazardous_area",
                "status": "open",
            },
        }
    ],
}


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Counter.hits.append(self.path)
        body = json.dumps(HAZARD).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    _Counter.hits = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", _Counter.hits
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def store(small_store: Path, tmp_path: Path) -> Path:
    p = tmp_path / "s.gpkg"
    shutil.copy(small_store, p)
    return p


def _vrt(source: str) -> str:
    return (
        '<OGRVRTDataSource><OGRVRTLayer name="hz">'
        f"<SrcDataSource>{source}</SrcDataSource><SrcLayer>hz</SrcLayer>"
        "</OGRVRTLayer></OGRVRTDataSource>"
    )


def _hazard_names(store: Path) -> set[str | None]:
    from safeground.model import HazardArea
    from safeground.storage import open_store

    with open_store(str(store), readonly=True) as s:
        return {h.name for h in s.find(HazardArea)}


def test_a_vrt_pointing_at_a_local_file_is_refused(store: Path, tmp_path: Path):
    other = tmp_path / "hz.geojson"
    other.write_text(json.dumps(HAZARD), encoding="utf-8")
    vrt = tmp_path / "hazards.vrt"
    vrt.write_text(_vrt(str(other)), encoding="utf-8")
    res = run_cli("import", "hazard_areas", str(vrt), "--store", str(store))
    assert res.returncode == 2 and "not a format SafeGround imports" in res.stderr, res.stderr
    assert "SECRET-SOURCE" not in _hazard_names(store)


def test_a_vrt_using_vsicurl_makes_no_request(store: Path, tmp_path: Path, server: tuple[str, list[str]]):
    url, hits = server
    vrt = tmp_path / "hazards.vrt"
    vrt.write_text(_vrt(f"/vsicurl/{url}/hz.geojson"), encoding="utf-8")
    res = run_cli("import", "hazard_areas", str(vrt), "--store", str(store))
    assert res.returncode == 2
    assert hits == []
    assert "SECRET-SOURCE" not in _hazard_names(store)


def test_a_disguised_vrt_is_refused_with_no_request(store: Path, tmp_path: Path, server: tuple[str, list[str]]):
    url, hits = server
    text = _vrt(f"/vsicurl/{url}/hz.geojson")
    disguises = [tmp_path / "hazards.geojson", tmp_path / "hazards.kml", tmp_path / "hazards.gpkg"]
    for p in disguises:
        p.write_text(text, encoding="utf-8")
    zipped = tmp_path / "hazards.zip"
    with zipfile.ZipFile(zipped, "w") as z:  # a zip of one file: GDAL opens that file, whatever its name
        z.writestr("hazards.dbf", text)
    for p in [*disguises, zipped]:
        res = run_cli("import", "hazard_areas", str(p), "--store", str(store))
        assert res.returncode == 2, (p.name, res.stdout)
        assert "Traceback" not in res.stderr
    assert hits == []
    assert "SECRET-SOURCE" not in _hazard_names(store)


def test_gdal_network_is_off_in_the_process(server: tuple[str, list[str]]):
    import os

    from safeground.intake.confine import _NO_NETWORK

    url, hits = server
    # plain GDAL, as outside SafeGround: without the switches an earlier test may have set in this environment
    plain = {k: v for k, v in os.environ.items() if k not in _NO_NETWORK}
    control = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import pyogrio\ntry:\n pyogrio.read_info('/vsicurl/{url}/control.geojson')\nexcept Exception:\n pass",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=plain,
    )
    assert control.returncode == 0, control.stderr
    assert hits, "plain GDAL did not reach the test server: this test could not see a request"
    seen = len(hits)

    import pyogrio

    from safeground.intake.confine import network_off

    network_off()
    with pytest.raises(Exception):  # noqa: B017 (GDAL reports a missing file in several ways)
        pyogrio.read_info(f"/vsicurl/{url}/in-process.geojson")
    assert len(hits) == seen


def test_an_undocumented_format_is_refused(store: Path, tmp_path: Path):
    gml = tmp_path / "hazards.gml"
    gml.write_text('<?xml version="1.0"?><ogr:FeatureCollection xmlns:ogr="http://ogr.maptools.org/"/>')
    res = run_cli("import", "hazard_areas", str(gml), "--store", str(store))
    assert res.returncode == 2 and "'.gml' is not a format SafeGround imports" in res.stderr
    assert "GeoJSON, GeoPackage" in res.stderr  # the fix names what is accepted


def _raster_vrt(source: str) -> str:
    return (
        '<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
        f"<SimpleSource><SourceFilename>{source}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>"
        "</VRTRasterBand></VRTDataset>"
    )


def test_a_raster_vrt_named_as_a_scan_or_a_dem_is_refused_with_no_request(
    tmp_path: Path, server: tuple[str, list[str]]
):
    """Scans (``scan georef``) and elevation models (``risk --dem``) are opened by rasterio's own GDAL."""
    from safeground.errors import InvalidInput
    from safeground.intake.confine import check_raster_file
    from safeground.intake.geotiff import read_scan

    url, hits = server
    for name in ("scan.tif", "scan.png", "scan.jpg", "scan.vrt"):
        p = tmp_path / name
        p.write_text(_raster_vrt(f"/vsicurl/{url}/dem.tif"), encoding="utf-8")
        with pytest.raises(InvalidInput) as err:
            read_scan(p)
        assert err.value.problems[0].source == name
        with pytest.raises(InvalidInput):
            check_raster_file(p, what="elevation model")
    with pytest.raises(InvalidInput, match="virtual or network"):
        check_raster_file(Path(f"/vsicurl/{url}/dem.tif"))
    assert hits == []


def test_a_real_png_scan_still_reads(tmp_path: Path):
    import numpy as np
    from PIL import Image

    from safeground.intake.geotiff import read_scan

    p = tmp_path / "scan.png"
    Image.fromarray(np.full((12, 20, 3), 200, np.uint8)).save(p)
    assert read_scan(p).shape == (3, 12, 20)


def test_risk_events_and_batch_check_inputs_refuse_a_disguised_vrt(
    store: Path, tmp_path: Path, server: tuple[str, list[str]]
):
    from safeground.errors import InvalidInput
    from safeground.risk.layers import read_events

    url, hits = server
    fake = tmp_path / "events.geojson"
    fake.write_text(_vrt(f"/vsicurl/{url}/hz.geojson"), encoding="utf-8")
    with pytest.raises(InvalidInput):
        read_events(fake)
    res = run_cli("check", "--batch", str(fake), "--store", str(store), "--out", str(tmp_path / "out.csv"))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert not (tmp_path / "out.csv").exists()
    assert hits == []
