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
import shapely
from pydantic import ValidationError
from pyproj import CRS

from safeground.errors import InvalidInput, Problem
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


_CSV_XY = {
    "X_POSSIBLE_NAMES": "lon,longitude,x,long",
    "Y_POSSIBLE_NAMES": "lat,latitude,y",
    "KEEP_GEOM_COLUMNS": "NO",
}


def _read(path: Path, src: str, source_layer: str | None) -> Any:
    if not path.exists():
        raise InvalidInput([Problem(src, "file", "-", "file not found")])
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # GDAL reports truncated/corrupt files in many ways
        raise InvalidInput(
            [Problem(src, "file", "-", f"cannot be read as a GIS file: {exc}")],
            hint_text="check that the file is complete (not truncated) and in a format GDAL reads",
        ) from exc
    if source_layer is None and len(layers) > 1:
        raise InvalidInput(
            [Problem(src, "file", "layer", f"holds {len(layers)} layers: {', '.join(layers)}")],
            hint_text="say which one to import with --source-layer",
        )
    if source_layer is not None and source_layer not in layers:
        raise InvalidInput(
            [Problem(src, "file", "layer", f"has no layer {source_layer!r}; it has: {', '.join(layers)}")]
        )
    options = _CSV_XY if path.suffix.lower() == ".csv" else {}
    try:
        with warnings.catch_warnings():
            # GDAL's JSON sniffing of text columns is not a problem of the user's file
            warnings.simplefilter("ignore", UserWarning)
            frame = pyogrio.read_dataframe(path, layer=source_layer, **options)
    except Exception as exc:
        raise InvalidInput(
            [Problem(src, "file", "-", f"cannot be read as a GIS file: {exc}")],
            hint_text="check that the file is complete (not truncated) and in a format GDAL reads",
        ) from exc
    return frame


def _to_wgs84(frame: Any, src: str) -> tuple[Any, list[str]]:
    notes: list[str] = []
    if "geometry" not in frame.columns or not hasattr(frame, "crs"):
        raise InvalidInput(
            [
                Problem(
                    src,
                    "file",
                    "geometry",
                    "the file has no geometry (for a table give 'lon' and 'lat' columns)",
                )
            ]
        )
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
    if not crs.equals(CRS.from_epsg(4326), ignore_axis_order=True):
        notes.append(f"reprojected from {crs.name} to WGS 84 (EPSG:4326)")
        frame = frame.to_crs(4326)
    return frame, notes


def _untruncate(columns: list[str], known: set[str], notes: list[str]) -> dict[str, str]:
    """Shapefile cuts field names to 10 characters: map an unambiguous prefix back."""
    mapping: dict[str, str] = {}
    for c in columns:
        if c in known or len(c) != 10:
            continue
        full = [k for k in known if k.startswith(c)]
        if len(full) == 1:
            mapping[c] = full[0]
    if mapping:
        notes.append("Shapefile field names read as: " + ", ".join(f"{a} → {b}" for a, b in mapping.items()))
    return mapping


_PLACEHOLDER = {
    "POINT": shapely.Point(0, 0),
    "POLYGON": shapely.box(0, 0, 0.001, 0.001),
    "MULTIPOLYGON": shapely.MultiPolygon([shapely.box(0, 0, 0.001, 0.001)]),
    "MULTILINESTRING": shapely.MultiLineString([[(0, 0), (0.001, 0.001)]]),
}


def import_features(
    store: Store,
    layer: str,
    path: str | Path,
    *,
    repair: bool = False,
    dry_run: bool = False,
    entered_by: str = "import",
    source_layer: str | None = None,
) -> ImportReport:
    """Validate every feature of a file, then add them all in one transaction.

    Identifiers are assigned and references checked inside the same write
    transaction, so two imports running at once cannot take the same number.
    """
    cls = record_type_for(layer)
    path = Path(path)
    src = path.name
    frame = _read(path, src, source_layer)
    lay = layout_of(cls)
    report = ImportReport(layer=layer, source=src, dry_run=dry_run)
    has_geom = cls.GEOMETRY is not None
    if has_geom:
        frame, notes = _to_wgs84(frame, src)
        report.notes += notes
    known = {c.name for c in lay.columns}
    frame = frame.rename(columns=_untruncate(list(frame.columns), known, report.notes))
    columns = [c for c in frame.columns if c != "geometry"]
    extra = [c for c in columns if c not in known and c not in ("fid", "geom")]
    if extra:
        report.notes.append(f"columns not in {layer} were ignored: {', '.join(extra)}")
    with store.transaction():
        records = _validate(store, cls, frame, columns, known, src, repair, entered_by, report)
        report.created = [r.uid for r in records]
        if not dry_run:
            store.add_many(records)
    return report


