"""What an import left out, and why: so that skipping dirty features never loses them silently.

Real national data carries features without geometry, with empty geometry,
exact duplicates and rows that break a rule. By default an import refuses the
whole file (``safeground.intake.features``); with ``--skip-invalid`` the rest is
imported and every row left out is kept here with its reasons, and with
``--quarantine FILE`` the rows themselves (every source column and the original
geometry, untouched) are written to a file (a ``quarantine_<layer>`` layer of a
GeoPackage, a GeoJSON or a CSV) with a ``quarantine_reason`` column: fix them
there and import that file again.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from safeground import tabular
from safeground.errors import InvalidInput, Param, Problem, as_flag, render_params

#: the reasons a summary line counts, in the order it names them
KINDS = ("no geometry", "empty geometry", "duplicate", "invalid geometry", "invalid values", "other")
QUARANTINE_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".csv": "CSV"}


def kind_of(p: Problem) -> str:
    """The summary's word for one problem."""
    if p.field == "geometry":
        if p.reason == "no geometry":
            return "no geometry"
        if p.reason.startswith("geometry is empty"):
            return "empty geometry"
        return "invalid geometry"
    if p.reason.startswith("duplicate of"):
        return "duplicate"
    if p.field in ("(all)", "uid", "file"):
        return "other"
    return "invalid values"


@dataclass
class LeftOut:
    """The rows an import skipped: their problems (for the report) and, for a quarantine, the rows."""

    keep_rows: bool = False
    problems: list[Problem] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    items: int = 0
    _frames: list[pd.DataFrame] = field(default_factory=list)
    _geoms: list[np.ndarray] = field(default_factory=list)

    def add(
        self, frame: pd.DataFrame, geometry: np.ndarray | None, rows: list[int], reasons: list[list[Problem]]
    ) -> None:
        """Rows ``rows`` of one batch (source columns, original geometry), each with its problems."""
        if not rows:
            return
        self.items += len(rows)
        for probs in reasons:
            self.problems.extend(probs)
            self.kinds[kind_of(probs[0])] += 1  # a row counts once, under its first problem
        if self.keep_rows:
            part = frame.iloc[rows].reset_index(drop=True).copy()
            part.insert(0, "quarantine_item", [ps[0].item for ps in reasons])
            part["quarantine_reason"] = ["; ".join(_said(p) for p in ps) for ps in reasons]
            self._frames.append(part)
            n = len(rows)
            self._geoms.append(
                np.full(n, None, dtype=object) if geometry is None else np.asarray(geometry, dtype=object)[rows]
            )

    def summary(self) -> str:
        """``3,402 no geometry, 4 duplicate`` (largest first)."""
        return ", ".join(f"{n:,} {k}" for k, n in sorted(self.kinds.items(), key=lambda kv: (-kv[1], kv[0])))

    def write(self, path: Path, layer: str, crs: CRS | None) -> int:
        """The skipped rows as a file to fix and import again; returns how many were written."""
        import pyogrio

        driver = QUARANTINE_SUFFIXES[path.suffix.lower()]
        if self._frames:
            frame = pd.concat(self._frames, ignore_index=True)
            geoms = np.concatenate(self._geoms)
        else:
            frame = pd.DataFrame({"quarantine_item": [], "quarantine_reason": []})
            geoms = np.empty(0, dtype=object)
        frame = frame.astype(object).where(frame.notna(), None)
        frame = frame.astype({c: str for c in frame.columns if frame[c].map(_is_odd).any()})
        if driver == "CSV":
            frame["geometry_wkt"] = [None if g is None else shapely.to_wkt(g) for g in geoms]
            tabular.frame_to_csv(frame, path)  # opened in a spreadsheet to be fixed: no cell runs as a formula
            return len(frame)
        import geopandas as gpd

        gdf = gpd.GeoDataFrame(frame, geometry=list(geoms), crs=crs or 4326)
        pyogrio.write_dataframe(gdf, path, layer=f"quarantine_{layer}", driver=driver, promote_to_multi=False)
        return len(gdf)


def check_quarantine_path(path: Path) -> None:
    """Refuse a quarantine file that exists or whose kind is unknown, before anything is read."""
    if path.suffix.lower() not in QUARANTINE_SUFFIXES:
        raise InvalidInput(
            [
                Problem(
                    "(command line)", str(Param("quarantine")), "file", "must end in .gpkg, .geojson or .csv", str(path)
                )
            ]
        )
    if path.exists():
        raise InvalidInput(
            [
                Problem(
                    "(command line)",
                    str(Param("quarantine")),
                    "file",
                    "exists already; it is never overwritten",
                    str(path),
                )
            ],
            hint_text="give a new file name",
        )
    if not path.parent.exists():
        raise InvalidInput(
            [Problem("(command line)", str(Param("quarantine")), "file", "its folder does not exist", str(path))]
        )


def _said(p: Problem) -> str:
    """The reason kept with a quarantined row; a setting it names is said as the command line's flag
    (the quarantine file goes with a command-line import)."""
    value = "" if p.value is None else f" ({p.value})"
    return render_params(f"{p.field}: {p.reason}{value}", as_flag)


def _is_odd(v: Any) -> bool:
    """Values GDAL cannot write as they are (lists, dicts, bytes): written as text."""
    return isinstance(v, list | dict | tuple | bytes)
