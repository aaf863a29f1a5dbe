"""``safeground init``: an empty store of one's own, with its area of interest, before any import.

A national authority starts with its own data, not with the demo district. The
area of interest is set first because everything after it leans on it: imports
check positions against it (a swapped latitude/longitude is refused), it settles
the hemisphere of a zone like 38S, and its UTM zone is where areas and distances
are measured. Saved field mappings need a store to live in, so the store comes first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from safeground.cli.common import console
from safeground.errors import SafeGroundError
from safeground.storage import is_store_url

#: languages the reports are written in (safeground/reports/i18n)
_LANGUAGES = sorted(p.stem for p in (Path(__file__).parent.parent / "reports" / "i18n").glob("*.json"))


def init(
    store: Annotated[str, typer.Option("--store", "-s", help="New GeoPackage file, or postgresql://…?schema=….")],
    area: Annotated[
        str, typer.Option(help="Area of interest: west,south,east,north in WGS 84 degrees, e.g. 44.7,38.3,50.9,41.95.")
    ],
    name: Annotated[str | None, typer.Option(help="Name of the store, e.g. the authority or country.")] = None,
    language: Annotated[str, typer.Option(help="Language of reports: " + ", ".join(_LANGUAGES) + ".")] = "en",
) -> None:
    """Create an empty store with its area of interest, ready for mappings and imports."""
    from safeground.cli.db import parse_area, set_area
    from safeground.storage import open_store

    if language not in _LANGUAGES:
        raise SafeGroundError(f"--language {language!r} is not one of {', '.join(_LANGUAGES)}")
    bbox = parse_area(area, "--area")
    if not is_store_url(store):
        path = Path(store)
        if path.exists():
            raise SafeGroundError(
                f"{store} exists already: init makes a new store and never touches an existing file",
                hint=f"choose a new file name, or set the area of an existing store with "
                f"`safeground db area --store {store} --bbox {area}`",
            )
        if not path.parent.exists():
            raise SafeGroundError(f"no folder {path.parent} for the store", hint="create the folder first")
    elif _store_exists(store):
        raise SafeGroundError(
            f"a SafeGround store exists already at {store.split('@')[-1]}: init never touches it",
            hint="choose another ?schema=…, or set its area with `safeground db area --bbox …`",
        )
    with open_store(store, create=True) as s:
        epsg, _, _ = set_area(s, bbox, area)
        with s.transaction():
            if name:
                s.set_meta("store_name", name)
            s.set_meta("language", language)
    w, s_, e, n = bbox
    shown = store.split("@")[-1]
    console.print(
        f"[green]created[/] {'store ' + repr(name) if name else 'store'} at {shown}: area of interest "
        f"{w}, {s_}, {e}, {n}; areas and distances measured in EPSG:{epsg}; reports in {language}"
    )
    console.print(
        f"next: save a field mapping (`safeground mapping save NAME FILE.yaml --store {store}`), then "
        f"`safeground import LAYER FILE --store {store} --dry-run`"
    )


def _store_exists(url: str) -> bool:
    """Whether a PostGIS schema already holds a SafeGround store (opened read-only: nothing created)."""
    from safeground.errors import StoreUnavailable
    from safeground.storage import open_store

    try:
        open_store(url, create=False, readonly=True).close()
    except StoreUnavailable as exc:
        if "cannot connect" in exc.message:
            raise
        return False
    return True
