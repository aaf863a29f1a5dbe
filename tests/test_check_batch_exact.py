"""The fast batch safe-check gives exactly what measuring every point against every danger gives.

The batch measures most distances in numpy (``safety.facets``) and most points only against the
few dangers near them; here the answers are compared with a brute-force reference (GEOS distance
from every point to every feature, then the ranking rules of the single check written out again),
on random districts of several seeds: points inside hazards, on their edges and corners, at 50 m
(a buffer's edge), near, and tens of kilometres away; and, with Hypothesis, with the single check.
The numpy distances are compared with GEOS's bit for bit on random shapes of every kind.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from safeground.geometry.projection import project
from safeground.safety.check import SafetyIndex
from safeground.safety.facets import Facets
from safeground.safety.levels import ON_EDGE_M

EPSG = 32638
X0, Y0 = 650_000.0, 4_386_000.0
SIDE = 20_000.0
CONTAMINATION = ["antipersonnel_mines", "antivehicle_mines", "cluster_munition_remnants", "other_erw"]


def _random_polygons(rng: np.random.Generator, n: int, cx: np.ndarray, cy: np.ndarray) -> np.ndarray:
    """Boxes, star-shaped and self-crossing rings, rings with holes, two-part multipolygons."""
    out = []
    for i in range(n):
        kind = rng.integers(0, 5)
        r = rng.uniform(15, 250)
        if kind == 0:
            g = shapely.box(cx[i] - r, cy[i] - r / 2, cx[i] + r, cy[i] + r / 2)
        elif kind in (1, 2):
            k = int(rng.integers(3, 14))
            ang = rng.uniform(0, 2 * np.pi, k)
            ang = np.sort(ang) if kind == 1 else ang  # unsorted: a ring crossing itself
            rad = rng.uniform(0.2, 1.0, k) * r
            g = shapely.Polygon(np.c_[cx[i] + rad * np.cos(ang), cy[i] + rad * np.sin(ang)])
        elif kind == 3:
            g = shapely.box(cx[i] - r, cy[i] - r, cx[i] + r, cy[i] + r).difference(
                shapely.box(cx[i] - r / 3, cy[i] - r / 3, cx[i] + r / 3, cy[i] + r / 3)
            )
        else:
            g = shapely.MultiPolygon([shapely.box(cx[i], cy[i], cx[i] + r, cy[i] + r),
                                      shapely.box(cx[i] + 2 * r, cy[i], cx[i] + 3 * r, cy[i] + r / 2)])  # fmt: skip
        out.append(g)
    return np.array(out, dtype=object)


def _district(seed: int) -> SafetyIndex:
    """Hazards (some closed, of four contamination types: four buffers), records, strikes, found items."""
    rng = np.random.default_rng(seed)

    def spot(n: int) -> tuple[np.ndarray, np.ndarray]:
        return rng.uniform(X0, X0 + SIDE, n), rng.uniform(Y0, Y0 + SIDE, n)

    def frame(geoms: np.ndarray, **cols: object) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(cols, geometry=project(geoms, EPSG, 4326), crs=4326)

    n = 260
    hx, hy = spot(n)
    hz_geoms = _random_polygons(rng, n, hx, hy)
    hz_geoms[1] = hz_geoms[0]  # two hazards on the same ground: the first stored is named
    hazards = frame(hz_geoms, uid=[f"HA-{i:04d}" for i in range(n)],
                    status=rng.choice(["open", "open", "open", "closed"], n),
                    classification=rng.choice(["confirmed_hazardous_area", "suspected_hazardous_area"], n),
                    contamination=rng.choice(CONTAMINATION, n))  # fmt: skip
    rx, ry = spot(25)
    records = frame(_random_polygons(rng, 25, rx, ry), uid=[f"MR-{i:03d}" for i in range(25)])
    sx, sy = spot(20)
    strikes = frame(
        shapely.buffer(shapely.points(sx, sy), rng.uniform(30, 300, 20)), uid=[f"CS-{i:03d}" for i in range(20)]
    )
    ix, iy = spot(60)
    items = frame(shapely.points(ix, iy), uid=[f"EO-{i:03d}" for i in range(60)],
                  status=rng.choice(["found", "destroyed"], 60), eo_type="mortar_bomb")  # fmt: skip
    return SafetyIndex.from_frames(EPSG, hazards=hazards, records=records, strikes=strikes, items=items)


def _hard_points(index: SafetyIndex, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Metric points where answers change: inside, on vertices and edges, at a buffer's edge, near, far."""
    geoms = np.concatenate([ly.geoms for ly in index.layers if ly.blocks])
    pick = geoms[rng.integers(0, len(geoms), 600)]
    inside = shapely.point_on_surface(pick[:150])
    rings = shapely.boundary(pick[150:450])
    on_edge = shapely.line_interpolate_point(rings, rng.uniform(0, 1, 300), normalized=True)
    vertices = shapely.points(shapely.get_coordinates(pick[450:500]))
    # exactly the buffer away, beside a box's side or beyond its envelope's corner
    b = shapely.bounds(pick[500:])
    at50 = shapely.points(
        np.r_[b[:50, 2] + 50.0, b[50:, 0] - 25.0], np.r_[(b[:50, 1] + b[:50, 3]) / 2, b[50:, 1] - 100.0]
    )
    uniform = shapely.points(
        rng.uniform(X0 - 2_000, X0 + SIDE + 2_000, 1500), rng.uniform(Y0 - 2_000, Y0 + SIDE + 2_000, 1500)
    )
    far = shapely.points(rng.uniform(X0 - 30_000, X0 + SIDE + 30_000, 300), Y0 - rng.uniform(5_000, 30_000, 300))
    pts = np.concatenate([inside, on_edge, vertices, at50, uniform, far])
    pts = pts[~shapely.is_empty(pts)]
    ll = project(pts, EPSG, 4326)
    return shapely.get_x(ll), shapely.get_y(ll)


