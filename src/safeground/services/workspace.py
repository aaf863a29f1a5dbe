"""What the workspace's review queue and administration pages show, as the viewer may read it.

The review queue pages are the JSON routes' data (:mod:`safeground.services.review`) laid out for a
person: the submissions with their flags (residual contamination first: it asks for an
investigation), one submission's diff with the old and new geometry for the map. A reviewer reads
the store as it is; a data entry user sees the submissions of their own organisation, but what their
role may not read (identities, exact positions: :mod:`safeground.access.policy`) is replaced by a
note, so a page never carries a restricted field to a browser that may not hold it.

The administration page lists accounts, organisations and the audit log with the chain check, and
changes accounts with the logged-in administrator named in each audit entry (with the address).
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import shapely

from safeground.access.audience import Audience
from safeground.access.policy import rules_for
from safeground.accounts.audit import AuditCheck, AuditEntry
from safeground.accounts.repository import Accounts, Token, User
from safeground.accounts.roles import Role, roles_at_or_below
from safeground.model.base import RECORD_TYPES
from safeground.model.vocab import OrganisationType
from safeground.review.queue import State, Submission
from safeground.services import review
from safeground.services.accounts import organisations, resolve_organisation

#: what a field the viewer may not read shows instead
WITHHELD = "(restricted)"
#: flags in the order a reviewer must read them (the sticky residual contamination first)
FLAG_ORDER = ("residual_contamination", "outside_area", "invalid_geometry", "probable_duplicate", "older_than_stored")


def _flag_rank(code: str) -> int:
    return FLAG_ORDER.index(code) if code in FLAG_ORDER else len(FLAG_ORDER)


@dataclass
class QueueRow:
    submission: Submission
    flags: list[dict[str, Any]]
    residual: bool  # carries the residual-contamination flag (the page makes it stand out)
    organisation: str | None = None  # the submitter's organisation as people say it (its acronym)


def flags_for(sub: Submission, audience: Audience) -> list[dict[str, Any]]:
    """The flags in reading order; below restricted, without the positions some of them quote."""
    out = []
    for f in sorted((f.as_dict() for f in sub.flags), key=lambda f: _flag_rank(f["code"])):
        if not audience.exact:
            f["message"] = _DEGREES.sub("…", f["message"])
        out.append(f)
    return out


#: a coordinate in degrees as a flag's message quotes it ("lies at 47.15234, 39.62011")
_DEGREES = re.compile(r"-?\d{1,3}\.\d{3,}")


def queue(
    location: str, viewer: User, *, state: State | None = None, audience: Audience = Audience.PUBLIC
) -> list[QueueRow]:
    """The submissions ``viewer`` may see, newest first, flags in reading order (as ``audience`` may read them)."""
    subs = review.submissions(location, viewer=viewer, state=state)
    names = organisation_names(location) if subs else {}
    rows = []
    for s in sorted(subs, key=lambda s: s.id, reverse=True):
        flags = flags_for(s, audience)
        residual = any(f["code"] == "residual_contamination" for f in flags)
        rows.append(QueueRow(_without_payload(s), flags, residual, names.get(s.organisation or "", s.organisation)))
    return rows


def _without_payload(sub: Submission) -> Submission:
    """The submission without its change set and raw flags: a page shows the diff and the flags made for
    its reader (:func:`flags_for`), never the records as submitted."""
    return dataclasses.replace(sub, payload="", flags=[])


def organisation_names(location: str) -> dict[str, str]:
    """Organisation uid → its acronym (else its name): how the pages name a submitter's organisation."""
    return {o.uid: o.acronym or o.name for o in organisations(location)}


@dataclass
class FieldChange:
    name: str
    old: Any
    new: Any
    withheld: bool = False


@dataclass
class ChangeView:
    layer: str
    title: str
    uid: str
    kind: str  # create | update
    base_version: int | None
    stored_version: int | None
    fields: list[FieldChange]
    geometry_moved_m: float | None
    #: GeoJSON geometries for the map: as stored and as submitted (None: none, or not for this viewer)
    old_geometry: dict[str, Any] | None = None
    new_geometry: dict[str, Any] | None = None
    geometry_withheld: bool = False


