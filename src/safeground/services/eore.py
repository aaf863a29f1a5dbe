"""Risk education as an application: which settlements to reach next (table, CSV, map).

``plan eore`` on the command line calls :func:`eore_targets` and, for the map, :func:`draw_targeting_map`;
the ranking and its reasons are made by :mod:`safeground.eore.targeting`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from safeground.errors import InvalidInput, Problem
from safeground.outputs import guard_output, staged_file
from safeground.storage import open_store

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class EORETargets:
    ranking: pd.DataFrame  # settlements by need, each factor's contribution in the c_ columns
    note: str
    as_of: date


def read_population(path: Path) -> dict[str, float]:
    """A CSV of settlement,population (an imported census or the local authority's figures)."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str)
    missing = [c for c in ("settlement", "population") if c not in df.columns]
    if missing:
        raise InvalidInput([Problem(str(path), "header", c, "column missing", list(df.columns)) for c in missing])
    values = pd.to_numeric(df["population"], errors="coerce")
    bad = [Problem(str(path), f"row {i + 2}", "population", "not a number ≥ 0", df["population"][i])
           for i in df.index if not (values[i] >= 0)]  # fmt: skip
    if bad:
        raise InvalidInput(bad)
    return dict(zip(df["settlement"].str.strip(), values.astype(float), strict=True))


def eore_targets(store: str, *, as_of: date | None = None, population: Path | None = None) -> EORETargets:
    """Settlements ranked by need for risk education as known on ``as_of`` (default: the last record)."""
    from safeground.eore.targeting import EOREWeights, need_factors, rank
    from safeground.model import Accident, EORESession

    pop = read_population(population) if population else None
    w = EOREWeights()
    with open_store(store, create=False, readonly=True) as s:
        if as_of is None:
            days = []
            for cls, col in ((Accident, "accident_date"), (EORESession, "session_date")):
                f = s.read_frame(cls)
                if len(f) and f[col].notna().any():
                    days.append(max(f[col].dropna()))
            as_of = date.fromisoformat(str(max(days))[:10]) if days else date.today()
        # never reached: counted from the first accident or session on record (the people were back by then)
        ranking, note = rank(need_factors(s, w, as_of, population=pop), w)
    return EORETargets(ranking, note, as_of)


def draw_targeting_map(
    store: str, targets: EORETargets, out: Path, *, top: int = 10, lang: str = "en", overwrite: bool = False
) -> Path:
    """The ranking as a PNG map (settlements by need; no accident or hazard drawn)."""
    from safeground.eore.maps import targeting_map, translations

    translations(lang)  # an unknown language is refused before anything is read
    guard_output(out, overwrite=overwrite, store_location=store)
    with open_store(store, create=False, readonly=True) as s:
        fig = targeting_map(s, targets.ranking, top=top, as_of=str(targets.as_of), lang=lang)
    with staged_file(out, overwrite=overwrite, store_location=store) as tmp:
        fig.savefig(tmp, dpi=110)
    return out
