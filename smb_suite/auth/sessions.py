"""Server-side sessions of the admin UI: the browser's cookie holds only a random token; the database keeps its
SHA-256 (so a copy of the database opens no session), the user, the session's CSRF token and its expiry.

Ending a session deletes its row, so a copied cookie stops working at once: at logout, and for every session of
a user whose password changes (ops/users.set_password). Removing a user removes its sessions (ON DELETE CASCADE).
Blocking: call through the store runner.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.storage import db

MAX_TOKEN = 200


@dataclass(frozen=True, slots=True)
class StoredSession:
    user_id: int
    csrf: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class WebSessions:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def create(self, user_id: int, lifetime: float) -> tuple[str, str]:
        """A new session for the user: (the cookie's token, the session's CSRF token). Expired rows go."""
        now = int(self._clock())
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        table = db.web_sessions
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.expires_at <= now))
            conn.execute(
                sa.insert(table).values(
                    token_hash=_digest(token),
                    user_id=user_id,
                    csrf=csrf,
                    created_at=now,
                    expires_at=now + int(lifetime),
                )
            )
        return token, csrf

    def find(self, token: str) -> StoredSession | None:
        """The live session this token opens, or None (unknown, ended or expired)."""
        if not token or len(token) > MAX_TOKEN:
            return None
        table = db.web_sessions
        query = sa.select(table.c.user_id, table.c.csrf).where(
            table.c.token_hash == _digest(token), table.c.expires_at > int(self._clock())
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else StoredSession(int(row.user_id), str(row.csrf))

    def end(self, token: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.web_sessions).where(db.web_sessions.c.token_hash == _digest(token)))

    def end_user(self, user_id: int) -> int:
        """End every session of a user (password changed); how many there were."""
        with self._engine.begin() as conn:
            result = conn.execute(sa.delete(db.web_sessions).where(db.web_sessions.c.user_id == user_id))
        return int(result.rowcount)
