"""Messages in a folder: reading the index (lists, changes since a reader's copy, summaries), adding one index
row with its quota charge, changing flags and expunging.

Every change to a folder's messages takes a new mod-sequence (RFC 7162) and is published on `changes`, so
sessions that show the folder can ask the index for exactly what changed (`changes_since`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from smb_suite.durable import fsync_dir_later, remove_later
from smb_suite.errors import UnknownMailbox
from smb_suite.mail.summary import SearchText, Summary
from smb_suite.storage import database, db, index, maildir, paths
from smb_suite.storage.folders import Folders, Owner
from smb_suite.storage.index import Identity, Mailbox, StoredMessage


@dataclass(frozen=True, slots=True)
class FlagUpdate:
    """What STORE did: every named message as it is now, and those refused by UNCHANGEDSINCE (RFC 7162 3.1.3)."""

    messages: dict[int, StoredMessage]
    modified: list[int]
    modseq: int = 0  # the folder's mod-sequence after the change (0: nothing changed)


@dataclass(frozen=True, slots=True)
class Expunged:
    """What EXPUNGE did: the UIDs removed, and the folder's mod-sequence after it (0: nothing removed)."""

    uids: list[int]
    modseq: int = 0


class Messages(Folders):
    # -- reading the index --------------------------------------------------------------------------------

    def messages(self, mailbox: Mailbox) -> list[StoredMessage]:
        with self._engine.connect() as conn:
            return [index.message(row) for row in conn.execute(index.messages_query(mailbox.id))]

    def refresh(self, mailbox: Mailbox) -> Mailbox:
        """The mailbox's current row (uidnext moves as mail arrives)."""
        with self._engine.connect() as conn:
            current = index.mailbox_row(conn, mailbox.id)
        if current is None:
            raise UnknownMailbox(f"folder {mailbox.name} no longer exists")
        return current

    def snapshot(self, mailbox: Mailbox) -> tuple[Mailbox, list[StoredMessage]]:
        """The folder row and all its messages, read in one transaction."""
        with self._engine.connect() as conn:
            current = index.mailbox_row(conn, mailbox.id)
            if current is None:
                raise UnknownMailbox(f"folder {mailbox.name} no longer exists")
            return current, [index.message(row) for row in conn.execute(index.messages_query(mailbox.id)).all()]

    def changes_since(self, mailbox: Mailbox, known: int) -> tuple[Mailbox, list[StoredMessage], list[int] | None]:
        """What changed since a reader's copy: `mailbox` as it last read it, holding `known` messages.

        Returns the folder row now, the messages new or changed since (mod-sequence above the reader's), and
        all UIDs only when some messages were expunged (the count says so). One read transaction, index only.
        """
        with self._engine.connect() as conn:
            current = index.mailbox_row(conn, mailbox.id)
            if current is None:
                raise UnknownMailbox(f"folder {mailbox.name} no longer exists")
            if current.highestmodseq == mailbox.highestmodseq:
                return current, [], None
            changed = index.changed_since(conn, mailbox.id, mailbox.highestmodseq)
            new = sum(1 for m in changed if m.uid >= mailbox.uidnext)
            if index.count(conn, mailbox.id) == known + new:
                return current, changed, None
            uids = conn.execute(
                sa.select(db.messages.c.uid).where(db.messages.c.mailbox_id == mailbox.id).order_by(db.messages.c.uid)
            ).scalars()
            return current, changed, [int(uid) for uid in uids]

    def vanished_since(self, mailbox: Mailbox, modseq: int) -> list[int] | None:
        """UIDs expunged or moved away after `modseq` (RFC 7162 3.2); None when the folder may have forgotten
        some of them (then every UID not present counts as vanished)."""
        with self._engine.connect() as conn:
            return index.expunged_since(conn, mailbox.id, modseq)

    def summaries(self, mailbox: Mailbox, uids: list[int]) -> dict[int, Summary]:
        with self._engine.connect() as conn:
            return index.summaries(conn, mailbox.id, uids)

    def identities(self, mailbox: Mailbox, uids: list[int]) -> dict[int, Identity]:
        with self._engine.connect() as conn:
            return index.identities(conn, mailbox.id, uids)

    def envelopes(self, mailbox: Mailbox, uids: list[int]) -> dict[int, tuple[bytes, str | None]]:
        with self._engine.connect() as conn:
            return index.envelopes(conn, mailbox.id, uids)

    def search_texts(self, mailbox: Mailbox, uids: list[int]) -> dict[int, SearchText]:
        with self._engine.connect() as conn:
            return index.search_texts(conn, mailbox.id, uids)

    def keep_summaries(self, mailbox: Mailbox, computed: dict[int, Summary]) -> None:
        """Index summaries computed on demand, for messages that had none (a migration drops them when their
        rendering changes): the next FETCH reads them from the index. Messages expunged meanwhile are skipped."""
        with self._engine.begin() as conn:
            index.add_summaries(conn, mailbox.id, computed)

    # -- adding messages ----------------------------------------------------------------------------------

    def _add(
        self,
        conn: sa.Connection,
        owner: Owner,
        mailbox: Mailbox,
        filename: str,
        size: int,
        flags: frozenset[str],
        internaldate: int,
        summary: Summary | None,
        enforce: bool = True,
    ) -> tuple[int, list[int], int]:
        """Charge the quota (may raise QuotaExceeded) and add the index row; return UID, warning levels and the
        folder's new mod-sequence."""
        levels = self.quota.reserve(conn, owner.tenant_id, size, owner.id, enforce)
        uid, modseq = index.allocate(conn, mailbox.id, 1)
        stored = StoredMessage(uid, filename, size, flags, internaldate, modseq)
        index.insert(conn, mailbox.id, stored, summary, int(self._clock()))
        return uid, levels, modseq

    def is_full(self, owner: Owner) -> bool:
        with self._engine.connect() as conn:
            return self.quota.is_full(conn, owner.tenant_id, owner.id)

    # -- changing messages --------------------------------------------------------------------------------

    def store_flags(
        self,
        owner: Owner,
        mailbox: Mailbox,
        uids: Iterable[int],
        flags: Iterable[str],
        mode: int,
        unchanged_since: int | None = None,
    ) -> FlagUpdate:
        """Set (mode 0), add (mode 1) or remove (mode -1) flags; keep Maildir names in step.

        Only messages whose flags really change get the new mod-sequence; with `unchanged_since`, messages
        changed after it are left alone and reported in `modified` (RFC 7162 3.1.3).
        """
        wanted = frozenset(flags)
        folder = self.folder(owner, mailbox)
        result: dict[int, StoredMessage] = {}
        modified: list[int] = []
        renamed = False
        rows: list[dict[str, object]] = []  # one executemany: a statement per message cost ~0.7 ms each
        with database.transaction(self._engine) as conn:
            modseq = 0
            for message in index.by_uids(conn, mailbox.id, uids):
                if unchanged_since is not None and message.modseq > unchanged_since:
                    modified.append(message.uid)
                    continue
                new_flags = message.flags | wanted if mode > 0 else message.flags - wanted if mode < 0 else wanted
                if new_flags == message.flags:
                    result[message.uid] = message
                    continue
                modseq = modseq or index.next_modseq(conn, mailbox.id)
                filename = maildir.rename_for_flags(folder, message.filename, new_flags)
                renamed = renamed or filename != message.filename
                rows.append({"key": message.uid, "f": index.flags_text(new_flags), "n": filename, "m": modseq})
                result[message.uid] = message._replace(flags=new_flags, filename=filename, modseq=modseq)
            if rows:
                index.SET_FLAGS.run_many(conn, [{"mailbox": mailbox.id, **row} for row in rows])
            if renamed:
                fsync_dir_later(folder / "cur")
        if modseq:
            self.changes.publish(mailbox.id, modseq)
        return FlagUpdate(result, modified, modseq)

    def expunge(self, owner: Owner, mailbox: Mailbox, uids: Iterable[int] | None = None) -> Expunged:
        """Remove messages flagged \\Deleted (restricted to `uids` when given)."""
        allowed = None if uids is None else set(uids)
        folder = self.folder(owner, mailbox)
        with database.transaction(self._engine) as conn:
            doomed = [m for m in index.deleted(conn, mailbox.id) if allowed is None or m.uid in allowed]
            if not doomed:
                return Expunged([])
            modseq = index.remove(conn, mailbox.id, [m.uid for m in doomed])
            self.quota.release(conn, owner.tenant_id, sum(m.size for m in doomed), owner.id)
        for message in doomed:
            remove_later(paths.message_file(folder, message.filename))
        self.changes.publish(mailbox.id, modseq)
        return Expunged([m.uid for m in doomed], modseq)
