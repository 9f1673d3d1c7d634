"""Hourly allowances per client address (the contact form, self-service sign-up), counted in the database so
that every worker process and node shares one count: a client cannot get N times its allowance by landing on N
workers.

One row per counted event; `allow` removes rows older than an hour, counts the key's and adds one in the same
transaction, its first statement a write: on SQLite that takes the database's write lock before the count
(the store writer begins IMMEDIATE anyway, storage/database.py), so two workers never both see room for the last one.

The database methods are blocking: call them through the store runner.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from smb_suite.storage import db

HOUR = 3600
MAX_KEY = 400


class RateLimits:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def allow(self, kind: str, client: str, per_hour: int) -> bool:
        """Count one `kind` event from `client`; False (nothing counted) when it had `per_hour` this hour."""
        now = int(self._clock())
        table = db.rate_events
        key = f"{kind}:{client}"[:MAX_KEY]
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.at <= now - HOUR))
            count = conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.key == key)).scalar_one()
            if count >= per_hour:
                return False
            conn.execute(sa.insert(table).values(key=key, at=now))
        return True
