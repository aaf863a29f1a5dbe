"""The printable village risk map: one A4 page, two languages, readable, from the demo district."""

from __future__ import annotations

import subprocess

import matplotlib.image as mpimg
import pytest

from safeground.errors import SafeGroundError
from safeground.reports.village_map import render_village_map, translations


@pytest.mark.parametrize("place", ["Chaykend", "Chaykend cemetery"])
def test_village_map_renders_one_readable_a4_page(demo_store, tmp_path, place):
    pdf = render_village_map(demo_store, place, tmp_path / "map.pdf")
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


def test_unknown_place_and_language_are_clear_errors(demo_store, tmp_path):
    with pytest.raises(SafeGroundError, match="no settlement or cemetery named 'Atlantis'"):
        render_village_map(demo_store, "Atlantis", tmp_path / "x.pdf")
    with pytest.raises(SafeGroundError, match="no translation 'xx'"):
        render_village_map(demo_store, "Chaykend", tmp_path / "x.pdf", langs=("xx",))


def test_every_translation_has_every_label():
    en, az = translations("en"), translations("az")
    assert set(en) == set(az)
    assert len(en["rules"]) == len(az["rules"])
