"""The public returnee page's data: "Is it safe here?" and "How do I get there safely?" for anyone.

The page (``web/public_routes.py``) answers on the server while the phone has signal and on the phone
when it has none, so both must answer from the same data with the same rules. This module makes that
data once per store state:

* a :class:`~safeground.safety.check.SafetyIndex` built from what the public may read
  (``access.view(…, Audience.PUBLIC)``: generalised hazard outlines, minefield record perimeters and
  strike footprints, and the places of accidents as the 250 m cells around them, never a point), so
  the server's public check and the phone's check answer from the same geometry;
* the safe route network exactly as ``safeground route`` builds it (``routing.build.safe_network``),
  each edge with its cost, whether it may be used, and which danger it passes near: the phone runs the
  same Dijkstra over the same costs;
* the JSON *bundle* the phone caches: those geometries (in the district's metric projection, rounded to
  the millimetre, and the server's index is built from the very same rounded numbers), the network, the
  named places, the constants of ``safety.levels`` and the buffers, the data date and the authority's
  safety rules and emergency numbers. Nothing in it is hand-copied into the page's script.

What the public check leaves out, and why: items found (``eo_items`` are public only as counts per
1 km cell, so a 50 m caution around each would publish their places) and the risk model's caution
(the risk map is not published yet). The answer is otherwise worded as ``safeground check`` words it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeground.errors import InvalidInput, Param, Problem, SafeGroundError

if TYPE_CHECKING:
    import numpy as np

    from safeground.routing.network import RoadNetwork, RouteAnswer
    from safeground.routing.places import Place
    from safeground.safety.buffers import SafetyBuffers
    from safeground.safety.check import SafetyAnswer, SafetyIndex
    from safeground.storage.base import Store

#: the store metadata key the authority's safety rules and emergency numbers are kept under
INFO_KEY = "public_info"
LANGS = ("az", "ru", "en")
#: coordinates the phone receives are rounded to this many decimals of a metre
METRIC_DECIMALS = 3
#: labels of the accident places the public check answers with (no uid, no day: see module doc)
ACCIDENT_UNSURVEYED = "the place of an accident, not yet surveyed"
ACCIDENT_SURVEYED = "the place of an accident (surveyed since)"
#: the order destinations are offered in: graves first (most trips), then villages and homes
PLACE_ORDER = ("cemetery", "settlement", "spring", "checkpoint")


@dataclass
class PublicData:
    """Everything the public page answers from, made once per state of the store."""

    index: SafetyIndex
    network: RoadNetwork | None
    places: list[Place]
    bundle: dict[str, Any]
    bundle_bytes: bytes
    etag: str
    data_date: str | None

    def place(self, name: str) -> Place:
        for p in self.places:
            if p.name.lower() == name.strip().lower():
                return p
        raise SafeGroundError(f"no place named {name!r} in this district", hint="pick a place from the list")


# -- building -----------------------------------------------------------------------------------------
def _rounded(geoms: np.ndarray) -> np.ndarray:
    import numpy as np
    import shapely

    out: np.ndarray = shapely.transform(geoms, lambda c: np.round(c, METRIC_DECIMALS))
    return out


def _public_index(store: Store, buffers: SafetyBuffers) -> SafetyIndex:
    """The safety index of what the public may read (see the module doc)."""
    import numpy as np
    import shapely

    from safeground.access import Audience, view
    from safeground.access.policy import _opened_by_accident
    from safeground.casualties.emergency import unsurveyed_accidents
    from safeground.geometry.generalise import cell_footprint, generalised_outline
    from safeground.model import Accident, Activity, ClusterStrike, HazardArea, MinefieldRecord
    from safeground.safety.check import SafetyIndex, _Layer
    from safeground.storage.base import metric_epsg

    hz = view(store, HazardArea, Audience.PUBLIC).frame
    frames = {
        "hazards": hz[hz["status"] != "closed"] if len(hz) else hz,
        "records": view(store, MinefieldRecord, Audience.PUBLIC).frame,
        "strikes": view(store, ClusterStrike, Audience.PUBLIC).frame,
    }
    known = [f for f in frames.values() if len(f)]
    epsg = metric_epsg(store, known[0] if known else None)
    base = SafetyIndex.from_frames(epsg, buffers=buffers, **frames)  # the labels and buffers of `check`
    cleared = _public_cleared(store, epsg)
    layers = []
    for ly in base.layers:
        geoms = ly.geoms
        if ly.kind == "hazard_area" and not cleared.is_empty:
            # a hazard's public outline is grown by 40 m: across a road cleared through a belt of hazards it
            # would close the corridor. The cleared ground the public sees (shrunk by 40 m) is taken out again;
            # the hazard's own ground is never cleared ground, so the outline still covers all of it
            geoms = np.array([shapely.difference(g, cleared) for g in geoms], dtype=object)
        layers.append(_Layer(ly.kind, _rounded(geoms), ly.uids, ly.labels, ly.buffers, ly.blocks, ly.self_match))
    # accidents: which are unsurveyed is decided on the exact data; the public gets the 250 m cells only
    acc = store.read_frame(Accident)
    if len(acc):
        exact_hz = store.read_frame(HazardArea)
        acc_m = acc.to_crs(epsg)
        hz_m = exact_hz.to_crs(epsg) if len(exact_hz) else exact_hz
        act = store.read_frame(Activity)
        act_m = act.to_crs(epsg) if len(act) else act
        fresh = unsurveyed_accidents(acc_m, hz_m, act_m)
        counted = 0
        for kind, which, label, blocks in (
            ("accident_unsurveyed", fresh, ACCIDENT_UNSURVEYED, True),
            ("accident", ~fresh, ACCIDENT_SURVEYED, False),
        ):
            pts = acc_m.geometry.to_numpy()[which]
            zones = shapely.buffer(pts, buffers.accident_m) if blocks else pts
            cells: list[Any] = []
            seen: set[bytes] = set()
            for z in zones:
                c = cell_footprint(z)
                key = shapely.to_wkb(c)
                if c is not None and not c.is_empty and key not in seen:
                    seen.add(key)
                    cells.append(c)
            if cells:
                n = len(cells)
                uids = np.array([f"accident area {counted + i + 1}" for i in range(n)], dtype=object)
                counted += n
                geoms = _rounded(np.array(cells, dtype=object))
                layers.append(
                    _Layer(kind, geoms, uids, np.full(n, label, dtype=object), np.full(n, buffers.accident_m),
                           blocks, True)
                )  # fmt: skip
    # released land: closed hazard areas shrunk (never more released than was), none drawn around an accident
    released = None
    exact = store.read_frame(HazardArea)
    if len(exact):
        closed = exact[(exact["status"] == "closed") & ~_opened_by_accident(store, exact)].to_crs(epsg)
        shapes = [generalised_outline(g, outward=False, key=str(u)) for g, u in zip(closed.geometry, closed["uid"],
                                                                                     strict=True)]  # fmt: skip
        keep = [i for i, g in enumerate(shapes) if g is not None and not g.is_empty]
        if keep:
            uids = closed["uid"].to_numpy()[keep]
            released = _Layer(
                "released", _rounded(np.array([shapes[i] for i in keep], dtype=object)), uids,
                np.array([f"area {u}, released by survey or clearance" for u in uids], dtype=object),
                np.zeros(len(keep)), False,
            )  # fmt: skip
    index = SafetyIndex(epsg, layers, released, buffers=buffers)
    index.region = base.region or store.area_of_interest()
    if index.region is None and known:
        b = np.array([f.total_bounds for f in known])
        index.region = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    return index


def _public_cleared(store: Store, epsg: int) -> Any:
    """Ground finished clearance released, as the public sees it (``view``: outlines shrunk), metric."""
    import shapely

    from safeground.access import Audience, view
    from safeground.model import Activity
    from safeground.model.vocab import ActivityType

    act = view(store, Activity, Audience.PUBLIC).frame
    if not len(act):
        return shapely.Polygon()
    done = act[act["end_date"].notna() & (act["activity_type"].astype(str) == ActivityType.CLEARANCE.value)]
    if not len(done):
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(done.to_crs(epsg).geometry.to_numpy()))


def _rings(g: Any) -> list[list[list[float]]]:
    """A (multi)polygon as a list of polygons, each a list of rings of flat [x0, y0, x1, y1, …] coordinates."""
    import shapely

    out = []
    for p in shapely.get_parts(g):
        if p.geom_type != "Polygon":
            continue
        rings = [p.exterior, *p.interiors]
        out.append([shapely.get_coordinates(r).ravel().tolist() for r in rings])
    return out


def _data_date(store: Store) -> str | None:
    """The newest date of information of the hazard areas and the survey and clearance work: what the page says."""
    import pandas as pd

    from safeground.model import Activity, HazardArea

    dates = []
    for cls in (HazardArea, Activity):
        f = store.read_frame(cls)
        if len(f) and "date_of_information" in f:
            d = pd.to_datetime(f["date_of_information"], errors="coerce").max()
            if pd.notna(d):
                dates.append(d)
    return max(dates).date().isoformat() if dates else None


def _network_bundle(net: RoadNetwork) -> dict[str, Any]:
    """Nodes, and each edge with what ``RoadNetwork._graph`` and ``_answer`` use: the same costs, the same words."""
    import numpy as np

    from safeground.geometry.projection import to_wgs84

    ok = ~net.blocked & (net.verified if net.verified_only and net.verified is not None else True)
    weight = net.length * net.penalty * net.risk_factor * net.verify_factor + 1e-9
    labels: list[str] = []
    index_of: dict[str, int] = {}
    edges = []
    for e in range(net.edge_count):
        near = net.near.get(e)
        ni = -1
        nd = None
        if near is not None:
            ni = index_of.setdefault(near[0], len(labels))
            if ni == len(labels):
                labels.append(near[0])
            nd = near[1]
        edges.append(
            [
                int(net.u[e]),
                int(net.v[e]),
                float(net.length[e]),
                float(weight[e]) if ok[e] else None,
                int(bool(net.verified[e])) if net.verified is not None else 0,
                ni,
                nd,
                None if net.risk is None else float(net.risk[e]),
            ]
        )
    lon, lat = to_wgs84(net.epsg).transform(net.nodes[:, 0], net.nodes[:, 1])
    return {
        "nodes": net.nodes.ravel().tolist(),
        "lonlat": np.column_stack([lon, lat]).ravel().tolist(),
        "edges": edges,
        "near_labels": labels,
        "verified_only": bool(net.verified_only),
        "any_blocked": bool(net.blocked.any()),
        "any_verified": bool(net.verified is not None and net.verified.any()),
        "has_verified": net.verified is not None,
        "has_risk": net.risk is not None,
    }


def _roads(store: Store, epsg: int) -> dict[str, list[list[float]]]:
    """Roads, paths and rivers (public landmarks) for the page's map, metric, simplified to 2 m, rounded to 10 cm."""
    import numpy as np
    import shapely

    from safeground.model import InfrastructureLine

    lines = store.read_frame(InfrastructureLine)
    out: dict[str, list[list[float]]] = {}
    if not len(lines):
        return out
    m = lines.to_crs(epsg)
    for kind in ("road", "path", "river", "canal"):
        sel = m[m["kind"] == kind]
        parts = shapely.get_parts(sel.geometry.to_numpy())
        simple = shapely.simplify(parts, 2.0)
        out[kind] = [np.round(shapely.get_coordinates(p), 1).ravel().tolist() for p in simple]
    return out


