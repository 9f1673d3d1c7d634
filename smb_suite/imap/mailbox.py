"""A folder as one session sees it: its own sequence numbers over the index (RFC 3501 2.3.1.2).

twisted keeps no per-session message map and its listener interface has no expunge event, so each SELECT
gets a view: new mail and other sessions' flag changes are pushed to the session as they are published by
the store; messages expunged elsewhere stay in the view until the session reaches a point where RFC 3501
7.4.1 allows an EXPUNGE response (`take_expunged`). Every storage call goes through the runner: reads in
the thread pool, writes on the writer thread; the loop never waits on disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet.defer import Deferred
from twisted.mail.imap4 import ICloseableMailbox, IMailbox, ISearchableMailbox, MessageSet, ReadOnlyMailbox
from zope.interface import implementer

from smb_suite import errors
from smb_suite.directory import User
from smb_suite.imap import search
from smb_suite.imap.bridge import as_deferred
from smb_suite.imap.message import Message
from smb_suite.ops import Services
from smb_suite.storage import maildir
from smb_suite.storage.store import Mailbox, MailStore, StoredMessage

logger = logging.getLogger("smb_suite.imap")
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")  # RFC 3501 2.3.2
DELIMITER = "/"


def snapshot(store: MailStore, mailbox: Mailbox) -> tuple[Mailbox, list[StoredMessage]]:
    """The folder row and its messages, read together in a worker thread."""
    return store.refresh(mailbox), store.messages(mailbox)


@implementer(IMailbox, ISearchableMailbox, ICloseableMailbox)
class MailboxView:
    def __init__(
        self, services: Services, user: User, mailbox: Mailbox, messages: list[StoredMessage], writeable: bool
    ) -> None:
        self._services = services
        self._user = user
        self.mailbox = mailbox
        self._messages = list(messages)
        self._position = {m.uid: i for i, m in enumerate(self._messages)}
        self._gone: set[int] = set()  # expunged elsewhere, not yet reported to this session
        self._writeable = writeable
        self._listeners: list[Any] = []
        self._lock = asyncio.Lock()  # one reload or write at a time, so a stale read never wins
        self._dirty = False
        self._refresher: asyncio.Task[None] | None = None

    # -- what SELECT, STATUS and FETCH read ------------------------------------------------------------------

    def getFlags(self) -> list[str]:
        keywords = {flag for m in self._messages for flag in m.flags if not flag.startswith("\\")}
        return [*SYSTEM_FLAGS, *sorted(keywords)]

    def getHierarchicalDelimiter(self) -> str:
        return DELIMITER

    def getUIDValidity(self) -> int:
        return self.mailbox.uidvalidity

    def getUIDNext(self) -> int:
        return self.mailbox.uidnext

    def getUID(self, message: int) -> int:
        return self._messages[message - 1].uid

    def getMessageCount(self) -> int:
        return len(self._messages)

    def getRecentCount(self) -> int:
        return 0  # \Recent is not tracked (RFC 9051 dropped it)

    def getUnseenCount(self) -> int:
        return sum(1 for m in self._messages if "\\Seen" not in m.flags)

    def first_unseen(self) -> int | None:
        """Sequence number for SELECT's [UNSEEN n] (RFC 3501 6.3.1)."""
        return next((seq for seq, m in enumerate(self._messages, 1) if "\\Seen" not in m.flags), None)

    def isWriteable(self) -> bool:
        return self._writeable

    def requestStatus(self, names: Iterable[str]) -> dict[str, int]:
        values = {
            "MESSAGES": self.getMessageCount(),
            "RECENT": self.getRecentCount(),
            "UIDNEXT": self.getUIDNext(),
            "UIDVALIDITY": self.getUIDValidity(),
            "UNSEEN": self.getUnseenCount(),
        }
        return {name: values[name] for name in names}

    def fetch(self, messages: MessageSet, uid: bool) -> list[tuple[int, Message]]:
        store = self._services.store
        return [
            (seq, Message(stored, store.message_path(self._user, self.mailbox, stored)))
            for seq, stored in self._select(messages, uid)
        ]

    def _select(self, messages: MessageSet, uid: bool) -> list[tuple[int, StoredMessage]]:
        """Messages in a set; '*' is the highest UID or sequence number (RFC 3501 6.4.8)."""
        if not self._messages:
            return []
        wanted = MessageSet(list(messages.ranges))  # a set's `last` can be set only once: work on a copy
        wanted.last = self._messages[-1].uid if uid else len(self._messages)
        return [(seq, m) for seq, m in enumerate(self._messages, 1) if (m.uid if uid else seq) in wanted]

    def search(self, query: list[search.Token], uid: bool) -> Deferred[list[int]]:
        """UIDs for UID SEARCH, else sequence numbers; keys are compiled here, evaluated in a thread."""
        last_uid = self._messages[-1].uid if self._messages else 0
        predicate = search.compile_keys(query, len(self._messages), last_uid)
        store = self._services.store
        candidates = [
            search.Candidate(
                seq, m.uid, m.flags, m.size, m.internaldate, store.message_path(self._user, self.mailbox, m)
            )
            for seq, m in enumerate(self._messages, 1)
        ]
        return as_deferred(self._services.runner.read(search.run, predicate, candidates, uid))

    # -- changes --------------------------------------------------------------------------------------------

    def store(self, messages: MessageSet, flags: list[str], mode: int, uid: bool) -> Deferred[dict[int, list[str]]]:
        """Set (0), add (1) or remove (-1) flags; the new flags of every message named, by sequence number."""
        return as_deferred(self._store(lambda: [m.uid for _, m in self._select(messages, uid)], flags, mode))

    def mark_seen(self, messages: MessageSet, uid: bool) -> Deferred[dict[int, list[str]]]:
        """FETCH of a body sets \\Seen (RFC 3501 6.4.5); only messages without it are written."""
        unseen = lambda: [m.uid for _, m in self._select(messages, uid) if "\\Seen" not in m.flags]  # noqa: E731
        return as_deferred(self._store(unseen, ["\\Seen"], 1))

    async def _store(self, choose: Callable[[], list[int]], flags: list[str], mode: int) -> dict[int, list[str]]:
        if not self._writeable:
            raise ReadOnlyMailbox()
        async with self._lock:
            uids = choose()
            if not uids:
                return {}
            changed = await self._services.runner.write(
                self._services.store.store_flags, self._user, self.mailbox, uids, flags, mode
            )
            await self._reload(quiet=set(changed))
        where = self._position
        return {where[u] + 1: sorted(self._messages[where[u]].flags) for u in changed if u in where}

    def expunge(self) -> Deferred[list[int]]:
        """Remove \\Deleted messages; returns every sequence number to report, highest first."""
        return as_deferred(self._expunge())

    async def _expunge(self) -> list[int]:
        if not self._writeable:
            raise ReadOnlyMailbox()
        async with self._lock:
            uids = [m.uid for m in self._messages if "\\Deleted" in m.flags and m.uid not in self._gone]
            if uids:
                await self._services.runner.write(self._services.store.expunge, self._user, self.mailbox, uids)
                await self._reload()
        return self.take_expunged()

    def copy(self, messages: MessageSet, uid: bool, target: str) -> Deferred[None]:
        return as_deferred(self._copy(messages, uid, target))

    async def _copy(self, messages: MessageSet, uid: bool, target: str) -> None:
        uids = [m.uid for _, m in self._select(messages, uid)]
        store = self._services.store
        await self._services.runner.write(store.copy, self._user, self.mailbox, uids, target)
        if maildir.validate_mailbox_name(target) == self.mailbox.name:
            await self.refresh_now()

    def take_expunged(self) -> list[int]:
        """Drop messages expunged elsewhere from the view; their sequence numbers, highest first."""
        if not self._gone:
            return []
        numbers = [seq for seq, m in enumerate(self._messages, 1) if m.uid in self._gone]
        self._messages = [m for m in self._messages if m.uid not in self._gone]
        self._position = {m.uid: i for i, m in enumerate(self._messages)}
        self._gone.clear()
        return numbers[::-1]

    # -- keeping the view current ---------------------------------------------------------------------------

    def refresh(self) -> Deferred[None]:
        return as_deferred(self.refresh_now())

    async def refresh_now(self) -> None:
        async with self._lock:
            await self._reload()

    async def _reload(self, quiet: set[int] | frozenset[int] = frozenset()) -> None:
        """Read the index and tell listeners what changed; `quiet` UIDs were changed by this session itself."""
        self.mailbox, rows = await self._services.runner.read(snapshot, self._services.store, self.mailbox)
        current = {m.uid: m for m in rows}
        flag_changes: dict[int, list[str]] = {}
        newly_gone = False
        for position, old in enumerate(self._messages):
            new = current.get(old.uid)
            if new is None:
                newly_gone = newly_gone or old.uid not in self._gone
                self._gone.add(old.uid)
                continue
            if new.flags != old.flags and old.uid not in quiet:
                flag_changes[position + 1] = sorted(new.flags)
            self._messages[position] = new
        highest = self._messages[-1].uid if self._messages else 0
        added = [m for m in rows if m.uid > highest]
        for m in added:
            self._position[m.uid] = len(self._messages)
            self._messages.append(m)
        for listener in list(self._listeners):
            if flag_changes:
                listener.flagsChanged(flag_changes)
            if added:
                listener.newMessages(len(self._messages), None)
            if newly_gone:
                listener.expungesPending()

    def _changed(self, mailbox_id: int) -> None:
        """ChangeHub callback (on the loop): coalesce bursts into one reload at a time."""
        self._dirty = True
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.ensure_future(self._refresh_while_dirty())

    async def _refresh_while_dirty(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self.refresh_now()
            except errors.UnknownMailbox:
                return  # deleted while selected: the session keeps its last view
            except Exception:
                logger.exception("imap.refresh_failed mailbox=%s", self.mailbox.id)
                return

    def addListener(self, listener: Any) -> None:
        if not self._listeners:
            self._services.store.changes.subscribe(self.mailbox.id, self._changed)
        self._listeners.append(listener)

    def removeListener(self, listener: Any) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)
        if not self._listeners:
            self._services.store.changes.unsubscribe(self.mailbox.id, self._changed)

    def close(self) -> None:
        """Deselect: stop listening for changes (RFC 3501 6.4.2 expunges first, in the server)."""
        for listener in list(self._listeners):
            self.removeListener(listener)
        if self._refresher is not None:
            self._refresher.cancel()
            self._refresher = None
