"""The rules: for each layer, which features get which symbol (filters on stored values)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Symbol:
    kind: str  # fill | line | marker
    fill: str | None = None  # "#rrggbb"
    fill_opacity: float = 1.0
    stroke: str | None = None
    stroke_width_mm: float = 0.4
    dash: bool = False
    marker: str = "circle"  # circle | square | cross
    size_mm: float = 2.0


@dataclass(frozen=True)
class Rule:
    label: str
    symbol: Symbol
    #: field → allowed values (all must hold); empty: every feature
    where: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LayerStyle:
    layer: str
    title: str
    rules: tuple[Rule, ...]


_OPEN = ("open",)
_WORKED = ("worked_on",)
_CHA, _SHA = ("confirmed_hazardous_area",), ("suspected_hazardous_area",)
_RELEASED = Symbol("fill", fill="#2e8b57", fill_opacity=0.0, stroke="#2e8b57", stroke_width_mm=0.5, dash=True)

LAYER_STYLES: dict[str, LayerStyle] = {
    s.layer: s
    for s in (
        LayerStyle("hazard_areas", "Hazard areas (IMSMA: CHA red, SHA orange; outline = status)", (
            Rule("CHA, open", Symbol("fill", "#d7191c", 0.4, "#a50f15", 0.6),
                 {"classification": _CHA, "status": _OPEN}),
            Rule("CHA, being worked", Symbol("fill", "#d7191c", 0.4, "#a50f15", 0.6, dash=True),
                 {"classification": _CHA, "status": _WORKED}),
            Rule("SHA, open", Symbol("fill", "#f4a83a", 0.33, "#d97a00", 0.5),
                 {"classification": _SHA, "status": _OPEN}),
            Rule("SHA, being worked", Symbol("fill", "#f4a83a", 0.33, "#d97a00", 0.5, dash=True),
                 {"classification": _SHA, "status": _WORKED}),
            Rule("Closed (released)", _RELEASED, {"status": ("closed",)}),
        )),
        LayerStyle("activities", "Land release: survey and clearance", (
            Rule("Cleared", Symbol("fill", "#1a9850", 0.35, "#1a9850", 0.3), {"activity_type": ("clearance",)}),
            Rule("Technical survey", Symbol("fill", "#91cf60", 0.35, "#1a9850", 0.3),
                 {"activity_type": ("technical_survey",)}),
            Rule("Non-technical survey", Symbol("fill", "#d9ef8b", 0.35, "#66bd63", 0.3),
                 {"activity_type": ("non_technical_survey",)}),
            Rule("EOD spot task", Symbol("fill", "#a6d96a", 0.35, "#1a9850", 0.3),
                 {"activity_type": ("eod_spot_task",)}),
        )),
        LayerStyle("minefield_records", "Minefield records (as handed over)", (
            Rule("Record perimeter", Symbol("fill", "#7b2cbf", 0.0, "#7b2cbf", 0.5)),
        )),
        LayerStyle("minefield_record_assessments", "Minefield records, assessed", (
            Rule("Graded A/B (corrected)", Symbol("fill", "#7b2cbf", 0.15, "#4a1486", 0.6), {"grade": ("A", "B")}),
            Rule("Graded C, or U (not assessable)", Symbol("fill", "#7b2cbf", 0.0, "#7b2cbf", 0.4, dash=True),
                 {"grade": ("C", "U")}),
        )),
        LayerStyle("cluster_strikes", "Cluster munition strike footprints", (
            Rule("Strike footprint", Symbol("fill", "#e7298a", 0.1, "#e7298a", 0.5, dash=True)),
        )),
        LayerStyle("eo_items", "Explosive items found", (
            Rule("Item", Symbol("marker", "#000000", 1.0, "#ffffff", 0.2, marker="circle", size_mm=1.6)),
        )),
        LayerStyle("accidents", "Mine/ERW accidents", (
            Rule("Accident", Symbol("marker", "#ff0000", 1.0, "#ffffff", 0.3, marker="cross", size_mm=3.5)),
        )),
        LayerStyle("front_lines", "Former front line", (
            Rule("Front line", Symbol("line", stroke="#b10026", stroke_width_mm=0.8, dash=True)),
        )),
        LayerStyle("predicted_hazards", "Predicted hazard (risk model)", (
            Rule("Predicted", Symbol("fill", "#fdae61", 0.25, "#f46d43", 0.3, dash=True)),
        )),
    )
}  # fmt: skip
