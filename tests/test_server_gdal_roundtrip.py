"""ogr2ogr's round trip: GDAL's OAPIF driver reads the server as a role, its GPKG driver writes the layers
into a GeoPackage, and the file holds exactly the features that role may read (as the items endpoint
serves them), nothing restricted for the public. pyogrio drives the same GDAL drivers ogr2ogr does.
"""

from __future__ import annotations

import httpx
import numpy as np
import pyogrio
import pytest
import shapely

from tests.test_server_tiles import ROLES, served  # noqa: F401  (the served fixture: one server per backend)

LAYERS = {
    "public": ["hazard_areas", "eo_items", "accidents", "infrastructure_lines"],
    "view": ["hazard_areas", "accidents"],
    "ana": ["accidents", "ground_truth_items"],
}


def _items(url: str, layer: str, token: str | None) -> list[dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out, r = [], httpx.get(url + f"/collections/{layer}/items", params={"limit": 10_000}, headers=headers, timeout=120)
    while True:
        assert r.status_code == 200, r.text
        out += r.json()["features"]
        nxt = [link["href"] for link in r.json()["links"] if link["rel"] == "next"]
        if not nxt:
            return out
        r = httpx.get(nxt[0], headers=headers, timeout=120)


@pytest.mark.parametrize("user", list(ROLES))
def test_ogr2ogr_from_the_server_gives_what_the_role_may_read(served, user, tmp_path):  # noqa: F811
    url, _, tokens = served
    token = tokens[user]
    # QGIS's and ogr2ogr's way to send an API token: GDAL_HTTP_AUTH=BEARER with GDAL_HTTP_BEARER
    pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": "BEARER" if token else None, "GDAL_HTTP_BEARER": token})
    try:
        listed = {name for name, _ in pyogrio.list_layers(f"OAPIF:{url}")}
        out = tmp_path / f"{user}.gpkg"
        for layer in LAYERS[user]:
            frame = pyogrio.read_dataframe(f"OAPIF:{url}", layer=layer)
            pyogrio.write_dataframe(frame, out, layer=layer, driver="GPKG")
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})
    assert ("ground_truth_items" in listed) is (user == "ana")
    for layer in LAYERS[user]:
        got = pyogrio.read_dataframe(out, layer=layer)
        want = _items(url, layer, token)
        key = "uid" if "uid" in got else "cell"
        assert sorted(got[key]) == sorted(f["properties"][key] for f in want) and len(got) > 0, layer
        by_key = {f["properties"][key]: f for f in want}
        geoms = [shapely.geometry.shape(by_key[k]["geometry"]) for k in got[key]]
        same = shapely.equals_exact(got.geometry.to_numpy(), np.array(geoms, dtype=object), tolerance=1e-9)
        assert same.all(), (layer, int((~same).sum()))
        cols = [c for c in got.columns if c != "geometry"]
        extra = set(cols) - set(want[0]["properties"]) - {"id"}
        assert not extra, (layer, extra)  # no field the role does not read
