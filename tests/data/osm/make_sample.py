"""Write the small OpenStreetMap extract the OSM import tests read: sample.osm (XML) → sample.osm.pbf.

Nothing can be downloaded here, so the extract is drawn by hand in the shape of a real
one: two villages (one with its residential landuse polygon, one only a place node), a
hamlet, a tertiary road between the villages, a track and a footway round by the hamlet,
paths to a cemetery polygon and to a grave-yard node, a river crossing the road on a
bridge, a railway (not a road), a road under construction (not yet walkable), and a
village and road in another district, outside the tests' area of interest
(47.0,39.5,47.3,39.7). The names are made up.

Run ``python tests/data/osm/make_sample.py`` (needs ``osmium`` from the Debian package
``osmium-tool``); both files are committed, so the tests need neither.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from xml.sax.saxutils import quoteattr

HERE = Path(__file__).parent
STAMP = "2026-11-20T08:00:00Z"

_nodes: list[tuple[int, float, float, dict[str, str]]] = []
_ways: list[tuple[int, list[int], dict[str, str]]] = []
_coords: dict[tuple[float, float], int] = {}


def node(lon: float, lat: float, **tags: str) -> int:
    """A node; untagged nodes at the same place are shared, so ways that meet are joined."""
    key = (round(lon, 7), round(lat, 7))
    if not tags and key in _coords:
        return _coords[key]
    nid = 1000 + len(_nodes)
    _nodes.append((nid, lon, lat, tags))
    if not tags:
        _coords[key] = nid
    return nid


def way(points: list[tuple[float, float]], **tags: str) -> int:
    wid = 5000 + len(_ways)
    _ways.append((wid, [node(lon, lat) for lon, lat in points], tags))
    return wid


def build() -> None:
    node(47.1000, 39.6000, place="village", name="Qarakend", population="1200")
    node(47.1400, 39.6100, place="village", name="Tazakend")
    node(47.1200, 39.6300, place="hamlet", name="Yuxari Mahalla")
    node(47.1440, 39.6130, amenity="grave_yard", name="Tazakend old cemetery")
    # Qarakend's houses: a residential landuse polygon around its place node
    way(
        [(47.0960, 39.5970), (47.1040, 39.5970), (47.1040, 39.6030), (47.0960, 39.6030), (47.0960, 39.5970)],
        landuse="residential",
    )
    # an unnamed cemetery north-west of Qarakend
    way(
        [(47.0925, 39.6035), (47.0950, 39.6035), (47.0950, 39.6050), (47.0925, 39.6050), (47.0925, 39.6035)],
        landuse="cemetery",
    )
    j = (47.1200, 39.6050)
    way(
        [(47.1000, 39.6000), (47.1100, 39.6020), (47.1150, 39.6034)],
        highway="tertiary",
        name="Qarakend–Tazakend road",
    )
    way([(47.1150, 39.6034), (47.1170, 39.6040)], highway="tertiary", bridge="yes", layer="1")
    way(
        [(47.1170, 39.6040), j, (47.1300, 39.6080), (47.1400, 39.6100)],
        highway="tertiary",
        name="Qarakend–Tazakend road",
    )
    way([(47.0970, 39.5990), (47.1000, 39.6000), (47.1030, 39.6010)], highway="residential", name="Mekteb kuchesi")
    way([j, (47.1210, 39.6150), (47.1200, 39.6300)], highway="track", tracktype="grade3")
    way([(47.1200, 39.6300), (47.1320, 39.6220), (47.1400, 39.6100)], highway="footway")
    way([(47.1000, 39.6000), (47.0960, 39.6030), (47.0945, 39.6040)], highway="path")
    way([(47.1400, 39.6100), (47.1440, 39.6130)], highway="path")
    way(
        [(47.1160, 39.5900), (47.1160, 39.6037), (47.1165, 39.6200), (47.1170, 39.6400)],
        waterway="river",
        name="Kondalanchay",
    )
    way([(47.1000, 39.5800), (47.1500, 39.5850)], railway="rail", name="Qarakend branch line")
    way([(47.1400, 39.6100), (47.1600, 39.6000)], highway="construction", construction="secondary")
    # another district: left out by the area of interest, and counted
    node(48.5000, 40.0000, place="village", name="Uzaqkend")
    way([(48.4900, 39.9950), (48.5000, 40.0000), (48.5100, 40.0050)], highway="unclassified", name="Uzaqkend road")


def write(path: Path) -> None:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="safeground tests">']
    attrs = f'version="1" timestamp="{STAMP}" changeset="1" uid="1" user="safeground"'
    for nid, lon, lat, tags in _nodes:
        if tags:
            out.append(f'  <node id="{nid}" {attrs} lat="{lat:.7f}" lon="{lon:.7f}">')
            out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            out.append("  </node>")
        else:
            out.append(f'  <node id="{nid}" {attrs} lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, refs, tags in _ways:
        out.append(f'  <way id="{wid}" {attrs}>')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        out.append("  </way>")
    out.append("</osm>")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    build()
    xml = HERE / "sample.osm"
    write(xml)
    subprocess.run(
        ["osmium", "cat", "--overwrite", "--output-header=osmosis_replication_timestamp=" + STAMP, str(xml),
         "-o", str(HERE / "sample.osm.pbf")],
        check=True,
    )  # fmt: skip
    print(f"wrote {xml} and {HERE / 'sample.osm.pbf'}")
