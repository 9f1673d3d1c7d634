"""A logged-in user's folders (IAccount) over MailStore; not twisted's MemoryAccount, which upper-cases names.

Every method is a coroutine over a storage call made through the runner (asyncio: a Deferred cannot be
awaited there, trap 2 in the package docstring). twisted's own folder commands would call IAccount
synchronously, so the server replaces all of them (commands.py); the IAccount declaration only satisfies
twisted's login (trap 20).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import IO, Any, TypeVar

from twisted.mail.imap4 import IAccount, INamespacePresenter
from zope.interface import implementer

from smb_suite.directory.model import User
from smb_suite.imap.folder import registry_for
from smb_suite.imap.mailbox import DELIMITER, MailboxView, Session
from smb_suite.services import Services
from smb_suite.storage.store import FolderStatus, Mailbox, MailStore, NewMessage, Staged

T = TypeVar("T")
# RFC 6154 special-use attributes for the folders every store is created with (store.DEFAULT_FOLDERS)
SPECIAL_USE = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk", "Archive": "\\Archive"}


@dataclass(frozen=True)
class FolderInfo:
    """What LIST and LSUB say about a folder."""

    name: str
    attributes: tuple[str, ...]


NewFile = tuple[IO[bytes], list[str], int | None]  # an APPEND literal, its flags and internal date


def stage_files(store: MailStore, io: Executor, user: User, name: str, messages: list[NewFile]) -> Staged:
    """Read the APPEND literals (temporary files when large) and write them into the folder, beside the writer:
    only their index rows wait for the writer thread (store.commit_staged), all or none."""
    new = [NewMessage(message.read(), frozenset(flags), date) for message, flags, date in messages]
    return store.stage(user, name, new, io)


def ancestors(name: str) -> list[str]:
    """Every folder name above `name`: "a/b/c" -> ["a", "a/b"]."""
    parts = name.split(DELIMITER)
    return [DELIMITER.join(parts[:end]) for end in range(1, len(parts))]


@implementer(IAccount, INamespacePresenter)
class Account:
    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user

    async def _write(self, func: Callable[..., T], *args: Any) -> T:
        return await self.services.runner.write(func, *args)

    async def create(self, pathspec: str) -> Mailbox:
        return await self._write(self.services.store.create_with_parents, self.user, pathspec)

    async def delete(self, name: str) -> None:
        await self._write(self.services.store.delete_mailbox, self.user, name)

    async def rename(self, oldname: str, newname: str) -> None:
        await self._write(self.services.store.rename_mailbox, self.user, oldname, newname)

    async def subscribe(self, name: str) -> None:
        await self._write(self.services.store.set_subscribed, self.user, name, True)

    async def unsubscribe(self, name: str) -> None:
        await self._write(self.services.store.set_subscribed, self.user, name, False)

    async def append(
        self, name: str, messages: list[NewFile], view: MailboxView | None = None
    ) -> tuple[Mailbox, list[int]]:
        """When `view` (the session's selected folder) is the target, it is caught up before this returns
        (EXISTS before the tagged OK), and a read-write view claims the new messages' \\Recent in the APPEND's
        own transaction: one commit and fsync round, where a claim of its own would take another."""
        services = self.services
        staged = await services.runner.read(stage_files, services.store, services.runner.io, self.user, name, messages)
        if view is None or view.mailbox.id != staged.mailbox.id:
            return await self._write(services.store.commit_staged, self.user, staged)
        async with view.state.lock:  # no refresh shows the new messages before the view knows they are recent
            if view.claims_recent:
                mailbox, uids, claimed = await self._write(services.store.commit_claiming, self.user, staged)
                view.add_recent(claimed)
            else:
                mailbox, uids = await self._write(services.store.commit_staged, self.user, staged)
            await view.state.refresh_locked()
        return mailbox, uids

    async def select(self, name: str, session: Session, writeable: bool) -> MailboxView:
        """Open a view of the folder for one session (SELECT/EXAMINE)."""
        state = await registry_for(self.services).open_named(self.user, name)
        view = MailboxView(state, session, writeable)
        try:
            await view.claim_recent()
        except BaseException:
            view.close()
            raise
        return view

    async def status(self, name: str) -> FolderStatus:
        return await self.services.runner.read(self.services.store.status, self.user, name)

    async def folders(self) -> list[FolderInfo]:
        """Every folder in LIST order (INBOX first) with its attributes (RFC 3348 children, RFC 6154 use)."""
        folders = await self.services.runner.read(self.services.store.mailboxes, self.user)
        parents = {name for m in folders for name in ancestors(m.name)}  # linear in the names, not quadratic
        found = []
        for folder in sorted(folders, key=lambda m: (m.name != "INBOX", m.name)):
            has_children = folder.name in parents
            attributes = ["\\HasChildren" if has_children else "\\HasNoChildren"]
            if folder.name in SPECIAL_USE:
                attributes.append(SPECIAL_USE[folder.name])
            found.append(FolderInfo(folder.name, tuple(attributes)))
        return found

    async def subscriptions(self) -> set[str]:
        """The subscribed names, folders or not (RFC 3501 6.3.6)."""
        return await self.services.runner.read(self.services.store.subscriptions, self.user)

    # RFC 2342: one personal namespace, no shared ones
    def getPersonalNamespaces(self) -> list[list[str]]:
        return [["", DELIMITER]]

    def getSharedNamespaces(self) -> None:
        return None

    def getUserNamespaces(self) -> None:
        return None
