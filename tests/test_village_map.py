"""The printable village risk map: one A4 page a villager can read, from the demo district and another seed.

Each page is rendered to PNG and its text read back from the PDF, so what is
checked is what a printer would print: the village and its cemetery at a
walking scale, named roads, paths and the river in the local spelling, local
number formats, released corridors visible above the hatching, nothing off the page.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
import shapely

from safeground.errors import SafeGroundError
from safeground.geometry.projection import project
from safeground.model import Activity, HazardArea, InfrastructureArea, InfrastructureLine, Organisation
from safeground.model.vocab import ActivityType, ClearanceMethod
from safeground.reports.village_map import (
    UNLABELLED,
    VillageMap,
    format_number,
    local_name,
    render_village_map,
    translations,
)
from safeground.storage import open_store
from safeground.storage.base import Store, metric_epsg
from tests.conftest import DistrictFactory

A4_MM = (210.0, 297.0)


@pytest.fixture(scope="module")
def seed7_path(district: DistrictFactory) -> Path:
    """A second district (another seed): nothing here may depend on the demo's particular layout."""
    return district(7, 20)


@pytest.fixture(scope="module")
def stores(demo_dir: Path, seed7_path: Path) -> dict[str, Path]:
    return {"demo": demo_dir / "demo.gpkg", "seed7": seed7_path}


def _villages_by_river(store: Store) -> list[str]:
    """Villages that have a cemetery, nearest the river first (so the first one has the river in view)."""
    epsg = metric_epsg(store)
    areas = store.read_frame(InfrastructureArea).to_crs(epsg)
    lines = store.read_frame(InfrastructureLine).to_crs(epsg)
    river = lines[lines["kind"] == "river"].geometry.union_all()
    with_cemetery = set(areas.loc[areas["kind"] == "cemetery", "settlement"].dropna())
    villages = areas[(areas["kind"] == "settlement") & areas["name"].isin(with_cemetery)]
    return [n for _, n in sorted(zip(villages.geometry.distance(river), villages["name"], strict=True))]


#: (store, which village): the village nearest the river on two seeds, and the demo's Chaykend
CASES = [("demo", "Chaykend"), ("demo", 0), ("seed7", 0)]
_RENDERED: dict[tuple[str, object, tuple[str, ...]], tuple[VillageMap, str, str]] = {}


def _render(stores: dict[str, Path], key: str, which: object, langs: tuple[str, ...], out: Path) -> tuple:
    """Render once per case and language set (a page takes several seconds): the map, its name, its PDF text."""
    if (key, which, langs) not in _RENDERED:
        with open_store(str(stores[key]), create=False) as s:
            name = which if isinstance(which, str) else _villages_by_river(s)[which]
            res = render_village_map(s, name, out / f"{key}-{name}-{'-'.join(langs)}.pdf", langs)
        raw = subprocess.run(["pdftotext", "-raw", str(res.path), "-"], capture_output=True, text=True, check=True)
        _RENDERED[(key, which, langs)] = (res, name, raw.stdout)
    return _RENDERED[(key, which, langs)]


def _squash(text: str) -> str:
    """Text without white space: a label written along a steep road comes out of the PDF a letter a line."""
    return re.sub(r"\s+", "", text)


def _png(pdf: Path, dpi: int) -> np.ndarray:
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(pdf), str(pdf.with_suffix(""))])
    img = mpimg.imread(pdf.with_suffix(".png"))
    return img[..., 0] if img.ndim == 3 else img


