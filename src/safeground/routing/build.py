"""Networks and dangers from the places SafeGround finds them: the store, or OpenStreetMap."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.landrelease.accounting import released_ground
from safeground.model import ClusterStrike, HazardArea, InfrastructureLine, MinefieldRecord
from safeground.routing.network import Danger, RoadNetwork
from safeground.safety.buffers import DEFAULT_BUFFERS, SafetyBuffers
from safeground.storage.base import Store, metric_epsg

WALKABLE = ("road", "path")


def network_from_store(store: Store) -> RoadNetwork:
    lines = store.read_frame(InfrastructureLine)
    lines = lines[lines["kind"].isin(WALKABLE)] if len(lines) else lines
    if not len(lines):
        raise SafeGroundError(
            f"{store.location} holds no roads or paths (layer infrastructure_lines, kind road or path) to route on",
            hint="import them: safeground import infrastructure_lines ROADS.gpkg --store STORE "
            "(e.g. OpenStreetMap roads and paths)",
        )
    epsg = metric_epsg(store, lines)  # a store without an area of interest is measured where its roads are
    lines = lines.to_crs(epsg)
    return RoadNetwork.from_lines(lines.geometry.to_numpy(), epsg)


def safe_network(store: Store, buffers: SafetyBuffers = DEFAULT_BUFFERS, *, risk: bool = True) -> RoadNetwork:
    """The store's roads and paths ready to route on: dangers blocked, only verified ground used
    where the store records any survey or clearance, and (when the store has a current risk map)
    likely-contaminated ground made dearer.

    One place for what every safe route needs, so the command line, the village map and the
    route checks answer the same."""
    net = network_from_store(store)
    net.apply_dangers(dangers_from_store(store, net.epsg, buffers))
    net.apply_verified(released_ground(store, net.epsg), required=True)
    if risk:
        from safeground.risk.output import RiskSampler, latest_risk

        info = latest_risk(store)
        if info is not None:
            sampler = RiskSampler(info)
            net.apply_risk(sampler.sample)
            sampler.close()
    return net


def dangers_from_store(store: Store, epsg: int, buffers: SafetyBuffers = DEFAULT_BUFFERS) -> Danger:
    """Danger zones: each danger grown by its safety buffer.

    An open hazard area is the ground still suspected or confirmed after every release, and its
    buffer is kept whole: a route never comes within a hazard's buffer, even along a cleared
    corridor (route clearance clears corridors wider than the buffer for that reason). Minefield
    records and strike footprints are evidence as it was first reported, not the current state,
    so the ground released since is taken out of their zones: a road engineers cleared through a
    minefield belt is usable even though the belt's records lie on both sides of it.
    """
    zones: list[BaseGeometry] = []
    labels: list[str] = []

    def add(
        frame: gpd.GeoDataFrame, what: str, buffer_of: Callable[[Any], float], released: BaseGeometry | None = None
    ) -> None:
        if not len(frame):
            return
        f = frame.to_crs(epsg)
        bufs = np.array([buffer_of(row) for _, row in f.iterrows()], dtype=np.float64)
        grown = shapely.buffer(f.geometry.to_numpy(), bufs)
        if released is not None and not released.is_empty:
            grown = shapely.difference(grown, released)
        zones.extend(grown)
        labels.extend(f"{what} {uid}" for uid in f["uid"])

    hz = store.read_frame(HazardArea)
    add(
        hz[hz["status"] != "closed"] if len(hz) else hz,
        "hazard area",
        lambda row: buffers.for_hazard(row["contamination"]),
    )
    released = released_ground(store, epsg)
    add(store.read_frame(MinefieldRecord), "minefield record", lambda _row: buffers.minefield_record_m, released)
    add(store.read_frame(ClusterStrike), "cluster strike", lambda _row: buffers.cluster_strike_m, released)
    arr = np.array(zones, dtype=object)
    keep = ~shapely.is_empty(arr) if len(arr) else np.zeros(0, bool)
    return Danger(arr[keep], np.zeros(int(keep.sum())), np.array(labels, dtype=object)[keep])


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
