"""A one-picture overview of a store: what is dangerous, what is known, who was hurt.

Drawn at the scale of the data: a district in its UTM zone so that distances on the
page are true, with a scale bar in metres, because a field team reads distances off
this map; a country wider than one UTM zone in an equal-area projection centred on
it (``storage.base.area_crs``), with a scale bar sized to the page. The legend lists
only what is on the map, and the enlarged inset of the main town is drawn only
where it helps: on a district-sized map whose town holds accidents, strikes or finds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import shapely
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from safeground.figures import subplots
from safeground.geometry.projection import crs_label
from safeground.model import (
    Accident,
    ClusterStrike,
    EOItem,
    FrontLine,
    HazardArea,
    InfrastructureArea,
    InfrastructureLine,
    MinefieldRecord,
)
from safeground.storage.base import Store, area_crs, store_extent

#: maps wider than this are national overviews: no town inset, "km" scale bars of tens or hundreds
DISTRICT_WIDTH_M = 60_000.0


def _nice_length(width_m: float) -> float:
    """A round scale-bar length near a fifth of the map's width: 1, 2 or 5 × 10^k metres."""
    target = max(width_m / 5.0, 1.0)
    k = 10 ** math.floor(math.log10(target))
    return float(max(m * k for m in (1, 2, 5) if m * k <= target))


def _scale_bar(ax: Axes, length_m: float | None = None) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_m = length_m or _nice_length(x1 - x0)
    x = x0 + 0.05 * (x1 - x0)
    y = y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", lw=3, solid_capstyle="butt")
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), label, ha="center", fontsize=8)
    ax.annotate(
        "N",
        xy=(x1 - 0.04 * (x1 - x0), y1 - 0.05 * (y1 - y0)),
        xytext=(x1 - 0.04 * (x1 - x0), y1 - 0.12 * (y1 - y0)),
        arrowprops={"arrowstyle": "-|>", "color": "black"},
        ha="center",
        fontsize=10,
    )


class _Layers:
    def __init__(self, frame: Callable[..., gpd.GeoDataFrame]) -> None:
        self.areas = frame(InfrastructureArea)
        self.lines = frame(InfrastructureLine)
        self.hazards = frame(HazardArea)
        self.records = frame(MinefieldRecord)
        self.strikes = frame(ClusterStrike)
        self.front = frame(FrontLine)
        self.found = frame(EOItem, status="found")
        self.accidents = frame(Accident)


def _draw(ax: Axes, ly: _Layers, marker_scale: float = 1.0, national: bool = False) -> None:
    areas, lines, hz = ly.areas, ly.lines, ly.hazards
    if len(areas):
        areas[areas["kind"] == "settlement"].plot(ax=ax, color="#e8e2d0", edgecolor="#b8ad8c", lw=0.5)
        areas[areas["kind"] == "orchard_or_vineyard"].plot(ax=ax, color="#dcebd2", edgecolor="none")
        areas[areas["kind"] == "cemetery"].plot(ax=ax, color="#9c8fb0", edgecolor="#4b3d63", lw=0.6)
    if len(lines):
        lines[lines["kind"].isin(["river", "canal"])].plot(ax=ax, color="#4a90c2", lw=1.2)
        lines[lines["kind"] == "road"].plot(ax=ax, color="#6e6e6e", lw=0.8)
        lines[lines["kind"] == "path"].plot(ax=ax, color="#9a8060", lw=0.5, linestyle=":")
        lines[lines["kind"] == "power_line"].plot(ax=ax, color="#8c8c3c", lw=0.4, linestyle=(0, (1, 2)))
    if len(hz):
        open_ = hz[hz["status"] != "closed"]
        hz[hz["status"] == "closed"].plot(ax=ax, facecolor="none", edgecolor="#2e8b57", lw=0.6, hatch="..")
        sha = open_[open_["classification"] == "suspected_hazardous_area"]
        sha.plot(ax=ax, facecolor="#f4a83a55", edgecolor="#d97a00", lw=0.7)
        cha = open_[open_["classification"] == "confirmed_hazardous_area"]
        cha.plot(ax=ax, facecolor="#d7191c66", edgecolor="#a50f15", lw=0.8)
        if national:  # areas of a few hundred metres are specks on a country: mark each one too
            for part, colour in ((sha, "#d97a00"), (cha, "#a50f15")):
                if len(part):
                    part.representative_point().plot(ax=ax, color=colour, markersize=4, marker="s", alpha=0.8)
    if len(ly.records):
        ly.records.boundary.plot(ax=ax, color="#7b2cbf", lw=0.8)
    if len(ly.strikes):
        ly.strikes.boundary.plot(ax=ax, color="#e7298a", lw=0.8, linestyle="--")
    if len(ly.front):
        ly.front.plot(ax=ax, color="#b10026", lw=2.0, linestyle=(0, (6, 3)))
    if len(ly.found):
        ly.found.plot(ax=ax, color="black", markersize=0.6 * marker_scale)
    if len(ly.accidents):
        ly.accidents.plot(
            ax=ax, color="#ff0000", marker="X", markersize=40 * marker_scale, edgecolor="white", linewidth=0.5
        )


