"""The migrations build exactly the schema smb_suite/db.py declares (a column added to one and not the other
would surface only on an upgraded installation)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from smb_suite import db


def test_migrations_match_the_declared_schema(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    db.migrate(engine)
    assert db.is_current(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
    engine.dispose()
