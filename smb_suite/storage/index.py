"""The message index in SQL: folder and message rows, UIDs, flags, mod-sequences and summaries.

UIDs come from the folder's `uidnext` and only go up (RFC 3501 2.3.1.1); every change to a folder's messages
takes a new mod-sequence from its `highestmodseq` (RFC 7162 3), so a reader can ask for "what changed since".
Functions take the caller's connection: each store operation is one transaction.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from smb_suite.mail.summary import SearchText, Summary
from smb_suite.storage import db
from smb_suite.storage.prepared import Prepared

CHUNK = 500  # bound parameters per IN (...) query: SQLite allows 32766, PostgreSQL 65535
KEEP_EXPUNGED = 10_000  # expunged UIDs remembered per folder for QRESYNC (RFC 7162 3.2)


@dataclass(frozen=True, slots=True)
class Mailbox:
    id: int
    user_id: int
    name: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int = 1
    object_id: str = ""  # RFC 8474 MAILBOXID
    recent_from: int = 1  # RFC 3501 2.3.2: UIDs from here up are \Recent for the next read-write SELECT


class StoredMessage(NamedTuple):
    """One message's index row (a tuple: 100,000 of them load and sit in memory cheaply)."""

    uid: int
    filename: str
    size: int
    flags: frozenset[str]
    internaldate: int
    modseq: int = 1


class Identity(NamedTuple):
    """What a message is beyond its row in the folder's state: its EMAILID (RFC 8474 5.1) and when it was
    saved into the folder (RFC 8514 SAVEDATE; None: not known). Read per FETCH batch, not kept per session."""

    email_id: str
    saved_at: int | None


def new_object_id(kind: str) -> str:
    """A random opaque id (RFC 8474 4: objectid, 1*255 letters, digits, "-" or "_"): "M..." or "E..."."""
    return kind + secrets.token_hex(12)


@dataclass(frozen=True, slots=True)
class FolderStatus:
    """STATUS without loading the folder (RFC 3501 6.3.10, RFC 7162 3.1.6, RFC 8438 SIZE, RFC 9051 DELETED)."""

    mailbox: Mailbox
    messages: int
    unseen: int
    size: int = 0  # octets: the sum of the messages' RFC822.SIZE
    deleted: int = 0  # messages flagged \Deleted
    recent: int = 0  # not yet shown as \Recent to a read-write session (RFC 3501 6.3.10)


MAILBOX_COLUMNS = (
    db.mailboxes.c.id,
    db.mailboxes.c.user_id,
    db.mailboxes.c.name,
    db.mailboxes.c.uidvalidity,
    db.mailboxes.c.uidnext,
    db.mailboxes.c.highestmodseq,
    db.mailboxes.c.object_id,
    db.mailboxes.c.recent_from,
)
MESSAGE_COLUMNS = (
    db.messages.c.uid,
    db.messages.c.filename,
    db.messages.c.size,
    db.messages.c.flags,
    db.messages.c.internaldate,
    db.messages.c.modseq,
)
STRUCTURE_COLUMNS = (db.message_meta.c.envelope, db.message_meta.c.bodystructure, db.message_meta.c.body)
TEXT_COLUMNS = (
    db.message_meta.c.subject,
    db.message_meta.c.sender,
    db.message_meta.c.to,
    db.message_meta.c.cc,
    db.message_meta.c.bcc,
    db.message_meta.c.sent_day,
    db.message_meta.c.references,
)
SUMMARY_COLUMNS = STRUCTURE_COLUMNS + TEXT_COLUMNS


@functools.lru_cache(maxsize=4096)
def flag_set(text: str) -> frozenset[str]:
    """Flags from their stored text; equal sets are one object, so 100,000 messages hold a handful of sets."""
    return frozenset(text.split())


def flags_text(flags: Iterable[str]) -> str:
    return " ".join(sorted(set(flags)))


def message(row: Any) -> StoredMessage:
    uid, filename, size, flags, internaldate, modseq = row
    return StoredMessage(uid, filename, size, flag_set(flags), internaldate, modseq)


def mailbox_rows(conn: sa.Connection, user_id: int) -> list[Mailbox]:
    query = sa.select(*MAILBOX_COLUMNS).where(db.mailboxes.c.user_id == user_id).order_by(db.mailboxes.c.name)
    return [Mailbox(*row) for row in conn.execute(query)]


