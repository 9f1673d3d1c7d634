"""Change notifications: storage tells listeners (IMAP sessions in IDLE, ...) that a mailbox changed.

Writers run on the storage thread; listeners live on the event loop, so publish hops threads safely.
`drop` says a mailbox was deleted or renamed: whoever keeps something about it (imap/folder.py's kept folder
states) must let it go at once, before any later change notification or command is handled.

With a `bus` (bus.py), every change also goes to the other worker processes (or nodes), and what they publish
reaches this process's listeners the same way, in each sender's order: a session in one worker hears of a
delivery made by another as it would of one made beside it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from smb_suite.storage.bus import Change, ChangeBus, ChangeKind

Listener = Callable[[int], None]
# a folder's listener: (mailbox id, the folder's new mod-sequence when this process made the change and knows
# it, else None); a reader that already shows that mod-sequence (its session made the change) need not look
MailboxListener = Callable[[int, int | None], None]


@dataclass
class ChangeHub:
    loop: asyncio.AbstractEventLoop | None = None
    bus: ChangeBus | None = None

    def __post_init__(self) -> None:
        self._listeners: defaultdict[int, list[MailboxListener]] = defaultdict(list)
        self._droppers: list[Listener] = []
        self._others: defaultdict[ChangeKind, list[Listener]] = defaultdict(list)

    async def connect(self, bus: ChangeBus) -> None:
        """Send this process's changes on `bus` and deliver the other processes' here (on the running loop)."""
        self.loop = asyncio.get_running_loop()
        self.bus = bus
        await bus.start(self._received)

    def _received(self, change: Change) -> None:
        if change.kind is ChangeKind.MAILBOX:
            self._deliver(change.id, None)
        elif change.kind is ChangeKind.DROPPED:
            self._deliver_drop(change.id)
        else:
            for listener in list(self._others[change.kind]):
                listener(change.id)

    def on(self, kind: ChangeKind, listener: Listener) -> None:
        """Call `listener(id)` on the loop for each change of another `kind` than a mailbox's, from any process."""
        self._others[kind].append(listener)

    def on_drop(self, listener: Listener) -> None:
        """Call `listener(mailbox_id)` on the loop whenever a mailbox is deleted or renamed."""
        self._droppers.append(listener)

    def subscribe(self, mailbox_id: int, listener: MailboxListener) -> None:
        self._listeners[mailbox_id].append(listener)

    def unsubscribe(self, mailbox_id: int, listener: MailboxListener) -> None:
        listeners = self._listeners.get(mailbox_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(mailbox_id, None)

    def publish(self, mailbox_id: int, modseq: int | None = None) -> None:
        """Tell every listener of the mailbox, here and in the other processes (callable from any thread);
        `modseq`: the folder's mod-sequence the change took, when the writer knows it (told to local
        listeners only: the bus carries the change alone)."""
        self._post(Change(ChangeKind.MAILBOX, mailbox_id), modseq)

    def drop(self, mailbox_id: int) -> None:
        """The mailbox was deleted or renamed (callable from any thread; delivered before later publishes)."""
        self._post(Change(ChangeKind.DROPPED, mailbox_id))

    def post(self, change: Change) -> None:
        """Tell this process's listeners of `change`, and the other processes' (callable from any thread)."""
        self._post(change)

    def _post(self, change: Change, modseq: int | None = None) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._local_and_bus, change, modseq)

    def _local_and_bus(self, change: Change, modseq: int | None) -> None:
        if self.bus is not None:
            self.bus.send(change)
        if change.kind is ChangeKind.MAILBOX:
            self._deliver(change.id, modseq)
        else:
            self._received(change)

    def _deliver(self, mailbox_id: int, modseq: int | None) -> None:
        for listener in list(self._listeners.get(mailbox_id, [])):
            listener(mailbox_id, modseq)

    def _deliver_drop(self, mailbox_id: int) -> None:
        for listener in list(self._droppers):
            listener(mailbox_id)
