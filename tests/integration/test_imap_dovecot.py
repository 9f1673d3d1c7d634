"""FETCH answers compared with a reference Dovecot (Debian dovecot-imapd, started privately by bench/dovecot.py):
the same tricky messages (tests/mimecorpus.py) are appended to both servers, and ENVELOPE, BODYSTRUCTURE, BODY,
HEADER.FIELDS, BODY[n] and RFC822.SIZE must be the same octets (strings compared whatever their quoted or literal
form), and SEARCH on addresses, headers and text finds the same messages. Where Dovecot and RFC 3501 disagree we
follow the RFC: those differences are listed in KNOWN, with why."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.dovecot import Dovecot
from tests.daemon import OWNER, OWNER_PASSWORD, Daemon
from tests.imapwire import Wire, untagged
from tests.mimecorpus import CORPUS

pytestmark = [
    pytest.mark.daemon(services=("smtp", "imap")),
    pytest.mark.skipif(os.geteuid() != 0, reason="Dovecot is started as root (it drops to its own users)"),
]

ITEMS = (
    "ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)] "
    "BODY.PEEK[HEADER.FIELDS (X-LAST)] BODY.PEEK[HEADER.FIELDS.NOT (DATE MESSAGE-ID)] BODY.PEEK[HEADER] "
    "BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[3] BODY.PEEK[1.1] BODY.PEEK[1.2] BODY.PEEK[2.MIME] "
    "BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1] BODY.PEEK[2.2] BODY.PEEK[1.MIME] BODY.PEEK[2.1.MIME] "
    "BODY.PEEK[2.2.1] BODY.PEEK[1.1.1] BODY.PEEK[2.1.HEADER] BODY.PEEK[1]<2.5>"
)

_STORED_LINE_ENDS = (
    "we serve the octets as stored, Dovecot rewrites every line end to CRLF; RFC822.SIZE and the sizes in "
    "BODYSTRUCTURE are those of what BODY[] sends (RFC 3501 2.3.4, 7.4.2)"
)
_CRLF_BEFORE_DELIMITER = (
    "RFC 2046 5.1.1: the CRLF before '--outer' belongs to that delimiter, so a nested multipart ends with its "
    "close delimiter; Dovecot counts that CRLF in the inner part"
)
# (message, item) -> why our answer differs from Dovecot's: RFC 3501 and the RFCs it cites win
KNOWN: dict[tuple[str, str], str] = {
    **{
        (message, item): _STORED_LINE_ENDS
        for message in ("cr_cr_lf", "bare_lf")
        for item in (
            "RFC822.SIZE",
            "BODY[1.MIME]",
            "BODYSTRUCTURE",
            "BODY",
            "BODY[HEADER]",
            "BODY[TEXT]",
            "BODY[1]",
            "BODY[HEADER.FIELDS (FROM SUBJECT)]",
            "BODY[HEADER.FIELDS.NOT (DATE MESSAGE-ID)]",
        )
    },
    ("nested_multipart", "BODY[1]"): _CRLF_BEFORE_DELIMITER,
    **{
        ("message_rfc822", item): _CRLF_BEFORE_DELIMITER
        for item in ("BODYSTRUCTURE", "BODY", "BODY[2]", "BODY[2.TEXT]")
    },
    **{
        ("odd_content_types", item): (
            "RFC 2045 5.2: an invalid Content-Type ('text' with no subtype) is taken as text/plain (Dovecot sends "
            'subtype ""); RFC 2231 extended parameters are sent decoded (Dovecot sends them as written)'
        )
        for item in ("BODYSTRUCTURE", "BODY")
    },
    **{
        ("no_blank_line", item): (
            "RFC 3501 6.4.5: the blank line is in all header fetches except for a message with no body and no "
            "blank line; Dovecot adds one to HEADER.FIELDS (not to HEADER.FIELDS.NOT or HEADER)"
        )
        for item in ("BODY[HEADER.FIELDS (FROM SUBJECT)]", "BODY[HEADER.FIELDS (X-LAST)]")
    },
    ("long_folded_headers", "ENVELOPE"): (
        "RFC 5322 2.2.3: unfolding removes the CRLF and keeps the tab that follows; Dovecot turns the tab into a space"
    ),
}


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    with tempfile.TemporaryDirectory(prefix="dovecot-") as folder:
        os.chmod(folder, 0o755)  # Dovecot's auth and mail processes are not root
        reference = Dovecot(Path(folder), OWNER, OWNER_PASSWORD, connections=10)
        try:
            yield reference
        finally:
            reference.stop()


_QUOTED = re.compile(rb'"((?:[^"\\]|\\.)*)"')
_LITERAL = re.compile(rb"\{(\d+)\}\r\n")
_ATOM_END = re.compile(rb"[ )]")


def canonical(raw: bytes) -> bytes:
    """A value with each string in one form (quoted when printable ASCII, else a literal), spacing kept."""
    out, at = [], 0
    while at < len(raw):
        if (quoted := _QUOTED.match(raw, at)) is not None:
            text, at = re.sub(rb"\\(.)", rb"\1", quoted.group(1)), quoted.end()
        elif (literal := _LITERAL.match(raw, at)) is not None:
            start = literal.end()
            text, at = raw[start : start + int(literal.group(1))], start + int(literal.group(1))
        else:
            out.append(raw[at : at + 1])
            at += 1
            continue
        printable = all(0x20 <= octet < 0x7F for octet in text)
        out.append(
            b'"' + text.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"' if printable else b"{%d}" % len(text)
        )
        out.append(b"" if printable else b"\r\n" + text)
    return b"".join(out)


def _value_end(raw: bytes, at: int) -> int:
    """Where the value starting at `at` ends: an atom, a string, a literal or a parenthesised list."""
    depth = 0
    while True:
        if (quoted := _QUOTED.match(raw, at)) is not None:
            at = quoted.end()
        elif (literal := _LITERAL.match(raw, at)) is not None:
            at = literal.end() + int(literal.group(1))
        elif raw[at : at + 1] == b"(":
            depth, at = depth + 1, at + 1
        elif raw[at : at + 1] == b")":
            depth, at = depth - 1, at + 1
        elif depth:
            at += 1
            continue
        else:
            found = _ATOM_END.search(raw, at)
            at = found.start() if found else len(raw)
        if depth == 0:
            return at


def fetch_items(response: bytes) -> dict[str, bytes]:
    """`* n FETCH (NAME value ...)` as {NAME: canonical value}; section names upper-cased."""
    at = response.index(b"FETCH (") + len(b"FETCH (")
    items = {}
    while response[at : at + 1] not in (b")", b""):
        name_end = re.compile(rb"(?:\[[^\]]*\](?:<\d+>)?|[^ \[])* ").match(response, at)
        assert name_end is not None, response[at:]
        name = response[at : name_end.end() - 1].decode().upper()
        end = _value_end(response, name_end.end())
        items[name] = canonical(response[name_end.end() : end])
        at = end + 1 if response[end : end + 1] == b" " else end
    return items


SEARCHES = [
    'FROM "user-from@domain.org"',
    'HEADER REPLY-TO "Reply Person"',
    'HEADER SENDER "john@example.org"',
    'CC "b@example.org"',
    'CC "Bee, B."',
    "TO undisclosed",
    'CC "John Q. Public"',
    "CHARSET UTF-8 FROM {6+}\r\nZo\xc3\xa9 M",
    'SUBJECT "second subject"',
    'HEADER X-Last "selected"',
    'BODY "second line"',
    'TEXT "inner text"',
]


def answers(port: int) -> tuple[dict[str, dict[str, bytes]], dict[str, bytes]]:
    """Every message of the corpus appended to a new folder, then fetched and searched: {message: {item: value}}
    and {search keys: response}."""
    with Wire(port) as wire:
        wire.command("DELETE Corpus")
        wire.ok("CREATE Corpus")
        for message in CORPUS.values():
            wire.append("Corpus", message)
        wire.ok("EXAMINE Corpus")
        lines = untagged(wire.ok(f"FETCH 1:* ({ITEMS})"), b"FETCH")
        searches = {keys: untagged(wire.ok(f"SEARCH {keys}".encode("latin-1")), b"SEARCH")[0] for keys in SEARCHES}
    return {name: fetch_items(line) for name, line in zip(CORPUS, lines, strict=True)}, searches


def test_fetch_and_search_answers_match_dovecot_on_a_corpus_of_tricky_messages(
    server: Daemon, dovecot: Dovecot
) -> None:
    (ours, our_searches), (theirs, their_searches) = answers(server.ports["imap"]), answers(dovecot.port)
    differences = []
    for message, items in theirs.items():
        for item, value in items.items():
            if (message, item) in KNOWN:
                continue
            if ours[message].get(item) != value:
                differences.append(f"{message} {item}:\n  ours:    {ours[message].get(item)!r}\n  dovecot: {value!r}")
    differences += [
        f"SEARCH {keys}: ours {our_searches[keys]!r}, dovecot {answer!r}"
        for keys, answer in their_searches.items()
        if our_searches[keys] != answer
    ]
    assert not differences, "\n".join(differences)
    assert b"* SEARCH" not in their_searches.values(), their_searches  # each search finds something