_MAILBOX_BY_NAME = sa.select(*MAILBOX_COLUMNS).where(
    db.mailboxes.c.user_id == sa.bindparam("user"), db.mailboxes.c.name == sa.bindparam("name")
)


def mailbox_named(conn: sa.Connection, user_id: int, name: str) -> Mailbox | None:
    """One folder by its canonical name (every APPEND and delivery looks one up)."""
    row = conn.execute(_MAILBOX_BY_NAME, {"user": user_id, "name": name}).first()
    return None if row is None else Mailbox(*row)


_MAILBOX_BY_ID = Prepared(sa.select(*MAILBOX_COLUMNS).where(db.mailboxes.c.id == sa.bindparam("mailbox")))


def mailbox_row(conn: sa.Connection, mailbox_id: int) -> Mailbox | None:
    """One folder by id (every SELECT, NOOP and change notification reads it)."""
    row = _MAILBOX_BY_ID.first(conn, {"mailbox": mailbox_id})
    return None if row is None else Mailbox(*row)


def messages_query(mailbox_id: int) -> sa.Select[Any]:
    return sa.select(*MESSAGE_COLUMNS).where(db.messages.c.mailbox_id == mailbox_id).order_by(db.messages.c.uid)


def chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


# Statements run by every STORE, EXPUNGE and change notification are built once: building one costs more
# Python than running it (SQLAlchemy caches their compiled form by a key it computes per new object). Those
# the store writer runs for every write command are Prepared (prepared.py): they skip SQLAlchemy's execution.
_BY_UIDS = (
    sa.select(*MESSAGE_COLUMNS)
    .where(
        db.messages.c.mailbox_id == sa.bindparam("mailbox"), db.messages.c.uid.in_(sa.bindparam("uids", expanding=True))
    )
    .order_by(db.messages.c.uid)
)
_CHANGED_SINCE = (
    sa.select(*MESSAGE_COLUMNS)
    .where(db.messages.c.mailbox_id == sa.bindparam("mailbox"), db.messages.c.modseq > sa.bindparam("modseq"))
    .order_by(db.messages.c.uid)
)
_COUNT = sa.select(sa.func.count()).select_from(db.messages).where(db.messages.c.mailbox_id == sa.bindparam("mailbox"))
_NEXT_MODSEQ = Prepared(
    sa.update(db.mailboxes)
    .where(db.mailboxes.c.id == sa.bindparam("mailbox"))
    .values(highestmodseq=db.mailboxes.c.highestmodseq + 1)
    .returning(db.mailboxes.c.highestmodseq)
)
SET_FLAGS = Prepared(
    sa.update(db.messages)
    .where(db.messages.c.mailbox_id == sa.bindparam("mailbox"), db.messages.c.uid == sa.bindparam("key"))
    .values(flags=sa.bindparam("f"), filename=sa.bindparam("n"), modseq=sa.bindparam("m"))
)


_BY_UID_RANGE = Prepared(
    sa.select(*MESSAGE_COLUMNS)
    .where(
        db.messages.c.mailbox_id == sa.bindparam("mailbox"),
        db.messages.c.uid.between(sa.bindparam("low"), sa.bindparam("high")),
    )
    .order_by(db.messages.c.uid)
)


def _consecutive(chunk: Sequence[int]) -> bool:
    """A sorted chunk of distinct UIDs with no gap: a BETWEEN names exactly these (its SQL is compiled once,
    where an expanding IN list is rendered anew for every call; STORE names one message most of the time)."""
    return chunk[-1] - chunk[0] + 1 == len(chunk)


def by_uids(conn: sa.Connection, mailbox_id: int, uids: Iterable[int]) -> list[StoredMessage]:
    """The named messages that exist, by ascending UID."""
    wanted = sorted(set(uids))
    found: list[StoredMessage] = []
    for chunk in chunks(wanted):
        if _consecutive(chunk):
            rows = _BY_UID_RANGE.rows(conn, {"mailbox": mailbox_id, "low": chunk[0], "high": chunk[-1]})
            found.extend(map(message, rows))
        else:
            found.extend(map(message, conn.execute(_BY_UIDS, {"mailbox": mailbox_id, "uids": list(chunk)})))
    return found


def changed_since(conn: sa.Connection, mailbox_id: int, modseq: int) -> list[StoredMessage]:
    """Messages whose mod-sequence is above `modseq` (RFC 7162), by ascending UID."""
    return [message(row) for row in conn.execute(_CHANGED_SINCE, {"mailbox": mailbox_id, "modseq": modseq})]


