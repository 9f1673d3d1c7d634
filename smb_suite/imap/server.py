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
import re
import ssl
from typing import Any

from cryptography import x509
from OpenSSL import crypto
from twisted.internet.defer import maybeDeferred
from twisted.internet.interfaces import IHandshakeListener, ISSLTransport
from twisted.internet.protocol import ServerFactory, connectionDone
from twisted.internet.ssl import CertificateOptions, TLSVersion
from twisted.mail.imap4 import IllegalClientResponse, IMAP4Server, LOGINCredentials, PLAINCredentials
from twisted.python.failure import Failure
from zope.interface import implementer

from smb_suite import __version__ as VERSION
from smb_suite import limits, log
from smb_suite.config import Config
from smb_suite.imap import auth, syntax, wire
from smb_suite.imap.arguments import Arguments, opt_atom
from smb_suite.imap.commands import MailboxCommands
from smb_suite.imap.errors import PrivacyRequired, reply_error
from smb_suite.imap.fetch import FetchCommands
from smb_suite.imap.listing import ListCommands
from smb_suite.imap.quota import QuotaCommands
from smb_suite.imap.selected import SelectedCommands
from smb_suite.services import Services
from smb_suite.storage.store import StoredMessage

logger = logging.getLogger("smb_suite.imap")
_connection_ids = itertools.count(1)  # one sequence for both listeners, so log lines never collide


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


