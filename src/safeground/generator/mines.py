"""Where the mines really are: the ground truth of the synthetic district.

Three kinds of contamination, as after 2020:

* defensive minefields in belts up to ~2 km deep behind the former front line,
  laid in rows (AV rows in front, AP rows behind) with the regular spacing of
  military drills;
* nuisance mines laid at exactly the civilian places named by the authority:
  power and light poles, canal and river banks, road junctions, courtyard
  entrances, cemeteries and paths (this is why most accidents happen away from
  the old contact line);
* unexploded submunitions from cluster strikes on the town, and scattered UXO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely
import shapely.affinity
from shapely import Point, Polygon

from safeground.casualties.munitions import MUNITIONS, Munition
from safeground.generator.config import (
    AP_BLAST,
    AP_FRAG,
    AP_FRAG_STAKE,
    AV,
    DistrictConfig,
    MineModel,
)
from safeground.generator.landscape import Landscape, points_along
from safeground.model.vocab import EOType


@dataclass
class Row:
    label: str
    model: MineModel
    start: np.ndarray  # ideal (as designed) start point, local metres
    end: np.ndarray
    count: int  # mines actually laid


@dataclass
class Minefield:
    fid: str
    rows: list[Row]
    perimeter: Polygon
    date_laid: date
    side: str  # west (records handed over) | east
    landmark: np.ndarray  # a recognisable feature used as the record's reference


@dataclass
class Strike:
    sid: str
    munition: Munition
    center: np.ndarray
    direction_deg: float
    strike_date: date
    footprint: Polygon
    duds: int


@dataclass
class Truth:
    """Every item in the ground, as parallel arrays (fast to match and to write)."""

    xy: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    eo_type: list[EOType] = field(default_factory=list)
    model: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    minefield: list[str | None] = field(default_factory=list)
    row: list[str | None] = field(default_factory=list)
    laid: list[date] = field(default_factory=list)
    fate: list[str] = field(default_factory=list)

    def extend(
        self,
        xy: np.ndarray,
        eo_type: EOType,
        model: str,
        context: str,
        laid: date,
        minefield: str | None = None,
        row: str | None = None,
    ) -> None:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        n = len(xy)
        self.xy = np.vstack([self.xy, xy])
        self.eo_type += [eo_type] * n
        self.model += [model] * n
        self.context += [context] * n
        self.minefield += [minefield] * n
        self.row += [row] * n
        self.laid += [laid] * n
        self.fate += ["in_ground"] * n

    def __len__(self) -> int:
        return len(self.xy)


def row_positions(start: np.ndarray, end: np.ndarray, count: int) -> np.ndarray:
    if count <= 1:
        return start.reshape(1, 2).copy() if count == 1 else np.empty((0, 2))
    t = np.linspace(0.0, 1.0, count)[:, None]
    return start + t * (end - start)


def _random_date(rng: np.random.Generator, a: date, b: date) -> date:
    return a + timedelta(days=int(rng.integers(0, max((b - a).days, 1))))


def _defensive_fields(cfg: DistrictConfig, land: Landscape, rng: np.random.Generator) -> list[Minefield]:
    front = land.front_line
    fields: list[Minefield] = []
    s = land.size
    belts = [(60.0, 400.0, 1.0), (500.0, 1100.0, 0.75), (1200.0, 2000.0, 0.45)]
    k = 0
    for side, sign, belt_set in (("west", -1.0, belts), ("east", 1.0, belts[:1])):
        for lo, hi, density in belt_set:
            pos = rng.uniform(100, 500)
            while pos < front.length - 100:
                step = rng.uniform(450, 950)
                if rng.random() < density * (1.0 if side == "west" else 0.5):
                    p = front.interpolate(pos)
                    q = front.interpolate(min(pos + 5.0, front.length))
                    t = np.array([q.x - p.x, q.y - p.y])
                    t /= np.linalg.norm(t) or 1.0
                    # normal pointing west (sign −1) or east (+1)
                    nrm = np.array([t[1], -t[0]]) if t[1] > 0 else np.array([-t[1], t[0]])
                    nrm *= sign
                    depth = rng.uniform(lo, hi)
                    center = np.array([p.x, p.y]) + nrm * depth
                    if not (150 < center[0] < s - 150 and 150 < center[1] < s - 150):
                        pos += step
                        continue
                    k += 1
                    fields.append(_layout_field(f"MF{k:04d}", center, t, nrm, side, rng))
                pos += step
    return fields


def _layout_field(
    fid: str, center: np.ndarray, t: np.ndarray, nrm: np.ndarray, side: str, rng: np.random.Generator
) -> Minefield:
    width = rng.uniform(120, 420)
    kind = rng.choice(["ap", "av", "mixed"], p=[0.45, 0.15, 0.40])
    n_rows = int(rng.integers(2, 6))
    gap = rng.uniform(12, 25)
    models: list[MineModel] = []
    for r in range(n_rows):
        if kind == "av" or (kind == "mixed" and r < max(1, n_rows // 3)):
            models.append(AV)
        else:
            models.append(AP_BLAST if rng.random() < 0.7 else (AP_FRAG if rng.random() < 0.5 else AP_FRAG_STAKE))
    rows: list[Row] = []
    for r, model in enumerate(models):
        # row 1 faces the old enemy (towards the front line)
        off = (r - (n_rows - 1) / 2) * gap
        a = center - t * width / 2 + (-nrm) * off
        b = center + t * width / 2 + (-nrm) * off
        count = int(np.floor(np.linalg.norm(b - a) / model.spacing_m)) + 1
        rows.append(Row(f"{fid}-R{r + 1}", model, a, b, count))
    ends = np.array([p for row in rows for p in (row.start, row.end)])
    perimeter = shapely.MultiPoint(ends).convex_hull.buffer(10.0, join_style="mitre")
    laid = date(int(rng.integers(1993, 2020)), int(rng.integers(1, 13)), 1)
    landmark = center + (-nrm) * rng.uniform(250, 700) + t * rng.normal(0, 200)
    return Minefield(fid, rows, perimeter, laid, side, landmark)


def _nuisance(cfg: DistrictConfig, land: Landscape, truth: Truth, rng: np.random.Generator) -> None:
    """Mines at civilian infrastructure, laid at the withdrawal in November 2020."""
    sc = cfg.scale
    laid_a, laid_b = date(2020, 11, 10), date(2020, 11, 25)

    def put(
        anchors: list[Point],
        share: float,
        context: str,
        per_site: tuple[int, int],
        radius: float,
        types: tuple[tuple[MineModel | str, float], ...],
    ) -> None:
        if not anchors:
            return
        n = max(1, round(share * len(anchors))) if share < 1 else int(share)
        pick = rng.choice(len(anchors), size=min(n, len(anchors)), replace=False)
        for i in pick:
            a = anchors[int(i)]
            m = int(rng.integers(per_site[0], per_site[1] + 1))
            ang = rng.uniform(0, 2 * np.pi, m)
            dist = rng.uniform(0.5, radius, m)
            xy = np.column_stack([a.x + dist * np.cos(ang), a.y + dist * np.sin(ang)])
            probs = np.array([w for _, w in types])
            choice = rng.choice(len(types), p=probs / probs.sum())
            kind = types[choice][0]
            when = _random_date(rng, laid_a, laid_b)
            if kind == "improvised":
                truth.extend(xy, EOType.IMPROVISED, "improvised (tripwire grenade)", context, when)
            else:
                assert isinstance(kind, MineModel)
                truth.extend(xy, kind.eo_type, kind.model, context, when)

    ap = ((AP_BLAST, 0.7), (AP_FRAG_STAKE, 0.15), ("improvised", 0.15))
    put(land.power_poles, 0.10, "power_line_pole", (1, 2), 1.5, ap)
    put(land.light_poles, 0.03, "light_pole", (1, 2), 1.5, ap)
    canal_sites = [p for c in land.canals for p in points_along(c, 250.0, rng)]
    bank_pts = [Point(p.x + rng.normal(0, 1), p.y + rng.normal(0, 1)) for p in canal_sites]
    put(bank_pts, 0.25, "canal_bank", (1, 3), 3.0, ap)
    river_sites = [p for b in land.banks for p in points_along(b, 300.0, rng)]
    put(river_sites, 0.22, "riverbank", (1, 3), 3.0, ap)
    put(land.junctions, 0.10, "road_junction", (1, 3), 4.0, ((AP_BLAST, 0.6), (AV, 0.4)))
    entrances = [e for st in land.settlements for e in st.entrances]
    put(
        entrances,
        max(1, round(60 * sc)),
        "courtyard_entrance",
        (1, 1),
        1.0,
        ((AP_BLAST, 0.6), ("improvised", 0.4)),
    )
    cem_gates = [Point(c.exterior.coords[0]) for _, c in land.cemeteries]
    cem_inside = [c.representative_point() for _, c in land.cemeteries]
    put(cem_gates, 0.6, "cemetery", (1, 4), 6.0, ap)
    put(cem_inside, 0.4, "cemetery", (1, 3), 25.0, ap)
    path_sites = [
        p
        for kind, pl in land.paths
        if kind in ("cemetery", "orchard", "field", "spring")
        for p in points_along(pl, 200.0, rng)[1:-1]
    ]
    put(path_sites, 0.07, "path", (1, 2), 1.5, ap)


def _cluster_strikes(cfg: DistrictConfig, land: Landscape, truth: Truth, rng: np.random.Generator) -> list[Strike]:
    town = land.town
    strikes: list[Strike] = []
    n = max(3, round(14 * cfg.scale))
    for k in range(n):
        mun = MUNITIONS[int(rng.choice(len(MUNITIONS), p=[0.5, 0.3, 0.2]))]
        c = np.array([town.center.x, town.center.y]) + rng.normal(0, town.radius * 0.5, 2)
        direction = float(rng.uniform(0, 180))
        ell = shapely.affinity.scale(Point(c).buffer(1.0, quad_segs=16), mun.semi_major_m, mun.semi_minor_m)
        ell = shapely.affinity.rotate(ell, 90 - direction, origin=Point(c))
        duds = int(rng.binomial(mun.count, mun.dud_rate))
        # submunitions spread roughly uniformly over the ellipse
        r = np.sqrt(rng.uniform(0, 1, duds))
        th = rng.uniform(0, 2 * np.pi, duds)
        local = np.column_stack([r * np.cos(th) * mun.semi_major_m, r * np.sin(th) * mun.semi_minor_m])
        ang = np.deg2rad(90 - direction)
        rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
        xy = c + local @ rot.T
        when = _random_date(rng, date(2020, 10, 4), date(2020, 11, 9))
        sid = f"CMS-{k + 1:05d}"
        truth.extend(xy, EOType.SUBMUNITION, mun.submunition, "cluster_strike", when, minefield=sid)
        strikes.append(Strike(sid, mun, c, direction, when, ell, duds))
    return strikes


def _uxo(cfg: DistrictConfig, land: Landscape, truth: Truth, rng: np.random.Generator) -> None:
    n = max(5, round(60 * cfg.scale))
    d = rng.uniform(0, land.front_line.length, n)
    base = shapely.get_coordinates(shapely.line_interpolate_point(land.front_line, d))
    xy = base + rng.normal(0, 1500, (n, 2))
    xy = np.clip(xy, 10, land.size - 10)
    for p in xy:
        truth.extend(
            p,
            EOType.UXO,
            str(rng.choice(["122 mm HE shell", "82 mm mortar bomb", "RPG-7 rocket"])),
            "battlefield",
            date(2020, 10, 15),
        )


def lay_mines(
    cfg: DistrictConfig, land: Landscape, rng: np.random.Generator
) -> tuple[Truth, list[Minefield], list[Strike]]:
    truth = Truth()
    fields = _defensive_fields(cfg, land, rng)
    for mf in fields:
        for row in mf.rows:
            ideal = row_positions(row.start, row.end, row.count)
            laid = ideal + rng.normal(0, 0.6, ideal.shape)  # drill spacing is not survey accuracy
            keep = rng.random(len(laid)) > 0.03  # a few positions never got their mine
            truth.extend(
                laid[keep],
                row.model.eo_type,
                row.model.model,
                "front_belt",
                mf.date_laid,
                minefield=mf.fid,
                row=row.label,
            )
    _nuisance(cfg, land, truth, rng)
    strikes = _cluster_strikes(cfg, land, truth, rng)
    _uxo(cfg, land, truth, rng)
    return truth, fields, strikes