_ALLOCATE = Prepared(
    sa.update(db.mailboxes)
    .where(db.mailboxes.c.id == sa.bindparam("mailbox"))
    .values(uidnext=db.mailboxes.c.uidnext + sa.bindparam("count"), highestmodseq=db.mailboxes.c.highestmodseq + 1)
    .returning(db.mailboxes.c.uidnext, db.mailboxes.c.highestmodseq)
)


def allocate(conn: sa.Connection, mailbox_id: int, count: int) -> tuple[int, int]:
    """Reserve `count` consecutive UIDs and a new mod-sequence for them, in one statement; (first UID, modseq)."""
    uidnext, modseq = _ALLOCATE.one(conn, {"mailbox": mailbox_id, "count": count})
    return int(uidnext) - count, int(modseq)


def next_modseq(conn: sa.Connection, mailbox_id: int) -> int:
    """A new mod-sequence for one change of the folder (RFC 7162 3: strictly increasing per folder)."""
    return int(_NEXT_MODSEQ.scalar(conn, {"mailbox": mailbox_id}))


def insert(
    conn: sa.Connection,
    mailbox_id: int,
    stored: StoredMessage,
    summary: Summary | None,
    saved_at: int,
    email_id: str | None = None,
) -> int:
    """Add a message row (and its summary), saved at `saved_at`, a new message unless `email_id` says which
    (a copy); return the row id."""
    row = _message_row(mailbox_id, stored, saved_at, email_id)
    message_id = int(_ADD_MESSAGE.scalar(conn, row))
    if summary is not None:
        _ADD_META.run(conn, {"message_id": message_id, **summary_values(summary)})
    return message_id


def insert_many(conn: sa.Connection, mailbox_id: int, rows: Sequence[tuple[StoredMessage, Summary]]) -> None:
    """Add many message rows with their summaries in two statements (recovery indexes whole Maildirs); each
    was saved when its file was written (its INTERNALDATE, the file's time)."""
    if not rows:
        return
    conn.execute(_INSERT_MESSAGE, [_message_row(mailbox_id, stored, stored.internaldate) for stored, _ in rows])
    ids = row_ids(conn, mailbox_id, [stored.uid for stored, _ in rows])
    conn.execute(_INSERT_META, [{"message_id": ids[stored.uid], **summary_values(summary)} for stored, summary in rows])


def _message_row(mailbox_id: int, stored: StoredMessage, saved_at: int, email_id: str | None = None) -> dict[str, Any]:
    return {
        "mailbox_id": mailbox_id,
        "uid": stored.uid,
        "filename": stored.filename,
        "size": stored.size,
        "flags": flags_text(stored.flags),
        "internaldate": stored.internaldate,
        "modseq": stored.modseq,
        "email_id": email_id or new_object_id("E"),
        "saved_at": saved_at,
    }


_INSERT_MESSAGE = sa.insert(db.messages)
_INSERT_META = sa.insert(db.message_meta)


def _inserting(table: sa.Table, names: Iterable[str]) -> sa.Insert:
    """An INSERT of one row whose values are bound by their column names."""
    return sa.insert(table).values({name: sa.bindparam(name) for name in names})


_ROW_NAMES = ("mailbox_id", "uid", "filename", "size", "flags", "internaldate", "modseq", "email_id", "saved_at")
_ADD_MESSAGE = Prepared(_inserting(db.messages, _ROW_NAMES).returning(db.messages.c.id))  # _message_row's keys
_ADD_META = Prepared(_inserting(db.message_meta, ["message_id", *(column.name for column in SUMMARY_COLUMNS)]))


def summary_values(summary: Summary) -> dict[str, Any]:
    values = {column.name: getattr(summary, column.name) for column in STRUCTURE_COLUMNS}
    values.update({column.name: getattr(summary.text, column.name) for column in TEXT_COLUMNS})
    return values


def add_summaries(conn: sa.Connection, mailbox_id: int, found: dict[int, Summary]) -> None:
    """Summaries for messages of the folder that have none (a message that has one keeps it)."""
    ids = row_ids(conn, mailbox_id, sorted(found))
    having: set[int] = set()
    for chunk in chunks(sorted(ids.values())):
        query = sa.select(db.message_meta.c.message_id).where(db.message_meta.c.message_id.in_(chunk))
        having.update(conn.execute(query).scalars())
    rows = [
        {"message_id": ids[uid], **summary_values(summary)}
        for uid, summary in found.items()
        if uid in ids and ids[uid] not in having
    ]
    if rows:
        conn.execute(_INSERT_META, rows)


