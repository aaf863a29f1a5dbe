"""One symbology for every map of the record: QGIS (QML in ``layer_styles``), SLD for the API, the web map.

IMSMA's conventions, which operators read at a glance: confirmed hazardous areas red, suspected
orange, the status by the outline (solid while open, dashed while being worked, green and empty
once closed), released land green, handed-over minefield records purple, cluster strike
footprints magenta, found items black, accidents a red cross. The rules are declared once
(:mod:`symbology`) and written out in each client's language, so QGIS, the server and the
printed maps cannot drift apart.
"""

from safeground.styles.symbology import LAYER_STYLES, LayerStyle, Rule, Symbol

__all__ = ["LAYER_STYLES", "LayerStyle", "Rule", "Symbol"]
