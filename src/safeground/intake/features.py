"""Import a file (GIS layer or table of coordinates) into one layer, all or nothing.

The rules every SafeGround import follows:

* every problem of every feature or row is collected and reported together,
  naming the file, the feature/row, the field and the value, so a clerk fixes the file once;
* nothing is written unless the whole file is good (one transaction);
* geometry repair happens only with ``repair=True`` and every change is listed;
* re-importing a file does not duplicate records: a row is matched to its stored
  record by ``uid`` (or the mapping's ``key`` fields, or, with neither, by being
  identical); a newer ``date_of_information`` updates the record (the old version
  goes to history), an older one is reported and not applied, an identical one is skipped.

Columns are matched to record fields by name, or through a saved field mapping
(``safeground.intake.mapping``); nested fields (evidence, status history, rows)
are given as JSON text, as SafeGround writes them.

The file is read in batches and checked column-wise: the model is validated once
per distinct combination of attribute values (a million recorded mines share a
few dozen), identifiers and point geometry are checked with array operations,
and new records are written in bulk; so memory does not grow with the file and
a large import runs at the speed of the disk.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pydantic import ValidationError
from pyproj import CRS, Transformer

from safeground.errors import InvalidInput, Problem
from safeground.geometry.validate import check_geometry, repair_geometry
from safeground.intake.locate import Locator, locate, plan
from safeground.intake.mapping import FieldMapping
from safeground.intake.sources import Batch, Source, open_source
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import Store
from safeground.storage.schema import Layout, layout_of

#: fields that say who/when/which version, not what: two rows differing only here are the same information
_BOOKKEEPING = ("uid", "version", "entered_at", "entered_by", "change_reason")
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")


@dataclass
class Change:
    """What an import does (or would do) with one feature or row."""

    item: str
    uid: str
    action: str  # create | update | unchanged | older
    detail: str = ""


@dataclass
class ImportReport:
    layer: str
    source: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    older: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "older": 0})
    repairs: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    #: keep at most this many uids per action in the lists above (None: all); counts are always exact
    list_limit: int | None = None

    def add_many(self, action: str, items: list[str], uids: list[str]) -> None:
        """Many changes of one kind at once; beyond ``list_limit`` only counted."""
        room = len(uids) if self.list_limit is None else max(self.list_limit - self.counts[action], 0)
        for item, uid in zip(items[:room], uids[:room], strict=True):
            self.add(Change(item, uid, action))
        self.counts[action] += max(len(uids) - room, 0)

    def add(self, change: Change) -> None:
        self.counts[change.action] += 1
        if self.list_limit is not None and self.counts[change.action] > self.list_limit:
            return
        self.changes.append(change)
        {"create": self.created, "update": self.updated, "unchanged": self.unchanged}.get(change.action, []).append(
            change.uid
        )
        if change.action == "older":
            self.older.append(change)


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
        return _clean(value.item())
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.to_pydatetime()
    if isinstance(value, str) and not value.strip():
        return None
    return value


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


@dataclass
class _Combo:
    """One distinct combination of attribute values, validated once."""

    encoded: list[Any] | None  # column values as stored (uid slot empty), or None when invalid
    errors: list[tuple[str, str, Any]]
    content: int  # hash of what the information says (not who/when)
    date: date | None
    first_item: str = ""
    count: int = 0
    refs: dict[str, str] = field(default_factory=dict)


class _Importer:
    def __init__(
        self,
        store: Store,
        cls: type[Record],
        source: Source,
        mapping: FieldMapping | None,
        *,
        repair: bool,
        dry_run: bool,
        entered_by: str,
        declared_crs: str | None,
        coordinates: dict[str, Any],
        report: ImportReport,
    ) -> None:
        self.store, self.cls, self.source, self.mapping = store, cls, source, mapping
        self.repair, self.dry_run, self.report = repair, dry_run, report
        self.src = source.name
        self.lay: Layout = layout_of(cls)
        self.known = {c.name for c in self.lay.columns}
        self.json_cols = {c.name for c in self.lay.columns if c.kind == "json"}
        self.date_cols = {c.name for c in self.lay.columns if c.kind == "date"}
        self.uid_index = self.lay.column_names.index("uid")
        self.content_index = [i for i, c in enumerate(self.lay.columns) if c.name not in _BOOKKEEPING]
        self.problems: list[Problem] = []
        self.entered_by = entered_by
        self.entered_at = datetime.now(UTC).replace(microsecond=0)
        aoi_text = store.get_meta("area_of_interest")
        self.region = tuple(json.loads(aoi_text)) if aoi_text else None
        self.combo_ids: dict[tuple[Any, ...], int] = {}
        self.combo_list: list[_Combo] = []
        self.seen_uids: dict[str, str] = {}
        self.seen_hash = np.empty(0, dtype=np.int64)
        self.seen_number = np.empty(0, dtype=np.int64)
        self.next_no = store.max_uid_number(cls)
        self.declared_crs = declared_crs
        self.crs_checked = False
        self.transformer: Transformer | None = None
        self.has_geom = cls.GEOMETRY is not None
        # the column renaming: mapping first, then Shapefile's cut names, then same-named fields
        rename = dict(mapping.columns) if mapping else {}
        rename.update(_untruncate([c for c in source.columns if c not in rename], self.known, report.notes))
        for c in source.columns:  # 'Name' in KML, 'UID' or 'Date_Of_Information' in hand-made sheets
            if c not in rename and c not in self.known and c.strip().lower() in self.known:
                rename[c] = c.strip().lower()
        self.locator: Locator | None = None
        if source.is_table and self.has_geom:
            coords = dict(mapping.coordinates) if mapping else {}
            coords.update({k: v for k, v in coordinates.items() if v is not None})
            self.locator = plan(source.columns, coords, declared_crs, self.src, self.region)  # type: ignore[arg-type]
        consumed = self.locator.consumed if self.locator else set()
        self.rename = {c: rename.get(c, c) for c in source.columns if c not in consumed}
        targets = [t for t in self.rename.values() if t in self.known]
        dup = {t for t in targets if targets.count(t) > 1}
        if dup:
            raise InvalidInput(
                [
                    Problem(self.src, "row 1" if source.is_table else "file", t, "two source columns map to this field")
                    for t in sorted(dup)
                ]
            )
        ignored = [c for c, t in self.rename.items() if t not in self.known and c not in ("fid", "geom", "geometry")]
        if ignored:
            report.notes.append(f"columns not in {cls.LAYER} were ignored: {', '.join(ignored)}")
        self.attr_cols = [c for c in self.lay.column_names if c not in ("uid",)]
        self.constants = dict(mapping.constants) if mapping else {}
        self.values = {
            k: {str(a).strip().casefold(): b for a, b in v.items()}
            for k, v in (mapping.values if mapping else {}).items()
        }
        self.date_format = mapping.date_format if mapping else None
        self.key = list(mapping.key) if mapping else []
        self.stored_by_key: dict[tuple[Any, ...], str] | None = None
        self.stored_content: dict[int, str] | None = None
        self.placeholder = _PLACEHOLDER.get(cls.GEOMETRY or "", shapely.Point(0, 0))

    # -- attribute columns ----------------------------------------------------------
    def _columns(self, batch: Batch) -> pd.DataFrame:
        frame = batch.frame.rename(columns=self.rename)
        frame = frame.loc[:, [c for c in frame.columns if c in self.known]]
        frame = frame.loc[:, ~frame.columns.duplicated()]
        n = len(frame)
        out = {}
        for c in self.lay.column_names:
            if c in frame.columns:
                col = frame[c]
                if self.source.is_table and col.dtype == object:
                    values = col.tolist()  # cells already read as text or None
                elif col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
                    # text columns (pandas' own string dtype included): only odd cells need cleaning
                    raw = col.astype(object).where(col.notna(), None).tolist()
                    values = [v if type(v) is str and v and not v.isspace() else _clean(v) for v in raw]
                else:
                    values = [_clean(v) for v in col.astype(object).where(col.notna(), None).tolist()]
            else:
                values = [None] * n
            if c in self.constants:
                const = self.constants[c]
                values = [const if v is None else v for v in values]
            if c in self.values:
                table = self.values[c]
                values = [table.get(str(v).strip().casefold(), v) if v is not None else None for v in values]
            out[c] = values
        out.setdefault("entered_by", [None] * n)
        out["entered_by"] = [self.entered_by if v is None else v for v in out["entered_by"]]
        return pd.DataFrame(out, dtype=object) if n else pd.DataFrame(columns=self.lay.column_names)

    def _combo(self, key: tuple[Any, ...], item: str) -> _Combo:
        values = dict(zip(self.attr_cols, key, strict=True))
        trial: dict[str, Any] = {k: v for k, v in values.items() if v is not None}
        errors: list[tuple[str, str, Any]] = []
        for c in self.json_cols & trial.keys():
            if isinstance(trial[c], str):
                try:
                    trial[c] = json.loads(trial[c])
                except json.JSONDecodeError as exc:
                    errors.append((c, f"not valid JSON ({exc.msg})", trial.pop(c)))
        for c in self.date_cols & trial.keys():
            v = trial[c]
            if isinstance(v, datetime) and v.time() == datetime.min.time():
                trial[c] = v.date()
            elif isinstance(v, str) and self.date_format:
                try:
                    trial[c] = datetime.strptime(v.strip(), self.date_format).date()
                except ValueError:
                    errors.append((c, f"not a date in the form {self.date_format}", trial.pop(c)))
        trial.setdefault("entered_at", self.entered_at)
        trial["uid"] = "X"
        if self.has_geom:
            trial["geometry"] = self.placeholder
        encoded = None
        rec = None
        try:
            rec = self.cls.model_validate(trial)
        except ValidationError as exc:
            for err in exc.errors():
                fld = ".".join(str(p) for p in err["loc"]) or "record"
                shown = err.get("input") if err["loc"] and err["type"] != "missing" else None
                errors.append(
                    (fld, err["msg"] if err["type"] != "missing" else "missing: the column is absent or empty", shown)
                )
        if rec is not None and not errors:
            encoded = self.lay.encode(rec)
        content = hash(tuple(encoded[i] for i in self.content_index)) if encoded else 0
        refs = {f: getattr(rec, f) for f in self.cls.REFERENCES if rec is not None and getattr(rec, f, None)}
        return _Combo(encoded, errors, content, getattr(rec, "date_of_information", None), item, 0, refs)

    # -- geometry -------------------------------------------------------------------
    def _geometry(self, batch: Batch, items: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """WGS 84 geometry per row and a mask of rows whose geometry is good."""
        n = len(items)
        if not self.has_geom:
            return np.full(n, None, dtype=object), np.ones(n, dtype=bool)
        if self.locator is not None:
            geoms, problems = locate(batch.frame, items, self.locator, self.src)
            self.problems += problems
        else:
            geoms = batch.geometry if batch.geometry is not None else np.full(n, None, dtype=object)
            geoms = self._gis_crs(geoms)
        good = np.array([g is not None for g in geoms], dtype=bool)
        expected = self.cls.GEOMETRY or "GEOMETRY"
        if expected == "POINT":
            fast = good.copy()
            fast[good] = shapely.get_type_id(geoms[good]) == 0
            if fast.any():
                xy = shapely.get_coordinates(geoms[fast])
                ok = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
                if self.region is not None:
                    minx, miny, maxx, maxy = self.region
                    m = 0.5
                    ok &= (
                        (xy[:, 0] >= minx - m)
                        & (xy[:, 0] <= maxx + m)
                        & (xy[:, 1] >= miny - m)
                        & (xy[:, 1] <= maxy + m)
                    )
                fast[np.flatnonzero(fast)[~ok]] = False
            slow = np.flatnonzero(good & ~fast)
        else:
            slow = np.flatnonzero(good)
        had_problem = {p.item for p in self.problems}
        for i in slow:
            geoms[i], good[i] = self._check_one(geoms[i], items[i], expected)
        for i in np.flatnonzero(~good):
            if geoms[i] is None and items[i] not in had_problem and self.locator is None:
                self.problems.append(Problem(self.src, items[i], "geometry", "no geometry"))
        if expected == "MULTIPOLYGON" or expected == "MULTILINESTRING":
            single = "Polygon" if expected == "MULTIPOLYGON" else "LineString"
            wrap = shapely.MultiPolygon if expected == "MULTIPOLYGON" else shapely.MultiLineString
            for i in np.flatnonzero(good):
                if geoms[i].geom_type == single:
                    geoms[i] = wrap([geoms[i]])
        return geoms, good

    def _check_one(self, geom: Any, item: str, expected: str) -> tuple[Any, bool]:
        issues = check_geometry(geom, expected=expected, region=self.region)  # type: ignore[arg-type]
        if not issues:
            return geom, True
        if self.repair and all(x.repairable for x in issues):
            try:
                fixed, changes = repair_geometry(geom, issues)
                after = check_geometry(fixed, expected=expected, region=self.region)  # type: ignore[arg-type]
                if after:
                    raise ValueError("after repair: " + "; ".join(x.reason for x in after))
                self.report.repairs += [Problem(self.src, item, "geometry", ch, repairable=True) for ch in changes]
                return fixed, True
            except ValueError as exc:
                self.problems.append(Problem(self.src, item, "geometry", str(exc)))
                return geom, False
        for x in issues:
            hint = " (repairable with --repair)" if x.repairable else ""
            self.problems.append(Problem(self.src, item, "geometry", x.reason + hint, repairable=x.repairable))
        return geom, False

    def _gis_crs(self, geoms: np.ndarray) -> np.ndarray:
        if not self.crs_checked:
            self.crs_checked = True
            crs = self.source.crs
            declared = CRS.from_user_input(self.declared_crs) if self.declared_crs else None
            if crs is None and declared is None:
                present = [g for g in geoms if g is not None]
                xy = shapely.get_coordinates(np.asarray(present, dtype=object)) if present else np.empty((0, 2))
                if len(xy) and (np.abs(xy[:, 0]).max() > 180 or np.abs(xy[:, 1]).max() > 90):
                    raise InvalidInput(
                        [Problem(self.src, "file", "CRS", "the file declares no coordinate reference system and its "
                                 "coordinates are not longitude/latitude degrees")],
                        hint_text="declare it with --crs (e.g. --crs EPSG:32638), or save the file with its CRS "
                        "(e.g. the .prj beside a Shapefile)",
                    )  # fmt: skip
                self.report.notes.append("the file declares no CRS; coordinates read as WGS 84 longitude/latitude")
            elif crs is not None and declared is not None and not crs.equals(declared, ignore_axis_order=True):
                raise InvalidInput(
                    [Problem(self.src, "file", "CRS", f"the file says {crs.name} but --crs says {declared.name}")],
                    hint_text="leave out --crs when the file declares its CRS, or correct the file",
                )
            use = crs or declared
            if use is not None and not use.equals(CRS.from_epsg(4326), ignore_axis_order=True):
                self.report.notes.append(f"reprojected from {use.name} to WGS 84 (EPSG:4326)")
                self.transformer = Transformer.from_crs(use, 4326, always_xy=True)
        if self.transformer is not None:
            t = self.transformer
            present = np.array([g is not None for g in geoms], dtype=bool)
            geoms = geoms.copy()
            geoms[present] = shapely.transform(
                geoms[present], lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))
            )
        return geoms

    # -- identity -------------------------------------------------------------------
    def _load_stored(self) -> None:
        """What is already stored, for matching rows without a uid (only when the layer has records)."""
        if self.stored_content is not None:
            return
        self.stored_content, self.stored_by_key = {}, {}
        if self.store.count(self.cls) == 0:
            return
        for rec in self.store.find(self.cls):
            enc = self.lay.encode(rec)
            wkb = _wkb(getattr(rec, "geometry", None))
            self.stored_content[hash((wkb, hash(tuple(enc[i] for i in self.content_index))))] = rec.uid
            if self.key:
                self.stored_by_key[tuple(_key_value(getattr(rec, k)) for k in self.key)] = rec.uid

    def run(self) -> None:
        """Read, check and (unless a dry run) write every batch; problems are collected, not raised."""
        batches = self._prepared()
        if self.dry_run:
            for _ in batches:
                pass
        else:
            self.store.insert_stream(self.lay, batches)

    def _combo_ids(self, keys: list[tuple[Any, ...]], items: list[str]) -> np.ndarray:
        get = self.combo_ids.get
        cids = [get(k, -1) for k in keys]
        for i, c in enumerate(cids):
            if c < 0:
                c = self.combo_ids.get(keys[i], -1)
                if c < 0:
                    c = self.combo_ids[keys[i]] = len(self.combo_list)
                    self.combo_list.append(self._combo(keys[i], items[i]))
                cids[i] = c
        return np.asarray(cids, dtype=np.int64)

    def _prepared(self) -> Iterator[tuple[list[tuple[Any, ...]], Any]]:
        """Per batch: the new rows to insert (encoded) and their geometry; updates are applied on the way."""
        item_word = "row" if self.source.is_table else "feature"
        for batch in self.source.batches():
            self.report.notes.extend(n for n in self.source.notes if n not in self.report.notes)
            cols = self._columns(batch)
            n = len(cols)
            if n == 0:
                continue
            uids = [None if u is None else str(u).strip() for u in cols["uid"].tolist()]
            items = batch.items
            named = [it if u is None else f"{it} ({u})" for it, u in zip(items, uids, strict=True)]
            geoms, good = self._geometry(batch, named)
            keys = list(zip(*[cols[c].tolist() for c in self.attr_cols], strict=True))
            cids = self._combo_ids(keys, named)
            counts = np.bincount(cids, minlength=len(self.combo_list))
            for c in np.flatnonzero(counts):
                self.combo_list[c].count += int(counts[c])
            combo_bad = np.array([bool(c.errors) for c in self.combo_list], dtype=bool)
            bad = ~good | combo_bad[cids]
            for i in np.flatnonzero(combo_bad[cids]):
                for fld, msg, val in self.combo_list[cids[i]].errors:
                    if not good[i] and fld == "geometry":
                        continue
                    self.problems.append(Problem(self.src, named[i], fld, msg, val))
            has_uid = np.array([u is not None for u in uids], dtype=bool)
            matches: list[tuple[int, str, _Combo]] = []
            for i in np.flatnonzero(has_uid):
                uid = uids[i]
                if not _UID.match(uid) or len(uid) > 64:  # type: ignore[arg-type]
                    self.problems.append(
                        Problem(
                            self.src, named[i], "uid", "an identifier is letters, digits and _.:- (at most 64)", uid
                        )
                    )
                    bad[i] = True
                elif uid in self.seen_uids:
                    self.problems.append(
                        Problem(self.src, named[i], "uid", f"same identifier as {self.seen_uids[uid]}", uid)  # type: ignore[index]
                    )
                    bad[i] = True
                else:
                    self.seen_uids[uid] = items[i]  # type: ignore[index]
                    if not bad[i]:
                        matches.append((int(i), uid, self.combo_list[cids[i]]))  # type: ignore[arg-type]
            # rows without an identifier: a second identical row is a duplicate, an identical stored one is skipped
            anon = np.flatnonzero(~has_uid & ~bad)
            wkbs = (
                shapely.to_wkb(geoms[anon], byte_order=1, flavor="iso", output_dimension=2)
                if self.has_geom
                else [None] * len(anon)
            )
            contents = [self.combo_list[c].content for c in cids[anon].tolist()]
            hashes = np.fromiter((hash(t) for t in zip(wkbs, contents, strict=True)), dtype=np.int64, count=len(anon))
            numbers = np.fromiter((int(items[i].split()[1]) for i in anon), dtype=np.int64, count=len(anon))
            dup_of = self._duplicates(hashes, numbers)
            create: list[int] = []
            for j in np.flatnonzero(dup_of >= 0):
                self.problems.append(
                    Problem(
                        self.src,
                        named[anon[j]],
                        "(all)",
                        f"duplicate of {item_word} {dup_of[j]}: same place and values",
                    )
                )
            fresh = anon[dup_of < 0]
            if self.key or self.store_has_records:
                self._load_stored()
                lookup = dict(zip(anon.tolist(), hashes.tolist(), strict=True))
                for i in fresh.tolist():
                    combo = self.combo_list[cids[i]]
                    if self.key:
                        kv = tuple(_key_value(combo.encoded[self.lay.column_names.index(k)]) for k in self.key)  # type: ignore[index]
                        stored_uid = self.stored_by_key.get(kv)  # type: ignore[union-attr]
                        if stored_uid is not None:
                            matches.append((i, stored_uid, combo))
                            continue
                    same = self.stored_content.get(lookup[i])  # type: ignore[union-attr]
                    if same is not None:
                        self.report.add(Change(items[i], same, "unchanged", "identical to the stored record"))
                        continue
                    create.append(i)
            else:
                create = fresh.tolist()
            new_uids = [
                f"{self.cls.UID_PREFIX}-{k:05d}" for k in range(self.next_no + 1, self.next_no + 1 + len(create))
            ]
            self.next_no += len(create)
            u = self.uid_index
            parts = [
                (tuple(c.encoded[:u]), tuple(c.encoded[u + 1 :])) if c.encoded else ((), ()) for c in self.combo_list
            ]
            rows = [parts[c][0] + (uid,) + parts[c][1] for c, uid in zip(cids[create].tolist(), new_uids, strict=True)]
            new_geoms = list(geoms[create]) if self.has_geom else None
            self.report.add_many("create", [items[i] for i in create], new_uids)
            if matches:
                extra_rows: list[list[Any]] = []
                extra_geoms: list[Any] = []
                self._resolve(matches, items, geoms, extra_rows, extra_geoms, True)
                rows += [tuple(r) for r in extra_rows]
                if new_geoms is not None:
                    new_geoms += extra_geoms
            if not self.problems and rows:
                yield rows, (np.asarray(new_geoms, dtype=object) if new_geoms is not None else None)

    def _duplicates(self, hashes: np.ndarray, numbers: np.ndarray) -> np.ndarray:
        """For each row: the number of an earlier identical row (this batch or before), or -1.

        Kept as sorted int64 arrays (16 bytes a row), not a dict of strings, so a
        million-row import stays small.
        """
        out = np.full(len(hashes), -1, dtype=np.int64)
        if len(hashes) == 0:
            return out
        if len(self.seen_hash):
            pos = np.searchsorted(self.seen_hash, hashes)
            pos_c = np.minimum(pos, len(self.seen_hash) - 1)
            hit = self.seen_hash[pos_c] == hashes
            out[hit] = self.seen_number[pos_c[hit]]
        order = np.argsort(hashes, kind="stable")
        sh = hashes[order]
        same = np.r_[False, sh[1:] == sh[:-1]]
        first = np.maximum.accumulate(np.where(~same, np.arange(len(sh)), 0))
        inner = np.full(len(hashes), -1, dtype=np.int64)
        inner[order[same]] = numbers[order[first[same]]]
        out = np.where(out >= 0, out, inner)
        keep = out < 0
        self.seen_hash = np.concatenate([self.seen_hash, hashes[keep]])
        self.seen_number = np.concatenate([self.seen_number, numbers[keep]])
        o = np.argsort(self.seen_hash, kind="stable")
        self.seen_hash, self.seen_number = self.seen_hash[o], self.seen_number[o]
        return out

    @property
    def store_has_records(self) -> bool:
        if not hasattr(self, "_has_records"):
            self._has_records = self.store.count(self.cls) > 0
        return self._has_records

    def _resolve(
        self,
        matches: list[tuple[int, str, _Combo]],
        items: list[str],
        geoms: np.ndarray,
        new_rows: list[list[Any]],
        new_geoms: list[Any],
        has_uid_col: bool,
    ) -> None:
        """Rows that name a record: new ones are created; stored ones updated, skipped or reported."""
        stored = self.store.existing_uids(self.cls, [u for _, u, _ in matches])
        for i, uid, combo in matches:
            row = list(combo.encoded)  # type: ignore[arg-type]
            row[self.uid_index] = uid
            if uid not in stored:
                new_rows.append(row)
                new_geoms.append(geoms[i])
                self.report.add(Change(items[i], uid, "create"))
                continue
            old = self.store.get(self.cls, uid)
            old_enc = self.lay.encode(old)
            same_geom = _wkb(getattr(old, "geometry", None)) == _wkb(geoms[i])
            same = same_geom and all(old_enc[k] == row[k] for k in self.content_index)
            item = f"{items[i]} ({uid})"
            if same:
                self.report.add(Change(items[i], uid, "unchanged", f"identical to stored version {old.version}"))
                continue
            new_date, old_date = combo.date, old.date_of_information
            if new_date is not None and new_date < old_date:
                detail = f"date_of_information {new_date} is older than the stored {old_date} (version {old.version})"
                self.report.add(Change(items[i], uid, "older", detail + "; not applied"))
                continue
            if new_date == old_date:
                self.problems.append(
                    Problem(self.src, item, "date_of_information",
                            f"differs from stored version {old.version} but has the same date_of_information: "
                            "a changed record needs the date its new information became true", str(new_date))
                )  # fmt: skip
                continue
            self.report.add(Change(items[i], uid, "update", f"newer information ({old_date} → {new_date})"))
            if self.dry_run or self.problems:
                continue
            data = self.lay.decode(row, geoms[i] if self.has_geom else None).model_dump()
            data.update(version=old.version, change_reason=f"re-imported from {self.src}")
            self.store.update(self.cls.model_validate(data), expected_version=old.version)

    def check_references(self) -> None:
        for fld, target_layer in self.cls.REFERENCES.items():
            wanted: dict[str, list[_Combo]] = {}
            for combo in self.combo_list:
                if fld in combo.refs and combo.encoded is not None:
                    wanted.setdefault(combo.refs[fld], []).append(combo)
            if not wanted:
                continue
            target = RECORD_TYPES[target_layer]
            present = self.store.existing_uids(target, sorted(wanted))
            if target is self.cls:
                present |= set(self.seen_uids) | set(self.report.created)
            for ref, combos in wanted.items():
                if ref in present:
                    continue
                for combo in combos:
                    more = f" and {combo.count - 1} more" if combo.count > 1 else ""
                    self.problems.append(
                        Problem(
                            self.src,
                            combo.first_item + more,
                            fld,
                            f"refers to {ref}, which is not in {target_layer}",
                            ref,
                        )
                    )


def _row_order(p: Problem) -> int:
    m = re.search(r"\d+", p.item)
    return int(m.group()) if m and not p.item.startswith("record") else 0


def _wkb(geom: Any) -> bytes | None:
    return None if geom is None else shapely.to_wkb(geom, byte_order=1, flavor="iso", output_dimension=2)


def _key_value(v: Any) -> Any:
    return v.value if hasattr(v, "value") else (v.isoformat() if isinstance(v, date) else v)


def import_features(
    store: Store,
    layer: str,
    path: str | Path,
    *,
    repair: bool = False,
    dry_run: bool = False,
    entered_by: str = "import",
    source_layer: str | None = None,
    mapping: FieldMapping | None = None,
    crs: str | None = None,
    coordinates: dict[str, Any] | None = None,
    list_limit: int | None = None,
) -> ImportReport:
    """Check every feature or row of a file, then write them all in one transaction (or nothing).

    ``mapping`` renames columns and values (see ``safeground.intake.mapping``);
    ``crs`` declares the CRS of a file that has none; ``coordinates`` names the
    coordinate columns of a table (``lon``/``lat``, ``easting``/``northing``/``zone``,
    ``utm_zone``, ``utm_letter``, ``mgrs``, ``x``/``y``, ``wkt``).
    Identifiers are assigned and references checked inside the same write
    transaction, so two imports running at once cannot take the same number.
    """
    if mapping is not None and mapping.layer != layer:
        raise InvalidInput(
            [
                Problem(
                    "(command line)",
                    "--mapping",
                    "layer",
                    f"mapping {mapping.name!r} is for {mapping.layer}, not {layer}",
                )
            ]
        )
    cls = record_type_for(layer)
    source = open_source(path, source_layer)
    report = ImportReport(layer=layer, source=source.name, dry_run=dry_run, list_limit=list_limit)
    try:
        with store.transaction():
            imp = _Importer(
                store, cls, source, mapping, repair=repair, dry_run=dry_run, entered_by=entered_by,
                declared_crs=crs, coordinates=coordinates or {}, report=report,
            )  # fmt: skip
            imp.run()
            imp.check_references()
            if imp.problems:
                imp.problems.sort(key=_row_order)  # in file order, as the clerk reads the file
                raise InvalidInput(
                    imp.problems, hint_text="fix the file (or use --repair where offered) and import again"
                )
    finally:
        source.close()
    return report
