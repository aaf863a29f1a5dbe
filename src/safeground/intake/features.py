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
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
import sqlalchemy.exc
from pydantic import ValidationError
from pyproj import Geod

from safeground.errors import InvalidInput, Problem, SafeGroundError
from safeground.geometry.validate import check_geometry, repair_geometry, same_geometry
from safeground.intake.identity import key_hashes, row_hashes
from safeground.intake.locate import Locator, locate, plan
from safeground.intake.mapping import FieldMapping
from safeground.intake.measured import Measured, fill_measured
from safeground.intake.outcome import Change, ImportReport
from safeground.intake.quarantine import LeftOut, kind_of
from safeground.intake.sources import Batch, Source, ToWGS84, open_source
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.base import RowBatch, Store, format_uid, generated_number
from safeground.storage.schema import Layout, layout_of

#: fields that say who/when/which version, not what: two rows differing only here are the same information
_BOOKKEEPING = ("uid", "version", "entered_at", "entered_by", "change_reason")
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")


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
    bad_rows: int = 0  # rows of this combination that were read with it (for the problem list)
    bad_items: list[str] = field(default_factory=list)  # the first few of them


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
        skip_invalid: bool = False,
        key: list[str] | None = None,
    ) -> None:
        self.store, self.cls, self.source, self.mapping = store, cls, source, mapping
        self.skip = skip_invalid
        self.refs_checked = 0  # combinations before this one had their references checked (--skip-invalid)
        self.measured = Measured()
        self.repair, self.dry_run, self.report = repair, dry_run, report
        self.src = source.name
        self.lay: Layout = layout_of(cls)
        self.known = {c.name for c in self.lay.columns}
        self.json_cols = {c.name for c in self.lay.columns if c.kind == "json"}
        self.date_cols = {c.name for c in self.lay.columns if c.kind == "date"}
        self.uid_index = self.lay.column_names.index("uid")
        self.content_index = [i for i, c in enumerate(self.lay.columns) if c.name not in _BOOKKEEPING]
        self.problems: list[Problem] = []
        self.bad_values = False
        self.entered_by = entered_by
        self.entered_at = datetime.now(UTC).replace(microsecond=0)
        self.region = store.area_of_interest()
        self.combo_ids: dict[tuple[Any, ...], int] = {}
        self.combo_list: list[_Combo] = []
        self.seen_uids: dict[str, str] = {}
        self.seen_hash = np.empty(0, dtype=np.int64)
        self.seen_number = np.empty(0, dtype=np.int64)
        self.next_no = store.max_uid_number(cls)
        self.generated_to = 0  # the highest number generated by this import so far
        self.dropped: dict[str, int] = {}  # Z/M values dropped: how many features
        self.dropped_first: dict[str, str] = {}
        self.to_wgs84 = ToWGS84(source, declared_crs, report.notes)
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
            report.notes.extend(self.locator.notes)
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
        self.dup_key = self._key_columns(key or self.key)
        if key and all(k in self.known for k in key):
            self.key = list(key)  # fields the store keeps: re-imports find their record by them too
        self.stored_by_key: dict[tuple[Any, ...], str] | None = None
        self.stored_content: dict[int, str] | None = None
        self.placeholder = _PLACEHOLDER.get(cls.GEOMETRY or "", shapely.Point(0, 0))

    def _key_columns(self, key: list[str]) -> list[str]:
        """The source columns of the fields (or columns) that identify a record."""
        out = []
        for k in key:
            src = [c for c, t in self.rename.items() if t == k] or ([k] if k in self.source.columns else [])
            if not src:
                raise InvalidInput(
                    [Problem(self.src, "file", k, "--key names a field or column the file does not have", k)],
                    hint_text="columns of the file: " + ", ".join(self.source.columns[:40]),
                )
            out.append(src[0])
        return out

    # -- attribute columns ----------------------------------------------------------
    def _tidy(self, column: str, value: Any) -> Any:
        """One source value as the model will see it: blanks empty, constants filled, values mapped."""
        value = _clean(value)
        if value is None and column in self.constants:
            value = self.constants[column]
        if value is not None and column in self.values:
            value = self.values[column].get(str(value).strip().casefold(), value)
        if value is None and column == "entered_by":
            value = self.entered_by
        return value

    def _attributes(self, batch: Batch, named: list[str], geoms: np.ndarray, good: np.ndarray) -> np.ndarray:
        """Per row, the id of its combination of attribute values (``combo_list``), new ones validated.

        Each column is factorised first, so cleaning and value mapping run once per
        distinct value, and rows are only ever handled as integer codes.
        """
        frame = batch.frame.rename(columns=self.rename)
        frame = frame.loc[:, [c for c in frame.columns if c in self.known]]
        frame = frame.loc[:, ~frame.columns.duplicated()]
        frame = fill_measured(self.cls.LAYER, frame, geoms, good, self.measured)
        n = len(frame)
        codes_of: list[np.ndarray] = []
        values_of: list[list[Any]] = []
        for c in self.attr_cols:
            if c in frame.columns:
                raw_codes, uniques = pd.factorize(frame[c], use_na_sentinel=True)
                raw = [*uniques.tolist(), None]  # the last one stands for missing cells
                raw_codes = np.where(raw_codes < 0, len(raw) - 1, raw_codes)
            else:
                raw, raw_codes = [None], np.zeros(n, dtype=np.int64)
            # two source values may become one ('' and missing, 'Yes' and 'yes' mapped alike)
            tidy: dict[Any, int] = {}
            values: list[Any] = []
            remap = np.empty(len(raw), dtype=np.int64)
            for k, v in enumerate(raw):
                t = self._tidy(c, v)
                key = (type(t), t)
                if key not in tidy:
                    tidy[key] = len(values)
                    values.append(t)
                remap[k] = tidy[key]
            codes_of.append(remap[raw_codes])
            values_of.append(values)
        combined = np.zeros(n, dtype=np.int64)
        card = 1
        for codes, values in zip(codes_of, values_of, strict=True):
            if card * len(values) >= 1 << 62:  # renumber what is distinct so far before it overflows
                _, combined = np.unique(combined, return_inverse=True)
                card = int(combined.max()) + 1
            combined = combined * len(values) + codes
            card *= len(values)
        _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
        ids = np.empty(len(first), dtype=np.int64)
        # the combinations as tuples, built column by column (one list per column, then zipped)
        columns = [
            [values[c] for c in codes[first].tolist()] for codes, values in zip(codes_of, values_of, strict=True)
        ]
        for j, (r, combo) in enumerate(zip(first.tolist(), zip(*columns, strict=True), strict=True)):
            cid = self.combo_ids.get(combo)
            if cid is None:
                cid = self.combo_ids[combo] = len(self.combo_list)
                self.combo_list.append(self._combo(combo, named[r]))
            ids[j] = cid
        cids = ids[inverse.reshape(-1)]
        counts = np.bincount(cids, minlength=len(self.combo_list))
        for at in np.flatnonzero(counts).tolist():
            self.combo_list[at].count += int(counts[at])
        return cids

    def _uids(self, batch: Batch) -> list[str | None]:
        source = [c for c, t in self.rename.items() if t == "uid" and c in batch.frame.columns]
        if not source:
            return [None] * len(batch.frame)
        col = batch.frame[source[0]].astype(object)
        return [None if (u := _clean(v)) is None else str(u).strip() for v in col.tolist()]

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
                    try:  # a mapping's constants are written in ISO (2024-05-01), whatever the file's form
                        trial[c] = date.fromisoformat(v.strip())
                    except ValueError:
                        errors.append((c, f"not a date in the form {self.date_format}", trial.pop(c)))
        trial.setdefault("entered_at", self.entered_at)
        trial["uid"] = "X"
        if self.has_geom:
            trial["geometry"] = self.placeholder
        encoded = None
        rec = None
        try:
            # the geometry here is a placeholder: the real one is checked row by row in _geometry
            rec = self.cls.model_validate(trial, context={"geometry_checked": True})
        except ValidationError as exc:
            for err in exc.errors():
                fld = ".".join(str(p) for p in err["loc"]) or "record"
                shown = err.get("input") if err["loc"] and err["type"] != "missing" else None
                errors.append((fld, err["msg"] if err["type"] != "missing" else _missing(fld), shown))
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
            self._note_dropped_dimensions(geoms, items)
            geoms = self.to_wgs84(geoms)
        good = np.array([g is not None for g in geoms], dtype=bool)
        expected = self.cls.GEOMETRY or "GEOMETRY"
        if expected == "POINT":
            fast = good.copy()
            # an empty point (GDAL reads [46.75, NaN] as POINT EMPTY) has no coordinates: the slow path names it
            fast[good] = (shapely.get_type_id(geoms[good]) == 0) & ~shapely.is_empty(geoms[good])
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

    def _note_dropped_dimensions(self, geoms: np.ndarray, items: list[str]) -> None:
        """Heights (Z) and measures (M) are not stored (positions are 2D): say so, once per import."""
        present = np.flatnonzero([g is not None for g in geoms])
        if not len(present):
            return
        for kind, test, what in (("Z", shapely.has_z, "heights"), ("M", shapely.has_m, "measures")):
            has = present[test(geoms[present])]
            if len(has):
                self.dropped[kind] = self.dropped.get(kind, 0) + len(has)
                first = self.dropped_first.setdefault(kind, items[int(has[0])])
                note = f"{what} ({kind} values) are not stored, SafeGround keeps 2D positions: dropped from "
                self.report.notes[:] = [x for x in self.report.notes if not x.startswith(note)]
                self.report.notes.append(note + f"{self.dropped[kind]} feature(s), the first {first}")

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

    # -- identity -------------------------------------------------------------------
    def _load_stored(self) -> None:
        """What is already stored, for matching rows without a uid (only when the layer has records)."""
        if self.stored_content is not None:
            return
        self.stored_content, self.stored_by_key = {}, {}
        if self.store.count(self.cls) == 0:
            return
        uids: list[str] = []
        contents: list[int] = []
        geoms: list[Any] = []
        for rec in self.store.find(self.cls):
            enc = self.lay.encode(rec)
            uids.append(rec.uid)
            contents.append(hash(tuple(enc[i] for i in self.content_index)))
            geoms.append(getattr(rec, "geometry", None))
            if self.key:
                self.stored_by_key[tuple(_key_value(getattr(rec, k)) for k in self.key)] = rec.uid
        hashes = row_hashes(
            np.asarray(geoms, dtype=object) if self.has_geom else None, np.asarray(contents, dtype=np.int64)
        )
        self.stored_content = dict(zip(hashes.tolist(), uids, strict=True))

    def run(self) -> None:
        """Read, check and (unless a dry run) write every batch; problems are collected, not raised."""
        batches = self._prepared()
        if self.dry_run:
            for _ in batches:
                pass
        else:
            self.store.insert_stream(self.lay, batches)

    def _prepared(self) -> Iterator[RowBatch]:
        """Per batch: the new rows to insert; updates of stored records are applied on the way."""
        item_word = "row" if self.source.is_table else "feature"
        contents = np.empty(0, dtype=np.int64)
        for batch in self.source.batches():
            self.report.notes.extend(n for n in self.source.notes if n not in self.report.notes)
            items = batch.items
            n = len(items)
            if n == 0:
                continue
            uids = self._uids(batch)
            named = [it if u is None else f"{it} ({u})" for it, u in zip(items, uids, strict=True)]
            start = len(self.problems)
            geoms, good = self._geometry(batch, named)
            cids = self._attributes(batch, named, geoms, good)
            if self.skip:
                self._references_now(cids)
            combo_bad = np.array([bool(c.errors) for c in self.combo_list], dtype=bool)
            bad = ~good | combo_bad[cids]
            for i in np.flatnonzero(combo_bad[cids]).tolist():
                self.bad_values |= not self.skip  # listed at the end (value_problems), one line per bad value
                combo = self.combo_list[cids[i]]
                combo.bad_rows += 1
                if len(combo.bad_items) < _LISTED:
                    combo.bad_items.append(named[i])
            has_uid = np.array([u is not None for u in uids], dtype=bool)
            matches: list[tuple[int, str, int]] = []
            for i in np.flatnonzero(has_uid).tolist():
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
                elif (k := generated_number(self.cls.UID_PREFIX, uid)) is not None and k <= self.generated_to:  # type: ignore[arg-type]
                    self.problems.append(  # a number this import already gave to a row without identifier
                        Problem(self.src, named[i], "uid", "same identifier as one generated for a row earlier in "
                                "the file without identifier: give every row its uid, or none", uid)
                    )  # fmt: skip
                    bad[i] = True
                else:
                    self.seen_uids[uid] = items[i]  # type: ignore[index]
                    if not bad[i]:
                        matches.append((i, uid, int(cids[i])))  # type: ignore[arg-type]
            # rows without an identifier: a second identical row is a duplicate, an identical stored one is skipped
            anon = np.flatnonzero(~has_uid & ~bad)
            if len(contents) < len(self.combo_list):
                contents = np.fromiter((c.content for c in self.combo_list), dtype=np.int64, count=len(self.combo_list))
            hashes = row_hashes(geoms[anon] if self.has_geom else None, contents[cids[anon]])
            same_as = "same place and values"
            if self.dup_key:
                kh, no_key = key_hashes(batch.frame.iloc[anon], self.dup_key)
                dup_of = self._duplicates(np.where(no_key, hashes, kh), batch.item_numbers()[anon])
                same_as = "same " + ", ".join(self.dup_key)
            else:
                dup_of = self._duplicates(hashes, batch.item_numbers()[anon])
            for j in np.flatnonzero(dup_of >= 0).tolist():
                self.problems.append(
                    Problem(self.src, named[anon[j]], "(all)", f"duplicate of {item_word} {dup_of[j]}: {same_as}")
                )
            fresh = anon[dup_of < 0]
            create: list[int]
            if self.key or self.store_has_records:
                self._load_stored()
                lookup = dict(zip(anon.tolist(), hashes.tolist(), strict=True))
                create = []
                for i in fresh.tolist():
                    if self.key:
                        encoded = self.combo_list[cids[i]].encoded
                        kv = tuple(_key_value(encoded[self.lay.column_names.index(k)]) for k in self.key)  # type: ignore[index]
                        stored_uid = self.stored_by_key.get(kv)  # type: ignore[union-attr]
                        if stored_uid is not None:
                            matches.append((i, stored_uid, int(cids[i])))
                            continue
                    same = self.stored_content.get(lookup[i])  # type: ignore[union-attr]
                    if same is not None:
                        self.report.add(Change(items[i], same, "unchanged", "identical to the stored record"))
                        continue
                    create.append(i)
            else:
                create = fresh.tolist()
            # generated numbers go after those the file gives itself, so the two never collide
            given = [generated_number(self.cls.UID_PREFIX, u) for u in uids if u is not None]
            self.next_no = max([self.next_no, *(k for k in given if k is not None)])
            numbers = np.arange(self.next_no + 1, self.next_no + 1 + len(create), dtype=np.int64)
            self.next_no += len(create)
            if create:
                self.generated_to = self.next_no
            listed = len(create) if (room := self.report.room("create")) is None else min(room, len(create))
            self.report.add_many(
                "create",
                [items[i] for i in create[:listed]],
                [format_uid(self.cls.UID_PREFIX, k) for k in numbers[:listed].tolist()],
                len(create),
            )
            batches = []
            if create:
                rows = np.asarray(create, dtype=np.int64)
                batches.append(
                    RowBatch(
                        _Encoded(self.combo_list), cids[rows], None, geoms[rows] if self.has_geom else None,
                        self.uid_index, numbers, self.cls.UID_PREFIX,
                    )
                )  # fmt: skip
            if matches and (more := self._resolve(matches, items, geoms)):
                rows = np.asarray([i for i, _ in more], dtype=np.int64)
                batches.append(RowBatch(_Encoded(self.combo_list), cids[rows], [u for _, u in more],
                                        geoms[rows] if self.has_geom else None, self.uid_index))  # fmt: skip
            if self.skip:
                self._leave_out(batch, named, bad, cids, start)
            if not self.problems and not self.bad_values:
                yield from batches

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
        keep = np.flatnonzero(out < 0)
        # merged into the sorted arrays (linear), rather than sorting everything seen again each batch
        new_order = keep[np.argsort(hashes[keep], kind="stable")]
        at = np.searchsorted(self.seen_hash, hashes[new_order], side="right")
        self.seen_hash = np.insert(self.seen_hash, at, hashes[new_order])
        self.seen_number = np.insert(self.seen_number, at, numbers[new_order])
        return out

    @property
    def store_has_records(self) -> bool:
        if not hasattr(self, "_has_records"):
            self._has_records = self.store.count(self.cls) > 0
        return self._has_records

    def _resolve(
        self, matches: list[tuple[int, str, int]], items: list[str], geoms: np.ndarray
    ) -> list[tuple[int, str]]:
        """Rows that name a record: stored ones are updated, skipped or reported; the new ones are returned."""
        stored = self.store.existing_uids(self.cls, [u for _, u, _ in matches])
        new: list[tuple[int, str]] = []
        for i, uid, cid in matches:
            combo = self.combo_list[cid]
            row = list(combo.encoded)  # type: ignore[arg-type]
            row[self.uid_index] = uid
            if uid not in stored:
                new.append((i, uid))
                self.report.add(Change(items[i], uid, "create"))
                continue
            old = self.store.get(self.cls, uid)
            old_enc = self.lay.encode(old)
            diff = self._differences(old_enc, row, getattr(old, "geometry", None), geoms[i])
            same = not diff
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
                            f"differs from stored version {old.version} ({'; '.join(diff)}) but has the same "
                            "date_of_information: a changed record needs the date its new information became true",
                            str(new_date))
                )  # fmt: skip
                continue
            self.report.add(
                Change(items[i], uid, "update", f"newer information ({old_date} → {new_date}): {'; '.join(diff)}")
            )
            if self.dry_run or self.problems:
                continue
            data = self.lay.decode(row, geoms[i] if self.has_geom else None).model_dump()
            data.update(version=old.version, change_reason=f"re-imported from {self.src}")
            self.store.update(self.cls.model_validate(data), expected_version=old.version)
        return new

    def _differences(self, old: list[Any], new: list[Any], old_geom: Any, new_geom: Any) -> list[str]:
        """What a row changes in its stored record, field by field, as a clerk would check it.

        Geometry is compared with ``same_geometry`` (within about 1 mm): formats such as
        KML write coordinates with fewer digits than they were stored with.
        """
        out = []
        for k in self.content_index:
            name = self.lay.column_names[k]
            if name == "date_of_information" or old[k] == new[k]:
                continue
            out.append(f"{name} {_shown(old[k])} → {_shown(new[k])}")
        if self.has_geom and old_geom is not None and new_geom is not None:
            if not same_geometry(old_geom, new_geom):
                a, b = shapely.centroid(old_geom), shapely.centroid(new_geom)
                moved = _GEOD.inv(a.x, a.y, b.x, b.y)[2]
                out.append(f"geometry moved {moved:.1f} m" if moved >= 0.05 else "geometry reshaped")
        elif self.has_geom and (old_geom is None) != (new_geom is None):
            out.append("geometry added" if old_geom is None else "geometry removed")
        return out

    def _leave_out(self, batch: Batch, named: list[str], bad: np.ndarray, cids: np.ndarray, start: int) -> None:
        """With --skip-invalid: the rows of this batch that had a problem go to the left-out list, not the error.

        A problem that names no row (the file, a column) still refuses the file.
        """
        row_of = {name: i for i, name in enumerate(named)}
        reasons: dict[int, list[Problem]] = {}
        kept: list[Problem] = []
        for p in self.problems[start:]:
            i = row_of.get(p.item)
            if i is None:
                kept.append(p)
            else:
                reasons.setdefault(i, []).append(p)
        for i in np.flatnonzero(bad).tolist():
            if i not in reasons:
                combo = self.combo_list[cids[i]]
                reasons[i] = [Problem(self.src, named[i], f, m, v) for f, m, v in combo.errors] or [
                    Problem(self.src, named[i], "(all)", "left out")
                ]
        del self.problems[start:]
        self.problems += kept
        rows = sorted(reasons)
        self.report.left_out.add(batch.frame, batch.geometry, rows, [reasons[i] for i in rows])

    def value_problems(self) -> None:
        """One problem per bad value, naming the rows that hold it (the first few, then how many).

        A missing column or a misspelt term is the same mistake in every row: a clerk
        with 3,000 rows needs it once, with where it is, not 3,000 times.
        """
        grouped: dict[tuple[str, str, str], tuple[list[str], int, Any]] = {}
        for combo in self.combo_list:
            if not combo.bad_rows:
                continue
            for fld, msg, val in combo.errors:
                key = (fld, msg, repr(val))
                items, n, _ = grouped.get(key, ([], 0, val))
                grouped[key] = (items + combo.bad_items, n + combo.bad_rows, val)
        for (fld, msg, _), (items, n, val) in grouped.items():
            # the first rows of the file: each is among the first few of its own combination
            items = sorted(items, key=_item_number)[:_LISTED]
            more = n - len(items)
            where = ", ".join(items) + (f" and {more:,} more" if more else "")
            self.problems.append(Problem(self.src, where, fld, msg, val))

    def _references_now(self, cids: np.ndarray) -> None:
        """With --skip-invalid: a row that refers to a record the store lacks is left out, not the file.

        Checked per batch for the combinations not seen before (a reference to the layer
        being imported is left to ``check_references`` at the end)."""
        fresh = [c for c in np.unique(cids).tolist() if c >= self.refs_checked]
        self.refs_checked = max(self.refs_checked, len(self.combo_list))
        for fld, target_layer in self.cls.REFERENCES.items():
            target = RECORD_TYPES[target_layer]
            if target is self.cls:
                continue
            wanted = {self.combo_list[c].refs[fld] for c in fresh if fld in self.combo_list[c].refs}
            present = self.store.existing_uids(target, sorted(wanted)) if wanted else set()
            for c in fresh:
                combo = self.combo_list[c]
                ref = combo.refs.get(fld)
                if ref is not None and ref not in present:
                    combo.errors.append((fld, f"refers to {ref}, which is not in {target_layer}", ref))
                    combo.encoded = None

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


