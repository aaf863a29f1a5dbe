"""The Store contract: every backend must pass this file unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import shapely

from safeground.errors import DuplicateRecord, RecordNotFound, SafeGroundError, StoreUnavailable, VersionConflict
from safeground.model import EOItem, HazardArea, Organisation, StatusChange, Victim
from safeground.model.vocab import HazardStatus
from safeground.storage import is_store_url, open_store
from safeground.storage.base import Store, SyncConflictRow
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


def test_delete_takes_the_record_out_and_keeps_every_version(store: Store):
    rec = store.add(sample(HazardArea, 1))
    v2 = store.update(rec.model_copy(update={"name": "renamed"}), expected_version=1)
    other = store.add(sample(HazardArea, 2))
    with pytest.raises(VersionConflict, match="version 2"):
        store.delete(HazardArea, rec.uid, expected_version=1)  # someone changed it since: nothing deleted
    assert store.count(HazardArea) == 2
    store.delete(HazardArea, rec.uid, expected_version=2)
    assert [r.uid for r in store.find(HazardArea)] == [other.uid]
    with pytest.raises(RecordNotFound):
        store.get(HazardArea, rec.uid)
    hist = store.history(HazardArea, rec.uid)  # the history stays, its last version the one deleted
    assert [h.version for h in hist] == [1, 2] and hist[-1].model_dump() == v2.model_dump()
    with pytest.raises(RecordNotFound, match="to delete"):
        store.delete(HazardArea, rec.uid, expected_version=2)
    with pytest.raises(RecordNotFound):
        store.history(HazardArea, "HA-09999")  # never stored: no history either


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


# -- paging (OGC API Features) ---------------------------------------------------------
def test_pages_walk_every_record_once_in_uid_order(store: Store):
    store.add_many([sample(HazardArea, i) for i in (5, 2, 7, 1, 4, 6, 3)])
    pages = [store.page(HazardArea, limit=3, offset=k) for k in (0, 3, 6, 9)]
    assert [[r.uid for r in p] for p in pages] == [
        ["HA-00001", "HA-00002", "HA-00003"],
        ["HA-00004", "HA-00005", "HA-00006"],
        ["HA-00007"],
        [],
    ]
    assert pages[0][1].model_dump(mode="json") == store.get(HazardArea, "HA-00002").model_dump(mode="json")
    assert [r.uid for r in store.page(HazardArea)] == [f"HA-0000{i}" for i in range(1, 8)]  # default limit 10
    assert store.page(HazardArea, limit=0) == []
    assert store.count_matching(HazardArea) == 7
    with pytest.raises(ValueError, match="limit=-1"):
        store.page(HazardArea, limit=-1)
    with pytest.raises(ValueError, match="offset=-2"):
        store.page(HazardArea, offset=-2)


def test_page_and_count_filter_exactly_like_find(store: Store):
    recs = [sample(HazardArea, i) for i in range(1, 6)]
    recs[1] = recs[1].model_copy(update={"status": HazardStatus.CLOSED})
    recs[3] = recs[3].model_copy(update={"status": HazardStatus.CLOSED})
    store.add_many(recs)
    a = recs[2].geometry.bounds
    around_3 = (a[0] - 1e-4, a[1] - 1e-4, a[2] + 1e-4, a[3] + 1e-4)
    everywhere = (-180.0, -90.0, 180.0, 90.0)
    for bbox, equals in [
        (None, {}),
        (around_3, {}),
        ((0.0, 0.0, 1.0, 1.0), {}),
        (None, {"status": HazardStatus.CLOSED}),
        (None, {"status": "closed"}),
        (everywhere, {"status": "open", "classification": "confirmed_hazardous_area"}),
        (around_3, {"status": "closed"}),
    ]:
        found = sorted(r.uid for r in store.find(HazardArea, bbox=bbox, **equals))
        assert [r.uid for r in store.page(HazardArea, bbox=bbox, limit=100, **equals)] == found, (bbox, equals)
        assert store.count_matching(HazardArea, bbox=bbox, **equals) == len(found), (bbox, equals)
    assert store.count_matching(HazardArea, bbox=around_3) == 1
    assert store.count_matching(HazardArea, status="closed") == 2
    assert [r.uid for r in store.page(HazardArea, status="closed", limit=1, offset=1)] == ["HA-00004"]
    with pytest.raises(ValueError, match="no column"):
        store.page(HazardArea, colour="red")
    with pytest.raises(ValueError, match="no column"):
        store.count_matching(HazardArea, colour="red")
    with pytest.raises(ValueError, match="no geometry"):
        store.page(Organisation, bbox=everywhere)
    with pytest.raises(ValueError, match="no geometry"):
        store.count_matching(Organisation, bbox=everywhere)


def test_page_bounding_box_is_exact_not_the_index_approximation(store: Store):
    store.add_many([sample(EOItem, i) for i in range(1, 4)])
    p = sample(EOItem, 2).geometry
    on_the_point = (p.x, p.y, p.x + 1e-3, p.y + 1e-3)
    beside_it = (p.x + 1e-9, p.y, p.x + 1e-3, p.y + 1e-3)
    assert [r.uid for r in store.page(EOItem, bbox=on_the_point)] == ["EO-00002"]
    assert store.count_matching(EOItem, bbox=on_the_point) == 1
    assert store.page(EOItem, bbox=beside_it) == []
    assert store.count_matching(EOItem, bbox=beside_it) == 0


# -- versions made elsewhere (field sync) ---------------------------------------------
def _versions(n: int) -> list[Organisation]:
    """Versions 1..n of one organisation as another store made them (their own times and authors)."""
    return [
        Organisation.model_validate(
            sample(Organisation, 1).model_dump()
            | {
                "version": v,
                "name": f"Edit {v}",
                "entered_by": f"officer {v}",
                "entered_at": datetime(2021, 6, v, 12, tzinfo=UTC),
            }
        )
        for v in range(1, n + 1)
    ]


def _dump(chain: list[Organisation]) -> list[dict]:
    return [v.model_dump(mode="json") for v in chain]


def test_apply_versions_keeps_them_exactly_as_made(store: Store):
    v = _versions(4)
    store.apply_versions(v[:2], expected_version=None)
    assert _dump(store.history(Organisation, "ORG-00001")) == _dump(v[:2])
    store.apply_versions(v[:3], expected_version=2)  # version 1 and 2 are kept already: skipped
    assert _dump(store.history(Organisation, "ORG-00001")) == _dump(v[:3])
    assert store.chains(Organisation, ["ORG-00001", "ORG-00009"]) == {"ORG-00001": v[:3]}
    assert store.current_versions(Organisation) == {"ORG-00001": 3}


def test_apply_versions_on_a_stale_base_is_refused_and_changes_nothing(store: Store):
    v = _versions(3)
    store.apply_versions(v[:2], expected_version=None)
    before = _dump(store.history(Organisation, "ORG-00001"))
    with pytest.raises(VersionConflict, match="at version 2, not 1"):
        store.apply_versions(v, expected_version=1)
    with pytest.raises(VersionConflict, match="at version 2, not None"):
        store.apply_versions(v, expected_version=None)
    with pytest.raises(VersionConflict, match="at version None, not 1"):
        store.apply_versions([sample(Organisation, 2)], expected_version=1)
    assert _dump(store.history(Organisation, "ORG-00001")) == before
    assert store.count(Organisation) == 1


def test_apply_versions_rewinds_a_resolved_conflict(store: Store):
    """Version 3 here lost a conflict: it is replaced by the other side's version 3 and 4."""
    mine = _versions(3)
    store.apply_versions(mine, expected_version=None)
    theirs = [*mine[:2], *(x.model_copy(update={"name": "Server " + x.name}) for x in _versions(4)[2:])]
    store.apply_versions(theirs, expected_version=3, rewind_to=2)
    assert _dump(store.history(Organisation, "ORG-00001")) == _dump(theirs)


