"""The one-page accuracy dossier of a minefield record (HTML and PDF).

This is the document an NGO or the authority attaches to an appeal to an
international organization, so it shows the picture, the figures with their
uncertainty, the method and the provenance of the data on one page, from one
template, in both formats.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from jinja2 import Environment, PackageLoader, select_autoescape
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pyproj import CRS

from safeground import __version__
from safeground.figures import subplots
from safeground.minemaps.accuracy import (
    METHOD,
    AccuracyOptions,
    Proportion,
    RecordResult,
    evidence_hash,
)

GRADE_TEXT = {
    "A": "Reliable as recorded: direct evidence",
    "B": "Displaced as a whole: reliable after correction, direct evidence at its corrected position",
    "C": "Unreliable: indirect evidence only",
    "U": "Unverified: too little cleared ground",
}


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _plot_geom(ax: Axes, geom: shapely.Geometry, label: str, **kw: Any) -> None:
    for k, part in enumerate(shapely.get_parts(geom)):
        if part.geom_type == "Polygon":
            x, y = part.exterior.xy
            ax.fill(x, y, label=label if k == 0 else None, **kw)


def record_map(r: RecordResult) -> str:
    ev = r.evidence
    fig, ax = subplots(figsize=(5.2, 5.6))
    _plot_geom(ax, ev.cleared, "cleared ground", facecolor="#dcefdc", edgecolor="#5a9a5a", lw=0.6)
    x, y = (
        ev.perimeter.exterior.xy
        if ev.perimeter.geom_type == "Polygon"
        else shapely.get_parts(ev.perimeter)[0].exterior.xy
    )
    ax.plot(x, y, color="#7b2cbf", lw=1.0, label="recorded perimeter")
    ax.scatter(
        ev.recorded_xy[:, 0],
        ev.recorded_xy[:, 1],
        s=6,
        marker="o",
        facecolors="none",
        edgecolors="#7b2cbf",
        lw=0.6,
        label="recorded mine",
    )
    if len(ev.found_xy):
        ax.scatter(ev.found_xy[:, 0], ev.found_xy[:, 1], s=4, color="black", label="found item")
    if r.alignment is not None and r.grade in ("B", "C"):
        moved = r.alignment.transform.apply(ev.recorded_xy)
        ax.scatter(moved[:, 0], moved[:, 1], s=7, marker="x", color="#d95f02", lw=0.6, label="corrected position")
    pts = np.vstack([ev.recorded_xy, ev.found_xy]) if len(ev.found_xy) else ev.recorded_xy
    lo, hi = pts.min(axis=0) - 30, pts.max(axis=0) + 30
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_aspect("equal")
    ax.tick_params(labelsize=6)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("easting (m)", fontsize=7)
    ax.set_ylabel("northing (m)", fontsize=7)
    ax.legend(fontsize=6, loc="best", framealpha=0.85)
    ax.set_title("Recorded vs found vs corrected", fontsize=8)
    return _png(fig)


def error_histogram(r: RecordResult, cap: float) -> str:
    fig, ax = subplots(figsize=(4.2, 1.9))
    bins = np.linspace(0, min(cap, max(60.0, float(np.max(r.errors_m, initial=0)))), 31)
    if len(r.errors_m):
        ax.hist(np.minimum(r.errors_m, bins[-1]), bins=bins.tolist(), color="#7b2cbf", alpha=0.7, label="as recorded")
    if r.corrected_errors_m is not None and len(r.corrected_errors_m):
        ax.hist(
            np.minimum(r.corrected_errors_m, bins[-1]),
            bins=bins.tolist(),
            color="#d95f02",
            alpha=0.6,
            label="corrected",
        )
    ax.set_xlabel("distance from recorded mine to nearest find (m), verifiable mines", fontsize=6.5)
    ax.set_ylabel("mines", fontsize=6.5)
    ax.tick_params(labelsize=6)
    if len(r.errors_m) or r.corrected_errors_m is not None:
        ax.legend(fontsize=6)
    return _png(fig)


def _pct(p: Proportion | None) -> str:
    return "—" if p is None or p.value is None else f"{100 * p.value:.0f} % ({p.k}/{p.n})"


def _ci(p: Proportion | None) -> str:
    if p is None or p.low is None or p.high is None:
        return ""
    return f"{100 * p.low:.0f}–{100 * p.high:.0f} %"


def render_dossier(
    r: RecordResult, out_dir: str | Path, *, store_name: str, opts: AccuracyOptions | None = None
) -> tuple[Path, Path]:
    """Write ``<uid>.html`` and ``<uid>.pdf`` into ``out_dir``; returns both paths."""
    opts = opts or AccuracyOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    env = Environment(loader=PackageLoader("safeground.reports", "templates"), autoescape=select_autoescape())
    stats = r.error_stats()
    al = r.alignment
    prov = dict(r.evidence.provenance)
    prov["n_found"] = len(r.evidence.found_xy)
    epsg = prov.get("epsg", 4326)
    html = env.get_template("record_dossier.html.j2").render(
        r=r,
        al=al,
        prov=prov,
        as_of=opts.as_of.isoformat() if opts.as_of else "all evidence in the store",
        grade_text=GRADE_TEXT[r.grade],
        pct=_pct,
        ci=_ci,
        err={k: "—" if v is None else f"{v:.1f}" for k, v in stats.items()},
        iou="—" if r.iou is None else f"{r.iou:.2f}",
        sigma_shift=float(np.hypot(*al.sigma_shift_m)) if al else 0.0,
        remaining=len(r.remaining_uids),
        map_png=record_map(r),
        hist_png=error_histogram(r, opts.search_radius_m),
        method=METHOD[0].upper() + METHOD[1:] + ".",
        tolerances={t.value: v for t, v in opts.tolerance_m.items()},
        store_name=store_name,
        radius=int(opts.search_radius_m),
        cleared_m2=f"{r.evidence.cleared.area:,.0f}",
        evidence_hash=evidence_hash(r.evidence),
        epsg_name=f"{CRS.from_epsg(epsg).name} (EPSG:{epsg})",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
    )
    html_path = out / f"{r.uid}.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path = out / f"{r.uid}.pdf"
    from weasyprint import HTML

    HTML(string=html, base_url=str(out)).write_pdf(pdf_path)
    return html_path, pdf_path
