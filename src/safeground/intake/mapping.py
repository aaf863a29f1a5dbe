"""Field mappings: how one organisation's columns become SafeGround fields, saved once.

Every country's records look different (``Type``/``AP``, ``Mine_Kind``/``ПМН``,
``Tarix`` for the date). A clerk writes the mapping once as YAML (or JSON),
saves it under a name, and every later file of that shape imports with
``--mapping NAME``. Mappings are kept in the store itself (metadata key
``mapping:NAME``), so they travel with a GeoPackage to a field laptop and are
shared by everyone on a PostGIS server. A mapping file path works too.

The format (every key but ``layer`` optional)::

    name: halo-eo-sheet
    layer: eo_items
    columns:            # source column -> SafeGround field
      Item ID: uid
      Type: eo_type
      Date: date_of_information
    values:             # per SafeGround field: source value -> stored value
      eo_type: {AP: ap_blast, AT: av, "ПМН-2": ap_blast}
    constants:          # the same value for every row
      status: recorded
    date_format: "%d/%m/%Y"   # how the source writes dates (default ISO 2021-03-04)
    key: [source_reference]   # how a re-imported row finds its stored record (default: uid)
    coordinates:        # tables only: where the position is
      lon: Long         # decimal degrees or degrees-minutes-seconds
      lat: Lat
      # or: easting: E, northing: N, zone: Zone (or utm_zone: 38), utm_letter: band|hemisphere
      # or: mgrs: Grid
      # or: x: X, y: Y with crs: EPSG:xxxx;  or wkt: geometry_wkt
      crs: EPSG:4326
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safeground.errors import InvalidInput, Param, Problem
from safeground.model import record_type
from safeground.storage.base import Store

META_PREFIX = "mapping:"
_COORD_KEYS = {"lon", "lat", "x", "y", "easting", "northing", "zone", "utm_zone", "utm_letter", "mgrs", "wkt", "crs"}


@dataclass
class FieldMapping:
    """A named, reusable mapping of source columns and values to one SafeGround layer."""

    name: str
    layer: str
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    constants: dict[str, Any] = field(default_factory=dict)
    coordinates: dict[str, Any] = field(default_factory=dict)
    date_format: str | None = None
    key: list[str] = field(default_factory=list)

    def to_yaml(self) -> str:
        return yaml.safe_dump(asdict(self), allow_unicode=True, sort_keys=False)

    def check(self, source: str = "mapping") -> None:
        """Refuse a mapping that names fields the layer does not have, or impossible values."""
        cls = record_type(self.layer)
        fields = set(cls.model_fields) - {"geometry"}
        problems: list[Problem] = []
        for src, target in self.columns.items():
            if target not in fields:
                problems.append(Problem(source, f"column {src!r}", target, f"{self.layer} has no field {target!r}"))
        for target in [*self.values, *self.constants, *self.key]:
            if target not in fields:
                problems.append(Problem(source, "mapping", target, f"{self.layer} has no field {target!r}"))
        for target, table in self.values.items():
            if not isinstance(table, dict):
                problems.append(Problem(source, "values", target, "must map source values to stored values"))
                continue
            info = cls.model_fields.get(target)
            allowed = _enum_values(info.annotation) if info else None
            for src_value, value in table.items():
                if allowed is not None and value is not None and str(value) not in allowed:
                    problems.append(
                        Problem(
                            source,
                            f"values of {target}",
                            target,
                            f"{src_value!r} maps to {value!r}, which is not one of: {', '.join(sorted(allowed))}",
                            value,
                        )
                    )
        unknown = set(self.coordinates) - _COORD_KEYS
        if unknown:
            problems.append(
                Problem(
                    source, "coordinates", ", ".join(sorted(unknown)), f"unknown; use {', '.join(sorted(_COORD_KEYS))}"
                )
            )
        if problems:
            raise InvalidInput(problems, hint_text="correct the mapping and save it again")


#: required fields an import fills itself: the identifier and who entered it
_FILLED_BY_IMPORT = {"uid", "entered_by", "entered_at", "version", "geometry"}


def unfilled_required(mapping: FieldMapping) -> list[str]:
    """Required fields of the layer that the mapping can fill neither from a column nor a constant.

    A file with a column of that exact name still fills it; fields measured from the
    geometry (a hazard area's areas) are not asked for."""
    from safeground.intake.measured import MEASURED

    cls = record_type(mapping.layer)
    filled = set(mapping.columns.values()) | set(mapping.constants) | _FILLED_BY_IMPORT
    filled |= set(MEASURED.get(mapping.layer, ()))
    return [f for f, info in cls.model_fields.items() if info.is_required() and f not in filled]


def _enum_values(annotation: Any) -> set[str] | None:
    from enum import Enum

    from safeground.storage.schema import _unwrap_optional

    ann, _ = _unwrap_optional(annotation)
    if isinstance(ann, type) and issubclass(ann, Enum):
        return {str(m.value) for m in ann}
    return None


def parse_mapping(text: str, source: str, *, name: str | None = None) -> FieldMapping:
    """Read a mapping from YAML or JSON text (JSON is YAML) and check it."""
    from safeground.intake.yamlsafe import load_yaml

    data = load_yaml(text, source)  # bounded: aliases, depth, sizes; repeated keys refused
    if not isinstance(data, dict) or "layer" not in data:
        raise InvalidInput([Problem(source, "file", "layer", "a mapping needs at least 'layer: <target layer>'")])
    known = {"name", "layer", "columns", "values", "constants", "coordinates", "date_format", "key"}
    extra = set(data) - known
    if extra:
        raise InvalidInput(
            [Problem(source, "file", ", ".join(sorted(extra)), f"unknown key; use {', '.join(sorted(known))}")]
        )
    key = data.get("key") or []
    mapping = FieldMapping(
        name=str(name or data.get("name") or Path(source).stem),
        layer=str(data["layer"]),
        columns={str(k): str(v) for k, v in (data.get("columns") or {}).items()},
        values={
            str(k): {str(a): b for a, b in (v or {}).items()} if isinstance(v, dict) else v
            for k, v in (data.get("values") or {}).items()
        },
        constants=dict(data.get("constants") or {}),
        coordinates=dict(data.get("coordinates") or {}),
        date_format=data.get("date_format"),
        key=[key] if isinstance(key, str) else [str(k) for k in key],
    )
    mapping.check(source)
    return mapping


def save_mapping(store: Store, mapping: FieldMapping) -> None:
    mapping.check(mapping.name)
    with store.transaction():
        store.set_meta(META_PREFIX + mapping.name, json.dumps(asdict(mapping), ensure_ascii=False, default=str))
        register_name(store, mapping.name)


def list_mappings(store: Store) -> list[FieldMapping]:
    names = json.loads(store.get_meta("mappings", "[]") or "[]")
    return [load_mapping(store, n) for n in names]


def register_name(store: Store, name: str) -> None:
    names = json.loads(store.get_meta("mappings", "[]") or "[]")
    if name not in names:
        names.append(name)
        store.set_meta("mappings", json.dumps(sorted(names)))


def load_mapping(store: Store | None, name_or_path: str) -> FieldMapping:
    """A mapping saved in the store under this name, or read from this file."""
    path = Path(name_or_path)
    if path.suffix.lower() in (".yaml", ".yml", ".json") and path.exists():
        from safeground.intake.yamlsafe import read_text

        return parse_mapping(read_text(path), path.name)
    text = store.get_meta(META_PREFIX + name_or_path) if store is not None else None
    if text is None:
        saved = json.loads(store.get_meta("mappings", "[]") or "[]") if store is not None else []
        raise InvalidInput(
            [
                Problem(
                    "(command line)",
                    str(Param("mapping")),
                    "mapping",
                    "no saved mapping or mapping file of this name",
                    name_or_path,
                )
            ],
            hint_text=("saved mappings: " + ", ".join(saved)) if saved else "save one with 'safeground mapping save'",
        )
    data = json.loads(text)
    return FieldMapping(**data)
