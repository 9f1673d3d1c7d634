"""Fixtures: the real daemon on ephemeral loopback ports with a temporary data folder (see tests/daemon.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon import Daemon, make_daemon


@pytest.fixture(scope="session")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    """One shared running daemon for tests that do not stop it; do not kill or reconfigure it."""
    server = make_daemon(tmp_path_factory.mktemp("shared")).start()
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture
def fresh_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """A factory for a private daemon (started) that a test may kill, restart or reconfigure."""
    started: list[Daemon] = []

    def factory(extra_config: str = "") -> Daemon:
        server = make_daemon(tmp_path / f"d{len(started)}", extra_config).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        if server.process is not None:
            server.kill()
