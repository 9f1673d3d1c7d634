"""The outbound spool: one file per message in data_dir/queue/msg/, one row per message and per recipient.

Durability contract (docs/ARCHITECTURE.md): the file is written to tmp/, fsynced, renamed into msg/ and the directory
fsynced; then the rows commit; only then may submission answer 250. `reconcile`, at a start without other nodes
serving, removes what a crash left before the commit (never acknowledged) and drops rows whose file is gone.
Synchronous: call it through the StoreRunner (writes on the writer thread, reads in the pool).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from smb_suite import log
from smb_suite.durable import fsync_dir
from smb_suite.storage import database, db

logger = logging.getLogger("smb_suite.queue")
MAX_RECIPIENTS_PER_TRANSACTION = 100  # RFC 5321 4.5.3.1.8: servers accept at least 100


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class Kind(StrEnum):
    """How one recipient's attempt ended."""

    SENT = "sent"
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Recipient:
    id: int
    address: str
    domain: str
    status: Status
    attempts: int
    next_attempt_at: int
    last_reply: str
    remote_mta: str
    reported: bool


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    queue_id: str
    sender: str  # "" is the null sender (a DSN or autoreply): never reported back
    filename: str
    size: int
    created_at: int
    delay_notified: bool
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True, slots=True)
class Job:
    """One SMTP transaction: one message to the recipients of one domain."""

    message: Message
    domain: str
    recipients: tuple[Recipient, ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    recipient_id: int
    kind: Kind
    reply: str
    remote_mta: str = ""


def _recipient(row: Any) -> Recipient:
    rid, address, domain, status, attempts, next_at, reply, mta, reported = row
    return Recipient(rid, address, domain, Status(status), attempts, next_at, reply, mta, bool(reported))


_R = db.queue_recipients.c
_M = db.queue_messages.c
# The statements recording each attempt (on every message's path), built once: SQLAlchemy then skips building
# and hashing them again for every message.
_MARK_SENT = (
    sa.update(db.queue_recipients)
    .where(_R.id == sa.bindparam("recipient"))
    .values(
        attempts=_R.attempts + 1, status=Status.SENT, last_reply=sa.bindparam("reply"), remote_mta=sa.bindparam("mta")
    )
)
_STATES = sa.select(_R.status, _R.reported).where(_R.message_id == sa.bindparam("message")).distinct()
_FILENAME = sa.select(_M.filename).where(_M.id == sa.bindparam("message"))
_DELETE_RECIPIENTS = sa.delete(db.queue_recipients).where(_R.message_id == sa.bindparam("message"))
_DELETE_MESSAGE = sa.delete(db.queue_messages).where(_M.id == sa.bindparam("message"))
_RECIPIENT_COLUMNS = (
    _R.id,
    _R.address,
    _R.domain,
    _R.status,
    _R.attempts,
    _R.next_attempt_at,
    _R.last_reply,
    _R.remote_mta,
    _R.reported,
)


_BORN_CLAIM = (  # a message's first attempt recorded: its claim becomes an ordinary one (retries go by scans)
    sa.update(db.queue_messages)
    .where(_M.id == sa.bindparam("message"), _M.claimed_by == sa.bindparam("born"))
    .values(claimed_by=sa.bindparam("claimant"))
)


def claimant(pid: int | None = None) -> str:
    """Who claims queued mail: this host and a process id (by default this process's)."""
    return f"{socket.gethostname()}:{pid if pid is not None else os.getpid()}"


def born_claimant(holder: str) -> str:
    """The claim a process puts on mail as it queues it, for its own runner (see QueueStore)."""
    return f"{holder}/new"


def jobs(message: Message, now: float, busy: set[int]) -> list[Job]:
    """The transactions (one per domain, at most MAX_RECIPIENTS_PER_TRANSACTION recipients) of a message's due
    recipients, leaving out `busy` ones."""
    ready = [
        r for r in message.recipients if r.status is Status.QUEUED and r.next_attempt_at <= now and r.id not in busy
    ]
    ready.sort(key=lambda r: r.domain)
    found = []
    for domain, group in groupby(ready, lambda r: r.domain):
        batch = list(group)
        for start in range(0, len(batch), MAX_RECIPIENTS_PER_TRANSACTION):
            found.append(Job(message, domain, tuple(batch[start : start + MAX_RECIPIENTS_PER_TRANSACTION])))
    return found


class Taker(Protocol):
    """This process's queue runner, given the mail it queues as it queues it."""

    def has_room(self) -> bool:
        """Whether it takes more now (asked on the writer thread before the insert)."""
        ...

    def take(self, messages: Sequence[Message]) -> None:
        """Mail just queued and claimed for it (called on the writer thread, in the batch that queued it)."""
        ...


CLAIM_SECONDS = 3600  # a claim outlives any attempt (bounded by the transport's timeouts); renewed at each scan


class QueueStore:
    """The spool. With several workers (or nodes) each message is sent by one: the queue runner claims what it
    is about to send (`claim`: an UPDATE of the free rows, locked with SKIP LOCKED on PostgreSQL) and keeps it while
    it works on it; a claim ends with its holder (the supervisor releases a dead worker's, `release_claims`; a
    start releases this host's, `release_host_claims`) or after CLAIM_SECONDS (a node that vanished).

    Born claimed: in a process whose runner is its `taker`, mail is claimed as it is queued, under the
    process's `born_claimant` (no scan's claim takes it, not even this process's: a scan that read the new rows
    before the runner took them would send them twice) and given to the runner, which sends it without a scan
    and without a claim transaction. Recording its first attempt turns the claim into an ordinary one."""

    def __init__(self, engine: sa.Engine, root: Path, clock: Callable[[], float], io: Executor | None = None) -> None:
        self._engine = engine
        self._root = root
        self._clock = clock
        self._io = io  # parallel fsyncs and unlinks off the writer thread
        self.listeners: list[Callable[[], None]] = []  # told (on the writer thread) when mail waits for a scan
        self.taker: Taker | None = None
        self.claimant = claimant()
        self.born_claimant = born_claimant(self.claimant)

    # -- claims -------------------------------------------------------------------------------------------

    def claim(self, message_ids: Iterable[int]) -> set[int]:
        """Claim these messages for this process (or renew its claims); return those it holds now. Another
        worker's live claim wins: its messages are left out."""
        ids = sorted(set(message_ids))
        if not ids:
            return set()
        now = int(self._clock())
        free = sa.or_(_M.claimed_by.is_(None), _M.claimed_by == self.claimant, _M.claimed_until < now)
        # PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so a node never waits for the rows another node is
        # claiming at the same moment, it passes them by; SQLite (one writer at a time) renders no locking clause
        claimable = sa.select(_M.id).where(_M.id.in_(ids), free).with_for_update(skip_locked=True)
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(db.queue_messages)
                .where(_M.id.in_(claimable.scalar_subquery()))
                .values(claimed_by=self.claimant, claimed_until=now + CLAIM_SECONDS)
            )
            held = conn.execute(sa.select(_M.id).where(_M.id.in_(ids), _M.claimed_by == self.claimant))
            return {row[0] for row in held}

    def renew(self, message_ids: Iterable[int]) -> None:
        """Make this process's claims on these messages (born ones too) last CLAIM_SECONDS from now."""
        ids = sorted(set(message_ids))
        if not ids:
            return
        mine = _M.claimed_by.in_([self.claimant, self.born_claimant])
        with self._engine.begin() as conn:
            conn.execute(
                sa.update(db.queue_messages)
                .where(_M.id.in_(ids), mine)
                .values(claimed_until=int(self._clock()) + CLAIM_SECONDS)
            )

    def release_claims(self, holder: str) -> int:
        """Free every claim of `holder` (a worker that died): its messages may be sent by another at once."""
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(db.queue_messages)
                .where(_M.claimed_by.in_([holder, born_claimant(holder)]))
                .values(claimed_by=None, claimed_until=0)
            )
        return int(result.rowcount)

    # -- layout -------------------------------------------------------------------------------------------

    def create(self) -> None:
        for sub in ("tmp", "msg"):
            (self._root / sub).mkdir(parents=True, exist_ok=True)
        fsync_dir(self._root)

    def path(self, message: Message) -> Path:
        return self._root / "msg" / message.filename

    def read(self, message: Message) -> bytes:
        return self.path(message).read_bytes()

    # -- enqueue ------------------------------------------------------------------------------------------

    def enqueue_batch(self, batch: Sequence[tuple[str, Sequence[str], bytes]], io: Executor | None = None) -> list[str]:
        """Queue several messages at once (group commit): files fsynced in parallel on `io`, the directory once,
        then one transaction for all rows; given to the `taker` when it has room (born claimed), else left for
        a scan. Returns the queue ids in order."""

        def write(data: bytes) -> str:
            queue_id = secrets.token_hex(8)
            tmp = self._root / "tmp" / queue_id
            with open(tmp, "xb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, self._root / "msg" / queue_id)
            return queue_id

        io = io or self._io
        mapper = io.map if io is not None and len(batch) > 1 else map
        queue_ids = list(mapper(write, [data for _, _, data in batch]))
        # The directory fsync runs while the rows commit; the caller answers after both (reconcile repairs a
        # crash in between: a file without rows is removed, rows without a file are dropped).
        synced = io.submit(fsync_dir, self._root / "msg") if io is not None else None
        if synced is None:
            fsync_dir(self._root / "msg")
        now = int(self._clock())
        taker = self.taker if self.taker is not None and self.taker.has_room() else None
        holder = (self.born_claimant, now + CLAIM_SECONDS) if taker is not None else (None, 0)
        with self._engine.begin() as conn:
            queued = [
                self._insert(conn, queue_id, sender, recipients, len(data), now, holder)
                for queue_id, (sender, recipients, data) in zip(queue_ids, batch, strict=True)
            ]
        if synced is not None:
            synced.result()
        if taker is not None:
            taker.take(queued)
        else:
            for listener in self.listeners:
                listener()
        return queue_ids

    def _insert(
        self,
        conn: sa.Connection,
        queue_id: str,
        sender: str,
        recipients: Sequence[str],
        size: int,
        now: int,
        holder: tuple[str | None, int],
    ) -> Message:
        message_id = database.inserted_id(
            conn.execute(
                sa.insert(db.queue_messages).values(
                    queue_id=queue_id,
                    sender=sender,
                    filename=queue_id,
                    size=size,
                    created_at=now,
                    claimed_by=holder[0],
                    claimed_until=holder[1],
                )
            )
        )
        distinct = [(address, address.rpartition("@")[2].lower()) for address in dict.fromkeys(recipients)]
        ids = conn.execute(
            sa.insert(db.queue_recipients).returning(_R.id, sort_by_parameter_order=True),
            [
                {"message_id": message_id, "address": address, "domain": domain, "next_attempt_at": now}
                for address, domain in distinct
            ],
        ).scalars()
        rows = tuple(
            Recipient(rid, address, domain, Status.QUEUED, 0, now, "", "", False)
            for rid, (address, domain) in zip(ids, distinct, strict=True)
        )
        return Message(message_id, queue_id, sender, queue_id, size, now, False, rows)

    # -- reading ------------------------------------------------------------------------------------------

    def _messages(self, conn: sa.Connection, where: Any = None) -> list[Message]:
        query = sa.select(_M.id, _M.queue_id, _M.sender, _M.filename, _M.size, _M.created_at, _M.delay_notified)
        if where is not None:
            query = query.where(where)
        heads = conn.execute(query.order_by(_M.id)).all()
        if not heads:
            return []
        rows = conn.execute(
            sa.select(_R.message_id, *_RECIPIENT_COLUMNS)
            .where(_R.message_id.in_([h.id for h in heads]))
            .order_by(_R.message_id, _R.id)
        ).all()
        by_message = {key: tuple(_recipient(r[1:]) for r in group) for key, group in groupby(rows, lambda r: r[0])}
        return [Message(*head, recipients=by_message.get(head.id, ())) for head in heads]

    def messages(self) -> list[Message]:
        with self._engine.connect() as conn:
            return self._messages(conn)

    def get(self, message_id: int) -> Message | None:
        with self._engine.connect() as conn:
            found = self._messages(conn, _M.id == message_id)
        return found[0] if found else None

    def due(self, now: float, busy: Iterable[int], limit: int = 1000) -> list[Job]:
        """Queued recipients whose next attempt is due, grouped into transactions (message, domain)."""
        busy_ids = set(busy)
        with self._engine.connect() as conn:
            message_ids = [
                row[0]
                for row in conn.execute(
                    sa.select(_R.message_id)
                    .where(_R.status == Status.QUEUED, _R.next_attempt_at <= int(now))
                    .group_by(_R.message_id)
                    .order_by(_R.message_id)
                    .limit(limit)
                )
            ]
            messages = self._messages(conn, _M.id.in_(message_ids)) if message_ids else []
        return [job for message in messages for job in jobs(message, now, busy_ids)]

    def next_due(self) -> int | None:
        """When the earliest queued recipient this process may claim is due (epoch seconds), or None when nothing
        waits: mail another worker holds (a born claim above all) would have its scans run back to back."""
        now = int(self._clock())
        claimable = sa.or_(_M.claimed_by.is_(None), _M.claimed_by == self.claimant, _M.claimed_until < now)
        query = (
            sa.select(sa.func.min(_R.next_attempt_at))
            .join(db.queue_messages, _M.id == _R.message_id)
            .where(_R.status == Status.QUEUED, claimable)
        )
        with self._engine.connect() as conn:
            value = conn.execute(query)
            result = value.scalar_one()
        return None if result is None else int(result)

    # -- recording attempts -------------------------------------------------------------------------------

    def record(self, message_id: int, outcomes: Sequence[Outcome], schedule: Sequence[float], max_age: float) -> bool:
        """Store the result of one attempt of a message (see record_batch)."""
        return self.record_batch([(message_id, outcomes)], schedule, max_age)[0]

    def record_batch(
        self, attempts: Sequence[tuple[int, Sequence[Outcome]]], schedule: Sequence[float], max_age: float
    ) -> list[bool]:
        """Store the results of attempts in one transaction; a temporary failure past `max_age` becomes a
        failure. A message with every recipient sent is removed at once. For each attempt: True when a failure
        awaits its report."""
        now = int(self._clock())
        removed: list[str] = []
        results = []
        with self._engine.begin() as conn:
            for message_id, outcomes in attempts:
                sent = [
                    {"recipient": o.recipient_id, "reply": o.reply[:1000], "mta": o.remote_mta[:253]}
                    for o in outcomes
                    if o.kind is Kind.SENT
                ]
                if sent:  # the usual outcome: one statement for all, nothing to read first
                    conn.execute(_MARK_SENT, sent)
                for outcome in outcomes:
                    if outcome.kind is not Kind.SENT:
                        self._record_one(conn, outcome, now, schedule, max_age)
                states = {
                    (status, bool(reported)) for status, reported in conn.execute(_STATES, {"message": message_id})
                }
                if states and states <= {(Status.SENT, False), (Status.SENT, True), (Status.FAILED, True)}:
                    filename = self._remove_rows(conn, message_id)
                    if filename is not None:
                        removed.append(filename)
                elif states:
                    born = {"message": message_id, "born": self.born_claimant, "claimant": self.claimant}
                    conn.execute(_BORN_CLAIM, born)
                results.append((Status.FAILED, False) in states)
        self._unlink(removed)
        return results

    def _unlink(self, filenames: Sequence[str]) -> None:
        """Remove sent messages' files after their rows are gone (a crash in between: reconcile removes them)."""

        def unlink() -> None:
            for filename in filenames:
                (self._root / "msg" / filename).unlink(missing_ok=True)

        if self._io is not None and filenames:
            self._io.submit(unlink)
        else:
            unlink()

    @staticmethod
    def _record_one(conn: sa.Connection, outcome: Outcome, now: int, schedule: Sequence[float], max_age: float) -> None:
        row = conn.execute(
            sa.select(_R.attempts, _M.created_at)
            .join(db.queue_messages, _M.id == _R.message_id)
            .where(_R.id == outcome.recipient_id)
        ).first()
        if row is None:  # deleted by the operator meanwhile
            return
        attempts, created_at = row[0] + 1, row[1]
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_reply": outcome.reply[:1000],
            "remote_mta": outcome.remote_mta[:253],
        }
        if outcome.kind is Kind.SENT:
            values["status"] = Status.SENT
        elif outcome.kind is Kind.PERMANENT or now - created_at >= max_age:
            values["status"] = Status.FAILED
        else:
            wait = schedule[min(attempts, len(schedule)) - 1]
            values["next_attempt_at"] = int(min(now + wait, created_at + max_age))
        conn.execute(sa.update(db.queue_recipients).where(_R.id == outcome.recipient_id).values(**values))

    def unsettled(self, busy_messages: Iterable[int]) -> list[Message]:
        """Messages with failures nobody was told about yet, or with nothing left to send."""
        busy = set(busy_messages)
        open_recipient = sa.exists().where(_R.message_id == _M.id, _R.status == Status.QUEUED)
        unreported = sa.exists().where(_R.message_id == _M.id, _R.status == Status.FAILED, _R.reported == sa.false())
        with self._engine.connect() as conn:
            found = self._messages(conn, sa.or_(~open_recipient, unreported))
        return [m for m in found if m.id not in busy]

    def delayed(self, older_than: float) -> list[Message]:
        """Messages with a real sender, still waiting, older than `older_than`, whose sender was not told yet."""
        waiting = sa.exists().where(_R.message_id == _M.id, _R.status == Status.QUEUED)
        with self._engine.connect() as conn:
            return self._messages(
                conn,
                sa.and_(_M.created_at <= int(older_than), _M.delay_notified == sa.false(), _M.sender != "", waiting),
            )

    def mark_delay_notified(self, message_id: int) -> None:
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.queue_messages).where(_M.id == message_id).values(delay_notified=True))

    def settle(self, message_id: int, reported: Iterable[int]) -> bool:
        """Mark failures as reported; remove the message when no recipient waits. True when it was removed."""
        with self._engine.begin() as conn:
            ids = list(reported)
            if ids:
                conn.execute(sa.update(db.queue_recipients).where(_R.id.in_(ids)).values(reported=True))
            waiting = conn.execute(
                sa.select(sa.func.count()).where(
                    _R.message_id == message_id,
                    sa.or_(_R.status == Status.QUEUED, sa.and_(_R.status == Status.FAILED, _R.reported == sa.false())),
                )
            ).scalar_one()
            if waiting:
                return False
            filename = self._remove_rows(conn, message_id)
        if filename is not None:
            (self._root / "msg" / filename).unlink(missing_ok=True)
        return True

    def _remove_rows(self, conn: sa.Connection, message_id: int) -> str | None:
        filename = conn.execute(_FILENAME, {"message": message_id}).scalar_one_or_none()
        conn.execute(_DELETE_RECIPIENTS, {"message": message_id})
        conn.execute(_DELETE_MESSAGE, {"message": message_id})
        return filename

    # -- operator commands --------------------------------------------------------------------------------

    def _select_ids(self, conn: sa.Connection, queue_ids: Sequence[str]) -> list[int]:
        query = sa.select(_M.id)
        if queue_ids:
            query = query.where(_M.queue_id.in_(list(queue_ids)))
        return [row[0] for row in conn.execute(query)]

    def waiting(self) -> tuple[int, int | None]:
        """(recipients still to deliver, creation time of the oldest message holding one) for the metrics."""
        recipients, messages = db.queue_recipients, db.queue_messages
        query = (
            sa.select(sa.func.count(), sa.func.min(messages.c.created_at))
            .select_from(recipients.join(messages, messages.c.id == recipients.c.message_id))
            .where(recipients.c.status == Status.QUEUED.value)
        )
        with self._engine.connect() as conn:
            count, oldest = conn.execute(query).one()
        return int(count), None if oldest is None else int(oldest)

    def retry(self, queue_ids: Sequence[str] = ()) -> int:
        """Make waiting recipients due now (all messages when no id is given); return how many."""
        with self._engine.begin() as conn:
            ids = self._select_ids(conn, queue_ids)
            result = conn.execute(
                sa.update(db.queue_recipients)
                .where(_R.message_id.in_(ids), _R.status == Status.QUEUED)
                .values(next_attempt_at=int(self._clock()))
            )
        for listener in self.listeners:
            listener()
        return int(result.rowcount)

    def delete(self, queue_ids: Sequence[str]) -> list[str]:
        """Remove messages from the queue without telling anyone; return the ids removed."""
        removed = []
        with self._engine.begin() as conn:
            for message_id in self._select_ids(conn, queue_ids):
                filename = self._remove_rows(conn, message_id)
                if filename is not None:
                    removed.append(filename)
        for filename in removed:
            (self._root / "msg" / filename).unlink(missing_ok=True)
        return removed

    # -- recovery -----------------------------------------------------------------------------------------

    def release_host_claims(self) -> int:
        """At start, before this host's queue runs: its claims are a previous life's (other nodes' stay theirs)."""
        host = self.claimant.rpartition(":")[0]
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(db.queue_messages)
                .where(_M.claimed_by.startswith(f"{host}:", autoescape=True))
                .values(claimed_by=None, claimed_until=0)
            )
        return int(result.rowcount)

    def reconcile(self) -> int:
        """After a crash, on a node starting alone (storage/serving.py): drop unacknowledged files and rows
        whose file vanished; return how many."""
        self.create()
        repaired = 0
        for entry in os.scandir(self._root / "tmp"):
            os.unlink(entry.path)
            repaired += 1
        with self._engine.begin() as conn:
            known = {row.filename: row.id for row in conn.execute(sa.select(_M.id, _M.filename))}
            on_disk = {entry.name for entry in os.scandir(self._root / "msg")}
            for name in on_disk - known.keys():
                os.unlink(self._root / "msg" / name)
                repaired += 1
            for name in known.keys() - on_disk:
                log.event(logger, "queue.file_missing", id=name)
                self._remove_rows(conn, known[name])
                repaired += 1
        return repaired
