"""Fixtures: the real daemon on ephemeral loopback ports with a temporary data folder (see tests/daemon.py).

Every daemon of a test comes from one factory (tests/daemon.py Daemons), through these fixtures:
- `daemon`: one shared running daemon for the session, that no test stops or reconfigures;
- `server`: the module's own daemon, made as its `pytestmark = pytest.mark.daemon(extra_config, **options)`
  says (options of Daemons.__call__: services, hostname, nameservers, make, before_start, name);
- `start_daemon`: the factory itself for the module, for a module with several daemons or a configuration
  known only from another fixture (its daemons stop when the module ends);
- `fresh_daemon`: the factory for one test, that may kill, restart or reconfigure its daemons (killed at its end).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.daemon import DAEMON_DATABASES, Daemon, Daemons
from tests.dnsserver import DnsServer
from tests.pgserver import LazyPostgres, Postgres
from tests.tenancy import Tenancy, make_tenancy

BACKENDS = ("sqlite", "postgresql")

# Tests check behaviour, never timing: no per-example deadline, and no failure because generating inputs was
# slow (the suite shares two cores with many daemons; hypothesis's health check then fails a correct test).
settings.register_profile("behaviour", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("behaviour")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--databases",
        default=",".join(BACKENDS),
        help="comma-separated database backends the `database_url` tests run on (default: sqlite,postgresql)",
    )
    parser.addoption(
        "--daemon-database",
        default="sqlite",
        choices=BACKENDS,
        help="the database of every test daemon (tests/daemon.py): sqlite (default) or postgresql (a private one)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "daemon(extra_config, **options): how the module's `server` fixture makes its daemon"
    )
    if config.getoption("daemon_database") == "postgresql":
        cluster = LazyPostgres()
        DAEMON_DATABASES.make = cluster.create_database
        config.add_cleanup(cluster.stop)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests (and module fixtures) taking `backend` run once per database backend chosen by --databases."""
    if "backend" in metafunc.fixturenames:
        chosen = [name for name in metafunc.config.getoption("databases").split(",") if name]
        unknown = set(chosen) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"--databases: unknown backend {', '.join(sorted(unknown))}")
        metafunc.parametrize("backend", chosen, scope="module")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One private PostgreSQL cluster for the test session (tests/pgserver.py), started on first use."""
    server = Postgres.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_database(request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a database of the module's backend at the newest migration, shared by the module's tests."""
    return _new_database(request, backend, tmp_path_factory.mktemp("db"), migrated=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of a database of the test's backend at the newest migration, its own."""
    return _new_database(request, backend, tmp_path, migrated=True)


@pytest.fixture
def empty_database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> str:
    """The URL of an empty database of the test's backend (no migration applied), its own."""
    return _new_database(request, backend, tmp_path, migrated=False)


def _new_database(request: pytest.FixtureRequest, backend: str, folder: Path, migrated: bool) -> str:
    """SQLite: a file in the test's folder (migrating it is quick); PostgreSQL: a database of the session's
    cluster, copied from a template migrated once when `migrated`."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'smb-suite.db'}"
    server: Postgres = request.getfixturevalue("postgres")
    return server.create_database(migrated)


@pytest.fixture(scope="session")
def quiet_dns(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DnsServer]:
    """A DNS server on loopback with an empty zone: every name is NXDOMAIN, at once (no real resolver is asked)."""
    zone = tmp_path_factory.mktemp("dns") / "empty.zone"
    zone.write_text("")
    server = DnsServer(zone).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory, quiet_dns: DnsServer) -> Iterator[Daemon]:
    """One shared running daemon for tests that do not stop it; do not kill or reconfigure it."""
    daemons = Daemons(tmp_path_factory.mktemp, nameservers=(quiet_dns.address,))
    yield daemons(name="shared")
    daemons.close()


@pytest.fixture(scope="module")
def start_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemons]:
    """The daemon factory for a module: each call returns a started daemon, stopped when the module ends."""
    daemons = Daemons(tmp_path_factory.mktemp)
    yield daemons
    daemons.close()


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest, start_daemon: Daemons) -> Daemon:
    """The module's own daemon, made as its `pytest.mark.daemon(...)` says (none: make_daemon's defaults)."""
    mark = request.node.get_closest_marker("daemon")
    args, options = (mark.args, mark.kwargs) if mark is not None else ((), {})
    return start_daemon(*args, **{"name": request.module.__name__.rpartition(".")[2], **options})


@pytest.fixture
def fresh_daemon(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[Daemons]:
    """The daemon factory for one test: its daemons (answered by the quiet DNS server unless told otherwise)
    may be killed, restarted or reconfigured; they are killed when the test ends."""
    count = iter(range(1000))
    daemons = Daemons(lambda name: tmp_path / f"{name}{next(count)}", kill=True, nameservers=(quiet_dns.address,))
    yield daemons
    daemons.close()


@pytest.fixture(scope="session")
def tenancy(tmp_path_factory: pytest.TempPathFactory, quiet_dns: DnsServer) -> Iterator[Tenancy]:
    """Three businesses and a partner made with the command line, each with mail and folders (tests/tenancy.py),
    on one daemon shared by the isolation suite; tests attack each other's data but never stop it."""
    tenancy = make_tenancy(tmp_path_factory.mktemp("tenancy"), (quiet_dns.address,))
    yield tenancy
    if tenancy.daemon.process is not None:
        tenancy.daemon.stop()
