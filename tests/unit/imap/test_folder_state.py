"""A folder's shared state reads the index only for what it does not know: the change notification of its own
session's write (whose mod-sequence it already shows) costs no read; any other change is read. A SELECT of a
folder whose state is kept reads its row and its changes in one trip, and never takes the state of a folder
that has lost its name to another."""

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
        self.named: dict[str, Mailbox] = {}  # folders other than self.mailbox, by name
        self.reads = 0
        self.trips = 0  # calls to the runner: trips to a reader thread

    def snapshot(self, known: Mailbox) -> tuple[Mailbox, list[StoredMessage]]:
        return (self.mailbox, list(self.messages)) if known.id == self.mailbox.id else (known, [])

    def mailbox_named(self, _: object, name: str) -> Mailbox:
        self.reads += 1
        return self.named.get(name, self.mailbox)

    def changes_since(self, known: Mailbox, _: int) -> tuple[Mailbox, list[StoredMessage], None]:
        self.reads += 1
        return self.mailbox, [m for m in self.messages if m.modseq > known.highestmodseq], None


class Runner:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def read(self, func: Callable[..., Any], *args: Any) -> Any:
        self.store.trips += 1
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


async def _registry() -> tuple[Store, FolderRegistry]:
    store = Store()
    store.changes.loop = asyncio.get_running_loop()
    services = SimpleNamespace(store=_StoreFacade(store), runner=Runner(store))
    return store, FolderRegistry(cast(Services, services))


class _StoreFacade:
    """MailStore's read calls the registry makes, over `Store` (whose `mailbox` attribute is the INBOX row)."""

    def __init__(self, store: Store) -> None:
        self.changes = store.changes
        self.snapshot, self.changes_since, self.mailbox = store.snapshot, store.changes_since, store.mailbox_named


async def _opened() -> tuple[Store, FolderState, View]:
    store, registry = await _registry()
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


def test_a_select_of_a_kept_folder_reads_its_row_and_changes_in_one_trip() -> None:
    async def scenario() -> None:
        store, registry = await _registry()
        user = cast(Any, SimpleNamespace(id=1))
        first = await registry.open_named(user, "INBOX")  # loaded: the row, then the snapshot
        assert store.trips == 2
        flagged = TWO._replace(flags=frozenset({"\\Flagged"}), modseq=5)
        store.messages, store.mailbox = [ONE, flagged], dataclasses.replace(INBOX, highestmodseq=5)
        again = await registry.open_named(user, "INBOX")
        assert again is first and store.trips == 3
        assert again.by_uid[2].flags == {"\\Flagged"} and again.mailbox.highestmodseq == 5

    asyncio.run(scenario())


def test_a_select_never_takes_the_state_of_a_folder_whose_name_went_to_another() -> None:
    async def scenario() -> None:
        store, registry = await _registry()
        user = cast(Any, SimpleNamespace(id=1))
        old = await registry.open_named(user, "INBOX")
        # another process renamed folder 5 and made a new INBOX (its drop has not reached this one yet)
        other = dataclasses.replace(INBOX, id=6, uidvalidity=10)
        store.named["INBOX"] = other
        new = await registry.open_named(user, "INBOX")
        assert new is not old and new.key == (1, 6, 10) and new.mailbox == other and not new.by_uid

    asyncio.run(scenario())
