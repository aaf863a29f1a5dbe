"""A one-page printable risk map for a settlement or a cemetery (A4 PDF, two languages).

Made to be printed on a black-and-white office printer and pinned up at a
checkpoint or handed out by a risk education team: dangers are hatched and
outlined (never colour alone), the recommended route is a thick dashed line, and
every label comes from a translation file (``i18n/<lang>.json``), so another
language is one file more.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import shapely
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from safeground.errors import SafeGroundError
from safeground.geometry.projection import project
from safeground.model import Accident, HazardArea, InfrastructureArea, InfrastructureLine, InfrastructurePoint
from safeground.routing.build import dangers_from_store, network_from_store
from safeground.storage.base import Store, metric_epsg

A4 = (8.27, 11.69)


def translations(lang: str) -> dict[str, Any]:
    try:
        text = resources.files("safeground.reports").joinpath(f"i18n/{lang}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        have = sorted(p.name[:-5] for p in resources.files("safeground.reports").joinpath("i18n").iterdir())
        raise SafeGroundError(f"no translation {lang!r}", hint=f"available: {', '.join(have)}") from None
    return json.loads(text)


def _find_place(store: Store, name: str) -> tuple[Any, str, str | None]:
    areas = store.read_frame(InfrastructureArea)
    hit = areas[(areas["name"].fillna("").str.lower() == name.lower()) & areas["kind"].isin(["settlement", "cemetery"])]
    if not len(hit):
        known = sorted(areas.loc[areas["kind"].isin(["settlement", "cemetery"]), "name"].dropna().unique())[:12]
        raise SafeGroundError(f"no settlement or cemetery named {name!r}", hint="for example: " + ", ".join(known))
    row = hit.iloc[0]
    return row.geometry, str(row["kind"]), row.get("settlement")


def _start_for(store: Store, place: Any, kind: str, settlement: str | None) -> tuple[float, float]:
    """A cemetery is reached from its village; a village from the nearest entry checkpoint."""
    if kind == "cemetery" and settlement:
        areas = store.read_frame(InfrastructureArea)
        village = areas[(areas["kind"] == "settlement") & (areas["name"] == settlement)]
        if len(village):
            p = village.geometry.iloc[0].representative_point()
            return p.x, p.y
    pts = store.read_frame(InfrastructurePoint)
    cps = pts[pts["kind"] == "checkpoint"]
    if not len(cps):
        p = place.representative_point()
        return p.x, p.y
    epsg = metric_epsg(store)
    c = project(place.representative_point(), 4326, epsg)
    best = cps.to_crs(epsg).geometry.distance(c).idxmin()  # nearest in metres, not degrees
    return cps.geometry[best].x, cps.geometry[best].y


def render_village_map(store: Store, name: str, out: str | Path, langs: tuple[str, ...] = ("az", "en")) -> Path:
    tr = [translations(lg) for lg in langs]
    place, kind, settlement = _find_place(store, name)
    epsg = metric_epsg(store)
    start = _start_for(store, place, kind, settlement)
    target = place.representative_point()
    net = network_from_store(store)
    dangers = dangers_from_store(store, net.epsg)
    net.apply_dangers(dangers)
    answer = net.route(start, (target.x, target.y))

    place_m = project(place, 4326, epsg)
    frame = place_m.buffer(1200.0)
    if answer.path is not None:
        frame = shapely.union_all([frame, project(answer.path, 4326, epsg).buffer(300.0)])
    minx, miny, maxx, maxy = frame.bounds
    view = shapely.box(minx, miny, maxx, maxy)

    def local(cls: type, **eq: str) -> Any:
        f = store.read_frame(cls)
        for k, v in eq.items():
            f = f[f[k] == v]
        if not len(f):
            return f
        f = f.to_crs(epsg)
        return f[f.intersects(view)]

    fig = plt.figure(figsize=A4)
    ax = fig.add_axes((0.06, 0.40, 0.88, 0.48))
    lines = local(InfrastructureLine)

    def draw(f: Any, **style: Any) -> None:
        if len(f):
            f.plot(ax=ax, **style)

    if len(lines):
        draw(lines[lines["kind"].isin(["road", "path"])], color="#555555", lw=0.8)
        draw(lines[lines["kind"].isin(["river", "canal"])], color="#888888", lw=1.4, linestyle=(0, (4, 2)))
    areas = local(InfrastructureArea)
    if len(areas):
        draw(areas[areas["kind"] == "settlement"], facecolor="#eeeeee", edgecolor="#777777", lw=0.6)
        draw(areas[areas["kind"] == "cemetery"], facecolor="white", edgecolor="black", lw=1.0, hatch="++")
    zones = shapely.intersection(dangers.geoms, view) if len(dangers.geoms) else np.array([])
    for z in zones:
        for part in shapely.get_parts(z):
            if part.geom_type == "Polygon" and not part.is_empty:
                x, y = part.exterior.xy
                ax.plot(x, y, color="black", lw=0.8, linestyle=(0, (3, 2)))
    hz = local(HazardArea)
    if len(hz):
        closed = hz[hz["status"] == "closed"]
        active = hz[hz["status"] != "closed"]
        if len(closed):
            closed.plot(ax=ax, facecolor="none", edgecolor="#999999", lw=0.5, hatch="...")
        if len(active):
            active.plot(ax=ax, facecolor="#d9d9d9", edgecolor="black", lw=1.4, hatch="xxx")
    acc = local(Accident)
    if len(acc):
        acc.plot(ax=ax, color="black", marker="X", markersize=60, edgecolor="white", linewidth=0.6)
    if answer.path is not None:
        x, y = project(answer.path, 4326, epsg).xy
        ax.plot(x, y, color="white", lw=5.5, solid_capstyle="round")
        ax.plot(x, y, color="black", lw=3.0, linestyle=(0, (5, 2)))
    sx, sy = project(shapely.Point(start), 4326, epsg).coords[0]
    ax.plot(sx, sy, marker="o", markersize=11, color="white", markeredgecolor="black", markeredgewidth=2)
    tx, ty = project(target, 4326, epsg).coords[0]
    ax.plot(tx, ty, marker="*", markersize=18, color="black", markeredgecolor="white")
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    bar = 500.0
    ax.plot([minx + 100, minx + 100 + bar], [miny + 100, miny + 100], color="black", lw=4)
    ax.text(
        minx + 100 + bar / 2,
        miny + 160,
        " / ".join({t["scale"].format(km=bar / 1000) for t in tr}),
        ha="center",
        fontsize=8,
    )
    ax.annotate(
        "N",
        xy=(maxx - 0.03 * (maxx - minx), maxy - 0.02 * (maxy - miny)),
        xytext=(maxx - 0.03 * (maxx - minx), maxy - 0.09 * (maxy - miny)),
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        ha="center",
        fontsize=11,
        weight="bold",
    )

    def both(key: str, **kw: object) -> str:
        return " / ".join(t[key].format(**kw) for t in tr)

    fig.text(0.06, 0.955, both("title"), fontsize=16, weight="bold")
    fig.text(0.06, 0.935, name, fontsize=12, weight="bold")
    fig.text(0.06, 0.915, "\n".join(t["subtitle"] for t in tr), fontsize=8.5, va="top")
    legend = [
        Patch(facecolor="#d9d9d9", edgecolor="black", hatch="xxx", label=both("danger")),
        Line2D([], [], color="black", lw=0.8, linestyle=(0, (3, 2)), label=both("buffer")),
        Patch(facecolor="none", edgecolor="#999999", hatch="...", label=both("released")),
        Line2D([], [], color="black", lw=3, linestyle=(0, (5, 2)), label=both("route")),
        Line2D([], [], color="black", marker="X", lw=0, markersize=9, label=both("accident")),
        Line2D([], [], color="#555555", lw=1, label=both("road")),
        Line2D([], [], color="white", marker="o", markeredgecolor="black", lw=0, markersize=9, label=both("start")),
        Line2D([], [], color="black", marker="*", lw=0, markersize=12, label=both("target")),
    ]
    fig.legend(handles=legend, loc="upper left", bbox_to_anchor=(0.06, 0.395), fontsize=7.5, frameon=True, ncol=2)
    y = 0.285

    def para(text_: str, size: float, width: int, **kw: object) -> None:
        nonlocal y
        wrapped = textwrap.fill(text_, width=width)
        fig.text(0.06, y, wrapped, fontsize=size, va="top", **kw)
        y -= (wrapped.count("\n") + 1) * size * 1.35 / 72 / A4[1] + 0.006

    for t in tr:
        para(
            t["route_ok"].format(length=f"{answer.length_m:,.0f}")
            if answer.found
            else t["no_route"].format(short=f"{answer.short_of_destination_m or 0:,.0f}"),
            8.5,
            105,
            weight="bold",
        )
    y -= 0.004
    for t in tr:
        fig.text(0.06, y, t["rules_title"], fontsize=10, weight="bold")
        y -= 0.017
        for k, rule in enumerate(t["rules"], start=1):
            fig.text(0.08, y, f"{k}. {rule}", fontsize=8)
            y -= 0.0145
        y -= 0.006
    fig.text(0.06, y, f"{both('contacts_title')}: " + "  ".join(t["contacts"] for t in tr), fontsize=7.5, wrap=True)
    today = datetime.now(UTC).date().isoformat()
    fig.text(
        0.06, 0.012, "  ".join(t["footer"].format(date=today) for t in tr), fontsize=5.5, wrap=True, color="#333333"
    )
    out = Path(out)
    fig.savefig(out, format="pdf")
    plt.close(fig)
    return out
