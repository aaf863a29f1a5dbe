"""Password hashing (Argon2id) and the rules a new password must meet.

Argon2id is what OWASP recommends for password storage; argon2-cffi's defaults follow RFC 9106's
low-memory profile. A hash carries its own parameters, so ``needs_rehash`` lets a later release
raise the cost without forcing everyone to reset: the next successful login rehashes.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from safeground.errors import InvalidInput, Problem

MIN_LENGTH = 12  # NIST SP 800-63B allows 8; these accounts can read victims' identities

_HASHER = PasswordHasher()


def check_new_password(password: str, *, username: str) -> None:
    """Refuse a password that is short or is the user name (all problems at once)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(Problem("password", username, "password", f"shorter than {MIN_LENGTH} characters"))
    if password.strip().lower() == username.strip().lower():
        problems.append(Problem("password", username, "password", "the same as the user name"))
    if password != password.strip():
        problems.append(Problem("password", username, "password", "starts or ends with a space (a copy-paste slip?)"))
    if problems:
        raise InvalidInput(problems, hint_text=f"choose a passphrase of at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when the password matches; False for a mismatch or an unreadable stored hash."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)
