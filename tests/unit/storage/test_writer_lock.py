"""On PostgreSQL the store writers of every process and node take turns, as SQLite's BEGIN IMMEDIATE makes them:
a writer's transaction that reads what it changes (flags before a STORE) cannot interleave with another's."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import sqlalchemy as sa

from smb_suite.storage import database, db
from tests.pgserver import Postgres
from tests.polling import wait_for


@contextlib.contextmanager
def writer(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction begun as the store writer begins its own (only the BEGIN is inside `writes_first`)."""
    with engine.connect() as conn:
        with database.writes_first():
            conn.begin()
        yield conn
        conn.commit()


def test_a_second_writer_waits_until_the_first_commits(postgres: Postgres) -> None:
    url = postgres.create_database(migrated=True)
    first_node, second_node = database.create_engine(url), database.create_engine(url)
    order: list[str] = []

    def second_writer() -> None:
        with writer(second_node) as conn:
            order.append("second began")
            conn.execute(sa.select(1))

    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    with writer(first_node) as conn:
        conn.execute(sa.select(1))
        other = threading.Thread(target=second_writer)
        other.start()
        with first_node.connect() as observer:
            wait_for("the second writer to wait for the lock", lambda: observer.execute(waiting).scalar_one() == 1)
        order.append("first committing")
    other.join(timeout=60)
    assert order == ["first committing", "second began"]
    first_node.dispose()
    second_node.dispose()


def test_other_transactions_do_not_wait_for_a_writer(postgres: Postgres) -> None:
    url = postgres.create_database(migrated=True)
    engine = database.create_engine(url)
    with writer(engine):
        reader = engine.connect()
        assert reader.execute(sa.select(sa.func.count()).select_from(db.tenants)).scalar_one() == 0
        reader.close()
    engine.dispose()
