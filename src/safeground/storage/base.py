"""The storage interface every backend implements.

Domain code receives a ``Store`` and never knows whether it is a GeoPackage on a
field laptop or PostGIS on a national server. The contract test suite
(``tests/store_contract.py``) states the behaviour; a backend is done when it
passes that suite unchanged.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd

from safeground.errors import DuplicateRecord, Param, RecordNotFound, SafeGroundError, VersionConflict
from safeground.model.base import RECORD_TYPES, Record
from safeground.storage.schema import Layout, layout_of

R = TypeVar("R", bound=Record)

BBox = tuple[float, float, float, float]  # minx, miny, maxx, maxy in WGS 84 degrees
Progress = Callable[[int], None]


#: the numbers a store generates have at most this many digits. A uid like ``EO-9223372036854775807``
#: given by a file is kept as it is, but it is not a generated number: counting it made the next
#: number overflow 64 bits and every later import of the layer fail.
UID_DIGITS = 12


def format_uid(prefix: str, number: int) -> str:
    """The identifier a store generates: ``EO-00042`` (the GeoPackage bulk path writes the same with printf)."""
    return f"{prefix}-{number:05d}"


def generated_number(prefix: str, uid: str) -> int | None:
    """The number of a uid of the generated form ``{prefix}-{digits}`` (at most ``UID_DIGITS``), else None."""
    head = prefix + "-"
    tail = uid[len(head) :] if uid.startswith(head) else ""
    return int(tail) if tail.isascii() and tail.isdigit() and len(tail) <= UID_DIGITS else None


class Combos(Protocol):
    """What ``RowBatch.combos`` offers a backend: how many combinations there are so far, and each by number."""

    def __len__(self) -> int: ...
    def __getitem__(self, k: int, /) -> Sequence[Any]: ...


@dataclass
class RowBatch:
    """New records of one layer as the bulk import hands them over.

    A million recorded mines share a few thousand distinct combinations of
    attribute values. Each combination travels once, in ``combos``; a row is its
    uid, the index of its combination and its geometry. A backend can then write
    the attributes set-wise instead of binding sixteen values for every row.
    """

    #: every distinct combination so far, in ``Layout.encode`` order; the uid slot is ignored.
    #: The importer only appends to it, so a backend may remember how much it has already seen.
    combos: Combos
    combo: np.ndarray  # per row: index into combos
    #: per row: its uid; or None when the uids are generated as ``{uid_prefix}-{number:05d}``
    uids: list[str] | None
    geoms: np.ndarray | None  # per row (None when the layer has no geometry)
    uid_index: int
    uid_numbers: np.ndarray | None = None
    uid_prefix: str = ""

    def __len__(self) -> int:
        return len(self.combo)

    def uid_list(self) -> list[str]:
        if self.uids is not None:
            return self.uids
        assert self.uid_numbers is not None
        return [format_uid(self.uid_prefix, k) for k in self.uid_numbers.tolist()]

    def rows(self) -> list[list[Any]]:
        """Full column values per row, for backends that write row by row."""
        out = []
        for c, uid in zip(self.combo.tolist(), self.uid_list(), strict=True):
            row = list(self.combos[c])
            row[self.uid_index] = uid
            out.append(row)
        return out


@dataclass(frozen=True)
class SyncConflictRow:
    """One conflict as a field store keeps it: the versions of each side since the base, as JSON text.

    Storage keeps the rows; ``safeground.sync`` reads them (``sync.state.Conflict``)."""

    id: int
    layer: str
    uid: str
    base_version: int | None
    mine_version: int
    theirs_version: int
    mine: str  # JSON list of the field's versions, oldest first
    theirs: str  # JSON list of the server's versions, oldest first
    detected_at: str
    resolved_at: str | None = None
    kept: str | None = None


class Store(ABC):
    """A transactional store of versioned SafeGround records.

    Guarantees every backend gives:

    * ``transaction()`` is all-or-nothing, and nests (inner blocks are savepoints).
    * ``uid`` is stable: it is how records refer to each other and it never changes.
    * ``update`` never erases: the previous version goes to history, and a write
      based on a stale version raises ``VersionConflict``.
    * geometry is stored in WGS 84 (EPSG:4326).
    """

    location: str

    # -- transactions -----------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]: ...

    # -- writes -----------------------------------------------------------------------
    def add_many(self, records: Iterable[Record], *, progress: Progress | None = None) -> int:
        """Insert new records (all in one transaction, grouped by layer); returns how many."""
        by_type: dict[type[Record], list[Record]] = {}
        for rec in records:
            by_type.setdefault(type(rec), []).append(rec)
        total = 0
        with self.transaction():
            for cls, recs in by_type.items():
                self._refuse_duplicates(cls, recs)
                total += self._insert(layout_of(cls), recs, progress)
        return total

    @abstractmethod
    def _insert(self, lay: Layout, recs: list[Record], progress: Progress | None) -> int:
        """Write new records of one layer inside the open transaction (identifiers already checked)."""

    def insert_stream(self, lay: Layout, batches: Iterable[RowBatch]) -> int:
        """Insert new records given batch by batch as validated column values.

        The bulk path of imports: the caller has validated every value with the
        model and checked that no identifier is stored yet. All batches land in
        one transaction. Backends override it to skip rebuilding record objects.
        """
        total = 0
        with self.transaction():
            for batch in batches:
                geoms = batch.geoms
                recs = [lay.decode(row, None if geoms is None else geoms[i]) for i, row in enumerate(batch.rows())]
                self._refuse_duplicates(lay.record_type, recs)
                total += self._insert(lay, recs, None)
        return total

    def add(self, record: R) -> R:
        self.add_many([record])
        return record

    def update(self, record: R, *, expected_version: int) -> R:
        """Store a new version of an existing record and return it (version + 1).

        Written once for every backend, so the optimistic check and the history it keeps cannot
        drift apart between them: the backends supply only the SQL of each step (the hooks below).
        """
        lay = layout_of(type(record))
        with self.transaction():
            current = self._lock_version(lay, record.uid)
            if current is None:
                raise RecordNotFound(f"{lay.table}: no record {record.uid} to update")
            if current != expected_version:
                raise VersionConflict(
                    f"{lay.table} {record.uid} is at version {current}, not {expected_version}: "
                    "someone changed it since you read it",
                    hint="reload the record, re-apply your change and save again",
                )
            self._copy_to_history(lay, record.uid, None)
            new = record.model_copy(
                update={"version": expected_version + 1, "entered_at": datetime.now(UTC).replace(microsecond=0)}
            )
            new = type(record).model_validate(new.model_dump())
            self._replace_current(lay, record.uid, new)
        return new

    def delete(self, record_type: type[Record], uid: str, *, expected_version: int) -> None:
        """Take a record out of the current layer; every version of it stays in the history table.

        Checked like :meth:`update` (the record must still be at ``expected_version``), so a deletion
        approved in the review queue never removes a version nobody reviewed."""
        lay = layout_of(record_type)
        with self.transaction():
            current = self._lock_version(lay, uid)
            if current is None:
                raise RecordNotFound(f"{lay.table}: no record {uid} to delete")
            if current != expected_version:
                raise VersionConflict(
                    f"{lay.table} {uid} is at version {current}, not {expected_version}: "
                    "someone changed it since you read it",
                    hint="reload the record and decide again",
                )
            self._copy_to_history(lay, uid, None)
            self._delete_current(lay, uid)

    # -- field sync and migrations ---------------------------------------------------
    def apply_versions(
        self, chain: list[Record], *, expected_version: int | None, rewind_to: int | None = None
    ) -> None:
        """Store versions of one record made in another store exactly as they were made (same
        numbers, authors, times), for field sync. ``chain`` is oldest first and ends with the new
        current version; versions already kept here are skipped. The record must be at
        ``expected_version`` here (None: not stored yet), else ``VersionConflict``. ``rewind_to``
        first drops this store's versions above that number (a resolved conflict: the dropped
        versions are kept by the caller in the conflict list)."""
        lay = layout_of(type(chain[0]))
        uid = chain[0].uid
        with self.transaction():
            current = self._lock_version(lay, uid)
            if current != expected_version:
                raise VersionConflict(
                    f"{lay.table} {uid} is at version {current}, not {expected_version}: someone changed it meanwhile",
                    hint="run the sync again: it will compare the versions afresh",
                )
            if current is not None:
                if rewind_to is not None and current > rewind_to:
                    self._drop_history_above(lay, uid, rewind_to)
                else:
                    nxt = next((v for v in chain if v.version > current), None)
                    self._copy_to_history(lay, uid, datetime.now(UTC) if nxt is None else nxt.entered_at)
                self._delete_current(lay, uid)
            have = self._history_versions(lay, uid)
            newer = [v for v in chain if v.version not in have]
            older = [(v, nxt.entered_at) for v, nxt in itertools.pairwise(newer)]
            if older:
                self._insert_history(lay, older)
            self._insert(lay, [chain[-1]], None)

    # -- the steps of versioning, in each backend's SQL (inside the open transaction) --------
    @abstractmethod
    def _lock_version(self, lay: Layout, uid: str) -> int | None:
        """The current version of a record (None: not stored), its row locked against other writers
        until the transaction ends where the backend locks rows (a GeoPackage write locks the file)."""

    @abstractmethod
    def _copy_to_history(self, lay: Layout, uid: str, superseded_at: datetime | None) -> None:
        """Copy the current row of a record into the history table as it is, superseded at that
        moment (None: now, by the backend's clock)."""

    @abstractmethod
    def _replace_current(self, lay: Layout, uid: str, record: Record) -> None:
        """Overwrite the current row of a record in place (same row, so its fid stays) with a new version."""

    @abstractmethod
    def _delete_current(self, lay: Layout, uid: str) -> None:
        """Remove the current row of a record (a new one follows in the same transaction)."""

    @abstractmethod
    def _drop_history_above(self, lay: Layout, uid: str, version: int) -> None:
        """Remove a record's history rows above a version (a conflict resolved for the other side)."""

    @abstractmethod
    def _history_versions(self, lay: Layout, uid: str) -> set[int]:
        """The version numbers a record's history table holds."""

    def add_chains(self, chains: list[list[Record]]) -> int:
        """Records new to this store with their whole history (oldest first), in bulk: what a first
        sync moves. Identifiers already stored are refused like ``add_many``; returns how many."""
        by_type: dict[type[Record], list[list[Record]]] = {}
        for chain in chains:
            by_type.setdefault(type(chain[-1]), []).append(chain)
        with self.transaction():
            for cls, group in by_type.items():
                self._refuse_duplicates(cls, [c[-1] for c in group])
                lay = layout_of(cls)
                older = [(v, nxt.entered_at) for c in group for v, nxt in itertools.pairwise(c)]
                if older:
                    self._insert_history(lay, older)
                self._insert(lay, [c[-1] for c in group], None)
        return len(chains)

    @abstractmethod
    def _insert_history(self, lay: Layout, versions: list[tuple[Record, Any]]) -> None:
        """Write superseded versions (each with the time it was superseded) inside the open transaction."""

    @abstractmethod
    def current_versions(self, record_type: type[Record]) -> dict[str, int]:
        """uid → current version of every record of a layer (cheap: no geometry decoded)."""

    @abstractmethod
    def chains(self, record_type: type[Record], uids: list[str]) -> dict[str, list[Record]]:
        """Every version of each of these records, oldest first (two queries, not one per record)."""

    @abstractmethod
    def log_sync(self, peer_id: str, peer_location: str, direction: str, records: int, conflicts: int) -> None:
        """One row in ``safeground_sync_log``: which other store synced with this one, and how much."""

    @abstractmethod
    def schema_revision(self) -> str | None:
        """The schema version (GeoPackage) or Alembic revision (PostGIS) this store is at."""

    @abstractmethod
    def upgrade(self, target: str = "head") -> list[str]:
        """Run pending schema migrations in one transaction; returns what was applied."""

    @abstractmethod
    def migration_steps(self) -> list[tuple[str, str]]:
        """Every schema step this backend knows, oldest first: (revision, what it does).

        ``safeground db history`` lists them and marks ``schema_revision()`` among them; each
        backend has its own kind of step (numbered Python steps, Alembic revisions)."""

    # -- field sync state -------------------------------------------------------------
    #: True where the store keeps what field sync needs to remember (a field GeoPackage on a laptop:
    #: the versions last agreed with its server and the open conflicts). A server store does not: its
    #: field stores remember for it, so the methods below refuse there.
    keeps_field_sync_state: bool = False

    def _no_field_sync_state(self) -> SafeGroundError:
        return SafeGroundError(
            f"{self.location} keeps no field sync state: only a field GeoPackage does",
            hint=f"give the laptop's .gpkg as {Param('store')} and the server URL as {Param('server')}",
        )

    def sync_bases(self, layer: str) -> dict[str, int]:
        """uid → the version this field store and its server last agreed on, for a layer's synced records."""
        raise self._no_field_sync_state()

    def set_sync_bases(self, layer: str, bases: dict[str, int], synced_at: str) -> None:
        """Record agreed versions (a uid already known gets the new version), in one transaction
        (or inside the caller's, so they land together with the records they describe)."""
        raise self._no_field_sync_state()

    def open_sync_conflict(self, conflict: SyncConflictRow) -> None:
        """Keep a conflict as open, replacing the open conflict of the same record if there is one
        (``conflict.id`` is ignored: the store numbers it)."""
        raise self._no_field_sync_state()

    def sync_conflicts(self, *, include_resolved: bool = False) -> list[SyncConflictRow]:
        """The open conflicts (or every conflict ever recorded), by layer, uid and then age."""
        raise self._no_field_sync_state()

    def resolve_sync_conflict(self, conflict_id: int, kept: str, resolved_at: str) -> None:
        """Close a conflict, with the side kept (``mine`` or ``theirs``) and when."""
        raise self._no_field_sync_state()

    # -- reads ------------------------------------------------------------------------
    @abstractmethod
    def get(self, record_type: type[R], uid: str) -> R: ...

    @abstractmethod
    def find(self, record_type: type[R], *, bbox: BBox | None = None, **equals: Any) -> Iterator[R]:
        """Current versions, optionally inside a bounding box and with equal column values."""

    @abstractmethod
    def count(self, record_type: type[Record]) -> int: ...

    @abstractmethod
    def page(
        self, record_type: type[R], *, bbox: BBox | None = None, limit: int = 10, offset: int = 0, **equals: Any
    ) -> list[R]:
        """One page of what ``find`` yields (same filters, same exact bounding box), ordered by uid:
        at most ``limit`` records after skipping ``offset`` of them.

        For OGC API Features (``limit``/``offset`` and ``next`` links): the database does the skipping
        and the ordering, so page 1,000 of a million mines costs a page, not a million records. uid
        order is stable (uids never change), so consecutive pages neither repeat nor skip a record
        while nothing is added; it is the text order of the backend (byte order in a GeoPackage,
        the database's collation in PostGIS), the same on both for the uids SafeGround generates."""

    @abstractmethod
    def count_matching(self, record_type: type[Record], *, bbox: BBox | None = None, **equals: Any) -> int:
        """How many records ``find`` (and so every ``page``) would yield with these filters, counted in the
        database (``numberMatched`` of OGC API Features)."""

    @abstractmethod
    def history(self, record_type: type[R], uid: str) -> list[R]:
        """Every version of a record, oldest first, the current one last."""

    @abstractmethod
    def read_frame(self, record_type: type[Record], *, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """Current versions as a GeoDataFrame (WGS 84) for analysis: the fast path."""

    @abstractmethod
    def existing_uids(self, record_type: type[Record], uids: list[str]) -> set[str]:
        """Which of these identifiers are already stored (current versions)."""

    @abstractmethod
    def max_uid_number(self, record_type: type[Record]) -> int: ...

    # -- metadata ---------------------------------------------------------------------
    @abstractmethod
    def get_meta(self, key: str, default: str | None = None) -> str | None: ...

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def drop(self) -> None:
        """Remove the store and everything in it, for good, and close it (tests, re-generation).

        Callers check first that what is dropped holds nothing a user made (``generated_only``)."""

    # -- helpers common to all backends -----------------------------------------------
    def area_of_interest(self) -> BBox | None:
        """West, south, east, north (WGS 84) the store declares it covers, or None.

        Imports check positions against it and distances are measured in its UTM zone; one parser
        here instead of a ``json.loads(get_meta(...))`` in every module that needs it."""
        text = self.get_meta("area_of_interest")
        if not text:
            return None
        west, south, east, north = json.loads(text)
        return float(west), float(south), float(east), float(north)

    def set_area_of_interest(self, bbox: BBox) -> None:
        """Declare the area the store covers (``area_of_interest`` reads it back)."""
        self.set_meta("area_of_interest", json.dumps([float(v) for v in bbox]))

    @staticmethod
    def _check_page(limit: int, offset: int) -> None:
        """A page is asked for with counts, never negative ones (a web client may send anything)."""
        if limit < 0 or offset < 0:
            raise ValueError(f"a page needs a limit and an offset of 0 or more, not limit={limit}, offset={offset}")

    def next_uid(self, record_type: type[Record]) -> str:
        return format_uid(record_type.UID_PREFIX, self.max_uid_number(record_type) + 1)

    def _refuse_duplicates(self, record_type: type[Record], recs: list[Record]) -> None:
        """New records must have identifiers unique in the write and not stored yet (every backend)."""
        seen: set[str] = set()
        for r in recs:
            if r.uid in seen:
                raise DuplicateRecord(f"{record_type.LAYER}: identifier {r.uid} appears twice in one write")
            seen.add(r.uid)
        existing = self.existing_uids(record_type, [r.uid for r in recs])
        if existing:
            some = ", ".join(sorted(existing)[:5])
            raise DuplicateRecord(
                f"{record_type.LAYER}: {len(existing)} identifier(s) already stored: {some}",
                hint="use update for a new version of an existing record",
            )

    def counts(self) -> dict[str, int]:
        return {layer: self.count(cls) for layer, cls in RECORD_TYPES.items()}

    # -- cheap change detection and bulk version reads (dashboards, reports) ----------
    def layer_state(self, record_type: type[Record]) -> tuple[int, ...]:
        """Numbers that change whenever the layer's content does: (current records, sum of their versions,
        highest fid, versions kept in history). An add raises the count and the fid, an update the version
        sum and the history, a removal lowers the count and adds history; a few aggregate queries, no rows read.

        This default reads the current versions; the backends answer it in SQL."""
        versions = self.current_versions(record_type)
        return (len(versions), sum(versions.values()), 0, 0)

    def fingerprint(self, record_types: Iterable[type[Record]] | None = None) -> str:
        """A short digest of :meth:`layer_state` of these layers (all by default): equal until one of them changes,
        so a figure computed from them can be cached under it (``services.dashboards``)."""
        import hashlib

        types = sorted(set(RECORD_TYPES.values() if record_types is None else record_types), key=lambda c: c.LAYER)
        states = self.layer_states(types)
        text = ";".join(f"{c.LAYER}:{','.join(map(str, states[c.LAYER]))}" for c in types)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def layer_states(self, record_types: Sequence[type[Record]]) -> dict[str, tuple[int, ...]]:
        """:meth:`layer_state` of several layers by name (a backend may answer them in one round trip)."""
        return {c.LAYER: self.layer_state(c) for c in record_types}

    def read_frames(
        self,
        record_type: type[Record],
        columns: Sequence[str],
        *,
        chunk_rows: int = 50_000,
        geometry: bool = True,
    ) -> Iterator[gpd.GeoDataFrame]:
        """The current versions in chunks of at most ``chunk_rows`` rows, with only these columns (and the
        geometry, WGS 84, unless ``geometry`` is False), in the order ``read_frame`` gives them: for a figure
        summed over a large layer (a country's buildings) without holding the whole layer and every column of
        it at once. With ``geometry=False`` no geometry is read or decoded and the chunks have no geometry
        column (plain columns of a GeoDataFrame without an active geometry).

        This default slices ``read_frame``; the backends read each chunk on its own (keyset on fid)."""
        frame = self.read_frame(record_type)
        keep = [c for c in columns if c in frame.columns]
        if geometry and "geometry" in frame:
            keep.append("geometry")
        for start in range(0, len(frame), chunk_rows):
            part = frame.iloc[start : start + chunk_rows][keep].reset_index(drop=True)
            yield part if geometry else gpd.GeoDataFrame(pd.DataFrame(part))

    def read_columns(self, record_type: type[Record], columns: Sequence[str]) -> pd.DataFrame:
        """These columns of the current versions and no geometry, as one plain frame in ``read_frame``'s
        order and with its column types (read in one piece: pandas types a column from all its values): what
        a figure that never looks at a shape reads, without decoding a polygon."""
        for frame in self.read_frames(record_type, columns, chunk_rows=2**62, geometry=False):
            return pd.DataFrame(frame)
        return pd.DataFrame(columns=list(columns))

    def version_rows(self, record_type: type[Record], columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """These columns of every version of every record (history and current), as stored, no geometry decoded:
        the bulk read behind a whole layer's version history (one query, not one ``history`` per record).

        Dates come back as ISO text or ``date`` depending on the backend; callers normalise them. This default
        goes through :meth:`chains`; the backends answer it in SQL."""
        uids = list(self.current_versions(record_type))
        out: list[tuple[Any, ...]] = []
        for chain in self.chains(record_type, uids).values():
            for rec in chain:
                values = []
                for c in columns:
                    v = getattr(rec, c)
                    values.append(v.value if hasattr(v, "value") else v)
                out.append(tuple(values))
        return out

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: where a store without an area of interest is measured: the first of these layers that holds anything
_EXTENT_LAYERS = (
    "hazard_areas", "accidents", "minefield_records", "eo_items", "cluster_strikes", "activities",
    "admin_areas", "infrastructure_areas", "infrastructure_lines", "infrastructure_points",
)  # fmt: skip


def store_extent(store: Store, frame: gpd.GeoDataFrame | None = None) -> BBox:
    """West, south, east, north of a store: its declared area of interest, else the extent of the
    frame the caller holds, else of the first layer that holds anything (hazard areas first).

    A store with none of these cannot be placed on the earth: the error says how to give it an area.
    """
    aoi = store.area_of_interest()
    if aoi:
        return aoi
    if frame is not None and len(frame) and not frame.geometry.is_empty.all():
        b = frame.total_bounds
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])
    for layer in _EXTENT_LAYERS:
        cls = RECORD_TYPES.get(layer)
        if cls is None or not store.count(cls):
            continue
        f = store.read_frame(cls)
        f = f[f.geometry.notna() & ~f.geometry.is_empty]
        if len(f):
            b = f.total_bounds
            return float(b[0]), float(b[1]), float(b[2]), float(b[3])
    raise SafeGroundError(
        f"the store {store.location} holds no area of interest and no located record, so there is nowhere "
        "to measure distances and areas",
        hint="set its area: safeground db area --store STORE --bbox WEST,SOUTH,EAST,NORTH (or import hazard areas)",
    )


def metric_epsg(store: Store, frame: gpd.GeoDataFrame | None = None) -> int:
    """The metric projection (UTM zone) distances are measured in: the one the store declares, else
    the zone of the centre of its extent (``store_extent``). See geometry/projection.py for why."""
    stored = store.get_meta("metric_epsg")
    if stored:
        return int(stored)
    from safeground.geometry.projection import utm_epsg

    minx, miny, maxx, maxy = store_extent(store, frame)
    return utm_epsg((minx + maxx) / 2, (miny + maxy) / 2)


def metric_epsg_if_located(store: Store, frame: gpd.GeoDataFrame | None = None) -> int | None:
    """``metric_epsg``, or None for a store with no area and nothing located (reports then draw no map)."""
    try:
        return metric_epsg(store, frame)
    except SafeGroundError:
        return None


def area_crs(store: Store, frame: gpd.GeoDataFrame | None = None) -> Any:
    """The projection area sums over the store are measured in (a ``pyproj.CRS``): the store's UTM
    zone when its extent lies in one zone, else an equal-area projection centred on it."""
    from pyproj import CRS

    from safeground.geometry.projection import area_crs_for, in_one_zone

    bounds = store_extent(store, frame)
    stored = store.get_meta("metric_epsg")
    if stored and in_one_zone(bounds):
        return CRS.from_epsg(int(stored))
    return area_crs_for(bounds)
