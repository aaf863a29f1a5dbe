"""Networks and dangers from the places SafeGround finds them: the store, or OpenStreetMap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from safeground.errors import InvalidInput, Problem
from safeground.model import Activity, ClusterStrike, HazardArea, InfrastructureLine, MinefieldRecord
from safeground.model.vocab import Contamination
from safeground.routing.network import Danger, RoadNetwork
from safeground.safety.buffers import DEFAULT_BUFFERS, SafetyBuffers
from safeground.storage.base import Store, metric_epsg

WALKABLE = ("road", "path")


def network_from_store(store: Store) -> RoadNetwork:
    epsg = metric_epsg(store)
    lines = store.read_frame(InfrastructureLine)
    if not len(lines):
        raise InvalidInput([Problem(store.location, "infrastructure_lines", "kind", "no roads or paths to route on")])
    lines = lines[lines["kind"].isin(WALKABLE)].to_crs(epsg)
    return RoadNetwork.from_lines(lines.geometry.to_numpy(), epsg)


def dangers_from_store(store: Store, epsg: int, buffers: SafetyBuffers = DEFAULT_BUFFERS) -> Danger:
    """Danger zones: each danger grown by its safety buffer, minus ground already released.

    A road through a minefield belt that engineers cleared is usable even though
    the belt and its records lie on both sides of it.
    """
    geoms: list[object] = []
    bufs: list[float] = []
    labels: list[str] = []

    def add(frame: object, what: str, buffer_of: object) -> None:
        if not len(frame):  # type: ignore[arg-type]
            return
        f = frame.to_crs(epsg)  # type: ignore[attr-defined]
        for i, (uid, g) in enumerate(zip(f["uid"], f.geometry, strict=True)):
            geoms.append(g)
            bufs.append(buffer_of(f.iloc[i]))  # type: ignore[operator]
            labels.append(f"{what} {uid}")

    hz = store.read_frame(HazardArea)
    add(
        hz[hz["status"] != "closed"] if len(hz) else hz,
        "hazard area",
        lambda row: buffers.hazard_m.get(Contamination(row["contamination"]), 50.0),
    )
    add(store.read_frame(MinefieldRecord), "minefield record", lambda _row: buffers.minefield_record_m)
    add(store.read_frame(ClusterStrike), "cluster strike", lambda _row: buffers.cluster_strike_m)
    act = store.read_frame(Activity)
    released = shapely.Polygon()
    if len(act):
        done = act[
            act["end_date"].notna() & (act[["area_cleared_m2", "area_reduced_m2", "area_cancelled_m2"]].sum(axis=1) > 0)
        ]
        if len(done):
            released = shapely.union_all(shapely.make_valid(done.to_crs(epsg).geometry.to_numpy()))
    zones = shapely.buffer(np.array(geoms, dtype=object), np.array(bufs, dtype=float))
    if not released.is_empty and len(zones):
        zones = shapely.difference(zones, released)
    keep = ~shapely.is_empty(zones)
    return Danger(zones[keep], np.zeros(int(keep.sum())), np.array(labels, dtype=object)[keep])


def network_from_osm(pbf: str | Path, epsg: int | None = None, network_type: str = "walking") -> RoadNetwork:
    """Walking (or driving) network from an OpenStreetMap extract, read with pyrosm."""
    try:
        from pyrosm import OSM
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise InvalidInput(
            [Problem(str(pbf), "file", "-", "reading OpenStreetMap needs the 'pyrosm' package")],
            hint_text="pip install pyrosm",
        ) from exc
    from safeground.geometry.projection import metric_epsg_for

    edges = OSM(str(pbf)).get_network(network_type=network_type)
    if edges is None or not len(edges):
        raise InvalidInput([Problem(str(pbf), "file", "highway", f"no {network_type} ways in this extract")])
    epsg = epsg or metric_epsg_for(edges.geometry.union_all().envelope)
    return RoadNetwork.from_lines(edges.to_crs(epsg).geometry.to_numpy(), epsg)
