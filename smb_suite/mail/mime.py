"""MIME structure over the stored octets: sections, ENVELOPE and BODYSTRUCTURE (RFC 3501 6.4.5, 7.4.2).

Parts keep the original octets, so BODY[1], BODY[1.MIME] and BODY[HEADER] are exactly what was stored
(twisted's helpers re-serialise headers, lower-case parameter values and crash on a trailing ';' in
Content-Type). Pure functions: no sockets, no twisted, no storage. The store summarises each message with
them when it is delivered (summary.py); the IMAP front end uses them for sections.
"""

from __future__ import annotations

import functools
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from smb_suite.mail import addresslist

Value = None | int | str | bytes | Sequence["Value"]  # an IMAP nstring, number or parenthesised list
MAX_DEPTH = 20  # nesting beyond this is served as an opaque leaf (no recursion bombs)
MAX_PARTS = 1000  # parts of one message in its tree (Dovecot's parser stops at 10,000, nested 100 deep)
# A line ends at LF; CRs before it belong to the line end (CR CR LF is seen as one line end, as Dovecot does)
_HEADER_END = re.compile(rb"\n\r*\n")
_BLANK_FIRST_LINE = re.compile(rb"\r*\n")
_FIELD_START = re.compile(rb"^(?=[^ \t\r\n])", re.M)
_TYPE = re.compile(r"\s*([^\s/;()<>@,:\\\"\[\]?=]+)\s*/\s*([^\s/;()<>@,:\\\"\[\]?=]+)")
_TOKEN = re.compile(r"[^\s()<>@,;:\\\"/\[\]?=\x00-\x1f\x7f]+")  # RFC 2045 5.1 token
_COMMENT = re.compile(r"\((?:[^()\\]|\\.)*\)")
MISSING_MAILBOX, MISSING_DOMAIN = "MISSING_MAILBOX", "MISSING_DOMAIN"  # ENVELOPE of a damaged address (as Dovecot)


class Concat(list["Value"]):
    """Items written one after the other, without spaces or parentheses of their own: RFC 3501 9 has no SP in
    `1*body` (the parts that open a multipart BODYSTRUCTURE)."""


class Adjacent(list["Value"]):
    """A parenthesised list written without spaces between its items: RFC 3501 9 `"(" 1*address ")"`."""


class Fields:
    """A header's fields as (lower-case name, value) in order, values unfolded (RFC 5322 2.2.3: CRLF removed
    before WSP) and stripped, 8-bit octets kept as surrogates. Our own split rather than the email package's:
    that one also ends lines at a lone CR, which cut headers with CR CR LF line ends short."""

    __slots__ = ("items",)

    def __init__(self, header: bytes) -> None:
        items: list[tuple[str, bytes]] = []
        for line in header.split(b"\n"):
            line = line.rstrip(b"\r")
            if line[:1] in (b" ", b"\t"):
                if items:
                    items[-1] = (items[-1][0], items[-1][1] + line)
                continue
            name, colon, value = line.partition(b":")
            if colon and name.strip():
                items.append((name.strip().lower().decode("ascii", "surrogateescape"), value))
        self.items = [(name, value.strip().decode("ascii", "surrogateescape")) for name, value in items]

    def values(self, name: str) -> list[str]:
        """Every field called `name` (lower case)."""
        return [value for key, value in self.items if key == name]

    def first(self, name: str) -> str | None:
        for key, value in self.items:
            if key == name:
                return value
        return None


@dataclass
class Part:
    """One MIME entity: its raw header (with the blank line) and body, and its children."""

    header: bytes
    body: bytes
    fields: Fields
    main: str  # lower case, for decisions
    sub: str
    media: tuple[str, str]  # as written (case kept), for BODYSTRUCTURE
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
    found = _BLANK_FIRST_LINE.match(data) if data[:1] in (b"\r", b"\n") else None
    found = found or _HEADER_END.search(data)  # a literal first octet: the fast search
    return found.end() if found else None


@functools.lru_cache(maxsize=64)
def _field_pattern(name: str) -> re.Pattern[bytes]:
    escaped = re.escape(name.encode("ascii", "replace"))
    return re.compile(rb"^" + escaped + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.I | re.M)


