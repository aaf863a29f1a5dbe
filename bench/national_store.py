"""A national store for the benchmarks: the demo district's land release work repeated over a country.

``build(path, hazards=8000)`` copies the demo district's hazard areas (with every version of their
history), the activities that released them, the organisations and the context the land release
report reads (accidents, infrastructure, admin areas, the former front line) as many times as it
takes to hold ``hazards`` hazard areas, each copy shifted east and north on a grid of 20 km tiles,
with new identifiers. The result has the demo's mix of histories, shares and paces, at a national
scale: what ``report land-release`` meets on a national authority's server.

Run:  .venv/bin/python bench/national_store.py OUT.gpkg [--hazards 8000] [--demo demo.gpkg]
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import shapely

from safeground.model import (
    Accident,
    Activity,
    AdminArea,
    FrontLine,
    HazardArea,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
    Organisation,
)
from safeground.model.base import Record
from safeground.storage import open_store

TILE_DEG = (0.24, 0.18)  # a little more than the demo's 20 km, east and north
CONTEXT = (Accident, AdminArea, FrontLine, InfrastructureArea, InfrastructureLine, InfrastructurePoint)


def _moved(rec: Record, copy: int, dx: float, dy: float, uids: dict[str, str]) -> Record:
    update: dict[str, object] = {"uid": uids.get(rec.uid, rec.uid)}
    geom = getattr(rec, "geometry", None)
    if geom is not None:
        update["geometry"] = shapely.transform(geom, lambda c: c + (dx, dy))
    hz = getattr(rec, "hazard_area_uid", None)
    if hz is not None:
        update["hazard_area_uid"] = uids.get(hz, hz)
    return rec.model_copy(update=update)


def build(path: str, hazards: int = 8000, demo: str | None = None) -> dict[str, int]:
    """Write a national store of about ``hazards`` hazard areas at ``path`` (see the module docstring)."""
    if demo is None:
        from safeground.generator.district import generate

        demo = str(Path(tempfile.mkdtemp(prefix="sg-national-")) / "demo.gpkg")
        with open_store(demo) as s:
            generate(s)
    with open_store(demo, create=False, readonly=True) as src:
        hz_uids = sorted(src.current_versions(HazardArea))
        chains = src.chains(HazardArea, hz_uids)
        acts = list(src.find(Activity))
        orgs = list(src.find(Organisation))
        context = {cls: list(src.find(cls)) for cls in CONTEXT}
        aoi = src.area_of_interest()
    copies = max(1, math.ceil(hazards / max(1, len(hz_uids))))
    side = math.ceil(math.sqrt(copies))
    counts: dict[str, int] = {}
    with open_store(path) as out:
        out.add_many(orgs)
        for k in range(copies):
            dx, dy = TILE_DEG[0] * (k % side), TILE_DEG[1] * (k // side)
            tag = f"{k:03d}"

            def uid(u: str, tag: str = tag) -> str:
                prefix, num = u.rsplit("-", 1)
                return f"{prefix}-{tag}{num}"

            uids: dict[str, str] = {u: uid(u) for u in hz_uids}
            uids.update({a.uid: uid(a.uid) for a in acts})
            for recs in context.values():
                uids.update({r.uid: uid(r.uid) for r in recs})
            out.add_chains([[_moved(v, k, dx, dy, uids) for v in chains[u]] for u in hz_uids if u in chains])
            out.add_many([_moved(a, k, dx, dy, uids) for a in acts])
            for recs in context.values():
                out.add_many([_moved(r, k, dx, dy, uids) for r in recs])
        if aoi is not None:
            w, s_, e, n = aoi
            out.set_area_of_interest((w, s_, e + TILE_DEG[0] * (side - 1), n + TILE_DEG[1] * (side - 1)))
        counts = {"hazard_areas": out.count(HazardArea), "activities": out.count(Activity), "copies": copies}
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--hazards", type=int, default=8000)
    ap.add_argument("--demo", default=None, help="an existing demo store to copy from (else one is generated)")
    args = ap.parse_args()
    t = time.perf_counter()
    counts = build(args.out, args.hazards, args.demo)
    print(f"national store {args.out}: {counts} in {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
