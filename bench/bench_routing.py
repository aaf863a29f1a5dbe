"""Benchmark: safe routes on a network of about 1,000,000 edges, next to NetworkX on the same graph.

Run:  .venv/bin/python bench/bench_routing.py [--side 710] [--routes 50]

A square street grid (50 m blocks) with hazard zones scattered over it; routes
of 1–5 km (a checkpoint to a cemetery) between random crossings. SafeGround uses
compiled Dijkstra bounded by the straight-line distance; the baseline is
NetworkX's bidirectional Dijkstra on the same graph and weights.
"""

from __future__ import annotations

import argparse
import time

import networkx as nx
import numpy as np
import shapely

from safeground.geometry.projection import project
from safeground.routing.network import Danger, RoadNetwork

EPSG = 32638
X0, Y0 = 600_000.0, 4_350_000.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", type=int, default=710, help="nodes per side (710 gives ~1,000,000 edges)")
    ap.add_argument("--routes", type=int, default=50)
    args = ap.parse_args()
    n = args.side
    step = 50.0
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    nodes = np.column_stack([X0 + ii.ravel() * step, Y0 + jj.ravel() * step])
    idx = (ii * n + jj).ravel()
    right = idx[(ii < n - 1).ravel()]
    up = idx[(jj < n - 1).ravel()]
    u = np.r_[right, up]
    v = np.r_[right + n, up + 1]
    t0 = time.perf_counter()
    net = RoadNetwork(EPSG, nodes, u, v)
    rng = np.random.default_rng(3)
    centers = nodes[rng.choice(len(nodes), 3000, replace=False)] + 25.0
    zones = shapely.buffer(shapely.points(centers), rng.uniform(20, 60, len(centers)))
    net.apply_dangers(Danger(zones, np.zeros(len(zones)), np.array([f"HA-{i}" for i in range(len(zones))])))
    net._graph()
    t_build = time.perf_counter() - t0

    pairs = []
    while len(pairs) < args.routes:
        a = int(rng.integers(0, len(nodes)))
        ang, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1000, 5000)
        target = nodes[a] + dist * np.array([np.cos(ang), np.sin(ang)])
        if not (X0 <= target[0] <= X0 + (n - 1) * step and Y0 <= target[1] <= Y0 + (n - 1) * step):
            continue
        b = int(net._tree.query(target)[1])
        if not (net.blocked[(net.u == a) | (net.v == a)].all() or net.blocked[(net.u == b) | (net.v == b)].all()):
            pairs.append((a, b))
    ll = project(shapely.points(nodes[[p for ab in pairs for p in ab]]), EPSG, 4326)
    lonlat = [(g.x, g.y) for g in ll]

    ours, lengths = [], []
    for k in range(len(pairs)):
        t = time.perf_counter()
        ans = net.route(lonlat[2 * k], lonlat[2 * k + 1])
        ours.append(time.perf_counter() - t)
        lengths.append(ans.length_m if ans.found else np.nan)

    t0 = time.perf_counter()
    g = nx.Graph()
    ok = ~net.blocked
    w = net.length * net.penalty
    g.add_weighted_edges_from(zip(net.u[ok].tolist(), net.v[ok].tolist(), w[ok].tolist(), strict=True))
    t_nx_build = time.perf_counter() - t0
    theirs = []
    agree = 0
    for k, (a, b) in enumerate(pairs):
        t = time.perf_counter()
        try:
            d, _ = nx.bidirectional_dijkstra(g, a, b)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            d = np.nan
        theirs.append(time.perf_counter() - t)
        if (np.isnan(d) and np.isnan(lengths[k])) or (not np.isnan(d) and not np.isnan(lengths[k])):
            agree += 1
    ours_ms, theirs_ms = np.array(ours) * 1000, np.array(theirs) * 1000
    print(
        f"Routing benchmark: grid of {len(nodes):,} nodes and {net.edge_count:,} edges, "
        f"{len(zones):,} hazard zones ({int(net.blocked.sum()):,} edges blocked), {len(pairs)} routes of 1–5 km"
    )
    print(
        f"  SafeGround: network + danger zones built in {t_build:.1f} s; per route median {np.median(ours_ms):.0f} ms, "
        f"p95 {np.percentile(ours_ms, 95):.0f} ms, max {ours_ms.max():.0f} ms   (target < 100 ms)"
    )
    print(
        f"  NetworkX bidirectional Dijkstra, same graph: built in {t_nx_build:.1f} s; per route median "
        f"{np.median(theirs_ms):.0f} ms, p95 {np.percentile(theirs_ms, 95):.0f} ms"
    )
    print(f"  both find a route (or both find none) for {agree}/{len(pairs)} pairs")


if __name__ == "__main__":
    main()
