"""The HTTP connection as uvicorn serves it, with the limits every public listener has.

uvicorn takes this as its `http=` protocol class. Each connection is first counted by the gate of
smb_suite/limits.py (`[http] max_connections`, `max_connections_per_ip`: over a cap the client gets 503 and
the connection is closed), which also does the TLS handshake on the https listener within
`[tls] handshake_timeout`. Then uvicorn's httptools protocol runs, with a header deadline
(`[http] header_timeout`): from the connection (or the first byte of a keep-alive request) to the end of the
request header, so that a client that says nothing, or sends its header a byte at a time, is dropped; and
`[http] body_timeout` between two pieces of a request body (while the app is not the one holding it back),
and `[http] send_timeout` for a client that stops reading a response (our writes stay blocked that long).
uvicorn's own `timeout_keep_alive` (`[http] keepalive_timeout`) closes idle keep-alive connections.

The fast path: a GET or HEAD of a hosted site's file already in memory is answered from the parser's callback,
in one write (bodies of 64 KiB and more by sendfile on plain HTTP), with no ASGI scope, task or message
(web/app.py `answer_now` decides exactly as the ASGI app would, and says None for everything else, which then
takes uvicorn's way). It is taken only when nothing else is pending on the connection (an earlier pipelined
request still answering, a client that stopped reading), so responses stay in order and the send buffer
bounded.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from smb_suite import limits, log, proxyproto
from smb_suite.config import Config
from smb_suite.web.hosting import Reply, wire

Answer = Callable[[str, str, list[tuple[bytes, bytes]]], Reply | None]  # (method, path, headers) -> reply or None
BODY_FIELDS = frozenset((b"content-length", b"transfer-encoding", b"expect"))
SENDFILE_MIN = 64 * 1024  # below this one send of the cached copy costs less than open + sendfile + close

logger = logging.getLogger("smb_suite.web")
_BODY = b"Too many connections from your address, try again later.\n"
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 10\r\nConnection: close\r\n\r\n%b" % (len(_BODY), _BODY)
)


class LimitedHttpProtocol(HttpToolsProtocol):
    def __init__(self, slot: limits.Slot, timeouts: HttpTimeouts, answer: Answer | None, **uvicorn: Any) -> None:
        super().__init__(**uvicorn)
        self.slot = slot
        self.answer = answer
        self._answered = False  # the current request was answered by the fast path
        self._defaults: tuple[object, bytes] = (None, b"")
        self._sock: Any = None  # the socket on plain HTTP, for sendfile (asyncio's TransportSocket or uvloop's)
        self.header_timeout = timeouts.header
        self.body_timeout = timeouts.body
        self.send_timeout = timeouts.send
        self._header_timer = limits.Deadline(self.loop, self._header_expired)
        self._idle_timer = limits.Deadline(self.loop, self.timeout_keep_alive_handler)  # after a fast-path answer
        self._body_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None and self.scheme == "http":  # on https the kernel cannot send the file for us
            self._sock = sock
        self._header_timer.set(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_timer.cancel()
        self._idle_timer.cancel()
        self._stop_body_timer()
        if self._send_timer is not None:
            self._send_timer.cancel()
        super().connection_lost(exc)
        self.slot.release()

    def data_received(self, data: bytes) -> None:
        self._idle_timer.clear()
        if self._body_timer is not None:  # the body is still arriving: wait again for the next piece
            self._stop_body_timer()
            self._start_body_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._answered = False
        self._idle_timer.clear()  # a request pipelined behind a fast-path answer is no idle connection
        if not self._header_timer.pending:  # counted from the connection, or from this request's first byte
            self._header_timer.set(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._header_timer.clear()
        if self._answer_now():
            return
        super().on_headers_complete()
        self._start_body_timer()  # until on_message_complete (at once for a request without a body)

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._stop_body_timer()
        if not self._answered:
            super().on_message_complete()

    def _answer_now(self) -> bool:
        """The fast path (see the module docstring): True when the response is written."""
        if self.answer is None or self.flow.write_paused or self.pipeline:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False
        parser = self.parser
        if parser.get_http_version() != "1.1" or not parser.should_keep_alive() or parser.should_upgrade():
            return False
        path = self.url.partition(b"?")[0]
        if not path.startswith(b"/") or b"%" in path or b"#" in path or not path.isascii():
            return False  # absolute-form targets and escapes: uvicorn's parsing decides
        if any(name in BODY_FIELDS for name, _ in self.headers):
            return False
        reply = self.answer(parser.get_method().decode("ascii"), path.decode("ascii"), self.headers)
        if reply is None or reply.stream is not None:
            return False
        self._answered = True
        head = b"".join((STATUS_LINE[reply.status], self._default_fields(), reply.wire or wire(reply.headers), b"\r\n"))
        body = reply.body
        if len(body) < SENDFILE_MIN:
            self.transport.write(head + body)  # one send
        elif reply.file is not None and self._sock is not None and not self.transport.get_write_buffer_size():
            self._send_file(head, body, reply.file)
        else:  # HTTPS, or a gzip form (no file holds it)
            self.transport.write(head)
            if body:
                self.transport.write(body)
        self._fast_response_complete()
        return True

    def _send_file(self, head: bytes, body: bytes, path: Path) -> None:
        """The header, then the file by sendfile(2), corked so that they leave in full segments (nginx's
        `tcp_nopush`: about a fifth less CPU per 500 KB file than a separate header segment); what the socket
        does not take at once is written from the cached copy."""
        sock = self._sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        try:
            self.transport.write(head)
            rest = memoryview(body)
            if not self.transport.get_write_buffer_size():  # the header is out: the file follows it
                rest = rest[send_file(sock.fileno(), path, len(body)) :]
        finally:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        if rest:
            self.transport.write(rest)

    def _fast_response_complete(self) -> None:
        """uvicorn's on_response_complete for a fast-path answer (nothing pipelined, reading not paused: checked
        before): count the request and start the keep-alive wait, with a deadline rather than a new timer."""
        self.server_state.total_requests += 1
        if not self.transport.is_closing():
            self._idle_timer.set(self.timeout_keep_alive)

    def _default_fields(self) -> bytes:
        """uvicorn's Date field (a new list each second), serialised once per second."""
        fields = self.server_state.default_headers
        if self._defaults[0] is not fields:
            self._defaults = (fields, wire(fields))
        return self._defaults[1]

    def pause_writing(self) -> None:
        """Our writes are blocked: the client has stopped reading; it has `send_timeout` to go on."""
        super().pause_writing()
        if self._send_timer is None:
            self._send_timer = self.loop.call_later(self.send_timeout, self._send_expired)

    def resume_writing(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        super().resume_writing()

    def _send_expired(self) -> None:
        self._send_timer = None
        log.event(logger, "http.send_timeout", client=self.client[0] if self.client else "")
        self.transport.abort()  # close() would wait for the unread response to drain

    def _start_body_timer(self) -> None:
        self._body_timer = self.loop.call_later(self.body_timeout, self._body_expired)

    def _stop_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.flow is not None and self.flow.read_paused:  # the app is slow to read, not the client to send
            self._start_body_timer()
        elif not self.transport.is_closing():
            log.event(logger, "http.body_timeout", client=self.client[0] if self.client else "")
            self.transport.close()

    def _header_expired(self) -> None:
        if not self.transport.is_closing():
            client = self.client[0] if self.client else ""
            log.event(logger, "http.header_timeout", client=client)
            self.transport.close()


def send_file(sock: int, path: Path, size: int) -> int:
    """Bytes of the file sent at once with sendfile(2), which hands the kernel page references instead of
    copying our cached body into the socket (what nginx saves). Never waits: it stops where the non-blocking
    socket is full, and on any error; the caller writes the rest from memory. The file is one of a version
    folder, which never changes once live, and was read into the cache moments ago (so it is in the page
    cache: no disk wait on the loop)."""
    try:
        file = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return 0
    sent = 0
    try:
        while sent < size:
            count = os.sendfile(sock, file, sent, size - sent)
            if count <= 0:
                break
            sent += count
    except OSError:  # EAGAIN: the socket buffer is full; others: the transport will see them on its write
        pass
    finally:
        os.close(file)
    return sent


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    header: float
    body: float
    send: float


class HttpProtocols:
    """The `http=` protocol class uvicorn calls for each connection of one listener (http or https)."""

    def __init__(
        self,
        name: str,
        config: Config,
        tls: ssl.SSLContext | None,
        watch: limits.SessionWatch | None = None,
        answer: Answer | None = None,
    ) -> None:
        settings = config.http
        self.answer = answer
        self.timeouts = HttpTimeouts(
            float(settings.header_timeout), float(settings.body_timeout), float(settings.send_timeout)
        )
        self._uvicorn: dict[str, Any] = {}
        self._gate = limits.gate(
            name,
            self._protocol,
            limits.ConnectionLimits(settings.max_connections, settings.max_connections_per_ip, watch),
            REFUSAL,
            tls,
            config.tls.handshake_timeout,
            proxyproto.ProxyPolicy.of(config.listen),
        )

    def __call__(self, **uvicorn: Any) -> asyncio.Protocol:
        self._uvicorn = uvicorn  # config, server_state, app_state: the same objects for every connection
        return self._gate()

    def _protocol(self, slot: limits.Slot) -> LimitedHttpProtocol:
        return LimitedHttpProtocol(slot, self.timeouts, self.answer, **self._uvicorn)
