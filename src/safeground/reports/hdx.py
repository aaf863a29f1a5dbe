"""Exports for the Humanitarian Data Exchange: CSV with HXL hashtags.

Each CSV has a header row and, under it, a row of HXL hashtags (hxlstandard.org)
so HDX tools can read the columns without guessing: ``#date``, ``#adm1+name``,
``#affected+killed``, ... Places are the district (adm1) and municipality
(adm2) from the admin_areas layer; nothing finer, and never a coordinate or a
name of a person. Public exports blank cells counting 1–4 people and list which
columns were suppressed in ``README.txt``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safeground import tabular
from safeground.casualties import statistics as cs
from safeground.landrelease import accounting as la
from safeground.model import Accident, Activity, AdminArea, Organisation, Victim
from safeground.reports.document import MIN_CELL, Audience, provenance, suppression_mask
from safeground.reports.summary import accidents_without_victims, no_victim_details
from safeground.storage.base import Store

PEOPLE = {
    "killed": "#affected+killed",
    "injured": "#affected+injured",
    "civilian": "#affected+civilians",
    "military": "#affected+military",
    "deminer": "#affected+deminers",
    "children": "#affected+children",
    "adults": "#affected+adults",
    "age_unknown": "#affected+age_unknown",
    "female": "#affected+f",
    "male": "#affected+m",
    "sex_unknown": "#affected+sex_unknown",
    "total": "#affected+total",
}
DEVICES = {d: f"#affected+device+{d}" for d in cs.CATEGORIES["device_type"]}


def _lines(frame: pd.DataFrame) -> list[list[tuple[object, object]]]:
    """Published sums of a casualty table (rows = years or month × place): each Monitor group with its
    total in every row, and every column over all rows."""
    lines: list[list[tuple[object, object]]] = [
        [(r, c) for c in ("total", *g)] for r in frame.index for g in cs.LM_GROUPS
    ]
    lines += [[(r, c) for r in frame.index] for c in frame.columns]
    return lines


def _write(path: Path, frame: pd.DataFrame, tags: dict[str, str], audience: Audience) -> int:
    """Header, HXL row, data rows; public outputs leave hidden people counts empty (primary and secondary)."""
    people = [c for c in frame.columns if tags.get(c, "").startswith("#affected")]
    hide = pd.DataFrame(False, index=frame.index, columns=frame.columns)
    if not audience.exact and people and len(frame):
        hide[people] = suppression_mask(frame[people], lines=_lines(frame[people]))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = tabular.writer(fh)  # an organisation's acronym must not run as a formula
        cols = list(frame.columns)
        w.writerow(cols)
        w.writerow([tags.get(c, "") for c in cols])
        for idx, row in zip(frame.index, frame.itertuples(index=False), strict=True):
            w.writerow(["" if hide.at[idx, c] else v for c, v in zip(cols, row, strict=True)])
    return int(hide.to_numpy().sum())


def _admin_names(store: Store) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    adm = pd.DataFrame(store.read_frame(AdminArea).drop(columns="geometry", errors="ignore"))
    if not len(adm):
        return {}, {}, {}
    name = dict(zip(adm["uid"], adm["name"], strict=True))
    code = dict(zip(adm["uid"], adm["code"].fillna(adm["uid"]), strict=True))
    parent = dict(zip(adm["uid"], adm["parent_uid"], strict=True))
    return name, code, parent


def export_hdx(store: Store, out_dir: str | Path, audience: Audience = Audience.PUBLIC) -> list[Path]:
    """Write the HDX CSV files and a README into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    frame = cs.victims_frame(store)
    name, code, parent = _admin_names(store)
    adm2 = frame["admin_area_uid"]
    frame = frame.assign(
        adm2_name=adm2.map(name).fillna(""),
        adm2_code=adm2.map(code).fillna(""),
        adm1_name=adm2.map(parent).map(name).fillna(""),
    )
    files: list[Path] = []
    notes: list[str] = []

    # 1. Landmine Monitor country casualty table (per year)
    lm = cs.landmine_monitor_table(frame).reset_index()
    tags = {"year": "#date+year", **PEOPLE, **DEVICES}
    p = out / "casualties_landmine_monitor_by_year.csv"
    n = _write(p, lm, tags, audience)
    files.append(p)
    notes.append(f"{p.name}: casualties per year in the Landmine Monitor layout; {n} cells suppressed")
    missing = accidents_without_victims(store)
    if missing:
        notes.append(f"Casualty files: {no_victim_details(missing)}.")

    # 2. casualties per month and municipality
    rows = []
    for (month, a1, a2, c2), g in frame.groupby(["month", "adm1_name", "adm2_name", "adm2_code"]):
        lmrow = cs.landmine_monitor_table(g).sum()
        rows.append({"month": month, "adm1_name": a1, "adm2_name": a2, "adm2_code": c2, **lmrow.to_dict()})
    # the header even when there is no row: a CSV without one is not a table
    monthly = pd.DataFrame(rows, columns=["month", "adm1_name", "adm2_name", "adm2_code", *PEOPLE, *DEVICES])
    tags = {"month": "#date", "adm1_name": "#adm1+name", "adm2_name": "#adm2+name", "adm2_code": "#adm2+code"}
    p = out / "casualties_by_month_and_municipality.csv"
    n = _write(p, monthly, {**tags, **PEOPLE, **DEVICES}, audience)
    files.append(p)
    notes.append(f"{p.name}: casualties per month and municipality; {n} cells suppressed")

    # 3. land release per month, organisation and method
    act = la.activities_frame(store)
    lr = act.groupby(["month", "organisation", "activity_type", "method"], as_index=False)[
        [*la.RELEASE_COLUMNS, "items_found"]
    ].sum()
    p = out / "land_release_by_month.csv"
    _write(
        p,
        lr.round(1),
        {
            "month": "#date",
            "organisation": "#org+name",
            "activity_type": "#activity+type",
            "method": "#activity+method",
            "cancelled_m2": "#indicator+area+cancelled+m2",
            "reduced_m2": "#indicator+area+reduced+m2",
            "cleared_m2": "#indicator+area+cleared+m2",
            "items_found": "#indicator+items+found+num",
        },
        audience,
    )
    files.append(p)
    notes.append(f"{p.name}: land released per month, organisation, activity type and method")

    # 4. victim assistance: people per area and category (reports/assistance_report.py)
    from safeground.reports.assistance_report import write_assistance_hxl

    p = out / "victim_assistance_by_area.csv"
    n = write_assistance_hxl(store, p, audience)
    files.append(p)
    notes.append(f"{p.name}: people assessed, reached and with an unmet need per area and need; {n} cells suppressed")

    prov = provenance(store, [Accident, Victim, AdminArea, Activity, Organisation])
    readme = out / "README.txt"
    readme.write_text(
        "SafeGround export for the Humanitarian Data Exchange (CSV with HXL hashtags on the second row).\n"
        f"Audience: {audience.value}."
        + (
            f" Cells counting 1 to {MIN_CELL - 1} people are left empty (suppressed), and so is the smallest other"
            " cell of a row group or column where the hidden one could otherwise be worked out from the totals;"
            " zeros are real zeros.\n"
            if not audience.exact
            else " No suppression: not for publication.\n"
        )
        + "\n".join(notes)
        + f"\n\nData: {prov.store_name}; content hash (SHA-256) {prov.content_hash};\n"
        f"date of information {prov.information_from} to {prov.information_to}; SafeGround {prov.version}; "
        f"generated {prov.generated_at}.\n",
        encoding="utf-8",
    )
    files.append(readme)
    return files
