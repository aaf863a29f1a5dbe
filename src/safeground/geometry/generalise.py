"""How public outputs blur positions: one grid for every report, map and export.

Exact positions of mines and accidents are restricted. Anything leaving the
authority without an explicit request shows a place no more precisely than the
cell of this grid, in the local metric projection.
"""

from __future__ import annotations

import numpy as np

#: Side (m) of the grid cells public outputs generalise positions to.
PUBLIC_GRID_M = 1000.0


def cell_centres(xy: np.ndarray, grid_m: float = PUBLIC_GRID_M) -> np.ndarray:
    """Metric coordinates (n, 2) moved to the centre of their grid cell."""
    return (np.floor(np.asarray(xy, dtype=float) / grid_m) + 0.5) * grid_m
