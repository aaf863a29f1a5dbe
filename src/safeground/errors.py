"""One error hierarchy for the whole system, for every front-end.

Every error carries a message a field officer can act on, a machine code, and an
HTTP status, so the CLI and the web API map them in one place instead of
copying try/except blocks around.

A message or hint that tells the user which setting to change names the
*parameter*, not the command-line flag: the domain does not know whether it was
called as ``safeground risk train --cell 25`` or as ``GET …?cell=25``. It writes
``f"e.g. {Param('cell', 25)}"``; each front-end renders the reference in its own
terms when it shows the error (``render_message(as_flag)`` → ``e.g. --cell 25``,
``render_message(as_query)`` → ``e.g. cell=25``). ``str(exc)`` uses the neutral
form, the parameter names of the Python functions and of the API (``as_query``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A parameter reference travels inside the message text (so it composes with f-strings, concatenation
# and Problem fields) between characters of Unicode's private use area, which no real text contains.
_OPEN, _SEP, _CLOSE = "\ue000", "\ue001", "\ue002"
_REF = re.compile(f"{_OPEN}([^{_SEP}{_CLOSE}]+)(?:{_SEP}([^{_CLOSE}]*))?{_CLOSE}")

#: How a front-end writes a parameter reference: (parameter name, example or offending value or None) → text.
ParamStyle = Callable[[str, str | None], str]


@dataclass(frozen=True)
class Param:
    """A reference to the parameter ``name`` of an operation, optionally with a value shown beside it.

    ``name`` is the parameter's name in the domain function or service, in snake_case (``as_of``,
    ``max_misclosure``); the CLI shows it as the flag ``--as-of``, the web as the query parameter
    ``as_of``. Formatting a Param (``f"{Param('top', 0.05)}"``, ``str(...)``) gives the marked text
    that ``render_params`` resolves later.
    """

    name: str
    value: str | int | float | None = None

    def __str__(self) -> str:
        shown = "" if self.value is None else _SEP + str(self.value)
        return f"{_OPEN}{self.name}{shown}{_CLOSE}"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def as_flag(name: str, value: str | None) -> str:
    """The command line's form: ``--as-of 2021-06-30``."""
    flag = "--" + name.replace("_", "-")
    return flag if value is None else f"{flag} {value}"


def as_query(name: str, value: str | None) -> str:
    """The web API's (and Python keywords') form: ``as_of=2021-06-30``."""
    return name if value is None else f"{name}={value}"


def render_params(text: str, style: ParamStyle) -> str:
    """``text`` with every parameter reference written in ``style``; any other text is left as it is."""
    return _REF.sub(lambda m: style(m.group(1), m.group(2)), text)


def params_in(text: str) -> list[str]:
    """The names of the parameters ``text`` refers to, in order, each once."""
    return list(dict.fromkeys(m.group(1) for m in _REF.finditer(text)))


class SafeGroundError(Exception):
    """Base class: a failure the user can understand and act on."""

    code = "safeground_error"
    #: a failure the user can act on is the request's (400), never the server's; subclasses for a store that
    #: cannot be reached and the like say 5xx themselves (schemathesis found plain ones answered as 500s)
    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        #: as raised, with parameter references unresolved: show it through ``render_message``
        self.message = message
        self.hint = hint

    def render_message(self, style: ParamStyle = as_query) -> str:
        return render_params(self.message, style)

    def render_hint(self, style: ParamStyle = as_query) -> str | None:
        return None if self.hint is None else render_params(self.hint, style)

    def parameters(self) -> list[str]:
        """The parameters the message and the hint name: the ones to change (a web form can mark them)."""
        return params_in(self.message + "\n" + (self.hint or ""))

    def body(self, style: ParamStyle = as_query) -> dict[str, Any]:
        """What the web API answers (with ``http_status``): machine code, message, fix and parameters named."""
        return {
            "code": self.code,
            "message": self.render_message(style),
            "hint": self.render_hint(style),
            "parameters": self.parameters(),
        }

    def __str__(self) -> str:
        message, hint = self.render_message(), self.render_hint()
        return message if not hint else f"{message}\n  → {hint}"


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


class NotPermitted(SafeGroundError):
    """The person asking may not do this (their role lacks the permission): the CLI's review commands and
    the server's routes refuse with the same error."""

    code = "forbidden"
    http_status = 403


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