def row_ids(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> dict[int, int]:
    """uid -> messages.id for the named messages."""
    found: dict[int, int] = {}
    for chunk in chunks(uids):
        query = sa.select(db.messages.c.uid, db.messages.c.id).where(
            db.messages.c.mailbox_id == mailbox_id, db.messages.c.uid.in_(chunk)
        )
        found.update({int(uid): int(row_id) for uid, row_id in conn.execute(query)})
    return found


def _uids_in(chunk: Sequence[int]) -> sa.ColumnElement[bool]:
    """A sorted chunk of UIDs as a condition: a range when they are dense (cheaper than a long IN list)."""
    uid = db.messages.c.uid
    return uid.between(chunk[0], chunk[-1]) if chunk[-1] - chunk[0] < 2 * len(chunk) else uid.in_(chunk)


def _meta_rows(conn: sa.Connection, mailbox_id: int, uids: Sequence[int], columns: Sequence[Any]) -> Iterator[Any]:
    """(uid, *columns) of message_meta for the named messages that have a row."""
    wanted = set(uids)
    for chunk in chunks(sorted(wanted)):
        query = (
            sa.select(db.messages.c.uid, *columns)
            .join(db.message_meta, db.message_meta.c.message_id == db.messages.c.id)
            .where(db.messages.c.mailbox_id == mailbox_id, _uids_in(chunk))
        )
        yield from (row for row in conn.execute(query) if row[0] in wanted)


def identities(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> dict[int, Identity]:
    """uid -> EMAILID and save date of the named messages."""
    found: dict[int, Identity] = {}
    columns = (db.messages.c.uid, db.messages.c.email_id, db.messages.c.saved_at)
    wanted = set(uids)
    for chunk in chunks(sorted(wanted)):
        query = sa.select(*columns).where(db.messages.c.mailbox_id == mailbox_id, _uids_in(chunk))
        rows = (row for row in conn.execute(query) if row[0] in wanted)
        found.update({int(uid): Identity(email_id, saved) for uid, email_id, saved in rows})
    return found


def summaries(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> dict[int, Summary]:
    """uid -> summary for the named messages that have one."""
    rows = _meta_rows(conn, mailbox_id, uids, SUMMARY_COLUMNS)
    return {int(row[0]): Summary(row[1], row[2], row[3], _text(row[4:])) for row in rows}


def envelopes(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> dict[int, tuple[bytes, str | None]]:
    """uid -> the stored ENVELOPE (wire form) and References of the named messages that have them (SORT and
    THREAD keys; References is None in rows older than migration 0016)."""
    columns = (db.message_meta.c.envelope, db.message_meta.c.references)
    return {int(row[0]): (row[1], row[2]) for row in _meta_rows(conn, mailbox_id, uids, columns)}


def search_texts(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> dict[int, SearchText]:
    """uid -> the searchable header fields of the named messages that have them."""
    return {int(row[0]): _text(row[1:]) for row in _meta_rows(conn, mailbox_id, uids, TEXT_COLUMNS)}


def _text(row: Sequence[Any]) -> SearchText:
    subject, sender, to, cc, bcc, sent_day, references = row
    return SearchText(subject, sender, to, cc, bcc, sent_day, references)


def copy_summary(conn: sa.Connection, source_id: int, target_id: int) -> None:
    columns = [column.name for column in SUMMARY_COLUMNS]
    source = sa.select(sa.literal(target_id), *SUMMARY_COLUMNS).where(db.message_meta.c.message_id == source_id)
    conn.execute(sa.insert(db.message_meta).from_select(["message_id", *columns], source))


def count(conn: sa.Connection, mailbox_id: int) -> int:
    return int(conn.execute(_COUNT, {"mailbox": mailbox_id}).scalar_one())


def _status_query() -> sa.Select[Any]:
    flags = db.messages.c.flags
    seen, deleted = flags.contains("\\Seen", autoescape=True), flags.contains("\\Deleted", autoescape=True)
    recent = db.messages.c.uid >= sa.bindparam("recent")
    return sa.select(
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(sa.case((seen, 0), else_=1)), 0),
        sa.func.coalesce(sa.func.sum(db.messages.c.size), 0),
        sa.func.coalesce(sa.func.sum(sa.case((deleted, 1), else_=0)), 0),
        sa.func.coalesce(sa.func.sum(sa.case((recent, 1), else_=0)), 0),
    ).where(db.messages.c.mailbox_id == sa.bindparam("mailbox"))


_STATUS = _status_query()


def status(conn: sa.Connection, mailbox: Mailbox) -> FolderStatus:
    """One aggregate query over the folder's rows (flags text holds system flags as exact words)."""
    row = conn.execute(_STATUS, {"mailbox": mailbox.id, "recent": mailbox.recent_from}).one()
    total, unseen, size, deleted_count, recent_count = row
    return FolderStatus(mailbox, int(total), int(unseen), int(size), int(deleted_count), int(recent_count))


_DELETED = Prepared(
    sa.select(*MESSAGE_COLUMNS)
    .where(
        db.messages.c.mailbox_id == sa.bindparam("mailbox"),
        db.messages.c.flags.contains("\\Deleted", autoescape=True),
    )
    .order_by(db.messages.c.uid)
)
_REMOVE = sa.delete(db.messages).where(
    db.messages.c.mailbox_id == sa.bindparam("mailbox"), db.messages.c.uid.in_(sa.bindparam("uids", expanding=True))
)
_REMOVE_RANGE = Prepared(
    sa.delete(db.messages).where(
        db.messages.c.mailbox_id == sa.bindparam("mailbox"),
        db.messages.c.uid.between(sa.bindparam("low"), sa.bindparam("high")),
    )
)
_INSERT_EXPUNGED = Prepared(_inserting(db.expunged, ["mailbox_id", "uid", "modseq"]))
_EXPUNGED_CUTOFF = Prepared(
    sa.select(db.expunged.c.modseq)
    .where(db.expunged.c.mailbox_id == sa.bindparam("mailbox"))
    .order_by(db.expunged.c.modseq.desc())
    .offset(sa.bindparam("keep", type_=sa.Integer))
    .limit(1)
)


def deleted(conn: sa.Connection, mailbox_id: int) -> list[StoredMessage]:
    """Messages flagged \\Deleted (flags text holds system flags as exact words; keywords have no '\\')."""
    return [m for m in map(message, _DELETED.rows(conn, {"mailbox": mailbox_id})) if "\\Deleted" in m.flags]


def remove(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> int:
    """Delete the rows of `uids`; their removal takes a new mod-sequence (`vanish`), returned."""
    for chunk in chunks(sorted(set(uids))):
        if _consecutive(chunk):
            _REMOVE_RANGE.run(conn, {"mailbox": mailbox_id, "low": chunk[0], "high": chunk[-1]})
        else:
            conn.execute(_REMOVE, {"mailbox": mailbox_id, "uids": list(chunk)})
    return vanish(conn, mailbox_id, uids)


def vanish(conn: sa.Connection, mailbox_id: int, uids: Sequence[int]) -> int:
    """RFC 7162 3.2: messages leaving a folder (expunge, move) take a new mod-sequence (returned), remembered
    with their UIDs; beyond KEEP_EXPUNGED per folder the oldest are forgotten and the folder's floor says up to
    where."""
    modseq = next_modseq(conn, mailbox_id)
    if not uids:
        return modseq
    _INSERT_EXPUNGED.run_many(conn, [{"mailbox_id": mailbox_id, "uid": uid, "modseq": modseq} for uid in uids])
    table = db.expunged
    cutoff = _EXPUNGED_CUTOFF.scalar(conn, {"mailbox": mailbox_id, "keep": KEEP_EXPUNGED})
    if cutoff is not None:
        conn.execute(sa.delete(table).where(table.c.mailbox_id == mailbox_id, table.c.modseq <= cutoff))
        # cutoffs only grow: everything at or below the last one is gone, and new removals take higher values
        conn.execute(sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox_id).values(vanished_floor=cutoff))
    return modseq


def expunged_since(conn: sa.Connection, mailbox_id: int, modseq: int) -> list[int] | None:
    """UIDs removed after `modseq`, ascending; None when some of those may have been forgotten."""
    floor = conn.execute(sa.select(db.mailboxes.c.vanished_floor).where(db.mailboxes.c.id == mailbox_id)).scalar()
    if floor is None or floor > modseq:
        return None
    table = db.expunged
    query = (
        sa.select(table.c.uid).where(table.c.mailbox_id == mailbox_id, table.c.modseq > modseq).order_by(table.c.uid)
    )
    return [int(uid) for uid in conn.execute(query).scalars()]
