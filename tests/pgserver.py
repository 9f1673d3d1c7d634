"""A private PostgreSQL for the tests: Debian's binaries, a cluster in a temporary folder, reached only through a
Unix socket in that folder (no port to collide with the machine's or another test process's), never a system
service. PostgreSQL refuses to run as root: as root the cluster runs as the `postgres` user Debian's package made.

One cluster per test session (`Postgres.start`), one database per test module (`create_database`); the cluster
trades durability for speed (fsync off): a test never survives a crash of the machine anyway.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import sqlalchemy as sa

from smb_suite.storage import database

BIN = Path("/usr/lib/postgresql/15/bin")
SUPERUSER = "smb"
SERVICE_USER = "postgres"  # made by Debian's postgresql package; the server runs as it when the tests run as root


def available() -> bool:
    return (BIN / "initdb").exists()


@dataclass
class Postgres:
    """A running private cluster; `url(name)` is the SQLAlchemy URL of one of its databases."""

    folder: Path
    databases: int = 0
    migrated: str = ""  # the template database at the newest migration, once made

    @property
    def socket_dir(self) -> Path:
        return self.folder / "socket"

    @classmethod
    def start(cls) -> Postgres:
        if not available():
            raise AssertionError(f"PostgreSQL is not installed ({BIN}): apt-get install -y postgresql")
        server = cls(Path(tempfile.mkdtemp(prefix="smb-pg-")))
        server.socket_dir.mkdir()
        owner = pwd.getpwnam(SERVICE_USER) if os.geteuid() == 0 else None
        if owner is not None:
            for path in (server.folder, server.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        data = server.folder / "data"
        server._run(owner, "initdb", "-D", str(data), "-U", SUPERUSER, "-A", "trust", "--no-sync", "-E", "UTF8")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{server.socket_dir}' -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB"
        )
        log = str(server.folder / "server.log")
        server._run(owner, "pg_ctl", "-D", str(data), "-l", log, "-o", options, "-w", "-t", "60", "start")
        return server

    def _run(self, owner: pwd.struct_passwd | None, program: str, *args: str) -> None:
        command = [str(BIN / program), *args]
        if owner is not None:
            command = ["runuser", "-u", owner.pw_name, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.folder)
        if result.returncode != 0:
            raise AssertionError(f"{program} failed ({result.returncode}): {result.stdout}{result.stderr}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{database}?host={self.socket_dir}"

    def create_database(self, migrated: bool = False) -> str:
        """A new database, empty or (a copy of a template made once) at the newest migration; returns its URL."""
        if migrated and not self.migrated:
            template = self.create_database()
            engine = database.create_engine(template)
            database.migrate(engine)
            engine.dispose()  # a template must have no session while it is copied
            self.migrated = str(sa.engine.make_url(template).database)
        self.databases += 1
        name = f"test_{self.databases}"
        template = f' TEMPLATE "{self.migrated}"' if migrated else ""
        self._sql(f'CREATE DATABASE "{name}"{template}')
        return self.url(name)

    def _sql(self, statement: str, *parameters: str) -> None:
        with psycopg.connect(host=str(self.socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
            conn.execute(statement.encode(), parameters)  # bytes: a query of ours, not a literal to check

    def terminate_connections(self, url: str) -> None:
        """End every session on the database of `url`, as a restarted or failed-over server would."""
        name = str(sa.engine.make_url(url).database)
        self._sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", name)

    def stop(self) -> None:
        owner = pwd.getpwnam(SERVICE_USER) if os.geteuid() == 0 else None
        try:
            self._run(owner, "pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class LazyPostgres:
    """A cluster started at the first database asked for (`--daemon-database=postgresql`: only the tests that
    start a daemon need it), stopped at the end of the session."""

    def __init__(self) -> None:
        self._server: Postgres | None = None

    def create_database(self) -> str:
        """An empty database: the daemon's `init` migrates it (and `restore` wants one without tables)."""
        if self._server is None:
            self._server = Postgres.start()
        return self._server.create_database()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
