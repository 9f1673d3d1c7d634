"""Quota stays exact under concurrent writers, on each database backend: charging locks the tenant's row
(UPDATE ... RETURNING), so of two writers that each need most of what is left, exactly one gets in."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from smb_suite.config import TierConfig
from smb_suite.errors import QuotaExceeded
from smb_suite.quota import Quota
from smb_suite.storage import database, db

MIB = 1 << 20


def test_of_two_concurrent_writers_needing_most_of_the_room_exactly_one_gets_in(database_url: str) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    quota = Quota(engine, {"small": TierConfig(storage_mb=1)}, (80, 95))
    with engine.begin() as conn:
        tenant = database.inserted_id(conn.execute(sa.insert(db.tenants).values(name="t", tier="small", created_at=0)))
    outcomes: list[str] = []

    def write() -> None:
        with engine.begin() as conn:
            try:
                quota.reserve(conn, tenant, 700_000)
                outcomes.append("stored")
            except QuotaExceeded:
                outcomes.append("refused")

    with engine.connect() as first:
        first.begin()
        quota.reserve(first, tenant, 700_000)  # holds the tenant's row until it commits
        other = threading.Thread(target=write)
        other.start()
        first.commit()
    other.join(timeout=60)
    assert outcomes == ["refused"]
    assert quota.current(tenant).used == 700_000
    engine.dispose()


@pytest.mark.parametrize("size", [MIB - 700_000, MIB - 700_000 + 1])
def test_what_fits_exactly_is_stored_and_one_byte_more_is_refused(database_url: str, size: int) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    quota = Quota(engine, {"small": TierConfig(storage_mb=1)}, (80, 95))
    with engine.begin() as conn:
        tenant = database.inserted_id(conn.execute(sa.insert(db.tenants).values(name="t", tier="small", created_at=0)))
        quota.reserve(conn, tenant, 700_000)
    fits = 700_000 + size <= MIB
    with engine.begin() as conn:
        if fits:
            quota.reserve(conn, tenant, size)
        else:
            with pytest.raises(QuotaExceeded):
                quota.reserve(conn, tenant, size)
    assert quota.current(tenant).used == (700_000 + size if fits else 700_000)
    engine.dispose()
