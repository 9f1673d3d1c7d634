"""App passwords: extra argon2id hashes per user, for mail clients (SMTP AUTH and IMAP LOGIN), never for the
web UI. Each has a label, so a lost phone's password can be revoked without changing the main one.

Permission checks are the caller's (ops/accounts.py: a user manages only its own).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from smb_suite.errors import InvalidInput, NotFound
from smb_suite.storage import database, db

MAX_PER_USER = 10


@dataclass(frozen=True, slots=True)
class AppPassword:
    id: int
    label: str
    created_at: int


class Identified(Protocol):
    @property
    def id(self) -> int: ...


class AppPasswords:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    def add(self, user_id: int, label: str, password_hash: str) -> AppPassword:
        label = label.strip()
        if not label or len(label) > 100:
            raise InvalidInput("name the app password (up to 100 characters), like 'phone'")
        now = int(self._clock())
        table = db.app_passwords
        with self._engine.begin() as conn:
            count = conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user_id)
            ).scalar_one()
            if count >= MAX_PER_USER:
                raise InvalidInput(f"at most {MAX_PER_USER} app passwords: revoke one first")
            result = conn.execute(
                sa.insert(table).values(user_id=user_id, label=label, password_hash=password_hash, created_at=now)
            )
        return AppPassword(database.inserted_id(result), label, now)

    def of_user(self, user_id: int) -> list[AppPassword]:
        table = db.app_passwords
        query = sa.select(table.c.id, table.c.label, table.c.created_at).where(table.c.user_id == user_id)
        with self._engine.connect() as conn:
            return [AppPassword(r.id, r.label, r.created_at) for r in conn.execute(query.order_by(table.c.id))]

    def hashes(self, user_id: int) -> list[str]:
        table = db.app_passwords
        with self._engine.connect() as conn:
            return list(conn.execute(sa.select(table.c.password_hash).where(table.c.user_id == user_id)).scalars())

    def remove(self, user_id: int, password_id: int) -> AppPassword:
        table = db.app_passwords
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(table.c.id, table.c.label, table.c.created_at).where(
                    table.c.id == password_id, table.c.user_id == user_id
                )
            ).first()
            if row is None:
                raise NotFound("no such app password")
            conn.execute(sa.delete(table).where(table.c.id == password_id))
        return AppPassword(row.id, row.label, row.created_at)

    def forget_user(self, conn: sa.Connection, user: Identified) -> None:
        """Drop a removed user's app passwords, in the directory's transaction."""
        conn.execute(sa.delete(db.app_passwords).where(db.app_passwords.c.user_id == user.id))
