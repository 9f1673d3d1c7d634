"""When a business last exchanged mail with an address: the "last contact" of the CRM's contacts.

Kept up to date by delivery (the sender of mail that reached a mailbox of the business) and submission (the
recipients of mail a user of the business sent), one upsert per batch of the store writer, so the contact pages
read it without scanning any mail. One row per business and address; a date only ever moves forward.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from smb_suite.storage import db

MAX_ADDRESS = 320  # RFC 5321 4.5.3.1: local part and domain


class Correspondents:
    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._upsert = _upsert(engine.dialect.name)  # built once: it runs in every batch that delivers mail

    def record(self, rows: Iterable[tuple[int, str, int]]) -> None:
        """(business id, address, time) rows: each address's date becomes the later of the stored one and this."""
        latest: dict[tuple[int, str], int] = {}
        for tenant_id, address, when in rows:
            address = address.strip().lower()
            if address and len(address) <= MAX_ADDRESS and "@" in address:
                key = (tenant_id, address)
                latest[key] = max(when, latest.get(key, when))
        if not latest:
            return
        values = [{"tenant_id": t, "address": a, "last_at": when} for (t, a), when in sorted(latest.items())]
        with self._engine.begin() as conn:
            conn.execute(self._upsert, values)

    def last_contacts(self, tenant_id: int, addresses: Iterable[str]) -> dict[str, int]:
        """The last date (epoch seconds) of each address the business exchanged mail with."""
        wanted = sorted({address.lower() for address in addresses})
        if not wanted:
            return {}
        table = db.correspondents
        query = sa.select(table.c.address, table.c.last_at).where(
            table.c.tenant_id == tenant_id, table.c.address.in_(wanted)
        )
        with self._engine.connect() as conn:
            return {row.address: int(row.last_at) for row in conn.execute(query)}


def _upsert(dialect: str) -> sa.Executable:
    """INSERT ... ON CONFLICT DO UPDATE keeping the later date, in the dialect's spelling."""
    table = db.correspondents
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # loaded by a PostgreSQL engine only (2 MB per worker)

        insert: postgresql.Insert | sqlite.Insert = postgresql.insert(table)
    else:
        insert = sqlite.insert(table)
    newer = insert.excluded.last_at
    return insert.on_conflict_do_update(
        index_elements=[table.c.tenant_id, table.c.address],
        set_={"last_at": sa.case((newer > table.c.last_at, newer), else_=table.c.last_at)},
    )
