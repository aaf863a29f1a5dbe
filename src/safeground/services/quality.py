"""Quality management as an application: inspections, and the one hook for residual contamination.

:func:`after_write` is the single place every path that stores accidents, finds or activities calls
(file import, form import, review approval, sync push; the generator calls the same domain function
``quality.residual.open_investigations``): an accident or a find inside land released before it opens
its residual contamination investigation in the same transaction as the write, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from safeground.storage import open_store

if TYPE_CHECKING:
    import pandas as pd

    from safeground.model.quality import InspectionKind, NonConformity, QMInspection, QMStatus
    from safeground.quality.residual import ResidualCheck
    from safeground.storage.base import Store


def after_write(store: Store, layers: set[str] | None = None, *, entered_by: str | None = None) -> list[QMInspection]:
    """Open the residual contamination investigations the write made necessary (none when ``layers``, the
    layers written, holds no accidents, finds or activities); call it inside the write's transaction."""
    from safeground.quality.residual import AUTHOR, TRIGGER_LAYERS, open_investigations

    if layers is not None and not set(layers) & set(TRIGGER_LAYERS):
        return []
    return open_investigations(store, entered_by=entered_by or AUTHOR).opened


def check_residual(location: str) -> ResidualCheck:
    """Scan a whole store (one written before this check existed, or by another program) and open the
    investigations it lacks."""
    from safeground.quality.residual import open_investigations

    with open_store(location, create=False) as s:
        return open_investigations(s)


def record_inspection(
    location: str,
    *,
    kind: InspectionKind,
    inspection_date: date,
    inspecting_body: str,
    organisation: str,
    activity_uid: str | None = None,
    hazard_area_uid: str | None = None,
    non_conformities: list[NonConformity] | None = None,
    notes: str | None = None,
    entered_by: str,
) -> QMInspection:
    from safeground.quality.inspections import add_inspection

    with open_store(location, create=False) as s:
        return add_inspection(
            s, kind=kind, inspection_date=inspection_date, inspecting_body=inspecting_body,
            organisation=organisation, activity_uid=activity_uid, hazard_area_uid=hazard_area_uid,
            non_conformities=non_conformities, notes=notes, entered_by=entered_by,
        )  # fmt: skip


def close_inspection(
    location: str,
    uid: str,
    *,
    closed_on: date,
    entered_by: str,
    finding: str | None = None,
    non_conformity: int | None = None,
    closure_note: str | None = None,
) -> QMInspection:
    from safeground.quality.inspections import close

    with open_store(location, create=False) as s:
        return close(
            s, uid, closed_on=closed_on, entered_by=entered_by, finding=finding, non_conformity=non_conformity,
            closure_note=closure_note,
        )  # fmt: skip


@dataclass(frozen=True)
class InspectionList:
    table: pd.DataFrame
    open_investigations: int


def list_inspections(
    location: str, *, status: QMStatus | None = None, kind: InspectionKind | None = None
) -> InspectionList:
    from safeground.quality.inspections import inspections_frame, open_investigations

    with open_store(location, create=False, readonly=True) as s:
        return InspectionList(inspections_frame(s, status=status, kind=kind), len(open_investigations(s)))


def open_residual_investigations(location: str) -> list[QMInspection]:
    """The residual contamination investigations still open: what the review queue shows until closed."""
    from safeground.quality.inspections import open_investigations

    with open_store(location, create=False, readonly=True) as s:
        return open_investigations(s)
