"""The change bus: carries change notifications between the processes that share one index.

`ChangeHub` (changes.py) tells listeners in its own process; with several worker processes (daemon.py's
supervisor) or several nodes, what one process changed must reach the others' listeners too, as fast as a
listener in the same process hears it. The hub hands every change it publishes to its bus (`send`) and
delivers what the bus receives (`start`'s callback) to its own listeners, never sending it on again.

A change only says "look again": receivers read the index for what changed (imap/folder.py asks for the rows
past its mod-sequence), so a change may arrive twice or be coalesced without harm; what a bus must keep is the
order of one sender's changes (a drop before the later changes of the same id) and speed.

Implementations: `PipeBus` (one machine: a stream socket to the supervisor, which relays each line to every
other worker, `Relay`); a PostgreSQL one would NOTIFY on `send` and LISTEN in `start`, filtering out its own
notifications by the sender token it puts in the payload (`Change.encode` has room for it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

logger = logging.getLogger("smb_suite.storage.bus")
MAX_LINE = 200  # a change is a few dozen bytes; anything longer is not ours


class ChangeKind(StrEnum):
    MAILBOX = "mailbox"  # the messages of mailbox `id` changed (new, flags, expunged): ChangeHub.publish
    DROPPED = "dropped"  # mailbox `id` was deleted or renamed: ChangeHub.drop
    CREDENTIAL = "credential"  # a password another worker verified: its cache entry as a number (auth/credentials)


@dataclass(frozen=True, slots=True)
class Change:
    kind: ChangeKind
    id: int

    def encode(self) -> str:
        """One line of text without its newline, e.g. "mailbox 42" (also a NOTIFY payload)."""
        return f"{self.kind} {self.id}"

    @classmethod
    def decode(cls, text: str) -> Change | None:
        """The change a line names, or None for one this version does not know (a newer peer's kind)."""
        kind, _, number = text.strip().partition(" ")
        if kind not in ChangeKind.__members__.values() or not number.isdigit():
            return None
        return cls(ChangeKind(kind), int(number))


Deliver = Callable[[Change], None]


class ChangeBus(Protocol):
    """What ChangeHub needs from a transport between processes. All three are called on the event loop."""

    async def start(self, deliver: Deliver) -> None:
        """Begin receiving: call `deliver(change)` on the loop for each change another process sent, in the
        order each sender sent them; never for this process's own changes."""

    def send(self, change: Change) -> None:
        """Hand a change to every other process, without blocking the loop (queue it if need be)."""

    async def close(self) -> None:
        """Stop receiving and release the transport."""


class PipeBus:
    """One end of a connected stream socket to the supervisor's `Relay` (inherited from it at start)."""

    def __init__(self, sock: socket.socket, on_lost: Callable[[], None] | None = None) -> None:
        self._sock = sock
        self._on_lost = on_lost  # the supervisor is gone: the worker stops (daemon.py)
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        reader, self._writer = await asyncio.open_unix_connection(sock=self._sock, limit=MAX_LINE * 64)
        self._reader_task = asyncio.create_task(self._read(reader, deliver), name="change-bus")

    async def _read(self, reader: asyncio.StreamReader, deliver: Deliver) -> None:
        try:
            while line := await reader.readline():
                change = Change.decode(line.decode("ascii", "replace"))
                if change is not None:
                    deliver(change)
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            logger.warning("change_bus.broken")
        if self._on_lost is not None:
            self._on_lost()

    def send(self, change: Change) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(change.encode().encode("ascii") + b"\n")

    async def close(self) -> None:
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(ConnectionError):
                await self._writer.wait_closed()


class Relay:
    """The supervisor's side: one socket per worker; every line a worker writes goes to all the others.

    Why socket pairs handed to each worker at start rather than a named socket in the data folder: no path (no
    length limit, no stale file after a crash, no permissions to get right), and only the supervisor's own
    children can ever be on it.
    """

    def __init__(self) -> None:
        self._writers: dict[int, asyncio.StreamWriter] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def attach(self, worker: int, sock: socket.socket) -> None:
        """Relay for `worker` (any key, e.g. its pid) over the supervisor's end of its socket pair."""
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_LINE * 64)
        self._writers[worker] = writer
        self._tasks[worker] = asyncio.create_task(self._relay(worker, reader), name=f"relay-{worker}")

    async def _relay(self, worker: int, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError, asyncio.LimitOverrunError, ValueError):
            while line := await reader.readline():
                for other, writer in list(self._writers.items()):
                    if other != worker and not writer.is_closing():
                        writer.write(line)
        self._forget(worker)

    def _forget(self, worker: int) -> None:
        writer = self._writers.pop(worker, None)
        self._tasks.pop(worker, None)
        if writer is not None:
            writer.close()

    async def detach(self, worker: int) -> None:
        task = self._tasks.get(worker)
        self._forget(worker)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        for worker in list(self._writers):
            await self.detach(worker)
