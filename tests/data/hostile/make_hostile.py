"""Write the small hostile files of this corpus (run from this folder; the big ones are made at test time).

Each file is one way an input went wrong in the probe of issue 16; ``tests/test_hostile_inputs.py``
says what SafeGround must answer to each, and runs every file through every importer.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
EO_HEAD = "date_of_information,status,eo_type,how_found"
EO_ROW = "2021-04-02,found,av,manual_clearance"


def feature(coords: object, kind: str = "Point", **props: object) -> dict:
    base = {"date_of_information": "2021-04-02", "status": "found", "eo_type": "av", "how_found": "manual_clearance"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": {"type": kind, "coordinates": coords}}


def collection(*feats: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(feats)}, allow_nan=True, ensure_ascii=False)


def traverse(**changes: object) -> dict:
    rec = json.loads((HERE.parent / "records" / "handover_97.json").read_text(encoding="utf-8"))
    rec.update(changes)
    return rec


def repeat_column(path: Path, column: str, value: str) -> str:
    """The CSV with ``column`` given a second time (another value) at the end of every line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return "\n".join([lines[0] + "," + column, *(ln + "," + value for ln in lines[1:] if ln)]) + "\n"


def scan_png() -> bytes:
    """A small noisy PNG (noise, so that it does not compress to nothing and half of it is half an image)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(16)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def main() -> None:
    for name, content in files().items():
        (HERE / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def files() -> dict[str, str | bytes]:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(8)
    )
    rec = traverse()
    rec_yaml = json.dumps(rec, indent=1)  # JSON is YAML
    latin = traverse(source="Relevé de Sainte-Hélène")
    swapped = traverse(start={**rec["start"], "lon": rec["start"]["lat"], "lat": rec["start"]["lon"]})
    huge = traverse()
    huge["rows"][0]["mine_count"] = 2_000_000_000
    dup_yaml = rec_yaml.replace('"mine_count": ', '"mine_count": 3, "mine_count": ', 1)
    nested = "POINT (46.75 39.61)"
    for _ in range(3000):
        nested = f"GEOMETRYCOLLECTION ({nested})"
    zpath = io.BytesIO()
    with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as z:  # a fixed date: the same bytes every run
        z.writestr(zipfile.ZipInfo("finds.csv", (2021, 4, 2, 0, 0, 0)), f"{EO_HEAD},lon,lat\n{EO_ROW},46.75,39.61\n")
    png = scan_png()
    return {
        # point 3: positions the importer cannot trust
        "nan_point.geojson": collection(feature([46.75, float("nan")])),
        "two_nan_points.geojson": collection(feature([46.75, float("nan")]), feature([float("nan"), 39.6])),
        "inf_lat.csv": f"{EO_HEAD},lon,lat\n{EO_ROW},46.75,inf\n",
        "lat_and_Lat.csv": f"{EO_HEAD},lon,lat,Lat\n{EO_ROW},46.75,39.61,39.65\n",
        "latitude_and_lat.csv": f"{EO_HEAD},longitude,latitude,lat\n{EO_ROW},46.75,39.61,39.65\n",
        "repeated_header.csv": f"{EO_HEAD},status,lon,lat\n{EO_ROW},suspected,46.75,39.61\n",
        "gcps_repeated_header.csv": "id,col,row,lon,lat,lat\nA,0,0,46.70,39.60,39.61\nB,100,0,46.80,39.60,39.61\n"
        "C,0,100,46.70,39.50,39.51\n",
        "digitised_repeated_header.csv": "col,row,row,name\n10,20,30,a\n",
        "form_repeated_header.csv": repeat_column(HERE.parent / "forms" / "hazard_kobo.csv", "team", "mine team 9"),
        "traverse_repeated_key.yaml": dup_yaml,
        "mapping_repeated_key.yaml": "layer: eo_items\ncolumns:\n  Found: date_of_information\n  Found: status\n",
        "weights_repeated_key.yaml": "population: 0.4\npopulation: 0.9\n",
        "traverse_swapped.json": json.dumps(swapped),
        # point 5: denial of service
        "alias_bomb.yaml": bomb,
        "deep_wkt.csv": f'{EO_HEAD},geometry_wkt\n{EO_ROW},"{nested}"\n',
        "mine_count_huge.json": json.dumps(huge),
        "uid_overflow.csv": f"uid,{EO_HEAD},lon,lat\nEO-9223372036854775807,{EO_ROW},46.75,39.61\n",
        # point 6: tracebacks where a message belongs
        "latin1.geojson": collection(feature([46.75, 39.61], entered_by="équipe de relevé")).encode("latin-1"),
        "traverse_latin1.json": json.dumps(latin, ensure_ascii=False).encode("latin-1"),
        "traverse_utf16_bom.json": json.dumps(latin, ensure_ascii=False).encode("utf-16"),
        "traverse_utf16_nobom.yaml": json.dumps(latin, ensure_ascii=False).encode("utf-16-le"),
        # point 9: smaller silent acceptances
        "z_values.geojson": collection(feature([46.75, 39.61, 812.0])),
        "date_0001.csv": f"{EO_HEAD},lon,lat\n0001-01-01,found,av,manual_clearance,46.75,39.61\n",
        "zipped_csv.zip": zpath.getvalue(),
        "scan_truncated.png": png[: len(png) // 2] if png else b"",
    }


if __name__ == "__main__":
    main()
