"""A one-page printable risk map for a settlement or a cemetery (A4 PDF, two or three languages).

Made for the people who go back to a village: printed on a black-and-white
office printer, pinned up at a checkpoint or handed out by a risk education
team. So the map is drawn at a scale a person walks by (the village, its
cemetery and their approaches, never the whole district), every road, path,
the river, the cemetery and the springs are named in the local spelling, the
scale is a bar in metres and a ratio in the reader's number format, and a small
locator shows where the page lies in the district.

Dangers are hatched and outlined (never colour alone). Ground that was cleared
or surveyed and released (a cleared corridor along a road through a minefield
belt) is drawn *above* the hatching, so the safe way stays visible, and the
recommended route above that. The page is public: hazard footprints and their
safety distances only, never an individual mine position, and no accident
marker (an accident's exact place is a victim's; the danger it showed is on the
page as the hazard area and safety distance around it).

Every label comes from a translation file (``i18n/<lang>.json``), so another
language is one file more. Place names are stored in one spelling (the demo
uses ASCII transliterations); a language file may carry the local spelling
(``place_names``, ``name_patterns``); a name not in it is shown as stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib.patheffects as pe
import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.textpath import text_to_path

from safeground.access.policy import public_danger_zones, public_hazards
from safeground.errors import SafeGroundError
from safeground.figures import new_figure
from safeground.geometry.projection import project
from safeground.landrelease.accounting import released_ground as activity_ground
from safeground.model import (
    HazardArea,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
)
from safeground.routing.build import dangers_from_store, safe_network
from safeground.routing.network import RouteAnswer
from safeground.routing.places import area_point
from safeground.storage.base import Store, metric_epsg

A4_MM = (210.0, 297.0)
MARGIN_MM = 10.0
#: map scales offered, largest first: the smallest denominator that shows the village and its cemetery wins
SCALES = (5_000, 7_500, 10_000, 12_500, 15_000, 20_000, 25_000)
#: the ground around the village and its cemetery that a map must show (its approaches), metres
APPROACH_M = 350.0
#: line names that are not worth a label (every street of every village is called so)
UNLABELLED = {"street"}
#: a white outline under map text, so a name stays legible over hatching; drawn as a separate white copy,
#: because text drawn through a path effect becomes outlines that a PDF reader cannot search or copy
HALO = [pe.Stroke(linewidth=2.6, foreground="white")]


def translations(lang: str) -> dict[str, Any]:
    try:
        text = resources.files("safeground.reports").joinpath(f"i18n/{lang}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        have = sorted(p.name[:-5] for p in resources.files("safeground.reports").joinpath("i18n").iterdir())
        raise SafeGroundError(f"no translation {lang!r}", hint=f"available: {', '.join(have)}") from None
    return json.loads(text)


# ----------------------------------------------------------------------------------------------- local forms


def format_number(value: float, tr: dict[str, Any], decimals: int = 0) -> str:
    """A number as its reader writes it: ``12,500.5`` in English, ``12 500,5`` in Azerbaijani and Russian.

    The group separator of az and ru is a no-break space, so that a number never
    breaks across two lines of a wrapped sentence.
    """
    text = f"{value:,.{decimals}f}"
    fmt = tr.get("number", {"decimal": ".", "group": ","})
    return text.replace(",", "\x00").replace(".", fmt["decimal"]).replace("\x00", fmt["group"])


def _az_dative(word: str) -> str:
    """Azerbaijani dative ("to X"): vowel harmony, buffer consonant, and q → ğ before the vowel.

    A name of several words ending in ı/i/u/ü is a possessive compound
    ("Çaykənd qəbiristanlığı"), which takes -na/-nə.
    """
    low = word.lower()
    last = next((c for c in reversed(low) if c in "aıoueəiöü"), "a")
    a = "a" if last in "aıou" else "ə"
    if low[-1] in "ıiuü" and " " in word.strip():
        return word + "n" + a
    if low[-1] in "aıoueəiöü":
        return word + "y" + a
    if low[-1] == "q":
        return word[:-1] + ("Ğ" if word[-1].isupper() else "ğ") + a
    return word + a


_GRAMMAR = {"dative": _az_dative}


def local_name(name: str | None, tr: dict[str, Any]) -> str:
    """The name in the language's own spelling, when its file knows it; else the name as stored.

    Whole names are looked up first, then patterns ("X cemetery" → "X
    qəbiristanlığı", tried in the file's order, so "path to X" before "X
    cemetery") whose parts are localised in turn, so that a generated "path to
    Chaykend cemetery" reads "Çaykənd qəbiristanlığına gedən cığır".
    """
    if not name:
        return ""
    names: dict[str, str] = tr.get("place_names", {})
    if name in names:
        return names[name]
    for pattern, template in tr.get("name_patterns", []):
        m = re.fullmatch(pattern, name)
        if not m:
            continue
        parts = {
            k: (local_name(v, tr) if v and not v.strip().isdigit() else (v or "")) for k, v in m.groupdict().items()
        }

        def fill(ph: re.Match[str], parts: dict[str, str] = parts) -> str:
            key, _, fn = ph.group(1).partition("|")
            return _GRAMMAR[fn](parts[key]) if fn else parts[key]

        return re.sub(r"\{([a-z]+(?:\|[a-z]+)?)\}", fill, template)
    return name


# ----------------------------------------------------------------------------------------------- the data


@dataclass
class VillageMap:
    """What was drawn, so that a caller (or a test) can check the page against the store."""

    path: Path
    epsg: int
    extent: tuple[float, float, float, float]  # the map's ground extent, metres in ``epsg``
    scale: int  # the map is 1:scale on the printed A4 page
    focus: Any  # the ground the map had to show (village, its cemeteries), metres in ``epsg``
    map_box_mm: tuple[float, float, float, float]  # where the map is on the page: x0, y0, x1, y1 from bottom left
    labels: list[str] = field(default_factory=list)  # names written on the map, in the first language
    routes: list[tuple[str, str, RouteAnswer]] = field(default_factory=list)  # (from, to, answer)

    def __fspath__(self) -> str:
        return str(self.path)


def _find_place(store: Store, name: str) -> tuple[Any, str, str | None, str]:
    areas = store.read_frame(InfrastructureArea)
    hit = areas[(areas["name"].fillna("").str.lower() == name.lower()) & areas["kind"].isin(["settlement", "cemetery"])]
    if not len(hit):
        known = sorted(areas.loc[areas["kind"].isin(["settlement", "cemetery"]), "name"].dropna().unique())[:12]
        raise SafeGroundError(f"no settlement or cemetery named {name!r}", hint="for example: " + ", ".join(known))
    row = hit.iloc[0]
    return row.geometry, str(row["kind"]), row.get("settlement"), str(row["name"])


def _nearest_checkpoint(store: Store, place: Any, epsg: int) -> tuple[str, tuple[float, float]] | None:
    pts = store.read_frame(InfrastructurePoint)
    cps = pts[pts["kind"] == "checkpoint"]
    if not len(cps):
        return None
    c = project(place.representative_point(), 4326, epsg)
    best = cps.to_crs(epsg).geometry.distance(c).idxmin()  # nearest in metres, not degrees
    return str(cps["name"][best] or "checkpoint"), (cps.geometry[best].x, cps.geometry[best].y)


def _trips(store: Store, place: Any, kind: str, name: str, settlement: str | None, epsg: int) -> list[Any]:
    """The walks this page is for: a village is reached from the nearest entry checkpoint, and its
    cemeteries from the village (visiting graves is where returnees are hurt); a cemetery from its village."""
    areas = store.read_frame(InfrastructureArea)
    village = areas[(areas["kind"] == "settlement") & (areas["name"] == (name if kind == "settlement" else settlement))]
    trips: list[tuple[str, tuple[float, float], str, Any]] = []
    if kind == "cemetery":
        if len(village):
            p = village.geometry.iloc[0].representative_point()
            trips.append((str(village["name"].iloc[0]), (p.x, p.y), name, place))
        else:
            cp = _nearest_checkpoint(store, place, epsg)
            if cp:
                trips.append((cp[0], cp[1], name, place))
        return trips
    cp = _nearest_checkpoint(store, place, epsg)
    if cp:
        trips.append((cp[0], cp[1], name, place))
    p = place.representative_point()
    cems = areas[(areas["kind"] == "cemetery") & (areas["settlement"] == name)]
    for cname, g in zip(cems["name"], cems.geometry, strict=True):
        trips.append((name, (p.x, p.y), str(cname), g))
    return trips


def _focus(store: Store, place: Any, kind: str, name: str, settlement: str | None) -> Any:
    """The village and its cemeteries (or the cemetery and its village), in WGS 84."""
    areas = store.read_frame(InfrastructureArea)
    village = name if kind == "settlement" else settlement
    mine = areas[
        ((areas["kind"] == "settlement") & (areas["name"] == village))
        | ((areas["kind"] == "cemetery") & (areas["settlement"] == village) & (kind == "settlement"))
    ]
    return shapely.union_all([place, *mine.geometry.to_numpy()])


def released_ground(store: Store, epsg: int) -> Any:
    """Ground released by completed survey or clearance (the ground routes prefer), and closed hazards."""
    parts: list[Any] = [activity_ground(store, epsg)]
    hz = store.read_frame(HazardArea)
    if len(hz):
        closed = hz[hz["status"] == "closed"]
        if len(closed):
            parts.extend(shapely.make_valid(closed.to_crs(epsg).geometry.to_numpy()))
    return shapely.union_all(parts)


# ----------------------------------------------------------------------------------------------- page layout


class _Page:
    """Places text on the A4 page in millimetres, wrapping to a width measured with the real font."""

    def __init__(self, fig: Figure) -> None:
        self.fig = fig
        self.renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]

    def x(self, mm: float) -> float:
        return mm / A4_MM[0]

    def y(self, mm_from_bottom: float) -> float:
        return mm_from_bottom / A4_MM[1]

    def width_mm(self, text: str, size: float, weight: str = "normal") -> float:
        """Width from the font's own (unhinted) metrics, which the PDF uses, with 2 % to spare.

        The screen renderer's hinted widths are a few per cent narrower than the
        PDF's: a line wrapped by them ran 5 mm into the right margin.
        """
        w, _, _ = text_to_path.get_text_width_height_descent(
            text, FontProperties(size=size, weight=weight), ismath=False
        )
        return w / 72 * 25.4 * 1.02

    def wrap(self, text: str, width_mm: float, size: float, weight: str = "normal", indent: str = "") -> str:
        lines: list[str] = []
        for para in text.split("\n"):
            line = ""
            for word in para.split(" "):
                cand = f"{line} {word}" if line else word
                if line and self.width_mm(cand, size, weight) > width_mm:
                    lines.append(line)
                    line = indent + word
                else:
                    line = cand
            lines.append(line)
        return "\n".join(lines)

    def columns(
        self,
        texts: list[str],
        bottom_mm: float,
        width_mm: float,
        size: float,
        weight: str = "normal",
        indent: str = "",
        gap_lines: bool = False,
    ) -> float:
        """Texts side by side (one per language), tops aligned, wrapped to their column; returns the height in mm.

        Side by side rather than one under the other, so that three languages fit on the page as two do.
        """
        gap = 5.0
        col_w = (width_mm - gap * (len(texts) - 1)) / len(texts)
        drawn = []
        for i, text in enumerate(texts):
            paras = [self.wrap(p, col_w, size, weight, indent) for p in text.split("\n")]
            wrapped = ("\n\n" if gap_lines else "\n").join(paras)
            t = self.fig.text(self.x(MARGIN_MM + i * (col_w + gap)), 0, wrapped, fontsize=size, va="top", weight=weight)
            drawn.append(t)
        height = max(t.get_window_extent(self.renderer).height for t in drawn) / self.fig.dpi * 25.4
        for t in drawn:
            t.set_y(self.y(bottom_mm + height))
        return height

    def text(
        self, x_mm: float, y_mm: float, text: str, size: float, width_mm: float, va: str = "top", **kw: Any
    ) -> float:
        """Draw wrapped text; returns its height in mm."""
        wrapped = self.wrap(text, width_mm, size, kw.get("weight", "normal"), kw.pop("indent", ""))
        t = self.fig.text(self.x(x_mm), self.y(y_mm), wrapped, fontsize=size, va=va, **kw)
        bb = t.get_window_extent(self.renderer)
        return bb.height / self.fig.dpi * 25.4


# ----------------------------------------------------------------------------------------------- drawing


def _frame(store: Store, cls: type, epsg: int, view: Any) -> gpd.GeoDataFrame:
    """A layer in the page's frame; hazard areas as the public may see them (the page is handed out)."""
    f = public_hazards(store) if cls is HazardArea else store.read_frame(cls)
    if not len(f):
        return f
    f = f.to_crs(epsg)
    return f[f.intersects(view)]


def _angle(line: Any, at: float) -> float:
    """Direction of a line at a distance along it, in degrees, turned so that text reads left to right."""
    a = line.interpolate(max(at - 40.0, 0.0))
    b = line.interpolate(min(at + 40.0, line.length))
    deg = float(np.degrees(np.arctan2(b.y - a.y, b.x - a.x)))
    if deg > 90:
        deg -= 180
    elif deg < -90:
        deg += 180
    return deg


class _Labeller:
    """Writes names on the map where they fit, never over one another, never outside the map."""

    def __init__(self, ax: Axes, renderer: Any) -> None:
        self.ax = ax
        self.renderer = renderer
        self.boxes: list[Any] = []
        self.written: list[str] = []

    def put(self, x: float, y: float, text: str, **kw: Any) -> bool:
        t = self.ax.text(x, y, text, clip_on=True, zorder=20.1, **kw)
        bb = t.get_window_extent(self.renderer)
        inside = self.ax.get_window_extent(self.renderer).padded(-2)
        fits = inside.x0 <= bb.x0 and bb.x1 <= inside.x1 and inside.y0 <= bb.y0 and bb.y1 <= inside.y1
        if not fits or any(bb.overlaps(o) for o in self.boxes):
            t.remove()
            return False
        self.ax.text(x, y, text, clip_on=True, zorder=20, color="white", path_effects=HALO, **kw)
        self.boxes.append(bb.padded(3))
        self.written.append(text)
        return True

    def along(self, lines: list[Any], text: str, near: Any, **kw: Any) -> bool:
        """A line's name written along it, on the visible piece nearest the village that is long enough."""
        pieces = sorted(
            (p for g in lines for p in shapely.get_parts(g) if p.length > 150), key=lambda p: p.distance(near)
        )
        for p in pieces:
            for frac in (0.5, 0.3, 0.7):
                at = p.length * frac
                pt = p.interpolate(at)
                if self.put(
                    pt.x, pt.y, text, rotation=_angle(p, at), rotation_mode="anchor", ha="center", va="center", **kw
                ):
                    return True
        return False


def _lines(f: gpd.GeoDataFrame, view: Any) -> list[Any]:
    return [g for g in shapely.intersection(f.geometry.to_numpy(), view) if not g.is_empty]


def _legend_keys(store: Store, routes: list[tuple[str, str, RouteAnswer]], epsg: int) -> set[str]:
    """The legend entries this store can draw: the dangers always, the rest only when stored (or found)."""
    keys = {"danger", "buffer"}
    if any(ans.found for _frm, _to, ans in routes):
        keys.add("route")
    for cls, wanted in (
        (InfrastructureLine, {"road": "road", "path": "path", "river": "river", "canal": "river"}),
        (InfrastructureArea, {"settlement": "settlement", "cemetery": "cemetery", "orchard_or_vineyard": "orchard"}),
        (InfrastructurePoint, {"spring": "spring", "checkpoint": "checkpoint"}),
    ):
        frame = store.read_frame(cls)
        if len(frame):
            keys |= {wanted[k] for k in set(frame["kind"]) if k in wanted}
    if not released_ground(store, epsg).is_empty:
        keys.add("released")
    return keys


def render_village_map(store: Store, name: str, out: str | Path, langs: tuple[str, ...] = ("az", "en")) -> VillageMap:
    """Write the one-page A4 risk map of a settlement or cemetery; returns what was drawn."""
    tr = [translations(lg) for lg in langs]
    first = tr[0]
    place, kind, settlement, stored_name = _find_place(store, name)
    epsg = metric_epsg(store)
    try:
        net = safe_network(store)  # the same network, dangers and preferences as `safeground route`
    except SafeGroundError:  # no roads or paths stored: the page still shows the dangers, without routes
        net = None
    trips = _trips(store, place, kind, stored_name, settlement, epsg) if net is not None else []
    routes: list[tuple[str, str, RouteAnswer]] = []
    for frm, start, to, geom in trips:
        target = area_point(geom)
        routes.append((frm, to, net.route(start, (target.x, target.y))))  # type: ignore[union-attr]

    fig = new_figure(figsize=(A4_MM[0] / 25.4, A4_MM[1] / 25.4))
    page = _Page(fig)
    inner = A4_MM[0] - 2 * MARGIN_MM

    def each(key: str, sep: str = " / ", **kw: Any) -> str:
        return sep.join(dict.fromkeys(t[key].format(**kw) for t in tr))

    def names(n: str) -> str:
        return " / ".join(dict.fromkeys(local_name(n, t) for t in tr))

    # --- header, top down
    top = A4_MM[1] - MARGIN_MM
    top -= page.text(MARGIN_MM, top, each("title"), 15, inner, weight="bold") + 1.5
    top -= page.text(MARGIN_MM, top, names(stored_name), 13, inner, weight="bold") + 1.0
    top -= page.text(MARGIN_MM, top, each("subtitle"), 8.5, inner) + 3.0

    # --- bottom blocks, bottom up: footer, contacts, rules, route sentences, legend and locator
    bottom = MARGIN_MM
    today = datetime.now(UTC).date()
    footer = "  ".join(t["footer"].format(date=today.strftime(t.get("date_format", "%Y-%m-%d"))) for t in tr)
    bottom += page.text(MARGIN_MM, bottom, footer, 5.5, inner, va="bottom", color="#333333") + 1.5
    contacts = f"{each('contacts_title')}: " + "  ".join(t["contacts"] for t in tr)
    bottom += page.text(MARGIN_MM, bottom, contacts, 7.5, inner, va="bottom") + 2.5
    body = ["\n".join(f"{k}. {r}" for k, r in enumerate(t["rules"], start=1)) for t in tr]
    bottom += page.columns(body, bottom, inner, 7.5, indent="    ") + 1.0
    bottom += page.columns([t["rules_title"] for t in tr], bottom, inner, 9.5, weight="bold") + 3.0
    said: list[str] = []  # one column per language: what each walk of the page is, and how safe
    for t in tr:
        lines_: list[str] = []
        for frm, to, ans in routes:
            kw = {"start": local_name(frm, t), "place": local_name(to, t)}
            if ans.found:
                lines_.append(t["route_ok"].format(length=format_number(ans.length_m, t), **kw))
            else:
                lines_.append(t["no_route"].format(short=format_number(ans.short_of_destination_m or 0, t), **kw))
        said.append("\n".join(lines_))
    bottom += page.columns(said, bottom, inner, 7.5, weight="bold", gap_lines=True) + 3.0

    # --- legend (left) and locator (right) above the sentences
    style = {
        "danger": Patch(facecolor="#d0d0d0", edgecolor="black", hatch="xxx", lw=1.2),
        "buffer": Line2D([], [], color="black", lw=0.8, linestyle=(0, (3, 2))),
        "released": Patch(facecolor="white", edgecolor="#555555", hatch="....", lw=0.8),
        "route": Line2D([], [], color="black", lw=3, linestyle=(0, (5, 2))),
        "road": Line2D([], [], color="#444444", lw=2.2),
        "path": Line2D([], [], color="#444444", lw=0.9, linestyle=(0, (2, 1.5))),
        "river": Line2D([], [], color="#777777", lw=2.0),
        "settlement": Patch(facecolor="#eeeeee", edgecolor="#888888"),
        "cemetery": Patch(facecolor="white", edgecolor="black", hatch="++"),
        "orchard": Patch(facecolor="white", edgecolor="#999999", hatch="oo", lw=0.4),
        "spring": Line2D([], [], color="white", marker="o", markeredgecolor="black", lw=0, markersize=6),
        "checkpoint": Line2D([], [], color="black", marker="s", lw=0, markersize=6),
    }
    shown = _legend_keys(store, routes, epsg)
    handles = []
    for key, h in style.items():
        if key not in shown:  # a legend lists only what can be on the page (no "road" on a store without roads)
            continue
        h.set_label("\n".join(dict.fromkeys(t[key] for t in tr)))
        handles.append(h)
    legend = fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(page.x(MARGIN_MM), page.y(bottom)),
        fontsize=6.5,
        frameon=True,
        ncol=3 if len(tr) > 2 else 2,  # three languages make each entry taller: fewer rows
        handlelength=2.6,
        labelspacing=0.7,
        borderaxespad=0.0,
    )
    lb = legend.get_window_extent(page.renderer)
    leg_h = lb.height / fig.dpi * 25.4
    leg_w = lb.width / fig.dpi * 25.4
    loc_x = MARGIN_MM + leg_w + 5.0
    loc_w = A4_MM[0] - MARGIN_MM - loc_x
    loc_h = max(leg_h, 35.0)
    title_h = page.text(loc_x, bottom + loc_h, each("locator"), 6.5, loc_w)
    locator = fig.add_axes((page.x(loc_x), page.y(bottom), page.x(loc_w), page.y(loc_h - title_h - 1.5)))
    bottom += loc_h + 4.0

    # --- the map, between header and the bottom blocks, at a walking scale
    map_w, map_h = inner, top - bottom
    if map_h < 80:
        raise SafeGroundError(f"too much text for one page with languages {', '.join(langs)}", hint="use two")
    focus = project(_focus(store, place, kind, stored_name, settlement), 4326, epsg)
    need = focus.buffer(APPROACH_M)
    fx0, fy0, fx1, fy1 = need.bounds
    scale = next((s for s in SCALES if map_w * s / 1000 >= fx1 - fx0 and map_h * s / 1000 >= fy1 - fy0), SCALES[-1])
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2
    half_w, half_h = map_w * scale / 2000, map_h * scale / 2000
    extent = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    view = shapely.box(*extent)
    ax = fig.add_axes((page.x(MARGIN_MM), page.y(bottom), page.x(map_w), page.y(map_h)))
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])

    lines = _frame(store, InfrastructureLine, epsg, view)
    areas = _frame(store, InfrastructureArea, epsg, view)
    points = _frame(store, InfrastructurePoint, epsg, view)
    released = shapely.intersection(released_ground(store, epsg), view)

    def kinds(f: gpd.GeoDataFrame, *k: str) -> gpd.GeoDataFrame:
        return f[f["kind"].isin(k)] if len(f) else f

    def plot(f: Any, **kw: Any) -> None:
        if isinstance(f, gpd.GeoDataFrame):
            if len(f):
                f.plot(ax=ax, **kw)
        elif f is not None and not f.is_empty:
            gpd.GeoSeries([f]).plot(ax=ax, **kw)

    def ways(z: int, clip: Any = None) -> None:
        for f, lw, ls in ((kinds(lines, "road"), 2.2, "-"), (kinds(lines, "path"), 0.9, (0, (2, 1.5)))):
            if not len(f):
                continue
            g = f.geometry if clip is None else f.geometry.intersection(clip)
            g = g[~g.is_empty]
            if len(g):
                g.plot(ax=ax, color="white", lw=lw + 1.6, zorder=z)
                g.plot(ax=ax, color="#444444", lw=lw, linestyle=ls, zorder=z + 0.1)

    plot(kinds(areas, "orchard_or_vineyard"), facecolor="white", edgecolor="#999999", lw=0.4, hatch="oo", zorder=1)
    plot(kinds(areas, "settlement"), facecolor="#eeeeee", edgecolor="#888888", lw=0.6, zorder=1)
    plot(kinds(areas, "building"), facecolor="#bbbbbb", edgecolor="#888888", lw=0.2, zorder=2)
    plot(kinds(lines, "river"), color="#777777", lw=2.4, zorder=3)
    plot(kinds(lines, "canal"), color="#777777", lw=1.0, zorder=3)
    ways(4)
    plot(kinds(areas, "cemetery"), facecolor="white", edgecolor="black", lw=1.0, hatch="++", zorder=5)
    hz = _frame(store, HazardArea, epsg, view)
    if len(hz):
        plot(hz[hz["status"] != "closed"], facecolor="#d0d0d0", edgecolor="black", lw=1.2, hatch="xxx", zorder=6)
    danger = net.danger if net is not None else dangers_from_store(store, epsg)
    # the buffers as the public may see them: not centred on an accident, not through a mine
    drawn = public_danger_zones(store, danger.geoms, danger.labels) if len(danger.geoms) else np.array([], dtype=object)
    zones = shapely.intersection(drawn, view) if len(drawn) else np.array([])
    for z in zones:
        for part in shapely.get_parts(z):
            if part.geom_type == "Polygon" and not part.is_empty:
                for ring in [part.exterior, *part.interiors]:
                    xs, ys = ring.xy
                    ax.plot(xs, ys, color="black", lw=0.8, linestyle=(0, (3, 2)), zorder=7)
    # released ground above the hatching, and the roads and paths through it above that: the safe way shows
    plot(released, facecolor="white", edgecolor="#555555", lw=0.8, hatch="....", zorder=8)
    if not released.is_empty:
        ways(9, clip=released)
    plot(kinds(areas, "cemetery"), facecolor="none", edgecolor="black", lw=1.4, hatch="++", zorder=10)
    springs = kinds(points, "spring")
    checkpoints = kinds(points, "checkpoint")
    plot(springs, color="white", marker="o", markersize=28, edgecolor="black", linewidth=1.0, zorder=12)
    plot(checkpoints, color="black", marker="s", markersize=40, zorder=12)
    route_lines: list[Any] = []
    for frm, _to, ans in routes:
        if ans.path is None:
            continue
        line = project(ans.path, 4326, epsg)
        route_lines.append((frm, line))
        for part in shapely.get_parts(shapely.intersection(line, view)):
            if part.geom_type == "LineString" and not part.is_empty:
                xs, ys = part.xy
                ax.plot(xs, ys, color="white", lw=5.5, solid_capstyle="round", zorder=13)
                ax.plot(xs, ys, color="black", lw=3.0, linestyle=(0, (5, 2)), zorder=14)

    # --- names: the village and its cemeteries first, then water, roads, paths, springs
    lab = _Labeller(ax, page.renderer)
    centre = shapely.Point(cx, cy)
    for _, row in kinds(areas, "settlement").iterrows():
        p = row.geometry.intersection(view).representative_point()
        big = row["name"] == (stored_name if kind == "settlement" else settlement)
        lab.put(
            p.x, p.y, local_name(row["name"], first), fontsize=13 if big else 9, weight="bold", ha="center", va="center"
        )
    for _, row in kinds(areas, "cemetery").iterrows():
        g = row.geometry.intersection(view)
        b = g.bounds
        text = local_name(row["name"], first)
        placed = lab.put(
            (b[0] + b[2]) / 2, b[3] + 0.004 * scale, text, fontsize=8, weight="bold", ha="center", va="bottom"
        )
        if not placed:
            lab.put((b[0] + b[2]) / 2, b[1] - 0.004 * scale, text, fontsize=8, weight="bold", ha="center", va="top")
    for kind_, size, style_ in (
        ("river", 8, "italic"),
        ("canal", 6.5, "italic"),
        ("road", 7, "normal"),
        ("path", 6.5, "italic"),
    ):
        f = kinds(lines, kind_)
        if not len(f):
            continue
        for nm, grp in f.groupby(f["name"].fillna("")):
            if not nm or nm in UNLABELLED:
                continue
            lab.along(_lines(grp, view), local_name(nm, first), centre, fontsize=size, style=style_)
    for _, row in springs.iterrows():
        lab.put(
            row.geometry.x + 0.0025 * scale, row.geometry.y, local_name(row["name"], first), fontsize=6.5, va="center"
        )
    for _, row in checkpoints.iterrows():
        lab.put(
            row.geometry.x + 0.003 * scale,
            row.geometry.y,
            local_name(row["name"], first),
            fontsize=7,
            weight="bold",
            va="center",
        )
    # where a route comes in from beyond the page: which way, and how far
    for frm, line in route_lines:
        if view.contains(shapely.Point(line.coords[0])):
            continue
        cross = shapely.intersection(line, view.exterior)
        pts = [p for p in shapely.get_parts(cross) if p.geom_type == "Point"]
        if not pts:
            continue
        p = max(pts, key=line.project)
        km = format_number(line.project(p) / 1000, first, 1)
        q = shapely.Point(cx + (p.x - cx) * 0.9, cy + (p.y - cy) * 0.9)
        lab.put(
            q.x,
            q.y,
            first["off_map"].format(place=local_name(frm, first), km=km),
            fontsize=7,
            weight="bold",
            ha="center",
            va="center",
        )

    _scale_bar(ax, extent, scale, tr)
    ax.annotate(
        "N",
        xy=(0.965, 0.975),
        xytext=(0.965, 0.90),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
        ha="center",
        va="top",
        fontsize=11,
        weight="bold",
        path_effects=[pe.withStroke(linewidth=2.6, foreground="white")],
        zorder=21,
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    _locator(store, locator, epsg, view, route_lines, focus)

    out = Path(out)
    fig.savefig(out, format="pdf")
    box = (MARGIN_MM, bottom, MARGIN_MM + map_w, bottom + map_h)
    return VillageMap(out, epsg, extent, scale, focus, box, lab.written, routes)


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float], scale: int, tr: list[dict[str, Any]]) -> None:
    """A bar about a quarter of the map wide, in metres, and the scale ratio in each reader's number format."""
    x0, y0, x1, _ = extent
    width = x1 - x0
    bar = max(b for b in (100, 200, 250, 500, 1000, 2000) if b <= width / 4)
    x, y = x0 + 0.03 * width, y0 + 0.035 * width
    box = Rectangle(
        (x - 0.01 * width, y - 0.02 * width),
        bar + 0.13 * width,
        0.075 * width,
        facecolor="white",
        edgecolor="none",
        alpha=0.85,
        zorder=19,
    )
    ax.add_patch(box)
    for k in range(4):
        ax.add_patch(
            Rectangle(
                (x + k * bar / 4, y),
                bar / 4,
                0.006 * width,
                facecolor="black" if k % 2 == 0 else "white",
                edgecolor="black",
                lw=0.8,
                zorder=20,
            )
        )
    unit = " / ".join(dict.fromkeys(t["metres"] for t in tr))
    for k, at in enumerate((0, bar / 2, bar)):
        label = f"{at:g}" + (f" {unit}" if k == 2 else "")
        ax.text(x + at, y + 0.012 * width, label, ha="left" if k == 2 else "center", fontsize=7, zorder=20)
    ratio = " / ".join(dict.fromkeys(t["scale"].format(ratio=format_number(scale, t)) for t in tr))
    ax.text(x, y - 0.008 * width, ratio, ha="left", va="top", fontsize=7, zorder=20)


