"""Online copies of the database for backups, one backend per kind of database (docs/ARCHITECTURE.md, backups).

A backend makes a consistent copy while the daemon writes, and lets the caller read that same snapshot (which
message files its rows name) in the same step, so the files a backup takes are exactly those of its rows.
SQLite copies through its online backup API and reads the copy. PostgreSQL: a REPEATABLE READ transaction exports
its snapshot, `pg_dump --snapshot` writes the copy from it (custom format), `read` runs in that same transaction;
`check` reads every block of the archive back (pg_restore to /dev/null), `restore` runs pg_restore into the
configured database, which must exist and hold no table.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import sqlalchemy as sa

from smb_suite.errors import BackupError
from smb_suite.storage import database, db

T = TypeVar("T")
BUSY_TIMEOUT = 30.0  # seconds the copy waits for the daemon's writer to let go of a lock


@dataclass(frozen=True, slots=True)
class MessageRow:
    """A message file a database names: Maildir `filename` of folder `mailbox_id` of user `user_id`."""

    user_id: int
    mailbox_id: int
    inbox: bool
    filename: str


@dataclass(frozen=True, slots=True)
class Contents:
    """What a database snapshot refers to on disk, and the schema revision it is at."""

    schema: str
    messages: list[MessageRow]
    queued: list[str]  # spool file names of the outbound queue


class DatabaseBackend(Protocol):
    """How one kind of database is copied, checked and put back."""

    @property
    def name(self) -> str: ...

    @property
    def filename(self) -> str:
        """The copy's file name inside a backup."""
        ...

    def dump(self, target: Path, read: Callable[[sa.Connection], T]) -> T:
        """Write a consistent copy to `target` while others write; return `read` run on that same snapshot."""
        ...

    def restore(self, copy: Path) -> None:
        """Make the copy the database this backend was made for (which must not exist yet)."""
        ...


class SqliteBackend:
    """SQLite through its online backup API: one read transaction, so writers are never blocked (WAL)."""

    name = "sqlite"
    filename = "smb-suite.db"

    def __init__(self, path: Path) -> None:
        self.path = path

    def dump(self, target: Path, read: Callable[[sa.Connection], T]) -> T:
        source = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
        try:
            copy = sqlite3.connect(target)
            try:
                source.backup(copy)  # all pages in one step: one consistent snapshot
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                copy.close()
        finally:
            source.close()
        engine = sa.create_engine(f"sqlite:///{target}")
        try:
            with engine.connect() as conn:
                return read(conn)
        finally:
            engine.dispose()

    @staticmethod
    def check(copy: Path) -> str | None:
        """What is wrong with a copy (it does not open, fails PRAGMA integrity_check), or None."""
        if not copy.is_file():
            return f"{copy}: the database copy is missing"
        try:
            connection = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
            try:
                rows = connection.execute("PRAGMA integrity_check").fetchall()
            finally:
                connection.close()
        except sqlite3.Error as error:
            return f"{copy}: the database copy does not open ({error})"
        if rows != [("ok",)]:
            return f"{copy}: the database copy fails its integrity check ({'; '.join(str(r[0]) for r in rows[:5])})"
        return None

    def restore(self, copy: Path) -> None:
        if self.path.exists():
            raise BackupError(f"{self.path} exists: restore only into a new database")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(copy, self.path)


