"""Edited form submissions: which record an edit belongs to, and victims an edit removed or added.

The identity survives edits: Kobo's ``meta/rootUuid`` or ODK Central's ``KEY`` /
``__id`` when the export has them, else the ``_uuid`` / ``instanceID``, with an
edit (``meta/deprecatedID`` = the instance it replaces) matched to the record of
that instance; the instance ids of edits are remembered in the store's metadata
(``form_instance:<id>``) so a chain of edits keeps finding its record. A newer
version with a different number of victims known only by their position is refused,
not re-mapped (one victim's data and restricted name on another's record).
"""

from __future__ import annotations

from safeground.errors import Problem
from safeground.intake.form_exports import SUBMISSION_ID, Submission
from safeground.model import Accident, EOItem, HazardArea, Victim, VictimIdentity
from safeground.model.assistance import AssistanceService
from safeground.model.base import Record
from safeground.storage.base import Store

# -- edits: which record an edited submission belongs to -------------------------------------

#: store metadata key of an instance id → the identity of its submission (``form_instance:<instanceID>``)
INSTANCE_META = "form_instance:"
_MAIN: dict[str, type[Record]] = {"hazard_report": HazardArea, "accident_report": Accident, "eo_find": EOItem,
                                   "assistance_followup": AssistanceService}  # fmt: skip


def resolve_edits(store: Store, form: str, subs: list[Submission], notes: list[str]) -> dict[str, str]:
    """Give each edited submission the identity of the submission it edits; the instance ids to remember.

    KoboToolbox and ODK record an edit as a new instance (new ``_uuid`` / ``instanceID``) naming the one it
    replaces in ``meta/deprecatedID``. Without a stable id in the export (Kobo's ``meta/rootUuid``, ODK
    Central's ``KEY`` / ``__id``, which win), the edit is matched through its deprecatedID: to an instance id
    remembered in the store's metadata (the previous edits of a chain), or to a record imported from that
    instance itself. The answer maps every instance id that is not its submission's identity to that
    identity, to be written with the records (same transaction), so that the next edit is found too.
    """
    cls = _MAIN[form]
    known: dict[str, str] = {}  # instance id → identity, for edits of earlier submissions in this file
    remember: dict[str, str] = {}
    for sub in subs:
        if sub.rejected or not sub.uuid:
            continue
        prev = sub.deprecated
        if not sub.stable and prev and prev != sub.uuid and SUBMISSION_ID.match(prev):
            root = known.get(prev) or store.get_meta(INSTANCE_META + prev)
            if root is None and store.existing_uids(cls, [f"{cls.UID_PREFIX}-{prev}"]):
                root = prev
            if root is not None and SUBMISSION_ID.match(root):
                sub.item = f"submission {sub.instance} (edit of {root})"
                sub.uuid = root
            else:
                notes.append(
                    f"{sub.source}, {sub.item}: an edit of instance {prev}, which was never imported: "
                    "imported as a new submission"
                )
        for iid in (sub.instance, prev if sub.stable else None):  # a stable id vouches for its deprecatedID too
            if iid and iid != sub.uuid and SUBMISSION_ID.match(iid):
                known[iid] = sub.uuid
                if store.get_meta(INSTANCE_META + iid) != sub.uuid:
                    remember[INSTANCE_META + iid] = sub.uuid
    return remember


# -- victims that an edit removed, added or moved -----------------------------------------------


def check_victims(store: Store, subs: list[Submission], records: list[Record]) -> tuple[list[Problem], list[str]]:
    """Stored victims of a submission that its newer version no longer has: problems and notes.

    Victims with a ``victim_id`` keep their uid whatever the edit; a stored one that the newer version
    lacks (removed in Kobo/ODK) is kept and reported. Victims known only by their position cannot be
    told apart once their number changes: that is a problem, not a silent re-mapping (victim 2's data on
    victim 1's record, and victim 1's restricted name on it).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    accidents = {r.uid: r for r in records if isinstance(r, Accident)}
    existing = store.existing_uids(Accident, list(accidents))
    if not existing:
        return problems, notes
    if len(existing) > 50:  # one pass over the layers, as in plan()
        stored_acc = {a.uid: a for a in store.find(Accident) if a.uid in existing}
        stored_vic: dict[str, list[str]] = {}
        for vic in store.find(Victim):
            if vic.accident_uid in existing:
                stored_vic.setdefault(vic.accident_uid, []).append(vic.uid)
    else:
        stored_acc = {uid: store.get(Accident, uid) for uid in existing}
        stored_vic = {uid: [x.uid for x in store.find(Victim, accident_uid=uid)] for uid in existing}
    for sub in subs:
        acc_uid = f"ACC-{sub.uuid}"
        if sub.rejected or acc_uid not in existing or acc_uid not in accidents:
            continue
        if accidents[acc_uid].date_of_information < stored_acc[acc_uid].date_of_information:
            continue  # an older version: plan() reports it, nothing of it is applied
        before = sorted(stored_vic.get(acc_uid, []))
        gone = [u for u in before if u not in set(sub.victim_uids)]
        if sub.victims_by_position and len(before) != len(sub.victim_uids):
            problems.append(
                Problem(
                    sub.source,
                    sub.item,
                    "victims",
                    f"the stored version had {_victims(len(before))} ({', '.join(before) or 'none'}), this one has "
                    f"{len(sub.victim_uids)}: victims are matched by position in this form version (no victim_id), "
                    "so a removed or added victim cannot be told apart and the wrong victim would get another's "
                    "data and name; re-export with the current SafeGround form (its victims carry a victim_id), "
                    "or mark this submission 'Not approved' in KoboToolbox / 'Rejected' in ODK Central to skip it "
                    f"and correct the victims of {acc_uid} by hand",
                )
            )
        elif gone:
            idents = sorted(store.existing_uids(VictimIdentity, ["VID-" + u.removeprefix("VIC-") for u in gone]))
            notes.append(
                f"{sub.source}, {sub.item}: victim(s) {', '.join(gone)} stored for this submission are not in this "
                "version (removed in KoboToolbox/ODK?): kept unchanged"
                + (f", with their restricted identities {', '.join(idents)}" if idents else "")
                + (
                    "; this version identifies its victims by victim_id and the stored ones by their position, "
                    "so they may be the same people counted twice"
                    if any(_by_position(u, acc_uid) for u in gone) and not sub.victims_by_position
                    else ""
                )
                + ": correct or remove them by hand"
            )
    return problems, notes


def _victims(n: int) -> str:
    return f"{n} victim" + ("" if n == 1 else "s")


def _by_position(victim_uid: str, acc_uid: str) -> bool:
    return victim_uid.removeprefix("VIC-" + acc_uid.removeprefix("ACC-") + "-").isdigit()
