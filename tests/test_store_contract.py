"""The Store contract: every backend must pass this file unchanged."""

from __future__ import annotations

from datetime import date

import pytest
import shapely

from safeground.errors import DuplicateRecord, RecordNotFound, VersionConflict
from safeground.model import EOItem, HazardArea, Organisation, StatusChange, Victim
from safeground.model.vocab import HazardStatus
from safeground.storage.base import Store
from tests.samples import ALL_TYPES, sample


def _snapshot(store: Store) -> dict[str, list[dict]]:
    out = {}
    for cls in ALL_TYPES:
        out[cls.LAYER] = [r.model_dump(mode="json") for r in store.find(cls)]
    return out


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda c: c.LAYER)
def test_every_record_type_round_trips_exactly(store: Store, cls):
    rec = sample(cls, 1)
    store.add(rec)
    back = store.get(cls, rec.uid)
    assert back.model_dump(mode="json") == rec.model_dump(mode="json")
    if cls.GEOMETRY:
        assert shapely.equals_exact(back.geometry, rec.geometry, tolerance=0)


def test_counts_cover_every_layer(store: Store):
    store.add_many([sample(c, 1) for c in ALL_TYPES])
    counts = store.counts()
    assert set(counts) == {c.LAYER for c in ALL_TYPES}
    assert all(n == 1 for n in counts.values())


def test_duplicate_identifier_is_refused_and_nothing_is_written(store: Store):
    store.add(sample(HazardArea, 1))
    before = _snapshot(store)
    with pytest.raises(DuplicateRecord, match="HA-00001"):
        store.add_many([sample(HazardArea, 2), sample(HazardArea, 1)])
    assert _snapshot(store) == before


def test_duplicate_inside_one_write_is_refused(store: Store):
    with pytest.raises(DuplicateRecord):
        store.add_many([sample(Organisation, 1), sample(Organisation, 1)])
    assert store.count(Organisation) == 0


def test_update_keeps_every_previous_version(store: Store):
    rec = store.add(sample(HazardArea, 1))
    changed = rec.model_copy(
        update={
            "status": HazardStatus.WORKED_ON,
            "status_history": [
                *rec.status_history,
                StatusChange(date=date(2021, 6, 1), status="worked_on", reason="TS"),
            ],
            "change_reason": "technical survey started",
        }
    )
    v2 = store.update(HazardArea.model_validate(changed.model_dump()), expected_version=1)
    assert v2.version == 2
    assert store.get(HazardArea, rec.uid).status == HazardStatus.WORKED_ON
    hist = store.history(HazardArea, rec.uid)
    assert [h.version for h in hist] == [1, 2]
    assert hist[0].status == HazardStatus.OPEN
    assert hist[0].model_dump(mode="json") == rec.model_dump(mode="json")
    assert store.count(HazardArea) == 1


def test_stale_update_is_refused_and_changes_nothing(store: Store):
    rec = store.add(sample(Organisation, 1))
    store.update(rec.model_copy(update={"name": "First editor"}), expected_version=1)
    before = _snapshot(store)
    with pytest.raises(VersionConflict, match="version 2"):
        store.update(rec.model_copy(update={"name": "Second editor"}), expected_version=1)
    assert _snapshot(store) == before
    assert store.get(Organisation, rec.uid).name == "First editor"


def test_update_of_unknown_record_fails_clearly(store: Store):
    with pytest.raises(RecordNotFound, match="ORG-00009"):
        store.update(sample(Organisation, 9), expected_version=1)


def test_get_unknown_record(store: Store):
    with pytest.raises(RecordNotFound):
        store.get(Victim, "VIC-99999")


def test_failed_transaction_leaves_store_exactly_as_before(store: Store):
    store.add_many([sample(HazardArea, 1), sample(EOItem, 1)])
    before = _snapshot(store)
    with pytest.raises(RuntimeError), store.transaction():
        store.add_many([sample(HazardArea, 2), sample(EOItem, 2)])
        store.update(sample(HazardArea, 1).model_copy(update={"priority": 5}), expected_version=1)
        store.add(sample(Organisation, 1))
        raise RuntimeError("power cut in the middle of an import")
    assert _snapshot(store) == before
    assert [h.version for h in store.history(HazardArea, "HA-00001")] == [1]


def test_nested_transaction_rolls_back_only_the_inner_part(store: Store):
    with store.transaction():
        store.add(sample(HazardArea, 1))
        with pytest.raises(ValueError), store.transaction():
            store.add(sample(HazardArea, 2))
            raise ValueError("bad row")
        store.add(sample(HazardArea, 3))
    assert sorted(r.uid for r in store.find(HazardArea)) == ["HA-00001", "HA-00003"]


