"""Files in and out of a store: import a file into one layer (or check it), import OpenStreetMap, export a layer.

The orchestration around the domain's readers (``safeground.intake``): refuse the output files
before anything is imported, never create a store by mistake, check a dry run where nothing
can be written, write the problems report, the changes list and the quarantine, and say what
the import asks for next (emergency hazard areas for accidents, land release for activities).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from safeground.errors import InvalidInput, Param, Problem, SafeGroundError
from safeground.intake.problems import write_problems
from safeground.outputs import csv_output, guard_output, staged_file
from safeground.services.quality import after_write
from safeground.services.store_admin import store_exists
from safeground.storage import is_store_url, open_store

if TYPE_CHECKING:
    from safeground.access import Audience
    from safeground.casualties.emergency import EmergencyProposal
    from safeground.intake.osm import OsmImport
    from safeground.intake.outcome import ImportReport
    from safeground.model.quality import QMInspection


@dataclass
class ImportRefused(InvalidInput):
    """The file itself was refused (not an option given with it): every problem, and the report written."""

    report: Path | None = None


@dataclass
class FileImported:
    """What an import of one file did (or, on a dry run, would do), and what it asks for next."""

    report: ImportReport
    #: rows written to the quarantine file (None: no quarantine, or a dry run)
    quarantined: int | None = None
    #: accidents at places nobody has surveyed: an emergency SHA is proposed for each
    emergency: list[EmergencyProposal] = field(default_factory=list)
    #: hazard areas that the imported survey and clearance reports change
    release_hazards: list[str] = field(default_factory=list)
    release_reports: int = 0
    #: residual contamination investigations the import opened (accidents or finds inside released land)
    investigations: list[QMInspection] = field(default_factory=list)


@dataclass(frozen=True)
class LayerExported:
    written: int
    left_out: list[str]

    @property
    def aggregated(self) -> bool:
        """Whether the records were counted per cell instead of written one by one (the audience's policy)."""
        return any("aggregated" in x for x in self.left_out)


def import_file(
    store: str,
    layer: str,
    file: Path,
    *,
    repair: bool = False,
    dry_run: bool = False,
    new: bool = False,
    source_layer: str | None = None,
    mapping: str | None = None,
    crs: str | None = None,
    utm_zone: str | None = None,
    utm_letter: str | None = None,
    report: Path | None = None,
    changes: Path | None = None,
    overwrite: bool = False,
    skip_invalid: bool = False,
    quarantine: Path | None = None,
    key: list[str] | None = None,
    entered_by: str = "import",
    origin: str | None = None,
) -> FileImported:
    """Import one file into one layer, all or nothing (or the good rows with ``skip_invalid``/``quarantine``).

    ``report`` receives every problem, also when the file is refused: then ``ImportRefused`` is
    raised after it is written (a bad option is an ``InvalidInput`` before anything is read).
    ``changes`` receives what happens to every row, ``quarantine`` the rows left out. On a dry
    run nothing is written to the store, not even a new empty one.
    """
    from safeground.intake.features import import_features
    from safeground.intake.mapping import load_mapping
    from safeground.intake.quarantine import check_quarantine_path

    for path in (report, changes, quarantine):  # refused before anything is imported, not after
        if path:
            guard_output(path, overwrite=overwrite, store_location=store)
    if utm_letter not in (None, "band", "hemisphere"):
        raise SafeGroundError(f"{Param('utm_letter')} must be 'band' or 'hemisphere', not {utm_letter!r}")
    url = is_store_url(store)
    if not url and not Path(store).exists() and not new:
        raise SafeGroundError(
            f"no SafeGround store at {store}",
            hint=f"check the path, create it with `safeground init --store {store} --area W,S,E,N`, "
            f"or add {Param('new')}",
        )
    if quarantine is not None:
        check_quarantine_path(quarantine)
    kwargs: dict[str, Any] = dict(
        repair=repair, dry_run=dry_run, source_layer=source_layer, crs=crs,
        coordinates={"utm_zone": utm_zone, "utm_letter": utm_letter},
        list_limit=None if changes else 10_000, skip_invalid=skip_invalid, quarantine=quarantine is not None, key=key,
        entered_by=entered_by,
    )  # fmt: skip
    try:
        if dry_run:
            rep = _dry_run(store, layer, file, mapping, kwargs)
        else:
            with open_store(store, create=new or not url) as s, s.transaction():
                fm = load_mapping(s, mapping) if mapping else None
                # the "holds imported data" mark goes in the import's own transaction: nothing after the commit
                rep = import_features(s, layer, file, mapping=fm, meta={"imported": "yes"}, **kwargs)
                # an accident or find inside released land opens its investigation in the same transaction
                investigations = after_write(s, {layer}, entered_by=entered_by)
    except InvalidInput as exc:
        if report:
            write_problems(report, exc.problems, overwrite=overwrite, store=store)
        raise ImportRefused(exc.problems, exc.hint_text, report=report) from exc
    done = FileImported(rep, investigations=[] if dry_run else investigations)
    if not dry_run and (rep.counts["create"] or rep.counts["update"]):
        from safeground.services.accounts import record_write

        record_write(store, entered_by, "import", layer, _audited(rep, file), origin=origin)
    if report:
        write_problems(report, rep.left_out.problems, overwrite=overwrite, store=store)
    if quarantine is not None and not dry_run:
        done.quarantined = rep.left_out.write(quarantine, layer, _source_crs(file, source_layer))
    if changes:
        with csv_output(changes, overwrite=overwrite, store_location=store) as w:
            w.writerow(["item", "uid", "action", "detail"])
            w.writerows([c.item, c.uid, c.action, c.detail] for c in rep.changes)
    if layer == "accidents" and not dry_run and rep.counts["create"]:
        done.emergency = _emergency_proposals(store)
    if layer == "activities" and not dry_run and rep.counts["create"] + rep.counts["update"]:
        done.release_reports, done.release_hazards = _release_proposals(store)
    return done


def _audited(rep: ImportReport, file: Path) -> dict[str, Any]:
    """What the audit log keeps of an import: the file, the counts and the records it created and changed."""
    return {
        "file": file.name,
        "created": rep.counts["create"],
        "updated": rep.counts["update"],
        "created_uids": rep.created,
        "updated_uids": rep.updated,
    }


def _dry_run(store: str, layer: str, file: Path, mapping: str | None, kwargs: dict[str, Any]) -> ImportReport:
    """Check an import without writing anything anywhere, not even a new empty store.

    The import itself skips every write on a dry run (and ``intake.commit`` rolls its
    transaction back), but that is not enough for a GeoPackage: opening one for writing
    switches it to WAL (its header changes), adds the layers of a newer model and leaves
    -wal/-shm files beside it. So an existing GeoPackage is copied to a scratch file and
    checked there, and a store that does not exist yet is checked as a new empty one in a
    scratch folder. An existing PostGIS store is opened for a transaction that writes nothing.
    """
    from safeground.intake.features import import_features
    from safeground.intake.mapping import load_mapping

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / "dry-run.gpkg"
        if is_store_url(store):
            if store_exists(store):
                with open_store(store, create=False) as s:
                    fm = load_mapping(s, mapping) if mapping else None
                    return import_features(s, layer, file, mapping=fm, **kwargs)
        elif Path(store).exists():
            with open_store(store, create=False, readonly=True) as s:
                shutil.copy(s.location, scratch)
        with open_store(str(scratch)) as s:
            fm = load_mapping(s, mapping) if mapping else None
            return import_features(s, layer, file, mapping=fm, **kwargs)


def _source_crs(file: Path, source_layer: str | None) -> Any:
    """The CRS the input file declares (the quarantine keeps the rows' geometry as it was)."""
    from safeground.intake.sources import open_source

    src = open_source(file, source_layer)
    try:
        return src.crs
    finally:
        src.close()


def _release_proposals(store: str) -> tuple[int, list[str]]:
    """After survey and clearance reports arrive: how many change hazard areas, and which areas."""
    from safeground.landrelease.completion import propose_releases

    with open_store(store, create=False, readonly=True) as s:
        proposals = propose_releases(s, entered_by="-")
    return len(proposals), sorted({p.hazard_uid for p in proposals})


def _emergency_proposals(store: str) -> list[EmergencyProposal]:
    """After new accidents arrive: those at places nobody has surveyed, each with its proposed SHA."""
    from safeground.casualties.emergency import propose_emergency_hazards

    with open_store(store, create=False, readonly=True) as s:
        return list(propose_emergency_hazards(s, entered_by="-"))


def problem_kinds(problems: list[Problem]) -> dict[str, int]:
    """How many rows have which kind of problem (a row counted under each kind it has), most first.

    A value problem names its first rows and "and N more": those count too. Problems of the
    whole file or of the command are not rows and are left out."""
    from safeground.intake.quarantine import kind_of

    rows: dict[str, set[str]] = {}
    grouped: dict[str, int] = {}
    for p in problems:
        if p.item in ("file", "(command line)", str(Param("mapping"))):
            continue
        head, _, more = p.item.partition(" and ")
        names = head.split(", ")
        if more.split(" ")[0].replace(",", "").isdigit():
            grouped[kind_of(p)] = grouped.get(kind_of(p), 0) + len(names) + int(more.split(" ")[0].replace(",", ""))
        else:
            rows.setdefault(kind_of(p), set()).update(names)
    counts = {k: len(rows.get(k, ())) + grouped.get(k, 0) for k in {*rows, *grouped}}
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def import_osm_file(store: str, file: Path, *, dry_run: bool = False, new: bool = False) -> OsmImport:
    """An OpenStreetMap extract into the store (``safeground.intake.osm``); a dry run needs an existing store."""
    from safeground.intake.osm import import_osm

    if not is_store_url(store) and not Path(store).exists() and not new:
        raise SafeGroundError(
            f"no SafeGround store at {store}", hint=f"check the path, or add {Param('new')} to create it"
        )
    if dry_run and not is_store_url(store) and not Path(store).exists():
        raise SafeGroundError(
            f"no SafeGround store at {store}: a dry run creates nothing", hint=f"drop {Param('dry_run')}"
        )
    with open_store(store, create=new or not is_store_url(store)) as s:
        done = import_osm(s, file, dry_run=dry_run)
    if not dry_run and done.plan is not None and (done.plan.create or done.plan.update):
        from safeground.services.accounts import actor_or_os, record_write

        record_write(store, actor_or_os(None), "import.osm", file.name, dict(done.plan.summary()))
    return done


def export_layer_file(
    store: str, layer: str, out: Path, *, fmt: str | None, audience: Audience, overwrite: bool = False
) -> LayerExported:
    """One layer to a file as ``audience`` may read it; the file appears only when complete."""
    from safeground.intake.export import export_layer

    with (
        staged_file(out, overwrite=overwrite, store_location=store) as tmp,
        open_store(store, readonly=not is_store_url(store)) as s,
    ):
        n, left_out = export_layer(s, layer, tmp, fmt=fmt or None, audience=audience)
    return LayerExported(n, list(left_out))


def submit_file(
    store: str,
    layer: str,
    file: Path,
    *,
    submitted_by: str,
    origin: str,
    mapping: str | None = None,
    source_layer: str | None = None,
    crs: str | None = None,
    utm_zone: str | None = None,
    utm_letter: str | None = None,
    repair: bool = False,
    skip_invalid: bool = False,
    key: list[str] | None = None,
) -> tuple[ImportReport, Any]:
    """Import a file into the review queue instead of the record: (the import's report, the submission).

    The import runs exactly as it would (same checks, same matching of re-imported rows to stored
    records) on a scratch GeoPackage holding the store's area and the layer's current records with
    their versions; what it created and changed there becomes the submission's change set, flagged
    and waiting for a reviewer. The store itself is not written to, except its review queue.
    """
    from safeground.intake.commit import WritePlan
    from safeground.intake.features import import_features
    from safeground.intake.mapping import load_mapping
    from safeground.model import record_type
    from safeground.services import review
    from safeground.services.accounts import organisation_of

    cls = record_type(layer)
    kwargs: dict[str, Any] = dict(
        repair=repair, source_layer=source_layer, crs=crs, coordinates={"utm_zone": utm_zone, "utm_letter": utm_letter},
        skip_invalid=skip_invalid, key=key, entered_by=submitted_by,
    )  # fmt: skip
    with open_store(store, create=False, readonly=True) as real, tempfile.TemporaryDirectory() as tmp:
        fm = load_mapping(real, mapping) if mapping else None
        uids = [r.uid for r in real.find(cls)]
        chains = real.chains(cls, uids) if uids else {}
        base = {uid: chain[-1].version for uid, chain in chains.items() if chain}
        with open_store(str(Path(tmp) / "submission.gpkg")) as scratch:
            for k in ("area_of_interest", "metric_epsg"):
                v = real.get_meta(k)
                if v:
                    scratch.set_meta(k, v)
            if chains:
                scratch.add_chains(list(chains.values()))
            rep = import_features(scratch, layer, file, mapping=fm, **kwargs)
            plan = WritePlan()
            for rec in scratch.find(cls):
                if rec.uid not in base:
                    plan.create.append(rec)
                elif rec.version > base[rec.uid]:
                    plan.update.append((rec, base[rec.uid]))
    sub = review.submit(store, plan, source=f"import {file.name}", submitted_by=submitted_by,
                        organisation=organisation_of(store, submitted_by), origin=origin)  # fmt: skip
    return rep, sub
