"""A real smb-suite daemon in a subprocess, on ephemeral loopback ports, in a temporary data folder."""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from bench.maildirs import maildir_path
from smb_suite.auth.passwords import hash_password
from smb_suite.config import Config
from smb_suite.config import load as load_config
from smb_suite.directory.model import OPERATOR, Role, User
from smb_suite.ops import domains, users
from smb_suite.services import Services, initialise, open_services
from smb_suite.storage import database, db
from smb_suite.storage.paths import MailLayout
from tests.polling import wait_for

SERVICES = ("smtp", "submission", "submissions", "imap", "imaps", "http", "https")
LISTENERS = (*SERVICES, "metrics")  # metrics (the operator's) only where a test asks for it in `services`
LISTENING = re.compile(r"listening service=(\w+) address=([\d.]+):(\d+)")
READY = "smb-suite is running"
START_DEADLINE = 60.0
DOMAIN = "example.test"
OWNER = f"demo@{DOMAIN}"
OWNER_PASSWORD = "correct horse battery staple"
USER = f"alice@{DOMAIN}"
USER_PASSWORD = "alice-secret-1"


def run_cli(config: Path, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `smb-suite -c CONFIG ARGS...` and return the finished process."""
    result = subprocess.run(
        [sys.executable, "-m", "smb_suite", "-c", str(config), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"smb-suite {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


# Test daemons never ask real DNS for MX: remote mail goes to a closed loopback port unless a test routes it.
NO_REMOTE_DELIVERY = '[outbound]\nsmarthost = "127.0.0.1:9"\n'


@dataclass
class DaemonDatabases:
    """Where test daemons keep their index: SQLite in their data folder (`make` None, the default), or, with
    `pytest --daemon-database=postgresql` (tests/conftest.py), a PostgreSQL database of their own, one per
    daemon folder (a configuration written again for the same folder keeps its database)."""

    make: Callable[[], str] | None = None
    urls: dict[Path, str] = field(default_factory=dict)

    def url_for(self, folder: Path) -> str:
        assert self.make is not None
        if folder not in self.urls:
            self.urls[folder] = self.make()
        return self.urls[folder]


DAEMON_DATABASES = DaemonDatabases()


def write_config(
    folder: Path,
    extra: str = "",
    services: tuple[str, ...] = SERVICES,
    hostname: str = "mail.example.test",
    nameservers: tuple[str, ...] = (),
    ports: dict[str, int] | None = None,
    listen_extra: str = "",
    host: str = "127.0.0.1",
    workers: int = 1,
) -> Path:
    """A configuration on loopback ports of `host` (ephemeral unless `ports` fixes some); with nameservers, DNS
    goes to those (tests/dnsserver.py); `listen_extra` adds keys to [listen]. One worker process unless told
    (the suite runs many daemons side by side on a few cores; tests/integration/test_workers.py runs several)."""
    fixed = ports or {}
    listen = "\n".join(
        f'{name} = "{host}:{fixed.get(name, 0)}"' if name in services else f'{name} = ""' for name in LISTENERS
    )
    listen += "\n" + listen_extra
    if "[outbound]" not in extra:
        extra = NO_REMOTE_DELIVERY + extra
    if DAEMON_DATABASES.make is not None and "[database]" not in extra:
        extra = f'[database]\nurl = "{DAEMON_DATABASES.url_for(folder)}"\n' + extra
    dns = ""
    if nameservers:
        dns = "[dns]\nnameservers = [" + ", ".join(f'"{server}"' for server in nameservers) + "]\n"
    path = folder / "smb-suite.toml"
    server = f'[server]\nhostname = "{hostname}"\ndata_dir = "data"\nworkers = {workers}\n'
    path.write_text(f"{server}\n[listen]\n{listen}\n{dns}{extra}")
    return path


@dataclass
class Daemon:
    """Starts, stops and kills `smb-suite serve`; knows the ports it bound and reads its log."""

    folder: Path
    config: Path
    process: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)
    starts: int = 0

    @property
    def log_path(self) -> Path:
        return self.folder / f"serve-{self.starts}.log"

    def cli(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_cli(self.config, *args, stdin=stdin, check=check)

    def start(self, env: dict[str, str] | None = None) -> Daemon:
        self.starts += 1
        self.ports = {}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "smb_suite", "-c", str(self.config), "serve"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            )
        process = self.process

        def listening() -> bool:
            if READY in self.log_text():
                return True
            if process.poll() is not None:
                raise AssertionError(f"daemon exited with {process.returncode}:\n{self.log_text()}")
            return False

        wait_for("the daemon to listen", listening, START_DEADLINE, detail=self.log_text)
        self.ports = {m[1]: int(m[3]) for m in LISTENING.finditer(self.log_text())}
        self._load_admin_views()
        return self

    def _load_admin_views(self) -> None:
        """A worker imports the admin UI at its first request on our own name (docs/ARCHITECTURE.md, "Worker
        memory"): asked for here, as the daemon's start did before, so that the tests' clients (httpx's default
        timeout is 5 s) wait for their request and not for that import on a loaded machine."""
        scheme = "http" if "http" in self.ports else "https"
        if scheme not in self.ports:
            return
        url = f"{scheme}://127.0.0.1:{self.ports[scheme]}/"  # "/" on an admin name: a redirect, after the import
        with contextlib.suppress(httpx.HTTPError):  # a listener that wants the PROXY protocol first hangs up
            httpx.get(url, headers={"Host": "localhost"}, verify=False, timeout=START_DEADLINE)

    def maildir(self, address: str, folder: str = "INBOX") -> Path:
        """The Maildir of one folder of a hosted user, found as the daemon finds it: by the ids the database
        holds for the address and the folder name (storage/paths.py)."""
        if DAEMON_DATABASES.make is None:
            return maildir_path(self.folder / "data", address, folder)
        return maildir_in_database(self.config, address, folder)

    def site_folder(self, domain: str = DOMAIN) -> Path:
        """The folder of a hosted domain's site (named after the domain's id; `current` is its live version)."""
        return site_folder(self.config, domain)

    def messages(self, address: str, folder: str = "INBOX") -> list[bytes]:
        """The messages of a folder, oldest first (by file modification time, then name)."""
        path = self.maildir(address, folder)
        files = [entry for sub in ("new", "cur") for entry in (path / sub).iterdir() if entry.is_file()]
        return [entry.read_bytes() for entry in sorted(files, key=lambda entry: (entry.stat().st_mtime_ns, entry.name))]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def all_logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("serve-*.log")))

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> Daemon:
        if self.process is not None:
            self.stop()
        return self.start()


def make_daemon(
    folder: Path,
    extra_config: str = "",
    services: tuple[str, ...] = SERVICES,
    hostname: str = "mail.example.test",
    nameservers: tuple[str, ...] = (),
    ports: dict[str, int] | None = None,
    listen_extra: str = "",
    host: str = "127.0.0.1",
    workers: int = 1,
) -> Daemon:
    """A daemon with domain example.test, owner demo@ and user alice@, not yet started."""
    folder.mkdir(parents=True, exist_ok=True)
    config = write_config(folder, extra_config, services, hostname, nameservers, ports, listen_extra, host, workers)
    prepare(config)
    return Daemon(folder, config)


class Daemons:
    """The one daemon factory of the suite (its fixtures are in tests/conftest.py: `server`, made as the module's
    `pytest.mark.daemon(...)` says; `start_daemon` for a module's own daemons; `fresh_daemon` for a test's own).

    Each call makes a daemon in a new folder with `make` (make_daemon: example.test, demo@ and alice@; or
    tests/adminweb.py make_admin_daemon: every role), runs `before_start` on it (commands or use cases that want
    it stopped), starts it and returns it; `close` stops (or kills) every daemon still running."""

    def __init__(self, folder: Callable[[str], Path], kill: bool = False, **defaults: Any) -> None:
        self._folder = folder
        self._kill = kill
        self._defaults = defaults
        self.started: list[Daemon] = []

    def __call__(
        self,
        extra_config: str = "",
        *,
        name: str = "daemon",
        make: Callable[..., Daemon] = make_daemon,
        before_start: Callable[[Daemon], object] | None = None,
        **options: Any,
    ) -> Daemon:
        server = make(self._folder(name), extra_config, **{**self._defaults, **options})
        if before_start is not None:
            before_start(server)
        self.started.append(server.start())
        return server

    def close(self) -> None:
        for server in self.started:
            if server.process is not None:
                if self._kill:
                    server.kill()
                else:
                    server.stop()


def maildir_in_database(config: Path, address: str, folder: str) -> Path:
    """bench/maildirs.maildir_path for a daemon whose index is not the SQLite file in its data folder."""
    settings = load_config(config)
    local, _, domain = address.lower().partition("@")
    users, boxes, domains = db.users.c, db.mailboxes.c, db.domains.c
    query = (
        sa.select(users.id, boxes.id)
        .join(db.domains, domains.id == users.domain_id)
        .join(db.mailboxes, boxes.user_id == users.id)
        .where(users.local_part == local, domains.name == domain, boxes.name == folder)
    )
    engine = database.create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            user_id, mailbox_id = conn.execute(query).one()
    finally:
        engine.dispose()
    return MailLayout(settings.mail_dir).folder(user_id, mailbox_id, folder == "INBOX")


def site_folder(config: Path, domain: str = DOMAIN) -> Path:
    """The site folder of a hosted domain of the daemon with this configuration: data/sites/<domain id>."""
    settings = load_config(config)
    engine = database.create_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            query = sa.select(db.domains.c.id).where(db.domains.c.name == domain)
            domain_id = conn.execute(query).scalar_one()
    finally:
        engine.dispose()
    return settings.sites_dir / str(domain_id)


@cache
def _hash_of(password: str) -> str:
    return hash_password(password)


def add_account(services: Services, address: str, password: str, role: Role = Role.USER) -> User:
    """What `user add` does (users.add_user), with the argon2 hash this test process made for the same password
    before: a daemon's setup hashes the same few passwords every time (the largest part of its setup); the daemons
    still verify real argon2 hashes."""
    user = services.directory.add_user(OPERATOR, address, _hash_of(password), role)
    users.user_added(services, OPERATOR, user)
    return user


@cache
def _migrated_database() -> Path:
    """An empty SQLite database at the newest schema, made once per test process (every migration from nothing
    costs more than the rest of a daemon's setup) and copied into each new data folder."""
    folder = tempfile.TemporaryDirectory(prefix="schema-")
    atexit.register(folder.cleanup)
    path = Path(folder.name) / "smb-suite.db"
    engine = database.create_engine(f"sqlite:///{path}")
    try:
        database.migrate(engine)
    finally:
        engine.dispose()
    return path


def initialised(config: Path) -> Config:
    """What `init` does, in-process (its database copied from the migrated one when it is the default SQLite)."""
    settings = load_config(config)
    database = settings.server.data_dir / "smb-suite.db"
    if settings.database_url == f"sqlite:///{database}" and not database.exists():
        settings.server.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_database(), database)
    initialise(settings)
    return settings


def prepare(config: Path) -> None:
    """What `init`, `domain add` and two `user add` commands do, through the same use cases, in-process
    (four command-line runs cost several seconds of interpreter start-up per daemon; test_cli covers them)."""
    services = open_services(initialised(config))
    try:
        domains.add_domain(services, OPERATOR, DOMAIN)
        add_account(services, OWNER, OWNER_PASSWORD, Role.OWNER)
        add_account(services, USER, USER_PASSWORD)
    finally:
        services.close()
