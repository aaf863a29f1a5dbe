"""The columns of an imported file: which becomes which record field, and their values as the model sees them.

Columns are matched to record fields by name (in any case, and through Shapefile's
10-character cut names) or through a saved field mapping (``safeground.intake.mapping``),
which also maps values (``AP`` → ``ap_blast``) and gives constants for every row. A blank
cell, NaN or a spreadsheet's empty string are all "no value".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from safeground.errors import InvalidInput, Param, Problem
from safeground.intake.locate import Locator, plan
from safeground.intake.mapping import FieldMapping
from safeground.intake.outcome import ImportReport
from safeground.intake.sources import Batch, Source
from safeground.model.base import Record


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


class ColumnMatching:
    """The importer's column matching (a part of ``safeground.intake.features._Importer``)."""

    source: Source
    src: str
    cls: type[Record]
    report: ImportReport
    known: set[str]
    has_geom: bool
    region: tuple[float, float, float, float] | None
    entered_by: str
    locator: Locator | None
    rename: dict[str, str]
    constants: dict[str, Any]
    values: dict[str, dict[str, Any]]
    date_format: str | None

    def _match_columns(
        self, mapping: FieldMapping | None, coordinates: dict[str, Any], declared_crs: str | None
    ) -> None:
        """Which source column becomes which field, and how its values are mapped.

        The mapping's columns first, then Shapefile's cut names, then fields of the same name in
        another case; the coordinate columns of a table are taken out first (``safeground.intake.locate``).
        """
        # the column renaming: mapping first, then Shapefile's cut names, then same-named fields
        rename = dict(mapping.columns) if mapping else {}
        rename.update(_untruncate([c for c in self.source.columns if c not in rename], self.known, self.report.notes))
        for c in self.source.columns:  # 'Name' in KML, 'UID' or 'Date_Of_Information' in hand-made sheets
            if c not in rename and c not in self.known and c.strip().lower() in self.known:
                rename[c] = c.strip().lower()
        self.locator = None
        if self.source.is_table and self.has_geom:
            coords = dict(mapping.coordinates) if mapping else {}
            coords.update({k: v for k, v in coordinates.items() if v is not None})
            self.locator = plan(self.source.columns, coords, declared_crs, self.src, self.region)  # type: ignore[arg-type]
            self.report.notes.extend(self.locator.notes)
        consumed = self.locator.consumed if self.locator else set()
        self.rename = {c: rename.get(c, c) for c in self.source.columns if c not in consumed}
        targets = [t for t in self.rename.values() if t in self.known]
        dup = {t for t in targets if targets.count(t) > 1}
        if dup:
            raise InvalidInput(
                [
                    Problem(
                        self.src, "row 1" if self.source.is_table else "file", t, "two source columns map to this field"
                    )
                    for t in sorted(dup)
                ]
            )
        ignored = [c for c, t in self.rename.items() if t not in self.known and c not in ("fid", "geom", "geometry")]
        if ignored:
            self.report.notes.append(f"columns not in {self.cls.LAYER} were ignored: {', '.join(ignored)}")
        self.constants = dict(mapping.constants) if mapping else {}
        self.values = {
            k: {str(a).strip().casefold(): b for a, b in v.items()}
            for k, v in (mapping.values if mapping else {}).items()
        }
        self.date_format = mapping.date_format if mapping else None

    def _key_columns(self, key: list[str]) -> list[str]:
        """The source columns of the fields (or columns) that identify a record."""
        out = []
        for k in key:
            src = [c for c, t in self.rename.items() if t == k] or ([k] if k in self.source.columns else [])
            if not src:
                raise InvalidInput(
                    [Problem(self.src, "file", k, f"{Param('key')} names a field or column the file does not have", k)],
                    hint_text="columns of the file: " + ", ".join(self.source.columns[:40]),
                )
            out.append(src[0])
        return out

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

    def _uids(self, batch: Batch) -> list[str | None]:
        source = [c for c, t in self.rename.items() if t == "uid" and c in batch.frame.columns]
        if not source:
            return [None] * len(batch.frame)
        col = batch.frame[source[0]].astype(object)
        return [None if (u := _clean(v)) is None else str(u).strip() for v in col.tolist()]
