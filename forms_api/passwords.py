"""Staff passwords: argon2id hashes, and checks that cost the same whether or not the account exists."""

from __future__ import annotations

import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()  # argon2id with the library's defaults; tests swap in a cheaper one
_DECOY: dict[int, str] = {}


def hash_password(password: str) -> str:
    """The stored form of a password."""
    return hasher.hash(password)


def _decoy() -> str:
    """A hash nobody's password matches, at the current hasher's cost; made once, not per login."""
    key = id(hasher)
    if key not in _DECOY:
        _DECOY[key] = hasher.hash(uuid.uuid4().hex)
    return _DECOY[key]


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored`; an unknown account (None) costs the same hash as a known one."""
    try:
        hasher.verify(stored or _decoy(), password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None
