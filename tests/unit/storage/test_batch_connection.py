"""The store writer's batch runs its transactions on one connection (database.one_connection,
database.transaction): each still commits or rolls back on its own, as `engine.begin()` would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from smb_suite.storage import database
from tests.scratchtables import engine_with

metadata = sa.MetaData()
marks = sa.Table("batch_marks", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("tag", sa.Text))


@pytest.fixture(scope="module")
def engine(module_database: str) -> Iterator[sa.Engine]:
    with engine_with(module_database, metadata) as engine:
        yield engine


def tags(engine: sa.Engine, tag: str) -> int:
    """How many rows of `tag` another connection sees (committed ones)."""
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).where(marks.c.tag == tag)).scalar_one())


def test_a_batchs_transactions_share_one_checkout_and_each_commits(engine: sa.Engine) -> None:
    seen: list[object] = []
    sa.event.listen(engine, "checkout", lambda *_: seen.append(1))
    with database.one_connection(engine):
        for _ in range(3):
            with database.transaction(engine) as conn:
                conn.execute(sa.insert(marks).values(tag="batch"))
            assert tags(engine, "batch") == len(seen) - 1  # committed: seen by the reader (one checkout each)
    assert tags(engine, "batch") == 3
    assert len(seen) == 1 + 4  # the batch's, and the four readers'


def test_a_failed_transaction_is_rolled_back_and_the_next_one_commits(engine: sa.Engine) -> None:
    with database.one_connection(engine):
        with pytest.raises(ZeroDivisionError), database.transaction(engine) as conn:
            conn.execute(sa.insert(marks).values(tag="failed"))
            raise ZeroDivisionError
        with database.transaction(engine) as conn:
            conn.execute(sa.insert(marks).values(tag="after"))
    assert (tags(engine, "failed"), tags(engine, "after")) == (0, 1)


def test_a_transaction_begun_inside_another_takes_its_own_connection(engine: sa.Engine) -> None:
    with database.one_connection(engine), database.transaction(engine) as outer:
        outer.execute(sa.insert(marks).values(tag="outer"))
        with database.transaction(engine) as inner:
            assert inner is not outer
            assert inner.execute(sa.select(sa.func.count()).where(marks.c.tag == "outer")).scalar_one() == 0
    assert tags(engine, "outer") == 1


def test_outside_a_batch_a_transaction_is_engine_begin(engine: sa.Engine) -> None:
    with database.transaction(engine) as conn:
        conn.execute(sa.insert(marks).values(tag="alone"))
    assert tags(engine, "alone") == 1
