"""Idempotency keys of the provisioning API's creating calls: a client that retries a call it never heard the
answer of (a timeout, a dropped connection) gets the first answer again and nothing is created twice.

The first request with a key claims it (a row with the request's hash and no answer yet, unique per token and
key, so two processes cannot both claim it); its answer is stored when it succeeds, or the claim is dropped when
it fails (nothing was created, a retry runs again). Keys expire after the configured time. Blocking: call through
the store runner.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.storage import db

MAX_KEY = 200


@dataclass(frozen=True, slots=True)
class Claim:
    """What a key holds: `mine` when this request claimed it; else the hash of the request that did, and its
    stored answer (status None while that request still runs)."""

    mine: bool
    request_hash: str = ""
    status: int | None = None
    body: str = ""


class IdempotencyKeys:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float], lifetime: float) -> None:
        self._engine = engine
        self._clock = clock
        self._lifetime = lifetime

    def claim(self, token_id: int, key: str, request_hash: str) -> Claim:
        """Claim `key` for this request, or say what an earlier request with it left."""
        table = db.api_idempotency
        now = int(self._clock())
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.created_at <= now - int(self._lifetime)))
            try:
                with conn.begin_nested():
                    conn.execute(
                        sa.insert(table).values(token_id=token_id, key=key, request_hash=request_hash, created_at=now)
                    )
                return Claim(True)
            except sa.exc.IntegrityError:
                pass
            row = conn.execute(
                sa.select(table.c.request_hash, table.c.status, table.c.body).where(
                    table.c.token_id == token_id, table.c.key == key
                )
            ).one()
        return Claim(False, row.request_hash, row.status, row.body)

    def answer(self, token_id: int, key: str, status: int, body: str) -> None:
        """Store the answer of the request that claimed `key`."""
        table = db.api_idempotency
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(table)
                .where(table.c.token_id == token_id, table.c.key == key)
                .values(status=status, body=body)
            )

    def release(self, token_id: int, key: str) -> None:
        """The claiming request failed and created nothing: a retry with the key runs again."""
        table = db.api_idempotency
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.token_id == token_id, table.c.key == key))
