"""'Forgot password' requests are counted per address asked for and per client address, in the database
(rate_events), so every worker shares one count; past either allowance the request is refused for the hour."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from smb_suite.auth.ratelimit import RateLimits
from smb_suite.errors import RateLimited
from smb_suite.ops import recovery
from smb_suite.services import Services
from smb_suite.storage import database, db


def test_requests_are_refused_past_the_allowance_of_the_address_or_of_the_client(tmp_path: Path) -> None:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'limits.db'}")
    now = [1_790_000_000.0]
    try:
        db.metadata.create_all(engine)
        services = cast(Services, SimpleNamespace(rate_limits=RateLimits(engine, lambda: now[0])))
        for _ in range(recovery.PER_ADDRESS_PER_HOUR):
            recovery.allow_request(services, "Anna@Shop.test", "192.0.2.1")
        with pytest.raises(RateLimited, match="Too many password reset requests"):
            recovery.allow_request(services, "<anna@shop.test>", "192.0.2.9")  # any spelling, any client
        for number in range(recovery.PER_CLIENT_PER_HOUR - recovery.PER_ADDRESS_PER_HOUR):
            recovery.allow_request(services, f"guess{number}@shop.test", "192.0.2.1")
        with pytest.raises(RateLimited):
            recovery.allow_request(services, "someone-new@shop.test", "192.0.2.1")  # the client's allowance
        now[0] += 3601
        recovery.allow_request(services, "anna@shop.test", "192.0.2.1")
    finally:
        engine.dispose()