def _town_inset(fig: Figure, ax: Axes, ly: _Layers) -> None:
    """The largest settlement, where cluster strikes and most accidents are, drawn again at larger scale."""
    areas = ly.areas
    if not len(areas):
        return
    towns = areas[areas["kind"] == "settlement"]
    if not len(towns):
        return
    town = towns.loc[towns.area.idxmax()]
    minx, miny, maxx, maxy = town.geometry.buffer(300).bounds
    x0, x1 = ax.get_xlim()
    if x1 - x0 > DISTRICT_WIDTH_M or (maxx - minx) > 0.25 * (x1 - x0):
        return  # a national map (one town is not the story) or a town already drawn large
    near = town.geometry.buffer(300)
    held = sum(int(f.intersects(near).sum()) for f in (ly.accidents.geometry, ly.strikes.geometry, ly.found.geometry)
               if len(f))  # fmt: skip
    if not held:
        return  # nothing to see in the enlargement
    inset = ax.inset_axes((0.70, 0.02, 0.29, 0.29))
    _draw(inset, ly, marker_scale=0.6)
    inset.set_xlim(minx, maxx)
    inset.set_ylim(miny, maxy)
    inset.set_aspect("equal")
    inset.set_xticks([])
    inset.set_yticks([])
    inset.set_xlabel("")
    inset.set_ylabel("")
    inset.set_title(f"{town['name']} (enlarged)", fontsize=8)
    ax.indicate_inset_zoom(inset, edgecolor="#333333")


def _legend(ly: _Layers) -> list[Artist]:
    """One entry per kind of thing actually drawn: a store without roads gets no road in its legend."""
    hz, areas, lines = ly.hazards, ly.areas, ly.lines
    open_ = hz[hz["status"] != "closed"] if len(hz) else hz

    def has(frame: gpd.GeoDataFrame, column: str, *values: str) -> bool:
        return bool(len(frame)) and bool(frame[column].isin(values).any())

    entries: list[tuple[bool, Artist]] = [
        (has(open_, "classification", "confirmed_hazardous_area"),
         Patch(facecolor="#d7191c66", edgecolor="#a50f15", label="Confirmed hazardous area (open or being worked)")),
        (has(open_, "classification", "suspected_hazardous_area"),
         Patch(facecolor="#f4a83a55", edgecolor="#d97a00", label="Suspected hazardous area (open or being worked)")),
        (has(hz, "status", "closed"), Patch(facecolor="none", edgecolor="#2e8b57", hatch="..",
                                            label="Released (closed) area")),
        (bool(len(ly.records)), Line2D([], [], color="#7b2cbf", label="Minefield record perimeter (as handed over)")),
        (bool(len(ly.strikes)), Line2D([], [], color="#e7298a", linestyle="--", label="Cluster strike footprint")),
        (bool(len(ly.front)), Line2D([], [], color="#b10026", lw=2, linestyle=(0, (6, 3)), label="Former front line")),
        (bool(len(ly.found)), Line2D([], [], marker="o", color="black", lw=0, markersize=3,
                                     label="Item found by clearance/EOD")),
        (bool(len(ly.accidents)), Line2D([], [], marker="X", color="#ff0000", lw=0, markersize=9, label="Accident")),
        (has(areas, "kind", "cemetery"), Patch(facecolor="#9c8fb0", edgecolor="#4b3d63", label="Cemetery")),
        (has(areas, "kind", "settlement"), Patch(facecolor="#e8e2d0", edgecolor="#b8ad8c", label="Settlement")),
        (has(lines, "kind", "road"), Line2D([], [], color="#6e6e6e", lw=0.8, label="Road")),
        (has(lines, "kind", "path"), Line2D([], [], color="#9a8060", lw=0.8, linestyle=":", label="Rural path")),
        (has(lines, "kind", "river", "canal"), Line2D([], [], color="#4a90c2", lw=1.2, label="River, canal")),
        (has(lines, "kind", "power_line"), Line2D([], [], color="#8c8c3c", lw=0.8, linestyle=(0, (1, 2)),
                                                  label="Power line")),
    ]  # fmt: skip
    return [artist for shown, artist in entries if shown]


