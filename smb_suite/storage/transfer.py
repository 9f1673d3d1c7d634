"""Messages into folders: APPEND, delivery to INBOXes (one or a group commit), COPY, MOVE, and RENAME (which,
for INBOX, moves its messages into the new folder).

Durability contract (docs/ARCHITECTURE.md): write to tmp/, fsync, rename into new/, fsync the directory, then commit
the index row together with the quota usage; only then may a front end answer 250 or OK. A file written for a
transaction that fails is removed again, so nothing unaccounted stays on disk.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from smb_suite.durable import fsync_dir, fsync_dir_later
from smb_suite.errors import AlreadyExists, InvalidMailboxName, SmbSuiteError, UnknownMailbox
from smb_suite.mail.summary import Summary, summarize
from smb_suite.storage import database, db, index, maildir, paths
from smb_suite.storage.folders import DELIMITER, Owner, claim_recent, is_inferior
from smb_suite.storage.index import Mailbox
from smb_suite.storage.messages import Messages
from smb_suite.storage.prepared import Prepared

_UIDNEXT = Prepared(sa.select(db.mailboxes.c.uidnext).where(db.mailboxes.c.id == sa.bindparam("mailbox")))


@dataclass(frozen=True, slots=True)
class Transfer:
    """COPY or MOVE: the target folder and (source UID, new UID) pairs, for COPYUID (RFC 4315 3)."""

    target: Mailbox
    pairs: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append: its octets, flags and internal date (now, when None)."""

    data: bytes
    flags: frozenset[str] = frozenset()
    internaldate: int | None = None


@dataclass(frozen=True, slots=True)
class Staged:
    """Messages of an APPEND on disk, not yet in the index (Transfers.stage): per message its file name,
    internal date, summary, size and flags; the files (removed if the commit fails) and folders to sync."""

    mailbox: Mailbox
    messages: list[tuple[str, int, Summary, int, frozenset[str]]]
    written: list[Path]
    directories: list[Path]