def _areas(store: Store, epsg: int) -> list[dict[str, Any]]:
    """Settlements and cemeteries (public landmarks) as outlines for the page's map."""
    import shapely

    from safeground.model import InfrastructureArea

    f = store.read_frame(InfrastructureArea)
    out: list[dict[str, Any]] = []
    if not len(f):
        return out
    m = f[f["kind"].isin(["settlement", "cemetery"])].to_crs(epsg)
    for kind, name, g in zip(m["kind"], m["name"], m.geometry, strict=True):
        simple = shapely.simplify(g, 5.0)
        polys = [[[round(v, 1) for v in ring] for ring in p] for p in _rings(simple)]
        out.append({"kind": str(kind), "name": None if name is None else str(name), "polygons": polys})
    return out


def build_public_data(store: Store, buffers: SafetyBuffers | None = None) -> PublicData:
    """The public page's index, network and bundle of ``store`` (read only)."""
    from safeground.routing.build import safe_network
    from safeground.routing.places import Gazetteer
    from safeground.safety.buffers import DEFAULT_BUFFERS
    from safeground.safety.levels import AREA_MARGIN_DEG, ON_EDGE_M, RISK_REASON

    buffers = buffers or DEFAULT_BUFFERS
    index = _public_index(store, buffers)
    zone, south = _utm_zone(index.epsg)
    try:
        net: RoadNetwork | None = safe_network(store, buffers)
    except SafeGroundError:  # no roads or paths: the page still checks, without routes
        net = None
    gaz = Gazetteer.from_store(store)
    rank = {k: i for i, k in enumerate(PLACE_ORDER)}
    places = sorted(gaz.places, key=lambda p: (rank.get(p.kind, len(rank)), p.settlement or "", p.name))
    layers = []
    for ly in index.layers:
        layers.append(
            {
                "kind": ly.kind,
                "blocks": bool(ly.blocks),
                "features": [
                    {"uid": str(u), "label": str(lab), "buffer": float(b), "polygons": _rings(g)}
                    if g.geom_type != "Point"
                    else {"uid": str(u), "label": str(lab), "buffer": float(b), "point": [g.x, g.y]}
                    for g, u, lab, b in zip(ly.geoms, ly.uids, ly.labels, ly.buffers, strict=True)
                ],
            }
        )
    released = None
    if index.released is not None:
        ly = index.released
        released = [
            {"uid": str(u), "label": str(lab), "polygons": _rings(g)}
            for g, u, lab in zip(ly.geoms, ly.uids, ly.labels, strict=True)
        ]
    data_date = _data_date(store)
    bundle: dict[str, Any] = {
        "format": "safeground-public-bundle/1",
        "district": store.get_meta("store_name") or None,
        "data_date": data_date,
        "epsg": index.epsg,
        "metric_decimals": METRIC_DECIMALS,
        "utm": {"zone": zone, "south": south},
        "region": list(index.region) if index.region else None,
        "constants": {
            "on_edge_m": ON_EDGE_M,
            "area_margin_deg": AREA_MARGIN_DEG,
            "risk_reason": RISK_REASON,
            "buffers": buffers.as_dict(),
            "buffers_described": buffers.describe(),
        },
        "layers": layers,
        "released": released,
        "network": _network_bundle(net) if net is not None else None,
        "places": [
            {"name": p.name, "kind": p.kind, "settlement": p.settlement, "lon": p.lon, "lat": p.lat} for p in places
        ],
        "map": {
            "lines": _roads(store, index.epsg),
            "areas": _areas(store, index.epsg),
            # the cleared ground the public sees, drawn over the dangers: a road cleared through a strike
            # footprint or a record's perimeter is where the safe route goes
            "cleared": [
                [[round(v, 1) for v in ring] for ring in p] for p in _rings(_public_cleared(store, index.epsg))
            ],
        },
        "info": public_info(store),
    }
    raw = json.dumps(bundle, separators=(",", ":"), ensure_ascii=False).encode()
    etag = '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'
    return PublicData(index, net, places, bundle, raw, etag, data_date)


