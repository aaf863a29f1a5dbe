"""The rules of :mod:`symbology` in each client's language: QGIS QML, OGC SLD 1.1 (SE), MapLibre.

QML is what QGIS stores in a GeoPackage's or PostGIS's ``layer_styles`` table and loads as a
layer's default style; SLD is what OGC API clients and GeoServer read; the MapLibre layers draw
the same rules in the browser workspace.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from safeground.styles.symbology import LayerStyle, Rule, Symbol


def _rgba(hex_colour: str | None, opacity: float = 1.0) -> str:
    if hex_colour is None:
        return "0,0,0,0"
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{round(255 * opacity)}"


def qgis_expression(rule: Rule) -> str:
    parts = []
    for fld, values in rule.where.items():
        quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
        parts.append(f'"{fld}" IN ({quoted})')
    return " AND ".join(parts)


def _opt(name: str, value: str) -> str:
    return f'<Option type="QString" name="{name}" value={quoteattr(value)}/>'


def _qml_symbol(index: int, s: Symbol) -> str:
    outline = "dash" if s.dash else "solid"
    if s.kind == "fill":
        cls, kind = "SimpleFill", "fill"
        opts = [
            _opt("color", _rgba(s.fill, s.fill_opacity)),
            _opt("style", "solid" if s.fill_opacity else "no"),
            _opt("outline_color", _rgba(s.stroke)),
            _opt("outline_style", outline),
            _opt("outline_width", f"{s.stroke_width_mm}"),
            _opt("outline_width_unit", "MM"),
        ]
    elif s.kind == "line":
        cls, kind = "SimpleLine", "line"
        opts = [
            _opt("line_color", _rgba(s.stroke)),
            _opt("line_style", outline),
            _opt("line_width", f"{s.stroke_width_mm}"),
            _opt("line_width_unit", "MM"),
        ]
    else:
        cls, kind = "SimpleMarker", "marker"
        shape = {"circle": "circle", "square": "square", "cross": "cross_fill"}[s.marker]
        opts = [
            _opt("name", shape),
            _opt("color", _rgba(s.fill, s.fill_opacity)),
            _opt("size", f"{s.size_mm}"),
            _opt("size_unit", "MM"),
            _opt("outline_color", _rgba(s.stroke)),
            _opt("outline_width", f"{s.stroke_width_mm}"),
            _opt("outline_width_unit", "MM"),
        ]
    return (
        f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">'
        f'<layer class="{cls}" enabled="1" locked="0" pass="0"><Option type="Map">{"".join(opts)}</Option>'
        "</layer></symbol>"
    )


def to_qml(style: LayerStyle) -> str:
    """A QGIS 3 style (rule-based renderer) for the layer."""
    rules = "".join(
        f'<rule key="r{i}" symbol="{i}" label={quoteattr(r.label)}'
        + (f" filter={quoteattr(qgis_expression(r))}" if r.where else "")
        + "/>"
        for i, r in enumerate(style.rules)
    )
    symbols = "".join(_qml_symbol(i, r.symbol) for i, r in enumerate(style.rules))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.28.0" styleCategories="Symbology">'
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">'
        f'<rules key="root">{rules}</rules><symbols>{symbols}</symbols></renderer-v2>'
        "<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode><layerOpacity>1</layerOpacity></qgis>\n"
    )


def _ogc_filter(rule: Rule) -> str:
    terms = []
    for fld, values in rule.where.items():
        eqs = [
            f"<ogc:PropertyIsEqualTo><ogc:PropertyName>{escape(fld)}</ogc:PropertyName>"
            f"<ogc:Literal>{escape(v)}</ogc:Literal></ogc:PropertyIsEqualTo>"
            for v in values
        ]
        terms.append(eqs[0] if len(eqs) == 1 else "<ogc:Or>" + "".join(eqs) + "</ogc:Or>")
    if not terms:
        return ""
    body = terms[0] if len(terms) == 1 else "<ogc:And>" + "".join(terms) + "</ogc:And>"
    return f"<ogc:Filter>{body}</ogc:Filter>"


def _css(name: str, value: str) -> str:
    return f'<se:SvgParameter name="{name}">{escape(value)}</se:SvgParameter>'


def _stroke(s: Symbol) -> str:
    px = s.stroke_width_mm * 3.78  # SLD widths are pixels at 96 dpi
    dash = _css("stroke-dasharray", f"{px * 4:.1f} {px * 2:.1f}") if s.dash else ""
    return f"<se:Stroke>{_css('stroke', s.stroke or '#000000')}{_css('stroke-width', f'{px:.2f}')}{dash}</se:Stroke>"


def _symbolizer(s: Symbol) -> str:
    if s.kind == "fill":
        fill = (
            f"<se:Fill>{_css('fill', s.fill or '#000000')}{_css('fill-opacity', f'{s.fill_opacity:g}')}</se:Fill>"
            if s.fill_opacity
            else ""
        )
        return f"<se:PolygonSymbolizer>{fill}{_stroke(s)}</se:PolygonSymbolizer>"
    if s.kind == "line":
        return f"<se:LineSymbolizer>{_stroke(s)}</se:LineSymbolizer>"
    shape = {"circle": "circle", "square": "square", "cross": "x"}[s.marker]
    return (
        f"<se:PointSymbolizer><se:Graphic><se:Mark><se:WellKnownName>{shape}</se:WellKnownName>"
        f"<se:Fill>{_css('fill', s.fill or '#000000')}</se:Fill>{_stroke(s)}</se:Mark>"
        f"<se:Size>{s.size_mm * 3.78:.1f}</se:Size></se:Graphic></se:PointSymbolizer>"
    )


def to_sld(style: LayerStyle) -> str:
    """An OGC Styled Layer Descriptor 1.1 with Symbology Encoding for the layer."""
    rules = "".join(
        f"<se:Rule><se:Name>{escape(r.label)}</se:Name>{_ogc_filter(r)}{_symbolizer(r.symbol)}</se:Rule>"
        for r in style.rules
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<StyledLayerDescriptor version="1.1.0" xmlns="http://www.opengis.net/sld" '
        'xmlns:se="http://www.opengis.net/se" xmlns:ogc="http://www.opengis.net/ogc" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd">'
        f"<NamedLayer><se:Name>{escape(style.layer)}</se:Name><UserStyle><se:Name>{escape(style.layer)}</se:Name>"
        f"<se:Description><se:Title>{escape(style.title)}</se:Title></se:Description>"
        f"<se:FeatureTypeStyle>{rules}</se:FeatureTypeStyle></UserStyle></NamedLayer></StyledLayerDescriptor>\n"
    )


def maplibre_filter(rule: Rule) -> list[Any] | None:
    terms: list[Any] = [["in", ["get", fld], ["literal", list(values)]] for fld, values in rule.where.items()]
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else ["all", *terms]


def to_maplibre(style: LayerStyle, source: str) -> list[dict[str, Any]]:
    """MapLibre GL style layers drawing the rules from ``source`` (a GeoJSON or vector tile source)."""
    out: list[dict[str, Any]] = []
    for i, r in enumerate(style.rules):
        s = r.symbol
        base: dict[str, Any] = {"source": source}
        flt = maplibre_filter(r)
        if flt is not None:
            base["filter"] = flt
        px = s.stroke_width_mm * 3.78
        dash = {"line-dasharray": [4, 2]} if s.dash else {}
        if s.kind == "fill":
            if s.fill_opacity:
                out.append(
                    {
                        **base,
                        "id": f"{style.layer}-{i}-fill",
                        "type": "fill",
                        "paint": {"fill-color": s.fill, "fill-opacity": s.fill_opacity},
                    }
                )
            out.append(
                {
                    **base,
                    "id": f"{style.layer}-{i}-outline",
                    "type": "line",
                    "paint": {"line-color": s.stroke, "line-width": px, **dash},
                }
            )
        elif s.kind == "line":
            out.append(
                {
                    **base,
                    "id": f"{style.layer}-{i}",
                    "type": "line",
                    "paint": {"line-color": s.stroke, "line-width": px, **dash},
                }
            )
        else:
            out.append(
                {
                    **base,
                    "id": f"{style.layer}-{i}",
                    "type": "circle",
                    "paint": {
                        "circle-color": s.fill,
                        "circle-radius": s.size_mm * 3.78 / 2,
                        "circle-stroke-color": s.stroke,
                        "circle-stroke-width": px,
                    },
                }
            )
    return out
