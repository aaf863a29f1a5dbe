"""Map accuracy: matching, systematic error and grades, on planted cases and on the demo truth."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from safeground.generator.config import MATCH_TOLERANCE_M
from safeground.minemaps.accuracy import AccuracyOptions, RecordEvidence, assess_record, assess_store
from safeground.minemaps.alignment import Transform
from safeground.minemaps.matching import match_positions
from safeground.model import GroundTruthItem
from safeground.model.vocab import EOType
from safeground.storage.base import Store


def minefield(rows: int = 3, per_row: int = 30, spacing: float = 4.5, gap: float = 15.0) -> np.ndarray:
    xy = [(1000.0 + i * spacing, 2000.0 + r * gap) for r in range(rows) for i in range(per_row)]
    return np.array(xy)


def evidence(recorded: np.ndarray, found: np.ndarray, cleared: shapely.Geometry) -> RecordEvidence:
    perimeter = shapely.MultiPoint(recorded).convex_hull.buffer(10.0)
    return RecordEvidence(
        uid="MFR-T",
        source="test",
        perimeter=perimeter,
        recorded_uid=np.array([f"EO-{i}" for i in range(len(recorded))]),
        recorded_xy=recorded,
        recorded_type=np.array(["ap_blast"] * len(recorded)),
        found_xy=found,
        found_type=np.array(["ap_blast"] * len(found)),
        cleared=cleared,
    )


def test_matching_is_one_to_one_and_optimal():
    # two recorded mines 3 m apart both near one find: only one may claim it,
    # and the optimal assignment pairs each with its own find
    rec = np.array([[0.0, 0.0], [3.0, 0.0]])
    fnd = np.array([[1.0, 0.0], [4.5, 0.0]])
    m = match_positions(rec, fnd, 5.0)
    assert len(m) == 2
    assert sorted(zip(m.recorded.tolist(), m.found.tolist(), strict=True)) == [(0, 0), (1, 1)]
    greedy_would_double_count = match_positions(rec, fnd[:1], 5.0)
    assert len(greedy_would_double_count) == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(2, 5), st.integers(10, 40), st.floats(0.0, 0.8))
def test_a_record_without_error_scores_one_hundred_percent(rows, per_row, noise):
    truth = minefield(rows, per_row)
    rng = np.random.default_rng(rows * 100 + per_row)
    found = truth + rng.normal(0, noise, truth.shape)
    cleared = shapely.MultiPoint(truth).convex_hull.buffer(30.0)
    res = assess_record(evidence(truth, found, cleared))
    assert res.precision.value == 1.0
    assert res.recall.value == 1.0
    assert res.grade == "A" and res.evidence_kind == "direct"
    assert res.error_stats()["p95"] < 3.0


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.floats(20.0, 350.0),
    st.floats(0.0, 2 * np.pi),
    st.floats(-12.0, 12.0),
    st.booleans(),
)
def test_a_record_shifted_by_a_known_vector_is_recovered(dist, angle, rotation, with_outliers):
    truth = minefield(4, 35)
    center = truth.mean(axis=0)
    shift = dist * np.array([np.cos(angle), np.sin(angle)])
    # the record is the truth moved by the inverse of what we must recover
    wrong = Transform((center[0], center[1]), (shift[0], shift[1]), rotation)
    recorded = wrong.apply(truth)
    rng = np.random.default_rng(int(dist * 10))
    found = truth + rng.normal(0, 0.5, truth.shape)
    if with_outliers:  # scattered items that belong to no row (UXO, nuisance mines)
        found = np.vstack([found, center + rng.uniform(-400, 400, (60, 2))])
    cleared = shapely.MultiPoint(truth).convex_hull.buffer(30.0)
    res = assess_record(evidence(recorded, found, cleared))
    assert res.alignment is not None
    moved = res.alignment.transform.apply(recorded)
    assert np.hypot(*(moved - truth).T).max() < 3.0
    assert res.grade == "B"
    assert res.corrected_precision is not None and (res.corrected_precision.value or 0) > 0.95
    assert res.remaining_corrected.shape == (0, 2)  # all of it was cleared


def test_unverified_when_nothing_was_cleared():
    truth = minefield()
    res = assess_record(evidence(truth, truth + 300.0, shapely.Polygon()))
    assert res.verified == 0 and res.grade == "U" and res.evidence_kind == "indirect"


def test_remaining_mines_are_corrected_and_cleared_ones_are_not_listed():
    truth = minefield(4, 40)
    center = truth.mean(axis=0)
    recorded = Transform((center[0], center[1]), (120.0, -40.0), 4.0).apply(truth)
    # only the western half of the real minefield has been cleared, with the usual
    # margin around the last mines (clearance does not stop at the last mine found)
    west = truth[:, 0] < center[0]
    cleared = (
        shapely.MultiPoint(truth[west]).convex_hull.buffer(30.0).intersection(shapely.box(0, 0, center[0] - 1.0, 5000))
    )
    res = assess_record(evidence(recorded, truth[west], cleared))
    assert res.grade == "B"
    assert len(res.remaining_corrected) == (~west).sum()
    d = np.hypot(*(res.remaining_corrected - truth[~west]).T)
    assert d.max() < 3.0  # where the rest of the record's mines really are


def test_position_along_the_rows_is_ambiguous_when_clearance_stops_at_the_mines():
    truth = minefield(4, 40)
    center = truth.mean(axis=0)
    recorded = Transform((center[0], center[1]), (120.0, -40.0), 4.0).apply(truth)
    west = truth[:, 0] < center[0]
    cleared = shapely.MultiPoint(truth[west]).convex_hull.buffer(1.0)
    res = assess_record(evidence(recorded, truth[west], cleared))
    assert res.alignment is not None and res.alignment.ambiguous
    assert res.grade == "C" and "ambiguous" in res.grade_reason


def test_confidence_interval_narrows_with_evidence():
    small = assess_record(evidence(minefield(1, 12), minefield(1, 12), shapely.box(0, 0, 5000, 5000)))
    big = assess_record(evidence(minefield(10, 120), minefield(10, 120), shapely.box(0, 0, 5000, 5000)))
    assert (small.precision.high - small.precision.low) > 3 * (big.precision.high - big.precision.low)


def _utm(store: Store):
    return Transformer.from_crs(4326, int(store.get_meta("metric_epsg")), always_xy=True)


@pytest.fixture(scope="module")
def demo_results(demo_dir):
    from safeground.storage.base import open_store

    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        return assess_store(s)


def test_demo_accuracy_agrees_with_the_ground_truth(demo_store: Store, demo_results):
    """The reported share of verified recorded mines found where recorded must be what the truth says."""
    results = demo_results
    assert len(results) > 20
    truth = demo_store.read_frame(GroundTruthItem).to_crs(int(demo_store.get_meta("metric_epsg")))
    txy = truth.get_coordinates().to_numpy()
    ttype = truth["eo_type"].to_numpy()
    reported_k = reported_n = truth_k = 0
    for r in results:
        ev = r.evidence
        inside = shapely.contains_xy(ev.cleared, ev.recorded_xy[:, 0], ev.recorded_xy[:, 1])
        if not inside.any():
            continue
        reported_k += r.precision.k
        reported_n += r.precision.n
        for t in np.unique(ev.recorded_type[inside]):
            sel = ev.recorded_type[inside] == t
            tol = MATCH_TOLERANCE_M[EOType(t)]
            truth_k += len(match_positions(ev.recorded_xy[inside][sel], txy[ttype == t], tol))
    assert reported_n > 300
    assert abs(reported_k / reported_n - truth_k / reported_n) < 0.05


def test_demo_estimated_shift_and_rotation_match_what_the_generator_applied(demo_store: Store, demo_results):
    """For records graded B (systematic error, reliable after correction)."""
    errors = json.loads(demo_store.get_meta("generator.record_errors"))
    tr = _utm(demo_store)
    results = [r for r in demo_results if r.grade == "B"]
    assert len(results) >= 5
    good = 0
    for r in results:
        e = errors[r.uid]
        pivot = np.array(tr.transform(*e["pivot_lonlat"]))
        a = np.deg2rad(-e["rotation_deg"])
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        c = np.array(r.alignment.transform.center)
        applied = np.array([e["shift_east_m"], e["shift_north_m"]])
        expected_shift = (c - pivot - applied) @ rot.T + pivot - c
        shift_err = np.hypot(*(np.array(r.alignment.transform.shift) - expected_shift))
        rot_err = abs(r.alignment.transform.rotation_deg + e["rotation_deg"])
        good += shift_err <= 10.0 and rot_err <= 1.5
    # stated tolerance: 10 m and 1.5°, for every record graded B. A correction along periodic rows is graded B
    # only when found row ends with cleared ground past them fix the position along the rows (see
    # AccuracyOptions.min_row_ends_checked), and not when the record moved onto the place of another of its
    # rows fits almost as well (alignment._across_rows_tie). Without these, seed 2020 had 7 of 8 B within.
    # Measured with them: seed 2020: 7 of 7; seeds 7 and 2021 (not checked here): 8 of 10 and 9 of 10 (misses:
    # a slide of 29 m across the rows, and rotations 2–3° off where the cleared part of the record is small).
    assert good == len(results), (good, len(results))


def test_demo_reliable_records_are_the_accurate_ones(demo_store: Store, demo_results):
    errors = json.loads(demo_store.get_meta("generator.record_errors"))
    graded = [r for r in demo_results if r.grade == "A"]
    assert graded
    assert all(errors[r.uid]["error_class"] == "accurate" for r in graded)
    # as of mid-2021 only the first handover batch had arrived, and less ground was cleared
    early = assess_store(demo_store, AccuracyOptions(as_of=date(2021, 6, 30)))
    assert {r.source for r in early} == {"Handover batch 1"}
    full = {r.uid: r for r in demo_results}
    assert sum(r.verified for r in early) < sum(full[r.uid].verified for r in early)


def test_json_rows_are_one_per_record(demo_results):
    from safeground.minemaps.accuracy import to_json

    rows = json.loads(to_json(demo_results))
    assert [r["record"] for r in rows] == [r.uid for r in demo_results]


def test_accuracy_command_formats_and_save(demo_dir, tmp_path):
    import csv
    import shutil
    import subprocess

    from tests.conftest import run_cli

    res = run_cli("maps", "accuracy", "--store", str(demo_dir / "demo.gpkg"), "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert len(rows) > 20 and {"record", "grade", "precision", "shift_east_m"} <= set(rows[0])
    assert {r["grade"] for r in rows} <= {"A", "B", "C", "U"}
    copy = tmp_path / "copy.gpkg"
    shutil.copy(demo_dir / "demo.gpkg", copy)
    res = run_cli("maps", "accuracy", "--store", str(copy), "--save")
    assert res.returncode == 0, res.stderr
    from safeground.model import CorrectedMinePosition, MinefieldRecord, RecordAssessment
    from safeground.storage.base import open_store

    with open_store(str(copy), readonly=True) as s:
        assert s.count(RecordAssessment) == s.count(MinefieldRecord)
        b = [a for a in s.find(RecordAssessment) if a.grade == "B"]
        corrected = s.read_frame(CorrectedMinePosition)
        assert set(corrected["assessment_uid"]) <= {a.uid for a in b}
        # the original records are untouched
        assert all(r.version == 1 for r in s.find(MinefieldRecord))
    # the dossier renders as a real one-page PDF that is not blank
    uid = rows[0]["record"]
    res = run_cli("maps", "dossier", uid, "--store", str(demo_dir / "demo.gpkg"), "--out", str(tmp_path / "d"))
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "d" / f"{uid}.html").read_text()
    assert "Grade" in html and "Method" in html and "SHA-256" in html
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(tmp_path / "d" / f"{uid}.pdf"), str(tmp_path / "d" / "p")],
        check=True,
    )
    pages = sorted((tmp_path / "d").glob("p*.png"))
    assert len(pages) == 1
    import matplotlib.image as mpimg

    img = mpimg.imread(pages[0])
    assert img.shape[0] > img.shape[1]  # A4 portrait
    assert img[..., :3].std() > 0.05
