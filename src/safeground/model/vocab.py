"""Controlled vocabulary, in the terms of IMAS 04.10 and IMSMA.

String enums so that the stored value is the readable term itself: a GIS user
opening the GeoPackage in QGIS sees ``confirmed_hazardous_area``, not ``2``.
"""

from __future__ import annotations

from enum import StrEnum


class HazardClass(StrEnum):
    SHA = "suspected_hazardous_area"
    CHA = "confirmed_hazardous_area"

    @property
    def short(self) -> str:
        """The abbreviation IMAS, the operators and every table and chart use: ``SHA`` or ``CHA``."""
        return self.name


def hazard_class_label(classification: object) -> str:
    """The short label (``SHA``/``CHA``) of a classification, stored term or enum; anything else as it is.

    Reports, summaries and charts print the abbreviation; the store keeps the full IMAS term (so a GIS
    user reading the layer sees it spelled out). A value that is no classification is shown unchanged,
    never hidden: a table must not turn an unexpected term into a blank.
    """
    try:
        return HazardClass(str(classification)).short
    except ValueError:
        return str(classification)


class HazardStatus(StrEnum):
    OPEN = "open"
    WORKED_ON = "worked_on"
    CLOSED = "closed"


class Contamination(StrEnum):
    AP_MINES = "antipersonnel_mines"
    AV_MINES = "antivehicle_mines"
    MIXED = "mixed_mines"
    CLUSTER = "cluster_munition_remnants"
    OTHER_ERW = "other_erw"
    IMPROVISED = "improvised_mines"


class EvidenceKind(StrEnum):
    DIRECT = "direct"
    INDIRECT = "indirect"


class EOType(StrEnum):
    AP_BLAST = "ap_blast"
    AP_FRAGMENTATION = "ap_fragmentation"
    AV = "av"
    SUBMUNITION = "submunition"
    UXO = "uxo"
    IMPROVISED = "improvised"

    @property
    def is_mine(self) -> bool:
        return self in (EOType.AP_BLAST, EOType.AP_FRAGMENTATION, EOType.AV, EOType.IMPROVISED)


class EOStatus(StrEnum):
    RECORDED = "recorded"  # shown on a minefield record, not yet seen
    FOUND = "found"  # found on the ground by survey, clearance or EOD


class EOCondition(StrEnum):
    INTACT = "intact"
    DAMAGED = "damaged"
    ARMED = "armed"
    UNKNOWN = "unknown"


class HowFound(StrEnum):
    MANUAL_CLEARANCE = "manual_clearance"
    MECHANICAL = "mechanical"
    MDD = "mine_detection_dog"
    VISUAL = "visual"
    EOD_CALL_OUT = "eod_call_out"
    ACCIDENT = "accident"


class ActivityType(StrEnum):
    NTS = "non_technical_survey"
    TS = "technical_survey"
    CLEARANCE = "clearance"
    EOD = "eod_spot_task"


class ClearanceMethod(StrEnum):
    MANUAL = "manual"
    MECHANICAL = "mechanical"
    MDD = "mine_detection_dog"
    MIXED = "mixed"
    DESK = "desk_and_interviews"


class DeviceType(StrEnum):
    """Device categories as the Landmine Monitor tabulates casualties."""

    AP_MINE = "antipersonnel_mine"
    IMPROVISED_MINE = "improvised_mine"
    AV_MINE = "antivehicle_mine"
    UNSPECIFIED_MINE = "unspecified_mine"
    SUBMUNITION = "cluster_submunition"
    OTHER_ERW = "other_erw"


class VictimStatus(StrEnum):
    CIVILIAN = "civilian"
    MILITARY = "military"
    DEMINER = "deminer"


class Outcome(StrEnum):
    KILLED = "killed"
    INJURED = "injured"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"


class ActivityAtTime(StrEnum):
    VISITING_CEMETERY = "visiting_cemetery"
    RETURNING_HOME = "returning_to_former_home"
    FARMING = "farming"
    HERDING = "herding"
    COLLECTING = "collecting_wood_or_food"
    TRAVELLING = "travelling"
    DEMINING = "demining"
    OTHER = "other"


class InfrastructureKind(StrEnum):
    CEMETERY = "cemetery"
    SETTLEMENT = "settlement"
    BUILDING = "building"
    COURTYARD_ENTRANCE = "courtyard_entrance"
    ROAD = "road"
    PATH = "path"
    ROAD_JUNCTION = "road_junction"
    BRIDGE = "bridge"
    CANAL = "canal"
    RIVER = "river"
    RIVERBANK = "riverbank"
    POWER_POLE = "power_line_pole"
    LIGHT_POLE = "light_pole"
    POWER_LINE = "power_line"
    SPRING = "spring"
    ORCHARD = "orchard_or_vineyard"
    CHECKPOINT = "checkpoint"


class OrganisationType(StrEnum):
    NATIONAL_AUTHORITY = "national_authority"
    NGO = "ngo"
    COMMERCIAL = "commercial"
    MILITARY = "military"
    UN = "un_agency"


class AdminLevel(StrEnum):
    COUNTRY = "country"
    DISTRICT = "district"
    MUNICIPALITY = "municipality"
