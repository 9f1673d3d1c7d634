"""PROXY protocol on the IMAP listeners: the rules of smb_suite/proxyproto.py, with twisted's plumbing.

A wrapper sits directly on the TCP connection, below TLS on the imaps listener (the balancer's header comes
before the client's TLS handshake). For a balancer (`[listen] proxy_protocol_from`) it reads the header first,
within `proxy_protocol_timeout`, and only then connects the session (or the TLS layer), which asks the wrapper for
its peer and so sees the real client: connection caps, login throttling and logs all count that address. For
anyone else it watches the first bytes and closes a connection that starts with a PROXY header.

The asyncio listeners (SMTP, HTTP) do the same in smb_suite/limits.py's gate.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.protocols.policies import ProtocolWrapper, WrappingFactory
from twisted.python.failure import Failure
from zope.interface import directlyProvides, providedBy

from smb_suite import log, proxyproto
from smb_suite.errors import InvalidProxyHeader
from smb_suite.imap.transport import DelayedCall, Transport

logger = logging.getLogger("smb_suite.imap")


class ProxiedConnection(ProtocolWrapper):
    factory: ProxiedFactory

    def __init__(self, factory: ProxiedFactory, wrapped: Any) -> None:
        super().__init__(factory, wrapped)
        self._session: Any = wrapped  # the session, or the TLS layer under it (zope-typed in twisted)
        self._received = b""
        self._awaiting_header = False  # a balancer's connection: nothing passes before its header
        self._watching = False  # anyone else's: the first bytes must not be a PROXY header
        self._peer: IPv4Address | IPv6Address | None = None
        self._timer: DelayedCall | None = None

    def makeConnection(self, transport: Any) -> None:
        directlyProvides(self, providedBy(transport))
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        policy = self.factory.policy
        if policy.trusts(str(getattr(transport.getPeer(), "host", ""))):
            self._awaiting_header = True
            self._timer = self.factory.reactor.callLater(
                policy.timeout, self._refuse, "no complete PROXY header in time"
            )
        else:
            self._watching = True
            self._session.makeConnection(self)

    def dataReceived(self, data: bytes) -> None:
        if self._awaiting_header:
            self._read_header(data)
        elif self._watching:
            self._watch(data)
        else:
            self._session.dataReceived(data)

    def _read_header(self, data: bytes) -> None:
        self._received += data
        try:
            header = proxyproto.parse(self._received)
        except InvalidProxyHeader as error:
            self._refuse(str(error))
            return
        if header is None:
            return
        self._awaiting_header = False
        self._stop_timer()
        if header.source is not None:
            host, port = header.source
            self._peer = (IPv6Address if ":" in host else IPv4Address)("TCP", host, port)
        rest, self._received = self._received[header.length :], b""
        self._session.makeConnection(self)
        if rest:
            self._session.dataReceived(rest)

    def _watch(self, data: bytes) -> None:
        self._received += data
        verdict = proxyproto.looks_like_header(self._received)
        if verdict is None:
            return
        if verdict:
            self._refuse("PROXY header from a peer not in proxy_protocol_from")
            return
        self._watching = False
        data, self._received = self._received, b""
        self._session.dataReceived(data)

    def _refuse(self, reason: str) -> None:
        self._stop_timer()
        client = self._tcp.getPeer().host
        log.event(logger, "proxy.refused", service=self.factory.service, client=client, reason=reason)
        self._tcp.abortConnection()

    def _stop_timer(self) -> None:
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    @property
    def _tcp(self) -> Transport:
        return cast(Transport, self.transport)

    def getPeer(self) -> Any:
        return self._peer or self._tcp.getPeer()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._stop_timer()
        if self._awaiting_header:  # the session never started: nothing of it to end
            self.factory.unregisterProtocol(self)
            return
        super().connectionLost(reason)


class ProxiedFactory(WrappingFactory[ProxiedConnection]):
    protocol = ProxiedConnection
    noisy = False

    def __init__(self, wrapped: Factory[Any], policy: proxyproto.ProxyPolicy, service: str, reactor: Any) -> None:
        super().__init__(wrapped)
        self.policy = policy
        self.service = service
        self.reactor = reactor  # for the header's deadline
