"""The mail store: Maildir files plus an index (UIDs, flags, sizes, dates) in the database.

Durability contract (DESIGN.md): write to tmp/, fsync, rename into new/, fsync the directory, then commit
the index row together with the quota usage; only then may a front end answer 250 or OK. `reconcile` at
start repairs what a crash left between those steps. Every call names the owner whose store it touches, and a
store is only reachable through its owner, so one user can never reach another's folders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa

from smb_suite import db
from smb_suite.durable import fsync_dir
from smb_suite.errors import AlreadyExists, InvalidMailboxName, SmbSuiteError, UnknownMailbox
from smb_suite.mail.address import Address
from smb_suite.quota import Quota
from smb_suite.storage import maildir
from smb_suite.storage.changes import ChangeHub

DEFAULT_FOLDERS = ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive")
TMP_MAX_AGE = 36 * 3600  # Maildir convention: tmp/ files older than 36 hours are debris


class Owner(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def tenant_id(self) -> int: ...
    @property
    def address(self) -> Address: ...


@dataclass(frozen=True, slots=True)
class Mailbox:
    id: int
    user_id: int
    name: str
    uidvalidity: int
    uidnext: int
    subscribed: bool


@dataclass(frozen=True, slots=True)
class StoredMessage:
    uid: int
    filename: str
    size: int
    flags: frozenset[str]
    internaldate: int


def _flags_text(flags: Iterable[str]) -> str:
    return " ".join(sorted(set(flags)))


def _message(row: Any) -> StoredMessage:
    uid, filename, size, flags, internaldate = row
    return StoredMessage(uid, filename, size, frozenset(flags.split()), internaldate)


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
        self._root = root
        self._clock = clock
        self.quota = quota
        self.changes = changes or ChangeHub()

    # -- layout -------------------------------------------------------------------------------------------

    def user_root(self, owner: Owner) -> Path:
        return self._root / owner.address.domain / owner.address.local_part

    def folder(self, owner: Owner, mailbox: Mailbox) -> Path:
        return maildir.folder_path(self.user_root(owner), mailbox.name)

    def message_path(self, owner: Owner, mailbox: Mailbox, message: StoredMessage) -> Path:
        return self.folder(owner, mailbox) / message.filename

    # -- folders ------------------------------------------------------------------------------------------

    def create_user_store(self, owner: Owner) -> None:
        """Create the Maildir with INBOX and the special-use folders clients expect."""
        for name in DEFAULT_FOLDERS:
            self.create_mailbox(owner, name)

    def forget_user(self, conn: sa.Connection, owner: Owner) -> None:
        """Drop an owner's index and free its usage, in the caller's transaction (files: remove_files)."""
        ids = [m.id for m in self._mailboxes(conn, owner.id)]
        freed = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(db.messages.c.size), 0)).where(db.messages.c.mailbox_id.in_(ids))
        ).scalar_one()
        conn.execute(sa.delete(db.messages).where(db.messages.c.mailbox_id.in_(ids)))
        conn.execute(sa.delete(db.mailboxes).where(db.mailboxes.c.user_id == owner.id))
        self.quota.release(conn, owner.tenant_id, int(freed))

    def remove_files(self, owner: Owner) -> None:
        shutil.rmtree(self.user_root(owner), ignore_errors=True)

    def _mailboxes(self, conn: sa.Connection, user_id: int) -> list[Mailbox]:
        query = sa.select(
            db.mailboxes.c.id,
            db.mailboxes.c.user_id,
            db.mailboxes.c.name,
            db.mailboxes.c.uidvalidity,
            db.mailboxes.c.uidnext,
            db.mailboxes.c.subscribed,
        ).where(db.mailboxes.c.user_id == user_id)
        return [Mailbox(*row) for row in conn.execute(query.order_by(db.mailboxes.c.name))]

    def mailboxes(self, owner: Owner) -> list[Mailbox]:
        with self._engine.connect() as conn:
            return self._mailboxes(conn, owner.id)

    def mailbox(self, owner: Owner, name: str) -> Mailbox:
        canonical = maildir.validate_mailbox_name(name)
        for mailbox in self.mailboxes(owner):
            if mailbox.name == canonical:
                return mailbox
        raise UnknownMailbox(f"no folder named {name}")

    def create_mailbox(self, owner: Owner, name: str) -> Mailbox:
        canonical = maildir.validate_mailbox_name(name)
        with self._engine.begin() as conn:
            if any(m.name == canonical for m in self._mailboxes(conn, owner.id)):
                raise AlreadyExists(f"folder {canonical} already exists")
            uidvalidity = self._new_uidvalidity(conn)
            mailbox_id = db.inserted_id(
                conn.execute(sa.insert(db.mailboxes).values(user_id=owner.id, name=canonical, uidvalidity=uidvalidity))
            )
            maildir.create_folder(maildir.folder_path(self.user_root(owner), canonical))
        return Mailbox(mailbox_id, owner.id, canonical, uidvalidity, 1, True)

    def _new_uidvalidity(self, conn: sa.Connection) -> int:
        """RFC 3501 2.3.1.1: strictly greater than any earlier one, so a re-created name is never confused."""
        highest = conn.execute(sa.select(sa.func.max(db.mailboxes.c.uidvalidity))).scalar_one() or 0
        return max(int(self._clock()), int(highest) + 1) & 0xFFFFFFFF

    def delete_mailbox(self, owner: Owner, name: str) -> None:
        mailbox = self.mailbox(owner, name)
        if mailbox.name == "INBOX":
            raise InvalidMailboxName("INBOX cannot be deleted")
        with self._engine.begin() as conn:
            freed = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(db.messages.c.size), 0)).where(
                    db.messages.c.mailbox_id == mailbox.id
                )
            ).scalar_one()
            conn.execute(sa.delete(db.messages).where(db.messages.c.mailbox_id == mailbox.id))
            conn.execute(sa.delete(db.mailboxes).where(db.mailboxes.c.id == mailbox.id))
            self.quota.release(conn, owner.tenant_id, int(freed), owner.id)
        shutil.rmtree(self.folder(owner, mailbox), ignore_errors=True)
        self.changes.publish(mailbox.id)

    def rename_mailbox(self, owner: Owner, old: str, new: str) -> None:
        """Rename a folder and its children (RFC 3501 6.3.5); renaming INBOX is not supported here."""
        source = self.mailbox(owner, old)
        target = maildir.validate_mailbox_name(new)
        if source.name == "INBOX" or target == "INBOX":
            raise InvalidMailboxName("INBOX cannot be renamed")
        with self._engine.begin() as conn:
            existing = {m.name: m for m in self._mailboxes(conn, owner.id)}
            if target in existing:
                raise AlreadyExists(f"folder {target} already exists")
            moving = [m for m in existing.values() if m.name == source.name or m.name.startswith(source.name + "/")]
            for mailbox in moving:
                renamed = target + mailbox.name[len(source.name) :]
                conn.execute(sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox.id).values(name=renamed))
                os.rename(self.folder(owner, mailbox), maildir.folder_path(self.user_root(owner), renamed))
            fsync_dir(self.user_root(owner))

    def set_subscribed(self, owner: Owner, name: str, subscribed: bool) -> None:
        mailbox = self.mailbox(owner, name)
        with self._engine.begin() as conn:
            conn.execute(sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox.id).values(subscribed=subscribed))

    # -- messages -----------------------------------------------------------------------------------------

    def messages(self, mailbox: Mailbox) -> list[StoredMessage]:
        query = (
            sa.select(
                db.messages.c.uid,
                db.messages.c.filename,
                db.messages.c.size,
                db.messages.c.flags,
                db.messages.c.internaldate,
            )
            .where(db.messages.c.mailbox_id == mailbox.id)
            .order_by(db.messages.c.uid)
        )
        with self._engine.connect() as conn:
            return [_message(row) for row in conn.execute(query)]

    def refresh(self, mailbox: Mailbox) -> Mailbox:
        """The mailbox's current row (uidnext moves as mail arrives)."""
        with self._engine.connect() as conn:
            for current in self._mailboxes(conn, mailbox.user_id):
                if current.id == mailbox.id:
                    return current
        raise UnknownMailbox(f"folder {mailbox.name} no longer exists")

    def _next_uid(self, conn: sa.Connection, mailbox_id: int) -> int:
        conn.execute(
            sa.update(db.mailboxes).where(db.mailboxes.c.id == mailbox_id).values(uidnext=db.mailboxes.c.uidnext + 1)
        )
        uidnext = conn.execute(sa.select(db.mailboxes.c.uidnext).where(db.mailboxes.c.id == mailbox_id)).scalar_one()
        return int(uidnext) - 1

    def _index(
        self,
        conn: sa.Connection,
        owner: Owner,
        mailbox: Mailbox,
        filename: str,
        size: int,
        flags: frozenset[str],
        internaldate: int,
        enforce: bool = True,
    ) -> tuple[int, list[int]]:
        """Charge the quota (may raise QuotaExceeded) and add the index row; return UID and warning levels."""
        levels = self.quota.reserve(conn, owner.tenant_id, size, owner.id, enforce)
        uid = self._next_uid(conn, mailbox.id)
        conn.execute(
            sa.insert(db.messages).values(
                mailbox_id=mailbox.id,
                uid=uid,
                filename=filename,
                size=size,
                flags=_flags_text(flags),
                internaldate=internaldate,
            )
        )
        return uid, levels

    def append(
        self,
        owner: Owner,
        name: str,
        data: bytes,
        flags: Iterable[str] = (),
        internaldate: int | None = None,
    ) -> tuple[Mailbox, int]:
        """Store one message durably in a folder; return the folder and the message's UID."""
        mailbox = self.mailbox(owner, name)
        folder = self.folder(owner, mailbox)
        when = int(self._clock()) if internaldate is None else internaldate
        flag_set = frozenset(flags)
        filename = maildir.write_durably(folder, data, mtime=when)
        if flag_set & set(maildir.FLAG_LETTERS):
            filename = maildir.rename_for_flags(folder, filename, flag_set)
            fsync_dir(folder / "cur")
        with self._unlink_on_failure([folder / filename]), self._engine.begin() as conn:
            uid, levels = self._index(conn, owner, mailbox, filename, len(data), flag_set, when)
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

        paths: list[Path] = []
        errors: list[SmbSuiteError | None] = [None] * len(batch)
        announcements: list[tuple[int, list[int]]] = []
        with self._unlink_on_failure(paths):
            mapper = io.map if io is not None and len(targets) > 1 else map
            filenames = list(mapper(write, targets))
            paths += [self.folder(o, m) / f for (_, o, m, _), f in zip(targets, filenames, strict=True)]
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
                            (o.tenant_id, self._index(conn, o, m, f, len(d), frozenset(), now, enforce)[1])
                            for (_, o, m, d), f in mine
                        ]
                    except SmbSuiteError as error:
                        savepoint.rollback()
                        errors[item] = error
                        for (_, owner, mailbox, _), f in mine:
                            (self.folder(owner, mailbox) / f).unlink(missing_ok=True)
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
    def _unlink_on_failure(paths: list[Path]) -> Iterator[None]:
        """Remove files written for an index transaction that failed, so nothing unaccounted stays on disk."""
        try:
            yield
        except BaseException:
            for path in paths:
                path.unlink(missing_ok=True)
            raise

    def is_full(self, owner: Owner) -> bool:
        with self._engine.connect() as conn:
            return self.quota.is_full(conn, owner.tenant_id, owner.id)

    def store_flags(
        self, owner: Owner, mailbox: Mailbox, uids: Iterable[int], flags: Iterable[str], mode: int
    ) -> dict[int, frozenset[str]]:
        """Set (mode 0), add (mode 1) or remove (mode -1) flags; keep Maildir names in step. Returns new flags."""
        wanted = frozenset(flags)
        folder = self.folder(owner, mailbox)
        result: dict[int, frozenset[str]] = {}
        by_uid = {m.uid: m for m in self.messages(mailbox)}
        with self._engine.begin() as conn:
            for uid in uids:
                message = by_uid.get(uid)
                if message is None:
                    continue
                if mode > 0:
                    new_flags = message.flags | wanted
                elif mode < 0:
                    new_flags = message.flags - wanted
                else:
                    new_flags = wanted
                filename = maildir.rename_for_flags(folder, message.filename, new_flags)
                conn.execute(
                    sa.update(db.messages)
                    .where(db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid == uid)
                    .values(flags=_flags_text(new_flags), filename=filename)
                )
                result[uid] = new_flags
            if result:
                fsync_dir(folder / "cur")
        self.changes.publish(mailbox.id)
        return result

    def expunge(self, owner: Owner, mailbox: Mailbox, uids: Iterable[int] | None = None) -> list[int]:
        """Remove messages flagged \\Deleted (restricted to `uids` when given); return the removed UIDs."""
        allowed = None if uids is None else set(uids)
        doomed = [m for m in self.messages(mailbox) if "\\Deleted" in m.flags and (allowed is None or m.uid in allowed)]
        if not doomed:
            return []
        with self._engine.begin() as conn:
            conn.execute(
                sa.delete(db.messages).where(
                    db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid.in_([m.uid for m in doomed])
                )
            )
            self.quota.release(conn, owner.tenant_id, sum(m.size for m in doomed), owner.id)
        folder = self.folder(owner, mailbox)
        for message in doomed:
            (folder / message.filename).unlink(missing_ok=True)
        self.changes.publish(mailbox.id)
        return [m.uid for m in doomed]

    def copy(self, owner: Owner, source: Mailbox, uids: Iterable[int], target_name: str) -> list[tuple[int, int]]:
        """Copy messages into another folder of the same owner; return (source uid, new uid) pairs."""
        target = self.mailbox(owner, target_name)
        wanted = set(uids)
        pairs = []
        for message in self.messages(source):
            if message.uid in wanted:
                data = self.message_path(owner, source, message).read_bytes()
                _, uid = self.append(owner, target.name, data, message.flags, message.internaldate)
                pairs.append((message.uid, uid))
        return pairs

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
                repaired += self._reconcile_folder(owner, mailbox)
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
                    conn.execute(
                        sa.delete(db.messages).where(
                            db.messages.c.mailbox_id == mailbox.id, db.messages.c.uid == message.uid
                        )
                    )
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
                    stat = (folder / filename).stat()
                    flags = maildir.flags_from_filename(filename)
                    self._index(conn, owner, mailbox, filename, stat.st_size, flags, int(stat.st_mtime), False)
                    repaired += 1
        return repaired


@dataclass(frozen=True, slots=True)
class _StoredOwner:
    id: int
    tenant_id: int
    address: Address