@dataclass
class SubmissionView:
    submission: Submission
    flags: list[dict[str, Any]]
    changes: list[ChangeView] = field(default_factory=list)
    #: records a new record could be reconciled to: (submitted uid, [candidate stored uids])
    reconcile: dict[str, list[str]] = field(default_factory=dict)
    #: the stored records the flags point to (the released land, the probable duplicate), for the map
    related: list[dict[str, Any]] = field(default_factory=list)
    organisation: str | None = None  # the submitter's organisation as people say it


def _geojson(wkt: Any) -> dict[str, Any] | None:
    if not isinstance(wkt, str) or not wkt:
        return None
    try:
        return json.loads(shapely.to_geojson(shapely.from_wkt(wkt)))  # type: ignore[no-any-return]
    except (shapely.errors.ShapelyError, ValueError):
        return None


def _withheld_fields(layer: str, audience: Audience) -> tuple[set[str], bool]:
    """(fields the audience may not read, whether its geometry is generalised for it) of one layer."""
    cls = RECORD_TYPES.get(layer)
    if audience.exact:
        return set(), False
    hidden = set(cls.restricted_fields()) if cls is not None else set()
    geometry = bool(cls is not None and getattr(cls, "SENSITIVE_POSITION", False))
    for rule in rules_for(layer):
        if rule.for_audience(audience) is None:
            continue
        names = {n.strip() for n in rule.field.split(",")}
        if "geometry" in names:
            geometry = True
        hidden |= names - {"geometry", "*"}
    return hidden, geometry


def submission_view(location: str, sid: int, viewer: User, audience: Audience) -> SubmissionView:
    """One submission with its diff, laid out for the page; what ``audience`` may not read is withheld."""
    sub = review.submission(location, sid, viewer=viewer)
    flags = flags_for(sub, audience)
    out = SubmissionView(_without_payload(sub), flags)
    out.organisation = organisation_names(location).get(sub.organisation or "", sub.organisation)
    for c in review.diff(location, sub):
        cls = RECORD_TYPES.get(c.layer)
        whole = cls is not None and cls.RESTRICTED and not audience.exact
        hidden, geo_hidden = _withheld_fields(c.layer, audience)
        fields = []
        for name, (old, new) in c.fields.items():
            if whole or name in hidden or (name == "geometry" and geo_hidden):
                fields.append(FieldChange(name, WITHHELD if old is not None else None, WITHHELD, withheld=True))
            else:
                fields.append(FieldChange(name, old, new))
        view = ChangeView(
            c.layer,
            cls.TITLE if cls is not None else c.layer,
            c.uid,
            c.kind,
            c.base_version,
            c.stored_version,
            fields,
            None if geo_hidden else c.geometry_moved_m,
            geometry_withheld=bool(geo_hidden and "geometry" in c.fields),
        )
        if not geo_hidden and not whole and "geometry" in c.fields:
            old, new = c.fields["geometry"]
            view.old_geometry, view.new_geometry = _geojson(old), _geojson(new)
        out.changes.append(view)
    for f in flags:
        if f["code"] == "probable_duplicate" and f.get("related") and sub.state is State.PENDING:
            out.reconcile.setdefault(f["uid"], []).append(str(f["related"]).split(":", 1)[-1])
    if audience.exact:
        out.related = _related_geometries(location, [str(f["related"]) for f in flags if f.get("related")])
    return out


def _related_geometries(location: str, refs: list[str]) -> list[dict[str, Any]]:
    """GeoJSON of the stored records ``layer:uid`` that have a geometry (each once)."""
    from safeground.errors import RecordNotFound
    from safeground.storage import open_store

    found = []
    with open_store(location, create=False, readonly=True) as store:
        for ref in dict.fromkeys(refs):
            layer, _, uid = ref.partition(":")
            cls = RECORD_TYPES.get(layer)
            if cls is None or not cls.GEOMETRY:
                continue
            try:
                geom = getattr(store.get(cls, uid), "geometry", None)
            except RecordNotFound:
                continue
            if geom is not None:
                found.append({"layer": layer, "uid": uid, "geometry": json.loads(shapely.to_geojson(geom))})
    return found


