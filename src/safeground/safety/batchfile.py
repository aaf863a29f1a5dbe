"""Files of points for the batch safe-check: read them as given, write the answer next to every row.

A batch comes from someone's own list (a survey team's GPS points, a village's
wells, the incidents of a national database), so it is kept whole: every
column of the input comes back unchanged, in its order, followed by the answer.
An input column that carries the name of an answer column is kept under
``<name>_input`` rather than overwritten. CSV values are read as text, so ids
like ``007`` stay ``007``.

Inputs: a CSV with longitude and latitude columns (``lon``/``lat``, also
``longitude``/``latitude``, ``lng``/``long``, any case), or any vector file GDAL
reads (GeoPackage, GeoJSON, FlatGeobuf, Shapefile…) holding points in any
coordinate reference system. Outputs follow the suffix of ``--out``: ``.csv``
gives a table (with ``lon``/``lat`` added for a vector input), a vector suffix
gives points in WGS 84 with the answer as attributes. A file is written whole
(to a temporary file, then renamed) or not at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from safeground.errors import InvalidInput, Param, Problem, SafeGroundError
from safeground.tabular import frame_to_csv

ANSWER_COLUMNS = ("level", "reason", "buffer_m", "nearest_danger", "nearest_danger_m", "predicted_risk", "buffers")
_LON = ("lon", "longitude", "lng", "long")
_LAT = ("lat", "latitude")
_ID = ("uid", "id")
VECTOR_SUFFIXES = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf",
                   ".shp": "ESRI Shapefile"}  # fmt: skip


@dataclass
class PointsFile:
    """The rows of a batch: the input's own columns, and each row's position in WGS 84."""

    path: Path
    columns: pd.DataFrame  # the input's own columns, as read (no geometry)
    lon: np.ndarray
    lat: np.ndarray
    vector: bool  # read from a vector file (rows are "features") rather than a table ("rows")
    lonlat_columns: tuple[str, str] | None  # the table's own coordinate columns

    def where(self, i: int) -> str:
        """How a user finds row i in the file: CSV rows counted as a spreadsheet shows them."""
        return f"feature {i + 1}" if self.vector else f"row {i + 2}"

    def ids(self, column: str | None) -> np.ndarray | None:
        """The rows' identifiers: the named column, else a ``uid`` or ``id`` column when there is one."""
        cols = {c.lower(): c for c in self.columns.columns}
        if column is not None:
            if column not in self.columns.columns and column.lower() not in cols:
                raise SafeGroundError(
                    f"{self.path.name}: no column {column!r} for {Param('id_column')}",
                    hint=f"the columns are: {', '.join(map(str, self.columns.columns))}",
                )
            name = column if column in self.columns.columns else cols[column.lower()]
            return self.columns[name].astype(str).to_numpy()
        for c in _ID:
            if c in cols:
                return self.columns[cols[c]].astype(str).to_numpy()
        return None


def read_points(path: Path, layer: str | None = None) -> PointsFile:
    """A CSV of lon/lat or a vector file of points, refused with the row and the fix when it is not."""
    if not path.exists():
        raise SafeGroundError(f"{path}: no such file", hint="give the path of a CSV, GeoPackage or GeoJSON of points")
    if path.suffix.lower() in (".csv", ".txt"):
        return _read_table(path)
    return _read_vector(path, layer)


def _read_table(path: Path) -> PointsFile:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise SafeGroundError(f"{path.name}: not a readable CSV ({str(exc).splitlines()[0]})",
                              hint="save it as CSV (UTF-8) with a header row") from None  # fmt: skip
    lon_c, lat_c = _pick(frame, _LON, path), _pick(frame, _LAT, path)
    problems = []
    values = {}
    for col, lo, hi in ((lon_c, -180, 180), (lat_c, -90, 90)):
        v = pd.to_numeric(frame[col].str.strip().str.replace(",", ".", regex=False), errors="coerce").to_numpy(float)
        bad = np.flatnonzero(~((v >= lo) & (v <= hi)))
        for i in bad[:20]:
            what = (
                "empty"
                if not str(frame[col].iloc[i]).strip()
                else f"not a {'longitude' if col == lon_c else 'latitude'} ({lo}…{hi})"
            )
            problems.append(Problem(path.name, f"row {int(i) + 2}", col, what, frame[col].iloc[i]))
        if len(bad) > 20:
            problems.append(Problem(path.name, f"{len(bad) - 20} more rows", col, "the same"))
        values[col] = v
    if problems:
        raise InvalidInput(problems, hint_text="longitude and latitude in decimal degrees, WGS 84 (e.g. 47.10, 39.62)")
    return PointsFile(path, frame, values[lon_c], values[lat_c], False, (lon_c, lat_c))


def _pick(frame: pd.DataFrame, names: tuple[str, ...], path: Path) -> str:
    found = [c for c in frame.columns if str(c).strip().lower() in names]
    if len(found) == 1:
        return str(found[0])
    what = "longitude" if names is _LON else "latitude"
    if not found:
        raise SafeGroundError(
            f"{path.name}: no {what} column (the columns are: {', '.join(map(str, frame.columns))})",
            hint="name the columns lon and lat (decimal degrees, WGS 84)",
        )
    raise SafeGroundError(f"{path.name}: more than one {what} column ({', '.join(found)})", hint="keep one of them")


