"""The EORE targeting drawn on a map: which settlements to reach next, and why.

Only what the public may see is drawn: settlement footprints, roads and the ranking. No accident,
mine or hazard outline is drawn (an accident's place with its date singles out its victims), so the
map can go on a wall or into a donor report as it is.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from safeground.eore.targeting import settlements
from safeground.errors import SafeGroundError
from safeground.figures import new_figure
from safeground.model import InfrastructureLine
from safeground.storage.base import Store, metric_epsg


def translations(lang: str) -> dict[str, Any]:
    """The map's words in one language (``eore/i18n/<lang>.json``: az, en, ru)."""
    try:
        text = resources.files("safeground.eore").joinpath(f"i18n/{lang}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        have = sorted(p.name[:-5] for p in resources.files("safeground.eore").joinpath("i18n").iterdir())
        raise SafeGroundError(f"no translation {lang!r}", hint=f"available: {', '.join(have)}") from None
    return dict(json.loads(text))


def targeting_map(store: Store, ranking: pd.DataFrame, *, top: int = 10, as_of: str = "", lang: str = "en") -> Figure:
    """Settlements coloured by need (the score), the ``top`` labelled with their rank and main reason."""
    words = translations(lang)
    epsg = metric_epsg(store)
    st = settlements(store, epsg).set_geometry("footprint")
    fig = new_figure(figsize=(9.0, 8.0), dpi=110)
    ax = fig.add_axes((0.04, 0.04, 0.80, 0.86))
    roads = store.read_frame(InfrastructureLine)
    if len(roads):
        roads = roads[roads["kind"].isin(["road", "path"])].to_crs(epsg)
        for kind, lw, colour in (("road", 0.8, "#9e9e9e"), ("path", 0.4, "#c8c8c8")):
            r = roads[roads["kind"] == kind]
            if len(r):
                r.plot(ax=ax, linewidth=lw, color=colour, zorder=1)
    score = dict(zip(ranking["settlement"], ranking["score"], strict=True))
    order = dict(zip(ranking["settlement"], ranking["rank"], strict=True))
    norm = Normalize(vmin=0.0, vmax=max(float(ranking["score"].max()) if len(ranking) else 1.0, 1e-9))
    cmap = "YlOrRd"
    sm = ScalarMappable(norm=norm, cmap=cmap)
    contrib = [c for c in ranking.columns if c.startswith("c_")]
    main = {
        row["settlement"]: words["factors"].get(max(contrib, key=lambda c: row[c])[2:], "")
        for _, row in ranking.iterrows()
    }
    for name, geom in zip(st["settlement"], st.geometry, strict=True):
        ax.add_patch(_patch(geom, sm.to_rgba(score.get(name, 0.0))))
        c = geom.representative_point()
        k = order.get(name)
        if k is not None and k <= top:
            ax.annotate(
                f"{k}. {name}\n({main[name]})",
                (c.x, c.y),
                xytext=(8, 8),
                textcoords="offset points",
                fontsize=7.5,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#555555", "lw": 0.5, "alpha": 0.9},
                zorder=5,
            )
        else:
            ax.annotate(name, (c.x, c.y), xytext=(5, -9), textcoords="offset points", fontsize=6.5, color="#555555")
    if not len(st):
        ax.text(0.5, 0.5, words["none"],
                transform=ax.transAxes, ha="center", va="center", fontsize=10, color="#444444")  # fmt: skip
    if len(st):
        minx, miny, maxx, maxy = st.total_bounds
        pad = 0.08 * max(maxx - minx, maxy - miny, 1.0)
        ax.set_xlim(minx - pad, maxx + pad)
        ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    cax = fig.add_axes((0.86, 0.25, 0.025, 0.5))
    fig.colorbar(sm, cax=cax, label=words["score"])
    fig.suptitle(words["title"].format(date=as_of), fontsize=12)
    ax.text(
        0.0, -0.035, words["note"],
        transform=ax.transAxes, fontsize=7, color="#444444",
    )  # fmt: skip
    return fig


def _patch(geom: object, colour: object) -> Patch:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    polys = list(getattr(geom, "geoms", [geom]))
    verts: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for p in polys:
        for ring in [p.exterior, *p.interiors]:
            xy = np.asarray(ring.coords)
            verts.append(xy)
            c = np.full(len(xy), MPath.LINETO)
            c[0] = MPath.MOVETO
            codes.append(c)
    path = MPath(np.concatenate(verts), np.concatenate(codes))
    return PathPatch(path, facecolor=colour, edgecolor="#333333", linewidth=0.6, zorder=3)
