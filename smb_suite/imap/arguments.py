"""Argument parsers for the command tuples, with literals done right (RFC 3501 4.3, RFC 7888 LITERAL+).

twisted calls each parser as `parser(server, line)` and expects `(value, rest of line)`, or a Deferred of it
when the value arrives as a literal (trap 3 in the package docstring): they are plain functions of the server,
typed by what they use of it (`LiteralReader`). Differences from twisted's own parsers: quoted strings honour escapes,
`{n+}` literals need no continuation request, and a literal over its limit is refused before its octets are
read when the client waits for our go-ahead, or read and thrown away when it does not (RFC 7888 4), so the
octets are never taken for commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any, Protocol, TypeVar

from twisted.internet.defer import Deferred
from twisted.mail.imap4 import IllegalClientResponse, LiteralFile, LiteralString

from smb_suite.imap import syntax
from smb_suite.imap.errors import MessageTooBig
from smb_suite.imap.search import Literal, SearchSyntaxError, tokenize

STRING_LIMIT = 64 * 1024  # literal astrings (names, passwords, search terms); twisted's own limit is 4 KiB
MAX_SEARCH_LITERALS = 100  # literal search strings of one command (each up to STRING_LIMIT octets)
MAX_APPEND_MESSAGES = 1000  # messages of one MULTIAPPEND
MAX_APPEND_OCTETS = 4  # a MULTIAPPEND carries at most 4 x APPENDLIMIT octets in all (each message at most 1 x)
_DATE_TIME = re.compile(rb'"([^"]*)"(?: |$)')
T = TypeVar("T")
Parsed = tuple[T, bytes] | Deferred[tuple[T, bytes]]  # a value and the rest of the line, now or once read


class _Discard:
    """A literal we refused but whose octets are on their way: read them, keep nothing."""

    def __init__(self, size: int, deferred: Deferred[Any]) -> None:
        self.size = size
        self.defer = deferred

    def write(self, data: bytes) -> bytes | None:
        self.size -= len(data)
        if self.size > 0:
            return None
        return data[len(data) + self.size :] if self.size else b""

    def callback(self, line: bytes) -> None:
        self.defer.callback((None, line))


LiteralReceiver = LiteralFile | LiteralString | _Discard  # twisted's pending literal: write() then callback()


def _after_literal(got: tuple[Any, bytes]) -> tuple[Any, bytes]:
    value, rest = got
    return value, rest[1:] if rest.startswith(b" ") else rest


class LiteralReader(Protocol):
    """What the parsers need from the server: its APPENDLIMIT, and a way to take the next octets as a literal."""

    @property
    def append_limit(self) -> int: ...

    @property
    def utf8_accept(self) -> bool: ...  # ENABLE UTF8=ACCEPT was given (RFC 6855 3)

    def expect_literal(self, receiver: LiteralReceiver, continuation: bytes | None) -> None:
        """Read the next octets raw into `receiver`, after asking for them with `continuation` if given."""


def read_literal(
    server: LiteralReader, request: syntax.LiteralRequest, to_file: bool, limit: int, too_big: Exception
) -> Deferred[Any]:
    """A Deferred of (octets or file, rest of the line); `too_big` is raised for a literal over `limit`."""
    if request.size > limit and request.sync:
        raise too_big
    if request.size > limit:

        def refuse(_: object) -> None:
            raise too_big

        return _discard(server, request).addCallback(refuse)
    deferred: Deferred[Any] = Deferred()
    receiver = (LiteralFile if to_file else LiteralString)(request.size, deferred)
    server.expect_literal(receiver, b"Ready for %d octets" % request.size if request.sync else None)
    return deferred.addCallback(_after_literal)


def _discard(server: LiteralReader, request: syntax.LiteralRequest) -> Deferred[Any]:
    """Read a refused non-synchronizing literal and keep nothing: a Deferred of (None, rest of the line)."""
    deferred: Deferred[Any] = Deferred()
    server.expect_literal(_Discard(request.size, deferred), None)
    return deferred.addCallback(_after_literal)


def _too_long() -> IllegalClientResponse:
    return IllegalClientResponse("literal too long")


def arg_astring(server: LiteralReader, line: bytes) -> Parsed[bytes]:
    value, rest = syntax.astring(line)
    if isinstance(value, syntax.LiteralRequest):
        return read_literal(server, value, False, STRING_LIMIT, _too_long())
    return value, rest


def arg_finalastring(server: LiteralReader, line: bytes) -> Parsed[bytes]:
    return arg_astring(server, line)


def arg_pattern(server: LiteralReader, line: bytes) -> Parsed[bytes]:
    """A LIST pattern: an astring that may hold '%' and '*' unquoted."""
    value, rest = syntax.astring(line, wildcards=True)
    if isinstance(value, syntax.LiteralRequest):
        return read_literal(server, value, False, STRING_LIMIT, _too_long())
    return value, rest


def arg_sequence(server: object, line: bytes | None) -> tuple[syntax.SequenceSet, bytes]:
    text, _, rest = (line or b"").partition(b" ")
    if text == b"$":  # RFC 5182 2.1
        return syntax.SAVED, rest
    return syntax.sequence_set(text), rest


def arg_line(server: object, line: bytes | None) -> tuple[bytes, bytes]:
    """The rest of the line, for commands that parse it themselves."""
    return line or b"", b""


def opt_flags(server: object, line: bytes) -> tuple[list[str], bytes]:
    """APPEND's optional flag list."""
    if not line.startswith(b"("):
        return [], line
    end = line.find(b")")
    if end < 0:
        raise IllegalClientResponse("unbalanced parentheses in flag list")
    return syntax.flag_list(line[: end + 1]), line[end + 1 :].lstrip(b" ")


