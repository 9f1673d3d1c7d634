"""Change notifications: storage tells listeners (IMAP sessions in IDLE, ...) that a mailbox changed.

Writers run on the storage thread; listeners live on the event loop, so publish hops threads safely.
`drop` says a mailbox was deleted or renamed: whoever keeps something about it (imap/folder.py's kept folder
states) must let it go at once, before any later change notification or command is handled.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

Listener = Callable[[int], None]


@dataclass
class ChangeHub:
    loop: asyncio.AbstractEventLoop | None = None

    def __post_init__(self) -> None:
        self._listeners: defaultdict[int, list[Listener]] = defaultdict(list)
        self._droppers: list[Listener] = []

    def on_drop(self, listener: Listener) -> None:
        """Call `listener(mailbox_id)` on the loop whenever a mailbox is deleted or renamed."""
        self._droppers.append(listener)

    def subscribe(self, mailbox_id: int, listener: Listener) -> None:
        self._listeners[mailbox_id].append(listener)

    def unsubscribe(self, mailbox_id: int, listener: Listener) -> None:
        listeners = self._listeners.get(mailbox_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(mailbox_id, None)

    def publish(self, mailbox_id: int) -> None:
        """Tell every listener of the mailbox, on the loop (callable from any thread)."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._deliver, mailbox_id)

    def _deliver(self, mailbox_id: int) -> None:
        for listener in list(self._listeners.get(mailbox_id, [])):
            listener(mailbox_id)

    def drop(self, mailbox_id: int) -> None:
        """The mailbox was deleted or renamed (callable from any thread; delivered before later publishes)."""
        if self.loop is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self._deliver_drop, mailbox_id)

    def _deliver_drop(self, mailbox_id: int) -> None:
        for listener in list(self._droppers):
            listener(mailbox_id)
