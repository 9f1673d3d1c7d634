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
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from smb_suite import limits, log, proxyproto
from smb_suite.config import Config

logger = logging.getLogger("smb_suite.web")
_BODY = b"Too many connections from your address, try again later.\n"
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 10\r\nConnection: close\r\n\r\n%b" % (len(_BODY), _BODY)
)


class LimitedHttpProtocol(HttpToolsProtocol):
    def __init__(self, slot: limits.Slot, timeouts: HttpTimeouts, **uvicorn: Any) -> None:
        super().__init__(**uvicorn)
        self.slot = slot
        self.header_timeout = timeouts.header
        self.body_timeout = timeouts.body
        self.send_timeout = timeouts.send
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        self._stop_body_timer()
        if self._send_timer is not None:
            self._send_timer.cancel()
        super().connection_lost(exc)
        self.slot.release()

    def data_received(self, data: bytes) -> None:
        if self._body_timer is not None:  # the body is still arriving: wait again for the next piece
            self._stop_body_timer()
            self._start_body_timer()
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._start_header_timer()

    def on_headers_complete(self) -> None:
        self._stop_header_timer()
        super().on_headers_complete()
        self._start_body_timer()  # until on_message_complete (at once for a request without a body)

    def on_message_complete(self) -> None:
        self._stop_body_timer()
        super().on_message_complete()

    def _start_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._header_expired)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

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
        self._header_timer = None
        if not self.transport.is_closing():
            client = self.client[0] if self.client else ""
            log.event(logger, "http.header_timeout", client=client)
            self.transport.close()


@dataclass(frozen=True, slots=True)
class HttpTimeouts:
    header: float
    body: float
    send: float


class HttpProtocols:
    """The `http=` protocol class uvicorn calls for each connection of one listener (http or https)."""

    def __init__(
        self, name: str, config: Config, tls: ssl.SSLContext | None, watch: limits.SessionWatch | None = None
    ) -> None:
        settings = config.http
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
        return LimitedHttpProtocol(slot, self.timeouts, **self._uvicorn)
