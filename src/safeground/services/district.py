"""The district as a whole: generate the test bed into a store, the demo, the summary, the overview map.

Generating replaces a store, so the rules that keep real data safe live here, once: a store
holding anything a person entered (imports, forms, edits, syncs) is never replaced; a
GeoPackage is built in a temporary file beside it and moved into place only when complete
(a failure never costs the user the store that was there before), with the SQLite WAL files
of both cleaned up so that the new file is not read with the old one's journal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.errors import Param, SafeGroundError
from safeground.outputs import (
    OutputRefused,
    generated_only,
    guard_output,
    is_store_file,
    mark_generated,
    record_made,
    staged_file,
)
from safeground.storage import is_store_url, open_store

if TYPE_CHECKING:
    from safeground.generator.config import DistrictConfig
    from safeground.reports.summary import DistrictSummary

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoMade:
    """What ``demo`` made: the summary of the district, how long it took, and the store's size."""

    summary: DistrictSummary
    seconds: float
    store_mb: float


def _quiet(_msg: str) -> None:
    return None


def generate_district(
    store: str, *, seed: int = 2020, size_km: float = 20.0, overwrite: bool = False, progress: Progress | None = None
) -> float:
    """Build the synthetic district into ``store``; returns the seconds it took.

    An existing store is replaced only with ``overwrite`` and only when it holds generated data alone."""
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import build_district, write_district

    step = progress or _quiet
    cfg = DistrictConfig(seed=seed, size_km=size_km)
    if is_store_url(store):
        return _generate_into_server(store, cfg, overwrite, step)
    path = Path(store)
    if path.exists():
        if not overwrite:
            raise OutputRefused(
                f"{path} already exists; SafeGround will not overwrite a store",
                hint=f"add {Param('overwrite')} (or {Param('force')}) to replace a store of generated data, or choose "
                f"another {Param('store')}",
            )
        refuse_to_replace_real_data(path, overwrite=True)
    if not path.parent.exists():
        raise SafeGroundError(
            f"the folder {path.parent} does not exist", hint=f"create it or choose another {Param('store')}"
        )
    tmp = path.with_name(f".{path.name}.partial")
    t0 = time.perf_counter()
    try:
        district = build_district(cfg, step)
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
        with open_store(str(tmp)) as st:
            write_district(district, st, step)
            mark_generated(st)
        step("district written")
        for p in (Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        os.replace(tmp, path)
        record_made(path)
    finally:
        for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            p.unlink(missing_ok=True)
    return time.perf_counter() - t0


def _generate_into_server(url: str, cfg: DistrictConfig, overwrite: bool, step: Progress) -> float:
    """On PostGIS the district goes into one schema, in one transaction."""
    from safeground.generator.district import build_district, write_district

    t0 = time.perf_counter()
    store = open_store(url)
    try:
        if any(store.counts().values()):
            if not overwrite:
                raise SafeGroundError(
                    f"the store at {store.location} is not empty; SafeGround will not overwrite it",
                    hint=f"add {Param('overwrite')} to replace it, or give another ?schema=",
                )
            if not generated_only(store):
                raise OutputRefused(
                    f"the store at {store.location} holds data that was not generated; SafeGround will not replace it",
                    hint="give another ?schema=",
                )
            store.drop()
            store.close()
            store = open_store(url)
        write_district(build_district(cfg, step), store, step)
        mark_generated(store)
    finally:
        store.close()
    return time.perf_counter() - t0


def refuse_to_replace_real_data(path: Path, overwrite: bool) -> None:
    """The demo and the generator replace a store of generated data only, never one holding anything a person
    entered (imports, forms, edits, syncs); a file that is not a store only with ``overwrite``."""
    if not path.exists():
        return
    if not is_store_file(path):
        guard_output(path, overwrite=overwrite)
        return
    try:
        with open_store(str(path), readonly=True) as s:
            generated = generated_only(s)
    except SafeGroundError:
        generated = False
    if not generated:
        raise OutputRefused(
            f"{path} holds data that was not generated (imported, entered or edited records); "
            "SafeGround will not replace it",
            hint=f"choose another file with {Param('store')}; delete it yourself only if you are sure it is a copy",
        )


def district_summary(store: str) -> DistrictSummary:
    """The manager's summary of a store (read only)."""
    from safeground.reports.summary import summarise

    with open_store(store, readonly=True) as s:
        return summarise(s)


def draw_overview_map(store: str, out: Path, *, overwrite: bool = False, title: str | None = None) -> Path:
    """The overview map of a store as PNG (a district, or a whole country at its own scale)."""
    from safeground.reports.district_map import draw_district_map

    with open_store(store, readonly=True) as s, staged_file(out, overwrite=overwrite, store_location=store) as tmp:
        draw_district_map(s, tmp, title=title)
    return out


def demo_district(
    store: str,
    png: Path,
    *,
    seed: int = 2020,
    size_km: float = 20.0,
    overwrite: bool = False,
    progress: Progress | None = None,
    summary_ready: Callable[[DistrictSummary], None] | None = None,
) -> DemoMade:
    """Generate the demo district (replacing a demo, never real data), summarise it and draw its map.

    ``summary_ready`` is given the summary as soon as the district is written, before the map
    (the slow part) is drawn, so that a person has the figures to read meanwhile."""
    from safeground.reports.district_map import draw_district_map

    step = progress or _quiet
    t0 = time.perf_counter()
    if not is_store_url(store):
        guard_output(png, overwrite=overwrite, store_location=store)
        refuse_to_replace_real_data(Path(store), overwrite)
    generate_district(store, seed=seed, size_km=size_km, overwrite=True, progress=progress)
    summary = district_summary(store)
    if summary_ready is not None:
        summary_ready(summary)
    with open_store(store, readonly=True) as s, staged_file(png, overwrite=overwrite) as tmp:
        step("drawing the district map")
        draw_district_map(s, tmp, title=f"SafeGround demo district (seed {seed}, {size_km:g} × {size_km:g} km)")
    took = time.perf_counter() - t0
    return DemoMade(summary, took, Path(store).stat().st_size / 1e6)
