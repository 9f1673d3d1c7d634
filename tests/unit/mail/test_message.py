"""Header fields of raw messages (RFC 5322 2.2): found, read and dropped without touching any other byte."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smb_suite.mail import message

FOLDED = (
    b"Received: from a\r\n\tby b; Mon, 2 Nov 2026 10:00:00 +0000\r\n"
    b'From: =?utf-8?q?Bj=C3=B6rn?= <bjorn@shop.test>, "Ann, Sales" <ann@shop.test>\r\n'
    b"Subject: a long\r\n  folded subject\r\n\r\nbody: not a header\r\n"
)


def test_fields_are_unfolded_and_addresses_read() -> None:
    assert message.values(FOLDED, "subject") == ["a long  folded subject"]
    assert message.from_addresses(FOLDED) == ["bjorn@shop.test", "ann@shop.test"]
    assert message.values(FOLDED, "body") == []


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (b"", []),
        (b"\r\n\r\nbody", []),
        (b"Subject: x\nFrom: a@b.test\n\nbody", ["subject", "from"]),  # bare LF
        (b"\tcontinuation first\r\nSubject: x\r\n\r\n", []),  # RFC 5322 has no place for it: body
        (b"Not a header line\r\nSubject: x\r\n\r\n", []),
        (b"X-Empty:\r\nX-Spaced : value\r\n\r\n", ["x-empty", "x-spaced"]),
    ],
)
def test_header_block_ends_where_rfc_5322_says(data: bytes, names: list[str]) -> None:
    fields, _ = message.split(data)
    assert [field.name for field in fields] == names


def test_removing_a_field_keeps_every_other_byte() -> None:
    stripped = message.remove(FOLDED, lambda field: field.name == "received")
    assert stripped == FOLDED[FOLDED.index(b"From:") :]


def test_submission_adds_only_what_is_missing() -> None:
    completed = message.complete_for_submission(b"From: a@shop.test\r\nDate: x\r\n\r\n", "shop.test", 0, "t1")
    assert completed == b"Message-ID: <t1@shop.test>\r\nFrom: a@shop.test\r\nDate: x\r\n\r\n"


@given(st.binary(max_size=400))
def test_split_and_join_give_back_any_bytes(data: bytes) -> None:
    fields, rest = message.split(data)
    assert message.join(fields, rest) == data
    message.from_addresses(data)
