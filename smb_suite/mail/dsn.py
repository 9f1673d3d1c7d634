"""Delivery status notifications: RFC 3464 multipart/report with RFC 3461/3464 fields (pure: bytes in, bytes out).

A DSN goes to the original envelope sender with a null envelope sender of its own (RFC 3461 6.2, RFC 5321
4.5.5), so that it can never cause another DSN.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate
from enum import StrEnum

_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
HEADER_LIMIT = 64 * 1024  # text/rfc822-headers carries at most this much of the original


class Action(StrEnum):
    """RFC 3464 2.3.3 action-value (the ones a queue reports)."""

    FAILED = "failed"
    DELAYED = "delayed"


@dataclass(frozen=True, slots=True)
class RecipientReport:
    address: str
    action: Action
    status: str  # RFC 3463 enhanced status code, e.g. "5.1.1"
    diagnostic: str = ""  # the remote server's reply ("550 5.1.1 no such user"), or our own explanation
    remote_mta: str = ""  # the host that gave the diagnostic
    remote: bool = True  # the diagnostic came over SMTP (Diagnostic-Code: smtp; ...) rather than from us


@dataclass(frozen=True, slots=True)
class Report:
    reporting_mta: str  # our host name
    sender: str  # where the report goes (the original envelope sender)
    queue_id: str
    arrival: float  # when we accepted the original message
    recipients: Sequence[RecipientReport]
    original: bytes  # the original message (only its header is returned)


def enhanced_status(reply: str, default: str) -> str:
    """The RFC 3463 code in an SMTP reply text, else `default` (with the reply's class when it has one)."""
    match = _ENHANCED.search(reply)
    if match:
        return match.group(0)
    if reply[:1] in ("4", "5") and default[:1] in ("4", "5"):
        return reply[0] + default[1:]
    return default


def original_header(message: bytes) -> bytes:
    """The header block of a message, CRLF-terminated (RFC 3462 text/rfc822-headers)."""
    end = message.find(b"\r\n\r\n")
    if end < 0:
        end = message.find(b"\n\n")
    header = message if end < 0 else message[:end]
    header = header[:HEADER_LIMIT]
    return b"\r\n".join(header.splitlines()) + b"\r\n"


def _fold_text(value: str) -> str:
    """One header-safe line (no CR/LF) of at most 900 characters (RFC 5322 2.1.1)."""
    return " ".join(value.split())[:900]


def _human_text(report: Report) -> str:
    failed = [r for r in report.recipients if r.action is Action.FAILED]
    delayed = [r for r in report.recipients if r.action is Action.DELAYED]
    lines = [f"This is the mail system at {report.reporting_mta}.", ""]
    if failed:
        lines += ["Your message could not be delivered to these recipients:", ""]
        lines += [f"  <{r.address}>: {_fold_text(r.diagnostic) or r.status}" for r in failed]
        lines.append("")
    if delayed:
        lines += [
            "Your message has not been delivered yet to these recipients. It stays in the queue and",
            "delivery is retried; you will be told if it finally fails. There is nothing you need to do.",
            "",
        ]
        lines += [f"  <{r.address}>: {_fold_text(r.diagnostic) or r.status}" for r in delayed]
        lines.append("")
    lines.append("The header of your message follows this report.")
    return "\r\n".join(lines) + "\r\n"


def _status_fields(report: Report) -> str:
    """The message/delivery-status body (RFC 3464 2.2 per-message, 2.3 per-recipient fields)."""
    blocks = [
        f"Reporting-MTA: dns; {report.reporting_mta}\r\n"
        f"X-Queue-ID: {report.queue_id}\r\n"
        f"Arrival-Date: {formatdate(report.arrival, localtime=True)}\r\n"
    ]
    for r in report.recipients:
        block = f"Final-Recipient: rfc822; {r.address}\r\nAction: {r.action}\r\nStatus: {r.status}\r\n"
        if r.remote_mta:
            block += f"Remote-MTA: dns; {r.remote_mta}\r\n"
        if r.diagnostic:
            kind = "smtp" if r.remote else "x-local"
            block += f"Diagnostic-Code: {kind}; {_fold_text(r.diagnostic)}\r\n"
        blocks.append(block)
    return "\r\n".join(blocks)


def build(report: Report, now: float) -> bytes:
    """The complete DSN message (RFC 3464 multipart/report; report-type=delivery-status)."""
    boundary = f"=_dsn_{secrets.token_hex(12)}"
    failed = any(r.action is Action.FAILED for r in report.recipients)
    subject = "Undelivered Mail Returned to Sender" if failed else "Delayed Mail (still being retried)"
    head = (
        f"From: Mail Delivery System <MAILER-DAEMON@{report.reporting_mta}>\r\n"
        f"To: <{report.sender}>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {formatdate(now, localtime=True)}\r\n"
        f"Message-ID: <{report.queue_id}.{secrets.token_hex(6)}@{report.reporting_mta}>\r\n"
        "Auto-Submitted: auto-replied\r\n"  # RFC 3834 5
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        "This is a MIME-encapsulated delivery status notification.\r\n"
    )
    parts = [
        "Content-Type: text/plain; charset=utf-8\r\nContent-Description: Notification\r\n\r\n" + _human_text(report),
        "Content-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n"
        + _status_fields(report),
    ]
    body = "".join(f"\r\n--{boundary}\r\n{part}" for part in parts)
    headers_part = (
        f"\r\n--{boundary}\r\nContent-Type: text/rfc822-headers\r\nContent-Description: Undelivered message header"
        "\r\n\r\n"
    ).encode()
    return (
        head.encode()
        + body.encode("utf-8")
        + headers_part
        + original_header(report.original)
        + f"\r\n--{boundary}--\r\n".encode()
    )


def describe(recipients: Sequence[RecipientReport]) -> str:
    """A short log summary: 'a@x=5.1.1 b@y=4.4.7'."""
    return " ".join(f"{r.address}={r.status}" for r in recipients)
