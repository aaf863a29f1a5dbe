"""Risk education: sessions, and the targeting checked against the generator's later accidents."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import shapely
from pydantic import ValidationError

from safeground.eore.targeting import EOREWeights, need_factors, rank
from safeground.model import Accident, EORESession
from safeground.storage import open_store
from tests.conftest import invoke_cli

CUT = date(2021, 12, 31)


def _ranked(path: Path) -> tuple[pd.DataFrame, set[str]]:
    with open_store(str(path), readonly=True) as s:
        w = EOREWeights()
        ranking, _ = rank(need_factors(s, w, CUT, return_date=date(2020, 11, 20)), w)
        acc = s.read_frame(Accident)
    later = acc[pd.to_datetime(acc["accident_date"]).dt.date > CUT]
    return ranking, set(later["settlement"])


@pytest.mark.parametrize("seed", [2020, 7, 2021])
def test_settlements_where_accidents_follow_and_no_session_was_held_rank_high(district, seed: int) -> None:
    """Ranked as known at the end of 2021: every settlement where an accident happened afterwards and no
    session had been held is in the upper half, and they rank above the settlements no accident followed."""
    ranking, follow = _ranked(district(seed))
    missed = ranking[ranking["settlement"].isin(follow) & (ranking["sessions"] == 0)]
    assert len(missed) >= 1  # the generator's sessions miss some of the villages where accidents follow
    half = math.ceil(len(ranking) / 2)
    assert (missed["rank"] <= half).all(), missed[["rank", "settlement"]]
    others = ranking[~ranking["settlement"].isin(follow)]
    assert missed["rank"].mean() < others["rank"].mean()
    # the contributions add up to the score, as in the clearance priorities
    contrib = ranking[[c for c in ranking.columns if c.startswith("c_")]].sum(axis=1)
    assert (contrib - ranking["score"]).abs().max() < 0.01


def test_a_session_counts_its_audience_and_refuses_more_first_timers_than_people() -> None:
    base = dict(uid="EORE-1", date_of_information=date(2022, 1, 2), session_date=date(2022, 1, 1), settlement="X",
                organisation_uid="ORG-1", method="school", girls_under_12=10, boys_12_17=5,
                geometry=shapely.Point(47.1, 39.6))  # fmt: skip
    assert EORESession(**base, first_time_participants=15).participants == 15
    with pytest.raises(ValidationError, match="first_time_participants"):
        EORESession(**base, first_time_participants=16)


def test_plan_eore_table_csv_and_map(demo_district: Path, tmp_path: Path) -> None:
    res = invoke_cli("plan", "eore", "--store", str(demo_district), "--as-of", "2021-12-31")
    assert res.returncode == 0, res.stderr
    assert "Weights used" in res.stdout
    csv = tmp_path / "eore.csv"
    png = tmp_path / "eore.png"
    res = invoke_cli(
        "plan", "eore", "--store", str(demo_district), "--format", "csv", "--out", str(csv), "--png", str(png)
    )
    assert res.returncode == 0, res.stderr
    table = pd.read_csv(csv)
    assert {"rank", "settlement", "c_returnees", "c_time_since_session", "score"} <= set(table.columns)
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ru = tmp_path / "eore-ru.png"
    res = invoke_cli("plan", "eore", "--store", str(demo_district), "--png", str(ru), "--lang", "ru")
    assert res.returncode == 0 and ru.stat().st_size > 10_000, res.stderr
    res = invoke_cli("plan", "eore", "--store", str(demo_district), "--png", str(tmp_path / "x.png"), "--lang", "xx")
    assert res.returncode == 2 and "az, en, ru" in res.stderr
    # a population figure, when imported, replaces the buildings
    pop = tmp_path / "pop.csv"
    first = table["settlement"].iloc[-1]
    pop.write_text(f"settlement,population\n{first},50000\n")
    res = invoke_cli("plan", "eore", "--store", str(demo_district), "--population", str(pop), "--format", "csv")
    assert res.returncode == 0, res.stderr
    assert f"{first},50000.0,population" in res.stdout


def test_the_demo_has_sessions_in_the_age_bands(demo_district: Path) -> None:
    with open_store(str(demo_district), readonly=True) as s:
        sessions = list(s.find(EORESession))
    assert len(sessions) >= 10
    assert {x.method.value for x in sessions} >= {"school", "media"}
    assert all(x.first_time_participants <= x.participants for x in sessions)


def test_eore_session_form_validates_imports_and_submits_for_review(demo_district: Path, tmp_path: Path) -> None:
    import json
    import shutil

    from pyxform.xls2xform import convert

    from safeground.intake.forms import export_forms

    export_forms(tmp_path / "forms")
    warnings: list[str] = []
    convert(str(tmp_path / "forms" / "eore_session.xlsx"), warnings=warnings)
    assert warnings == []
    sub = {
        "_uuid": "1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b", "_submitted_by": "eore.team", "today": "2022-05-01",
        "session_date": "2022-05-01", "settlement": "Chaykend", "location": "39.62 47.15 300 4",
        "organisation_uid": "ORG-00002", "method": "school", "audience/girls_under_12": "21",
        "audience/boys_under_12": "19", "audience/girls_12_17": "0", "audience/boys_12_17": "0",
        "audience/women_18_over": "2", "audience/men_18_over": "1", "audience/first_time_participants": "40",
        "materials": "leaflet puppet_show",
    }  # fmt: skip
    export = tmp_path / "eore.json"
    export.write_text(json.dumps({"results": [sub]}))
    own = tmp_path / "own.gpkg"
    shutil.copy(demo_district, own)
    res = invoke_cli("forms", "import", "eore_session", str(export), "--store", str(own))
    assert res.returncode == 0, res.stderr
    with open_store(str(own), readonly=True) as s:
        got = s.get(EORESession, "EORE-1b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b")
    assert got.participants == 43 and got.first_time_participants == 40
    assert [m.value for m in got.materials] == ["leaflet", "puppet_show"]
    # the same session through the review queue: a new copy of it as a submission, stored once approved
    sub["_uuid"] = "2b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
    export.write_text(json.dumps({"results": [sub]}))
    res = invoke_cli(
        "forms", "import", "eore_session", str(export), "--store", str(own), "--submit", "--user", "eore.team"
    )
    assert res.returncode == 0, res.stderr
    assert "eore_sessions: 1 new" in res.stdout
    # bad input names the submission and the field, and nothing is stored
    sub["_uuid"] = "3b2c3d4e-5f60-4718-9a2b-3c4d5e6f7a8b"
    sub["audience/first_time_participants"] = "99"
    export.write_text(json.dumps({"results": [sub]}))
    res = invoke_cli("forms", "import", "eore_session", str(export), "--store", str(own))
    assert res.returncode == 2 and "first_time_participants" in res.stderr
