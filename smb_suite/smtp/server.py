"""aiosmtpd wiring: one SMTP protocol subclass, three listeners (inbound MX, submission, submissions).

The AUTH check is asynchronous (argon2 in a thread, throttled) instead of aiosmtpd's synchronous
authenticator, which would block the whole daemon: aiosmtpd calls it on the event loop and waits for it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import ssl
from email._header_value_parser import get_addr_spec, get_angle_addr
from email.errors import HeaderParseError
from enum import StrEnum
from types import MethodType
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, syntax

from smb_suite import limits, log, proxyproto
from smb_suite.errors import AuthenticationFailed, LoginLocked, SmbSuiteError
from smb_suite.ops.login import login
from smb_suite.services import Services
from smb_suite.smtp import data, replies
from smb_suite.smtp.handlers import AiosmtpdSurface, InboundHandler, SubmissionHandler, aiosmtpd_surface

logger = logging.getLogger("smb_suite.smtp")


class Mode(StrEnum):
    INBOUND = "smtp"
    SUBMISSION = "submission"
    SUBMISSIONS = "submissions"


class SmbEnvelope(Envelope):
    """An envelope that also carries where each accepted recipient resolved to: mailboxes, remote addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.mailboxes: list[Any] = []
        self.remote: list[str] = []
        self.senders: set[str] = set()  # submission: the addresses the user may send as, read at MAIL
        self.verified_domains: set[str] = set()  # submission: sender domains found verified during MAIL


def _timed(name: str, method: Any) -> Any:
    """The command's latency goes to the metrics; wraps keeps what HELP reads of the method (its syntax)."""

    @functools.wraps(method)
    async def timed(self: SmbSMTP, arg: str) -> None:
        with self.services.metrics.timed("smtp", name):
            await method(self, arg)

    return timed


_TIMED: dict[type, dict[str, Any]] = {}


def _timed_commands(cls: type) -> dict[str, Any]:
    """Each command method of the class, timed; made once per class, bound per session."""
    if cls not in _TIMED:
        commands = [name.removeprefix("smtp_") for name in aiosmtpd_surface(cls) if name.startswith("smtp_")]
        _TIMED[cls] = {command: _timed(command, getattr(cls, f"smtp_{command}")) for command in commands}
    return _TIMED[cls]