def opt_date_time(server: object, line: bytes) -> tuple[bytes | None, bytes]:
    """APPEND's optional date-time (RFC 3501 9: always quoted)."""
    match = _DATE_TIME.match(line)
    if match is None:
        return None, line
    return match.group(1), line[match.end() :]


@dataclass(frozen=True, slots=True)
class AppendMessage:
    """One message of an APPEND: flags, internal date as given, and the literal (a file when large)."""

    flags: list[str]
    date: bytes | None
    message: IO[bytes]
    size: int


def arg_messages(
    server: LiteralReader, line: bytes, done: tuple[AppendMessage, ...] = (), refused: bool = False
) -> Any:
    """APPEND's messages: one or more `[flags] [date-time] literal` (MULTIAPPEND, RFC 3502 6), as a Deferred of
    (list, rest). A literal over APPENDLIMIT (or over what is left of MAX_APPEND_OCTETS) is refused before it is
    sent (RFC 7889, RFC 7888 4); a non-synchronizing one is read and thrown away with the rest of the command,
    which then fails as a whole (RFC 3502 6.3.11: none of the messages is kept). A message may come as
    `UTF8 (~{size}...)` once UTF8=ACCEPT is enabled (RFC 6855 4)."""
    flags, rest = opt_flags(server, line)
    date, rest = opt_date_time(server, rest)
    utf8 = syntax.UTF8_APPEND_LITERAL.fullmatch(rest.strip())
    if utf8 is not None and not server.utf8_accept:
        raise IllegalClientResponse("UTF8 messages need ENABLE UTF8=ACCEPT first")
    match = utf8 or syntax.APPEND_LITERAL.fullmatch(rest.strip())
    if match is None:
        raise IllegalClientResponse("APPEND needs each message as a literal {size}")
    if len(done) >= MAX_APPEND_MESSAGES:
        raise IllegalClientResponse(f"at most {MAX_APPEND_MESSAGES} messages per APPEND")
    request = syntax.LiteralRequest(int(match.group(1)), not match.group(2))
    left = MAX_APPEND_OCTETS * server.append_limit - sum(kept.size for kept in done)
    too_big = MessageTooBig(f"messages are limited to {server.append_limit} octets")
    refused = refused or request.size > min(server.append_limit, left)
    if refused and request.sync:
        _close(done)
        raise too_big
    reading = _discard(server, request) if refused else read_literal(server, request, True, request.size, too_big)

    def more(got: tuple[IO[bytes] | None, bytes]) -> Any:
        literal, after = got
        messages = done if literal is None else (*done, AppendMessage(flags, date, literal, request.size))
        try:
            if utf8 is not None:
                if not after.startswith(b")"):
                    raise IllegalClientResponse("a UTF8 message literal ends with ')'")
                after = after[1:]
            if after.strip():
                return arg_messages(server, after, messages, refused)
        except Exception:
            _close(messages)
            raise
        if refused:
            _close(messages)
            raise too_big
        return list(messages), b""

    return reading.addCallback(more)


def _close(messages: Iterable[AppendMessage]) -> None:
    for message in messages:
        message.message.close()


def arg_search(server: LiteralReader, line: bytes, pieces: tuple[bytes, ...] = ()) -> Parsed[list[Any]]:
    """Search keys; a literal ends a line and its octets arrive on their own (RFC 3501 4.3)."""
    match = syntax.LITERAL.search(line)
    if match is None:
        try:
            return tokenize([*pieces, line]), b""
        except SearchSyntaxError as exc:
            raise IllegalClientResponse(str(exc)) from exc
    head = line[: match.start()]
    if len(pieces) >= 2 * MAX_SEARCH_LITERALS:
        raise IllegalClientResponse(f"at most {MAX_SEARCH_LITERALS} literals per SEARCH")
    request = syntax.LiteralRequest(int(match.group(1)), not match.group(2))
    literal = read_literal(server, request, False, STRING_LIMIT, _too_long())
    return literal.addCallback(lambda got: arg_search(server, got[1], (*pieces, head, Literal(got[0]))))


def opt_atom(server: object, line: bytes | None) -> tuple[bytes | None, bytes]:
    """An optional last atom (AUTHENTICATE's initial response, RFC 4959)."""
    atom, _, rest = (line or b"").strip().partition(b" ")
    return (atom or None), rest
