"""Tables of a test's own beside the schema, for storage helpers tested on statements of their own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa

from smb_suite.storage import database


@contextlib.contextmanager
def engine_with(url: str, metadata: sa.MetaData) -> Iterator[sa.Engine]:
    """An engine made as the daemon makes it (database.create_engine), with `metadata`'s tables created and dropped."""
    engine = database.create_engine(url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        metadata.drop_all(engine)
        engine.dispose()