def _brute_force(index: SafetyIndex, lon: np.ndarray, lat: np.ndarray) -> dict[str, list]:
    """The rules of the single check applied to the distance from every point to every feature."""
    x, y = index._to_metric.transform(lon, lat)  # the projection both checks use
    pts = shapely.points(np.asarray(x), np.asarray(y))
    geoms = np.concatenate([ly.geoms for ly in index.layers])
    uids = np.concatenate([ly.uids for ly in index.layers]).astype(str)
    labels = np.concatenate([ly.labels for ly in index.layers]).astype(str)
    buf = np.concatenate([ly.buffers for ly in index.layers]).astype(float)
    blocks = np.concatenate([np.full(len(ly.geoms), ly.blocks) for ly in index.layers])
    d = shapely.distance(geoms[None, :], pts[:, None])  # points × features, rank order
    out: dict[str, list] = {k: [] for k in ("level", "reason", "buffer_m", "nearest_danger", "nearest_danger_m")}
    rank = np.arange(len(geoms))
    for row in d:
        within = row <= np.maximum(buf, ON_EDGE_M)
        inside = within & blocks & (row <= ON_EDGE_M)
        found = np.flatnonzero(within)
        if len(found):
            first = found[np.lexsort((rank[found], row[found], ~inside[found]))[0]]
            level = "danger" if inside.any() else "caution"
            out["reason"].append(labels[first])
            out["buffer_m"].append(buf[first])
        else:
            level = "no_known_hazard"
            out["reason"].append("")
            out["buffer_m"].append(np.nan)
        out["level"].append(level)
        bd = np.where(blocks, row, np.inf)
        nearest = int(np.flatnonzero(bd == bd.min())[0])
        out["nearest_danger"].append(uids[nearest])
        out["nearest_danger_m"].append(round(float(bd[nearest]), 1))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_batch_gives_exactly_the_brute_force_answer(seed):
    index = _district(seed)
    lon, lat = _hard_points(index, np.random.default_rng(100 + seed))
    got = index.check_many(lon, lat)
    want = _brute_force(index, lon, lat)
    assert list(got["level"].astype(str)) == want["level"]
    assert list(got["reason"].astype(str)) == want["reason"]
    assert np.array_equal(got["buffer_m"].to_numpy(), np.array(want["buffer_m"]), equal_nan=True)
    assert list(got["nearest_danger"].astype(str)) == want["nearest_danger"]
    assert np.array_equal(got["nearest_danger_m"].to_numpy(), np.array(want["nearest_danger_m"]))
    # the sample reaches every answer, so the agreement says something
    levels = got["level"].astype(str)
    assert set(levels) == {"danger", "caution", "no_known_hazard"}
    assert (got["nearest_danger_m"] > 5_000).sum() > 100 and (got["nearest_danger_m"] == 0).sum() > 300
    assert len({r.split(" ")[0] for r in got["reason"].astype(str) if r}) >= 3  # several kinds of reason


