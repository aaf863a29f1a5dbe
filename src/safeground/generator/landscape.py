"""The physical district: settlements, roads, paths, water, power, the old front.

Everything is built in local metres (0…S on both axes, x east, y north) and only
converted to WGS 84 when written. The layout follows what a post-2020 district
along the former contact line looks like: villages and one town west of a
north–south front line, a river with irrigation canals, roads crossing the front
from the east where people come back, rural paths to cemeteries and orchards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
import shapely.affinity
import shapely.ops
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist
from shapely import LineString, Point, Polygon

from safeground.generator.config import DistrictConfig

VILLAGE_NAMES = (
    "Chaykend",
    "Dashkend",
    "Gulabli",
    "Sarijali",
    "Bashkend",
    "Yenikend",
    "Armudlu",
    "Narli",
    "Tutlu",
    "Chinarli",
    "Bulagli",
    "Gumushlu",
    "Alakend",
    "Gozlu",
    "Dagdibi",
    "Yaziboyu",
    "Sogutlu",
    "Mollakend",
    "Garaagaj",
    "Ashagi Kend",
    "Yukhari Kend",
    "Gishlag",
    "Daglig",
    "Chobanli",
    "Ovchular",
    "Kolanli",
    "Gamishli",
    "Boyuk Bulag",
)


@dataclass
class Settlement:
    name: str
    kind: str  # village | town
    center: Point
    radius: float
    houses: list[Polygon] = field(default_factory=list)
    entrances: list[Point] = field(default_factory=list)
    streets: list[LineString] = field(default_factory=list)
    footprint: Polygon | None = None


@dataclass
class Landscape:
    size: float
    front_line: LineString
    settlements: list[Settlement]
    cemeteries: list[tuple[str, Polygon]]
    roads: list[LineString]
    road_names: list[str]  # one per road, in the same order
    paths: list[tuple[str, LineString]]  # (purpose, line); purpose: cemetery, orchard, spring, field
    junctions: list[Point]
    river: LineString
    banks: list[LineString]
    canals: list[LineString]
    power_lines: list[LineString]
    power_poles: list[Point]
    light_poles: list[Point]
    orchards: list[tuple[str, Polygon]]
    springs: list[tuple[str, Point]]
    bridges: list[Point]
    checkpoints: list[Point]

    @property
    def town(self) -> Settlement:
        return next(s for s in self.settlements if s.kind == "town")


def wiggly(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, amp: float, n: int = 12) -> LineString:
    """A line from a to b that meanders like a real road or path (smooth lateral noise)."""
    t = np.linspace(0.0, 1.0, n + 1)
    d = b - a
    length = float(np.hypot(*d)) or 1.0
    normal = np.array([-d[1], d[0]]) / length
    noise = np.cumsum(rng.normal(0.0, 1.0, n + 1))
    noise -= np.linspace(noise[0], noise[-1], n + 1)  # pin both ends
    noise *= amp / (np.abs(noise).max() or 1.0)
    pts = a + np.outer(t, d) + np.outer(noise * np.sin(np.pi * t) ** 0.5, normal)
    return LineString(pts)


def points_along(line: LineString, spacing: float, rng: np.random.Generator, jitter: float = 0.0) -> list[Point]:
    n = max(int(line.length // spacing), 1)
    d = np.linspace(0.0, line.length, n + 1)
    pts = shapely.line_interpolate_point(line, d)
    if jitter:
        xy = shapely.get_coordinates(pts) + rng.normal(0.0, jitter, (len(pts), 2))
        pts = shapely.points(xy)
    return list(pts)


def _front_line(cfg: DistrictConfig, rng: np.random.Generator) -> LineString:
    s = cfg.size_km * 1000.0
    y = np.linspace(-200.0, s + 200.0, 60)
    x = 0.8 * s + 600 * np.sin(y / s * 2.3 * np.pi + rng.uniform(0, 6)) + np.cumsum(rng.normal(0, 40, len(y)))
    return LineString(np.column_stack([x, y]))


def _place_settlements(cfg: DistrictConfig, front: LineString, rng: np.random.Generator) -> list[Settlement]:
    s = cfg.size_km * 1000.0
    n_villages = max(3, round(14 * cfg.scale))
    names = list(VILLAGE_NAMES)
    rng.shuffle(names)
    chosen: list[np.ndarray] = []
    # the town sits west of centre, well behind the old line
    town_xy = np.array([0.42 * s, 0.5 * s]) + rng.normal(0, 0.03 * s, 2)
    chosen.append(town_xy)
    tries = 0
    while len(chosen) < n_villages + 1 and tries < 20000:
        tries += 1
        p = rng.uniform(0.06 * s, 0.94 * s, 2)
        dfront = front.distance(Point(p))
        east = p[0] > shapely.line_interpolate_point(front, front.project(Point(p))).x
        # most villages in the returned (western) part; a few on the eastern side
        if dfront < 1500 or (east and rng.random() < 0.75):
            continue
        if min(np.hypot(*(p - q)) for q in chosen) < 2200:
            continue
        chosen.append(p)
    out = []
    for i, p in enumerate(chosen):
        kind = "town" if i == 0 else "village"
        name = ("Yenishahar" if kind == "town" else names[(i - 1) % len(names)]) + ("" if i <= len(names) else f" {i}")
        radius = rng.uniform(900, 1100) if kind == "town" else rng.uniform(280, 520)
        out.append(Settlement(name, kind, Point(p), radius))
    return out


def _build_settlement(st: Settlement, rng: np.random.Generator) -> None:
    """Streets with houses on both sides; each courtyard entrance faces its street."""
    c = np.array([st.center.x, st.center.y])
    theta = rng.uniform(0, np.pi)
    if st.kind == "town":
        spacing = 140.0
        k = int(st.radius // spacing)
        offsets = np.arange(-k, k + 1) * spacing
        dirs = [np.array([np.cos(theta), np.sin(theta)]), np.array([-np.sin(theta), np.cos(theta)])]
        for a, b in ((0, 1), (1, 0)):
            for off in offsets:
                half = np.sqrt(max(st.radius**2 - off**2, 0.0))
                if half < 150:
                    continue
                mid = c + dirs[b] * off
                st.streets.append(LineString([mid - dirs[a] * half, mid + dirs[a] * half]))
        house_gap = 22.0
    else:
        n_streets = int(rng.integers(2, 4))
        for j in range(n_streets):
            ang = theta + j * np.pi / n_streets + rng.normal(0, 0.15)
            d = np.array([np.cos(ang), np.sin(ang)])
            half = st.radius * rng.uniform(0.8, 1.0)
            st.streets.append(wiggly(c - d * half, c + d * half, rng, amp=25, n=6))
        house_gap = 30.0
    houses: list[Polygon] = []
    entrances: list[Point] = []
    for street in st.streets:
        dists = np.arange(house_gap / 2, street.length, house_gap)
        p0 = shapely.get_coordinates(shapely.line_interpolate_point(street, dists))
        p1 = shapely.get_coordinates(shapely.line_interpolate_point(street, np.minimum(dists + 1.0, street.length)))
        t = p1 - p0
        t /= np.linalg.norm(t, axis=1, keepdims=True).clip(1e-9)
        nrm = np.column_stack([-t[:, 1], t[:, 0]])
        for side in (-1.0, 1.0):
            keep = rng.random(len(p0)) >= 0.12  # empty plots
            hc = p0 + side * nrm * 22.0
            corners = np.stack(
                [hc + sx * t * 5.0 + sy * nrm * 6.0 for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))],
                axis=1,
            )
            houses.extend(shapely.polygons(corners[keep]))
            entrances.extend(shapely.points((p0 + side * nrm * 6.0)[keep]))
    # houses never stand on another street
    streets_zone = shapely.union_all([s2.buffer(4.0) for s2 in st.streets])
    shapely.prepare(streets_zone)
    ok = ~shapely.intersects(np.asarray(houses, dtype=object), streets_zone) if houses else np.array([], bool)
    st.houses = [h for h, k in zip(houses, ok, strict=True) if k]
    st.entrances = [e for e, k in zip(entrances, ok, strict=True) if k]
    hull = shapely.union_all([*st.houses, *st.streets]).convex_hull if st.houses else st.center.buffer(st.radius)
    st.footprint = hull.buffer(30.0)


def _roads(
    settlements: list[Settlement], checkpoints: list[np.ndarray], rng: np.random.Generator
) -> tuple[list[LineString], list[str]]:
    nodes = np.array([[s.center.x, s.center.y] for s in settlements] + [list(c) for c in checkpoints])
    d = cdist(nodes, nodes)
    mst = minimum_spanning_tree(d).toarray()
    edges = {(int(i), int(j)) for i, j in zip(*np.nonzero(mst), strict=True)}
    # a few loops, as real networks have them
    order = np.argsort(d, axis=1)
    for i in range(len(nodes)):
        j = int(order[i, 2])
        if rng.random() < 0.35:
            edges.add((min(i, j), max(i, j)))
    # each checkpoint links to its nearest settlement
    n_set = len(settlements)
    for k in range(len(checkpoints)):
        ci = n_set + k
        j = int(np.argmin(d[ci, :n_set]))
        edges.add((min(ci, j), max(ci, j)))
    names = [st.name for st in settlements] + [f"Entry checkpoint {k + 1}" for k in range(len(checkpoints))]

    pairs = sorted(edges)
    lines = [wiggly(nodes[i], nodes[j], rng, amp=min(250.0, 0.06 * d[i, j])) for i, j in pairs]
    return lines, [f"{names[i]} – {names[j]} road" for i, j in pairs]  # as people name a road: by its ends


def _fork(roads: list[LineString], avoid: Polygon, target: Point, within: float) -> Point | None:
    """Where a path to ``target`` leaves the roads (outside ``avoid``), made a vertex of its road.

    The path then starts exactly on a vertex of the road, so the network nodes the two."""
    best: tuple[float, int, Point] | None = None
    for k, road in enumerate(roads):
        outside = road.difference(avoid)
        if outside.is_empty:
            continue
        p = shapely.ops.nearest_points(outside, target)[0]
        d = p.distance(target)
        if d < within and (best is None or d < best[0]):
            best = (d, k, p)
    if best is None:
        return None
    _, k, p = best
    road = roads[k]
    at = road.project(p)
    coords = shapely.get_coordinates(road)
    along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(coords, axis=0).T))]
    cut = int(np.searchsorted(along, at))
    roads[k] = LineString(np.vstack([coords[:cut], [[p.x, p.y]], coords[cut:]]))
    return p


def _junctions(lines: list[LineString]) -> list[Point]:
    """Points where three or more road/street/path segments meet."""
    noded = shapely.union_all(lines)
    segs = shapely.get_parts(noded)
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(segs, 0)),
            shapely.get_coordinates(shapely.get_point(segs, -1)),
        ]
    )
    keys, counts = np.unique(np.round(ends, 1), axis=0, return_counts=True)
    return [Point(xy) for xy in keys[counts >= 3]]


def _river(s: float, rng: np.random.Generator) -> LineString:
    x = np.linspace(-100.0, s + 100.0, 200)
    y = (
        0.22 * s
        + 0.08 * s * np.sin(x / s * 3 * np.pi + rng.uniform(0, 6))
        + 0.03 * s * np.sin(x / s * 11 * np.pi + rng.uniform(0, 6))
    )
    return LineString(np.column_stack([x, y]))


def _canals(s: float, river: LineString, rng: np.random.Generator, n: int) -> list[LineString]:
    out = []
    for k in range(n):
        start = river.interpolate((k + 0.5 + rng.uniform(-0.2, 0.2)) / n * river.length)
        pts = [np.array([start.x, start.y])]
        heading = np.pi / 2 + rng.normal(0, 0.25)
        for _ in range(int(rng.integers(2, 4))):
            step = rng.uniform(1200, 2600)
            nxt = pts[-1] + step * np.array([np.cos(heading), np.sin(heading)])
            nxt = np.clip(nxt, 50, s - 50)
            pts.append(nxt)
            heading += rng.normal(0, 0.35)
        out.append(LineString(pts))
    return out


def build_landscape(cfg: DistrictConfig, rng: np.random.Generator) -> Landscape:
    s = cfg.size_km * 1000.0
    front = _front_line(cfg, rng)
    settlements = _place_settlements(cfg, front, rng)
    for st in settlements:
        _build_settlement(st, rng)
    # checkpoints on the eastern edge, where people come back across the old line
    n_cp = max(2, round(3 * cfg.size_km / 20))
    checkpoints = [np.array([s - 20.0, (k + 0.5) / n_cp * s + rng.normal(0, 0.05 * s)]) for k in range(n_cp)]
    roads, road_names = _roads(settlements, checkpoints, rng)

    cemeteries: list[tuple[str, Polygon]] = []
    orchards: list[tuple[str, Polygon]] = []
    springs: list[tuple[str, Point]] = []
    paths: list[tuple[str, LineString]] = []
    for st in settlements:
        c = np.array([st.center.x, st.center.y])
        # the roads just outside the houses: where a cemetery path leaves the road network
        village = st.center.buffer(st.radius * 1.05)
        for _ in range(2 if st.kind == "town" else 1):
            ang = rng.uniform(0, 2 * np.pi)
            dist = st.radius + rng.uniform(250, 700)
            cc = c + dist * np.array([np.cos(ang), np.sin(ang)])
            w, h = rng.uniform(60, 120), rng.uniform(80, 160)
            cem = shapely.affinity.rotate(
                shapely.box(cc[0] - w / 2, cc[1] - h / 2, cc[0] + w / 2, cc[1] + h / 2), rng.uniform(0, 90)
            )
            cemeteries.append((st.name, cem))
            edge = c + st.radius * 0.9 * np.array([np.cos(ang), np.sin(ang)])
            fork = _fork(roads, village, Point(cc), 4.0 * dist)
            if fork is not None:  # families walk to the graves from the road, not across the fields
                edge = np.array([fork.x, fork.y])
            paths.append(("cemetery", wiggly(edge, cc, rng, amp=40, n=8)))
        for _ in range(int(rng.integers(2, 6))):
            ang = rng.uniform(0, 2 * np.pi)
            oc = c + (st.radius + rng.uniform(150, 800)) * np.array([np.cos(ang), np.sin(ang)])
            w, h = rng.uniform(80, 260), rng.uniform(80, 220)
            orch = shapely.affinity.rotate(
                shapely.box(oc[0] - w / 2, oc[1] - h / 2, oc[0] + w / 2, oc[1] + h / 2), rng.uniform(0, 90)
            )
            orchards.append((st.name, orch))
            edge = c + st.radius * 0.9 * np.array([np.cos(ang), np.sin(ang)])
            paths.append(("orchard", wiggly(edge, oc, rng, amp=30, n=6)))
        ang = rng.uniform(0, 2 * np.pi)
        sp = c + (st.radius + rng.uniform(200, 900)) * np.array([np.cos(ang), np.sin(ang)])
        springs.append((st.name, Point(sp)))
        paths.append(
            (
                "spring",
                wiggly(c + st.radius * 0.8 * np.array([np.cos(ang), np.sin(ang)]), sp, rng, amp=25, n=6),
            )
        )
        # herding/field tracks out into the open land
        for _ in range(2):
            ang = rng.uniform(0, 2 * np.pi)
            far = np.clip(c + rng.uniform(1200, 2500) * np.array([np.cos(ang), np.sin(ang)]), 0, s)
            paths.append(("field", wiggly(c, far, rng, amp=80, n=10)))

    district = shapely.box(0, 0, s, s)
    river = _river(s, rng).intersection(district)
    banks = [river.offset_curve(d).intersection(district) for d in (-12.0, 12.0)]
    canals = [c.intersection(district) for c in _canals(s, river, rng, max(2, round(4 * cfg.scale)))]

    town = settlements[0]
    power_lines: list[LineString] = []
    power_poles: list[Point] = []
    for st in settlements[1:]:
        if st.center.distance(town.center) < 9000 and rng.random() < 0.7:
            a = np.array([town.center.x, town.center.y])
            line = wiggly(a, np.array([st.center.x, st.center.y]), rng, amp=60, n=4)
            power_lines.append(line)
            power_poles.extend(points_along(line, rng.uniform(90, 110), rng, jitter=1.0)[1:-1])
    light_poles: list[Point] = []
    for st in settlements:
        streets = st.streets if st.kind == "town" else st.streets[:1]
        for street in streets:
            light_poles.extend(
                shapely.points(shapely.get_coordinates(points_along(street, 35.0, rng)) + np.array([4.0, 0.0]))
            )
    all_roads = roads + [line for st in settlements for line in st.streets]
    junctions = _junctions(all_roads + [p for _, p in paths])
    water = shapely.union_all([river, *canals])
    bridges = [
        p for p in shapely.get_parts(shapely.intersection(shapely.union_all(roads), water)) if p.geom_type == "Point"
    ]
    return Landscape(
        size=s,
        front_line=front.intersection(district),
        settlements=settlements,
        cemeteries=cemeteries,
        roads=roads,
        road_names=road_names,
        paths=[(k, p) for k, p in paths if district.contains(p)],
        junctions=junctions,
        river=river,
        banks=banks,
        canals=canals,
        power_lines=power_lines,
        power_poles=power_poles,
        light_poles=list(light_poles),
        orchards=orchards,
        springs=springs,
        bridges=bridges,
        checkpoints=[Point(c) for c in checkpoints],
    )
