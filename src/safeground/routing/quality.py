"""How right are the safe routes? Every named pair of a store routed and checked against the truth.

A route the tool calls safe must keep out of the buffer of every open hazard area, and, on a
district whose ground truth is known (the synthetic demo's ``ground_truth_items``), must not
pass within the buffer a found item would get of any item still in the ground: that is a
route the tool would have refused had it known where the mines really are. The pairs are the
trips people make: from each entry checkpoint to every settlement and cemetery, and from each
settlement to its own cemeteries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from safeground.geometry.projection import project
from safeground.model import GroundTruthItem, HazardArea
from safeground.routing.build import safe_network
from safeground.routing.network import RouteAnswer
from safeground.routing.places import Gazetteer
from safeground.safety.buffers import DEFAULT_BUFFERS, SafetyBuffers
from safeground.storage.base import Store


@dataclass
class RouteCheck:
    origin: str
    destination: str
    from_entry: bool  # the trip starts at an entry checkpoint (where families come back)
    found: bool
    length_m: float
    short_of_destination_m: float | None
    #: open hazard areas the route comes within the buffer of: (uid, distance m, buffer m)
    hazard_breaches: list[tuple[str, float, float]] = field(default_factory=list)
    #: items still in the ground (truth) within the found-item buffer of the route: (uid, distance m)
    truth_breaches: list[tuple[str, float]] = field(default_factory=list)


def named_pairs(places: Gazetteer) -> list[tuple[str, str]]:
    """The trips people make between named places: entry checkpoint to every settlement and
    cemetery, settlement to its own cemeteries."""
    settlements = sorted({p.name for p in places.of_kind("settlement")})
    cemeteries = sorted(places.of_kind("cemetery"), key=lambda p: p.name)
    entries = sorted({p.name for p in places.of_kind("checkpoint")})
    pairs = [(e, p) for e in entries for p in [*settlements, *(c.name for c in cemeteries)]]
    pairs += [(c.settlement, c.name) for c in cemeteries if c.settlement in settlements]
    return pairs


def check_routes(store: Store, buffers: SafetyBuffers = DEFAULT_BUFFERS) -> list[RouteCheck]:
    """Route every named pair and check each route the tool calls safe against hazards and truth."""
    net = safe_network(store, buffers, risk=False)
    epsg = net.epsg
    hz = store.read_frame(HazardArea)
    hz = hz[hz["status"] != "closed"].to_crs(epsg) if len(hz) else hz
    hz_buf = np.array([buffers.for_hazard(c) for c in hz["contamination"]] if len(hz) else [], dtype=np.float64)
    hz_tree = shapely.STRtree(hz.geometry.to_numpy()) if len(hz) else None
    truth = store.read_frame(GroundTruthItem)
    truth = truth[truth["fate"] == "in_ground"].to_crs(epsg) if len(truth) else truth
    t_tree = shapely.STRtree(truth.geometry.to_numpy()) if len(truth) else None
    out: list[RouteCheck] = []
    places = Gazetteer.from_store(store)
    for origin, dest in named_pairs(places):
        ans: RouteAnswer = net.route(places.lonlat(origin), places.lonlat(dest))
        from_entry = places.kind_of(origin) == "checkpoint"
        rc = RouteCheck(origin, dest, from_entry, ans.found, ans.length_m, ans.short_of_destination_m)
        if ans.found and ans.path is not None:
            line = project(ans.path, 4326, epsg)
            if hz_tree is not None:
                for i in hz_tree.query(line, predicate="dwithin", distance=float(max(hz_buf))):
                    d = float(line.distance(hz.geometry.iloc[i]))
                    if d < hz_buf[i] - 0.5:  # half a metre for the round trip through WGS 84
                        rc.hazard_breaches.append((str(hz["uid"].iloc[i]), d, float(hz_buf[i])))
            if t_tree is not None:
                for i in t_tree.query(line, predicate="dwithin", distance=buffers.found_item_m):
                    rc.truth_breaches.append((str(truth["uid"].iloc[i]), float(line.distance(truth.geometry.iloc[i]))))
        out.append(rc)
    return out


def route_figures(checks: list[RouteCheck]) -> dict[str, float]:
    """The decision-quality figures of a set of route checks."""
    found = [c for c in checks if c.found]
    places = {c.destination for c in checks if c.from_entry}
    reached = {c.destination for c in found if c.from_entry}
    return {
        "places": len(places),
        "places_reachable_from_an_entry": len(reached),
        "pairs": len(checks),
        "safe_routes": len(found),
        "reachable_share": len(found) / len(checks) if checks else float("nan"),
        "routes_within_hazard_buffer": sum(1 for c in found if c.hazard_breaches),
        "routes_with_true_mine_within_buffer": sum(1 for c in found if c.truth_breaches),
    }


def checks_frame(checks: list[RouteCheck]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "origin": [c.origin for c in checks],
            "destination": [c.destination for c in checks],
            "found": [c.found for c in checks],
            "length_m": [round(c.length_m) for c in checks],
            "short_m": [None if c.short_of_destination_m is None else round(c.short_of_destination_m) for c in checks],
            "hazard_breaches": [len(c.hazard_breaches) for c in checks],
            "truth_breaches": [len(c.truth_breaches) for c in checks],
        }
    )
