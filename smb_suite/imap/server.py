"""The IMAP listeners: a twisted factory making one session (session.IMAPSession) per connection.

Entry points for the daemon, to be called once the asyncio reactor is installed and running (trap 1 in the
package docstring):

    listen(services, host, port, context, implicit_tls) -> IListeningPort
        `imap` (STARTTLS offered) when implicit_tls is False, `imaps` (RFC 8314 implicit TLS) when True.
        port may be 0; the bound port is `listening_port.getHost().port`.
    close_connections(listening_port) -> None
        At shutdown, after stopListening: say BYE to every live session of that listener and close it.

Connections are capped per client address and in total (`[imap] max_connections*`), across the sessions of one
listener. Behind a balancer (`[listen] proxy_protocol_from`) the client address is the one of its PROXY header
(imap/proxied.py).
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from OpenSSL import SSL, crypto
from twisted.internet.protocol import Factory, ServerFactory
from twisted.internet.ssl import CertificateOptions, TLSVersion
from twisted.protocols.tls import TLSMemoryBIOFactory

from smb_suite import limits, proxyproto, tls
from smb_suite.config import Config
from smb_suite.imap.proxied import ProxiedFactory
from smb_suite.imap.session import IMAPSession
from smb_suite.services import Services


class IMAPFactory(ServerFactory[IMAPSession]):
    noisy = False  # the daemon logs one "listening" line per service itself

    def __init__(self, services: Services, starttls: CertificateOptions | None, implicit_tls: bool = False) -> None:
        self.services = services
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.sessions: set[IMAPSession] = set()
        settings = services.config.imap
        self.limits = limits.ConnectionLimits(
            settings.max_connections, settings.max_connections_per_ip, services.metrics.watch("imap")
        )

    def buildProtocol(self, addr: object) -> IMAPSession:
        protocol = IMAPSession(self.services, self.starttls, self.sessions, self.limits, self.implicit_tls)
        protocol.factory = self
        return protocol


def _options(certificate: Path, key: Path, minimum: TLSVersion) -> dict[str, Any]:
    """twisted needs pyOpenSSL: a certificate chain and its key (one bundle file may hold both)."""
    chain = x509.load_pem_x509_certificates(certificate.read_bytes())
    return {
        "privateKey": crypto.load_privatekey(crypto.FILETYPE_PEM, key.read_bytes()),
        "certificate": crypto.X509.from_cryptography(chain[0]),
        "extraCertChain": [crypto.X509.from_cryptography(extra) for extra in chain[1:]],
        "raiseMinimumTo": minimum,
    }


class SniOptions(CertificateOptions):
    """The daemon's certificate, and per name (RFC 6066 3) the one tls.CertificateFinder gives, built again when
    its file changes: a renewed certificate is served from the next handshake on, without a restart."""

    def __init__(self, finder: tls.CertificateFinder, minimum: TLSVersion, **options: Any) -> None:
        super().__init__(**options)
        self._finder = finder
        self._sni_set = False
        self._contexts: tls.ContextCache[SSL.Context] = tls.ContextCache(
            lambda certificate, key: CertificateOptions(**_options(certificate, key, minimum)).getContext()
        )

    def getContext(self) -> SSL.Context:  # noqa: N802 - twisted's name
        """twisted keeps one context per options object; the callback is set before its first connection
        (pyOpenSSL refuses changes to a context once used)."""
        context: SSL.Context = super().getContext()
        if not self._sni_set:
            context.set_tlsext_servername_callback(self._choose)
            self._sni_set = True
        return context

    def _choose(self, connection: SSL.Connection) -> None:
        name = connection.get_servername()
        files = self._finder.files_for(name.decode("ascii", "replace") if name else None)
        chosen = None if files is None else self._contexts.get(files)
        if chosen is not None:
            connection.set_context(chosen)


def _tls_options(config: Config, context: ssl.SSLContext, finder: tls.CertificateFinder) -> SniOptions:
    """The daemon's certificate chain and key, and at least its minimum TLS version."""
    minimum = TLSVersion.TLSv1_3 if context.minimum_version == ssl.TLSVersion.TLSv1_3 else TLSVersion.TLSv1_2
    return SniOptions(finder, minimum, **_options(config.certificate_path, config.key_path, minimum))


def adopt(
    services: Services,
    sock: socket.socket,
    context: ssl.SSLContext,
    finder: tls.CertificateFinder,
    implicit_tls: bool,
) -> Any:
    """Serve IMAP on a socket the daemon (or its supervisor) bound and put to listening; returns its
    IListeningPort (typed Any: mypy cannot call methods of a zope interface without the mypy-zope plugin).

    The reactor listens on its own duplicate of the descriptor: the caller closes `sock` when done."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    options = _tls_options(services.config, context, finder)
    factory: Factory[Any] = IMAPFactory(services, None if implicit_tls else options, implicit_tls)
    if implicit_tls:  # what listenSSL does, so that a PROXY header can come first, below TLS
        factory = _tls_wrapped(options, factory)
    policy = proxyproto.ProxyPolicy.of(services.config.listen)
    if policy.enabled:
        factory = ProxiedFactory(factory, policy, "imaps" if implicit_tls else "imap", reactor)
    return reactor.adoptStreamPort(sock.fileno(), sock.family, factory)


def _tls_wrapped(options: Any, factory: Any) -> Factory[Any]:
    """TLS server connections of `factory`'s protocol (twisted types its arguments as zope interfaces)."""
    return TLSMemoryBIOFactory(options, False, factory)


def close_connections(listening_port: Any) -> None:
    """BYE and close every session of a listener returned by `adopt` (TLS and PROXY wrap our factory)."""
    factory: Any = listening_port.factory
    while hasattr(factory, "wrappedFactory"):
        factory = factory.wrappedFactory
    for session in list(factory.sessions):
        session.shutdown()
