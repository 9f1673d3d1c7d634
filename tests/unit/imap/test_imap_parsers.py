"""The IMAP front end's parsers on corpora from the RFCs and on arbitrary input: they answer or raise our errors."""

from __future__ import annotations

import contextlib
import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import InvalidInput, InvalidMailboxName
from smb_suite.imap import search, wire
from smb_suite.mail import mime

# RFC 3501 7.4.2: "a simple text message of 48 lines and 2279 octets" has this shape
RFC_MESSAGE = b"Subject: x\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n" + b"line\r\n" * 48
MULTIPART = (
    b'From: A <a@example.org>\r\nContent-Type: multipart/mixed; boundary="b1";\r\n\r\npreamble\r\n'
    b"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nfirst\r\n"
    b"--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
    b"--b1\r\nContent-Type: application/octet-stream; name*=utf-8''r%C3%A9sum%C3%A9.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--b1--\r\nepilogue\r\n"
)


def candidate(tmp_path: Path, seq: int, flags: set[str], subject: str, body: str) -> search.Candidate:
    path = tmp_path / f"m{seq}"
    path.write_bytes(f"Subject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\n{body}\r\n".encode())
    when = int(datetime.datetime(1994, 2, 8, tzinfo=datetime.UTC).timestamp())
    return search.Candidate(seq, seq * 10, frozenset(flags), 100 * seq, when, path)


def test_bodystructure_follows_the_rfc_3501_example() -> None:
    structure = wire.encode(mime.bodystructure(mime.parse(RFC_MESSAGE), False))
    assert structure.upper() == b'("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 288 48)'


def test_sections_are_the_stored_octets() -> None:
    root = mime.parse(MULTIPART)
    assert mime.section(root, [], "HEADER", [], False).endswith(b'boundary="b1";\r\n\r\n')
    assert mime.section(root, [0], "", [], False) == b"first"
    assert mime.section(root, [0], "MIME", [], False) == b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
    assert mime.section(root, [1], "HEADER", [], False) == b"Subject: inner\r\n\r\n"
    assert mime.section(root, [1, 0], "", [], False) == b"inner body"
    assert mime.section(root, [2], "", [], False) == b"AAAA"
    assert mime.section(root, [7], "", [], False) == b""
    assert mime.section(root, [], "HEADER.FIELDS", [b"FROM"], False) == b"From: A <a@example.org>\r\n\r\n"


def test_rfc_2231_parameters_are_decoded() -> None:
    structure = mime.bodystructure(mime.parse(MULTIPART), True)
    assert structure[0][2][2] == ["name", "résumé.pdf"]  # the parts come first, written without spaces


@pytest.mark.parametrize(
    ("keys", "expected"),
    [  # RFC 3501 6.4.4 examples, adapted to the three messages below
        (b'FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"', [1]),
        (b'TEXT "string not in mailbox"', []),
        (b'OR SUBJECT "hello" SUBJECT "news"', [1, 3]),
        (b"UNSEEN 2:*", [3]),
        (b"UID 20:*", [2, 3]),
        (b"(OR SEEN FLAGGED) LARGER 150", [2]),
        (b"HEADER subject NEWS BODY second", [3]),
        (b"SENTON 7-Feb-1994 BEFORE 9-Feb-1994", [1, 2, 3]),
    ],
)
def test_search_keys_from_the_rfc(tmp_path: Path, keys: bytes, expected: list[int]) -> None:
    messages = [
        candidate(tmp_path, 1, {"\\Flagged"}, "hello", "first"),
        candidate(tmp_path, 2, {"\\Seen"}, "weather", "nothing"),
        candidate(tmp_path, 3, set(), "News of the day", "second body"),
    ]
    predicate = search.compile_keys(search.tokenize([keys]), 3, 30)
    assert [c.seq for c in search.run(predicate, messages)] == expected


@pytest.mark.parametrize("keys", [b"", b"FROM", b"NOSUCHKEY", b"(SEEN", b"SEEN)", b'SUBJECT "open', b"SINCE 2/1/94"])
def test_malformed_search_keys_are_a_syntax_error(keys: bytes) -> None:
    with pytest.raises(search.SearchSyntaxError):
        search.compile_keys(search.tokenize([keys]), 3, 30)


