"""A one-picture overview of the district: what is dangerous, what is known, who was hurt.

Drawn in the district's UTM zone so that distances on the page are true, with a
scale bar in metres, because a field team reads distances off this map.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

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
from safeground.storage.base import Store, metric_epsg


def _scale_bar(ax: plt.Axes, length_m: float = 2000.0) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x0 + 0.05 * (x1 - x0)
    y = y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", lw=3, solid_capstyle="butt")
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), f"{length_m / 1000:g} km", ha="center", fontsize=8)
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


def _draw(ax: plt.Axes, ly: _Layers, marker_scale: float = 1.0) -> None:
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


def _town_inset(fig: plt.Figure, ax: plt.Axes, ly: _Layers) -> None:
    """The largest settlement, where cluster strikes and most accidents are, drawn again at larger scale."""
    areas = ly.areas
    if not len(areas):
        return
    towns = areas[areas["kind"] == "settlement"]
    if not len(towns):
        return
    town = towns.loc[towns.area.idxmax()]
    minx, miny, maxx, maxy = town.geometry.buffer(300).bounds
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


def draw_district_map(store: Store, out: str | Path, *, title: str | None = None, dpi: int = 150) -> Path:
    """Write a PNG map of hazards, records, finds, accidents and context."""
    epsg = metric_epsg(store)

    def frame(cls: type, **eq: str) -> gpd.GeoDataFrame:
        f = store.read_frame(cls)
        for k, v in eq.items():
            f = f[f[k] == v]
        return f.to_crs(epsg) if len(f) else f

    fig, ax = plt.subplots(figsize=(11, 11))
    layers = _Layers(frame)
    _draw(ax, layers)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _scale_bar(ax)
    _town_inset(fig, ax, layers)

    legend = [
        Patch(
            facecolor="#d7191c66",
            edgecolor="#a50f15",
            label="Confirmed hazardous area (open or being worked)",
        ),
        Patch(
            facecolor="#f4a83a55",
            edgecolor="#d97a00",
            label="Suspected hazardous area (open or being worked)",
        ),
        Patch(facecolor="none", edgecolor="#2e8b57", hatch="..", label="Released (closed) area"),
        Line2D([], [], color="#7b2cbf", label="Minefield record perimeter (as handed over)"),
        Line2D([], [], color="#e7298a", linestyle="--", label="Cluster strike footprint"),
        Line2D([], [], color="#b10026", lw=2, linestyle=(0, (6, 3)), label="Former front line"),
        Line2D([], [], marker="o", color="black", lw=0, markersize=3, label="Item found by clearance/EOD"),
        Line2D([], [], marker="X", color="#ff0000", lw=0, markersize=9, label="Accident"),
        Patch(facecolor="#9c8fb0", edgecolor="#4b3d63", label="Cemetery"),
        Patch(facecolor="#e8e2d0", edgecolor="#b8ad8c", label="Settlement"),
        Line2D([], [], color="#6e6e6e", lw=0.8, label="Road"),
        Line2D([], [], color="#9a8060", lw=0.8, linestyle=":", label="Rural path"),
        Line2D([], [], color="#4a90c2", lw=1.2, label="River, canal"),
        Line2D([], [], color="#8c8c3c", lw=0.8, linestyle=(0, (1, 2)), label="Power line"),
    ]
    ax.legend(handles=legend, loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_title(title or "SafeGround district overview", fontsize=13)
    ax.text(
        0.0,
        -0.01,
        f"RESTRICTED – exact positions, for mine action staff only. Projection EPSG:{epsg}. "
        f"Source: {Path(store.location).name}",
        fontsize=7,
        color="#555555",
        transform=ax.transAxes,
        va="top",
    )
    out = Path(out)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return out