def test_find_by_bounding_box_and_value(store: Store):
    store.add_many([sample(HazardArea, i) for i in range(1, 6)])
    a = sample(HazardArea, 3).geometry.bounds
    hits = list(store.find(HazardArea, bbox=(a[0] - 1e-4, a[1] - 1e-4, a[2] + 1e-4, a[3] + 1e-4)))
    assert [h.uid for h in hits] == ["HA-00003"]
    assert list(store.find(HazardArea, bbox=(0.0, 0.0, 1.0, 1.0))) == []
    assert len(list(store.find(HazardArea, classification="confirmed_hazardous_area"))) == 5
    assert list(store.find(HazardArea, status="closed")) == []
    with pytest.raises(ValueError, match="no column"):
        list(store.find(HazardArea, colour="red"))


def test_read_frame_is_wgs84_and_complete(store: Store):
    store.add_many([sample(EOItem, i) for i in range(1, 4)])
    f = store.read_frame(EOItem)
    assert len(f) == 3
    assert f.crs.to_epsg() == 4326
    assert list(f["uid"]) == ["EO-00001", "EO-00002", "EO-00003"]
    assert f.geometry.iloc[1].equals(sample(EOItem, 2).geometry)


def test_next_uid_follows_the_highest_number(store: Store):
    assert store.next_uid(HazardArea) == "HA-00001"
    store.add_many([sample(HazardArea, 1), sample(HazardArea, 7)])
    assert store.next_uid(HazardArea) == "HA-00008"


def test_existing_uids(store: Store):
    store.add_many([sample(Organisation, 1), sample(Organisation, 2)])
    assert store.existing_uids(Organisation, ["ORG-00002", "ORG-00003"]) == {"ORG-00002"}


def test_metadata(store: Store):
    assert store.get_meta("nothing", "default") == "default"
    store.set_meta("area_of_interest", "[1, 2, 3, 4]")
    store.set_meta("area_of_interest", "[5, 6, 7, 8]")
    assert store.get_meta("area_of_interest") == "[5, 6, 7, 8]"


def test_many_concurrent_writers_lose_no_update(store: Store):
    """Eight editors increment one counter ten times each, retrying on conflicts: all 80 land."""
    import threading

    from safeground.storage import open_store

    store.add(sample(Organisation, 1).model_copy(update={"acronym": "0"}))
    errors: list[BaseException] = []

    def editor() -> None:
        s = open_store(store.test_url)  # type: ignore[attr-defined]
        try:
            for _ in range(10):
                while True:
                    cur = s.get(Organisation, "ORG-00001")
                    try:
                        s.update(
                            cur.model_copy(update={"acronym": str(int(cur.acronym) + 1)}),
                            expected_version=cur.version,
                        )
                        break
                    except VersionConflict:
                        continue
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=editor) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    final = store.get(Organisation, "ORG-00001")
    assert final.acronym == "80" and final.version == 81
    assert len(store.history(Organisation, "ORG-00001")) == 81


def test_the_same_district_is_the_same_in_every_backend(store: Store, tmp_path):
    """Generated into this backend and into a GeoPackage, the layers hold the same records."""
    from safeground.generator.config import DistrictConfig
    from safeground.generator.district import build_district, write_district
    from safeground.model import Accident, EOItem, HazardArea
    from safeground.reports.summary import summarise
    from safeground.storage.gpkg import GeoPackageStore

    cfg = DistrictConfig(seed=11, size_km=6)
    write_district(build_district(cfg), store)
    with GeoPackageStore(tmp_path / "ref.gpkg") as ref:
        write_district(build_district(cfg), ref)
        assert store.counts() == ref.counts()
        for cls in (HazardArea, Accident, EOItem):
            mine = [r.model_dump(mode="json", exclude={"entered_at"}) for r in store.find(cls)]
            theirs = [r.model_dump(mode="json", exclude={"entered_at"}) for r in ref.find(cls)]
            assert mine == theirs
        assert summarise(store).totals == summarise(ref).totals


def test_bounding_box_is_exact_not_the_index_approximation(store: Store):
    """Spatial indexes keep rounded boxes; answers must still follow the exact coordinates."""
    store.add_many([sample(EOItem, i) for i in range(1, 4)])
    p = sample(EOItem, 2).geometry
    assert [r.uid for r in store.find(EOItem, bbox=(p.x, p.y, p.x + 1e-3, p.y + 1e-3))] == ["EO-00002"]
    assert list(store.find(EOItem, bbox=(p.x + 1e-9, p.y, p.x + 1e-3, p.y + 1e-3))) == []
    assert len(store.read_frame(EOItem, bbox=(p.x - 1e-9, p.y - 1e-9, p.x - 1e-10, p.y))) == 0