def raw_field_values(header: bytes, name: str) -> list[str]:
    """Every field `name` in a raw header, unfolded, as text with 8-bit octets kept as surrogates; a regular
    expression over the octets, much faster than the email parser when one field is all that is wanted."""
    return [
        re.sub(rb"\r*\n(?=[ \t])", b"", value).strip().decode("ascii", "surrogateescape")
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
    fields = Fields(header)
    media = _media_type(fields.first("content-type"), default_type)
    main, sub = media[0].lower(), media[1].lower()
    part = Part(header, body, fields, main, sub, media)
    if depth >= MAX_DEPTH:
        return part
    if main == "multipart":
        child_type = "message/rfc822" if sub == "digest" else "text/plain"
        boundary = next((value for key, value in _parameters(fields, "content-type") if key.lower() == "boundary"), "")
        bodies = _split_multipart(body, boundary, max(budget[0], 1)) if boundary else []
        children = [parse(chunk, child_type, depth + 1, budget) for chunk in bodies if budget[0] > 0]
        part.children = children or [parse(b"", depth=depth + 1, budget=budget)]
    elif (main, sub) == ("message", "rfc822"):
        part.children = [parse(body, depth=depth + 1, budget=budget)]
    return part


def _media_type(value: str | None, default: str) -> tuple[str, str]:
    """type/subtype as written; RFC 2045 5.2: a missing or invalid Content-Type is the default (text/plain,
    message/rfc822 in a digest)."""
    found = _TYPE.match(_COMMENT.sub(" ", value)) if value else None
    if found is None:
        main, _, sub = default.partition("/")
        return main, sub
    return found.group(1), found.group(2)


def _split_multipart(body: bytes, boundary: str, limit: int) -> list[bytes]:
    """RFC 2046 5.1.1: the CRLF before a delimiter belongs to the delimiter, not to the part. At most `limit`."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode("ascii", "surrogateescape")) + rb"(--)?[ \t\r]*(?:\n|$)"
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
    """The part a section number names; path is 0-based. Raises IndexError for a part that is not there. A part
    that is not multipart has one part, 1, itself (RFC 3501 6.4.5: a non-multipart message "only" has part 1),
    and that one has none: "1.1" of a single-part message is empty, "1.1" of a text part is the text and
    "1.1.1" empty, as Dovecot answers."""
    current, itself = root, False
    for depth, index in enumerate(path):
        if depth and current.is_message:
            current, itself = current.children[0], False
        if current.is_multipart:
            current, itself = current.children[index], False
        elif index != 0 or itself:
            raise IndexError("a part that is not multipart has only part 1, itself")
        else:
            itself = True
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


def _without_blank_line(header: bytes) -> tuple[bytes, bool]:
    """The header's fields, and whether a blank line ended it (a message with no body may have none)."""
    if not header.endswith(b"\n"):
        return header, False
    line_start = header.rfind(b"\n", 0, len(header) - 1) + 1
    if header[line_start:-1].strip(b"\r"):
        return header, False
    return header[:line_start], True


def header_fields(header: bytes, names: list[bytes], negate: bool) -> bytes:
    """HEADER.FIELDS (NOT): the matching fields as stored, then one blank line, which RFC 3501 6.4.5 includes
    "in all header fetches, except in the case of a message which has no body and no blank line"."""
    wanted = {name.lower() for name in names}
    kept = []
    fields, blank = _without_blank_line(header)
    for raw in _FIELD_START.split(fields):
        name, colon, _ = raw.partition(b":")
        if not colon:
            continue
        if (name.strip().lower() in wanted) != negate:
            kept.append(raw if raw.endswith(b"\n") else raw + b"\r\n")
    return b"".join(kept) + (b"\r\n" if blank else b"")


# -- ENVELOPE and BODYSTRUCTURE (RFC 3501 7.4.2) ---------------------------------------------------------------


def _addresses(values: list[str]) -> list[Value] | None:
    """An address list as `(name adl mailbox host)` items with no space between them; a group is framed by
    `(NIL NIL "group" NIL)` and `(NIL NIL NIL NIL)` (RFC 3501 7.4.2: host NIL is group syntax), so an address
    missing its parts gets Dovecot's MISSING_MAILBOX/MISSING_DOMAIN instead of NIL."""
    items = Adjacent()
    for entry in (entry for value in values for entry in addresslist.parse(value)):
        if isinstance(entry, addresslist.Group):
            items.append([None, None, entry.name, None])
            items.extend(_address(member) for member in entry.members)
            items.append([None, None, None, None])
        else:
            items.append(_address(entry))
    return items or None


def _address(mailbox: addresslist.Mailbox) -> list[Value]:
    return [mailbox.name, mailbox.route, mailbox.local or MISSING_MAILBOX, mailbox.domain or MISSING_DOMAIN]


def envelope(part: Part) -> list[Value]:
    """RFC 3501 7.4.2. A field given twice (RFC 5322 3.6 allows one): the addresses of all, the last text, as
    Dovecot answers; an absent or empty Sender or Reply-To is the From."""
    fields = part.fields

    def last(name: str) -> str | None:
        values = fields.values(name)
        return values[-1] if values else None

    sender_from = _addresses(fields.values("from"))
    return [
        last("date"),
        last("subject"),
        sender_from,
        _addresses(fields.values("sender")) or sender_from,
        _addresses(fields.values("reply-to")) or sender_from,
        _addresses(fields.values("to")),
        _addresses(fields.values("cc")),
        _addresses(fields.values("bcc")),
        last("in-reply-to"),
        last("message-id"),
    ]


_SECTION = re.compile(r"(.+?)\*(\d+)(\*?)")  # RFC 2231 3: name*0, name*1* ...
_PARAMETER = re.compile(r';\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _parameters(fields: Fields, name: str) -> list[tuple[str, str]]:
    """Parameters of a field as stored (email's get_params turns 8-bit octets into U+FFFD), from its unfolded
    value (a quoted boundary folded over two lines is one string). RFC 2231: continuations (name*0, name*1 ...)
    are joined into one parameter, and extended values (name*=charset'lang'text) decoded."""
    value = fields.first(name)
    if value is None:
        return []
    found: list[tuple[str, str]] = []
    sections: dict[str, list[tuple[int, bool, str]]] = {}
    for key, raw in _PARAMETER.findall(value):
        text = raw.strip()
        if text.startswith('"'):
            text = re.sub(r"\\(.)", r"\1", text[1:-1])
        continued = _SECTION.fullmatch(key)
        if continued is not None:
            if continued.group(1) not in sections:
                found.append((continued.group(1), ""))  # filled in below, where the first section stood
            sections.setdefault(continued.group(1), []).append(
                (int(continued.group(2)), bool(continued.group(3)), text)
            )
        elif key.endswith("*"):
            found.append((key[:-1], _extended([(True, text)])))
        else:
            found.append((key, text))
    return [
        (key, _extended([s[1:] for s in sorted(sections[key])]) if key in sections else text) for key, text in found
    ]


def _extended(sections: list[tuple[bool, str]]) -> str:
    """RFC 2231 3, 4: the sections in order; when some are marked '*', their percent-decoded octets are read in
    the charset the first one names (charset'language'text)."""
    if not any(encoded for encoded, _ in sections):
        return "".join(text for _, text in sections)
    charset, octets = "", b""
    for position, (encoded, text) in enumerate(sections):
        if encoded and position == 0 and text.count("'") >= 2:
            charset, _language, text = text.split("'", 2)
        octets += urllib.parse.unquote_to_bytes(text) if encoded else text.encode("utf-8", "surrogateescape")
    try:
        return octets.decode(charset or "us-ascii", "replace")
    except LookupError:  # a charset Python does not know
        return octets.decode("utf-8", "replace")


def _params(fields: Fields, name: str) -> list[Value] | None:
    return [item for pair in _parameters(fields, name) for item in pair] or None


def _disposition(fields: Fields) -> list[Value] | None:
    value = fields.first("content-disposition")
    if not value:
        return None
    return [value.split(";", 1)[0].strip(), _params(fields, "content-disposition")]


def _encoding(value: str | None) -> str:
    """body-fld-enc: the mechanism token without comments or quotes (RFC 2045 6.1); anything else, like
    "8 bit", is not an encoding, and the entity is taken as 7bit as if the field were absent (as Dovecot does)."""
    text = _COMMENT.sub(" ", value).strip() if value else ""
    if len(text) > 1 and text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return text if _TOKEN.fullmatch(text) else "7bit"


def _language(value: str | None) -> Value:
    """body-fld-lang: the tags (RFC 3066, comma separated) as a list, even one, as Dovecot sends them."""
    tags = [tag.strip() for tag in _COMMENT.sub(" ", value).split(",") if tag.strip()] if value else []
    return tags or None


def _lines(data: bytes) -> int:
    """body-fld-lines: the line ends in the body; a last line without one (its CRLF belongs to the next
    boundary, RFC 2046 5.1.1) is not counted, as Dovecot does."""
    return data.count(b"\n")


def bodystructure(part: Part, extended: bool) -> list[Value]:
    """BODYSTRUCTURE (extended) or BODY (not): the MIME tree with sizes of the encoded octets."""
    fields = part.fields
    extension: list[Value] = [
        _disposition(fields),
        _language(fields.first("content-language")),
        fields.first("content-location"),
    ]
    if part.is_multipart:
        result: list[Value] = [Concat(bodystructure(child, extended) for child in part.children), part.media[1]]
        if extended:
            result.extend([_params(fields, "content-type"), *extension])
        return result
    params = _params(fields, "content-type")
    if params is None and part.main == "text":
        params = ["charset", "us-ascii"]
    result = [
        *part.media,
        params,
        fields.first("content-id"),
        fields.first("content-description"),
        _encoding(fields.first("content-transfer-encoding")),
        len(part.body),
    ]
    if part.is_message:
        inner = part.children[0]
        result.extend([envelope(inner), bodystructure(inner, extended), _lines(part.body)])
    elif part.main == "text":
        result.append(_lines(part.body))
    if extended:
        result.extend([fields.first("content-md5"), *extension])
    return result
