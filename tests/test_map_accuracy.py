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

from safeground.generator.records import correction_error
from safeground.minemaps.accuracy import AccuracyOptions, RecordEvidence, assess_record, assess_store
from safeground.minemaps.alignment import estimate_alignment
from safeground.minemaps.matching import match_positions
from safeground.minemaps.rowfit import correction_covariance
from safeground.minemaps.transform import Transform
from safeground.model import GroundTruthItem
from safeground.model.minemaps import MATCH_TOLERANCE_M
from safeground.model.vocab import EOType
from safeground.storage.base import Store


def minefield(rows: int = 3, per_row: int = 30, spacing: float = 4.5, gap: float = 15.0) -> np.ndarray:
    xy = [(1000.0 + i * spacing, 2000.0 + r * gap) for r in range(rows) for i in range(per_row)]
    return np.array(xy)


def evidence(
    recorded: np.ndarray, found: np.ndarray, cleared: shapely.Geometry, rows: np.ndarray | None = None
) -> RecordEvidence:
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
        recorded_row=rows,
    )


def drawn_record(
    rows: int, per_row: int, drawing_sigma: float, wrong: Transform, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A minefield (rows 15 m apart, mines 4.5 m apart) and its record as records are made.

    Each row is drawn from its two ends, moved by the record's systematic error ``wrong`` and
    each off by its own drawing error; the recorded mines are spread evenly between them.
    Returns the truth, the recorded positions and the row of each.
    """
    truth, recorded = [], []
    for r in range(rows):
        a = np.array([1000.0, 2000.0 + 15.0 * r])
        b = a + np.array([4.5 * (per_row - 1), 0.0])
        truth.append(np.linspace(a, b, per_row))
        ends = wrong.apply(np.array([a, b])) + rng.normal(0.0, drawing_sigma, (2, 2))
        recorded.append(np.linspace(ends[0], ends[1], per_row))
    return np.vstack(truth), np.vstack(recorded), np.repeat(np.arange(rows), per_row)


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


def test_rotation_uncertainty_of_one_row_is_its_drawn_direction_error():
    # a row drawn between two ends each off by sigma turns by (difference of the across errors) / length:
    # variance 2 sigma^2 / L^2, whether the whole row or a short stretch of it was matched; the finds'
    # own scatter adds sigma_f^2 / sum((x - mean x)^2), which is large on a short stretch
    length, sigma, scatter = 200.0, 3.0, 0.5
    for lo, hi in ((0.0, 1.0), (0.4, 0.55)):
        f = np.linspace(lo, hi, 12)
        src = np.column_stack([1000.0 + length * f, np.full(12, 2000.0)])
        cov = correction_covariance(
            src,
            np.array([1100.0, 2000.0]),
            Transform((1100.0, 2000.0), (0.0, 0.0), 0.0),
            np.zeros(12, int),
            np.tile([1.0, 0.0], (12, 1)),
            f,
            drawing_sigma=sigma,
            scatter_sigma=scatter,
            allow_scale=False,
        )
        x = src[:, 0]
        expected = 2 * sigma**2 / length**2 + scatter**2 / ((x - x.mean()) ** 2).sum()
        assert cov[0, 0] == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_correction_resting_on_two_short_badly_drawn_rows_is_not_graded_b(seed):
    """Grade B promises the correction to 1.5° and 10 m: two rows of 100 m, each end drawn 3 m off, cannot."""
    wrong = Transform((1050.0, 2007.5), (120.0, -40.0), 4.0)
    for drawing_sigma, graded_b in ((3.0, False), (0.3, True)):
        rng = np.random.default_rng(seed)
        truth, recorded, rows = drawn_record(2, 23, drawing_sigma, wrong, rng)
        found = truth + rng.normal(0, 0.3, truth.shape)
        cleared = shapely.MultiPoint(truth).convex_hull.buffer(30.0)
        res = assess_record(evidence(recorded, found, cleared, rows))
        al = res.alignment
        assert al is not None and al.rows_matched == 2
        # each row turns the fit by its own drawn direction error: about 3 m * sqrt(2) / 100 m = 2.4° a row
        assert (res.grade == "B") is graded_b, res.grade_reason
        if graded_b:
            assert abs(al.transform.rotation_deg + 4.0) <= 1.5
        else:
            assert "too little of the record" in res.grade_reason
            assert 1.96 * al.sigma_rotation_deg > 1.5


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_short_cleared_stretch_reports_a_wide_rotation_uncertainty(seed):
    wrong = Transform((1100.0, 2007.5), (120.0, -40.0), 4.0)
    sigmas = {}
    for stretch in (30.0, None):
        rng = np.random.default_rng(seed)
        truth, recorded, rows = drawn_record(2, 45, 1.0, wrong, rng)
        found = truth + rng.normal(0, 0.5, truth.shape)
        cleared = shapely.MultiPoint(truth).convex_hull.buffer(30.0)
        if stretch is not None:
            cleared = cleared.intersection(shapely.box(1080.0, 0.0, 1080.0 + stretch, 5000.0))
        keep = shapely.contains_xy(cleared, found[:, 0], found[:, 1])
        res = assess_record(evidence(recorded, found[keep], cleared, rows))
        assert res.alignment is not None
        sigmas[stretch] = res.alignment.sigma_rotation_deg
        assert (res.grade == "B") is (stretch is None), res.grade_reason
    assert sigmas[30.0] > 2 * sigmas[None]


def test_a_row_end_in_the_middle_of_a_row_of_finds_does_not_pin_the_record():
    # the record shows the first half of each row (its count was misstated): its last mines lie in the
    # middle of rows of finds, so only the first mines, with cleared and empty ground before them, are row ends
    truth = minefield(3, 40)
    rows = np.repeat(np.arange(3), 40)
    first_half = np.tile(np.arange(40) < 20, 3)
    ends = np.tile(np.isin(np.arange(20), [0, 19]), 3)
    cleared = shapely.MultiPoint(truth).convex_hull.buffer(30.0)
    al = estimate_alignment(truth[first_half], truth, 5.0, checked=cleared, anchors=ends, rows=rows[first_half])
    assert al is not None and al.ends_checked == 3


def test_a_record_of_two_rows_of_a_four_row_minefield_is_ambiguous_across_the_rows():
    truth = minefield(4, 40)
    rows = np.repeat(np.arange(4), 40)
    shown = (rows == 1) | (rows == 2)
    recorded = Transform((1090.0, 2022.5), (120.0, -40.0), 4.0).apply(truth[shown])
    found = truth + np.random.default_rng(0).normal(0, 0.3, truth.shape)
    res = assess_record(evidence(recorded, found, shapely.MultiPoint(truth).convex_hull.buffer(30.0), rows[shown]))
    assert res.alignment is not None and res.alignment.ambiguous
    assert res.grade == "C"


def test_confidence_interval_narrows_with_evidence():
    small = assess_record(evidence(minefield(1, 12), minefield(1, 12), shapely.box(0, 0, 5000, 5000)))
    big = assess_record(evidence(minefield(10, 120), minefield(10, 120), shapely.box(0, 0, 5000, 5000)))
    assert (small.precision.high - small.precision.low) > 3 * (big.precision.high - big.precision.low)


def _utm(store: Store):
    return Transformer.from_crs(4326, int(store.get_meta("metric_epsg")), always_xy=True)


@pytest.fixture(scope="module")
def demo_results(demo_dir):
    from safeground.storage import open_store

    with open_store(str(demo_dir / "demo.gpkg"), readonly=True) as s:
        return assess_store(s)


@pytest.fixture(scope="module")
def seed7(district):
    """A second demo district (seed 7, the default size, shared by the session) and its assessment."""
    from safeground.storage import open_store

    with open_store(str(district(7)), readonly=True) as s:
        yield s, assess_store(s)


def _reported_and_true_share(store: Store, results) -> tuple[int, int, int]:
    truth = store.read_frame(GroundTruthItem).to_crs(int(store.get_meta("metric_epsg")))
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
    return reported_k, reported_n, truth_k


def test_demo_accuracy_agrees_with_the_ground_truth(demo_store: Store, demo_results, seed7):
    """The reported share of verified recorded mines found where recorded must be what the truth says."""
    for store, results in ((demo_store, demo_results), seed7):
        assert len(results) > 20
        reported_k, reported_n, truth_k = _reported_and_true_share(store, results)
        assert reported_n > 300
        assert abs(reported_k / reported_n - truth_k / reported_n) < 0.05


def _b_outside_tolerance(store: Store, results) -> tuple[int, dict[str, tuple[float, float]]]:
    """Records graded B, and those whose correction is more than 10 m or 1.5° from what the generator applied."""
    errors = json.loads(store.get_meta("generator.record_errors"))
    tr = _utm(store)
    graded = [r for r in results if r.grade == "B"]
    outside = {}
    for r in graded:
        t = r.alignment.transform
        shift_err, rot_err = correction_error(t.shift, t.rotation_deg, t.center, errors[r.uid], tr)
        if shift_err > 10.0 or rot_err > 1.5:
            outside[r.uid] = (shift_err, rot_err)
    return len(graded), outside


def test_demo_estimated_shift_and_rotation_match_what_the_generator_applied(demo_store: Store, demo_results):
    """For records graded B (systematic error, reliable after correction)."""
    graded, outside = _b_outside_tolerance(demo_store, demo_results)
    assert graded >= 5
    # stated tolerance: 10 m and 1.5°, for every record graded B. Measured on seeds 2020, 7, 2021, 11, 42,
    # 99, 5 and 123 (README, "How good was the map?"): 68 of 68 records graded B within it, none outside
    # (before the row rules 71 of 74: 42 m off across the rows, 2.4° turned along rows crossing rows of
    # finds, 661 m off on a neighbouring minefield of the same design).
    # B needs the fit pinned along its rows by found row ends with cleared, empty ground past them, no
    # reading rows over that fits nearly as well or that nothing contradicts more, two matched rows at
    # least and most of the rows clearance checked found, and the 95 % bounds of the rotation (≤ 1.5°)
    # and of every corrected position (≤ 10 m) from the rows' drawing error.
    # Seed 2020: 8 of 8.
    assert not outside, outside


def test_demo_seed_7_estimated_shift_and_rotation_match_what_the_generator_applied(seed7):
    store, results = seed7
    graded, outside = _b_outside_tolerance(store, results)
    assert graded >= 5
    # 11 of 11 within. The former misses are graded C now, each for what the evidence cannot settle:
    # MFR-00024 shows four of five rows; clearance stopped at the last mined row, and the reading one row
    # over (the true one, 42 m away) contradicts nothing the best does, it only explains fewer finds;
    # MFR-00002's 420 m rows, 12.9 m apart, matched diagonally across two rows of finds when turned 2.4°
    # too far; laid back onto the rows of finds (0.2° off), it is still 13 m off and another reading fits.
    assert not outside, outside
    grades = {r.uid: r.grade for r in results}
    assert grades["MFR-00024"] == "C" and grades["MFR-00002"] == "C"


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

    from tests.conftest import invoke_cli

    res = invoke_cli("maps", "accuracy", "--store", str(demo_dir / "demo.gpkg"), "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(res.stdout.splitlines()))
    assert len(rows) > 20 and {"record", "grade", "precision", "shift_east_m"} <= set(rows[0])
    assert {r["grade"] for r in rows} <= {"A", "B", "C", "U"}
    copy = tmp_path / "copy.gpkg"
    shutil.copy(demo_dir / "demo.gpkg", copy)
    res = invoke_cli("maps", "accuracy", "--store", str(copy), "--save")
    assert res.returncode == 0, res.stderr
    from safeground.model import CorrectedMinePosition, MinefieldRecord, RecordAssessment
    from safeground.storage import open_store

    with open_store(str(copy), readonly=True) as s:
        assert s.count(RecordAssessment) == s.count(MinefieldRecord)
        b = [a for a in s.find(RecordAssessment) if a.grade == "B"]
        corrected = s.read_frame(CorrectedMinePosition)
        assert set(corrected["assessment_uid"]) <= {a.uid for a in b}
        # the original records are untouched
        assert all(r.version == 1 for r in s.find(MinefieldRecord))
    # the dossier renders as a real one-page PDF that is not blank
    uid = rows[0]["record"]
    res = invoke_cli("maps", "dossier", uid, "--store", str(demo_dir / "demo.gpkg"), "--out", str(tmp_path / "d"))
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


def test_found_where_recorded_never_contradicts_the_grade(demo_results):
    from safeground.minemaps.accuracy import found_where_recorded

    b = [r for r in demo_results if r.grade == "B"]
    assert b
    for r in demo_results:
        text = found_where_recorded(r)
        assert "0/0" not in text and "0 of 0" not in text, (r.uid, text)
        if r.grade == "B":
            assert "after correction" in text, (r.uid, text)
    assert any(r.precision.n == 0 for r in b)  # the case of the issue is there: displaced, nothing where recorded


def test_an_invented_row_crossed_by_a_corridor_costs_the_reading_one_row_but_the_grade_b():
    # three recorded rows 15 m apart, the middle one invented (the real minefield has two rows, 30 m apart);
    # the record is displaced. Clearance cleared the two real rows and a route-clearance corridor
    # crosses the invented row where the correction puts it: ten of its mines land on cleared, empty ground.
    # The search must still find the record's own place, and a record one of whose three checked rows is not
    # there is no direct evidence: grade C, saying so. Without the corridor the same record is a grade B.
    design = minefield(3, 40)
    rows = np.repeat(np.arange(3), 40)
    truth = design[rows != 1]
    recorded = Transform((1087.75, 2015.0), (60.0, 25.0), 0.0).apply(design)
    real_rows = shapely.union_all([shapely.LineString(truth[rows[rows != 1] == r]).buffer(3.0) for r in (0, 2)])
    corridor = shapely.box(1040.0, 2005.0, 1082.0, 2025.0)
    res = assess_record(evidence(recorded, truth, shapely.union(real_rows, corridor), rows))
    al = res.alignment
    assert al is not None
    assert np.abs(al.transform.apply(recorded[rows != 1]) - truth).max() < 1.0
    assert (al.rows_matched, al.rows_checked) == (2, 3)
    assert res.grade == "C" and "2 of the 3 recorded rows that clearance checked were found" in res.grade_reason
    res = assess_record(evidence(recorded, truth, real_rows, rows))
    assert res.grade == "B", res.grade_reason


def test_rows_matched_diagonally_across_rows_of_finds_are_laid_back_on_them():
    # long rows close together (seed 7, MFR-00002: 420 m rows 12.9 m apart): turned 2.4° too far, each row runs
    # from one row of finds to the next and still matches nearly two thirds of the mines, changing row halfway
    from safeground.minemaps import search
    from safeground.minemaps.rows import row_frames
    from safeground.minemaps.scoring import ClearanceEvidence

    truth = np.array([(1000.0 + i * 4.5, 2000.0 + r * 12.9) for r in range(5) for i in range(94)])
    rows = np.repeat(np.arange(5), 94)
    c = truth.mean(axis=0)
    ev = ClearanceEvidence(truth, truth, np.full(len(truth), 5.0), None, None, c, False, None, None, rows)
    frames = row_frames(truth, rows, 0.0)
    turned = Transform((c[0], c[1]), (0.0, 0.0), 2.4)
    m = ev.match(turned)
    assert len(m) > 0.6 * len(truth)  # the wrong reading fits: every half-row is within the tolerance
    turn = search.crossing_turn(turned, ev, m, rows, frames)
    assert turn is not None and np.degrees(turn) < -1.0
    laid = [
        search.polish((-np.inf, cand, ev.match(cand)), ev, rows, frames)
        for cand in search.onto_rows(search.turned_further(turned, ev, m, turn), ev, rows, frames)
    ]
    _, best, mm = max(laid, key=lambda x: len(x[2]))
    assert abs(best.rotation_deg) < 0.1 and best.shift_m < 0.5 and len(mm) == len(truth)
    # rows lying on their rows of finds (a small turn within the tolerance) are not crossing
    straight = Transform((c[0], c[1]), (0.0, 0.0), 0.3)
    assert search.crossing_turn(straight, ev, ev.match(straight), rows, frames) is None
