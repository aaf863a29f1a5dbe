"""The IMSMA symbology as QGIS and OGC clients read it: layer_styles rows, QML and SLD that parse,
and rules that give every stored feature exactly one symbol."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

from safeground.model import HazardArea
from safeground.storage import open_store
from safeground.styles import LAYER_STYLES
from safeground.styles.layer_styles import write_layer_styles
from safeground.styles.writers import to_maplibre, to_qml, to_sld
from tests.conftest import run_cli

SLD = "{http://www.opengis.net/sld}"
SE = "{http://www.opengis.net/se}"


@pytest.fixture()
def own_store(small_store: Path, tmp_path: Path) -> Path:
    path = tmp_path / "district.gpkg"
    shutil.copy(small_store, path)
    return path


def test_qgis_finds_a_default_style_for_each_styled_layer(own_store: Path) -> None:
    res = run_cli("styles", "--store", str(own_store))
    assert res.returncode == 0, res.stderr
    assert "layer_styles" in pyogrio.list_layers(own_store)[:, 0]  # GDAL (and QGIS) see the table
    rows = pyogrio.read_dataframe(own_store, layer="layer_styles")
    assert set(rows["f_table_name"]) == set(LAYER_STYLES)
    assert rows["useAsDefault"].astype(bool).all() and set(rows["f_geometry_column"]) == {"geom"}
    for qml, sld in zip(rows["styleQML"], rows["styleSLD"], strict=True):
        assert ET.fromstring(qml.split("\n", 1)[1]).tag == "qgis"
        assert ET.fromstring(sld.encode()).tag == f"{SLD}StyledLayerDescriptor"
    run_cli("styles", "--store", str(own_store))  # again: replaced, not doubled
    assert len(pyogrio.read_dataframe(own_store, layer="layer_styles")) == len(LAYER_STYLES)
    with open_store(str(own_store), readonly=True) as s:  # the store still opens and reads as before
        assert s.count(HazardArea)


def _matches(where: dict[str, tuple[str, ...]], row: dict) -> bool:
    return all(str(row.get(f)) in values for f, values in where.items())


@pytest.mark.parametrize("layer", ["hazard_areas", "activities"])
def test_every_feature_gets_exactly_one_symbol(small_store: Path, layer: str) -> None:
    frame = pyogrio.read_dataframe(small_store, layer=layer, read_geometry=False)
    assert len(frame)
    rules = LAYER_STYLES[layer].rules
    for row in frame.to_dict("records"):
        hits = [r.label for r in rules if _matches(r.where, row)]
        assert len(hits) == 1, (row.get("uid"), hits)


def test_sld_rules_carry_the_same_filters_as_the_qml() -> None:
    style = LAYER_STYLES["hazard_areas"]
    rules = ET.fromstring(to_sld(style).encode()).findall(f".//{SE}Rule")
    assert [r.find(f"{SE}Name").text for r in rules] == [r.label for r in style.rules]
    literals = [sorted(x.text for x in r.iter("{http://www.opengis.net/ogc}Literal")) for r in rules]
    assert literals[0] == ["confirmed_hazardous_area", "open"]
    assert 'filter="&quot;classification&quot; IN' in to_qml(style)


def test_the_web_map_draws_the_same_rules() -> None:
    layers = to_maplibre(LAYER_STYLES["hazard_areas"], "hazards")
    cha = next(x for x in layers if x["id"] == "hazard_areas-0-fill")
    assert cha["paint"]["fill-color"] == "#d7191c"
    assert cha["filter"] == [
        "all",
        ["in", ["get", "classification"], ["literal", ["confirmed_hazardous_area"]]],
        ["in", ["get", "status"], ["literal", ["open"]]],
    ]
    closed = [x for x in layers if x["id"].startswith("hazard_areas-4")]
    assert [x["type"] for x in closed] == ["line"]  # released: outline only


def test_styles_on_both_backends(store) -> None:
    """Written twice (replaced, not doubled), read back as each database keeps them."""
    import sqlalchemy

    from safeground.storage.side_tables import engine_for, schema_of

    write_layer_styles(store.test_url)
    write_layer_styles(store.test_url)
    eng = engine_for(store.test_url)
    pg = eng.dialect.name == "postgresql"
    sql = (
        "SELECT f_table_name, xmlserialize(document stylesld as text) FROM public.layer_styles "
        "WHERE f_table_schema = :s"
        if pg
        else "SELECT f_table_name, styleSLD FROM layer_styles"
    )
    with eng.connect() as c:
        rows = c.execute(sqlalchemy.text(sql), {"s": schema_of(eng)}).all()
        if pg:  # the table is shared by every schema of the database: leave it as found
            c.execute(
                sqlalchemy.text("DELETE FROM public.layer_styles WHERE f_table_schema = :s"), {"s": schema_of(eng)}
            )
            c.commit()
    eng.dispose()
    assert sorted(r[0] for r in rows) == sorted(LAYER_STYLES)
    assert all(ET.fromstring(r[1].encode()).tag == f"{SLD}StyledLayerDescriptor" for r in rows)
