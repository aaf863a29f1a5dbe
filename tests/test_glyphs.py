"""The map's label glyphs: MapLibre SDF glyph PBFs shipped in the package, built from DejaVu Sans.

The workspace map must label villages, rivers and roads in Azerbaijani, Russian and English with no
internet, so the glyphs MapLibre fetches (``glyphs: "/static/glyphs/{fontstack}/{range}.pbf"``) are
built once by scripts/build_glyphs.py and shipped. These tests read every file with a decoder of their
own (the protobuf wire format, strictly), hold that every character the workspace and the demo
district show has a glyph, that a rebuild gives the same bytes, that the server serves the files, and
that Debian's chromium draws readable Azerbaijani and Russian labels from them with no request failing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi import Depends
from fastapi.responses import HTMLResponse

from safeground.model import AdminArea, FrontLine, InfrastructureArea, InfrastructureLine, InfrastructurePoint
from safeground.storage import open_store
from safeground.web import ServerSettings, create_app
from safeground.web.permissions import check_every_route, requires
from tests.browser import offline_page
from tests.web_server import serve_app

# one browser at a time: with two chromiums and their servers on two cores a wait for MapLibre's 'idle' ran out
# (alone the test passes); pytest-xdist ``--dist loadgroup`` keeps this group on one worker
pytestmark = pytest.mark.xdist_group("browser")

ROOT = Path(__file__).resolve().parents[1]
GLYPHS = ROOT / "src" / "safeground" / "web" / "static" / "glyphs"
FONTSTACKS = ("DejaVu Sans", "DejaVu Sans Bold")
BUFFER = 3
#: the whole alphabets, beyond what today's texts happen to use: a new place name must not lose a letter
AZERBAIJANI = "ABCÇDEƏFGĞHXIİJKQLMNOÖPRSŞTUÜVYZ" + "abcçdeəfgğhxıijkqlmnoöprsştuüvyz"
RUSSIAN = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ" + "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
#: (the manat sign ₼, U+20BC, is not in DejaVu 2.37: write "AZN" on the map)
PUNCTUATION = "–—«»…“”„№→₽€"


def _build_glyphs() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_glyphs
    finally:
        sys.path.pop(0)
    return build_glyphs


# -- a decoder of the glyphs format of our own (protobuf wire format, proto2 "glyphs.proto") -------------
def _varint(buf: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if i >= len(buf):
            raise ValueError("a varint runs past the end")
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, i


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of one message: varints as int, length-delimited as bytes; other wire types refused."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            yield number, value
        elif wire == 2:
            size, i = _varint(buf, i)
            if i + size > len(buf):
                raise ValueError(f"field {number} runs past the end")
            yield number, buf[i : i + size]
            i += size
        else:
            raise ValueError(f"field {number} has wire type {wire}, which glyphs.proto never uses")


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def decode(data: bytes) -> list[dict[str, Any]]:
    """The fontstacks of a glyphs PBF: [{name, range, glyphs: [{id, bitmap, width, height, left, top, advance}]}]."""
    stacks = []
    for number, value in _fields(data):
        assert number == 1 and isinstance(value, bytes), f"glyphs has field {number}"
        stack: dict[str, Any] = {"glyphs": []}
        for n, v in _fields(value):
            assert isinstance(v, bytes), f"fontstack field {n} is a varint"
            if n == 1:
                stack["name"] = v.decode()
            elif n == 2:
                stack["range"] = v.decode()
            elif n == 3:
                glyph: dict[str, Any] = {"bitmap": None}
                names = {1: "id", 3: "width", 4: "height", 5: "left", 6: "top", 7: "advance"}
                for gn, gv in _fields(v):
                    if gn == 2:
                        assert isinstance(gv, bytes)
                        glyph["bitmap"] = gv
                    else:
                        assert isinstance(gv, int) and gn in names, f"glyph field {gn}"
                        glyph[names[gn]] = _zigzag(gv) if gn in (5, 6) else gv
                assert set(names.values()) <= set(glyph), f"a glyph lacks a required field: {glyph.keys()}"
                stack["glyphs"].append(glyph)
            else:
                raise AssertionError(f"fontstack has field {n}")
        stacks.append(stack)
    return stacks


def shipped() -> dict[str, dict[tuple[int, int], list[dict[str, Any]]]]:
    """fontstack → (start, end) → its glyphs, read from the installed package (importlib.resources)."""
    root = files("safeground") / "web" / "static" / "glyphs"
    out: dict[str, dict[tuple[int, int], list[dict[str, Any]]]] = {}
    for fontstack in FONTSTACKS:
        out[fontstack] = {}
        for node in (root / fontstack).iterdir():
            start, end = (int(x) for x in node.name.removesuffix(".pbf").split("-"))
            [stack] = decode(node.read_bytes())
            assert stack["name"] == fontstack and stack["range"] == f"{start}-{end}", (node.name, stack["name"])
            out[fontstack][(start, end)] = stack["glyphs"]
    return out


def covered(fontstack: str) -> set[str]:
    return {chr(g["id"]) for glyphs in shipped()[fontstack].values() for g in glyphs}


# -- the files -----------------------------------------------------------------------------------------
def test_every_glyph_file_decodes_with_sane_metrics_and_sdf_bitmaps() -> None:
    from fontTools.ttLib import TTFont

    bg = _build_glyphs()
    for fontstack, ranges in shipped().items():
        assert sorted(ranges) == sorted(bg.RANGES), fontstack
        cmap = TTFont(str(bg.FONT_DIR / bg.FONTS[fontstack])).getBestCmap()
        for (start, end), glyphs in ranges.items():
            assert end - start == 255 and start % 256 == 0  # MapLibre asks for exactly these
            ids = [g["id"] for g in glyphs]
            assert ids == sorted(set(ids)) and all(start <= i <= end for i in ids), (fontstack, start)
            # every character the font has in the range, and none it has not
            assert set(ids) == {c for c in cmap if start <= c <= end}, (fontstack, start)
            for g in glyphs:
                where = f"{fontstack} U+{g['id']:04X}"
                assert 0 <= g["advance"] <= 48, where  # 24 px em: at most two em wide
                if g["width"] == 0:  # a space: metrics, no bitmap
                    assert g["height"] == 0 and g["bitmap"] is None, where
                    continue
                w, h = g["width"] + 2 * BUFFER, g["height"] + 2 * BUFFER
                assert g["bitmap"] is not None and len(g["bitmap"]) == w * h, where
                assert 0 < g["width"] <= 48 and 0 < g["height"] <= 48, where
                # (a combining mark sits left of its origin, over the letter before it)
                assert -48 <= g["left"] <= 24 and -40 <= g["top"] <= 12, (where, g["left"], g["top"])
                sdf = np.frombuffer(g["bitmap"], dtype=np.uint8).reshape(h, w)
                edge = np.concatenate([sdf[0], sdf[-1], sdf[:, 0], sdf[:, -1]])
                # the 3 px buffer is outside the outline (below the 192 edge); the glyph has an inside
                assert edge.max() < 192, (where, int(edge.max()))
                assert sdf.max() >= 192, (where, int(sdf.max()))


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _texts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _texts(v)


def place_names(store_path: Path) -> set[str]:
    """Every name the demo district shows on a map: settlements, rivers, roads, areas, the former front."""
    names: set[str] = set()
    with open_store(str(store_path), create=False, readonly=True) as store:
        for cls in (InfrastructurePoint, InfrastructureLine, InfrastructureArea, AdminArea, FrontLine):
            frame = store.read_frame(cls)
            for column in ("name", "settlement"):
                if column in frame.columns:
                    names |= {v for v in frame[column].dropna() if isinstance(v, str)}
    return names


def test_every_character_of_the_workspace_and_the_demo_place_names_has_a_glyph(demo_district: Path) -> None:
    i18n = ROOT / "src" / "safeground" / "web" / "i18n"
    texts = [t for f in sorted(i18n.glob("*.json")) for t in _texts(json.loads(f.read_text(encoding="utf-8")))]
    names = place_names(demo_district)
    assert len(names) > 20 and any("road" in n for n in names), sorted(names)[:10]  # the demo has its places
    wanted = set("".join(texts)) | set("".join(names)) | set(AZERBAIJANI + RUSSIAN + PUNCTUATION)
    wanted -= set("\n\t\r")
    for fontstack in FONTSTACKS:
        missing = sorted(wanted - covered(fontstack))
        assert not missing, f"{fontstack} has no glyph for {missing} ({[f'U+{ord(c):04X}' for c in missing]})"


def test_a_rebuild_writes_the_same_bytes(tmp_path: Path) -> None:
    """The build is deterministic: run again, it writes exactly the committed files (about 6 s)."""
    bg = _build_glyphs()
    record = json.loads((GLYPHS / "GLYPHS.json").read_text(encoding="utf-8"))
    for fontstack, entry in record["fontstacks"].items():
        font = bg.FONT_DIR / bg.FONTS[fontstack]
        assert bg._sha256(font.read_bytes()) == entry["font_sha256"], (
            f"{font} is not the font the shipped glyphs were built from (GLYPHS.json: {entry['font_version']}, "
            f"Debian {record['source']['package_version']}): a rebuild here would differ for that reason alone"
        )
    bg.build(tmp_path)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(GLYPHS) for p in GLYPHS.rglob("*") if p.is_file())
    assert made == committed
    differ = [str(p) for p in made if (tmp_path / p).read_bytes() != (GLYPHS / p).read_bytes()]
    assert not differ, f"a rebuild differs from the committed glyphs: {differ}"


def test_the_manifest_records_the_font_and_catches_an_edited_file(tmp_path: Path, monkeypatch) -> None:
    bg = _build_glyphs()
    assert bg.check() == []
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_glyphs.py"), "--check"],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0 and "match GLYPHS.json" in done.stdout, done.stdout + done.stderr
    record = json.loads((GLYPHS / "GLYPHS.json").read_text(encoding="utf-8"))
    assert record["fontstacks"]["DejaVu Sans"]["font_version"].startswith("Version 2.")
    assert record["source"]["debian_package"] == "fonts-dejavu-core"
    licence = (GLYPHS / "LICENSE.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence
    copy = tmp_path / "glyphs"
    shutil.copytree(GLYPHS, copy)
    target = copy / "DejaVu Sans" / "1024-1279.pbf"
    target.write_bytes(target.read_bytes()[:-1] + b"\0")
    problems = bg.check(copy)
    assert len(problems) == 1 and problems[0].startswith("DejaVu Sans/1024-1279.pbf differs from the build"), problems


def test_the_glyphs_are_package_data() -> None:
    """pyproject's package-data names them: the wheel holds every range of both fontstacks and the licence."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    import fnmatch
    import tomllib

    patterns = tomllib.loads(text)["tool"]["setuptools"]["package-data"]["safeground"]
    for p in GLYPHS.rglob("*"):
        if p.is_file():
            rel = str(p.relative_to(ROOT / "src" / "safeground"))
            # setuptools' globs: '*' never crosses a '/'
            assert any(fnmatch.fnmatch(rel, pat) and rel.count("/") == pat.count("/") for pat in patterns), rel


