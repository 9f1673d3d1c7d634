"""The IMAP listeners: twisted's IMAP4Server with our commands, password policy and per-session views.

Entry points for the daemon, to be called once the asyncio reactor is installed and running:

    listen(services, host, port, context, implicit_tls) -> IListeningPort
        `imap` (STARTTLS offered) when implicit_tls is False, `imaps` (RFC 8314 implicit TLS) when True.
        port may be 0; the bound port is `listening_port.getHost().port`.
    close_connections(listening_port) -> None
        At shutdown, after stopListening: say BYE to every live session of that listener and close it.

Passwords (LOGIN, AUTHENTICATE PLAIN/LOGIN) are accepted only over TLS or from a loopback address
(RFC 3501 6.2.3, RFC 8314); elsewhere the capability list says LOGINDISABLED and they get NO.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import ssl
from typing import Any

from cryptography import x509
from OpenSSL import crypto
from twisted.internet.interfaces import ISSLTransport
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.internet.ssl import CertificateOptions, TLSVersion
from twisted.mail.imap4 import IMAP4Server, LOGINCredentials, PLAINCredentials
from twisted.python.failure import Failure

from smb_suite import log
from smb_suite.config import Config
from smb_suite.imap import auth
from smb_suite.imap.commands import MailboxCommands
from smb_suite.imap.errors import PrivacyRequired, reply_error
from smb_suite.imap.fetch import FetchCommands
from smb_suite.imap.quota import QuotaCommands
from smb_suite.ops import Services

logger = logging.getLogger("smb_suite.imap")
_connection_ids = itertools.count(1)  # one sequence for both listeners, so log lines never collide


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


class IMAPServer(QuotaCommands, FetchCommands, MailboxCommands, IMAP4Server):  # type: ignore[misc]  # rebinds command tuples
    IDENT = b"smb-suite IMAP4rev1 ready"

    def __init__(self, services: Services, starttls: Any, sessions: set[IMAPServer]) -> None:
        super().__init__(chal={b"PLAIN": PLAINCredentials, b"LOGIN": LOGINCredentials}, contextFactory=starttls)
        self.services = services
        self.sessions = sessions
        self.connection = next(_connection_ids)
        self.append_limit = services.config.smtp.max_message_size
        self.client_ip = ""
        self._loopback = False

    def connectionMade(self) -> None:
        self.client_ip = str(getattr(self.transport.getPeer(), "host", ""))
        self._loopback = _is_loopback(self.client_ip)
        self.portal = auth.portal_for(self.services, self.client_ip, self.connection)  # type: ignore[assignment]
        self.sessions.add(self)
        self.transport.setTcpNoDelay(True)  # responses leave at once, not after the client's delayed ACK
        log.event(logger, "imap.connected", conn=self.connection, client=self.client_ip)
        super().connectionMade()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._deselect()
        self.sessions.discard(self)
        log.event(logger, "imap.disconnected", conn=self.connection)
        super().connectionLost(reason)

    def shutdown(self) -> None:
        """Daemon stop: an untagged BYE (RFC 3501 7.1.5), then close."""
        self.sendUntaggedResponse(b"BYE server shutting down")
        self.transport.loseConnection()

    # -- passwords only over TLS or loopback ----------------------------------------------------------------

    def _password_allowed(self) -> bool:
        return self.startedTLS or ISSLTransport(self.transport, None) is not None or self._loopback

    def capabilities(self) -> dict[bytes, Any]:
        caps = super().capabilities()
        if self._password_allowed():
            caps.pop(b"LOGINDISABLED", None)
        else:
            caps[b"AUTH"] = []
        caps[b"APPENDLIMIT"] = [b"%d" % self.append_limit]  # RFC 7889
        caps[b"QUOTA"] = None  # RFC 9208, with the STORAGE resource only
        caps[b"QUOTA=RES-STORAGE"] = None
        return caps

    def _refuse_password(self, tag: bytes) -> None:
        reply_error(self, tag, Failure(PrivacyRequired("use STARTTLS before sending a password")))

    def do_LOGIN(self, tag: bytes, user: bytes, passwd: bytes) -> None:
        if self._password_allowed():
            super().do_LOGIN(tag, user, passwd)
        else:
            self._refuse_password(tag)

    def do_AUTHENTICATE(self, tag: bytes, args: bytes) -> None:
        if self._password_allowed():
            super().do_AUTHENTICATE(tag, args)
        else:
            self._refuse_password(tag)

    unauth_LOGIN = (do_LOGIN, IMAP4Server.arg_astring, IMAP4Server.arg_finalastring)  # type: ignore[assignment]
    unauth_AUTHENTICATE = (do_AUTHENTICATE, IMAP4Server.arg_atom)  # type: ignore[assignment]

    # -- the selected folder and its unsolicited updates (RFC 3501 7.4.1) ----------------------------------

    def _deselect(self) -> None:
        if self.mbox is not None:
            self.mbox.removeListener(self)
            self.mbox.close()
            self.mbox = None
        if self.state == "select":
            self.state = "auth"

    def dispatchCommand(self, tag: bytes, cmd: bytes, rest: bytes | None, uid: int | None = None) -> None:
        """Report other sessions' expunges before any command that may carry them (not FETCH/STORE/SEARCH)."""
        if uid is None and cmd.upper() not in (b"FETCH", b"STORE", b"SEARCH"):
            self._send_pending_expunges()
        super().dispatchCommand(tag, cmd, rest, uid)

    def expungesPending(self) -> None:
        """MailboxView: messages vanished; an IDLE session hears of it at once (RFC 2177)."""
        if self.parseState == "idle":
            self._send_pending_expunges()

    def _send_pending_expunges(self) -> None:
        if self.mbox is not None:
            self._send_expunged(self.mbox.take_expunged())

    def checkpoint(self) -> Any:
        """CHECK (RFC 3501 6.4.1): nothing to flush (writes are durable), but a chance to report changes."""
        return self.mbox.refresh().addCallback(lambda _: self._send_pending_expunges())


