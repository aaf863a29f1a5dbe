"""Tiles computed on a Dask cluster: the same function as the local loop, shipped to workers.

Each tile is independent given the evidence layers (which are broadcast once),
so a national map is embarrassingly parallel: the scheduler hands out tiles,
the client writes finished tiles into the raster as they arrive, and at most a
few tiles per worker are in flight so the client's memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import numpy as np

from safeground.errors import SafeGroundError
from safeground.risk.features import FeatureBuilder
from safeground.risk.grid import Grid, Tile, Window
from safeground.risk.sources import Layer


@contextmanager
def dask_client(scheduler: str | None, workers: int | None) -> Iterator[object | None]:
    """A client for a running scheduler (``tcp://host:8786``), a LocalCluster of ``workers``, or None (in-process)."""
    if scheduler is None and not workers:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a dependency
        raise SafeGroundError("Dask is not installed", hint="pip install 'dask[distributed]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as exc:
            raise SafeGroundError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                hint="start it with 'dask scheduler' and workers with 'dask worker ADDRESS', or leave out --scheduler",
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client


_BUILDERS: dict[tuple[int, int, int], FeatureBuilder] = {}


def _builder(grid: Grid, layers: list[Layer], spec: object) -> FeatureBuilder:
    """One builder per worker for the broadcast layers: its indexes cost more than a tile to build."""
    key = (id(grid), id(layers), id(spec))
    if key not in _BUILDERS:
        _BUILDERS.clear()
        _BUILDERS[key] = FeatureBuilder(grid, layers, spec)  # type: ignore[arg-type]
    return _BUILDERS[key]


def _tile_task(model: object, grid: Grid, layers: list[Layer], spec: object, tile: Tile) -> tuple[Window, np.ndarray]:
    model.params["predict_threads"] = 1  # type: ignore[attr-defined]  # the cluster parallelises, not the model
    fb = _builder(grid, layers, spec)
    X = fb.tile(tile)
    p = model.predict_proba(X).astype(np.float32)  # type: ignore[attr-defined]
    return tile.core, p.reshape(tile.core.height, tile.core.width)


def predict_tiles(
    model: object,
    grid: Grid,
    layers: list[Layer],
    spec: object,
    tile_cells: int,
    client: object | None,
) -> Iterator[tuple[Window, np.ndarray]]:
    """Probabilities per tile, in process or on the cluster (order of arrival, not row-major)."""
    halo = FeatureBuilder(grid, layers[:0], spec).halo  # type: ignore[arg-type]
    tiles = list(grid.tiles(tile_cells, halo))
    if client is None:
        fb = FeatureBuilder(grid, layers, spec)  # type: ignore[arg-type]
        for t in tiles:
            yield t.core, model.predict_proba(fb.tile(t)).astype(np.float32).reshape(t.core.height, t.core.width)  # type: ignore[attr-defined]
        return
    from distributed import as_completed

    shared = client.scatter([model, grid, layers, spec], broadcast=True)  # type: ignore[attr-defined]
    n_workers = max(1, len(client.scheduler_info()["workers"]))  # type: ignore[attr-defined]
    pending = iter(tiles)
    in_flight = as_completed()
    for t in list(_take(pending, 2 * n_workers)):
        in_flight.add(client.submit(_tile_task, *shared, t, pure=False))  # type: ignore[attr-defined]
    for fut in in_flight:
        window, arr = fut.result()
        fut.release()
        nxt = next(pending, None)
        if nxt is not None:
            in_flight.add(client.submit(_tile_task, *shared, nxt, pure=False))  # type: ignore[attr-defined]
        yield window, arr


def _take(it: Iterator[Tile], n: int) -> Iterator[Tile]:
    for _ in range(n):
        v = next(it, None)
        if v is None:
            return
        yield v


def as_of_or_today(d: date | None) -> date:
    return d or date.today()