@given(st.binary(max_size=2000))
def test_any_octets_parse_into_a_structure(data: bytes) -> None:
    root = mime.parse(data)
    wire.encode(mime.bodystructure(root, True))
    wire.encode(mime.envelope(root))
    assert mime.section(root, [], "", [], False) == data


@given(st.lists(st.sampled_from([b"--b", b"--b--", b"\r\n", b"Content-Type: multipart/mixed; boundary=b", b"x"])))
def test_nested_multiparts_never_raise(chunks: list[bytes]) -> None:
    data = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n" + b"".join(chunks)
    root = mime.parse(data)
    wire.encode(mime.bodystructure(root, True))
    mime.section(root, [0, 0, 0], "TEXT", [], False)


WORDS = [b"SUBJECT", b"OR", b"NOT", b"(", b")", b"1:*", b"UID", b"*", b'"x"', b"HEADER", b"0", b"SINCE", b"ALL"]


@given(st.binary(max_size=200) | st.lists(st.sampled_from(WORDS), max_size=12).map(b" ".join))
def test_search_keys_raise_only_syntax_errors(keys: bytes) -> None:
    with contextlib.suppress(search.SearchSyntaxError):
        search.compile_keys(search.tokenize([keys]), 5, 50)


@given(st.binary(max_size=60))
def test_folder_names_from_the_wire_raise_only_invalid_mailbox_name(raw: bytes) -> None:
    with contextlib.suppress(InvalidMailboxName):
        wire.decode_mailbox(raw)


@given(st.binary(max_size=40))
def test_append_dates_raise_only_invalid_input(raw: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        wire.parse_date_time(raw)


def test_append_date_follows_rfc_3501_syntax() -> None:
    assert wire.parse_date_time(b" 7-Feb-1994 21:52:25 -0800") == 760686745


# -- folder names under IMAP4rev2 (RFC 9051 5.1) and "$" (RFC 5182) ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "rev1", "rev2"),
    [
        ("INBOX", b'"INBOX"', b'"INBOX"'),
        ("Café&Co", b'"Caf&AOk-&-Co"', '"Café&Co"'.encode()),
        ('say "hi"\\', b'"say \\"hi\\"\\\\"', b'"say \\"hi\\"\\\\"'),
        ('Ünï "q"', b'"&ANw-n&AO8- \\"q\\""', '"Ünï \\"q\\""'.encode()),
    ],
)
def test_folder_names_are_modified_utf7_in_rev1_and_quoted_utf8_in_rev2(name: str, rev1: bytes, rev2: bytes) -> None:
    assert wire.MUTF7.encode(name) == rev1
    assert wire.UTF8.encode(name) == rev2
    assert wire.MUTF7.decode(rev1[1:-1].replace(b'\\"', b'"').replace(b"\\\\", b"\\")) == name
    assert wire.UTF8.decode(name.encode()) == name


def test_an_ampersand_is_an_ordinary_character_under_rev2() -> None:
    assert wire.UTF8.decode(b"A&AOk-") == "A&AOk-"
    assert wire.MUTF7.decode(b"A&AOk-") == "Aé"


@given(st.binary(max_size=60))
def test_rev2_folder_names_from_the_wire_raise_only_invalid_mailbox_name(raw: bytes) -> None:
    with contextlib.suppress(InvalidMailboxName):
        wire.UTF8.decode(raw)


def test_dollar_names_the_saved_search_result_and_matches_by_uid(tmp_path: Path) -> None:
    saved = frozenset({20, 40})
    matches = search.compile_keys(search.tokenize([b"$"]), 5, 50, saved)
    by_uid = search.compile_keys(search.tokenize([b"UID $ NOT 1"]), 5, 50, saved)
    messages = [candidate(tmp_path, seq, set(), "s", "b") for seq in (1, 2, 4)]
    for message, uid in zip(messages, (20, 30, 40), strict=True):
        message.uid = uid
    assert [m.seq for m in messages if matches(m)] == [1, 4]
    assert [m.seq for m in messages if by_uid(m)] == [4]
