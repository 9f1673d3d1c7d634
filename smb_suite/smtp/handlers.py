"""aiosmtpd handlers: protocol decisions only; routing, storage, signing and checks are the core's."""

from __future__ import annotations

import asyncio
import logging
import secrets
from email.utils import formatdate
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from smb_suite import delivery, log, mailauth, ops
from smb_suite.directory import User
from smb_suite.errors import RelayDenied, SmbSuiteError
from smb_suite.mail import authresults, message
from smb_suite.ops import Services
from smb_suite.smtp import replies

logger = logging.getLogger("smb_suite.smtp")
# Advertised on top of what aiosmtpd says itself (SIZE, 8BITMIME, SMTPUTF8, STARTTLS, AUTH).
EXTENSIONS = ("PIPELINING", "ENHANCEDSTATUSCODES")  # RFC 2920, RFC 2034


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


class InboundHandler:
    """The MX: accepts mail for hosted addresses and aliases only (no relay); checks SPF, DKIM and DMARC."""

    relay_reply = replies.RELAY_DENIED

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # a 5-argument EHLO hook must record it itself
        return [*responses[:-1], *(f"250-{name}" for name in EXTENSIONS), responses[-1]]

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.services.config.smtp.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        try:
            users = await self.services.runner.read(
                delivery.resolve, self.services.directory, self.services.store, address
            )
        except RelayDenied:
            return self._refuse(session, address, self.relay_reply)
        except SmbSuiteError as error:
            return self._refuse(session, address, replies.for_error(error))
        envelope.rcpt_tos.append(address)
        envelope.mailboxes.extend(users)  # type: ignore[attr-defined]
        return replies.OK_RECIPIENT

    @staticmethod
    def _refuse(session: Session, address: str, reply: str) -> str:
        log.event(logger, "smtp.rcpt_refused", client=_client(session), rcpt=address, reply=reply[:9])
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not envelope.mailboxes:  # type: ignore[attr-defined]
            return replies.NO_RECIPIENTS
        content = authresults.remove_ours(envelope.original_content or b"", server.hostname)
        settings = self.services.config
        try:
            verdict = await mailauth.authenticate(
                content,
                _client(session),
                session.host_name or "",
                envelope.mail_from or "",
                self.services.resolver,
                settings.server.hostname,
                settings.inbound.dmarc_reject,
            )
        except Exception:  # a bug in a check must neither lose the mail nor let it pass unchecked: retry later
            logger.exception("smtp.authentication_failed client=%s", _client(session))
            return replies.LOCAL_ERROR
        log.event(
            logger,
            "smtp.authenticated",
            client=_client(session),
            spf=verdict.spf.result,
            dkim=",".join(item.result for item in verdict.dkim) or "none",
            dmarc=verdict.dmarc.result,
            action=verdict.action,
        )
        if verdict.action is mailauth.Action.REJECT:
            return replies.DMARC_REJECTED
        return await self._deliver(server, session, envelope, verdict.field + content, verdict.action)

    async def _deliver(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        content: bytes,
        action: mailauth.Action = mailauth.Action.DELIVER,
    ) -> str:
        """Prepend our Received field and store a copy per mailbox (INBOX, or Junk when quarantined)."""
        mailboxes: list[Any] = envelope.mailboxes  # type: ignore[attr-defined]
        queue_id = secrets.token_hex(6)
        data = received_header(server, session, envelope, queue_id) + content
        deliver = delivery.deliver_to_junk if action is mailauth.Action.JUNK else delivery.deliver
        try:
            copies = await self.services.runner.write(deliver, self.services.store, mailboxes, data)
        except SmbSuiteError as error:
            return replies.for_error(error)
        except OSError:
            logger.exception("smtp.delivery_failed id=%s", queue_id)
            return replies.LOCAL_ERROR
        folder = "Junk" if action is mailauth.Action.JUNK else "INBOX"
        log.event(
            logger, "smtp.delivered", id=queue_id, client=_client(session), copies=copies, size=len(data), folder=folder
        )
        return f"{replies.OK_DELIVERED} as {queue_id}"


class SubmissionHandler(InboundHandler):
    """Authenticated submission (RFC 6409): the user sends as itself or its aliases only; mail is DKIM-signed.

    Hosted recipients are delivered at once; remote ones wait for the outbound queue. No copy goes to Sent:
    that is the mail client's job (it APPENDs its own copy).
    """

    relay_reply = replies.RELAY_NOT_CONFIGURED

    async def _senders(self, session: Session) -> set[str]:
        user = session.auth_data
        if not isinstance(user, User):
            return set()
        return await self.services.runner.read(self.services.directory.sender_addresses, user)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if address.lower() not in await self._senders(session):
            log.event(logger, "smtp.sender_refused", client=_client(session), sender=address)
            return replies.SENDER_NOT_OWNED
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return replies.OK_SENDER

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if not envelope.mailboxes:  # type: ignore[attr-defined]
            return replies.NO_RECIPIENTS
        content = authresults.remove_ours(envelope.original_content or b"", server.hostname)
        senders = message.from_addresses(content)
        allowed = await self._senders(session)
        if not senders or any(sender not in allowed for sender in senders):
            log.event(logger, "smtp.from_refused", client=_client(session), sender=",".join(senders) or "none")
            return replies.FROM_NOT_OWNED
        domain = message.domain_of(senders[0])
        content = message.complete_for_submission(content, domain, int(self.services.clock()), secrets.token_hex(12))
        try:
            signed = await asyncio.to_thread(ops.sign, self.services, content, domain)
        except SmbSuiteError as error:
            return replies.for_error(error)
        return await self._deliver(server, session, envelope, signed)
