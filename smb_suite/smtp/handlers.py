"""aiosmtpd handlers: protocol decisions only; routing, storage, signing and checks are the core's."""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
from email.utils import formatdate
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from smb_suite import log
from smb_suite.delivery import INBOX, JUNK
from smb_suite.directory.model import User
from smb_suite.errors import InvalidInput, RelayDenied, SmbSuiteError
from smb_suite.mail import authentication, authresults, message
from smb_suite.mail.address import parse_address
from smb_suite.ops import signing
from smb_suite.services import Services
from smb_suite.smtp import replies

logger = logging.getLogger("smb_suite.smtp")
MAX_HOPS = 50  # RFC 5321 6.3: a message with this many Received fields is looping (forwards, aliases elsewhere)
# Advertised on top of what aiosmtpd says itself (SIZE, 8BITMIME, SMTPUTF8, STARTTLS, AUTH).
EXTENSIONS = ("PIPELINING", "ENHANCEDSTATUSCODES")  # RFC 2920, RFC 2034


# The attribute names aiosmtpd looks for on the protocol and its handler (commands, AUTH mechanisms, hooks).
AIOSMTPD_NAMES = ("smtp_", "auth_", "handle_")


_SURFACES: dict[type, list[str]] = {}


def aiosmtpd_surface(cls: type) -> list[str]:
    """The names of `cls` aiosmtpd looks up, computed once per class."""
    names = _SURFACES.get(cls)
    if names is None:
        names = _SURFACES[cls] = sorted(name for name in dir(cls) if name.startswith(AIOSMTPD_NAMES))
        hook = vars(cls).get("handle_EHLO")
        if inspect.isfunction(hook):  # aiosmtpd asks for its signature at every connection: found, not rebuilt
            hook.__dict__["__signature__"] = inspect.signature(hook)
    return names


class AiosmtpdSurface:
    """`dir()` lists only what aiosmtpd looks up: aiosmtpd's SMTP.__init__ runs `inspect.getmembers` and `dir`
    over the protocol and its handler for every connection (a getattr per attribute of the whole class tree, about
    5% of an inbound message's CPU); with this it reads the few names it wants. It also runs
    `inspect.signature(handle_EHLO)` per connection (1% more): the hook's signature is computed once and kept
    on it, where `inspect.signature` looks first."""

    def __dir__(self) -> list[str]:
        return aiosmtpd_surface(type(self))


def _uses_tls(server: SMTP) -> bool:
    transport = server.transport
    implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
    return implicit or (server.session is not None and server.session.ssl is not None)


def _client(session: Session) -> str:
    return str(session.peer[0]) if session.peer else ""


def received_header(server: SMTP, session: Session, envelope: Envelope, queue_id: str) -> bytes:
    """The trace header we prepend (RFC 5321 4.4), protocol named per RFC 3848."""
    peer_ip = session.peer[0] if session.peer else "unknown"
    helo = (session.host_name or "unknown").replace("\r", "").replace("\n", "")
    protocol = "ESMTP" if session.extended_smtp else "SMTP"
    if _uses_tls(server):
        protocol += "S"
    if session.authenticated:
        protocol += "A"
    recipient = f"\r\n\tfor <{envelope.rcpt_tos[0]}>" if len(envelope.rcpt_tos) == 1 else ""
    hostname = server.hostname
    line = (
        f"Received: from {helo} ([{peer_ip}])\r\n\tby {hostname} (smb-suite) with {protocol} id {queue_id}"
        f"{recipient};\r\n\t{formatdate(localtime=True)}\r\n"
    )
    return line.encode("utf-8", "replace")


def count_received(message: bytes) -> int:
    """How many Received fields the header holds (RFC 5321 4.4)."""
    end = message.find(b"\r\n\r\n")
    header = message if end < 0 else message[: end + 2]
    return header.lower().count(b"\nreceived:") + header[:9].lower().startswith(b"received:")


def null_sender_as_empty(mail_from: str | None) -> str:
    """aiosmtpd keeps MAIL FROM:<> as "<>"; the core spells the null reverse-path "" (RFC 5321 4.5.5)."""
    return "" if mail_from in (None, "", "<>") else str(mail_from)


