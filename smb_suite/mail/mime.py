"""MIME structure over the stored octets: sections, ENVELOPE and BODYSTRUCTURE (RFC 3501 6.4.5, 7.4.2).

Parts keep the original octets, so BODY[1], BODY[1.MIME] and BODY[HEADER] are exactly what was stored
(twisted's helpers re-serialise headers, lower-case parameter values and crash on a trailing ';' in
Content-Type). Pure functions: no sockets, no twisted, no storage. The store summarises each message with
them when it is delivered (summary.py); the IMAP front end uses them for sections.
"""

from __future__ import annotations

import email.utils
import functools
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

Value = None | int | str | bytes | Sequence["Value"]  # an IMAP nstring, number or parenthesised list
MAX_DEPTH = 20  # nesting beyond this is served as an opaque leaf (no recursion bombs)
MAX_PARTS = 1000  # parts of one message in its tree (Dovecot's parser stops at 10,000, nested 100 deep)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_FIELD_START = re.compile(rb"^(?=[^ \t\r\n])", re.M)
_parser = BytesHeaderParser(policy=compat32)


@dataclass
class Part:
    """One MIME entity: its raw header (with the blank line) and body, and its children."""

    header: bytes
    body: bytes
    fields: Message
    main: str
    sub: str
    children: list[Part] = field(default_factory=list)

    @property
    def is_multipart(self) -> bool:
        return self.main == "multipart" and bool(self.children)  # beyond MAX_DEPTH: an opaque leaf

    @property
    def is_message(self) -> bool:
        """An encapsulated message (RFC 2046 5.2.1): numbering continues inside it."""
        return (self.main, self.sub) == ("message", "rfc822") and bool(self.children)


def body_offset(data: bytes) -> int | None:
    """Where the body starts (after the blank line ending the header); None if the header has not ended."""
    if data.startswith((b"\r\n", b"\n")):
        return 2 if data.startswith(b"\r\n") else 1
    found = _HEADER_END.search(data)
    return found.end() if found else None


