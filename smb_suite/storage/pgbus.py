"""The change bus across machines: PostgreSQL LISTEN/NOTIFY (the interface is bus.py's `ChangeBus`).

Every process (worker or node) that shares one PostgreSQL index LISTENs on one channel with a connection of its
own and NOTIFYs its changes on another, from the event loop (psycopg's async connections), so it needs no
thread and no other service. A payload is `<sender token> <sequence> <change>`: the token lets a process drop
its own notifications (PostgreSQL delivers them to the sender too), and the sequence makes every payload
distinct, because PostgreSQL folds identical payloads sent in one transaction into one, which would lose the
"look again" after a drop. NOTIFY is delivered when its transaction commits, in commit order, and one sender's
notifications arrive in the order it sent them (a drop before the later changes of its folder).

`send` runs after the write that caused it committed (ChangeHub publishes after the commit), so a process that
hears a change finds its rows. A process that dies between its commit and its NOTIFY leaves the others' IDLE
sessions unaware of that one change until their next command or change (the rows are right; only the push is
missed). When the listening connection breaks, the bus reconnects; changes sent meanwhile are not heard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from smb_suite.storage import database
from smb_suite.storage.bus import Change, Deliver

logger = logging.getLogger("smb_suite.storage.pgbus")
CHANNEL = "smb_suite_changes"
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # then every 5 s
BATCH = 500  # notifications sent in one transaction at most
Connection = psycopg.AsyncConnection[TupleRow]


class PostgresBus:
    """LISTEN/NOTIFY on `CHANNEL` of the database the daemon's `[database] url` names."""

    def __init__(self, url: str) -> None:
        self._conninfo = make_conninfo("", **database.libpq_parameters(url))
        self._token = secrets.token_hex(8)
        self._sequence = 0
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._connections: set[Connection] = set()

    async def _connect(self) -> Connection:
        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        self._connections.add(connection)
        return connection

    async def _forget(self, connection: Connection | None) -> None:
        if connection is not None:
            self._connections.discard(connection)
            with contextlib.suppress(psycopg.Error):
                await connection.close()

    async def start(self, deliver: Deliver) -> None:
        listener = await self._listening()  # fails the start when the database cannot be reached
        self._tasks = [
            asyncio.create_task(self._listen(listener, deliver), name="change-bus-listen"),
            asyncio.create_task(self._send_all(), name="change-bus-notify"),
        ]

    async def _listening(self) -> Connection:
        connection = await self._connect()
        await connection.execute(f"LISTEN {CHANNEL}")
        return connection

    async def _listen(self, connection: Connection, deliver: Deliver) -> None:
        while True:
            try:
                async for notification in connection.notifies():
                    self._received(notification.payload, deliver)
            except psycopg.Error as error:
                logger.warning("change_bus.broken error=%s", type(error).__name__)
            await self._forget(connection)
            connection = await self._reconnect(self._listening)

    def _received(self, payload: str, deliver: Deliver) -> None:
        token, _, rest = payload.partition(" ")
        if token == self._token:
            return
        _sequence, _, text = rest.partition(" ")
        change = Change.decode(text)
        if change is not None:
            deliver(change)

    async def _reconnect(self, connect: Callable[[], Awaitable[Connection]]) -> Connection:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            attempt += 1
            try:
                connection = await connect()
            except psycopg.Error:
                continue
            logger.info("change_bus.reconnected attempts=%d", attempt)
            return connection

    def send(self, change: Change) -> None:
        self._sequence += 1
        self._outbox.put_nowait(f"{self._token} {self._sequence} {change.encode()}")

    async def _send_all(self) -> None:
        connection: Connection | None = None
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            while True:
                try:
                    if connection is None:
                        connection = await self._connect()
                    async with connection.transaction(), connection.cursor() as cursor:
                        await cursor.executemany("SELECT pg_notify(%s, %s)", [(CHANNEL, p) for p in batch])
                    break
                except psycopg.Error as error:
                    logger.warning("change_bus.notify_failed error=%s", type(error).__name__)
                    await self._forget(connection)
                    connection = await self._reconnect(self._connect)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        for connection in list(self._connections):
            await self._forget(connection)
