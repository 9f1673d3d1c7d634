"""The mail store: Maildir files plus an index (UIDs, flags, mod-sequences, summaries) in the database.

Durability contract (DESIGN.md): write to tmp/, fsync, rename into new/, fsync the directory, then commit
the index row together with the quota usage; only then may a front end answer 250 or OK. `reconcile` at
start repairs what a crash left between those steps. Every call names the owner whose store it touches, and a
store is only reachable through its owner, so one user can never reach another's folders.

Every change to a folder's messages takes a new mod-sequence (RFC 7162) and is published on `changes`, so
sessions that show the folder can ask the index for exactly what changed (`changes_since`); a folder deleted or
renamed is announced with `changes.drop`, so no kept state outlives it.

Files live at paths made of ids (storage/paths.py): a folder's name is a database row only, so RENAME touches
no file, and every folder, file and tree this module opens or removes is checked to lie inside its owner's root.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from smb_suite import db, log
from smb_suite.durable import fsync_dir
from smb_suite.errors import (
    AlreadyExists,
    InvalidMailboxName,
    MailboxHasChildren,
    SmbSuiteError,
    UnknownMailbox,
    UnsafePath,
)
from smb_suite.mail.address import Address
from smb_suite.mail.summary import SearchText, Summary, summarize
from smb_suite.quota import Quota
from smb_suite.storage import index, maildir, paths
from smb_suite.storage.changes import ChangeHub
from smb_suite.storage.index import FolderStatus, Mailbox, StoredMessage

__all__ = ["DEFAULT_FOLDERS", "FlagUpdate", "FolderStatus", "MailStore", "Mailbox", "StoredMessage", "Transfer"]

logger = logging.getLogger("smb_suite.storage")
DEFAULT_FOLDERS = ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive")
TMP_MAX_AGE = 36 * 3600  # Maildir convention: tmp/ files older than 36 hours are debris
DELIMITER = "/"


class Owner(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def tenant_id(self) -> int: ...
    @property
    def address(self) -> Address: ...


@dataclass(frozen=True, slots=True)
class FlagUpdate:
    """What STORE did: every named message as it is now, and those refused by UNCHANGEDSINCE (RFC 7162 3.1.3)."""

    messages: dict[int, StoredMessage]
    modified: list[int]


@dataclass(frozen=True, slots=True)
class Transfer:
    """COPY or MOVE: the target folder and (source UID, new UID) pairs, for COPYUID (RFC 4315 3)."""

    target: Mailbox
    pairs: list[tuple[int, int]]


def _is_inferior(name: str, parent: str) -> bool:
    return name.startswith(parent + DELIMITER)


class MailStore:
    def __init__(
        self,
        engine: sa.Engine,
        root: Path,
        clock: Callable[[], float],
        quota: Quota,
        changes: ChangeHub | None = None,
    ) -> None:
        self._engine = engine
        self.layout = paths.MailLayout(root)
        self._clock = clock
        self.quota = quota
        self.changes = changes or ChangeHub()

    # -- layout -------------------------------------------------------------------------------------------

    def user_root(self, owner: Owner) -> Path:
        return self.layout.user_root(owner.id)

    def folder(self, owner: Owner, mailbox: Mailbox) -> Path:
        """The folder's Maildir, by ids; a folder of another user is refused, whatever the caller kept."""
        if mailbox.user_id != owner.id:
            raise UnsafePath(f"folder {mailbox.id} is not one of user {owner.id}'s")
        return self.layout.folder(owner.id, mailbox.id, mailbox.name == "INBOX")

    def message_path(self, owner: Owner, mailbox: Mailbox, message: StoredMessage) -> Path:
        return paths.message_file(self.folder(owner, mailbox), message.filename)

    # -- folders ------------------------------------------------------------------------------------------

    def create_user_store(self, owner: Owner) -> None:
        """Create the Maildir with INBOX and the special-use folders clients expect."""
        for name in DEFAULT_FOLDERS:
            self.create_mailbox(owner, name)

    def forget_user(self, conn: sa.Connection, owner: Owner) -> None:
        """Drop an owner's index and free its usage, in the caller's transaction (files: remove_files)."""
        ids = [m.id for m in index.mailbox_rows(conn, owner.id)]
        freed = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(db.messages.c.size), 0)).where(db.messages.c.mailbox_id.in_(ids))
        ).scalar_one()
        conn.execute(sa.delete(db.messages).where(db.messages.c.mailbox_id.in_(ids)))
        conn.execute(sa.delete(db.mailboxes).where(db.mailboxes.c.user_id == owner.id))
        self.quota.release(conn, owner.tenant_id, int(freed))
        for mailbox_id in ids:  # kept IMAP states of the user's folders go now (ids are never handed out again)
            self.changes.drop(mailbox_id)

    def remove_files(self, owner: Owner) -> None:
        """Remove the owner's Maildir tree: users/<id>, checked to be below users/, and nothing else."""
        shutil.rmtree(self.user_root(owner), ignore_errors=True)

    def mailboxes(self, owner: Owner) -> list[Mailbox]:
        with self._engine.connect() as conn:
            return index.mailbox_rows(conn, owner.id)

    def mailbox(self, owner: Owner, name: str) -> Mailbox:
        canonical = maildir.validate_mailbox_name(name)
        with self._engine.connect() as conn:
            mailbox = index.mailbox_named(conn, owner.id, canonical)
        if mailbox is None:
            raise UnknownMailbox(f"no folder named {name}")
        return mailbox

    def create_mailbox(self, owner: Owner, name: str) -> Mailbox:
        canonical = maildir.validate_mailbox_name(name)
        with self._engine.begin() as conn:
            if any(m.name == canonical for m in index.mailbox_rows(conn, owner.id)):
                raise AlreadyExists(f"folder {canonical} already exists")
            uidvalidity = self._new_uidvalidity(conn, owner.id)
            mailbox_id = db.inserted_id(
                conn.execute(sa.insert(db.mailboxes).values(user_id=owner.id, name=canonical, uidvalidity=uidvalidity))
            )
            created = Mailbox(mailbox_id, owner.id, canonical, uidvalidity, 1, True)
            maildir.create_folder(self.folder(owner, created))
        return created

    def _new_uidvalidity(self, conn: sa.Connection, user_id: int) -> int:
        """RFC 3501 2.3.1.1: greater than any the user's folders ever had (a deleted folder's included), so a
        name created again is never confused with the old folder by a client's cache."""
        last = db.users.c.last_uidvalidity
        now = int(self._clock()) & 0xFFFFFFFF
        statement = (
            sa.update(db.users)
            .where(db.users.c.id == user_id)
            .values(last_uidvalidity=sa.case((last + 1 > now, last + 1), else_=now))
            .returning(last)
        )
        return int(conn.execute(statement).scalar_one())

    def delete_mailbox(self, owner: Owner, name: str) -> None:
        """RFC 3501 6.3.4: a folder with subfolders is refused (we keep no \\Noselect placeholders)."""
        mailbox = self.mailbox(owner, name)
        if mailbox.name == "INBOX":
            raise InvalidMailboxName("INBOX cannot be deleted")
        with self._engine.begin() as conn:
            if any(_is_inferior(m.name, mailbox.name) for m in index.mailbox_rows(conn, owner.id)):
                raise MailboxHasChildren(f"folder {mailbox.name} has subfolders: delete them first")
            freed = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(db.messages.c.size), 0)).where(
                    db.messages.c.mailbox_id == mailbox.id
                )
            ).scalar_one()
            conn.execute(sa.delete(db.messages).where(db.messages.c.mailbox_id == mailbox.id))
            conn.execute(sa.delete(db.mailboxes).where(db.mailboxes.c.id == mailbox.id))
            self.quota.release(conn, owner.tenant_id, int(freed), owner.id)
        shutil.rmtree(self.folder(owner, mailbox), ignore_errors=True)
        self.changes.drop(mailbox.id)  # no kept state may outlive the folder
        self.changes.publish(mailbox.id)  # sessions showing it learn it is gone

    def create_with_parents(self, owner: Owner, name: str) -> Mailbox:
        """RFC 3501 6.3.3: a trailing delimiter only declares intent; missing superiors are created too."""
        canonical = maildir.validate_mailbox_name(name.removesuffix(DELIMITER))
        parts = canonical.split(DELIMITER)
        for depth in range(1, len(parts)):
            with contextlib.suppress(AlreadyExists):
                self.create_mailbox(owner, DELIMITER.join(parts[:depth]))
        return self.create_mailbox(owner, canonical)

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
        if target == source.name or _is_inferior(target, source.name):
            raise InvalidMailboxName("a folder cannot be renamed into itself")
        parents = target.split(DELIMITER)[:-1]
        for depth in range(1, len(parents) + 1):
            with contextlib.suppress(AlreadyExists):
                self.create_mailbox(owner, DELIMITER.join(parents[:depth]))
        with self._engine.begin() as conn:
            existing = {m.name: m for m in index.mailbox_rows(conn, owner.id)}
            if target in existing:
                raise AlreadyExists(f"folder {target} already exists")
            moving = [m for m in existing.values() if m.name == source.name or _is_inferior(m.name, source.name)]
            for mailbox in moving:
                renamed = target + mailbox.name[len(source.name) :]
                conn.execute(sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox.id).values(name=renamed))
        for mailbox in moving:  # the files stay where they are (their paths are made of ids); kept states go
            self.changes.drop(mailbox.id)
            self.changes.publish(mailbox.id)

    def set_subscribed(self, owner: Owner, name: str, subscribed: bool) -> None:
        mailbox = self.mailbox(owner, name)
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox.id).values(subscribed=subscribed))

    def status(self, owner: Owner, name: str) -> FolderStatus:
        mailbox = self.mailbox(owner, name)
        with self._engine.connect() as conn:
            return index.status(conn, mailbox)

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
            query = index.messages_query(mailbox.id).where(db.messages.c.modseq > mailbox.highestmodseq)
            changed = [index.message(row) for row in conn.execute(query)]
            new = sum(1 for m in changed if m.uid >= mailbox.uidnext)
            if index.count(conn, mailbox.id) == known + new:
                return current, changed, None
            uids = conn.execute(
                sa.select(db.messages.c.uid).where(db.messages.c.mailbox_id == mailbox.id).order_by(db.messages.c.uid)
            ).scalars()
            return current, changed, [int(uid) for uid in uids]

    def summaries(self, mailbox: Mailbox, uids: list[int]) -> dict[int, Summary]:
        with self._engine.connect() as conn:
            return index.summaries(conn, mailbox.id, uids)

    def search_texts(self, mailbox: Mailbox, uids: list[int]) -> dict[int, SearchText]:
        with self._engine.connect() as conn:
            return index.search_texts(conn, mailbox.id, uids)

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
    ) -> tuple[int, list[int]]:
        """Charge the quota (may raise QuotaExceeded) and add the index row; return UID and warning levels."""
        levels = self.quota.reserve(conn, owner.tenant_id, size, owner.id, enforce)
        uid, modseq = index.allocate(conn, mailbox.id, 1)
        index.insert(conn, mailbox.id, StoredMessage(uid, filename, size, flags, internaldate, modseq), summary)
        return uid, levels

    def append(
        self,
        owner: Owner,
        name: str,
        data: bytes,
        flags: Iterable[str] = (),
        internaldate: int | None = None,
        io: Executor | None = None,
    ) -> tuple[Mailbox, int]:
        """Store one message durably in a folder; return the folder and the message's UID.

        With `io`, the file is written while the message is summarised, and its directory is fsynced while the
        index commits (as deliver_batch does): the caller answers only after both.
        """
        mailbox = self.mailbox(owner, name)
        folder = self.folder(owner, mailbox)
        when = int(self._clock()) if internaldate is None else internaldate
        flag_set = frozenset(flags)
        written: list[Path] = []  # the file, removed again if anything below fails
        with self._unlink_on_failure(written):
            writing = io.submit(maildir.write_new, folder, data, when) if io is not None else None
            try:
                summary = summarize(data)
            finally:
                filename = writing.result() if writing is not None else maildir.write_new(folder, data, when)
                written.append(paths.message_file(folder, filename))
            directories = [folder / "new"]
            if flag_set & set(maildir.FLAG_LETTERS):
                filename = maildir.rename_for_flags(folder, filename, flag_set)
                written[:] = [paths.message_file(folder, filename)]
                directories.append(folder / "cur")
            synced = [io.submit(fsync_dir, directory) for directory in directories] if io is not None else []
            if io is None:
                for directory in directories:
                    fsync_dir(directory)
            with self._engine.begin() as conn:
                uid, levels = self._add(conn, owner, mailbox, filename, len(data), flag_set, when, summary)
        for future in synced:
            future.result()
        self.changes.publish(mailbox.id)
        self.quota.announce(owner.tenant_id, levels)
        return mailbox, uid

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
        with self._engine.begin() as conn:
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
                conn.execute(
                    sa.update(db.messages)
                    .where(db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid == sa.bindparam("key"))
                    .values(flags=sa.bindparam("f"), filename=sa.bindparam("n"), modseq=sa.bindparam("m")),
                    rows,
                )
            if renamed:
                fsync_dir(folder / "cur")
        if modseq:
            self.changes.publish(mailbox.id)
        return FlagUpdate(result, modified)

    def expunge(self, owner: Owner, mailbox: Mailbox, uids: Iterable[int] | None = None) -> list[int]:
        """Remove messages flagged \\Deleted (restricted to `uids` when given); return the removed UIDs."""
        allowed = None if uids is None else set(uids)
        folder = self.folder(owner, mailbox)
        with self._engine.begin() as conn:
            doomed = [m for m in index.deleted(conn, mailbox.id) if allowed is None or m.uid in allowed]
            if not doomed:
                return []
            index.remove(conn, mailbox.id, [m.uid for m in doomed])
            index.next_modseq(conn, mailbox.id)
            self.quota.release(conn, owner.tenant_id, sum(m.size for m in doomed), owner.id)
        for message in doomed:
            paths.message_file(folder, message.filename).unlink(missing_ok=True)
        self.changes.publish(mailbox.id)
        return [m.uid for m in doomed]

    def copy(self, owner: Owner, source: Mailbox, uids: Iterable[int], target_name: str) -> Transfer:
        """Copy messages into a folder of the same owner (hard links: Maildir files never change)."""
        target = self.mailbox(owner, target_name)
        source_folder, target_folder = self.folder(owner, source), self.folder(owner, target)
        created: list[Path] = []
        with self._unlink_on_failure(created), self._engine.begin() as conn:
            messages = index.by_uids(conn, source.id, uids)
            ids = index.row_ids(conn, source.id, [m.uid for m in messages])
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
                row_id = index.insert(conn, target.id, new, None)
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
                index.next_modseq(conn, source.id)
                present = {path.name for path, _ in moved}
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

    # -- recovery -----------------------------------------------------------------------------------------

    def reconcile(self) -> int:
        """Bring the index in line with the Maildirs after a crash; return how many rows were repaired."""
        repaired = 0
        with self._engine.connect() as conn:
            owners = conn.execute(
                sa.select(db.users.c.id, db.domains.c.tenant_id, db.users.c.local_part, db.domains.c.name).join(
                    db.domains, db.domains.c.id == db.users.c.domain_id
                )
            ).all()
        for user_id, tenant_id, local_part, domain in owners:
            owner = _StoredOwner(user_id, tenant_id, Address(local_part, domain))
            for mailbox in self.mailboxes(owner):
                try:
                    repaired += self._reconcile_folder(owner, mailbox)
                except UnsafePath as error:  # a tampered data folder: leave it alone, serve everyone else
                    log.event(logger, "store.unsafe_folder", user=user_id, mailbox=mailbox.id, error=str(error))
        return repaired

    def _reconcile_folder(self, owner: Owner, mailbox: Mailbox) -> int:
        folder = self.folder(owner, mailbox)
        maildir.create_folder(folder)
        maildir.clean_tmp(folder, time.time() - TMP_MAX_AGE)
        on_disk = maildir.scan(folder)
        indexed = {maildir.key_of(m.filename): m for m in self.messages(mailbox)}
        repaired = 0
        with self._engine.begin() as conn:
            for key, message in indexed.items():
                if key not in on_disk:
                    index.remove(conn, mailbox.id, [message.uid])
                    self.quota.release(conn, owner.tenant_id, message.size, owner.id)
                    repaired += 1
                elif on_disk[key] != message.filename:
                    conn.execute(
                        sa.update(db.messages)
                        .where(db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid == message.uid)
                        .values(filename=on_disk[key])
                    )
                    repaired += 1
            for key, filename in sorted(on_disk.items()):
                if key not in indexed:
                    path = paths.message_file(folder, filename)
                    stat = path.stat()
                    flags = maildir.flags_from_filename(filename)
                    summary = summarize(path.read_bytes())
                    self._add(conn, owner, mailbox, filename, stat.st_size, flags, int(stat.st_mtime), summary, False)
                    repaired += 1
            if repaired:
                index.next_modseq(conn, mailbox.id)
        return repaired


@dataclass(frozen=True, slots=True)
class _StoredOwner:
    id: int
    tenant_id: int
    address: Address
