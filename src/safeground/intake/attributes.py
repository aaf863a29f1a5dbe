"""Attribute checks of an import: each distinct combination of values validated once against the model.

A million recorded mines share a few dozen combinations of attribute values, so each
column is factorised and the record model is validated once per combination, with a
placeholder geometry (the real one is checked row by row in ``safeground.intake.geometry_checks``).
A bad value is reported once, naming the first rows that hold it and how many more; a
reference to a record the store lacks is a problem of the rows that make it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from safeground.errors import Problem
from safeground.intake.columns import ColumnMatching
from safeground.intake.measured import Measured, fill_measured
from safeground.intake.sources import Batch
from safeground.model.base import RECORD_TYPES
from safeground.storage.base import Store
from safeground.storage.schema import Layout

#: rows named in a problem that many rows share
ROWS_LISTED = 5


@dataclass
class Combo:
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


class AttributeChecks(ColumnMatching):
    """The importer's attribute checks (a part of ``safeground.intake.features._Importer``).

    It reads the columns as ``ColumnMatching`` renamed and tidied them.
    """

    store: Store
    lay: Layout
    measured: Measured
    attr_cols: list[str]
    json_cols: set[str]
    date_cols: set[str]
    entered_at: datetime
    placeholder: Any
    content_index: list[int]
    combo_ids: dict[tuple[Any, ...], int]
    combo_list: list[Combo]
    refs_checked: int
    seen_uids: dict[str, str]
    problems: list[Problem]

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
                raw_codes, uniques = pd.factorize(_hashable(frame[c]), use_na_sentinel=True)
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
            [values[at] for at in codes[first].tolist()] for codes, values in zip(codes_of, values_of, strict=True)
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

    def _combo(self, key: tuple[Any, ...], item: str) -> Combo:
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
        return Combo(encoded, errors, content, getattr(rec, "date_of_information", None), item, 0, refs)

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
            items = sorted(items, key=item_number)[:ROWS_LISTED]
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
            wanted: dict[str, list[Combo]] = {}
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


def item_number(item: str) -> int:
    """The number in "row 12" / "feature 3 (HA-00001)", to list problems in file order."""
    m = re.search(r"\d+", item)
    return int(m.group()) if m else 0


def _missing(fld: str) -> str:
    """A required field with no value: the column is absent, or its cells are empty."""
    return (
        "missing: the column is absent or empty; name the source column in the mapping's columns "
        f"or, when one value holds for every row, give it in the mapping's constants (e.g. constants: {{{fld}: …}})"
    )


def _hashable(col: pd.Series) -> pd.Series:
    """A list cell (GDAL reads a GeoJSON array of strings as a string list) as the JSON text a CSV holds."""
    if col.dtype != object or not col.map(lambda v: isinstance(v, list | np.ndarray)).any():
        return col
    return col.map(
        lambda v: json.dumps(v.tolist() if isinstance(v, np.ndarray) else v) if isinstance(v, list | np.ndarray) else v
    )
