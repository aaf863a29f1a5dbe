"""How right are the decisions ``maps evidence`` proposes? Measured against a synthetic district's ground truth.

Only a generated district knows where every mine really is (layer ``ground_truth_items``,
restricted): this module exists so that the proposals can be proven, not just presented
(issue 13, point 1). A confirmation, or a new SHA, is right when a mine still in the ground
lies inside the area; a cancellation or reduction is wrong when one lies in the ground it
releases. Mines are what records are about (``EOType.is_mine``); other items still in the ground
(battlefield UXO, submunitions) in released ground are counted apart, since no record could place
them and a release survey must still expect them. No operational output may call this: it reads
the restricted layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely

from safeground.errors import SafeGroundError
from safeground.geometry.projection import project
from safeground.minemaps.hazard_evidence import Action, EvidencePlan, plan
from safeground.model import GroundTruthItem
from safeground.model.vocab import EOType
from safeground.storage.base import Store, metric_epsg


@dataclass
class EvidenceQuality:
    """Decision-quality figures of one plan; ``rows`` has one entry per proposal."""

    confirmations: int = 0
    confirmations_with_true_mine: int = 0
    new_shas: int = 0
    new_shas_with_true_mine: int = 0
    releases: int = 0  # cancellations and reductions
    releases_over_true_mine: int = 0
    true_mines_released: int = 0  # mines still in the ground inside released ground
    other_items_released: int = 0  # other explosive items still in the ground there (UXO, submunitions)
    without_reason: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """The figures in one line, as the per-seed scripts print them."""
        return (
            f"confirm with a true mine inside {self.confirmations_with_true_mine}/{self.confirmations}; "
            f"new SHA with a true mine inside {self.new_shas_with_true_mine}/{self.new_shas}; "
            f"cancel/reduce over a true uncleared mine {self.releases_over_true_mine}/{self.releases} "
            f"({self.true_mines_released} mines; other items in released ground {self.other_items_released}); "
            f"without a reason {self.without_reason}"
        )


def evidence_decision_quality(store: Store, planned: EvidencePlan | None = None) -> EvidenceQuality:
    """Score the proposals of ``planned`` (by default ``plan(store)``) against the store's ground truth.

    Needs a generated district (ground truth) with saved assessments (``maps accuracy --save``);
    refuses otherwise rather than report figures over nothing.
    """
    truth = store.read_frame(GroundTruthItem)
    if len(truth) == 0:
        raise SafeGroundError(
            "no ground truth in this store", hint="decision quality can only be measured on a generated district"
        )
    planned = plan(store) if planned is None else planned
    if not planned.updates and not planned.proposals:
        raise SafeGroundError(
            "no hazard area cites an assessed minefield record",
            hint="save assessments first: safeground maps accuracy --save",
        )
    epsg = metric_epsg(store, truth)
    live = truth[truth["fate"] == "in_ground"].to_crs(epsg)
    is_mine = np.array([EOType(t).is_mine for t in live["eo_type"]], dtype=bool)
    all_xy = live.get_coordinates().to_numpy() if len(live) else np.empty((0, 2))
    xy, other_xy = all_xy[is_mine], all_xy[~is_mine]
    q = EvidenceQuality()
    for p in planned.proposals:
        geom = project(p.geometry, 4326, epsg)
        n = _count(geom, xy)
        q.without_reason += not p.reason.strip()
        if p.action == Action.CONFIRM:
            q.confirmations += 1
            q.confirmations_with_true_mine += n > 0
        elif p.action == Action.NEW_SHA:
            q.new_shas += 1
            q.new_shas_with_true_mine += n > 0
        else:
            q.releases += 1
            q.releases_over_true_mine += n > 0
            q.true_mines_released += n
            q.other_items_released += _count(geom, other_xy)
        q.rows.append(
            {
                "action": p.action.value,
                "hazard": p.hazard_uid,
                "records": list(p.record_uids),
                "area_m2": round(p.area_m2, 1),
                "true_mines_inside": n,
                "other_items_inside": _count(geom, other_xy),
                "reason": p.reason,
            }
        )
    return q


def _count(geom: shapely.Geometry, xy: np.ndarray) -> int:
    if geom.is_empty or not len(xy):
        return 0
    return int(shapely.contains_xy(geom, xy[:, 0], xy[:, 1]).sum())
