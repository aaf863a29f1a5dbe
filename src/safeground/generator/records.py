"""Handed-over minefield records, as wrong as the real ones.

Each record describes a real minefield but through an error model calibrated
to what the authority reported (about a quarter of what the maps show is right):

* a systematic error of the reference point: a shift and a rotation about the
  landmark (a wrong landmark, magnetic bearings read as grid, a datum slip);
* random drawing error of each row end;
* rows omitted, rows invented, mine counts misstated.

The applied errors are kept (restricted) so that map-accuracy analysis can be
checked against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
import shapely.affinity
from shapely import Polygon

from safeground.generator.config import (
    AP_BLAST,
    AV,
    RECORD_ERROR_CLASSES,
    DistrictConfig,
    MineModel,
    RecordErrorClass,
)
from safeground.generator.mines import Minefield, row_positions
from safeground.model.minemaps import PointRole


@dataclass
class DrawnRow:
    label: str
    model: MineModel
    start: np.ndarray
    end: np.ndarray
    count: int
    invented: bool


@dataclass
class RecordDraft:
    rid: str
    minefield: Minefield
    source: str
    source_reference: str
    date_received: date
    error_class: str
    shift: np.ndarray  # metres east, north
    rotation_deg: float  # counter-clockwise, about the landmark
    rows: list[DrawnRow]
    perimeter: Polygon
    reference_points: list[tuple[str, PointRole, np.ndarray]]  # label, role, xy
    claimed_accuracy_m: float

    def mine_positions(self) -> list[tuple[DrawnRow, np.ndarray]]:
        return [(r, row_positions(r.start, r.end, r.count)) for r in self.rows]


def _transform(xy: np.ndarray, pivot: np.ndarray, rot_deg: float, shift: np.ndarray) -> np.ndarray:
    a = np.deg2rad(rot_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (np.asarray(xy) - pivot) @ rot.T + pivot + shift


def draw_record(
    rid: str,
    mf: Minefield,
    cfg: DistrictConfig,
    rng: np.random.Generator,
    batch: tuple[date, str],
    ref_no: int,
    cls: RecordErrorClass,
) -> RecordDraft:
    mag = rng.uniform(*cls.shift_m)
    ang = rng.uniform(0, 2 * np.pi)
    shift = mag * np.array([np.cos(ang), np.sin(ang)])
    rot = float(rng.uniform(*cls.rotation_deg) * rng.choice([-1.0, 1.0]))
    pivot = mf.landmark

    def tf(p: np.ndarray) -> np.ndarray:
        return _transform(p, pivot, rot, shift)

    rows: list[DrawnRow] = []
    for row in mf.rows:
        if rng.random() < cfg.row_omitted_p:
            continue
        count = row.count
        if rng.random() < cfg.row_count_wrong_p:
            count = max(2, round(count * rng.uniform(0.75, 1.25)))
        s = tf(row.start) + rng.normal(0, cls.drawing_sigma_m, 2)
        e = tf(row.end) + rng.normal(0, cls.drawing_sigma_m, 2)
        rows.append(DrawnRow(row.label, row.model, s, e, count, invented=False))
    if rng.random() < cfg.invented_rows_p and mf.rows:
        last = mf.rows[-1]
        d = last.end - last.start
        nrm = np.array([-d[1], d[0]]) / (np.linalg.norm(d) or 1.0)
        for j in range(int(rng.integers(1, 3))):
            off = nrm * rng.uniform(30, 80) * (j + 1) * rng.choice([-1.0, 1.0])
            model = AP_BLAST if rng.random() < 0.8 else AV
            s, e = tf(last.start + off), tf(last.end + off)
            count = int(np.linalg.norm(e - s) // model.spacing_m) + 1
            rows.append(DrawnRow(f"{mf.fid}-X{j + 1}", model, s, e, count, invented=True))
    perim = shapely.transform(mf.perimeter, lambda c: tf(c))
    if any(r.invented for r in rows):
        extra = shapely.MultiPoint([p for r in rows for p in (r.start, r.end)]).convex_hull.buffer(10.0)
        perim = shapely.union_all([perim, extra]).convex_hull
    corners = shapely.get_coordinates(perim.simplify(5.0))[:-1]
    centroid = np.array([perim.centroid.x, perim.centroid.y])
    first = corners[int(np.argmin(np.linalg.norm(corners - tf(mf.landmark), axis=1)))]
    bench = first + (first - centroid) / (np.linalg.norm(first - centroid) or 1.0) * 25.0
    refs: list[tuple[str, PointRole, np.ndarray]] = [
        ("LM", "landmark", tf(mf.landmark)),
        ("BM", "benchmark", bench),
    ]
    start_i = int(np.argmin(np.linalg.norm(corners - first, axis=1)))
    ordered = np.roll(corners, -start_i, axis=0)
    for i, c in enumerate(ordered):
        role: PointRole = "start" if i == 0 else "turning"
        refs.append((f"TP{i + 1}", role, c))
    return RecordDraft(
        rid=rid,
        minefield=mf,
        source=batch[1],
        source_reference=f"No. {ref_no}",
        date_received=batch[0],
        error_class=cls.name,
        shift=shift,
        rotation_deg=rot,
        rows=rows,
        perimeter=perim,
        reference_points=refs,
        claimed_accuracy_m=float(rng.choice([1.0, 2.0, 5.0])),
    )


def draw_records(cfg: DistrictConfig, fields: list[Minefield], rng: np.random.Generator) -> list[RecordDraft]:
    west = [mf for mf in fields if mf.side == "west"]
    n = round(cfg.share_fields_recorded * len(west))
    chosen = [west[int(i)] for i in sorted(rng.choice(len(west), size=n, replace=False))]
    copies = [2 if rng.random() < cfg.share_fields_second_record else 1 for _ in chosen]
    # error classes dealt in their exact shares (stratified), so that a small
    # district does not swing between 10 % and 40 % accuracy by chance
    deck = [c for c in RECORD_ERROR_CLASSES for _ in range(round(c.share * sum(copies)) + 1)]
    order = rng.permutation(len(deck))
    drafts: list[RecordDraft] = []
    k = 0
    for mf, n_copies in zip(chosen, copies, strict=True):
        batches = rng.choice(len(cfg.handover_batches), size=n_copies, replace=False)
        for b in batches:
            cls = deck[int(order[k])]
            k += 1
            batch = cfg.handover_batches[int(b)]
            drafts.append(draw_record(f"MFR-{k:05d}", mf, cfg, rng, batch, int(rng.integers(1, 400)), cls))
    drafts.sort(key=lambda d: (d.date_received, d.rid))
    return drafts


def bearing_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Grid bearing (degrees clockwise from grid north) and distance from a to b."""
    d = b - a
    return float(np.degrees(np.arctan2(d[0], d[1])) % 360.0), float(np.hypot(*d))


def correction_error(
    shift: tuple[float, float], rotation_deg: float, center: tuple[float, float], applied: dict, to_metric: object
) -> tuple[float, float]:
    """How far an estimated correction is from the one the generator applied to a record (m, °).

    ``applied`` is the record's entry in the store's ``generator.record_errors``;
    the estimate (``shift`` then ``rotation_deg`` about ``center``, metric CRS) undoes
    the generator's rotation about the landmark followed by its shift. The distance
    is measured at ``center``, the angle is the difference of rotations.
    """
    pivot = np.array(to_metric.transform(*applied["pivot_lonlat"]))  # type: ignore[attr-defined]
    c = np.asarray(center, dtype=float)
    moved = np.array([applied["shift_east_m"], applied["shift_north_m"]])
    # undo the generator's transform at c: take the shift off, turn back about the landmark
    expected_shift = _transform(c - moved, pivot, -applied["rotation_deg"], np.zeros(2)) - c
    shift_err = float(np.hypot(*(np.asarray(shift, dtype=float) - expected_shift)))
    return shift_err, float(abs(rotation_deg + applied["rotation_deg"]))