# -- administration -----------------------------------------------------------------------------


@dataclass
class AdminView:
    users: list[User]
    organisations: list[dict[str, Any]]
    roles: list[str]
    audit: list[AuditEntry]  # newest first, filtered
    audit_total: int
    check: AuditCheck
    organisation_names: dict[str, str] = field(default_factory=dict)
    tokens: list[Token] = field(default_factory=list)  # every user's API tokens, newest first
    org_types: list[str] = field(default_factory=list)
    #: user → the roles a token of theirs may carry (their own and those permitting less)
    token_roles: dict[str, list[str]] = field(default_factory=dict)


def admin_view(
    location: str, *, actor: str | None = None, action: str | None = None, since: str | None = None, limit: int = 50
) -> AdminView:
    """Accounts, organisations, the audit log (newest first, filtered by who, what and from when) and its check."""
    with Accounts(location) as acc:
        users = acc.users()
        entries = acc.entries()
        check = acc.verify()
        tokens = acc.tokens()
    orgs = [
        {"uid": o.uid, "name": o.name, "acronym": o.acronym, "type": o.org_type.value, "accredited": o.accredited,
         "version": o.version}
        for o in organisations(location)
    ]  # fmt: skip
    picked = [
        e
        for e in reversed(entries)
        if (not actor or e.actor == actor.strip().lower())
        and (not action or e.action.startswith(action.strip()))
        and (not since or e.at >= since.strip())
    ]
    roles = [r.value for r in Role if r is not Role.PUBLIC]
    names = organisation_names(location)
    kinds = [k.value for k in OrganisationType]
    token_roles = {u.username: [r.value for r in roles_at_or_below(u.role)] for u in users}
    return AdminView(users, orgs, roles, picked[:limit], len(entries), check, names, tokens, kinds, token_roles)


def add_user(
    location: str,
    username: str,
    *,
    full_name: str,
    organisation: str,
    role: str,
    password: str,
    actor: str,
    origin: str,
) -> User:
    org = resolve_organisation(location, organisation)
    with Accounts(location) as acc:
        return acc.add_user(
            username,
            full_name=full_name,
            organisation=org.uid,
            role=Role.parse(role),
            password=password,
            actor=actor,
            origin=origin,
        )


def set_role(location: str, username: str, role: str, *, actor: str, origin: str) -> User:
    with Accounts(location) as acc:
        return acc.set_role(username, Role.parse(role), actor=actor, origin=origin)


def set_active(location: str, username: str, active: bool, *, actor: str, origin: str) -> User:
    from safeground.errors import SafeGroundError

    if not active and username.strip().lower() == actor.strip().lower():
        raise SafeGroundError(
            "an administrator cannot disable their own account (nobody might be left to enable it)",
            hint="ask another administrator, or: safeground users disable NAME --store STORE",
        )
    with Accounts(location) as acc:
        return acc.set_active(username, active, actor=actor, origin=origin)


def area_of(location: str) -> tuple[float, float, float, float] | None:
    """West, south, east, north of the store's area of interest: where the workspace's maps open."""
    from safeground.storage import open_store

    with open_store(location, create=False, readonly=True) as store:
        aoi = store.area_of_interest()
    return None if aoi is None else (float(aoi[0]), float(aoi[1]), float(aoi[2]), float(aoi[3]))


#: each dashboard's report (a kind of ``safeground report``), one click from its chart
DASHBOARD_REPORTS = {
    "casualties-by-month": "casualties",
    "land-release-over-time": "land-release",
    "remaining-area": "land-release",
    "accuracy-by-source": "map-accuracy",
    "completion-forecast": "national",
}


#: report PDFs made, by (store, kind, audience): (the store's fingerprint when made, the PDF, its name)
_REPORTS: dict[tuple[str, str, str], tuple[str, bytes, str]] = {}
_REPORTS_LOCK = threading.Lock()


