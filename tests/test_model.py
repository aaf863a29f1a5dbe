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


def test_one_same_record_test_ignores_bookkeeping_and_millimetres_only():
    from shapely.affinity import translate

    from safeground.model.same import SAME_PLACE_DEG, same_record

    a = sample(HazardArea)
    later = a.model_copy(update={"version": 2, "entered_by": "clerk 2", "change_reason": "re-imported"})
    assert same_record(a, later)  # who entered it and which version: bookkeeping, not a change
    assert not same_record(a, later, ignore=())  # sync compares whole versions
    assert not same_record(a, a.model_copy(update={"remaining_area_m2": a.remaining_area_m2 - 1}))
    near = a.model_copy(update={"geometry": translate(a.geometry, xoff=SAME_PLACE_DEG / 2)})
    far = a.model_copy(update={"geometry": translate(a.geometry, xoff=SAME_PLACE_DEG * 20)})  # about 2 cm
    assert same_record(a, near) and not same_record(a, far)


def test_hazard_class_labels_are_the_imas_abbreviations():
    from safeground.model.vocab import HazardClass, hazard_class_label

    assert [c.short for c in HazardClass] == ["SHA", "CHA"]
    assert hazard_class_label("confirmed_hazardous_area") == "CHA" == hazard_class_label(HazardClass.CHA)
    assert hazard_class_label("something_else") == "something_else"  # shown, never blanked


def test_figures_leave_matplotlib_state_alone():
    # in a fresh process: importing the drawing modules and drawing selects no backend and opens no pyplot figure
    import subprocess
    import sys

    code = (
        "import matplotlib, sys\n"
        "import safeground.reports.district_map, safeground.reports.dossier, safeground.reports.village_map\n"
        "import safeground.reports.document, safeground.landrelease.charts\n"
        "from safeground.figures import subplots\n"
        "fig, ax = subplots(figsize=(2.0, 1.0))\n"
        "ax.plot([0, 1], [0, 1])\n"
        "assert fig.canvas.get_renderer() is not None\n"  # text can be measured before saving (village map)
        "print(matplotlib.rcParams._get_backend_or_none(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "False"]