class PostgresBackend:
    """PostgreSQL through pg_dump of an exported snapshot: the daemon (every node) keeps writing meanwhile."""

    name = "postgresql"
    filename = "smb-suite.pgdump"

    def __init__(self, url: str) -> None:
        self.url = url

    def dump(self, target: Path, read: Callable[[sa.Connection], T]) -> T:
        engine = database.create_engine(self.url)
        try:
            with engine.connect() as conn:
                conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                with conn.begin():
                    # valid while this transaction lasts: pg_dump sees exactly the rows `read` sees
                    snapshot = conn.execute(sa.text("SELECT pg_export_snapshot()")).scalar_one()
                    _pg_tool("pg_dump", self.url, "--format=custom", f"--snapshot={snapshot}", f"--file={target}")
                    return read(conn)
        finally:
            engine.dispose()

    @staticmethod
    def check(copy: Path) -> str | None:
        """What is wrong with a copy (pg_restore cannot read all of it back), or None."""
        if not copy.is_file():
            return f"{copy}: the database copy is missing"
        try:
            _pg_tool("pg_restore", None, "--file=/dev/null", str(copy))
        except BackupError as error:
            return f"{copy}: the database copy does not read back ({error})"
        return None

    def restore(self, copy: Path) -> None:
        engine = database.create_engine(self.url)
        try:
            with engine.connect() as conn:
                tables = sa.inspect(conn).get_table_names()
        finally:
            engine.dispose()
        if tables:
            raise BackupError("the configured PostgreSQL database has tables: restore only into an empty database")
        _pg_tool("pg_restore", self.url, "--no-owner", "--exit-on-error", "--single-transaction", str(copy))


def _pg_tool(program: str, url: str | None, *args: str) -> None:
    """Run pg_dump or pg_restore (Debian: postgresql-client) on the database of `url`; the password goes in the
    environment, never on a command line others can read."""
    found = shutil.which(program)
    if found is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client)")
    env = dict(os.environ)
    command = [found, *args]
    if url is not None:
        parameters = database.libpq_parameters(url)
        password = parameters.pop("password", None)
        if password is not None:
            env["PGPASSWORD"] = password
        from psycopg.conninfo import make_conninfo  # psycopg only where PostgreSQL is used (db.py says why)

        command.insert(1, "--dbname=" + make_conninfo("", **parameters))
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[-500:]}")


CHECKS = {SqliteBackend.name: SqliteBackend.check, PostgresBackend.name: PostgresBackend.check}


def check_copy(backend: str, copy: Path) -> str | None:
    """What is wrong with the database copy of a backup made by `backend`, or None."""
    check = CHECKS.get(backend)
    if check is None:
        return f"{copy}: a {backend} database copy, which this version cannot check"
    return check(copy)


def known_schema(revision: str) -> bool:
    """Whether this version's migrations know `revision` (a copy made by a newer version does not start here)."""
    from alembic.script import ScriptDirectory  # alembic only to migrate or check a schema (db.py says why)
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory(str(database.MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False


def backend_for(url: str) -> DatabaseBackend:
    """The backend for the configured database URL."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return SqliteBackend(Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        return PostgresBackend(url)
    raise BackupError(f"backups of {parsed.get_backend_name()} databases are not supported (SQLite, PostgreSQL)")


def contents(conn: sa.Connection) -> Contents:
    """The schema revision, the message files and the spooled outbound mail a database refers to."""
    schema = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    m, b = db.messages.c, db.mailboxes.c
    rows = conn.execute(
        sa.select(b.user_id, b.id, b.name, m.filename).join(db.mailboxes, b.id == m.mailbox_id).order_by(m.id)
    ).all()
    queued = conn.execute(sa.select(db.queue_messages.c.filename).order_by(db.queue_messages.c.id)).scalars()
    return Contents(
        str(schema),
        [MessageRow(int(user), int(box), name == "INBOX", str(filename)) for user, box, name, filename in rows],
        [str(name) for name in queued],
    )


def read_consistently(engine: sa.Engine, read: Callable[[sa.Connection], T]) -> T:
    """Run `read` in one read-only transaction, so every row it reads belongs to the same moment while the
    daemon keeps writing: SQLite's BEGIN holds one snapshot of the WAL from the first read to the end (the
    driver itself only begins before a write); PostgreSQL's REPEATABLE READ, as `PostgresBackend.dump`."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            snapshot = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with snapshot.begin():
                return read(snapshot)
        conn.exec_driver_sql("BEGIN")
        try:
            return read(conn)
        finally:
            conn.rollback()
