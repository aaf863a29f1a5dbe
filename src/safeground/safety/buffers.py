"""Safety buffers: how far from each kind of known danger a person should stay. One place.

The distances are conservative defaults for risk education and marking, not
technical survey results; a national authority sets its own, per contamination
type, in a settings file (TOML, YAML or JSON, a ``buffers`` table) or with
``--buffer KIND=METRES`` options (``load_buffers``). Handed-over minefield
records get a wide buffer because about a quarter of them turned out right: the
mines may lie hundreds of metres from where the record puts them.

Every answer built on buffers says which ones it used (``SafetyBuffers.describe``),
because the same point is "caution" with a 100 m buffer and "no known hazard"
with 25 m, and a reader of the answer must be able to tell which it was.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from safeground.errors import InvalidInput, Param, Problem
from safeground.model.vocab import Contamination


@dataclass(frozen=True)
class SafetyBuffers:
    hazard_m: dict[Contamination, float] = field(
        default_factory=lambda: {
            Contamination.AP_MINES: 50.0,
            Contamination.AV_MINES: 25.0,
            Contamination.MIXED: 50.0,
            Contamination.CLUSTER: 100.0,  # submunitions scatter beyond the mapped footprint
            Contamination.OTHER_ERW: 50.0,
            Contamination.IMPROVISED: 50.0,
        }
    )
    minefield_record_m: float = 200.0  # records are often displaced as a whole
    cluster_strike_m: float = 100.0
    found_item_m: float = 50.0  # where one item was found, others may remain
    accident_m: float = 50.0

    def for_hazard(self, contamination: Contamination | str) -> float:
        """The buffer of a hazard area of this contamination (50 m for a kind the settings leave out)."""
        return self.hazard_m.get(Contamination(contamination), 50.0)

    @property
    def widest_m(self) -> float:
        return max(
            max(self.hazard_m.values()),
            self.minefield_record_m,
            self.cluster_strike_m,
            self.found_item_m,
            self.accident_m,
        )

    def as_dict(self) -> dict[str, float]:
        """Every buffer under the key a settings file or ``--buffer`` uses for it."""
        out = {str(c): self.for_hazard(c) for c in Contamination}
        out |= {
            "minefield_record": self.minefield_record_m,
            "cluster_strike": self.cluster_strike_m,
            "found_item": self.found_item_m,
            "accident": self.accident_m,
        }
        return out

    def describe(self) -> str:
        """One line, in the ``KIND=METRES`` form the options take, so an answer can be redone with it."""
        return " ".join(f"{k}={v:g}" for k, v in self.as_dict().items())

    def with_values(self, values: Mapping[str, object], source: str = "options") -> SafetyBuffers:
        """A copy with the given buffers changed; keys as in ``BUFFER_KEYS`` (or their short names)."""
        problems: list[Problem] = []
        hazard = dict(self.hazard_m)
        other: dict[str, float] = {}
        for key, raw in values.items():
            name = str(key).strip().lower().replace("-", "_").replace(" ", "_")
            targets = ALIASES.get(name, (name,))
            if any(t not in BUFFER_KEYS for t in targets):
                problems.append(Problem(source, "buffers", str(key), f"not a kind of danger; use one of {_KNOWN}"))
                continue
            try:
                metres = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                problems.append(Problem(source, "buffers", str(key), "not a number of metres", raw))
                continue
            if not math.isfinite(metres) or metres < 0 or metres > 100_000:
                problems.append(Problem(source, "buffers", str(key), "a buffer is 0 to 100,000 metres", raw))
                continue
            for t in targets:
                if t in _CONTAMINATIONS:
                    hazard[Contamination(t)] = metres
                else:
                    other[f"{t}_m"] = metres
        if problems:
            example = f"e.g. {Param('buffer', 'antipersonnel_mines=100')} {Param('buffer', 'accident=75')}"
            raise InvalidInput(problems, hint_text=example)
        return replace(self, hazard_m=hazard, **other)


DEFAULT_BUFFERS = SafetyBuffers()

_CONTAMINATIONS = {str(c) for c in Contamination}
BUFFER_KEYS: tuple[str, ...] = (*(str(c) for c in Contamination), "minefield_record", "cluster_strike", "found_item",
                                "accident")  # fmt: skip
#: short names a field officer types; "mines" is every kind of mine at once
ALIASES: dict[str, tuple[str, ...]] = {
    "mines": ("antipersonnel_mines", "antivehicle_mines", "mixed_mines", "improvised_mines"),
    "ap_mines": ("antipersonnel_mines",),
    "av_mines": ("antivehicle_mines",),
    "cluster": ("cluster_munition_remnants",),
    "erw": ("other_erw",),
    "ied": ("improvised_mines",),
    "records": ("minefield_record",),
    "minefield_records": ("minefield_record",),
    "strikes": ("cluster_strike",),
    "cluster_strikes": ("cluster_strike",),
    "items": ("found_item",),
    "found_items": ("found_item",),
    "accidents": ("accident",),
}
_KNOWN = ", ".join(BUFFER_KEYS) + " (or mines, cluster, erw, ied, records, strikes, items, accidents)"


def parse_buffer_options(options: Iterable[str]) -> dict[str, str]:
    """``["mines=100", "accident=75"]`` → ``{"mines": "100", "accident": "75"}``, refusing what is not KIND=METRES."""
    out: dict[str, str] = {}
    problems = []
    for opt in options:
        key, sep, value = opt.partition("=")
        if not sep or not key.strip():
            problems.append(Problem(str(Param("buffer")), "option", opt, "write KIND=METRES, e.g. mines=100"))
            continue
        out[key.strip()] = value.strip()
    if problems:
        raise InvalidInput(problems)
    return out


def load_buffers(path: str | Path | None = None, options: Iterable[str] = ()) -> SafetyBuffers:
    """The defaults, then a settings file's ``buffers`` table (optional), then ``--buffer`` options.

    The file may hold only the table (``mines = 100``) or a ``[buffers]`` table (also under
    ``[safety]``), so one settings file can carry the buffers with other settings.
    """
    buffers = DEFAULT_BUFFERS
    if path is not None:
        buffers = buffers.with_values(_read_settings(Path(path)), source=str(path))
    given = parse_buffer_options(options)
    return buffers.with_values(given, source=str(Param("buffer"))) if given else buffers


def _read_settings(p: Path) -> dict[str, object]:
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([Problem(str(p), "file", "(file)", f"cannot be read: {exc.strerror}")]) from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            data: object = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise InvalidInput([Problem(str(p), "file", "suffix", "use .toml, .yaml or .json", p.suffix)])
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InvalidInput([Problem(str(p), "file", "(syntax)", str(exc).splitlines()[0])]) from None
    if not isinstance(data, dict):
        raise InvalidInput([Problem(str(p), "file", "buffers", "expected a table of KIND: METRES")])
    tables: dict[str, object] = data["safety"] if isinstance(data.get("safety"), dict) else data
    if "buffers" not in tables and any(isinstance(v, dict) for v in tables.values()):
        raise InvalidInput([Problem(str(p), "file", "buffers", "no buffers table (write [buffers] or buffers:)")])
    table = tables.get("buffers", tables)
    if not isinstance(table, dict):
        raise InvalidInput([Problem(str(p), "file", "buffers", "expected a table of KIND: METRES", table)])
    return dict(table)