# -- the server ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def glyph_site(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A small district served on a real uvicorn, with one test page that draws labels (read:public)."""
    location = tmp_path_factory.mktemp("glyphs") / "s.gpkg"
    shutil.copy(small_store, location)
    with open_store(str(location), create=False, readonly=True) as store:
        app = create_app(ServerSettings(store=str(location)), store)

        @app.get("/glyph-test", dependencies=[Depends(requires("read:public"))])
        def page() -> HTMLResponse:
            return HTMLResponse(LABEL_PAGE)

        check_every_route(app)
        with serve_app(app) as url:
            yield url


def test_the_server_serves_the_glyphs_with_their_type_and_etag(glyph_site: str) -> None:
    with httpx.Client(base_url=glyph_site, timeout=30) as c:
        for fontstack, quoted in (("DejaVu Sans", "DejaVu%20Sans"), ("DejaVu Sans Bold", "DejaVu%20Sans%20Bold")):
            r = c.get(f"/static/glyphs/{quoted}/0-255.pbf")
            assert r.status_code == 200, r.text
            assert r.headers["content-type"] == "application/x-protobuf"
            assert r.content == (GLYPHS / fontstack / "0-255.pbf").read_bytes()
            etag = r.headers["etag"]
            again = c.get(f"/static/glyphs/{quoted}/0-255.pbf", headers={"If-None-Match": etag})
            assert again.status_code == 304 and again.content == b""
        assert c.get("/static/glyphs/DejaVu%20Sans/65280-65535.pbf").status_code == 404  # a range not shipped
        assert c.get("/static/glyphs/GLYPHS.json").status_code == 200


