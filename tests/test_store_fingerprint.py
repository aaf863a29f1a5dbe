"""The store's cheap change detection and bulk reads (issue 22), on every backend: ``fingerprint`` changes with an
add and an update of a layer and only then; ``version_rows`` is every version ``history`` gives; ``read_frames``
is ``read_frame`` in chunks of chosen columns."""

from __future__ import annotations

import pandas as pd

from safeground.model import HazardArea, Organisation
from safeground.storage.base import Store
from tests.samples import sample


def test_the_fingerprint_follows_changes_of_its_layers_only(store: Store):
    empty = store.fingerprint([HazardArea])
    everything = store.fingerprint()
    rec = store.add(sample(HazardArea, 1))
    added = store.fingerprint([HazardArea])
    assert added != empty and store.fingerprint() != everything
    store.add(sample(Organisation, 1))
    assert store.fingerprint([HazardArea]) == added  # another layer changed
    store.update(rec.model_copy(update={"name": "renamed"}), expected_version=rec.version)
    assert store.fingerprint([HazardArea]) not in (added, empty)
    assert store.fingerprint([HazardArea]) == store.fingerprint([HazardArea])  # nothing changed in between


def test_version_rows_are_every_version_history_gives(store: Store):
    a = store.add(sample(HazardArea, 1))
    store.add(sample(HazardArea, 2))
    store.update(a.model_copy(update={"name": "v2"}), expected_version=1)
    rows = sorted(store.version_rows(HazardArea, ["uid", "version", "name"]))
    expected = sorted(
        (h.uid, h.version, h.name) for uid in ("HA-00001", "HA-00002") for h in store.history(HazardArea, uid)
    )
    assert rows == expected and len(rows) == 3


def test_read_frames_is_read_frame_in_chunks(store: Store):
    store.add_many([sample(HazardArea, i) for i in range(1, 8)])
    whole = store.read_frame(HazardArea)
    chunks = list(store.read_frames(HazardArea, ["uid", "name"], chunk_rows=3))
    assert [len(c) for c in chunks] == [3, 3, 1]
    joined = pd.concat(chunks, ignore_index=True)
    assert list(joined.columns) == ["uid", "name", "geometry"]
    assert joined["uid"].tolist() == whole["uid"].tolist()
    assert all(a.equals(b) for a, b in zip(joined.geometry, whole.geometry, strict=True))
