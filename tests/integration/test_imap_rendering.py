"""FETCH rendering and SEARCH on the wire, each test from the RFC text it cites: HEADER.FIELDS and the blank line
(RFC 3501 6.4.5), folded parameters (RFC 5322 2.2.3), ENVELOPE groups (RFC 3501 7.4.2), the grammar of address
and body lists (RFC 3501 9), line counts, CR CR LF, odd encodings, comments in addresses for SEARCH FROM; and
messages whose stored summary was dropped (migration 0012) are rendered again and summarised once more."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

import pytest

from tests.daemon import Daemon
from tests.imapwire import Wire, untagged
from tests.integration.test_imap_rfc3501 import literal_of, new_folder
from tests.mimecorpus import CORPUS, crlf

pytestmark = pytest.mark.daemon(services=("smtp", "imap"))


def fetch(wire: Wire, folder: str, items: str) -> bytes:
    wire.ok(f"EXAMINE {folder}")
    return untagged(wire.ok(f"FETCH 1 ({items})"), b"FETCH")[0]


def test_header_fields_ending_with_the_last_header_have_exactly_one_blank_line(server: Daemon) -> None:
    """RFC 3501 6.4.5: HEADER.FIELDS is the subset of the header; the delimiting blank line is included once,
    "except in the case of a message which has no body and no blank line"."""
    with Wire(server) as wire:
        folder = new_folder(wire, crlf("From: a@x.test\nTo: b@x.test\nSubject: last\n\nbody\n"))
        response = fetch(wire, folder, "BODY.PEEK[HEADER.FIELDS (from subject)]")
        assert literal_of(response, b"BODY[HEADER.FIELDS (from subject)]") == crlf("From: a@x.test\nSubject: last\n\n")
        folder = new_folder(wire, crlf("From: a@x.test\nSubject: no body\n"))
        response = fetch(wire, folder, "BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
        assert literal_of(response, b"BODY[HEADER.FIELDS (SUBJECT)]") == b"Subject: no body\r\n"


def test_a_boundary_folded_inside_quotes_still_splits_the_multipart(server: Daemon) -> None:
    """RFC 5322 2.2.3: unfolding removes each CRLF before WSP, before the parameters are read (RFC 2045 5.1)."""
    with Wire(server) as wire:
        folder = new_folder(wire, CORPUS["folded_boundary"])
        response = fetch(wire, folder, "BODY.PEEK[1] BODY.PEEK[2] BODYSTRUCTURE")
        assert b"BODY[1] {5}\r\nfirst" in response or b'BODY[1] "first"' in response
        assert b'BODY[2] "<p>second</p>"' in response or b"BODY[2] {13}\r\n<p>second</p>" in response
        assert b'"7bit" 13 0 NIL NIL NIL NIL) "mixed" ("boundary" "foo bar") NIL NIL NIL)' in response


def test_envelope_keeps_group_syntax(server: Daemon) -> None:
    """RFC 3501 7.4.2: group syntax is a NIL host: (NIL NIL "group" NIL) starts it, (NIL NIL NIL NIL) ends it."""
    with Wire(server) as wire:
        folder = new_folder(wire, CORPUS["groups"])
        response = fetch(wire, folder, "ENVELOPE")
        assert b'((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))' in response
        assert (
            b'((NIL NIL "friends" NIL)(NIL NIL "a" "example.org")("Bee, B." NIL "b" "example.org")(NIL NIL NIL NIL)'
            b'(NIL NIL "solo" "example.org"))' in response
        )
        assert b'((NIL NIL "empty-group" NIL)(NIL NIL NIL NIL))' in response


def test_address_and_body_lists_have_no_space_between_parentheses(server: Daemon) -> None:
    """RFC 3501 9: env-to = "(" 1*address ")", body-type-mpart = 1*body SP media-subtype: no SP inside."""
    with Wire(server) as wire:
        folder = new_folder(wire, CORPUS["nested_multipart"], CORPUS["long_folded_headers"])
        structure = fetch(wire, folder, "BODYSTRUCTURE BODY")
        assert b") (" not in structure.split(b'"alternative"')[0]
        assert b'NIL NIL NIL NIL)("text" "html"' in structure
        assert b' "alternative" ("boundary" "inner") NIL NIL NIL)("application" "octet-stream"' in structure
        assert b'("attachment" ("filename" "data.bin")) ("en" "de") "http://example.org/data.bin")' in structure
        envelope = untagged(wire.ok("FETCH 2 (ENVELOPE)"), b"FETCH")[0]
        assert b'((NIL NIL "first" "example.org")(NIL NIL "second" "example.org")(NIL NIL "third" "example.org"))' in (
            envelope
        )


def test_comments_routes_and_damaged_addresses_in_the_envelope(server: Daemon) -> None:
    """RFC 5322 3.2.2: comments are not part of an address; RFC 5322 4.4 obs-route is the adl; a display name is
    the phrase as written (encoded words included). A missing mailbox or host is never NIL (that is a group)."""
    with Wire(server) as wire:
        folder = new_folder(wire, CORPUS["comments"], CORPUS["routes_and_odd_addresses"])
        envelope = fetch(wire, folder, "ENVELOPE")
        assert b'((NIL NIL "user-from" "domain.org")) (("John Doe" NIL "john" "example.org"))' in envelope
        assert b'(("Reply Person" NIL "reply" "example.org"))' in envelope
        assert b'(("Quoted \\"name\\"" NIL "q" "example.org")(NIL NIL "plain" "example.org"))' in envelope
        second = untagged(wire.ok("FETCH 2 (ENVELOPE)"), b"FETCH")[0]
        assert b'(("Router" "@relay1.example,@relay2.example" "user" "example.org"))' in second
        assert (
            b'((NIL NIL "nohost" "MISSING_DOMAIN")(NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")'
            b'("Only Name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))' in second
        )
        assert (
            b'(("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.de")("John Q. Public" NIL "jqp" "example.org"))' in second
        )


def test_line_counts_cr_cr_lf_and_odd_transfer_encodings(server: Daemon) -> None:
    """body-fld-lines counts line ends: a part's last line before a delimiter has none (RFC 2046 5.1.1); CR CR LF
    still ends header lines; "8 bit" is no mechanism (RFC 2045 6.1), so the part is 7bit; comments and quotes
    around a mechanism are not part of it."""
    with Wire(server) as wire:
        folder = new_folder(wire, CORPUS["part_without_crlf"], CORPUS["cr_cr_lf"], CORPUS["odd_encodings"])
        first = fetch(wire, folder, "BODYSTRUCTURE")
        assert b'"7bit" 8 0 NIL NIL NIL NIL)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 ' in first
        assert b'"7bit" 18 0 NIL NIL NIL NIL) "mixed"' in first
        second = untagged(wire.ok("FETCH 2 (ENVELOPE BODY.PEEK[TEXT])"), b"FETCH")[0]
        assert b'"CR CR LF" ((NIL NIL "a" "example.org"))' in second
        assert literal_of(second, b"BODY[TEXT]") == b"line one\r\r\nline two\r\r\n"
        third = untagged(wire.ok("FETCH 3 (BODYSTRUCTURE)"), b"FETCH")[0]
        encodings = [b'"7bit" 6 0', b'"BASE64" 4 0', b'"quoted-printable" 2 0', b'"x-uuencode" 2 0', b'"7bit" 6 0']
        for encoding in encodings:
            assert encoding in third


def test_search_from_finds_an_address_written_with_comments(server: Daemon) -> None:
    """RFC 3501 6.4.4 FROM: the address 'user-from@domain.org' is in From: <user-from (comment)@ (comment)
    domain.org>, whose comments are not part of it (RFC 5322 3.2.2)."""
    message = crlf("From: <user-from (comment)@ (comment) domain.org>\nSubject: commented\n\nbody\n")
    with Wire(server) as wire:
        folder = new_folder(wire, message, CORPUS["groups"])
        wire.ok(f"SELECT {folder}")
        assert untagged(wire.ok('SEARCH FROM "user-from@domain.org"'), b"SEARCH") == [b"* SEARCH 1"]
        assert untagged(wire.ok("SEARCH HEADER FROM user-from@domain"), b"SEARCH") == [b"* SEARCH 1"]
        assert untagged(wire.ok('SEARCH FROM "(comment)"'), b"SEARCH") == [b"* SEARCH 1"]  # as written, too
        assert untagged(wire.ok('SEARCH CC "Bee, B. <b@example.org>"'), b"SEARCH") == [b"* SEARCH 2"]


def test_messages_whose_summary_was_dropped_are_rendered_and_summarised_again(
    fresh_daemon: Callable[..., Daemon],
) -> None:
    """Migration 0012 drops the summaries kept at delivery (their rendering changed): FETCH renders those
    messages from their files, the same as new ones, and keeps the new summaries in the index."""
    daemon = fresh_daemon()
    with Wire(daemon) as wire:
        folder = new_folder(wire, CORPUS["groups"])
        before = fetch(wire, folder, "ENVELOPE BODYSTRUCTURE")
    daemon.stop()
    database = daemon.folder / "data" / "smb-suite.db"
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        assert conn.execute("DELETE FROM message_meta").rowcount >= 1
    daemon.start()
    with Wire(daemon) as wire:
        assert fetch(wire, folder, "ENVELOPE BODYSTRUCTURE") == before
    with contextlib.closing(sqlite3.connect(database)) as conn:
        assert conn.execute("SELECT count(*) FROM message_meta").fetchone()[0] >= 1