# -- the browser ---------------------------------------------------------------------------------------
AZ_WORDS = "Ərəbşahverdi Göyçə"
AZ_WORDS_2 = "İşıqlı Üzümçü Ağdam"
RU_WORDS = "Жёлтый объезд"
RU_BOLD = "Щучье № 3 – мост"
#: label → (lng, lat, fontstack)
LABELS = {AZ_WORDS: (47.10, 39.66, "DejaVu Sans"), AZ_WORDS_2: (47.10, 39.64, "DejaVu Sans"),
          RU_WORDS: (47.10, 39.61, "DejaVu Sans"), RU_BOLD: (47.10, 39.59, "DejaVu Sans Bold")}  # fmt: skip

LABEL_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/vendor/maplibre-gl/maplibre-gl.css">
<style>html,body,#map{margin:0;width:640px;height:400px}</style></head><body><div id="map"></div>
<script type="module">
import * as maplibregl from "/static/vendor/maplibre-gl/maplibre-gl.mjs";
const labels = LABELS_JSON;
const features = Object.entries(labels).map(([text, [lng, lat, font]]) => ({type: "Feature",
  properties: {text, font}, geometry: {type: "Point", coordinates: [lng, lat]}}));
const map = new maplibregl.Map({container: "map", center: [47.10, 39.625], zoom: 11, attributionControl: false,
  fadeDuration: 0,
  style: {version: 8, glyphs: location.origin + "/static/glyphs/{fontstack}/{range}.pbf",
    sources: {places: {type: "geojson", data: {type: "FeatureCollection", features}}},
    layers: [{id: "bg", type: "background", paint: {"background-color": "#ffffff"}},
             {id: "regular", type: "symbol", source: "places", filter: ["==", ["get", "font"], "DejaVu Sans"],
              layout: {"text-field": ["get", "text"], "text-font": ["DejaVu Sans"], "text-size": 24,
                       "text-max-width": 40, "text-allow-overlap": true, "text-ignore-placement": true},
              paint: {"text-color": "#000000"}},
             {id: "bold", type: "symbol", source: "places", filter: ["==", ["get", "font"], "DejaVu Sans Bold"],
              layout: {"text-field": ["get", "text"], "text-font": ["DejaVu Sans Bold"], "text-size": 24,
                       "text-max-width": 40, "text-allow-overlap": true, "text-ignore-placement": true},
              paint: {"text-color": "#000000"}}]}});