def _validate(
    store: Store,
    cls: type[Record],
    frame: Any,
    columns: list[str],
    known: set[str],
    src: str,
    repair: bool,
    entered_by: str,
    report: ImportReport,
) -> list[Record]:
    lay = layout_of(cls)
    problems: list[Problem] = []
    has_geom = cls.GEOMETRY is not None
    aoi_text = store.get_meta("area_of_interest")
    region = tuple(json.loads(aoi_text)) if aoi_text else None
    json_cols = {c.name for c in lay.columns if c.kind == "json"}
    next_no = store.max_uid_number(cls)
    records: list[Record] = []
    seen_uids: dict[str, int] = {}
    seen_features: dict[tuple[Any, ...], int] = {}
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
                    problems.append(Problem(src, item, c, f"not valid JSON ({exc.msg})", values.pop(c)))
                    bad = True
        if "uid" in values:
            values["uid"] = str(values["uid"])
            item = f"feature {i} ({values['uid']})"
            if values["uid"] in seen_uids:
                problems.append(
                    Problem(
                        src,
                        item,
                        "uid",
                        f"same identifier as feature {seen_uids[values['uid']]}",
                        values["uid"],
                    )
                )
                bad = True
            seen_uids[values["uid"]] = i
        else:
            next_no += 1
            values["uid"] = f"{cls.UID_PREFIX}-{next_no:05d}"
        values.setdefault("entered_by", entered_by)
        geom = None
        if has_geom:
            geom = getattr(row, "geometry", None)
            expected = cls.GEOMETRY or "GEOMETRY"
            issues = check_geometry(geom, expected=expected, region=region)  # type: ignore[arg-type]
            if issues and repair and all(x.repairable for x in issues):
                try:
                    geom, changes = repair_geometry(geom, issues)
                    after = check_geometry(geom, expected=expected, region=region)
                    if after:
                        raise ValueError("after repair: " + "; ".join(x.reason for x in after))
                    report.repairs += [Problem(src, item, "geometry", ch, repairable=True) for ch in changes]
                except ValueError as exc:
                    problems.append(Problem(src, item, "geometry", str(exc)))
                    bad = True
            elif issues:
                for x in issues:
                    hint = " (repairable with --repair)" if x.repairable else ""
                    problems.append(Problem(src, item, "geometry", x.reason + hint, repairable=x.repairable))
                bad = True
        # every field is checked even when the geometry is bad, so one run lists every problem
        trial = dict(values)
        if has_geom:
            trial["geometry"] = geom if not bad and geom is not None else _PLACEHOLDER.get(cls.GEOMETRY or "", geom)
        try:
            rec = cls.model_validate(trial)
        except ValidationError as exc:
            for err in exc.errors():
                fld = ".".join(str(p) for p in err["loc"]) or "record"
                if bad and fld == "geometry":
                    continue
                problems.append(Problem(src, item, fld, err["msg"], err.get("input") if err["loc"] else None))
            continue
        if bad:
            continue
        # a true duplicate repeats geometry and every value, not just the place
        key = (
            geom.normalize().wkb if geom is not None else None,
            json.dumps(
                {k: v for k, v in rec.model_dump(mode="json").items() if k not in ("uid", "entered_at", "geometry")},
                sort_keys=True,
            ),
        )
        if key in seen_features:
            problems.append(
                Problem(src, item, "(all)", f"duplicate of feature {seen_features[key]}: same place and values")
            )
            continue
        seen_features[key] = i
        records.append(rec)
    stored = store.existing_uids(cls, [r.uid for r in records])
    for r in records:
        if r.uid in stored:
            problems.append(Problem(src, f"record {r.uid}", "uid", "already stored in this layer"))
    problems += _check_references(store, cls, records, src)
    if problems:
        raise InvalidInput(problems, hint_text="fix the file (or use --repair where offered) and import again")
    return records


def _check_references(store: Store, cls: type[Record], records: list[Record], src: str) -> list[Problem]:
    problems = []
    for fld, target_layer in cls.REFERENCES.items():
        target = RECORD_TYPES[target_layer]
        wanted = {getattr(r, fld) for r in records if getattr(r, fld, None)}
        if not wanted:
            continue
        same_file = {r.uid for r in records} if target is cls else set()
        present = store.existing_uids(target, sorted(wanted)) | same_file
        for r in records:
            ref = getattr(r, fld, None)
            if ref and ref not in present:
                problems.append(
                    Problem(src, f"record {r.uid}", fld, f"refers to {ref}, which is not in {target_layer}", ref)
                )
    return problems
