"""The workspace's interface text in the reader's language, from one JSON file per language.

``web/i18n/workspace.<code>.json`` holds every string of the workspace pages and scripts for one
language: a country adds its language by adding a file (no code change; the language switch lists
every file found). A key missing from a language falls back to English, so a half-finished
translation still gives a usable page. The language of a request is, in order: ``?lang=``, the
``sg_lang`` cookie the switch sets, the browser's ``Accept-Language``, English.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from fastapi import Request

LANG_COOKIE = "sg_lang"
FALLBACK = "en"
_PREFIX, _SUFFIX = "workspace.", ".json"


@lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """Every language a translation file exists for (its code: ``az``, ``en``, ``ru``…), sorted."""
    folder = files("safeground.web") / "i18n"
    found = [
        p.name[len(_PREFIX) : -len(_SUFFIX)]
        for p in folder.iterdir()
        if p.name.startswith(_PREFIX) and p.name.endswith(_SUFFIX)
    ]
    return tuple(sorted(found))


@lru_cache(maxsize=16)
def _load(code: str) -> dict[str, Any]:
    folder = files("safeground.web") / "i18n"
    data: dict[str, Any] = json.loads((folder / f"{_PREFIX}{code}{_SUFFIX}").read_text("utf-8"))
    # the text of a group of pages kept in its own file (queue.<code>.json: review, entry, dashboards, admin)
    for extra in sorted(p.name for p in folder.iterdir() if p.name.endswith(f".{code}{_SUFFIX}")):
        if not extra.startswith(_PREFIX):
            data.update(json.loads((folder / extra).read_text("utf-8")))
    return data


def strings(code: str) -> dict[str, Any]:
    """The interface text of ``code``, with English for any key the language lacks."""
    if code not in languages():
        code = FALLBACK
    return {**_load(FALLBACK), **_load(code)}


def _accepted(header: str) -> list[str]:
    """Language codes of an Accept-Language header, most wanted first (``az-AZ,ru;q=0.8`` → az, ru)."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        bits = part.strip().split(";")
        code = bits[0].strip().lower().split("-")[0]
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        if code and code != "*":
            ranked.append((-q, i, code))
    return [c for _, _, c in sorted(ranked)]


def language_of(request: Request) -> str:
    """The language to answer ``request`` in (see the module's docstring for the order)."""
    known = languages()
    for wanted in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if wanted and wanted.lower() in known:
            return wanted.lower()
    for code in _accepted(request.headers.get("accept-language", "")):
        if code in known:
            return code
    return FALLBACK


class Translator:
    """``t("key", name=…)``: the text of a key in one language, with ``{name}`` filled in; an unknown
    key is shown as itself so a missing string is visible on the page instead of failing it."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.table = strings(code)

    def __call__(self, key: str, **values: Any) -> str:
        text = self.table.get(key, key)
        return str(text).format(**values) if values else str(text)
