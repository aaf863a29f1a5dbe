"""``safeground import osm FILE.osm.pbf --store F``: OpenStreetMap roads, paths, settlements and cemeteries.

Reached through the ``import`` command (its first argument ``osm``, or a file
ending in ``.osm.pbf``); the reading is ``safeground.intake.osm``.
"""

from __future__ import annotations

from pathlib import Path

from safeground.cli.common import console


def import_osm_file(file: Path, store: str, *, dry_run: bool = False, new: bool = False) -> None:
    """Import an OpenStreetMap extract into the store and say what was taken, left out and why."""
    from safeground.services.imports import import_osm_file as run_import

    result = run_import(store, file, dry_run=dry_run, new=new)
    todo = result.plan
    assert todo is not None
    console.print(f"[bold]{result.source}[/]: {result.summary()}")
    for note in todo.notes:
        console.print(f"[yellow]note[/]: {note}")
    for reason, n in sorted(result.skipped.items()):
        console.print(f"  left out: {n:,} × {reason}")
    created, updated = len(todo.create), len(todo.update)
    verb = "would create" if dry_run else "created"
    console.print(
        f"[green]{verb}[/] {created:,}, {'would update' if dry_run else 'updated'} {updated:,}, "
        f"unchanged {len(todo.unchanged):,} (already stored: not duplicated)"
        + ("; nothing was written (dry run)" if dry_run else f" in {store}")
    )
