"""Build the map's label glyphs (MapLibre SDF glyph PBFs) from DejaVu Sans, at build time, into the package.

    python scripts/build_glyphs.py            # (re)write src/safeground/web/static/glyphs/
    python scripts/build_glyphs.py --check    # verify the shipped files against GLYPHS.json
    python scripts/build_glyphs.py --out DIR  # write to DIR instead (the determinism test)

Why: MapLibre draws a symbol layer's text from signed-distance-field glyphs that it fetches from the
style's ``glyphs`` URL, 256 code points a file (``{fontstack}/{start}-{end}.pbf``). The workspace must
label villages, rivers and roads in a district office with no internet, so the glyphs ship inside the
package and the server serves them from ``/static/glyphs/``; ``pip install`` alone gives a labelled map.

What is made: for each fontstack ("DejaVu Sans", "DejaVu Sans Bold") and each range in ``RANGES``
(Latin, Latin Extended-A/B and IPA for Azerbaijani ə ğ ı İ ş, Cyrillic, punctuation, № and →), one
file in the glyphs protobuf format MapLibre reads (``glyphs{stacks: fontstack{name, range,
glyphs: glyph{id, bitmap, width, height, left, top, advance}}}``), with the conventions of Mapbox's
fontnik that MapLibre's shaping assumes: 24 px em, a 3 px buffer round each bitmap (so a bitmap is
``(width+6)*(height+6)`` bytes, rows top first), 8-bit distances at 32 levels a pixel with the outline at
192 (``255 - clamp(64 + 32 * signed distance)``, negative inside), ``top`` measured from the ascender.

How: the outlines are read with fontTools (quadratic curves flattened into segments at a fixed step),
and the distance from each pixel centre to the nearest segment, with the nonzero winding rule for
inside, is computed with numpy. Nothing depends on the platform's FreeType or on timing, so two runs
write the same bytes (the test suite rebuilds and compares). GLYPHS.json records the font's version,
the Debian package it came from, the font file's SHA-256 and each output file's SHA-256; LICENSE.txt
next to the glyphs is the font's own licence text (its name table, ID 0 and 13).

The font comes from Debian's ``fonts-dejavu-core`` (scripts/setup-system.sh); it is needed only to
rebuild, never at run time. ``SAFEGROUND_FONT_DIR`` points elsewhere if the fonts live elsewhere.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

GLYPHS = Path(__file__).resolve().parents[1] / "src" / "safeground" / "web" / "static" / "glyphs"
FONT_DIR = Path(os.environ.get("SAFEGROUND_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
DEBIAN_PACKAGE = "fonts-dejavu-core"
#: fontstack name (as a style's ``text-font`` names it) → font file in FONT_DIR
FONTS = {"DejaVu Sans": "DejaVuSans.ttf", "DejaVu Sans Bold": "DejaVuSans-Bold.ttf"}
#: the 256-code-point ranges shipped (MapLibre asks for one whole range per file), and why each
RANGES: dict[tuple[int, int], str] = {
    (0, 255): "Basic Latin, Latin-1 (Ç Ö Ü « »)",
    (256, 511): "Latin Extended-A and most of B (ğ ı İ ş Ə)",
    (512, 767): "Latin Extended-B (end), IPA (ə), spacing modifiers, combining marks",
    (1024, 1279): "Cyrillic",
    (8192, 8447): "general punctuation (– — “ ” …), super/subscripts, currency (€ ₽; DejaVu 2.37 has no manat sign ₼)",
    (8448, 8703): "letterlike symbols (№), number forms, arrows (→)",
}
#: fontnik's parameters, which MapLibre's shaping and shaders assume
EM_PX = 24
BUFFER = 3
RADIUS = 8  # px of distance the 8 bits span outside the outline
CUTOFF = 0.25  # the share of the 8 bits given to the inside
#: a quadratic curve is cut into straight pieces of at most this many pixels (of its control polygon)
FLAT_PX = 0.5


# --- outlines -------------------------------------------------------------------------------------


def _outline(font: Any, name: str, scale: float) -> list[np.ndarray]:
    """The glyph's contours as closed polylines in pixels (y up), components decomposed."""
    from fontTools.pens.basePen import BasePen

    class Flatten(BasePen):  # type: ignore[misc]
        def __init__(self, glyph_set: Any) -> None:
            super().__init__(glyph_set)
            self.rings: list[list[tuple[float, float]]] = []
            self.ring: list[tuple[float, float]] = []

        def _moveTo(self, p: tuple[float, float]) -> None:  # noqa: N802 (fontTools' names)
            self.ring = [p]

        def _lineTo(self, p: tuple[float, float]) -> None:  # noqa: N802
            self.ring.append(p)

        def _qCurveToOne(self, c: tuple[float, float], p: tuple[float, float]) -> None:  # noqa: N802
            a = self.ring[-1]
            length = (math.dist(a, c) + math.dist(c, p)) * scale
            n = max(1, math.ceil(length / FLAT_PX))
            for k in range(1, n + 1):
                t = k / n
                u = 1 - t
                self.ring.append((u * u * a[0] + 2 * u * t * c[0] + t * t * p[0],
                                  u * u * a[1] + 2 * u * t * c[1] + t * t * p[1]))  # fmt: skip

        def _curveToOne(self, c1: tuple[float, float], c2: tuple[float, float], p: tuple[float, float]) -> None:  # noqa: N802
            a = self.ring[-1]
            length = (math.dist(a, c1) + math.dist(c1, c2) + math.dist(c2, p)) * scale
            n = max(1, math.ceil(length / FLAT_PX))
            for k in range(1, n + 1):
                t = k / n
                u = 1 - t
                self.ring.append(tuple(u**3 * a[i] + 3 * u * u * t * c1[i] + 3 * u * t * t * c2[i] + t**3 * p[i]
                                       for i in (0, 1)))  # type: ignore[arg-type]  # fmt: skip

        def _closePath(self) -> None:  # noqa: N802
            if len(self.ring) > 1:
                if self.ring[0] != self.ring[-1]:
                    self.ring.append(self.ring[0])
                self.rings.append(self.ring)
            self.ring = []

        def _endPath(self) -> None:  # noqa: N802 (an open contour: closed like the rest, as a rasteriser does)
            self._closePath()

    glyph_set = font.getGlyphSet()
    pen = Flatten(glyph_set)
    glyph_set[name].draw(pen)
    return [np.asarray(r, dtype=np.float64) * scale for r in pen.rings]