def test_add_chains_keeps_every_version(store: Store):
    v = _versions(3)
    assert store.add_chains([v, [sample(Organisation, 2)]]) == 2
    assert _dump(store.history(Organisation, "ORG-00001")) == _dump(v)
    with pytest.raises(DuplicateRecord, match="ORG-00002"):
        store.add_chains([[sample(Organisation, 2)]])


# -- the store itself -------------------------------------------------------------------
def test_area_of_interest(store: Store):
    assert store.area_of_interest() is None
    store.set_area_of_interest((46, 39.5, 47.25, 40))
    assert store.area_of_interest() == (46.0, 39.5, 47.25, 40.0)


def test_migration_steps_lead_to_the_store_revision(store: Store):
    steps = store.migration_steps()
    revisions = [r for r, _ in steps]
    assert len(revisions) >= 3 and len(set(revisions)) == len(revisions)
    assert revisions[-1] == store.schema_revision()  # a new store is born at the latest step
    assert all(doc.strip() for _, doc in steps)


def test_drop_removes_the_store_for_good(store: Store):
    store.add(sample(HazardArea, 1))
    store.drop()
    with pytest.raises(StoreUnavailable, match="no SafeGround store"):
        open_store(store.test_url, create=False)  # type: ignore[attr-defined]
    if not is_store_url(store.test_url):  # type: ignore[attr-defined]
        path = Path(store.test_url)  # type: ignore[attr-defined]
        assert not list(path.parent.glob(path.name + "*"))  # nor its -wal and -shm
    with open_store(store.test_url) as again:  # type: ignore[attr-defined]
        assert again.count(HazardArea) == 0


