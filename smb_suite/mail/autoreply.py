"""Vacation autoreplies as RFC 3834 asks: when not to answer, and what the answer looks like (pure)."""

from __future__ import annotations

import secrets
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import formatdate

# RFC 3834 2 / 3.1.8: never answer lists, bulk mail or mail that was itself sent automatically.
LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "list-help", "list-owner", "list-subscribe")
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
ROBOT_LOCAL_PARTS = ("mailer-daemon", "postmaster", "listserv", "majordomo", "noreply", "no-reply", "do-not-reply")


def parse_header(message: bytes) -> Message:
    """The message's header fields (the body is not parsed)."""
    return BytesHeaderParser(policy=policy.compat32).parsebytes(message)


def _robot_sender(sender: str) -> bool:
    local = sender.rpartition("@")[0].lower()
    return local in ROBOT_LOCAL_PARTS or local.startswith("owner-") or local.endswith(("-request", "-bounces"))


def should_reply(sender: str, header: Message) -> bool:
    """Whether a personal autoreply to envelope sender `sender` is allowed for a message with this header."""
    if not sender or "@" not in sender or _robot_sender(sender):  # RFC 3834 2: null sender = a bounce
        return False
    auto_submitted = str(header.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto_submitted != "no":  # RFC 3834 5.1
        return False
    if any(header.get(name) is not None for name in LIST_HEADERS):  # RFC 2369, RFC 2919
        return False
    precedence = str(header.get("Precedence", "")).strip().lower()
    return precedence not in BULK_PRECEDENCE and header.get("X-Autoreply") is None


def build_reply(
    *, user: str, sender: str, subject: str, text: str, original: Message, hostname: str, now: float
) -> bytes:
    """The autoreply from `user` to `sender` (RFC 3834 3.1: subject, threading, Auto-Submitted)."""
    reply = EmailMessage(policy=policy.SMTP)
    reply["From"] = user
    reply["To"] = sender
    original_subject = " ".join(str(original.get("Subject", "")).split())
    reply["Subject"] = subject or (f"Auto: {original_subject}" if original_subject else "Auto: (no subject)")
    reply["Date"] = formatdate(now, localtime=True)
    reply["Message-ID"] = f"<vacation.{secrets.token_hex(8)}@{hostname}>"
    message_id = str(original.get("Message-ID", "")).strip()
    if message_id:  # RFC 3834 3.1.5
        reply["In-Reply-To"] = message_id
        references = " ".join(str(original.get("References", "")).split())
        reply["References"] = f"{references} {message_id}".strip()
    reply["Auto-Submitted"] = "auto-replied"  # RFC 3834 3.1.7
    reply.set_content(text if text.endswith("\n") else text + "\n")
    return reply.as_bytes()
