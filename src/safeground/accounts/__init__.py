"""People who use a SafeGround server: organisations' staff, their roles, and the audit trail.

Roles follow IMSMA practice (:mod:`roles`); a role grants permissions and reads as one
:class:`~safeground.access.Audience`, so what a person may see is decided by the same policy
the command line and the exports apply. Passwords are Argon2 hashes (:mod:`passwords`); API
tokens for field devices and KoboToolbox are random and stored only as their SHA-256. Every
change to an account, and every write made through the server, appends a hash-chained entry to
the audit log (:mod:`audit`), so an entry changed or removed behind the server's back is found
by ``safeground audit verify``.
"""

from safeground.accounts.roles import ROLES, Permission, Role, permissions_of

__all__ = ["ROLES", "Permission", "Role", "permissions_of"]
