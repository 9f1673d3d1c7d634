"""What the index keeps about a message so that FETCH and SEARCH seldom open its file (RFC 3501 6.4.4, 7.4.2).

ENVELOPE, BODYSTRUCTURE and BODY are kept in their IMAP wire form, ready to send; the header fields that
SEARCH keys name (SUBJECT, FROM, TO, CC, BCC, SENT*) are kept decoded (RFC 2047). The store computes a summary
once, on its writer thread, when a message is delivered, appended or copied in from disk.

Also here: the IMAP syntax for strings, literals and parenthesised lists (RFC 3501 4, 9), which the summary
needs and the IMAP front end shares.
"""

from __future__ import annotations

import datetime
import email.header
import email.utils
import re
from dataclasses import dataclass

from smb_suite.mail import addresslist, mime
from smb_suite.mail.mime import Value

_QUOTABLE = frozenset(range(0x20, 0x7F))
SEARCH_FIELDS = ("subject", "from", "to", "cc", "bcc")
ADDRESS_FIELDS = frozenset(("from", "to", "cc", "bcc"))


def literal(data: bytes) -> bytes:
    """RFC 3501 4.3: a synchronizing literal as the server sends it."""
    return b"{%d}\r\n%b" % (len(data), data)


def string(data: bytes) -> bytes:
    """A quoted string where the octets allow it, else a literal (8-bit, CR, LF, NUL: RFC 3501 4.3)."""
    if _QUOTABLE.issuperset(data):
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return literal(data)


def encode(value: Value) -> bytes:
    """NIL, numbers, strings and parenthesised lists; str goes out as UTF-8 (surrogates: the original octets)."""
    if value is None:
        return b"NIL"
    if isinstance(value, bool):
        raise TypeError("booleans have no IMAP form")
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, str):
        return string(value.encode("utf-8", "surrogateescape"))
    if isinstance(value, bytes):
        return string(value)
    if isinstance(value, mime.Concat):
        return b"".join(encode(item) for item in value)
    if isinstance(value, mime.Adjacent):
        return b"(" + b"".join(encode(item) for item in value) + b")"
    return b"(" + b" ".join(encode(item) for item in value) + b")"


_ITEM = re.compile(rb' *(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\{(\d+)\}\r\n|(NIL)(?=[ )]|$)|(\d+)(?=[ )]|$))')


def decode(data: bytes) -> Value:
    """The inverse of `encode` (a stored ENVELOPE back into values, for SORT and THREAD): strings come back as
    str (8-bit octets as surrogates, as `encode` took them)."""
    stack: list[list[Value]] = [[]]
    position, end, match_at = 0, len(data), _ITEM.match
    while position < end:
        match = match_at(data, position)
        if match is None:
            raise ValueError(f"not an IMAP value at octet {position}")
        position = match.end()
        opening, closing, quoted, size, _nil, number = match.groups()
        if quoted is not None:
            unquoted = re.sub(rb"\\(.)", rb"\1", quoted) if b"\\" in quoted else quoted
            stack[-1].append(unquoted.decode("utf-8", "surrogateescape"))
        elif opening:
            stack.append([])
        elif closing:
            if len(stack) == 1:
                raise ValueError("unbalanced parentheses")
            done = stack.pop()
            stack[-1].append(done)
        elif size is not None:
            stack[-1].append(data[position : position + int(size)].decode("utf-8", "surrogateescape"))
            position += int(size)
            if position > end:
                raise ValueError("a literal runs past the end")
        else:
            stack[-1].append(None if number is None else int(number))
    if len(stack) != 1 or len(stack[0]) != 1:
        raise ValueError("not one IMAP value")
    return stack[0][0]


@dataclass(frozen=True, slots=True)
class SearchText:
    """The header fields SEARCH keys name, decoded."""

    subject: str
    sender: str  # From
    to: str
    cc: str
    bcc: str
    sent_day: int | None  # date.toordinal() of the Date field's own day (RFC 3501: time and zone disregarded)
    references: str | None = None  # the References fields, for THREAD (RFC 5256 3); None: not recorded

    def field(self, name: str) -> str:
        """A field by its lower-case header name ("from", "subject" ...)."""
        return self.sender if name == "from" else str(getattr(self, name))


@dataclass(frozen=True, slots=True)
class Summary:
    envelope: bytes  # the wire form after "ENVELOPE "
    bodystructure: bytes  # after "BODYSTRUCTURE "
    body: bytes  # after "BODY " (the non-extensible form)
    text: SearchText


def decode_header(raw: str) -> str:
    """A stored header value as text: 8-bit octets as UTF-8, RFC 2047 encoded words decoded."""
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "=?" not in text:  # no encoded word: email.header would give the text back, four times slower
        return text
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (LookupError, ValueError, UnicodeError, TypeError):  # unknown charset, broken encoded word
        return text


def search_values(name: str, raw: list[str]) -> list[str]:
    """What SEARCH matches for the fields called `name` (RFC 3501 6.4.4): each value decoded (RFC 2047), and for
    an address field also its addresses as 'name <local@domain>', without comments or routes, so that FROM
    "user-from@domain.org" finds '<user-from (comment)@ (comment) domain.org>'."""
    values = [decode_header(value) for value in raw]
    if name in ADDRESS_FIELDS:
        values += [decode_header(addresslist.searchable(addresslist.parse(value))) for value in raw]
    return values


def sent_day(value: str | None) -> int | None:
    parsed = email.utils.parsedate_tz(value) if value else None
    if parsed is None:
        return None
    try:
        return datetime.date(parsed[0], parsed[1], parsed[2]).toordinal()
    except ValueError:
        return None


def summarize(data: bytes) -> Summary:
    root = mime.parse(data)
    fields = root.fields
    texts = {name: "\n".join(search_values(name, fields.values(name))) for name in SEARCH_FIELDS}
    dates = fields.values("date")
    return Summary(
        envelope=encode(mime.envelope(root)),
        bodystructure=encode(mime.bodystructure(root, True)),
        body=encode(mime.bodystructure(root, False)),
        text=SearchText(
            texts["subject"],
            texts["from"],
            texts["to"],
            texts["cc"],
            texts["bcc"],
            sent_day(dates[0] if dates else None),
            " ".join(fields.values("references")),
        ),
    )