class _Encoded:
    """The stored column values of each combination, as ``RowBatch.combos`` (a live view: it grows)."""

    def __init__(self, combos: list[_Combo]) -> None:
        self._combos = combos

    def __len__(self) -> int:
        return len(self._combos)

    def __getitem__(self, k: int) -> list[Any]:
        return self._combos[k].encoded  # type: ignore[return-value]


def _item_number(item: str) -> int:
    m = re.search(r"\d+", item)
    return int(m.group()) if m else 0


def _row_order(p: Problem) -> int:
    return 0 if p.item.startswith("record") else _item_number(p.item)


_GEOD = Geod(ellps="WGS84")
#: rows named in a problem that many rows share
_LISTED = 5


def _missing(fld: str) -> str:
    """A required field with no value: the column is absent, or its cells are empty."""
    return (
        "missing: the column is absent or empty; name the source column in the mapping's columns "
        f"or, when one value holds for every row, give it in the mapping's constants (e.g. constants: {{{fld}: …}})"
    )


def _shown(v: Any) -> str:
    text = "(empty)" if v is None else str(v)
    return text if len(text) <= 40 else text[:37] + "…"


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
    skip_invalid: bool = False,
    quarantine: bool = False,
    key: list[str] | None = None,
    meta: dict[str, str] | None = None,
) -> ImportReport:
    """Check every feature or row of a file, then write them all in one transaction (or nothing).

    ``mapping`` renames columns and values (see ``safeground.intake.mapping``);
    ``crs`` declares the CRS of a file that has none; ``coordinates`` names the
    coordinate columns of a table (``lon``/``lat``, ``easting``/``northing``/``zone``,
    ``utm_zone``, ``utm_letter``, ``mgrs``, ``x``/``y``, ``wkt``).
    Identifiers are assigned and references checked inside the same write
    transaction, so two imports running at once cannot take the same number.

    ``skip_invalid`` imports the good rows and leaves out (in ``report.left_out``,
    with every reason) the rows that have a problem of their own: no or empty
    geometry, a duplicate, a bad value; a problem of the whole file still refuses
    it, and so does a file of which every row would be left out. ``quarantine``
    also keeps the left-out rows themselves, to be written to a file.
    ``key`` names the fields or source columns that identify a record: rows are
    duplicates only when their key is the same. ``meta`` is store metadata written in
    the same transaction (e.g. that the store now holds imported data), so an import
    that committed cannot fail afterwards on a second write.
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
    report.left_out = LeftOut(keep_rows=quarantine)
    skip_invalid = skip_invalid or quarantine
    try:
        with store.transaction():
            imp = _Importer(
                store, cls, source, mapping, repair=repair, dry_run=dry_run, entered_by=entered_by,
                declared_crs=crs, coordinates=coordinates or {}, report=report, skip_invalid=skip_invalid, key=key,
            )  # fmt: skip
            try:
                imp.run()
            except (sqlite3.IntegrityError, sqlalchemy.exc.IntegrityError) as exc:
                if "NOT NULL" not in str(exc).upper() and "null value" not in str(exc):
                    raise
                raise SafeGroundError(
                    f"the store was made by an older SafeGround: its {layer} cannot hold an empty value yet "
                    f"({str(exc).splitlines()[0][:160]})",
                    hint=f"upgrade it (every record is kept): safeground db upgrade --store {store.location}",
                ) from None
            if not skip_invalid:
                imp.value_problems()
            elif report.left_out.items and not sum(report.counts.values()):
                # every row left out: the file is wrong as a whole (a column missing), not a few rows
                imp.value_problems()
                imp.problems += [p for p in report.left_out.problems if kind_of(p) != "invalid values"]
            imp.check_references()
            if (note := imp.measured.note()) is not None:
                report.notes.append(note)
            if imp.problems:
                imp.problems.sort(key=_row_order)  # in file order, as the clerk reads the file
                raise InvalidInput(
                    imp.problems, hint_text="fix the file (or use --repair where offered) and import again"
                )
            if not dry_run:
                for k, v in (meta or {}).items():
                    if store.get_meta(k) != v:
                        store.set_meta(k, v)
    finally:
        source.close()
    return report