def _round(x: float) -> int:
    """Half away from zero, as C's round (fontnik's bounding box); Python's round() is half to even."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


# --- the signed distance field --------------------------------------------------------------------


def _sdf(rings: list[np.ndarray], width: int, height: int) -> bytes:
    """The (width+2B)×(height+2B) distance bytes, rows top first, of rings already shifted into the box."""
    bw, bh = width + 2 * BUFFER, height + 2 * BUFFER
    seg_a = np.concatenate([r[:-1] for r in rings])
    seg_b = np.concatenate([r[1:] for r in rings])
    xs, ys = np.meshgrid(np.arange(bw) + 0.5, np.arange(bh) + 0.5)  # pixel centres, y up from the bottom row
    px, py = xs.reshape(-1, 1), ys.reshape(-1, 1)
    ax, ay, bx, by = seg_a[:, 0], seg_a[:, 1], seg_b[:, 0], seg_b[:, 1]
    dx, dy = bx - ax, by - ay
    l2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(l2 > 0, ((px - ax) * dx + (py - ay) * dy) / np.where(l2 > 0, l2, 1), 0.0)
    t = np.clip(t, 0.0, 1.0)
    ex, ey = px - (ax + t * dx), py - (ay + t * dy)
    dist = np.sqrt((ex * ex + ey * ey).min(axis=1))
    # nonzero winding: an upward edge with the point on its left counts +1, a downward one with it on its right −1
    cross = dx * (py - ay) - (px - ax) * dy
    up = (ay <= py) & (by > py) & (cross > 0)
    down = (by <= py) & (ay > py) & (cross < 0)
    inside = (up.sum(axis=1) - down.sum(axis=1)) != 0
    signed = np.where(inside, -dist, dist)
    level = np.clip(np.trunc(signed * (256 / RADIUS) + CUTOFF * 256), 0, 255)
    values = (255 - level).astype(np.uint8).reshape(bh, bw)
    return values[::-1].tobytes()  # the bottom row of the grid is the last row of the bitmap


# --- the protobuf encoding ------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _uint(field: int, n: int) -> bytes:
    return _varint(field << 3) + _varint(n)


def _sint(field: int, n: int) -> bytes:
    return _uint(field, (n << 1) ^ (n >> 63))  # zigzag


def _bytes(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


# --- one range of one font ------------------------------------------------------------------------


def glyph_message(font: Any, code: int) -> bytes | None:
    """One ``glyph`` message for the code point, or None when the font has no glyph for it."""
    name = font.getBestCmap().get(code)
    if name is None:
        return None
    upem = font["head"].unitsPerEm
    scale = EM_PX / upem
    # FreeType at 24 px, unhinted (as fontnik): advance in 26.6 truncated to whole pixels, ascender rounded up
    advance = round(font["hmtx"][name][0] * scale * 64) // 64
    ascender = math.ceil(font["hhea"].ascent * scale)
    rings = [r for r in _outline(font, name, scale) if len(r) > 2]
    msg = _uint(1, code)
    if rings:
        pts = np.concatenate(rings)
        xmin, ymin = _round(float(pts[:, 0].min())), _round(float(pts[:, 1].min()))
        xmax, ymax = _round(float(pts[:, 0].max())), _round(float(pts[:, 1].max()))
    if not rings or xmax == xmin or ymax == ymin:  # a space: metrics only
        return msg + _uint(3, 0) + _uint(4, 0) + _sint(5, 0) + _sint(6, -ascender) + _uint(7, advance)
    shift = np.array([BUFFER - xmin, BUFFER - ymin], dtype=np.float64)
    width, height = xmax - xmin, ymax - ymin
    bitmap = _sdf([r + shift for r in rings], width, height)
    return (msg + _bytes(2, bitmap) + _uint(3, width) + _uint(4, height) + _sint(5, xmin)
            + _sint(6, ymax - ascender) + _uint(7, advance))  # fmt: skip


def range_pbf(font: Any, fontstack: str, start: int, end: int) -> bytes:
    """The whole ``glyphs`` message of one range: one fontstack with every glyph the font has in it."""
    body = _bytes(1, fontstack.encode()) + _bytes(2, f"{start}-{end}".encode())
    for code in range(start, end + 1):
        glyph = glyph_message(font, code)
        if glyph is not None:
            body += _bytes(3, glyph)
    return _bytes(1, body)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _package_version() -> str | None:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", DEBIAN_PACKAGE],
                              capture_output=True, text=True, check=False)  # fmt: skip
    except OSError:
        return None
    return done.stdout.strip() or None


def build(out: Path, ranges: list[tuple[int, int]] | None = None) -> dict[str, Any]:
    """Write the glyph files (every range, or the ones named) and, for a full build, GLYPHS.json and LICENSE.txt."""
    from fontTools.ttLib import TTFont

    record: dict[str, Any] = {
        "source": {"debian_package": DEBIAN_PACKAGE, "package_version": _package_version()},
        "parameters": {"em_px": EM_PX, "buffer_px": BUFFER, "radius_px": RADIUS, "cutoff": CUTOFF},
        "fontstacks": {},
    }
    licence = ""
    for fontstack, filename in FONTS.items():
        path = FONT_DIR / filename
        if not path.is_file():
            sys.exit(f"{path}: no such font (Debian package {DEBIAN_PACKAGE}, scripts/setup-system.sh installs it)")
        font = TTFont(str(path))
        names = font["name"]
        licence = licence or (f"{names.getDebugName(0)}\n{names.getDebugName(13)}\n\n({names.getDebugName(14)})\n")
        files: dict[str, str] = {}
        for start, end in ranges or list(RANGES):
            data = range_pbf(font, fontstack, start, end)
            target = out / fontstack / f"{start}-{end}.pbf"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files[f"{start}-{end}.pbf"] = _sha256(data)
        record["fontstacks"][fontstack] = {
            "font_file": filename,
            "font_version": names.getDebugName(5),
            "font_sha256": _sha256(path.read_bytes()),
            "files": files,
        }
    if ranges is None:
        header = (
            "The glyphs in this directory are signed distance fields rendered from the DejaVu fonts\n"
            "(scripts/build_glyphs.py); the fonts' copyright and licence, from their name table:\n\n"
        )
        (out / "LICENSE.txt").write_text(header + licence, encoding="utf-8")
        record["license_sha256"] = _sha256((out / "LICENSE.txt").read_bytes())
        (out / "GLYPHS.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def check(glyphs: Path = GLYPHS) -> list[str]:
    """Every problem with the shipped glyphs (empty when they are exactly what GLYPHS.json says)."""
    record = json.loads((glyphs / "GLYPHS.json").read_text(encoding="utf-8"))
    problems = []
    for fontstack, entry in record["fontstacks"].items():
        expected = {f"{s}-{e}.pbf" for s, e in RANGES}
        if set(entry["files"]) != expected:
            listed = sorted(entry["files"])
            problems.append(f"{fontstack}: GLYPHS.json lists {listed}, this script builds {sorted(expected)}")
        for name, digest in entry["files"].items():
            path = glyphs / fontstack / name
            if not path.is_file():
                problems.append(f"{fontstack}/{name} is missing")
            elif (found := _sha256(path.read_bytes())) != digest:
                problems.append(f"{fontstack}/{name} differs from the build (sha256 {found[:12]}…)")
    licence = glyphs / "LICENSE.txt"
    if not licence.is_file() or _sha256(licence.read_bytes()) != record.get("license_sha256"):
        problems.append("LICENSE.txt is missing or differs from the build")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="verify the shipped files against GLYPHS.json")
    parser.add_argument("--out", type=Path, default=GLYPHS, help="where to write (default: the package)")
    args = parser.parse_args(argv)
    if args.check:
        found = check()
        print("\n".join(found) or "shipped glyphs match GLYPHS.json")
        return 1 if found else 0
    record = build(args.out)
    total = sum(p.stat().st_size for p in args.out.rglob("*.pbf"))
    for fontstack, entry in record["fontstacks"].items():
        print(f"{fontstack} ({entry['font_version']}): {len(entry['files'])} ranges")
    print(f"{total} bytes of glyphs in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
