"""Command arguments twisted does not parse (or parses wrongly), as pure functions over bytes (RFC 3501 9).

- quoted strings with \\" and \\\\ escapes (twisted splits at the first '"', so a password with a quote fails);
- literals announced as {n} or {n+} (RFC 7888 LITERAL+);
- sequence sets with '*', FETCH attributes with sections, partials, MODSEQ and the CHANGEDSINCE modifier
  (RFC 7162), STORE with UNCHANGEDSINCE, SELECT/EXAMINE parameters, flag lists, ID parameters (RFC 2971).
Errors are `IllegalClientResponse`, which the server answers with BAD.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from twisted.mail.imap4 import IllegalClientResponse

STAR = 0  # '*' in a sequence set: the highest number in use (RFC 3501 6.4.8)
SYSTEM_FLAGS = ("\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft")  # RFC 3501 2.3.2
_SYSTEM_BY_NAME = {flag.upper(): flag for flag in (*SYSTEM_FLAGS, "\\Recent")}
_ASTRING_SPECIALS = frozenset(b'(){ %*"\\') | frozenset(range(0x20)) | {0x7F}  # RFC 3501 9 ASTRING-CHAR
_ATOM_SPECIALS = _ASTRING_SPECIALS | {ord("]")}
_LIST_SPECIALS = _ASTRING_SPECIALS - {ord("%"), ord("*")}  # list-mailbox allows the wildcards
LITERAL = re.compile(rb"\{(\d{1,10})(\+?)\}$")
APPEND_LITERAL = re.compile(rb"~?\{(\d{1,10})(\+?)\}$")  # APPEND also takes literal8 (RFC 3516 4.4)
UTF8_APPEND_LITERAL = re.compile(rb"UTF8 \(~\{(\d{1,10})(\+?)\}$", re.IGNORECASE)  # RFC 6855 4, then ")"
_NUMBER = re.compile(rb"[0-9]{1,20}")
_SEQ_ITEM = re.compile(rb"(\*|[1-9][0-9]{0,9})(?::(\*|[1-9][0-9]{0,9}))?")
# Bounded work per command (issue 11): deeper nesting, longer lists are BAD, never a RecursionError or a
# command that keeps the server busy for everyone.
MAX_DEPTH = 100  # nested parentheses
MAX_ITEMS = 100  # FETCH items, flags of one command, header field names of one section


@dataclass(frozen=True, slots=True)
class LiteralRequest:
    """An argument that arrives as a literal: `size` octets, announced synchronizing or not."""

    size: int
    sync: bool


# -- strings ----------------------------------------------------------------------------------------------


def astring(line: bytes, wildcards: bool = False) -> tuple[bytes | LiteralRequest, bytes]:
    """One astring (atom, quoted string or literal) and the rest of the line after one space; `wildcards`
    lets an unquoted LIST pattern hold '%' and '*'. 8-bit octets are accepted (UTF-8 folder names)."""
    if not line:
        raise IllegalClientResponse("missing argument")
    if line[:1] == b'"':
        text, rest = quoted(line)
        if rest and rest[:1] != b" ":
            raise IllegalClientResponse("a quoted string must be followed by a space")
        return text, rest[1:]
    if line[:1] == b"{":
        match = LITERAL.fullmatch(line)
        if match is None:
            raise IllegalClientResponse("malformed literal: it must end the line as {size} or {size+}")
        return LiteralRequest(int(match.group(1)), not match.group(2)), b""
    atom, _, rest = line.partition(b" ")
    specials = _LIST_SPECIALS if wildcards else _ASTRING_SPECIALS
    if not atom or not specials.isdisjoint(atom):
        raise IllegalClientResponse("malformed atom")
    return atom, rest


def quoted(line: bytes) -> tuple[bytes, bytes]:
    """A quoted string at the start of line (RFC 3501 9: '\\' escapes '"' and '\\' only), and what follows it."""
    out = bytearray()
    position = 1
    while position < len(line):
        byte = line[position]
        if byte == ord("\\"):
            escaped = line[position + 1 : position + 2]
            if escaped not in (b'"', b"\\"):
                raise IllegalClientResponse("bad escape in quoted string")
            out += escaped
            position += 2
        elif byte == ord('"'):
            return bytes(out), line[position + 1 :]
        elif byte in (0, 0x0A, 0x0D):
            raise IllegalClientResponse("NUL, CR and LF are not allowed in a quoted string")
        else:
            out.append(byte)
            position += 1
    raise IllegalClientResponse("unbalanced quotes")


Token = bytes | None | list[object]  # an atom or string, NIL, or a parenthesised list


def tokens(line: bytes) -> list[Token]:
    """A line of atoms, quoted strings, NIL and parenthesised lists (for ID and modifiers; no literals)."""
    stack: list[list[object]] = [[]]
    position = 0
    while position < len(line):
        char = line[position : position + 1]
        if char == b" ":
            position += 1
        elif char == b"(":
            if len(stack) > MAX_DEPTH:
                raise IllegalClientResponse(f"parentheses are nested more than {MAX_DEPTH} deep")
            stack.append([])
            position += 1
        elif char == b")":
            if len(stack) == 1:
                raise IllegalClientResponse("unbalanced parentheses")
            inner = stack.pop()
            stack[-1].append(inner)
            position += 1
        elif char == b'"':
            text, rest = quoted(line[position:])
            stack[-1].append(text)
            position = len(line) - len(rest)
        else:
            end = position
            while end < len(line) and line[end : end + 1] not in (b" ", b"(", b")"):
                end += 1
            atom = line[position:end]
            stack[-1].append(None if atom.upper() == b"NIL" else atom)
            position = end
    if len(stack) != 1:
        raise IllegalClientResponse("unbalanced parentheses")
    return stack[0]  # type: ignore[return-value]


# -- numbers and sequence sets ----------------------------------------------------------------------------


def number(token: object, what: str = "number") -> int:
    if not isinstance(token, bytes) or not _NUMBER.fullmatch(token):
        raise IllegalClientResponse(f"expected a {what}")
    return int(token)


SequenceSet = tuple[tuple[int, int], ...]  # inclusive ranges; STAR stands for '*'
SAVED: SequenceSet = ()  # "$": the result the last SEARCH RETURN (SAVE) kept (RFC 5182 2.1); no set is empty


def sequence_set(text: bytes) -> SequenceSet:
    """RFC 3501 9 sequence-set: '1:4,7,9:*'. Numbers are 1 .. 2**32-1."""
    ranges = []
    for item in text.split(b","):
        match = _SEQ_ITEM.fullmatch(item)
        if match is None:
            raise IllegalClientResponse(f"bad sequence set {text[:40]!r}")
        low = STAR if match.group(1) == b"*" else int(match.group(1))
        high = low if match.group(2) is None else STAR if match.group(2) == b"*" else int(match.group(2))
        if max(low, high) > 0xFFFFFFFF:
            raise IllegalClientResponse("message numbers are 32-bit")
        ranges.append((low, high))
    return tuple(ranges)


def resolve(ranges: SequenceSet, last: int) -> list[tuple[int, int]]:
    """Concrete inclusive ranges, '*' being `last` (ranges may be given high:low), sorted and merged, so that
    `1:4294967295` or thousands of overlapping ranges cost no more than the messages they name."""
    ordered = sorted((min(low or last, high or last), max(low or last, high or last)) for low, high in ranges)
    merged: list[tuple[int, int]] = []
    for low, high in ordered:
        if merged and low <= merged[-1][1] + 1:
            if high > merged[-1][1]:
                merged[-1] = (merged[-1][0], high)
        else:
            merged.append((low, high))
    return merged


def compact(numbers: Sequence[int]) -> bytes:
    """Numbers as a sequence set, in the given order: [1, 2, 3, 7] -> b"1:3,7" (RFC 4315 COPYUID)."""
    parts: list[bytes] = []
    runs: list[list[int]] = []
    for value in numbers:
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    for start, end in runs:
        parts.append(b"%d" % start if start == end else b"%d:%d" % (start, end))
    return b",".join(parts)


# -- flags ------------------------------------------------------------------------------------------------


def flags(items: Sequence[object]) -> list[str]:
    """Flags from a flag list: system flags in their canonical case, keywords as atoms; \\Recent dropped
    (the server's to set, RFC 3501 2.3.2); an unknown \\Flag is a syntax error."""
    if len(items) > MAX_ITEMS:
        raise IllegalClientResponse(f"at most {MAX_ITEMS} flags per command")
    result = []
    for item in items:
        if not isinstance(item, bytes) or not item:
            raise IllegalClientResponse("a flag must be an atom")
        if item[:1] == b"\\":
            flag = _SYSTEM_BY_NAME.get(item.decode("ascii", "replace").upper())
            if flag is None:
                raise IllegalClientResponse(f"unknown system flag {item[:40].decode('ascii', 'replace')}")
            if flag != "\\Recent":
                result.append(flag)
        elif any(byte in _ATOM_SPECIALS or byte > 0x7E for byte in item):
            raise IllegalClientResponse("a keyword must be an atom")
        else:
            result.append(item.decode("ascii"))
    return result


def flag_list(line: bytes) -> list[str]:
    """STORE's flags: '(\\Seen $Work)' or '\\Seen $Work'."""
    line = line.strip()
    if line[:1] == b"(":
        if line[-1:] != b")":
            raise IllegalClientResponse("unbalanced parentheses in flag list")
        line = line[1:-1]
    return flags([item for item in line.split(b" ") if item])


# -- STORE (RFC 3501 6.4.6, RFC 7162 3.1.3) ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoreArgs:
    mode: int  # 0 replace, 1 add, -1 remove
    silent: bool
    flags: list[str]
    unchanged_since: int | None


_STORE_MODES = {b"FLAGS": 0, b"+FLAGS": 1, b"-FLAGS": -1}


def store_args(line: bytes) -> StoreArgs:
    unchanged_since = None
    if line[:1] == b"(":
        end = line.find(b")")
        if end < 0:
            raise IllegalClientResponse("unbalanced parentheses in STORE modifiers")
        modifiers = line[1:end].split()
        line = line[end + 1 :].lstrip(b" ")
        if len(modifiers) != 2 or modifiers[0].upper() != b"UNCHANGEDSINCE":
            raise IllegalClientResponse("the only STORE modifier is UNCHANGEDSINCE n")
        unchanged_since = number(modifiers[1], "mod-sequence")
    mode_name, _, rest = line.partition(b" ")
    mode_name = mode_name.upper()
    silent = mode_name.endswith(b".SILENT")
    mode = _STORE_MODES.get(mode_name.removesuffix(b".SILENT"))
    if mode is None:
        raise IllegalClientResponse("STORE takes FLAGS, +FLAGS or -FLAGS (optionally .SILENT)")
    return StoreArgs(mode, silent, flag_list(rest), unchanged_since)


# -- SELECT/EXAMINE parameters (RFC 4466 2.1, RFC 7162 3.1.8) ---------------------------------------------


# -- FETCH (RFC 3501 6.4.5, 9; RFC 7162 3.1.4) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Section:
    part: tuple[int, ...]  # 0-based part numbers, () for the whole message
    spec: str  # "", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT", "MIME"
    fields: tuple[bytes, ...] = ()

    def label(self) -> bytes:
        text = b".".join(b"%d" % (n + 1) for n in self.part)
        if self.spec:
            text += (b"." if text else b"") + self.spec.encode()
        if self.fields:
            text += b" (" + b" ".join(self.fields) + b")"
        return text


@dataclass(frozen=True, slots=True)
class FetchItem:
    # ENVELOPE FLAGS INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ...,
    # and BINARY, BINARY.SIZE (RFC 3516)
    name: str
    section: Section | None = None  # BODY[...] / BODY.PEEK[...], BINARY[...] / BINARY.PEEK[...], BINARY.SIZE[...]
    peek: bool = False
    partial: tuple[int, int] | None = None

    @property
    def sets_seen(self) -> bool:
        content = self.section is not None and not self.peek and self.name != "BINARY.SIZE"
        return content or self.name in ("RFC822", "RFC822.TEXT")

    def label(self) -> bytes:
        """The item's name in the response (RFC 3501 7.4.2: PEEK is not echoed; a partial shows its origin)."""
        if self.section is None:
            return self.name.encode()
        origin = b"" if self.partial is None else b"<%d>" % self.partial[0]
        return self.name.encode() + b"[" + self.section.label() + b"]" + origin


_SIMPLE = (
    *("ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822", "RFC822.HEADER", "RFC822.SIZE", "RFC822.TEXT"),
    *("BODY", "BODYSTRUCTURE", "UID", "MODSEQ"),
    *("EMAILID", "THREADID", "SAVEDATE"),  # RFC 8474 5, RFC 8514 3
)
_MACROS = {
    "ALL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"),
    "FAST": ("FLAGS", "INTERNALDATE", "RFC822.SIZE"),
    "FULL": ("FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"),
}
_BODY_ITEM = re.compile(rb"(BODY|BINARY)(\.PEEK)?\[([^\]]*)\](?:<([0-9]{1,10})\.([0-9]{1,10})>)?", re.I)
_BINARY_SIZE = re.compile(rb"BINARY\.SIZE\[([^\]]*)\]", re.I)
_SECTION_PART = re.compile(rb"(?:[1-9][0-9]{0,4}(?:\.[1-9][0-9]{0,4})*)?")
_PART = re.compile(rb"[1-9][0-9]{0,4}")