class InboundHandler(AiosmtpdSurface):
    """The MX: accepts mail for hosted addresses and aliases only (no relay); checks SPF, DKIM and DMARC."""

    listener = "mx"  # the label of its messages in the metrics

    relays = False  # submission: mail for other domains goes to the outbound queue

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lookup = services.resolver.cached()  # a sender's SPF, DKIM and DMARC records, kept for their TTL

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd's hook for an error no handler caught: a temporary refusal that names nothing of it (its own
        reply is "500 Error: (Type) text", SQL parameters and all), so the client retries and the log has it."""
        log.event(logger, "smtp.unexpected_error", error=type(error).__name__)
        logger.error("smtp.unexpected_error traceback", exc_info=error)
        return replies.LOCAL_ERROR

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # a 5-argument EHLO hook must record it itself
        lines = [*responses[:-1], *(replies.extension(name) for name in EXTENSIONS), responses[-1]]
        return ["\r\n".join(lines)]  # aiosmtpd writes each item apart: one write (and one packet) for the reply

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.services.config.smtp.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        try:
            resolution = await self.services.runner.read(self.services.delivery.resolve, address)
        except RelayDenied as error:  # a pending domain too: for submission it is remote (where its DNS says)
            if not self.relays:
                return self._refuse(session, address, replies.for_error(error))
            try:
                remote = str(parse_address(address, fold_case=False))
            except InvalidInput:
                return self._refuse(session, address, replies.BAD_ADDRESS)
            envelope.rcpt_tos.append(address)
            envelope.remote.append(remote)  # type: ignore[attr-defined]
            return replies.OK_RECIPIENT
        except SmbSuiteError as error:
            return self._refuse(session, address, replies.for_error(error))
        envelope.rcpt_tos.append(address)
        envelope.mailboxes.extend(resolution.mailboxes)  # type: ignore[attr-defined]
        envelope.remote.extend(str(target) for target in resolution.remote)  # type: ignore[attr-defined]
        return replies.OK_RECIPIENT

    @staticmethod
    def _refuse(session: Session, address: str, reply: str) -> str:
        log.event(logger, "smtp.rcpt_refused", client=_client(session), rcpt=address, reply=reply[:9])
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not envelope.mailboxes and not envelope.remote:  # type: ignore[attr-defined]
            return replies.NO_RECIPIENTS
        content = authresults.remove_ours(envelope.original_content or b"", server.hostname)
        if b"\0" in content:  # RFC 5321 2.3.8
            return replies.NUL_IN_MESSAGE
        settings = self.services.config
        try:
            verdict = await authentication.authenticate(
                content,
                _client(session),
                session.host_name or "",
                envelope.mail_from or "",
                self._lookup,
                settings.server.hostname,
                settings.inbound.dmarc_reject,
            )
        except Exception:  # a bug in a check must neither lose the mail nor let it pass unchecked: retry later
            logger.exception("smtp.authentication_failed client=%s", _client(session))
            return replies.LOCAL_ERROR
        checks = {
            "spf": verdict.spf.result,
            "dkim": ",".join(item.result for item in verdict.dkim) or "none",
            "dmarc": verdict.dmarc.result,
            "action": verdict.action,
        }
        if verdict.action is authentication.Action.REJECT:
            log.event(logger, "smtp.authenticated", client=_client(session), **checks)
            return replies.DMARC_REJECTED
        return await self._deliver(server, session, envelope, verdict.field + content, verdict.action, checks)

    async def _deliver(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        content: bytes,
        action: authentication.Action = authentication.Action.DELIVER,
        checks: dict[str, str] | None = None,
    ) -> str:
        """Prepend our Received field; store a copy per mailbox (INBOX, or Junk when quarantined) and queue the
        copies for other domains, all durably before the 250. `checks`: the MX's SPF, DKIM and DMARC results,
        logged on the same line as the delivery or its failure (one log line per message)."""
        mailboxes: list[Any] = envelope.mailboxes  # type: ignore[attr-defined]
        remote: list[str] = envelope.remote  # type: ignore[attr-defined]
        if count_received(content) >= MAX_HOPS:
            return replies.TOO_MANY_HOPS
        trace_id = secrets.token_hex(6)
        data = received_header(server, session, envelope, trace_id) + content
        sender = null_sender_as_empty(envelope.mail_from)
        try:
            # quarantined: kept in Junk for the recipients here, never passed on (accept drops `remote`)
            folder = JUNK if action is authentication.Action.JUNK else INBOX
            submitter = session.auth_data if isinstance(session.auth_data, User) else None
            accepted = await self.services.delivery.accept(sender, mailboxes, remote, data, folder, submitter=submitter)
        except (SmbSuiteError, OSError) as error:
            if checks:
                log.event(logger, "smtp.authenticated", client=_client(session), **checks)
            if isinstance(error, SmbSuiteError):
                return replies.for_error(error)
            logger.exception("smtp.delivery_failed id=%s", trace_id)
            return replies.LOCAL_ERROR
        log.event(
            logger,
            "smtp.delivered",
            id=trace_id,
            client=_client(session),
            copies=accepted.copies,
            queued=accepted.queue_id or "-",
            size=len(data),
            folder=folder,
            **(checks or {}),
        )
        self.services.metrics.received.labels(self.listener).inc()
        if accepted.queue_id:
            return f"{replies.OK_QUEUED} as {accepted.queue_id}"
        return f"{replies.OK_DELIVERED} as {trace_id}"


class SubmissionHandler(InboundHandler):
    """Authenticated submission (RFC 6409): the user sends as itself or its aliases only; mail is DKIM-signed.

    Hosted recipients are delivered at once; remote ones go to the outbound queue. No copy goes to Sent:
    that is the mail client's job (it APPENDs its own copy).
    """

    listener = "submission"

    relays = True

    def _sender_facts(self, user: object, address: str) -> tuple[frozenset[str], bool]:
        """In a reader thread: the addresses the user may send as, and whether `address`'s domain has proven
        its ownership (a pending domain sends nothing)."""
        if not isinstance(user, User):
            return frozenset(), False
        return self.services.directory.sender_facts(user, address.rpartition("@")[2])

    async def _verified(self, envelope: Envelope, address: str) -> bool:
        """True when the address's domain has proven its ownership; MAIL FROM's domain was checked with it."""
        domain = address.rpartition("@")[2]
        if domain.lower() in envelope.verified_domains:  # type: ignore[attr-defined]
            return True
        return await self.services.runner.read(self.services.directory.domain_verified, domain)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        """The user's sender addresses and the domain's proof, in one read; kept on the envelope for DATA."""
        senders, verified = await self.services.runner.read(self._sender_facts, session.auth_data, address)
        if address.lower() not in senders:
            log.event(logger, "smtp.sender_refused", client=_client(session), sender=address)
            return replies.SENDER_NOT_OWNED
        if not verified:
            log.event(logger, "smtp.sender_refused", client=_client(session), sender=address, reason="pending")
            return replies.SENDER_DOMAIN_PENDING
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.senders = senders  # type: ignore[attr-defined]
        envelope.verified_domains = {address.rpartition("@")[2].lower()}  # type: ignore[attr-defined]
        return replies.OK_SENDER

    @staticmethod
    def _check_originators(content: bytes, allowed: frozenset[str]) -> str | None:
        """The refusal for From:, Sender:, Resent-From: or Resent-Sender: naming an address the user does not
        own, or showing another address as its display name; None when they are all right."""
        found = message.originators(content)
        if not any(originator.field == "from" for originator in found):
            return replies.FROM_NOT_OWNED
        for originator in found:
            if originator.address not in allowed:
                return replies.field_not_owned(originator.field)
            shown = message.address_in_display_name(originator)
            if shown is not None:
                return replies.display_name_spoof(originator.field, shown, originator.address)
        return None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not envelope.mailboxes and not envelope.remote:  # type: ignore[attr-defined]
            return replies.NO_RECIPIENTS
        content = authresults.remove_ours(envelope.original_content or b"", server.hostname)
        if b"\0" in content:  # RFC 5321 2.3.8: no bare NUL; some programs stop reading at one
            return replies.NUL_IN_MESSAGE
        refused = self._check_originators(content, envelope.senders)  # type: ignore[attr-defined]
        if refused is not None:
            log.event(logger, "smtp.from_refused", client=_client(session), reply=refused[:9])
            return refused
        senders = message.from_addresses(content)
        if not all([await self._verified(envelope, sender) for sender in senders]):
            log.event(logger, "smtp.from_refused", client=_client(session), sender=",".join(senders), reason="pending")
            return replies.FROM_DOMAIN_PENDING
        domain = message.domain_of(senders[0])
        content = message.complete_for_submission(content, domain, int(self.services.clock()), secrets.token_hex(12))
        try:
            signed = await asyncio.to_thread(signing.sign, self.services, content, domain)
        except SmbSuiteError as error:
            return replies.for_error(error)
        return await self._deliver(server, session, envelope, signed)