def _utm_zone(epsg: int) -> tuple[int, bool]:
    if 32601 <= epsg <= 32660:
        return epsg - 32600, False
    if 32701 <= epsg <= 32760:
        return epsg - 32700, True
    raise SafeGroundError(
        f"the district is measured in EPSG:{epsg}, not a UTM zone: the phone computes only in UTM",
        hint="set the store's metric projection to its UTM zone",
    )


# -- answers ------------------------------------------------------------------------------------------
def answer_dict(ans: SafetyAnswer) -> dict[str, Any]:
    """A check's answer as the page shows it; the phone's script builds the same from the bundle."""
    inside = [f for f in ans.findings if f.inside and f.blocks]
    return {
        "lon": ans.lon,
        "lat": ans.lat,
        "level": ans.level.name.lower(),
        "verdict": ans.verdict,
        "reason": ans.reason or None,
        "findings": [
            {
                "kind": f.kind,
                "uid": f.uid,
                "label": f.label,
                "distance_m": f.distance_m,
                "buffer_m": f.buffer_m,
                "inside": f.inside,
                "blocks": f.blocks,
            }
            for f in ans.findings
        ],
        "inside_more": max(len(inside) - 1, 0),
        "released": [f.label for f in ans.released],
        "nearest": (
            {"uid": ans.nearest_uid, "label": ans.nearest_label, "distance_m": ans.nearest_m}
            if ans.nearest_label
            else None
        ),
    }


