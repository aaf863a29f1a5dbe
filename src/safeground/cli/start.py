"""``safeground init``: an empty store of one's own, with its area of interest, before any import.

A national authority starts with its own data, not with the demo district. Saved field
mappings need a store to live in, so the store comes first; why the area of interest comes
with it is said in ``safeground.services.store_admin``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from safeground.cli.common import console
from safeground.services.store_admin import LANGUAGES


def init(
    store: Annotated[str, typer.Option("--store", "-s", help="New GeoPackage file, or postgresql://…?schema=….")],
    area: Annotated[
        str, typer.Option(help="Area of interest: west,south,east,north in WGS 84 degrees, e.g. 44.7,38.3,50.9,41.95.")
    ],
    name: Annotated[str | None, typer.Option(help="Name of the store, e.g. the authority or country.")] = None,
    language: Annotated[str, typer.Option(help="Language of reports: " + ", ".join(LANGUAGES) + ".")] = "en",
) -> None:
    """Create an empty store with its area of interest, ready for mappings and imports."""
    from safeground.services.store_admin import create_store

    made = create_store(store, area, name=name, language=language, area_option="--area", language_option="--language")
    w, s_, e, n = made.area
    console.print(
        f"[green]created[/] {'store ' + repr(name) if name else 'store'} at {made.location}: area of interest "
        f"{w}, {s_}, {e}, {n}; areas and distances measured in EPSG:{made.epsg}; reports in {made.language}"
    )
    console.print(
        f"next: save a field mapping (`safeground mapping save NAME FILE.yaml --store {store}`), then "
        f"`safeground import LAYER FILE --store {store} --dry-run`"
    )
