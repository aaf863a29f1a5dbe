"""A submission's change set as JSON, and back: the records to create and the updates with their base.

Records travel as ``model_dump(mode="json")`` (geometry as WKT, full precision), the form the sync
already uses for record chains, so what a reviewer approves is exactly what was submitted.
"""

from __future__ import annotations

import json
from typing import Any

from safeground.intake.commit import WritePlan
from safeground.model.base import RECORD_TYPES, Record


def _dump(rec: Record) -> dict[str, Any]:
    return {"layer": rec.LAYER, "record": rec.model_dump(mode="json")}


def load_record(item: dict[str, Any]) -> Record:
    cls = RECORD_TYPES[item["layer"]]
    return cls.model_validate(item["record"], context={"from_store": True})


def dump_plan(plan: WritePlan) -> str:
    return json.dumps(
        {
            "create": [_dump(r) for r in plan.create],
            "update": [{**_dump(r), "base_version": base} for r, base in plan.update],
            "delete": [{**_dump(r), "base_version": base} for r, base in plan.delete],
            "notes": plan.notes,
            "meta": plan.meta,  # e.g. which record an edited form submission is (written with the records)
        },
        ensure_ascii=False,
    )


def load_plan(payload: str) -> WritePlan:
    data = json.loads(payload)
    return WritePlan(
        create=[load_record(i) for i in data["create"]],
        update=[(load_record(i), int(i["base_version"])) for i in data["update"]],
        delete=[(load_record(i), int(i["base_version"])) for i in data.get("delete", [])],
        notes=list(data.get("notes", [])),
        meta=dict(data.get("meta", {})),
    )
