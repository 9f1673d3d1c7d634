"""SQLite's commit mode per connection: a commit outside the store writer's batch fsyncs the log itself
(synchronous=FULL); inside `synced_later` it leaves that to the batch's one `sync_log` (NORMAL). Both kinds of
connection wait in one pool; each taker gets the mode it needs, whichever connection it is given."""

from __future__ import annotations

import contextlib
from pathlib import Path

import sqlalchemy as sa

from smb_suite.storage import database

FULL, NORMAL = 2, 1  # what PRAGMA synchronous answers


def _mode(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())


def test_every_connection_commits_in_the_mode_its_thread_needs(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'modes.db'}")
    for _ in range(3):  # connections of both modes left idle in the pool, in every order
        with contextlib.ExitStack() as stack:
            with database.synced_later():
                writers = [stack.enter_context(engine.connect()) for _ in range(2)]
                assert [_mode(conn) for conn in writers] == [NORMAL, NORMAL]
            readers = [stack.enter_context(engine.connect()) for _ in range(3)]
            assert [_mode(conn) for conn in readers] == [FULL, FULL, FULL]
        with engine.connect() as conn:
            assert _mode(conn) == FULL
        with database.synced_later(), engine.connect() as conn:
            assert _mode(conn) == NORMAL
    engine.dispose()
