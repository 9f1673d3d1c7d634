"""Login throttling shared by SMTP AUTH, IMAP and the web UI: failure counters in the database, temporary locks.

Every failed login adds one row for the account and one for the client address. An account is keyed by its
normalised address (`<X@A.Test>`, `x@a.test.` and `x@xn--...` are one account), so spellings share a counter.
When a key collects `lock_after` failures (a client address: `ip_lock_after`) within `lock_window`, it is locked
for `lock_duration`: logins for it are then refused before any password is looked at, the right one included.
The failures that caused a lock are forgotten with it, so after it expires a full count is needed again.

Attempts for one account are serialised in this process (`serialised`): the lock check, the password check and
the failure count happen one attempt at a time, so parallel guesses cannot all slip under the limit. The
counters live in the database, so every worker process sees the same ones.

The database methods are blocking: call them through the store runner.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.config import LoginConfig
from smb_suite.errors import InvalidInput
from smb_suite.mail.address import parse_address
from smb_suite.storage import db

ACCOUNT = "account:"
ADDRESS = "ip:"
MAX_KEY = 400


def account_key(username: str) -> str:
    """The counter key of a login name: the normalised address, or the folded text if it is none."""
    try:
        name = str(parse_address(username))
    except InvalidInput:
        name = username.strip().lower()
    return (ACCOUNT + name)[:MAX_KEY]


def address_key(client_ip: str) -> str:
    return (ADDRESS + client_ip)[:MAX_KEY]


@dataclass(frozen=True, slots=True)
class Failure:
    """What one failed login changed: whether it locked the account (then its owners are told)."""

    account_locked: bool
    address_locked: bool
    failures: int


class LoginThrottle:
    def __init__(self, engine: sa.Engine, settings: LoginConfig, clock: Callable[[], float]) -> None:
        self._engine = engine
        self.settings = settings
        self._clock = clock
        self._serial: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def serialised(self, account: str) -> AsyncIterator[None]:
        """One login attempt at a time for this account key (in this process)."""
        lock, users = self._serial.get(account, (asyncio.Lock(), 0))
        self._serial[account] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._serial[account]
            if users == 1:
                del self._serial[account]
            else:
                self._serial[account] = (lock, users - 1)

    def locked_until(self, account: str, client_ip: str) -> int | None:
        """When the lock on this account or client address ends (epoch seconds), or None if neither is locked."""
        now = int(self._clock())
        table = db.login_locks
        query = sa.select(sa.func.max(table.c.until)).where(
            table.c.key.in_([account, address_key(client_ip)]), table.c.until > now
        )
        with self._engine.connect() as conn:
            until = conn.execute(query).scalar()
        return None if until is None else int(until)

    def failed(self, account: str, client_ip: str) -> Failure:
        """Count one failed login; lock the account or the address when it reaches its limit."""
        now = int(self._clock())
        settings = self.settings
        failures, locks = db.login_failures, db.login_locks
        keys = {account: settings.lock_after, address_key(client_ip): settings.ip_lock_after}
        locked: dict[str, bool] = {}
        counts: dict[str, int] = {}
        with self._engine.begin() as conn:
            conn.execute(sa.delete(failures).where(failures.c.at <= now - int(settings.lock_window)))
            conn.execute(sa.delete(locks).where(locks.c.until <= now))
            conn.execute(sa.insert(failures), [{"key": key, "at": now} for key in keys])
            for key, limit in keys.items():
                count = conn.execute(
                    sa.select(sa.func.count()).select_from(failures).where(failures.c.key == key)
                ).scalar_one()
                counts[key] = count
                locked[key] = False
                if count < limit:
                    continue
                if conn.execute(sa.select(locks.c.key).where(locks.c.key == key)).first() is None:
                    until = now + int(settings.lock_duration)
                    conn.execute(sa.insert(locks).values(key=key, locked_at=now, until=until))
                    locked[key] = True
                conn.execute(sa.delete(failures).where(failures.c.key == key))
        return Failure(locked[account], locked[address_key(client_ip)], counts[account])

    def has_failures(self, account: str) -> bool:
        """Whether failed logins of this account are counted (a right password then clears them)."""
        table = db.login_failures
        with self._engine.connect() as conn:
            return conn.execute(sa.select(table.c.key).where(table.c.key == account).limit(1)).first() is not None

    def succeeded(self, account: str) -> None:
        """A right password: the account's count starts over (the client address's does not)."""
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.login_failures).where(db.login_failures.c.key == account))
