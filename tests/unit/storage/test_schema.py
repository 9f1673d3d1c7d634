"""The migrations build exactly the schema smb_suite/storage/db.py declares (a column added to one and not the other
would surface only on an upgraded installation), on SQLite and on PostgreSQL (`backend`, tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from smb_suite.storage import database, db


def test_migrations_match_the_declared_schema(empty_database_url: str) -> None:
    engine = database.create_engine(empty_database_url)
    assert not database.is_current(engine)
    database.migrate(engine)
    assert database.is_current(engine)
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
    engine.dispose()


def test_the_newest_migration_read_from_the_scripts_text_is_alembics_head() -> None:
    """database.is_current reads the head without alembic (worker memory); it must be the one alembic migrates to."""
    assert database.head_revision() == ScriptDirectory(str(database.MIGRATIONS)).get_current_head()


def test_every_migration_can_be_undone_and_done_again(empty_database_url: str) -> None:
    engine = database.create_engine(empty_database_url)
    database.migrate(engine)
    command.downgrade(database._alembic_config(engine), "base")
    with engine.connect() as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"alembic_version"}
    database.migrate(engine)
    assert database.is_current(engine)
    engine.dispose()


def test_a_deleted_rows_id_is_never_given_again(empty_database_url: str) -> None:
    """Issue 11 on either backend: SQLite's AUTOINCREMENT, PostgreSQL's sequences (never handed out twice)."""
    engine = database.create_engine(empty_database_url)
    database.migrate(engine)
    with engine.begin() as connection:
        first = database.inserted_id(connection.execute(sa.insert(db.tenants).values(name="a", created_at=0)))
        connection.execute(sa.delete(db.tenants).where(db.tenants.c.id == first))
        again = database.inserted_id(connection.execute(sa.insert(db.tenants).values(name="b", created_at=0)))
    assert again > first
    engine.dispose()


NEVER_REUSED = ("tenants", "domains", "users", "mailboxes", "messages")


def _table_sql(engine: sa.Engine, table: str) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE name = '{table}'").scalar_one())


def test_ids_that_key_paths_and_caches_are_never_reused(tmp_path: Path) -> None:
    """Issue 11: a folder created after a DELETE must not get the deleted folder's id (AUTOINCREMENT)."""
    engine = database.create_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    database.migrate(engine)
    for table in NEVER_REUSED:
        assert "AUTOINCREMENT" in _table_sql(engine, table), table
    plain = database.create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    db.metadata.create_all(plain)
    for table in NEVER_REUSED:
        assert "AUTOINCREMENT" in _table_sql(plain, table), table
    with engine.begin() as connection:
        tenant = database.inserted_id(connection.execute(sa.insert(db.tenants).values(name="a", created_at=0)))
        connection.execute(sa.delete(db.tenants).where(db.tenants.c.id == tenant))
        again = database.inserted_id(connection.execute(sa.insert(db.tenants).values(name="b", created_at=0)))
    assert again > tenant
    engine.dispose()
    plain.dispose()


