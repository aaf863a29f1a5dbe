"""Tiles computed on a Dask cluster: the same function as the local loop, shipped to workers.

Each tile is independent given the evidence layers (which are broadcast once),
so a national map is embarrassingly parallel: the scheduler hands out tiles,
the client writes finished tiles into the raster as they arrive, and at most a
few tiles per worker are in flight so the client's memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

import numpy as np

from safeground.risk.domain import Domain
from safeground.risk.features import FeatureBuilder
from safeground.risk.grid import Grid, Tile, Window
from safeground.risk.layers import Layer


def dask_client(scheduler: str | None, workers: int | None) -> AbstractContextManager[object | None]:
    """The project's one way to choose where work runs (safeground.compute.client_for)."""
    from safeground.compute import client_for

    return client_for(scheduler, workers)


_BUILDERS: dict[tuple[int, int, int], FeatureBuilder] = {}


def _builder(grid: Grid, layers: list[Layer], spec: object) -> FeatureBuilder:
    """One builder per worker for the broadcast layers: its indexes cost more than a tile to build."""
    key = (id(grid), id(layers), id(spec))
    if key not in _BUILDERS:
        _BUILDERS.clear()
        _BUILDERS[key] = FeatureBuilder(grid, layers, spec)  # type: ignore[arg-type]
    return _BUILDERS[key]


TileResult = tuple[Window, np.ndarray, np.ndarray]  # core window, probabilities (NaN out of domain), reasons


def _score_tile(model: object, fb: FeatureBuilder, domain: Domain | None, tile: Tile) -> TileResult:
    X = fb.tile(tile)
    p = model.predict_proba(X).astype(np.float32)  # type: ignore[attr-defined]
    why = domain.reasons(X, fb.grid.cell) if domain is not None else np.zeros(len(X), np.uint8)
    p[why > 0] = np.nan  # said, not guessed: the reason band tells why
    shape = (tile.core.height, tile.core.width)
    return tile.core, p.reshape(shape), why.reshape(shape)


def _tile_task(
    model: object, grid: Grid, layers: list[Layer], spec: object, domain: Domain | None, tile: Tile
) -> TileResult:
    model.params["predict_threads"] = 1  # type: ignore[attr-defined]  # the cluster parallelises, not the model
    return _score_tile(model, _builder(grid, layers, spec), domain, tile)


def predict_tiles(
    model: object,
    grid: Grid,
    layers: list[Layer],
    spec: object,
    tile_cells: int,
    client: object | None,
    domain: Domain | None = None,
) -> Iterator[TileResult]:
    """Probabilities and out-of-domain reasons per tile, in process or on the cluster (order of arrival)."""
    tiles = list(grid.tiles(tile_cells, spec.halo_cells(grid.cell)))  # type: ignore[attr-defined]
    if client is None:
        fb = FeatureBuilder(grid, layers, spec)  # type: ignore[arg-type]
        for t in tiles:
            yield _score_tile(model, fb, domain, t)
        return
    from distributed import as_completed

    shared = client.scatter([model, grid, layers, spec, domain], broadcast=True)  # type: ignore[attr-defined]
    n_workers = max(1, len(client.scheduler_info()["workers"]))  # type: ignore[attr-defined]
    pending = iter(tiles)
    in_flight = as_completed()
    for t in list(_take(pending, 2 * n_workers)):
        in_flight.add(client.submit(_tile_task, *shared, t, pure=False))  # type: ignore[attr-defined]
    for fut in in_flight:
        result = fut.result()
        fut.release()
        nxt = next(pending, None)
        if nxt is not None:
            in_flight.add(client.submit(_tile_task, *shared, nxt, pure=False))  # type: ignore[attr-defined]
        yield result


def _take(it: Iterator[Tile], n: int) -> Iterator[Tile]:
    for _ in range(n):
        v = next(it, None)
        if v is None:
            return
        yield v
