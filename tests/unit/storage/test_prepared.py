"""Prepared statements (storage/prepared.py) behave as SQLAlchemy's execution of the same statement, on both
backends: same rows, the caller's transaction, the driver's errors wrapped the same way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from smb_suite.storage.prepared import Prepared
from tests.scratchtables import engine_with

metadata = sa.MetaData()
notes = sa.Table(
    "prepared_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.Integer, nullable=False),
    sa.Column("text", sa.String(100), nullable=False),
    sa.Column("blob", sa.LargeBinary, nullable=True),
    sa.Column("counter", sa.BigInteger, nullable=False, server_default="0"),
)
ADD = Prepared(
    sa.insert(notes)
    .values(owner=sa.bindparam("owner"), text=sa.bindparam("text"), blob=sa.bindparam("blob"))
    .returning(notes.c.id)
)
BUMP = Prepared(
    sa.update(notes)
    .where(notes.c.owner == sa.bindparam("owner"))
    .values(counter=notes.c.counter + 1)
    .returning(notes.c.id, notes.c.counter)
)
OF_OWNER = Prepared(
    sa.select(notes.c.id, notes.c.text).where(notes.c.owner == sa.bindparam("owner")).order_by(notes.c.id)
)
RENAME = Prepared(sa.update(notes).where(notes.c.id == sa.bindparam("key")).values(text=sa.bindparam("text")))


@pytest.fixture(scope="module")
def engine(module_database: str) -> Iterator[sa.Engine]:
    with engine_with(module_database, metadata) as engine:
        yield engine


@pytest.fixture
def owner(engine: sa.Engine, request: pytest.FixtureRequest) -> int:
    """A number of its own for each test: they share the module's table."""
    return abs(hash(request.node.name)) % 1_000_000


def test_rows_are_those_sqlalchemy_reads(engine: sa.Engine, owner: int) -> None:
    with engine.begin() as conn:
        first = ADD.scalar(conn, {"owner": owner, "text": "first", "blob": b"\x00\xff"})
        second = ADD.scalar(conn, {"owner": owner, "text": "second", "blob": None})
        assert OF_OWNER.rows(conn, {"owner": owner}) == [(first, "first"), (second, "second")]
        expected = conn.execute(sa.select(notes.c.id, notes.c.text, notes.c.blob).where(notes.c.owner == owner))
        assert [tuple(row) for row in expected] == [(first, "first", b"\x00\xff"), (second, "second", None)]
        assert OF_OWNER.first(conn, {"owner": -1}) is None
        assert OF_OWNER.scalar(conn, {"owner": -1}) is None


def test_values_sqlalchemy_binds_itself_are_bound(engine: sa.Engine, owner: int) -> None:
    """`counter + 1`: the 1 is a parameter SQLAlchemy fills in; the caller passes only its own."""
    with engine.begin() as conn:
        note = ADD.scalar(conn, {"owner": owner, "text": "n", "blob": None})
        assert BUMP.one(conn, {"owner": owner}) == (note, 1)
        assert BUMP.one(conn, {"owner": owner}) == (note, 2)


def test_changes_belong_to_the_callers_transaction(engine: sa.Engine, owner: int) -> None:
    with engine.connect() as conn:
        with conn.begin() as transaction:
            ADD.run(conn, {"owner": owner, "text": "undone", "blob": None})
            transaction.rollback()
        assert OF_OWNER.rows(conn, {"owner": owner}) == []
        assert conn.in_transaction()  # the read began one, as SQLAlchemy's first statement would
        ADD.run(conn, {"owner": owner, "text": "kept", "blob": None})
        conn.commit()
    with engine.connect() as conn:
        assert [text for _, text in OF_OWNER.rows(conn, {"owner": owner})] == ["kept"]


def test_run_counts_changed_rows_and_run_many_runs_each_set(engine: sa.Engine, owner: int) -> None:
    with engine.begin() as conn:
        ids = [ADD.scalar(conn, {"owner": owner, "text": str(n), "blob": None}) for n in range(3)]
        RENAME.run_many(conn, [{"key": key, "text": f"renamed {key}"} for key in ids])
        assert OF_OWNER.rows(conn, {"owner": owner}) == [(key, f"renamed {key}") for key in ids]
        assert RENAME.run(conn, {"key": -1, "text": "nobody"}) == 0
        assert BUMP.run(conn, {"owner": owner}) == 3  # with RETURNING too


def test_a_nul_in_text_is_stored_as_sqlalchemy_stores_it(engine: sa.Engine, owner: int) -> None:
    """PostgreSQL text cannot hold NUL: database.create_engine replaces it for SQLAlchemy's statements, so here too."""
    with engine.begin() as conn:
        ADD.run(conn, {"owner": owner, "text": "a\x00b", "blob": None})
        conn.execute(sa.insert(notes).values(owner=owner, text="a\x00b"))
        texts = [text for _, text in OF_OWNER.rows(conn, {"owner": owner})]
    assert texts[0] == texts[1]
    assert texts[0] in {"a\x00b", "a\ufffdb"}


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(engine: sa.Engine, owner: int) -> None:
    with engine.begin() as conn:
        note = ADD.scalar(conn, {"owner": owner, "text": "n", "blob": None})
    duplicate = Prepared(sa.insert(notes).values(id=sa.bindparam("id"), owner=sa.bindparam("owner"), text="x"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        duplicate.run(conn, {"id": note, "owner": owner})


def test_a_statement_compiled_anew_per_call_is_refused(engine: sa.Engine) -> None:
    expanding = Prepared(sa.select(notes.c.id).where(notes.c.id.in_(sa.bindparam("ids", expanding=True))))
    with engine.connect() as conn, pytest.raises(ValueError, match="expanding"):
        expanding.rows(conn, {"ids": [1, 2]})
