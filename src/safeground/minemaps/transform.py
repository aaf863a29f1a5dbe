"""The correction of a displaced minefield record: a similarity transform in metres, and its plain fit.

A record drawn from a wrong reference point is shifted and turned as a whole (and, when its
distances were paced or scaled wrongly, stretched): one transform moves every recorded mine to
where it most likely is. ``fit_similarity`` fits it to matched pairs with no regard for how
records are drawn (the search uses it while it matches); ``rowfit.fit_rows`` fits it the way
records are drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Transform:
    """p' = scale · R(rotation) · (p − center) + center + shift, in metres."""

    center: tuple[float, float]
    shift: tuple[float, float]
    rotation_deg: float  # counter-clockwise
    scale: float = 1.0

    @property
    def rotation(self) -> np.ndarray:
        """R(rotation) as a 2 × 2 matrix (row vectors are turned by ``xy @ rotation.T``)."""
        a = np.deg2rad(self.rotation_deg)
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])

    def apply(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        c = np.asarray(self.center)
        return self.scale * (xy - c) @ self.rotation.T + c + np.asarray(self.shift)

    def jacobian(self, xy: np.ndarray, allow_scale: bool) -> np.ndarray:
        """d(moved position)/d(rotation in radians, shift east, shift north[, scale]) for each of ``xy``: (n, 2, p)."""
        p = (np.asarray(xy, dtype=float).reshape(-1, 2) - np.asarray(self.center)) @ self.rotation.T
        jac = np.zeros((len(p), 2, 4 if allow_scale else 3))
        jac[:, :, 0] = self.scale * np.column_stack([-p[:, 1], p[:, 0]])
        jac[:, 0, 1] = 1.0
        jac[:, 1, 2] = 1.0
        if allow_scale:
            jac[:, :, 3] = p
        return jac

    @property
    def shift_m(self) -> float:
        return float(np.hypot(*self.shift))


def fit_similarity(src: np.ndarray, dst: np.ndarray, center: np.ndarray, *, allow_scale: bool) -> Transform:
    """Least-squares rigid (or similarity) transform src → dst (Umeyama 1991)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, s, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T)) or 1.0
    rot = vt.T @ np.diag([1.0, d]) @ u.T
    scale = float((s * np.array([1.0, d])).sum() / (a**2).sum()) if allow_scale and (a**2).sum() > 0 else 1.0
    angle = float(np.degrees(np.arctan2(rot[1, 0], rot[0, 0])))
    # express about ``center``: p' = scale R (p - c) + c + shift
    shift = md - scale * (ms - center) @ rot.T - center
    return Transform((float(center[0]), float(center[1])), (float(shift[0]), float(shift[1])), angle, scale)
