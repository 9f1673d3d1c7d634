"""The database engine and its rules: SQLite tuned for one writer and many readers or PostgreSQL, the store
writer's lock, group commit and batch connection, and the schema's migration state. The tables are in
storage/db.py.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.util import queue as sa_queue

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


def inserted_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT just created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def is_postgresql(url: str) -> bool:
    return sa.engine.make_url(url).get_backend_name() == "postgresql"


def libpq_parameters(url: str) -> dict[str, str]:
    """The libpq connection parameters of a PostgreSQL SQLAlchemy URL (host, port, user, password, dbname and the
    query's own, e.g. `?host=/run/postgresql` or `?sslmode=require`), for psycopg and pg_dump beside the engine."""
    parsed = sa.engine.make_url(url)
    given = {
        "host": parsed.host,
        "port": str(parsed.port) if parsed.port else None,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    query = {key: value if isinstance(value, str) else value[-1] for key, value in parsed.query.items()}
    return {key: str(value) for key, value in {**given, **query}.items() if value}


def create_engine(url: str) -> sa.Engine:
    """An engine with SQLite tuned for one writer and many readers (WAL, foreign keys, busy timeout); each commit
    fsyncs the log (synchronous=FULL) unless its thread is inside `synced_later`. The one place for what differs
    between the backends at run time (migrations/env.py has the migrations')."""
    if not url.startswith("sqlite"):
        engine = sa.create_engine(url)
    elif sa.engine.make_url(url).database in (None, "", ":memory:"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
    else:
        engine = sa.create_engine(url, connect_args={"timeout": 30}, poolclass=_CommitModePool)
    if url.startswith("sqlite"):

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            record.info["synchronous"] = "FULL"

        @sa.event.listens_for(engine, "checkout")
        def _commit_mode(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
            wanted = _wanted_mode()
            if record.info.get("synchronous") != wanted:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA synchronous={wanted}")
                cursor.close()
                record.info["synchronous"] = wanted

        @sa.event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            if _takes_write_lock(conn):
                _driver_execute(conn, "BEGIN IMMEDIATE")
    elif engine.dialect.name == "postgresql":
        sa.event.listen(engine, "before_cursor_execute", _without_nul, retval=True)

        @sa.event.listens_for(engine, "begin")
        def _begin_writer(conn):  # type: ignore[no-untyped-def]
            if _takes_write_lock(conn):
                _driver_execute(conn, f"SELECT pg_advisory_xact_lock({WRITER_LOCK})")

    for end in ("commit", "rollback"):
        sa.event.listen(engine, end, _release_write_lock)
    return engine


def _wanted_mode() -> str:
    """The synchronous setting this thread's commits need: see `synced_later`."""
    return "NORMAL" if getattr(_synced_later, "active", False) else "FULL"


class _ByCommitMode(sa_queue.Queue[Any]):
    """The idle connections of a SQLite pool, handed out preferably in the commit mode the taking thread needs
    (its pool record's info["synchronous"], set by the checkout hook): the store writer (NORMAL) and everyone
    else (FULL) share one pool, and a plain FIFO made nearly every checkout run a PRAGMA to switch it."""

    def _get(self) -> Any:
        wanted = _wanted_mode()
        for record in reversed(self.queue):
            if record.info.get("synchronous") == wanted:
                self.queue.remove(record)
                return record
        return self.queue.popleft()


class _CommitModePool(sa.pool.QueuePool):
    _queue_class = _ByCommitMode


def _takes_write_lock(conn: sa.Connection) -> bool:
    """Inside `writes_first`, the thread's first transaction takes the write lock. One the same thread begins
    while that one is open (a read through another pooled connection, as a directory check inside a write)
    begins without it: waiting for a lock its own thread holds would only end with the busy timeout."""
    if not getattr(_write_first, "active", False) or getattr(_write_first, "holder", None) is not None:
        return False
    _write_first.holder = conn
    return True


def _driver_execute(conn: sa.Connection, sql: str) -> None:
    """Run `sql` on the driver's cursor (at every write transaction's begin: SQLAlchemy's own path costs more
    than the statement)."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


def _release_write_lock(conn: sa.Connection) -> None:
    if getattr(_write_first, "holder", None) is conn:
        _write_first.holder = None


# PostgreSQL's counterpart of SQLite's BEGIN IMMEDIATE for the store writers of every process and node: one
# transaction-scoped advisory lock (released at commit or rollback), taken before the transaction reads what it
# changes (a message's flags before a STORE, the \Deleted messages before an EXPUNGE and the bytes it frees).
WRITER_LOCK = 0x736D622D7374  # "smb-st": any constant other applications on the database do not use


def _without_nul(_conn, _cursor, statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL (SQLite's can), yet message headers and form fields may carry one: every
    string parameter has it replaced by U+FFFD, as a decoder marks what it cannot represent, rather than a
    delivery failing on a header. Binary columns (bytes) pass unchanged. An INSERT of many rows with RETURNING
    (insertmanyvalues) arrives flagged as executemany with one mapping for all its rows."""
    if executemany and not isinstance(parameters, dict):
        return statement, [nul_free(row) for row in parameters]
    return statement, nul_free(parameters)


def nul_free(row: Any) -> Any:
    """One parameter set (mapping or sequence) with NUL in its strings replaced by U+FFFD (see _without_nul)."""
    if isinstance(row, dict):
        if any(isinstance(v, str) and "\x00" in v for v in row.values()):
            return {k: v.replace("\x00", "\ufffd") if isinstance(v, str) else v for k, v in row.items()}
        return row
    if isinstance(row, list | tuple) and any(isinstance(v, str) and "\x00" in v for v in row):
        return type(row)(v.replace("\x00", "\ufffd") if isinstance(v, str) else v for v in row)
    return row


_write_first = threading.local()  # set on the store writer (storage/runner.py): its transactions lock first


@contextlib.contextmanager
def writes_first() -> Iterator[None]:
    """This thread's SQLite transactions inside the block take the database's write lock when they begin
    (BEGIN IMMEDIATE), before they read what they are about to change.

    Without it the driver begins a transaction at its first write, so what was read before (a message's flags,
    a counter) may have been changed meanwhile by another process, and its update would be lost. Several worker
    processes each have a writer thread; a writer waiting for another's lock waits up to the busy timeout
    (30 s) instead of failing with SQLITE_BUSY. On PostgreSQL they take one advisory lock (WRITER_LOCK) instead:
    the writers of every node then run one at a time, as SQLite's do."""
    _write_first.active = True
    _write_first.holder = None
    try:
        yield
    finally:
        _write_first.active = False
        _write_first.holder = None


_synced_later = threading.local()  # set on the store writer while it runs a batch (storage/runner.py)


@contextlib.contextmanager
def synced_later() -> Iterator[None]:
    """Group commit: this thread's commits inside the block leave the log unsynced (WAL with synchronous=NORMAL
    writes the commit, in order, without fsync); the caller calls `sync_log` once for all of them before it
    tells anyone that one happened, which makes them exactly as durable as synchronous=FULL would have."""
    _synced_later.active = True
    try:
        yield
    finally:
        _synced_later.active = False


_batch = threading.local()  # the store writer's connection for the batch it runs (storage/runner.py)


@contextlib.contextmanager
def one_connection(engine: sa.Engine) -> Iterator[None]:
    """This thread's `transaction`s inside the block run one after another on one pooled connection, taken at
    the first: the store writer's batch checks a connection out once, not once per write command (the checkout,
    its events and the check-in cost more than a flag change's statements)."""
    _batch.engine, _batch.conn = engine, None
    try:
        yield
    finally:
        conn, _batch.engine, _batch.conn = _batch.conn, None, None
        if conn is not None:
            conn.close()


@contextlib.contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """`engine.begin()`, on the thread's batch connection inside `one_connection` (the same BEGIN, events and
    commit: only the checkout is shared). A failed transaction lets its connection go: the next takes a new one."""
    if getattr(_batch, "engine", None) is not engine or (_batch.conn is not None and _batch.conn.in_transaction()):
        with engine.begin() as conn:
            yield conn
        return
    if _batch.conn is None:
        _batch.conn = engine.connect()
    conn = _batch.conn
    try:
        with conn.begin():
            yield conn
    except BaseException:
        _batch.conn = None
        conn.close()
        raise


class WriterTurns:
    """The store writers of several processes take turns on one SQLite database, a whole batch at a time.

    SQLite's own lock makes a writer that finds it taken poll, sleeping up to 100 ms between tries: under two
    busy workers most of a writer's time went to those sleeps. A flock on a file beside the database is handed
    over by the kernel the moment it is released. Held around a batch of the store writer (storage/runner.py);
    other writers (the command line) still meet SQLite's lock and its busy timeout. Not SQLite: a no-op.
    """

    def __init__(self, engine: sa.Engine) -> None:
        database = engine.url.database
        self._path = None
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            self._path = f"{database}-writers.lock"
        self._fd: int | None = None

    def __enter__(self) -> None:
        if self._path is not None and self._fd is None:  # made at the first write, beside the database
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def sync_log(engine: sa.Engine) -> None:
    """fsync SQLite's write-ahead log: every commit made so far survives a crash. No log file: every commit is
    in the database file already (its last connection checkpointed it, with fsync); not SQLite: nothing to do."""
    if engine.dialect.name != "sqlite" or not engine.url.database or engine.url.database == ":memory:":
        return
    try:
        fd = os.open(f"{engine.url.database}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# alembic (with mako) is imported by the functions below only (and psycopg where PostgreSQL is used): a worker
# process never migrates, and the imports cost ~10 MB (psycopg 8 MB) of memory per process.


def _alembic_config(engine: sa.Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def is_current(engine: sa.Engine) -> bool:
    """True when the database is at the newest migration. Every start asks, so this reads the migrations' text
    (`head_revision`) and the version row without alembic: importing it and loading every migration made the
    serving process ~11 MB larger for a question that is nearly always "yes"."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return versions == [head_revision()]


_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:["'](\w+)["']|None)""", re.MULTILINE)


def head_revision() -> str:
    """The newest migration: the revision that no migration names as its down_revision (they form one line)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for key, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            (revisions if key == "revision" else parents).add(value)
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one: {sorted(heads)}")
    return heads.pop()


def migrate(engine: sa.Engine) -> None:
    """Apply every pending migration."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")
