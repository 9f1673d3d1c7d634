"""A folder's shared state reads the index only for what it does not know: the change notification of its own
session's write (whose mod-sequence it already shows) costs no read; any other change is read."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

from smb_suite.imap.folder import FolderRegistry, FolderState
from smb_suite.services import Services
from smb_suite.storage.changes import ChangeHub
from smb_suite.storage.index import Mailbox, StoredMessage

INBOX = Mailbox(id=5, user_id=1, name="INBOX", uidvalidity=9, uidnext=3, highestmodseq=4, recent_from=3)
ONE, TWO = StoredMessage(1, "cur/a:2,", 10, frozenset(), 0, 2), StoredMessage(2, "cur/b:2,", 10, frozenset(), 0, 3)


class Store:
    """The index as the state reads it, counting its reads."""

    def __init__(self) -> None:
        self.changes = ChangeHub()
        self.mailbox, self.messages = INBOX, [ONE, TWO]
        self.reads = 0

    def snapshot(self, _: Mailbox) -> tuple[Mailbox, list[StoredMessage]]:
        return self.mailbox, list(self.messages)

    def changes_since(self, known: Mailbox, _: int) -> tuple[Mailbox, list[StoredMessage], None]:
        self.reads += 1
        return self.mailbox, [m for m in self.messages if m.modseq > known.highestmodseq], None


class Runner:
    async def read(self, func: Callable[..., Any], *args: Any) -> Any:
        return func(*args)


class View:
    claims_recent = False

    def __init__(self) -> None:
        self.heard: list[list[StoredMessage]] = []

    def changed(self, messages: list[StoredMessage]) -> None:
        self.heard.append(messages)

    def removed(self, gone: list[StoredMessage]) -> None: ...
    def keywords_seen(self, keywords: list[str]) -> None: ...
    def added(self, recent: range) -> None: ...


async def _opened() -> tuple[Store, FolderState, View]:
    store = Store()
    store.changes.loop = asyncio.get_running_loop()
    registry = FolderRegistry(cast(Services, SimpleNamespace(store=store, runner=Runner())))
    user = SimpleNamespace(id=1)
    state = await registry.open(cast(Any, user), INBOX)
    view = View()
    state.follow(view)
    return store, state, view


async def _settled(state: FolderState) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    if state._refresher is not None:
        await state._refresher


def test_the_notification_of_the_sessions_own_write_costs_no_read() -> None:
    async def scenario() -> None:
        store, state, view = await _opened()
        seen = ONE._replace(flags=frozenset({"\\Seen"}), modseq=5)
        store.messages, store.mailbox = [seen, TWO], dataclasses.replace(INBOX, highestmodseq=5)
        async with state.lock:  # as MailboxView.store does: the write, then its result applied
            store.changes.publish(INBOX.id, 5)
            await asyncio.sleep(0)
            state.apply_own([seen], None, 5)
        await _settled(state)
        assert store.reads == 0
        assert state.mailbox.highestmodseq == 5 and state.by_uid[1].flags == {"\\Seen"}
        assert view.heard == [[seen]]

    asyncio.run(scenario())


def test_a_change_made_elsewhere_is_read_from_the_index() -> None:
    async def scenario() -> None:
        store, state, view = await _opened()
        flagged = TWO._replace(flags=frozenset({"\\Flagged"}), modseq=5)
        store.messages, store.mailbox = [ONE, flagged], dataclasses.replace(INBOX, highestmodseq=5)
        store.changes.publish(INBOX.id)  # another process's change: no mod-sequence known here
        await _settled(state)
        assert store.reads == 1
        assert view.heard == [[flagged]]
        skipped = flagged._replace(flags=frozenset(), modseq=7)  # modseq 6 was someone else's: not caught up
        store.messages, store.mailbox = [ONE, skipped], dataclasses.replace(INBOX, highestmodseq=7)
        async with state.lock:
            store.changes.publish(INBOX.id, 7)
            await asyncio.sleep(0)
            state.apply_own([skipped], None, 7)
        await _settled(state)
        assert store.reads == 2 and state.mailbox.highestmodseq == 7

    asyncio.run(scenario())
