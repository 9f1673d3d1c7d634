"""A logged-in user's folders (IAccount) over MailStore; not twisted's MemoryAccount, which upper-cases names.

Every method returns a Deferred of a storage call made through the runner. twisted's own CREATE, DELETE,
RENAME and SUBSCRIBE handlers call these synchronously and treat any Deferred as success, so the server
overrides those commands (server.py) and waits for the result before answering; for the same reason
addMailbox and isSubscribed, used only by the overridden paths, are not offered.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet.defer import Deferred
from twisted.mail.imap4 import IAccount, IMailboxInfo, INamespacePresenter
from zope.interface import implementer

from smb_suite import errors
from smb_suite.directory import User
from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.mailbox import DELIMITER, MailboxView, snapshot
from smb_suite.ops import Services
from smb_suite.storage import maildir
from smb_suite.storage.store import Mailbox, MailStore

# RFC 6154 special-use attributes for the folders every store is created with (store.DEFAULT_FOLDERS)
SPECIAL_USE = {"Sent": "\\Sent", "Drafts": "\\Drafts", "Trash": "\\Trash", "Junk": "\\Junk", "Archive": "\\Archive"}


@implementer(IMailboxInfo)
@dataclass(frozen=True)
class FolderInfo:
    """What LIST and LSUB say about a folder."""

    name: str
    attributes: tuple[str, ...]
    subscribed: bool

    def getFlags(self) -> list[str]:
        return list(self.attributes)

    def getHierarchicalDelimiter(self) -> str:
        return DELIMITER


def create_with_parents(store: MailStore, user: User, name: str) -> None:
    """RFC 3501 6.3.3: a trailing delimiter only declares intent; missing superiors are created too."""
    canonical = maildir.validate_mailbox_name(name.removesuffix(DELIMITER))
    parts = canonical.split(DELIMITER)
    for depth in range(1, len(parts)):
        with contextlib.suppress(errors.AlreadyExists):
            store.create_mailbox(user, DELIMITER.join(parts[:depth]))
    store.create_mailbox(user, canonical)


def append_file(
    store: MailStore, user: User, name: str, message: IO[bytes], flags: list[str], date: int | None
) -> Mailbox:
    """Read the APPEND literal (a temporary file when large) and store it, on the writer thread."""
    with message:
        data = message.read()
    mailbox, _ = store.append(user, name, data, flags, date)
    return mailbox


def _pattern(reference: str, pattern: str) -> re.Pattern[str]:
    """RFC 3501 6.3.8: reference and pattern are joined; '*' spans levels, '%' does not; names are
    case-sensitive except INBOX (twisted's wildcardToRegexp ignores case everywhere)."""
    full = reference + pattern
    if full[:5].upper() == "INBOX" and full[5:6] in ("", DELIMITER):
        full = "INBOX" + full[5:]
    pieces = re.split(r"([*%])", full)
    return re.compile("".join(".*" if p == "*" else "[^/]*" if p == "%" else re.escape(p) for p in pieces))


@implementer(IAccount, INamespacePresenter)
class Account:
    def __init__(self, services: Services, user: User) -> None:
        self.services = services
        self.user = user

    def _write(self, func: Callable[..., Any], *args: Any) -> Deferred[Any]:
        return as_deferred(self.services.runner.write(func, *args))

    def create(self, pathspec: str) -> Deferred[None]:
        return self._write(create_with_parents, self.services.store, self.user, pathspec)

    def delete(self, name: str) -> Deferred[None]:
        return self._write(self.services.store.delete_mailbox, self.user, name)

    def rename(self, oldname: str, newname: str) -> Deferred[None]:
        return self._write(self.services.store.rename_mailbox, self.user, oldname, newname)

    def subscribe(self, name: str) -> Deferred[None]:
        return self._write(self.services.store.set_subscribed, self.user, name, True)

    def unsubscribe(self, name: str) -> Deferred[None]:
        return self._write(self.services.store.set_subscribed, self.user, name, False)

    def append(self, name: str, message: IO[bytes], flags: list[str], date: int | None) -> Deferred[Mailbox]:
        return self._write(append_file, self.services.store, self.user, name, message, flags, date)

    def select(self, name: str, rw: bool = True) -> Deferred[MailboxView]:
        return as_deferred(self._select(name, rw))

    async def _select(self, name: str, rw: bool) -> MailboxView:
        runner, store = self.services.runner, self.services.store
        mailbox = await runner.read(store.mailbox, self.user, name)
        mailbox, messages = await runner.read(snapshot, store, mailbox)
        return MailboxView(self.services, self.user, mailbox, messages, rw)

    def listMailboxes(self, ref: str, wildcard: str) -> Deferred[list[tuple[str, FolderInfo]]]:
        return as_deferred(self._list(ref, wildcard))

    async def _list(self, ref: str, wildcard: str) -> list[tuple[str, FolderInfo]]:
        folders = await self.services.runner.read(self.services.store.mailboxes, self.user)
        names = {m.name for m in folders}
        matcher = _pattern(ref, wildcard)
        found = []
        for folder in sorted(folders, key=lambda m: (m.name != "INBOX", m.name)):
            if not matcher.fullmatch(folder.name):
                continue
            has_children = any(other.startswith(folder.name + DELIMITER) for other in names)
            attributes = ["\\HasChildren" if has_children else "\\HasNoChildren"]  # RFC 3348
            if folder.name in SPECIAL_USE:
                attributes.append(SPECIAL_USE[folder.name])
            found.append((folder.name, FolderInfo(folder.name, tuple(attributes), folder.subscribed)))
        return found

    # RFC 2342: one personal namespace, no shared ones
    def getPersonalNamespaces(self) -> list[list[str]]:
        return [["", DELIMITER]]

    def getSharedNamespaces(self) -> None:
        return None

    def getUserNamespaces(self) -> None:
        return None