def public_check(data: PublicData, lon: float, lat: float) -> dict[str, Any]:
    """Is it safe at ``lon``, ``lat``, answered from what the public may read (as the phone answers offline)."""
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise SafeGroundError(f"{lon}, {lat} is not a longitude/latitude", hint="longitude first, then latitude")
    import numpy as np

    from safeground.geometry.projection import from_wgs84

    data.index.refuse_outside(lon, lat)
    x, y = from_wgs84(data.index.epsg).transform(lon, lat)
    # to the millimetre, as the phone does: the outlines are snapped to a grid, so a point is often exactly as
    # far from two of them, and the same rounded point makes the same tie on the server and on the phone
    xr, yr = (float(np.rint(v * 10.0**METRIC_DECIMALS) / 10.0**METRIC_DECIMALS) for v in (x, y))
    return answer_dict(data.index.answer_metric(float(lon), float(lat), xr, yr))


def route_dict(ans: RouteAnswer, destination: str) -> dict[str, Any]:
    """A route answer as the page shows it (the phone's script builds the same from the bundle)."""
    import shapely

    return {
        "destination": destination,
        "found": ans.found,
        "length_m": ans.length_m,
        "explanation": ans.explanation,
        "near": [{"label": what, "distance_m": d} for what, d in ans.near_danger],
        "near_length_m": ans.near_length_m,
        "snapped_from_m": ans.snapped_from_m,
        "snapped_to_m": ans.snapped_to_m,
        "closest_safe_point": list(ans.closest_safe_point) if ans.closest_safe_point else None,
        "short_of_destination_m": ans.short_of_destination_m,
        "unverified_m": ans.unverified_m,
        "path": None if ans.path is None else shapely.get_coordinates(ans.path).tolist(),
    }


