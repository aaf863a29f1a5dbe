"""The analysis services called directly, as the server will call them: the same results as the command line
and as the domain functions they orchestrate, with no CLI in between."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from safeground.access import Audience
from safeground.errors import InvalidInput, SafeGroundError
from safeground.minemaps.accuracy import AccuracyOptions, assess_store, to_json
from safeground.model import PredictedHazard, RecordAssessment
from safeground.risk.pipeline import RiskSettings
from safeground.services.maps import assess_accuracy, draw_traverse, save_traverse
from safeground.services.reports import risk_per_hazard_area, write_report
from safeground.services.risk import RiskInputs, predict_map, train_model
from safeground.services.scans import FitTooRough, UnknownControlPoints, fit_control_points, place_digitised
from safeground.storage import open_store
from tests.conftest import run_cli


def _copy(store: Path, tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    shutil.copy(store, path)
    return str(path)


# ------------------------------------------------------------------ risk


@pytest.fixture(scope="module")
def small_model(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("svc-risk") / "m.joblib"
    steps: list[tuple[str, int, int]] = []
    trained = train_model(
        RiskInputs(store=str(small_store)), RiskSettings(cell_m=50.0), out, progress=lambda *a: steps.append(a)
    )
    assert out.exists() and out.with_suffix(".joblib.json").exists()
    card = json.loads(out.with_suffix(".joblib.json").read_text())
    assert trained.version == card["version"] and trained.positive_cells > 0 and trained.negative_cells > 0
    assert steps[0] == ("starting", 0, 0) and "fitting the model" in [s[0] for s in steps]
    return out


def test_predicted_hazards_the_service_registers_are_those_the_command_registers(small_store, small_model, tmp_path):
    """One path for the map: the service's polygons, stored and registered, are the command line's."""
    as_of = date(2022, 6, 30)
    by_service = _copy(small_store, tmp_path, "service.gpkg")
    steps: list[tuple[str, int, int]] = []
    rm = predict_map(
        small_model,
        RiskInputs(store=by_service),
        tmp_path / "service.tif",
        as_of=as_of,
        top=0.05,
        save=True,
        tile=32,
        progress=lambda *a: steps.append(a),
    )
    assert rm.saved == len(rm.polygons) > 0
    assert steps[-1][1] == steps[-1][2] > 1  # every tile reported, more than one tile
    by_cli = _copy(small_store, tmp_path, "cli.gpkg")
    res = run_cli("risk", "predict", "--model", str(small_model), "--store", by_cli, "--out", str(tmp_path / "cli.tif"),
                  "--as-of", str(as_of), "--top", "0.05", "--tile", "32", "--save")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"saved {rm.saved} polygons" in res.stdout
    frames = {}
    for path in (by_service, by_cli):
        with open_store(path, readonly=True) as s:
            frames[path] = s.read_frame(PredictedHazard).sort_values("uid")
            latest = json.loads(s.get_meta("risk.latest"))
        assert latest["polygons"] == rm.saved and latest["threshold"] == pytest.approx(rm.threshold)
    mine, theirs = frames[by_service], frames[by_cli]
    assert list(mine["uid"]) == list(theirs["uid"])
    assert list(mine["mean_risk"]) == pytest.approx(list(theirs["mean_risk"]))
    assert list(mine["area_m2"]) == pytest.approx(list(theirs["area_m2"]))
    for a, b in zip(mine.geometry, theirs.geometry, strict=True):
        assert shapely.equals_exact(a, b, tolerance=1e-9)
    assert mine["raster"].iloc[0] == str((tmp_path / "service.tif").resolve())


def test_predicting_with_save_but_no_store_is_refused_before_any_work(small_model, tmp_path):
    with pytest.raises(SafeGroundError, match="needs a store"):
        predict_map(small_model, RiskInputs(events=tmp_path / "e.csv", target="a in 1"), tmp_path / "r.tif",
                    as_of=date(2022, 6, 30), save=True)  # fmt: skip
    assert not (tmp_path / "r.tif").exists()


# ------------------------------------------------------------------ minefield records


def test_map_accuracy_service_equals_assess_store_and_saves_every_record(small_store, tmp_path):
    path = _copy(small_store, tmp_path, "acc.gpkg")
    opts = AccuracyOptions()
    with open_store(path, readonly=True) as s:
        expected = to_json(assess_store(s, opts))
    steps: list[tuple[str, int, int]] = []
    done = assess_accuracy(path, opts, save=True, progress=lambda *a: steps.append(a))
    assert to_json(done.results) == expected and len(done.results) > 0
    assert steps[-1] == ("assessing records", len(done.results), len(done.results))
    assert done.saved is not None and len(done.saved) == len(done.results)
    with open_store(path, readonly=True) as s:
        stored = s.read_frame(RecordAssessment)
    assert sorted(stored["uid"]) == sorted(done.saved)
    assert sorted(stored["minefield_record_uid"]) == sorted(r.uid for r in done.results)


def test_assess_store_on_dask_gives_what_it_gives_here(small_store):
    from safeground.compute import client_for

    opts = AccuracyOptions()
    steps: list[tuple[str, int, int]] = []
    with open_store(str(small_store), readonly=True) as s, client_for(workers=2, processes=False) as client:
        here = assess_store(s, opts)
        there = assess_store(s, opts, client=client, progress=lambda *a: steps.append(a))
    assert to_json(there) == to_json(here)
    assert steps == [(f"assessing {len(here)} records on Dask", 0, len(here))]


def test_a_traverse_saved_twice_is_stored_once(tmp_path):
    import yaml

    from safeground.model import EOItem, MinefieldRecord
    from tests.test_traverse import square

    f = tmp_path / "mf.yaml"
    f.write_text(yaml.safe_dump(square("magnetic").model_dump(mode="json", by_alias=True)))
    store = str(tmp_path / "t.gpkg")
    open_store(store).close()
    drawn = draw_traverse(f, 5.0)
    assert drawn.result.misclosure_m is not None and drawn.result.misclosure_m < 0.01
    first, again = save_traverse(store, drawn), save_traverse(store, draw_traverse(f, 5.0))
    assert (first.action, first.mines_created) == ("create", 23)
    assert again.action == "unchanged" and again.uid == first.uid
    with open_store(store, readonly=True) as s:
        assert s.count(MinefieldRecord) == 1 and s.count(EOItem) == 23


# ------------------------------------------------------------------ reports


def test_report_service_writes_for_its_audience_and_names_bad_risk_rows(small_store, tmp_path):
    public = write_report("casualties", str(small_store), tmp_path / "pub", Audience.PUBLIC, pdf=False)
    restricted = write_report("casualties", str(small_store), tmp_path / "res", Audience.RESTRICTED, pdf=False)
    assert public.pdf is None and public.html.exists() and public.html.parent == tmp_path / "pub"
    assert "audience: public" in public.html.read_text() and "audience: restricted" in restricted.html.read_text()
    with pytest.raises(SafeGroundError, match="unknown report"):
        write_report("weekly", str(small_store), tmp_path / "x")
    bad = tmp_path / "risk.csv"
    bad.write_text("uid,risk\nSHA-00001,0.2\nSHA-00002,high\n")
    with pytest.raises(InvalidInput) as exc:
        risk_per_hazard_area(bad)
    assert [(p.item, p.field, p.value) for p in exc.value.problems] == [("row 3", "risk", "high")]
    assert risk_per_hazard_area(None, None) is None


# ------------------------------------------------------------------ scans


def test_fit_refusals_carry_what_the_caller_shows(tmp_path):
    from tests.test_georef import known, write_gcps

    gcps = tmp_path / "gcps.csv"
    write_gcps(gcps, known("affine"), noise_m=0.5, blunder="L3")
    with pytest.raises(FitTooRough) as rough:
        fit_control_points(gcps, method="affine", max_rms_m=5.0)
    assert rough.value.georeference.worst == "L3" and rough.value.georeference.rms_m > 5.0
    assert "--" not in str(rough.value)  # the service names no command-line option
    with pytest.raises(UnknownControlPoints) as unknown:
        fit_control_points(gcps, method="affine", exclude=["L3", "L99"])
    assert unknown.value.unknown == ["L99"] and "L3" in unknown.value.known
    geo = fit_control_points(gcps, method="affine", exclude=["L3"], max_rms_m=5.0)
    assert geo.rms_m < 1.0
    digitised = tmp_path / "pts.csv"
    digitised.write_text("col,row\n400,300\n")
    placed = place_digitised(geo, digitised, out=tmp_path / "pts.geojson")
    tx, ty = known("affine").to_world(np.array([400.0]), np.array([300.0]))  # where the pixel really is
    x, y = Transformer.from_crs(4326, 32638, always_xy=True).transform(*placed.features[0].geometry.coords[0])
    assert np.hypot(x - tx[0], y - ty[0]) < 2.0
    assert len(json.loads((tmp_path / "pts.geojson").read_text())["features"]) == 1
