"""Responses sent in the turn they are written, without asking the reactor to watch the socket first.

twisted's TCP transport buffers every write and registers the socket with the loop for writing
(addWriter: an epoll_ctl), sends once the loop says the socket is writable, then unregisters it (another
epoll_ctl): two system calls, a loop turn and ~40 lines of Python per response, ~10 % of the event loop's
time under the many-client mix. `PromptTransport` wraps a plain TCP transport: the writes of one loop turn
are gathered and sent with one send() at the end of the turn (or at once when the command's tagged reply
is written, `flush`), straight to the socket when twisted holds nothing unsent; what the socket does not
take, and everything while twisted still holds octets, goes through twisted's buffer as before, so the order
of the octets, back-pressure on a FETCH (its producer is paused when that buffer fills) and loseConnection
after the last write are unchanged. Once TLS started on the connection (STARTTLS), every write is
twisted's again: the socket then carries TLS records only.

Everything but writing goes to the transport beneath, and the wrapper claims the interfaces it provides
(ITLSTransport...), so twisted's STARTTLS and "is this TLS?" checks get the same answers.
"""

from __future__ import annotations

import asyncio
from typing import Any

from twisted.internet import tcp
from zope.interface import directlyProvides, providedBy

from smb_suite.imap.transport import Address

GATHER_LIMIT = 64 * 1024  # octets gathered before they are sent without waiting for the end of the turn


class PromptTransport:
    def __init__(self, inner: tcp.Connection) -> None:
        self.inner = inner
        self._pending: list[bytes] = []
        self._size = 0
        self._scheduled = False
        directlyProvides(self, providedBy(inner))

    @staticmethod
    def wraps(transport: object) -> bool:
        """Only twisted's own TCP connections (not TLS over a memory BIO, not a PROXY protocol wrapper)."""
        return isinstance(transport, tcp.Connection)

    def write(self, data: bytes) -> None:
        if not data:
            return
        self._pending.append(data)
        self._size += len(data)
        self._gathered()

    def writeSequence(self, data: list[bytes]) -> None:
        self._pending.extend(data)
        self._size += sum(map(len, data))
        self._gathered()

    def _gathered(self) -> None:
        if self._size >= GATHER_LIMIT:
            self.flush()
        elif not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send what was gathered now: straight to the socket when twisted holds nothing unsent."""
        self._scheduled = False
        if not self._pending:
            return
        pending, self._pending, self._size = self._pending, [], 0
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        inner = self.inner
        if _idle(inner):
            sent = inner.writeSomeData(data)
            if isinstance(sent, int):
                data = data[sent:]  # the rest waits for the socket in twisted's buffer
        inner.write(data)  # b"" does nothing; a lost connection is noticed by twisted as before

    @property
    def disconnecting(self) -> bool:
        return bool(self.inner.disconnecting)

    def getPeer(self) -> Address:
        peer: Address = self.inner.getPeer()
        return peer

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.inner.setTcpNoDelay(enabled)

    def registerProducer(self, producer: object, streaming: bool) -> None:
        self.inner.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        self.flush()
        self.inner.unregisterProducer()

    def startTLS(self, context: object, normal: bool = True) -> None:
        """What was written before goes out in the clear first (STARTTLS's OK), then TLS starts."""
        self.flush()
        self.inner.startTLS(context, normal)

    def loseConnection(self) -> None:
        self.flush()
        self.inner.loseConnection()

    def abortConnection(self) -> None:
        self._pending, self._size = [], 0
        self.inner.abortConnection()

    def __getattr__(self, name: str) -> Any:
        """twisted's own calls (pauseProducing, resumeProducing, getHost...) go to the transport beneath."""
        return getattr(self.inner, name)


def _idle(inner: tcp.Connection) -> bool:
    """Nothing of an earlier write is waiting in twisted's buffers (FileDescriptor.dataBuffer beyond its
    offset, _tempDataBuffer), the connection is open and not encrypted by twisted's TLS layer."""
    return bool(
        not inner.TLS
        and inner.connected
        and not inner.disconnecting
        and not inner._tempDataLen
        and inner.offset >= len(inner.dataBuffer)
    )
