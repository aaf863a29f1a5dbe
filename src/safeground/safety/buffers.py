"""Safety buffers: how far from each kind of known danger a person should stay. One place.

The distances are conservative defaults for risk education and marking, not
technical survey results; a national authority sets its own in its settings.
Handed-over minefield records get a wide buffer because about a quarter of them
turned out right: the mines may lie hundreds of metres from where the record
puts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from safeground.model.vocab import Contamination


@dataclass(frozen=True)
class SafetyBuffers:
    hazard_m: dict[Contamination, float] = field(
        default_factory=lambda: {
            Contamination.AP_MINES: 50.0,
            Contamination.AV_MINES: 25.0,
            Contamination.MIXED: 50.0,
            Contamination.CLUSTER: 100.0,  # submunitions scatter beyond the mapped footprint
            Contamination.OTHER_ERW: 50.0,
            Contamination.IMPROVISED: 50.0,
        }
    )
    minefield_record_m: float = 200.0  # records are often displaced as a whole
    cluster_strike_m: float = 100.0
    found_item_m: float = 50.0  # where one item was found, others may remain
    accident_m: float = 50.0

    def for_hazard(self, contamination: Contamination | str) -> float:
        """The buffer of a hazard area of this contamination (50 m for a kind the settings leave out)."""
        return self.hazard_m.get(Contamination(contamination), 50.0)

    @property
    def widest_m(self) -> float:
        return max(
            max(self.hazard_m.values()),
            self.minefield_record_m,
            self.cluster_strike_m,
            self.found_item_m,
            self.accident_m,
        )


DEFAULT_BUFFERS = SafetyBuffers()
