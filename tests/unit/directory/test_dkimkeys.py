"""DKIM keys of a domain over time: a pair per domain, rotation (seen at once by a process that keeps the
signing keys), and the grace period of retired keys."""

from __future__ import annotations

from smb_suite.directory.core import Directory
from smb_suite.directory.dkimkeys import DkimKeys
from smb_suite.directory.model import OPERATOR
from smb_suite.mail.dkim import Algorithm
from smb_suite.storage import database, db

DAY = 86400


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def test_rotated_keys_stay_published_for_the_grace_period_then_are_dropped(database_url: str) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    clock = Clock()
    domain = Directory(engine, clock).add_domain(OPERATOR, "shop.test")
    keys = DkimKeys(engine, clock)
    keys.create_pair(domain.id)
    first = keys.active("shop.test")
    assert sorted(key.algorithm for key in first) == sorted(Algorithm)
    assert [key.selector for key in keys.signing_keys("shop.test")] == [key.selector for key in first]

    clock.now += DAY
    DkimKeys(engine, clock).rotate(domain.id, grace_seconds=7 * DAY)  # another process: the command line
    second = keys.active("shop.test")
    assert [key.selector for key in keys.signing_keys("shop.test")] == [key.selector for key in second]
    assert not {key.selector for key in first} & {key.selector for key in second}
    assert {key.selector for key in keys.published("shop.test", 7 * DAY)} == {key.selector for key in first + second}

    clock.now += 7 * DAY + 1
    assert {key.selector for key in keys.published("shop.test", 7 * DAY)} == {key.selector for key in second}
    keys.rotate(domain.id, grace_seconds=7 * DAY)
    with engine.connect() as conn:
        stored = {row.selector for row in conn.execute(db.dkim_keys.select())}
    assert not stored & {key.selector for key in first}  # deleted, not only hidden
    engine.dispose()
