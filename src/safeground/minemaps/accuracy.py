"""How good was the map? Each minefield record measured against what clearance found.

Method (stated in every dossier):

* Only ground that clearance really cleared is evidence. A recorded mine inside
  cleared ground is *verified*: either found where the record put it (within a
  tolerance set per item type) or not. A recorded mine elsewhere is *unverified*,
  not wrong.
* Recorded and found items are matched one-to-one with an optimal assignment
  (never greedy nearest neighbour) and only between items of the same type.
* Proportions carry exact (Clopper–Pearson) confidence intervals: 12 finds are
  not the evidence 1,200 are.
* The systematic error (shift, rotation, optionally scale) is estimated from
  the finds around the record (``alignment``), re-scored, and applied to the
  record's not-yet-cleared mines to say where they most likely are.
* Grade: **A** reliable as recorded (direct evidence); **B** systematically
  displaced, reliable after correction; **C** unreliable; **U** unverified
  (too little cleared ground). A and B are direct evidence for hazard
  classification (IMAS 07.11: clearance has verified the record; for B, at its
  corrected position); C and U are indirect: a record says so, nothing more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import shapely
from scipy.special import betaincinv, ndtri
from shapely.geometry.base import BaseGeometry

from safeground import __version__
from safeground.geometry.projection import project
from safeground.minemaps.alignment import Alignment, estimate_alignment
from safeground.minemaps.matching import match_typed
from safeground.model import Activity, EOItem, MinefieldRecord
from safeground.model.minemaps import MATCH_TOLERANCE_M, CorrectedMinePosition, Grade, RecordAssessment
from safeground.model.vocab import EOType
from safeground.storage.base import Store, metric_epsg

if TYPE_CHECKING:
    from collections.abc import Callable

    from distributed import Client

    from safeground.compute import LocalBatch

METHOD = (
    "one-to-one optimal matching of recorded and found items of the same type within a per-type "
    "tolerance; only cleared ground counts as evidence; exact binomial confidence intervals; "
    "systematic error by offset voting and trimmed ICP, refitted with rows as lines, uncertainty from the "
    "rows' drawing error"
)


@dataclass(frozen=True)
class AccuracyOptions:
    tolerance_m: dict[EOType, float] = field(default_factory=lambda: dict(MATCH_TOLERANCE_M))
    search_radius_m: float = 500.0  # how far from its perimeter a record's mines may really be
    min_verified: int = 10  # below this a proportion says little: grade U
    min_correction_support: int = 20  # a correction moves every remaining mine: it needs more evidence
    # a correction along periodic rows needs found row ends with cleared ground past them: fewer, grade C
    min_row_ends_checked: int = 2
    # a grade B promises the correction to within these, at ``confidence`` (issue 4: 10 m and 1.5°):
    # the rotation, and the corrected position of every mine of the record (which includes the shift)
    correction_tolerance_m: float = 10.0
    correction_tolerance_deg: float = 1.5
    reliable_precision: float = 0.75
    reliable_ci_low: float = 0.6
    evidence_activities: tuple[str, ...] = ("clearance",)
    as_of: date | None = None
    allow_scale: bool = False
    confidence: float = 0.95
    seed: int = 0


@dataclass
class RecordEvidence:
    """Everything about one record, in metric coordinates."""

    uid: str
    source: str
    perimeter: BaseGeometry
    recorded_uid: np.ndarray
    recorded_xy: np.ndarray
    recorded_type: np.ndarray
    found_xy: np.ndarray  # finds within the search radius of the perimeter
    found_type: np.ndarray
    cleared: BaseGeometry  # cleared ground within the search radius
    provenance: dict[str, Any] = field(default_factory=dict)
    recorded_anchor: np.ndarray | None = None  # first and last mine of each recorded row
    recorded_row: np.ndarray | None = None  # the recorded row each mine belongs to


@dataclass
class Proportion:
    k: int
    n: int
    low: float | None
    high: float | None

    @property
    def value(self) -> float | None:
        return self.k / self.n if self.n else None


@dataclass
class RecordResult:
    uid: str
    source: str
    recorded: int
    verified: int
    precision: Proportion
    recall: Proportion
    found_outside_perimeter: int
    errors_m: np.ndarray  # nearest-find distance of each verified recorded mine
    iou: float | None
    alignment: Alignment | None
    corrected_precision: Proportion | None
    corrected_errors_m: np.ndarray | None
    by_type: dict[str, dict[str, int]]
    grade: Grade
    grade_reason: str
    remaining_corrected: np.ndarray  # (k, 2) corrected positions of recorded mines not in cleared ground
    remaining_uids: np.ndarray
    evidence: RecordEvidence

    @property
    def evidence_kind(self) -> Literal["direct", "indirect"]:
        return "direct" if self.grade in ("A", "B") else "indirect"

    def error_stats(self) -> dict[str, float | None]:
        e = self.errors_m
        if len(e) == 0:
            return {"median": None, "p90": None, "p95": None}
        return {
            "median": float(np.median(e)),
            "p90": float(np.percentile(e, 90)),
            "p95": float(np.percentile(e, 95)),
        }


def found_where_recorded(r: RecordResult) -> str:
    """The "found where recorded" figure of a record in words that never contradict its grade.

    A displaced record (grade B) can have none of its recorded places in cleared ground: "0/0" would
    read as "nothing found" beside "reliable after correction", so it says what was checked instead."""
    p, c = r.precision, r.corrected_precision
    after = f"after correction {c.k} of {c.n} found" if r.grade == "B" and c is not None and c.n else ""
    if not p.n:
        return "no recorded place cleared yet" + (f"; {after}" if after else "")
    text = f"{p.k} of {p.n}" + (f" ({100 * p.value:.0f} %)" if p.value is not None else "")
    return text + (f"; {after}" if after else "")


def clopper_pearson(k: np.ndarray, n: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial confidence intervals, vectorised (beta quantiles).

    ``scipy.special.betaincinv`` is what ``scipy.stats.beta.ppf`` computes (equal to the last bit for every
    k of n up to 5,000 at the usual levels): importing ``scipy.stats`` cost each command about a second."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    a = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, betaincinv(k, n - k + 1, a), 0.0)
        high = np.where(k < n, betaincinv(k + 1, n - k, 1 - a), 1.0)
    return low, high


def proportion(k: int, n: int, confidence: float = 0.95) -> Proportion:
    if n == 0:
        return Proportion(0, 0, None, None)
    low, high = clopper_pearson(np.array([k]), np.array([n]), confidence)
    return Proportion(k, n, float(low[0]), float(high[0]))


def _tolerances(types: np.ndarray, opts: AccuracyOptions) -> np.ndarray:
    return np.array([opts.tolerance_m.get(EOType(t), 5.0) for t in types], dtype=float)


def _inside(geom: BaseGeometry, xy: np.ndarray) -> np.ndarray:
    if geom.is_empty or len(xy) == 0:
        return np.zeros(len(xy), dtype=bool)
    return shapely.contains_xy(geom, xy[:, 0], xy[:, 1])


def _footprint(xy: np.ndarray, margin: float = 10.0) -> BaseGeometry:
    if len(xy) == 0:
        return shapely.Polygon()
    blobs = shapely.union_all(shapely.buffer(shapely.points(xy), margin + 15.0))
    hulls = shapely.union_all([p.convex_hull for p in shapely.get_parts(blobs)])
    return hulls.buffer(-15.0)


def assess_record(ev: RecordEvidence, opts: AccuracyOptions | None = None) -> RecordResult:
    """Score one record against clearance, estimate and test its systematic error, grade it."""
    opts = opts or AccuracyOptions()
    shapely.prepare(ev.cleared)
    rec, fnd = ev.recorded_xy, ev.found_xy
    tol = _tolerances(ev.recorded_type, opts)
    verified = _inside(ev.cleared, rec)
    m_ver = match_typed(rec[verified], fnd, tol[verified], ev.recorded_type[verified], ev.found_type)
    precision = proportion(len(m_ver), int(verified.sum()), opts.confidence)
    # recall: of the items found inside the recorded perimeter, how many did the record show
    in_perim = _inside(ev.perimeter, fnd)
    m_all = match_typed(rec, fnd[in_perim], tol, ev.recorded_type, ev.found_type[in_perim])
    recall = proportion(len(m_all), int(in_perim.sum()), opts.confidence)
    errors = _nearest(rec[verified], fnd, opts.search_radius_m)

    alignment = estimate_alignment(
        rec,
        fnd,
        tol,
        recorded_types=ev.recorded_type,
        found_types=ev.found_type,
        checked=ev.cleared,
        anchors=ev.recorded_anchor,
        rows=ev.recorded_row,
        max_shift_m=opts.search_radius_m,
        allow_scale=opts.allow_scale,
        seed=opts.seed,
    )
    corrected_precision = corrected_errors = None
    associated = fnd[m_all.found] if len(m_all) else np.empty((0, 2))
    moved = rec
    if alignment is not None:
        moved = alignment.transform.apply(rec)
        ver_c = _inside(ev.cleared, moved)
        m_c = match_typed(moved[ver_c], fnd, tol[ver_c], ev.recorded_type[ver_c], ev.found_type)
        corrected_precision = proportion(len(m_c), int(ver_c.sum()), opts.confidence)
        corrected_errors = _nearest(moved[ver_c], fnd, opts.search_radius_m)
        m_assoc = match_typed(moved, fnd, tol, ev.recorded_type, ev.found_type)
        associated = fnd[m_assoc.found]
    outside = int((~_inside(ev.perimeter, associated)).sum()) if len(associated) else 0
    contaminated = _footprint(associated)
    iou = None
    if not contaminated.is_empty:
        union = shapely.union(ev.perimeter, contaminated).area
        iou = float(shapely.intersection(ev.perimeter, contaminated).area / union) if union else None

    spread = float(alignment.position_sigma(rec).max()) if alignment is not None and len(rec) else None
    grade, reason = _grade(precision, corrected_precision, alignment, opts, spread)
    use_correction = grade == "B" and alignment is not None
    remaining = ~_inside(ev.cleared, moved if use_correction else rec)
    by_type: dict[str, dict[str, int]] = {}
    for t in np.unique(ev.recorded_type):
        sel = ev.recorded_type == t
        by_type[str(t)] = {
            "recorded": int(sel.sum()),
            "verified": int((sel & verified).sum()),
            "confirmed": int((ev.recorded_type[verified][m_ver.recorded] == t).sum()),
            "found_in_perimeter": int((ev.found_type[in_perim] == t).sum()),
        }
    return RecordResult(
        uid=ev.uid,
        source=ev.source,
        recorded=len(rec),
        verified=int(verified.sum()),
        precision=precision,
        recall=recall,
        found_outside_perimeter=outside,
        errors_m=errors,
        iou=iou,
        alignment=alignment,
        corrected_precision=corrected_precision,
        corrected_errors_m=corrected_errors,
        by_type=by_type,
        grade=grade,
        grade_reason=reason,
        remaining_corrected=(moved if use_correction else rec)[remaining],
        remaining_uids=ev.recorded_uid[remaining],
        evidence=ev,
    )


def _nearest(xy: np.ndarray, fnd: np.ndarray, cap: float) -> np.ndarray:
    if len(xy) == 0 or len(fnd) == 0:
        return np.empty(0)
    from scipy.spatial import cKDTree

    d, _ = cKDTree(fnd).query(xy, distance_upper_bound=cap)
    return np.minimum(d, cap)


def _reliable(p: Proportion | None, opts: AccuracyOptions) -> bool:
    return (
        p is not None
        and p.n >= opts.min_verified
        and (p.value or 0.0) >= opts.reliable_precision
        and (p.low or 0.0) >= opts.reliable_ci_low
    )


def _determined(al: Alignment, spread_m: float | None, opts: AccuracyOptions) -> tuple[bool, float, float]:
    """Whether the correction is known to within the stated tolerance, at the stated confidence.

    Its uncertainty comes from how records are drawn (``rowfit.correction_covariance``): a
    correction resting on few rows, or a short stretch of them, inherits those rows' own
    drawing errors, however many mines were found along them. With a single matched row it is
    not determined at all: the fit takes that row's line as it is, so the residuals cannot show
    how far the row itself was drawn off (its error is the correction's). Returns the decision
    and the half-widths of the rotation and of the worst corrected position.
    """
    z = float(ndtri(0.5 + opts.confidence / 2.0))  # the normal quantile
    rot = z * al.sigma_rotation_deg
    pos = z * (spread_m if spread_m is not None else float(np.hypot(*al.sigma_shift_m)))
    ok = al.rows_matched >= 2 and rot <= opts.correction_tolerance_deg and pos <= opts.correction_tolerance_m
    return ok, rot, pos


def _grade(
    raw: Proportion,
    corrected: Proportion | None,
    al: Alignment | None,
    opts: AccuracyOptions,
    spread_m: float | None = None,
) -> tuple[Grade, str]:
    clear = al is not None and not al.ambiguous and al.score >= 0.75 * al.inliers
    # the position along the rows is fixed only by found row ends with cleared ground past them
    undetermined = al is not None and al.ends_checked is not None and al.ends_checked < opts.min_row_ends_checked
    clear = clear and not undetermined
    # a record shifted along its own rows by whole spacings still "matches" most of
    # itself; a clear correction that explains clearly more is the better reading
    better = (
        clear
        and corrected is not None
        and al is not None
        and al.transform.shift_m > opts.tolerance_m.get(EOType.AP_BLAST, 5.0)
        and corrected.k >= 1.05 * raw.k + 2
    )
    if _reliable(raw, opts) and not better:
        return "A", (
            f"{raw.k} of {raw.n} recorded mines in cleared ground were found where the record "
            f"put them ({100 * (raw.value or 0):.0f} %, 95 % CI {100 * (raw.low or 0):.0f}–"
            f"{100 * (raw.high or 0):.0f} %)"
        )
    supported = corrected is not None and corrected.n >= opts.min_correction_support
    determined, rot_hw, pos_hw = _determined(al, spread_m, opts) if al is not None else (False, 0.0, 0.0)
    # the rows are the record's independent observations: most of the rows clearance checked must be found too
    rows_ok = al is None or al.rows_checked is None or al.rows_matched >= opts.reliable_precision * al.rows_checked
    fits = clear and supported and _reliable(corrected, opts) and rows_ok
    if al is not None and fits and determined and corrected is not None:
        t = al.transform
        return "B", (
            f"the record is displaced by {t.shift_m:.0f} m and rotated {t.rotation_deg:+.1f}°; after "
            f"correction {corrected.k} of {corrected.n} mines in cleared ground match "
            f"({100 * (corrected.value or 0):.0f} %)"
        )
    if raw.n >= opts.min_verified or (corrected is not None and corrected.n >= opts.min_verified):
        why = ""
        if al is not None and al.ambiguous:
            why = "ambiguous correction (another place fits as well)"
        elif undetermined and al is not None:
            why = (
                f"position along the rows undetermined (cleared ground reaches past {al.ends_checked} found row "
                f"end(s), fewer than {opts.min_row_ends_checked})"
            )
        elif al is not None and not clear:
            why = "the best correction is contradicted by finds around it"
        elif al is not None and supported and corrected is not None and not _reliable(corrected, opts):
            why = (
                f"after the best correction only {corrected.k} of {corrected.n} mines in cleared ground match "
                f"({100 * (corrected.value or 0):.0f} %): the record shows mines that were not there"
            )
        elif al is not None and supported and not rows_ok:
            why = (
                f"after the best correction only {al.rows_matched} of the {al.rows_checked} recorded rows that "
                "clearance checked were found: the record shows rows that were not there, or the correction "
                "moved it onto another minefield"
            )
        elif al is not None and fits and not determined:
            why = (
                f"the correction rests on too little of the record to be trusted to {opts.correction_tolerance_deg}° "
                f"and {opts.correction_tolerance_m:.0f} m ({100 * opts.confidence:.0f} % bounds ±{rot_hw:.1f}°, "
                f"±{pos_hw:.0f} m over the record, from {al.rows_matched} matched row(s))"
            )

        found = (
            f"only {raw.k} of {raw.n} recorded mines in cleared ground were found where recorded"
            if raw.n
            else f"none of its recorded mines lies, as recorded, in cleared ground ({corrected.n} would, corrected)"  # type: ignore[union-attr]
        )
        return "C", found + (f"; {why}" if why else "; no correction explains the finds")
    return "U", f"only {raw.n} recorded mines lie in cleared ground (fewer than {opts.min_verified})"


# -- gathering evidence from a store ----------------------------------------------------------------
def gather_evidence(store: Store, opts: AccuracyOptions | None = None) -> list[RecordEvidence]:
    opts = opts or AccuracyOptions()
    recs = store.read_frame(MinefieldRecord)
    eo = store.read_frame(EOItem)
    act = store.read_frame(Activity)
    if opts.as_of is not None:
        cut = opts.as_of.isoformat()
        recs = recs[recs["date_received"].astype(str) <= cut]
        eo = eo[eo["date_of_information"].astype(str) <= cut]
        act = act[act["start_date"].astype(str) <= cut]
    if len(recs) == 0:
        return []
    epsg = metric_epsg(store, recs)  # measured where the records are when the store declares no area
    recs = recs.to_crs(epsg)
    recorded = eo[eo["status"] == "recorded"].to_crs(epsg) if len(eo) else eo
    found = eo[eo["status"] == "found"].to_crs(epsg) if len(eo) else eo
    act = act[act["activity_type"].isin(opts.evidence_activities)] if len(act) else act
    cleared_all = shapely.union_all(act.to_crs(epsg).geometry.to_numpy()) if len(act) else shapely.Polygon()
    fxy = found.get_coordinates().to_numpy() if len(found) else np.empty((0, 2))
    ftype = found["eo_type"].to_numpy().astype(str) if len(found) else np.empty(0, dtype=str)
    ftree = shapely.STRtree(shapely.points(fxy)) if len(fxy) else None
    out = []
    for r in recs.itertuples(index=False):
        mine = recorded[recorded["minefield_record_uid"] == r.uid] if len(recorded) else recorded
        zone = r.geometry.buffer(opts.search_radius_m)
        idx = ftree.query(zone, predicate="intersects") if ftree is not None else np.empty(0, int)
        idx = np.sort(idx)
        cleared = shapely.intersection(cleared_all, zone) if not cleared_all.is_empty else shapely.Polygon()
        out.append(
            RecordEvidence(
                uid=r.uid,
                source=r.source,
                perimeter=r.geometry,
                recorded_uid=mine["uid"].to_numpy().astype(str) if len(mine) else np.empty(0, str),
                recorded_xy=mine.get_coordinates().to_numpy() if len(mine) else np.empty((0, 2)),
                recorded_type=mine["eo_type"].to_numpy().astype(str) if len(mine) else np.empty(0, str),
                found_xy=fxy[idx],
                found_type=ftype[idx],
                cleared=cleared,
                recorded_anchor=_row_ends(mine["row_label"]) if len(mine) else None,
                recorded_row=_row_ids(mine["row_label"]) if len(mine) else None,
                provenance={
                    "epsg": epsg,
                    "date_received": str(r.date_received),
                    "original_document": r.original_document,
                    "source_reference": r.source_reference,
                    "finds_dates": _date_range(found.iloc[idx]["date_of_information"]) if len(idx) else None,
                },
            )
        )
    return out


def _row_ends(labels: Any) -> np.ndarray | None:
    """Row labels look like ``MF0004-R1#12``: the first and the last number of each row are its ends."""
    parts = labels.fillna("").astype(str).str.rsplit("#", n=1, expand=True)
    if parts.shape[1] != 2:
        return None
    row, num = parts[0], pd.to_numeric(parts[1], errors="coerce")
    if num.isna().any():
        return None
    first = num.groupby(row).transform("min")
    last = num.groupby(row).transform("max")
    return ((num == first) | (num == last)).to_numpy()


def _row_ids(labels: Any) -> np.ndarray | None:
    """Row labels look like ``MF0004-R1#12``: mines with the same part before ``#`` share a row."""
    parts = labels.fillna("").astype(str).str.rsplit("#", n=1, expand=True)
    if parts.shape[1] != 2 or (parts[0] == "").any():
        return None
    return pd.factorize(parts[0])[0]


def _date_range(values: Any) -> list[str] | None:
    v = sorted(str(x) for x in values)
    return [v[0], v[-1]] if v else None


def assess_store(
    store: Store,
    opts: AccuracyOptions | None = None,
    *,
    client: Client | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[RecordResult]:
    """Every record of the store assessed, in this process or, given a Dask ``client``, on its workers.

    The store is read here once either way; only each record's evidence travels to the workers.
    ``progress(what, done, total)`` hears of each record assessed here, and once of the work sent to Dask.
    """
    opts = opts or AccuracyOptions()
    if client is not None:
        from safeground.compute import map_partitions

        evidence = gather_evidence(store, opts)
        if progress:
            progress(f"assessing {len(evidence)} records on Dask", 0, len(evidence))
        return map_partitions(assess_records, evidence, client=client, opts=opts)
    batch, total = start_assessments(store, opts)
    if progress:
        progress("assessing records", 0, total)
    return batch.result(None if progress is None else lambda done: progress("assessing records", done, total))


def start_assessments(store: Store, opts: AccuracyOptions | None = None) -> tuple[LocalBatch[RecordResult], int]:
    """Every record's evidence read here, its assessment started in local processes (``compute.start_local``);
    the batch and the number of records. The store is read in this process only: the workers get the evidence."""
    from safeground.compute import start_local

    opts = opts or AccuracyOptions()
    evidence = gather_evidence(store, opts)
    return start_local(assess_records, evidence, opts=opts), len(evidence)


def assess_records(evidence: list[RecordEvidence], opts: AccuracyOptions) -> list[RecordResult]:
    """One partition of records (the unit of work ``safeground.compute.map_partitions`` sends to Dask)."""
    return [assess_record(ev, opts) for ev in evidence]


@dataclass
class Summary:
    label: str
    records: int
    grades: dict[str, int]
    precision: Proportion
    recall: Proportion
    error_median_m: float | None
    error_p90_m: float | None


def summarise(results: list[RecordResult], label: str, confidence: float = 0.95) -> Summary:
    k = sum(r.precision.k for r in results)
    n = sum(r.precision.n for r in results)
    rk = sum(r.recall.k for r in results)
    rn = sum(r.recall.n for r in results)
    errs = np.concatenate([r.errors_m for r in results]) if results else np.empty(0)
    grades = {g: sum(1 for r in results if r.grade == g) for g in "ABCU"}
    return Summary(
        label,
        len(results),
        grades,
        proportion(k, n, confidence),
        proportion(rk, rn, confidence),
        float(np.median(errs)) if len(errs) else None,
        float(np.percentile(errs, 90)) if len(errs) else None,
    )


def by_source(results: list[RecordResult]) -> list[Summary]:
    sources = sorted({r.source for r in results})
    return [summarise([r for r in results if r.source == s], s) for s in sources]


# -- writing results back ---------------------------------------------------------------------------
def evidence_hash(ev: RecordEvidence) -> str:
    """A content hash of exactly the data an assessment used, for the dossier's provenance."""
    h = hashlib.sha256()
    for arr in (ev.recorded_xy, ev.found_xy):
        h.update(np.round(arr, 3).tobytes())
    h.update("|".join(map(str, ev.recorded_type)).encode())
    h.update("|".join(map(str, ev.found_type)).encode())
    h.update(shapely.to_wkb(ev.cleared) if not ev.cleared.is_empty else b"")
    return h.hexdigest()


def save_results(store: Store, results: list[RecordResult], opts: AccuracyOptions, entered_by: str) -> list[str]:
    """Store assessments and corrected positions as new records (never overwriting)."""
    if not results:
        return []
    epsg = results[0].evidence.provenance.get("epsg", 4326)
    as_of = opts.as_of or date.today()
    first_a = store.max_uid_number(RecordAssessment) + 1
    first_c = store.max_uid_number(CorrectedMinePosition) + 1
    out: list[Any] = []
    uids = []
    next_c = first_c
    for k, r in enumerate(results):
        auid = f"MRA-{first_a + k:05d}"
        uids.append(auid)
        al = r.alignment
        geom = r.evidence.perimeter
        if r.grade == "B" and al is not None:
            coords_moved = shapely.transform(geom, lambda c, t=al.transform: t.apply(c))
            geom = coords_moved
        e = r.error_stats()
        out.append(
            RecordAssessment(
                uid=auid,
                date_of_information=as_of,
                entered_by=entered_by,
                minefield_record_uid=r.uid,
                source=r.source,
                as_of=as_of,
                method=f"SafeGround {__version__}: {METHOD}; evidence sha256 {evidence_hash(r.evidence)[:16]}",
                recorded_mines=r.recorded,
                verified_mines=r.verified,
                confirmed_mines=r.precision.k,
                precision=r.precision.value,
                precision_ci_low=r.precision.low,
                precision_ci_high=r.precision.high,
                finds_in_perimeter=r.recall.n,
                finds_shown=r.recall.k,
                recall=r.recall.value,
                found_outside_perimeter=r.found_outside_perimeter,
                error_median_m=e["median"],
                error_p90_m=e["p90"],
                error_p95_m=e["p95"],
                iou=r.iou,
                shift_east_m=al.transform.shift[0] if al else None,
                shift_north_m=al.transform.shift[1] if al else None,
                rotation_deg=al.transform.rotation_deg if al else None,
                scale=al.transform.scale if al else None,
                sigma_shift_m=float(np.hypot(*al.sigma_shift_m)) if al else None,
                sigma_rotation_deg=al.sigma_rotation_deg if al else None,
                alignment_inliers=al.inliers if al else None,
                alignment_ambiguous=al.ambiguous if al else False,
                corrected_verified=r.corrected_precision.n if r.corrected_precision else None,
                corrected_confirmed=r.corrected_precision.k if r.corrected_precision else None,
                corrected_precision=r.corrected_precision.value if r.corrected_precision else None,
                by_type=r.by_type,
                grade=r.grade,
                evidence_kind=r.evidence_kind,
                grade_reason=r.grade_reason,
                geometry=project(geom, epsg, 4326),
            )
        )
        if r.grade == "B" and al is not None and len(r.remaining_corrected):
            ll = project(shapely.points(r.remaining_corrected), epsg, 4326)
            sigma = remaining_uncertainty(r)
            for j, (pt, ruid, t, sig) in enumerate(
                zip(ll, r.remaining_uids, r.evidence.recorded_type[_remaining_mask(r)], sigma, strict=True)
            ):
                out.append(
                    CorrectedMinePosition(
                        uid=f"CMP-{next_c + j:05d}",
                        date_of_information=as_of,
                        entered_by=entered_by,
                        assessment_uid=auid,
                        minefield_record_uid=r.uid,
                        recorded_item_uid=str(ruid),
                        eo_type=t,
                        shift_m=al.transform.shift_m,
                        uncertainty_m=float(sig),
                        geometry=pt,
                    )
                )
            next_c += len(r.remaining_uids)
    store.add_many(out)
    return uids


def remaining_uncertainty(r: RecordResult) -> np.ndarray:
    """Standard error (m) of each remaining mine's corrected position.

    The correction's own uncertainty where the mine is (a rotation error grows with the distance
    from the matched part), together with the mine's own share of its row's drawing error, which
    no correction of the whole record removes (per axis 2/3 of an end's variance on average).
    """
    al = r.alignment
    if al is None or len(r.remaining_uids) == 0:
        return np.zeros(len(r.remaining_uids))
    recorded = r.evidence.recorded_xy[_remaining_mask(r)]
    own = np.sqrt(2.0 * (2.0 / 3.0)) * al.drawing_sigma_m
    return np.hypot(al.position_sigma(recorded), own)


def _remaining_mask(r: RecordResult) -> np.ndarray:
    lookup = {u: i for i, u in enumerate(r.evidence.recorded_uid)}
    idx = np.array([lookup[u] for u in r.remaining_uids], dtype=int)
    mask = np.zeros(len(r.evidence.recorded_uid), dtype=bool)
    mask[idx] = True
    return mask


def results_table(results: list[RecordResult]) -> pd.DataFrame:
    """One row per record, machine-readable (for --format csv|json)."""
    rows = []
    for r in results:
        e = r.error_stats()
        al = r.alignment
        rows.append(
            {
                "record": r.uid,
                "source": r.source,
                "grade": r.grade,
                "evidence": r.evidence_kind,
                "recorded": r.recorded,
                "verified": r.verified,
                "confirmed": r.precision.k,
                "precision": r.precision.value,
                "precision_ci_low": r.precision.low,
                "precision_ci_high": r.precision.high,
                "finds_in_perimeter": r.recall.n,
                "recall": r.recall.value,
                "found_outside_perimeter": r.found_outside_perimeter,
                "error_median_m": e["median"],
                "error_p90_m": e["p90"],
                "error_p95_m": e["p95"],
                "iou": r.iou,
                "shift_east_m": al.transform.shift[0] if al else None,
                "shift_north_m": al.transform.shift[1] if al else None,
                "rotation_deg": al.transform.rotation_deg if al else None,
                "sigma_shift_m": float(np.hypot(*al.sigma_shift_m)) if al else None,
                "sigma_rotation_deg": al.sigma_rotation_deg if al else None,
                "ambiguous": al.ambiguous if al else None,
                "rows_matched": al.rows_matched if al else None,
                "drawing_sigma_m": al.drawing_sigma_m if al else None,
                "corrected_precision": r.corrected_precision.value if r.corrected_precision else None,
                "reason": r.grade_reason,
            }
        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)  # the header even when there is no record


#: the columns of ``results_table``, in order
RESULT_COLUMNS = [
    "record", "source", "grade", "evidence", "recorded", "verified", "confirmed", "precision", "precision_ci_low",
    "precision_ci_high", "finds_in_perimeter", "recall", "found_outside_perimeter", "error_median_m", "error_p90_m",
    "error_p95_m", "iou", "shift_east_m", "shift_north_m", "rotation_deg", "sigma_shift_m", "sigma_rotation_deg",
    "ambiguous", "rows_matched", "drawing_sigma_m", "corrected_precision", "reason",
]  # fmt: skip


def to_json(results: list[RecordResult]) -> str:
    return results_table(results).to_json(orient="records", indent=1) if results else "[]"
