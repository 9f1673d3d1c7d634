"""IMAP wire syntax we write ourselves: strings, literals, lists, folder names, dates, flags (RFC 3501 4, 9).

twisted's own encoder (collapseNestedLists) only accepts ASCII text and re-encodes header values, so
ENVELOPE and BODYSTRUCTURE of real-world mail (8-bit headers, RFC 2231 parameters) are built by
mail/summary.py, whose string, literal and list syntax this module shares.
"""

from __future__ import annotations

import datetime
import functools
import time
import unicodedata
from dataclasses import dataclass

from twisted.mail.imap4 import decoder, encoder

from smb_suite.errors import InvalidInput, InvalidMailboxName
from smb_suite.mail.summary import encode, literal, string

__all__ = [
    "MUTF7",
    "UTF8",
    "MailboxNames",
    "decode_mailbox",
    "encode",
    "encode_mailbox",
    "flag_list",
    "internal_date",
    "literal",
    "string",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def decode_mailbox(raw: bytes | str) -> str:
    """A folder name from the wire: modified UTF-7 (RFC 3501 5.1.3) to text. A name whose encoding is not
    the one we would send back (bad base64, encoded ASCII) is refused, so every name has one spelling; raw
    UTF-8 (what RFC 6855 clients send) is taken as it is."""
    if isinstance(raw, str):
        return raw
    if not raw.isascii():
        try:
            return unicodedata.normalize("NFC", raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise InvalidMailboxName("folder name is neither modified UTF-7 nor UTF-8") from exc
    try:
        name = str(decoder(raw)[0])
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidMailboxName("folder name is not valid modified UTF-7") from exc
    if encoder(name)[0] != raw:
        raise InvalidMailboxName("folder name is not in canonical modified UTF-7")
    return name


def encode_mailbox(name: str) -> bytes:
    """A folder name for the wire (RFC 3501 5.1.3), quoted when needed."""
    return string(encoder(name)[0])


@dataclass(frozen=True, slots=True)
class MailboxNames:
    """How folder names travel in one session: modified UTF-7 (RFC 3501 5.1.3), or UTF-8 once the client
    enabled IMAP4rev2 (RFC 9051 5.1: "&" is then an ordinary character, and names are quoted UTF-8)."""

    utf8: bool = False

    def decode(self, raw: bytes | str) -> str:
        """UTF-8 names are stored in NFC (RFC 9051 5.1 and RFC 5198: Net-Unicode), whatever form was sent."""
        if not self.utf8 or isinstance(raw, str):
            return decode_mailbox(raw)
        return unicodedata.normalize("NFC", self._utf8(raw))

    def spelling_if_normalised(self, raw: bytes) -> str | None:
        """The name as the client wrote it, when storing it in NFC changed it (it then learns the stored
        name from a LIST response with OLDNAME, RFC 9051 6.3.4); None when nothing changed."""
        if not self.utf8:
            return None
        sent = self._utf8(raw)
        return sent if unicodedata.normalize("NFC", sent) != sent else None

    @staticmethod
    def _utf8(raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMailboxName("folder name is not UTF-8") from exc

    def encode(self, name: str) -> bytes:
        if not self.utf8:
            return encode_mailbox(name)
        data = name.encode("utf-8")
        if data.isascii():
            return string(data)
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'  # RFC 9051 9 QUOTED-CHAR: UTF-8


MUTF7 = MailboxNames(utf8=False)
UTF8 = MailboxNames(utf8=True)


def parse_date_time(raw: bytes) -> int:
    """APPEND's date-time, e.g. ' 7-Feb-1994 21:52:25 -0800' (RFC 3501 9), as seconds since the epoch."""
    text = raw.decode("ascii", "replace").strip()
    try:
        moment = datetime.datetime.strptime(text, "%d-%b-%Y %H:%M:%S %z")
    except ValueError as exc:
        raise InvalidInput(f"bad date-time {text!r}") from exc
    return int(moment.timestamp())


@functools.lru_cache(maxsize=4096)
def internal_date(seconds: int) -> bytes:
    """INTERNALDATE as RFC 3501 9 date-time, in UTC: b'"07-Feb-1994 21:52:25 +0000"'."""
    t = time.gmtime(seconds)
    return b'"%02d-%s-%04d %02d:%02d:%02d +0000"' % (
        t.tm_mday,
        _MONTHS[t.tm_mon - 1].encode(),
        t.tm_year,
        t.tm_hour,
        t.tm_min,
        t.tm_sec,
    )


@functools.lru_cache(maxsize=4096)
def flag_list(flags: frozenset[str]) -> bytes:
    """b'(\\\\Seen $Work)' for a set of flags (sets are shared objects, so this is a cache hit)."""
    return b"(" + " ".join(sorted(flags)).encode("ascii", "replace") + b")"
