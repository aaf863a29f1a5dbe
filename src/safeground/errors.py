"""One error hierarchy for the whole system.

Every error carries a message a field officer can act on, a machine code, and an
HTTP status, so the CLI and (later) the web API map them in one place instead of
copying try/except blocks around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class SafeGroundError(Exception):
    """Base class: a failure the user can understand and act on."""

    code = "safeground_error"
    http_status = 500

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  → {self.hint}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one value of one record of one input.

    The four coordinates (source, item, field, value) are what a data clerk needs
    to find and fix the problem in the original file.
    """

    source: str
    item: str
    field: str
    reason: str
    value: Any = None
    repairable: bool = False

    def describe(self) -> str:
        shown = "" if self.value is None else f" (value: {_short(self.value)})"
        return f"{self.source}, {self.item}, field '{self.field}': {self.reason}{shown}"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class InvalidInput(SafeGroundError):
    """Input failed validation; lists every problem at once, not just the first."""

    problems: list[Problem] = field(default_factory=list)
    hint_text: str | None = None

    code = "invalid_input"
    http_status = 422

    def __post_init__(self) -> None:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found; nothing was stored"
        lines = [p.describe() for p in self.problems[:50]]
        if n > 50:
            lines.append(f"… and {n - 50} more")
        SafeGroundError.__init__(self, head + ":\n  " + "\n  ".join(lines), hint=self.hint_text)

    def __str__(self) -> str:
        return SafeGroundError.__str__(self)


class OutsideArea(SafeGroundError):
    """A position far outside the area a store covers: most often latitude and longitude swapped."""

    code = "outside_area"
    http_status = 422


class RecordNotFound(SafeGroundError):
    code = "not_found"
    http_status = 404


class VersionConflict(SafeGroundError):
    """A write based on a version of a record that someone else has since changed."""

    code = "version_conflict"
    http_status = 409


class DuplicateRecord(SafeGroundError):
    code = "duplicate_record"
    http_status = 409


class StoreUnavailable(SafeGroundError):
    code = "store_unavailable"
    http_status = 503
