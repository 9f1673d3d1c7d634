"""WebDAV locks (RFC 4918 6, 9.10) kept in the database: wsgidav's lock manager asks this storage, so a lock
granted by one worker process or node is known to all of them (a Finder or Office save with its lock token may
reach any). The interface is wsgidav's `LockStorageDict`; each business has its own (tenant_id in every row),
so two businesses' identical paths never meet. Expired locks are removed when met, as wsgidav's own storage does.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import sqlalchemy as sa
from wsgidav.lock_man.lock_manager import generate_lock_token, normalize_lock_root, validate_lock

from smb_suite.storage import db

DEFAULT_TIMEOUT = 604800.0  # a week, wsgidav's default
MAX_TIMEOUT = 4 * 604800.0
BYTES = "__bytes__"  # the lock owner is XML as bytes: JSON keeps it in base64 under this key


def _dump(lock: dict[str, Any]) -> str:
    encoded = {key: {BYTES: base64.b64encode(v).decode()} if isinstance(v, bytes) else v for key, v in lock.items()}
    return json.dumps(encoded)


def _load(text: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(text)
    return {k: base64.b64decode(v[BYTES]) if isinstance(v, dict) and BYTES in v else v for k, v in decoded.items()}


class DatabaseLocks:
    def __init__(self, engine: sa.Engine, tenant_id: int) -> None:
        self._engine = engine
        self._tenant_id = tenant_id

    def __repr__(self) -> str:
        return f"DatabaseLocks(tenant {self._tenant_id})"

    def open(self) -> None:
        """Nothing to open: the table exists (migration 0023)."""

    def close(self) -> None:
        """Nothing to close: connections come from the engine's pool."""

    def cleanup(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.dav_locks).where(db.dav_locks.c.expire < time.time()))

    def clear(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.dav_locks).where(db.dav_locks.c.tenant_id == self._tenant_id))

    def _mine(self) -> sa.ColumnElement[bool]:
        return db.dav_locks.c.tenant_id == self._tenant_id

    def get(self, token: str) -> dict[str, Any] | None:
        """The lock of a token; None when there is none or it expired (then it is removed)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(db.dav_locks.c.lock, db.dav_locks.c.expire).where(self._mine(), db.dav_locks.c.token == token)
            ).first()
        if row is None:
            return None
        if 0 <= row.expire < time.time():
            self.delete(token)
            return None
        return _load(row.lock)

    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        """Store a new lock on `path` (its timeout bounded); the lock gets its root, expiry and token."""
        lock["root"] = normalize_lock_root(path)
        timeout = float(lock.get("timeout") or DEFAULT_TIMEOUT)
        lock["timeout"] = MAX_TIMEOUT if timeout < 0 or timeout > MAX_TIMEOUT else timeout
        lock["expire"] = time.time() + lock["timeout"]
        validate_lock(lock)
        lock["token"] = generate_lock_token()
        with self._engine.begin() as conn:
            conn.execute(
                sa.insert(db.dav_locks).values(
                    token=lock["token"],
                    tenant_id=self._tenant_id,
                    root=lock["root"],
                    expire=lock["expire"],
                    lock=_dump(lock),
                )
            )
        return lock

    def refresh(self, token: str, *, timeout: float) -> dict[str, Any]:
        lock = self.get(token)
        if lock is None:
            raise ValueError(f"no lock {token}")
        lock["timeout"] = MAX_TIMEOUT if timeout < 0 or timeout > MAX_TIMEOUT else timeout
        lock["expire"] = time.time() + lock["timeout"]
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(db.dav_locks)
                .where(self._mine(), db.dav_locks.c.token == token)
                .values(expire=lock["expire"], lock=_dump(lock))
            )
        return lock

    def delete(self, token: str) -> bool:
        with self._engine.begin() as conn:
            deleted = conn.execute(sa.delete(db.dav_locks).where(self._mine(), db.dav_locks.c.token == token))
        return bool(deleted.rowcount)

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[dict[str, Any]] | list[str]:
        """The unexpired locks on `path` itself and/or below it."""
        root = normalize_lock_root(path)
        where = []
        if include_root:
            where.append(db.dav_locks.c.root == root)
        if include_children:
            where.append(db.dav_locks.c.root.startswith(root.rstrip("/") + "/", autoescape=True))
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(db.dav_locks.c.lock).where(self._mine(), sa.or_(*where), db.dav_locks.c.expire >= time.time())
            ).all()
        locks = [_load(row.lock) for row in rows]
        return [lock["token"] for lock in locks] if token_only else locks