def test_the_autoincrement_migration_keeps_every_row_and_cascades_nothing(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = database._alembic_config(engine)
    command.upgrade(config, "0008")
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO tenants (id, name, created_at) VALUES (1, 'a', 0), (5, 'b', 0)")
        run("UPDATE tenants SET partner_id = 1 WHERE id = 5")
        run("INSERT INTO domains (id, name, tenant_id, created_at) VALUES (3, 'a.test', 5, 0)")
        run("INSERT INTO users (id, domain_id, local_part, password_hash, created_at) VALUES (7, 3, 'x', 'h', 0)")
        run("INSERT INTO app_passwords (user_id, label, password_hash, created_at) VALUES (7, 'phone', 'h', 0)")
        run("INSERT INTO mailboxes (id, user_id, name, uidvalidity, uidnext) VALUES (9, 7, 'INBOX', 1, 2)")
        run("INSERT INTO messages (id, mailbox_id, uid, filename, size, internaldate) VALUES (11, 9, 1, 'cur/k', 3, 0)")
        run(
            'INSERT INTO message_meta (message_id, envelope, bodystructure, body, subject, sender, "to", cc, bcc) '
            "VALUES (11, x'00', x'00', x'00', 's', 'f', 't', '', '')"
        )
    command.upgrade(config, "0011")
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        assert run("SELECT id, partner_id FROM tenants ORDER BY id").all() == [(1, None), (5, 1)]
        assert run("SELECT id, tenant_id FROM domains").all() == [(3, 5)]
        assert run("SELECT id, domain_id, local_part FROM users").all() == [(7, 3, "x")]
        assert run("SELECT user_id FROM app_passwords").all() == [(7,)]
        assert run("SELECT id, user_id, uidnext FROM mailboxes").all() == [(9, 7, 2)]
        assert run("SELECT id, mailbox_id, filename FROM messages").all() == [(11, 9, "cur/k")]
        assert run("SELECT message_id, subject FROM message_meta").all() == [(11, "s")]
        assert run("PRAGMA foreign_keys").scalar_one() == 1
        assert run("PRAGMA foreign_key_check").all() == []
    database.migrate(engine)
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        assert run("SELECT count(*) FROM message_meta").scalar_one() == 0  # 0012: summaries rendered again
        assert compare_metadata(MigrationContext.configure(connection), db.metadata) == []
    with engine.begin() as connection:
        # the first new row after the migration continues after the highest id kept
        assert (
            connection.exec_driver_sql(
                "INSERT INTO mailboxes (user_id, name, uidvalidity) VALUES (7, 'Sent', 2) RETURNING id"
            ).scalar_one()
            == 10
        )
    engine.dispose()


def test_existing_folders_and_messages_get_distinct_object_ids_and_a_save_date(empty_database_url: str) -> None:
    """Migration 0013 (RFC 8474 MAILBOXID/EMAILID, RFC 8514 SAVEDATE) on rows stored before it."""
    engine = database.create_engine(empty_database_url)
    command.upgrade(database._alembic_config(engine), "0012")
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO tenants (id, name, created_at) VALUES (1, 'a', 0)")
        run("INSERT INTO domains (id, name, tenant_id, created_at) VALUES (3, 'a.test', 1, 0)")
        run("INSERT INTO users (id, domain_id, local_part, password_hash, created_at) VALUES (7, 3, 'x', 'h', 0)")
        run("INSERT INTO mailboxes (id, user_id, name, uidvalidity) VALUES (9, 7, 'INBOX', 1), (10, 7, 'Sent', 2)")
        run(
            "INSERT INTO messages (id, mailbox_id, uid, filename, size, internaldate) "
            "VALUES (11, 9, 1, 'cur/a', 3, 1000), (12, 9, 2, 'cur/b', 3, 2000)"
        )
    database.migrate(engine)
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        folders = run("SELECT object_id FROM mailboxes").scalars().all()
        messages = run("SELECT email_id, saved_at FROM messages ORDER BY id").all()
    assert len(set(folders)) == 2 and all(f.startswith("M") and len(f) == 25 for f in folders)
    assert messages[0].email_id != messages[1].email_id
    assert [m.saved_at for m in messages] == [1000, 2000]
    engine.dispose()


def test_subscribed_folders_become_subscriptions_and_nothing_is_recent_after_upgrading(empty_database_url: str) -> None:
    """Migration 0017 on rows stored before it (a boolean column read and dropped, an INSERT ... SELECT)."""
    engine = database.create_engine(empty_database_url)
    command.upgrade(database._alembic_config(engine), "0016")
    with engine.begin() as connection:
        run = connection.exec_driver_sql
        run("INSERT INTO tenants (id, name, created_at) VALUES (1, 'a', 0)")
        run("INSERT INTO domains (id, name, tenant_id, created_at) VALUES (3, 'a.test', 1, 0)")
        run("INSERT INTO users (id, domain_id, local_part, password_hash, created_at) VALUES (7, 3, 'x', 'h', 0)")
        connection.execute(
            sa.text(
                "INSERT INTO mailboxes (id, user_id, name, uidvalidity, uidnext, subscribed) "
                "VALUES (9, 7, 'INBOX', 1, 5, :yes), (10, 7, 'Old', 2, 1, :no)"
            ),
            {"yes": True, "no": False},
        )
    database.migrate(engine)
    with engine.connect() as connection:
        run = connection.exec_driver_sql
        assert run("SELECT user_id, name FROM folder_subscriptions").all() == [(7, "INBOX")]
        assert run("SELECT id, recent_from FROM mailboxes ORDER BY id").all() == [(9, 5), (10, 1)]
    engine.dispose()


def test_many_rows_inserted_at_once_return_their_ids_in_order_with_nul_replaced(database_url: str) -> None:
    """An INSERT of many rows with RETURNING (tenant import) on both backends; PostgreSQL's text holds no NUL."""
    engine = database.create_engine(database_url)
    if not database.is_current(engine):
        database.migrate(engine)  # SQLite's file is made here (PostgreSQL's comes migrated)
    try:
        rows = [{"name": f"shop{n}\x00", "tier": "starter", "created_at": n} for n in range(3)]
        with engine.begin() as conn:
            insert = sa.insert(db.tenants).returning(db.tenants.c.id, sort_by_parameter_order=True)
            ids = conn.execute(insert, rows).scalars().all()
            names = {row.id: row.name for row in conn.execute(sa.select(db.tenants.c.id, db.tenants.c.name))}
    finally:
        engine.dispose()
    assert [names[key].rstrip("\x00\ufffd") for key in ids] == ["shop0", "shop1", "shop2"]
