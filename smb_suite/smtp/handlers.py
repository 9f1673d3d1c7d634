"""aiosmtpd handlers: protocol decisions only; routing and storage are the core's (delivery.py)."""

from __future__ import annotations

import logging
import secrets
from email.utils import formatdate
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from smb_suite import delivery, log
from smb_suite.errors import RelayDenied, SmbSuiteError
from smb_suite.ops import Services
from smb_suite.smtp import replies

logger = logging.getLogger("smb_suite.smtp")


def _uses_tls(server: SMTP) -> bool:
    transport = server.transport
    implicit = transport is not None and transport.get_extra_info("ssl_object") is not None
    return implicit or (server.session is not None and server.session.ssl is not None)


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
    """The MX: accepts mail for hosted addresses and aliases only (no relay)."""

    relay_reply = replies.RELAY_DENIED

    def __init__(self, services: Services) -> None:
        self.services = services

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
        client = session.peer[0] if session.peer else ""
        log.event(logger, "smtp.rcpt_refused", client=client, rcpt=address, reply=reply[:9])
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mailboxes: list[Any] = envelope.mailboxes  # type: ignore[attr-defined]
        if not mailboxes:
            return replies.NO_RECIPIENTS
        queue_id = secrets.token_hex(6)
        content = envelope.original_content or b""
        data = received_header(server, session, envelope, queue_id) + content
        try:
            copies = await self.services.runner.write(delivery.deliver, self.services.store, mailboxes, data)
        except SmbSuiteError as error:
            return replies.for_error(error)
        except OSError:
            logger.exception("smtp.delivery_failed id=%s", queue_id)
            return replies.LOCAL_ERROR
        client = session.peer[0] if session.peer else ""
        log.event(logger, "smtp.delivered", id=queue_id, client=client, copies=copies, size=len(data))
        return f"{replies.OK_DELIVERED} as {queue_id}"


class SubmissionHandler(InboundHandler):
    """Authenticated submission: hosted recipients are delivered; remote ones wait for the outbound queue."""

    relay_reply = replies.RELAY_NOT_CONFIGURED
