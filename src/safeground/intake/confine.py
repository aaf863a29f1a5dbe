"""Inputs that reach outside: an imported file must not make GDAL read other files or the network.

GDAL opens whatever a file's content says it is, whatever its name: a VRT
(``<OGRVRTDataSource>``) named ``hazards.geojson`` would read another file on the
computer, or ``/vsicurl/http://…`` on the network, and import it. So an import
accepts only the formats SafeGround documents, checks that each file's content
is that format before GDAL sees it, refuses GDAL's virtual file names
(``/vsi…``, ``…://…``), and turns GDAL's network file systems off in this
process as a second line (``CPL_VSIL_CURL_ALLOWED_EXTENSIONS`` set to a name no
file has: ``/vsicurl/`` and the cloud file systems built on it find nothing).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from safeground.errors import InvalidInput, Problem

#: the GIS formats an import documents (tables of coordinates, CSV and XLSX, are read by SafeGround itself)
GIS_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz"}
#: what a zipped Shapefile (or a zipped GIS file of the list above) may hold
_ZIP_MEMBERS = {
    ".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml", ".qmd", ".fix", ".atx", ".aih",
    ".ain", ".txt", ".md", ".pdf", ".html", ".htm", ".csv", ".geojson", ".json", ".gpkg", ".kml",
}  # fmt: skip
_VIRTUAL_MARKERS = (b"OGRVRTDataSource", b"VRTDataset", b"VRTDataSource")
_NO_NETWORK = {
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".safeground-no-network",  # no file ends like this: nothing is fetched
    "GDAL_VRT_ENABLE_PYTHON": "NO",
    "GDAL_HTTP_TIMEOUT": "1",
}
_configured = False
_FIX = "import GeoJSON, GeoPackage, a zipped Shapefile, KML/KMZ, CSV or XLSX (see 'safeground import --help')"


def network_off() -> None:
    """Turn GDAL's network file systems off for this process (idempotent).

    Set in pyogrio's GDAL and as environment variables: rasterio ships its own
    GDAL, which reads them from the environment (and so do child processes)."""
    global _configured
    if not _configured:
        import os

        import pyogrio

        pyogrio.set_gdal_config_options(_NO_NETWORK)
        for key, value in _NO_NETWORK.items():
            os.environ.setdefault(key, value)
        _configured = True


def _refuse(name: str, reason: str) -> InvalidInput:
    return InvalidInput([Problem(name, "file", "-", reason)], hint_text=_FIX)


def _virtual_path(path: Path) -> bool:
    """A GDAL virtual or network name (``/vsicurl/…``, ``http://…``), not a file on this computer."""
    text = str(path)
    return text.startswith(("/vsi", "\\vsi")) or "://" in text


def _virtual(head: bytes) -> bool:
    return any(m in head for m in _VIRTUAL_MARKERS)


def check_gis_file(path: Path, *, as_suffix: str | None = None) -> None:
    """Refuse a GIS file that is not what its name says, or that names other files or the network."""
    network_off()
    name = path.name
    if _virtual_path(path):
        raise _refuse(name, "is a GDAL virtual or network path; SafeGround imports files on this computer only")
    suffix = as_suffix or path.suffix.lower()
    if suffix not in GIS_SUFFIXES:
        raise _refuse(name, f"'{path.suffix or '(no extension)'}' is not a format SafeGround imports")
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise _refuse(name, f"cannot be read: {exc.strerror or exc}") from None
    if _virtual(head):
        raise _refuse(name, "is a GDAL virtual dataset (VRT) that reads other files or the network: refused")
    body = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if suffix in (".geojson", ".json") and not body.startswith((b"{", b"[")):
        raise _refuse(name, "is not GeoJSON (a GeoJSON file starts with '{')")
    if suffix == ".gpkg" and not head.startswith(b"SQLite format 3\x00"):
        raise _refuse(name, "is not a GeoPackage (not an SQLite file)")
    if suffix == ".shp" and not head.startswith(b"\x00\x00\x27\x0a"):
        raise _refuse(name, "is not a Shapefile (.shp header missing)")
    if suffix == ".kml" and b"<kml" not in head:
        raise _refuse(name, "is not KML (no <kml> element at its start)")
    if suffix in (".zip", ".kmz"):
        _check_zip(path, kmz=suffix == ".kmz")


def _check_zip(path: Path, *, kmz: bool) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                member = Path(info.filename)
                ext = member.suffix.lower()
                if not kmz and ext not in _ZIP_MEMBERS:
                    raise _refuse(
                        path.name,
                        f"holds {info.filename}: '{ext or '(no extension)'}' is not part of a zipped Shapefile",
                    )
                with z.open(info) as fh:
                    if _virtual(fh.read(4096)):
                        raise _refuse(path.name, f"holds {info.filename}, a GDAL virtual dataset (VRT): refused")
    except zipfile.BadZipFile as exc:
        raise _refuse(path.name, f"is not a readable zip archive: {exc}") from None


#: the raster formats SafeGround reads (scans to georeference, elevation models), by their first bytes
RASTER_MAGIC = {
    ".tif": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
_RASTER_FIX = "give a GeoTIFF, PNG or JPEG file on this computer"


def check_raster_file(path: Path, *, what: str = "image") -> None:
    """Refuse a raster that is not a plain GeoTIFF, PNG or JPEG: a VRT (even one named .tif) reads other files."""
    network_off()
    path = Path(path)

    def refuse(reason: str) -> InvalidInput:
        return InvalidInput([Problem(path.name, "file", "-", reason)], hint_text=_RASTER_FIX)

    if _virtual_path(path):
        raise refuse("is a GDAL virtual or network path; SafeGround reads files on this computer only")
    suffix = path.suffix.lower()
    if suffix not in RASTER_MAGIC:
        raise refuse(f"'{path.suffix or '(no extension)'}' is not a {what} format SafeGround reads")
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise refuse(f"cannot be read: {exc.strerror or exc}") from None
    if _virtual(head) or not head.startswith(RASTER_MAGIC[suffix]):
        raise refuse(f"is not a {suffix.lstrip('.').upper()} file (its content says otherwise)")
