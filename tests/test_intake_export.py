"""Exports: every record and geometry comes back equal; restricted data stays out unless asked for."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from safeground.access import Audience
from safeground.errors import InvalidInput
from safeground.intake.export import export_layer
from safeground.intake.features import import_features
from safeground.model import RECORD_TYPES, EOItem, VictimIdentity
from safeground.storage import open_store
from safeground.storage.base import Store
from tests.conftest import invoke_cli
from tests.samples import sample


def _fill(store: Store) -> None:
    store.add_many([sample(cls, i) for cls in RECORD_TYPES.values() for i in (1, 2, 3)])


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv"])
def test_round_trip_every_layer(store: Store, tmp_path: Path, fmt: str):
    _fill(store)
    target = open_store(str(tmp_path / "new.gpkg"))
    order = ["organisations", "admin_areas", "minefield_records", "hazard_areas", "activities", "accidents"]
    layers = order + [name for name in RECORD_TYPES if name not in order]
    for layer in layers:
        cls = RECORD_TYPES[layer]
        used = fmt if cls.GEOMETRY is not None else "csv"  # tables travel as CSV
        out = tmp_path / f"{layer}.{used}"
        n, _ = export_layer(store, layer, out, fmt=used, audience=Audience.RESTRICTED)
        assert n == 3
        import_features(target, layer, out)
        before = [r.model_dump() for r in store.find(cls)]
        after = [r.model_dump() for r in target.find(cls)]
        assert after == before, layer  # every field, the exact geometry (WKT of doubles), versions and dates
    target.close()


def test_csv_has_hxl_row_and_restricted_layers_need_asking(store: Store, tmp_path: Path):
    _fill(store)
    out = tmp_path / "victims.csv"
    n, _ = export_layer(store, "victims", out, fmt="csv", audience=Audience.RESTRICTED)
    rows = list(csv.reader(out.open()))
    assert n == 3 and len(rows) == 2 + 3
    assert rows[1][rows[0].index("uid")] == "#meta+id" and all(t.startswith("#") for t in rows[1])
    assert rows[1][rows[0].index("date_of_information")] == "#date+reported"
    with pytest.raises(InvalidInput, match="restricted"):
        export_layer(store, VictimIdentity.LAYER, tmp_path / "ids.csv")
    assert not (tmp_path / "ids.csv").exists()
    _, left_out = export_layer(store, VictimIdentity.LAYER, tmp_path / "ids.csv", audience=Audience.RESTRICTED)
    header = next(csv.reader((tmp_path / "ids.csv").open()))
    assert left_out == [] and {"full_name", "contact"} <= set(header)


@pytest.mark.parametrize("layer", ["hazard_areas", "eo_items"])
def test_kml_export_imports_back_into_the_same_store_unchanged(store: Store, tmp_path: Path, layer: str):
    """KML keeps fewer digits than the store: a re-import of it must not look like a change."""
    _fill(store)
    out = tmp_path / f"{layer}.kml"
    export_layer(store, layer, out, audience=Audience.RESTRICTED)  # exact mine positions: an authorised copy
    rep = import_features(store, layer, out)
    assert rep.counts == {"create": 0, "update": 0, "unchanged": 3, "older": 0}


def test_a_changed_value_with_the_same_date_names_the_field(store: Store, tmp_path: Path):
    _fill(store)
    out = tmp_path / "eo.csv"
    export_layer(store, "eo_items", out, audience=Audience.RESTRICTED)
    rows = list(csv.reader(out.open()))
    col = rows[0].index("depth_cm")
    old = rows[2][col]
    rows[2][col] = "99.5"
    with out.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(InvalidInput) as exc:
        import_features(store, "eo_items", out)
    (p,) = exc.value.problems
    assert p.item.startswith("row 3") and f"depth_cm {float(old) if old else '(empty)'} → 99.5" in p.reason
    assert "same date_of_information" in p.reason


def test_kml_export_opens_in_gdal_with_positions(store: Store, tmp_path: Path):
    _fill(store)
    out = tmp_path / "eo.kml"
    export_layer(store, "eo_items", out, audience=Audience.RESTRICTED)
    frame = pyogrio.read_dataframe(out)
    assert len(frame) == 3
    got = np.sort(shapely.get_coordinates(frame.geometry.to_numpy())[:, 0])
    want = np.sort([r.geometry.x for r in store.find(EOItem)])
    assert np.allclose(got, want, atol=1e-9)


def test_cli_export(tmp_path: Path):
    from tests.conftest import invoke_cli

    db = tmp_path / "s.gpkg"
    s = open_store(str(db))
    _fill(s)
    s.close()
    res = invoke_cli("export", "layer", "victims", "--store", str(db), "--format", "csv",
                     "--out", str(tmp_path / "v.csv"), "--include-restricted")  # fmt: skip
    assert res.returncode == 0 and "exported 3 record(s) of victims" in res.stdout, res.stderr
    # for the public, three victims cannot be k-anonymous (k=5): every row is withheld, and the note says so
    res = invoke_cli(
        "export", "layer", "victims", "--store", str(db), "--format", "csv", "--out", str(tmp_path / "v.csv")
    )
    assert res.returncode == 0 and "exported 0 record(s) of victims" in res.stdout, res.stderr
    assert "3 row(s) withheld" in " ".join(res.stdout.split())
    res = invoke_cli("export", "layer", "victim_identities", "--store", str(db), "--out", str(tmp_path / "i.csv"))
    assert res.returncode == 2 and "restricted" in res.stderr and not (tmp_path / "i.csv").exists()
    res = invoke_cli(
        "export", "layer", "eo_items", "--store", str(db), "--format", "kml", "--out", str(tmp_path / "eo.kml")
    )
    assert res.returncode == 0 and len(pyogrio.read_dataframe(tmp_path / "eo.kml")) == 3


def test_exact_mine_and_accident_positions_are_aggregated_per_cell_unless_asked(store: Store, tmp_path: Path):
    from pyproj import Transformer

    from safeground.model import Accident
    from safeground.storage.base import metric_epsg

    _fill(store)
    for cls in (EOItem, Accident):
        out = tmp_path / f"{cls.LAYER}.csv"
        n, left_out = export_layer(store, cls.LAYER, out)
        assert any("aggregated" in x for x in left_out)
        rows = list(csv.DictReader(out.open()))[1:]  # the HXL row first
        assert "uid" not in rows[0]  # no individual record leaves
        epsg = metric_epsg(store, store.read_frame(cls))
        to_m = Transformer.from_crs(4326, epsg, always_xy=True)
        exact = [to_m.transform(r.geometry.x, r.geometry.y) for r in store.find(cls)]
        cells: dict[tuple[int, int], int] = {}
        for x, y in exact:
            cells[(int(x // 1000), int(y // 1000))] = cells.get((int(x // 1000), int(y // 1000)), 0) + 1
        assert n == len(rows) == len(cells)
        assert sum(int(r["count"]) for r in rows) == len(exact)
        for row in rows:
            x, y = to_m.transform(float(row["lon"]), float(row["lat"]))
            assert abs(x % 1000 - 500) < 0.01 and abs(y % 1000 - 500) < 0.01  # a cell centre
            assert int(row["count"]) == cells[(int(x // 1000), int(y // 1000))]
    # hazard areas are public warnings: exact
    n, left_out = export_layer(store, "hazard_areas", tmp_path / "ha.geojson")
    assert not any("exact positions" in x for x in left_out)


def test_public_kml_of_the_demo_mines_counts_per_cell_instead_of_stacking(demo_dir: Path, tmp_path: Path):
    out = tmp_path / "eo.kml"
    res = invoke_cli("export", "layer", "eo_items", "--store", str(demo_dir / "demo.gpkg"), "--format", "kml",
                     "--out", str(out))  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "aggregated" in res.stdout and "cell(s)" in res.stdout
    kml = pyogrio.read_dataframe(out)
    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        items = s.count(EOItem)
    assert kml["count"].astype(int).sum() == items
    assert len(kml) == len(set(zip(kml.geometry.x.round(7), kml.geometry.y.round(7), strict=True)))  # one per place
    assert all(n.endswith(" items") for n in kml["Name"])