def _shapes(rng: np.random.Generator, n: int) -> np.ndarray:
    cx, cy = rng.uniform(X0, X0 + 5_000, n), rng.uniform(Y0, Y0 + 5_000, n)
    polys = _random_polygons(rng, n, cx, cy)
    twice = shapely.Polygon([(X0, Y0), (X0 + 9, Y0), (X0 + 9, Y0), (X0 + 9, Y0 + 9), (X0, Y0)])  # a vertex twice
    others = np.concatenate([
        shapely.points(cx[:40], cy[:40]),
        shapely.linestrings(np.stack([np.c_[cx[:20], cy[:20]], np.c_[cx[:20] + 30, cy[:20] + 10],
                                      np.c_[cx[:20] + 5, cy[:20] + 60]], axis=1)),
        shapely.buffer(shapely.points(cx[:20], cy[:20]), 40.0),  # 65 vertices
        shapely.buffer(shapely.points(cx[:5], cy[:5]), 40.0, quad_segs=40),  # more than numpy measures
        np.array([twice]),
    ])  # fmt: skip
    return np.concatenate([polys, others])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_numpy_distances_are_the_geos_distances_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    geoms = _shapes(rng, 400)
    facets = Facets.build(geoms)
    fi = rng.integers(0, len(geoms), 40_000)
    c = shapely.centroid(geoms[fi])
    spread = rng.choice([1.0, 30.0, 300.0, 20_000.0], len(fi))
    px, py = (
        shapely.get_x(c) + rng.normal(0, 1, len(fi)) * spread,
        shapely.get_y(c) + rng.normal(0, 1, len(fi)) * spread,
    )
    # on vertices and along edges (where only GEOS can say inside or out), and just off them
    k = 6000
    sel = fi[:k][shapely.get_type_id(geoms[fi[:k]]) != 0]  # points: their own place is the centroid above
    edges = np.where(shapely.get_type_id(geoms[sel]) == 1, geoms[sel], shapely.boundary(geoms[sel]))
    on = shapely.line_interpolate_point(edges, rng.uniform(0, 1, len(sel)), normalized=True)
    coords, which = shapely.get_coordinates(geoms[sel], return_index=True)
    corner = rng.uniform(0, 1, len(sel)) < 0.3
    first = np.searchsorted(which, np.arange(len(sel)))
    ox = np.where(corner, coords[first, 0], shapely.get_x(on))
    oy = np.where(corner, coords[first, 1], shapely.get_y(on))
    nudge = rng.choice([0.0, 0.0, 1e-7, 1e-5, 1e-3], len(sel))
    fi = np.r_[sel, fi[k:]]
    px, py = np.r_[ox + nudge, px[k:]], np.r_[oy - nudge, py[k:]]
    got = facets.distance(geoms, fi, px, py)
    want = shapely.distance(geoms[fi], shapely.points(px, py))
    assert np.array_equal(got, want)  # not approximately: the same double
    assert (want == 0).sum() > 2000 and (want > 1000).sum() > 1000


_SMALL = _district(7)
_minx, _miny, _maxx, _maxy = project(
    shapely.box(X0 - 3_000, Y0 - 3_000, X0 + SIDE + 3_000, Y0 + SIDE + 3_000), EPSG, 4326
).bounds


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(_minx, _maxx), st.floats(_miny, _maxy)), min_size=1, max_size=60))
def test_every_point_of_a_batch_gets_the_single_checks_answer(points):
    lon, lat = np.array(points).T
    batch = _SMALL.check_many(lon, lat)
    for row, (a, b) in enumerate(points):
        one = _SMALL.check(a, b)
        got = batch.iloc[row]
        assert (got["level"], got["reason"], got["nearest_danger"]) == (
            one.level.name.lower(),
            one.reason,
            one.nearest_uid,
        )
        assert got["nearest_danger_m"] == round(one.nearest_m, 1)
        assert got["buffer_m"] == one.buffer_m or (np.isnan(got["buffer_m"]) and np.isnan(one.buffer_m))
