"""Provenance hashed a chunk at a time, and matching's candidate pairs without a tree, give what they gave before
(issue 22: memory of a national report, speed of the alignment search)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial import cKDTree

import safeground.reports.document as doc
from safeground.minemaps.matching import candidate_pairs
from safeground.model import RECORD_TYPES
from safeground.storage import open_store


@pytest.mark.parametrize(
    ("one_piece", "digest_rows", "which"),
    [
        # the demo's richest layers (hazard areas, activities, services: many nullable numbers and dates) in
        # chunks of 37, so chunks differ in which columns have an empty value
        (37, 11, ("hazard_areas", "activities", "assistance_services", "infrastructure_lines", "victims")),
        # every layer, the 10,000-record ones in about ten chunks each (chunks of 37 there cost 15 minutes)
        (997, 301, tuple(RECORD_TYPES)),
    ],
    ids=["small-chunks-rich-layers", "every-layer"],
)
def test_chunked_provenance_is_the_one_piece_hash(
    demo_district: Path, monkeypatch: pytest.MonkeyPatch, one_piece: int, digest_rows: int, which: tuple[str, ...]
):
    layers = [RECORD_TYPES[k] for k in which]
    with open_store(str(demo_district), create=False, readonly=True) as s:
        whole = doc.provenance(s, layers)
        monkeypatch.setattr(doc, "_ONE_PIECE", one_piece)  # every layer of more records in chunks of that many
        monkeypatch.setattr(doc, "_DIGEST_ROWS", digest_rows)
        chunked = doc.provenance(s, layers)
        with doc.shared_provenance():
            first = doc.provenance(s, layers)
            again = doc.provenance(s, layers)
    # several layers really were read in several chunks
    assert sum(n > one_piece * 3 for n in whole.layers.values()) >= 3
    assert chunked.content_hash == whole.content_hash
    assert (chunked.information_from, chunked.information_to) == (whole.information_from, whole.information_to)
    assert chunked.layers == whole.layers
    assert first.content_hash == again.content_hash == whole.content_hash


def test_candidate_pairs_are_the_trees():
    rng = np.random.default_rng(7)
    for k in range(600):
        n, m = int(rng.integers(1, 150)), int(rng.integers(1, 150))
        if k % 2:  # on a grid whose spacing is the tolerance: pairs exactly on the boundary
            rec = rng.integers(0, 15, (n, 2)).astype(float) * 2.5
            fnd = rng.integers(0, 15, (m, 2)).astype(float) * 2.5
            tol = rng.choice([2.5, 5.0], n)
        else:
            rec, fnd, tol = rng.random((n, 2)) * 80, rng.random((m, 2)) * 80, rng.random(n) * 8
        pairs = cKDTree(fnd).query_ball_point(rec, r=tol)
        ri, fi = candidate_pairs(rec, fnd, tol)
        assert ri.tolist() == [i for i, p in enumerate(pairs) for _ in p]
        assert fi.tolist() == [j for p in pairs for j in p]


def _offsets_by_lists(groups, radius):  # type: ignore[no-untyped-def]
    """vote_offsets' pairs as they were before issue 22's work (query_ball_point's lists): the reference."""
    offsets = [np.empty((0, 2))]
    for rec, found_tree, found in groups:
        pairs = found_tree.query_ball_point(rec, r=radius)
        counts = np.fromiter((len(p) for p in pairs), dtype=int, count=len(pairs))
        ri = np.repeat(np.arange(len(rec)), counts)
        fi = np.concatenate([np.asarray(p, dtype=int) for p in pairs if p] or [np.empty(0, int)])
        offsets.append(found[fi] - rec[ri])
    return np.vstack(offsets)


def test_vote_offsets_are_those_of_the_lists_of_pairs():
    """The offsets from the trees' sparse distances are those from query_ball_point's lists (the same multiset),
    and so are the votes: random rows of mines and finds, and grids whose points lie exactly on the radius or on
    each other."""
    from safeground.minemaps.search import offset_peaks, pair_offsets, vote_offsets

    rng = np.random.default_rng(22)
    voted = 0
    for case in range(200):
        groups = []
        for _ in range(int(rng.integers(1, 3))):  # one or two item types
            n, m = int(rng.integers(1, 120)), int(rng.integers(0, 400))
            if case % 2:
                rec = rng.integers(0, 20, (n, 2)).astype(float) * 5.0
                fnd = rng.integers(0, 20, (m, 2)).astype(float) * 5.0
            else:
                rec, fnd = rng.random((n, 2)) * 300, rng.random((m, 2)) * 600 - 150
            groups.append((rec, cKDTree(fnd.reshape(-1, 2)), fnd.reshape(-1, 2)))
        radius = float(rng.choice([25.0, 50.0, 120.0]))
        got, want = pair_offsets(groups, radius), _offsets_by_lists(groups, radius)
        assert np.array_equal(np.unique(got, axis=0, return_counts=True)[1], np.unique(want, axis=0,
                              return_counts=True)[1])  # fmt: skip
        assert np.array_equal(np.unique(got, axis=0), np.unique(want, axis=0))
        votes = vote_offsets(groups, radius, cell=4.0, k=4)
        reference = offset_peaks(want, radius, cell=4.0, k=4) if len(want) else []
        assert [v for v, _ in votes] == [v for v, _ in reference]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(votes, reference, strict=True))
        voted += bool(votes)
    assert voted > 100  # most cases had peaks to compare
