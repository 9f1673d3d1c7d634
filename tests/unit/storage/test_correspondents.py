"""The CRM's last contact: one row per business and address, whose date only moves forward (one upsert for a
whole batch, on SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from smb_suite.storage import database, db
from smb_suite.storage.correspondents import Correspondents


def test_the_last_contact_keeps_the_latest_date_per_business_and_address(database_url: str) -> None:
    engine = database.create_engine(database_url)
    db.metadata.create_all(engine)
    try:
        with engine.begin() as conn:
            for tenant in (1, 2):
                conn.execute(sa.insert(db.tenants).values(id=tenant, name=f"t{tenant}", created_at=0))
        found = Correspondents(engine)
        buyer = "buyer@client.example"
        found.record([(1, "Buyer@Client.example", 100), (1, buyer, 50), (2, buyer, 7)])
        found.record([(1, "buyer@client.example", 80), (1, "new@client.example", 90), (1, "not an address", 99)])
        assert found.last_contacts(1, ["BUYER@client.example", "new@client.example", "x@y.z"]) == {
            "buyer@client.example": 100,
            "new@client.example": 90,
        }
        found.record([(1, "buyer@client.example", 120)])
        assert found.last_contacts(1, ["buyer@client.example"]) == {"buyer@client.example": 120}
        assert found.last_contacts(2, ["buyer@client.example"]) == {"buyer@client.example": 7}
    finally:
        engine.dispose()
