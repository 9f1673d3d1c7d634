"""SEARCH (RFC 3501 6.4.4, RFC 7162 3.1.5 MODSEQ) over the index and the parsed messages, run in a thread.

twisted's own search compares str with bytes on Python 3 (SUBJECT, FROM, HEADER never match) and cannot
take literals, so the server hands us the raw argument pieces; this module tokenises, compiles the keys
into one predicate and evaluates it. Flags, sizes, dates and mod-sequences come from the index; SUBJECT,
FROM, TO, CC, BCC and SENT* from the stored summaries (mail/summary.py) when the message has one; only BODY,
TEXT and other HEADER fields read the message file. Pure: no twisted, no storage calls.
"""

from __future__ import annotations

import bisect
import datetime
import email
import email.policy
import email.utils
import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from smb_suite.errors import InvalidInput
from smb_suite.mail import mime
from smb_suite.mail.summary import SEARCH_FIELDS, SearchText, search_values

Token = bytes | list["Token"]
MAX_DEPTH = 100  # nested parentheses, NOT and OR: deeper is BAD (no RecursionError, bounded evaluation)
MAX_KEYS = 1000  # search keys of one command
_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))', re.S)


class SearchSyntaxError(InvalidInput):
    """The search keys do not follow RFC 3501 6.4.4 (answered with BAD)."""


class Literal(bytes):
    """A search argument that arrived as a literal (already one token)."""


class HeaderCache:
    """Decoded values of header fields the summaries lack, by field and UID, kept with the folder's state once a
    HEADER search asked for them (as Dovecot adds a field to its cache when a search uses it): a stored
    message's header never changes, so only new messages are read by the next search on that field."""

    FIELDS = 8  # the fields searched most recently; an older one is dropped

    def __init__(self) -> None:
        self._fields: dict[str, dict[int, list[str]]] = {}

    def field(self, name: str) -> dict[int, list[str]]:
        values = self._fields.pop(name, None)
        if values is None:
            values = {}
            while len(self._fields) >= self.FIELDS:
                del self._fields[next(iter(self._fields))]
        self._fields[name] = values  # now the most recently used
        return values


@dataclass
class Candidate:
    """What a search looks at for one message: index data now, content only when a key needs it."""

    seq: int
    uid: int
    flags: frozenset[str]
    size: int
    internaldate: int
    path: Path | str
    modseq: int = 0
    text: SearchText | None = None
    headers: HeaderCache | None = None
    email_id: str = ""  # RFC 8474 EMAILID and RFC 8514 save date, read when a key needs them
    saved_at: int | None = None
    _message: EmailMessage | None = field(default=None, repr=False)
    _header: bytes | None = field(default=None, repr=False)
    _raw: bytes = field(default=b"", repr=False)

    def message(self) -> EmailMessage:
        if self._message is None:
            try:
                with open(self.path, "rb") as handle:
                    self._raw = handle.read()
            except FileNotFoundError:  # expunged meanwhile: matches no content key
                self._raw = b""
            parsed = email.message_from_bytes(self._raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self._message = parsed
        return self._message

    def header_values(self, name: str) -> list[str]:
        name = name.lower()
        if self.text is not None and name in SEARCH_FIELDS:
            value = self.text.field(name)
            return [value] if value else []
        cached = None if self.headers is None else self.headers.field(name)
        if cached is not None and self.uid in cached:
            return cached[self.uid]
        header = self.header()
        values = search_values(name, mime.raw_field_values(header, name))
        if cached is not None and header:
            cached[self.uid] = values
        return values

    def header(self) -> bytes:
        """The message's header, read once (empty once expunged)."""
        if self._header is None:
            self._header = _read_header(self.path)
        return self._header

    def body_text(self) -> str:
        texts = []
        for part in self.message().walk():
            if part.get_content_maintype() != "text":
                continue
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError, AssertionError):
                payload = part.get_payload(decode=True)
                texts.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else "")
        return "\n".join(texts)

    def full_text(self) -> str:
        self.message()
        header = re.split(rb"\r?\n\r?\n", self._raw, maxsplit=1)[0]
        return header.decode("utf-8", "replace") + "\n" + self.body_text()


