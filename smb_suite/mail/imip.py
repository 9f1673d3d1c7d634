"""iMIP (RFC 6047): iTIP objects (mail/itip.py) carried by mail.

An invitation or cancellation is multipart/mixed: a multipart/alternative of a text/plain description and the
text/calendar object with its `method` parameter (RFC 6047 2.4), which mail apps offer to accept or decline,
then the same object as an `invite.ics` attachment, which Outlook and Gmail expect. Replies are found in the
text/calendar parts of a delivered message.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smb_suite.errors import InvalidInput

if TYPE_CHECKING:  # itip needs icalendar, which only processes that handle calendars pay for at import
    from smb_suite.mail import itip

MAX_REPLY_BYTES = 256 * 1024  # a REPLY is a few KB (tens with HTML); bigger mail is not looked into
MAX_PARTS = 64
CONTENT_TYPE = b"text/calendar"
NEW, UPDATE, CANCEL = "new", "update", "CANCEL"  # the kinds of message (CANCEL is itip.CANCEL)
SUBJECTS = {NEW: "Invitation: {title}", UPDATE: "Updated invitation: {title}", CANCEL: "Cancelled: {title}"}


@dataclass(frozen=True, slots=True)
class Letter:
    """Who writes to whom, and when (the header of an iMIP message)."""

    organiser: str
    organiser_name: str
    recipient: str
    date: float
    message_id: str  # without the angle brackets
    on_behalf: str = ""  # who sent it for the organiser (Sender, RFC 5322 3.6.2), when not the organiser


def _text(kind: str, about: itip.Summary, organiser: str) -> str:
    lines = {
        NEW: f"{organiser} invites you to this event.",
        UPDATE: f"{organiser} changed this event.",
        CANCEL: f"{organiser} cancelled this event.",
    }[kind]
    details = [about.title or "(no title)"]
    if about.when:
        details.append(f"When: {about.when}")
    if about.where:
        details.append(f"Where: {about.where}")
    body = "\n".join([lines, "", *details])
    if about.description:
        body += "\n\n" + about.description
    if kind != CANCEL:
        body += "\n\nYour mail or calendar app offers to accept or decline; the invitation is also attached."
    return body + "\n"


def message(kind: str, method: str, ics: str, about: itip.Summary, letter: Letter) -> bytes:
    """The mail carrying `ics` (kind: NEW, UPDATE or CANCEL)."""
    mail = email.message.EmailMessage(policy=email.policy.SMTP)
    mail["From"] = email.utils.formataddr((letter.organiser_name, letter.organiser))
    if letter.on_behalf:
        mail["Sender"] = letter.on_behalf
    mail["To"] = letter.recipient
    title = SUBJECTS[kind].format(title=about.title or "(no title)")
    mail["Subject"] = f"{title} @ {about.when}" if about.when else title
    mail["Date"] = email.utils.formatdate(letter.date, localtime=True)
    mail["Message-ID"] = f"<{letter.message_id}>"
    mail.set_content(_text(kind, about, letter.organiser_name or letter.organiser))
    mail.add_alternative(ics, subtype="calendar", params={"method": method})  # RFC 6047 2.4
    mail.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return mail.as_bytes()


def may_hold_calendar(data: bytes) -> bool:
    """A quick look, fit for the event loop: does the message name text/calendar (its "calendar" in lower or
    upper case)? bytes.find runs ~10 times faster than a case-insensitive regular expression (~30 us per KB)."""
    if len(data) > MAX_REPLY_BYTES:
        return False
    for tail in (b"alendar", b"ALENDAR"):
        found = data.find(tail)
        while found >= 0:
            start = found - len(b"text/c")
            if start >= 0 and data[start : found + len(tail)].lower() == CONTENT_TYPE:
                return True
            found = data.find(tail, found + 1)
    return False


def calendar_parts(data: bytes) -> list[str]:
    """The text of each text/calendar part (the first MAX_PARTS parts are looked at)."""
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    found: list[str] = []
    for count, part in enumerate(parsed.walk()):
        if count >= MAX_PARTS:
            break
        if part.get_content_type() != "text/calendar" or not isinstance(part, email.message.EmailMessage):
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            continue
        if isinstance(content, str):
            found.append(content)
    return found


def replies(data: bytes) -> list[itip.Reply]:
    """Every attendee answer carried by a delivered message (METHOD:REPLY objects); unreadable parts skipped."""
    from smb_suite.mail import itip

    found: list[itip.Reply] = []
    for text in calendar_parts(data):
        try:
            found.extend(itip.replies(text))
        except (InvalidInput, ValueError):  # not iCalendar, or a value icalendar cannot read
            continue
    return found
