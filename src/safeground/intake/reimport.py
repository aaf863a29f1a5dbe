"""Re-imports: a row finds its stored record, so importing a file again never duplicates.

A row is matched to its stored record by ``uid`` (or the mapping's ``key`` fields, or,
with neither, by being identical); a newer ``date_of_information`` updates the record (the
old version goes to history), an older one is reported and not applied, an identical one
is skipped, and a changed one with the same date is a problem (a change needs the date its
information became true). Rows of the file identical to an earlier row are duplicates.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import shapely
from pyproj import Geod

from safeground.errors import Problem
from safeground.intake.attributes import Combo
from safeground.intake.identity import row_hashes
from safeground.intake.outcome import Change, ImportReport
from safeground.model.base import Record
from safeground.model.same import same_geometry
from safeground.storage.base import Store
from safeground.storage.schema import Layout

_GEOD = Geod(ellps="WGS84")


class ReimportMatching:
    """The importer's matching of rows to stored records (a part of ``safeground.intake.features._Importer``)."""

    store: Store
    cls: type[Record]
    src: str
    lay: Layout
    report: ImportReport
    dry_run: bool
    has_geom: bool
    key: list[str]
    uid_index: int
    content_index: list[int]
    combo_list: list[Combo]
    stored_by_key: dict[tuple[Any, ...], str] | None
    stored_content: dict[int, str] | None
    seen_hash: np.ndarray
    seen_number: np.ndarray
    problems: list[Problem]

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
                self.stored_by_key[tuple(key_value(getattr(rec, k)) for k in self.key)] = rec.uid
        hashes = row_hashes(
            np.asarray(geoms, dtype=object) if self.has_geom else None, np.asarray(contents, dtype=np.int64)
        )
        self.stored_content = dict(zip(hashes.tolist(), uids, strict=True))

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


def _shown(v: Any) -> str:
    text = "(empty)" if v is None else str(v)
    return text if len(text) <= 40 else text[:37] + "…"


def key_value(v: Any) -> Any:
    """A key field's value as stored and as read compare equal: a term's value, a date in ISO."""
    return v.value if hasattr(v, "value") else (v.isoformat() if isinstance(v, date) else v)
