"""Small maps and charts for the evidence reports (matplotlib, metric coordinates)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from matplotlib.axes import Axes

from safeground.access.policy import public_hazards
from safeground.figures import subplots
from safeground.model import AdminArea, FrontLine, InfrastructureArea
from safeground.reports.document import PUBLIC_GRID_M, Audience, figure, generalise
from safeground.storage.base import Store


@dataclass
class _BaseLayers:
    """What every evidence map draws under its subject, read once and in metric coordinates."""

    boundaries: gpd.GeoSeries | None
    hazards: gpd.GeoDataFrame | None  # open hazard areas as the audience may see them
    front: gpd.GeoDataFrame | None
    labels: list[tuple[float, float, str]]  # settlement names at a point inside each


def _base_layers(
    store: Store, epsg: int, *, hazards: gpd.GeoDataFrame | None = None, with_hazards: bool = True,
    audience: Audience = Audience.PUBLIC,
) -> _BaseLayers:  # fmt: skip
    """The base of a map; ``hazards``: the audience's hazard areas when the caller has read them already."""
    adm = store.read_frame(AdminArea)
    boundaries = adm.to_crs(epsg).boundary if len(adm) else None
    del adm
    open_hz = None
    if with_hazards:
        hz = public_hazards(store, audience) if hazards is None else hazards
        hz = hz[hz["status"] != "closed"]
        open_hz = hz[["geometry"]].to_crs(epsg) if len(hz) else None
        del hz
    fl = store.read_frame(FrontLine)
    front = fl.to_crs(epsg) if len(fl) else None
    # only the settlements' names are drawn: read the layer in chunks of three columns, not a country's buildings
    chunks = store.read_frames(InfrastructureArea, ["kind", "name", "settlement"])
    parts = [c[c["kind"] == "settlement"] for c in chunks]
    parts = [c for c in parts if len(c)]
    st = pd.concat(parts, ignore_index=True).to_crs(epsg) if parts else gpd.GeoDataFrame({"name": []}, geometry=[])
    labels = []
    for _, row in st.iterrows():
        c = row.geometry.representative_point()
        labels.append((c.x, c.y, row["name"] or row["settlement"] or ""))
    return _BaseLayers(boundaries, open_hz, front, labels)


def _draw_base(ax: Axes, base: _BaseLayers) -> None:
    if base.boundaries is not None:
        base.boundaries.plot(ax=ax, color="#999", lw=0.4)
    if base.hazards is not None:
        base.hazards.plot(ax=ax, color="#f4a582", edgecolor="none", alpha=0.7)
    if base.front is not None:
        base.front.plot(ax=ax, color="#b2182b", lw=1.2, ls="--")
    for x, y, name in base.labels:
        ax.text(x, y, name, fontsize=5, ha="center", color="#333", clip_on=True)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _base(store: Store, epsg: int, ax: Axes, *, hazards: bool = True, audience: Audience = Audience.PUBLIC) -> None:
    _draw_base(ax, _base_layers(store, epsg, with_hazards=hazards, audience=audience))


def accidents_map(store: Store, points: gpd.GeoDataFrame, epsg: int, audience: Audience) -> str:
    """Accidents on the map: exact points (restricted) or counts per 1 km cell (public)."""
    fig, ax = subplots(figsize=(6.6, 6.2))
    _base(store, epsg, ax, audience=audience)
    if len(points):
        if audience == Audience.RESTRICTED:
            pm = points.to_crs(epsg)
            ax.scatter(pm.geometry.x, pm.geometry.y, s=10 + 8 * pm["victims"], c="black", marker="x", lw=0.8)
        else:
            cells = generalise(points, epsg)
            cells.plot(ax=ax, column="count", cmap="Purples", edgecolor="#333", lw=0.4, alpha=0.85)
            for _, c in cells.iterrows():
                p = c.geometry.centroid
                ax.text(p.x, p.y, str(int(c["count"])), fontsize=5, ha="center", va="center")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(
        "Accidents (exact positions)"
        if audience == Audience.RESTRICTED
        else f"Accidents per {PUBLIC_GRID_M / 1000:g} km cell",
        fontsize=9,
    )
    return figure(fig)


def hazard_rank_map(
    store: Store, ranking: pd.DataFrame, epsg: int, top: int = 20, audience: Audience = Audience.PUBLIC
) -> str:
    """Open hazard areas with the ``top`` priorities numbered: the district, and a zoom on those areas
    (drawn as ``audience`` may see them)."""
    fig, (ax, zoom) = subplots(1, 2, figsize=(9.0, 4.6))
    hz = public_hazards(store, audience)
    best = hz[["uid", "geometry"]].merge(ranking[["uid", "rank"]], on="uid")
    best = best[best["rank"] <= top].to_crs(epsg)
    base = _base_layers(store, epsg, hazards=hz, audience=audience)  # read once for both panels
    del hz
    for k, a in enumerate((ax, zoom)):
        _draw_base(a, base)
        if not len(best):
            continue
        best.plot(ax=a, color="#b2182b", edgecolor="black", lw=0.3)
        if k == 1:
            for _, row in best.iterrows():
                c = row.geometry.representative_point()
                a.annotate(
                    str(int(row["rank"])), (c.x, c.y), fontsize=6, fontweight="bold", color="#111", annotation_clip=True
                )
            minx, miny, maxx, maxy = best.total_bounds
            pad = max(maxx - minx, maxy - miny) * 0.08 + 100
            a.set_xlim(minx - pad, maxx + pad)
            a.set_ylim(miny - pad, maxy + pad)
        a.set_xlabel("")
        a.set_ylabel("")
    ax.set_title(f"All open hazard areas (orange), the {top} highest priorities (red)", fontsize=8)
    zoom.set_title(f"The {top} highest priorities, numbered by rank", fontsize=8)
    return figure(fig)


GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#d73027", "U": "#888888"}


def records_map(store: Store, grades: dict[str, str], epsg: int) -> str:
    """Recorded minefield perimeters coloured by grade (perimeters only: no mine positions)."""
    from matplotlib.patches import Patch

    from safeground.model import MinefieldRecord

    fig, ax = subplots(figsize=(6.6, 6.2))
    _base(store, epsg, ax, hazards=False)
    rec = store.read_frame(MinefieldRecord)
    if len(rec):
        rec = rec.to_crs(epsg).assign(grade=rec["uid"].map(grades).fillna("U"))
        for g, part in rec.groupby("grade"):
            part.plot(ax=ax, color=GRADE_COLOURS.get(str(g), "#888888"), edgecolor="black", lw=0.3)
    ax.legend(
        handles=[Patch(color=c, label=f"grade {g}") for g, c in GRADE_COLOURS.items()], fontsize=6, loc="lower left"
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title("Recorded minefield perimeters by grade", fontsize=9)
    return figure(fig)


def bars(frame: pd.DataFrame, title: str, ylabel: str, *, stacked: bool = True, kind: str = "bar") -> str:
    fig, ax = subplots(figsize=(7.0, 2.6))
    frame.plot(kind=kind, stacked=stacked, ax=ax, width=0.8 if kind == "bar" else None)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xlabel("")
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    return figure(fig)


def lines(frame: pd.DataFrame, title: str, ylabel: str) -> str:
    fig, ax = subplots(figsize=(7.0, 2.6))
    frame.plot(ax=ax)
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.set_xlabel("")
    ax.tick_params(labelsize=6)
    ax.legend(fontsize=6)
    return figure(fig)
