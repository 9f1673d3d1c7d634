"""aiosmtpd handlers: protocol decisions only; routing and storage are the core's (delivery.py)."""

from __future__ import annotations

import logging
import secrets
from email.utils import formatdate
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from smb_suite import log
from smb_suite.errors import InvalidInput, RelayDenied, SmbSuiteError
from smb_suite.mail.address import parse_address
from smb_suite.ops import Services
from smb_suite.smtp import replies

logger = logging.getLogger("smb_suite.smtp")
MAX_HOPS = 50  # RFC 5321 6.3: a message with this many Received fields is looping (forwards, aliases elsewhere)


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


def count_received(message: bytes) -> int:
    """How many Received fields the header holds (RFC 5321 4.4)."""
    end = message.find(b"\r\n\r\n")
    header = message if end < 0 else message[: end + 2]
    return header.lower().count(b"\nreceived:") + header[:9].lower().startswith(b"received:")


def null_sender_as_empty(mail_from: str | None) -> str:
    """aiosmtpd keeps MAIL FROM:<> as "<>"; the core spells the null reverse-path "" (RFC 5321 4.5.5)."""
    return "" if mail_from in (None, "", "<>") else str(mail_from)


class InboundHandler:
    """The MX: accepts mail for hosted addresses and aliases only (no relay)."""

    relays = False  # submission: mail for other domains goes to the outbound queue

    def __init__(self, services: Services) -> None:
        self.services = services

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.services.config.smtp.max_recipients:
            return replies.TOO_MANY_RECIPIENTS
        try:
            resolution = await self.services.runner.read(self.services.delivery.resolve, address)
        except RelayDenied:
            if not self.relays:
                return self._refuse(session, address, replies.RELAY_DENIED)
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
        client = session.peer[0] if session.peer else ""
        log.event(logger, "smtp.rcpt_refused", client=client, rcpt=address, reply=reply[:9])
        return reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        mailboxes: list[Any] = envelope.mailboxes  # type: ignore[attr-defined]
        remote: list[str] = envelope.remote  # type: ignore[attr-defined]
        if not mailboxes and not remote:
            return replies.NO_RECIPIENTS
        trace_id = secrets.token_hex(6)
        content = envelope.original_content or b""
        if count_received(content) >= MAX_HOPS:
            return replies.TOO_MANY_HOPS
        data = received_header(server, session, envelope, trace_id) + content
        sender = null_sender_as_empty(envelope.mail_from)
        try:
            accepted = await self.services.delivery.accept(sender, mailboxes, remote, data)
        except SmbSuiteError as error:
            return replies.for_error(error)
        except OSError:
            logger.exception("smtp.delivery_failed id=%s", trace_id)
            return replies.LOCAL_ERROR
        client = session.peer[0] if session.peer else ""
        log.event(
            logger,
            "smtp.delivered",
            id=trace_id,
            client=client,
            copies=accepted.copies,
            queued=accepted.queue_id or "-",
            size=len(data),
        )
        if accepted.queue_id:
            return f"{replies.OK_QUEUED} as {accepted.queue_id}"
        return f"{replies.OK_DELIVERED} as {trace_id}"


class SubmissionHandler(InboundHandler):
    """Authenticated submission: hosted recipients are delivered; remote ones go to the outbound queue."""

    relays = True