def public_route(data: PublicData, origin: tuple[float, float], destination: str) -> dict[str, Any]:
    """The safe route from ``origin`` (lon, lat) to a named place, as ``safeground route`` finds it."""
    if data.network is None:
        raise SafeGroundError("this district has no roads or paths to route on", hint="ask the mine action authority")
    data.index.refuse_outside(*origin)
    p = data.place(destination)
    return route_dict(data.network.route(origin, (p.lon, p.lat)), p.name)


# -- the authority's safety rules and emergency numbers -------------------------------------------------
def public_info(store: Store) -> dict[str, Any]:
    """What the authority set for the page (rules per language, emergency numbers); empty lists when not set."""
    raw = store.get_meta(INFO_KEY)
    info: dict[str, Any] = json.loads(raw) if raw else {}
    return {
        "authority": info.get("authority"),
        "rules": {lang: list(info.get("rules", {}).get(lang, [])) for lang in LANGS},
        "emergency": list(info.get("emergency", [])),
        "updated": info.get("updated"),
    }


_NUMBER = re.compile(r"^\+?[0-9][0-9 ()-]{1,24}$")


def set_public_info(
    store: str,
    *,
    rules: Path | None = None,
    emergency: list[str] | tuple[str, ...] = (),
    authority: str | None = None,
    clear: bool = False,
) -> dict[str, Any]:
    """Set the page's safety rules (a YAML or JSON file: ``{az: [...], ru: [...], en: [...]}``), its emergency
    numbers (``NAME=NUMBER``) and the authority's name; what is not given is kept (``clear``: start empty)."""
    import yaml

    from safeground.storage import open_store

    problems: list[Problem] = []
    new_rules: dict[str, list[str]] | None = None
    if rules is not None:
        try:
            text = rules.read_text(encoding="utf-8")
            data = json.loads(text) if rules.suffix.lower() == ".json" else yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
            raise InvalidInput([Problem(str(rules), "file", "(syntax)", str(exc).splitlines()[0])]) from None
        if not isinstance(data, dict):
            raise InvalidInput([Problem(str(rules), "file", "(top)", "write a table: az: [...], ru: [...], en: [...]")])
        new_rules = {}
        for lang, items in data.items():
            if lang not in LANGS:
                problems.append(Problem(str(rules), "language", str(lang), f"use one of {', '.join(LANGS)}"))
            elif not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
                problems.append(Problem(str(rules), str(lang), "rules", "a list of non-empty texts"))
            else:
                new_rules[lang] = [i.strip() for i in items]
    numbers = []
    for item in emergency:
        name, sep, number = item.partition("=")
        if not sep or not name.strip() or not _NUMBER.match(number.strip()):
            problems.append(Problem(str(Param("emergency")), "option", item, "write NAME=NUMBER, e.g. Ambulance=103"))
            continue
        numbers.append({"name": name.strip(), "number": number.strip()})
    if problems:
        raise InvalidInput(problems)
    with open_store(store) as s:
        raw = s.get_meta(INFO_KEY)
        info: dict[str, Any] = {} if clear or not raw else json.loads(raw)
        if new_rules is not None:
            info["rules"] = new_rules
        if numbers:
            info["emergency"] = numbers
        if authority is not None:
            info["authority"] = authority.strip()
        info["updated"] = date.today().isoformat()
        s.set_meta(INFO_KEY, json.dumps(info, ensure_ascii=False))
        return public_info(s)


def show_public_info(store: str) -> dict[str, Any]:
    from safeground.storage import open_store

    with open_store(store, readonly=True) as s:
        return public_info(s)


# -- the village risk map -----------------------------------------------------------------------------
def village_map_pdf(store: Store, name: str, langs: tuple[str, ...]) -> bytes:
    """The public edition of a settlement's or cemetery's one-page risk map (PDF bytes)."""
    from safeground.reports.village_map import render_village_map

    bad = [lang for lang in langs if lang not in LANGS]
    if bad or not langs:
        raise SafeGroundError(f"unknown language(s) {', '.join(bad) or '(none)'}", hint="use az, ru, en")
    with tempfile.TemporaryDirectory(prefix="safeground-village-") as tmp:
        out = Path(tmp) / "map.pdf"
        render_village_map(store, name, out, langs)
        return out.read_bytes()