@implementer(IHandshakeListener)
class IMAPServer(QuotaCommands, FetchCommands, SelectedCommands, ListCommands, MailboxCommands, IMAP4Server):  # type: ignore[misc]
    IDENT = b"smb-suite IMAP4rev1 ready"
    MAX_LENGTH = 64 * 1024  # longest command line (RFC 7162 4 asks for at least 8192 octets)

    def __init__(self, services: Services, starttls: Any, sessions: set[IMAPServer]) -> None:
        super().__init__(chal={b"PLAIN": PLAINCredentials, b"LOGIN": LOGINCredentials}, contextFactory=starttls)
        self.services = services
        self.sessions = sessions
        self.connection = next(_connection_ids)
        self.append_limit = services.config.smtp.max_message_size
        self.client_ip = ""
        self._loopback = False
        self.condstore = False  # RFC 7162: MODSEQ in untagged FETCH once a CONDSTORE feature was used
        self._command: bytes | None = None  # the command in progress, b"UID FETCH" style
        self._resume_scheduled = False
        self._overlong_tag: bytes | None = None  # discarding the rest of a line that was too long
        self._idle_tag = b""
        settings = services.config.imap
        self.timeOut = int(settings.login_timeout)  # RFC 9051 5.4: before login, a short wait
        self.POSTAUTH_TIMEOUT = int(settings.idle_timeout)  # after login at least 30 minutes
        self.slot: limits.Slot | None = None
        self._lost = False
        self._handshake_timer: Any = None

    def connectionMade(self) -> None:
        self.client_ip = str(getattr(self.transport.getPeer(), "host", ""))
        factory: IMAPFactory = self.factory
        if factory.implicit_tls:  # the client must finish its TLS handshake in time (handshakeCompleted)
            self._handshake_timer = _reactor().callLater(
                self.services.config.tls.handshake_timeout, self._handshake_expired
            )
        self.slot = factory.limits.acquire(self.client_ip)
        if self.slot is None:  # RFC 9051 7.1.5: BYE as the greeting; RFC 5530 [UNAVAILABLE]
            log.event(logger, "connection.refused", service="imap", client=self.client_ip, reason="too_many")
            self.transport.write(b"* BYE [UNAVAILABLE] Too many connections from your address\r\n")
            self.transport.loseConnection()
            return
        self._loopback = _is_loopback(self.client_ip)
        self.portal = auth.portal_for(self.services, self.client_ip, self.connection)  # type: ignore[assignment]
        self.sessions.add(self)
        self.transport.setTcpNoDelay(True)  # responses leave at once, not after the client's delayed ACK
        log.event(logger, "imap.connected", conn=self.connection, client=self.client_ip)
        super().connectionMade()

    def handshakeCompleted(self) -> None:
        if self._handshake_timer is not None and self._handshake_timer.active():
            self._handshake_timer.cancel()
        self._handshake_timer = None

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        log.event(logger, "tls.handshake_failed", service="imaps", client=self.client_ip, reason="timeout")
        self.transport.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        self.handshakeCompleted()  # cancels the handshake timer
        if self.slot is not None:
            self.slot.release()
        self._deselect()
        self.sessions.discard(self)
        log.event(logger, "imap.disconnected", conn=self.connection)
        super().connectionLost(reason)

    def shutdown(self) -> None:
        """Daemon stop: an untagged BYE (RFC 3501 7.1.5), then close."""
        self.sendLine(b"* BYE server shutting down")
        self.transport.loseConnection()

    def timeoutConnection(self) -> None:
        """RFC 3501 5.4: an idle client may be logged out (twisted's version talks to its own mailbox API)."""
        self.sendLine(b"* BYE autologout; connection idle too long")
        self._deselect()
        self.transport.loseConnection()  # waits until the client has read everything: bounded below
        _reactor().callLater(self.services.config.imap.login_timeout, self._abort_unread)

    def _abort_unread(self) -> None:
        """A client that does not even read our responses is cut off, so its session and slot end."""
        if self.slot is not None and not self._lost:
            log.event(logger, "imap.aborted", conn=self.connection)
            self.transport.abortConnection()

    # -- capabilities (RFC 3501 7.2.1) ----------------------------------------------------------------------

    def _password_allowed(self) -> bool:
        return self.startedTLS or ISSLTransport(self.transport, None) is not None or self._loopback

    def capabilities(self) -> dict[bytes, Any]:
        caps = super().capabilities()
        if self._password_allowed():
            caps.pop(b"LOGINDISABLED", None)
            caps[b"SASL-IR"] = None  # RFC 4959
        else:
            caps[b"AUTH"] = []
        for name in EXTENSIONS:
            caps[name] = None
        caps[b"APPENDLIMIT"] = [b"%d" % self.append_limit]  # RFC 7889
        return caps

    # -- logging in: passwords only over TLS or loopback ----------------------------------------------------

    def _refuse_password(self, tag: bytes) -> None:
        reply_error(self, tag, Failure(PrivacyRequired("use STARTTLS before sending a password")))

    def do_LOGIN(self, tag: bytes, user: bytes, passwd: bytes) -> None:
        if self._password_allowed():
            super().do_LOGIN(tag, user, passwd)
        else:
            self._refuse_password(tag)

    def do_AUTHENTICATE(self, tag: bytes, mechanism: bytes, initial: bytes | None = None) -> None:
        """AUTHENTICATE, with an initial response on the command line (SASL-IR, RFC 4959)."""
        if not self._password_allowed():
            self._refuse_password(tag)
            return
        mechanism = mechanism.upper().strip()
        challengers: Any = self.challengers
        if initial is None or mechanism not in challengers:
            super().do_AUTHENTICATE(tag, mechanism)
            return
        challenger = challengers[mechanism]()
        challenger.getChallenge()
        server: Any = self  # twisted's name-mangled continuation of AUTHENTICATE
        d = maybeDeferred(server._IMAP4Server__cbAuthChunk, b"" if initial == b"=" else initial, challenger, tag)
        d.addErrback(server._IMAP4Server__ebAuthChunk, tag)

    def _IMAP4Server__ebLogin(self, failure: Failure, tag: bytes) -> None:
        """A refused LOGIN: NO [AUTHENTICATIONFAILED], or NO [UNAVAILABLE] while locked (RFC 5530)."""
        reply_error(self, tag, failure)

    def _IMAP4Server__ebAuthResp(self, failure: Failure, tag: bytes) -> None:
        reply_error(self, tag, failure)

    def do_STARTTLS(self, tag: bytes) -> None:
        """Whatever the client sent after STARTTLS in the clear is dropped (RFC 3501 6.2.1, CVE-2011-0411)."""
        super().do_STARTTLS(tag)
        self.clearLineBuffer()

    unauth_LOGIN = (do_LOGIN, Arguments.arg_astring, Arguments.arg_finalastring)  # type: ignore[assignment]
    unauth_AUTHENTICATE = (do_AUTHENTICATE, IMAP4Server.arg_atom, opt_atom)  # type: ignore[assignment]
    unauth_STARTTLS = (do_STARTTLS,)  # type: ignore[assignment]

    # -- reading commands: one at a time, lines of bounded length (RFC 3501 5.5) ---------------------------

    def dataReceived(self, data: bytes) -> Any:
        if self._overlong_tag is not None:
            end = data.find(b"\n")
            if end < 0:
                return None
            self._overlong_done(self._overlong_tag)
            data = data[end + 1 :]
            if not data:
                return None
        return super().dataReceived(data)

    def lineLengthExceeded(self, line: bytes) -> None:
        """BAD for a line over MAX_LENGTH, then go on with the next line (twisted drops the connection)."""
        tag = line.split(b" ", 1)[0][:64] if _TAG.match(line) else b"*"
        end = line.find(b"\n")
        if end < 0:
            self._overlong_tag = tag
            return
        self._buffer = line[end + 1 :]
        self._overlong_done(tag)
        _reactor().callLater(0, self.dataReceived, b"")

    def _overlong_done(self, tag: bytes) -> None:
        self._overlong_tag = None
        self.sendBadResponse(None if tag == b"*" else tag, b"command line too long")

    def lineReceived(self, line: bytes) -> None:
        if self.parseState == "command" and self._command is not None:
            # a pipelined command waits for the one in progress (RFC 3501 5.5): stop reading until it is done,
            # so its literals stay literals and the client feels TCP back-pressure, not an unbounded queue
            self._buffer = line + self.delimiter + self._buffer
            self.pauseProducing()
            return
        self.resetTimeout()
        try:
            getattr(self, "parse_" + self.parseState)(line)
        except Exception:
            logger.exception("imap.parse_failed conn=%s", self.connection)
            self.sendBadResponse(None, b"[SERVERBUG] internal error, see the server log")

    def parse_command(self, line: bytes) -> None:
        parts = line.split(b" ", 2)
        tag = parts[0]
        if not _TAG.fullmatch(tag):
            self.sendBadResponse(None, b"a command starts with a tag")
            return
        if len(parts) < 2 or not parts[1]:
            self.sendBadResponse(tag, b"missing command")
            return
        try:
            self.dispatchCommand(tag, parts[1].upper(), parts[2] if len(parts) == 3 else None)
        except Exception as exc:  # noqa: BLE001 - answered, never raised to twisted
            reply_error(self, tag, Failure(exc))

    def dispatchCommand(self, tag: bytes, cmd: bytes, rest: bytes | None, uid: int | None = None) -> None:
        self._command = cmd.upper() if uid is None else b"UID " + cmd.upper()
        if self.lookupCommand(cmd) is None:
            name = cmd.decode("ascii", "replace").upper().replace("-", "_")
            known = _COMMAND.fullmatch(cmd) and any(hasattr(self, f"{state}_{name}") for state in _STATES)
            raise IllegalClientResponse("command not valid in this state" if known else "unknown command")
        if uid is not None:  # UIDs do not shift: say what vanished first, so the answer leaves it out
            self._send_pending_expunges()
        super().dispatchCommand(tag, cmd, rest or b"", uid)

    def lookupCommand(self, cmd: bytes) -> Any:
        """twisted decodes the name as ASCII and raises on other octets: those are simply unknown."""
        if not _COMMAND.fullmatch(cmd):
            return None
        return super().lookupCommand(cmd)

    def _IMAP4Server__ebDispatch(self, failure: Failure, tag: bytes) -> None:
        """Errors from argument parsers, mapped like every other error (twisted answers BAD Server error)."""
        reply_error(self, tag, failure)

    def _respond(self, state: bytes, tag: bytes | None, message: bytes | None) -> None:
        """A tagged completion ends the command: queued updates first, then EXPUNGEs where RFC 3501 7.4.1
        allows them (not at the end of FETCH, STORE or SEARCH), then the next waiting command may run."""
        if tag is None or tag == b"*" or state not in (b"OK", b"NO", b"BAD"):
            super()._respond(state, tag, message)
            return
        self._flush_queued()
        if self._command not in (b"FETCH", b"STORE", b"SEARCH"):
            self._send_pending_expunges()
        self._command = None
        super()._respond(state, tag, message)
        if self.paused and not self._resume_scheduled:  # after this turn: login and SELECT set state late
            self._resume_scheduled = True
            _reactor().callLater(0, self._next_command)

    def _next_command(self) -> None:
        self._resume_scheduled = False
        if self._command is None and self.paused and not self.transport.disconnecting:
            self.resumeProducing()

    def sendUntaggedResponse(self, message: bytes, isAsync: bool | None = None) -> None:
        """Updates (isAsync) wait for the end of a command, except in IDLE, where they are the point."""
        if isAsync and self._command is not None and self.parseState != "idle":
            self._queuedAsync.append(message)
        else:
            super()._respond(message, None, None)

    def send_untagged_many(self, messages: list[bytes], is_async: bool = False) -> None:
        """Many untagged responses in one write: one write each for 30,000 messages kept the loop ~0.3 s."""
        if is_async and self._command is not None and self.parseState != "idle":
            self._queuedAsync.extend(messages)
        elif messages:
            self.transport.write(b"".join(b"* " + message + self.delimiter for message in messages))

    def _flush_queued(self) -> None:
        queued, self._queuedAsync = self._queuedAsync, []
        self.send_untagged_many(queued)

    # -- IDLE (RFC 2177): only DONE ends it ---------------------------------------------------------------

    def do_IDLE(self, tag: bytes) -> None:
        self._idle_tag = tag
        self.parseState = "idle"
        self._flush_queued()
        self._send_pending_expunges()
        self.sendContinuationRequest(b"idling")

    def parse_idle(self, line: bytes) -> None:
        if line.strip().upper() != b"DONE":
            self.sendBadResponse(None, b"expected DONE to end IDLE")
            return
        self.parseState = "command"
        self.sendPositiveResponse(self._idle_tag, b"IDLE terminated")

    auth_IDLE = select_IDLE = (do_IDLE,)  # type: ignore[assignment]

    # -- ID (RFC 2971) and ENABLE (RFC 5161) -----------------------------------------------------------------

    def do_ID(self, tag: bytes, rest: bytes) -> None:
        items = syntax.tokens(rest)
        if len(items) != 1 or not (items[0] is None or isinstance(items[0], list)):
            raise IllegalClientResponse("ID takes NIL or a parenthesised list")
        fields = items[0] or []
        if len(fields) % 2 or len(fields) > 60 or not all(isinstance(f, bytes | None) for f in fields):
            raise IllegalClientResponse("ID takes field/value pairs")
        told = {}
        for key, value in zip(fields[::2], fields[1::2], strict=True):
            name = key.decode("ascii", "replace").lower() if isinstance(key, bytes) else ""
            if name in ("name", "version") and isinstance(value, bytes):
                told[f"client_{name}"] = value.decode("utf-8", "replace")[:60]
        log.event(logger, "imap.client_id", conn=self.connection, **told)
        self.sendUntaggedResponse(b'ID ("name" "smb-suite" "version" "%b")' % VERSION.encode())
        self.sendPositiveResponse(tag, b"ID completed")

    def do_ENABLE(self, tag: bytes, rest: bytes) -> None:
        enabled = []
        for name in rest.split():
            if name.upper() == b"CONDSTORE":
                self.enable_condstore()
                enabled.append(b"CONDSTORE")
        self.sendUntaggedResponse(b"ENABLED" + b"".join(b" " + name for name in enabled))
        self.sendPositiveResponse(tag, b"ENABLE completed")

    def enable_condstore(self) -> None:
        self.condstore = True

    unauth_ID = auth_ID = select_ID = (do_ID, Arguments.arg_line)
    auth_ENABLE = select_ENABLE = (do_ENABLE, Arguments.arg_line)

    # -- the selected folder and its updates (RFC 3501 7.4.1) ----------------------------------------------

    def _deselect(self) -> None:
        if self.mbox is not None:
            self.mbox.close()
            self.mbox = None
        if self.state == "select":
            self.state = "auth"

    def exists_changed(self, count: int) -> None:
        self.sendUntaggedResponse(b"%d EXISTS" % count, isAsync=True)

    def flags_changed(self, changes: list[tuple[int, StoredMessage]]) -> None:
        lines = []
        for seq, message in changes:
            extra = b" UID %d MODSEQ (%d)" % (message.uid, message.modseq) if self.condstore else b""
            lines.append(b"%d FETCH (FLAGS %b%b)" % (seq, wire.flag_list(message.flags), extra))
        self.send_untagged_many(lines, is_async=True)

    def expunges_pending(self) -> None:
        """Messages vanished elsewhere; an IDLE session hears of it at once (RFC 2177)."""
        if self.parseState == "idle":
            self._send_pending_expunges()

    def _send_pending_expunges(self) -> None:
        if self.mbox is not None:
            self.send_expunged(self.mbox.take_expunged())

    def send_expunged(self, numbers: list[int]) -> None:
        """EXPUNGE responses, after any queued update that still counts the messages."""
        if numbers:
            self._flush_queued()
        self.send_untagged_many([b"%d EXPUNGE" % number for number in numbers])