def default_title(store: Store, width_m: float) -> str:
    """A title that says what the map covers: the store's name, and overview of a district or a country."""
    name = store.get_meta("name") or Path(store.location).stem
    scale = "national overview" if width_m > DISTRICT_WIDTH_M else "overview"
    return f"{name}: {scale} of hazards, records, finds and accidents"


def draw_district_map(store: Store, out: str | Path, *, title: str | None = None, dpi: int = 150) -> Path:
    """Write a PNG map of hazards, records, finds, accidents and context, at the scale of the data."""
    crs = area_crs(store)
    west, south, east, north = store_extent(store)

    def frame(cls: type, **eq: str) -> gpd.GeoDataFrame:
        f = store.read_frame(cls)
        for k, v in eq.items():
            f = f[f[k] == v]
        if len(f):
            f = f[f.geometry.notna() & ~f.geometry.is_empty]
        return f.to_crs(crs) if len(f) else f

    layers = _Layers(frame)
    drawn = [f for f in vars(layers).values() if len(f)]
    empty = not drawn
    if drawn:
        bounds = [f.total_bounds for f in drawn]
        minx, miny = min(b[0] for b in bounds), min(b[1] for b in bounds)
        maxx, maxy = max(b[2] for b in bounds), max(b[3] for b in bounds)
    else:  # nothing located yet: the area of interest, so the empty map is still the right place
        aoi = gpd.GeoSeries([shapely.box(west, south, east, north)], crs=4326).to_crs(crs)
        minx, miny, maxx, maxy = aoi.total_bounds
    # the page follows the data's shape (a country is often wider than tall), within 1:2 and 2:1
    width, height = max(maxx - minx, 1000.0), max(maxy - miny, 1000.0)  # a lone accident gets a km around it
    ratio = min(max(height / width, 0.5), 2.0)
    half_w = 0.55 * max(width, height / ratio)
    half_h = half_w * ratio
    national = 2 * half_w > DISTRICT_WIDTH_M
    fig, ax = subplots(figsize=(11, 11 * ratio) if ratio <= 1 else (11 / ratio, 11))
    # markers shrink with the map: an accident's cross should not cover a village on a country's map
    _draw(ax, layers, marker_scale=min(1.0, max(0.15, 20_000.0 / (2 * half_w))), national=national)
    if empty:
        aoi.boundary.plot(ax=ax, color="#888888", lw=0.8, linestyle="--")
        ax.text(0.5, 0.5, "nothing located is stored yet (dashed: the area of interest)", ha="center",
                transform=ax.transAxes, fontsize=11, color="#555555")  # fmt: skip
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - half_w, cx + half_w)
    ax.set_ylim(cy - half_h, cy + half_h)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_bar(ax)
    _town_inset(fig, ax, layers)
    legend = _legend(layers)
    if legend and national:  # beside the map: on a country every corner may hold a cluster of hazards
        ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    elif legend:
        ax.legend(handles=legend, loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_title(title or default_title(store, 2 * half_w), fontsize=13)
    ax.text(
        0.0,
        -0.01,
        f"RESTRICTED – exact positions, for mine action staff only. Projection {crs_label(crs)}. "
        f"Source: {Path(store.location).name}",
        fontsize=7,
        color="#555555",
        transform=ax.transAxes,
        va="top",
    )
    out = Path(out)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out