def _locator(store: Store, ax: Axes, epsg: int, view: Any, routes: list[Any], focus: Any) -> None:
    """The whole district small, with this page's frame on it: where the village lies, where the route comes from."""
    areas = store.read_frame(InfrastructureArea)
    lines = store.read_frame(InfrastructureLine)
    hz = public_hazards(store)
    pts = store.read_frame(InfrastructurePoint)
    if len(lines):
        lines = lines.to_crs(epsg)
        lines[lines["kind"] == "road"].plot(ax=ax, color="#666666", lw=0.4)
        lines[lines["kind"] == "river"].plot(ax=ax, color="#888888", lw=1.0)
    if len(hz):
        hz[hz["status"] != "closed"].to_crs(epsg).plot(ax=ax, facecolor="#c8c8c8", edgecolor="none")
    if len(areas):
        areas = areas.to_crs(epsg)
        areas[areas["kind"] == "settlement"].plot(ax=ax, facecolor="#999999", edgecolor="none")
    if len(pts):
        cps = pts[pts["kind"] == "checkpoint"].to_crs(epsg)
        if len(cps):
            cps.plot(ax=ax, color="black", marker="s", markersize=8)
    for _frm, line in routes:
        xs, ys = line.xy
        ax.plot(xs, ys, color="black", lw=1.2, linestyle=(0, (3, 1.5)))
    x0, y0, x1, y1 = view.bounds
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="none", edgecolor="black", lw=1.6, zorder=5))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
