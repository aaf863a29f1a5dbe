"""How minefield records are drawn, and the transform that corrects one: the row model and its fit.

A record is drawn row by row: each row a line between two drawn ends with its mines spread along it
by count. The correction of a displaced record is a similarity transform (shift, rotation, optionally
scale) fitted the way the record was drawn (``fit_rows``): residuals across a row count fully, along
it at ``ALONG_WEIGHT``, each row once; its uncertainty follows from the rows' drawing error
(``correction_covariance``). The transform itself is in ``transform``, the row model of the recorded
mines in ``rows``; the search that finds the correction in ``search`` and ``alignment``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from safeground.minemaps.transform import Transform

#: Weight of the along-row part of a residual relative to the across-row part (see ``fit_rows``).
ALONG_WEIGHT = 0.1


def fit_rows(
    src: np.ndarray,
    dst: np.ndarray,
    center: np.ndarray,
    rows: np.ndarray,
    directions: np.ndarray,
    start: Transform,
    *,
    allow_scale: bool,
    iterations: int = 6,
) -> Transform:
    """Least-squares transform src → dst that weighs evidence the way a minefield record is made.

    A record gives each row as its two ends (from turning points, bearings and distances)
    and a mine count; the mines in between are spread evenly along the line. So:

    * the across-row position of a recorded mine is as good as its row's line, while its
      along-row position also carries the count, which is often misstated (a mine found
      half a spacing along from where the record puts it is no evidence of rotation).
      Residuals are split in the frame of the recorded row; the along-row part weighs
      ``ALONG_WEIGHT`` of the across-row part: it places the record along its rows, the
      lines turn it;
    * the mines of one row share that row's drawing error, so a row with 40 matched finds
      is one observation of the record's rotation, not 40: each row weighs the same in
      total (each matched pair 1 / the row's matched pairs).

    ``rows`` gives the row of each pair, ``directions`` the unit direction of each pair's
    recorded row (before the transform). Gauss–Newton from ``start``.
    """
    src = np.asarray(src, dtype=float)
    dst = np.asarray(dst, dtype=float)
    c = np.asarray(center, dtype=float)
    _, inv, cnt = np.unique(rows, return_inverse=True, return_counts=True)
    w = 1.0 / cnt[inv]
    th = np.deg2rad(start.rotation_deg)
    t = np.array(start.shift, dtype=float)
    sc = float(start.scale) if allow_scale else 1.0
    for _ in range(iterations):
        cur = Transform((float(c[0]), float(c[1])), (float(t[0]), float(t[1])), float(np.degrees(th)), sc)
        ju, jn, u, n = row_jacobians(src, c, directions, cur, allow_scale)
        r = dst - cur.apply(src)
        ru = np.einsum("ki,ki->k", u, r)
        rn = np.einsum("ki,ki->k", n, r)
        h = np.einsum("k,kp,kq->pq", w * ALONG_WEIGHT, ju, ju) + np.einsum("k,kp,kq->pq", w, jn, jn)
        g = ju.T @ (w * ALONG_WEIGHT * ru) + jn.T @ (w * rn)
        step = np.linalg.lstsq(h, g, rcond=None)[0]
        th += step[0]
        t += step[1:3]
        if allow_scale:
            sc += step[3]
        if abs(step[0]) < 1e-7 and np.abs(step[1:3]).max() < 1e-5:
            break
    return Transform((float(c[0]), float(c[1])), (float(t[0]), float(t[1])), float(np.degrees(th)), sc)


def row_jacobians(
    src: np.ndarray, center: np.ndarray, directions: np.ndarray, transform: Transform, allow_scale: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Derivatives of the along-row and across-row parts of each moved position by the parameters,
    and the moved rows' along and across unit vectors."""
    u = directions @ transform.rotation.T
    n = np.column_stack([-u[:, 1], u[:, 0]])
    jac = replace(transform, center=(float(center[0]), float(center[1]))).jacobian(src, allow_scale)
    return np.einsum("ki,kiq->kq", u, jac), np.einsum("ki,kiq->kq", n, jac), u, n


def correction_covariance(
    src: np.ndarray,
    center: np.ndarray,
    transform: Transform,
    rows: np.ndarray,
    directions: np.ndarray,
    fractions: np.ndarray,
    *,
    drawing_sigma: float,
    scatter_sigma: float = 0.0,
    allow_scale: bool,
) -> np.ndarray:
    """Covariance of the ``fit_rows`` estimate from how records are drawn and mines are found.

    How records are made sets how far a correction can be trusted: each row is drawn from
    its two ends, every end off by its own error (``drawing_sigma`` per axis, independent,
    the same in every direction), and a recorded mine at fraction f along the row carries
    (1 − f)·(error of the first end) + f·(error of the last). A fit resting on one or two
    rows inherits those rows' errors: the rows' own directions turn it, and no number of
    mines found along them averages that out. On top, each find scatters on its own about
    its row's line (laid by hand, surveyed: ``scatter_sigma`` per axis), which weighs where
    few mines over a short stretch were matched. Propagated through the linearised weighted
    least squares (a sandwich estimate): parameters rotation (radians), shift east, shift
    north [, scale].
    """
    ju, jn, _, _ = row_jacobians(src, center, directions, transform, allow_scale)
    _, inv, cnt = np.unique(rows, return_inverse=True, return_counts=True)
    w = 1.0 / cnt[inv]
    wu, wn = (ju * (w * ALONG_WEIGHT)[:, None]).T, (jn * w[:, None]).T
    h = wu @ ju + wn @ jn
    # residual change caused by the four end errors of each row (first end along, across; last end along, across)
    k = np.arange(len(src))
    g_u = np.zeros((len(src), 4 * len(cnt)))
    g_n = np.zeros((len(src), 4 * len(cnt)))
    g_u[k, 4 * inv] = 1.0 - fractions
    g_u[k, 4 * inv + 2] = fractions
    g_n[k, 4 * inv + 1] = 1.0 - fractions
    g_n[k, 4 * inv + 3] = fractions
    drawn = np.linalg.lstsq(h, wu @ g_u + wn @ g_n, rcond=None)[0]
    scattered = np.linalg.lstsq(h, np.hstack([wu, wn]), rcond=None)[0]
    return drawing_sigma**2 * drawn @ drawn.T + scatter_sigma**2 * scattered @ scattered.T


def scatter_sigma(across: np.ndarray, rows: np.ndarray, fractions: np.ndarray) -> float | None:
    """Scatter (m, per axis) of the finds about their rows' lines, from the across-row residuals.

    A row's drawing error moves its recorded mines along a straight line (linear in the
    fraction along the row), so a straight line fitted to each row's across-row residuals
    takes it out entirely; what is left is the finds' own scatter. None without a row of
    three matches.
    """
    ss, dof = 0.0, 0
    for r in np.unique(rows):
        sel = rows == r
        if sel.sum() < 3 or np.ptp(fractions[sel]) <= 0:
            continue
        x = np.column_stack([np.ones(sel.sum()), fractions[sel]])
        res = across[sel] - x @ np.linalg.lstsq(x, across[sel], rcond=None)[0]
        ss += float(res @ res)
        dof += int(sel.sum()) - 2
    return float(np.sqrt(ss / dof)) if dof > 0 else None
