"""The answer's vocabulary, shared by the single check (``safety.check``) and the batch (``safety.batch``).

Apart from both so that the batch, which the single check hands many points to, does not import it back.
"""

from __future__ import annotations

from enum import IntEnum

#: a point this close to an outline counts as on it: projection round-off is millimetres,
#: survey accuracy is metres, and at the edge of a hazard the answer must be "inside"
ON_EDGE_M = 0.05
#: how far (degrees) outside the store's area a point may lie before it is refused as a mistake
AREA_MARGIN_DEG = 0.5
#: the reason given when only the risk model raises a point to caution
RISK_REASON = "the risk model rates this ground among the most likely to be contaminated"


class Level(IntEnum):
    NO_KNOWN_HAZARD = 0
    CAUTION = 1
    DANGER = 2