@pytest.mark.parametrize("place", ["Chaykend", "Chaykend cemetery"])
def test_village_map_renders_one_readable_a4_page(demo_store, tmp_path, place):
    pdf = render_village_map(demo_store, place, tmp_path / "map.pdf").path
    subprocess.run(["pdftoppm", "-r", "50", "-gray", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p*.png"))
    assert len(pages) == 1
    img = mpimg.imread(pages[0])
    h, w = img.shape[:2]
    assert abs(h / w - 297 / 210) < 0.01  # A4 portrait
    assert img.std() > 0.05  # not blank, even printed in grey
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for key in ("title", "route"):
        assert translations("az")[key] in text and translations("en")[key] in text
    assert "112" in text and place in text


@pytest.mark.parametrize(("key", "which"), CASES)
def test_map_shows_the_village_and_its_cemetery_at_a_walking_scale(stores, tmp_path_factory, key, which):
    res, name, text = _render(stores, key, which, ("az", "en"), tmp_path_factory.mktemp("walk"))
    with open_store(str(stores[key]), create=False) as s:
        areas = s.read_frame(InfrastructureArea).to_crs(res.epsg)
    village = areas[(areas["kind"] == "settlement") & (areas["name"] == name)].geometry.union_all()
    cemetery = areas[(areas["kind"] == "cemetery") & (areas["settlement"] == name)].geometry.union_all()
    assert not cemetery.is_empty
    drawn = shapely.box(*res.extent)
    assert drawn.contains(village) and drawn.contains(cemetery)
    x0, y0, x1, y1 = res.extent
    assert max(x1 - x0, y1 - y0) <= 5000  # a few km across, not the district
    # the ratio printed on the page says the same: the extent fits the page's width at that scale, 1:25 000 at most
    ratio = int(re.search(r"Scale 1:([\d,]+)", text).group(1).replace(",", ""))
    assert ratio == res.scale <= 25_000
    assert (x1 - x0) / ratio * 1000 <= A4_MM[0] - 15  # mm on paper


@pytest.mark.parametrize(("key", "which"), CASES)
def test_names_on_the_map_are_in_the_local_spelling(stores, tmp_path_factory, key, which):
    res, name, text = _render(stores, key, which, ("az",), tmp_path_factory.mktemp("names"))
    az = translations("az")
    flat = _squash(text)
    with open_store(str(stores[key]), create=False) as s:
        lines = s.read_frame(InfrastructureLine).to_crs(res.epsg)
        cemeteries = s.read_frame(InfrastructureArea)
    cemeteries = cemeteries[(cemeteries["kind"] == "cemetery") & (cemeteries["settlement"] == name)]
    assert _squash(local_name(name, az)) in flat
    for c in cemeteries["name"]:
        assert _squash(local_name(c, az)) in flat
    if local_name(name, az) != name:  # Çaykənd, not Chaykend, anywhere on the az page
        assert name not in text
    inner = shapely.box(*res.extent).buffer(-0.05 * (res.extent[2] - res.extent[0]))
    seen = lines[lines.intersects(inner)]
    ways = seen[seen["kind"].isin(["road", "path"]) & seen["name"].notna() & ~seen["name"].isin(UNLABELLED)]
    assert len(ways), "no named road or path near the village: the test has nothing to check"
    assert any(_squash(local_name(n, az)) in flat for n in ways["name"].unique())
    river = seen[seen["kind"] == "river"]
    if len(river) and river.geometry.intersection(inner).length.sum() > 1000:
        assert _squash(local_name(river["name"].iloc[0], az)) in flat
    if which == 0:  # the village nearest the river: it is in view, so the test above ran
        assert len(river)


def test_local_spelling_of_generated_names():
    az, ru, en = translations("az"), translations("ru"), translations("en")
    assert local_name("Chaykend", az) == "Çaykənd" and local_name("Chaykend", ru) == "Чайкенд"
    assert local_name("Yenishahar cemetery 2", az) == "Yenişəhər qəbiristanlığı 2"
    assert local_name("path to Chaykend cemetery", az) == "Çaykənd qəbiristanlığına gedən cığır"
    assert local_name("path to Boyuk Bulag", az) == "Böyük Bulağa gedən cığır"
    assert local_name("Chaykend – Dashkend road", az) == "Çaykənd – Daşkənd yolu"
    assert local_name("road to Entry checkpoint 1", az) == "1 saylı giriş məntəqəsinə gedən yol"
    assert local_name("road to Entry checkpoint 1", ru) == "дорога на въездной КПП 1"
    assert local_name("Gozluchay river", ru) == "река Гёзлючай"
    assert local_name("Chaykend", en) == "Chaykend"
    assert local_name("Şuşa yolu", az) == "Şuşa yolu"  # a name the table does not know is shown as stored


def test_numbers_are_written_as_each_reader_writes_them():
    az, ru, en = translations("az"), translations("ru"), translations("en")
    assert format_number(12500.5, az, 1) == "12\u00a0500,5"
    assert format_number(1234567, ru) == "1\u00a0234\u00a0567"
    assert format_number(0.5, ru, 1) == "0,5"
    assert format_number(12500, en) == "12,500"


@pytest.mark.parametrize(("key", "which"), CASES[1:])
def test_three_language_page_uses_local_number_formats_and_stays_on_the_page(stores, tmp_path_factory, key, which):
    res, _name, text = _render(stores, key, which, ("az", "ru", "en"), tmp_path_factory.mktemp("three"))
    assert res.scale >= 10_000  # so the ratio has a thousands separator to check
    assert re.search(r"Miqyas 1:\d{1,3}[\u00a0\u202f ]\d{3}\b", text)
    assert re.search(r"Масштаб 1:\d{1,3}[\u00a0\u202f ]\d{3}\b", text)
    assert re.search(r"Scale 1:\d{1,3},\d{3}\b", text)
    assert "Берегите жизнь" in text and translations("ru")["rules"][0] in text.replace("\n", " ")
    _assert_margins_blank(res.path)


@pytest.mark.parametrize(("key", "which"), CASES)
def test_nothing_is_drawn_off_the_page(stores, tmp_path_factory, key, which):
    res, _name, _text = _render(stores, key, which, ("az", "en"), tmp_path_factory.mktemp("margins"))
    _assert_margins_blank(res.path)


def _assert_margins_blank(pdf: Path) -> None:
    """The outer 6 mm of the page is paper: no text or line ran off, none is cut by the printer's margin."""
    img = _png(pdf, 72)
    m = round(6 / 25.4 * 72)
    for side, strip in {"top": img[:m], "bottom": img[-m:], "left": img[:, :m], "right": img[:, -m:]}.items():
        assert strip.min() > 0.95, f"ink in the {side} margin"
    assert img[m:-m, m:-m].min() < 0.2  # and there is a page inside them


def test_released_corridor_is_drawn_above_the_hazard_it_crosses(demo_dir, tmp_path):
    """A corridor cleared across an open hazard (route clearance) must show as open ground on the page.

    A copy of the demo gets a completed clearance of a 60 m corridor through the
    middle of an open hazard in view; the page must be light there (released) and
    hatched in the rest of the hazard.
    """
    path = tmp_path / "corridor.gpkg"
    shutil.copy(demo_dir / "demo.gpkg", path)
    with open_store(str(path), create=False) as s:
        open_hz = s.read_frame(HazardArea).query("status == 'open'")
        cemeteries = s.read_frame(InfrastructureArea).query("kind == 'cemetery'")
        # the first village (nearest the river first) with an open hazard of some size in view, away from
        # cemeteries: their own hatching is drawn above everything else on purpose
        for village in _villages_by_river(s):
            first = render_village_map(s, village, tmp_path / "before.pdf", ("en",))
            epsg = first.epsg
            hz = open_hz.to_crs(epsg)
            inner = shapely.box(*first.extent).buffer(-200)
            near_graves = cemeteries.to_crs(epsg).union_all().buffer(100)
            hz = hz[hz.within(inner) & (hz.area > 20_000) & ~hz.intersects(near_graves)]
            if len(hz):
                break
        assert len(hz), "no village with an open hazard of some size in view"
        h = hz.geometry.iloc[0]
        c = h.centroid
        corridor = shapely.box(c.x - 30, h.bounds[1] - 60, c.x + 30, h.bounds[3] + 60)
        org = s.read_frame(Organisation)["uid"].iloc[0]
        s.add(
            Activity(
                uid=s.next_uid(Activity),
                date_of_information=date(2023, 5, 1),
                entered_by="test",
                activity_type=ActivityType.CLEARANCE,
                organisation_uid=org,
                method=ClearanceMethod.MANUAL,
                start_date=date(2023, 4, 1),
                end_date=date(2023, 5, 1),
                area_cleared_m2=corridor.area,
                geometry=shapely.MultiPolygon([project(corridor, epsg, 4326)]),
            )
        )
        res = render_village_map(s, village, tmp_path / "after.pdf", ("en",))
    dpi = 150
    img = _png(res.path, dpi)

    def brightness(p: shapely.Point) -> float:
        x0, y0, x1, y1 = res.extent
        bx0, by0, bx1, by1 = res.map_box_mm
        mx = bx0 + (p.x - x0) / (x1 - x0) * (bx1 - bx0)
        my = by0 + (p.y - y0) / (y1 - y0) * (by1 - by0)
        col, row = round(mx / 25.4 * dpi), round((A4_MM[1] - my) / 25.4 * dpi)
        return float(img[row - 12 : row + 13, col - 12 : col + 13].mean())  # 4 mm: a whole cell of the pattern

    # the median over points along the corridor inside the hazard: a path or its label may cross one of them
    strip = h.intersection(corridor).buffer(-12)
    y0, y1 = strip.bounds[1], strip.bounds[3]
    along = [shapely.Point(strip.centroid.x, y) for y in np.linspace(y0, y1, 9)]
    along = [p for p in along if strip.contains(p)]
    assert len(along) >= 3
    beside = h.difference(corridor.buffer(25)).buffer(-8)
    beside = max(shapely.get_parts(beside), key=lambda g: g.area).representative_point()
    # white with a light dot pattern: released. Over 4 mm windows the corridor measures 0.80–0.84 drawn above
    # the hazard and 0.51–0.66 drawn below it (checked by moving it under the hatching), the hatching 0.72
    on_corridor = float(np.median([brightness(p) for p in along]))
    assert on_corridor > 0.78 and on_corridor > brightness(beside) + 0.05
    assert brightness(beside) < 0.75  # the hatching of the hazard


def test_unknown_place_and_language_are_clear_errors(demo_store, tmp_path):
    with pytest.raises(SafeGroundError, match="no settlement or cemetery named 'Atlantis'"):
        render_village_map(demo_store, "Atlantis", tmp_path / "x.pdf")
    with pytest.raises(SafeGroundError, match="no translation 'xx'"):
        render_village_map(demo_store, "Chaykend", tmp_path / "x.pdf", langs=("xx",))


def test_every_translation_has_every_label():
    en = translations("en")
    for lang in ("az", "ru"):
        other = translations(lang)
        assert set(en) == set(other), lang
        assert len(en["rules"]) == len(other["rules"])
        for key, text in en.items():  # the same placeholders, or a sentence would lose its number
            if isinstance(text, str):
                assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", other[key])), (lang, key)
