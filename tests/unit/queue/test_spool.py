"""Mail queued in a process with a queue runner is claimed as it is queued ("born claimed") and handed to that
runner: no scan claims it, neither another worker's nor this process's own, until its first attempt is recorded;
a dead worker's born claims are released like its others."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from smb_suite.queue.spool import Kind, Message, Outcome, QueueStore, Status
from smb_suite.storage import database

NOW = 1_790_000_000.0


class Runner:
    def __init__(self) -> None:
        self.taken: list[Message] = []

    def has_room(self) -> bool:
        return True

    def take(self, messages: Sequence[Message]) -> None:
        self.taken += messages


def test_mail_queued_for_this_process_runner_is_claimed_by_no_scan_until_its_first_attempt(
    database_url: str, tmp_path: Path
) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    here, there = QueueStore(engine, tmp_path, lambda: NOW), QueueStore(engine, tmp_path, lambda: NOW)
    there.claimant = "elsewhere:1"
    here.create()
    runner = Runner()
    here.taker = runner
    here.enqueue_batch([("anna@shop.test", ["bob@a.test", "carl@b.test"], b"Subject: hi\r\n\r\nhello\r\n")])
    (message,) = runner.taken
    assert [(r.address, r.domain, r.status) for r in message.recipients] == [
        ("bob@a.test", "a.test", Status.QUEUED),
        ("carl@b.test", "b.test", Status.QUEUED),
    ]
    assert here.get(message.id) == message  # what the runner was given is what the rows say
    assert here.claim([message.id]) == set() and there.claim([message.id]) == set()

    bob, carl = message.recipients
    sent = Outcome(bob.id, Kind.SENT, "250 ok")
    later = Outcome(carl.id, Kind.TEMPORARY, "451 later")
    assert here.record_batch([(message.id, [sent, later])], [60.0], 86400.0) == [False]
    assert there.claim([message.id]) == set() and here.claim([message.id]) == {message.id}  # an ordinary claim now

    here.enqueue_batch([("anna@shop.test", ["dan@a.test"], b"Subject: again\r\n\r\nhello\r\n")])
    second = runner.taken[-1]
    assert here.release_claims(here.claimant) == 2  # its worker died: both messages are free
    assert there.claim([message.id, second.id]) == {message.id, second.id}
    engine.dispose()


def test_without_a_runner_queued_mail_waits_unclaimed_for_a_scan(database_url: str, tmp_path: Path) -> None:
    engine = database.create_engine(database_url)
    database.migrate(engine)
    spool = QueueStore(engine, tmp_path, lambda: NOW)
    spool.create()
    woken: list[bool] = []
    spool.listeners.append(lambda: woken.append(True))
    spool.enqueue_batch([("anna@shop.test", ["bob@a.test"], b"Subject: hi\r\n\r\nhello\r\n")])
    (job,) = spool.due(NOW, ())
    assert woken == [True] and spool.claim([job.message.id]) == {job.message.id}
    engine.dispose()
