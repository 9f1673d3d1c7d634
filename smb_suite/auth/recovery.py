"""Password recovery's records: each user's recovery address (outside its business) and the single-use links
mailed for it.

A link carries a 256-bit random token; the database keeps only its SHA-256 (a copy of the database opens
nothing), its purpose, what it is bound to and its expiry. A random token looked up by its hash rather than a
signed one: it can be revoked and used once, and there is no key to keep. Using a token marks its row used
(UPDATE ... WHERE used_at IS NULL RETURNING) in the transaction that does what it allows, so two uses of one
link cannot both win: the second finds it used (and is recorded as such).

- A confirmation token is bound to the address it confirms: if the user chose another since, the old link
  confirms nothing.
- A reset token is bound to a fingerprint of the password hash stored when it was issued: a password set since
  by any path (the account page, an owner, `smb-suite user passwd`, another reset) changes the hash, so every
  link issued before it is dead, without any path having to remember to revoke it. The new hash makes the
  verified-credential cache's entries for the old password unreachable the same way (auth/credentials.py).

The clock is injected (tests move it). Blocking: call through the store runner.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa

from smb_suite.storage import db

CONFIRM = "confirm"
RESET = "reset"
RESET_SECONDS = 30 * 60
CONFIRM_SECONDS = 24 * 3600
MAX_TOKEN = 200


class State(StrEnum):
    """What a link turned out to be."""

    VALID = "valid"
    UNKNOWN = "unknown"  # never issued, or replaced by a newer link
    USED = "used"
    EXPIRED = "expired"
    STALE = "stale"  # the password (or the address to confirm) changed since it was issued


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    user_id: int | None = None
    bound: str = ""  # the address confirmed (confirmation links)


@dataclass(frozen=True, slots=True)
class RecoveryAddress:
    address: str | None  # confirmed: reset links go there
    pending: str | None  # waiting for its confirmation link
    language: str  # of the pages the user chose it on: its mail speaks that language


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def password_mark(password_hash: str) -> str:
    """What a reset link is bound to: changes whenever the stored password hash does."""
    return hashlib.sha256(password_hash.encode()).hexdigest()


class Recovery:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock

    # -- recovery addresses ---------------------------------------------------------------------------------

    def address_of(self, user_id: int) -> RecoveryAddress | None:
        table = db.recovery_addresses
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.user_id == user_id)).first()
        return None if row is None else RecoveryAddress(row.address, row.pending, row.language)

    def confirmed(self, user_ids: Iterable[int]) -> set[int]:
        """Which of these users have a confirmed recovery address (reset links can be mailed to them)."""
        table = db.recovery_addresses
        query = sa.select(table.c.user_id).where(table.c.user_id.in_(list(user_ids)), table.c.address.is_not(None))
        with self._engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def set_pending(self, user_id: int, address: str, language: str) -> None:
        """Remember an address waiting for its confirmation (a confirmed one stays in use until then)."""
        table = db.recovery_addresses
        values = {"pending": address, "language": language, "changed_at": int(self._clock())}
        with self._engine.begin() as conn:
            updated = conn.execute(sa.update(table).where(table.c.user_id == user_id).values(**values))
            if not updated.rowcount:
                conn.execute(sa.insert(table).values(user_id=user_id, address=None, **values))
            self._forget(conn, user_id, CONFIRM)

    def remove(self, user_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.delete(db.recovery_addresses).where(db.recovery_addresses.c.user_id == user_id))
            self._forget(conn, user_id, CONFIRM)
            self._forget(conn, user_id, RESET)

    # -- links ----------------------------------------------------------------------------------------------

    def issue(self, user_id: int, purpose: str, bound: str, lifetime: int) -> str:
        """A new link's token (shown once, in the mail); the user's earlier links of this purpose stop working,
        expired rows of anyone go."""
        token = secrets.token_urlsafe(32)  # 256 bits
        now = int(self._clock())
        table = db.recovery_tokens
        with self._engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.expires_at <= now))
            self._forget(conn, user_id, purpose)
            conn.execute(
                sa.insert(table).values(
                    token_hash=_digest(token),
                    user_id=user_id,
                    purpose=purpose,
                    bound=bound,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
        return token

    def peek(self, token: str, purpose: str) -> Outcome:
        """What the link is, without using it (the page that asks for the new password)."""
        if not token or len(token) > MAX_TOKEN:
            return Outcome(State.UNKNOWN)
        table = db.recovery_tokens
        query = sa.select(table.c.user_id, table.c.bound, table.c.expires_at, table.c.used_at).where(
            table.c.token_hash == _digest(token), table.c.purpose == purpose
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
            if row is None:
                return Outcome(State.UNKNOWN)
            if row.used_at is not None:
                return Outcome(State.USED, row.user_id)
            if row.expires_at <= int(self._clock()):
                return Outcome(State.EXPIRED, row.user_id)
            if purpose == RESET and row.bound != self._mark(conn, row.user_id):
                return Outcome(State.STALE, row.user_id)
        return Outcome(State.VALID, row.user_id, row.bound)

    def reset_password(self, token: str, password_hash: str) -> Outcome:
        """Use a reset link: in one transaction the link is marked used and, if it was still good, the password
        hash replaced (which also kills the user's other reset links: they are bound to the old hash)."""
        with self._engine.begin() as conn:
            outcome = self._use(conn, token, RESET)
            if outcome.state is not State.VALID or outcome.user_id is None:
                return outcome
            if outcome.bound != self._mark(conn, outcome.user_id):
                return Outcome(State.STALE, outcome.user_id)
            users = db.users
            conn.execute(sa.update(users).where(users.c.id == outcome.user_id).values(password_hash=password_hash))
        return outcome

    def confirm(self, token: str) -> Outcome:
        """Use a confirmation link: the address it was mailed to becomes the user's recovery address, if it is
        still the one waiting."""
        table = db.recovery_addresses
        with self._engine.begin() as conn:
            outcome = self._use(conn, token, CONFIRM)
            if outcome.state is not State.VALID or outcome.user_id is None:
                return outcome
            confirmed = conn.execute(
                sa.update(table)
                .where(table.c.user_id == outcome.user_id, table.c.pending == outcome.bound)
                .values(address=outcome.bound, pending=None, changed_at=int(self._clock()))
            )
            if not confirmed.rowcount:
                return Outcome(State.STALE, outcome.user_id)
        return outcome

    def _use(self, conn: sa.Connection, token: str, purpose: str) -> Outcome:
        """Mark the link used (its one use: a conditional UPDATE, so of two uses only one finds it unused) and
        say what it was. A used link stays until it expires, so a second use is recognised and recorded."""
        if not token or len(token) > MAX_TOKEN:
            return Outcome(State.UNKNOWN)
        table = db.recovery_tokens
        now = int(self._clock())
        mine = (table.c.token_hash == _digest(token), table.c.purpose == purpose)
        row = conn.execute(
            sa.update(table)
            .where(*mine, table.c.used_at.is_(None))
            .values(used_at=now)
            .returning(table.c.user_id, table.c.bound, table.c.expires_at)
        ).first()
        if row is None:
            used = conn.execute(sa.select(table.c.user_id).where(*mine)).scalar()
            return Outcome(State.UNKNOWN) if used is None else Outcome(State.USED, used)
        if row.expires_at <= now:
            return Outcome(State.EXPIRED, row.user_id)
        return Outcome(State.VALID, row.user_id, row.bound)

    @staticmethod
    def _mark(conn: sa.Connection, user_id: int) -> str:
        stored = conn.execute(sa.select(db.users.c.password_hash).where(db.users.c.id == user_id)).scalar()
        return password_mark(stored) if stored is not None else ""

    @staticmethod
    def _forget(conn: sa.Connection, user_id: int, purpose: str) -> None:
        table = db.recovery_tokens
        conn.execute(sa.delete(table).where(table.c.user_id == user_id, table.c.purpose == purpose))
