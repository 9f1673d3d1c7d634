"""What the billing unit tests share: a real data folder's services with a clock the test sets, and businesses."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest

from smb_suite import config
from smb_suite.directory.model import OPERATOR
from smb_suite.ops import tenants
from smb_suite.services import Services, initialise, open_services


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def at(self, day: str) -> None:
        self.now = datetime.datetime.fromisoformat(f"{day}T09:00:00+00:00").timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(tmp_path: Path, clock: Clock) -> Iterator[Services]:
    settings = config.Config(server=config.ServerConfig(data_dir=tmp_path / "data"))
    initialise(settings)
    opened = open_services(settings, clock)
    yield opened
    opened.close()


def business(services: Services, name: str, partner: str | None = None) -> None:
    tenants.create_tenant(services, OPERATOR, name, f"{name}.test", f"boss@{name}.test", "pw-1234")
    if partner is not None:
        tenants.set_partner(services, OPERATOR, name, partner)