@functools.lru_cache(maxsize=64)
def _field_pattern(name: str) -> re.Pattern[bytes]:
    escaped = re.escape(name.encode("ascii", "replace"))
    return re.compile(rb"^" + escaped + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def raw_field_values(header: bytes, name: str) -> list[str]:
    """Every field `name` in a raw header, unfolded, as text with 8-bit octets kept as surrogates; a regular
    expression over the octets, much faster than the email parser when one field is all that is wanted."""
    return [
        re.sub(rb"\r?\n(?=[ \t])", b"", value).strip().decode("ascii", "surrogateescape")
        for value in _field_pattern(name).findall(header)
    ]


def parse(data: bytes, default_type: str = "text/plain", depth: int = 0, budget: list[int] | None = None) -> Part:
    """The MIME tree of a message: at most MAX_DEPTH levels and MAX_PARTS parts (a multipart's parts past the
    budget are left out of the tree: they stay in the stored octets, but BODYSTRUCTURE and sections do not
    name them), so that parsing costs a bounded time whatever the message (100,000 empty parts took 28 s)."""
    budget = [MAX_PARTS] if budget is None else budget
    budget[0] -= 1
    split = body_offset(data)
    if split is None:
        split = len(data)
    header, body = data[:split], data[split:]
    fields = _parser.parsebytes(header)
    if "content-type" not in fields:
        fields.set_default_type(default_type)
    main, sub = fields.get_content_maintype(), fields.get_content_subtype()
    part = Part(header, body, fields, main, sub)
    if depth >= MAX_DEPTH:
        return part
    if main == "multipart":
        child_type = "message/rfc822" if sub == "digest" else "text/plain"
        boundary = fields.get_boundary()
        bodies = _split_multipart(body, boundary, max(budget[0], 1)) if boundary else []
        children = [parse(chunk, child_type, depth + 1, budget) for chunk in bodies if budget[0] > 0]
        part.children = children or [parse(b"", depth=depth + 1, budget=budget)]
    elif (main, sub) == ("message", "rfc822"):
        part.children = [parse(body, depth=depth + 1, budget=budget)]
    return part


def _split_multipart(body: bytes, boundary: str, limit: int) -> list[bytes]:
    """RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter, not to the part. At most `limit`."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode("ascii", "surrogateescape")) + rb"(--)?[ \t]*(?:\r?\n|$)"
    )
    chunks: list[bytes] = []
    start: int | None = None
    for match in delimiter.finditer(body):
        if start is not None:
            chunks.append(body[start : match.start()])
        if match.group(1) or len(chunks) >= limit:
            return chunks
        start = match.end()
    if start is not None:
        chunks.append(body[start:])
    return chunks


# -- sections (RFC 3501 6.4.5) --------------------------------------------------------------------------------


def resolve(root: Part, path: list[int]) -> Part:
    """The part a section number names; path is 0-based. Raises IndexError for a part that is not there."""
    current = root
    for depth, index in enumerate(path):
        if depth and current.is_message:
            current = current.children[0]
        if current.is_multipart:
            current = current.children[index]
        elif index != 0:
            raise IndexError("a non-multipart part has only part 1")
    return current


def section(root: Part, path: list[int], spec: str, fields: list[bytes], negate: bool) -> bytes:
    """The octets of BODY[path.spec]; spec is '', 'HEADER', 'HEADER.FIELDS', 'TEXT' or 'MIME'."""
    try:
        part = resolve(root, path)
    except IndexError:
        return b""
    if spec == "":
        return part.body if path else root.header + root.body
    if spec == "MIME":
        return part.header
    if path:
        if not part.is_message:
            return b""
        part = part.children[0]
    if spec == "TEXT":
        return part.body
    if spec == "HEADER":
        return part.header
    return header_fields(part.header, fields, negate)


def header_fields(header: bytes, names: list[bytes], negate: bool) -> bytes:
    """HEADER.FIELDS (NOT): the matching fields as stored, plus the delimiting blank line."""
    wanted = {name.lower() for name in names}
    kept = []
    for raw in _FIELD_START.split(header):
        name, colon, _ = raw.partition(b":")
        if not colon:
            continue
        if (name.strip().lower() in wanted) != negate:
            kept.append(raw if raw.endswith(b"\n") else raw + b"\r\n")
    return b"".join(kept) + b"\r\n"


# -- ENVELOPE and BODYSTRUCTURE (RFC 3501 7.4.2) ---------------------------------------------------------------


def header_values(fields: Message, name: str) -> list[str]:
    """Every field called `name` (lower case), as stored (8-bit octets kept as surrogates), unfolded."""
    return [re.sub(r"\r?\n(?=[ \t])", "", value).strip() for key, value in fields.raw_items() if key.lower() == name]


def _header(fields: Message, name: str) -> str | None:
    """The first field's value as stored, unfolded."""
    for key, value in fields.raw_items():
        if key.lower() == name:
            return re.sub(r"\r?\n(?=[ \t])", "", value).strip()
    return None


def _addresses(value: str | None) -> list[Value] | None:
    """Address lists as (name adl mailbox host); group markers are dropped (email.utils does not keep them)."""
    if value is None:
        return None
    result: list[Value] = []
    for name, address in email.utils.getaddresses([value]):
        if not address and not name:
            continue
        mailbox, at, host = address.rpartition("@")
        result.append([name or None, None, (mailbox if at else address) or None, host if at else None])
    return result or None


def envelope(part: Part) -> list[Value]:
    fields = part.fields
    sender_from = _addresses(_header(fields, "from"))
    return [
        _header(fields, "date"),
        _header(fields, "subject"),
        sender_from,
        _addresses(_header(fields, "sender")) or sender_from,
        _addresses(_header(fields, "reply-to")) or sender_from,
        _addresses(_header(fields, "to")),
        _addresses(_header(fields, "cc")),
        _addresses(_header(fields, "bcc")),
        _header(fields, "in-reply-to"),
        _header(fields, "message-id"),
    ]


_PARAMETER = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _parameters(fields: Message, name: str) -> list[tuple[str, str]]:
    """Parameters of a header as stored (email's get_params turns 8-bit octets into U+FFFD); RFC 2231
    extended values (name*=charset''text) are decoded."""
    value = _header(fields, name)
    if value is None:
        return []
    found = []
    for key, raw in _PARAMETER.findall(value):
        text = raw.strip()
        if text.startswith('"'):
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        if key.endswith("*"):
            charset, _, encoded = email.utils.decode_rfc2231(text)
            key, text = key[:-1], urllib.parse.unquote(encoded, charset or "us-ascii", "replace")
        found.append((key, text))
    return found


def _params(fields: Message, name: str) -> list[Value] | None:
    return [item for pair in _parameters(fields, name) for item in pair] or None


def _disposition(fields: Message) -> list[Value] | None:
    value = _header(fields, "content-disposition")
    if not value:
        return None
    return [value.split(";", 1)[0].strip(), _params(fields, "content-disposition")]


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def bodystructure(part: Part, extended: bool) -> list[Value]:
    """BODYSTRUCTURE (extended) or BODY (not): the MIME tree with sizes of the encoded octets."""
    fields = part.fields
    extension: list[Value] = [
        _disposition(fields),
        _header(fields, "content-language"),
        _header(fields, "content-location"),
    ]
    if part.is_multipart:
        result: list[Value] = [bodystructure(child, extended) for child in part.children]
        result.append(part.sub)
        if extended:
            result.extend([_params(fields, "content-type"), *extension])
        return result
    params = _params(fields, "content-type")
    if params is None and part.main == "text":
        params = ["charset", "us-ascii"]
    result = [
        part.main,
        part.sub,
        params,
        _header(fields, "content-id"),
        _header(fields, "content-description"),
        _header(fields, "content-transfer-encoding") or "7bit",
        len(part.body),
    ]
    if part.is_message:
        inner = part.children[0]
        result.extend([envelope(inner), bodystructure(inner, extended), _lines(part.body)])
    elif part.main == "text":
        result.append(_lines(part.body))
    if extended:
        result.extend([_header(fields, "content-md5"), *extension])
    return result
