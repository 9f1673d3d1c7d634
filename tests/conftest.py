"""Fixtures: the real daemon on ephemeral loopback ports with a temporary data folder (see tests/daemon.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon, make_daemon
from tests.dnsserver import DnsServer
from tests.tenancy import Tenancy, make_tenancy


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
    server = make_daemon(tmp_path_factory.mktemp("shared"), nameservers=(quiet_dns.address,)).start()
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture
def fresh_daemon(tmp_path: Path, quiet_dns: DnsServer) -> Iterator[Callable[..., Daemon]]:
    """A factory for a private daemon (started) that a test may kill, restart or reconfigure."""
    started: list[Daemon] = []

    def factory(extra_config: str = "") -> Daemon:
        server = make_daemon(tmp_path / f"d{len(started)}", extra_config, nameservers=(quiet_dns.address,)).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        if server.process is not None:
            server.kill()


@pytest.fixture(scope="session")
def tenancy(tmp_path_factory: pytest.TempPathFactory, quiet_dns: DnsServer) -> Iterator[Tenancy]:
    """Three businesses and a partner made with the command line, each with mail and folders (tests/tenancy.py),
    on one daemon shared by the isolation suite; tests attack each other's data but never stop it."""
    tenancy = make_tenancy(tmp_path_factory.mktemp("tenancy"), (quiet_dns.address,))
    yield tenancy
    if tenancy.daemon.process is not None:
        tenancy.daemon.stop()
