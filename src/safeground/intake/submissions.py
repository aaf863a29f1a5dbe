"""Import field reports sent from phones, as KoboToolbox and ODK Central export them, all or nothing.

One export of one form (``safeground forms import``) goes through these steps, each in its own module:

* ``safeground.intake.form_exports`` reads the export (KoboToolbox or ODK Central CSV, XLSX, JSON,
  zip; repeat groups joined to their submission) and refuses an export of another form;
* ``safeground.intake.form_edits`` gives an edited submission the identity of the one it edits;
* ``safeground.intake.form_records`` turns submissions into records (typed values read by
  ``safeground.intake.odk_values``), every problem of every submission reported together;
* ``safeground.intake.form_edits`` checks the victims an edit removed or added;
* ``plan`` here decides, record by record, what is written: importing the same export twice
  creates nothing new; a submission with a newer date of information updates its record (the
  old version stays in history), an older or conflicting one is reported.
"""

from __future__ import annotations

from pathlib import Path

from safeground.errors import InvalidInput
from safeground.intake.commit import WritePlan, commit
from safeground.intake.form_edits import check_victims, resolve_edits
from safeground.intake.form_exports import check_form, form_definition, read_exports
from safeground.intake.form_records import to_records
from safeground.model.base import Record
from safeground.model.same import same_record
from safeground.storage.base import Store

# -- planning and writing -----------------------------------------------------------------


def plan(store: Store, records: list[Record]) -> WritePlan:
    """New records are created; a stored one is updated only by newer information, otherwise reported."""
    out = WritePlan()
    by_cls: dict[type[Record], list[Record]] = {}
    for rec in records:
        by_cls.setdefault(type(rec), []).append(rec)
    for cls, recs in by_cls.items():
        existing = store.existing_uids(cls, [r.uid for r in recs])
        if len(existing) > 50:  # one pass over the layer beats thousands of single reads (a server round trip each)
            known = {r.uid: r for r in store.find(cls) if r.uid in existing}
        else:
            known = {uid: store.get(cls, uid) for uid in existing}
        for rec in recs:
            if rec.uid not in existing:
                out.create.append(rec)
                continue
            stored = known[rec.uid]
            if same_record(stored, rec):
                out.unchanged.append(f"{cls.LAYER} {rec.uid}")
            elif rec.date_of_information > stored.date_of_information:
                out.update.append((rec.model_copy(update={"change_reason": "newer form submission"}), stored.version))
            else:
                out.notes.append(
                    f"{cls.LAYER} {rec.uid}: the stored version (information of "
                    f"{stored.date_of_information}) is as new as this submission "
                    f"({rec.date_of_information}) or newer and differs from it: not changed"
                )
    return out


def import_submissions(store: Store, form: str, paths: list[Path], *, dry_run: bool = False) -> WritePlan:
    """Read, check and store one export of one form, all or nothing."""
    return commit(store, plan_submissions(store, form, paths), dry_run=dry_run)


def plan_submissions(store: Store, form: str, paths: list[Path]) -> WritePlan:
    """Read and check one export of one form: what storing it would create and change (nothing is written).

    The review queue keeps this plan as a submission (``forms import --submit``, the KoboToolbox webhook)."""
    definition = form_definition(form)
    subs = read_exports(definition, paths)
    check_form(form, subs)
    skipped: list[str] = []
    remember = resolve_edits(store, form, subs, skipped)
    records = to_records(form, subs, store.area_of_interest(), skipped)
    if form == "accident_report":
        problems, victim_notes = check_victims(store, subs, records)
        if problems:
            raise InvalidInput(problems, hint_text="each problem says how to go on")
        skipped.extend(victim_notes)
    todo = plan(store, records)
    todo.notes[:0] = skipped
    todo.meta.update(remember)
    return todo