def _section(text: bytes) -> Section:
    """section-spec (RFC 3501 9): part numbers, then HEADER, HEADER.FIELDS[.NOT] (names), TEXT or MIME."""
    fields: tuple[bytes, ...] = ()
    if b"(" in text:
        head, _, names = text.partition(b"(")
        if not names.endswith(b")") or not head.endswith(b" "):
            raise IllegalClientResponse("malformed header list")
        fields = tuple(name for name in names[:-1].split(b" ") if name)
        if len(fields) > MAX_ITEMS:
            raise IllegalClientResponse(f"at most {MAX_ITEMS} header field names per section")
        if not fields or any(not n.isascii() or any(b in _ATOM_SPECIALS for b in n) for n in fields):
            raise IllegalClientResponse("malformed header field names")
        text = head[:-1]
    pieces = text.split(b".") if text else []
    part: list[int] = []
    while pieces and _PART.fullmatch(pieces[0]):
        part.append(int(pieces.pop(0)) - 1)
    spec = ".".join(piece.decode("ascii", "replace").upper() for piece in pieces)
    valid = ("", "HEADER", "HEADER.FIELDS", "HEADER.FIELDS.NOT", "TEXT") + (("MIME",) if part else ())
    if spec not in valid or bool(fields) != spec.startswith("HEADER.FIELDS"):
        raise IllegalClientResponse(f"bad section [{text[:40].decode('ascii', 'replace')}]")
    return Section(tuple(part), spec, fields)


