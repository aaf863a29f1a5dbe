"""Scanned paper maps: a synthetic scan drawn from known world geometry, fitted back from noisy GCPs with a blunder."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import rasterio
import shapely
from pyproj import CRS, Transformer

from safeground.errors import InvalidInput
from safeground.intake.control_points import parse_gcps, read_gcps
from safeground.intake.digitised import import_digitised, read_digitised, to_world_features
from safeground.intake.georef import Georeference, fit
from safeground.intake.geotiff import write_geotiff
from safeground.model import EOItem, HazardArea, MinefieldRecord
from tests.conftest import invoke_cli
from tests.samples import sample

UTM = 32638  # UTM 38N, holds the Karabakh test district
W, H = 800, 600  # scan size in pixels
TO84 = Transformer.from_crs(UTM, 4326, always_xy=True)

# world geometry of the "map": landmarks (the GCPs), a road, a minefield
rng = np.random.default_rng(7)
LANDMARKS = {f"L{i}": (rng.uniform(60, W - 60), rng.uniform(60, H - 60)) for i in range(10)}


def known(method: str) -> Georeference:
    """The true pixel → UTM transform of the synthetic scan: 2.5 m/px, rotated 4°, origin near 600 km E."""
    a = np.deg2rad(4.0)
    s = 2.5 / 400.0  # normalised pixel units: (col - 400) / 400
    coef = np.zeros((3 if method == "affine" else 6, 2))
    coef[0] = [600_000.0, 4_390_000.0]
    coef[1] = [2.5 * 400 * np.cos(a), -2.5 * 400 * np.sin(a)]
    coef[2] = [-2.5 * 400 * np.sin(a), -2.5 * 400 * np.cos(a)]
    if method == "polynomial":  # a mild photocopier stretch: up to ~10 m at the corners
        coef[3] = [6.0, 2.0]
        coef[4] = [-3.0, 4.0]
        coef[5] = [2.0, -5.0]
    del s
    return Georeference(method, coef, np.array([400.0, 300.0]), 400.0, CRS.from_epsg(UTM))  # type: ignore[arg-type]


def render_scan(path: Path, truth: Georeference) -> None:
    """Draw the map in pixel space with matplotlib: exactly W × H pixels, the landmarks as red dots."""
    fig = plt.figure(figsize=(W / 100, H / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.axis("off")
    # a road and a minefield polygon defined in the world, drawn through the true transform
    road = np.array([[600_050.0, 4_389_900.0], [601_200.0, 4_389_200.0], [602_000.0, 4_388_900.0]])
    field = np.array(
        [
            [600_700.0, 4_389_400.0],
            [601_000.0, 4_389_450.0],
            [601_050.0, 4_389_200.0],
            [600_720.0, 4_389_150.0],
            [600_700.0, 4_389_400.0],
        ]
    )
    for xy, style in ((road, {"color": "black", "lw": 3}), (field, {"color": "blue", "lw": 2})):
        dense = shapely.get_coordinates(shapely.LineString(xy).segmentize(5.0))
        c, r = truth.to_pixel(dense[:, 0], dense[:, 1])
        ax.plot(c, r, **style)
    for c, r in LANDMARKS.values():
        ax.add_patch(plt.Circle((c, r), 4, color="red"))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_gcps(path: Path, truth: Georeference, noise_m: float, blunder: str | None, geographic: bool = True) -> None:
    lines = ["# synthetic control points", "id,col,row,lon,lat" if geographic else "id,col,row,x,y"]
    nrng = np.random.default_rng(11)
    for pid, (c, r) in LANDMARKS.items():
        x, y = truth.to_world(np.array([c]), np.array([r]))
        x, y = x[0] + nrng.normal(0, noise_m), y[0] + nrng.normal(0, noise_m)
        if pid == blunder:
            x += 80.0  # a mistyped coordinate: 80 m east
        if geographic:
            lon, lat = TO84.transform(x, y)
            lines.append(f"{pid},{c:.2f},{r:.2f},{lon:.8f},{lat:.8f}")
        else:
            lines.append(f"{pid},{c:.2f},{r:.2f},{x:.3f},{y:.3f}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def affine_scan(tmp_path: Path) -> tuple[Path, Path, Georeference]:
    truth = known("affine")
    render_scan(tmp_path / "scan.png", truth)
    write_gcps(tmp_path / "gcps.csv", truth, noise_m=0.5, blunder="L3")
    return tmp_path / "scan.png", tmp_path / "gcps.csv", truth


def test_affine_fit_recovers_the_transform_and_flags_the_blunder(affine_scan):
    _, gcps, truth = affine_scan
    geo = fit(read_gcps(gcps), "affine")
    assert geo.crs.to_epsg() == UTM
    suspects = [r.id for r in geo.residuals if r.suspect]
    assert suspects == ["L3"] and geo.worst == "L3"
    assert geo.rms_m > 15 and geo.rms_without_worst_m < 1.0  # 0.5 m noise once the blunder is out
    l3 = next(r for r in geo.residuals if r.id == "L3")
    assert 60 < l3.loo_residual_m < 100  # the 80 m blunder, seen from the other points
    assert l3.loo_residual_px == pytest.approx(l3.loo_residual_m / 2.5, rel=0.03)  # the blunder skews the scale
    good = [r for r in geo.residuals if r.id != "L3"]
    assert max(r.loo_residual_m for r in good) < 40  # the blunder pulls the fit, but the others stay small
    # without the blunder the fit is the true transform to well under a metre
    lines = [ln for ln in gcps.read_text().splitlines() if not ln.startswith("L3,")]
    clean = fit(parse_gcps("\n".join(lines)), "affine")
    assert not any(r.suspect for r in clean.residuals)
    assert clean.rms_m < 1.0
    c, r = np.array([0.0, W, 0.0, W]), np.array([0.0, 0.0, H, H])
    tx, ty = truth.to_world(c, r)
    fx, fy = clean.to_world(c, r)
    assert np.max(np.hypot(tx - fx, ty - fy)) < 2.0  # the scan's corners within 2 m
    assert clean.affine().a == pytest.approx(2.5 * np.cos(np.deg2rad(4)), rel=1e-3)


def test_affine_geotiff_puts_every_gcp_pixel_on_its_world_position(affine_scan, tmp_path):
    scan, gcps, _ = affine_scan
    res = invoke_cli(
        "scan",
        "georef",
        str(scan),
        "--gcps",
        str(gcps),
        "--out",
        str(tmp_path / "geo.tif"),
        "--method",
        "affine",
        "--residuals",
        str(tmp_path / "res.csv"),
    )
    assert res.returncode == 0, res.stderr + res.stdout
    assert "SUSPECT" in res.stdout and "worst point: L3" in res.stdout
    assert "L3" in (tmp_path / "res.csv").read_text().splitlines()[4] and "yes" in (tmp_path / "res.csv").read_text()
    geo = fit(read_gcps(gcps), "affine")
    with rasterio.open(tmp_path / "geo.tif") as ds:
        assert ds.crs.to_epsg() == UTM and ds.count == 4 and (ds.width, ds.height) == (W, H)
        for pt, r in zip(read_gcps(gcps).points, geo.residuals, strict=True):
            x, y = ds.transform @ (pt.col, pt.row)
            gx, gy = Transformer.from_crs(4326, UTM, always_xy=True).transform(pt.x, pt.y)
            assert np.hypot(x - gx, y - gy) == pytest.approx(r.residual_m, abs=0.01)
        # the red dot of a good landmark is where the world says it is
        band = ds.read(1), ds.read(2)
        c, r = LANDMARKS["L5"]
        x, y = ds.transform @ (c, r)
        rr, cc = ds.index(x, y)
        assert band[0][rr, cc] > 200 and band[1][rr, cc] < 60
        # QGIS shows a rotated geotransform through GDAL's auto-created warped VRT: north-up, same place
        from rasterio.vrt import WarpedVRT

        with WarpedVRT(ds, crs=ds.crs) as vrt:
            assert vrt.transform.b == 0 and vrt.transform.d == 0
            red, green = vrt.read(1), vrt.read(2)
            for pid in ("L0", "L5", "L9"):
                c, r = LANDMARKS[pid]
                vr, vc = vrt.index(*(ds.transform @ (c, r)))
                assert red[vr, vc] > 200 and green[vr, vc] < 60, pid
    # a threshold refuses the bad fit and writes nothing; leaving the suspect point out passes it
    base = ["scan", "georef", str(scan), "--gcps", str(gcps), "--method", "affine", "--out", str(tmp_path / "g2.tif")]
    res = invoke_cli(*base, "--max-rms", "5")
    assert res.returncode != 0 and "above --max-rms 5 m" in res.stderr and "--exclude L3" in res.stderr
    assert not (tmp_path / "g2.tif").exists()
    res = invoke_cli(*base, "--max-rms", "5", "--exclude", "L3")
    assert res.returncode == 0, res.stderr + res.stdout
    assert (tmp_path / "g2.tif").exists() and "L3" not in res.stdout
    res = invoke_cli(*base, "--exclude", "L99")
    assert res.returncode != 0 and "no such control point" in res.stderr
    # exactly three points: the fit passes through them all, which the user is told
    three = tmp_path / "three.csv"
    three.write_text("\n".join(gcps.read_text().splitlines()[:5]))  # a comment, the header, 3 points
    res = invoke_cli("scan", "georef", str(scan), "--gcps", str(three), "--method", "affine", "--out",
                     str(tmp_path / "g3.tif"))  # fmt: skip
    assert res.returncode == 0 and "residuals are 0 by construction" in " ".join(res.stdout.split())


def test_polynomial_fit_of_a_distorted_copy_and_its_north_up_geotiff(tmp_path):
    truth = known("polynomial")
    render_scan(tmp_path / "scan.png", truth)
    write_gcps(tmp_path / "gcps.csv", truth, noise_m=0.3, blunder="L7", geographic=False)
    with pytest.raises(InvalidInput, match="no CRS"):
        read_gcps(tmp_path / "gcps.csv")
    gcps = read_gcps(tmp_path / "gcps.csv", crs="EPSG:32638")
    poly = fit(gcps, "polynomial")
    assert [r.id for r in poly.residuals if r.suspect] == ["L7"]
    clean = fit(type(gcps)([p for p in gcps.points if p.id != "L7"], gcps.crs, "x"), "auto")
    assert clean.method == "polynomial"  # auto sees the distortion: affine leaves metres of misfit
    affine = fit(type(gcps)([p for p in gcps.points if p.id != "L7"], gcps.crs, "x"), "affine")
    assert clean.rms_m < 0.5 and affine.rms_m > 1.5 and affine.rms_m > 4 * clean.rms_m
    cc, rr = np.meshgrid(np.linspace(0, W, 9), np.linspace(0, H, 7))
    tx, ty = truth.to_world(cc.ravel(), rr.ravel())
    fx, fy = clean.to_world(cc.ravel(), rr.ravel())
    assert np.max(np.hypot(tx - fx, ty - fy)) < 3.0
    # inverse is exact
    c2, r2 = clean.to_pixel(fx, fy)
    assert np.allclose(c2, cc.ravel(), atol=1e-4) and np.allclose(r2, rr.ravel(), atol=1e-4)
    from safeground.intake.geotiff import read_scan

    info = write_geotiff(clean, read_scan(tmp_path / "scan.png"), tmp_path / "poly.tif")
    assert info["resampled"]
    with rasterio.open(tmp_path / "poly.tif") as ds:
        assert ds.transform.b == 0 and ds.transform.d == 0  # north-up
        assert ds.crs.to_epsg() == UTM
        red, green, alpha = ds.read(1), ds.read(2), ds.read(4)
        assert alpha[0, 0] == 0 and alpha[ds.height // 2, ds.width // 2] == 255  # outside the rotated scan: clear
        for pid, (c, r) in LANDMARKS.items():  # every red dot lands on its true world position
            x, y = truth.to_world(np.array([c]), np.array([r]))
            row, col = ds.index(x[0], y[0])
            assert red[row, col] > 200 and green[row, col] < 80, pid


def test_digitised_features_become_records_in_one_transaction(affine_scan, tmp_path, store):
    _, gcps, truth = affine_scan
    lines = [ln for ln in gcps.read_text().splitlines() if not ln.startswith("L3,")]
    (tmp_path / "clean.csv").write_text("\n".join(lines))
    geo = fit(read_gcps(tmp_path / "clean.csv"), "affine")
    (tmp_path / "mines.csv").write_text("col,row,eo_type,row_label\n100,100,ap_blast,A#1\n110,100,ap_blast,A#2\n")
    feats = to_world_features(geo, read_digitised(tmp_path / "mines.csv"))
    x, y = truth.to_world(np.array([100.0]), np.array([100.0]))
    lon, lat = TO84.transform(x[0], y[0])
    assert feats[0].geometry.distance(shapely.Point(lon, lat)) < 2e-5  # about 2 m
    store.add(sample(MinefieldRecord))
    mfr = next(iter(store.find(MinefieldRecord))).uid
    defaults = {"status": "recorded", "minefield_record_uid": mfr, "date_of_information": "2021-03-01"}
    rep = import_digitised(store, "eo_items", feats, defaults, "mines.csv")
    assert store.count(EOItem) == 2 and store.get(EOItem, rep.created[1]).row_label == "A#2"
    # the same digitised sheet again is recognised, not stored twice
    again = import_digitised(store, "eo_items", feats, defaults, "mines.csv")
    assert again.counts["unchanged"] == 2 and store.count(EOItem) == 2
    # a record that does not exist is refused, as by 'safeground import'
    with pytest.raises(InvalidInput, match="refers to MFR-99999"):
        import_digitised(store, "eo_items", feats, {**defaults, "minefield_record_uid": "MFR-99999"}, "mines.csv")
    # a hazard polygon digitised in pixel space, area measured from the georeferenced polygon
    poly = {
        "type": "Feature",
        "properties": {"name": "field on sketch"},
        "geometry": {"type": "Polygon", "coordinates": [[[300, 300], [340, 300], [340, 340], [300, 340], [300, 300]]]},
    }
    (tmp_path / "ha.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [poly]}))
    ha = import_digitised(
        store,
        "hazard_areas",
        to_world_features(geo, read_digitised(tmp_path / "ha.geojson")),
        {
            "classification": "suspected_hazardous_area",
            "contamination": "antipersonnel_mines",
            "date_of_information": "2021-03-01",
        },
        "ha.geojson",
    )
    area = store.get(HazardArea, ha.created[0]).estimated_area_m2
    assert area == pytest.approx(100 * 100, rel=0.01)  # 40 px × 2.5 m squared
    # a bad feature: everything is reported, nothing is stored
    (tmp_path / "bad.csv").write_text("col,row,eo_type\n100,100,ap_blast\n120,abc,ap_blast\n130,100,banana\n")
    with pytest.raises(InvalidInput) as exc:
        read_digitised(tmp_path / "bad.csv")
    assert "bad.csv, line 3, field 'col,row'" in str(exc.value) and "abc" in str(exc.value)
    (tmp_path / "bad2.csv").write_text("col,row,eo_type\n100,100,ap_blast\n130,100,banana\n")
    with pytest.raises(InvalidInput) as exc:
        import_digitised(
            store, "eo_items", to_world_features(geo, read_digitised(tmp_path / "bad2.csv")), defaults, "bad2.csv"
        )
    assert "bad2.csv, row 3" in str(exc.value) and "eo_type" in str(exc.value)
    assert store.count(EOItem) == 2


def test_cli_features_import_and_dry_run(affine_scan, tmp_path, store):
    _, gcps, _ = affine_scan
    (tmp_path / "mines.csv").write_text("col,row,eo_type\n100,100,ap_blast\n110,100,av\n")
    store.add(sample(MinefieldRecord))  # MFR-00001, which the features refer to
    args = [
        "scan",
        "features",
        str(tmp_path / "mines.csv"),
        "--gcps",
        str(gcps),
        "--method",
        "affine",
        "--layer",
        "eo_items",
        "--store",
        store.test_url,
        "--set",
        "status=recorded",
        "--set",
        "minefield_record_uid=MFR-00001",
        "--date",
        "2021-03-01",
        "--out",
        str(tmp_path / "m.geojson"),
    ]
    res = invoke_cli(*args, "--dry-run")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "would import 2 record(s)" in res.stdout
    assert store.count(EOItem) == 0
    res = invoke_cli(*args)
    assert res.returncode == 0, res.stderr + res.stdout
    assert store.count(EOItem) == 2
    res = invoke_cli(*args)  # the same sheet twice: recognised, not duplicated
    assert res.returncode == 0 and "2 unchanged" in res.stdout and store.count(EOItem) == 2
    (tmp_path / "bad.csv").write_text("col,row,eo_type\n100,100,ap_blast\n110,100,banana\n")
    bad = [a if a != str(tmp_path / "mines.csv") else str(tmp_path / "bad.csv") for a in args]
    res = invoke_cli(*bad, "--problems", str(tmp_path / "p.csv"))
    assert res.returncode == 2 and "bad.csv, row 3" in res.stderr and "nothing was stored" in res.stderr
    assert "banana" in (tmp_path / "p.csv").read_text() and store.count(EOItem) == 2
    assert len(json.loads((tmp_path / "m.geojson").read_text())["features"]) == 2


@pytest.mark.parametrize(
    ("text", "crs", "needle"),
    [
        ("id,col,row,lon,lat\na,1,2,47.1,39.6\nb,xx,2,47.2,39.6\nc,5,6,247.2,39.6\n", None, "line 3, field 'col'"),
        ("id,col,row,lon,lat\na,1,2,47.1,39.6\nb,xx,2,47.2,39.6\nc,5,6,247.2,39.6\n", None, "line 4, field 'lon,lat'"),
        ("id,col,lon,lat\na,1,47.1,39.6\n", None, "missing column"),
        ("id,col,row,x,y\na,1,2,3,4\n", "EPSG:99999999", "unknown CRS"),
        ("", None, "empty"),
        ("id,col,row,lon,lat\na,1,2,47.1,39.6\na,3,4,47.2,39.6\n", None, "the same control point twice"),
        ("id,col,row,lon,lat\na,1,2,47.1\n", None, "4 values for 5 columns"),
    ],
)
def test_bad_gcp_files_name_line_and_field(text, crs, needle):
    with pytest.raises(InvalidInput, match=needle):
        parse_gcps(text, "g.csv", crs)


def test_too_few_or_collinear_points_are_refused():
    three = parse_gcps("col,row,lon,lat\n0,0,47.1,39.6\n100,0,47.2,39.6\n0,100,47.1,39.5\n")
    assert fit(three, "affine").residuals[0].loo_residual_m is None  # no redundancy, no leave-one-out
    with pytest.raises(InvalidInput, match="needs at least 6"):
        fit(three, "polynomial")
    line = parse_gcps("col,row,lon,lat\n0,0,47.1,39.6\n100,100,47.2,39.5\n200,200,47.3,39.4\n300,300,47.4,39.3\n")
    with pytest.raises(InvalidInput, match="in a line"):
        fit(line, "affine")


def test_interpolated_inverse_of_the_polynomial_is_within_a_twentieth_of_a_pixel():
    from scipy.ndimage import map_coordinates

    from safeground.intake.geotiff import _inverse_grid

    geo = known("polynomial")
    geo.coef[3:] *= 20  # a strongly distorted sheet: ~200 m of bending at the corners
    res, minx, maxy, ow, oh = 2.5, 599_000.0, 4_390_500.0, 1200, 1000
    node_col, node_row, cell = _inverse_grid(geo, minx, maxy, res, ow, oh)
    pts = np.random.default_rng(3).uniform([0, 0], [oh, ow], (5000, 2))  # output pixel (row, col), edge units
    col = map_coordinates(node_col, [pts[:, 0] / cell, pts[:, 1] / cell], order=1)
    row = map_coordinates(node_row, [pts[:, 0] / cell, pts[:, 1] / cell], order=1)
    ec, er = geo.to_pixel(minx + pts[:, 1] * res, maxy - pts[:, 0] * res)
    assert np.max(np.hypot(col - ec, row - er)) < 0.05
    assert cell < 32  # the strong distortion made it refine the grid


def test_a_qgis_georeferencer_points_file_is_read_as_saved(affine_scan, tmp_path):
    _, gcps, _ = affine_scan
    pts = read_gcps(gcps).points
    to_utm = Transformer.from_crs(4326, UTM, always_xy=True)
    lines = [f"#CRS: {CRS.from_epsg(UTM).to_wkt()}", "mapX,mapY,sourceX,sourceY,enable,dX,dY,residual"]
    for p in pts:
        x, y = to_utm.transform(p.x, p.y)
        lines.append(f"{x:.3f},{y:.3f},{p.col},{-p.row},{0 if p.id == 'L3' else 1},0,0,0")  # the blunder switched off
    (tmp_path / "scan.png.points").write_text("\n".join(lines) + "\n")
    g = read_gcps(tmp_path / "scan.png.points")
    assert len(g.points) == 9 and g.crs.to_epsg() == UTM and g.points[0].row == pts[0].row > 0
    geo = fit(g, "affine")
    assert geo.rms_m < 1.0 and not any(r.suspect for r in geo.residuals)
    no_crs = "\n".join(lines[1:])
    with pytest.raises(InvalidInput, match="without a #CRS line"):
        parse_gcps(no_crs, "old.points")
    assert len(parse_gcps(no_crs, "old.points", "EPSG:32638").points) == 9


def test_a_quoted_newline_does_not_shift_line_numbers():
    with pytest.raises(InvalidInput, match=r"line 3, field 'col'"):
        parse_gcps('id,col,row,lon,lat\n"a,1,2,47.1,39.6\nb,x,2,47.2,39.6\n', "g.csv")
