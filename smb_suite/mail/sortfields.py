"""What SORT and THREAD order a message by (RFC 5256 3, RFC 5957 3), taken from its ENVELOPE once.

A message's fields never change, so the IMAP front end keeps these per message with the folder's state and
computes them only for messages it has not seen: a second SORT of a large folder decodes nothing.
"""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass

from smb_suite.mail.mime import Value
from smb_suite.mail.subject import base_subject, sort_key
from smb_suite.mail.summary import decode_header

_DATE, _SUBJECT, _FROM, _TO, _CC, _IN_REPLY_TO, _MESSAGE_ID = 0, 1, 2, 5, 6, 8, 9  # RFC 3501 7.4.2 ENVELOPE


@dataclass(frozen=True, slots=True)
class SortFields:
    sent: float  # RFC 5256 2.2: the Date field with its zone, else the internal date (POSIX time)
    subject: str  # decoded (RFC 2047)
    base_subject: bytes  # RFC 5256 2.1, as its i;ascii-casemap key
    sender: bytes  # FROM: the addr-mailbox of the first From address (RFC 5256 3), as a key
    to: bytes
    cc: bytes
    display_from: bytes  # RFC 5957 3: the display name of the first From address, else its addr-spec
    display_to: bytes
    message_id: str  # raw, for THREAD (RFC 5256 3)
    in_reply_to: str
    references: str | None  # None: not in the index (a message stored before it kept them)


def sort_fields(envelope: Sequence[Value], internaldate: int, references: str | None = None) -> SortFields:
    """The fields of a message from its ENVELOPE values (summary.decode of the stored form, or mime.envelope),
    and its References fields as the index keeps them."""

    def text(index: int) -> str:
        value = envelope[index] if index < len(envelope) else None
        return decode_header(value) if isinstance(value, str) else ""

    subject = text(_SUBJECT)
    sender, to, cc = (_first_address(envelope, index) for index in (_FROM, _TO, _CC))
    return SortFields(
        _sent(text(_DATE), internaldate),
        subject,
        sort_key(base_subject(subject).text),
        sort_key(sender[1]),
        sort_key(to[1]),
        sort_key(cc[1]),
        _display(sender),
        _display(to),
        text(_MESSAGE_ID),
        text(_IN_REPLY_TO),
        references,
    )


def _sent(date: str, internaldate: int) -> float:
    parsed = email.utils.parsedate_tz(date)
    if parsed is None:
        return float(internaldate)
    try:
        return float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return float(internaldate)


def _first_address(envelope: Sequence[Value], index: int) -> tuple[str, str, str]:
    """(display name, mailbox, host) of the first address of a field; group markers have no host (RFC 3501
    7.4.2) and are skipped."""
    addresses = envelope[index] if index < len(envelope) else None
    for address in addresses if isinstance(addresses, list) else []:
        if isinstance(address, list) and len(address) == 4 and address[3] is not None:
            name, _, mailbox, host = address
            return decode_header(name) if isinstance(name, str) else "", str(mailbox or ""), str(host)
    return "", "", ""


def _display(address: tuple[str, str, str]) -> bytes:
    name, mailbox, host = address
    return sort_key(name or (f"{mailbox}@{host}" if mailbox else ""))
