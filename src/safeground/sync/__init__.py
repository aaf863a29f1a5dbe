"""Field sync: a field team's GeoPackage and the authority's server exchange records with their history.

Design (also in README "Field sync"):

* **Versions are the unit.** Every record carries a version number and every store
  keeps every version. Sync moves versions exactly as they were made (same
  numbers, authors and times), so the server's history of a record is the field
  history and the other way round.
* **The sync state lives in the field GeoPackage** (``safeground_sync_state``):
  for each record, the *base version*, the last version both sides agreed on.
  A side has changed a record when its current version is above the base.
  The GeoPackage also remembers which server it syncs with (``sync_server_id``
  in ``safeground_meta``, the server's ``store_id``), so base versions are never
  compared against a different server.
* **Conflict**: both sides changed the record since the base (or both created
  the same identifier) and their current versions differ. It is never resolved
  silently: it goes to ``safeground_sync_conflicts`` with both sides' versions
  and waits for ``safeground sync resolve UID --keep mine|theirs``.
* **Safe to interrupt and re-run.** Pull writes records and sync state in one
  GeoPackage transaction per batch. Push commits a batch on the server first,
  then records the new base versions in the GeoPackage; if the process dies in
  between, the next push finds the server already holding exactly the field's
  versions and only records the base (no duplicate versions, no false conflict).
"""

from safeground.sync.engine import SyncReport, pull, push, resolve
from safeground.sync.state import Conflict, FieldState

__all__ = ["Conflict", "FieldState", "SyncReport", "pull", "push", "resolve"]