EXTENSIONS = (
    b"LITERAL+",  # RFC 7888
    b"ID",  # RFC 2971
    b"ENABLE",  # RFC 5161
    b"UNSELECT",  # RFC 3691
    b"UIDPLUS",  # RFC 4315
    b"MOVE",  # RFC 6851
    b"CONDSTORE",  # RFC 7162
    b"SPECIAL-USE",  # RFC 6154
    b"CHILDREN",  # RFC 3348
    b"LIST-EXTENDED",  # RFC 5258
    b"LIST-STATUS",  # RFC 5819
    b"QUOTA",  # RFC 9208, with the STORAGE resource only
    b"QUOTA=RES-STORAGE",
)
_STATES = ("unauth", "auth", "select", "logout")
_COMMAND = re.compile(rb"[A-Za-z][A-Za-z0-9-]{0,31}")
_TAG = re.compile(rb'[^\x00-\x20\x7f-\xff(){%*"\\+]+')  # RFC 3501 9: a tag is ASTRING-CHARs but "+"


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


class IMAPFactory(ServerFactory):
    noisy = False  # the daemon logs one "listening" line per service itself

    def __init__(self, services: Services, starttls: Any, implicit_tls: bool = False) -> None:
        self.services = services
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.sessions: set[IMAPServer] = set()
        settings = services.config.imap
        self.limits = limits.ConnectionLimits(settings.max_connections, settings.max_connections_per_ip)

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
        return reactor.listenSSL(port, IMAPFactory(services, None, implicit_tls=True), options, interface=host)
    return reactor.listenTCP(port, IMAPFactory(services, options), interface=host)


def close_connections(listening_port: Any) -> None:
    """BYE and close every session of a listener returned by `listen` (TLS listeners wrap our factory)."""
    factory: Any = listening_port.factory
    for session in list(getattr(factory, "wrappedFactory", factory).sessions):
        session.shutdown()
