"""Recovery links (auth/recovery.py): a 256-bit token kept only as its hash, 30 minutes, used once, dead once
the password changed by any path; confirmation links confirm only the address still waiting. The clock is moved,
never waited for."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from smb_suite.auth.recovery import CONFIRM, RESET, RESET_SECONDS, Recovery, State, password_mark
from smb_suite.storage import database, db

NOW = 1_790_000_000.0
OLD_HASH = "$argon2id$old"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = database.create_engine(f"sqlite:///{tmp_path / 'recovery.db'}")
    db.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.insert(db.tenants).values(id=1, name="shop", created_at=0))
        conn.execute(sa.insert(db.domains).values(id=1, name="shop.test", tenant_id=1, created_at=0))
        conn.execute(
            sa.insert(db.users).values(id=7, domain_id=1, local_part="anna", password_hash=OLD_HASH, created_at=0)
        )
    yield engine
    engine.dispose()


def stored_hash(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.select(db.users.c.password_hash).where(db.users.c.id == 7)).scalar_one())


def set_hash(engine: sa.Engine, value: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(db.users).where(db.users.c.id == 7).values(password_hash=value))


def test_a_reset_link_works_once_and_only_the_hash_of_its_token_is_stored(engine: sa.Engine) -> None:
    recovery = Recovery(engine, Clock())
    token = recovery.issue(7, RESET, password_mark(OLD_HASH), RESET_SECONDS)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    with engine.connect() as conn:
        stored = conn.execute(sa.select(db.recovery_tokens.c.token_hash)).scalars().all()
    assert stored and token not in stored
    assert recovery.peek(token, RESET).state is State.VALID  # looking does not use it
    assert recovery.peek(token, CONFIRM).state is State.UNKNOWN  # a reset link confirms nothing
    assert recovery.reset_password(token, "$argon2id$new").state is State.VALID
    assert stored_hash(engine) == "$argon2id$new"
    assert recovery.reset_password(token, "$argon2id$other").state is State.USED
    assert recovery.peek(token, RESET).state is State.USED
    assert stored_hash(engine) == "$argon2id$new"


def test_a_reset_link_expires_after_30_minutes(engine: sa.Engine) -> None:
    clock = Clock()
    recovery = Recovery(engine, clock)
    token = recovery.issue(7, RESET, password_mark(OLD_HASH), RESET_SECONDS)
    clock.now += RESET_SECONDS - 1
    assert recovery.peek(token, RESET).state is State.VALID
    clock.now += 1
    assert recovery.peek(token, RESET).state is State.EXPIRED
    assert recovery.reset_password(token, "$argon2id$new").state is State.EXPIRED
    assert stored_hash(engine) == OLD_HASH


def test_a_password_set_by_any_path_kills_the_links_issued_before(engine: sa.Engine) -> None:
    recovery = Recovery(engine, Clock())
    token = recovery.issue(7, RESET, password_mark(OLD_HASH), RESET_SECONDS)
    set_hash(engine, "$argon2id$set-by-the-owner")  # not through Recovery at all
    assert recovery.peek(token, RESET).state is State.STALE
    assert recovery.reset_password(token, "$argon2id$attacker").state is State.STALE
    assert stored_hash(engine) == "$argon2id$set-by-the-owner"


def test_a_new_link_replaces_the_earlier_one(engine: sa.Engine) -> None:
    recovery = Recovery(engine, Clock())
    first = recovery.issue(7, RESET, password_mark(OLD_HASH), RESET_SECONDS)
    second = recovery.issue(7, RESET, password_mark(OLD_HASH), RESET_SECONDS)
    assert recovery.peek(first, RESET).state is State.UNKNOWN
    assert recovery.peek(second, RESET).state is State.VALID
    assert recovery.peek("", RESET).state is State.UNKNOWN
    assert recovery.peek("x" * 1000, RESET).state is State.UNKNOWN


def test_a_confirmation_link_confirms_only_the_address_still_waiting(engine: sa.Engine) -> None:
    recovery = Recovery(engine, Clock())
    recovery.set_pending(7, "anna@home.example", "fr")
    old_link = recovery.issue(7, CONFIRM, "anna@home.example", 3600)
    recovery.set_pending(7, "anna@elsewhere.example", "fr")  # chose another since: the old link is forgotten
    assert recovery.confirm(old_link).state is State.UNKNOWN
    link = recovery.issue(7, CONFIRM, "anna@elsewhere.example", 3600)
    outcome = recovery.confirm(link)
    assert outcome.state is State.VALID and outcome.bound == "anna@elsewhere.example"
    found = recovery.address_of(7)
    assert found is not None and (found.address, found.pending, found.language) == (
        "anna@elsewhere.example",
        None,
        "fr",
    )
    assert recovery.confirm(link).state is State.USED
    recovery.set_pending(7, "anna@third.example", "en")  # the confirmed one stays in use until the new one is
    assert recovery.address_of(7) == type(found)("anna@elsewhere.example", "anna@third.example", "en")
    recovery.remove(7)
    assert recovery.address_of(7) is None
