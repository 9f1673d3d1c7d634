"""Password hashing with argon2id (argon2-cffi). Slow on purpose: call it off the event loop."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from smb_suite.errors import InvalidInput

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if not password or not password.strip():
        raise InvalidInput("the password must not be empty")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash no password matches, verified for unknown users so they take as long as a wrong password; made at
    the first use, not at import (one argon2 hash: every command-line start would pay it)."""
    return _hasher.hash("not a real password: evens out timing for unknown users")
