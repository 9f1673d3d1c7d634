"""A node repairs the shared files at start only when no other node serves (storage/serving.py): on PostgreSQL
every serving node holds a shared advisory lock, and a starting node repairs only if it can take it exclusively."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from smb_suite.storage import database
from smb_suite.storage.serving import ServingMark
from tests.pgserver import Postgres
from tests.polling import wait_for

WAITING = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")


def test_a_node_starting_beside_a_serving_one_does_not_repair(postgres: Postgres) -> None:
    engine = database.create_engine(postgres.create_database(migrated=True))
    first, second = ServingMark(engine), ServingMark(engine)
    assert first.try_alone()
    first.serve()
    assert not second.try_alone()
    second.serve()  # serves beside the first, both holding the lock shared
    first.close()
    third = ServingMark(engine)
    assert not third.try_alone()  # the second still serves
    third.close()
    second.close()
    last = ServingMark(engine)
    assert last.try_alone()  # nobody serves any more: the next start repairs
    last.close()
    engine.dispose()


def test_a_node_starting_while_another_repairs_waits_for_the_repairs_to_end(postgres: Postgres) -> None:
    engine = database.create_engine(postgres.create_database(migrated=True))
    repairing, starting = ServingMark(engine), ServingMark(engine)
    assert repairing.try_alone()
    order: list[str] = []
    assert not starting.try_alone()

    def start() -> None:
        starting.serve()
        order.append("second serves")

    waiter = threading.Thread(target=start)
    waiter.start()
    with engine.connect() as observer:
        wait_for("the starting node to wait for the repairs", lambda: observer.execute(WAITING).scalar_one() == 1)
    order.append("repairs done")
    repairing.serve()
    waiter.join(timeout=60)
    assert order == ["repairs done", "second serves"]
    repairing.close()
    starting.close()
    engine.dispose()


def test_with_sqlite_the_only_server_always_repairs(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'smb-suite.db'}")
    mark = ServingMark(engine)
    assert mark.try_alone()
    mark.serve()
    mark.close()
    engine.dispose()
