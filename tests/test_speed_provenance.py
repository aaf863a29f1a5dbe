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


def _votes_by_lists(groups, radius, cell, k):  # type: ignore[no-untyped-def]
    """vote_offsets as it was before issue 22's work (pairs from query_ball_point's lists): the reference."""
    from scipy.ndimage import uniform_filter

    offsets = []
    for rec, found_tree, found in groups:
        pairs = found_tree.query_ball_point(rec, r=radius)
        counts = np.fromiter((len(p) for p in pairs), dtype=int, count=len(pairs))
        if counts.sum() == 0:
            continue
        ri = np.repeat(np.arange(len(rec)), counts)
        fi = np.concatenate([np.asarray(p, dtype=int) for p in pairs if p])
        offsets.append(found[fi] - rec[ri])
    if not offsets:
        return []
    off = np.vstack(offsets)
    n = int(np.ceil(2 * radius / cell)) + 1
    ij = np.floor((off + radius) / cell).astype(int).clip(0, n - 1)
    grid = np.zeros((n, n))
    np.add.at(grid, (ij[:, 0], ij[:, 1]), 1.0)
    grid = uniform_filter(grid, size=3, mode="constant") * 9.0
    out = []
    for _ in range(k):
        idx = int(np.argmax(grid))
        i, j = divmod(idx, n)
        if grid[i, j] < 3:
            break
        sel = (np.abs(ij[:, 0] - i) <= 1) & (np.abs(ij[:, 1] - j) <= 1)
        out.append((float(grid[i, j]), np.median(off[sel], axis=0)))
        grid[max(i - 3, 0) : i + 4, max(j - 3, 0) : j + 4] = 0.0
    return out


def test_vote_offsets_are_those_of_the_lists_of_pairs():
    """The offsets' votes from the trees' sparse distances equal those from query_ball_point's lists, exactly:
    random rows of mines and finds, and grids whose points lie exactly on the radius or on each other."""
    from safeground.minemaps.search import vote_offsets

    rng = np.random.default_rng(22)
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
        got, want = vote_offsets(groups, radius, cell=4.0, k=4), _votes_by_lists(groups, radius, cell=4.0, k=4)
        assert [v for v, _ in got] == [v for v, _ in want]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, want, strict=True))
