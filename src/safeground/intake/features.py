"""Import a GIS file (GeoJSON, GeoPackage, Shapefile, KML …) into one layer.

The rules every SafeGround import follows:

* every problem of every feature is collected and reported together, naming the
  file, the feature number and the field, so a clerk fixes the file once;
* nothing is written unless the whole file is good (one transaction);
* geometry repair happens only with ``repair=True`` and every change is listed.

Columns are matched to record fields by name; nested fields (evidence, status
history, rows) are given as JSON text, as SafeGround writes them.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pydantic import ValidationError
from pyproj import CRS

from safeground.errors import InvalidInput, Problem
from safeground.geometry.projection import project
from safeground.geometry.validate import check_geometry, repair_geometry
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import Store
from safeground.storage.schema import layout_of


@dataclass
class ImportReport:
    layer: str
    source: str
    created: list[str] = field(default_factory=list)
    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False


def record_type_for(layer: str) -> type[Record]:
    try:
        return RECORD_TYPES[layer]
    except KeyError:
        known = ", ".join(sorted(RECORD_TYPES))
        raise InvalidInput(
            [Problem("(command line)", "layer", "layer", f"unknown layer; choose one of: {known}", layer)]
        ) from None


def _clean(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat") and hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    return value


def _read(path: Path, src: str) -> Any:
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    try:
        with warnings.catch_warnings():
            # GDAL's JSON sniffing of text columns is not a problem of the user's file
            warnings.filterwarnings("ignore", message="Could not parse column", category=UserWarning)
            return pyogrio.read_dataframe(path)
    except Exception as exc:  # GDAL reports truncated/corrupt files in many ways
        raise InvalidInput(
            [Problem(src, "file", "-", f"cannot be read as a GIS file: {exc}")],
            hint_text="check that the file is complete (not truncated) and in a format GDAL reads",
        ) from exc


def _to_wgs84(frame: Any, src: str) -> tuple[Any, list[str]]:
    notes: list[str] = []
    if frame.crs is None:
        xy = frame.geometry.get_coordinates().to_numpy()
        if len(xy) and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
            raise InvalidInput(
                [
                    Problem(
                        src,
                        "file",
                        "CRS",
                        "the file declares no coordinate reference system and its "
                        "coordinates are not longitude/latitude degrees",
                    )
                ],
                hint_text="save the file with its CRS (e.g. a .prj beside a Shapefile) and import again",
            )
        notes.append("the file declares no CRS; coordinates read as WGS 84 longitude/latitude")
        return frame.set_crs(4326), notes
    crs = CRS.from_user_input(frame.crs)
    if crs.to_epsg() != 4326:
        notes.append(f"reprojected from {crs.to_string()} to WGS 84 (EPSG:4326)")
        frame = frame.copy()
        frame.geometry = project(frame.geometry.to_numpy(), crs.to_epsg() or 4326, 4326)  # type: ignore[arg-type]
        frame = frame.set_crs(4326, allow_override=True)
    return frame, notes


def import_features(
    store: Store,
    layer: str,
    path: str | Path,
    *,
    repair: bool = False,
    dry_run: bool = False,
    entered_by: str = "import",
) -> ImportReport:
    """Validate every feature of a file, then add them all in one transaction."""
    cls = record_type_for(layer)
    path = Path(path)
    src = path.name
    frame = _read(path, src)
    lay = layout_of(cls)
    report = ImportReport(layer=layer, source=src, dry_run=dry_run)
    problems: list[Problem] = []
    has_geom = cls.GEOMETRY is not None
    if has_geom:
        frame, notes = _to_wgs84(frame, src)
        report.notes += notes
    columns = [c for c in frame.columns if c != "geometry"]
    known = {c.name for c in lay.columns}
    extra = [c for c in columns if c not in known and c not in ("fid", "geom")]
    if extra:
        report.notes.append(f"columns not in {layer} were ignored: {', '.join(extra)}")
    aoi_text = store.get_meta("area_of_interest")
    region = tuple(json.loads(aoi_text)) if aoi_text else None
    json_cols = {c.name for c in lay.columns if c.kind == "json"}
    next_no = store.max_uid_number(cls)
    records: list[Record] = []
    seen_uids: dict[str, int] = {}
    seen_geoms: dict[bytes, int] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        item = f"feature {i}"
        values = {c: _clean(getattr(row, c)) for c in columns if c in known}
        values = {k: v for k, v in values.items() if v is not None and v != ""}
        bad = False
        for c in json_cols & values.keys():
            if isinstance(values[c], str):
                try:
                    values[c] = json.loads(values[c])
                except json.JSONDecodeError as exc:
                    problems.append(Problem(src, item, c, f"not valid JSON ({exc.msg})", values[c]))
                    bad = True
        if "uid" not in values:
            next_no += 1
            values["uid"] = f"{cls.UID_PREFIX}-{next_no:05d}"
        else:
            values["uid"] = str(values["uid"])
        item = f"feature {i} ({values['uid']})"
        values.setdefault("entered_by", entered_by)
        if values["uid"] in seen_uids:
            problems.append(
                Problem(
                    src, item, "uid", f"same identifier as feature {seen_uids[values['uid']]}", values["uid"]
                )
            )
            bad = True
        seen_uids[values["uid"]] = i
        if has_geom:
            geom = getattr(row, "geometry", None)
            issues = check_geometry(geom, expected=cls.GEOMETRY or "GEOMETRY", region=region)  # type: ignore[arg-type]
            if issues and repair and all(x.repairable for x in issues):
                geom, changes = repair_geometry(geom, issues)
                report.repairs += [Problem(src, item, "geometry", ch, repairable=True) for ch in changes]
            elif issues:
                for x in issues:
                    hint = " (repairable with --repair)" if x.repairable else ""
                    problems.append(Problem(src, item, "geometry", x.reason + hint, repairable=x.repairable))
                bad = True
            if geom is not None and not bad:
                key = geom.normalize().wkb
                if key in seen_geoms:
                    problems.append(
                        Problem(
                            src, item, "geometry", f"duplicate of feature {seen_geoms[key]} (same geometry)"
                        )
                    )
                    bad = True
                seen_geoms[key] = i
            values["geometry"] = geom
        if bad:
            continue
        try:
            records.append(cls.model_validate(values))
        except ValidationError as exc:
            for err in exc.errors():
                fld = ".".join(str(p) for p in err["loc"]) or "(record)"
                problems.append(Problem(src, item, fld, err["msg"], err.get("input") if err["loc"] else None))
    stored = store.existing_uids(cls, [r.uid for r in records])
    for r in records:
        if r.uid in stored:
            problems.append(Problem(src, f"record {r.uid}", "uid", "already stored in this layer"))
    if problems:
        raise InvalidInput(
            problems, hint_text="fix the file (or use --repair where offered) and import again"
        )
    report.created = [r.uid for r in records]
    if not dry_run:
        store.add_many(records)
    return report
