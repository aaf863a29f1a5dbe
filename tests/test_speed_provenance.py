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


def test_chunked_provenance_is_the_one_piece_hash(demo_district: Path, monkeypatch: pytest.MonkeyPatch):
    layers = list(RECORD_TYPES.values())
    with open_store(str(demo_district), create=False, readonly=True) as s:
        whole = doc.provenance(s, layers)
        monkeypatch.setattr(doc, "_ONE_PIECE", 37)  # every layer of more than 37 records in chunks of 37
        monkeypatch.setattr(doc, "_DIGEST_ROWS", 11)
        chunked = doc.provenance(s, layers)
        with doc.shared_provenance():
            first = doc.provenance(s, layers)
            again = doc.provenance(s, layers)
    assert max(whole.layers.values()) > 37 * 3  # some layers really were read in several chunks
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
