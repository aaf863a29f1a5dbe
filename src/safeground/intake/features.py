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

The steps live in their own modules, joined in one importer here: ``safeground.intake.columns``
(which column is which field), ``safeground.intake.attributes`` (values checked once per
combination), ``safeground.intake.geometry_checks`` and ``safeground.intake.reimport``
(a row finds its stored record).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import sqlalchemy.exc

from safeground.errors import InvalidInput, Param, Problem, SafeGroundError
from safeground.intake.attributes import ROWS_LISTED, AttributeChecks, Combo, item_number
from safeground.intake.geometry_checks import GeometryChecks
from safeground.intake.identity import key_hashes, row_hashes
from safeground.intake.mapping import FieldMapping
from safeground.intake.measured import Measured
from safeground.intake.outcome import Change, ImportReport
from safeground.intake.quarantine import LeftOut, kind_of
from safeground.intake.reimport import ReimportMatching, key_value
from safeground.intake.sources import Batch, Source, ToWGS84, open_source
from safeground.model.base import Record, record_type
from safeground.storage.base import RowBatch, Store, format_uid, generated_number
from safeground.storage.schema import Layout, layout_of

#: fields that say who/when/which version, not what: two rows differing only here are the same information
_BOOKKEEPING = ("uid", "version", "entered_at", "entered_by", "change_reason")
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")


_PLACEHOLDER = {
    "POINT": shapely.Point(0, 0),
    "POLYGON": shapely.box(0, 0, 0.001, 0.001),
    "MULTIPOLYGON": shapely.MultiPolygon([shapely.box(0, 0, 0.001, 0.001)]),
    "MULTILINESTRING": shapely.MultiLineString([[(0, 0), (0.001, 0.001)]]),
}


class _Importer(AttributeChecks, GeometryChecks, ReimportMatching):
    """One import of one file into one layer: the state the steps share, and the batch loop that joins them."""

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
        self.combo_list: list[Combo] = []
        self.seen_uids: dict[str, str] = {}
        self.seen_hash = np.empty(0, dtype=np.int64)
        self.seen_number = np.empty(0, dtype=np.int64)
        self.next_no = store.max_uid_number(cls)
        self.generated_to = 0  # the highest number generated by this import so far
        self.dropped: dict[str, int] = {}  # Z/M values dropped: how many features
        self.dropped_first: dict[str, str] = {}
        self.to_wgs84 = ToWGS84(source, declared_crs, report.notes)
        self.has_geom = cls.GEOMETRY is not None
        self._match_columns(mapping, coordinates, declared_crs)
        self.attr_cols = [c for c in self.lay.column_names if c not in ("uid",)]
        self.key = list(mapping.key) if mapping else []
        self.dup_key = self._key_columns(key or self.key)
        if key and all(k in self.known for k in key):
            self.key = list(key)  # fields the store keeps: re-imports find their record by them too
        self.stored_by_key: dict[tuple[Any, ...], str] | None = None
        self.stored_content: dict[int, str] | None = None
        self.placeholder = _PLACEHOLDER.get(cls.GEOMETRY or "", shapely.Point(0, 0))

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
                if len(combo.bad_items) < ROWS_LISTED:
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
                        kv = tuple(key_value(encoded[self.lay.column_names.index(k)]) for k in self.key)  # type: ignore[index]
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


class _Encoded:
    """The stored column values of each combination, as ``RowBatch.combos`` (a live view: it grows)."""

    def __init__(self, combos: list[Combo]) -> None:
        self._combos = combos

    def __len__(self) -> int:
        return len(self._combos)

    def __getitem__(self, k: int) -> list[Any]:
        return self._combos[k].encoded  # type: ignore[return-value]


def _row_order(p: Problem) -> int:
    return 0 if p.item.startswith("record") else item_number(p.item)


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
                    str(Param("mapping")),
                    "layer",
                    f"mapping {mapping.name!r} is for {mapping.layer}, not {layer}",
                )
            ]
        )
    cls = record_type(layer)
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
                    imp.problems, hint_text=f"fix the file (or use {Param('repair')} where offered) and import again"
                )
            if not dry_run:
                for k, v in (meta or {}).items():
                    if store.get_meta(k) != v:
                        store.set_meta(k, v)
    finally:
        source.close()
    return report