class Transfers(Messages):
    def append(
        self,
        owner: Owner,
        name: str,
        data: bytes,
        flags: Iterable[str] = (),
        internaldate: int | None = None,
        io: Executor | None = None,
    ) -> tuple[Mailbox, int]:
        """Store one message durably in a folder; return the folder and the message's UID."""
        mailbox, [uid] = self.append_many(owner, name, [NewMessage(data, frozenset(flags), internaldate)], io)
        return mailbox, uid

    def append_many(
        self, owner: Owner, name: str, messages: Sequence[NewMessage], io: Executor | None = None
    ) -> tuple[Mailbox, list[int]]:
        """Store messages durably in a folder, all or none (MULTIAPPEND, RFC 3502); return their UIDs in order:
        `stage` then `commit_staged`."""
        return self.commit_staged(owner, self.stage(owner, name, messages, io))

    def stage(self, owner: Owner, name: str, messages: Sequence[NewMessage], io: Executor | None = None) -> Staged:
        """The first half of an APPEND, on any thread (beside the writer): every file written, synced and renamed
        into the folder, every message summarised. With `io`, each file is written while its message is
        summarised. If anything fails, no file stays."""
        mailbox = self.mailbox(owner, name)
        folder = self.folder(owner, mailbox)
        written: list[Path] = []  # the files, removed again if anything below fails
        with self._unlink_on_failure(written):
            files = [self._write_message(folder, message, written, io) for message in messages]
        directories = {folder / "new", *(folder / "cur" for message in messages if _in_cur(message.flags))}
        sizes = [len(message.data) for message in messages]
        flags = [message.flags for message in messages]
        return Staged(
            mailbox,
            [(*file, size, flag) for file, size, flag in zip(files, sizes, flags, strict=True)],
            written,
            sorted(directories),
        )

    def commit_staged(
        self, owner: Owner, staged: Staged, record: Callable[[sa.Connection], None] | None = None
    ) -> tuple[Mailbox, list[int]]:
        """The second half, on the writer: one transaction adds every row and charges the quota for all of
        them; if that fails (QuotaExceeded, the folder deleted meanwhile ...), no file stays. The folders are
        fsynced before the index commits, or, on the store writer, with the batch's log (durable.fsync_dir_later):
        the caller answers only after both. `record` writes the caller's own rows in that same transaction (an
        import's ledger: the messages and the note that they came in commit together)."""
        mailbox = staged.mailbox
        with self._unlink_on_failure(list(staged.written)):
            for directory in staged.directories:
                fsync_dir_later(directory)
            with database.transaction(self._engine) as conn:
                if index.mailbox_row(conn, mailbox.id) is None:
                    raise UnknownMailbox(f"folder {mailbox.name} no longer exists")
                added = [
                    self._add(conn, owner, mailbox, filename, size, flags, when, summary)
                    for filename, when, summary, size, flags in staged.messages
                ]
                if record is not None:
                    record(conn)
        self.changes.publish(mailbox.id, max(modseq for _, _, modseq in added) if added else None)
        self.quota.announce(owner.tenant_id, sorted({level for _, levels, _ in added for level in levels}))
        return mailbox, [uid for uid, _, _ in added]

    def commit_claiming(self, owner: Owner, staged: Staged) -> tuple[Mailbox, list[int], range]:
        """`commit_staged` for a session that shows the folder read-write: in the same transaction it claims
        the \\Recent of every message up to the new ones (RFC 3501 2.3.2, as its next look at the folder
        would), so the APPEND's one commit and fsync round also covers the claim. Returns the claimed UIDs."""
        claimed = range(0)

        def claim(conn: sa.Connection) -> None:
            nonlocal claimed
            uidnext = _UIDNEXT.scalar(conn, {"mailbox": staged.mailbox.id})
            claimed = claim_recent(conn, staged.mailbox.id, int(uidnext))

        mailbox, uids = self.commit_staged(owner, staged, claim)
        return mailbox, uids, claimed

    def _write_message(
        self, folder: Path, message: NewMessage, written: list[Path], io: Executor | None
    ) -> tuple[str, int, Summary]:
        """One message's file in new/ (cur/ when it has flags Maildir names), not yet synced; its summary."""
        when = int(self._clock()) if message.internaldate is None else message.internaldate
        writing = io.submit(maildir.write_new, folder, message.data, when) if io is not None else None
        try:
            summary = summarize(message.data)
        finally:
            filename = writing.result() if writing is not None else maildir.write_new(folder, message.data, when)
            written.append(paths.message_file(folder, filename))
        if _in_cur(message.flags):
            filename = maildir.rename_for_flags(folder, filename, message.flags)
            written[-1] = paths.message_file(folder, filename)
        return filename, when, summary

    def deliver(self, owners: Iterable[Owner], data: bytes, enforce: bool = True) -> None:
        """Deliver one message to each owner's INBOX: all files durable, then one index transaction.

        All or nothing: if one recipient's quota cannot take it, no copy is kept and QuotaExceeded is raised.
        """
        [error] = self.deliver_batch([(list(owners), data)], enforce=enforce)
        if error is not None:
            raise error

    def deliver_batch(
        self, batch: Sequence[tuple[Sequence[Owner], bytes]], io: Executor | None = None, enforce: bool = True
    ) -> list[SmbSuiteError | None]:
        """Deliver several messages at once (group commit): files written and fsynced in parallel on `io`, each
        new/ directory fsynced once, one transaction. Each message is all or nothing on its own (a savepoint):
        one whose quota check fails gets its error in the result and leaves no copy; the others are kept."""
        now = int(self._clock())
        summaries = [summarize(data) for _, data in batch]
        inboxes: dict[int, Mailbox] = {}
        targets: list[tuple[int, Owner, Mailbox, bytes]] = []
        for item, (owners, data) in enumerate(batch):
            for owner in owners:
                if owner.id not in inboxes:
                    inboxes[owner.id] = self.mailbox(owner, "INBOX")
                targets.append((item, owner, inboxes[owner.id], data))

        def write(target: tuple[int, Owner, Mailbox, bytes]) -> str:
            _, owner, mailbox, data = target
            return maildir.write_new(self.folder(owner, mailbox), data, mtime=now)

        written: list[Path] = []
        errors: list[SmbSuiteError | None] = [None] * len(batch)
        announcements: list[tuple[int, list[int]]] = []
        with self._unlink_on_failure(written):
            mapper = io.map if io is not None and len(targets) > 1 else map
            filenames = list(mapper(write, targets))
            written += [
                paths.message_file(self.folder(o, m), f) for (_, o, m, _), f in zip(targets, filenames, strict=True)
            ]
            folders = {self.folder(owner, mailbox) / "new" for _, owner, mailbox, _ in targets}
            # The directory fsyncs run while the index commits: the caller answers only after both, and a crash
            # between them leaves a row without its file or a file without its row, which reconcile repairs.
            synced = [io.submit(fsync_dir, folder) for folder in folders] if io is not None else []
            if io is None:
                for folder in folders:
                    fsync_dir(folder)
            with self._engine.begin() as conn:
                for item in range(len(batch)):
                    mine = [(t, f) for t, f in zip(targets, filenames, strict=True) if t[0] == item]
                    savepoint = conn.begin_nested()
                    try:
                        reached = [
                            (
                                o.tenant_id,
                                self._add(conn, o, m, f, len(d), frozenset(), now, summaries[item], enforce)[1],
                            )
                            for (_, o, m, d), f in mine
                        ]
                    except SmbSuiteError as error:
                        savepoint.rollback()
                        errors[item] = error
                        for (_, owner, mailbox, _), f in mine:
                            paths.message_file(self.folder(owner, mailbox), f).unlink(missing_ok=True)
                        continue
                    savepoint.commit()
                    announcements += reached
            for future in synced:
                future.result()
        for mailbox_id in {mailbox.id for item, _, mailbox, _ in targets if errors[item] is None}:
            self.changes.publish(mailbox_id)
        for tenant_id, levels in announcements:
            self.quota.announce(tenant_id, levels)
        return errors

    @staticmethod
    @contextlib.contextmanager
    def _unlink_on_failure(written: list[Path]) -> Iterator[None]:
        """Remove files written for an index transaction that failed, so nothing unaccounted stays on disk."""
        try:
            yield
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise

    def copy(self, owner: Owner, source: Mailbox, uids: Iterable[int], target_name: str) -> Transfer:
        """Copy messages into a folder of the same owner (hard links: Maildir files never change)."""
        target = self.mailbox(owner, target_name)
        source_folder, target_folder = self.folder(owner, source), self.folder(owner, target)
        created: list[Path] = []
        with self._unlink_on_failure(created), self._engine.begin() as conn:
            messages = index.by_uids(conn, source.id, uids)
            ids = index.row_ids(conn, source.id, [m.uid for m in messages])
            identities = index.identities(conn, source.id, [m.uid for m in messages])
            now = int(self._clock())
            copies = []
            for message in messages:
                name = f"cur/{maildir.new_key(message.size)}{maildir.info_suffix(message.flags)}"
                if maildir.link_or_copy(paths.message_file(source_folder, message.filename), target_folder / name):
                    created.append(target_folder / name)
                    copies.append((message, name))
            if not copies:
                return Transfer(target, [])
            fsync_dir(target_folder / "cur")
            levels = self.quota.reserve(conn, owner.tenant_id, sum(m.size for m, _ in copies), owner.id)
            first, modseq = index.allocate(conn, target.id, len(copies))
            pairs = []
            for offset, (message, name) in enumerate(copies):
                new = message._replace(uid=first + offset, filename=name, modseq=modseq)
                row_id = index.insert(conn, target.id, new, None, now, identities[message.uid].email_id)
                index.copy_summary(conn, ids[message.uid], row_id)
                pairs.append((message.uid, new.uid))
        self.changes.publish(target.id)
        self.quota.announce(owner.tenant_id, levels)
        return Transfer(self.refresh(target), pairs)

    def move(self, owner: Owner, source: Mailbox, uids: Iterable[int], target_name: str) -> Transfer:
        """Move messages to a folder of the same owner (RFC 6851): rename the files, re-point their rows.

        The quota does not change. A crash between the renames and the commit is repaired by `reconcile`.
        """
        target = self.mailbox(owner, target_name)
        source_folder, target_folder = self.folder(owner, source), self.folder(owner, target)
        moved: list[tuple[Path, Path]] = []
        try:
            with self._engine.begin() as conn:
                messages = index.by_uids(conn, source.id, uids)
                for message in messages:
                    name = f"cur/{maildir.key_of(message.filename)}{maildir.info_suffix(message.flags)}"
                    with contextlib.suppress(FileNotFoundError):
                        old = paths.message_file(source_folder, message.filename)
                        os.rename(old, target_folder / name)
                        moved.append((old, target_folder / name))
                if not moved:
                    return Transfer(target, [])
                fsync_dir(target_folder / "cur")
                fsync_dir(source_folder / "cur")
                fsync_dir(source_folder / "new")
                first, modseq = index.allocate(conn, target.id, len(moved))
                now = int(self._clock())
                present = {path.name for path, _ in moved}
                index.vanish(conn, source.id, [m.uid for m in messages if Path(m.filename).name in present])
                pairs: list[tuple[int, int]] = []
                for message in (m for m in messages if Path(m.filename).name in present):
                    uid = first + len(pairs)
                    conn.execute(
                        sa.update(db.messages)
                        .where(db.messages.c.mailbox_id == source.id, db.messages.c.uid == message.uid)
                        .values(
                            mailbox_id=target.id,
                            uid=uid,
                            filename=f"cur/{maildir.key_of(message.filename)}{maildir.info_suffix(message.flags)}",
                            modseq=modseq,
                            saved_at=now,  # RFC 8514 3: saved into the target now; the EMAILID stays
                        )
                    )
                    pairs.append((message.uid, uid))
        except BaseException:
            for old, new in reversed(moved):
                with contextlib.suppress(OSError):
                    os.rename(new, old)
            raise
        self.changes.publish(source.id)
        self.changes.publish(target.id)
        return Transfer(self.refresh(target), pairs)

    def rename_mailbox(self, owner: Owner, old: str, new: str) -> None:
        """Rename a folder and its subfolders, creating the new name's superiors (RFC 3501 6.3.5).

        Renaming INBOX moves its messages to a new folder and leaves INBOX empty, as the RFC says.
        """
        source = self.mailbox(owner, old)
        target = maildir.validate_mailbox_name(new)
        if target == "INBOX":
            raise InvalidMailboxName("cannot rename a folder to INBOX")
        if source.name == "INBOX":
            created = self.create_with_parents(owner, target)
            self.move(owner, source, [m.uid for m in self.messages(source)], created.name)
            return
        if target == source.name or is_inferior(target, source.name):
            raise InvalidMailboxName("a folder cannot be renamed into itself")
        parents = target.split(DELIMITER)[:-1]
        for depth in range(1, len(parents) + 1):
            with contextlib.suppress(AlreadyExists):
                self.create_mailbox(owner, DELIMITER.join(parents[:depth]))
        with self._engine.begin() as conn:
            existing = {m.name: m for m in index.mailbox_rows(conn, owner.id)}
            if target in existing:
                raise AlreadyExists(f"folder {target} already exists")
            moving = [m for m in existing.values() if m.name == source.name or is_inferior(m.name, source.name)]
            renamed = {m.name: target + m.name[len(source.name) :] for m in moving}
            for mailbox in moving:
                update = sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox.id)
                conn.execute(update.values(name=renamed[mailbox.name]))
            self.rename_subscriptions(conn, owner, renamed)
        for mailbox in moving:  # the files stay where they are (their paths are made of ids); kept states go
            self.changes.drop(mailbox.id)
            self.changes.publish(mailbox.id)


def _in_cur(flags: frozenset[str]) -> bool:
    """Whether a new message's Maildir name carries flags (so it goes to cur/)."""
    return bool(flags & set(maildir.FLAG_LETTERS))