def _binary_section(text: bytes) -> Section:
    """section-binary (RFC 3516 4.2): part numbers only, or nothing for the whole message."""
    if not _SECTION_PART.fullmatch(text):
        raise IllegalClientResponse(f"bad binary section [{text[:40].decode('ascii', 'replace')}]")
    return Section(tuple(int(n) - 1 for n in text.split(b".")) if text else (), "")


def _fetch_items(text: bytes) -> list[FetchItem]:
    items: list[FetchItem] = []
    position = 0
    while position < len(text):
        if text[position : position + 1] == b" ":
            position += 1
            continue
        body = _BODY_ITEM.match(text, position)
        if body is not None:
            partial = None
            if body.group(4) is not None:
                partial = (int(body.group(4)), int(body.group(5)))
                if partial[1] == 0:
                    raise IllegalClientResponse("a partial fetch needs a length of at least 1")
            name = body.group(1).upper().decode()
            section = _section(body.group(3)) if name == "BODY" else _binary_section(body.group(3))
            items.append(FetchItem(name, section, bool(body.group(2)), partial))
            position = body.end()
            continue
        size = _BINARY_SIZE.match(text, position)
        if size is not None:
            items.append(FetchItem("BINARY.SIZE", _binary_section(size.group(1))))
            position = size.end()
            continue
        end = text.find(b" ", position)
        end = len(text) if end < 0 else end
        name = text[position:end].decode("ascii", "replace").upper()
        if name not in _SIMPLE:
            raise IllegalClientResponse(f"unknown FETCH item {name[:40]}")
        items.append(FetchItem(name))
        position = end
        if len(items) > MAX_ITEMS:
            raise IllegalClientResponse(f"at most {MAX_ITEMS} FETCH items per command")
    return items


