"""DKIM key pairs of hosted domains, in the database: one RSA-2048 and one Ed25519 key per selector pair.

Signing uses every key that is not retired. `rotate` retires the current pair and adds a new one; retired
public keys stay published (see `published`) for a grace period so that mail signed just before the rotation
still verifies, and are deleted by the next rotation after that.
"""

from __future__ import annotations

import datetime
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from smb_suite.directory.stamped import StampedCache
from smb_suite.mail import dkim
from smb_suite.mail.dkim import Algorithm
from smb_suite.storage import db

ALGORITHMS = (Algorithm.RSA, Algorithm.ED25519)
_PREFIX = {Algorithm.RSA: "r", Algorithm.ED25519: "e"}


@dataclass(frozen=True, slots=True)
class DkimKey:
    id: int
    selector: str
    algorithm: Algorithm
    private_pem: bytes
    created_at: int
    retired_at: int | None

    def public_record(self) -> str:
        return dkim.public_record(self.algorithm, self.private_pem)


def _key(row: Any) -> DkimKey:
    return DkimKey(
        int(row.id),
        str(row.selector),
        Algorithm(row.algorithm),
        str(row.private_key).encode("ascii"),
        int(row.created_at),
        None if row.retired_at is None else int(row.retired_at),
    )


class DkimKeys:
    def __init__(self, engine: sa.Engine, clock: Callable[[], float]) -> None:
        self._engine = engine
        self._clock = clock
        self._loaded: dict[int, dkim.SigningKey] = {}  # by row id: a row's key never changes
        self._lock = threading.Lock()
        self._signing: StampedCache[list[dkim.SigningKey]] = StampedCache(())  # by domain name

    def _new_pair(self, conn: sa.Connection, domain_id: int, now: int) -> None:
        """Insert one key per algorithm under selectors that share a date and a random tag (e.g. r20261103a1b2)."""
        tag = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%d") + secrets.token_hex(2)
        for algorithm in ALGORITHMS:
            conn.execute(
                sa.insert(db.dkim_keys).values(
                    domain_id=domain_id,
                    selector=_PREFIX[algorithm] + tag,
                    algorithm=algorithm.value,
                    private_key=dkim.generate_private_key(algorithm).decode("ascii"),
                    created_at=now,
                )
            )

    def create_pair(self, domain_id: int, conn: sa.Connection | None = None) -> None:
        """Give a domain its first keys (or another pair next to the current one), in `conn`'s transaction if
        given."""
        if conn is not None:
            self._new_pair(conn, domain_id, int(self._clock()))
            return
        with self._engine.begin() as own:
            self._new_pair(own, domain_id, int(self._clock()))

    def rotate(self, domain_id: int, grace_seconds: int) -> None:
        """Retire the signing keys, add a new pair, delete keys retired longer than the grace period."""
        now = int(self._clock())
        table = db.dkim_keys
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(table).where(
                    table.c.domain_id == domain_id,
                    table.c.retired_at.is_not(None),
                    table.c.retired_at <= now - grace_seconds,
                )
            )
            active = sa.and_(table.c.domain_id == domain_id, table.c.retired_at.is_(None))
            conn.execute(sa.update(table).where(active).values(retired_at=now))
            self._new_pair(conn, domain_id, now)

    def _rows(self, domain_name: str, where: Any) -> list[DkimKey]:
        query = (
            sa.select(db.dkim_keys)
            .join(db.domains, db.domains.c.id == db.dkim_keys.c.domain_id)
            .where(db.domains.c.name == domain_name, where)
            .order_by(db.dkim_keys.c.created_at, db.dkim_keys.c.id)
        )
        with self._engine.connect() as conn:
            return [_key(row) for row in conn.execute(query)]

    def active(self, domain_name: str) -> list[DkimKey]:
        """The keys mail from this domain is signed with now."""
        return self._rows(domain_name, db.dkim_keys.c.retired_at.is_(None))

    def published(self, domain_name: str, grace_seconds: int) -> list[DkimKey]:
        """The keys whose public half belongs in DNS: active ones and those retired within the grace period."""
        cutoff = int(self._clock()) - grace_seconds
        return self._rows(domain_name, sa.or_(db.dkim_keys.c.retired_at.is_(None), db.dkim_keys.c.retired_at > cutoff))

    def signing_keys(self, domain_name: str) -> list[dkim.SigningKey]:
        """The active keys, parsed. None for a domain still pending its ownership proof: nothing is signed in
        the name of a domain that may not be its claimant's. Kept while the directory's stamp is unchanged
        (stamped.py; dkim_keys and domains move it, migration 0030), so a rotation made by the command line or
        another worker applies at the next message, for the price of one read of the stamp."""
        with self._engine.connect() as conn:
            return self._signing.get(conn, domain_name, lambda: self._read_signing_keys(domain_name))

    def _read_signing_keys(self, domain_name: str) -> list[dkim.SigningKey]:
        keys = []
        proven = sa.and_(db.dkim_keys.c.retired_at.is_(None), db.domains.c.verified_at.is_not(None))
        for row in self._rows(domain_name, proven):
            with self._lock:
                loaded = self._loaded.get(row.id)
                if loaded is None:
                    loaded = self._loaded[row.id] = dkim.load_private_key(row.selector, row.algorithm, row.private_pem)
            keys.append(loaded)
        return keys

    def sign(self, message: bytes, domain_name: str) -> bytes:
        """The message with DKIM signatures of the domain on top, one per active key (unchanged without keys).

        Blocking (database read, RSA): call it from a thread."""
        return dkim.sign(message, domain_name, self.signing_keys(domain_name), int(self._clock())) + message
