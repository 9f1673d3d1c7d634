"""Provisioning API tokens: a partner's (or the operator's) bearer secrets, their scopes, and their call counts.

A token is shown once, when it is made; the table keeps only the SHA-256 of it. The secret has 256 random bits,
so a fast hash is enough (no guessing a slow hash could slow down), and a copy of the database opens nothing.
Revoking keeps the row (its id names audit records) and refuses the token from then on.

Calls are counted per token in fixed one-minute windows in the database, so every worker process shares one
count. Blocking: call through the store runner.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from smb_suite.errors import InvalidInput, NotFound
from smb_suite.storage import database, db

PREFIX = "smb_"
MAX_SECRET = 200
WINDOW = 60  # seconds
SCOPES = ("businesses:read", "businesses:write", "billing:read", "billing:write")


@dataclass(frozen=True, slots=True)
class Token:
    """A token as listed (never its secret); `tenant_id` None: the operator's."""

    id: int
    tenant_id: int | None
    scopes: frozenset[str]
    created_at: int
    revoked_at: int | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def check_scopes(scopes: Collection[str]) -> frozenset[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise InvalidInput(f"unknown scope(s) {', '.join(unknown)}; scopes: {', '.join(SCOPES)}")
    return frozenset(scopes or SCOPES)


def _token(row: Any) -> Token:
    return Token(row.id, row.tenant_id, frozenset(row.scopes.split()), row.created_at, row.revoked_at)


class ApiTokens:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def create(self, tenant_id: int | None, scopes: Collection[str]) -> tuple[Token, str]:
        """A new token for the partner's business `tenant_id` (None: the operator): (the token, its secret)."""
        secret = PREFIX + secrets.token_urlsafe(32)
        chosen, now = check_scopes(scopes), int(self._clock())
        values = {
            "tenant_id": tenant_id,
            "token_hash": digest(secret),
            "scopes": " ".join(sorted(chosen)),
            "created_at": now,
        }
        with self._engine.begin() as conn:
            token_id = database.inserted_id(conn.execute(sa.insert(db.api_tokens).values(**values)))
        return Token(token_id, tenant_id, frozenset(chosen), now), secret

    def list(self) -> list[Token]:
        table = db.api_tokens
        query = sa.select(table.c.id, table.c.tenant_id, table.c.scopes, table.c.created_at, table.c.revoked_at)
        with self._engine.connect() as conn:
            return [_token(row) for row in conn.execute(query.order_by(table.c.id))]

    def revoke(self, token_id: int) -> Token:
        table = db.api_tokens
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.id == token_id, table.c.revoked_at.is_(None))
                .values(revoked_at=int(self._clock()))
            )
        for token in self.list():
            if token.id == token_id:
                return token
        raise NotFound(f"no API token {token_id}")

    def find(self, secret: str) -> Token | None:
        """The live token with this secret, or None (unknown, revoked, or not of our form)."""
        if not secret.startswith(PREFIX) or len(secret) > MAX_SECRET:
            return None
        table = db.api_tokens
        query = sa.select(table.c.id, table.c.tenant_id, table.c.scopes, table.c.created_at, table.c.revoked_at)
        query = query.where(table.c.token_hash == digest(secret), table.c.revoked_at.is_(None))
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _token(row)

    def count_call(self, token_id: int, limit: int) -> int:
        """Count one call of this token in the current minute; 0 when it is within `limit`, else the seconds
        until the next window (the call is counted all the same: a client that keeps trying stays refused)."""
        now = self._clock()
        window = int(now // WINDOW)
        table = db.api_calls
        where = (table.c.token_id == token_id, table.c.minute == window)
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.minute < window))
            counted = conn.execute(sa.update(table).where(*where).values(count=table.c.count + 1)).rowcount
            if not counted:
                try:
                    with conn.begin_nested():
                        conn.execute(sa.insert(table).values(token_id=token_id, minute=window, count=1))
                except sa.exc.IntegrityError:  # another process opened the window first
                    conn.execute(sa.update(table).where(*where).values(count=table.c.count + 1))
            count = conn.execute(sa.select(table.c.count).where(*where)).scalar_one()
        return 0 if count <= limit else max(1, int((window + 1) * WINDOW - now))