Predicate = Callable[[Candidate], bool]
HEADER_READ = 64 * 1024


def _read_header(path: Path | str) -> bytes:
    """Only the header of the message file (a HEADER key needs no more)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_READ)
    except FileNotFoundError:
        return b""
    split = mime.body_offset(head)
    return head if split is None else head[:split]


def tokenize(pieces: Iterable[bytes]) -> list[Token]:
    """Atoms, quoted strings and literals as bytes; parentheses as nested lists."""
    stack: list[list[Token]] = [[]]
    for piece in pieces:
        if isinstance(piece, Literal):
            stack[-1].append(bytes(piece))
            continue
        position = 0
        while piece[position:].strip():
            match = _TOKEN.match(piece, position)
            if match is None:
                raise SearchSyntaxError("unbalanced quotes in search keys")
            position = match.end()
            opening, closing, quoted, atom = match.groups()
            if opening:
                if len(stack) > MAX_DEPTH:
                    raise SearchSyntaxError(f"search keys are nested more than {MAX_DEPTH} deep")
                stack.append([])
            elif closing:
                if len(stack) == 1:
                    raise SearchSyntaxError("unbalanced parentheses in search keys")
                inner = stack.pop()
                stack[-1].append(inner)
            elif quoted is not None:
                stack[-1].append(re.sub(rb"\\(.)", rb"\1", quoted))
            else:
                stack[-1].append(atom)
    if len(stack) != 1:
        raise SearchSyntaxError("unbalanced parentheses in search keys")
    return stack[0]


def _text(token: Token) -> str:
    if not isinstance(token, bytes):
        raise SearchSyntaxError("expected a string, not a list")
    return token.decode("utf-8", "replace")


def _date(token: Token) -> datetime.date:
    try:
        return datetime.datetime.strptime(_text(token).strip('"'), "%d-%b-%Y").date()
    except ValueError as exc:
        raise SearchSyntaxError(f"bad date {_text(token)!r}") from exc


def _number(token: Token) -> int:
    text = _text(token)
    if not text.isdigit():
        raise SearchSyntaxError(f"expected a number, not {text!r}")
    return int(text)


def sequence_set(text: str, last: int) -> Callable[[int], bool]:
    """RFC 3501 9 sequence-set with '*' meaning `last`; a membership test in O(log ranges)."""
    ranges: list[tuple[int, int]] = []
    try:
        for item in text.split(","):
            low, _, high = item.partition(":")
            bounds = [last if bound == "*" else int(bound) for bound in (low, high or low)]
            if min(bounds) < 1 and "*" not in item:
                raise ValueError(item)
            ranges.append((min(bounds), max(bounds)))
    except ValueError as exc:
        raise SearchSyntaxError(f"bad sequence set {text[:40]!r}") from exc
    ranges.sort()
    lows: list[int] = []
    highs: list[int] = []
    for start, end in ranges:  # merged: disjoint and sorted
        if highs and start <= highs[-1] + 1:
            highs[-1] = max(highs[-1], end)
        else:
            lows.append(start)
            highs.append(end)

    def contains(number: int) -> bool:
        index = bisect.bisect_right(lows, number) - 1
        return index >= 0 and number <= highs[index]

    return contains


def _contains(needle: str, haystacks: Iterable[str]) -> bool:
    wanted = needle.casefold()
    return any(wanted in hay.casefold() for hay in haystacks)


def _sent_date(candidate: Candidate) -> datetime.date | None:
    if candidate.text is not None:
        day = candidate.text.sent_day
        return None if day is None else datetime.date.fromordinal(day)
    for value in candidate.header_values("date"):
        try:
            return email.utils.parsedate_to_datetime(value).date()
        except (TypeError, ValueError):
            return None
    return None


def _day(seconds: int) -> datetime.date:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).date()


_FLAG_KEYS = {
    "ANSWERED": ("\\Answered", True),
    "DELETED": ("\\Deleted", True),
    "DRAFT": ("\\Draft", True),
    "FLAGGED": ("\\Flagged", True),
    "SEEN": ("\\Seen", True),
    "UNANSWERED": ("\\Answered", False),
    "UNDELETED": ("\\Deleted", False),
    "UNDRAFT": ("\\Draft", False),
    "UNFLAGGED": ("\\Flagged", False),
    "UNSEEN": ("\\Seen", False),
}
_RECENT_KEYS = {"RECENT": (True, False), "NEW": (True, True), "OLD": (False, False)}  # (\Recent, and unseen)
_ADDRESS_KEYS = ("BCC", "CC", "FROM", "TO", "SUBJECT")
_DATE_KEYS: dict[str, Callable[[datetime.date, datetime.date], bool]] = {
    "BEFORE": lambda day, ref: day < ref,
    "ON": lambda day, ref: day == ref,
    "SINCE": lambda day, ref: day >= ref,
}


def compile_keys(
    tokens: Sequence[Token], last_seq: int, last_uid: int, saved: frozenset[int] = frozenset()
) -> Predicate:
    """All keys must match (RFC 3501 6.4.4: a list of keys is their intersection). At most MAX_KEYS keys,
    nested (parentheses, NOT, OR) at most MAX_DEPTH deep: more is a SearchSyntaxError (BAD). `saved`: the
    UIDs "$" names (RFC 5182)."""
    return _Compiler(last_seq, last_uid, saved).keys(tokens, 0)


class _Compiler:
    def __init__(self, last_seq: int, last_uid: int, saved: frozenset[int]) -> None:
        self.last_seq = last_seq
        self.last_uid = last_uid
        self.saved = saved
        self.count = 0

    def keys(self, tokens: Sequence[Token], depth: int) -> Predicate:
        queue = deque(tokens)
        if not queue:
            raise SearchSyntaxError("missing search keys")
        predicates = []
        while queue:
            predicates.append(self.one(queue, depth))
        if len(predicates) == 1:
            return predicates[0]
        return lambda candidate: all(predicate(candidate) for predicate in predicates)

    def one(self, queue: deque[Token], depth: int) -> Predicate:
        if depth > MAX_DEPTH:
            raise SearchSyntaxError(f"search keys are nested more than {MAX_DEPTH} deep (NOT, OR, parentheses)")
        self.count += 1
        if self.count > MAX_KEYS:
            raise SearchSyntaxError(f"at most {MAX_KEYS} search keys per command")
        return _compile_one(queue, self, depth)


def _compile_one(queue: deque[Token], compiler: _Compiler, depth: int) -> Predicate:
    if not queue:
        raise SearchSyntaxError("a search key is missing")
    last_seq, last_uid = compiler.last_seq, compiler.last_uid
    token = queue.popleft()
    if isinstance(token, list):
        return compiler.keys(token, depth + 1)

    def argument() -> Token:
        if not queue:
            raise SearchSyntaxError(f"{key} needs an argument")
        return queue.popleft()

    key = token.decode("ascii", "replace").upper()
    if key[:1].isdigit() or key[:1] == "*":
        in_set = sequence_set(key, last_seq)
        return lambda c: in_set(c.seq)
    if key == "ALL":
        return lambda c: True
    if key in _RECENT_KEYS:  # RFC 3501 6.4.4: a candidate's flags include \Recent where the session shows it
        recent, unseen = _RECENT_KEYS[key]
        return lambda c: ("\\Recent" in c.flags) == recent and (not unseen or "\\Seen" not in c.flags)
    if key in _FLAG_KEYS:
        flag, present = _FLAG_KEYS[key]
        return lambda c: (flag in c.flags) == present
    if key in ("KEYWORD", "UNKEYWORD"):
        keyword, present = _text(argument()), key == "KEYWORD"
        return lambda c: (keyword in c.flags) == present
    if key in _ADDRESS_KEYS:
        needle = _text(argument())
        return lambda c: _contains(needle, c.header_values(key.lower()))
    if key == "HEADER":
        name, needle = _text(argument()), _text(argument())
        return lambda c: _contains(needle, c.header_values(name)) if needle else bool(c.header_values(name))
    if key == "BODY":
        needle = _text(argument())
        return lambda c: _contains(needle, [c.body_text()])
    if key == "TEXT":
        needle = _text(argument())
        return lambda c: _contains(needle, [c.full_text()])
    if key in ("LARGER", "SMALLER"):
        size, larger = _number(argument()), key == "LARGER"
        return lambda c: c.size > size if larger else c.size < size
    if key in _DATE_KEYS:
        compare, day = _DATE_KEYS[key], _date(argument())
        return lambda c: compare(_day(c.internaldate), day)
    if key.startswith("SENT") and key[4:] in _DATE_KEYS:
        compare, day = _DATE_KEYS[key[4:]], _date(argument())

        def sent(c: Candidate) -> bool:
            sent_on = _sent_date(c)
            return sent_on is not None and compare(sent_on, day)

        return sent
    if key.startswith("SAVED") and key[5:] in _DATE_KEYS:  # RFC 8514 4: the day the message was saved here
        compare, day = _DATE_KEYS[key[5:]], _date(argument())
        return lambda c: c.saved_at is not None and compare(_day(c.saved_at), day)
    if key == "SAVEDATESUPPORTED":  # RFC 8514 4: every folder keeps save dates
        return lambda c: True
    if key == "EMAILID":  # RFC 8474 6
        email_id = _text(argument())
        return lambda c: c.email_id == email_id
    if key == "THREADID":  # RFC 8474 6: no message has a THREADID here (FETCH says NIL)
        argument()
        return lambda c: False
    if key == "MODSEQ":  # RFC 7162 3.1.5: [entry-name entry-type] mod-sequence
        value = argument()
        if isinstance(value, bytes) and not value.isdigit():
            argument()  # entry type: flags are one entry for us
            value = argument()
        modseq = _number(value)
        return lambda c: c.modseq >= modseq
    if key == "$" or (key == "UID" and queue and queue[0] == b"$"):  # RFC 5182 2.1: the saved result
        if key == "UID":
            queue.popleft()
        saved = compiler.saved
        return lambda c: c.uid in saved
    if key == "UID":
        in_uids = sequence_set(_text(argument()), last_uid)
        return lambda c: in_uids(c.uid)
    if key == "NOT":
        inner = compiler.one(queue, depth + 1)
        return lambda c: not inner(c)
    if key == "OR":
        left = compiler.one(queue, depth + 1)
        right = compiler.one(queue, depth + 1)
        return lambda c: left(c) or right(c)
    raise SearchSyntaxError(f"unknown search key {key}")


def mentions(tokens: Sequence[Token], keys: Iterable[str]) -> bool:
    """Whether any token (at any depth) is one of `keys` (upper case): which data a search will need."""
    wanted = {key.encode() for key in keys}
    return any(mentions(token, keys) if isinstance(token, list) else token.upper() in wanted for token in tokens)


TEXT_KEYS = ("SUBJECT", "FROM", "TO", "CC", "BCC", "SENTBEFORE", "SENTON", "SENTSINCE")
IDENTITY_KEYS = ("EMAILID", "SAVEDBEFORE", "SAVEDON", "SAVEDSINCE")


def run(predicate: Predicate, candidates: Iterable[Candidate]) -> list[Candidate]:
    """Evaluate in a worker thread; the matching candidates, in order."""
    return [c for c in candidates if predicate(c)]