class IMAPFactory(ServerFactory):
    noisy = False  # the daemon logs one "listening" line per service itself

    def __init__(self, services: Services, starttls: Any) -> None:
        self.services = services
        self.starttls = starttls
        self.sessions: set[IMAPServer] = set()

    def buildProtocol(self, addr: Any) -> IMAPServer:
        protocol = IMAPServer(self.services, self.starttls, self.sessions)
        protocol.factory = self
        return protocol


def _tls_options(config: Config, context: ssl.SSLContext) -> CertificateOptions:
    """twisted needs pyOpenSSL: the daemon's certificate chain and key, and at least its minimum TLS version."""
    chain = x509.load_pem_x509_certificates(config.certificate_path.read_bytes())
    tls13 = context.minimum_version == ssl.TLSVersion.TLSv1_3
    return CertificateOptions(
        privateKey=crypto.load_privatekey(crypto.FILETYPE_PEM, config.key_path.read_bytes()),
        certificate=crypto.X509.from_cryptography(chain[0]),
        extraCertChain=[crypto.X509.from_cryptography(extra) for extra in chain[1:]],
        raiseMinimumTo=TLSVersion.TLSv1_3 if tls13 else TLSVersion.TLSv1_2,
    )


def listen(services: Services, host: str, port: int, context: ssl.SSLContext, implicit_tls: bool) -> Any:
    """Start one IMAP listener on the running reactor; returns its IListeningPort (typed Any: mypy cannot
    call methods of a zope interface without the mypy-zope plugin)."""
    from twisted.internet import reactor as installed

    reactor: Any = installed
    options = _tls_options(services.config, context)
    if implicit_tls:
        return reactor.listenSSL(port, IMAPFactory(services, None), options, interface=host)
    return reactor.listenTCP(port, IMAPFactory(services, options), interface=host)


def close_connections(listening_port: Any) -> None:
    """BYE and close every session of a listener returned by `listen` (TLS listeners wrap our factory)."""
    factory: Any = listening_port.factory
    for session in list(getattr(factory, "wrappedFactory", factory).sessions):
        session.shutdown()