class SmbSMTP(AiosmtpdSurface, SMTP):
    def __init__(
        self,
        handler: Any,
        services: Services,
        sessions: set[SmbSMTP],
        slot: limits.Slot | None = None,
        budget: limits.MemoryBudget | None = None,
        **kwargs: Any,
    ) -> None:
        self.services = services
        self.sessions = sessions
        self.slot = slot
        self.budget = budget or limits.MemoryBudget(services.config.smtp.processing_memory_mb * MIB)
        self._greeting = False
        sessions.add(self)
        super().__init__(handler, timeout=services.config.smtp.command_timeout, **kwargs)
        self._smtp_methods = {name: MethodType(timed, self) for name, timed in _timed_commands(type(self)).items()}

    async def push(self, status: Any) -> None:
        """Every reply leaves with an enhanced status code (we advertise ENHANCEDSTATUSCODES, RFC 2034)."""
        if isinstance(status, str) and not self._greeting:
            status = replies.with_enhanced_code(status)
        await super().push(status)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:
        self._greeting = True  # RFC 2034 3: the EHLO response carries no enhanced codes
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._greeting = False

    @syntax("HELO hostname")
    async def smtp_HELO(self, hostname: str) -> None:
        self._greeting = True
        try:
            await super().smtp_HELO(hostname)
        finally:
            self._greeting = False

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self.sessions.discard(self)
        if self.slot is not None:
            self.slot.release()

    def _timeout_cb(self) -> None:
        """RFC 5321 4.5.3.2: a server that gives up on a silent client says so (421 4.4.2) and closes."""
        if self.transport is None:
            super()._timeout_cb()  # type: ignore[no-untyped-call]
            return
        transport = limits.stream(self.transport)
        if not transport.is_closing():
            log.event(logger, "smtp.timeout", client=self.session.peer[0] if self.session and self.session.peer else "")
            transport.write(replies.TIMEOUT.encode() + b"\r\n")
        super()._timeout_cb()  # type: ignore[no-untyped-call]
        # close() waits until the client has read everything
        self.loop.call_later(self.services.config.smtp.command_timeout, self._abort_unread, transport)

    def _abort_unread(self, transport: asyncio.Transport) -> None:
        """A client that does not even read our replies is cut off, so its session and slot end."""
        if self.transport is not None:
            log.event(logger, "smtp.aborted", client=self.session.peer[0] if self.session and self.session.peer else "")
            transport.abort()

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:
        """DATA spooled to disk as it arrives (smtp/data.py), processed within the memory budget."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push(replies.NEED_RECIPIENT)
            return
        if arg:
            await self.push(replies.DATA_SYNTAX)
            return
        settings = self.services.config.smtp
        await self.push(replies.START_DATA)
        with data.spool(self.services.config.server.data_dir / "tmp", settings.spool_memory_kb * 1024) as spooled:
            block_timeout = settings.data_timeout
            outcome, size = await data.receive(
                self._reader,
                spooled,
                self.data_size_limit,
                self.line_length_limit,
                lambda: self._reset_timeout(block_timeout),
            )
            self._reset_timeout(data.TERMINATOR_TIMEOUT)
            if outcome is data.Outcome.LINE_TOO_LONG:
                status = replies.LINE_TOO_LONG
            elif outcome is data.Outcome.TOO_MUCH:
                status = replies.TOO_MUCH_DATA
            elif outcome is data.Outcome.DISK_FULL:
                status = replies.DISK_FULL
            else:
                status = await self._process(spooled, size)
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        self._reset_timeout()
        await self.push(status)

    async def _process(self, spooled: Any, size: int) -> str:
        """Read the message back and run the DATA hook, once the processing budget has room for it."""
        assert self.envelope is not None
        try:
            async with self.budget.reserve(size * data.PROCESSING_COPIES, self.services.config.smtp.data_timeout):
                try:  # bounded before any step parses it (issue 11: a header can cost quadratic time)
                    if data.inline(size, self.services.config.smtp.spool_memory_kb * 1024):
                        content = data.read_back(spooled)
                    else:
                        content = await asyncio.to_thread(data.read_back, spooled)
                except SmbSuiteError as error:
                    return replies.for_error(error)
                self.envelope.content = self.envelope.original_content = content
                del content
                status = await self._call_handler_hook("DATA")
                self.envelope.content = self.envelope.original_content = None
                return str(status)
        except limits.BudgetExhausted:
            log.event(logger, "smtp.busy", size=size, budget_used=self.budget.used)
            return replies.BUSY

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        """aiosmtpd's parse of a MAIL or RCPT path, without the typing.Protocol class aiosmtpd 1.4 defines at
        each call (one class creation per command, ~1.5% of an inbound message's CPU)."""
        if not arg:
            return "", ""
        try:
            address, rest = get_angle_addr(arg) if arg.lstrip().startswith("<") else get_addr_spec(arg)
        except HeaderParseError:
            return None, None
        path = str(address.addr_spec)
        if self.local_part_limit and len(path.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return path, rest

    def _create_envelope(self) -> SmbEnvelope:
        return SmbEnvelope()

    def _authenticate(self, mechanism: str, auth_data: Any) -> AuthResult:
        """Only collects the decoded credentials; `_check_login` verifies them without blocking the loop."""
        return AuthResult(success=False, handled=False, auth_data=auth_data)

    async def auth_PLAIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._check_login(await super().auth_PLAIN(_, args))

    async def auth_LOGIN(self, _: Any, args: list[str]) -> AuthResult:
        return await self._check_login(await super().auth_LOGIN(_, args))

    async def _check_login(self, decoded: AuthResult) -> AuthResult:
        credentials = decoded.auth_data
        if not isinstance(credentials, LoginPassword):
            return decoded
        assert self.session is not None
        client_ip = self.session.peer[0] if self.session.peer else ""
        try:
            user = await login(
                self.services,
                credentials.login.decode("utf-8", "replace"),
                credentials.password.decode("utf-8", "replace"),
                client_ip,
                app_passwords=True,
            )
        except AuthenticationFailed:
            log.event(logger, "smtp.auth_failed", client=client_ip)
            return AuthResult(success=False, handled=False, message=replies.AUTH_FAILED)
        except LoginLocked:
            log.event(logger, "smtp.auth_locked", client=client_ip)
            return AuthResult(success=False, handled=False, message=replies.LOGIN_LOCKED)
        log.event(logger, "smtp.auth_ok", client=client_ip, user=user.address)
        return AuthResult(success=True, auth_data=user)


MIB = 1024 * 1024


def processing_budget(services: Services) -> limits.MemoryBudget:
    """One budget for the messages all SMTP listeners process at once; when it empties, the heap is trimmed."""

    def trim() -> None:
        asyncio.get_running_loop().run_in_executor(None, limits.trim_heap)

    return limits.MemoryBudget(services.config.smtp.processing_memory_mb * MIB, on_idle=trim)


class Listener:
    """One listening SMTP service and its live sessions, so shutdown can let transactions finish."""

    def __init__(self, server: asyncio.Server, sessions: set[SmbSMTP]) -> None:
        self.server = server
        self.sessions = sessions

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    async def close(self, drain_seconds: float) -> None:
        """Stop accepting; close idle sessions at once and busy ones when their transaction ends (bounded)."""
        self.server.close()
        deadline = asyncio.get_running_loop().time() + drain_seconds
        while self.sessions and asyncio.get_running_loop().time() < deadline:
            for session in list(self.sessions):
                if session.envelope is None or session.envelope.mail_from is None:
                    self._hang_up(session)
            await asyncio.sleep(0.05)
        for session in list(self.sessions):
            self._hang_up(session)

    def _hang_up(self, session: SmbSMTP) -> None:
        self.sessions.discard(session)
        if session.transport is None:
            return
        transport = limits.stream(session.transport)
        if not transport.is_closing():
            transport.write(replies.SHUTTING_DOWN.encode() + b"\r\n")
            transport.close()


async def start(
    services: Services,
    host: str,
    port: int,
    mode: Mode,
    context: ssl.SSLContext,
    budget: limits.MemoryBudget | None = None,
    sock: socket.socket | None = None,
) -> Listener:
    """Listen for one SMTP service (on `sock` when the daemon bound it already); STARTTLS everywhere, implicit
    TLS on submissions (done by the gate, after the connection is counted against `[smtp] max_sessions` and
    `max_sessions_per_ip`)."""
    settings = services.config.smtp
    handler = InboundHandler(services) if mode is Mode.INBOUND else SubmissionHandler(services)
    options: dict[str, Any] = {
        "hostname": services.config.server.hostname,
        "ident": "smb-suite",
        "data_size_limit": settings.max_message_size,
        "enable_SMTPUTF8": True,
        "decode_data": False,
        "tls_context": None if mode is Mode.SUBMISSIONS else context,
    }
    if mode is Mode.INBOUND:
        options["auth_exclude_mechanism"] = ["PLAIN", "LOGIN"]
    else:
        options["auth_required"] = True
        # On 465 the TLS is implicit: aiosmtpd only counts its own STARTTLS, so with auth_require_tls it would
        # never offer AUTH there (the TLS state is read from the transport's ssl_object instead).
        options["auth_require_tls"] = mode is Mode.SUBMISSION
        options["require_starttls"] = mode is Mode.SUBMISSION
    sessions: set[SmbSMTP] = set()
    budget = budget or processing_budget(services)
    (services.config.server.data_dir / "tmp").mkdir(parents=True, exist_ok=True)

    def factory(slot: limits.Slot) -> SmbSMTP:
        return SmbSMTP(handler, services, sessions, slot, budget, **options)

    gate = limits.gate(
        mode.value,
        factory,
        limits.ConnectionLimits(settings.max_sessions, settings.max_sessions_per_ip, services.metrics.watch("smtp")),
        replies.TOO_MANY_CONNECTIONS.encode() + b"\r\n",
        context if mode is Mode.SUBMISSIONS else None,
        services.config.tls.handshake_timeout,
        proxyproto.ProxyPolicy.of(services.config.listen),
    )
    loop = asyncio.get_running_loop()
    if sock is not None:
        server = await loop.create_server(gate, sock=sock, backlog=limits.LISTEN_BACKLOG)
    else:
        server = await loop.create_server(gate, host, port, reuse_address=True, backlog=limits.LISTEN_BACKLOG)
    return Listener(server, sessions)
