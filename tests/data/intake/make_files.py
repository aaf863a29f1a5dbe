"""How the binary and GIS test files in this folder were made (run once; the outputs are kept in the repo).

Run:  .venv/bin/python tests/data/intake/make_files.py

The text files (CSV, YAML, GeoJSON) are written by hand; this script writes the
ones a person would make with Excel, QGIS or Google Earth: XLSX, KML, KMZ, zipped
Shapefile, GeoPackage, and the truncated copies of some of them.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import shapely

HERE = Path(__file__).parent


def hazard_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "uid": ["SHA-AGD-001", "SHA-AGD-002"],
            "date_of_information": ["2021-03-04", "2021-03-05"],
            "classification": ["suspected_hazardous_area", "suspected_hazardous_area"],
            "contamination": ["antipersonnel_mines", "mixed_mines"],
            "estimated_area_m2": [12000.0, 8000.0],
            "remaining_area_m2": [12000.0, 8000.0],
            "name": ["Orchard north of the cemetery", "Road bend at the canal"],
        },
        geometry=[shapely.box(46.750, 39.610, 46.751, 39.611), shapely.box(46.760, 39.612, 46.761, 39.613)],
        crs=4326,
    )


def main() -> None:
    frame = hazard_frame()
    frame.to_file(HERE / "hazard_areas.gpkg", driver="GPKG")
    # UTM 38N (EPSG:32638): the file says so, and import reprojects it
    frame.to_crs(32638).to_file(HERE / "hazard_areas_utm.gpkg", driver="GPKG")
    shp_dir = HERE / "_shp"
    shp_dir.mkdir(exist_ok=True)
    frame.to_file(shp_dir / "hazard_areas.shp")
    with zipfile.ZipFile(HERE / "hazard_areas_shp.zip", "w") as z:
        for f in sorted(shp_dir.iterdir()):
            z.write(f, f.name)
            f.unlink()
    shp_dir.rmdir()
    frame.to_file(HERE / "hazard_areas.kml", driver="LIBKML")
    with zipfile.ZipFile(HERE / "hazard_areas.kmz", "w") as z:
        z.write(HERE / "hazard_areas.kml", "doc.kml")
    data = (HERE / "hazard_areas.gpkg").read_bytes()
    (HERE / "truncated.gpkg").write_bytes(data[: len(data) // 3])

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "finds"
    ws.append(["date_of_information", "status", "eo_type", "how_found", "lat", "lon", "depth_cm"])
    ws.append(["2021-04-02", "found", "ap_blast", "manual_clearance", "39°36'36.7\"N", "46°45'07.6\"E", 5])
    ws.append(["2021-04-02", "found", "av", "manual_clearance", 39.6110, 46.7534, 20])
    ws.append(["2021-04-03", "found", "ap_fragmentation", "visual", "N39°36.726'", "E46°45.294'", 0])
    wb.save(HERE / "eo_finds.xlsx")
    data = (HERE / "eo_finds.xlsx").read_bytes()
    (HERE / "truncated.xlsx").write_bytes(data[: len(data) // 2])


if __name__ == "__main__":
    main()
