"""IMAP wire syntax we write ourselves: strings, literals, nested lists, folder names, dates (RFC 3501 4, 9).

twisted's own encoder (collapseNestedLists) only accepts ASCII text and re-encodes header values, so
ENVELOPE and BODYSTRUCTURE of real-world mail (8-bit headers, RFC 2231 parameters) go through this module.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from twisted.mail.imap4 import decoder, encoder

from smb_suite.errors import InvalidInput, InvalidMailboxName

Value = None | int | str | bytes | Sequence["Value"]

_QUOTABLE = frozenset(range(0x20, 0x7F))


def literal(data: bytes) -> bytes:
    """RFC 3501 4.3: a synchronizing literal as the server sends it."""
    return b"{%d}\r\n%b" % (len(data), data)


def string(data: bytes) -> bytes:
    """A quoted string where the octets allow it, else a literal (8-bit, CR, LF, NUL: RFC 3501 4.3)."""
    if all(byte in _QUOTABLE for byte in data):
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
    return b"(" + b" ".join(encode(item) for item in value) + b")"


def decode_mailbox(raw: bytes | str) -> str:
    """A folder name from the wire: modified UTF-7 (RFC 3501 5.1.3) to text; bad encodings are refused."""
    if isinstance(raw, str):
        return raw
    try:
        return str(decoder(raw)[0])
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidMailboxName("folder name is not valid modified UTF-7") from exc


def encode_mailbox(name: str) -> bytes:
    """A folder name for the wire (RFC 3501 5.1.3), quoted when needed."""
    return string(encoder(name)[0])


def parse_date_time(raw: bytes) -> int:
    """APPEND's date-time, e.g. ' 7-Feb-1994 21:52:25 -0800' (RFC 3501 9), as seconds since the epoch."""
    text = raw.decode("ascii", "replace").strip()
    try:
        moment = datetime.datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")
    except ValueError as exc:
        raise InvalidInput(f"bad date-time {text!r}") from exc
    return int(moment.timestamp())
