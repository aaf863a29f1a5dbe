"""The domain model refuses records a mine action information officer would refuse."""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from pydantic import ValidationError

from safeground.model import Activity, EOItem, HazardArea, Victim, VictimIdentity
from tests.samples import sample


def test_remaining_area_cannot_exceed_estimated_area():
    with pytest.raises(ValidationError, match="remaining_area_m2 larger"):
        HazardArea.model_validate({**sample(HazardArea).model_dump(), "remaining_area_m2": 1e9})


def test_confirmed_area_needs_direct_evidence():
    data = sample(HazardArea).model_dump()
    data["evidence"] = [{"kind": "indirect", "description": "informant", "source": "returnee"}]
    with pytest.raises(ValidationError, match="direct evidence"):
        HazardArea.model_validate(data)
    data["classification"] = "suspected_hazardous_area"
    assert HazardArea.model_validate(data).classification.value == "suspected_hazardous_area"


def test_status_must_match_last_status_change():
    data = sample(HazardArea).model_dump()
    data["status"] = "closed"
    with pytest.raises(ValidationError, match="last status change"):
        HazardArea.model_validate(data)


def test_unknown_vocabulary_is_refused_with_the_allowed_terms():
    data = sample(HazardArea).model_dump()
    data["contamination"] = "landmines"
    with pytest.raises(ValidationError, match="antipersonnel_mines"):
        HazardArea.model_validate(data)


def test_polygon_is_stored_as_multipolygon_and_invalid_polygons_are_refused():
    hz = sample(HazardArea)
    assert hz.geometry.geom_type == "MultiPolygon"
    data = hz.model_dump()
    data["geometry"] = "POLYGON ((47 39, 47.1 39.1, 47.1 39, 47 39.1, 47 39))"
    with pytest.raises(ValidationError, match="Self-intersection"):
        HazardArea.model_validate(data)
    data["geometry"] = shapely.Point(47, 39)
    with pytest.raises(ValidationError, match="Point where multipolygon expected"):
        HazardArea.model_validate(data)


def test_recorded_item_needs_its_record_and_found_item_how_found():
    data = sample(EOItem).model_dump()
    data.update(status="recorded")
    with pytest.raises(ValidationError, match="minefield_record_uid"):
        EOItem.model_validate(data)
    data.update(status="found", how_found=None)
    with pytest.raises(ValidationError, match="how_found"):
        EOItem.model_validate(data)


def test_activity_dates_and_outcomes():
    data = sample(Activity).model_dump()
    data.update(end_date=date(2020, 1, 1))
    with pytest.raises(ValidationError, match="end_date before start_date"):
        Activity.model_validate(data)
    data = sample(Activity).model_dump()
    data.update(activity_type="non_technical_survey")
    with pytest.raises(ValidationError, match="cannot clear"):
        Activity.model_validate(data)


def test_victim_fields_and_restricted_identity():
    v = sample(Victim)
    assert v.is_child is False
    with pytest.raises(ValidationError):
        Victim.model_validate({**v.model_dump(), "age": 130})
    assert Victim.restricted_fields() == set()
    assert {"full_name", "contact", "home_settlement"} <= VictimIdentity.restricted_fields()
    assert VictimIdentity.RESTRICTED


def test_identifier_format():
    with pytest.raises(ValidationError, match="uid"):
        Victim.model_validate({**sample(Victim).model_dump(), "uid": "has space"})
