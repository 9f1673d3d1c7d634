"""Hourly allowances per client (contact form, sign-up) are one count in the database for every process, on each
database backend (`backend`, tests/conftest.py)."""

from __future__ import annotations

from smb_suite.auth.ratelimit import RateLimits
from smb_suite.storage import database


def test_a_client_gets_its_hourly_allowance_once_across_processes_then_again_an_hour_later(database_url: str) -> None:
    now = [1_790_000_000.0]
    first, second = (
        database.create_engine(database_url),
        database.create_engine(database_url),
    )  # two workers, one database
    try:
        database.migrate(first)  # SQLite: a new file; PostgreSQL: already at the head
        workers = [RateLimits(first, lambda: now[0]), RateLimits(second, lambda: now[0])]
        assert workers[0].allow("contact", "192.0.2.1", 3)
        assert workers[1].allow("contact", "192.0.2.1", 3)
        assert workers[0].allow("contact", "192.0.2.1", 3)
        assert not workers[1].allow("contact", "192.0.2.1", 3)
        assert not workers[0].allow("contact", "192.0.2.1", 3)
        assert workers[1].allow("contact", "192.0.2.2", 3)  # another client has its own
        assert workers[1].allow("signup", "192.0.2.1", 3)  # another kind has its own
        now[0] += 3601
        assert workers[1].allow("contact", "192.0.2.1", 3)
    finally:
        first.dispose()
        second.dispose()