window.sgMap = map;
map.on("error", (e) => { window.mapError = String(e.error && e.error.message); });
map.on("idle", () => { window.mapIdle = true; });
</script></body></html>""".replace("LABELS_JSON", json.dumps(LABELS, ensure_ascii=False))


def test_chromium_draws_azerbaijani_and_russian_labels_from_the_shipped_glyphs(glyph_site: str) -> None:
    from PIL import Image, ImageFont

    bg = _build_glyphs()
    failed: list[str] = []
    glyph_requests: list[tuple[str, int]] = []
    with offline_page(viewport={"width": 640, "height": 400}) as (page, blocked):
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.on("response", lambda r: glyph_requests.append((r.url, r.status)) if "/glyphs/" in r.url else None)
        page.goto(glyph_site + "/glyph-test")
        page.wait_for_function("window.mapIdle === true || window.mapError !== undefined", timeout=90_000)
        assert page.evaluate("window.mapError") is None, page.evaluate("window.mapError")
        anchors = {text: page.evaluate(f"(() => {{ const p = window.sgMap.project([{lng}, {lat}]); "
                                       "return [p.x, p.y]; })()")
                   for text, (lng, lat, _) in LABELS.items()}  # fmt: skip
        shot = Path("/tmp/safeground-glyph-labels.png")
        page.screenshot(path=str(shot))
    assert blocked == [] and failed == []
    assert glyph_requests and all(status == 200 for _, status in glyph_requests), glyph_requests
    asked = {url.split("/static/glyphs/")[1] for url, _ in glyph_requests}
    # Latin, Latin Extended (ğ ı İ ş Ə), IPA (ə), Cyrillic and № / – were all asked for, in both fontstacks
    for want in ("DejaVu%20Sans/0-255.pbf", "DejaVu%20Sans/256-511.pbf", "DejaVu%20Sans/512-767.pbf",
                 "DejaVu%20Sans/1024-1279.pbf", "DejaVu%20Sans%20Bold/1024-1279.pbf",
                 "DejaVu%20Sans%20Bold/8448-8703.pbf", "DejaVu%20Sans%20Bold/8192-8447.pbf"):  # fmt: skip
        assert want in asked, (want, sorted(asked))

    img = np.asarray(Image.open(shot).convert("L"), dtype=np.int32)
    for text, (x, y) in anchors.items():
        fontstack = LABELS[text][2]
        # the text is centred on its point: a band round it holds dark ink, as wide as the words
        band = img[int(y) - 20 : int(y) + 20, :]
        dark = band < 128
        assert dark.sum() > 20 * len(text), (text, int(dark.sum()))
        cols = np.flatnonzero(dark.any(axis=0))
        drawn = cols[-1] - cols[0] + 1
        # the width PIL's FreeType gives the same words in the same font at 24 px (an independent renderer)
        expected = ImageFont.truetype(str(bg.FONT_DIR / bg.FONTS[fontstack]), 24).getlength(text)
        assert abs(drawn - expected) < 0.08 * expected, (text, int(drawn), expected)
        assert abs((cols[0] + cols[-1]) / 2 - x) < 6, (text, cols[0], cols[-1], x)  # centred on its anchor
        rows = np.flatnonzero(dark.any(axis=1)) + int(y) - 20
        assert int(y) - 20 < rows[0] and rows[-1] < int(y) + 19, (text, rows[0], rows[-1], y)  # all in the band
        assert abs((rows[0] + rows[-1]) / 2 - y) < 6, (text, rows[0], rows[-1], y)  # and vertically centred
    # the ground between the labels stays white: nothing drawn where no label is
    assert img[:, :100].min() > 240 and img[:, -100:].min() > 240
