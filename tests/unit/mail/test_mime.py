"""MIME sections, ENVELOPE and BODYSTRUCTURE as pure functions (RFC 3501 6.4.5, 7.4.2, RFC 2045, 2046, 5322)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import mime
from smb_suite.mail.summary import encode, summarize


def test_header_fields_ending_with_the_last_header_carry_one_blank_line() -> None:
    """RFC 3501 6.4.5: the selected lines, then the blank line that delimits the header, once."""
    header = b"From: a@x.test\r\nTo: b@x.test\r\nSubject: hi\r\n\r\n"
    assert mime.header_fields(header, [b"FROM", b"SUBJECT"], False) == b"From: a@x.test\r\nSubject: hi\r\n\r\n"
    assert mime.header_fields(header, [b"SUBJECT"], True) == b"From: a@x.test\r\nTo: b@x.test\r\n\r\n"


def test_header_fields_of_a_message_without_blank_line_have_none() -> None:
    """RFC 3501 6.4.5: "except in the case of a message which has no body and no blank line"."""
    assert mime.header_fields(b"From: a@x.test\r\nSubject: hi\r\n", [b"SUBJECT"], False) == b"Subject: hi\r\n"


def test_a_boundary_folded_inside_quotes_is_unfolded() -> None:
    """RFC 5322 2.2.3: unfolding removes the CRLF, so the boundary is 'foo bar'."""
    message = (
        b'Content-Type: multipart/mixed; boundary="foo\r\n bar"\r\n\r\n--foo bar\r\n\r\none\r\n'
        b"--foo bar\r\n\r\ntwo\r\n--foo bar--\r\n"
    )
    root = mime.parse(message)
    assert [child.body for child in root.children] == [b"one", b"two"]
    assert mime.section(root, [1], "", [], False) == b"two"


def test_envelope_keeps_group_markers() -> None:
    """RFC 3501 7.4.2: a group is (NIL NIL "name" NIL) ... (NIL NIL NIL NIL); 1*address has no spaces."""
    message = b"To: undisclosed-recipients:;\r\nCc: team: a@x.test, B <b@x.test>;, c@x.test\r\n\r\n"
    envelope = encode(mime.envelope(mime.parse(message)))
    assert b' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) ' in envelope
    assert (
        b'((NIL NIL "team" NIL)(NIL NIL "a" "x.test")("B" NIL "b" "x.test")(NIL NIL NIL NIL)(NIL NIL "c" "x.test"))'
        in envelope
    )


def test_bodystructure_writes_parts_without_spaces_and_counts_line_ends() -> None:
    """RFC 3501 9: body-type-mpart = 1*body SP media-subtype; a part's last line before the delimiter has no
    line end of its own (RFC 2046 5.1.1), so "one line" counts 0 lines and "a\\r\\nb" one."""
    message = (
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\none line\r\n--b\r\n'
        b"Content-Transfer-Encoding: 8 bit\r\n\r\na\r\nb\r\n--b--\r\n"
    )
    structure = encode(mime.bodystructure(mime.parse(message), False))
    assert structure == (
        b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 0)'
        b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 1) "mixed")'
    )


def test_transfer_encodings_lose_comments_and_quotes() -> None:
    for written, sent in [("BASE64", "BASE64"), ("quoted-printable (c)", "quoted-printable"), ('"8bit"', "8bit")]:
        part = mime.parse(f"Content-Transfer-Encoding: {written}\r\n\r\nx".encode())
        assert mime.bodystructure(part, False)[5] == sent


def test_cr_cr_lf_line_ends_still_end_the_header() -> None:
    message = b"Subject: hi\r\r\nFrom: a@x.test\r\r\n\r\r\nbody\r\r\n"
    root = mime.parse(message)
    assert root.body == b"body\r\r\n"
    assert mime.envelope(root)[1] == "hi"


def test_a_message_that_is_not_multipart_has_only_part_1() -> None:
    root = mime.parse(b"Subject: hi\r\n\r\nbody\r\n")
    assert mime.section(root, [0], "", [], False) == b"body\r\n"
    assert mime.section(root, [0, 0], "", [], False) == b""
    multipart = mime.parse(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n\r\ntext\r\n--b--\r\n')
    assert mime.section(multipart, [0, 0], "", [], False) == b"text"  # part 1 of a text part is itself
    assert mime.section(multipart, [0, 0, 0], "", [], False) == b""


@given(st.binary(max_size=400))
def test_any_octets_are_summarised_without_raising(data: bytes) -> None:
    summarize(data)
    summarize(b'Content-Type: multipart/mixed; boundary="b"\r\nTo: ' + data + b"\r\n\r\n--b\r\n" + data)
