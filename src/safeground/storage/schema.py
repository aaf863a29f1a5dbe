"""Derive table layouts from the domain model, so stores never drift from it.

Scalars become real typed columns (a GIS user can filter on ``status`` in QGIS);
nested lists and objects (evidence, status history, mine rows) become JSON text
columns that round-trip through the model's own validation.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from pydantic import ValidationError

from safeground.model.base import Record

#: logical column kinds → GeoPackage declared types
GPKG_TYPES = {
    "text": "TEXT",
    "integer": "INTEGER",
    "real": "REAL",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "datetime": "DATETIME",
    "json": "TEXT",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # one of GPKG_TYPES
    nullable: bool
    restricted: bool


@dataclass(frozen=True)
class Layout:
    """The storage layout of one record type."""

    record_type: type[Record]
    table: str
    geometry_type: str | None
    columns: tuple[Column, ...]

    @property
    def history_table(self) -> str:
        return f"{self.table}_history"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def require_columns(self, columns: Any) -> None:
        """Refuse a column list naming a column this layer does not have (a chunked or versions read names
        its columns, and a typo must not read as an empty column)."""
        unknown = [c for c in columns if c not in self.column_names]
        if unknown:
            raise ValueError(f"{self.table} has no column(s) {unknown}")

    def column_sql(self, types: dict[str, str], quote: Any) -> list[str]:
        """Column definitions (name, backend type, NOT NULL) shared by every backend's DDL."""
        return [f"{quote(c.name)} {types[c.kind]}{'' if c.nullable else ' NOT NULL'}" for c in self.columns]

    def encode(self, record: Record) -> list[Any]:
        """Column values in ``columns`` order, without the geometry."""
        data = record.model_dump(mode="json", exclude={"geometry"})
        out: list[Any] = []
        for c in self.columns:
            v = data.get(c.name)
            if v is not None and c.kind == "json":
                v = json.dumps(v, ensure_ascii=False, sort_keys=True)
            elif v is not None and c.kind == "boolean":
                v = int(v)
            out.append(v)
        return out

    def decode(self, values: typing.Sequence[Any], geometry: Any = None) -> Record:
        data: dict[str, Any] = {}
        for c, v in zip(self.columns, values, strict=True):
            if v is None:
                continue
            if c.kind == "json":
                v = json.loads(v)
            elif c.kind == "boolean":
                v = bool(v)
            data[c.name] = v
        if self.geometry_type is not None:
            data["geometry"] = geometry
        # what is stored is read back as it is: a vertex added by hand in QGIS must
        # not make a record unreadable (geometry rules apply to writes)
        try:
            return self.record_type.model_validate(data, context={"from_store": True})
        except ValidationError as exc:
            raise _unreadable(self.table, data, exc) from None


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], nullable
        return annotation, nullable
    return annotation, False


def _kind(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return "text"
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return "boolean"
        if issubclass(annotation, Enum) or issubclass(annotation, str):
            return "text"
        if issubclass(annotation, int):
            return "integer"
        if issubclass(annotation, float):
            return "real"
        if issubclass(annotation, dt.datetime):
            return "datetime"
        if issubclass(annotation, dt.date):
            return "date"
    return "json"


@cache
def layout_of(record_type: type[Record]) -> Layout:
    cols: list[Column] = []
    restricted = record_type.restricted_fields()
    for name, info in record_type.model_fields.items():
        if name == "geometry":
            continue
        ann, nullable = _unwrap_optional(info.annotation)
        cols.append(
            Column(
                name=name,
                kind=_kind(ann),
                nullable=nullable or not info.is_required(),
                restricted=name in restricted,
            )
        )
    return Layout(
        record_type=record_type,
        table=record_type.LAYER,
        geometry_type=record_type.GEOMETRY,
        columns=tuple(cols),
    )


def _unreadable(table: str, data: dict[str, Any], exc: ValidationError) -> Exception:
    """A stored row the model refuses: edited by another program (QGIS, SQL) into something SafeGround
    never writes. Name the record and the field, so it can be corrected there, instead of a traceback."""
    from safeground.errors import StoreUnavailable

    first = exc.errors()[0]
    field = ".".join(map(str, first["loc"])) or "(record)"
    by = data.get("entered_by") or "unknown"
    return StoreUnavailable(
        f"{table} {data.get('uid', '?')} (version {data.get('version', '?')}, entered by {by}) is stored in a form "
        f"SafeGround cannot read: {field}: {first['msg']}; it was probably edited outside SafeGround",
        hint=f"correct that field of {data.get('uid', 'the record')} in QGIS (or restore the previous version from "
        f"{table}_history) and run the command again",
    )
