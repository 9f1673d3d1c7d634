"""One IMAP connection: twisted's IMAP4Server with our commands, password policy and per-session views.

`IMAPSession` reads commands one at a time, says what it can (capabilities), logs in (passwords only over TLS
or from a loopback address, RFC 3501 6.2.3, RFC 8314: elsewhere the capability list says LOGINDISABLED and they
get NO), runs IDLE, ID and ENABLE, and sends unsolicited updates where RFC 3501 7.4.1 allows them. The commands
themselves come from the command modules, whose `<state>_<COMMAND>` table entries it inherits (trap 3 in the
package docstring); each of those modules states what it needs of the session as a Protocol, checked by mypy
at the end of this module. server.py makes sessions, one per connection.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import re
import time
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.interfaces import IHandshakeListener, ISSLTransport
from twisted.internet.protocol import connectionDone
from twisted.internet.ssl import CertificateOptions
from twisted.mail.imap4 import (
    IllegalClientResponse,
    IllegalOperation,
    IMAP4Server,
    LOGINCredentials,
    PLAINCredentials,
)
from twisted.python.failure import Failure
from zope.interface import implementer

from smb_suite import __version__ as VERSION
from smb_suite import limits, log
from smb_suite.imap import auth, syntax, wire
from smb_suite.imap.account import Account
from smb_suite.imap.arguments import LiteralReceiver, arg_astring, arg_finalastring, arg_line, opt_atom
from smb_suite.imap.commands import MailboxCommands, flag_responses
from smb_suite.imap.compress import CompressedTransport, Inflater
from smb_suite.imap.errors import PrivacyRequired
from smb_suite.imap.fetch import FetchCommands
from smb_suite.imap.listing import ListCommands
from smb_suite.imap.mailbox import MailboxView
from smb_suite.imap.prompt import PromptTransport
from smb_suite.imap.quota import QuotaCommands
from smb_suite.imap.replies import reply_error
from smb_suite.imap.selected import SelectedCommands
from smb_suite.imap.sort import CAPABILITIES as SORT_CAPABILITIES
from smb_suite.imap.sort import SortCommands
from smb_suite.imap.transport import DelayedCall, Transport
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
class IMAPSession(  # type: ignore[misc]
    QuotaCommands, FetchCommands, SortCommands, SelectedCommands, ListCommands, MailboxCommands, IMAP4Server
):
    IDENT = b"smb-suite IMAP4rev1 ready"
    MAX_LENGTH = 64 * 1024  # longest command line (RFC 7162 4 asks for at least 8192 octets)
    # set by twisted: `account` at login (before any auth_ or select_ command runs), `mbox` by our SELECT
    account: Account
    mbox: MailboxView | None

    def __init__(
        self,
        services: Services,
        starttls: CertificateOptions | None,
        sessions: set[IMAPSession],
        connection_limits: limits.ConnectionLimits,
        implicit_tls: bool,
    ) -> None:
        super().__init__(chal={b"PLAIN": PLAINCredentials, b"LOGIN": LOGINCredentials}, contextFactory=starttls)
        self.services = services
        self.sessions = sessions
        self._connection_limits = connection_limits
        self._implicit_tls = implicit_tls
        self.connection = next(_connection_ids)
        self.append_limit = services.config.smtp.max_message_size
        self.client_ip = ""
        self._loopback = False
        self.condstore = False  # RFC 7162: MODSEQ in untagged FETCH once a CONDSTORE feature was used
        self.qresync = False  # RFC 7162 3.2: enabled by ENABLE QRESYNC
        self.rev2 = False  # RFC 9051: IMAP4rev2 responses once the client enabled it
        self.utf8_accept = False  # RFC 6855: UTF-8 folder names and UTF8 APPEND once the client enabled it
        self._selected_once = False  # ENABLE is refused after the first SELECT or EXAMINE (RFC 5161 3.1)
        self.names = wire.MUTF7  # folder names on the wire: modified UTF-7, UTF-8 under IMAP4rev2
        self._command: bytes | None = None  # the command in progress, b"UID FETCH" style
        self._started: float | None = None  # when it was dispatched (perf_counter)
        self._resume_scheduled = False
        self._overlong_tag: bytes | None = None  # discarding the rest of a line that was too long
        self._idle_tag = b""
        settings = services.config.imap
        self.timeOut = int(settings.login_timeout)  # RFC 9051 5.4: before login, a short wait
        self.POSTAUTH_TIMEOUT = int(settings.idle_timeout)  # after login at least 30 minutes
        self.slot: limits.Slot | None = None
        self._lost = False
        self._handshake_timer: DelayedCall | None = None
        # UIDs whose flags changed elsewhere while a command ran: their FETCH is written when the command ends,
        # from the folder's rows as they are then, so no session ever hears an older MODSEQ after a newer one
        self._flags_pending: dict[int, None] = {}
        self._inflater: Inflater | None = None  # COMPRESS=DEFLATE is on (RFC 4978)
        self._exists_pending = False  # new mail while a command ran: EXISTS (with its count then) at its end
        self._told_exists = 0  # messages the client knows of: the last EXISTS, less the EXPUNGEs since
        self._prompt: PromptTransport | None = None  # the plain TCP transport, wrapped (prompt.py)

    def connectionMade(self) -> None:
        if PromptTransport.wraps(self.transport):  # plain TCP: responses leave in the turn they are written
            self._prompt = PromptTransport(self.transport)  # type: ignore[arg-type]
            self.transport = self._prompt  # type: ignore[assignment]
        self.client_ip = str(getattr(self.channel.getPeer(), "host", ""))
        if self._implicit_tls:  # the client must finish its TLS handshake in time (handshakeCompleted)
            self._handshake_timer = _reactor().callLater(
                self.services.config.tls.handshake_timeout, self._handshake_expired
            )
        self.slot = self._connection_limits.acquire(self.client_ip)
        if self.slot is None:  # RFC 9051 7.1.5: BYE as the greeting; RFC 5530 [UNAVAILABLE]
            log.event(logger, "connection.refused", service="imap", client=self.client_ip, reason="too_many")
            self.channel.write(b"* BYE [UNAVAILABLE] Too many connections from your address\r\n")
            self.channel.loseConnection()
            return
        self._loopback = _is_loopback(self.client_ip)
        self.portal = auth.portal_for(self.services, self.client_ip, self.connection)  # type: ignore[assignment]
        self.sessions.add(self)
        self.channel.setTcpNoDelay(True)  # responses leave at once, not after the client's delayed ACK
        log.event(logger, "imap.connected", conn=self.connection, client=self.client_ip)
        super().connectionMade()

    def handshakeCompleted(self) -> None:
        if self._handshake_timer is not None and self._handshake_timer.active():
            self._handshake_timer.cancel()
        self._handshake_timer = None

    def _handshake_expired(self) -> None:
        self._handshake_timer = None
        log.event(logger, "tls.handshake_failed", service="imaps", client=self.client_ip, reason="timeout")
        self.channel.abortConnection()

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self._lost = True
        self.handshakeCompleted()  # cancels the handshake timer
        if self.slot is not None:
            self.slot.release()
        self.deselect()
        self.sessions.discard(self)
        log.event(logger, "imap.disconnected", conn=self.connection)
        super().connectionLost(reason)

    def shutdown(self) -> None:
        """Daemon stop: an untagged BYE (RFC 3501 7.1.5), then close."""
        self.sendLine(b"* BYE server shutting down")
        self.channel.loseConnection()

    def timeoutConnection(self) -> None:
        """RFC 3501 5.4: an idle client may be logged out (twisted's version talks to its own mailbox API)."""
        self.sendLine(b"* BYE autologout; connection idle too long")
        self.deselect()
        self.channel.loseConnection()  # waits until the client has read everything: bounded below
        _reactor().callLater(self.services.config.imap.login_timeout, self._abort_unread)

    def _abort_unread(self) -> None:
        """A client that does not even read our responses is cut off, so its session and slot end."""
        if self.slot is not None and not self._lost:
            log.event(logger, "imap.aborted", conn=self.connection)
            self.channel.abortConnection()

    # -- capabilities (RFC 3501 7.2.1) ----------------------------------------------------------------------

    def _password_allowed(self) -> bool:
        return self.startedTLS or ISSLTransport(self.transport, None) is not None or self._loopback

    def capabilities(self) -> dict[bytes, list[bytes] | None]:
        caps: dict[bytes, list[bytes] | None] = super().capabilities()
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
        challengers = self.challengers or {}
        if initial is None or mechanism not in challengers:
            super().do_AUTHENTICATE(tag, mechanism)
            return
        challenger = challengers[mechanism]()
        challenger.getChallenge()
        # twisted's name-mangled continuation of AUTHENTICATE (trap 4 in the package docstring)
        chunk, failed = getattr(self, _CB_AUTH_CHUNK), getattr(self, _EB_AUTH_CHUNK)
        maybeDeferred(chunk, b"" if initial == b"=" else initial, challenger, tag).addErrback(failed, tag)

    def _IMAP4Server__ebLogin(self, failure: Failure, tag: bytes) -> None:
        """A refused LOGIN: NO [AUTHENTICATIONFAILED], or NO [UNAVAILABLE] while locked (RFC 5530)."""
        reply_error(self, tag, failure)

    def _IMAP4Server__ebAuthResp(self, failure: Failure, tag: bytes) -> None:
        reply_error(self, tag, failure)

    def do_STARTTLS(self, tag: bytes) -> None:
        """Whatever the client sent after STARTTLS in the clear is dropped (RFC 3501 6.2.1, CVE-2011-0411)."""
        super().do_STARTTLS(tag)
        self.clearLineBuffer()

    unauth_LOGIN = (do_LOGIN, arg_astring, arg_finalastring)  # type: ignore[assignment]
    unauth_AUTHENTICATE = (do_AUTHENTICATE, IMAP4Server.arg_atom, opt_atom)  # type: ignore[assignment]
    unauth_STARTTLS = (do_STARTTLS,)  # type: ignore[assignment]

    # -- reading commands: one at a time, lines of bounded length (RFC 3501 5.5) ---------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._inflater is None:
            self._receive(data)
            return
        self._inflater.take(data)  # inflated only as fast as commands are read: a paused session stays small
        for _ in range(_INFLATE_STEPS):
            try:
                plain = b"" if self.paused else self._inflater.step()
            except zlib.error:
                log.event(logger, "imap.compress_failed", conn=self.connection)
                self.channel.abortConnection()
                return
            self._receive(plain)  # b"" still runs the lines waiting since a pause
            if not plain or self.paused or self._lost:
                return
        _reactor().callLater(0, self.dataReceived, b"")  # a big burst: the other connections get a turn

    def setLineMode(self, extra: bytes = b"") -> None:
        """twisted hands the octets after a literal back to dataReceived: they are plain already."""
        self.line_mode = 1
        if extra:
            self._receive(extra)

    def _receive(self, data: bytes) -> None:
        if self._overlong_tag is not None:
            end = data.find(b"\n")
            if end < 0:
                return
            self._overlong_done(self._overlong_tag)
            data = data[end + 1 :]
            if not data:
                return
        super().dataReceived(data)

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
        self._started = time.perf_counter()  # a known command: its latency is measured (bounded label set)
        if uid is not None:  # UIDs do not shift: say what vanished first, so the answer leaves it out
            self._send_pending_expunges()
        super().dispatchCommand(tag, cmd, rest or b"", uid)

    def _IMAP4Server__doCommand(  # noqa: N802 - twisted's name-mangled method (trap 4)
        self,
        tag: bytes,
        handler: Callable[..., None],
        args: list[Any],
        parsers: tuple[object, ...],
        line: bytes,
        uid: int | None,
    ) -> None:
        """Parse the arguments, then call the handler. twisted wraps each parser's result in a Deferred
        (maybeDeferred, then a callback per argument): here a parser is called directly, and only one that
        returns a Deferred (a literal still to be read) is waited for. A parser's error reaches parse_command
        (or, after a literal, __ebDispatch): answered like any other."""
        for position, parser in enumerate(parsers):
            if not callable(parser):
                args.append(parser)
                continue
            parsed = parser(self, line)
            if isinstance(parsed, Deferred):
                rest = parsers[position + 1 :]
                parsed.addCallback(getattr(self, _CB_DISPATCH), tag, handler, args, rest, uid)
                parsed.addErrback(self._IMAP4Server__ebDispatch, tag)
                return
            value, line = parsed
            args.append(value)
        if line:
            raise IllegalClientResponse("too many arguments")
        if uid is None:
            handler(*args)
        else:
            handler(*args, uid=uid)

    def lookupCommand(self, cmd: bytes) -> tuple[object, ...] | None:
        """twisted decodes the name as ASCII and raises on other octets: those are simply unknown."""
        if not _COMMAND.fullmatch(cmd):
            return None
        found: tuple[object, ...] | None = super().lookupCommand(cmd)
        return found

    def _IMAP4Server__ebDispatch(self, failure: Failure, tag: bytes) -> None:
        """Errors from argument parsers, mapped like every other error (twisted answers BAD Server error)."""
        reply_error(self, tag, failure)

    def _respond(self, state: bytes, tag: bytes | None, message: bytes | None) -> None:
        """A tagged completion ends the command: queued updates first, then EXPUNGEs where RFC 3501 7.4.1
        allows them (not at the end of FETCH, STORE or SEARCH), then the next waiting command may run."""
        if tag is None or tag == b"*" or state not in (b"OK", b"NO", b"BAD"):
            super()._respond(state, tag, message)
            return
        if self._command not in (b"FETCH", b"STORE", b"SEARCH"):
            self._send_pending_expunges()
        self._flush_queued()
        self._hold_resync_point()
        if self._command is not None and self._started is not None:
            self.services.metrics.observe("imap", self._command.decode("ascii"), time.perf_counter() - self._started)
        self._command = self._started = None
        super()._respond(state, tag, message)
        if self._prompt is not None:  # the command's answer leaves now, not at the end of the loop's turn
            self._prompt.flush()
        if self.paused and not self._resume_scheduled:  # after this turn: login and SELECT set state late
            self._resume_scheduled = True
            _reactor().callLater(0, self._next_command)

    def _hold_resync_point(self) -> None:
        """RFC 7162 3.2.10 with RFC 5162 errata 1810: MODSEQs this command sent may be newer than expunges held
        back (no EXPUNGE or VANISHED during FETCH, STORE or SEARCH), so a HIGHESTMODSEQ below those expunges
        is what a client resynchronising later must start from, or it would never hear of them."""
        if self.qresync and self.mbox is not None:
            floor = self.mbox.below_held_expunges()
            if floor is not None:
                self.send_untagged_many([b"OK [HIGHESTMODSEQ %d] expunges are still to be reported" % floor])

    def _next_command(self) -> None:
        self._resume_scheduled = False
        if self._command is None and self.paused and not self.channel.disconnecting:
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
            self.channel.write(b"".join(b"* " + message + self.delimiter for message in messages))

    def _flush_queued(self) -> None:
        """Queued updates (a new keyword's FLAGS), the count of messages as it is now, then the flag changes
        of other sessions as the messages are now (RFC 7162 3.2: a message's mod-sequence only goes up, also
        as one session hears of it)."""
        queued, self._queuedAsync = self._queuedAsync, []
        if self._exists_pending:
            self._exists_pending = False
            queued.extend(self._exists_lines())
        pending, self._flags_pending = self._flags_pending, {}
        view = self.mbox
        if pending and view is not None:
            shown = [(seq, m) for uid in pending if (seq := view.seq_of(uid)) and (m := view.message(uid))]
            queued.extend(self._flag_lines(shown))
        self.send_untagged_many(queued)

    def flush_updates(self) -> None:
        """Send what waits for the end of the command now (before the command's own FETCH responses, which
        are then the newest word on their messages)."""
        self._flush_queued()

    # -- IDLE (RFC 2177): only DONE ends it ---------------------------------------------------------------

    def do_IDLE(self, tag: bytes) -> None:
        self._idle_tag = tag
        self.parseState = "idle"
        self._send_pending_expunges()
        self._flush_queued()
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
        """RFC 5161 3.1: each extension named that can be enabled (ENABLERS) is, and listed in ENABLED once;
        other names are ignored. Only before any folder was selected: what it changes (VANISHED, UTF-8 names)
        must hold for a whole selected session."""
        if self._selected_once:
            raise IllegalClientResponse("ENABLE is only valid before any SELECT or EXAMINE")
        enabled: dict[bytes, None] = {}
        for name in rest.split():
            canonical = _ENABLE_NAMES.get(name.upper())
            if canonical is not None:
                self.ENABLERS[canonical](self)
                enabled[canonical] = None
        self.sendUntaggedResponse(b"ENABLED" + b"".join(b" " + name for name in enabled))
        self.sendPositiveResponse(tag, b"ENABLE completed")

    def enable_condstore(self) -> None:
        self.condstore = True

    def enable_qresync(self) -> None:
        """RFC 7162 3.2.3: QRESYNC implies CONDSTORE; from now on expunges are reported as VANISHED."""
        self.condstore = self.qresync = True

    @property
    def reports_recent(self) -> bool:
        """RFC 3501 \\Recent (the flag, RECENT responses, claims); IMAP4rev2 has none (RFC 9051)."""
        return not self.rev2

    def enable_imap4rev2(self) -> None:
        """RFC 9051: ESEARCH for SEARCH, UTF-8 folder names, LIST in SELECT, no RECENT or [UNSEEN n]."""
        self.rev2 = True
        self.names = wire.UTF8

    def enable_utf8_accept(self) -> None:
        """RFC 6855 3: folder names in UTF-8 (never modified UTF-7 again) and APPEND of UTF8 (~{n}) messages;
        messages are stored and sent as they are (we never downgrade headers)."""
        self.utf8_accept = True
        self.names = wire.UTF8

    # what ENABLE can turn on: the capability's name and what enabling it does to the session
    ENABLERS: ClassVar[dict[bytes, Callable[[IMAPSession], None]]] = {
        b"CONDSTORE": enable_condstore,  # RFC 7162 3.1
        b"QRESYNC": enable_qresync,  # RFC 7162 3.2
        b"IMAP4rev2": enable_imap4rev2,  # RFC 9051 6.3.1
        b"UTF8=ACCEPT": enable_utf8_accept,  # RFC 6855 3
    }

    # -- COMPRESS (RFC 4978) ----------------------------------------------------------------------------------

    def do_COMPRESS(self, tag: bytes, mechanism: bytes) -> None:
        """RFC 4978 3: after the tagged OK, both directions are DEFLATE streams; a second COMPRESS gets NO."""
        if mechanism.upper() != b"DEFLATE":
            raise IllegalClientResponse("the only compression mechanism is DEFLATE")
        if self._inflater is not None:
            self.sendNegativeResponse(tag, b"[COMPRESSIONACTIVE] DEFLATE is already active")
            return
        self.sendPositiveResponse(tag, b"DEFLATE active")
        self.transport = CompressedTransport(self.channel)  # type: ignore[assignment]
        self._inflater = Inflater()
        pipelined, self._buffer = self._buffer, b""  # a client must wait for the OK (RFC 4978 3), but if not
        if pipelined:
            self._inflater.take(pipelined)
            _reactor().callLater(0, self.dataReceived, b"")

    auth_COMPRESS = select_COMPRESS = (do_COMPRESS, IMAP4Server.arg_atom)
    unauth_ID = auth_ID = select_ID = (do_ID, arg_line)
    auth_ENABLE = select_ENABLE = (do_ENABLE, arg_line)

    # -- what the command modules use (their Protocols) ----------------------------------------------------

    @property
    def view(self) -> MailboxView:
        """The selected folder's view; select_ commands run only while there is one."""
        if self.mbox is None:
            raise IllegalOperation("no folder is selected")
        return self.mbox

    @property
    def channel(self) -> Transport:
        """The connection's transport, typed by what we call on it (twisted types it as a zope interface)."""
        return cast(Transport, self.transport)

    def expect_literal(self, receiver: LiteralReceiver, continuation: bytes | None) -> None:
        """The next octets are a literal for `receiver` (twisted's pending-literal state, then raw mode)."""
        self._pendingLiteral = receiver  # type: ignore[assignment]  # twisted types it as LiteralString only
        self.parseState = "pending"
        if continuation is not None:
            self.sendContinuationRequest(continuation)
        self.setRawMode()

    # -- the selected folder and its updates (RFC 3501 7.4.1) ----------------------------------------------

    def selected(self, view: MailboxView) -> None:
        """The session shows `view` now; SELECT has just said how many messages it holds."""
        self.mbox, self.state = view, "select"
        self._told_exists = view.count()
        self._selected_once = True

    def deselect(self) -> None:
        self._flags_pending.clear()
        self._exists_pending = False
        if self.mbox is not None:
            self.mbox.close()
            self.mbox = None
        if self.state == "select":
            self.state = "auth"

    def _updates_wait(self) -> bool:
        """Whether updates wait for the end of the command in progress (not in IDLE, where they are the point)."""
        return self._command is not None and self.parseState != "idle"

    def exists_changed(self, count: int) -> None:
        """New mail: EXISTS now, or once the command ends, and after the EXPUNGEs that wait (RFC 6851 3.3)."""
        if self._updates_wait() or (self.mbox is not None and self.mbox.has_expunged()):
            self._exists_pending = True
        else:
            self.send_untagged_many(self._exists_lines())

    def _exists_lines(self) -> list[bytes]:
        """EXISTS, and RECENT with it (RFC 3501 7.3.2), when the count differs from what the client knows."""
        view = self.mbox
        if view is None or view.count() == self._told_exists:
            return []
        self._told_exists = view.count()
        lines = [b"%d EXISTS" % self._told_exists]
        if view.reports_recent:
            lines.append(b"%d RECENT" % view.recent_count())
        return lines

    def keywords_changed(self, keywords: list[str]) -> None:
        """A keyword new to the folder: FLAGS and PERMANENTFLAGS before any FETCH shows it (RFC 3501 7.2.6)."""
        if self.mbox is not None:  # else SELECT is still to send them, with this keyword
            self.send_untagged_many(flag_responses(self.mbox), is_async=True)

    def flags_changed(self, changes: list[tuple[int, StoredMessage]]) -> None:
        if self._updates_wait() or self._exists_pending:  # never a FETCH for a message not yet counted
            self._flags_pending.update((message.uid, None) for _, message in changes)
        else:
            self.send_untagged_many(self._flag_lines(changes))

    def _flag_lines(self, changes: list[tuple[int, StoredMessage]]) -> list[bytes]:
        view = self.mbox
        lines = []
        for seq, message in changes:
            flags = message.flags if view is None else view.shown_flags(message)
            extra = b" UID %d MODSEQ (%d)" % (message.uid, message.modseq) if self.condstore else b""
            lines.append(b"%d FETCH (FLAGS %b%b)" % (seq, wire.flag_list(flags), extra))
        return lines

    def expunges_pending(self) -> None:
        """Messages vanished elsewhere; an IDLE session hears of it at once (RFC 2177)."""
        if self.parseState == "idle":
            self._send_pending_expunges()

    def _send_pending_expunges(self) -> None:
        if self.mbox is not None:
            self.send_expunged(self.mbox.take_expunged())

    def send_expunged(self, gone: list[tuple[int, int]]) -> None:
        """EXPUNGE responses for (sequence number, UID) pairs, highest first, or one VANISHED response once
        QRESYNC is enabled (RFC 7162 3.2.10); then the updates that waited, so a new EXISTS counts what is left
        (RFC 6851 3.3: a MOVE into the folder itself says EXPUNGE before EXISTS). A message that came and went
        before the client heard of it is not reported: it was never counted."""
        told = [(seq, uid) for seq, uid in gone if seq <= self._told_exists]
        self._told_exists -= len(told)
        if told and self.qresync:
            self.send_untagged_many([b"VANISHED " + syntax.compact(sorted(uid for _, uid in told))])
        elif told:
            self.send_untagged_many([b"%d EXPUNGE" % seq for seq, _ in told])
        if gone:
            self._flush_queued()


EXTENSIONS = (
    b"IMAP4rev2",  # RFC 9051, enabled by ENABLE IMAP4rev2 (IMAP4rev1 stays the default)
    b"LITERAL+",  # RFC 7888
    b"ID",  # RFC 2971
    b"ENABLE",  # RFC 5161
    b"UNSELECT",  # RFC 3691
    b"UIDPLUS",  # RFC 4315
    b"MOVE",  # RFC 6851
    b"CONDSTORE",  # RFC 7162
    b"QRESYNC",  # RFC 7162 3.2
    b"BINARY",  # RFC 3516
    b"SPECIAL-USE",  # RFC 6154
    b"CHILDREN",  # RFC 3348
    b"LIST-EXTENDED",  # RFC 5258
    b"LIST-STATUS",  # RFC 5819
    b"QUOTA",  # RFC 9208, with the STORAGE resource only
    b"QUOTA=RES-STORAGE",
    b"ESEARCH",  # RFC 4731
    b"SEARCHRES",  # RFC 5182: RETURN (SAVE) and "$"
    b"MULTIAPPEND",  # RFC 3502
    b"COMPRESS=DEFLATE",  # RFC 4978 (the command is valid after login only)
    b"STATUS=SIZE",  # RFC 8438
    b"OBJECTID",  # RFC 8474
    b"UTF8=ACCEPT",  # RFC 6855
    b"SAVEDATE",  # RFC 8514
    *SORT_CAPABILITIES,  # RFC 5256, RFC 5267 ESORT, RFC 5957 SORT=DISPLAY
)
_CB_AUTH_CHUNK: str = "_IMAP4Server__cbAuthChunk"  # twisted's name-mangled AUTHENTICATE continuation
_EB_AUTH_CHUNK: str = "_IMAP4Server__ebAuthChunk"
_CB_DISPATCH: str = "_IMAP4Server__cbDispatch"  # twisted's continuation after an argument read later (a literal)
_INFLATE_STEPS = 16  # compress.INFLATE_CHUNK octets each, per reactor turn
_STATES = ("unauth", "auth", "select", "logout")
_ENABLE_NAMES = {name.upper(): name for name in IMAPSession.ENABLERS}  # capability names are case-insensitive
_COMMAND = re.compile(rb"[A-Za-z][A-Za-z0-9-]{0,31}")
_TAG = re.compile(rb'[^\x00-\x20\x7f-\xff(){%*"\\+]+')  # RFC 3501 9: a tag is ASTRING-CHARs but "+"


def _reactor() -> Any:
    from twisted.internet import reactor

    return reactor


if TYPE_CHECKING:  # mypy checks here that a session is everything each command module asks of it
    from smb_suite.imap.arguments import LiteralReader
    from smb_suite.imap.commands import FolderServer
    from smb_suite.imap.fetch import FetchServer
    from smb_suite.imap.mailbox import Session
    from smb_suite.imap.quota import QuotaServer
    from smb_suite.imap.selected import SelectedServer

    def _conforms(
        session: IMAPSession,
    ) -> tuple[LiteralReader, FolderServer, SelectedServer, FetchServer, QuotaServer, Session]:
        return session, session, session, session, session, session
