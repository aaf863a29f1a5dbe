"""Write grid.osm.pbf: an extract large enough that osmium writes several zlib blocks (over 8,000 nodes).

The GDAL of pyogrio's wheels cannot read such blocks (``safeground.intake.osm._Extract`` works round
it); the test that reads this file checks the workaround. A 90 × 90 grid of nodes 0.002° apart
(about 180 m), a way per grid edge (tertiary on every tenth line, tracks between), a named village
and an unnamed grave yard in every 10 × 10 block. Run ``python tests/data/osm/make_grid.py`` (needs
``osmium`` from the Debian package ``osmium-tool``); the output is committed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

HERE = Path(__file__).parent
N = 90
LON0, LAT0, STEP = 46.5, 39.3, 0.002
ATTRS = 'version="1" timestamp="2026-11-20T08:00:00Z" changeset="1" uid="1" user="safeground"'


def nid(i: int, j: int) -> int:
    return 1 + i * N + j


def main() -> None:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="safeground tests">']
    for i in range(N):
        for j in range(N):
            out.append(f'<node id="{nid(i, j)}" {ATTRS} lat="{LAT0 + i * STEP:.7f}" lon="{LON0 + j * STEP:.7f}"/>')
    extra = N * N + 10
    for i in range(5, N, 10):
        for j in range(5, N, 10):
            lat, lon = LAT0 + i * STEP, LON0 + j * STEP
            extra += 1
            out.append(
                f'<node id="{extra}" {ATTRS} lat="{lat + 0.0003:.7f}" lon="{lon + 0.0003:.7f}">'
                f'<tag k="place" v="village"/><tag k="name" v="Kend {i}-{j}"/></node>'
            )
            extra += 1
            out.append(
                f'<node id="{extra}" {ATTRS} lat="{lat + 0.0011:.7f}" lon="{lon + 0.0011:.7f}">'
                '<tag k="amenity" v="grave_yard"/></node>'
            )
    wid = 0
    for i in range(N):
        for j in range(N):
            for di, dj in ((0, 1), (1, 0)):
                if i + di < N and j + dj < N:
                    wid += 1
                    hw = "tertiary" if i % 10 == 0 or j % 10 == 0 else "track"
                    out.append(
                        f'<way id="{wid}" {ATTRS}><nd ref="{nid(i, j)}"/><nd ref="{nid(i + di, j + dj)}"/>'
                        f'<tag k="highway" v="{hw}"/></way>'
                    )
    out.append("</osm>")
    xml = HERE / "grid.osm"
    xml.write_text("\n".join(out) + "\n", encoding="utf-8")
    subprocess.run(["osmium", "cat", "--overwrite", str(xml), "-o", str(HERE / "grid.osm.pbf")], check=True)
    xml.unlink()  # 2 MB of XML: the PBF is what the test reads
    print(f"wrote {HERE / 'grid.osm.pbf'}: {wid} ways")


if __name__ == "__main__":
    main()