@dataclass(frozen=True, slots=True)
class FetchArgs:
    items: list[FetchItem]
    changed_since: int | None
    vanished: bool = False  # UID FETCH ... (CHANGEDSINCE n VANISHED), RFC 7162 3.2.6


_MODIFIER = rb"(?:CHANGEDSINCE [0-9]{1,20}|VANISHED)"
_FETCH_MODIFIERS = re.compile(rb"\s\((" + _MODIFIER + rb"(?: " + _MODIFIER + rb")?)\)$", re.I)


def fetch_args(line: bytes) -> FetchArgs:
    """fetch-att list (or a macro) and the optional modifiers (CHANGEDSINCE n) (RFC 7162 3.1.4) and VANISHED
    (RFC 7162 3.2.6: only with CHANGEDSINCE)."""
    line = line.strip()
    changed_since, vanished = None, False
    modifiers = _FETCH_MODIFIERS.search(line)
    if modifiers is not None:
        words = modifiers.group(1).upper().split()
        vanished = b"VANISHED" in words
        if words.count(b"VANISHED") > 1 or b"CHANGEDSINCE" not in words:
            raise IllegalClientResponse("VANISHED needs CHANGEDSINCE, once")
        changed_since = int(words[words.index(b"CHANGEDSINCE") + 1])
        line = line[: modifiers.start()]
    if line[:1] == b"(":
        if line[-1:] != b")":
            raise IllegalClientResponse("unbalanced parentheses in FETCH items")
        items = _fetch_items(line[1:-1])
    elif line.upper().decode("ascii", "replace") in _MACROS:
        items = [FetchItem(name) for name in _MACROS[line.upper().decode()]]
    else:
        items = _fetch_items(line)
    if not items:
        raise IllegalClientResponse("FETCH needs at least one item")
    return FetchArgs(items, changed_since, vanished)


