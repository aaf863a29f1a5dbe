"""The risk map as PNG tiles on a real uvicorn: the pixels are the raster's values in the legend's colours,
exactly for the restricted audience and in 1 km cells at their highest risk for everyone else.

The map is made by the real pipeline (``risk train``, ``risk predict --save``) on the small district.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer

from safeground.services import accounts as acc_svc
from safeground.storage import open_store
from safeground.web.tiles import lonlat_to_tile, tile_bounds
from tests.conftest import invoke_cli
from tests.web_server import serve_cli

PASSWORD = "the long road to Chaykend"


@pytest.fixture(scope="module")
def served(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str, Path]]:
    """(URL, store, the analyst's token, the risk map's file)."""
    tmp = tmp_path_factory.mktemp("risk-tiles")
    store = tmp / "s.gpkg"
    shutil.copy(small_store, store)
    model, cog = tmp / "m.joblib", tmp / "risk.tif"
    for args in (
        ("risk", "train", "--store", str(store), "--out", str(model), "--cell", "50"),
        ("risk", "predict", "--model", str(model), "--store", str(store), "--out", str(cog), "--save"),
    ):
        res = invoke_cli(*args)
        assert res.returncode == 0, res.stderr
    if not [o for o in acc_svc.organisations(str(store)) if o.acronym == "NMAA"]:
        acc_svc.add_organisation(str(store), "Org NMAA", "national_authority", acronym="NMAA", actor="setup")
    acc_svc.add_user(str(store), "ana", full_name="ana", organisation="NMAA", role="analyst", password=PASSWORD,
                     actor="setup")  # fmt: skip
    token = acc_svc.add_token(str(store), "ana", "map", actor="setup")
    with serve_cli(str(store)) as url:
        yield url, store, token, cog


def _get(url: str, path: str, token: str | None = None) -> httpx.Response:
    return httpx.get(url + path, headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=120)


def _pixel_centres(z: int, y: int, x: int, crs: object) -> tuple[np.ndarray, np.ndarray]:
    """The centre of each of a tile's 256 × 256 pixels in the raster's CRS."""
    w, _s, e, n = tile_bounds(z, y, x)
    step = (e - w) / 256
    xs = w + (np.arange(256) + 0.5) * step
    ys = n - (np.arange(256) + 0.5) * step
    mx, my = np.meshgrid(xs, ys)
    t = Transformer.from_crs(3857, crs, always_xy=True)
    return t.transform(mx, my)


def _expected(cog: Path, z: int, y: int, x: int, block: int) -> np.ndarray:
    """The raster value under each pixel's centre, the raster first taken in blocks of ``block`` cells at their
    highest value (1: as predicted). Computed here from the file, not by the server's code."""
    with rasterio.open(cog) as src:
        arr = src.read(1).astype(float)
        cx, cy = _pixel_centres(z, y, x, src.crs)
        inv = ~src.transform
        col, row = inv * (cx, cy)
        col, row = np.floor(col).astype(int), np.floor(row).astype(int)
    out = np.full(col.shape, np.nan)
    inside = (row >= 0) & (row < arr.shape[0]) & (col >= 0) & (col < arr.shape[1])
    if block > 1:
        rb, cb = row // block, col // block
        blocks = {}
        for r, c in set(zip(rb[inside].tolist(), cb[inside].tolist(), strict=True)):
            part = arr[r * block : (r + 1) * block, c * block : (c + 1) * block]
            blocks[r, c] = np.nanmax(part) if np.isfinite(part).any() else np.nan
        out[inside] = [blocks[r, c] for r, c in zip(rb[inside].tolist(), cb[inside].tolist(), strict=True)]
    else:
        out[inside] = arr[row[inside], col[inside]]
    return out


def _colours(legend: dict, values: np.ndarray) -> np.ndarray:
    """RGBA expected for each value from the legend the server publishes (no value: transparent)."""
    out = np.zeros((*values.shape, 4), np.uint8)
    for i, c in enumerate(legend["classes"]):
        last = i == len(legend["classes"]) - 1
        sel = (values >= c["min"]) & ((values <= c["max"]) if last else (values < c["max"]))
        rgb = [int(c["colour"][k : k + 2], 16) for k in (1, 3, 5)]
        out[sel] = [*rgb, round(c["opacity"] * 255)]
    return out


def _tile(url: str, z: int, y: int, x: int, token: str | None) -> np.ndarray:
    r = _get(url, f"/risk/tiles/{z}/{x}/{y}.png", token)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png", r.text
    return np.asarray(Image.open(io.BytesIO(r.content)).convert("RGBA"))


@pytest.mark.parametrize("who", ["public", "analyst"])
def test_the_pixels_are_the_maps_values_in_the_legends_colours(served, who):
    url, store, token, cog = served
    token = token if who == "analyst" else None
    legend = _get(url, "/risk/legend", token).json()
    with rasterio.open(cog) as src:
        cell = abs(src.transform.a)
    assert legend["cell_m"] == (cell if who == "analyst" else pytest.approx(1000, rel=0.05))
    assert legend["generalised"] is (who == "public") and set(legend["title"]) == {"en", "az", "ru"}
    block = 1 if who == "analyst" else round(1000 / cell)
    with open_store(str(store), create=False, readonly=True) as s:
        w, so, e, n = s.area_of_interest()
    z = 15 if who == "analyst" else 13  # a level where the tile spans several of the cells served
    y, x = lonlat_to_tile(z, (w + e) / 2, (so + n) / 2)
    got = _tile(url, z, y, x, token)
    want = _colours(legend, _expected(cog, z, y, x, block))
    same = (got == want).all(axis=2)
    assert same.mean() > 0.98, same.mean()  # pixels on a cell edge may fall either side
    assert len({tuple(p) for p in got.reshape(-1, 4) if p[3]}) >= 2  # the tile shows more than one class
    if who == "public":  # the classes rank the 1 km cells by their highest risk: thresholds of their own
        exact = _get(url, "/risk/legend", served[2]).json()
        assert [c["min"] for c in legend["classes"]][1:] != [c["min"] for c in exact["classes"]][1:]
        assert legend["classes"][-1]["min"] > exact["classes"][-1]["min"]  # a cell's peak, not a cell


def test_tilejson_outside_tiles_and_no_map(served, tmp_path, small_store):
    url, _, _, _ = served
    meta = _get(url, "/risk/tiles").json()
    assert meta["tiles"] == [url + "/risk/tiles/{z}/{x}/{y}.png"] and meta["legend"] == url + "/risk/legend"
    assert "raster" not in json.dumps(meta) and "raster" not in _get(url, "/risk/legend").text  # no server path
    far = _tile(url, 3, 0, 0, None)  # nowhere near the district: transparent
    assert far.shape == (256, 256, 4) and (far[..., 3] == 0).all()
    assert _get(url, "/risk/tiles/3/9/0.png").status_code == 404
    bare = tmp_path / "bare.gpkg"
    shutil.copy(small_store, bare)
    with serve_cli(str(bare)) as other:
        r = _get(other, "/risk/tiles/15/0/0.png")
        assert r.status_code == 404 and r.json()["code"] == "not_found" and r.json()["hint"]