def report_pdf(location: str, kind: str, audience: Audience) -> tuple[bytes, str]:
    """(the PDF, its file name) of the evidence report ``kind`` for ``audience``, from the store as it is.

    A report takes seconds to make; it is made again only when the store's content changed (its
    fingerprint, a few aggregate queries), so the dashboards' report links answer at once the second time."""
    import tempfile
    from pathlib import Path

    from safeground.errors import SafeGroundError
    from safeground.services.reports import REPORT_KINDS, write_report
    from safeground.storage import open_store

    if kind not in REPORT_KINDS:
        raise SafeGroundError(f"unknown report {kind!r}", hint=f"use one of: {', '.join(REPORT_KINDS)}")
    with open_store(location, create=False, readonly=True) as store:
        fingerprint = store.fingerprint()
    key = (location, kind, audience.value)
    with _REPORTS_LOCK:
        hit = _REPORTS.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1], hit[2]
    with tempfile.TemporaryDirectory(prefix="safeground-report-") as tmp:
        done = write_report(kind, location, Path(tmp) / "report", audience)
        if done.pdf is None:
            raise SafeGroundError(f"the {kind} report was written without its PDF", hint="the server's log says why")
        made = (fingerprint, done.pdf.read_bytes(), done.pdf.name)
    with _REPORTS_LOCK:
        _REPORTS[key] = made
    return made[1], made[2]


#: the evidence report that speaks for a feature of each map layer (a kind of ``safeground report``)
LAYER_REPORTS = {
    "hazard_areas": "land-release",
    "activities": "land-release",
    "minefield_records": "map-accuracy",
    "minefield_record_assessments": "map-accuracy",
    "accidents": "casualties",
    "eo_items": "national",
    "cluster_strikes": "national",
    "predicted_hazards": "national",
}


def feature_links(layer: str, uid: str, *, exact: bool) -> list[dict[str, str]]:
    """The documents the map's side panel offers for one feature, as far as its reader may read them.

    A minefield record's dossier shows its exact rows and mines (restricted: :mod:`safeground.access.policy`),
    so it is offered only to a reader of exact positions (``exact``); every reader of the map may have the
    layer's evidence report, made for their own audience. Each link is (kind, address, report kind)."""
    from urllib.parse import quote

    out = []
    if layer == "minefield_records" and exact:
        out.append({"kind": "dossier", "href": f"/workspace/dossiers/{quote(uid, safe='')}.pdf", "report": ""})
    report = LAYER_REPORTS.get(layer)
    if report:
        out.append({"kind": "report", "href": f"/workspace/reports/{report}.pdf", "report": report})
    return out


def dossier_pdf(location: str, uid: str) -> tuple[bytes, str]:
    """(the PDF, its file name) of the accuracy dossier of minefield record ``uid``, from the store as it is
    (what ``safeground maps dossier UID`` writes); made again only when the store's content changed."""
    import tempfile
    from pathlib import Path

    from safeground.errors import SafeGroundError
    from safeground.minemaps.accuracy import AccuracyOptions
    from safeground.services.maps import write_dossier
    from safeground.storage import open_store

    with open_store(location, create=False, readonly=True) as store:
        fingerprint = store.fingerprint()
    key = (location, f"dossier:{uid}", "restricted")
    with _REPORTS_LOCK:
        hit = _REPORTS.get(key)
    if hit is not None and hit[0] == fingerprint:
        return hit[1], hit[2]
    with tempfile.TemporaryDirectory(prefix="safeground-dossier-") as tmp:
        done = write_dossier(location, uid, Path(tmp) / "dossier", AccuracyOptions())
        if not done.pdf.exists():
            raise SafeGroundError(f"the dossier of {uid} was written without its PDF", hint="the server's log says why")
        made = (fingerprint, done.pdf.read_bytes(), done.pdf.name)
    with _REPORTS_LOCK:
        _REPORTS[key] = made
    return made[1], made[2]
