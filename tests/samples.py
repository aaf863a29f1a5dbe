"""One valid record of every type, for the store contract suite."""

from __future__ import annotations

from datetime import date

import shapely

from safeground.model import (
    RECORD_TYPES,
    Accident,
    Activity,
    AdminArea,
    ClusterStrike,
    CorrectedMinePosition,
    EOItem,
    Evidence,
    FrontLine,
    GroundTruthItem,
    HazardArea,
    HumanRemainsFind,
    InfrastructureArea,
    InfrastructureLine,
    InfrastructurePoint,
    MinefieldRecord,
    MineRow,
    Organisation,
    PredictedHazard,
    Record,
    RecordAssessment,
    ReferencePoint,
    StatusChange,
    Victim,
    VictimIdentity,
)

D = date(2021, 5, 1)
LON, LAT = 47.15, 39.62


def square(i: int, size: float = 0.001) -> shapely.Polygon:
    x, y = LON + i * 0.01, LAT
    return shapely.box(x, y, x + size, y + size)


def point(i: int) -> shapely.Point:
    return shapely.Point(LON + i * 0.01, LAT + 0.0005)


def sample(cls: type[Record], i: int = 1) -> Record:
    """A valid record of ``cls`` whose geometry depends on ``i`` (so bbox tests can tell them apart)."""
    base = {"uid": f"{cls.UID_PREFIX}-{i:05d}", "date_of_information": D, "entered_by": "tester"}
    if cls is HazardArea:
        return HazardArea(
            **base,
            name=f"CHA {i}",
            classification="confirmed_hazardous_area",
            status="open",
            status_history=[StatusChange(date=D, status="open", reason="accident reported")],
            contamination="antipersonnel_mines",
            evidence=[Evidence(kind="direct", description="accident", source="police report", date=D)],
            estimated_area_m2=9000.0,
            remaining_area_m2=9000.0,
            priority=1,
            geometry=square(i),
        )
    if cls is MinefieldRecord:
        return MinefieldRecord(
            **base,
            source="Handover batch 1",
            source_reference="No. 7",
            date_received=D,
            date_laid=date(1995, 3, 1),
            reference_points=[ReferencePoint(label="LM", role="landmark", lon=LON, lat=LAT)],
            rows=[
                MineRow(
                    label="R1",
                    mine_type="ap_blast",
                    start_lon=LON,
                    start_lat=LAT,
                    end_lon=LON + 0.001,
                    end_lat=LAT,
                    mine_count=10,
                    spacing_m=4.5,
                )
            ],
            expected_mines={"ap_blast": 10},
            claimed_accuracy_m=2.0,
            original_document="handover/1/7.pdf",
            geometry=square(i),
        )
    if cls is EOItem:
        return EOItem(
            **base,
            status="found",
            eo_type="ap_blast",
            eo_model="PMN-2",
            depth_cm=8.0,
            how_found="manual_clearance",
            geometry=point(i),
        )
    if cls is GroundTruthItem:
        return GroundTruthItem(**base, eo_type="av", laid_context="front_belt", geometry=point(i))
    if cls is Activity:
        return Activity(
            **base,
            activity_type="clearance",
            organisation_uid="ORG-00001",
            method="manual",
            start_date=D,
            end_date=D,
            area_cleared_m2=100.0,
            geometry=square(i),
        )
    if cls is Accident:
        return Accident(**base, accident_date=D, device_type="antipersonnel_mine", geometry=point(i))
    if cls is Victim:
        return Victim(
            **base,
            accident_uid="ACC-00001",
            victim_status="civilian",
            outcome="injured",
            sex="male",
            age=34,
            activity_at_time="visiting_cemetery",
        )
    if cls is VictimIdentity:
        return VictimIdentity(**base, victim_uid="VIC-00001", full_name="Test Person")
    if cls is ClusterStrike:
        return ClusterStrike(
            **base,
            strike_date=date(2020, 10, 20),
            munition_type="9M55K",
            submunition_count=72,
            center_lon=LON,
            center_lat=LAT,
            geometry=square(i),
        )
    if cls is HumanRemainsFind:
        return HumanRemainsFind(**base, find_date=D, geometry=point(i))
    if cls is InfrastructurePoint:
        return InfrastructurePoint(**base, kind="power_line_pole", geometry=point(i))
    if cls is InfrastructureLine:
        return InfrastructureLine(
            **base,
            kind="canal",
            geometry=shapely.LineString([(LON + i * 0.01, LAT), (LON + i * 0.01 + 0.002, LAT)]),
        )
    if cls is InfrastructureArea:
        return InfrastructureArea(**base, kind="cemetery", name="Test cemetery", geometry=square(i))
    if cls is FrontLine:
        return FrontLine(
            **base,
            name="line",
            geometry=shapely.LineString([(LON + i * 0.01, LAT), (LON + i * 0.01, LAT + 0.01)]),
        )
    if cls is Organisation:
        return Organisation(**base, name="Test NGO", org_type="ngo")
    if cls is RecordAssessment:
        return RecordAssessment(
            **base,
            minefield_record_uid="MFR-00001",
            source="Handover batch 1",
            as_of=D,
            method="test",
            recorded_mines=10,
            verified_mines=8,
            confirmed_mines=6,
            precision=0.75,
            by_type={"ap_blast": {"recorded": 10}},
            grade="C",
            evidence_kind="indirect",
            grade_reason="test",
            geometry=square(i),
        )
    if cls is CorrectedMinePosition:
        return CorrectedMinePosition(
            **base,
            assessment_uid="MRA-00001",
            minefield_record_uid="MFR-00001",
            recorded_item_uid="EO-00001",
            eo_type="av",
            shift_m=120.5,
            uncertainty_m=1.5,
            geometry=point(i),
        )
    if cls is AdminArea:
        return AdminArea(**base, name="Test district", level="district", geometry=square(i))
    if cls is PredictedHazard:
        return PredictedHazard(
            **base,
            run_id="lightgbm-abc@2026-01-01#1",
            model_version="lightgbm-abcdef12-20260101T000000",
            data_fingerprint="abcdef1234567890",
            features_as_of=D,
            threshold=0.25,
            mean_risk=0.4,
            max_risk=0.9,
            area_m2=12_500.0,
            raster="/data/risk.tif",
            geometry=shapely.MultiPolygon([square(i)]),
        )
    people = _people_sample(cls, base, i)
    if people is not None:
        return people
    raise AssertionError(f"no sample for {cls.__name__}")


def _people_sample(cls: type[Record], base: dict, i: int) -> Record | None:
    """Victim assistance and the missing (issue 21)."""
    from safeground.model.assistance import AssistanceAssessment, AssistanceService
    from safeground.model.missing import MissingPerson, RemainsCaseLink, RemainsHandover

    if cls is AssistanceAssessment:
        return AssistanceAssessment(**base, victim_uid="VIC-00001", assessed_on=D, disabilities=["visual_impairment"])
    if cls is AssistanceService:
        return AssistanceService(**base, victim_uid="VIC-00001", category="prosthetics_and_assistive_devices",
                                 status="referred", needed_since=D, referred_on=D)  # fmt: skip
    if cls is MissingPerson:
        return MissingPerson(**base, full_name="Missing Test Person", year_missing=1993, geometry=point(i))
    if cls is RemainsCaseLink:
        return RemainsCaseLink(**base, find_uid="HRF-00001", case_uid="MP-00001", decided_by="tester", decided_on=D)
    if cls is RemainsHandover:
        return RemainsHandover(**base, find_uid="HRF-00001", handed_on=D, receiving_body="icrc")
    return None


ALL_TYPES = list(RECORD_TYPES.values())
