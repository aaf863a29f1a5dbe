"""Minefield records drawn by bearing and distance: points, perimeter, mines, declination, misclosure."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from safeground.errors import InvalidInput
from safeground.geometry.projection import area_m2
from safeground.minemaps.traverse import TraverseRecord, read_record, solve


def square(bearing_ref: str = "grid", declination: float | None = None, offset: float = 0.0, stretch: float = 0.0):
    legs = [
        {"label": "BM", "role": "benchmark", "bearing_deg": (90 + offset) % 360, "distance_m": 50.0},
        {"label": "TP1", "role": "start", "bearing_deg": (90 + offset) % 360, "distance_m": 20.0},
        {"label": "TP2", "role": "turning", "bearing_deg": (0 + offset) % 360, "distance_m": 100.0 + stretch},
        {"label": "TP3", "role": "turning", "bearing_deg": (90 + offset) % 360, "distance_m": 100.0},
        {"label": "TP4", "role": "turning", "bearing_deg": (180 + offset) % 360, "distance_m": 100.0},
        {"label": "TP1", "role": "end", "bearing_deg": (270 + offset) % 360, "distance_m": 100.0},
    ]
    return TraverseRecord.model_validate(
        {
            "source": "test",
            "date": "2021-06-12",
            "bearing_reference": bearing_ref,
            "declination_deg": declination,
            "start": {"label": "LM", "lon": 47.15, "lat": 39.62},
            "legs": legs,
            "rows": [{"label": "R1", "from": "TP1", "to": "TP2", "mine_type": "ap_blast", "mine_count": 23}],
        }
    )


def test_a_closed_square_closes_and_has_its_area():
    res = solve(square())
    assert res.misclosure_m is not None and res.misclosure_m < 0.01
    assert area_m2(res.perimeter) == pytest.approx(10_000.0, rel=0.002)
    ((label, eo_type, _, xy),) = res.mines
    assert label == "R1" and eo_type.value == "ap_blast" and len(xy) == 23
    assert "grid bearings" in res.bearing_note


def test_magnetic_bearings_are_turned_by_declination_and_convergence():
    mag = solve(square("magnetic", declination=6.0))
    conv = float(mag.bearing_note.split("grid convergence ")[1].split("°")[0])
    grid = solve(square("grid", offset=6.0 - conv))
    for label in ("BM", "TP1", "TP2", "TP3", "TP4"):
        assert np.allclose(mag.points[label], grid.points[label], atol=1e-7)
    assert "declination +6.00° (as given on the record" in mag.bearing_note


def test_declination_comes_from_the_world_magnetic_model_when_not_given():
    res = solve(square("magnetic"))
    assert "WMM2020" in res.bearing_note
    decl = float(res.bearing_note.split("declination ")[1].split("°")[0])
    assert 5.0 < decl < 7.5  # about +6° east at 39.6 N 47.2 E in 2021


def test_misclosure_above_the_threshold_is_refused_with_the_figure():
    with pytest.raises(InvalidInput, match=r"misclosure 10\.0 m exceeds the allowed 5 m"):
        solve(square(stretch=10.0))
    assert solve(square(stretch=10.0), max_misclosure_m=15.0).misclosure_m == pytest.approx(10.0, abs=0.05)


def test_bad_record_names_the_leg_and_field(tmp_path):
    data = square().model_dump(mode="json", by_alias=True)
    del data["legs"][2]["bearing_deg"]
    data["legs"][3]["distance_m"] = "a hundred"
    data["rows"][0]["to"] = "TP9"
    f = tmp_path / "mf97.json"
    f.write_text(json.dumps(data))
    with pytest.raises(InvalidInput) as exc:
        read_record(f)
    got = {(p.item, p.field) for p in exc.value.problems}
    assert ("leg 3", "bearing_deg") in got and ("leg 4", "distance_m") in got
    data = square().model_dump(mode="json", by_alias=True)
    data["rows"][0]["to"] = "TP9"
    f.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match="no point TP9"):
        solve(read_record(f))


def test_yaml_records_read_too(tmp_path):
    import yaml

    f = tmp_path / "mf97.yaml"
    f.write_text(yaml.safe_dump(square().model_dump(mode="json", by_alias=True)))
    assert solve(read_record(f)).misclosure_m < 0.01


def test_demo_records_rebuild_from_their_bearings_and_distances(demo_store):
    """The handed-over records carry their chain; solving it must land on the points they state."""
    from safeground.model import MinefieldRecord

    checked = 0
    for rec in list(demo_store.find(MinefieldRecord))[:10]:
        refs = rec.reference_points
        legs = [
            {"label": p.label, "role": p.role, "bearing_deg": p.bearing_deg, "distance_m": p.distance_m}
            for p in refs[1:]
        ]
        tr = TraverseRecord.model_validate(
            {
                "source": rec.source,
                "date": rec.date_received,
                "bearing_reference": "grid",
                "start": {"label": refs[0].label, "lon": refs[0].lon, "lat": refs[0].lat},
                "legs": legs,
            }
        )
        res = solve(tr, max_misclosure_m=None)
        for p in refs[1:]:
            got = shapely.Point(res.points[p.label])
            want = shapely.Point(p.lon, p.lat)
            assert got.distance(want) * 111_000 < 0.5, (rec.uid, p.label)
        checked += 1
    assert checked == 10


def test_traverse_command_prints_and_saves(tmp_path):
    import yaml

    from safeground.model import EOItem, MinefieldRecord
    from safeground.storage import open_store
    from tests.conftest import invoke_cli

    f = tmp_path / "mf97.yaml"
    f.write_text(yaml.safe_dump(square("magnetic").model_dump(mode="json", by_alias=True)))
    store = tmp_path / "s.gpkg"
    open_store(str(store)).close()
    res = invoke_cli("maps", "traverse", str(f), "--store", str(store), "--save")
    assert res.returncode == 0, res.stderr
    assert "WMM2020" in res.stdout and "misclosure" in res.stdout
    with open_store(str(store), readonly=True) as s:
        rec = next(iter(s.find(MinefieldRecord)))
        assert rec.expected_total == 23 and len(rec.reference_points) == 6
        assert s.count(EOItem) == 23
    g = tmp_path / "bad.yaml"
    g.write_text(yaml.safe_dump(square(stretch=12.0).model_dump(mode="json", by_alias=True)))
    res = invoke_cli("maps", "traverse", str(g))
    assert res.returncode == 2 and "misclosure 12.0 m" in res.stderr


def test_saving_the_same_sheet_twice_stores_it_once_and_a_correction_versions_it(store):
    """Source and record number identify a record: a second save must not double its mines."""
    from datetime import date

    from safeground.minemaps.traverse import save_record
    from safeground.model import EOItem, MinefieldRecord

    rec = square().model_copy(update={"source_reference": "No. 97"})
    first = save_record(store, rec, solve(rec), "test")
    assert first.action == "create" and first.mines_created == 23
    again = save_record(store, rec, solve(rec), "test")
    assert again.action == "unchanged" and again.uid == first.uid
    assert store.count(MinefieldRecord) == 1 and store.count(EOItem) == 23
    # the same number, different content, same date: refused, nothing written
    moved = rec.model_copy(update={"start": rec.start.model_copy(update={"lon": 47.1503})})
    with pytest.raises(InvalidInput, match="same date"):
        save_record(store, moved, solve(moved), "test")
    assert store.count(EOItem) == 23 and store.get(MinefieldRecord, first.uid).version == 1
    # a corrected sheet with a later date: new versions, old ones in history, no new records
    fixed = moved.model_copy(update={"date": date(2021, 7, 1)})
    done = save_record(store, fixed, solve(fixed), "test")
    assert (done.action, done.uid, done.mines_updated, done.mines_created) == ("update", first.uid, 23, 0)
    assert store.count(MinefieldRecord) == 1 and store.count(EOItem) == 23
    assert store.get(MinefieldRecord, first.uid).version == 2
    assert len(store.history(EOItem, next(iter(store.find(EOItem))).uid)) == 2
    # the first sheet again: older information, reported, not applied
    old = save_record(store, rec, solve(rec), "test")
    assert old.action == "older" and store.get(MinefieldRecord, first.uid).version == 2


def test_a_last_leg_back_to_the_benchmark_is_a_closure_and_an_open_chain_is_warned_about():
    rec = square().model_dump(mode="json", by_alias=True)
    # close on the benchmark instead of the start point: 20 m west of TP1 … but 12 m short
    rec["legs"].append({"label": "BM", "role": "end", "bearing_deg": 270.0, "distance_m": 8.0})
    with pytest.raises(InvalidInput, match=r"closing on BM.*misclosure 12\.0 m"):
        solve(TraverseRecord.model_validate(rec))
    rec["legs"][-1]["distance_m"] = 20.0
    res = solve(TraverseRecord.model_validate(rec))
    assert res.misclosure_m is not None and res.misclosure_m < 0.01
    assert res.points["BM"] == solve(square()).points["BM"]  # the benchmark stays where it was placed
    open_chain = square().model_dump(mode="json", by_alias=True)
    open_chain["legs"] = open_chain["legs"][:-1]  # never comes back to TP1
    res = solve(TraverseRecord.model_validate(open_chain))
    assert res.misclosure_m is None and any("cannot be checked" in w for w in res.warnings)