# -- LIST-EXTENDED (RFC 5258, RFC 6154 SPECIAL-USE, RFC 5819 LIST-STATUS) and STATUS items ----------------------

STATUS_ITEMS = (
    *("MESSAGES", "RECENT", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "APPENDLIMIT"),
    *("SIZE", "DELETED", "MAILBOXID"),  # RFC 8438, RFC 9051 6.3.11, RFC 8474 4
)
LIST_SELECT = frozenset({"SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"})
LIST_RETURN = frozenset({"SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS"})


def status_items(value: object) -> tuple[str, ...]:
    """A parenthesised list of STATUS data items (RFC 3501 6.3.10), upper case."""
    if not isinstance(value, list) or not value or not all(isinstance(item, bytes) for item in value):
        raise IllegalClientResponse("STATUS needs a parenthesised list of items")
    wanted = tuple(item.decode("ascii", "replace").upper() for item in value)
    if any(item not in STATUS_ITEMS for item in wanted):
        raise IllegalClientResponse(f"STATUS items must be among {' '.join(STATUS_ITEMS)}")
    return wanted


@dataclass(frozen=True)
class ListOptions:
    """What an extended LIST asks for: selection options, return options and LIST-STATUS items."""

    select: frozenset[str] = frozenset()
    returns: frozenset[str] = frozenset()
    status: tuple[str, ...] = ()


def list_options(select: list[bytes] | None, tail: Sequence[object]) -> ListOptions:
    """Selection options (already split) and what follows the patterns: nothing, or RETURN (options)."""
    chosen = frozenset(option.decode("ascii", "replace").upper() for option in select or [])
    if chosen - LIST_SELECT:
        raise IllegalClientResponse(f"LIST selection options are {' '.join(sorted(LIST_SELECT))}")
    if "RECURSIVEMATCH" in chosen and not chosen - {"RECURSIVEMATCH", "REMOTE"}:
        raise IllegalClientResponse("RECURSIVEMATCH needs another selection option (RFC 5258 3)")
    if not tail:
        return ListOptions(chosen)
    if (
        len(tail) != 2
        or not isinstance(tail[0], bytes)
        or tail[0].upper() != b"RETURN"
        or not isinstance(tail[1], list)
    ):
        raise IllegalClientResponse("after the patterns only RETURN (options) may follow")
    returns: set[str] = set()
    status: tuple[str, ...] = ()
    options = list(tail[1])
    while options:
        option = options.pop(0)
        name = option.decode("ascii", "replace").upper() if isinstance(option, bytes) else ""
        if name not in LIST_RETURN:
            raise IllegalClientResponse(f"LIST return options are {' '.join(sorted(LIST_RETURN))}")
        if name == "STATUS":
            status = status_items(options.pop(0) if options else None)
        returns.add(name)
    return ListOptions(chosen, frozenset(returns), status)
