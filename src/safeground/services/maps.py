"""Minefield records as an application: their accuracy, the evidence they give hazard areas, dossiers, traverses.

A handed-over record is scored against what clearance found (:func:`assess_accuracy`, in this process
or on Dask, optionally kept as assessments), its assessment carried into the hazard areas
(:func:`carry_evidence`), written up as a one-page dossier (:func:`write_dossier`); a record drawn by
bearing and distance is computed (:func:`draw_traverse`) and stored (:func:`save_traverse`). The
scoring itself is :mod:`safeground.minemaps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.errors import RecordNotFound, SafeGroundError
from safeground.outputs import guard_output, staged_folder
from safeground.services.progress import Progress, no_progress

if TYPE_CHECKING:
    from safeground.minemaps.accuracy import AccuracyOptions, RecordResult
    from safeground.minemaps.hazard_evidence import EvidencePlan
    from safeground.minemaps.traverse import SaveOutcome, TraverseRecord, TraverseResult


@dataclass(frozen=True)
class MapAccuracy:
    results: list[RecordResult]
    saved: list[str] | None  # uids of the stored assessments, None when not asked to save


def assess_accuracy(
    store: str,
    opts: AccuracyOptions,
    *,
    save: bool = False,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress = no_progress,
) -> MapAccuracy:
    """Every minefield record scored against clearance (on Dask when ``scheduler`` or ``workers`` is given),
    and with ``save`` kept as assessments and corrected mine positions."""
    from safeground.compute import client_for
    from safeground.minemaps.accuracy import assess_store, save_results
    from safeground.storage import open_store

    with open_store(store, readonly=not save) as s:
        with client_for(scheduler, workers) as client:
            results = assess_store(s, opts, client=client, progress=progress)
        saved = save_results(s, results, opts, entered_by="safeground maps accuracy") if save else None
    return MapAccuracy(results, saved)


@dataclass(frozen=True)
class HazardEvidence:
    plan: EvidencePlan
    changed: list[str]  # uids of the hazard areas given a new version (empty unless applied)


def carry_evidence(
    store: str, *, apply: bool = False, confirm: bool = False, release: bool = False, create: bool = False
) -> HazardEvidence:
    """Each record's latest assessment as placed evidence in the hazard areas, and the decisions it supports;
    with ``apply`` the evidence is written, and ``confirm``, ``release``, ``create`` take those proposals."""
    from safeground.minemaps.hazard_evidence import apply_plan, plan
    from safeground.storage import open_store

    with open_store(store, readonly=not apply) as s:
        planned = plan(s)
        if not planned.updates and not planned.proposals:
            raise SafeGroundError(
                "no hazard area cites an assessed minefield record",
                hint="save assessments first: safeground maps accuracy --save",
            )
        changed = (
            apply_plan(
                s, planned, confirm=confirm, release=release, create=create, entered_by="safeground maps evidence"
            )
            if apply
            else []
        )
    return HazardEvidence(planned, changed)


@dataclass(frozen=True)
class Dossier:
    html: Path
    pdf: Path
    grade: str


def write_dossier(store: str, record: str, out: Path, opts: AccuracyOptions, *, overwrite: bool = False) -> Dossier:
    """The one-page accuracy dossier (HTML and PDF) of one minefield record, written into folder ``out``."""
    from safeground.minemaps.accuracy import assess_record, gather_evidence
    from safeground.reports.dossier import render_dossier
    from safeground.storage import open_store

    guard_output(out, overwrite=overwrite, store_location=store, folder=True)
    with open_store(store, readonly=True) as s:
        evidence = [ev for ev in gather_evidence(s, opts) if ev.uid == record]
    if not evidence:
        raise RecordNotFound(
            f"no minefield record {record} in {store}", hint="list them with 'safeground maps accuracy'"
        )
    result = assess_record(evidence[0], opts)
    with staged_folder(out, overwrite=overwrite, store_location=store) as stage:
        html, pdf = render_dossier(result, stage, store_name=Path(store).name, opts=opts)
    return Dossier(out / html.name, out / pdf.name, result.grade)


@dataclass(frozen=True)
class DrawnRecord:
    record: TraverseRecord
    result: TraverseResult


def draw_traverse(file: Path, max_misclosure_m: float = 5.0) -> DrawnRecord:
    """A record drawn by bearing and distance (JSON, YAML or the XLSX template), computed: every point,
    the perimeter, every mine; refused when the chain misses closing by more than ``max_misclosure_m``."""
    from safeground.minemaps.traverse import read_record, solve

    record = read_record(file)
    return DrawnRecord(record, solve(record, max_misclosure_m=max_misclosure_m, src=file.name))


def save_traverse(store: str, drawn: DrawnRecord) -> SaveOutcome:
    """Store a computed record and its recorded mines once (a correction versions it). Apart from
    :func:`draw_traverse` so that the computed record can be shown before it is stored or refused."""
    from safeground.minemaps.traverse import save_record
    from safeground.storage import open_store

    with open_store(store) as s:
        return save_record(s, drawn.record, drawn.result, entered_by="safeground maps traverse")