# -- field sync state ---------------------------------------------------------------------
def _conflict(uid: str, mine: int, at: str) -> SyncConflictRow:
    return SyncConflictRow(0, "organisations", uid, 1, mine, 2, f'[{{"v": {mine}}}]', '[{"v": 2}]', at)


def test_field_sync_state_is_kept_by_a_field_store_only(store: Store):
    """A field GeoPackage remembers its sync; a server store says it keeps none, whatever is asked."""
    assert store.keeps_field_sync_state == (not is_store_url(store.test_url))  # type: ignore[attr-defined]
    if store.keeps_field_sync_state:
        _sync_bases_and_conflicts_round_trip(store)
        return
    for call in (
        lambda: store.sync_bases("organisations"),
        lambda: store.set_sync_bases("organisations", {"ORG-00001": 1}, "2021-06-01T00:00:00Z"),
        lambda: store.open_sync_conflict(_conflict("ORG-00001", 3, "2021-06-01T00:00:00Z")),
        lambda: store.sync_conflicts(),
        lambda: store.resolve_sync_conflict(1, "mine", "2021-06-01T00:00:00Z"),
    ):
        with pytest.raises(SafeGroundError, match="keeps no field sync state"):
            call()


def _sync_bases_and_conflicts_round_trip(store: Store) -> None:
    assert store.sync_bases("organisations") == {}
    store.set_sync_bases("organisations", {"ORG-00001": 1, "ORG-00002": 4}, "2021-06-01T00:00:00Z")
    store.set_sync_bases("organisations", {"ORG-00001": 3}, "2021-06-02T00:00:00Z")
    with pytest.raises(RuntimeError), store.transaction():
        store.set_sync_bases("organisations", {"ORG-00002": 9}, "2021-06-03T00:00:00Z")
        raise RuntimeError("the records of this sync did not land either")
    assert store.sync_bases("organisations") == {"ORG-00001": 3, "ORG-00002": 4}
    assert store.sync_bases("hazard_areas") == {}

    store.open_sync_conflict(_conflict("ORG-00002", 5, "2021-06-01T00:00:00Z"))
    store.open_sync_conflict(_conflict("ORG-00001", 3, "2021-06-01T00:00:00Z"))
    store.open_sync_conflict(_conflict("ORG-00001", 4, "2021-06-02T00:00:00Z"))  # refreshes the open one
    open_ = store.sync_conflicts()
    assert [(c.uid, c.mine_version, c.detected_at) for c in open_] == [
        ("ORG-00001", 4, "2021-06-02T00:00:00Z"),
        ("ORG-00002", 5, "2021-06-01T00:00:00Z"),
    ]
    assert open_[0].mine == '[{"v": 4}]' and open_[0].theirs == '[{"v": 2}]' and open_[0].base_version == 1
    assert open_[0].resolved_at is None and open_[0].kept is None
    store.resolve_sync_conflict(open_[0].id, "theirs", "2021-06-05T00:00:00Z")
    assert [c.uid for c in store.sync_conflicts()] == ["ORG-00002"]
    every = store.sync_conflicts(include_resolved=True)
    assert [(c.uid, c.kept, c.resolved_at) for c in every] == [
        ("ORG-00001", "theirs", "2021-06-05T00:00:00Z"),
        ("ORG-00002", None, None),
    ]
    store.open_sync_conflict(_conflict("ORG-00001", 6, "2021-06-06T00:00:00Z"))  # a new conflict, the old one kept
    assert [(c.uid, c.mine_version) for c in store.sync_conflicts(include_resolved=True)] == [
        ("ORG-00001", 4),
        ("ORG-00001", 6),
        ("ORG-00002", 5),
    ]
