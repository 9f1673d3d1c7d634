"""Header fields of a raw message, without re-serialising it (RFC 5322 2.2, 3.6).

A message is handled as bytes so that what we pass on is byte-for-byte what we received (DKIM signatures
survive); these helpers only find, read and drop whole header fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.utils import formatdate, getaddresses

from smb_suite.errors import PolicyReject

_FIELD_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[ \t]*:")


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # lower case
    raw: bytes  # the whole field with its continuation lines and line ending

    @property
    def value(self) -> str:
        """The unfolded value (RFC 5322 2.2.3), decoded as UTF-8 (RFC 6532) with errors replaced."""
        _, _, value = self.raw.partition(b":")
        unfolded = re.sub(rb"\r?\n(?=[ \t])", b"", value).rstrip(b"\r\n")
        return unfolded.decode("utf-8", "replace").strip()


def split(data: bytes) -> tuple[list[Field], bytes]:
    """The header fields and the rest (the empty line and the body). Lines that are no field are kept as the
    start of the body, as RFC 5322 has no place for them in the header. Linear in the header's length, however
    many continuation lines a field has."""
    names: list[str] = []
    starts: list[int] = []  # where each field begins; it ends where the next one (or the header) does
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end + 1
        if data[position : position + 1] not in (b" ", b"\t") or not names:
            match = _FIELD_NAME.match(data, position, end)
            if match is None:
                break
            names.append(match.group(1).decode("ascii").lower())
            starts.append(position)
        position = end
    bounds = [*starts, position]
    fields = [Field(name, data[bounds[i] : bounds[i + 1]]) for i, name in enumerate(names)]
    return fields, data[position:]


MAX_HEADER_OCTETS = 256 * 1024  # as Exchange Online; RFC 5322 sets no limit
MAX_HEADER_LINES = 10_000


def check_header_size(data: bytes) -> None:
    """Refuse a header over MAX_HEADER_OCTETS or MAX_HEADER_LINES (552 5.3.4): every later step parses the
    header, some in quadratic time in its number of lines (dkimpy), so its size is bounded first."""
    head = data[: MAX_HEADER_OCTETS + 1]
    _, rest = split(head)
    size = len(head) - len(rest)
    if size > MAX_HEADER_OCTETS or head.count(b"\n", 0, size) > MAX_HEADER_LINES:
        raise PolicyReject(
            552, "5.3.4", f"Message header too large: at most {MAX_HEADER_OCTETS} octets and {MAX_HEADER_LINES} lines"
        )


def join(fields: list[Field], rest: bytes) -> bytes:
    return b"".join(field.raw for field in fields) + rest


def values(data: bytes, name: str) -> list[str]:
    """The unfolded values of every field called `name` (case-insensitive), top to bottom."""
    fields, _ = split(data)
    return [field.value for field in fields if field.name == name.lower()]


def remove(data: bytes, drop: Callable[[Field], bool]) -> bytes:
    """The message without the header fields for which `drop` is true; everything else byte-for-byte."""
    fields, rest = split(data)
    kept = [field for field in fields if not drop(field)]
    return data if len(kept) == len(fields) else join(kept, rest)  # no needless copy of a large message


def from_addresses(data: bytes) -> list[str]:
    """The addr-specs in every From field (RFC 5322 3.6.2), lower-cased; empty if there is no From."""
    found = getaddresses(values(data, "from"))
    return [address.lower() for _, address in found if address]


# Fields that name who wrote or sent a message (RFC 5322 3.6.2, 3.6.6): a submitting user may only use its own
# addresses in any of them, not only in From.
ORIGINATOR_FIELDS = ("from", "sender", "resent-from", "resent-sender")
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+\.[^\s<>()\[\]\"',;:@]+")


@dataclass(frozen=True, slots=True)
class Originator:
    field: str  # lower case: from, sender, resent-from, resent-sender
    display_name: str  # with RFC 2047 encoded words decoded
    address: str  # the addr-spec, lower case


def originators(data: bytes) -> list[Originator]:
    """Every mailbox in the originator fields, top to bottom (an empty addr-spec is left out)."""
    fields, _ = split(data)
    found: list[Originator] = []
    for field in fields:
        if field.name in ORIGINATOR_FIELDS:
            for name, address in getaddresses([field.value]):
                if address:
                    found.append(Originator(field.name, _decoded(name), address.lower()))
    return found


def address_in_display_name(originator: Originator) -> str | None:
    """An address written as the display name that is not the real one (`"ceo@bank.test" <x@a.test>`), which
    mail apps show in place of the real sender; None when there is none."""
    for candidate in _ADDRESS_LIKE.findall(originator.display_name):
        if candidate.lower().rstrip(".") != originator.address.rstrip("."):
            return str(candidate)
    return None


def _decoded(name: str) -> str:
    """A display name with its RFC 2047 encoded words decoded (what the recipient's mail app shows)."""
    try:
        return str(make_header(decode_header(name)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        return name


def domain_of(address: str) -> str:
    """The domain part of an addr-spec, lower case, without a trailing dot; '' when there is none."""
    _, at, domain = address.rpartition("@")
    return domain.rstrip(".").lower() if at else ""


def complete_for_submission(data: bytes, domain: str, timestamp: int, token: str) -> bytes:
    """Add the Date and Message-ID a submitted message lacks (RFC 6409 8.2, 8.3; RFC 5322 3.6.1, 3.6.4)."""
    fields, _ = split(data)
    names = {field.name for field in fields}
    added = b""
    if "message-id" not in names:
        added += f"Message-ID: <{token}@{domain}>\r\n".encode()
    if "date" not in names:
        added += f"Date: {formatdate(timestamp)}\r\n".encode()
    return added + data
