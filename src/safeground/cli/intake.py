"""Commands that take files in and give them out: import, export, field mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from safeground.cli.common import StoreOpt, console, err
from safeground.errors import Problem, SafeGroundError, as_flag, render_params
from safeground.outputs import OverwriteOpt
from safeground.storage import is_store_url

mapping_app = typer.Typer(help="Field mappings: how your columns and values become SafeGround fields, saved once.")

_SHOW = 20  # changes listed per action on screen; --changes has them all


def import_(
    layer: Annotated[str, typer.Argument(help="Target layer, e.g. hazard_areas, eo_items, accidents.")],
    file: Annotated[
        Path, typer.Argument(help="GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ, CSV or XLSX of coordinates …")
    ],
    store: Annotated[str, typer.Option("--store", "-s", help="GeoPackage file of the store (or postgresql://…).")],
    repair: Annotated[bool, typer.Option(help="Fix repairable geometry problems and list the changes.")] = False,
    dry_run: Annotated[bool, typer.Option(help="Check everything and show what would change; write nothing.")] = False,
    new: Annotated[bool, typer.Option(help="Create the store if it does not exist yet.")] = False,
    source_layer: Annotated[
        str | None, typer.Option(help="Layer (or XLSX sheet) to read from a file with several.")
    ] = None,
    mapping: Annotated[str | None, typer.Option(help="Saved field mapping name, or a mapping YAML/JSON file.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of a file that declares none, e.g. EPSG:32638.")] = None,
    utm_zone: Annotated[str | None, typer.Option(help="UTM zone of easting/northing columns, e.g. 38N or 38T.")] = None,
    utm_letter: Annotated[
        str | None, typer.Option(help="What the letter of a zone like 38S means: 'band' (MGRS) or 'hemisphere'.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write every problem to this CSV (file,item,field,value,reason).")
    ] = None,
    changes: Annotated[Path | None, typer.Option(help="Write what happens to every row to this CSV.")] = None,
    overwrite: OverwriteOpt = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            help="Import the good rows; leave out those without geometry, with empty geometry, duplicates "
            "and rows with a bad value, each listed with its reason (in --report, or --quarantine)."
        ),
    ] = False,
    quarantine: Annotated[
        Path | None,
        typer.Option(
            help="As --skip-invalid, and write the rows left out, untouched, with a quarantine_reason column, "
            "to this new file (.gpkg: a quarantine_<layer> layer; .geojson; .csv) to fix and import again."
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Field(s) or column(s) that identify a record, e.g. incident_no or ref,year: rows are "
            "duplicates only when their key is the same."
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", help="Who imports (kept in each record's history; default: your system account)."),
    ] = None,
    submit: Annotated[
        bool, typer.Option("--submit", help="Send it to the review queue: a reviewer approves it into the record.")
    ] = False,
) -> None:
    """Import a file into one layer: all features or none; re-imports update, never duplicate.

    Real data has features without geometry, empty ones and duplicates: by default
    the file is refused with every problem listed; --skip-invalid imports the rest
    and says what was left out and why, --quarantine also keeps those rows in a file.
    'safeground import osm FILE.osm.pbf' takes OpenStreetMap roads, paths, rivers, settlements and cemeteries.
    """
    if layer == "osm" or file.name.lower().endswith(".osm.pbf"):  # OpenStreetMap: safeground.cli.osm
        from safeground.cli.osm import import_osm_file

        return import_osm_file(file, store, dry_run=dry_run, new=new)
    from safeground.services.accounts import actor_or_os
    from safeground.services.imports import ImportRefused, import_file

    person = actor_or_os(user)
    if submit:
        return _submit(store, layer, file, person, mapping=mapping, source_layer=source_layer, crs=crs,
                       utm_zone=utm_zone, utm_letter=utm_letter, repair=repair, skip_invalid=skip_invalid,
                       key=[k.strip() for k in key.split(",") if k.strip()] if key else None)  # fmt: skip
    try:
        done = import_file(
            store, layer, file, repair=repair, dry_run=dry_run, new=new, source_layer=source_layer, mapping=mapping,
            crs=crs, utm_zone=utm_zone, utm_letter=utm_letter, report=report, changes=changes, overwrite=overwrite,
            skip_invalid=skip_invalid, quarantine=quarantine,
            key=[k.strip() for k in key.split(",") if k.strip()] if key else None, entered_by=person,
        )  # fmt: skip
    except ImportRefused as exc:
        if exc.report:
            err.print(f"[cyan]report[/]: {len(exc.problems)} problem(s) written to {exc.report}")
        _refusal_summary(exc.problems, skip_invalid or quarantine is not None)
        raise
    rep = done.report
    left = rep.left_out
    if done.quarantined is not None:
        console.print(
            f"[cyan]quarantine[/]: {done.quarantined:,} row(s) left out written to {quarantine}, each with its reason"
        )
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {note}")
    for p in rep.repairs:
        console.print(f"[yellow]repaired[/]: {render_params(p.describe(), as_flag)}")
    verbs = {
        "create": "create",
        "update": "update",
        "unchanged": "skip (unchanged)",
        "older": "skip (older information)",
    }
    would = "would " if dry_run else ""
    for action, verb in verbs.items():
        listed = [c for c in rep.changes if c.action == action]
        if action in ("update", "older") or dry_run:
            for c in listed[:_SHOW]:
                console.print(f"  {would}{verb}: {c.item} → {c.uid}" + (f"  ({c.detail})" if c.detail else ""))
            if rep.counts[action] > _SHOW:
                console.print(
                    f"  … and {rep.counts[action] - _SHOW} more to {verb}" + (" (see --changes)" if not changes else "")
                )
    for p in left.problems[:_SHOW]:
        shown = render_params(f"{p.item}: {p.field}: {p.reason}", as_flag)
        console.print(f"  {'would skip' if dry_run else 'skipped'}: {shown}")
    if len(left.problems) > _SHOW:
        where = (
            " (see --report)" if report else (" (see --quarantine)" if quarantine else " (list them all with --report)")
        )
        console.print(f"  … and {len(left.problems) - _SHOW:,} more problem(s) of rows left out{where}")
    n = rep.counts
    head = "[green]would import[/]" if dry_run else "[green]imported[/]"
    skipped = f"; {left.items:,} skipped ({left.summary()})" if left.items else ""
    repaired = len({p.item for p in rep.repairs})
    console.print(
        f"{head} {n['create'] + n['update']:,} record(s) into {layer} from {file.name}: {n['create']:,} new, "
        f"{n['update']:,} updated, {n['unchanged']:,} unchanged, {n['older']:,} older than stored (not applied); "
        f"{repaired:,} repaired{skipped}"
    )
    if done.emergency:
        uids = ", ".join(p.accident_uid for p in done.emergency[:10]) + (" …" if len(done.emergency) > 10 else "")
        console.print(
            f"[yellow]attention[/]: {len(done.emergency)} accident(s) at places nobody has surveyed ({uids}): "
            f"an emergency SHA for survey is proposed for each; review with `safeground accidents to-hazards "
            f"--store {store}` and confirm with --apply"
        )
    if done.release_reports:
        console.print(
            f"[yellow]attention[/]: {done.release_reports} finished survey/clearance report(s) change hazard areas "
            f"({', '.join(done.release_hazards[:10])}): review with `safeground release propose --store {store}` "
            "and confirm with --apply"
        )


def _refusal_summary(problems: list[Problem], skipping: bool) -> None:
    """Before the refusal: how many rows have which kind of problem, and the way to import the rest."""
    from safeground.services.imports import problem_kinds

    counts = problem_kinds(problems)
    if not counts:
        return
    said = ", ".join(f"{n:,} {k}" for k, n in counts.items())
    err.print(f"[yellow]refused[/]: features or rows with problems: {said}")
    if not skipping:
        err.print(
            "[cyan]or[/]: import the rest with --skip-invalid (what is left out is listed, with --report FILE.csv "
            "written) or --quarantine FILE.gpkg (the rows left out kept there, each with its reason)"
        )


def export(
    layer: Annotated[str, typer.Argument(help="Layer to export, e.g. hazard_areas.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file.")],
    store: StoreOpt = "demo.gpkg",
    fmt: Annotated[str, typer.Option("--format", "-f", help="gpkg, geojson, kml or csv (CSV with HXL hashtags).")] = "",
    include_restricted: Annotated[
        bool,
        typer.Option(help="For the restricted audience: restricted layers and fields, exact positions, every victim."),
    ] = False,
    audience: Annotated[
        str, typer.Option(help="Who the file is for: public (default), partner or restricted (= --include-restricted).")
    ] = "public",
    overwrite: OverwriteOpt = False,
) -> None:
    """Export one layer for GIS, Google Earth or the Humanitarian Data Exchange."""
    from safeground.access import Audience
    from safeground.services.imports import export_layer_file

    aud = Audience.RESTRICTED if include_restricted else Audience.parse(audience)
    done = export_layer_file(store, layer, out, fmt=fmt or None, audience=aud, overwrite=overwrite)
    if done.left_out:
        console.print(
            f"[yellow]note[/]: for the {aud.value} audience, left out or generalised: {'; '.join(done.left_out)} "
            "(--include-restricted to keep)"
        )
    what = "cell(s), each with its count of records," if done.aggregated else "record(s)"
    console.print(f"[green]exported[/] {done.written} {what} of {layer} to {out}")


@mapping_app.command("save")
def mapping_save(
    name: Annotated[str, typer.Argument(help="Name to save the mapping under.")],
    file: Annotated[Path, typer.Argument(help="Mapping as YAML or JSON (format in safeground/intake/mapping.py).")],
    store: StoreOpt = "demo.gpkg",
) -> None:
    """Check a field mapping against its layer and save it in the store under a name."""
    from safeground.intake.mapping import parse_mapping, save_mapping, unfilled_required
    from safeground.storage import open_store

    if not file.exists():
        raise SafeGroundError(f"no mapping file {file}")
    from safeground.intake.yamlsafe import read_text

    fm = parse_mapping(read_text(file), file.name, name=name)
    with open_store(store, create=False) as s:
        save_mapping(s, fm)
    console.print(
        f"[green]saved[/] mapping {name!r} for {fm.layer} ({len(fm.columns)} columns, {len(fm.values)} value tables)"
    )
    for fld in unfilled_required(fm):
        console.print(
            f"[yellow]warning[/]: {fm.layer} needs {fld} and this mapping neither maps a column to it nor gives it "
            f"in constants: every file must then have a column named {fld!r} (or add `constants: {{{fld}: …}}`)"
        )


@mapping_app.command("list")
def mapping_list(store: StoreOpt = "demo.gpkg") -> None:
    """List the field mappings saved in the store."""
    from safeground.intake.mapping import list_mappings
    from safeground.storage import open_store

    with open_store(store, readonly=not is_store_url(store)) as s:
        found = list_mappings(s)
    if not found:
        console.print("no saved mappings")
    for fm in found:
        console.print(f"{fm.name}: {fm.layer}, {len(fm.columns)} columns, {len(fm.values)} value tables")


@mapping_app.command("show")
def mapping_show(
    name: Annotated[str, typer.Argument(help="Saved mapping name.")], store: StoreOpt = "demo.gpkg"
) -> None:
    """Print a saved field mapping as YAML (edit it and save it again to change it)."""
    from safeground.intake.mapping import load_mapping
    from safeground.storage import open_store

    with open_store(store, readonly=not is_store_url(store)) as s:
        fm = load_mapping(s, name)
    console.print(fm.to_yaml(), markup=False, highlight=False)


def _submit(store: str, layer: str, file: Path, person: str, **options: Any) -> None:
    """``import --submit``: the file's changes wait in the review queue; the record is not written."""
    from safeground.accounts.repository import cli_origin
    from safeground.cli.review import print_submitted
    from safeground.services.imports import submit_file

    rep, sub = submit_file(store, layer, file, submitted_by=person, origin=cli_origin(), **options)
    for note in rep.notes:
        console.print(f"[yellow]note[/]: {note}")
    print_submitted(sub, store)