def _read_vector(path: Path, layer: str | None) -> PointsFile:
    from safeground.intake.confine import check_gis_file

    check_gis_file(path)
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError:
        raise SafeGroundError(
            f"{path.name}: neither a CSV nor a vector file GDAL can read",
            hint="give a .csv with lon,lat columns, a .gpkg or a .geojson of points",
        ) from None
    names = [str(n) for n in layers[:, 0]]
    if layer is None and len(names) > 1:
        raise SafeGroundError(f"{path.name} holds {len(names)} layers ({', '.join(names)})",
                              hint=f"say which with {Param('layer', 'NAME')}")  # fmt: skip
    if layer is not None and layer not in names:
        raise SafeGroundError(f"{path.name}: no layer {layer!r}", hint=f"its layers: {', '.join(names)}")
    frame = pyogrio.read_dataframe(path, layer=layer or names[0])
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame:
        raise SafeGroundError(f"{path.name}: the layer has no geometry", hint="give points, or a CSV with lon,lat")
    geoms = frame.geometry.to_numpy()
    problems = []
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = shapely.get_type_id(geoms)
    one_point_multi = (kinds == 4) & (shapely.get_num_geometries(geoms) == 1)
    for i in np.flatnonzero(empty)[:20]:
        problems.append(Problem(path.name, f"feature {int(i) + 1}", "geometry", "no geometry: a point is needed"))
    for i in np.flatnonzero(~empty & (kinds != 0) & ~one_point_multi)[:20]:
        problems.append(Problem(path.name, f"feature {int(i) + 1}", "geometry", f"a {geoms[i].geom_type}, not a point"))
    if problems:
        raise InvalidInput(problems, hint_text="every feature must be one point (for areas, check their centroids)")
    if frame.crs is None:
        if path.suffix.lower() not in (".geojson", ".json"):
            raise SafeGroundError(f"{path.name}: the layer has no coordinate reference system",
                                  hint="assign one in QGIS (Layer ▸ Set CRS) and save again")  # fmt: skip
        frame = frame.set_crs(4326)
    pts = shapely.get_geometry(frame.to_crs(4326).geometry.to_numpy(), 0)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    columns = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    return PointsFile(path, columns, lon, lat, True, None)


def default_output(path: Path) -> Path:
    """Next to the input, in its format: ``wells.gpkg`` → ``wells-checked.gpkg``."""
    suffix = path.suffix.lower() if path.suffix.lower() in (".csv", *VECTOR_SUFFIXES) else ".csv"
    return path.with_name(path.stem + "-checked" + (".gpkg" if suffix == ".shp" else suffix))


def joined(points: PointsFile, answers: pd.DataFrame, buffers: str) -> tuple[pd.DataFrame, list[str]]:
    """The input's columns, then the answer's; returns the table and the input columns renamed."""
    own = points.columns.copy()
    renamed = []
    taken = set(map(str, own.columns))
    for c in list(own.columns):
        if str(c) in ANSWER_COLUMNS:
            new = f"{c}_input"
            k = 2
            while new in taken:
                new, k = f"{c}_input{k}", k + 1
            own = own.rename(columns={c: new})
            taken.add(new)
            renamed.append(f"{c} → {new}")
    answer = answers.drop(columns=["lon", "lat"]).reset_index(drop=True)
    answer["buffers"] = buffers
    return pd.concat([own.reset_index(drop=True), answer], axis=1), renamed


def write_answers(points: PointsFile, table: pd.DataFrame, out: Path) -> None:
    """Write the joined table as CSV or as WGS 84 points, whole or not at all."""
    suffix = out.suffix.lower()
    tmp = out.with_name(f".{out.name}.part{os.getpid()}")
    try:
        if suffix == ".csv":
            if points.vector:
                lead = pd.DataFrame({"lon": points.lon, "lat": points.lat})
                lead = lead.loc[:, [c for c in lead.columns if c not in table.columns]]
                table = pd.concat([table.iloc[:, : points.columns.shape[1]], lead,
                                   table.iloc[:, points.columns.shape[1]:]], axis=1)  # fmt: skip
            frame_to_csv(table, tmp, index=False)
        elif suffix in VECTOR_SUFFIXES:
            plain = table.copy()
            for c in plain.columns:
                if isinstance(plain[c].dtype, pd.CategoricalDtype):
                    plain[c] = plain[c].astype(str)
            frame = gpd.GeoDataFrame(plain, geometry=shapely.points(points.lon, points.lat), crs=4326)
            if suffix == ".shp":
                raise SafeGroundError(f"{out.name}: a Shapefile cuts column names to 10 letters",
                                      hint="write .gpkg, .geojson or .csv")  # fmt: skip
            pyogrio.write_dataframe(frame, tmp, layer=out.stem, driver=VECTOR_SUFFIXES[suffix])
        else:
            raise SafeGroundError(f"{out.name}: cannot write a {out.suffix or 'suffix-less'} file",
                                  hint="use .csv, .gpkg or .geojson")  # fmt: skip
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
