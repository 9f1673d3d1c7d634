"""Calendar subscriptions: each user's secret read-only URL for "Team" and for its own calendar, which Outlook
("add calendar from the internet"), Google Calendar and phones poll without signing in.

The token is the only credential: 256 random bits (`secrets.token_urlsafe(32)`), so it cannot be guessed; it is
shown on the user's calendar page, hence kept as it is. A new one replaces the old, which then finds nothing.
A removed user's tokens go with it (DavStore.forget_user).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.storage import db

TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Feed:
    tenant_id: int
    user_id: int
    calendar: str


class Feeds:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def token_of(self, user_id: int, tenant_id: int, calendar: str) -> str:
        """The user's token for `calendar`, made on first use."""
        table = db.calendar_feeds
        with self._engine.begin() as conn:
            found = conn.execute(
                sa.select(table.c.token).where(table.c.user_id == user_id, table.c.calendar == calendar)
            ).scalar_one_or_none()
            return found if found is not None else _renew(conn, user_id, tenant_id, calendar)

    def renew(self, user_id: int, tenant_id: int, calendar: str) -> str:
        """A new token for the user's `calendar`; the old one stops working in the same transaction."""
        with self._engine.begin() as conn:
            return _renew(conn, user_id, tenant_id, calendar)

    def feed_of(self, token: str) -> Feed | None:
        table = db.calendar_feeds
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(table.c.tenant_id, table.c.user_id, table.c.calendar).where(table.c.token == token)
            ).first()
        return None if row is None else Feed(row.tenant_id, row.user_id, row.calendar)


def _renew(conn: sa.Connection, user_id: int, tenant_id: int, calendar: str) -> str:
    table = db.calendar_feeds
    conn.execute(sa.delete(table).where(table.c.user_id == user_id, table.c.calendar == calendar))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(sa.insert(table).values(token=token, tenant_id=tenant_id, user_id=user_id, calendar=calendar))
    return token


def forget_user(conn: sa.Connection, user_id: int) -> None:
    conn.execute(sa.delete(db.calendar_feeds).where(db.calendar_feeds.c.user_id == user_id))
