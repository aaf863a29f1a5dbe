"""Who is reading: one value every output is made for, from the command line to the server.

An export, a report, a map tile or an API response is always made *for* someone.
SafeGround names that someone with an :class:`Audience`, and every service that
returns stored data takes one, so the command line (``--include-restricted``,
``--audience``), the server's roles and the tiles apply the same policy
(:mod:`safeground.access.policy`). The three audiences are ordered: each may read
everything the one below it reads.

* ``public`` — anyone: HDX, the returnee page, a printed village map. Aggregated
  and generalised: no exact position of a mine or an accident, victims only as
  k-anonymous rows, no identities.
* ``partner`` — logged-in operators, viewers and donors (issue 18's *viewer* and
  *data entry* roles): individual records, but positions of mines and accidents
  still only to their 1 km cell, victims still k-anonymous, no identities.
* ``restricted`` — the authority's information management (IMSMA practice: the
  reviewer, the analyst who writes restricted reports, the admin): everything as
  stored, for an authorised, protected destination.
"""

from __future__ import annotations

from enum import StrEnum

from safeground.errors import SafeGroundError


class Audience(StrEnum):
    PUBLIC = "public"
    PARTNER = "partner"
    RESTRICTED = "restricted"

    @property
    def rank(self) -> int:
        return _ORDER.index(self)

    def reads(self, needed: Audience) -> bool:
        """True when this audience may read what ``needed`` may read."""
        return self.rank >= needed.rank

    @property
    def exact(self) -> bool:
        """Reads the store as it is (exact positions, identities)."""
        return self is Audience.RESTRICTED

    @classmethod
    def parse(cls, text: str) -> Audience:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise SafeGroundError(
                f"unknown audience {text!r}", hint=f"use one of: {', '.join(a.value for a in cls)}"
            ) from None

    @classmethod
    def for_role(cls, role: str | None) -> Audience:
        """The audience a server role reads as (no login: public). Unknown roles read as public: deny by default."""
        return ROLE_AUDIENCE.get((role or "public").strip().lower(), cls.PUBLIC)


_ORDER = [Audience.PUBLIC, Audience.PARTNER, Audience.RESTRICTED]

#: issue 18's roles (IMSMA practice) → what they read. A role not listed reads as public.
ROLE_AUDIENCE: dict[str, Audience] = {
    "public": Audience.PUBLIC,
    "viewer": Audience.PARTNER,
    "data_entry": Audience.PARTNER,
    "reviewer": Audience.RESTRICTED,
    "analyst": Audience.RESTRICTED,
    "admin": Audience.RESTRICTED,
}
