"""Benchmark: the SafeGround server next to pygeoapi, serving the same GeoPackage, in the same run.

Run:  .venv/bin/python bench/bench_server.py [--size-km 20] [--clients 1,10,50] [--seconds 10] [--tiles-only]
      (pygeoapi runs in its own environment: scripts/setup-bench-pygeoapi.sh makes it once)

Bounded concurrent clients on loopback ask for OGC API Features items with a random 1 km bbox
(``limit=100``) of ``infrastructure_points``, a layer both servers serve as stored (the generalised
public layers have no pygeoapi equivalent). Each server runs as one uvicorn process; for each number
of clients the table gives requests per second and the p50 / p99 latency. Issue 18's goal on a
2-core machine: items p99 under 100 ms at 10 clients, and at least pygeoapi's throughput.
First, SafeGround's public vector tiles (one collection, and every collection in one tile) at levels 13–16.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PYGEOAPI_PY = Path(os.environ.get("PYGEOAPI_PYTHON", ROOT / ".bench-pygeoapi" / "bin" / "python"))
LAYER = "infrastructure_points"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 120) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the server for {url} stopped (exit {proc.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + f"/collections/{LAYER}", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"no answer from {url}")


@contextlib.contextmanager
def running(cmd: list[str], url: str, env: dict[str, str] | None = None) -> Iterator[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        wait(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pygeoapi_config(store: Path, port: int, folder: Path) -> tuple[Path, Path]:
    """pygeoapi's configuration for the one layer (its OGR provider on the GeoPackage) and its OpenAPI document."""
    import yaml

    cfg, api = folder / "pygeoapi.yml", folder / "openapi.yml"
    none = {"name": "bench", "url": "http://127.0.0.1"}
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port}, "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8", "encoding": "utf-8", "languages": ["en-US"],
            "limits": {"default_items": 10, "max_items": 10000},
            "map": {"url": "http://127.0.0.1/tiles/{z}/{x}/{y}.png", "attribution": "none"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {"title": "bench", "description": "bench", "keywords": ["bench"],
                               "keywords_type": "theme", "terms_of_service": "none", "url": "http://127.0.0.1"},
            "license": none, "provider": none,
            "contact": {"name": "bench", "position": "bench", "address": "bench", "city": "bench",
                        "stateorprovince": "bench", "postalcode": "0", "country": "bench", "phone": "0", "fax": "0",
                        "email": "bench@example.org", "url": "http://127.0.0.1", "hours": "always",
                        "instructions": "none", "role": "pointOfContact"},
        },
        "resources": {
            LAYER: {
                "type": "collection", "title": LAYER, "description": LAYER, "keywords": [LAYER],
                "extents": {"spatial": {"bbox": [-180, -90, 180, 90],
                                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
                "providers": [{"type": "feature", "name": "OGR", "data": {"source_type": "GPKG", "source": str(store)},
                               "id_field": "uid", "layer": LAYER}],
            }
        },
    }  # fmt: skip
    cfg.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    env = {**os.environ, "PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(api)}
    subprocess.run(
        [str(PYGEOAPI_PY.with_name("pygeoapi")), "openapi", "generate", str(cfg), "--output-file", str(api)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    return cfg, api


def load(url: str, boxes: np.ndarray, clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads asking one after another for ``seconds``; latencies of the answers (all 200)."""
    latencies: list[float] = []
    features = [0]
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = np.random.default_rng(k)
        mine: list[float] = []
        got = 0
        with httpx.Client(base_url=url, timeout=60) as c:
            while time.monotonic() < stop:
                b = boxes[rng.integers(len(boxes))]
                t0 = time.perf_counter()
                r = c.get(
                    f"/collections/{LAYER}/items",
                    params={"bbox": ",".join(f"{v:.6f}" for v in b), "limit": 100, "f": "json"},
                )
                dt = time.perf_counter() - t0
                if r.status_code != 200:
                    with lock:
                        errors[0] += 1
                    continue
                mine.append(dt)
                got += len(r.json()["features"])
        with lock:
            latencies.extend(mine)
            features[0] += got

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {
        "requests": len(lat),
        "errors": errors[0],
        "rps": len(lat) / wall,
        "features": features[0] / max(len(lat), 1),
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
    }


def load_tiles(url: str, paths: list[str], clients: int, seconds: float) -> dict[str, float]:
    """``clients`` threads asking for random tiles (vector or PNG) for ``seconds``: req/s, p50/p99, bytes."""
    latencies: list[float] = []
    sizes: list[int] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = np.random.default_rng(k)
        mine: list[float] = []
        size: list[int] = []
        with httpx.Client(base_url=url, timeout=60) as c:
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = c.get(paths[rng.integers(len(paths))])
                dt = time.perf_counter() - t0
                if r.status_code != 200:
                    with lock:
                        errors[0] += 1
                    continue
                mine.append(dt)
                size.append(len(r.content))
        with lock:
            latencies.extend(mine)
            sizes.extend(size)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = np.array(latencies) * 1000
    return {
        "requests": len(lat),
        "errors": errors[0],
        "rps": len(lat) / wall,
        "kb": float(np.mean(sizes)) / 1024 if sizes else float("nan"),
        "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
    }


def tiles_over(box: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every (z, row, col) of the Web Mercator tiles covering a lon/lat box."""
    from safeground.web.tiles import lonlat_to_tile

    w, s, e, n = box
    (r0, c0), (r1, c1) = lonlat_to_tile(z, w, n), lonlat_to_tile(z, e, s)
    return [(z, r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]


def bench_tiles(exe: str, store: Path, box: tuple[float, float, float, float], clients: str, seconds: float) -> None:
    """SafeGround's public vector tiles (one collection, and every collection in one tile) at levels 13–16."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    tiles = [t for z in (13, 14, 15, 16) for t in tiles_over(box, z)]
    kinds = {
        "hazard_areas tile": [f"/collections/hazard_areas/tiles/WebMercatorQuad/{z}/{r}/{c}" for z, r, c in tiles],
        "all-layers tile": [f"/tiles/WebMercatorQuad/{z}/{r}/{c}" for z, r, c in tiles],
    }
    print(f"vector tiles, levels 13–16 ({len(tiles)} tiles), the public, {seconds:g} s per run")
    print(f"{'tiles':<18} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'kB':>8} {'errors':>7}")
    with running([exe, "serve", "--store", str(store), "--port", str(port)], url):
        for name, paths in kinds.items():
            load_tiles(url, paths, 2, 2.0)  # warm up: the views and their tile indexes are made once
            for n_clients in (int(c) for c in clients.split(",")):
                r = load_tiles(url, paths, n_clients, seconds)
                print(
                    f"{name:<18} {n_clients:>7} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                    f"{r['kb']:>8.1f} {r['errors']:>7}",
                    flush=True,
                )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-km", type=float, default=20.0)
    ap.add_argument("--clients", default="1,10,50")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--tiles-only", action="store_true", help="only SafeGround's vector tiles (no pygeoapi)")
    args = ap.parse_args()
    if not args.tiles_only and not PYGEOAPI_PY.exists():
        sys.exit(f"no pygeoapi environment at {PYGEOAPI_PY}: run scripts/setup-bench-pygeoapi.sh first")
    from safeground.model import InfrastructurePoint
    from safeground.storage import open_store

    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        store = Path(tmp) / "district.gpkg"
        exe = str(Path(sys.executable).with_name("safeground"))
        subprocess.run(
            [exe, "generate", "--size-km", str(args.size_km), "--store", str(store)], check=True, capture_output=True
        )
        with open_store(str(store), readonly=True) as s:
            w, so, e, n = s.area_of_interest() or (0, 0, 0, 0)
            count = s.count_matching(InfrastructurePoint)
        bench_tiles(exe, store, (w, so, e, n), args.clients, args.seconds)
        if args.tiles_only:
            return
        rng = np.random.default_rng(2020)
        dx, dy = 0.0118, 0.009  # about 1 km at 39.6° N
        xs, ys = rng.uniform(w, e - dx, 500), rng.uniform(so, n - dy, 500)
        boxes = np.column_stack([xs, ys, xs + dx, ys + dy])
        p1, p2 = free_port(), free_port()
        pcfg, papi = pygeoapi_config(store, p2, Path(tmp))
        penv = {**os.environ, "PYGEOAPI_CONFIG": str(pcfg), "PYGEOAPI_OPENAPI": str(papi)}
        servers = {
            "SafeGround": ([exe, "serve", "--store", str(store), "--port", str(p1)], f"http://127.0.0.1:{p1}", None),
            "pygeoapi": (
                [
                    str(PYGEOAPI_PY),
                    "-m",
                    "uvicorn",
                    "pygeoapi.starlette_app:APP",
                    "--port",
                    str(p2),
                    "--log-level",
                    "error",
                ],
                f"http://127.0.0.1:{p2}",
                penv,
            ),
        }
        print(
            f"{LAYER}: {count:,} points in a {args.size_km:g} km district; random 1 km bbox, limit=100, "
            f"{args.seconds:g} s per run, one uvicorn process each"
        )
        print(f"{'server':<11} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'features':>9} {'errors':>7}")
        for name, (cmd, url, env) in servers.items():
            with running(cmd, url, env):
                load(url, boxes, 2, 2.0)  # warm up (imports, caches)
                for n_clients in (int(c) for c in args.clients.split(",")):
                    r = load(url, boxes, n_clients, args.seconds)
                    print(
                        f"{name:<11} {n_clients:>7} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                        f"{r['features']:>9.1f} {r['errors']:>7}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
