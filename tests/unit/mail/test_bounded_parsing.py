"""Parsers of mail content do bounded work whatever the input (issue 11), and say the same as before."""

from __future__ import annotations

import dkim as dkimpy
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.errors import PolicyReject
from smb_suite.mail import dkim, message, mime

LINES = st.lists(
    st.sampled_from([b"Subject: a", b" folded", b"\tmore", b"From: b@c", b"", b"no field", b"X:", b"From x"]),
    max_size=12,
)


def _naive_split(data: bytes) -> tuple[list[tuple[str, bytes]], bytes]:
    """The definition: continuation lines join the field above; the first line that is no field ends it."""
    fields: list[tuple[str, bytes]] = []
    position = 0
    for line in data.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = (fields[-1][0], fields[-1][1] + line)
        else:
            name, colon, _ = line.partition(b":")
            if not colon or not name.strip(b" \t") or any(b < 0x21 or b > 0x7E for b in name.rstrip(b" \t")):
                break
            fields.append((name.rstrip(b" \t").decode().lower(), line))
        position += len(line)
    return fields, data[position:]


@given(LINES, st.sampled_from([b"\r\n", b"\n"]))
def test_header_split_is_the_definition(lines: list[bytes], ending: bytes) -> None:
    data = b"".join(line + ending for line in lines) + b"body"
    fields, rest = message.split(data)
    assert ([(f.name, f.raw) for f in fields], rest) == _naive_split(data)


@given(LINES, st.sampled_from([b"\r\n", b"\n"]), st.binary(max_size=40))
def test_dkim_parse_is_dkimpys(lines: list[bytes], ending: bytes, body: bytes) -> None:
    """dkimpy now sees only the header; the body gets the same line endings it would have given it."""
    data = b"".join(line + ending for line in lines) + body
    try:
        expected = dkimpy.rfc822_parse(data)
    except (dkimpy.MessageFormatError, IndexError):
        expected = None
    got = dkim.parse(data)
    assert (got is None and expected is None) or (got is not None and expected is not None and got == expected)


def test_a_header_with_too_many_lines_is_refused() -> None:
    folded = b"Subject: x\r\n" + b" y\r\n" * (message.MAX_HEADER_LINES + 1) + b"\r\nbody\r\n"
    with pytest.raises(PolicyReject) as refused:
        message.check_header_size(folded)
    assert (refused.value.code, refused.value.enhanced) == (552, "5.3.4")
    fields, _ = message.split(folded)  # and splitting it is linear: one field
    assert len(fields) == 1


def test_a_header_over_the_octet_limit_is_refused_and_a_big_body_is_not() -> None:
    with pytest.raises(PolicyReject):
        message.check_header_size(b"X-Long: " + b"a" * message.MAX_HEADER_OCTETS + b"\r\n\r\nbody")
    message.check_header_size(b"Subject: fine\r\n\r\n" + b"a" * (2 * message.MAX_HEADER_OCTETS))


def test_a_message_with_very_many_parts_is_parsed_up_to_the_limit() -> None:
    parts = b"--b\r\n\r\nx\r\n" * (mime.MAX_PARTS * 20)
    root = mime.parse(b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + b"--b--\r\n")
    assert len(root.children) == mime.MAX_PARTS - 1  # the root counts as one part
    assert mime.section(root, [0], "", [], False) == b"x"
