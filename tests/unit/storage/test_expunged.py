"""QRESYNC's memory of expunged UIDs (RFC 7162 3.2) is bounded per folder, and says when it may have forgotten."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from smb_suite.storage import database, db, index


def test_remembered_expunges_are_bounded_and_the_floor_says_what_was_forgotten(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index, "KEEP_EXPUNGED", 3)
    engine = database.create_engine(database_url)
    db.metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(sa.insert(db.tenants).values(id=1, name="t", created_at=0))
        conn.execute(sa.insert(db.domains).values(id=1, name="t.test", tenant_id=1, created_at=0))
        conn.execute(sa.insert(db.users).values(id=1, domain_id=1, local_part="u", password_hash="x", created_at=0))
        conn.execute(sa.insert(db.mailboxes).values(id=1, user_id=1, name="INBOX", uidvalidity=1))
        assert index.expunged_since(conn, 1, 1) == []
        for uid in range(1, 6):  # each removal takes the next mod-sequence: UID n goes at n + 1
            index.vanish(conn, 1, [uid])
        conn.commit()
        assert index.expunged_since(conn, 1, 3) == [3, 4, 5]
        assert index.expunged_since(conn, 1, 5) == [5]
        assert index.expunged_since(conn, 1, 2) is None  # UIDs 1 and 2 were forgotten
        rows = conn.execute(sa.select(sa.func.count()).select_from(db.expunged)).scalar_one()
        assert rows == 3
    engine.dispose()
