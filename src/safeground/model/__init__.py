"""The domain model: typed, validated records in IMAS/IMSMA vocabulary."""

from safeground.model.activities import Activity
from safeground.model.base import RECORD_TYPES, Record, record_type
from safeground.model.casualties import (
    Accident,
    ClusterStrike,
    HumanRemainsFind,
    Victim,
    VictimIdentity,
)
from safeground.model.context import (
    AdminArea,
    FrontLine,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
    Organisation,
)
from safeground.model.hazards import Evidence, HazardArea, StatusChange
from safeground.model.minemaps import (
    CorrectedMinePosition,
    MinefieldRecord,
    MineRow,
    RecordAssessment,
    ReferencePoint,
)
from safeground.model.ordnance import EOItem, GroundTruthItem
from safeground.model.risk import PredictedHazard

# isort: split
# the people behind the figures (issue 21), registered after the layers above so their order stays
from safeground.model.assistance import AssistanceAssessment, AssistanceService
from safeground.model.missing import MissingPerson, RemainsCaseLink, RemainsHandover

__all__ = [
    "RECORD_TYPES",
    "Accident",
    "Activity",
    "AdminArea",
    "AssistanceAssessment",
    "AssistanceService",
    "ClusterStrike",
    "CorrectedMinePosition",
    "EOItem",
    "Evidence",
    "FrontLine",
    "GroundTruthItem",
    "HazardArea",
    "HumanRemainsFind",
    "InfrastructureArea",
    "InfrastructureLine",
    "InfrastructurePoint",
    "MineRow",
    "MinefieldRecord",
    "MissingPerson",
    "Organisation",
    "PredictedHazard",
    "Record",
    "RecordAssessment",
    "ReferencePoint",
    "RemainsCaseLink",
    "RemainsHandover",
    "StatusChange",
    "Victim",
    "VictimIdentity",
    "record_type",
]
