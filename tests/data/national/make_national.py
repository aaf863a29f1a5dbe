"""Make the national test data set: a country's own files, as dirty as real ones.

Run:  python tests/data/national/make_national.py   (writes the files next to it; deterministic)

What real national data looks like (a hazard map vectorised from paper, an incident
list kept for decades), in a few hundred features so that tests stay fast:

* ``hazards.geojson``: suspected hazard areas over a country-sized extent across two
  UTM zones (38 and 39, either side of 48° E); a third without geometry, a few with
  empty geometry, some self-intersecting (bow ties), a few exact duplicates; no dates
  and no areas; the organisation's own column names and terms.
* ``incidents.geojson``: mine incidents; most without a date, some with one (dd.mm.yyyy);
  pairs of incidents at the same place with the same values but their own
  ``incident_no`` (two accidents at one spot years apart), and a few rows entered twice
  (same ``incident_no``).
* ``victims.csv``: victims of the first incidents, by the identifiers an import assigns.
* ``hazards_mapping.yaml``, ``incidents_mapping.yaml``: the field mappings.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
#: west, south, east, north: a country across UTM zones 38 and 39
EXTENT = (44.8, 38.4, 50.4, 41.9)
N_HAZARDS = 900
N_INCIDENTS = 300


def _polygon(rng: np.random.Generator, lon: float, lat: float) -> list[list[list[float]]]:
    """A small irregular hazard polygon (100–600 m across), counter-clockwise."""
    k = int(rng.integers(5, 9))
    ang = np.sort(rng.random(k)) * 2 * np.pi
    r = (0.001 + rng.random(k) * 0.003) * (0.5 + rng.random())
    ring = [
        [round(lon + float(a) * np.cos(t), 6), round(lat + float(a) * 0.78 * np.sin(t), 6)]
        for a, t in zip(r, ang, strict=True)
    ]
    return [[*ring, ring[0]]]


def _bowtie(lon: float, lat: float) -> list[list[list[float]]]:
    d = 0.002
    return [[[lon, lat], [lon + d, lat + d], [lon + d, lat], [lon, lat + d], [lon, lat]]]


def hazards(rng: np.random.Generator) -> dict:
    w, s, e, n = EXTENT
    feats = []
    for k in range(N_HAZARDS):
        lon, lat = w + rng.random() * (e - w), s + rng.random() * (n - s)
        props = {"hazard_no": f"SHA/{k + 1:04d}", "type": str(rng.choice(["AP", "AT", "mixed"])), "name": None}
        geom: dict | None = {"type": "Polygon", "coordinates": _polygon(rng, lon, lat)}
        if k % 3 == 2:
            geom = None  # a third of the map was never vectorised
        elif k % 97 == 5:
            geom = {"type": "Polygon", "coordinates": []}  # empty geometry
        elif k % 15 == 1:
            geom = {"type": "Polygon", "coordinates": _bowtie(lon, lat)}  # self-intersecting
        feats.append({"type": "Feature", "properties": props, "geometry": geom})
    # exact duplicates: the same feature digitised twice
    for k in (0, 3, 6, 9):
        feats.append(json.loads(json.dumps(feats[k])))
    return {"type": "FeatureCollection", "features": feats}


def incidents(rng: np.random.Generator) -> dict:
    w, s, e, n = EXTENT
    feats = []
    for k in range(N_INCIDENTS):
        lon, lat = round(w + rng.random() * (e - w), 6), round(s + rng.random() * (n - s), 6)
        dated = k % 4 == 0  # most incidents were recorded without a date
        props = {
            "incident_no": f"INC-{k + 1:05d}",
            "device": str(rng.choice(["AP mine", "AT mine", "unknown"])),
            "date": f"{1 + k % 28:02d}.{1 + k % 12:02d}.{1994 + k % 30}" if dated else None,
        }
        feats.append({"type": "Feature", "properties": props, "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    # the same spot, the same values, another incident (years apart, neither dated)
    for k in (1, 2, 5, 6, 7):
        twin = json.loads(json.dumps(feats[k]))
        twin["properties"]["incident_no"] = f"INC-{N_INCIDENTS + k + 1:05d}"
        feats.append(twin)
    # entered twice: the same incident_no
    for k in (9, 10):
        feats.append(json.loads(json.dumps(feats[k])))
    return {"type": "FeatureCollection", "features": feats}


def victims() -> str:
    """Two victims for each of the first 20 incidents (ACC-00001… in file order)."""
    lines = ["accident_uid,victim_status,outcome,sex,age,activity_at_time,date_of_information"]
    for k in range(1, 21):
        lines.append(f"ACC-{k:05d},civilian,killed,male,34,farming,2024-05-01")
        lines.append(f"ACC-{k:05d},civilian,injured,female,,herding,2024-05-01")
    return "\n".join(lines) + "\n"


HAZARDS_MAPPING = """\
layer: hazard_areas
columns:
  type: contamination
values:
  contamination: {AP: antipersonnel_mines, AT: antivehicle_mines, mixed: mixed_mines}
constants:
  classification: suspected_hazardous_area
  date_of_information: 2024-05-01
"""

INCIDENTS_MAPPING = """\
layer: accidents
columns:
  device: device_type
  date: accident_date
values:
  device_type: {AP mine: antipersonnel_mine, AT mine: antivehicle_mine, unknown: unspecified_mine}
constants:
  date_of_information: 2024-05-01
date_format: "%d.%m.%Y"
"""


def main() -> None:
    rng = np.random.default_rng(14)
    (HERE / "hazards.geojson").write_text(json.dumps(hazards(rng)) + "\n")
    (HERE / "incidents.geojson").write_text(json.dumps(incidents(rng)) + "\n")
    (HERE / "victims.csv").write_text(victims())
    (HERE / "hazards_mapping.yaml").write_text(HAZARDS_MAPPING)
    (HERE / "incidents_mapping.yaml").write_text(INCIDENTS_MAPPING)


if __name__ == "__main__":
    main()
