"""API tokens, their call counts and idempotency keys on their own (auth/apitokens.py, auth/idempotency.py),
on a migrated SQLite database in a temporary folder, with a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from smb_suite.auth.apitokens import SCOPES, ApiTokens, digest
from smb_suite.auth.idempotency import IdempotencyKeys
from smb_suite.errors import InvalidInput
from smb_suite.storage import database, db


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_040.0  # 20 s into a minute window

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'test.db'}")
    database.migrate(engine)
    yield engine
    engine.dispose()


def test_a_token_is_found_by_its_secret_which_is_stored_only_hashed(engine: sa.Engine) -> None:
    tokens = ApiTokens(engine, Clock())
    token, secret = tokens.create(None, ["billing:read"])
    assert tokens.find(secret) == token
    assert token.scopes == {"billing:read"}
    with engine.connect() as conn:
        stored = conn.execute(sa.select(db.api_tokens.c.token_hash)).scalar_one()
    assert stored == digest(secret) and secret not in stored
    assert tokens.find(secret[:-1]) is None
    assert tokens.find("not-ours") is None


def test_all_scopes_by_default_and_unknown_scopes_refused(engine: sa.Engine) -> None:
    tokens = ApiTokens(engine, Clock())
    assert tokens.create(None, [])[0].scopes == set(SCOPES)
    with pytest.raises(InvalidInput, match="unknown scope"):
        tokens.create(None, ["businesses:delete"])


def test_a_revoked_token_is_refused_and_still_listed(engine: sa.Engine) -> None:
    tokens = ApiTokens(engine, Clock())
    token, secret = tokens.create(None, [])
    assert tokens.revoke(token.id).revoked_at is not None
    assert tokens.find(secret) is None
    assert [listed.id for listed in tokens.list()] == [token.id]


def test_calls_over_the_limit_wait_for_the_next_minute_per_token(engine: sa.Engine) -> None:
    clock = Clock()
    tokens = ApiTokens(engine, clock)
    assert [tokens.count_call(1, 3) for _ in range(3)] == [0, 0, 0]
    assert tokens.count_call(1, 3) == 40  # the window ends 40 s later
    assert tokens.count_call(2, 3) == 0  # another token has its own count
    clock.now += 40
    assert tokens.count_call(1, 3) == 0


def test_an_idempotency_key_is_claimed_once_then_answers_or_is_released(engine: sa.Engine) -> None:
    clock = Clock()
    keys = IdempotencyKeys(engine, clock, 3600)
    assert keys.claim(1, "k", "hash-1").mine
    running = keys.claim(1, "k", "hash-1")
    assert not running.mine and running.status is None and running.request_hash == "hash-1"
    assert keys.claim(2, "k", "hash-1").mine  # keys are per token
    keys.answer(1, "k", 201, '{"ok": true}')
    done = keys.claim(1, "k", "hash-1")
    assert (done.status, done.body) == (201, '{"ok": true}')
    keys.release(2, "k")
    assert keys.claim(2, "k", "hash-2").mine
    clock.now += 3601
    assert keys.claim(1, "k", "hash-3").mine  # expired
