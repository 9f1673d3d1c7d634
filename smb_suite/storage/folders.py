"""Folders of one owner's store: the Maildir layout by ids, listing, creating, deleting, subscribing.

`Folders` is the first layer of the store (storage/store.py composes them): it holds the engine, the layout,
the clock, the quota and the change hub every other layer uses. A folder's name is a database row only, so its
files live at paths made of ids (storage/paths.py), and every folder this class opens or removes is checked to
lie inside its owner's root.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa

from smb_suite.errors import AlreadyExists, InvalidMailboxName, MailboxHasChildren, UnknownMailbox, UnsafePath
from smb_suite.mail.address import Address
from smb_suite.quota import Quota
from smb_suite.storage import database, db, index, maildir, paths
from smb_suite.storage.changes import ChangeHub
from smb_suite.storage.index import FolderStatus, Mailbox
from smb_suite.storage.prepared import Prepared

DEFAULT_FOLDERS = ("INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive")
DELIMITER = "/"


class Owner(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def tenant_id(self) -> int: ...
    @property
    def address(self) -> Address: ...


def is_inferior(name: str, parent: str) -> bool:
    return name.startswith(parent + DELIMITER)


# built once (SELECT runs them every time new mail came in): building a statement costs more than running it
_RECENT_FROM = Prepared(sa.select(db.mailboxes.c.recent_from).where(db.mailboxes.c.id == sa.bindparam("mailbox")))
_CLAIM_RECENT = Prepared(
    sa.update(db.mailboxes)
    .where(db.mailboxes.c.id == sa.bindparam("mailbox"), db.mailboxes.c.recent_from == sa.bindparam("start"))
    .values(recent_from=sa.bindparam("upto"))
)


def claim_recent(conn: sa.Connection, mailbox_id: int, upto: int) -> range:
    """Folders.claim_recent in the caller's transaction."""
    while True:  # compare-and-set: a concurrent claim makes the update miss, then we read again
        start = _RECENT_FROM.scalar(conn, {"mailbox": mailbox_id})
        if start is None or start >= upto:
            return range(0)
        if _CLAIM_RECENT.run(conn, {"mailbox": mailbox_id, "start": start, "upto": upto}):
            return range(int(start), upto)


class Folders:
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

    # -- folders ------------------------------------------------------------------------------------------

    def create_user_store(self, owner: Owner) -> None:
        """Create the Maildir with INBOX and the special-use folders clients expect, subscribed."""
        for name in DEFAULT_FOLDERS:
            self.create_mailbox(owner, name)
            self.set_subscribed(owner, name, True)

    def forget_user(self, conn: sa.Connection, owner: Owner) -> None:
        """Drop an owner's index and free its usage, in the caller's transaction (files: remove_files)."""
        ids = [m.id for m in index.mailbox_rows(conn, owner.id)]
        freed = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(db.messages.c.size), 0)).where(db.messages.c.mailbox_id.in_(ids))
        ).scalar_one()
        conn.execute(sa.delete(db.messages).where(db.messages.c.mailbox_id.in_(ids)))
        conn.execute(sa.delete(db.mailboxes).where(db.mailboxes.c.user_id == owner.id))
        conn.execute(sa.delete(db.folder_subscriptions).where(db.folder_subscriptions.c.user_id == owner.id))
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
            object_id = index.new_object_id("M")
            values = {"user_id": owner.id, "name": canonical, "uidvalidity": uidvalidity, "object_id": object_id}
            mailbox_id = database.inserted_id(conn.execute(sa.insert(db.mailboxes).values(values)))
            created = Mailbox(mailbox_id, owner.id, canonical, uidvalidity, 1, 1, object_id)
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
        """RFC 3501 6.3.4: a folder with subfolders is refused (we keep no \\Noselect placeholders); its
        subscription stays (RFC 3501 6.3.6)."""
        mailbox = self.mailbox(owner, name)
        if mailbox.name == "INBOX":
            raise InvalidMailboxName("INBOX cannot be deleted")
        with self._engine.begin() as conn:
            if any(is_inferior(m.name, mailbox.name) for m in index.mailbox_rows(conn, owner.id)):
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

    # -- subscriptions (RFC 3501 6.3.6-7): names, kept when their folder goes ----------------------------

    def set_subscribed(self, owner: Owner, name: str, subscribed: bool) -> None:
        """Subscribe an existing folder (RFC 3501 6.3.6 lets us check), or unsubscribe any subscribed name."""
        canonical = maildir.validate_mailbox_name(name)
        table = db.folder_subscriptions
        mine = sa.and_(table.c.user_id == owner.id, table.c.name == canonical)
        with self._engine.begin() as conn:
            if not subscribed:
                if not conn.execute(sa.delete(table).where(mine)).rowcount:
                    self.mailbox(owner, canonical)  # NO [NONEXISTENT] for a name neither subscribed nor a folder
                return
            if index.mailbox_named(conn, owner.id, canonical) is None:
                raise UnknownMailbox(f"no folder named {name}")
            if conn.execute(sa.select(table.c.id).where(mine)).first() is None:
                conn.execute(sa.insert(table).values(user_id=owner.id, name=canonical))

    def rename_subscriptions(self, conn: sa.Connection, owner: Owner, renamed: dict[str, str]) -> None:
        """A renamed folder keeps its subscription (a stale one of its new name is replaced)."""
        table = db.folder_subscriptions
        mine = table.c.user_id == owner.id
        kept = set(conn.execute(sa.select(table.c.name).where(mine, table.c.name.in_(renamed))).scalars())
        if kept:
            conn.execute(sa.delete(table).where(mine, table.c.name.in_([renamed[name] for name in kept])))
            for name in kept:
                conn.execute(sa.update(table).where(mine, table.c.name == name).values(name=renamed[name]))

    def subscriptions(self, owner: Owner) -> set[str]:
        with self._engine.connect() as conn:
            query = sa.select(db.folder_subscriptions.c.name).where(db.folder_subscriptions.c.user_id == owner.id)
            return set(conn.execute(query).scalars())

    # -- \\Recent (RFC 3501 2.3.2): each message is recent in one read-write session only ------------------

    def claim_recent(self, mailbox: Mailbox, upto: int) -> range:
        """Claim the UIDs below `upto` that no read-write session was shown as \\Recent yet: the range this
        session shows as recent (empty when another claimed them first, in this process or another)."""
        with database.transaction(self._engine) as conn:
            return claim_recent(conn, mailbox.id, upto)

    def status(self, owner: Owner, name: str) -> FolderStatus:
        mailbox = self.mailbox(owner, name)
        with self._engine.connect() as conn:
            return index.status(conn, mailbox)
