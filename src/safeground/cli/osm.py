"""``safeground import osm FILE.osm.pbf --store F``: OpenStreetMap roads, paths, settlements and cemeteries.

Reached through the ``import`` command (its first argument ``osm``, or a file
ending in ``.osm.pbf``); the reading is ``safeground.intake.osm``.
"""

from __future__ import annotations

from pathlib import Path

from safeground.cli.common import console
from safeground.errors import SafeGroundError
from safeground.storage import is_store_url


def import_osm_file(file: Path, store: str, *, dry_run: bool = False, new: bool = False) -> None:
    """Import an OpenStreetMap extract into the store and say what was taken, left out and why."""
    from safeground.intake.osm import import_osm
    from safeground.storage import open_store

    if not is_store_url(store) and not Path(store).exists() and not new:
        raise SafeGroundError(f"no SafeGround store at {store}", hint="check the path, or add --new to create it")
    if dry_run and not is_store_url(store) and not Path(store).exists():
        raise SafeGroundError(f"no SafeGround store at {store}: a dry run creates nothing", hint="drop --dry-run")
    with open_store(store, create=new or not is_store_url(store)) as s:
        result = import_osm(s, file, dry_run=dry_run)
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
